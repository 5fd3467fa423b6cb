// Package report writes what happened to every input row: the results file,
// the failures file that can be fed straight back in, and the run summary.
//
// The package does not print. It writes to the io.Writer or path it is given
// and returns errors; the caller decides what a person sees.
package report

// Status is the verdict on one input row. The set is closed: every row of
// every run ends with exactly one of these.
type Status string

// The statuses, in the order the summary lists them.
const (
	// Created: the API created the escalation; the row carries its id.
	Created Status = "created"
	// AlreadyActive: the case already had an open escalation of this type
	// and title, possibly from an earlier attempt whose answer was lost.
	AlreadyActive Status = "already_active"
	// Skipped: an earlier run's results (-resume) show the row done.
	Skipped Status = "skipped"
	// Invalid: the row failed a check before sending; fix the row.
	Invalid Status = "invalid"
	// Failed: the API refused the row for a reason of the row's own
	// (unknown case, assignee not found); fix the row or the case.
	Failed Status = "failed"
	// Error: no usable answer after every retry; running again may work.
	Error Status = "error"
	// Pending: the row was valid but not sent (dry run, stopped run).
	Pending Status = "pending"
)

// Statuses lists every status in summary order.
var Statuses = []Status{
	Created, AlreadyActive, Skipped, Invalid, Failed, Error, Pending,
}

// Done reports whether the row needs no further work. Done rows are left
// out of the failures file and are skipped by a resumed run.
func (s Status) Done() bool {
	return s == Created || s == AlreadyActive || s == Skipped
}

// Retryable reports whether running again, unchanged, may finish the row.
func (s Status) Retryable() bool {
	return s == Error || s == Pending
}

// ParseStatus returns the Status spelled s, and false when s is not one.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Outcome is what happened to one row.
type Outcome struct {
	Status Status
	// EscalationID is the API's id for a created (or resumed) escalation.
	EscalationID string
	// Err says why the row is not done, in one line; empty when it is.
	Err string
}
