package validate

import (
	"net/mail"
	"strings"
	"testing"
	"time"
)

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"2025-06-01T12:00:00.000Z", "2025-06-01T08:00:00-04:00", "2025-06-01",
		"2025-06-01 12:00", "2025-06-01T12:00:59", "6/1/2025", "6/1/2025 3:04 PM",
		"13/1/2025 23:59:59", "3/9/2025 2:30 AM", "2/30/2025", "", "12:00 PM",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, s string, dmy bool) {
		order := MDY
		if dmy {
			order = DMY
		}
		got, err := ParseDate(s, ny, order)
		if err != nil {
			if strings.ContainsAny(err.Error()[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				t.Errorf("error %q starts upper-case", err)
			}
			return
		}

		// What is sent must read back as the same instant, to the
		// millisecond, whatever the zone and order.
		sent := FormatDate(got)
		back, err := ParseDate(sent, time.UTC, MDY)
		if err != nil {
			t.Fatalf("ParseDate(%q) = %v; sent form %q does not read back: %v",
				s, got, sent, err)
		}
		if want := got.Truncate(time.Millisecond); !back.Equal(want) {
			t.Fatalf("ParseDate(%q): sent %q reads back as %v, want %v", s, sent, back, want)
		}
		if again := FormatDate(back); again != sent {
			t.Fatalf("FormatDate not stable: %q then %q", sent, again)
		}
	})
}

func FuzzCheck(f *testing.F) {
	f.Add(testCaseID, "support", "Refill Request", testNote, "6/1/2025 12:00 PM", "agent@example.com")
	f.Add(strings.ToUpper(testCaseID), " CLINICAL ", "urgent", "", "", "")
	f.Add("", "", "", "a note without the rest", "", "")
	f.Add("x", "external", `Payment Received\, Missing CIF`, "note", "2/30/2025", "A <a@x.com>")
	f.Add(testNote, testNote, testNote, testNote, testNote, testNote)

	c := &Checker{}
	f.Fuzz(func(t *testing.T, caseID, typ, title, note, due, email string) {
		in := Input{caseID, typ, title, note, due, email}
		got, problems := c.Check(in)

		// Exactly one of: a checked row, or at least one problem.
		if len(problems) == 0 {
			if got.CaseID == "" || got.Escalation.Type == "" || got.Escalation.Title == "" {
				t.Fatalf("no problems but incomplete result %+v", got)
			}
		} else if got != (Checked{}) {
			t.Fatalf("problems %v with a result %+v", problems, got)
		}

		// The note never changes the problems, so no message can hold it.
		// This is stronger than searching messages for the note, which would
		// also trip on notes that happen to match a suggested title.
		in.Note = ""
		_, without := c.Check(in)
		if len(without) != len(problems) {
			t.Fatalf("problems depend on the note: %v vs %v", problems, without)
		}
		for i := range problems {
			if problems[i] != without[i] {
				t.Fatalf("problems depend on the note: %v vs %v", problems, without)
			}
		}
	})
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"agent@example.com", "a.b+c@x-y.example.org", "A <a@x.com>", ".a@x.com",
		"a..b@x.com", "a@x", "a@-x.com", `"a b"@x.com`, "a@[127.0.0.1]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The fast path must never accept what net/mail would refuse.
		if !isSimpleAddress(s) {
			return
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			t.Fatalf("isSimpleAddress(%q) but net/mail says %v, %+v", s, err, a)
		}
	})
}
