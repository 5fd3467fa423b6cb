package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// encoding/csv does all writing here: the hot path for 1,000,000-row files.

// bufSize is the write buffer of the results writers and WriteFileAtomic.
const bufSize = 64 << 10

// WriteResults writes a results file to w: the header followed by the four
// ResultColumns, then one row per record: its Fields, then line, status,
// escalationId and error. Rows come out in the order rows yields them.
//
// The format is plain encoding/csv: comma-separated, LF line endings,
// fields quoted only when they need it, no byte-order mark. WriteResults
// buffers its output (64 KiB) and flushes it before returning, so w need
// not be buffered; a *bufio.Writer of at least that size is used as is.
//
// It fails, writing nothing, when header already holds a result column,
// and stops with an error at the first record whose Fields do not match
// the header's width: the file would not read back otherwise. After an
// error, what reached w is incomplete (WriteFileAtomic then discards it).
// A nil rows is no rows. It is a loop over a ResultsWriter.
func WriteResults(w io.Writer, header []string, rows iter.Seq[Record]) error {
	rw, err := NewResultsWriter(w, header)
	if err != nil {
		return err
	}
	return writeAll(rw, rows)
}

// WriteFailures writes a failures file to w: the header plus ColError, then
// the Fields and error of every record whose status is not Done, in the
// order rows yields them. With no such record it writes the header alone.
//
// The file is itself a valid input: the kept columns keep their names and
// values, and the error column is dropped when it is read back. Format,
// buffering and errors are those of WriteResults. It is a loop over a
// FailuresWriter.
func WriteFailures(w io.Writer, header []string, rows iter.Seq[Record]) error {
	fw, err := NewFailuresWriter(w, header)
	if err != nil {
		return err
	}
	return writeAll(fw, rows)
}

// recordWriter is what ResultsWriter and FailuresWriter have in common.
type recordWriter interface {
	Write(rec Record) error
	Flush() error
}

// writeAll writes every record of rows (nil is none) to rw and flushes it.
func writeAll(rw recordWriter, rows iter.Seq[Record]) error {
	if rows != nil {
		for rec := range rows {
			if err := rw.Write(rec); err != nil {
				return err
			}
		}
	}
	return rw.Flush()
}

// ResultsWriter writes a results file one record at a time, for a caller
// that has each row's outcome as it goes rather than all of them at once.
// What it writes for a sequence of records is byte for byte what
// WriteResults writes for the same sequence; format, buffering and errors
// are the same too. Nothing is complete in w until Flush returns nil.
//
// A ResultsWriter is not safe for concurrent use. After an error every
// later call returns that error.
type ResultsWriter struct {
	rw rowWriter
}

// NewResultsWriter writes the results header (the kept column names, then
// the ResultColumns) to a new ResultsWriter on w. It fails, writing
// nothing, when header already holds a result column.
func NewResultsWriter(w io.Writer, header []string) (*ResultsWriter, error) {
	rw := &ResultsWriter{rw: rowWriter{what: "results"}}
	if err := rw.rw.start(w, header, ResultColumns); err != nil {
		return nil, err
	}
	return rw, nil
}

// Write adds rec's row: its Fields, then line, status, escalationId and
// error. It fails when rec's Fields do not match the header's width.
func (rw *ResultsWriter) Write(rec Record) error {
	return rw.rw.write(rec, false)
}

// Flush writes out whatever is buffered and reports any error met so far.
func (rw *ResultsWriter) Flush() error { return rw.rw.flush() }

// FailuresWriter writes a failures file one record at a time: the rows that
// are not done, with their error. What it writes for a sequence of records
// is byte for byte what WriteFailures writes for the same sequence. Like a
// ResultsWriter it buffers, is complete only after Flush, is not safe for
// concurrent use, and repeats its first error.
type FailuresWriter struct {
	rw rowWriter
}

// NewFailuresWriter writes the failures header (the kept column names, then
// ColError) to a new FailuresWriter on w. It fails, writing nothing, when
// header already holds a result column.
func NewFailuresWriter(w io.Writer, header []string) (*FailuresWriter, error) {
	fw := &FailuresWriter{rw: rowWriter{what: "failures"}}
	if err := fw.rw.start(w, header, []string{ColError}); err != nil {
		return nil, err
	}
	return fw, nil
}

// Write adds rec's Fields and error when its status is not Done, and does
// nothing otherwise. It fails when rec's Fields do not match the header's
// width (a Done record is not checked).
func (fw *FailuresWriter) Write(rec Record) error {
	return fw.rw.write(rec, true)
}

// Flush writes out whatever is buffered and reports any error met so far.
func (fw *FailuresWriter) Flush() error { return fw.rw.flush() }

// rowWriter is the body of ResultsWriter and FailuresWriter.
type rowWriter struct {
	what string // "results" or "failures", for errors
	cw   *csv.Writer
	enc  *rowEncoder
	err  error // the first error, returned by every later call
}

// start checks header and writes it, followed by extra, into the buffer.
func (rw *rowWriter) start(w io.Writer, header, extra []string) error {
	for _, name := range header {
		if IsResultColumn(name) {
			return rw.fail(fmt.Errorf("header column %q is a result column", name))
		}
	}

	// bufio returns w itself when it is already a big enough *bufio.Writer,
	// and csv.NewWriter does the same with ours: one buffer in all.
	rw.cw = csv.NewWriter(bufio.NewWriterSize(w, bufSize))
	rw.enc = newRowEncoder(rw.cw, len(header))
	if err := rw.enc.writeHeader(header, extra); err != nil {
		return rw.fail(err)
	}
	return nil
}

// write writes rec as a results row, or with failuresOnly as a failures
// row when it is not Done.
func (rw *rowWriter) write(rec Record, failuresOnly bool) error {
	if rw.err != nil {
		return rw.err
	}
	var err error
	switch {
	case !failuresOnly:
		err = rw.enc.writeResult(rec)
	case !rec.Outcome.Status.Done():
		err = rw.enc.writeFailure(rec)
	}
	if err != nil {
		return rw.fail(err)
	}
	return nil
}

func (rw *rowWriter) flush() error {
	if rw.err != nil {
		return rw.err
	}
	rw.cw.Flush()
	if err := rw.cw.Error(); err != nil {
		return rw.fail(err)
	}
	return nil
}

// fail records err, saying what was being written, and returns it.
func (rw *rowWriter) fail(err error) error {
	rw.err = fmt.Errorf("writing %s: %w", rw.what, err)
	return rw.err
}

// rowEncoder writes records through one csv.Writer, reusing a single row
// slice so that a record costs no allocation beyond its line number.
type rowEncoder struct {
	cw    *csv.Writer
	width int      // kept input columns
	row   []string // reused for every record
}

func newRowEncoder(cw *csv.Writer, width int) *rowEncoder {
	row := make([]string, 0, width+len(ResultColumns))
	return &rowEncoder{cw: cw, width: width, row: row}
}

// writeHeader writes the kept column names followed by extra.
func (e *rowEncoder) writeHeader(header, extra []string) error {
	e.row = append(append(e.row[:0], header...), extra...)
	return e.cw.Write(e.row)
}

// writeResult writes rec's fields and its four result columns.
func (e *rowEncoder) writeResult(rec Record) error {
	if err := e.checkWidth(rec); err != nil {
		return err
	}
	e.row = append(e.row[:0], rec.Fields...)
	e.row = append(e.row, strconv.Itoa(rec.Line), string(rec.Outcome.Status),
		rec.Outcome.EscalationID, rec.Outcome.Err)
	return e.cw.Write(e.row)
}

// writeFailure writes rec's fields and its error.
func (e *rowEncoder) writeFailure(rec Record) error {
	if err := e.checkWidth(rec); err != nil {
		return err
	}
	e.row = append(append(e.row[:0], rec.Fields...), rec.Outcome.Err)
	return e.cw.Write(e.row)
}

func (e *rowEncoder) checkWidth(rec Record) error {
	if len(rec.Fields) != e.width {
		return fmt.Errorf("line %d: %d fields for a header of %d",
			rec.Line, len(rec.Fields), e.width)
	}
	return nil
}

// WriteFileAtomic replaces the file at path with what write produces, so
// that path holds either its old content or the complete new one, never a
// mix, whatever happens (crash, power loss, error from write).
//
// It writes to a new temporary file beside path, created with mode 0600,
// through a 64 KiB buffer; then flushes, syncs and closes it, renames it
// over path and syncs the directory. The result is mode 0600 even when it
// replaces a file with a wider mode: our files may hold patient notes. A
// symbolic link at path is replaced, not followed.
//
// When write or any step before the rename fails, the temporary file is
// removed and path is left untouched. An error from the final directory
// sync means the new file is in place but may not survive a power loss.
//
// A process killed while writing leaves its temporary file
// (".NAME.tmp-*", mode 0600) beside path; RemoveTemps clears them.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}

	// Remove the temporary file on every way out before the rename,
	// panics from write included.
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	if err := fillFile(f, write); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	renamed = true

	if err := syncDir(dir); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// RemoveTemps removes the temporary files that WriteFileAtomic calls for
// path left behind when their process was killed. It must only be called
// while no other process may be writing path: cvimport calls it holding
// the results file's lock.
func RemoveTemps(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("clearing temporary files of %s: %w", path, err)
	}

	prefix := "." + base + ".tmp-"
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		err := os.Remove(filepath.Join(dir, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clearing temporary files of %s: %w", path, err)
		}
	}
	return nil
}

// fillFile makes f 0600, runs write on it through a buffer, and flushes,
// syncs and closes it.
func fillFile(f *os.File, write func(w io.Writer) error) error {
	// CreateTemp already uses 0600; setting it again states the contract
	// and does not depend on how the temporary file came to be.
	if err := f.Chmod(0o600); err != nil {
		return err
	}

	bw := bufio.NewWriterSize(f, bufSize)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}

	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory: %w", err)
	}
	defer d.Close()

	// Some file systems cannot sync a directory and say EINVAL; there is
	// nothing more we can do on them.
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing directory: %w", err)
	}
	return nil
}
