package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// Resume is the set of rows an earlier run finished, read from its results
// file. It implements Done: BuildPlan marks a row whose content matches one
// of them Skipped, and it is not sent again.
//
// Rows match by content — the normalized caseId, type, title, note,
// followUpDueAt and assignedToEmail (validate.Checked.Key) — never by line
// number, so the new input may be re-sorted, renamed, edited, or be the
// earlier run's failures file. A Resume is read-only once loaded and safe
// for concurrent use.
type Resume struct {
	done map[string]string // Checked.Key -> escalation id ("" if unknown)

	// Records counts the records read; Unreadable those passed over because
	// they were cut short or could not be parsed (see LoadResume).
	Records, Unreadable int
}

// Lookup returns the escalation id recorded for the row with key, and
// whether that row is done.
func (r *Resume) Lookup(key string) (string, bool) {
	id, ok := r.done[key]
	return id, ok
}

// Len returns the number of distinct rows recorded as done.
func (r *Resume) Len() int { return len(r.done) }

// LoadResume reads the results file at path, complete or cut short, and
// returns the rows it records as done (created, already_active, skipped).
//
// The file may be a finished results file or one a run was still writing
// when it was killed: a snapshot of every row followed by the records of
// the cases finished since (report.Journal), so a row may appear more than
// once; it is done if any of its records says so.
//
// Only the last record can have been cut short by a crash, so it counts
// only when the file ends with its line break; a record that cannot be
// parsed, or has more fields than the header, is passed over too. Both are
// counted in Unreadable. A row not found done is sent again, and the API
// answers "already active" for one that was in fact created, so nothing is
// created twice. Any other record with fewer fields than the header lost
// its empty trailing cells to a tool that re-saved the file, and they read
// as empty. An error reading the file (not parsing it) is returned.
//
// chk must be configured as for the new input (catalog, zone, date order),
// since the keys compare normalized values. A missing file is an error
// wrapping fs.ErrNotExist.
func LoadResume(path string, chk *validate.Checker) (*Resume, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading earlier results: %w", err)
	}
	defer f.Close()

	res, err := readResume(f, chk)
	if err != nil {
		return nil, fmt.Errorf("reading earlier results %s: %w", path, err)
	}
	return res, nil
}

// ErrNotResults means a file given as earlier results is not a results
// file: it lacks the columns a row needs to be recognized as done.
var ErrNotResults = errors.New("not a results file")

// resultsLayout is where a results file keeps what resuming needs.
type resultsLayout struct {
	known   [numColumns]int
	status  int
	id      int
	columns int // fields a complete record has
}

func readResume(r io.Reader, chk *validate.Checker) (*Resume, error) {
	tail := &lastByteReader{r: r}
	br := bufio.NewReaderSize(tail, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, utf8BOM) {
		br.Discard(3)
	}
	head, _ := br.Peek(4096)

	cr := csv.NewReader(br)
	cr.Comma = detectDelimiter(head)
	cr.FieldsPerRecord = -1

	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("no header: %w", err)
	}
	layout, err := resultsHeader(header)
	if err != nil {
		return nil, err
	}

	// Each record is added once the next one has been read: only the last
	// record of the file can have been cut short by a crash, and it is
	// trusted only when the file ends with its line break.
	res := &Resume{done: make(map[string]string)}
	var last []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			if last != nil && tail.last == '\n' {
				res.add(last, layout, chk)
			} else if last != nil {
				res.Unreadable++
			}
			return res, nil
		}
		// A parse error costs one record. Any other error is the file's
		// (I/O): reading on would meet it again, for ever.
		var parseErr *csv.ParseError
		if err != nil && !errors.As(err, &parseErr) {
			return nil, fmt.Errorf("after record %d: %w", res.Records, err)
		}
		res.Records++

		if last != nil {
			res.add(last, layout, chk)
			last = nil
		}
		if err != nil || len(rec) > layout.columns {
			res.Unreadable++
			continue
		}
		last = rec
	}
}

// lastByteReader remembers the last byte read through it.
type lastByteReader struct {
	r    io.Reader
	last byte
}

func (l *lastByteReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.last = p[n-1]
	}
	return n, err
}

// add records rec when its status is done and its values still check.
func (r *Resume) add(rec []string, layout *resultsLayout, chk *validate.Checker) {
	// A complete record with fewer fields than the header lost its empty
	// trailing cells to a tool that re-saved the file; they read as "".
	if len(rec) < layout.columns {
		rec = append(rec, make([]string, layout.columns-len(rec))...)
	}
	status, ok := report.ParseStatus(rec[layout.status])
	if !ok || !status.Done() {
		return
	}

	var f [numColumns]string
	for c, i := range layout.known {
		if i >= 0 {
			f[c] = rec[i]
		}
	}
	checked, problems := chk.Check(validate.Input{
		CaseID:          f[ColCaseID],
		Type:            f[ColType],
		Title:           f[ColTitle],
		Note:            f[ColNote],
		FollowUpDueAt:   f[ColFollowUpDueAt],
		AssignedToEmail: f[ColAssignedToEmail],
	})
	if len(problems) > 0 {
		return
	}

	key := checked.Key()
	if id := rec[layout.id]; id != "" || r.done[key] == "" {
		r.done[key] = id
	}
}

// resultsHeader finds the columns of a results file, which must hold the
// required input columns and the status and escalationId result columns.
func resultsHeader(header []string) (*resultsLayout, error) {
	l := &resultsLayout{status: -1, id: -1, columns: len(header)}
	for c := range l.known {
		l.known[c] = -1
	}

	for i, name := range header {
		if c, ok := knownColumn(name); ok && l.known[c] < 0 {
			l.known[c] = i
			continue
		}
		switch report.FoldColumn(name) {
		case report.FoldColumn(report.ColStatus):
			l.status = i
		case report.FoldColumn(report.ColEscalationID):
			l.id = i
		}
	}

	for _, c := range requiredColumns {
		if l.known[c] < 0 {
			return nil, fmt.Errorf("%w: no %s column", ErrNotResults, c)
		}
	}
	if l.status < 0 || l.id < 0 {
		return nil, fmt.Errorf("%w: it needs status and escalationId "+
			"columns (a failures file cannot be resumed from)", ErrNotResults)
	}
	return l, nil
}
