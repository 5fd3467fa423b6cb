package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/validate"
)

const testKey = "sk_live_7f3a9c2e1b8d4f60a5e2"

// canned answers one fixed status, headers and body to every request.
func canned(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// newClient returns a Client for srv with the test key.
func newClient(t *testing.T, srv *httptest.Server) *api.Client {
	t.Helper()
	base, err := api.ParseBaseURL(srv.URL)
	require.NoError(t, err)
	return &api.Client{BaseURL: base, Key: testKey, HTTP: srv.Client(),
		UserAgent: "cvimport/test"}
}

var oneItem = []validate.Escalation{{Type: "support", Title: "Cancellation"}}

// The bodies below copy the shapes of the API document's examples.
const (
	successBody = `{"status":200,"success":true,"message":"Escalation(s) added successfully",
"data":{"escalations":[{"id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","type":"support",
"title":"Refill Request","note":"Patient called requesting a refill.",
"followUpDueAt":"2025-06-01T12:00:00.000Z","assignedToUserId":"u1v2w3x4-y5z6-7890-abcd-ef1234567890",
"isCompleted":false,"createdAt":"2025-05-12T10:00:00.000Z","updatedAt":"2025-05-12T10:00:00.000Z"}]}}`
	invalidShape = `{"status":%d,"success":false,"message":"Invalid request","error":%q}`
	severe       = "Escalation already active on this case: clinical / " +
		"Provider Review - Severe Side Effect / Reaction"
	badTitle = `escalations.12.title, Invalid title "Unknown" for type "support". ` +
		`Valid titles: Cancellation, Hold Order, ...`
	validationShape = `{"status":400,"code":"VALIDATION_ERROR","error":%q}`
)

func invalidBody(status int, msg string) string {
	return fmt.Sprintf(invalidShape, status, msg)
}

func validationBody(msg string) string { return fmt.Sprintf(validationShape, msg) }

func TestAddEscalationsClassifiesAnswers(t *testing.T) {
	long := strings.Repeat("word ", 200)
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   api.Answer // Status, Item -1 and Err are filled in below
	}{
		{
			name: "success", status: 200, body: successBody,
			want: api.Answer{Kind: api.Created, Message: "Escalation(s) added successfully",
				Escalations: []api.Item{{ID: "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
					Type: "support", Title: "Refill Request"}}},
		},
		{
			name: "success 201", status: 201, body: `{"success":true,"data":{"escalations":[]}}`,
			want: api.Answer{Kind: api.Created, Escalations: []api.Item{}},
		},
		{
			name: "success with unreadable list still created", status: 200,
			body: `{"success":true,"message":"ok","data":{"escalations":"soon"}}`,
			want: api.Answer{Kind: api.Created, Message: "ok"},
		},
		{
			name: "already active", status: 400,
			body: invalidBody(400, "Escalation already active on this case: support / Cancellation"),
			want: api.Answer{Kind: api.AlreadyActive, Type: "support", Title: "Cancellation",
				Message: "Escalation already active on this case: support / Cancellation"},
		},
		{
			name: "already active, title with comma", status: 400,
			body: invalidBody(400, "Escalation already active on this case: external / Payment Received, Missing CIF"),
			want: api.Answer{Kind: api.AlreadyActive, Type: "external", Title: "Payment Received, Missing CIF",
				Message: "Escalation already active on this case: external / Payment Received, Missing CIF"},
		},
		{
			name: "already active, title with slash", status: 400,
			body: invalidBody(400, severe),
			want: api.Answer{Kind: api.AlreadyActive, Type: "clinical",
				Title:   "Provider Review - Severe Side Effect / Reaction",
				Message: severe},
		},
		{
			name: "assignee not found", status: 400,
			body: invalidBody(400, "No assignable user found with email agent@example.com for this organization"),
			want: api.Answer{Kind: api.AssigneeNotFound, Email: "agent@example.com",
				Message: "No assignable user found with email agent@example.com for this organization"},
		},
		{
			name: "invalid type", status: 400,
			body: validationBody("escalations.0.type, Invalid type. Must be one of: support, clinical, external"),
			want: api.Answer{Kind: api.ItemInvalid, Item: 0,
				Message: "escalations.0.type, Invalid type. Must be one of: support, clinical, external"},
		},
		{
			name: "invalid title of item 12", status: 400,
			body: validationBody(badTitle),
			want: api.Answer{Kind: api.ItemInvalid, Item: 12,
				Message: badTitle},
		},
		{
			name: "unknown field", status: 400,
			body: validationBody("escalations.0.unknownField, Unrecognized key(s) in object: 'unknownField'"),
			want: api.Answer{Kind: api.ItemInvalid, Item: 0,
				Message: "escalations.0.unknownField, Unrecognized key(s) in object: 'unknownField'"},
		},
		{
			name: "empty array names no item", status: 400,
			body: validationBody("escalations, At least one escalation is required"),
			want: api.Answer{Kind: api.Rejected, Message: "escalations, At least one escalation is required"},
		},
		{
			name: "duplicate in request", status: 400,
			body: invalidBody(400, "Duplicate escalation in request: support / Payment: Refund Request"),
			want: api.Answer{Kind: api.DuplicateInRequest, Type: "support", Title: "Payment: Refund Request",
				Message: "Duplicate escalation in request: support / Payment: Refund Request"},
		},
		{
			name: "case not found", status: 400, body: invalidBody(400, "Case not found!"),
			want: api.Answer{Kind: api.CaseRejected, Message: "Case not found!"},
		},
		{
			name: "case of another organisation", status: 401, body: invalidBody(401, "Permission denied!"),
			want: api.Answer{Kind: api.CaseRejected, Message: "Permission denied!"},
		},
		{
			name: "403 permission denied", status: 403, body: invalidBody(403, "Permission denied!"),
			want: api.Answer{Kind: api.CaseRejected, Message: "Permission denied!"},
		},
		{
			name: "404", status: 404, body: `{"status":404,"success":false,"message":"Not Found"}`,
			want: api.Answer{Kind: api.CaseRejected, Message: "Not Found"},
		},
		{
			name: "bad key", status: 401,
			body: `{"status":401,"success":false,"message":"Unauthorized","error":"Invalid API key"}`,
			want: api.Answer{Kind: api.KeyRejected, Message: "Invalid API key"},
		},
		{
			name: "403 other", status: 403, body: `{"message":"Forbidden"}`,
			want: api.Answer{Kind: api.KeyRejected, Message: "Forbidden"},
		},
		{
			name: "401 without body", status: 401, body: ``,
			want: api.Answer{Kind: api.KeyRejected},
		},
		{
			name: "429 seconds", status: 429, header: map[string]string{"Retry-After": "3"},
			body: `{"status":429,"success":false,"message":"Too Many Requests","error":"Rate limit exceeded"}`,
			want: api.Answer{Kind: api.RateLimited, RetryAfter: 3 * time.Second, Message: "Rate limit exceeded"},
		},
		{
			name: "429 without Retry-After", status: 429, body: `Too Many Requests`,
			want: api.Answer{Kind: api.RateLimited, Message: "Too Many Requests"},
		},
		{
			name: "429 unreadable Retry-After", status: 429, header: map[string]string{"Retry-After": "soon"},
			want: api.Answer{Kind: api.RateLimited},
		},
		{
			name: "500", status: 500, body: `{"status":500,"success":false,"message":"Internal Server Error"}`,
			want: api.Answer{Kind: api.Transient, Message: "Internal Server Error"},
		},
		{
			name: "502 html page kept as text", status: 502,
			body: "<html>\n<body>\n<h1>502 Bad Gateway</h1>\n</body>\n</html>\n",
			want: api.Answer{Kind: api.Transient, Message: "<html> <body> <h1>502 Bad Gateway</h1> </body> </html>"},
		},
		{
			name: "200 with success false", status: 200, body: `{"status":200,"success":false,"message":"later"}`,
			want: api.Answer{Kind: api.Transient, Message: "later"},
		},
		{
			name: "200 without success", status: 200, body: `{"status":200,"data":{}}`,
			want: api.Answer{Kind: api.Transient, Message: `{"status":200,"data":{}}`},
		},
		{
			name: "200 unreadable", status: 200, body: `{"status":200,"succ`,
			want: api.Answer{Kind: api.Transient, Message: `{"status":200,"succ`},
		},
		{
			name: "200 empty", status: 200, body: ``,
			want: api.Answer{Kind: api.Transient, Message: `answer without "success": true`},
		},
		{
			name: "415 unknown body kept", status: 415,
			body: invalidBody(415, "Content-Type must be application/json"),
			want: api.Answer{Kind: api.Rejected, Message: "Content-Type must be application/json"},
		},
		{
			name: "409 plain text", status: 409, body: "conflict:\tsomething else",
			want: api.Answer{Kind: api.Rejected, Message: "conflict: something else"},
		},
		{
			name: "error as an object", status: 422, body: `{"error":{"reason":"odd","at":[1,2]}}`,
			want: api.Answer{Kind: api.Rejected, Message: `{"reason":"odd","at":[1,2]}`},
		},
		{
			name: "redirect is not followed", status: 302,
			header: map[string]string{"Location": "https://elsewhere.example.com/"},
			want:   api.Answer{Kind: api.Rejected},
		},
		{
			name: "long message cut", status: 400, body: invalidBody(400, long),
			want: api.Answer{Kind: api.Rejected, Message: strings.TrimSpace(long[:300]) + "..."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(canned(tt.status, tt.header, tt.body))
			defer srv.Close()

			got := newClient(t, srv).AddEscalations(context.Background(), "c1", oneItem)

			want := tt.want
			want.Status = tt.status
			if want.Kind != api.ItemInvalid {
				want.Item = -1
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestAddEscalationsRetryAfterDate(t *testing.T) {
	at := time.Now().Add(time.Hour).UTC()
	srv := httptest.NewServer(canned(429,
		map[string]string{"Retry-After": at.Format(http.TimeFormat)}, ""))
	defer srv.Close()

	got := newClient(t, srv).AddEscalations(context.Background(), "c1", oneItem)

	assert.Equal(t, api.RateLimited, got.Kind)
	// The date has whole seconds and was read a moment after "at" was taken.
	assert.Greater(t, got.RetryAfter, 58*time.Minute, "got %v", got.RetryAfter)
	assert.LessOrEqual(t, got.RetryAfter, time.Hour, "got %v", got.RetryAfter)
}

func TestKindNext(t *testing.T) {
	tests := []struct {
		kind api.Kind
		want api.Action
	}{
		{api.Created, api.Record},
		{api.Transient, api.Retry},
		{api.RateLimited, api.Retry},
		{api.AlreadyActive, api.DropItem},
		{api.AssigneeNotFound, api.DropItem},
		{api.ItemInvalid, api.DropItem},
		{api.DuplicateInRequest, api.DropItem},
		{api.CaseRejected, api.FailRequest},
		{api.Rejected, api.FailRequest},
		{api.KeyRejected, api.StopRun},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			assert.Equal(t, tt.want, tt.kind.Next(), "got %v, want %v",
				tt.kind.Next(), tt.want)
		})
	}
	var zero api.Answer
	assert.Equal(t, api.Transient, zero.Kind, "a zero Answer must mean no answer")
}

func TestAnswerDescribe(t *testing.T) {
	tests := []struct {
		name string
		a    api.Answer
		want string
	}{
		{"message", api.Answer{Status: 400, Message: "Case not found!"}, "HTTP 400: Case not found!"},
		{"no message", api.Answer{Status: 503}, "HTTP 503: Service Unavailable"},
		{"transport", api.Answer{Err: context.DeadlineExceeded}, "no answer: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.a.Describe())
		})
	}
}
