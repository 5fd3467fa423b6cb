package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readCSV parses data as the importer would: comma-delimited, every record
// as wide as the first.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	return records
}

func TestWriteResultsGolden(t *testing.T) {
	var buf bytes.Buffer
	err := WriteResults(&buf, testHeader, slices.Values(testRecords()))
	require.NoError(t, err)
	checkGolden(t, "results", buf.Bytes())
}

func TestWriteFailuresGolden(t *testing.T) {
	var buf bytes.Buffer
	err := WriteFailures(&buf, testHeader, slices.Values(testRecords()))
	require.NoError(t, err)
	checkGolden(t, "failures", buf.Bytes())
}

// The results file reads back to the very values written, in order.
func TestWriteResultsRoundTrip(t *testing.T) {
	recs := testRecords()
	var buf bytes.Buffer
	require.NoError(t, WriteResults(&buf, testHeader, slices.Values(recs)))

	got := readCSV(t, buf.Bytes())
	require.Len(t, got, len(recs)+1)
	assert.Equal(t, append(slices.Clone(testHeader), ResultColumns...), got[0])
	for i, rec := range recs {
		o := rec.Outcome
		want := append(slices.Clone(rec.Fields), strconv.Itoa(rec.Line),
			string(o.Status), o.EscalationID, o.Err)
		assert.Equal(t, want, got[i+1], "record for line %d", rec.Line)
	}
	assert.NotContains(t, buf.String(), "\r", "line endings must be LF")
}

// Every row not done appears in the failures file, in order, with its
// error; no done row does; the file reads back as an input whose header,
// once the result columns are dropped, is the original one.
func TestWriteFailuresProperty(t *testing.T) {
	allDone := testRecords()
	for i := range allDone {
		allDone[i].Outcome = Outcome{Status: Statuses[i%3]}
	}
	tests := []struct {
		name string
		recs []Record
	}{
		{"mixed", testRecords()},
		{"all done", allDone},
		{"none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteFailures(&buf, testHeader, slices.Values(tt.recs))
			require.NoError(t, err)
			got := readCSV(t, buf.Bytes())

			header := slices.DeleteFunc(slices.Clone(got[0]), IsResultColumn)
			assert.Equal(t, testHeader, header)

			want := [][]string{}
			for _, rec := range tt.recs {
				if !rec.Outcome.Status.Done() {
					want = append(want, append(slices.Clone(rec.Fields), rec.Outcome.Err))
				}
			}
			assert.Equal(t, want, got[1:], "got rows %q, want %q", got[1:], want)
		})
	}
}

func TestWriteRowsRefusesBadInput(t *testing.T) {
	good := testRecords()[0]
	short := Record{Line: 5, Fields: []string{"a", "b"}}
	tests := []struct {
		name    string
		header  []string
		recs    []Record
		wantErr string
		// wantNothing: the refusal comes before a byte is written.
		wantNothing bool
	}{
		{
			name:        "result column in header",
			header:      []string{"caseId", "Status"},
			wantErr:     `header column "Status" is a result column`,
			wantNothing: true,
		},
		{
			name:    "record narrower than header",
			header:  testHeader,
			recs:    []Record{good, short},
			wantErr: "line 5: 2 fields for a header of 7",
		},
	}
	writers := map[string]func(io.Writer, []string, iter.Seq[Record]) error{
		"results":  WriteResults,
		"failures": WriteFailures,
	}
	for _, tt := range tests {
		for wname, write := range writers {
			t.Run(tt.name+"/"+wname, func(t *testing.T) {
				var buf bytes.Buffer
				err := write(&buf, tt.header, slices.Values(tt.recs))
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.True(t, strings.HasPrefix(err.Error(), "writing "+wname+": "),
					"got %q, want it to say what was being written", err)
				if tt.wantNothing {
					assert.Empty(t, buf.String())
				}
			})
		}
	}
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteResultsReportsWriteError(t *testing.T) {
	diskFull := errors.New("disk full")
	recs := manyRecords(5000)
	w := &failAfter{n: 100 << 10, err: diskFull}

	err := WriteResults(w, testHeader, recs)
	assert.ErrorIs(t, err, diskFull)
}

// A *bufio.Writer of 64 KiB or more is written through, not wrapped again,
// so nothing is left in it after the call.
func TestWriteResultsUsesCallersBuffer(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriterSize(&out, 1<<20)
	require.NoError(t, WriteResults(bw, testHeader, slices.Values(testRecords())))
	assert.Zero(t, bw.Buffered(), "got %d bytes left in the caller's buffer", bw.Buffered())
	assert.NotEmpty(t, out.String())
}

func TestWriteFileAtomic(t *testing.T) {
	writeErr := errors.New("disk on fire")
	tests := []struct {
		name     string
		existing string // "" means no file at path before the call
		write    func(w io.Writer) error
		wantErr  error
		want     string // content of path after the call
	}{
		{
			name:  "new file",
			write: writeString("fresh\n"),
			want:  "fresh\n",
		},
		{
			name:     "replaces a wider file",
			existing: "old\n",
			write:    writeString("new\n"),
			want:     "new\n",
		},
		{
			name:     "large content is complete",
			existing: "old\n",
			write:    writeString(strings.Repeat("0123456789\n", 50_000)),
			want:     strings.Repeat("0123456789\n", 50_000),
		},
		{
			name:     "write error keeps the old file",
			existing: "old\n",
			write: func(w io.Writer) error {
				io.WriteString(w, strings.Repeat("partial", 20_000))
				return writeErr
			},
			wantErr: writeErr,
			want:    "old\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.results.csv")
			if tt.existing != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.existing), 0o644))
				require.NoError(t, os.Chmod(path, 0o644))
			}

			err := WriteFileAtomic(path, tt.write)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}

			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, []string{"out.results.csv"}, dirNames(t, dir),
				"no temporary file may be left behind")

			info, err := os.Stat(path)
			require.NoError(t, err)
			wantMode := os.FileMode(0o600)
			if tt.wantErr != nil {
				wantMode = 0o644 // untouched
			}
			assert.Equal(t, wantMode, info.Mode().Perm(),
				"got mode %v, want %v", info.Mode().Perm(), wantMode)
		})
	}
}

func TestWriteFileAtomicPanicLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")

	assert.PanicsWithValue(t, "boom", func() {
		WriteFileAtomic(path, func(w io.Writer) error {
			io.WriteString(w, "some")
			panic("boom")
		})
	})
	assert.Empty(t, dirNames(t, dir))
}

func TestWriteFileAtomicMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "out.csv")
	err := WriteFileAtomic(path, writeString("x"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), path)
}

func writeString(s string) func(w io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// The streaming writers write what WriteResults and WriteFailures write,
// record by record, and nothing reaches w before Flush for a small file.
func TestStreamingWritersMatch(t *testing.T) {
	recs := testRecords()
	var wantRes, wantFail bytes.Buffer
	require.NoError(t, WriteResults(&wantRes, testHeader, slices.Values(recs)))
	require.NoError(t, WriteFailures(&wantFail, testHeader, slices.Values(recs)))

	var res, fail bytes.Buffer
	rw, err := NewResultsWriter(&res, testHeader)
	require.NoError(t, err)
	fw, err := NewFailuresWriter(&fail, testHeader)
	require.NoError(t, err)
	for _, rec := range recs {
		require.NoError(t, rw.Write(rec))
		require.NoError(t, fw.Write(rec))
	}
	assert.Zero(t, res.Len()+fail.Len(), "got output before Flush")
	require.NoError(t, rw.Flush())
	require.NoError(t, fw.Flush())

	assert.Equal(t, wantRes.String(), res.String())
	assert.Equal(t, wantFail.String(), fail.String())
}

func TestStreamingWritersRefuse(t *testing.T) {
	t.Run("result column in header", func(t *testing.T) {
		var buf bytes.Buffer
		_, err := NewResultsWriter(&buf, []string{"caseId", "Line"})
		assert.ErrorContains(t, err, `writing results: header column "Line" is a result column`)
		_, err = NewFailuresWriter(&buf, []string{"caseId", "error"})
		assert.ErrorContains(t, err, `writing failures: header column "error" is a result column`)
		assert.Empty(t, buf.String())
	})

	t.Run("errors stick", func(t *testing.T) {
		rw, err := NewResultsWriter(io.Discard, testHeader)
		require.NoError(t, err)
		err = rw.Write(Record{Line: 5, Fields: []string{"a"}})
		assert.EqualError(t, err, "writing results: line 5: 1 fields for a header of 7")
		assert.Equal(t, err, rw.Write(testRecords()[0]), "a later Write")
		assert.Equal(t, err, rw.Flush(), "Flush")
	})

	t.Run("failures writer skips done rows unchecked", func(t *testing.T) {
		var buf bytes.Buffer
		fw, err := NewFailuresWriter(&buf, testHeader)
		require.NoError(t, err)
		done := Record{Line: 2, Fields: []string{"a"}, Outcome: Outcome{Status: Created}}
		require.NoError(t, fw.Write(done))
		require.NoError(t, fw.Flush())
		assert.Equal(t, 1, strings.Count(buf.String(), "\n"), "got %q", buf.String())
	})
}

func TestRemoveTempsClearsOnlyTheFilesTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	keep := []string{"out.csv", ".other.csv.tmp-1", "out.csv.tmp-2", ".out.csvx"}
	gone := []string{".out.csv.tmp-123", ".out.csv.tmp-abc"}
	for _, name := range append(append([]string{}, keep...), gone...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600))
	}

	require.NoError(t, RemoveTemps(path))

	for _, name := range keep {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	for _, name := range gone {
		assert.NoFileExists(t, filepath.Join(dir, name))
	}
}
