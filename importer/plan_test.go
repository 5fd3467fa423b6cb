package importer

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// mapDone is a Done backed by a map from Key to escalation id.
type mapDone map[string]string

func (m mapDone) Lookup(key string) (string, bool) {
	id, ok := m[key]
	return id, ok
}

// planOf reads src and builds its plan with the default checker in UTC.
func planOf(t *testing.T, src string, done Done) *Plan {
	t.Helper()
	sheet := mustRead(t, src, ReadOptions{})
	return BuildPlan(sheet, &validate.Checker{}, done)
}

// keyOf returns the resume Key of a row that passes the checks.
func keyOf(t *testing.T, in validate.Input) string {
	t.Helper()
	c, probs := (&validate.Checker{}).Check(in)
	require.Empty(t, probs)
	return c.Key()
}

// wantRow is the expected outcome of one row. Err is matched exactly unless
// it ends in "…", when it is a prefix; Has lists more required parts.
type wantRow struct {
	Status report.Status
	Err    string
	Has    []string
	ID     string
}

func TestBuildPlanOutcomes(t *testing.T) {
	const hdr = "caseId,type,title,note,followUpDueAt,assignedToEmail\n"
	doneKey := keyOf(t, validate.Input{CaseID: caseA, Type: "support", Title: "Cancellation", Note: "n"})
	done := mapDone{doneKey: "esc-1"}

	tests := []struct {
		name string
		src  string
		done Done
		want []wantRow
	}{
		{"valid rows are pending", hdr +
			caseA + ",support,Cancellation,n,,\n" +
			caseA + ",clinical,Lab Review,,6/1/2025,a@example.com\n",
			nil, []wantRow{{Status: report.Pending}, {Status: report.Pending}}},
		{"every field problem is reported", hdr +
			"not-a-uuid,support,Cancellation,n,2/30/2025,not an address\n",
			nil, []wantRow{{Status: report.Invalid, Err: "caseId: …",
				Has: []string{"; followUpDueAt: ", "; assignedToEmail: "}}}},
		{"type and title both wrong", hdr +
			caseA + ",urgent,Nope,,,\n" +
			caseA + ",support,Nope,,,\n",
			nil, []wantRow{
				{Status: report.Invalid, Err: "type: …"},
				{Status: report.Invalid, Err: "title: …"},
			}},
		{"required fields empty", hdr + " ,,,n,,\n",
			nil, []wantRow{{Status: report.Invalid,
				Err: "caseId: is required; type: is required; title: is required"}}},
		{"long row, otherwise valid", hdr + caseA + ",support,Cancellation,n,,,x,\"y, z\"\n",
			nil, []wantRow{{Status: report.Invalid,
				Err: `row has 8 fields, header has 6; extra values: "x", "y, z"`}}},
		{"short row, otherwise valid", hdr + caseA + ",support,Cancellation,n\n",
			nil, []wantRow{{Status: report.Invalid, Err: "row has 4 fields, header has 6"}}},
		{"ragged and field problems together", hdr + caseA + ",urgent\n",
			nil, []wantRow{{Status: report.Invalid, Err: "row has 2 fields, header has 6; type: …",
				Has: []string{"; title: is required"}}}},
		{"duplicate names the first line", hdr +
			caseA + ",support,Cancellation,first,,\n" +
			caseB + ",support,Cancellation,other case,,\n" +
			strings.ToUpper(caseA) + ",Support,  cancellation ,second note,2025-06-01,\n",
			nil, []wantRow{
				{Status: report.Pending},
				{Status: report.Pending},
				{Status: report.Invalid, Err: "duplicate of line 2 (same caseId, type and title)"},
			}},
		{"same title under another type is no duplicate", hdr +
			caseA + ",support,Miscellaneous,,,\n" +
			caseA + ",external,Miscellaneous,,,\n",
			nil, []wantRow{{Status: report.Pending}, {Status: report.Pending}}},
		{"invalid rows do not claim a duplicate key", hdr +
			caseA + ",support,Cancellation,,2/30/2025,\n" +
			caseA + ",support,Cancellation,,,\n" +
			caseA + ",support,Cancellation,,,\n",
			nil, []wantRow{
				{Status: report.Invalid, Err: "followUpDueAt: …"},
				{Status: report.Pending},
				{Status: report.Invalid, Err: "duplicate of line 3 (same caseId, type and title)"},
			}},
		{"ragged rows do not claim a duplicate key", hdr +
			caseA + ",support,Cancellation,n,,,extra\n" +
			caseA + ",support,Cancellation,n,,\n",
			nil, []wantRow{
				{Status: report.Invalid, Err: `row has 7 fields, header has 6; extra values: "extra"`},
				{Status: report.Pending},
			}},
		{"done row is skipped with its id", hdr +
			caseA + ",support,Cancellation,n,,\n" +
			caseA + ",support,Hold Order,n,,\n",
			done, []wantRow{{Status: report.Skipped, ID: "esc-1"}, {Status: report.Pending}}},
		{"a skipped row blocks a later duplicate", hdr +
			caseA + ",support,Cancellation,n,,\n" +
			caseA + ",support,Cancellation,another note,,\n",
			done, []wantRow{
				{Status: report.Skipped, ID: "esc-1"},
				{Status: report.Invalid, Err: "duplicate of line 2 (same caseId, type and title)"},
			}},
		{"a done row after its duplicate is still skipped", hdr +
			caseA + ",support,Cancellation,another note,,\n" +
			caseA + ",support,Cancellation,n,,\n",
			done, []wantRow{{Status: report.Pending}, {Status: report.Skipped, ID: "esc-1"}}},
		{"an invalid row is not skipped even if done", hdr +
			caseA + ",support,Cancellation,n,,,surplus\n",
			done, []wantRow{{Status: report.Invalid, Err: `row has 7 fields, header has 6; extra values: "surplus"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := planOf(t, tt.src, tt.done)
			require.Len(t, plan.Outcomes, len(tt.want))
			for i, w := range tt.want {
				got := plan.Outcomes[i]
				assert.Equal(t, w.Status, got.Status, "row %d: %q", i, got.Err)
				assert.Equal(t, w.ID, got.EscalationID, "row %d", i)
				if prefix, ok := strings.CutSuffix(w.Err, "…"); ok {
					assert.True(t, strings.HasPrefix(got.Err, prefix),
						"row %d: got %q, want prefix %q", i, got.Err, prefix)
				} else {
					assert.Equal(t, w.Err, got.Err, "row %d", i)
				}
				for _, part := range w.Has {
					assert.Contains(t, got.Err, part, "row %d", i)
				}
				assert.NotContains(t, got.Err, "\n", "row %d", i)
			}
		})
	}
}

func TestBuildPlanRaggedCountsDroppedColumns(t *testing.T) {
	// A failures file fed back in: its error column counts in the width.
	src := "caseId,type,title,error\n" + caseA + ",support,Cancellation\n"
	plan := planOf(t, src, nil)
	assert.Equal(t, "row has 3 fields, header has 4", plan.Outcomes[0].Err)
}

func TestBuildPlanNoteNeverInProblems(t *testing.T) {
	const secret = "Patient SECRET-NOTE has a rash"
	src := "caseId,type,title,note,followUpDueAt\n" +
		"bad," + "urgent,Nope,\"" + secret + "\",someday\n"
	plan := planOf(t, src, nil)
	assert.Equal(t, report.Invalid, plan.Outcomes[0].Status)
	assert.NotContains(t, plan.Outcomes[0].Err, "SECRET")
}

func TestBuildPlanChecked(t *testing.T) {
	src := "caseId,type,title\n" +
		strings.ToUpper(caseA) + ",Support,cancellation\n" +
		caseA + ",support,Nope\n" +
		caseA + ",support,Cancellation\n"
	plan := planOf(t, src, nil)
	require.Len(t, plan.Checked, 3)

	// Passing rows hold the normalized escalation, duplicates included.
	want := validate.Checked{CaseID: caseA,
		Escalation: validate.Escalation{Type: "support", Title: "Cancellation"}}
	assert.Equal(t, want, plan.Checked[0])
	assert.Equal(t, validate.Checked{}, plan.Checked[1])
	assert.Equal(t, want, plan.Checked[2])
	assert.Equal(t, report.Invalid, plan.Outcomes[2].Status)
}

func TestBuildPlanGroups(t *testing.T) {
	src := "caseId,type,title\n" +
		caseC + ",support,Nope\n" + // 0: invalid: case C gets no group from it
		caseB + ",support,Cancellation\n" + // 1
		caseA + ",support,Cancellation\n" + // 2
		strings.ToUpper(caseB) + ",support,Hold Order\n" + // 3: same case as 1
		caseA + ",support,Cancellation\n" + // 4: duplicate of 2
		caseC + ",clinical,Lab Review\n" + // 5: case C's first pending row
		caseA + ",external,Missing Payment\n" + // 6
		caseB + ",support,Missing ID\n" // 7
	plan := planOf(t, src, nil)

	assert.Equal(t, []Group{
		{CaseID: caseB, Rows: []int{1, 3, 7}},
		{CaseID: caseA, Rows: []int{2, 6}},
		{CaseID: caseC, Rows: []int{5}},
	}, plan.Groups)
}

func TestBuildPlanSkippedCaseHasNoGroup(t *testing.T) {
	in := validate.Input{CaseID: caseA, Type: "support", Title: "Cancellation"}
	plan := planOf(t, "caseId,type,title\n"+caseA+",support,Cancellation\n",
		mapDone{keyOf(t, in): "esc-9"})
	assert.Empty(t, plan.Groups)
	assert.Equal(t, map[report.Status]int{report.Skipped: 1}, plan.Counts())
}

func TestBuildPlanAccountsForEveryRow(t *testing.T) {
	sheet, err := ReadFile("testdata/excel.csv", ReadOptions{})
	require.NoError(t, err)
	sheet.Rows = append(sheet.Rows, sheet.Rows...) // second half: duplicates
	plan := BuildPlan(sheet, &validate.Checker{}, nil)

	// Records yields every row once, in order, with its outcome.
	var got []report.Record
	for rec := range plan.Records() {
		got = append(got, rec)
	}
	require.Len(t, got, len(sheet.Rows))
	for i, rec := range got {
		assert.Equal(t, sheet.Rows[i].Line, rec.Line)
		assert.Equal(t, sheet.Rows[i].Fields, rec.Fields)
		assert.Equal(t, plan.Outcomes[i], rec.Outcome)
	}

	// Counts adds up to the rows, and Pending rows are exactly the grouped ones.
	counts := plan.Counts()
	total := 0
	for _, n := range counts {
		total += n
	}
	assert.Equal(t, len(sheet.Rows), total)
	assert.Equal(t, map[report.Status]int{report.Pending: 3, report.Invalid: 3}, counts)
	grouped := 0
	for _, g := range plan.Groups {
		grouped += len(g.Rows)
	}
	assert.Equal(t, counts[report.Pending], grouped)
}

func TestRecordsStopsEarly(t *testing.T) {
	plan := planOf(t, "caseId,type,title\n"+caseA+",support,Cancellation\n"+
		caseB+",support,Cancellation\n", nil)
	n := 0
	for range plan.Records() {
		n++
		break
	}
	assert.Equal(t, 1, n)
}

func TestDupIndexClaim(t *testing.T) {
	checked := func(id, typ, title string) *validate.Checked {
		return &validate.Checked{CaseID: id,
			Escalation: validate.Escalation{Type: typ, Title: title}}
	}
	// Case ids not in canonical form (Check never returns them) take the
	// map of whole keys; they must still be told apart and matched.
	const oddID = "not-a-canonical-id"
	upperA := strings.ToUpper(caseA)
	steps := []struct {
		name      string
		c         *validate.Checked
		line      int
		wantFirst int
		wantDup   bool
	}{
		{"first of a key", checked(caseA, "support", "Cancellation"), 2, 2, false},
		{"another case", checked(caseB, "support", "Cancellation"), 3, 3, false},
		{"another title", checked(caseA, "support", "Hold Order"), 4, 4, false},
		{"same title, other type", checked(caseA, "external", "Miscellaneous"), 5, 5, false},
		{"other type's title", checked(caseA, "support", "Miscellaneous"), 6, 6, false},
		{"repeat of the first", checked(caseA, "support", "Cancellation"), 7, 2, true},
		{"repeat of the case B one", checked(caseB, "support", "Cancellation"), 8, 3, true},
		{"odd id, first", checked(oddID, "support", "Cancellation"), 9, 9, false},
		{"upper-case id is another string", checked(upperA, "support", "Cancellation"), 10, 10, false},
		{"odd id, repeat", checked(oddID, "support", "Cancellation"), 11, 9, true},
		{"upper-case id, repeat", checked(upperA, "support", "Cancellation"), 12, 10, true},
		{"title spelled otherwise is another key", checked(caseA, "support", "cancellation"), 13, 13, false},
	}
	d := newDupIndex(0)
	for _, st := range steps {
		first, dup := d.claim(st.c, st.line)
		assert.Equal(t, st.wantDup, dup, "%s: dup", st.name)
		assert.Equal(t, st.wantFirst, first, "%s: first line", st.name)
	}
}

func TestParseUUID(t *testing.T) {
	id, ok := parseUUID(caseA)
	require.True(t, ok)
	want, err := hex.DecodeString(strings.ReplaceAll(caseA, "-", ""))
	require.NoError(t, err)
	assert.Equal(t, want, id[:])

	// Only the one canonical spelling maps to these bytes.
	for _, s := range []string{
		"", strings.ToUpper(caseA), caseA[:35], caseA + "0",
		strings.Replace(caseA, "-", "0", 1), "3f2b8c1e4a5d-4e6f-9a7b-1c2d3e4f5a6b0",
		strings.Replace(caseA, "f", "g", 1),
	} {
		_, ok := parseUUID(s)
		assert.False(t, ok, "parseUUID(%q)", s)
	}
}

func TestBuildPlanParallelMatchesSerial(t *testing.T) {
	// Enough rows for several chunks; duplicates cross chunk borders.
	var b strings.Builder
	b.WriteString("caseId,type,title,note\n")
	titles := []string{"Cancellation", "Hold Order", "Missing ID", "Nope"}
	cases := []string{caseA, caseB, caseC}
	rows := 3 * minChunk
	for i := range rows {
		fmt.Fprintf(&b, "%s,support,%s,n%d\n", cases[i%3], titles[(i/3)%4], i%7)
	}
	plan := planOf(t, b.String(), nil)

	// Row by row: the first three rows of each case and title pass.
	pending := 0
	for i, o := range plan.Outcomes {
		switch {
		case titles[(i/3)%4] == "Nope":
			assert.Equal(t, report.Invalid, o.Status, "row %d", i)
			assert.True(t, strings.HasPrefix(o.Err, "title: "), "row %d: %q", i, o.Err)
		case i < 12:
			assert.Equal(t, report.Pending, o.Status, "row %d", i)
			pending++
		default:
			want := fmt.Sprintf("duplicate of line %d (same caseId, type and title)",
				plan.Sheet.Rows[i%12].Line)
			assert.Equal(t, want, o.Err, "row %d", i)
		}
	}
	assert.Equal(t, 9, pending)
	assert.Len(t, plan.Groups, 3)
}

func TestPlanRequests(t *testing.T) {
	plan := &Plan{Groups: []Group{{Rows: make([]int, 1)}, {Rows: make([]int, 5)},
		{Rows: make([]int, 50)}, {Rows: make([]int, 51)}}}
	tests := []struct {
		max, want int
	}{
		{0, 4},
		{-1, 4},
		{1, 107},
		{50, 5},
		{5, 1 + 1 + 10 + 11},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("max ", tt.max), func(t *testing.T) {
			assert.Equal(t, tt.want, plan.Requests(tt.max))
		})
	}
}
