// Package api talks to the one CareValidate endpoint cvimport needs,
// ADD_ESCALATION on POST /api/v1/cases/{caseId}, and classifies every
// answer by what the caller should do next.
//
// The API key is sent only in the cv-api-key header. It is never part of
// an error, an Answer, a log value or the Client's printed form.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carevalidate/cvimport/validate"
)

// ErrKeyRejected means the API refused the key itself (401 or 403 other
// than a case's "Permission denied!"). Nothing can be sent with that key.
var ErrKeyRejected = errors.New("api key rejected")

// DefaultUserAgent is sent when Client.UserAgent is empty.
const DefaultUserAgent = "cvimport"

// maxBody is the most of an answer's body that is read; the rest is
// dropped. A success body longer than that counts as unreadable.
const maxBody = 1 << 20

const redacted = "[redacted]"

// Client sends requests to one deployment of the API with one key.
// A Client is safe for concurrent use once its fields are set.
type Client struct {
	// BaseURL is the deployment, as returned by ParseBaseURL.
	BaseURL *url.URL
	// Key is the API key. It is sent only in the cv-api-key header and
	// is redacted from everything the Client returns or prints.
	Key string `json:"-"`
	// HTTP is the client used; nil means http.DefaultClient. Redirects are
	// never followed, whatever its CheckRedirect says: the key header
	// would follow them to any host.
	HTTP *http.Client
	// UserAgent names the program and its version; empty means
	// DefaultUserAgent.
	UserAgent string
}

// String describes the client without its key.
func (c Client) String() string {
	key := "[none]"
	if c.Key != "" {
		key = redacted
	}
	base := "<nil>"
	if c.BaseURL != nil {
		base = c.BaseURL.Redacted()
	}
	return fmt.Sprintf("api.Client{BaseURL: %s, Key: %s, UserAgent: %q}",
		base, key, c.UserAgent)
}

// Format prints String for every verb (%v, %+v, %#v, %s, %q...), so that no
// formatting of a Client can reach the key field.
func (c Client) Format(f fmt.State, _ rune) {
	io.WriteString(f, c.String())
}

// LogValue logs the base URL and whether a key is set, never the key.
func (c Client) LogValue() slog.Value {
	base := ""
	if c.BaseURL != nil {
		base = c.BaseURL.Redacted()
	}
	return slog.GroupValue(
		slog.String("base_url", base),
		slog.Bool("key_set", c.Key != ""))
}

// addRequest is the whole body of an ADD_ESCALATION request.
type addRequest struct {
	Action      string                `json:"action"`
	Escalations []validate.Escalation `json:"escalations"`
}

// AddEscalations posts items to case caseID in one request and classifies
// the answer. ctx bounds the whole exchange; a timeout or a lost connection
// is a Transient answer with Err set. An empty items is refused locally as
// Rejected, without a request.
func (c *Client) AddEscalations(ctx context.Context, caseID string,
	items []validate.Escalation) Answer {

	if len(items) == 0 {
		return Answer{Kind: Rejected, Item: -1,
			Message: "no escalations to send"}
	}
	payload, err := json.Marshal(addRequest{
		Action: "ADD_ESCALATION", Escalations: items})
	if err != nil {
		return Answer{Kind: Rejected, Item: -1,
			Message: oneLine("encoding request: " + err.Error())}
	}

	// Send, then read at most maxBody of the answer.
	target := c.endpoint("api/v1/cases/" + url.PathEscape(caseID))
	req, err := c.newRequest(ctx, http.MethodPost, target,
		bytes.NewReader(payload))
	if err != nil {
		return Answer{Kind: Rejected, Item: -1, Message: c.redact(err.Error())}
	}
	req.Header.Set("Content-Type", "application/json")
	status, header, raw, err := c.do(req)
	if err != nil {
		return Answer{Kind: Transient, Status: status, Item: -1,
			Err: c.redactErr(err)}
	}

	return c.redactAnswer(classify(status, header, raw, time.Now()))
}

// CheckKey makes the cheapest authenticated read the API offers (one case
// over the last minute) to learn whether the key is accepted. A 401 or 403
// gives an error wrapping ErrKeyRejected; any 2xx gives nil; anything else,
// including no answer, gives a descriptive error that does not prove the
// key bad.
func (c *Client) CheckKey(ctx context.Context) error {
	now := time.Now().UTC()
	q := url.Values{}
	q.Set("from", now.Add(-time.Minute).Format(time.RFC3339))
	q.Set("to", now.Format(time.RFC3339))
	q.Set("page", "1")
	q.Set("pageSize", "1")
	req, err := c.newRequest(ctx, http.MethodGet,
		c.endpoint("api/v1/cases")+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("checking api key: %w", c.redactErr(err))
	}

	status, header, raw, err := c.do(req)
	if err != nil {
		return fmt.Errorf("checking api key: %w", c.redactErr(err))
	}
	a := c.redactAnswer(classify(status, header, raw, now))
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("checking api key: %s: %w", a.Describe(), ErrKeyRejected)
	default:
		return fmt.Errorf("checking api key: unexpected answer: %s", a.Describe())
	}
}

// endpoint joins the base URL and a path below it.
func (c *Client) endpoint(path string) string {
	base := ""
	if c.BaseURL != nil {
		base = strings.TrimSuffix(c.BaseURL.String(), "/")
	}
	return base + "/" + path
}

// newRequest builds a request with the headers every call carries.
func (c *Client) newRequest(ctx context.Context, method, target string,
	body io.Reader) (*http.Request, error) {

	if c.BaseURL == nil {
		return nil, errors.New("api client: no base url")
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("cv-api-key", c.Key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", ua)
	return req, nil
}

// do sends req without following redirects and reads at most maxBody of
// the answer. A body cut short by a lost connection is an error.
func (c *Client) do(req *http.Request) (int, http.Header, []byte, error) {
	hc := http.DefaultClient
	if c.HTTP != nil {
		hc = c.HTTP
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}

	resp, err := noRedirect.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()

	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return resp.StatusCode, nil, nil,
			fmt.Errorf("reading answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(raw) > maxBody {
		raw = raw[:maxBody]
	}
	// Drain a little so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return resp.StatusCode, resp.Header, raw, nil
}

// redact replaces the key wherever it appears in s.
func (c *Client) redact(s string) string {
	if c.Key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.Key, redacted)
}

// redactErr hides the key in err's text, keeping err for errors.Is/As.
func (c *Client) redactErr(err error) error {
	if err == nil || c.Key == "" || !strings.Contains(err.Error(), c.Key) {
		return err
	}
	return &redactedError{msg: c.redact(err.Error()), err: err}
}

// redactAnswer hides the key in every text an answer carries: an echoing
// server must not be able to make us log or write it.
func (c *Client) redactAnswer(a Answer) Answer {
	a.Message = c.redact(a.Message)
	a.Type, a.Title = c.redact(a.Type), c.redact(a.Title)
	a.Email = c.redact(a.Email)
	for i := range a.Escalations {
		it := &a.Escalations[i]
		it.ID, it.Type, it.Title = c.redact(it.ID), c.redact(it.Type),
			c.redact(it.Title)
	}
	a.Err = c.redactErr(a.Err)
	return a
}

// redactedError is an error whose text had the key removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
