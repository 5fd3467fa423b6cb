package importer

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// TestSummarySplitsEveryFieldsProblem keeps report's list of field names,
// which it cannot import from validate, in step with validate's: a problem
// of any field, after another in the same error cell, is its own reason.
func TestSummarySplitsEveryFieldsProblem(t *testing.T) {
	fields := []string{validate.FieldCaseID, validate.FieldType,
		validate.FieldTitle, validate.FieldNote, validate.FieldFollowUpDueAt,
		validate.FieldAssignedToEmail}
	for _, field := range fields {
		t.Run(field, func(t *testing.T) {
			first := validate.Problem{Field: validate.FieldType, Message: "first"}
			second := validate.Problem{Field: field, Message: "second"}
			rec := report.Record{Line: 2, Outcome: report.Outcome{
				Status: report.Invalid,
				Err:    first.Error() + "; " + second.Error(),
			}}

			got := report.TopReasons(func(yield func(report.Record) bool) {
				yield(rec)
			}, 0)
			assert.Len(t, got, 2, "%+v", got)
		})
	}
}
