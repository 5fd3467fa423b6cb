package report

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testHeader is the kept header of the fixture: known columns under
// spreadsheet names, plus a column of the user's own.
var testHeader = []string{
	"Case ID", "Type", "Title", "Note", "Follow-up", "Assigned To", "Clinic",
}

// testRecords covers every status, quoted fields holding commas, quotes and
// newlines, empty values, leading spaces and non-ASCII text.
func testRecords() []Record {
	const (
		case1 = "0b9a5c3e-6a4e-4d8e-9a51-2f1c0e7d4b10"
		case2 = "7F3D2A10-1B2C-4D5E-8F90-A1B2C3D4E5F6"
	)
	return []Record{
		{Line: 2, Fields: []string{case1, "support", "Refill Request",
			"Called, asked for a refill", "6/1/2025", "agent@example.com", "Main"},
			Outcome: Outcome{Status: Created, EscalationID: "e-0001"}},
		{Line: 3, Fields: []string{case1, "support", "Payment Received, Missing CIF",
			`She said "urgent"`, "", "", ""},
			Outcome: Outcome{Status: AlreadyActive}},
		{Line: 4, Fields: []string{case2, "clinical", "Urgent",
			"first line\nsecond line", "2025-06-01 12:00", "", "Zürich"},
			Outcome: Outcome{Status: Skipped, EscalationID: "e-0000"}},
		{Line: 6, Fields: []string{case2, "support", "Refil Requst",
			"", "", "", "Clínica São Paulo"},
			Outcome: Outcome{Status: Invalid, Err: `title: unknown title "Refil Requst" ` +
				`for type support; closest: "Refill Request", "Refill not processed"`}},
		{Line: 7, Fields: []string{"not-a-uuid", "external", "Refund Needed",
			"", "2/30/2025", "", " leading space"},
			Outcome: Outcome{Status: Invalid, Err: `caseId: "not-a-uuid" is not a UUID; ` +
				`followUpDueAt: "2/30/2025" is not a date`}},
		{Line: 8, Fields: []string{case1, "external", "Missing Payment",
			"", "", "nobody@example.com", ""},
			Outcome: Outcome{Status: Failed, Err: "No assignable user found with " +
				"email nobody@example.com for this organization"}},
		{Line: 9, Fields: []string{case2, "support", "Hold Order", "", "", "", ""},
			Outcome: Outcome{Status: Error, Err: "no usable answer after 4 attempts: 503"}},
		{Line: 10, Fields: []string{case2, "support", "Hold Odrer", "", "", "", "日本"},
			Outcome: Outcome{Status: Invalid, Err: `title: unknown title "Hold Odrer" ` +
				`for type support; closest: "Hold Order"`}},
		{Line: 11, Fields: []string{case1, "clinical", "Lab Review",
			"", "", "", ""},
			Outcome: Outcome{Status: Pending}},
		{Line: 12, Fields: []string{"", "", "", "", "", "", ""},
			Outcome: Outcome{Status: Invalid, Err: "caseId: missing; type: missing; " +
				"title: missing"}},
	}
}

// checkGolden compares got with testdata/NAME.golden, or rewrites the file
// under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got), "output differs from %s", path)
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}
