package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// ReadOptions tunes how Read parses a file.
type ReadOptions struct {
	// Delimiter is the field separator. Zero means detect it from the header
	// line: the most frequent of ',', ';' and '\t' outside quotes, ','
	// when none appears or on a tie (then ';' before '\t').
	Delimiter rune
}

// The reasons a whole file is refused. A *FileError wraps exactly one of
// them (or an I/O error), so callers can tell them apart with errors.Is.
var (
	ErrEmpty           = errors.New("file is empty")
	ErrNoHeader        = errors.New("no header row")
	ErrMissingColumn   = errors.New("missing required column")
	ErrNotUTF8         = errors.New("not UTF-8 text")
	ErrDuplicateColumn = errors.New("column named twice")
	ErrSyntax          = errors.New("not valid CSV")
)

// FileError is the refusal of a whole input file: nothing in it is used.
type FileError struct {
	Path string
	// Line is the physical line the problem was found on (header = 1), or
	// 0 when no single line is to blame.
	Line int
	Err  error
}

// Error returns "PATH:LINE: message", or "PATH: message" when Line is 0,
// always on one line: line breaks inside the cause become spaces.
func (e *FileError) Error() string {
	msg := oneLine(e.Err.Error())
	if e.Line > 0 {
		return e.Path + ":" + strconv.Itoa(e.Line) + ": " + msg
	}
	return e.Path + ": " + msg
}

// Unwrap returns the cause, one of the Err sentinels or an I/O error.
func (e *FileError) Unwrap() error { return e.Err }

// oneLine replaces every line break in s with a space.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// columnNames are the API's spellings of the known columns, by Column.
var columnNames = [numColumns]string{
	ColCaseID:          validate.FieldCaseID,
	ColType:            validate.FieldType,
	ColTitle:           validate.FieldTitle,
	ColNote:            validate.FieldNote,
	ColFollowUpDueAt:   validate.FieldFollowUpDueAt,
	ColAssignedToEmail: validate.FieldAssignedToEmail,
}

// requiredColumns must each appear in the header.
var requiredColumns = []Column{ColCaseID, ColType, ColTitle}

// String returns the column's API spelling, such as "followUpDueAt".
func (c Column) String() string {
	if c < 0 || c >= numColumns {
		return "Column(" + strconv.Itoa(int(c)) + ")"
	}
	return columnNames[c]
}

// knownColumn returns the known column a header name means, if any.
func knownColumn(name string) (Column, bool) {
	key := report.FoldColumn(name)
	for c, want := range columnNames {
		if key == strings.ToLower(want) {
			return Column(c), true
		}
	}
	return 0, false
}

// utf8BOM is the byte-order mark a spreadsheet may put before the header.
var utf8BOM = []byte("\xef\xbb\xbf")

// ReadFile opens path and reads it with Read. It sizes its buffers from the
// file's size, so it is the faster way to read a big file.
func ReadFile(path string, opts ReadOptions) (*Sheet, error) {
	f, size, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, path, opts, size)
}

// openInput opens path for reading and returns its size in bytes, 0 when
// it is not a regular file. A failure is a *FileError.
func openInput(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, &FileError{Path: path, Err: err}
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, nil
}

// Read reads a whole CSV export into a Sheet. path names the input in
// errors and in Sheet.Path.
//
// The file is UTF-8, with or without a byte-order mark, with LF or CRLF
// line ends. Its first non-blank record is the header; blank records (no
// field holds anything but white space) are skipped everywhere. Result
// columns (report.IsResultColumn) are dropped; other unknown columns are
// kept. Rows of another width than the header are kept (see Row) and left
// for BuildPlan to mark invalid.
//
// Read refuses the whole file with a *FileError when it is empty, has no
// header, lacks a required column, names a known column twice, is not
// UTF-8, or is not valid CSV (an unterminated quote, a bare quote in an
// unquoted field). Any other error means opts is invalid.
//
// Read is a loop over a Reader; use a Reader to see the rows one at a time
// without keeping them all.
func Read(r io.Reader, path string, opts ReadOptions) (*Sheet, error) {
	return read(r, path, opts, 0)
}

// read is Read with a hint of the input's size in bytes (0 if unknown).
func read(r io.Reader, path string, opts ReadOptions, size int64) (*Sheet, error) {
	rd, err := newReader(r, path, opts, size)
	if err != nil {
		return nil, err
	}
	sheet := rd.sheet
	sheet.Rows = make([]Row, 0, rd.rowsHint)
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return sheet, nil
		}
		if err != nil {
			return nil, err
		}
		sheet.Rows = append(sheet.Rows, row)
	}
}

// Reader reads an input file one row at a time, so that a caller which
// handles each row as it comes (a dry run) need not hold the whole file.
// It reads, maps and refuses exactly as Read does; Read is a loop over it.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	sheet    *Sheet
	cr       *csv.Reader
	hdr      *header
	rowsHint int   // estimated data rows, from the size hint; 0 if unknown
	err      error // io.EOF or the refusal, returned by every later Next
}

// peekSize is how much of the file's start is looked at to detect the
// delimiter and estimate the number of rows.
const peekSize = 64 << 10

// NewReader reads the header of an input file from r and maps its columns.
// path names the input in errors and in the Sheet. It refuses the file with
// a *FileError for everything Read refuses at the header (empty file, no
// header, missing or repeated column, not UTF-8, not CSV); any other error
// means opts is invalid.
func NewReader(r io.Reader, path string, opts ReadOptions) (*Reader, error) {
	return newReader(r, path, opts, 0)
}

// newReader is NewReader with a hint of the input's size in bytes (0 if
// unknown), from which it estimates the number of rows.
func newReader(r io.Reader, path string, opts ReadOptions, size int64) (*Reader, error) {
	if d := opts.Delimiter; d != 0 && !validDelimiter(d) {
		return nil, fmt.Errorf("reading %s: invalid delimiter %q", path, d)
	}
	sheet := &Sheet{Path: path, Delimiter: opts.Delimiter}
	fail := func(line int, err error) (*Reader, error) {
		return nil, &FileError{Path: path, Line: line, Err: err}
	}

	// Strip a byte-order mark, and refuse UTF-16 before it reads as noise.
	br := bufio.NewReaderSize(r, peekSize)
	start, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return fail(0, fmt.Errorf("reading: %w", err))
	}
	switch {
	case bytes.HasPrefix(start, utf8BOM):
		sheet.BOM = true
		br.Discard(3)
		size -= 3
	case bytes.HasPrefix(start, []byte("\xff\xfe")),
		bytes.HasPrefix(start, []byte("\xfe\xff")):
		return fail(1, fmt.Errorf("%w: the file is UTF-16; save it as CSV UTF-8",
			ErrNotUTF8))
	}

	// Look at the start to pick the delimiter and guess the row count.
	head, err := br.Peek(peekSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return fail(0, fmt.Errorf("reading: %w", err))
	}
	if sheet.Delimiter == 0 {
		sheet.Delimiter = detectDelimiter(head)
	}
	rowsHint := estimateRows(head, size)

	// encoding/csv rather than gocsv: on a million rows gocsv costs several
	// times more, its line numbers count records rather than file lines,
	// and its header matching is exact. We need FieldPos for each row's
	// first line and our own folding of header names. Records are not
	// reused: each one becomes a Row's Fields, which the caller may keep.
	//
	// TODO(cvimport): encoding/csv turns a CRLF inside a quoted field into
	// LF, so a multi-line cell of a CRLF file is written back with LF line
	// breaks: not byte for byte. Keeping CRLF needs our own field scanner.
	cr := csv.NewReader(br)
	cr.Comma = sheet.Delimiter
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = false

	hdr, err := readHeader(cr, sheet)
	if err != nil {
		return nil, err
	}
	return &Reader{sheet: sheet, cr: cr, hdr: hdr, rowsHint: rowsHint}, nil
}

// Sheet returns what the header told: path, header, column mapping, width,
// delimiter and byte-order mark. Its Rows is nil: the Reader keeps no rows.
// Every call returns the same *Sheet; the caller must not modify it.
func (r *Reader) Sheet() *Sheet { return r.sheet }

// Next returns the next data row, skipping blank records, or io.EOF after
// the last one. The Row's slices are its own: later calls do not reuse
// them. A record that is not valid CSV or not UTF-8 refuses the whole file
// with a *FileError, as Read does. After io.EOF or an error, every later
// call returns the same error.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		rec, err := r.cr.Read()
		if err == io.EOF {
			r.err = io.EOF
			return Row{}, r.err
		}
		if err != nil {
			r.err = csvError(r.sheet.Path, err)
			return Row{}, r.err
		}
		if blank(rec) {
			continue
		}
		line, _ := r.cr.FieldPos(0)
		if j := invalidUTF8(rec); j >= 0 {
			line, col := r.cr.FieldPos(j)
			r.err = &FileError{Path: r.sheet.Path, Line: line,
				Err: fmt.Errorf("%w: field %d, column %d", ErrNotUTF8, j+1, col)}
			return Row{}, r.err
		}
		return r.hdr.row(line, rec), nil
	}
}

// header is what reading the header row learned about the record layout.
type header struct {
	width int   // fields in the header record, dropped ones included
	keep  []int // record index of each kept column; nil means all of them
}

// row makes a Row of record rec, which starts on line.
func (h *header) row(line int, rec []string) Row {
	row := Row{Line: line, NumFields: int32(len(rec))}
	if len(rec) > h.width {
		row.Extra = rec[h.width:len(rec):len(rec)]
		rec = rec[:h.width:h.width]
	}
	row.Short = len(rec) < h.width

	// The common case, a full row and no dropped column: keep the record.
	if h.keep == nil && !row.Short {
		row.Fields = rec
		return row
	}
	n := h.width
	if h.keep != nil {
		n = len(h.keep)
	}
	row.Fields = make([]string, n)
	for i := range row.Fields {
		j := i
		if h.keep != nil {
			j = h.keep[i]
		}
		if j < len(rec) {
			row.Fields[i] = rec[j]
		}
	}
	return row
}

// readHeader reads the first non-blank record and maps its columns into
// sheet. Every error is a *FileError.
func readHeader(cr *csv.Reader, sheet *Sheet) (*header, error) {
	fail := func(line int, err error) (*header, error) {
		return nil, &FileError{Path: sheet.Path, Line: line, Err: err}
	}
	var rec []string
	for {
		var err error
		rec, err = cr.Read()
		if err == io.EOF {
			msg := "%w"
			if cr.InputOffset() > 0 {
				msg = "%w (only blank lines)"
			} else if sheet.BOM {
				msg = "%w (only a byte-order mark)"
			}
			return fail(0, fmt.Errorf(msg, ErrEmpty))
		}
		if err != nil {
			return nil, csvError(sheet.Path, err)
		}
		if !blank(rec) {
			break
		}
	}
	line, _ := cr.FieldPos(0)
	if j := invalidUTF8(rec); j >= 0 {
		line, col := cr.FieldPos(j)
		return fail(line, fmt.Errorf("%w: header field %d, column %d",
			ErrNotUTF8, j+1, col))
	}

	// Map the columns: known ones by folded name, result ones dropped.
	h := &header{width: len(rec)}
	sheet.Width = len(rec)
	for c := range sheet.Columns {
		sheet.Columns[c] = -1
	}
	sheet.Header = make([]string, 0, len(rec))
	keep := make([]int, 0, len(rec))
	for j, name := range rec {
		if report.IsResultColumn(name) {
			continue
		}
		if c, ok := knownColumn(name); ok {
			if k := sheet.Columns[c]; k >= 0 {
				return fail(line, fmt.Errorf("%w: %q and %q both mean %s",
					ErrDuplicateColumn, sheet.Header[k], name, c))
			}
			sheet.Columns[c] = len(sheet.Header)
		}
		sheet.Header = append(sheet.Header, name)
		keep = append(keep, j)
	}
	if len(keep) < len(rec) {
		h.keep = keep
	}

	// Every required column must be there; none at all means no header.
	var missing []string
	for _, c := range requiredColumns {
		if sheet.Columns[c] < 0 {
			missing = append(missing, c.String())
		}
	}
	if len(missing) == 0 {
		return h, nil
	}
	// A first row that names no known column is data, and its cells may be
	// a patient's note: the message does not quote them.
	if len(missing) == len(requiredColumns) && !anyKnown(sheet) {
		return fail(line, fmt.Errorf("%w: the first row (%d fields, read with "+
			"delimiter %q) names none of caseId, type, title",
			ErrNoHeader, len(rec), sheet.Delimiter))
	}
	return fail(line, fmt.Errorf("%w: %s (header found: %s)",
		ErrMissingColumn, strings.Join(missing, ", "), quoteList(rec)))
}

// anyKnown reports whether the sheet's header holds any known column.
func anyKnown(sheet *Sheet) bool {
	for _, k := range sheet.Columns {
		if k >= 0 {
			return true
		}
	}
	return false
}

// maxQuotedName is how much of a header name an error quotes: enough to
// recognize a column name, too little to carry a note from a data row that
// was taken for a header.
const maxQuotedName = 30

// quoteList returns the names quoted and comma-separated, for an error,
// each cut to maxQuotedName characters.
func quoteList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		if r := []rune(n); len(r) > maxQuotedName {
			n = string(r[:maxQuotedName]) + "…"
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}

// csvError turns an error of csv.Reader into a *FileError. A syntax error
// is placed on the first line of its record, the row number a person looks
// for; the exact line and column follow in the message.
func csvError(path string, err error) error {
	var perr *csv.ParseError
	if !errors.As(err, &perr) {
		return &FileError{Path: path, Err: fmt.Errorf("reading: %w", err)}
	}

	where := fmt.Sprintf("column %d", perr.Column)
	if perr.Line != perr.StartLine {
		where = fmt.Sprintf("line %d, column %d", perr.Line, perr.Column)
	}
	hint := ""
	switch {
	case errors.Is(perr.Err, csv.ErrQuote):
		hint = " (a quoted field is never closed, or a quote inside it is not doubled)"
	case errors.Is(perr.Err, csv.ErrBareQuote):
		hint = " (a field holding a quote must be quoted, its quotes doubled)"
	}
	return &FileError{Path: path, Line: perr.StartLine,
		Err: fmt.Errorf("%w: %s: %w%s", ErrSyntax, where, perr.Err, hint)}
}

// blank reports whether no field of rec holds anything but white space.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// invalidUTF8 returns the index of the first field of rec that is not
// valid UTF-8, or -1.
func invalidUTF8(rec []string) int {
	for j, f := range rec {
		if !utf8.ValidString(f) {
			return j
		}
	}
	return -1
}

// validDelimiter reports whether csv.Reader accepts d as a delimiter.
func validDelimiter(d rune) bool {
	return d != '"' && d != '\r' && d != '\n' && d != utf8.RuneError &&
		utf8.ValidRune(d)
}

// detectDelimiter picks the delimiter from the first non-blank line of
// head: the most frequent of ',', ';' and '\t' outside quotes. A line of
// nothing but white space and delimiters is blank; a quoted line break
// does not end the line. Ties go to ',' then ';'.
func detectDelimiter(head []byte) rune {
	candidates := [...]rune{',', ';', '\t'}
	var counts [len(candidates)]int
	quoted, content := false, false
	for _, b := range head {
		if b == '"' {
			quoted = !quoted
		}
		if quoted {
			content = true
			continue
		}
		if b == '\n' {
			if content {
				break
			}
			counts = [len(candidates)]int{}
			continue
		}
		for i, c := range candidates {
			if rune(b) == c {
				counts[i]++
			}
		}
		if !strings.ContainsRune(" \t\r,;", rune(b)) {
			content = true
		}
	}

	best := 0
	for i := range candidates {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return candidates[best]
}

// estimateRows guesses how many rows a file of size bytes holds from the
// average line length of head, its start. It errs a little high so that
// the row slice is allocated once; 0 when size is unknown.
func estimateRows(head []byte, size int64) int {
	lines := bytes.Count(head, []byte{'\n'})
	if size <= 0 || lines < 2 {
		return 0
	}
	perLine := float64(len(head)) / float64(lines)
	est := float64(size) / perLine
	return int(est + est/16 + 16)
}

// Input returns the six known values of row i, "" for absent columns.
func (s *Sheet) Input(i int) validate.Input {
	return s.input(s.Rows[i].Fields)
}

// input returns the six known values of a row whose Fields are f.
func (s *Sheet) input(f []string) validate.Input {
	get := func(c Column) string {
		if j := s.Columns[c]; j >= 0 {
			return f[j]
		}
		return ""
	}
	return validate.Input{
		CaseID:          get(ColCaseID),
		Type:            get(ColType),
		Title:           get(ColTitle),
		Note:            get(ColNote),
		FollowUpDueAt:   get(ColFollowUpDueAt),
		AssignedToEmail: get(ColAssignedToEmail),
	}
}

// Mapping describes, for the summary, which header name each known column
// was read from, one line per column found, such as `caseId <- "Case ID"`.
func (s *Sheet) Mapping() []string {
	var out []string
	for c, j := range s.Columns {
		if j >= 0 {
			out = append(out, fmt.Sprintf("%s <- %q", Column(c), s.Header[j]))
		}
	}
	return out
}
