package fakeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/carevalidate/cvimport/validate"
)

// HeaderAPIKey is the request header that carries the API key.
const HeaderAPIKey = "cv-api-key"

// casesPath is the collection path; a case is casesPath + "/" + caseId.
const casesPath = "/api/v1/cases"

// maxBody bounds a request body; a larger one answers 413.
const maxBody = 1 << 20

// Seed is the data a Server starts with. New copies it, so the caller may
// reuse or change it afterwards. All fields are optional.
type Seed struct {
	// Keys maps an API key to the organisation it belongs to.
	Keys map[string]string
	// Cases maps a lower-case case UUID to its organisation.
	Cases map[string]string
	// Users maps an organisation to the emails of the CVTPA users that may
	// be assigned its escalations. Emails match ignoring case.
	Users map[string][]string
	// Active holds escalations already on a case before the run. Missing
	// ids are filled with random UUIDs and zero times with New's time; an
	// escalation with IsCompleted set is kept but is not active.
	Active map[string][]Escalation
	// AnyCaseOrg, when not empty, makes every well-formed lower-case case
	// UUID that is neither in Cases nor in NotFound a case of this
	// organisation, so that any generated sample finds its cases.
	AnyCaseOrg string
	// NotFound lists case ids that never exist, even with AnyCaseOrg.
	NotFound []string
	// Down lists cases whose POSTs answer 503 without applying, as if
	// SetDown(id, true) had been called for each.
	Down []string
	// Titles maps each type to its valid titles, matched exactly. Nil
	// means the catalogue of validate.Default().
	Titles map[string][]string
}

// Server is a fake of the Care360 cases API; it implements http.Handler
// and is safe for concurrent use. Create it with New.
type Server struct {
	// Read-only after New.
	titles   map[string][]string
	titleSet map[string]map[string]bool
	types    []string // the valid types, in the order errors list them
	now      func() time.Time

	mu          sync.Mutex
	keys        map[string]string          // API key -> organisation
	cases       map[string]string          // case id -> organisation
	users       map[string]map[string]bool // organisation -> lower email
	notFound    map[string]bool            // case ids that never exist
	anyCaseOrg  string                     // owner of unseeded UUIDs
	escalations map[string][]Escalation    // case -> all, created order
	created     []CreatedEscalation        // every creation by a request
	requests    []RequestRecord            // every request, arrival order

	// Knobs; see knobs.go.
	latency     time.Duration
	ratePerSec  int
	windowStart time.Time
	windowCount int
	retryAfter  string
	failN       int
	failStatus  int
	dropN       int
	down        map[string]bool
}

// New returns a Server holding a copy of seed.
func New(seed Seed) *Server {
	s := &Server{
		now:         time.Now,
		keys:        map[string]string{},
		cases:       map[string]string{},
		users:       map[string]map[string]bool{},
		notFound:    map[string]bool{},
		anyCaseOrg:  seed.AnyCaseOrg,
		escalations: map[string][]Escalation{},
		down:        map[string]bool{},
	}
	s.setTitles(seed.Titles)

	for k, org := range seed.Keys {
		s.keys[k] = org
	}
	for id, org := range seed.Cases {
		s.cases[id] = org
	}
	for org, emails := range seed.Users {
		set := map[string]bool{}
		for _, e := range emails {
			set[strings.ToLower(e)] = true
		}
		s.users[org] = set
	}
	for _, id := range seed.NotFound {
		s.notFound[id] = true
	}
	for _, id := range seed.Down {
		s.down[id] = true
	}

	// Pre-existing escalations get ids and times, never a Created entry.
	start := s.now().UTC().Truncate(time.Millisecond)
	for id, list := range seed.Active {
		for _, e := range list {
			if e.ID == "" {
				e.ID = newUUID()
			}
			if e.CreatedAt.IsZero() {
				e.CreatedAt = start
			}
			if e.UpdatedAt.IsZero() {
				e.UpdatedAt = e.CreatedAt
			}
			s.escalations[id] = append(s.escalations[id], e)
		}
	}
	return s
}

// setTitles installs the title catalogue: the given one, or the default
// catalogue of package validate when titles is nil.
func (s *Server) setTitles(titles map[string][]string) {
	if titles == nil {
		cat := validate.Default()
		titles = map[string][]string{}
		for _, typ := range cat.Types() {
			titles[typ] = cat.Titles(typ)
		}
	}

	s.titles = map[string][]string{}
	s.titleSet = map[string]map[string]bool{}
	for typ, list := range titles {
		s.titles[typ] = slices.Clone(list)
		set := map[string]bool{}
		for _, t := range list {
			set[t] = true
		}
		s.titleSet[typ] = set
	}

	// The document's order first, then any other type alphabetically.
	for _, typ := range []string{"support", "clinical", "external"} {
		if _, ok := titles[typ]; ok {
			s.types = append(s.types, typ)
		}
	}
	var extra []string
	for typ := range titles {
		if !slices.Contains(s.types, typ) {
			extra = append(extra, typ)
		}
	}
	slices.Sort(extra)
	s.types = append(s.types, extra...)
}

// answer is what a request gets: a status and JSON body, or nothing.
type answer struct {
	status     int
	body       any
	retryAfter string // Retry-After header, when not empty
	allow      string // Allow header, when not empty
	drop       bool   // close the connection instead of answering
	canceled   bool   // the client went away; write nothing
}

// ServeHTTP answers one request. See the package documentation and the
// methods of Server for what each request gets.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := RequestRecord{
		Arrived:     s.now(),
		Method:      r.Method,
		Path:        r.URL.Path,
		UserAgent:   r.UserAgent(),
		ContentType: r.Header.Get("Content-Type"),
	}
	idx := s.begin(&rec)

	ans := s.serve(w, r, &rec)
	rec.Status = ans.status
	switch {
	case ans.canceled:
		rec.Status, rec.Canceled = 0, true
	case ans.drop:
		rec.Status, rec.Dropped = 0, true
	}
	s.finish(idx, rec)

	switch {
	case ans.canceled:
		return
	case ans.drop:
		dropConnection(w)
		return
	}
	if ans.retryAfter != "" {
		w.Header().Set("Retry-After", ans.retryAfter)
	}
	if ans.allow != "" {
		w.Header().Set("Allow", ans.allow)
	}
	writeJSON(w, ans.status, ans.body)
}

// serve routes a request and works out its answer; rec is filled in with
// what is learnt on the way.
func (s *Server) serve(
	w http.ResponseWriter, r *http.Request, rec *RequestRecord,
) answer {
	org, keyOK := s.orgOfKey(r.Header.Get(HeaderAPIKey))
	rec.KeyValid = keyOK

	// Routing comes first: unknown paths and methods cost nothing.
	caseID, route := parsePath(r.URL.Path)
	switch {
	case route == routeNone:
		return failure(http.StatusNotFound, "Not Found",
			"Cannot "+r.Method+" "+r.URL.Path)
	case route == routeList && r.Method != http.MethodGet:
		return notAllowed(r, http.MethodGet)
	case route == routeCase && r.Method != http.MethodPost:
		return notAllowed(r, http.MethodPost)
	}
	rec.CaseID = caseID

	// A rate limiter in front of the service answers at once.
	if ans, limited := s.rateLimit(); limited {
		return ans
	}

	// The whole request is read before the wait: net/http notices a
	// client that goes away only once the body has been read.
	var body requestBody
	if route == routeCase {
		body.data, body.err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	}
	if !sleep(r.Context(), s.Latency()) {
		return answer{canceled: true}
	}

	if route == routeList {
		return s.listCases(r, org, keyOK)
	}
	return s.addEscalations(r, rec, body, caseID, org, keyOK)
}

// requestBody is a body as read, or the error that stopped the reading.
type requestBody struct {
	data []byte
	err  error
}

// addEscalations answers POST /api/v1/cases/{caseId}.
func (s *Server) addEscalations(
	r *http.Request, rec *RequestRecord, raw requestBody,
	caseID, org string, keyOK bool,
) answer {
	if status, ok := s.takeFailure(); ok {
		return failure(status, http.StatusText(status), http.StatusText(status))
	}
	if !keyOK {
		return badKey()
	}
	if s.isDown(caseID) {
		return failure(http.StatusServiceUnavailable, "Service Unavailable",
			"Case service unavailable")
	}

	// The body must be JSON that passes the schema.
	body, ans, ok := jsonBody(r, raw)
	if !ok {
		return ans
	}
	items, count, problem := s.checkBody(body)
	rec.Items = count
	if problem != nil {
		return validationFailure(problem.String())
	}
	rec.Labels = make([]string, len(items))
	for i, it := range items {
		rec.Labels[i] = label(it)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applyLocked(org, caseID, items)
}

// jsonBody checks the Content-Type and the body, which must be one JSON
// value in UTF-8. When ok is false, ans is the answer to give.
func jsonBody(r *http.Request, raw requestBody) ([]byte, answer, bool) {
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		// Decision: the document only says "Must be application/json".
		return nil, failure(http.StatusUnsupportedMediaType,
			"Invalid request", "Content-Type must be application/json"), false
	}

	if raw.err != nil {
		if isTooLarge(raw.err) {
			return nil, failure(http.StatusRequestEntityTooLarge,
				"Invalid request", "Request body too large"), false
		}
		return nil, validationFailure("body, Invalid JSON"), false
	}
	if !validJSON(raw.data) {
		return nil, validationFailure("body, Invalid JSON"), false
	}
	return raw.data, answer{}, true
}

// orgOfKey returns the organisation of an API key.
func (s *Server) orgOfKey(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	org, ok := s.keys[key]
	return org, ok
}

// begin records the arrival of a request and returns its index.
func (s *Server) begin(rec *RequestRecord) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, *rec)
	return len(s.requests) - 1
}

// finish replaces the record at idx with its final form.
func (s *Server) finish(idx int, rec RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[idx] = rec
}

// route is what a path names.
type route int

const (
	routeNone route = iota // no such resource
	routeList              // the collection of cases
	routeCase              // one case
)

// parsePath tells what a request path names, and the case id if any.
func parsePath(p string) (string, route) {
	if p == casesPath {
		return "", routeList
	}
	id, ok := strings.CutPrefix(p, casesPath+"/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", routeNone
	}
	return id, routeCase
}

// sleep waits for d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// The server aborts the response and closes the connection
		// (or resets the stream), without logging a stack trace.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// writeJSON writes body as JSON with the given status. HTML characters
// are not escaped, as a Node.js server would not escape them.
func writeJSON(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		// Only our own types are encoded; this cannot happen.
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"status":500,"success":false}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
