package api

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzClassify feeds arbitrary answers to classify: it must never panic,
// and what it returns must keep its promises whatever the body.
func FuzzClassify(f *testing.F) {
	f.Add(200, `{"success":true,"data":{"escalations":[{"id":"1","type":"support","title":"x"}]}}`, "")
	f.Add(400, `{"success":false,"error":"Escalation already active on this case: support / A / B"}`, "")
	f.Add(400, `{"code":"VALIDATION_ERROR","error":"escalations.7.title, bad"}`, "")
	f.Add(400, `{"error":"No assignable user found with email  for this organization"}`, "")
	f.Add(429, `Too Many`, "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(401, `{"error":"Permission denied!"}`, "")
	f.Add(502, "<html>\x00\xff</html>", "-1")

	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body, retry string) {
		h := http.Header{}
		h.Set("Retry-After", retry)

		a := classify(status, h, []byte(body), now)

		if a.Status != status {
			t.Errorf("got status %d, want %d", a.Status, status)
		}
		if a.Kind < Transient || a.Kind > Rejected {
			t.Errorf("got kind %d, out of range", a.Kind)
		}
		if (a.Item >= 0) != (a.Kind == ItemInvalid) {
			t.Errorf("got item %d for kind %v", a.Item, a.Kind)
		}
		if a.RetryAfter < 0 || (a.RetryAfter > 0 && a.Kind != RateLimited) {
			t.Errorf("got retry after %v for kind %v", a.RetryAfter, a.Kind)
		}
		if strings.ContainsAny(a.Message, "\r\n\t") || !utf8.ValidString(a.Message) {
			t.Errorf("message is not one valid line: %q", a.Message)
		}
		if n := utf8.RuneCountInString(a.Message); n > maxMessage+3 {
			t.Errorf("message has %d characters, want at most %d", n, maxMessage+3)
		}
		if status >= 500 && a.Kind != Transient {
			t.Errorf("got %v for %d, want transient", a.Kind, status)
		}
	})
}
