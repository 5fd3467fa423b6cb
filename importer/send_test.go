package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// sndCall is one request a sndPoster received.
type sndCall struct {
	caseID string
	n      int      // 1 for the case's first request, 2 for its second...
	titles []string // the items' titles, in order
}

// sndPoster is a scripted Poster: answer decides each answer from the
// case, the case's request number and the items. It records every call.
type sndPoster struct {
	answer func(ctx context.Context, caseID string, n int,
		items []validate.Escalation) api.Answer

	mu    sync.Mutex
	calls []sndCall
	perID map[string]int
}

func (p *sndPoster) AddEscalations(ctx context.Context, caseID string,
	items []validate.Escalation) api.Answer {

	p.mu.Lock()
	if p.perID == nil {
		p.perID = map[string]int{}
	}
	p.perID[caseID]++
	n := p.perID[caseID]
	call := sndCall{caseID: caseID, n: n}
	for _, e := range items {
		call.titles = append(call.titles, e.Title)
	}
	p.calls = append(p.calls, call)
	p.mu.Unlock()

	return p.answer(ctx, caseID, n, items)
}

func (p *sndPoster) callsOf(caseID string) [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][]string
	for _, c := range p.calls {
		if c.caseID == caseID {
			out = append(out, c.titles)
		}
	}
	return out
}

func (p *sndPoster) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// sndScript answers a case's n-th request with answers[n-1], and Created
// (ids "id-<title>") once the script runs out.
func sndScript(answers ...api.Answer) func(context.Context, string, int,
	[]validate.Escalation) api.Answer {
	return func(_ context.Context, _ string, n int, items []validate.Escalation) api.Answer {
		if n <= len(answers) {
			a := answers[n-1]
			if a.Kind != api.ItemInvalid {
				a.Item = -1
			}
			return a
		}
		return sndCreated(items)
	}
}

// sndCreated is the answer that creates items, listing each with an id
// made from its title, in upper case to prove matching ignores case.
func sndCreated(items []validate.Escalation) api.Answer {
	a := api.Answer{Kind: api.Created, Status: 200, Item: -1}
	a.Escalations = append(a.Escalations,
		api.Item{ID: "older", Type: "clinical", Title: "Urgent"})
	for _, e := range items {
		a.Escalations = append(a.Escalations, api.Item{
			ID: "id-" + e.Title, Type: strings.ToUpper(e.Type),
			Title: strings.ToUpper(e.Title)})
	}
	return a
}

// sndEsc is a valid-looking escalation; email is optional.
func sndEsc(title string, email ...string) validate.Escalation {
	e := validate.Escalation{Type: "support", Title: title,
		Note: "NOTE-" + title + " patient private"}
	if len(email) > 0 {
		e.AssignedToEmail = email[0]
	}
	return e
}

// sndPlan builds a plan of one group per case, cases named case-1,
// case-2..., every row Pending.
func sndPlan(cases ...[]validate.Escalation) *Plan {
	p := &Plan{Sheet: &Sheet{}}
	for ci, items := range cases {
		g := Group{CaseID: fmt.Sprintf("case-%d", ci+1)}
		for _, e := range items {
			g.Rows = append(g.Rows, len(p.Outcomes))
			p.Outcomes = append(p.Outcomes, report.Outcome{Status: report.Pending})
			p.Checked = append(p.Checked, validate.Checked{CaseID: g.CaseID, Escalation: e})
			p.Sheet.Rows = append(p.Sheet.Rows, Row{Line: len(p.Outcomes) + 1})
		}
		p.Groups = append(p.Groups, g)
	}
	return p
}

// sndStatuses lists the status of each row of group gi.
func sndStatuses(p *Plan, gi int) []report.Status {
	var out []report.Status
	for _, row := range p.Groups[gi].Rows {
		out = append(out, p.Outcomes[row].Status)
	}
	return out
}

// sndClock is a fake clock. In free mode (sleeps nil) a sleep records its
// duration and moves the clock on at once. In held mode each sleep is
// handed to the test on sleeps and lasts until the test closes its done.
type sndClock struct {
	mu     sync.Mutex
	t      time.Time
	slept  []time.Duration
	sleeps chan sndSleep
}

type sndSleep struct {
	d    time.Duration
	done chan struct{}
}

func newSndClock() *sndClock { return &sndClock{t: time.Now()} }

func (c *sndClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *sndClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *sndClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.slept = append(c.slept, d)
	held := c.sleeps
	c.mu.Unlock()
	if held == nil {
		c.advance(d)
		return ctx.Err()
	}

	s := sndSleep{d: d, done: make(chan struct{})}
	select {
	case held <- s:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *sndClock) sleptFor() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// sndSender returns a Sender for tests: the fake clock, no limiter, one
// worker, backoff without jitter.
func sndSender(p Poster, clock *sndClock) *Sender {
	return &Sender{
		Client:      p,
		Workers:     1,
		Retries:     2,
		BackoffBase: time.Second,
		BackoffMax:  4 * time.Second,
		MaxWait:     time.Minute,
		Jitter:      func(d time.Duration) time.Duration { return d },
		now:         clock.now,
		sleep:       clock.sleep,
	}
}

func TestSendCreatedMatchesIDs(t *testing.T) {
	plan := sndPlan(
		[]validate.Escalation{sndEsc("Cancellation"), sndEsc("Hold  Order")},
		[]validate.Escalation{sndEsc("Missing ID")},
	)
	poster := &sndPoster{answer: func(_ context.Context, c string, _ int,
		items []validate.Escalation) api.Answer {
		a := sndCreated(items)
		if c == "case-2" {
			a.Escalations = a.Escalations[:1] // lists only an older one
		}
		return a
	}}
	s := sndSender(poster, newSndClock())

	stats, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.Equal(t, []report.Outcome{
		{Status: report.Created, EscalationID: "id-Cancellation"},
		{Status: report.Created, EscalationID: "id-Hold  Order"},
		{Status: report.Created},
	}, plan.Outcomes)
	assert.Equal(t, 2, stats.Requests)
	assert.Equal(t, [][]string{{"Cancellation", "Hold  Order"}}, poster.callsOf("case-1"))
}

func TestSendSalvage(t *testing.T) {
	const (
		cx = "Cancellation"
		ho = "Hold Order"
		mi = "Missing ID"
		rr = "Refill Request"
	)
	active := func(typ, title string) api.Answer {
		return api.Answer{Kind: api.AlreadyActive, Status: 400, Type: typ, Title: title,
			Message: "Escalation already active on this case: " + typ + " / " + title}
	}
	tests := []struct {
		name      string
		rows      []validate.Escalation
		answers   []api.Answer
		wantCalls [][]string
		want      []report.Status
		wantErr   map[int]string // row -> substring of its error
	}{
		{
			name:      "already active costs nothing",
			rows:      []validate.Escalation{sndEsc(cx), sndEsc(ho), sndEsc(mi)},
			answers:   []api.Answer{active("SUPPORT", "hold order")},
			wantCalls: [][]string{{cx, ho, mi}, {cx, mi}},
			want:      []report.Status{report.Created, report.AlreadyActive, report.Created},
		},
		{
			name:      "every item already active, one at a time",
			rows:      []validate.Escalation{sndEsc(cx), sndEsc(ho)},
			answers:   []api.Answer{active("support", cx), active("support", ho)},
			wantCalls: [][]string{{cx, ho}, {ho}},
			want:      []report.Status{report.AlreadyActive, report.AlreadyActive},
		},
		{
			name: "invalid item by index",
			rows: []validate.Escalation{sndEsc(cx), sndEsc(ho), sndEsc(mi)},
			answers: []api.Answer{{Kind: api.ItemInvalid, Status: 400, Item: 1,
				Message: "escalations.1.title, Invalid title"}},
			wantCalls: [][]string{{cx, ho, mi}, {cx, mi}},
			want:      []report.Status{report.Created, report.Failed, report.Created},
			wantErr:   map[int]string{1: "HTTP 400: escalations.1.title, Invalid title"},
		},
		{
			name: "index counts the items of the re-sent request",
			rows: []validate.Escalation{sndEsc(cx), sndEsc(ho), sndEsc(mi)},
			answers: []api.Answer{active("support", cx),
				{Kind: api.ItemInvalid, Status: 400, Item: 1, Message: "escalations.1.note, bad"}},
			wantCalls: [][]string{{cx, ho, mi}, {ho, mi}, {ho}},
			want:      []report.Status{report.AlreadyActive, report.Created, report.Failed},
		},
		{
			name: "assignee not found fails every row with that email",
			rows: []validate.Escalation{sndEsc(cx, "a@x.com"), sndEsc(ho, "b@x.com"),
				sndEsc(mi, "A@X.com"), sndEsc(rr)},
			answers: []api.Answer{{Kind: api.AssigneeNotFound, Status: 400, Email: "a@x.com",
				Message: "No assignable user found with email a@x.com for this organization"}},
			wantCalls: [][]string{{cx, ho, mi, rr}, {ho, rr}},
			want:      []report.Status{report.Failed, report.Created, report.Failed, report.Created},
			wantErr:   map[int]string{0: "a@x.com", 2: "a@x.com"},
		},
		{
			name: "duplicate fails the later copy",
			rows: []validate.Escalation{sndEsc(cx), sndEsc(ho), sndEsc(cx)},
			answers: []api.Answer{{Kind: api.DuplicateInRequest, Status: 400,
				Type: "support", Title: cx, Message: "Duplicate escalation in request: support / " + cx}},
			wantCalls: [][]string{{cx, ho, cx}, {cx, ho}},
			want:      []report.Status{report.Created, report.Created, report.Failed},
			wantErr:   map[int]string{2: "Duplicate escalation"},
		},
		{
			name:      "named item not in the request fails the request",
			rows:      []validate.Escalation{sndEsc(cx), sndEsc(ho)},
			answers:   []api.Answer{active("support", "Urgent")},
			wantCalls: [][]string{{cx, ho}},
			want:      []report.Status{report.Failed, report.Failed},
			wantErr:   map[int]string{0: "Urgent", 1: "Urgent"},
		},
		{
			name: "index out of range fails the request",
			rows: []validate.Escalation{sndEsc(cx)},
			answers: []api.Answer{{Kind: api.ItemInvalid, Status: 400, Item: 3,
				Message: "escalations.3.type, Invalid type"}},
			wantCalls: [][]string{{cx}},
			want:      []report.Status{report.Failed},
		},
		{
			name: "rejected request is not re-sent",
			rows: []validate.Escalation{sndEsc(cx), sndEsc(ho)},
			answers: []api.Answer{{Kind: api.Rejected, Status: 415,
				Message: "Content-Type must be application/json"}},
			wantCalls: [][]string{{cx, ho}},
			want:      []report.Status{report.Failed, report.Failed},
			wantErr:   map[int]string{0: "HTTP 415: Content-Type", 1: "HTTP 415: Content-Type"},
		},
		{
			name:      "case not found",
			rows:      []validate.Escalation{sndEsc(cx), sndEsc(ho)},
			answers:   []api.Answer{{Kind: api.CaseRejected, Status: 400, Message: "Case not found!"}},
			wantCalls: [][]string{{cx, ho}},
			want:      []report.Status{report.Failed, report.Failed},
			wantErr:   map[int]string{0: "HTTP 400: Case not found!", 1: "Case not found!"},
		},
		{
			name: "lost answer then already active: nothing twice",
			rows: []validate.Escalation{sndEsc(cx), sndEsc(ho)},
			answers: []api.Answer{{Kind: api.Transient, Err: io.ErrUnexpectedEOF},
				active("support", cx), active("support", ho)},
			wantCalls: [][]string{{cx, ho}, {cx, ho}, {ho}},
			want:      []report.Status{report.AlreadyActive, report.AlreadyActive},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := sndPlan(tt.rows)
			poster := &sndPoster{answer: sndScript(tt.answers...)}

			_, err := sndSender(poster, newSndClock()).Run(context.Background(), plan)

			require.NoError(t, err)
			assert.Equal(t, tt.wantCalls, poster.callsOf("case-1"))
			assert.Equal(t, tt.want, sndStatuses(plan, 0))
			for row, want := range tt.wantErr {
				assert.Contains(t, plan.Outcomes[row].Err, want, "row %d", row)
			}
			for row, o := range plan.Outcomes {
				if o.Status.Done() {
					assert.Empty(t, o.Err, "row %d is done but has an error", row)
				} else {
					assert.NotEmpty(t, o.Err, "row %d is %s without an error", row, o.Status)
				}
			}
		})
	}
}

func TestSendSplitsBigCasesInOrder(t *testing.T) {
	rows := []validate.Escalation{sndEsc("a"), sndEsc("b"), sndEsc("c"), sndEsc("d"), sndEsc("e")}
	plan := sndPlan(rows)
	poster := &sndPoster{answer: sndScript()}
	s := sndSender(poster, newSndClock())
	s.MaxPerRequest = 2

	stats, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.Equal(t, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, poster.callsOf("case-1"))
	assert.Equal(t, 3, stats.Requests)
	for i, o := range plan.Outcomes {
		assert.Equal(t, report.Outcome{Status: report.Created, EscalationID: "id-" + rows[i].Title}, o)
	}
}

func TestSendCaseRejectedFailsLaterChunksUnsent(t *testing.T) {
	plan := sndPlan([]validate.Escalation{sndEsc("a"), sndEsc("b"), sndEsc("c")})
	poster := &sndPoster{answer: sndScript(api.Answer{Kind: api.CaseRejected,
		Status: 401, Message: "Permission denied!"})}
	s := sndSender(poster, newSndClock())
	s.MaxPerRequest = 2

	_, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.Equal(t, 1, poster.count())
	for _, o := range plan.Outcomes {
		assert.Equal(t, report.Outcome{Status: report.Failed, Err: "HTTP 401: Permission denied!"}, o)
	}
}

func TestSendTransient(t *testing.T) {
	boom := api.Answer{Kind: api.Transient, Status: 503, Message: "Service Unavailable"}
	lost := api.Answer{Kind: api.Transient, Err: context.DeadlineExceeded}
	tests := []struct {
		name        string
		answers     []api.Answer
		retries     int
		want        report.Outcome
		wantSleeps  []time.Duration
		wantRetries int
	}{
		{
			name: "retries then succeeds", answers: []api.Answer{boom, lost}, retries: 2,
			want:       report.Outcome{Status: report.Created, EscalationID: "id-a"},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second}, wantRetries: 2,
		},
		{
			name: "gives up with the last answer", answers: []api.Answer{boom, boom, boom, lost}, retries: 3,
			want:       report.Outcome{Status: report.Error, Err: "no answer: context deadline exceeded"},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, wantRetries: 3,
		},
		{
			name:    "backoff stops growing at the maximum",
			answers: []api.Answer{boom, boom, boom, boom, boom}, retries: 4,
			want: report.Outcome{Status: report.Error, Err: "HTTP 503: Service Unavailable"},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second,
				4 * time.Second, 4 * time.Second},
			wantRetries: 4,
		},
		{
			name: "no retries", answers: []api.Answer{boom}, retries: 0,
			want: report.Outcome{Status: report.Error, Err: "HTTP 503: Service Unavailable"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := sndPlan([]validate.Escalation{sndEsc("a")})
			clock := newSndClock()
			s := sndSender(&sndPoster{answer: sndScript(tt.answers...)}, clock)
			s.Retries = tt.retries

			stats, err := s.Run(context.Background(), plan)

			require.NoError(t, err)
			assert.Equal(t, tt.want, plan.Outcomes[0])
			assert.Equal(t, tt.wantSleeps, clock.sleptFor())
			assert.Equal(t, tt.wantRetries, stats.Retries)
			assert.Equal(t, tt.wantRetries+1, stats.Requests)
		})
	}
}

func TestSendBackoffHasFullJitter(t *testing.T) {
	plan := sndPlan([]validate.Escalation{sndEsc("a")})
	clock := newSndClock()
	boom := api.Answer{Kind: api.Transient, Status: 500}
	s := sndSender(&sndPoster{answer: sndScript(boom, boom)}, clock)
	var asked []time.Duration
	s.Jitter = func(d time.Duration) time.Duration { asked = append(asked, d); return d / 4 }

	_, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, asked)
	assert.Equal(t, []time.Duration{time.Second / 4, time.Second / 2}, clock.sleptFor())
	for range 1000 {
		d := uniformJitter(time.Second)
		require.True(t, d >= 0 && d <= time.Second, "got %v, want within [0, 1s]", d)
	}
}

func TestSendRateLimitPausesEveryWorker(t *testing.T) {
	clock := newSndClock()
	clock.sleeps = make(chan sndSleep)
	plan := sndPlan([]validate.Escalation{sndEsc("a")}, []validate.Escalation{sndEsc("b")})

	// case-1 is told to wait 10s while case-2's first request is in flight;
	// case-2's request then fails and must wait out the same pause.
	bEntered, bRelease := make(chan struct{}), make(chan struct{})
	poster := &sndPoster{answer: func(_ context.Context, c string, n int,
		items []validate.Escalation) api.Answer {
		switch {
		case c == "case-1" && n == 1:
			<-bEntered
			return api.Answer{Kind: api.RateLimited, Status: 429, Item: -1,
				RetryAfter: 10 * time.Second}
		case c == "case-2" && n == 1:
			close(bEntered)
			<-bRelease
			return api.Answer{Kind: api.Transient, Status: 502, Item: -1}
		}
		return sndCreated(items)
	}}
	s := sndSender(poster, clock)
	s.Workers = 2
	s.Jitter = func(time.Duration) time.Duration { return 0 } // retry at once

	done := make(chan error, 1)
	var stats Stats
	go func() {
		var err error
		stats, err = s.Run(context.Background(), plan)
		done <- err
	}()

	// The worker told to wait sleeps 10s...
	first := <-clock.sleeps
	assert.Equal(t, 10*time.Second, first.d)
	// ...and so does the other one before its retry, with no request sent.
	close(bRelease)
	second := <-clock.sleeps
	assert.Equal(t, 10*time.Second, second.d)
	assert.Equal(t, 2, poster.count(), "no request may start during the pause")

	clock.advance(10 * time.Second)
	close(first.done)
	close(second.done)
	require.NoError(t, <-done)

	assert.Equal(t, []report.Status{report.Created}, sndStatuses(plan, 0))
	assert.Equal(t, []report.Status{report.Created}, sndStatuses(plan, 1))
	assert.Equal(t, Stats{Requests: 4, Retries: 2, TooMany: 1, Elapsed: stats.Elapsed}, stats)
}

func TestSendRateLimitWaits(t *testing.T) {
	limited := func(after time.Duration) api.Answer {
		return api.Answer{Kind: api.RateLimited, Status: 429, RetryAfter: after}
	}
	tests := []struct {
		name        string
		answers     []api.Answer
		maxLimited  int
		want        report.Status
		wantSleeps  []time.Duration
		wantTooMany int
	}{
		{
			name:        "retry-after honoured, capped by max wait",
			answers:     []api.Answer{limited(3 * time.Second), limited(time.Hour)},
			want:        report.Created,
			wantSleeps:  []time.Duration{3 * time.Second, time.Minute},
			wantTooMany: 2,
		},
		{
			name:        "no retry-after: backoff without jitter",
			answers:     []api.Answer{limited(0), limited(0), limited(0), limited(0)},
			want:        report.Created,
			wantSleeps:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second},
			wantTooMany: 4,
		},
		{
			name:        "a 429 that never ends gives up",
			answers:     []api.Answer{limited(0), limited(0), limited(0), limited(0)},
			maxLimited:  3,
			want:        report.Error,
			wantSleeps:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			wantTooMany: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := sndPlan([]validate.Escalation{sndEsc("a")})
			clock := newSndClock()
			s := sndSender(&sndPoster{answer: sndScript(tt.answers...)}, clock)
			s.Retries = 0 // 429s do not use the retry budget
			s.MaxRateLimited = tt.maxLimited

			stats, err := s.Run(context.Background(), plan)

			require.NoError(t, err)
			assert.Equal(t, tt.want, plan.Outcomes[0].Status, "error: %s", plan.Outcomes[0].Err)
			assert.Equal(t, tt.wantSleeps, clock.sleptFor())
			assert.Equal(t, tt.wantTooMany, stats.TooMany)
		})
	}
}

func TestSendKeyRejectedStopsTheRun(t *testing.T) {
	plan := sndPlan(
		[]validate.Escalation{sndEsc("a")},
		[]validate.Escalation{sndEsc("b"), sndEsc("c")},
		[]validate.Escalation{sndEsc("d")},
	)
	poster := &sndPoster{answer: func(_ context.Context, c string, _ int,
		items []validate.Escalation) api.Answer {
		if c == "case-2" {
			return api.Answer{Kind: api.KeyRejected, Status: 401, Item: -1, Message: "Invalid API key"}
		}
		return sndCreated(items)
	}}

	_, err := sndSender(poster, newSndClock()).Run(context.Background(), plan)

	require.ErrorIs(t, err, ErrKeyRejected)
	assert.ErrorIs(t, err, api.ErrKeyRejected)
	assert.Contains(t, err.Error(), "Invalid API key")
	assert.Equal(t, 2, poster.count(), "nothing may be sent after the key is refused")
	assert.Equal(t, []report.Status{report.Created}, sndStatuses(plan, 0))
	assert.Equal(t, []report.Status{report.Pending, report.Pending}, sndStatuses(plan, 1))
	assert.Equal(t, []report.Status{report.Pending}, sndStatuses(plan, 2))
}

func TestSendConsecutiveErrors(t *testing.T) {
	boom := api.Answer{Kind: api.Transient, Status: 503, Item: -1}
	tests := []struct {
		name      string
		pattern   string // per case: e = no usable answer, o = created
		limit     int
		wantErr   error
		wantCalls int
	}{
		{"stops after the limit", "eeeeeeee", 3, ErrSystemic, 3},
		{"default limit is 5", "eeeeeeee", 0, ErrSystemic, 5},
		{"a success resets the count", "eeoeeoee", 3, nil, 8},
		{"negative never stops", "eeeeeeee", -1, nil, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cases [][]validate.Escalation
			for i := range tt.pattern {
				cases = append(cases, []validate.Escalation{sndEsc(fmt.Sprint("t", i))})
			}
			plan := sndPlan(cases...)
			poster := &sndPoster{answer: func(_ context.Context, c string, _ int,
				items []validate.Escalation) api.Answer {
				var i int
				fmt.Sscanf(c, "case-%d", &i)
				if tt.pattern[i-1] == 'e' {
					return boom
				}
				return sndCreated(items)
			}}
			s := sndSender(poster, newSndClock())
			s.Retries = 0
			s.MaxConsecutiveErrors = tt.limit

			_, err := s.Run(context.Background(), plan)

			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCalls, poster.count())
			for gi := range plan.Groups {
				want := report.Pending
				if gi < tt.wantCalls {
					want = map[byte]report.Status{'e': report.Error, 'o': report.Created}[tt.pattern[gi]]
				}
				assert.Equal(t, []report.Status{want}, sndStatuses(plan, gi), "case %d", gi+1)
			}
		})
	}
}

func TestSendCancelLetsRequestsInFlightFinish(t *testing.T) {
	plan := sndPlan(
		[]validate.Escalation{sndEsc("a")}, []validate.Escalation{sndEsc("b")},
		[]validate.Escalation{sndEsc("c")}, []validate.Escalation{sndEsc("d")},
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered, release := make(chan struct{}, 2), make(chan struct{})
	var ctxErrs sync.Map
	poster := &sndPoster{answer: func(rctx context.Context, c string, _ int,
		items []validate.Escalation) api.Answer {
		entered <- struct{}{}
		<-release
		ctxErrs.Store(c, rctx.Err())
		return sndCreated(items)
	}}
	s := sndSender(poster, newSndClock())
	s.Workers = 2

	done := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, plan)
		done <- err
	}()
	<-entered
	<-entered
	cancel()
	close(release)
	err := <-done

	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, poster.count())
	var created, pending int
	for _, o := range plan.Outcomes {
		switch o.Status {
		case report.Created:
			created++
		case report.Pending:
			pending++
		}
	}
	assert.Equal(t, 2, created, "the answers in flight are recorded")
	assert.Equal(t, 2, pending, "the cases not started stay pending")
	ctxErrs.Range(func(k, v any) bool {
		assert.Nil(t, v, "the request of %v was cancelled with the run", k)
		return true
	})
}

func TestSendDeadline(t *testing.T) {
	two := func() *Plan {
		return sndPlan([]validate.Escalation{sndEsc("a"), sndEsc("b")},
			[]validate.Escalation{sndEsc("c")})
	}
	tests := []struct {
		name      string
		deadline  time.Duration // from the fake clock's start
		answers   []api.Answer
		wantCalls int
		want      [][]report.Status
		wantErr   error
	}{
		{
			name: "already passed: nothing starts", deadline: -time.Second, wantCalls: 0,
			wantErr: ErrDeadline,
			want:    [][]report.Status{{report.Pending, report.Pending}, {report.Pending}},
		},
		{
			name: "retry-after past the deadline is not waited for", deadline: 5 * time.Second,
			answers:   []api.Answer{{Kind: api.RateLimited, Status: 429, RetryAfter: 10 * time.Second}},
			wantCalls: 1, wantErr: ErrDeadline,
			want: [][]report.Status{{report.Pending, report.Pending}, {report.Pending}},
		},
		{
			// The first backoff (1s) fits, the second (2s) would not; the
			// next case starts before the deadline on the fake clock.
			name: "backoff past the deadline is not waited for", deadline: 1500 * time.Millisecond,
			answers:   []api.Answer{{Kind: api.Transient, Status: 500}, {Kind: api.Transient, Status: 500}},
			wantCalls: 3, wantErr: ErrDeadline,
			want: [][]report.Status{{report.Pending, report.Pending}, {report.Created}},
		},
		{
			name: "salvage within the deadline goes on", deadline: time.Hour,
			answers:   []api.Answer{{Kind: api.AlreadyActive, Status: 400, Type: "support", Title: "a"}},
			wantCalls: 3,
			want:      [][]report.Status{{report.AlreadyActive, report.Created}, {report.Created}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := two()
			clock := newSndClock()
			poster := &sndPoster{answer: func(ctx context.Context, c string, n int,
				items []validate.Escalation) api.Answer {
				if c == "case-1" {
					return sndScript(tt.answers...)(ctx, c, n, items)
				}
				return sndCreated(items)
			}}
			s := sndSender(poster, clock)
			s.Deadline = clock.now().Add(tt.deadline)

			_, err := s.Run(context.Background(), plan)

			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCalls, poster.count())
			assert.Equal(t, tt.want, [][]report.Status{sndStatuses(plan, 0), sndStatuses(plan, 1)})
		})
	}
}

func TestSendCallbacksAreSerialAndFinal(t *testing.T) {
	var cases [][]validate.Escalation
	total := 0
	for i := range 40 {
		var rows []validate.Escalation
		for j := range i%3 + 1 {
			rows = append(rows, sndEsc(fmt.Sprint("t", j)))
			total++
		}
		cases = append(cases, rows)
	}
	plan := sndPlan(cases...)
	poster := &sndPoster{answer: func(_ context.Context, c string, n int,
		items []validate.Escalation) api.Answer {
		runtime.Gosched()
		if strings.HasSuffix(c, "7") && n == 1 {
			return api.Answer{Kind: api.Transient, Status: 502, Item: -1}
		}
		return sndCreated(items)
	}}
	s := sndSender(poster, newSndClock())
	s.Workers = 4

	var inside atomic.Bool
	var seen []string
	rows := 0
	s.OnGroup = func(g Group) {
		if inside.Swap(true) {
			t.Error("OnGroup calls overlap")
		}
		defer inside.Store(false)
		for _, row := range g.Rows {
			if plan.Outcomes[row].Status != report.Created {
				t.Errorf("case %s row %d is %s when its group is reported",
					g.CaseID, row, plan.Outcomes[row].Status)
			}
		}
		seen = append(seen, g.CaseID)
		runtime.Gosched()
	}
	s.OnRows = func(n int) {
		if inside.Swap(true) {
			t.Error("OnRows overlaps a callback")
		}
		defer inside.Store(false)
		rows += n
	}

	_, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	var want []string
	for _, g := range plan.Groups {
		want = append(want, g.CaseID)
	}
	assert.ElementsMatch(t, want, seen)
	assert.Equal(t, total, rows)
}

func TestSendEveryAttemptTakesAToken(t *testing.T) {
	plan := sndPlan([]validate.Escalation{sndEsc("a"), sndEsc("b"), sndEsc("c")},
		[]validate.Escalation{sndEsc("d")})
	poster := &sndPoster{answer: func(ctx context.Context, c string, n int,
		items []validate.Escalation) api.Answer {
		if c == "case-2" {
			return sndCreated(items)
		}
		return sndScript(
			api.Answer{Kind: api.Transient, Status: 500},
			api.Answer{Kind: api.RateLimited, Status: 429, RetryAfter: time.Second},
			api.Answer{Kind: api.AlreadyActive, Status: 400, Type: "support", Title: "b"},
		)(ctx, c, n, items)
	}}
	s := sndSender(poster, newSndClock())
	// Tokens come back once an hour, so the bucket shows what was taken.
	s.Limiter = rate.NewLimiter(rate.Every(time.Hour), 100)

	stats, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.Equal(t, 5, stats.Requests)
	assert.Equal(t, 5, poster.count())
	assert.InDelta(t, 95, s.Limiter.Tokens(), 0.01)
}

func TestSendLogsNoNotes(t *testing.T) {
	plan := sndPlan([]validate.Escalation{sndEsc("a", "x@y.z"), sndEsc("b")},
		[]validate.Escalation{sndEsc("c")})
	var buf bytes.Buffer
	poster := &sndPoster{answer: sndScript(
		api.Answer{Kind: api.Transient, Status: 500, Message: "echo NOTE-a patient private"},
		api.Answer{Kind: api.RateLimited, Status: 429},
		api.Answer{Kind: api.Created}, // lists no ids: a warning names type and title
	)}
	s := sndSender(poster, newSndClock())
	s.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))

	_, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.NotContains(t, buf.String(), "NOTE-")
	assert.NotContains(t, buf.String(), "patient")
	assert.Contains(t, buf.String(), "case=case-1")
	assert.Contains(t, buf.String(), "title=a")
}

func TestSendErrorsWrapSentinels(t *testing.T) {
	assert.True(t, errors.Is(ErrKeyRejected, api.ErrKeyRejected))
	assert.Zero(t, Stats{}.Rate())
	assert.InDelta(t, 20.0, Stats{Requests: 40, Elapsed: 2 * time.Second}.Rate(), 1e-9)
}

func TestSendWindowHoldsLateStarts(t *testing.T) {
	w := newSendWindow(3)
	t0 := time.Now()
	steps := []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 0}, {10 * time.Millisecond, 0}, {20 * time.Millisecond, 0},
		{500 * time.Millisecond, 500 * time.Millisecond}, // three in the last second
		{time.Second, 0}, // the first one left the window
		{time.Second + 5*time.Millisecond, 5 * time.Millisecond},
		{time.Second + 10*time.Millisecond, 0},
	}
	for _, st := range steps {
		assert.Equal(t, st.want, w.take(t0.Add(st.at)), "at %v", st.at)
	}
	var none *sendWindow
	assert.Zero(t, none.take(t0), "no window never waits")
}
