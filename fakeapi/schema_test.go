package fakeapi

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzCheckBody checks that any body gets a verdict without panicking:
// either items that all passed, or one problem in "path, message" form.
func FuzzCheckBody(f *testing.F) {
	f.Add(addBody(docItem))
	f.Add(addBody(`{"type":"support","title":"Cancellation","x":1}`))
	f.Add(`{"action":"ADD_ESCALATION","escalations":[]}`)
	f.Add(`{"action":"ADD_ESCALATION","escalations":[1,"a",null,{}]}`)
	f.Add(`{"a":1,"a":2}`)
	f.Add(`[]`)
	f.Add(`"x"`)
	s := New(testSeed())

	f.Fuzz(func(t *testing.T, body string) {
		if !validJSON([]byte(body)) {
			return
		}
		items, count, p := s.checkBody([]byte(body))
		if p != nil {
			if items != nil {
				t.Fatalf("got items %v with problem %q", items, p)
			}
			if p.path == "" || p.msg == "" {
				t.Fatalf("got problem %q, want a path and a message", p)
			}
			return
		}
		if len(items) == 0 || len(items) != count {
			t.Fatalf("got %d items for %d in the body", len(items), count)
		}
		for i, it := range items {
			if !s.titleSet[it.Type][it.Title] {
				t.Fatalf("item %d: got %q / %q, not in the catalogue",
					i, it.Type, it.Title)
			}
		}
		if !strings.Contains(body, strconv.Quote(items[0].Type)[1:]) {
			t.Fatalf("got type %q not in the body", items[0].Type)
		}
	})
}
