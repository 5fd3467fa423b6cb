// Package validate decides whether one spreadsheet row is an escalation the
// API will accept, and puts it in the form the API wants: lower-case case
// UUID, canonical type and title, UTC follow-up date.
//
// It knows nothing of files or the network; callers hand it the six values
// of a row and get back either a normalized escalation or every problem.
package validate

import "time"

// Escalation is one item of an ADD_ESCALATION request, normalized. Its JSON
// form is exactly the API's item: optional fields are omitted when empty.
type Escalation struct {
	Type            string `json:"type"`
	Title           string `json:"title"`
	Note            string `json:"note,omitempty"`
	FollowUpDueAt   string `json:"followUpDueAt,omitempty"`
	AssignedToEmail string `json:"assignedToEmail,omitempty"`
}

// Input holds the raw cell values of one row, as read from the file.
type Input struct {
	CaseID          string
	Type            string
	Title           string
	Note            string
	FollowUpDueAt   string
	AssignedToEmail string
}

// Field names used in Problem.Field; they are the API's own spellings, so
// that a person can find them in the file's header and in API errors.
const (
	FieldCaseID          = "caseId"
	FieldType            = "type"
	FieldTitle           = "title"
	FieldNote            = "note"
	FieldFollowUpDueAt   = "followUpDueAt"
	FieldAssignedToEmail = "assignedToEmail"
)

// Problem is one reason a row cannot be sent.
type Problem struct {
	Field   string // one of the Field constants
	Message string // lower-case, no trailing period, no patient data
}

// Error returns "field: message".
func (p Problem) Error() string { return p.Field + ": " + p.Message }

// DateOrder says how to read an ambiguous numeric date such as 6/1/2025.
type DateOrder int

const (
	// MDY reads 6/1/2025 as June 1 (the default: US spreadsheets).
	MDY DateOrder = iota
	// DMY reads 6/1/2025 as 6 January.
	DMY
)

// Checked is a row that passed every check, in the form it will be sent.
type Checked struct {
	CaseID     string // lower-case UUID
	Escalation Escalation
}

// Checker checks rows against a title catalog. A zero Location means UTC.
// A Checker is safe for concurrent use once built.
type Checker struct {
	Catalog  *Catalog
	Location *time.Location // zone for dates written without an offset
	Order    DateOrder
}
