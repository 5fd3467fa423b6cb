package fakeapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// timeLayout is how the API writes times: UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Escalation is one escalation on a case, as the API answers it. In JSON
// the fields are those of the document's success item; empty Note,
// FollowUpDueAt and AssignedToUserID are written as null.
type Escalation struct {
	ID    string
	Type  string
	Title string
	Note  string
	// FollowUpDueAt is UTC in the form 2006-01-02T15:04:05.000Z, or empty.
	FollowUpDueAt    string
	AssignedToUserID string
	// AssignedToEmail is the email the request named, as sent. It is not
	// part of the JSON form; tests use it to check the assignment.
	AssignedToEmail string
	IsCompleted     bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// escalationJSON is the wire form of an Escalation.
type escalationJSON struct {
	ID               string  `json:"id"`
	Type             string  `json:"type"`
	Title            string  `json:"title"`
	Note             *string `json:"note"`
	FollowUpDueAt    *string `json:"followUpDueAt"`
	AssignedToUserID *string `json:"assignedToUserId"`
	IsCompleted      bool    `json:"isCompleted"`
	CreatedAt        string  `json:"createdAt"`
	UpdatedAt        string  `json:"updatedAt"`
}

// MarshalJSON writes e in the document's form.
func (e Escalation) MarshalJSON() ([]byte, error) {
	return json.Marshal(escalationJSON{
		ID:               e.ID,
		Type:             e.Type,
		Title:            e.Title,
		Note:             nullable(e.Note),
		FollowUpDueAt:    nullable(e.FollowUpDueAt),
		AssignedToUserID: nullable(e.AssignedToUserID),
		IsCompleted:      e.IsCompleted,
		CreatedAt:        e.CreatedAt.UTC().Format(timeLayout),
		UpdatedAt:        e.UpdatedAt.UTC().Format(timeLayout),
	})
}

// UnmarshalJSON reads the document's form; null fields become empty.
func (e *Escalation) UnmarshalJSON(data []byte) error {
	var w escalationJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("decoding escalation: %w", err)
	}
	created, err := parseTime(w.CreatedAt)
	if err != nil {
		return fmt.Errorf("decoding escalation createdAt: %w", err)
	}
	updated, err := parseTime(w.UpdatedAt)
	if err != nil {
		return fmt.Errorf("decoding escalation updatedAt: %w", err)
	}
	*e = Escalation{
		ID:               w.ID,
		Type:             w.Type,
		Title:            w.Title,
		Note:             deref(w.Note),
		FollowUpDueAt:    deref(w.FollowUpDueAt),
		AssignedToUserID: deref(w.AssignedToUserID),
		IsCompleted:      w.IsCompleted,
		CreatedAt:        created,
		UpdatedAt:        updated,
	}
	return nil
}

// CreatedEscalation is one escalation a request created, with its case.
type CreatedEscalation struct {
	CaseID     string
	Escalation Escalation
}

// RequestRecord is what the server noted about one request. It never
// holds the API key, only whether it was valid, nor any body content
// beyond the type and title of each escalation (Labels).
type RequestRecord struct {
	Arrived     time.Time
	Method      string
	Path        string // URL path, without the query
	CaseID      string // case of a POST, as in the path
	Items       int    // escalations in the body, once it was checked
	Status      int    // status answered; 0 when none was written
	KeyValid    bool   // whether cv-api-key named a known key
	Dropped     bool   // applied, then the connection closed unanswered
	Canceled    bool   // the client went away before the answer
	UserAgent   string
	ContentType string
	// Labels names each escalation of a POST whose body passed the schema
	// as "type / title", in body order, so that tests can tell which rows
	// a request carried; never a note or any other field. It is nil when
	// the body was not checked (the client went away during the latency,
	// or a knob answered first) or failed the schema.
	Labels []string
}

// failureBody is the document's error shape with success and message.
type failureBody struct {
	Status  int    `json:"status"`
	Success bool   `json:"success"`
	Message string `json:"message"`
	Error   string `json:"error"`
}

// validationBody is the document's VALIDATION_ERROR shape.
type validationBody struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Error  string `json:"error"`
}

// successBody is the document's answer to a request that was applied.
type successBody struct {
	Status  int         `json:"status"`
	Success bool        `json:"success"`
	Message string      `json:"message"`
	Data    successData `json:"data"`
}

type successData struct {
	Escalations []Escalation `json:"escalations"`
}

// listBody is the answer to GET /api/v1/cases.
type listBody struct {
	Status  int      `json:"status"`
	Success bool     `json:"success"`
	Data    listData `json:"data"`
}

type listData struct {
	Cases []string `json:"cases"`
	Total int      `json:"total"`
}

// failure is an answer in the {status, success, message, error} shape.
func failure(status int, message, err string) answer {
	return answer{status: status, body: failureBody{
		Status: status, Message: message, Error: err,
	}}
}

// invalid is the document's 400 "Invalid request" answer.
func invalid(err string) answer {
	return failure(http.StatusBadRequest, "Invalid request", err)
}

// validationFailure is the document's 400 VALIDATION_ERROR answer.
func validationFailure(err string) answer {
	return answer{status: http.StatusBadRequest, body: validationBody{
		Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Error: err,
	}}
}

// badKey answers a missing or unknown API key. Decision: the document
// gives no body for it; this one follows its other error shapes.
func badKey() answer {
	return failure(http.StatusUnauthorized, "Unauthorized", "Invalid API key")
}

// notAllowed answers a method the path does not support.
func notAllowed(r *http.Request, allow string) answer {
	ans := failure(http.StatusMethodNotAllowed, "Method Not Allowed",
		"Cannot "+r.Method+" "+r.URL.Path)
	ans.allow = allow
	return ans
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails, per crypto/rand
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b[:])
}

// UserID returns the assignedToUserId the server gives to the user of org
// with that email: the same for the same email in any case, so that tests
// can predict it.
func UserID(org, email string) string {
	sum := sha256.Sum256([]byte(org + "\x00" + strings.ToLower(email)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// parseTime reads an RFC 3339 time; the empty string is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
