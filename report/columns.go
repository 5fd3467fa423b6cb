package report

import (
	"strings"
	"unicode"
)

// The result columns, as the results file spells them. They follow the kept
// input columns in every results file; the failures file has only ColError.
const (
	// ColLine holds the row's first line in the input, the header being
	// line 1, so it is the row number a spreadsheet shows.
	ColLine = "line"
	// ColStatus holds the row's Status.
	ColStatus = "status"
	// ColEscalationID holds the API's id for a created or resumed row.
	ColEscalationID = "escalationId"
	// ColError says, in one line, why the row is not done.
	ColError = "error"
)

// ResultColumns lists the result columns in the order they are written.
// Callers must not modify it.
var ResultColumns = []string{ColLine, ColStatus, ColEscalationID, ColError}

// IsResultColumn reports whether a header name is one of ResultColumns when
// case, spaces, '_' and '-' are ignored ("Escalation ID", "ERROR"). The
// importer drops such columns when a results or failures file is fed back
// in, so that they are replaced on write rather than doubled.
func IsResultColumn(name string) bool {
	key := FoldColumn(name)
	for _, col := range ResultColumns {
		if key == FoldColumn(col) {
			return true
		}
	}
	return false
}

// FoldColumn returns a column name as cvimport compares header names:
// lower-cased, without white space, '_' or '-', so that "Case ID",
// "case_id" and "CASE-ID" all read "caseid".
func FoldColumn(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
}
