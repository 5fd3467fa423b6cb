package importer

// Pacing: how a request waits its turn. Every request of a run takes a
// token from the one shared limiter, honours the pause a 429 set for all
// workers, and keeps within rate + burst starts in any second; a request
// repeated after no usable answer first waits an exponential backoff.

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/carevalidate/cvimport/api"
)

// acquire waits until a request may start: no pause in force, and a token
// from the limiter. The pause is checked again after the token, and a
// token taken during a pause is dropped, so that workers released together
// by a pause still start at the limiter's pace.
func (r *sendRun) acquire() error {
	for {
		if err := r.waitPause(); err != nil {
			return err
		}
		if r.pastDeadline(r.cfg.now()) {
			return r.stopped()
		}
		if r.cfg.Limiter != nil {
			if r.cfg.Limiter.Wait(r.waitCtx) != nil {
				return r.stopped()
			}
		} else if r.waitCtx.Err() != nil {
			return r.stopped()
		}
		if err := r.waitWindow(); err != nil {
			return err
		}
		if !r.pause.until().After(r.cfg.now()) {
			return nil
		}
	}
}

// waitWindow holds a request whose limiter token came late (a starved
// goroutine, a slow timer) until the last second holds fewer than
// rate + burst request starts, so that late tokens cannot bunch up.
func (r *sendRun) waitWindow() error {
	for {
		now := r.cfg.now()
		d := r.window.take(now)
		if d <= 0 {
			return nil
		}
		if r.pastDeadline(now.Add(d)) {
			r.note(ErrDeadline)
			return errStopped
		}
		if r.cfg.sleep(r.waitCtx, d) != nil {
			return r.stopped()
		}
	}
}

// waitPause sleeps while a pause set after a 429 is in force.
func (r *sendRun) waitPause() error {
	for {
		until := r.pause.until()
		d := until.Sub(r.cfg.now())
		if d <= 0 {
			return nil
		}
		if r.pastDeadline(until) {
			r.note(ErrDeadline)
			return errStopped
		}
		if r.cfg.sleep(r.waitCtx, d) != nil {
			return r.stopped()
		}
		if r.pause.until().Equal(until) {
			return nil // not extended while we slept
		}
	}
}

// pauseAll makes every worker wait after the n-th 429 of a chunk: for
// Retry-After when given, else for the backoff without jitter (one pause
// shared by all workers needs no spreading), at most MaxWait.
func (r *sendRun) pauseAll(caseID string, retryAfter time.Duration, n int) error {
	wait := retryAfter
	if wait <= 0 {
		wait = r.backoffStep(n - 1)
	}
	wait = min(wait, r.cfg.MaxWait)
	until := r.cfg.now().Add(wait)

	// Every worker honours the pause, even when this one gives up.
	// TODO(cvimport): the limiter's rate is not lowered after a 429, so a
	// server limit below the configured rate costs one 429 and one pause
	// per burst instead of settling at the server's pace.
	r.pause.extend(until)
	if r.pastDeadline(until) {
		r.log.Info("rate limited past the deadline: leaving the case pending",
			logCase, caseID, logWait, wait)
		r.note(ErrDeadline)
		return errStopped
	}
	r.log.Info("rate limited: pausing every worker", logCase, caseID,
		logWait, wait)
	return nil
}

// backoff waits before repeating a request after its n-th transient
// failure.
func (r *sendRun) backoff(caseID string, a api.Answer, n int) error {
	wait := r.cfg.Jitter(r.backoffStep(n - 1))
	if r.pastDeadline(r.cfg.now().Add(wait)) {
		r.note(ErrDeadline)
		return errStopped
	}
	r.log.Info("no usable answer: retrying", logCase, caseID,
		logAttempt, n, logWait, wait, logStatus, a.Status)
	if wait > 0 && r.cfg.sleep(r.waitCtx, wait) != nil {
		return r.stopped()
	}
	return nil
}

// backoffStep is BackoffBase doubled n times, at most BackoffMax.
func (r *sendRun) backoffStep(n int) time.Duration {
	d := r.cfg.BackoffBase
	for range n {
		if d >= r.cfg.BackoffMax/2 {
			return r.cfg.BackoffMax
		}
		d *= 2
	}
	return min(d, r.cfg.BackoffMax)
}

// sendPause is the "not before" time every worker honours after a 429.
type sendPause struct {
	mu sync.Mutex
	t  time.Time
}

func (p *sendPause) until() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.t
}

// extend moves the pause's end to t, never earlier.
func (p *sendPause) extend(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.t) {
		p.t = t
	}
}

// sendWindow remembers when the last n requests started.
type sendWindow struct {
	mu    sync.Mutex
	times []time.Time // a ring of the last n starts
	next  int         // oldest entry once the ring is full
	n     int
}

func newSendWindow(n int) *sendWindow {
	return &sendWindow{n: n, times: make([]time.Time, 0, n)}
}

// take records a request starting at now and returns 0 when fewer than n
// started in the second before now; otherwise it records nothing and
// returns how long to wait before asking again.
func (w *sendWindow) take(now time.Time) time.Duration {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.times) < w.n {
		w.times = append(w.times, now)
		return 0
	}
	if d := w.times[w.next].Add(time.Second).Sub(now); d > 0 {
		return d
	}
	w.times[w.next] = now
	w.next = (w.next + 1) % w.n
	return 0
}

// uniformJitter returns a random duration in [0, d].
func uniformJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
