package validate

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testCaseID = "3f2c8a1e-9b4d-4c2a-8e7f-0a1b2c3d4e5f"
	testNote   = "Patient Jane Roe, DOB 1980-02-03, asked for a refill"
)

// goodInput is a row that passes every check.
func goodInput() Input {
	return Input{
		CaseID:          testCaseID,
		Type:            "support",
		Title:           "Refill Request",
		Note:            testNote,
		FollowUpDueAt:   "2025-06-01T12:00:00.000Z",
		AssignedToEmail: "agent@example.com",
	}
}

func TestCheckGoodRows(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name    string
		checker Checker
		edit    func(*Input)
		want    Checked
	}{
		{
			name: "as the api example",
			want: Checked{CaseID: testCaseID, Escalation: Escalation{
				Type: "support", Title: "Refill Request", Note: testNote,
				FollowUpDueAt: "2025-06-01T12:00:00.000Z", AssignedToEmail: "agent@example.com",
			}},
		},
		{
			name: "normalized",
			edit: func(in *Input) {
				in.CaseID = "  " + strings.ToUpper(testCaseID) + " "
				in.Type = " External "
				in.Title = `payment received\,   MISSING cif`
				in.Note = "\n  line one\r\nline two  \n"
				in.FollowUpDueAt = " 6/1/2025 12:00 PM "
				in.AssignedToEmail = " Agent@Example.com "
			},
			checker: Checker{Location: ny},
			want: Checked{CaseID: testCaseID, Escalation: Escalation{
				Type: "external", Title: "Payment Received, Missing CIF", Note: "line one\r\nline two",
				FollowUpDueAt: "2025-06-01T16:00:00.000Z", AssignedToEmail: "Agent@Example.com",
			}},
		},
		{
			name: "optional fields empty",
			edit: func(in *Input) { in.Note, in.FollowUpDueAt, in.AssignedToEmail = " ", "", "\t" },
			want: Checked{CaseID: testCaseID,
				Escalation: Escalation{Type: "support", Title: "Refill Request"}},
		},
		{
			name:    "day-first dates",
			checker: Checker{Order: DMY},
			edit:    func(in *Input) { in.FollowUpDueAt = "6/1/2025" },
			want: Checked{CaseID: testCaseID, Escalation: Escalation{
				Type: "support", Title: "Refill Request", Note: testNote,
				FollowUpDueAt: "2025-01-06T00:00:00.000Z", AssignedToEmail: "agent@example.com",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodInput()
			if tt.edit != nil {
				tt.edit(&in)
			}
			got, problems := tt.checker.Check(in)
			require.Empty(t, problems)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCheckSingleProblems(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Input)
		field   string
		message string // the whole message, or its start when it ends in "..."
	}{
		{"case id missing", func(in *Input) { in.CaseID = "  " }, FieldCaseID,
			"is required"},
		{"case id not uuid", func(in *Input) { in.CaseID = "12345" }, FieldCaseID,
			"not a uuid (want 8-4-4-4-12 hex digits)"},
		{"type missing", func(in *Input) { in.Type = "" }, FieldType,
			"is required"},
		{"type unknown", func(in *Input) { in.Type = "billing" }, FieldType,
			`unknown type "billing" (want support, clinical or external)`},
		{"title missing", func(in *Input) { in.Title = " " }, FieldTitle,
			"is required"},
		{"title unknown", func(in *Input) { in.Title = "Refil Request" }, FieldTitle,
			`unknown title "Refil Request" for type support; ` +
				`closest: "Refill Request", "Lab request", "Price question"`},
		{"title of another type", func(in *Input) { in.Title = "Urgent" }, FieldTitle,
			`unknown title "Urgent" for type support; it is a title of type clinical`},
		{"date unreadable", func(in *Input) { in.FollowUpDueAt = "soon" }, FieldFollowUpDueAt,
			"not a date in a known form ..."},
		{"date impossible", func(in *Input) { in.FollowUpDueAt = "2/30/2025" }, FieldFollowUpDueAt,
			"day out of range"},
		{"email list", func(in *Input) { in.AssignedToEmail = "a@x.com; b@x.com" }, FieldAssignedToEmail,
			"holds more than one address; give exactly one"},
		{"email with name", func(in *Input) { in.AssignedToEmail = "A <a@x.com>" }, FieldAssignedToEmail,
			"not a plain address (no name, brackets or comment)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodInput()
			tt.edit(&in)
			got, problems := (&Checker{}).Check(in)
			assert.Equal(t, Checked{}, got)
			require.Len(t, problems, 1, "got %v", problems)
			assert.Equal(t, tt.field, problems[0].Field)
			if prefix, ok := strings.CutSuffix(tt.message, "..."); ok {
				assert.True(t, strings.HasPrefix(problems[0].Message, prefix), "got %q", problems[0].Message)
			} else {
				assert.Equal(t, tt.message, problems[0].Message)
			}
		})
	}
}

func TestCheckEveryProblemReported(t *testing.T) {
	in := Input{
		CaseID:          "not-a-case",
		Type:            "support",
		Title:           "Refund please",
		Note:            testNote,
		FollowUpDueAt:   "13/1/2025",
		AssignedToEmail: "Agent <agent@example.com>",
	}
	_, problems := (&Checker{}).Check(in)
	fields := make([]string, len(problems))
	for i, p := range problems {
		fields[i] = p.Field
	}
	assert.Equal(t, []string{FieldCaseID, FieldTitle, FieldFollowUpDueAt, FieldAssignedToEmail}, fields)

	t.Run("all required missing", func(t *testing.T) {
		_, problems := (&Checker{}).Check(Input{Note: testNote})
		assert.Equal(t, []Problem{
			{FieldCaseID, "is required"}, {FieldType, "is required"}, {FieldTitle, "is required"},
		}, problems)
	})

	t.Run("title not checked when type invalid", func(t *testing.T) {
		in := goodInput()
		in.Type, in.Title = "billing", "Nonsense"
		_, problems := (&Checker{}).Check(in)
		require.Len(t, problems, 1)
		assert.Equal(t, FieldType, problems[0].Field)
	})
}

func TestCheckNeverQuotesNote(t *testing.T) {
	// A note in every column: each problem may quote a cell, but the note's
	// own field is never quoted, and long cells are cut.
	long := strings.Repeat("Patient Jane Roe reports chest pain. ", 5)
	in := Input{CaseID: long, Type: "support", Title: long, Note: long,
		FollowUpDueAt: long, AssignedToEmail: long}
	_, problems := (&Checker{}).Check(in)
	require.Len(t, problems, 4)
	for _, p := range problems {
		assert.NotContains(t, p.Message, strings.TrimSpace(long), p.Field)
		assert.LessOrEqual(t, len(p.Message), 200, p.Field)
	}

	t.Run("problems do not depend on the note", func(t *testing.T) {
		in := Input{CaseID: "x", Type: "support", Title: "Refil", FollowUpDueAt: "2/30/2025",
			AssignedToEmail: "nope"}
		_, without := (&Checker{}).Check(in)
		in.Note = testNote
		_, with := (&Checker{}).Check(in)
		assert.Equal(t, without, with)
		for _, p := range with {
			assert.NotContains(t, p.Error(), testNote)
		}
	})
}

func TestCheckCatalog(t *testing.T) {
	custom, err := ParseCatalog(strings.NewReader("type,title\nclinical,Brand New Title\n"))
	require.NoError(t, err)

	in := goodInput()
	in.Type, in.Title = "clinical", "brand new title"
	got, problems := (&Checker{Catalog: custom}).Check(in)
	require.Empty(t, problems)
	assert.Equal(t, "Brand New Title", got.Escalation.Title)

	_, problems = (&Checker{}).Check(in)
	require.Len(t, problems, 1, "the default catalog does not have it")

	in.Type = "support"
	_, problems = (&Checker{Catalog: custom}).Check(in)
	require.Len(t, problems, 1)
	assert.Equal(t, `unknown title "brand new title" for type support; it is a title of type clinical`,
		problems[0].Message)

	in.Title = "another title"
	_, problems = (&Checker{Catalog: custom}).Check(in)
	require.Len(t, problems, 1)
	assert.Equal(t, `unknown title "another title" for type support; the catalog has no titles for it`,
		problems[0].Message)
}

func TestKeys(t *testing.T) {
	check := func(t *testing.T, c *Checker, in Input) Checked {
		t.Helper()
		got, problems := c.Check(in)
		require.Empty(t, problems)
		return got
	}
	ny := mustZone(t, "America/New_York")
	base := check(t, &Checker{}, goodInput())

	same := map[string]func(*Input){
		"upper case id":      func(in *Input) { in.CaseID = strings.ToUpper(in.CaseID) },
		"type case":          func(in *Input) { in.Type = "SUPPORT" },
		"title spelling":     func(in *Input) { in.Title = "  refill   REQUEST " },
		"note space around":  func(in *Input) { in.Note = "\n " + testNote + "  " },
		"same instant":       func(in *Input) { in.FollowUpDueAt = "2025-06-01T08:00:00-04:00" },
		"same instant sheet": func(in *Input) { in.FollowUpDueAt = "6/1/2025 12:00 PM" },
		"email case":         func(in *Input) { in.AssignedToEmail = "AGENT@example.COM" },
	}
	for name, edit := range same {
		t.Run("same/"+name, func(t *testing.T) {
			in := goodInput()
			edit(&in)
			got := check(t, &Checker{}, in)
			assert.Equal(t, base.Key(), got.Key())
			assert.Equal(t, base.DuplicateKey(), got.DuplicateKey())
		})
	}

	t.Run("same/note crlf same as lf", func(t *testing.T) {
		a, b := goodInput(), goodInput()
		a.Note, b.Note = "one\r\ntwo", "one\ntwo"
		assert.Equal(t, check(t, &Checker{}, a).Key(), check(t, &Checker{}, b).Key())
	})
	t.Run("same/date in another zone", func(t *testing.T) {
		in := goodInput()
		in.FollowUpDueAt = "2025-06-01 08:00"
		assert.Equal(t, base.Key(), check(t, &Checker{Location: ny}, in).Key())
	})

	differ := map[string]func(*Input){
		"note":       func(in *Input) { in.Note = testNote + "." },
		"no note":    func(in *Input) { in.Note = "" },
		"note inner": func(in *Input) { in.Note = strings.Replace(testNote, " ", "  ", 1) },
		"date":       func(in *Input) { in.FollowUpDueAt = "2025-06-01T12:00:01Z" },
		"no date":    func(in *Input) { in.FollowUpDueAt = "" },
		"email":      func(in *Input) { in.AssignedToEmail = "other@example.com" },
		"no email":   func(in *Input) { in.AssignedToEmail = "" },
		"title":      func(in *Input) { in.Title = "Refill not processed" },
		"type":       func(in *Input) { in.Type, in.Title = "external", "Miscellaneous" },
		"case":       func(in *Input) { in.CaseID = "00000000-0000-0000-0000-000000000000" },
	}
	for name, edit := range differ {
		t.Run("differ/"+name, func(t *testing.T) {
			in := goodInput()
			edit(&in)
			assert.NotEqual(t, base.Key(), check(t, &Checker{}, in).Key())
		})
	}

	t.Run("duplicate key ignores note, date and email", func(t *testing.T) {
		in := goodInput()
		in.Note, in.FollowUpDueAt, in.AssignedToEmail = "other", "", ""
		got := check(t, &Checker{}, in)
		assert.NotEqual(t, base.Key(), got.Key())
		assert.Equal(t, base.DuplicateKey(), got.DuplicateKey())
	})

	t.Run("separator in a note cannot forge a key", func(t *testing.T) {
		a, b := goodInput(), goodInput()
		a.Note, a.AssignedToEmail = "x", "agent@example.com"
		b.Note, b.AssignedToEmail = "x"+keySep+"agent@example.com", ""
		assert.NotEqual(t, check(t, &Checker{}, a).Key(), check(t, &Checker{}, b).Key())
		b.Note, b.AssignedToEmail = "agent@example.com"+keySep+"x", ""
		assert.NotEqual(t, check(t, &Checker{}, a).Key(), check(t, &Checker{}, b).Key())
	})
}

func TestCheckerConcurrentUse(t *testing.T) {
	c := &Checker{Location: time.UTC}
	done := make(chan Checked)
	for range 4 {
		go func() {
			got, _ := c.Check(goodInput())
			done <- got
		}()
	}
	for range 4 {
		assert.Equal(t, testCaseID, (<-done).CaseID)
	}
}

func BenchmarkCheck(b *testing.B) {
	c := &Checker{}
	in := Input{
		CaseID:          strings.ToUpper(testCaseID),
		Type:            "Support",
		Title:           "refill request",
		Note:            testNote,
		FollowUpDueAt:   "6/1/2025 12:00 PM",
		AssignedToEmail: "agent@example.com",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, problems := c.Check(in); problems != nil {
			b.Fatal(problems)
		}
	}
}
