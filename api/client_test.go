package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/fakeapi"
	"github.com/carevalidate/cvimport/validate"
)

// sentRequest is what a handler saw, handed back to the test goroutine.
type sentRequest struct {
	method, escapedPath, rawQuery string
	header                        http.Header
	body                          []byte
}

// recorder answers success and sends every request it sees on a channel.
func recorder(t *testing.T) (*httptest.Server, <-chan sentRequest) {
	t.Helper()
	ch := make(chan sentRequest, 10)
	srv := httptest.NewServer(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			assert.NoError(t, err)
			ch <- sentRequest{r.Method, r.URL.EscapedPath(), r.URL.RawQuery,
				r.Header.Clone(), body}
			canned(200, nil, successBody)(w, r)
		}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// wireItem is an escalation as the API document defines it; decoding into
// it with DisallowUnknownFields refuses anything else.
type wireItem struct {
	Type            string  `json:"type"`
	Title           string  `json:"title"`
	Note            *string `json:"note"`
	FollowUpDueAt   *string `json:"followUpDueAt"`
	AssignedToEmail *string `json:"assignedToEmail"`
}

type wireBody struct {
	Action      *string    `json:"action"`
	Escalations []wireItem `json:"escalations"`
}

func TestAddEscalationsSendsExactRequest(t *testing.T) {
	srv, seen := recorder(t)
	c := newClient(t, srv)
	c.BaseURL.Path = "/" // a trailing slash must not double the separator
	items := []validate.Escalation{
		{Type: "support", Title: "Refill Request",
			Note: "Patient called <requesting> a refill.", FollowUpDueAt: "2025-06-01T12:00:00.000Z",
			AssignedToEmail: "agent@example.com"},
		{Type: "external", Title: "Payment Received, Missing CIF"},
	}

	got := c.AddEscalations(context.Background(), "3F2504E0-4F89/11D3 9A0C", items)
	require.Equal(t, api.Created, got.Kind, "answer: %+v", got)
	req := <-seen

	assert.Equal(t, http.MethodPost, req.method)
	assert.Equal(t, "/api/v1/cases/3F2504E0-4F89%2F11D3%209A0C", req.escapedPath)
	assert.Equal(t, testKey, req.header.Get("cv-api-key"))
	assert.Equal(t, "application/json", req.header.Get("Content-Type"))
	assert.Equal(t, "application/json", req.header.Get("Accept"))
	assert.Equal(t, "cvimport/test", req.header.Get("User-Agent"))

	// The body decodes strictly into the document's schema...
	var body wireBody
	dec := json.NewDecoder(bytes.NewReader(req.body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&body), "body: %s", req.body)
	require.NotNil(t, body.Action)
	assert.Equal(t, "ADD_ESCALATION", *body.Action)
	require.Len(t, body.Escalations, 2)
	first, second := body.Escalations[0], body.Escalations[1]
	assert.Equal(t, "Refill Request", first.Title)
	require.NotNil(t, first.Note)
	assert.Equal(t, "Patient called <requesting> a refill.", *first.Note)
	require.NotNil(t, first.FollowUpDueAt)
	assert.Equal(t, "2025-06-01T12:00:00.000Z", *first.FollowUpDueAt)
	require.NotNil(t, first.AssignedToEmail)
	assert.Equal(t, "agent@example.com", *first.AssignedToEmail)
	assert.Equal(t, "Payment Received, Missing CIF", second.Title)

	// ...holds exactly two keys, and omits empty optional fields.
	var loose struct {
		Escalations []map[string]any `json:"escalations"`
	}
	var top map[string]any
	require.NoError(t, json.Unmarshal(req.body, &top))
	assert.Len(t, top, 2, "got keys %v, want action and escalations", top)
	require.NoError(t, json.Unmarshal(req.body, &loose))
	assert.Len(t, loose.Escalations[0], 5)
	assert.Equal(t, map[string]any{"type": "external",
		"title": "Payment Received, Missing CIF"}, loose.Escalations[1])
}

func TestAddEscalationsDefaultUserAgentAndEmptyItems(t *testing.T) {
	srv, seen := recorder(t)
	c := newClient(t, srv)
	c.UserAgent = ""

	c.AddEscalations(context.Background(), "c1", oneItem)
	assert.Equal(t, api.DefaultUserAgent, (<-seen).header.Get("User-Agent"))

	got := c.AddEscalations(context.Background(), "c1", nil)
	assert.Equal(t, api.Rejected, got.Kind)
	assert.Empty(t, seen, "an empty request must not be sent")
}

func TestAddEscalationsNoAnswer(t *testing.T) {
	// A handler that holds the request until the test ends.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
	defer slow.Close()
	defer close(release)

	// A handler that closes the connection without answering.
	drop := httptest.NewServer(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if assert.NoError(t, err) {
				_ = conn.Close()
			}
		}))
	defer drop.Close()

	// A handler that promises a body and dies half way.
	cut := httptest.NewServer(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"status":200,"success":true,`))
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if assert.NoError(t, err) {
				_ = conn.Close()
			}
		}))
	defer cut.Close()

	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		check   func(t *testing.T, a api.Answer)
	}{
		{"timeout", slow.URL, 50 * time.Millisecond, func(t *testing.T, a api.Answer) {
			assert.ErrorIs(t, a.Err, context.DeadlineExceeded)
		}},
		{"dropped connection", drop.URL, time.Minute, nil},
		{"body cut short", cut.URL, time.Minute, func(t *testing.T, a api.Answer) {
			assert.Equal(t, 200, a.Status)
		}},
		{"connection refused", refused, time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := api.ParseBaseURL(tt.url)
			require.NoError(t, err)
			c := &api.Client{BaseURL: base, Key: testKey}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()

			got := c.AddEscalations(ctx, "c1", oneItem)

			assert.Equal(t, api.Transient, got.Kind)
			require.Error(t, got.Err)
			assert.True(t, strings.HasPrefix(got.Describe(), "no answer: "),
				"got %q", got.Describe())
			assert.NotContains(t, got.Describe(), testKey)
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func TestAddEscalationsReadsAtMostOneMiB(t *testing.T) {
	huge := `{"status":200,"success":true,"data":{"escalations":[` +
		strings.Repeat(`{"id":"x","type":"support","title":"Cancellation"},`, 30000) +
		`{"id":"y","type":"support","title":"Hold Order"}]}}`
	require.Greater(t, len(huge), 1<<20)
	srv := httptest.NewServer(canned(200, nil, huge))
	defer srv.Close()

	got := newClient(t, srv).AddEscalations(context.Background(), "c1", oneItem)

	assert.Equal(t, api.Transient, got.Kind, "a cut success body is unreadable")
	assert.LessOrEqual(t, len(got.Message), 303)
}

func TestRedirectIsNotFollowed(t *testing.T) {
	other, seen := recorder(t)
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusTemporaryRedirect))
	defer srv.Close()

	got := newClient(t, srv).AddEscalations(context.Background(), "c1", oneItem)

	assert.Equal(t, api.Rejected, got.Kind)
	assert.Equal(t, http.StatusTemporaryRedirect, got.Status)
	assert.Empty(t, seen, "the key must not follow a redirect")
}

func TestKeyNeverShows(t *testing.T) {
	// A hostile server echoes the key everywhere it can.
	echo := httptest.NewServer(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			k := r.Header.Get("cv-api-key")
			w.Header().Set("Retry-After", k)
			status := 400
			if r.Method == http.MethodGet {
				status = 403
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"success":false,"message":%q,"error":"Escalation already active on this case: %s / %s"}`,
				"key "+k, k, k)
		}))
	defer echo.Close()
	c := newClient(t, echo)
	var out []string

	a := c.AddEscalations(context.Background(), "c1", oneItem)
	assert.Equal(t, api.AlreadyActive, a.Kind)
	out = append(out, a.Message, a.Type, a.Title, a.Describe(), fmt.Sprintf("%+v", a))

	err := c.CheckKey(context.Background())
	require.ErrorIs(t, err, api.ErrKeyRejected)
	out = append(out, err.Error())

	// A key that cannot be a header value fails inside net/http.
	bad := *c
	bad.Key = testKey + "\n"
	a = bad.AddEscalations(context.Background(), "c1", oneItem)
	require.Error(t, a.Err)
	out = append(out, a.Describe(), bad.CheckKey(context.Background()).Error())

	// Every way of printing or logging the client.
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("client", "c", c, "v", *c)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("client", "c", c)
	out = append(out, logs.String())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c))
	}
	plain := *c
	plain.HTTP = nil // its transport holds funcs, which JSON refuses
	j, err := json.Marshal(plain)
	require.NoError(t, err)
	out = append(out, string(j))

	for _, s := range out {
		assert.NotContains(t, s, testKey)
	}
	assert.Contains(t, fmt.Sprint(c), "[redacted]")
	assert.Contains(t, logs.String(), "key_set=true")
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		rejected bool
		wantErr  string // "" for nil
	}{
		{"accepted", 200, `{"status":200,"success":true,"data":{"cases":[]}}`, false, ""},
		{"bad key", 401, `{"status":401,"success":false,"message":"Unauthorized","error":"Invalid API key"}`,
			true, "Invalid API key"},
		{"forbidden", 403, `{"message":"Forbidden"}`, true, "Forbidden"},
		{"server error only warns", 500, `oops`, false, "HTTP 500: oops"},
		{"not found only warns", 404, ``, false, "HTTP 404: Not Found"},
		{"validation only warns", 400, validationBody("from, Invalid datetime"), false, "from, Invalid datetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan sentRequest, 1)
			srv := httptest.NewServer(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) {
					seen <- sentRequest{method: r.Method, escapedPath: r.URL.EscapedPath(),
						rawQuery: r.URL.RawQuery, header: r.Header.Clone()}
					canned(tt.status, nil, tt.body)(w, r)
				}))
			defer srv.Close()

			err := newClient(t, srv).CheckKey(context.Background())

			if tt.wantErr == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, tt.rejected, errors.Is(err, api.ErrKeyRejected),
					"got %v, want rejected=%v", err, tt.rejected)
			}
			req := <-seen
			assert.Equal(t, http.MethodGet, req.method)
			assert.Equal(t, "/api/v1/cases", req.escapedPath)
			assert.Equal(t, testKey, req.header.Get("cv-api-key"))
			checkWindowQuery(t, req.rawQuery)
		})
	}
}

// checkWindowQuery asserts the key check asks for one case of the last
// minute.
func checkWindowQuery(t *testing.T, raw string) {
	t.Helper()
	q, err := url.ParseQuery(raw)
	require.NoError(t, err)
	assert.Equal(t, "1", q.Get("page"))
	assert.Equal(t, "1", q.Get("pageSize"))
	from, err := time.Parse(time.RFC3339, q.Get("from"))
	require.NoError(t, err, "from %q", q.Get("from"))
	to, err := time.Parse(time.RFC3339, q.Get("to"))
	require.NoError(t, err, "to %q", q.Get("to"))
	assert.Equal(t, time.Minute, to.Sub(from))
}

func TestCheckKeyAgainstFake(t *testing.T) {
	fake := fakeapi.New(fakeapi.Seed{Keys: map[string]string{testKey: "org-a"}})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := newClient(t, srv)

	assert.NoError(t, c.CheckKey(context.Background()))

	c.Key = "wrong-key"
	assert.ErrorIs(t, c.CheckKey(context.Background()), api.ErrKeyRejected)
}
