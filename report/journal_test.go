package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pendingSnapshot is testRecords as a run starts: valid rows pending.
func pendingSnapshot() []Record {
	recs := testRecords()
	for i := range recs {
		if recs[i].Outcome.Status != Invalid {
			recs[i].Outcome = Outcome{Status: Pending}
		}
	}
	return recs
}

// resultRow is rec as a results file holds it.
func resultRow(rec Record) []string {
	o := rec.Outcome
	return append(slices.Clone(rec.Fields), strconv.Itoa(rec.Line),
		string(o.Status), o.EscalationID, o.Err)
}

// readJournal reads a journal as the resume loader must: a last record cut
// short (not ending in a newline, ending inside quotes, too few fields) is
// dropped; any other problem is an error.
func readJournal(data []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	var records [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if r.InputOffset() == int64(len(data)) {
				return records, nil // the cut-short last record
			}
			return nil, err
		}
		records = append(records, rec)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' && len(records) > 0 {
		records = records[:len(records)-1] // complete-looking, but cut
	}
	return records, nil
}

func openTestJournal(t *testing.T) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.results.csv")
	j, err := OpenJournal(path, testHeader, slices.Values(pendingSnapshot()))
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j, path
}

func TestJournalSnapshotThenAppends(t *testing.T) {
	j, path := openTestJournal(t)
	done := testRecords()[:3]
	require.NoError(t, j.Append(done[:1]))
	require.NoError(t, j.Append(done[1:]))
	require.NoError(t, j.Append(nil))
	require.NoError(t, j.Close())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	got := readCSV(t, data)

	want := [][]string{append(slices.Clone(testHeader), ResultColumns...)}
	for _, rec := range pendingSnapshot() {
		want = append(want, resultRow(rec))
	}
	for _, rec := range done {
		want = append(want, resultRow(rec))
	}
	assert.Equal(t, want, got)
}

// After Append returns, the records are in the file, with no Close.
func TestJournalAppendIsInFile(t *testing.T) {
	j, path := openTestJournal(t)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	for i, rec := range testRecords() {
		require.NoError(t, j.Append([]Record{rec}))

		data, err := os.ReadFile(path)
		require.NoError(t, err)
		got := readCSV(t, data)
		n := len(pendingSnapshot()) + 1 + i + 1
		require.Len(t, got, n, "after append %d", i)
		assert.Equal(t, resultRow(rec), got[n-1])
		assert.True(t, bytes.HasPrefix(data, before), "the snapshot is never rewritten")
	}
}

func TestJournalMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.results.csv")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))

	j, err := OpenJournal(path, testHeader, slices.Values(pendingSnapshot()))
	require.NoError(t, err)
	defer j.Close()
	require.NoError(t, j.Append(testRecords()[:1]))

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(),
		"got mode %v, want 0600", info.Mode().Perm())
}

func TestJournalConcurrentAppend(t *testing.T) {
	const workers, batches = 8, 25
	j, path := openTestJournal(t)

	// Each worker appends batches of 1-3 records with lines of its own.
	errs := make(chan error, workers*batches)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				var batch []Record
				for k := range b%3 + 1 {
					rec := testRecords()[k]
					rec.Line = 1000*(w+1) + 10*b + k
					rec.Outcome.Err = fmt.Sprintf("worker %d, batch %d", w, b)
					batch = append(batch, rec)
				}
				errs <- j.Append(batch)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, j.Close())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	got := readCSV(t, data)
	appended := got[1+len(pendingSnapshot()):]

	// Every record once, and each batch in one piece.
	lineCol := len(testHeader)
	seen := map[string]bool{}
	for i, rec := range appended {
		assert.False(t, seen[rec[lineCol]], "line %s written twice", rec[lineCol])
		seen[rec[lineCol]] = true
		line, err := strconv.Atoi(rec[lineCol])
		require.NoError(t, err)
		if line%10 > 0 {
			prev, _ := strconv.Atoi(appended[i-1][lineCol])
			assert.Equal(t, line-1, prev, "batch of line %d split", line)
		}
	}
	want := 0
	for b := range batches {
		want += workers * (b%3 + 1)
	}
	assert.Len(t, appended, want)
}

// Cut at any byte of the appended part, the journal yields the header, the
// snapshot and exactly the appended records that were completely written.
func TestJournalCutAnywhere(t *testing.T) {
	j, path := openTestJournal(t)
	snapshot, err := os.ReadFile(path)
	require.NoError(t, err)

	// Note where each appended record ends.
	var ends []int
	var want [][]string
	for _, rec := range testRecords() {
		require.NoError(t, j.Append([]Record{rec}))
		info, err := os.Stat(path)
		require.NoError(t, err)
		ends = append(ends, int(info.Size()))
		want = append(want, resultRow(rec))
	}
	require.NoError(t, j.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	base := 1 + len(pendingSnapshot())
	for cut := len(snapshot); cut <= len(data); cut++ {
		got, err := readJournal(data[:cut])
		require.NoError(t, err, "cut at %d", cut)
		complete := 0
		for complete < len(ends) && ends[complete] <= cut {
			complete++
		}
		require.Len(t, got, base+complete, "cut at %d", cut)
		assert.Equal(t, want[:complete], got[base:], "cut at %d", cut)
	}
}

func TestJournalRefusals(t *testing.T) {
	t.Run("record of the wrong width writes nothing", func(t *testing.T) {
		j, path := openTestJournal(t)
		before, err := os.ReadFile(path)
		require.NoError(t, err)

		bad := []Record{testRecords()[0], {Line: 99, Fields: []string{"x"}}}
		err = j.Append(bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "line 99: 1 fields for a header of 7")

		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after))
		assert.NoError(t, j.Append(testRecords()[:1]), "a refused batch is not sticky")
	})

	t.Run("append after close", func(t *testing.T) {
		j, _ := openTestJournal(t)
		require.NoError(t, j.Close())
		assert.NoError(t, j.Close(), "a second Close is harmless")
		assert.ErrorIs(t, j.Append(testRecords()[:1]), os.ErrClosed)
	})

	t.Run("snapshot error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "run.results.csv")
		bad := slices.Values([]Record{{Line: 2, Fields: []string{"x"}}})
		_, err := OpenJournal(path, testHeader, bad)
		require.Error(t, err)
		_, statErr := os.Stat(path)
		assert.True(t, errors.Is(statErr, os.ErrNotExist), "no journal may be left")
	})
}
