package importer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/fakeapi"
	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// These tests send over real loopback HTTP, through api.Client, to the
// fake of the API.

const (
	e2eKey   = "cvk_e2e_5b1f0d9a8c7e6f4d3b2a"
	e2eOrg   = "org-a"
	e2eOther = "org-b"

	e2eCaseOK       = "11111111-1111-4111-8111-111111111111"
	e2eCaseActive   = "22222222-2222-4222-8222-222222222222"
	e2eCaseAssignee = "33333333-3333-4333-8333-333333333333"
	e2eCaseInvalid  = "44444444-4444-4444-8444-444444444444"
	e2eCaseDup      = "55555555-5555-4555-8555-555555555555"
	e2eCaseNotFound = "66666666-6666-4666-8666-666666666666"
	e2eCaseOther    = "77777777-7777-4777-8777-777777777777"
	e2eCaseDown     = "88888888-8888-4888-8888-888888888888"
	e2eCaseMixed    = "99999999-9999-4999-8999-999999999999"
)

// e2eSeed is the fake's data: org-a owns every well-formed case but the
// not-found one and the other organisation's; one case already has an
// active Cancellation.
func e2eSeed() fakeapi.Seed {
	return fakeapi.Seed{
		Keys:       map[string]string{e2eKey: e2eOrg},
		Cases:      map[string]string{e2eCaseOther: e2eOther},
		Users:      map[string][]string{e2eOrg: {"agent@example.com"}},
		AnyCaseOrg: e2eOrg,
		NotFound:   []string{e2eCaseNotFound},
		Active: map[string][]fakeapi.Escalation{
			e2eCaseActive: {{Type: "support", Title: "Cancellation"}},
			e2eCaseMixed:  {{Type: "support", Title: "Cancellation"}},
		},
	}
}

// e2eCase is one case of an end-to-end plan.
type e2eCase struct {
	id    string
	items []validate.Escalation
}

// e2ePlan builds a plan of the given cases, rows in order.
func e2ePlan(cases ...e2eCase) *Plan {
	var items [][]validate.Escalation
	for _, c := range cases {
		items = append(items, c.items)
	}
	p := sndPlan(items...)
	for gi, c := range cases {
		p.Groups[gi].CaseID = c.id
		for _, row := range p.Groups[gi].Rows {
			p.Checked[row].CaseID = c.id
		}
	}
	return p
}

// e2eItem is an escalation with a note that must never reach a log.
func e2eItem(typ, title, email string) validate.Escalation {
	return validate.Escalation{Type: typ, Title: title, AssignedToEmail: email,
		Note:          "PRIVATE-NOTE " + title,
		FollowUpDueAt: "2025-06-01T12:00:00.000Z"}
}

// e2eSetup starts the fake on loopback and returns it with a Sender whose
// logs are checked, when the test ends, never to hold the key or a note.
func e2eSetup(t *testing.T, seed fakeapi.Seed) (*fakeapi.Server, *Sender) {
	t.Helper()
	fake := fakeapi.New(seed)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	base, err := api.ParseBaseURL(srv.URL)
	require.NoError(t, err)
	client := &api.Client{BaseURL: base, Key: e2eKey, HTTP: srv.Client(),
		UserAgent: "cvimport/e2e"}

	var mu sync.Mutex
	var logs bytes.Buffer
	w := lockedWriter{mu: &mu, w: &logs}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	logger := slog.New(slog.NewTextHandler(w, opts))
	logger.Info("client ready", "client", client)
	slog.New(slog.NewJSONHandler(w, opts)).Info("client ready", "client", client)

	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		assert.NotContains(t, logs.String(), e2eKey, "the key reached the logs")
		assert.NotContains(t, logs.String(), "PRIVATE-NOTE", "a note reached the logs")
		assert.Contains(t, logs.String(), "sending finished")
	})

	return fake, &Sender{
		Client:      client,
		Limiter:     rate.NewLimiter(rate.Inf, 1),
		Workers:     4,
		Retries:     2,
		Timeout:     5 * time.Second,
		BackoffBase: 5 * time.Millisecond,
		BackoffMax:  20 * time.Millisecond,
		MaxWait:     2 * time.Second,
		Logger:      logger,
	}
}

// lockedWriter lets the workers share one log buffer.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// e2eCheckCreated asserts that each created row carries the id the fake
// gave it and that nothing was created twice.
func e2eCheckCreated(t *testing.T, fake *fakeapi.Server, plan *Plan) {
	t.Helper()
	ids := map[string]string{}
	for _, c := range fake.Created() {
		e := c.Escalation
		ids[c.CaseID+"|"+e.Type+"|"+e.Title] = e.ID
		assert.Equal(t, 1, fake.CountCreated(c.CaseID, e.Type, e.Title),
			"%s %s / %s created more than once", c.CaseID, e.Type, e.Title)
	}
	created := 0
	for row, o := range plan.Outcomes {
		if o.Status != report.Created {
			continue
		}
		created++
		ck := plan.Checked[row]
		assert.Equal(t, ids[ck.CaseID+"|"+ck.Escalation.Type+"|"+ck.Escalation.Title],
			o.EscalationID, "row %d", row)
	}
	assert.Equal(t, len(fake.Created()), created,
		"every escalation the fake created is a created row")
}

func TestSendE2EEveryAnswer(t *testing.T) {
	fake, s := e2eSetup(t, e2eSeed())
	fake.SetDown(e2eCaseDown, true)
	plan := e2ePlan(
		e2eCase{e2eCaseOK, []validate.Escalation{
			e2eItem("support", "Hold Order", ""),
			e2eItem("external", "Payment Received, Missing CIF", "agent@example.com"),
			{Type: "clinical", Title: "Provider Review - Severe Side Effect / Reaction"}}},
		e2eCase{e2eCaseActive, []validate.Escalation{
			e2eItem("support", "Cancellation", ""), e2eItem("support", "Missing ID", "")}},
		e2eCase{e2eCaseAssignee, []validate.Escalation{
			e2eItem("support", "Missing ID", "nobody@example.com"),
			e2eItem("support", "Refill Request", "AGENT@example.com")}},
		e2eCase{e2eCaseInvalid, []validate.Escalation{
			e2eItem("support", "Hold Order", ""), e2eItem("support", "Not A Title", "")}},
		e2eCase{e2eCaseDup, []validate.Escalation{
			e2eItem("support", "Hold Order", ""), e2eItem("support", "Hold Order", "")}},
		e2eCase{e2eCaseNotFound, []validate.Escalation{e2eItem("support", "Hold Order", "")}},
		e2eCase{e2eCaseOther, []validate.Escalation{e2eItem("support", "Hold Order", "")}},
		e2eCase{e2eCaseDown, []validate.Escalation{e2eItem("support", "Hold Order", "")}},
	)

	stats, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	want := []struct {
		status report.Status
		err    string
	}{
		{report.Created, ""}, {report.Created, ""}, {report.Created, ""},
		{report.AlreadyActive, ""}, {report.Created, ""},
		{report.Failed, "HTTP 400: No assignable user found with email nobody@example.com"},
		{report.Created, ""},
		{report.Created, ""}, {report.Failed, `HTTP 400: escalations.1.title, Invalid title "Not A Title"`},
		{report.Created, ""}, {report.Failed, "HTTP 400: Duplicate escalation in request: support / Hold Order"},
		{report.Failed, "HTTP 400: Case not found!"},
		{report.Failed, "HTTP 401: Permission denied!"},
		{report.Error, "HTTP 503: "},
	}
	require.Len(t, plan.Outcomes, len(want))
	for row, w := range want {
		o := plan.Outcomes[row]
		assert.Equal(t, w.status, o.Status, "row %d: %s", row, o.Err)
		if w.err == "" {
			assert.Empty(t, o.Err, "row %d", row)
		} else {
			assert.True(t, strings.HasPrefix(o.Err, w.err), "row %d: got %q, want %q...", row, o.Err, w.err)
		}
		assert.NotContains(t, o.Err, e2eKey)
	}
	e2eCheckCreated(t, fake, plan)
	assert.Len(t, fake.Active(e2eCaseOK), 3)
	assert.Equal(t, len(fake.Requests()), stats.Requests)
	assert.Equal(t, 2, stats.Retries, "the down case is retried twice")
}

func TestSendE2EPartialSalvage(t *testing.T) {
	fake, s := e2eSetup(t, e2eSeed())
	plan := e2ePlan(e2eCase{e2eCaseMixed, []validate.Escalation{
		e2eItem("support", "Cancellation", ""),                // already active
		e2eItem("support", "Missing ID", "ghost@example.com"), // no such assignee
		e2eItem("support", "Bogus", ""),                       // refused by validation
		e2eItem("support", "Hold Order", "agent@example.com"),
		e2eItem("clinical", "Urgent", ""),
	}})

	stats, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.Equal(t, []report.Status{report.AlreadyActive, report.Failed, report.Failed,
		report.Created, report.Created}, sndStatuses(plan, 0))
	e2eCheckCreated(t, fake, plan)
	assert.Len(t, fake.Created(), 2)
	// One request per item at fault, then the one that succeeds.
	assert.Equal(t, 4, stats.Requests)
	var items []int
	for _, r := range fake.Requests() {
		items = append(items, r.Items)
	}
	assert.Equal(t, []int{5, 4, 3, 2}, items)
}

func TestSendE2ERateLimitStorm(t *testing.T) {
	fake, s := e2eSetup(t, e2eSeed())
	fake.SetRateLimit(8)
	fake.SetRetryAfter("1")
	var cases []e2eCase
	for i := range 16 {
		id := fmt.Sprintf("%08x-1111-4111-8111-111111111111", i+1)
		cases = append(cases, e2eCase{id, []validate.Escalation{e2eItem("support", "Hold Order", "")}})
	}
	plan := e2ePlan(cases...)
	s.Limiter = rate.NewLimiter(40, 4) // far faster than the fake allows
	s.Workers = 8

	stats, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	for row, o := range plan.Outcomes {
		assert.Equal(t, report.Created, o.Status, "row %d: %s", row, o.Err)
	}
	e2eCheckCreated(t, fake, plan)
	assert.Positive(t, stats.TooMany, "the storm was not reproduced")
	var got429 int
	for _, r := range fake.Requests() {
		if r.Status == 429 {
			got429++
		}
	}
	assert.Equal(t, got429, stats.TooMany)
	assert.Equal(t, 16+stats.TooMany, stats.Requests)
}

func TestSendE2EServerErrorsThenSuccess(t *testing.T) {
	fake, s := e2eSetup(t, e2eSeed())
	fake.FailNext(2, 503)
	s.Workers = 1
	plan := e2ePlan(e2eCase{e2eCaseOK, []validate.Escalation{
		e2eItem("support", "Hold Order", ""), e2eItem("support", "Missing ID", "")}})

	stats, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	assert.Equal(t, []report.Status{report.Created, report.Created}, sndStatuses(plan, 0))
	e2eCheckCreated(t, fake, plan)
	assert.Equal(t, Stats{Requests: 3, Retries: 2, Elapsed: stats.Elapsed}, stats)
}

func TestSendE2ELostAnswerCreatesNothingTwice(t *testing.T) {
	fake, s := e2eSetup(t, e2eSeed())
	fake.DropAfterApply(2)
	plan := e2ePlan(
		e2eCase{e2eCaseOK, []validate.Escalation{
			e2eItem("support", "Hold Order", ""), e2eItem("support", "Missing ID", "")}},
		e2eCase{e2eCaseAssignee, []validate.Escalation{e2eItem("clinical", "Urgent", "")}},
		e2eCase{e2eCaseDup, []validate.Escalation{e2eItem("support", "Refill Request", "")}},
	)

	_, err := s.Run(context.Background(), plan)

	require.NoError(t, err)
	dropped := 0
	for _, r := range fake.Requests() {
		if r.Dropped {
			dropped++
		}
	}
	assert.Equal(t, 2, dropped)
	for row, o := range plan.Outcomes {
		ck := plan.Checked[row]
		assert.Contains(t, []report.Status{report.Created, report.AlreadyActive}, o.Status,
			"row %d: %s", row, o.Err)
		assert.Equal(t, 1, fake.CountCreated(ck.CaseID, ck.Escalation.Type, ck.Escalation.Title),
			"row %d", row)
	}
	assert.Len(t, fake.Created(), 4)
}

func TestSendE2EKeyRejectedMidRun(t *testing.T) {
	fake, s := e2eSetup(t, e2eSeed())
	s.Workers = 1
	s.OnGroup = func(g Group) {
		if g.CaseID == e2eCaseOK {
			fake.FailNext(1, 401) // the key stops working after the first case
		}
	}
	plan := e2ePlan(
		e2eCase{e2eCaseOK, []validate.Escalation{e2eItem("support", "Hold Order", "")}},
		e2eCase{e2eCaseActive, []validate.Escalation{e2eItem("support", "Missing ID", "")}},
		e2eCase{e2eCaseDup, []validate.Escalation{e2eItem("support", "Missing ID", "")}},
	)

	stats, err := s.Run(context.Background(), plan)

	require.ErrorIs(t, err, ErrKeyRejected)
	assert.NotContains(t, err.Error(), e2eKey)
	assert.Equal(t, []report.Status{report.Created}, sndStatuses(plan, 0))
	assert.Equal(t, []report.Status{report.Pending}, sndStatuses(plan, 1))
	assert.Equal(t, []report.Status{report.Pending}, sndStatuses(plan, 2))
	assert.Equal(t, 2, stats.Requests)
	assert.Len(t, fake.Requests(), 2)
}

func TestSendE2EWrongKeyStopsAtOnce(t *testing.T) {
	_, s := e2eSetup(t, e2eSeed())
	s.Client.(*api.Client).Key = "cvk_wrong_" + e2eKey[:4]
	plan := e2ePlan(
		e2eCase{e2eCaseOK, []validate.Escalation{e2eItem("support", "Hold Order", "")}},
		e2eCase{e2eCaseDup, []validate.Escalation{e2eItem("support", "Hold Order", "")}},
	)
	s.Workers = 1

	_, err := s.Run(context.Background(), plan)

	require.ErrorIs(t, err, ErrKeyRejected)
	assert.Contains(t, err.Error(), "Invalid API key")
	assert.ErrorIs(t, s.Client.(*api.Client).CheckKey(context.Background()), api.ErrKeyRejected)
	for _, o := range plan.Outcomes {
		assert.Equal(t, report.Pending, o.Status)
	}
}
