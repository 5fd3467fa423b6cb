package fakeapi

import (
	"net/http"
	"slices"
	"time"
)

// The order in which a request meets the knobs: routing (404, 405), the
// rate limit (429, answered at once), the latency, then for a POST:
// FailNext, the key check (401), SetDown (503), the body and the case
// checks, and DropAfterApply once the request has been applied.

// SetLatency makes every routed request wait d before it is processed
// (0 = no wait). A client that goes away during the wait gets nothing
// and nothing is applied. Requests answered 429 do not wait.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Latency returns the wait set by SetLatency.
func (s *Server) Latency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// SetRateLimit limits the server to perSecond requests in fixed 1-second
// windows, each starting with the first request after the previous one
// ended. Requests past the limit answer 429 with a Retry-After header
// (see SetRetryAfter) and are not processed; they do not count. Every
// routed request counts, GET or POST. 0 (or less) turns the limit off.
// Changing it starts a new window.
func (s *Server) SetRateLimit(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ratePerSec = max(perSecond, 0)
	s.windowStart = time.Time{}
	s.windowCount = 0
}

// SetRetryAfter sets the Retry-After value of 429 answers, such as "3" or
// an HTTP date; "" restores the default "1".
func (s *Server) SetRetryAfter(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = v
}

// rateLimit counts a request in the current window and, past the limit,
// returns the 429 answer to give instead.
func (s *Server) rateLimit() (answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ratePerSec <= 0 {
		return answer{}, false
	}

	now := s.now()
	if now.Sub(s.windowStart) >= time.Second {
		s.windowStart, s.windowCount = now, 0
	}
	if s.windowCount < s.ratePerSec {
		s.windowCount++
		return answer{}, false
	}

	ans := failure(http.StatusTooManyRequests, "Too Many Requests",
		"Rate limit exceeded")
	ans.retryAfter = s.retryAfter
	if ans.retryAfter == "" {
		ans.retryAfter = "1"
	}
	return ans, true
}

// FailNext makes the next n POSTs answer status (such as 503) with a JSON
// body, without looking at them or applying anything; a status outside
// 400-599 means 503. It replaces any failures still pending; n <= 0
// cancels them.
func (s *Server) FailNext(n int, status int) {
	if status < 400 || status > 599 {
		status = http.StatusServiceUnavailable
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = max(n, 0), status
}

// takeFailure uses up one failure set by FailNext, if any is left.
func (s *Server) takeFailure() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN == 0 {
		return 0, false
	}
	s.failN--
	return s.failStatus, true
}

// DropAfterApply makes the next n POSTs that succeed be applied and then
// get no answer: the connection is closed, so the client sees an error
// although the escalations exist. n <= 0 cancels the pending drops.
func (s *Server) DropAfterApply(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropN = max(n, 0)
}

// SetDown makes POSTs for a case answer 503 without applying (down is
// true) or be served again (down is false). The key is checked first.
func (s *Server) SetDown(caseID string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if down {
		s.down[caseID] = true
	} else {
		delete(s.down, caseID)
	}
}

func (s *Server) isDown(caseID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down[caseID]
}

// SetCompleted marks the active escalation of a case with that type and
// title completed, so that it may be added again, and reports whether
// there was one.
func (s *Server) SetCompleted(caseID, typ, title string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.activeIndexLocked(caseID, typ, title)
	if i < 0 {
		return false
	}
	e := &s.escalations[caseID][i]
	e.IsCompleted = true
	e.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	return true
}

// Created returns every escalation created by a request, in order of
// creation, including those whose answer was dropped. Seeded escalations
// are not included.
func (s *Server) Created() []CreatedEscalation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// CountCreated returns how many escalations with that type and title
// requests created on a case; more than 1 means a duplicate unless one
// was completed in between.
func (s *Server) CountCreated(caseID, typ, title string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.created {
		e := c.Escalation
		if c.CaseID == caseID && e.Type == typ && e.Title == title {
			n++
		}
	}
	return n
}

// Requests returns a record of every request received, in order of
// arrival. A request still being served has Status 0 and neither Dropped
// nor Canceled set.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Active returns the active (not completed) escalations of a case, oldest
// first, as a success answer would list them.
func (s *Server) Active(caseID string) []Escalation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activeLocked(caseID)
}
