package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// dryOutput is what a dry run produces: both files and the report.
type dryOutput struct {
	results, failures []byte
	rep               *DryRunReport
}

// inMemoryDryRun is the dry run the long way: ReadFile, BuildPlan, and the
// report writers over the plan's records. DryRun must match it exactly.
func inMemoryDryRun(t *testing.T, path string, opts ReadOptions,
	chk *validate.Checker, done Done, maxPerRequest int) (dryOutput, error) {
	t.Helper()
	sheet, err := ReadFile(path, opts)
	if err != nil {
		return dryOutput{}, err
	}
	return planOutput(t, sheet, chk, done, maxPerRequest), nil
}

// planOutput builds sheet's plan and what a dry run should make of it.
func planOutput(t *testing.T, sheet *Sheet, chk *validate.Checker, done Done,
	maxPerRequest int) dryOutput {
	t.Helper()
	plan := BuildPlan(sheet, chk, done)

	var res, fail bytes.Buffer
	require.NoError(t, report.WriteResults(&res, sheet.Header, plan.Records()))
	require.NoError(t, report.WriteFailures(&fail, sheet.Header, plan.Records()))

	requests := 0
	for _, g := range plan.Groups {
		if maxPerRequest <= 0 {
			requests++
			continue
		}
		requests += (len(g.Rows) + maxPerRequest - 1) / maxPerRequest
	}
	header := *sheet
	header.Rows = nil
	return dryOutput{
		results:  res.Bytes(),
		failures: fail.Bytes(),
		rep: &DryRunReport{
			Sheet:    &header,
			Rows:     len(sheet.Rows),
			Counts:   plan.Counts(),
			Cases:    len(plan.Groups),
			Requests: requests,
			Reasons:  report.TopReasons(plan.Records(), 5),
		},
	}
}

// streamDryRun runs DryRun on path into buffers.
func streamDryRun(path string, opts ReadOptions, chk *validate.Checker,
	done Done, maxPerRequest int) (dryOutput, error) {
	var res, fail bytes.Buffer
	rep, err := DryRun(path, opts, chk, done, maxPerRequest, &res, &fail)
	return dryOutput{results: res.Bytes(), failures: fail.Bytes(), rep: rep}, err
}

// checkSameDryRun fails t unless got and want hold the same bytes and the
// same report.
func checkSameDryRun(t *testing.T, got, want dryOutput) {
	t.Helper()
	assert.Equal(t, string(want.results), string(got.results), "results file")
	assert.Equal(t, string(want.failures), string(got.failures), "failures file")
	assert.Equal(t, want.rep, got.rep, "report")
}

// writeTemp writes src to a file named name in a new temporary directory.
func writeTemp(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
	return path
}

// manyRows returns a file of n rows over three cases, with a duplicate,
// an invalid and a ragged row every few rows, so that every rule crosses
// the batch borders of a dry run.
func manyRows(n int) string {
	var b strings.Builder
	b.WriteString("caseId,type,title,note\n")
	titles := []string{"Cancellation", "Hold Order", "Missing ID", "Nope",
		"Refill Request", "Lab Request"}
	cases := []string{caseA, caseB, caseC}
	for i := range n {
		switch {
		case i%97 == 5:
			fmt.Fprintf(&b, "%s,support\n", cases[i%3])
		case i%89 == 7:
			fmt.Fprintf(&b, "%s,support,Cancellation,n,extra %d\n", cases[i%3], i)
		default:
			fmt.Fprintf(&b, "%s,support,%s,\"note %d\nline two\"\n",
				cases[i%3], titles[(i/3)%len(titles)], i)
		}
	}
	return b.String()
}

func TestDryRunMatchesInMemory(t *testing.T) {
	const hdr = "caseId,type,title,note,followUpDueAt,assignedToEmail\n"
	doneIn := validate.Input{CaseID: caseA, Type: "support", Title: "Cancellation", Note: "n"}
	done := mapDone{keyOf(t, doneIn): "esc-1"}

	tests := []struct {
		name          string
		src           string // written to a file; "@name" reads testdata/name
		opts          ReadOptions
		done          Done
		maxPerRequest int
	}{
		{"valid sample", "@valid.csv", ReadOptions{}, nil, 0},
		{"excel: BOM, CRLF, multi-line note, blank rows", "@excel.csv", ReadOptions{}, nil, 0},
		{"result columns fed back in", "@results.csv", ReadOptions{}, nil, 0},
		{"semicolon", "@semicolon.csv", ReadOptions{}, nil, 0},
		{"tab forced", "@tab.csv", ReadOptions{Delimiter: '\t'}, nil, 0},
		{"header only", "caseId,type,title\n\n", ReadOptions{}, nil, 0},
		{"duplicates", hdr +
			caseA + ",support,Cancellation,first,,\n" +
			caseB + ",support,Cancellation,other case,,\n" +
			strings.ToUpper(caseA) + ",Support,  cancellation ,second,2025-06-01,\n" +
			caseA + ",support,Cancellation,,2/30/2025,\n" +
			caseA + ",external,Miscellaneous,,,\n" +
			caseA + ",support,Miscellaneous,,,\n" +
			caseA + ",support,Miscellaneous,again,,\n", ReadOptions{}, nil, 0},
		{"ragged rows", "caseId,type,title,error\n" +
			caseA + ",support,Cancellation,\n" +
			caseA + ",support\n" +
			caseA + ",support,Cancellation,,x,\"y, z\"\n" +
			caseA + ",support,Cancellation,e\n", ReadOptions{}, nil, 0},
		{"skipped through done", hdr +
			caseA + ",support,Cancellation,n,,\n" +
			caseA + ",support,Cancellation,another note,,\n" +
			caseA + ",support,Hold Order,n,,\n" +
			caseA + ",support,Cancellation,n,,,surplus\n", ReadOptions{}, done, 0},
		{"done row after its duplicate", hdr +
			caseA + ",support,Cancellation,another note,,\n" +
			caseA + ",support,Cancellation,n,,\n", ReadOptions{}, done, 0},
		{"multi-line notes and quotes, CRLF", "\xef\xbb\xbfcaseId,type,title,note,ref\r\n" +
			caseA + `,support,"Payment Received, Missing CIF","said ""hi"", then left",r1` + "\r\n" +
			caseA + ",support,Cancellation,\"three\r\nphysical\r\nlines\",r2\r\n" +
			"\r\n,,,,\r\n" +
			caseB + ",support,Missing ID,\"\",\"\"\"quoted\"\"\"\r\n", ReadOptions{}, nil, 0},
		{"every field problem", hdr +
			"not-a-uuid,support,Cancellation,n,2/30/2025,not an address\n" +
			caseA + ",urgent,Nope,,,\n" +
			caseA + ",support,Nope,,,\n" +
			" ,,,n,,\n", ReadOptions{}, nil, 0},
		{"batch of rows exactly", manyRows(batchRows), ReadOptions{}, nil, 0},
		{"several batches", manyRows(3*batchRows + 7), ReadOptions{}, nil, 0},
		{"several batches, capped requests", manyRows(3*batchRows + 7), ReadOptions{}, nil, 10},
		{"requests of one row", manyRows(50), ReadOptions{}, nil, 1},
	}
	chk := &validate.Checker{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", strings.TrimPrefix(tt.src, "@"))
			if !strings.HasPrefix(tt.src, "@") {
				path = writeTemp(t, "in.csv", tt.src)
			}
			want, err := inMemoryDryRun(t, path, tt.opts, chk, tt.done, tt.maxPerRequest)
			require.NoError(t, err)
			got, err := streamDryRun(path, tt.opts, chk, tt.done, tt.maxPerRequest)
			require.NoError(t, err)
			checkSameDryRun(t, got, want)
			assert.Nil(t, got.rep.Sheet.Rows)
		})
	}
}

func TestDryRunReport(t *testing.T) {
	src := "caseId,type,title\n" +
		caseA + ",support,Cancellation\n" +
		caseA + ",support,Hold Order\n" +
		caseA + ",support,Missing ID\n" +
		caseB + ",support,Cancellation\n" +
		caseB + ",support,Cancellation\n" +
		caseC + ",support,Nope\n"
	path := writeTemp(t, "in.csv", src)

	tests := []struct {
		maxPerRequest int
		wantRequests  int
	}{
		{0, 2}, {-1, 2}, {1, 4}, {2, 3}, {3, 2}, {100, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max %d", tt.maxPerRequest), func(t *testing.T) {
			rep, err := DryRun(path, ReadOptions{}, &validate.Checker{}, nil,
				tt.maxPerRequest, io.Discard, io.Discard)
			require.NoError(t, err)
			assert.Equal(t, 6, rep.Rows)
			assert.Equal(t, map[report.Status]int{report.Pending: 4, report.Invalid: 2},
				rep.Counts)
			assert.Equal(t, 2, rep.Cases)
			assert.Equal(t, tt.wantRequests, rep.Requests)
			require.Len(t, rep.Reasons, 2)
			assert.Equal(t, "duplicate of line N (same caseId, type and title)",
				rep.Reasons[0].Text)
			assert.Equal(t, []int{6}, rep.Reasons[0].Lines)
			assert.Equal(t, []int{7}, rep.Reasons[1].Lines)
		})
	}
}

func TestDryRunRefusals(t *testing.T) {
	const hdr = "caseId,type,title,note\n"
	const row = caseA + ",support,Cancellation,n\n"
	rows := strings.Repeat(row, 2*batchRows+3) // refusals after written rows
	tests := []struct {
		name string
		src  string
		opts ReadOptions
		want error
	}{
		{"empty", "", ReadOptions{}, ErrEmpty},
		{"no header", row + row, ReadOptions{}, ErrNoHeader},
		{"missing column", "caseId,type,note\n" + row, ReadOptions{}, ErrMissingColumn},
		{"column twice", "caseId,type,title,Case ID\n", ReadOptions{}, ErrDuplicateColumn},
		{"UTF-16", "\xff\xfec\x00a\x00", ReadOptions{}, ErrNotUTF8},
		{"unterminated quote mid-file", hdr + rows + caseA + ",support,X,\"open\n" + row,
			ReadOptions{}, ErrSyntax},
		{"bare quote mid-file", hdr + rows + caseA + ",support,Can\"cel,n\n" + row,
			ReadOptions{}, ErrSyntax},
		{"not UTF-8 mid-file", hdr + rows + caseA + ",support,Caf\xe9,n\n" + row,
			ReadOptions{}, ErrNotUTF8},
		{"not UTF-8 at a batch border", hdr + strings.Repeat(row, batchRows) +
			caseA + ",\xc3,X,n\n", ReadOptions{}, ErrNotUTF8},
	}
	chk := &validate.Checker{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "in.csv", tt.src)
			_, wantErr := ReadFile(path, tt.opts)
			require.Error(t, wantErr)

			got, err := streamDryRun(path, tt.opts, chk, nil, 0)
			require.Error(t, err)
			assert.Nil(t, got.rep)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.ErrorIs(t, err, tt.want)
			assert.Equal(t, wantErr, err, "got %v, want %v", err, wantErr)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.csv")
		_, wantErr := ReadFile(path, ReadOptions{})
		_, err := streamDryRun(path, ReadOptions{}, chk, nil, 0)
		assert.Equal(t, wantErr, err)
	})
	t.Run("invalid delimiter option", func(t *testing.T) {
		path := writeTemp(t, "in.csv", hdr+row)
		_, err := streamDryRun(path, ReadOptions{Delimiter: '"'}, chk, nil, 0)
		require.Error(t, err)
		var fe *FileError
		assert.False(t, errors.As(err, &fe), "got a *FileError for a bad option")
	})
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct {
	n   int
	err error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

func TestDryRunWriteError(t *testing.T) {
	// Enough rows to fill the 64 KiB buffers several times over while the
	// reading and checking goroutines are still busy.
	path := writeTemp(t, "in.csv", manyRows(8*batchRows))
	diskFull := errors.New("disk full")
	chk := &validate.Checker{}

	t.Run("results", func(t *testing.T) {
		w := &failingWriter{n: 1000, err: diskFull}
		rep, err := DryRun(path, ReadOptions{}, chk, nil, 0, w, io.Discard)
		assert.Nil(t, rep)
		assert.ErrorIs(t, err, diskFull)
		assert.ErrorContains(t, err, "writing results: ")
	})
	t.Run("failures", func(t *testing.T) {
		w := &failingWriter{n: 1000, err: diskFull}
		rep, err := DryRun(path, ReadOptions{}, chk, nil, 0, io.Discard, w)
		assert.Nil(t, rep)
		assert.ErrorIs(t, err, diskFull)
		assert.ErrorContains(t, err, "writing failures: ")
	})
	t.Run("at the final flush", func(t *testing.T) {
		small := writeTemp(t, "small.csv", manyRows(10))
		w := &failingWriter{n: 10, err: diskFull}
		_, err := DryRun(small, ReadOptions{}, chk, nil, 0, io.Discard, w)
		assert.ErrorIs(t, err, diskFull)
	})
}

func TestReaderMatchesRead(t *testing.T) {
	src := manyRows(40)
	sheet := mustRead(t, src, ReadOptions{})

	rd, err := NewReader(strings.NewReader(src), "in.csv", ReadOptions{})
	require.NoError(t, err)
	var rows []Row
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		rows = append(rows, row)
	}
	assert.Equal(t, sheet.Rows, rows)

	// The Sheet tells everything but the rows.
	got := rd.Sheet()
	assert.Nil(t, got.Rows)
	got.Rows = sheet.Rows
	assert.Equal(t, sheet, got)

	// The end stays the end.
	_, err = rd.Next()
	assert.Equal(t, io.EOF, err)
}

func TestReaderErrorIsSticky(t *testing.T) {
	src := "caseId,type,title\n" + caseA + ",support,Cancellation\n" +
		caseA + ",support,\"open\n"
	rd, err := NewReader(strings.NewReader(src), "in.csv", ReadOptions{})
	require.NoError(t, err)

	row, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, 2, row.Line)

	_, err = rd.Next()
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 3, fe.Line)
	_, again := rd.Next()
	assert.Equal(t, err, again)
}

func TestNewReaderRefusesHeader(t *testing.T) {
	_, err := NewReader(strings.NewReader("caseId,type\n"), "in.csv", ReadOptions{})
	assert.ErrorIs(t, err, ErrMissingColumn)
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 1, fe.Line)
}
