package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// Poster sends the items of one case in one request and classifies the
// answer. *api.Client is a Poster; tests use fakes.
type Poster interface {
	AddEscalations(ctx context.Context, caseID string,
		items []validate.Escalation) api.Answer
}

// The reasons Sender.Run stops before every group was attempted. Rows not
// sent stay Pending: running again finishes them.
var (
	// ErrKeyRejected: the API refused the key during the run. It wraps
	// api.ErrKeyRejected.
	ErrKeyRejected = fmt.Errorf("sending stopped: %w", api.ErrKeyRejected)
	// ErrSystemic: Sender.MaxConsecutiveErrors cases in a row ended with
	// rows in error; the API or the network is failing as a whole.
	ErrSystemic = errors.New(
		"sending stopped: too many cases in a row ended in error")
	// ErrDeadline: Sender.Deadline passed, or a wait would have passed it.
	ErrDeadline = errors.New("sending stopped: deadline reached")
)

// Defaults applied by Sender.Run to zero fields.
const (
	DefaultTimeout              = 30 * time.Second
	DefaultMaxWait              = time.Minute
	DefaultBackoffBase          = 500 * time.Millisecond
	DefaultBackoffMax           = 30 * time.Second
	DefaultMaxRateLimited       = 20
	DefaultMaxConsecutiveErrors = 5
)

// Log keys used by the Sender.
const (
	logCase     = "case"
	logItems    = "items"
	logKind     = "kind"
	logStatus   = "http_status"
	logAttempt  = "attempt"
	logWait     = "wait"
	logErr      = "err"
	logType     = "type"
	logTitle    = "title"
	logCount    = "count"
	logCreated  = "created"
	logActive   = "already_active"
	logFailed   = "failed"
	logErrors   = "error"
	logPending  = "pending"
	logRequests = "requests"
	logRetries  = "retries"
	logTooMany  = "too_many"
	logElapsed  = "elapsed"
)

// Stats counts what a run sent.
type Stats struct {
	// Requests is every request posted, first attempts, retries and
	// salvage re-sends alike.
	Requests int
	// Retries counts requests that repeated an earlier one after no usable
	// answer or a 429.
	Retries int
	// TooMany counts 429 answers.
	TooMany int
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
}

// Rate returns the achieved requests per second, 0 for an empty run.
func (s Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// Sender sends the groups of a Plan to the API and records an outcome for
// every row it finishes. Set its fields, then call Run once; a Sender is
// not meant for two runs at the same time. Zero fields take the defaults
// named beside them.
type Sender struct {
	// Client posts requests; usually an *api.Client.
	Client Poster
	// Limiter paces every request of the run, shared by all workers: first
	// attempts, retries and salvage re-sends each take a token. Nil means
	// no limit.
	Limiter *rate.Limiter
	// Workers is how many requests may be in flight at once (default 1).
	Workers int
	// Retries is how many times one request is repeated after no usable
	// answer (5xx, timeout, lost connection) before its rows end `error`.
	// The budget is per request chunk and is not reset by salvage. 429s
	// do not use it; they have MaxRateLimited.
	Retries int
	// MaxPerRequest caps the items of one request; a case with more rows
	// is sent as several requests of at most this many, in input order.
	// 0 sends every case in one request.
	MaxPerRequest int
	// MaxWait is the longest pause honoured after a 429; a longer
	// Retry-After is cut to it (default DefaultMaxWait).
	MaxWait time.Duration
	// Timeout bounds each request, from the moment it leaves the limiter
	// and the pause (default DefaultTimeout).
	Timeout time.Duration
	// BackoffBase and BackoffMax shape the wait before repeating a request:
	// BackoffBase doubled per earlier attempt, at most BackoffMax, with
	// full jitter for transient failures (defaults DefaultBackoffBase and
	// DefaultBackoffMax).
	BackoffBase, BackoffMax time.Duration
	// MaxRateLimited is how many 429s one request chunk may meet before
	// its rows end `error`, so that a 429 that never ends cannot hold the
	// run forever (default DefaultMaxRateLimited).
	MaxRateLimited int
	// MaxConsecutiveErrors stops the run with ErrSystemic when that many
	// cases in a row, in order of completion, end with rows in `error`
	// (default DefaultMaxConsecutiveErrors; negative: never).
	MaxConsecutiveErrors int
	// Deadline, when set, is the last moment a case may start. A pause or
	// backoff that would end after it is not waited for: that case's
	// unsent rows stay Pending. No request at all starts after it.
	Deadline time.Time
	// Logger receives what happens, by case id and counts, never notes;
	// nil discards.
	Logger *slog.Logger
	// OnGroup, if set, is called once for every group that was started,
	// after its rows' outcomes are final (some may still be Pending if the
	// run stopped), so that the caller can journal them. Calls never
	// overlap.
	OnGroup func(g Group)
	// OnRows, if set, is told how many rows a finished group settled
	// (any status but Pending), for progress. Calls never overlap.
	OnRows func(n int)
	// Jitter returns a random duration in [0, d]; nil is uniform. Tests
	// replace it to make backoff predictable.
	Jitter func(d time.Duration) time.Duration

	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// Run sends every group of plan and writes each row's outcome into
// plan.Outcomes. Workers take groups in plan order; a group's rows are
// only written by the worker sending it.
//
// Cancelling ctx stops taking new work: requests in flight are finished
// (bounded by Timeout) and recorded, and the rows not yet sent stay
// Pending. Run returns why it stopped early: an error wrapping
// ErrKeyRejected, ErrSystemic or ErrDeadline, or ctx.Err(); nil when every
// group was attempted.
func (s *Sender) Run(ctx context.Context, plan *Plan) (Stats, error) {
	start := time.Now()
	r := s.newRun(ctx, plan)
	defer r.cancel()

	// Feed the groups to the workers in order.
	work := make(chan int)
	go func() {
		defer close(work)
		for i := range plan.Groups {
			select {
			case work <- i:
			case <-r.stopCtx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() {
			for gi := range work {
				r.startGroup(gi)
			}
		})
	}
	wg.Wait()

	stats := Stats{
		Requests: int(r.requests.Load()),
		Retries:  int(r.retries.Load()),
		TooMany:  int(r.tooMany.Load()),
		Elapsed:  time.Since(start),
	}
	err := r.result()
	r.log.Info("sending finished", logRequests, stats.Requests,
		logRetries, stats.Retries, logTooMany, stats.TooMany,
		logElapsed, stats.Elapsed.Round(time.Millisecond), logErr, err)
	return stats, err
}

// sendRun is the state of one Run.
type sendRun struct {
	cfg  Sender // a copy with defaults applied
	plan *Plan
	log  *slog.Logger

	ctx     context.Context // the caller's: values, and cancellation
	stopCtx context.Context // done when the run must take no new work
	waitCtx context.Context // stopCtx bounded by the deadline, for waits
	stop    context.CancelFunc
	cancel  func()

	pause  sendPause
	window *sendWindow // nil without a finite limiter

	requests, retries, tooMany atomic.Int64
	started                    atomic.Int64 // groups started

	mu          sync.Mutex // serializes OnGroup, OnRows and the fields below
	reason      error      // why the run stopped early; first one wins
	consecutive int        // cases in a row ending in error
}

// newRun applies the defaults and sets up the contexts of one run.
func (s *Sender) newRun(ctx context.Context, plan *Plan) *sendRun {
	cfg := *s
	cfg.Workers = max(cfg.Workers, 1)
	cfg.Retries = max(cfg.Retries, 0)
	cfg.MaxPerRequest = max(cfg.MaxPerRequest, 0)
	cfg.MaxWait = orDefault(cfg.MaxWait, DefaultMaxWait)
	cfg.Timeout = orDefault(cfg.Timeout, DefaultTimeout)
	cfg.BackoffBase = orDefault(cfg.BackoffBase, DefaultBackoffBase)
	cfg.BackoffMax = max(orDefault(cfg.BackoffMax, DefaultBackoffMax),
		cfg.BackoffBase)
	if cfg.MaxRateLimited <= 0 {
		cfg.MaxRateLimited = DefaultMaxRateLimited
	}
	if cfg.MaxConsecutiveErrors == 0 {
		cfg.MaxConsecutiveErrors = DefaultMaxConsecutiveErrors
	}
	if cfg.Jitter == nil {
		cfg.Jitter = uniformJitter
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.sleep == nil {
		cfg.sleep = sleepCtx
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	r := &sendRun{cfg: cfg, plan: plan, log: log, ctx: ctx}
	if l := cfg.Limiter; l != nil && l.Limit() != rate.Inf {
		r.window = newSendWindow(int(l.Limit()) + max(l.Burst(), 1))
	}
	var cancelWait context.CancelFunc
	r.stopCtx, r.stop = context.WithCancel(ctx)
	r.waitCtx, cancelWait = r.stopCtx, func() {}
	if !cfg.Deadline.IsZero() {
		r.waitCtx, cancelWait = context.WithDeadline(r.stopCtx, cfg.Deadline)
	}
	r.cancel = func() { cancelWait(); r.stop() }
	return r
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// errStopped tells a caller inside a group that the run takes no more
// work; the reason is already noted.
var errStopped = errors.New("run stopped")

// note records why the run stopped early, keeping the first reason.
func (r *sendRun) note(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reason == nil {
		r.reason = err
	}
}

// halt notes err and makes every worker stop taking work.
func (r *sendRun) halt(err error) {
	r.note(err)
	r.stop()
}

// stopped explains a failed wait (on waitCtx) and returns errStopped.
func (r *sendRun) stopped() error {
	switch {
	case r.ctx.Err() != nil:
		r.note(r.ctx.Err())
	case r.stopCtx.Err() != nil:
		// halt noted the reason.
	default:
		r.note(ErrDeadline)
	}
	return errStopped
}

// result is the error Run returns. Groups the feeder never handed out
// were left because the run was cancelled, if no other reason was noted.
func (r *sendRun) result() error {
	if int(r.started.Load()) < len(r.plan.Groups) && r.ctx.Err() != nil {
		r.note(r.ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// pastDeadline reports whether t is after the run's deadline.
func (r *sendRun) pastDeadline(t time.Time) bool {
	return !r.cfg.Deadline.IsZero() && t.After(r.cfg.Deadline)
}

// startGroup sends one group, unless the run stopped or the deadline
// passed, and then settles it.
func (r *sendRun) startGroup(gi int) {
	if r.stopCtx.Err() != nil {
		r.stopped()
		return
	}
	if !r.cfg.Deadline.IsZero() && !r.cfg.now().Before(r.cfg.Deadline) {
		r.note(ErrDeadline)
		return
	}

	r.started.Add(1)
	g := r.plan.Groups[gi]
	r.sendGroup(g)
	r.finishGroup(g)
}

// sendGroup sends a group's rows in chunks of at most MaxPerRequest.
func (r *sendRun) sendGroup(g Group) {
	size := r.cfg.MaxPerRequest
	if size == 0 {
		size = len(g.Rows)
	}
	for chunk := range slices.Chunk(g.Rows, max(size, 1)) {
		switch res := r.sendChunk(g.CaseID, chunk); res.next {
		case chunkStop:
			return
		case chunkCaseRejected:
			// What the API said of the case holds for its other chunks.
			for _, row := range g.Rows {
				if r.plan.Outcomes[row].Status == report.Pending {
					r.set(row, report.Failed, "", res.why)
				}
			}
			return
		}
	}
}

// chunkNext is what sendChunk tells sendGroup to do next.
type chunkNext int

const (
	chunkNextChunk    chunkNext = iota // go on with the next chunk
	chunkCaseRejected                  // fail the rest of the group: why
	chunkStop                          // stop: leave the rest pending
)

type chunkResult struct {
	next chunkNext
	why  string
}

// sendChunk sends rows of case caseID in one request and acts on the
// answer, until every row is settled or the run stops: items the answer
// names are settled and the rest sent again; a request with no usable
// answer is repeated.
func (r *sendRun) sendChunk(caseID string, rows []int) chunkResult {
	rest := slices.Clone(rows) // rows not yet settled
	transient, limited := 0, 0

	for len(rest) > 0 {
		if err := r.acquire(); err != nil {
			return chunkResult{next: chunkStop}
		}
		a := r.post(caseID, rest)
		r.log.Debug("request answered", logCase, caseID, logItems, len(rest),
			logKind, a.Kind, logStatus, a.Status)

		switch a.Kind {
		case api.Created:
			r.recordCreated(caseID, rest, a.Escalations)
			rest = nil

		case api.AlreadyActive, api.DuplicateInRequest,
			api.AssigneeNotFound, api.ItemInvalid:
			named := r.named(rest, a)
			if len(named) == 0 {
				// The answer names nothing we sent: trust none of it.
				r.setAll(rest, report.Failed, a.Describe())
				rest = nil
				break
			}
			for _, row := range named {
				if a.Kind == api.AlreadyActive {
					r.set(row, report.AlreadyActive, "", "")
				} else {
					r.set(row, report.Failed, "", a.Describe())
				}
			}
			rest = slices.DeleteFunc(rest, func(row int) bool {
				return slices.Contains(named, row)
			})

		case api.CaseRejected:
			r.setAll(rest, report.Failed, a.Describe())
			return chunkResult{next: chunkCaseRejected, why: a.Describe()}

		case api.KeyRejected:
			r.log.Error("api key rejected: stopping the run", logCase, caseID,
				logStatus, a.Status)
			r.halt(fmt.Errorf("%w: %s", ErrKeyRejected, a.Describe()))
			return chunkResult{next: chunkStop}

		case api.RateLimited:
			r.tooMany.Add(1)
			limited++
			if limited > r.cfg.MaxRateLimited {
				r.giveUp(caseID, rest, a, fmt.Sprintf(
					"rate limited %d times: %s", limited, a.Describe()))
				rest = nil
				break
			}
			if err := r.pauseAll(caseID, a.RetryAfter, limited); err != nil {
				return chunkResult{next: chunkStop}
			}
			r.retries.Add(1)

		case api.Transient:
			transient++
			if transient > r.cfg.Retries {
				r.giveUp(caseID, rest, a, a.Describe())
				rest = nil
				break
			}
			if err := r.backoff(caseID, a, transient); err != nil {
				return chunkResult{next: chunkStop}
			}
			r.retries.Add(1)

		default: // api.Rejected and anything unknown: not worth repeating
			r.setAll(rest, report.Failed, a.Describe())
			rest = nil
		}
	}
	return chunkResult{next: chunkNextChunk}
}

// giveUp settles rows as `error` once a request has used its retries.
func (r *sendRun) giveUp(caseID string, rows []int, a api.Answer, why string) {
	r.log.Warn("no usable answer after retries", logCase, caseID,
		logItems, len(rows), logKind, a.Kind, logStatus, a.Status)
	r.setAll(rows, report.Error, why)
}

// post sends rows in one request. The request does not stop when the run
// is cancelled: only Timeout ends it, so that its answer is recorded.
func (r *sendRun) post(caseID string, rows []int) api.Answer {
	items := make([]validate.Escalation, len(rows))
	for i, row := range rows {
		items[i] = r.plan.Checked[row].Escalation
	}
	r.requests.Add(1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx),
		r.cfg.Timeout)
	defer cancel()
	return r.cfg.Client.AddEscalations(ctx, caseID, items)
}

// recordCreated settles rows as created, each with the id of the listed
// escalation of the same type and title.
func (r *sendRun) recordCreated(caseID string, rows []int, list []api.Item) {
	for _, row := range rows {
		e := r.plan.Checked[row].Escalation
		id := ""
		for _, it := range list {
			// The list is oldest first; the newest match is ours.
			if it.ID != "" && sameItem(it.Type, it.Title, e) {
				id = it.ID
			}
		}
		if id == "" {
			// TODO(cvimport): the answer listed no id for a row it created,
			// so the results show an empty escalationId; reading the case's
			// escalations back would find it, but the API document
			// describes no such read.
			r.log.Warn("created, but the answer lists no id for it",
				logCase, caseID, logType, e.Type, logTitle, e.Title)
		}
		r.set(row, report.Created, id, "")
	}
}

// named returns the rows of rest that answer a names: the item already
// active, the later copy of a duplicate, every item assigned to an unknown
// email, or the item at the index a validation error gives.
func (r *sendRun) named(rest []int, a api.Answer) []int {
	var out []int
	switch a.Kind {
	case api.ItemInvalid:
		if a.Item >= 0 && a.Item < len(rest) {
			out = append(out, rest[a.Item])
		}
	case api.AssigneeNotFound:
		for _, row := range rest {
			email := r.plan.Checked[row].Escalation.AssignedToEmail
			if a.Email != "" && strings.EqualFold(email, a.Email) {
				out = append(out, row)
			}
		}
	case api.AlreadyActive, api.DuplicateInRequest:
		for _, row := range rest {
			if sameItem(a.Type, a.Title, r.plan.Checked[row].Escalation) {
				out = append(out, row)
			}
		}
		if a.Kind == api.DuplicateInRequest && len(out) > 1 {
			out = out[1:2] // the first copy may go ahead
		} else if len(out) > 1 {
			out = out[:1]
		}
	}
	return out
}

// sameItem reports whether typ and title, as an answer spells them, name
// escalation e: titles compare as the catalog matches them.
func sameItem(typ, title string, e validate.Escalation) bool {
	return strings.EqualFold(strings.TrimSpace(typ), e.Type) &&
		validate.SameTitle(title, e.Title)
}

// set records one row's outcome.
func (r *sendRun) set(row int, st report.Status, id, why string) {
	r.plan.Outcomes[row] = report.Outcome{Status: st, EscalationID: id, Err: why}
}

func (r *sendRun) setAll(rows []int, st report.Status, why string) {
	for _, row := range rows {
		r.set(row, st, "", why)
	}
}

// finishGroup counts a started group's outcomes, trips the breaker after
// too many cases in a row in error, and tells the callbacks, one group at
// a time.
func (r *sendRun) finishGroup(g Group) {
	counts := map[report.Status]int{}
	for _, row := range g.Rows {
		counts[r.plan.Outcomes[row].Status]++
	}
	settled := len(g.Rows) - counts[report.Pending]
	r.log.Debug("case done", logCase, g.CaseID,
		logCreated, counts[report.Created], logActive, counts[report.AlreadyActive],
		logFailed, counts[report.Failed], logErrors, counts[report.Error],
		logPending, counts[report.Pending])

	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case counts[report.Error] > 0:
		r.consecutive++
	case settled > 0:
		r.consecutive = 0
	}
	limit := r.cfg.MaxConsecutiveErrors
	if limit > 0 && r.consecutive >= limit && r.stopCtx.Err() == nil {
		r.log.Error("cases in a row ended in error: stopping the run",
			logCount, r.consecutive)
		if r.reason == nil {
			r.reason = ErrSystemic
		}
		r.stop()
	}

	if r.cfg.OnGroup != nil {
		r.cfg.OnGroup(g)
	}
	if r.cfg.OnRows != nil && settled > 0 {
		r.cfg.OnRows(settled)
	}
}
