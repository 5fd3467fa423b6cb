package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"os"
	"sync"
)

// Journal is a results file that grows while a run works, so that a run
// killed at any moment (kill -9, power loss) leaves a file a resumed run
// can read: every row whose answer was recorded before the kill is in it.
//
// The file's life:
//
//  1. OpenJournal writes a complete results file, atomically: the header
//     and a snapshot of every row, the rows still to send as pending.
//  2. Each Append adds the records of rows finished since, in the same
//     columns, and syncs them to disk before returning. A row may thus
//     appear twice (or more); its latest record is the one that counts.
//  3. At the end the caller closes the Journal and replaces the file with
//     the final results, every row once, in input order (WriteFileAtomic).
//
// A reader of a journal left by a crash must accept a last record cut
// short at any byte, and drop it: it may lack its final newline (and so
// look complete but hold a truncated value), end inside a quoted field, or
// be followed by zero bytes after a power loss. Every record before it is
// complete and valid. Records never interleave: each Append is one write.
//
// A Journal is safe for concurrent use.
type Journal struct {
	mu  sync.Mutex
	f   *os.File
	buf bytes.Buffer // one Append's records, written in one go
	enc *rowEncoder  // writes into buf
	err error        // sticky: set by the first failed write or sync
}

// OpenJournal atomically writes a complete results file at path, with
// header and the snapshot records in the format of WriteResults, then opens
// it for appending. The file has mode 0600.
func OpenJournal(path string, header []string,
	snapshot iter.Seq[Record]) (*Journal, error) {

	err := WriteFileAtomic(path, func(w io.Writer) error {
		return WriteResults(w, header, snapshot)
	})
	if err != nil {
		return nil, fmt.Errorf("opening journal: %w", err)
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening journal: %w", err)
	}

	j := &Journal{f: f}
	j.enc = newRowEncoder(csv.NewWriter(&j.buf), len(header))
	return j, nil
}

// Append adds recs to the file, in order, and syncs it to disk before it
// returns: once Append returns nil the records survive a crash. An empty
// recs writes nothing.
//
// Records whose Fields do not match the header's width are refused, and
// nothing of recs is written. After a failed write or sync the file's tail
// can no longer be trusted, so every later Append returns the same error;
// the caller still holds its outcomes and can write final results.
func (j *Journal) Append(recs []Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()

	switch {
	case j.f == nil:
		return fmt.Errorf("appending to journal: %w", os.ErrClosed)
	case j.err != nil:
		return j.err
	case len(recs) == 0:
		return nil
	}

	// Encode the whole batch first, so that a bad record writes nothing.
	j.buf.Reset()
	for _, rec := range recs {
		if err := j.enc.writeResult(rec); err != nil {
			j.buf.Reset()
			return fmt.Errorf("appending to journal: %w", err)
		}
	}
	j.enc.cw.Flush() // into j.buf, which cannot fail

	// One write, so that records never interleave and only the last one
	// can be cut short; then sync.
	if _, err := j.f.Write(j.buf.Bytes()); err != nil {
		j.err = fmt.Errorf("appending to journal: %w", err)
		return j.err
	}
	if err := j.f.Sync(); err != nil {
		j.err = fmt.Errorf("appending to journal: syncing: %w", err)
		return j.err
	}
	return nil
}

// Close closes the file. Every appended record is already on disk. Close
// returns nil when the Journal is already closed; Append then fails.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()

	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("closing journal: %w", err)
	}
	return nil
}
