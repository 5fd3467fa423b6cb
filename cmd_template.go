package main

import (
	"fmt"
	"io"

	"github.com/gocarina/gocsv"
)

const templateSynopsis = `Usage: cvimport template > escalations.csv

Prints a header row and a few example rows that pass every check: a starting
point for a new export. Replace the case ids with real ones before sending.

`

// templateRow is one example row. gocsv marshals it: a fixed, tiny table is
// what the library does well, and its tags keep the header next to the field.
type templateRow struct {
	CaseID          string `csv:"caseId"`
	Type            string `csv:"type"`
	Title           string `csv:"title"`
	Note            string `csv:"note"`
	FollowUpDueAt   string `csv:"followUpDueAt"`
	AssignedToEmail string `csv:"assignedToEmail"`
}

// templateRows shows each optional column filled and empty, a title with a
// comma, and the date forms a spreadsheet writes.
var templateRows = []templateRow{
	{
		CaseID:          "3f8a1c52-9b7d-4e21-a6c4-5d2e8f1b7a90",
		Type:            "support",
		Title:           "Refill Request",
		Note:            "Patient called requesting a refill.",
		FollowUpDueAt:   "2025-06-01T12:00:00.000Z",
		AssignedToEmail: "agent@example.com",
	},
	{
		CaseID:        "3f8a1c52-9b7d-4e21-a6c4-5d2e8f1b7a90",
		Type:          "clinical",
		Title:         "Ready for Review",
		FollowUpDueAt: "6/2/2025 9:30 AM",
	},
	{
		CaseID: "9c4e7b21-3d5f-4a86-b1e2-7f90c3d4a5b6",
		Type:   "external",
		Title:  "Payment Received, Missing CIF",
		Note:   "Payment posted, intake form still blank.",
	},
}

func runTemplate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("template", templateSynopsis, stderr)
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}

	if err := gocsv.Marshal(templateRows, stdout); err != nil {
		return fmt.Errorf("writing template: %w", err)
	}
	return nil
}
