package validate

import (
	"fmt"
	"strings"
)

// suggestions is how many titles an unknown-title problem proposes.
const suggestions = 3

// keySep joins the parts of Key and DuplicateKey. No case id, type, title
// (ParseCatalog refuses control characters), formatted date or address
// (net/mail refuses control characters) can hold it; a note can, which is
// why the note comes last in Key.
const keySep = "\x1f"

// Check checks every field of one row and returns the row as it will be
// sent, or every problem found. Values are trimmed of surrounding space
// before they are checked and sent. caseId, type and title are required;
// the title is looked up only when the type is valid. No problem message
// holds any part of the note.
func (c *Checker) Check(in Input) (Checked, []Problem) {
	cat := c.Catalog
	if cat == nil {
		cat = Default()
	}
	var out Checked
	var problems []Problem
	report := func(field, msg string) {
		problems = append(problems, Problem{Field: field, Message: msg})
	}

	// caseId: a UUID, sent lower-case.
	if v := strings.TrimSpace(in.CaseID); v == "" {
		report(FieldCaseID, "is required")
	} else if id, err := ParseCaseID(v); err != nil {
		report(FieldCaseID, err.Error())
	} else {
		out.CaseID = id
	}

	// type, then title within the type.
	typ := strings.TrimSpace(in.Type)
	title := strings.TrimSpace(in.Title)
	typeOK := false
	if typ == "" {
		report(FieldType, "is required")
	} else if t, ok := ParseType(typ); !ok {
		report(FieldType, fmt.Sprintf(
			"unknown type %s (want support, clinical or external)", quoteCell(typ)))
	} else {
		out.Escalation.Type, typeOK = t, true
	}
	if title == "" {
		report(FieldTitle, "is required")
	} else if typeOK {
		if canonical, ok := cat.Lookup(out.Escalation.Type, title); ok {
			out.Escalation.Title = canonical
		} else {
			report(FieldTitle, unknownTitle(cat, out.Escalation.Type, title))
		}
	}

	// note: free text, never checked and never quoted.
	out.Escalation.Note = strings.TrimSpace(in.Note)

	// followUpDueAt: optional, sent as UTC.
	if v := strings.TrimSpace(in.FollowUpDueAt); v != "" {
		if t, err := ParseDate(v, c.Location, c.Order); err != nil {
			report(FieldFollowUpDueAt, err.Error())
		} else {
			out.Escalation.FollowUpDueAt = FormatDate(t)
		}
	}

	// assignedToEmail: optional, one plain address.
	if v := strings.TrimSpace(in.AssignedToEmail); v != "" {
		if addr, err := ParseEmail(v); err != nil {
			report(FieldAssignedToEmail, err.Error())
		} else {
			out.Escalation.AssignedToEmail = addr
		}
	}

	if len(problems) > 0 {
		return Checked{}, problems
	}
	return out, nil
}

// unknownTitle is the message for a title typ does not have, with the
// closest titles of that type.
func unknownTitle(cat *Catalog, typ, title string) string {
	msg := fmt.Sprintf("unknown title %s for type %s", quoteCell(title), typ)
	if others := typesWithTitle(cat, title); len(others) > 0 {
		return msg + "; it is a title of type " + strings.Join(others, " and ")
	}
	near := cat.Suggest(typ, title, suggestions)
	if len(near) == 0 {
		return msg + "; the catalog has no titles for it"
	}
	quoted := make([]string, len(near))
	for i, s := range near {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return msg + "; closest: " + strings.Join(quoted, ", ")
}

// typesWithTitle returns the types whose catalog holds title, for a row
// that names a title under the wrong type.
func typesWithTitle(cat *Catalog, title string) []string {
	var types []string
	for _, typ := range cat.Types() {
		if _, ok := cat.Lookup(typ, title); ok {
			types = append(types, typ)
		}
	}
	return types
}

// Key returns the row's identity for resuming: two rows that would send the
// same escalation to the same case have the same Key. It is built from the
// normalized case id, type, title, follow-up date and lower-cased address,
// and the note with CRLF read as LF. The result is opaque: compare it, do
// not parse it.
func (c Checked) Key() string {
	e := c.Escalation
	note := strings.ReplaceAll(strings.TrimSpace(e.Note), "\r\n", "\n")
	return strings.Join([]string{
		c.CaseID, e.Type, e.Title, e.FollowUpDueAt,
		strings.ToLower(e.AssignedToEmail), note,
	}, keySep)
}

// DuplicateKey returns the API's identity of an escalation on a case: case
// id, type and title ignoring case. The API refuses a second escalation
// with the same DuplicateKey in one request, or while one is active.
//
// Case is ignored without lower-casing anything: Check returns the
// catalog's canonical title, and a catalog never holds two titles of a
// type that differ only in case (ParseCatalog refuses them), so one title
// in any spelling gives one key. Compare keys of Checked values from Check.
func (c Checked) DuplicateKey() string {
	e := c.Escalation
	return c.CaseID + keySep + e.Type + keySep + e.Title
}
