package fakeapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const refillItem = `{"type":"support","title":"Refill Request"}`

func TestLatency(t *testing.T) {
	s, base, _ := serve(t, testSeed())
	s.SetLatency(5 * time.Second)

	// A client that gives up during the wait gets nothing, and nothing
	// is applied. It gives up once the server has the request.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := send(ctx, http.MethodPost, base+casesPath+"/"+caseA,
			jsonHeaders(keyA), addBody(refillItem))
		errc <- err
	}()
	require.Eventually(t, func() bool { return len(s.Requests()) == 1 },
		time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	require.Eventually(t, func() bool { return s.Requests()[0].Canceled },
		time.Second, time.Millisecond, "the server must see the client go")
	assert.Empty(t, s.Created())
	assert.Equal(t, 0, s.Requests()[0].Status)

	// A patient client is answered.
	s.SetLatency(10 * time.Millisecond)
	got := postCase(t, base, keyA, caseA, addBody(refillItem))
	assert.Equal(t, 200, got.status, got.body)
	assert.Equal(t, 1, s.CountCreated(caseA, "support", "Refill Request"))
	assert.Equal(t, 10*time.Millisecond, s.Latency())
}

func TestRateLimit(t *testing.T) {
	s, base, clock := serve(t, testSeed())
	s.SetRateLimit(2)
	tooMany := failed(429, "Too Many Requests", "Rate limit exceeded")
	items := []string{
		refillItem,
		`{"type":"support","title":"Cancellation"}`,
		`{"type":"support","title":"Hold Order"}`,
		`{"type":"support","title":"Missing ID"}`,
	}

	// Two per window pass; the third is refused unseen.
	for _, it := range items[:2] {
		got := postCase(t, base, keyA, caseA, addBody(it))
		require.Equal(t, 200, got.status, got.body)
	}
	got := postCase(t, base, keyA, caseA, addBody(items[2]))
	assert.Equal(t, 429, got.status)
	assert.Equal(t, "1", got.header.Get("Retry-After"))
	assert.JSONEq(t, tooMany, got.body)
	assert.Len(t, s.Created(), 2)

	// The key check counts too.
	keyCheck := base + casesPath +
		"?from=2025-05-12T09:59:00Z&to=2025-05-12T10:00:00Z&page=1&pageSize=1"
	got = call(t, http.MethodGet, keyCheck, jsonHeaders(keyA), "")
	assert.Equal(t, 429, got.status)

	// An overridden Retry-After, such as an HTTP date.
	date := "Mon, 12 May 2025 10:00:05 GMT"
	s.SetRetryAfter(date)
	got = postCase(t, base, keyA, caseA, addBody(items[2]))
	assert.Equal(t, 429, got.status)
	assert.Equal(t, date, got.header.Get("Retry-After"))

	// A new window lets requests through again.
	clock.Add(time.Second)
	got = postCase(t, base, keyA, caseA, addBody(items[2]))
	assert.Equal(t, 200, got.status, got.body)

	// Off.
	s.SetRateLimit(0)
	s.SetRetryAfter("")
	for range 3 {
		got = call(t, http.MethodGet, keyCheck, jsonHeaders(keyA), "")
		assert.Equal(t, 200, got.status)
	}
	assert.Len(t, s.Created(), 3)
}

func TestFailNext(t *testing.T) {
	s, base, _ := serve(t, testSeed())
	s.FailNext(2, http.StatusServiceUnavailable)

	for i := range 2 {
		got := postCase(t, base, keyA, caseA, addBody(refillItem))
		assert.Equal(t, 503, got.status, "request %d", i)
		assert.JSONEq(t, failed(503, "Service Unavailable",
			"Service Unavailable"), got.body)
	}
	assert.Empty(t, s.Created())

	got := postCase(t, base, keyA, caseA, addBody(refillItem))
	assert.Equal(t, 200, got.status, got.body)
	assert.Len(t, s.Created(), 1)

	// Other statuses, and cancelling.
	s.FailNext(1, http.StatusBadGateway)
	got = postCase(t, base, keyA, caseB, addBody(refillItem))
	assert.Equal(t, 502, got.status)
	s.FailNext(5, http.StatusInternalServerError)
	s.FailNext(0, 0)
	got = postCase(t, base, keyB, caseB, addBody(refillItem))
	assert.Equal(t, 200, got.status, got.body)

	// A status that is not an error means 503.
	s.FailNext(1, http.StatusOK)
	got = postCase(t, base, keyB, caseB, addBody(refillItem))
	assert.Equal(t, 503, got.status, got.body)
}

func TestDropAfterApply(t *testing.T) {
	s, base, _ := serve(t, testSeed())
	s.DropAfterApply(1)

	_, err := send(context.Background(), http.MethodPost,
		base+casesPath+"/"+caseA, jsonHeaders(keyA), addBody(refillItem))
	require.Error(t, err, "the client must see the dropped connection")
	assert.Equal(t, 1, s.CountCreated(caseA, "support", "Refill Request"))
	recs := s.Requests()
	require.Len(t, recs, 1)
	assert.True(t, recs[0].Dropped)
	assert.Equal(t, 0, recs[0].Status)

	// The retry learns that the first attempt was applied.
	got := postCase(t, base, keyA, caseA, addBody(refillItem))
	assert.Equal(t, 400, got.status)
	assert.JSONEq(t, invalidRequest("Escalation already active on this "+
		"case: support / Refill Request"), got.body)
	assert.Equal(t, 1, s.CountCreated(caseA, "support", "Refill Request"))

	// Failed requests do not use up a drop.
	s.DropAfterApply(1)
	got = postCase(t, base, keyA, caseB, addBody(refillItem))
	assert.Equal(t, 401, got.status)
	_, err = send(context.Background(), http.MethodPost,
		base+casesPath+"/"+caseB, jsonHeaders(keyB), addBody(refillItem))
	require.Error(t, err)
	assert.Equal(t, 1, s.CountCreated(caseB, "support", "Refill Request"))
}

func TestSetDown(t *testing.T) {
	seed := testSeed()
	seed.Down = []string{caseB}
	s, base, _ := serve(t, seed)
	unavailable := failed(503, "Service Unavailable", "Case service unavailable")

	got := postCase(t, base, keyB, caseB, addBody(refillItem))
	assert.Equal(t, 503, got.status)
	assert.JSONEq(t, unavailable, got.body)

	s.SetDown(caseA, true)
	got = postCase(t, base, keyA, caseA, addBody(refillItem))
	assert.Equal(t, 503, got.status)
	assert.JSONEq(t, unavailable, got.body)
	assert.Empty(t, s.Created())

	// The key is still checked first.
	got = postCase(t, base, "not-a-key", caseA, addBody(refillItem))
	assert.Equal(t, 401, got.status)

	s.SetDown(caseA, false)
	got = postCase(t, base, keyA, caseA, addBody(refillItem))
	assert.Equal(t, 200, got.status, got.body)
}

func TestSetCompleted(t *testing.T) {
	s, base, clock := serve(t, testSeed())
	cancel := `{"type":"support","title":"Cancellation"}`

	got := postCase(t, base, keyA, caseActive, addBody(cancel))
	require.Equal(t, 400, got.status, got.body)

	clock.Add(time.Minute)
	require.True(t, s.SetCompleted(caseActive, "support", "Cancellation"))
	assert.False(t, s.SetCompleted(caseActive, "support", "Cancellation"))
	assert.Empty(t, s.Active(caseActive))

	got = postCase(t, base, keyA, caseActive, addBody(cancel))
	require.Equal(t, 200, got.status, got.body)
	active := s.Active(caseActive)
	require.Len(t, active, 1)
	assert.NotEqual(t, seededID, active[0].ID)
	assert.JSONEq(t, succeeded(`{"id":"ID","type":"support",`+
		`"title":"Cancellation","note":null,"followUpDueAt":null,`+
		`"assignedToUserId":null,"isCompleted":false,`+
		`"createdAt":"2025-05-12T10:01:00.000Z",`+
		`"updatedAt":"2025-05-12T10:01:00.000Z"}`), withIDs(got.body))
	assert.Equal(t, 1, s.CountCreated(caseActive, "support", "Cancellation"))
}

func TestConcurrentPosts(t *testing.T) {
	seed := testSeed()
	seed.AnyCaseOrg = orgA
	s, base, _ := serve(t, seed)
	const n = 24

	var wg sync.WaitGroup
	statuses := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			caseID := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			got, err := send(context.Background(), http.MethodPost,
				base+casesPath+"/"+caseID, jsonHeaders(keyA),
				addBody(refillItem, `{"type":"clinical","title":"Urgent"}`))
			statuses[i], errs[i] = got.status, err
		})
	}
	// Knobs and inspection while serving.
	wg.Go(func() {
		for range n {
			s.SetLatency(0)
			s.SetRateLimit(0)
			_ = s.Requests()
			_ = s.Created()
		}
	})
	wg.Wait()

	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, 200, statuses[i], "case %d", i)
	}
	assert.Len(t, s.Created(), 2*n)
	assert.Len(t, s.Requests(), n)
	for i := range n {
		caseID := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		assert.Len(t, s.Active(caseID), 2)
	}
}

func TestConcurrentPostsToOneCaseCreateOnce(t *testing.T) {
	s, base, _ := serve(t, testSeed())
	const n = 8

	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Go(func() {
			got, err := send(context.Background(), http.MethodPost,
				base+casesPath+"/"+caseA, jsonHeaders(keyA), addBody(refillItem))
			if assert.NoError(t, err) {
				statuses <- got.status
			}
		})
	}
	wg.Wait()
	close(statuses)

	counts := map[int]int{}
	for st := range statuses {
		counts[st]++
	}
	assert.Equal(t, map[int]int{200: 1, 400: n - 1}, counts)
	assert.Equal(t, 1, s.CountCreated(caseA, "support", "Refill Request"))
}

func TestStart(t *testing.T) {
	s := New(testSeed())
	base, stop, err := s.Start()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)

	got := postCase(t, base, keyA, caseA, addBody(refillItem))
	assert.Equal(t, 200, got.status, got.body)

	stop()
	_, err = send(context.Background(), http.MethodPost,
		base+casesPath+"/"+caseA, jsonHeaders(keyA), addBody(refillItem))
	assert.Error(t, err, "the server must be stopped")
}

func TestSandbox(t *testing.T) {
	s, key := Sandbox()
	s2, key2 := Sandbox()
	assert.NotEqual(t, key, key2, "keys are random per call")
	assert.NotSame(t, s, s2)

	ts := serveHandler(t, s)
	item := func(title, email string) string {
		return `{"type":"support","title":"` + title +
			`","assignedToEmail":"` + email + `"}`
	}
	tests := []struct {
		name       string
		caseID     string
		body       string
		wantStatus int
		wantError  string
	}{
		{"any case of the demo org", "5b2c9e10-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
			addBody(item("Cancellation", "agent@example.com"),
				item("Hold Order", "nurse.jones@example.com"),
				item("Missing ID", "j.smith@example.com")), 200, ""},
		{"unknown assignee", "5b2c9e10-1a2b-4c3d-9e8f-0a1b2c3d4e60",
			addBody(item("Cancellation", "x@example.com")), 400,
			"No assignable user found with email x@example.com for this organization"},
		{"not found", SandboxCaseNotFound, addBody(refillItem), 400,
			"Case not found!"},
		{"another organisation", SandboxCaseOtherOrg, addBody(refillItem), 401,
			"Permission denied!"},
		{"down", SandboxCaseDown, addBody(refillItem), 503,
			"Case service unavailable"},
		{"already active", SandboxCaseActive, addBody(refillItem), 400,
			"Escalation already active on this case: support / Refill Request"},
		{"other rows of the active case", SandboxCaseActive,
			addBody(item("Cancellation", "agent@example.com")), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := postCase(t, ts, key, tt.caseID, tt.body)
			assert.Equal(t, tt.wantStatus, got.status, got.body)
			if tt.wantError != "" {
				assert.Contains(t, got.body, `"error":`+js(tt.wantError))
			}
		})
	}

	got := postCase(t, ts, key2, SandboxCaseActive, addBody(refillItem))
	assert.Equal(t, 401, got.status, "another sandbox's key is unknown")
}

// serveHandler serves s on loopback with Start until the test ends.
func serveHandler(t *testing.T, s *Server) string {
	t.Helper()
	base, stop, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(stop)
	return base
}
