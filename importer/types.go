// Package importer turns a spreadsheet export into escalations on cases: it
// reads the file into a Sheet, checks every row into a Plan grouped by case,
// and sends each group to the API under a rate limit.
//
// The package does not print; progress and problems go to the *slog.Logger
// and callbacks it is given, and to the outcomes it records on the Plan.
package importer

import (
	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// Column is one of the columns the importer understands.
type Column int

// The known columns. Their header spellings are the API's field names;
// the file may write them in any case, with spaces, '_' or '-'.
const (
	ColCaseID Column = iota
	ColType
	ColTitle
	ColNote
	ColFollowUpDueAt
	ColAssignedToEmail
	numColumns
)

// Row is one data row of the input file.
type Row struct {
	// Line is the row's first physical line in the file, the header being
	// line 1, so it is the row number a spreadsheet shows.
	Line int
	// Fields holds the row's values for Sheet.Header, byte for byte, padded
	// with empty strings when the row is short.
	Fields []string
	// Extra holds values past the header's width; a row with any is ragged.
	Extra []string
	// Short is true when the row had fewer fields than the header.
	Short bool
	// NumFields is the number of fields the record had in the file, result
	// columns included; it differs from Sheet.Width only for ragged rows.
	// (int32 fills Short's padding, so a Row stays 64 bytes.)
	NumFields int32
}

// Sheet is a whole input file, read and mapped but not yet checked.
type Sheet struct {
	Path string
	// Header lists the kept column names as written in the file. Result
	// columns (line, status, escalationId, error) are dropped on read.
	Header []string
	// Columns maps each known column to its index in Header, or -1.
	Columns [numColumns]int
	// Width is the number of fields of the header record in the file,
	// result columns included.
	Width int
	// Delimiter is the field separator, given or detected.
	Delimiter rune
	// BOM is true when the file started with a UTF-8 byte-order mark.
	BOM  bool
	Rows []Row
}

// Group is the rows of one case that will be sent, in input order.
type Group struct {
	CaseID string
	Rows   []int // indexes into Sheet.Rows and Plan.Outcomes
}

// Plan is the verdict on every row before sending, and the work to do.
type Plan struct {
	Sheet *Sheet
	// Outcomes has one entry per row of Sheet.Rows. Building the plan sets
	// each to Invalid, Skipped or Pending; sending replaces Pending ones.
	Outcomes []report.Outcome
	// Checked has one entry per row; it is the zero value for invalid rows.
	Checked []validate.Checked
	// Groups lists one group per case with pending rows, in order of the
	// case's first appearance.
	Groups []Group
}
