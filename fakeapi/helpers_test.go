package fakeapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test organisations, keys and cases.
const (
	orgA = "org-a"
	orgB = "org-b"

	keyA = "test-key-org-a-5f1c0d"
	keyB = "test-key-org-b-9d2e77"

	caseA      = "0b7c6a52-1d2e-4f30-9a8b-7c6d5e4f3a21" // orgA, empty
	caseActive = "1c8d7b63-2e3f-4a41-8b9c-8d7e6f5a4b32" // orgA, Cancellation
	caseB      = "2d9e8c74-3f40-4b52-9cad-9e8f7a6b5c43" // orgB
	caseGone   = "3eaf9d85-4051-4c63-8dbe-af9a8b7c6d54" // nowhere

	seededID = "seed-cancellation"
)

// epoch is the test clock's start, the time of the document's example.
var epoch = time.Date(2025, 5, 12, 10, 0, 0, 0, time.UTC)

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testSeed is two organisations with a case each, one case with an active
// escalation, and assignable users in orgA.
func testSeed() Seed {
	return Seed{
		Keys:  map[string]string{keyA: orgA, keyB: orgB},
		Cases: map[string]string{caseA: orgA, caseActive: orgA, caseB: orgB},
		Users: map[string][]string{
			orgA: {"agent@example.com", "Nurse.Jones@example.com"},
			orgB: {"other@example.com"},
		},
		Active: map[string][]Escalation{caseActive: {{
			ID:        seededID,
			Type:      "support",
			Title:     "Cancellation",
			CreatedAt: epoch.Add(-24 * time.Hour),
		}}},
	}
}

// serve starts seed on a loopback httptest server with a test clock.
func serve(t *testing.T, seed Seed) (*Server, string, *testClock) {
	t.Helper()
	s := New(seed)
	clock := &testClock{t: epoch}
	s.now = clock.Now
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL, clock
}

// reply is what a client got.
type reply struct {
	status int
	header http.Header
	body   string
}

// call sends one request; hdr holds headers, body may be empty.
func call(
	t *testing.T, method, url string, hdr map[string]string, body string,
) reply {
	t.Helper()
	resp, err := send(context.Background(), method, url, hdr, body)
	require.NoError(t, err)
	return resp
}

// send is call without the test: for goroutines and expected errors.
func send(
	ctx context.Context, method, url string, hdr map[string]string, body string,
) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{}, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{resp.StatusCode, resp.Header, string(b)}, nil
}

// jsonHeaders are the headers of a correct request with key.
func jsonHeaders(key string) map[string]string {
	return map[string]string{
		HeaderAPIKey:   key,
		"Content-Type": "application/json",
		"User-Agent":   "cvimport-test/1.0",
	}
}

// postCase sends a correct POST to a case.
func postCase(t *testing.T, base, key, caseID, body string) reply {
	t.Helper()
	return call(t, http.MethodPost, base+casesPath+"/"+caseID,
		jsonHeaders(key), body)
}

// addBody is an ADD_ESCALATION body holding the given items.
func addBody(items ...string) string {
	return `{"action":"ADD_ESCALATION","escalations":[` +
		strings.Join(items, ",") + `]}`
}

// newID matches the ids the server makes.
var newID = regexp.MustCompile(
	`"id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`)

// withIDs replaces the new ids of an answer with "ID".
func withIDs(body string) string {
	return newID.ReplaceAllString(body, `"id":"ID"`)
}
