package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// Case ids of the resume tests.
const (
	rsmCase1 = "5e0c6a52-8d1f-4b7a-9c3e-2f4a6b8c0d1e"
	rsmCase2 = "b7d9e1f3-a5c7-4e9b-8d1f-3a5c7e9b1d3f"
	rsmCase3 = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
)

// rsmHeader is the input header of the resume tests: the known columns in
// API order, then a column of the user's own.
var rsmHeader = []string{"caseId", "type", "title", "note", "followUpDueAt",
	"assignedToEmail", "ticket"}

// rsmInputs are input rows of rsmHeader that pass the checks, with notes
// that need quoting: commas, quotes and line breaks.
var rsmInputs = [][]string{
	{rsmCase1, "support", "Cancellation", "first line, with a comma\nsecond \"quoted\" line",
		"", "", "T-1"},
	{rsmCase1, "support", "Refill Request", "", "2025-06-01 12:00", "agent@example.com", "T-2"},
	{rsmCase2, "external", "Payment Received, Missing CIF", "x\n\ny", "6/1/2025", "", "T-3"},
	{rsmCase2, "clinical", "Urgent", "", "", "", "T-4"},
	{rsmCase3, "support", "Hold Order", ",\"\n", "", "", "T-5"},
	{rsmCase3, "clinical", "Lab Review", "plain", "", "", "T-6"},
}

// rsmBadTitle is a row that fails the checks (unknown title).
var rsmBadTitle = []string{rsmCase2, "clinical", "Urgentt", "", "", "", "T-9"}

// rsmRec returns the record of fields with status and escalation id; a row
// that is neither done nor pending gets an error.
func rsmRec(line int, status report.Status, id string, fields []string) report.Record {
	out := report.Outcome{Status: status, EscalationID: id}
	if !status.Done() && status != report.Pending {
		out.Err = "reason, with a comma"
	}
	return report.Record{Line: line, Fields: slices.Clone(fields), Outcome: out}
}

// rsmInput returns the validate.Input of a row of rsmHeader.
func rsmInput(f []string) validate.Input {
	return validate.Input{CaseID: f[0], Type: f[1], Title: f[2], Note: f[3],
		FollowUpDueAt: f[4], AssignedToEmail: f[5]}
}

// rsmKey returns the Key of a row of rsmHeader, which must pass chk.
func rsmKey(t testing.TB, chk *validate.Checker, f []string) string {
	t.Helper()
	c, probs := chk.Check(rsmInput(f))
	require.Empty(t, probs, "row %q", f)
	return c.Key()
}

// rsmResults returns what WriteResults writes for recs.
func rsmResults(t testing.TB, header []string, recs ...report.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, report.WriteResults(&buf, header, slices.Values(recs)))
	return buf.Bytes()
}

// rsmFile writes data to a new file and returns its path.
func rsmFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "earlier.results.csv")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// rsmDone returns the rows r records as done: Key -> escalation id.
func rsmDone(r *Resume) map[string]string {
	return maps.Clone(r.done)
}

func TestLoadResumeStatuses(t *testing.T) {
	chk := &validate.Checker{}
	key := rsmKey(t, chk, rsmInputs[0])

	tests := []struct {
		status report.Status
		done   bool
	}{
		{report.Created, true},
		{report.AlreadyActive, true},
		{report.Skipped, true},
		{report.Invalid, false},
		{report.Failed, false},
		{report.Error, false},
		{report.Pending, false},
		{"Created", false}, // statuses are written by us, never respelled
		{"done", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run("status "+string(tt.status), func(t *testing.T) {
			rec := rsmRec(2, tt.status, "esc-1", rsmInputs[0])
			res, err := LoadResume(rsmFile(t, rsmResults(t, rsmHeader, rec)), chk)
			require.NoError(t, err)

			id, done := res.Lookup(key)
			assert.Equal(t, tt.done, done, "done")
			if tt.done {
				assert.Equal(t, "esc-1", id)
				assert.Equal(t, 1, res.Len())
			} else {
				assert.Equal(t, 0, res.Len())
			}
			assert.Equal(t, 1, res.Records)
			assert.Equal(t, 0, res.Unreadable)
		})
	}
}

func TestLoadResumeResultsFiles(t *testing.T) {
	chk := &validate.Checker{}
	k := make([]string, len(rsmInputs))
	for i, f := range rsmInputs {
		k[i] = rsmKey(t, chk, f)
	}

	tests := []struct {
		name string
		recs []report.Record
		want map[string]string
	}{
		{"finished run, every status", []report.Record{
			rsmRec(2, report.Created, "esc-0", rsmInputs[0]),
			rsmRec(4, report.AlreadyActive, "", rsmInputs[1]),
			rsmRec(5, report.Skipped, "esc-2", rsmInputs[2]),
			rsmRec(8, report.Invalid, "", rsmBadTitle),
			rsmRec(9, report.Failed, "", rsmInputs[3]),
			rsmRec(10, report.Error, "", rsmInputs[4]),
			rsmRec(12, report.Pending, "", rsmInputs[5]),
		}, map[string]string{k[0]: "esc-0", k[1]: "", k[2]: "esc-2"}},
		{"header only", nil, map[string]string{}},
		{"pending then created keeps the id", []report.Record{
			rsmRec(2, report.Pending, "", rsmInputs[0]),
			rsmRec(2, report.Created, "esc-0", rsmInputs[0]),
		}, map[string]string{k[0]: "esc-0"}},
		{"created then error is still done", []report.Record{
			rsmRec(2, report.Created, "esc-0", rsmInputs[0]),
			rsmRec(2, report.Error, "", rsmInputs[0]),
		}, map[string]string{k[0]: "esc-0"}},
		{"a later done record without an id keeps the id", []report.Record{
			rsmRec(2, report.Created, "esc-0", rsmInputs[0]),
			rsmRec(2, report.AlreadyActive, "", rsmInputs[0]),
		}, map[string]string{k[0]: "esc-0"}},
		{"a later done record with an id fills it in", []report.Record{
			rsmRec(2, report.AlreadyActive, "", rsmInputs[0]),
			rsmRec(2, report.Skipped, "esc-0", rsmInputs[0]),
		}, map[string]string{k[0]: "esc-0"}},
		{"done row whose values no longer check is ignored", []report.Record{
			rsmRec(8, report.Created, "esc-9", rsmBadTitle),
			rsmRec(9, report.Created, "esc-3", rsmInputs[3]),
		}, map[string]string{k[3]: "esc-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := rsmFile(t, rsmResults(t, rsmHeader, tt.recs...))
			res, err := LoadResume(path, chk)
			require.NoError(t, err)

			assert.Equal(t, tt.want, rsmDone(res))
			assert.Equal(t, len(tt.want), res.Len())
			assert.Equal(t, len(tt.recs), res.Records)
			assert.Equal(t, 0, res.Unreadable)
		})
	}
}

// rsmJournal writes a journal as a run does: a snapshot of every row, the
// valid ones pending, then one Append per finished case. It returns the
// path and the rows done in it (Key -> escalation id).
func rsmJournal(t *testing.T, chk *validate.Checker) (string, map[string]string) {
	t.Helper()
	snapshot := []report.Record{
		rsmRec(2, report.Pending, "", rsmInputs[0]),
		rsmRec(4, report.Pending, "", rsmInputs[1]),
		rsmRec(5, report.Pending, "", rsmInputs[2]),
		rsmRec(8, report.Invalid, "", rsmBadTitle),
		rsmRec(9, report.Skipped, "esc-old", rsmInputs[3]),
		rsmRec(10, report.Pending, "", rsmInputs[4]),
		rsmRec(12, report.Pending, "", rsmInputs[5]),
	}
	path := filepath.Join(t.TempDir(), "run.results.csv")
	j, err := report.OpenJournal(path, rsmHeader, slices.Values(snapshot))
	require.NoError(t, err)
	defer j.Close()

	appends := [][]report.Record{
		{
			rsmRec(2, report.Created, "esc-0", rsmInputs[0]),
			rsmRec(4, report.AlreadyActive, "", rsmInputs[1]),
		},
		{rsmRec(5, report.Created, "esc-2", rsmInputs[2])},
		{
			rsmRec(10, report.Error, "", rsmInputs[4]),
			rsmRec(12, report.Failed, "", rsmInputs[5]),
		},
	}
	for _, recs := range appends {
		require.NoError(t, j.Append(recs))
	}
	require.NoError(t, j.Close())

	return path, map[string]string{
		rsmKey(t, chk, rsmInputs[0]): "esc-0",
		rsmKey(t, chk, rsmInputs[1]): "",
		rsmKey(t, chk, rsmInputs[2]): "esc-2",
		rsmKey(t, chk, rsmInputs[3]): "esc-old",
	}
}

func TestLoadResumeJournal(t *testing.T) {
	chk := &validate.Checker{}
	path, want := rsmJournal(t, chk)

	res, err := LoadResume(path, chk)
	require.NoError(t, err)
	assert.Equal(t, want, rsmDone(res))
	assert.Equal(t, 7+5, res.Records, "snapshot and appended records")
	assert.Equal(t, 0, res.Unreadable)

	for _, f := range rsmInputs[4:] {
		_, done := res.Lookup(rsmKey(t, chk, f))
		assert.False(t, done, "row %s, %s", f[2], "error and failed are not done")
	}
}

func TestLoadResumeFormats(t *testing.T) {
	chk := &validate.Checker{}
	want := map[string]string{
		rsmKey(t, chk, []string{rsmCase1, "support", "Cancellation", "a, b", "", ""}): "esc-1",
		rsmKey(t, chk, []string{rsmCase2, "clinical", "Urgent", "", "", ""}):          "esc-3",
	}
	ids := strings.NewReplacer("{c1}", rsmCase1, "{c2}", rsmCase2)

	tests := []struct {
		name string
		src  string
	}{
		{"as written", "" +
			"caseId,type,title,note,line,status,escalationId,error\n" +
			"{c1},support,Cancellation,\"a, b\",2,created,esc-1,\n" +
			"{c1},support,Refill Request,,3,pending,,\n" +
			"{c2},clinical,Urgent,,4,skipped,esc-3,\n"},
		{"renamed headers", "" +
			"Case ID,TYPE,Title,Note,Line,STATUS,Escalation Id,Error\n" +
			"{c1},support,Cancellation,\"a, b\",2,created,esc-1,\n" +
			"{c1},support,Refill Request,,3,pending,,\n" +
			"{c2},clinical,Urgent,,4,skipped,esc-3,\n"},
		{"other spellings of the headers", "" +
			"case_id,Type ,TITLE,NOTE,line,Status,escalation-id,error\n" +
			"{c1},support,Cancellation,\"a, b\",2,created,esc-1,\n" +
			"{c2},clinical,Urgent,,4,skipped,esc-3,\n"},
		{"byte-order mark", "\ufeff" +
			"caseId,type,title,note,line,status,escalationId,error\n" +
			"{c1},support,Cancellation,\"a, b\",2,created,esc-1,\n" +
			"{c2},clinical,Urgent,,4,skipped,esc-3,\n"},
		{"semicolons", "" +
			"caseId;type;title;note;line;status;escalationId;error\n" +
			"{c1};support;Cancellation;a, b;2;created;esc-1;\n" +
			"{c1};support;Refill Request;;3;pending;;\n" +
			"{c2};clinical;Urgent;;4;skipped;esc-3;\n"},
		{"byte-order mark, semicolons and CRLF", "\ufeff" +
			"Case ID;Type;Title;Note;Line;Status;Escalation ID;Error\r\n" +
			"{c1};support;Cancellation;\"a, b\";2;created;esc-1;\r\n" +
			"{c2};clinical;Urgent;;4;skipped;esc-3;\r\n"},
		{"tabs", "" +
			"caseId\ttype\ttitle\tnote\tline\tstatus\tescalationId\terror\n" +
			"{c1}\tsupport\tCancellation\ta, b\t2\tcreated\tesc-1\t\n" +
			"{c2}\tclinical\tUrgent\t\t4\tskipped\tesc-3\t\n"},
		{"extra columns anywhere", "" +
			"source,caseId,type,ticket,title,note,line,status,escalationId,error,checked by\n" +
			"crm,{c1},support,T-1,Cancellation,\"a, b\",2,created,esc-1,,ann\n" +
			"crm,{c1},support,T-2,Refill Request,,3,pending,,,\n" +
			"crm,{c2},clinical,T-3,Urgent,,4,skipped,esc-3,,bob\n"},
		{"columns in another order", "" +
			"status,escalationId,note,title,type,caseId\n" +
			"created,esc-1,\"a, b\",Cancellation,support,{c1}\n" +
			"skipped,esc-3,,Urgent,clinical,{c2}\n"},
		{"blank lines between records", "" +
			"caseId,type,title,note,line,status,escalationId,error\n\n" +
			"{c1},support,Cancellation,\"a, b\",2,created,esc-1,\n\n\n" +
			"{c2},clinical,Urgent,,4,skipped,esc-3,\n"},
		{"no optional columns", "" +
			"caseId,type,title,status,escalationId\n" +
			"{c2},clinical,Urgent,skipped,esc-3\n" +
			"{c1},support,Refill Request,error,\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := LoadResume(rsmFile(t, []byte(ids.Replace(tt.src))), chk)
			require.NoError(t, err)

			w := want
			if !strings.Contains(tt.src, "Cancellation") {
				w = map[string]string{rsmKey(t, chk, rsmInputs[3][:6]): "esc-3"}
			}
			assert.Equal(t, w, rsmDone(res))
			assert.Equal(t, 0, res.Unreadable)
		})
	}
}

func TestLoadResumeRefusals(t *testing.T) {
	chk := &validate.Checker{}
	ids := strings.NewReplacer("{c1}", rsmCase1)

	tests := []struct {
		name string
		src  string
		want string // part of the error
	}{
		{"a failures file", "" +
			"caseId,type,title,note,error\n" +
			"{c1},support,Cancellation,,case not found\n",
			"not a results file: it needs status and escalationId columns"},
		{"no status column", "" +
			"caseId,type,title,line,escalationId,error\n" +
			"{c1},support,Cancellation,2,esc-1,\n",
			"not a results file"},
		{"no escalationId column", "" +
			"caseId,type,title,line,status,error\n" +
			"{c1},support,Cancellation,2,created,\n",
			"not a results file"},
		{"no caseId column", "" +
			"type,title,line,status,escalationId,error\n" +
			"support,Cancellation,2,created,esc-1,\n",
			"not a results file: no caseId column"},
		{"an input file", "" +
			"caseId,type,title\n" +
			"{c1},support,Cancellation\n",
			"not a results file"},
		{"not CSV at all", "\x00\x01\x02 binary \xff\xfe\n", "not a results file"},
		{"empty file", "", "no header"},
		{"only a byte-order mark", "\ufeff", "no header"},
		{"only blank lines", "\n\r\n\n", "no header"},
		{"header cut inside quotes", "caseId,\"type,title", "no header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := rsmFile(t, []byte(ids.Replace(tt.src)))
			res, err := LoadResume(path, chk)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, path, "the error names the file")
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "never-written.results.csv")
		res, err := LoadResume(path, chk)
		require.Error(t, err)
		assert.Nil(t, res)
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})

	t.Run("a directory", func(t *testing.T) {
		res, err := LoadResume(t.TempDir(), chk)
		require.Error(t, err)
		assert.Nil(t, res)
	})
}

// rsmFailingReader yields data, then fails every later read with err; after
// maxFails failures it reports io.EOF, so that a reader that retries for
// ever ends and fails its test instead of hanging it.
type rsmFailingReader struct {
	data  []byte
	err   error
	fails int
}

const maxFails = 1000

func (r *rsmFailingReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	r.fails++
	if r.fails > maxFails {
		return 0, io.EOF
	}
	return 0, r.err
}

func TestLoadResumeReadErrorStops(t *testing.T) {
	chk := &validate.Checker{}
	errDisk := errors.New("input/output error")
	data := rsmResults(t, rsmHeader,
		rsmRec(2, report.Created, "esc-0", rsmInputs[0]),
		rsmRec(4, report.Created, "esc-1", rsmInputs[1]))

	// The error comes after the header, after a whole record, and inside one.
	header := bytes.IndexByte(data, '\n') + 1
	for _, n := range []int{header, header + 60, len(data) - 5, len(data)} {
		r := &rsmFailingReader{data: slices.Clone(data[:n]), err: errDisk}
		res, err := readResume(r, chk)
		require.ErrorIs(t, err, errDisk, "error after %d bytes", n)
		assert.Nil(t, res)
		assert.Less(t, r.fails, 10, "read on after the error")
	}
}

// rsmDoneRecord is a record of a results file that says its row is done.
type rsmDoneRecord struct {
	key, id string
	end     int // offset just past the record's last byte
}

// rsmOracle reads a complete results file of rsmHeader with encoding/csv
// and returns its done records, with where each ends. It is the resume
// rule written out plainly, to check LoadResume against.
func rsmOracle(t testing.TB, data []byte, chk *validate.Checker) []rsmDoneRecord {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(data))
	header, err := cr.Read()
	require.NoError(t, err)
	status := slices.Index(header, report.ColStatus)
	id := slices.Index(header, report.ColEscalationID)

	var out []rsmDoneRecord
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		st, _ := report.ParseStatus(rec[status])
		if !st.Done() {
			continue
		}
		c, probs := chk.Check(rsmInput(rec))
		if len(probs) > 0 {
			continue
		}
		out = append(out, rsmDoneRecord{c.Key(), rec[id], int(cr.InputOffset())})
	}
}

// rsmDoneBefore returns the rows of recs done by records that end at or
// before cut, as a Resume records them.
func rsmDoneBefore(recs []rsmDoneRecord, cut int) map[string]string {
	done := map[string]string{}
	for _, r := range recs {
		if r.end > cut {
			break
		}
		if old, ok := done[r.key]; !ok || old == "" {
			done[r.key] = r.id
		}
	}
	return done
}

// rsmCheckCut checks what readResume makes of file, a results file whose
// bytes from cut on were lost: no error, a subset of full with the same
// ids, every row done by a record that ends at or before cut, and at most
// one record unreadable. It returns the Resume for further checks.
func rsmCheckCut(t *testing.T, file []byte, cut int, chk *validate.Checker,
	oracle []rsmDoneRecord, full map[string]string) *Resume {
	t.Helper()
	res, err := readResume(bytes.NewReader(file), chk)
	require.NoError(t, err, "cut at %d", cut)
	got := rsmDone(res)

	for key, id := range got {
		fullID, ok := full[key]
		require.True(t, ok, "cut at %d: row %q done, but not in the whole file", cut, key)
		require.Equal(t, fullID, id, "cut at %d: escalation id", cut)
	}
	for key, id := range rsmDoneBefore(oracle, cut) {
		gotID, ok := got[key]
		require.True(t, ok, "cut at %d: row %q recorded done before the cut is lost",
			cut, key)
		require.Equal(t, id, gotID, "cut at %d: escalation id", cut)
	}
	require.LessOrEqual(t, res.Unreadable, 1, "cut at %d: only the last record "+
		"can be cut short", cut)
	return res
}

// rsmEnds returns the offsets at which the records of a CSV file end, and
// the offset past its header.
func rsmEnds(t testing.TB, data []byte) (map[int]bool, int) {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(data))
	_, err := cr.Read()
	require.NoError(t, err)
	header := int(cr.InputOffset())

	ends := map[int]bool{header: true}
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return ends, header
		}
		require.NoError(t, err)
		ends[int(cr.InputOffset())] = true
	}
}

func TestLoadResumeCutAnywhere(t *testing.T) {
	chk := &validate.Checker{}
	path, want := rsmJournal(t, chk)
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	full, err := LoadResume(path, chk)
	require.NoError(t, err)
	require.Equal(t, want, rsmDone(full))
	oracle := rsmOracle(t, data, chk)
	require.Equal(t, want, rsmDoneBefore(oracle, len(data)), "the oracle agrees")

	ends, header := rsmEnds(t, data)
	for cut := header; cut <= len(data); cut++ {
		res := rsmCheckCut(t, data[:cut], cut, chk, oracle, want)
		if ends[cut] {
			require.Zero(t, res.Unreadable, "cut at %d, a record's end", cut)
		}
	}

	// A power loss may also leave zero bytes where the lost ones were.
	for cut := header; cut < len(data); cut++ {
		zeroed := append(slices.Clone(data[:cut]), make([]byte, len(data)-cut)...)
		rsmCheckCut(t, zeroed, cut, chk, oracle, want)
	}
}

func TestLoadResumeKeyMatching(t *testing.T) {
	// Dates without an offset are read in a zone four hours behind UTC, as
	// both the earlier run and this one were given (-tz).
	chk := &validate.Checker{Location: time.FixedZone("UTC-4", -4*3600)}
	ids := strings.NewReplacer("{c1}", rsmCase1, "{C1}", strings.ToUpper(rsmCase1),
		"{c2}", rsmCase2)

	tests := []struct {
		name    string
		input   string // caseId,type,title,note,followUpDueAt,assignedToEmail
		results string // the same columns, as the earlier results hold them
		match   bool
	}{
		{"same values", "{c1},support,Cancellation,n,,", "{c1},support,Cancellation,n,,", true},
		{"case id upper-case in the input", "{C1},support,Cancellation,,,",
			"{c1},support,Cancellation,,,", true},
		{"case id upper-case in the results", "{c1},support,Cancellation,,,",
			"{C1},support,Cancellation,,,", true},
		{"type case", "{c1},SUPPORT,Cancellation,,,", "{c1},support,Cancellation,,,", true},
		{"title case and spacing", "{c1},support,  refill   REQUEST ,,,",
			"{c1},support,Refill Request,,,", true},
		{"escaped comma in the input", `{c1},support,"Payment Received\, Missing CIF",,,`,
			`{c1},support,"Payment Received, Missing CIF",,,`, true},
		{"escaped comma in the results", `{c1},external,"payment received, missing cif",,,`,
			`{c1},external,"Payment Received\, Missing CIF",,,`, true},
		{"note with spaces around it", "{c1},support,Cancellation,\"  n  \",,",
			"{c1},support,Cancellation,n,,", true},
		{"note with CRLF and LF", "{c1},support,Cancellation,\"a\r\nb\",,",
			"{c1},support,Cancellation,\"a\nb\",,", true},
		{"address case", "{c1},support,Cancellation,,,Agent@Example.COM",
			"{c1},support,Cancellation,,,agent@example.com", true},
		{"spreadsheet date and RFC 3339 in UTC", "{c1},support,Cancellation,,6/1/2025 12:00 PM,",
			"{c1},support,Cancellation,,2025-06-01T16:00:00Z,", true},
		{"ISO minute and RFC 3339 with offset", "{c1},support,Cancellation,,2025-06-01 12:00,",
			"{c1},support,Cancellation,,2025-06-01T12:00:00-04:00,", true},
		{"date alone is midnight in the zone", "{c1},support,Cancellation,,2025-06-01,",
			"{c1},support,Cancellation,,2025-06-01T04:00:00.000Z,", true},
		{"slashes and dashes", "{c1},support,Cancellation,,6/1/2025,",
			"{c1},support,Cancellation,,2025-06-01,", true},

		{"another case", "{c2},support,Cancellation,,,", "{c1},support,Cancellation,,,", false},
		{"another type", "{c1},external,Miscellaneous,,,",
			"{c1},support,Miscellaneous,,,", false},
		{"another title", "{c1},support,Hold Order,,,", "{c1},support,Cancellation,,,", false},
		{"another note", "{c1},support,Cancellation,n2,,", "{c1},support,Cancellation,n,,", false},
		{"note added", "{c1},support,Cancellation,n,,", "{c1},support,Cancellation,,,", false},
		{"another instant", "{c1},support,Cancellation,,2025-06-01 12:00,",
			"{c1},support,Cancellation,,2025-06-01T12:00:00Z,", false},
		{"another address", "{c1},support,Cancellation,,,a@example.com",
			"{c1},support,Cancellation,,,b@example.com", false},
		{"address added", "{c1},support,Cancellation,,,a@example.com",
			"{c1},support,Cancellation,,,", false},
	}
	const cols = "caseId,type,title,note,followUpDueAt,assignedToEmail"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := ids.Replace(cols + ",line,status,escalationId,error\n" +
				tt.results + ",2,created,esc-1,\n")
			res, err := LoadResume(rsmFile(t, []byte(src)), chk)
			require.NoError(t, err)
			require.Equal(t, 1, res.Len(), "the results row checks")

			in := ids.Replace(cols + "\n" + tt.input + "\n")
			sheet, err := Read(strings.NewReader(in), "in.csv", ReadOptions{})
			require.NoError(t, err)
			plan := BuildPlan(sheet, chk, res)
			require.Len(t, plan.Outcomes, 1)

			got := plan.Outcomes[0]
			if tt.match {
				want := report.Outcome{Status: report.Skipped, EscalationID: "esc-1"}
				assert.Equal(t, want, got)
				assert.Empty(t, plan.Groups)
			} else {
				assert.Equal(t, report.Outcome{Status: report.Pending}, got)
				assert.Len(t, plan.Groups, 1)
			}
		})
	}
}

func TestLoadResumePlanSkipsDoneRows(t *testing.T) {
	chk := &validate.Checker{}
	path, _ := rsmJournal(t, chk)
	res, err := LoadResume(path, chk)
	require.NoError(t, err)

	tests := []struct {
		name  string
		input string
		want  []report.Outcome // by input row
	}{
		{"the same input", "" +
			"caseId,type,title,note,followUpDueAt,assignedToEmail,ticket\n" +
			"{c1},support,Cancellation,\"first line, with a comma\nsecond \"\"quoted\"\" line\",,,T-1\n" +
			"{c1},support,Refill Request,,2025-06-01 12:00,agent@example.com,T-2\n" +
			"{c2},external,\"Payment Received, Missing CIF\",\"x\n\ny\",6/1/2025,,T-3\n" +
			"{c2},clinical,Urgentt,,,,T-9\n" +
			"{c2},clinical,Urgent,,,,T-4\n" +
			"{c3},support,Hold Order,\",\"\"\n\",,,T-5\n" +
			"{c3},clinical,Lab Review,plain,,,T-6\n",
			[]report.Outcome{
				{Status: report.Skipped, EscalationID: "esc-0"},
				{Status: report.Skipped},
				{Status: report.Skipped, EscalationID: "esc-2"},
				{Status: report.Invalid},
				{Status: report.Skipped, EscalationID: "esc-old"},
				{Status: report.Pending},
				{Status: report.Pending},
			}},
		{"re-sorted, renamed, respelled and edited", "" +
			"Ticket;Assigned To Email;Title;Type;Follow-Up Due At;Case_ID;Note\n" +
			"T-6;;Lab Review;clinical;;{c3};plain\n" +
			"T-3;;Payment Received\\, Missing CIF;EXTERNAL;2025-06-01;{C2};\"x\n\ny\"\n" +
			"T-2;AGENT@example.com;refill request;support;6/1/2025 12:00 PM;{C1};\n" +
			"T-1;;Cancellation;support;;{c1};first line, edited\n" +
			"T-4;;Urgent;clinical;;{c2};\n",
			[]report.Outcome{
				{Status: report.Pending},
				{Status: report.Skipped, EscalationID: "esc-2"},
				{Status: report.Skipped},
				{Status: report.Pending},
				{Status: report.Skipped, EscalationID: "esc-old"},
			}},
		{"the earlier run's failures file", "" +
			"caseId,type,title,note,followUpDueAt,assignedToEmail,ticket,error\n" +
			"{c2},clinical,Urgentt,,,,T-9,title: unknown title\n" +
			"{c3},support,Hold Order,\",\"\"\n\",,,T-5,no answer\n" +
			"{c3},clinical,Lab Review,plain,,,T-6,case not found\n",
			[]report.Outcome{
				{Status: report.Invalid},
				{Status: report.Pending},
				{Status: report.Pending},
			}},
		{"the earlier results file itself", "", nil}, // filled in below
	}
	ids := strings.NewReplacer("{c1}", rsmCase1, "{C1}", strings.ToUpper(rsmCase1),
		"{c2}", rsmCase2, "{C2}", strings.ToUpper(rsmCase2), "{c3}", rsmCase3)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sheet *Sheet
			if tt.input == "" {
				sheet, err = ReadFile(path, ReadOptions{})
				require.NoError(t, err)
				tt.want = rsmJournalOutcomes()
			} else {
				src := ids.Replace(tt.input)
				sheet, err = Read(strings.NewReader(src), "in.csv", ReadOptions{})
				require.NoError(t, err)
			}
			plan := BuildPlan(sheet, chk, res)
			require.Len(t, plan.Outcomes, len(tt.want))

			var pending []int
			for i, got := range plan.Outcomes {
				want := tt.want[i]
				assert.Equal(t, want.Status, got.Status, "row %d", i)
				assert.Equal(t, want.EscalationID, got.EscalationID, "row %d", i)
				if got.Status == report.Pending {
					pending = append(pending, i)
				}
			}
			var grouped []int
			for _, g := range plan.Groups {
				grouped = append(grouped, g.Rows...)
			}
			slices.Sort(grouped)
			assert.Equal(t, pending, grouped, "only pending rows are sent")
		})
	}
}

// rsmJournalOutcomes is what a plan of rsmJournal's file, read back as an
// input, gives each of its rows: the done ones skipped, once (the later
// records of a row are in-file duplicates).
func rsmJournalOutcomes() []report.Outcome {
	skip := func(id string) report.Outcome {
		return report.Outcome{Status: report.Skipped, EscalationID: id}
	}
	invalid := report.Outcome{Status: report.Invalid}
	pending := report.Outcome{Status: report.Pending}
	return []report.Outcome{
		// The snapshot.
		skip("esc-0"), skip(""), skip("esc-2"), invalid, skip("esc-old"),
		pending, pending,
		// The appended records repeat rows: the done ones are skipped
		// again, the others are in-file duplicates.
		skip("esc-0"), skip(""), skip("esc-2"), invalid, invalid,
	}
}
