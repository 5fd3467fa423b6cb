package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Kind is what one answer of the ADD_ESCALATION endpoint means for the
// items of the request. Its zero value is Transient: an Answer that was
// never filled in is treated as "no usable answer".
type Kind int

// The kinds of answer. Kind.Next says what each one asks of the caller.
const (
	// Transient: no usable answer (5xx, timeout, connection lost, a 2xx
	// body that is unreadable or lacks "success": true). The request may
	// or may not have been applied.
	Transient Kind = iota
	// Created: every item was added; Answer.Escalations lists the case's
	// active escalations with their ids.
	Created
	// AlreadyActive: the item Answer.Type / Answer.Title is already open
	// on the case. Nothing was added (requests are all or nothing).
	AlreadyActive
	// AssigneeNotFound: no assignable user has Answer.Email in the case's
	// organisation. Nothing was added.
	AssigneeNotFound
	// ItemInvalid: the API's validation refused item Answer.Item.
	ItemInvalid
	// DuplicateInRequest: Answer.Type / Answer.Title appears twice in the
	// request.
	DuplicateInRequest
	// CaseRejected: the case does not exist or belongs to another
	// organisation; no item of this case can be added.
	CaseRejected
	// KeyRejected: the API key is not accepted; nothing can be sent.
	KeyRejected
	// RateLimited: 429; wait Answer.RetryAfter (0 when not given).
	RateLimited
	// Rejected: any other refusal of the whole request; sending it again
	// unchanged will not help.
	Rejected
)

var kindNames = [...]string{
	Transient:          "transient",
	Created:            "created",
	AlreadyActive:      "already_active",
	AssigneeNotFound:   "assignee_not_found",
	ItemInvalid:        "item_invalid",
	DuplicateInRequest: "duplicate_in_request",
	CaseRejected:       "case_rejected",
	KeyRejected:        "key_rejected",
	RateLimited:        "rate_limited",
	Rejected:           "rejected",
}

// String returns the kind's name in snake case, for logs.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Action is what a caller does next with the request an answer was for.
type Action int

// The actions, one per family of answers.
const (
	// Record: the request succeeded; record every item as created.
	Record Action = iota
	// Retry: send the same request again after a pause.
	Retry
	// DropItem: the answer names the items at fault (one item, or every
	// item with one assignee); record them and send the rest again.
	DropItem
	// FailRequest: every item of the request is refused; do not resend.
	FailRequest
	// StopRun: the key is refused; send nothing more at all.
	StopRun
)

var actionNames = [...]string{
	Record:      "record",
	Retry:       "retry",
	DropItem:    "drop_item",
	FailRequest: "fail_request",
	StopRun:     "stop_run",
}

// String returns the action's name in snake case, for logs.
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return "action(" + strconv.Itoa(int(a)) + ")"
	}
	return actionNames[a]
}

// Next returns what to do after an answer of kind k.
func (k Kind) Next() Action {
	switch k {
	case Created:
		return Record
	case Transient, RateLimited:
		return Retry
	case AlreadyActive, AssigneeNotFound, ItemInvalid, DuplicateInRequest:
		return DropItem
	case KeyRejected:
		return StopRun
	default:
		return FailRequest
	}
}

// Item is one escalation listed in a successful answer.
type Item struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Title string `json:"title"`
}

// Answer is one answer of the API, classified by its status code and body
// together. Fields other than Kind, Status and Message are set only for
// the kinds whose comment names them.
type Answer struct {
	Kind Kind
	// Status is the HTTP status code, 0 when no answer arrived.
	Status int
	// Message is the API's error text (or, for a body of unknown shape,
	// the body's text) on one line, at most about 300 characters.
	Message string
	// Item is the request index named by "escalations.N..." (ItemInvalid),
	// -1 otherwise.
	Item int
	// Type and Title name the item of AlreadyActive and DuplicateInRequest.
	Type, Title string
	// Email is the address of AssigneeNotFound.
	Email string
	// RetryAfter is the wait a 429 asked for, 0 when it named none.
	RetryAfter time.Duration
	// Escalations lists the case's active escalations after Created.
	Escalations []Item
	// Err is the transport error (timeout, refused or dropped connection)
	// of a Transient answer that has no status.
	Err error
}

// Describe returns the answer as one line for a row's error cell, such as
// "HTTP 400: Case not found!" or "no answer: ... context deadline exceeded".
func (a Answer) Describe() string {
	switch {
	case a.Err != nil:
		return oneLine("no answer: " + a.Err.Error())
	case a.Message != "":
		return fmt.Sprintf("HTTP %d: %s", a.Status, a.Message)
	default:
		return fmt.Sprintf("HTTP %d: %s", a.Status, http.StatusText(a.Status))
	}
}

// The phrases of the API document that identify an answer. They are
// matched anywhere in the error text, case-sensitively, as written there.
const (
	phraseAlreadyActive = "Escalation already active on this case:"
	phraseDuplicate     = "Duplicate escalation in request:"
	phraseNoAssignee    = "No assignable user found with email "
	phraseNoAssigneeEnd = " for this organization"
	phraseCaseNotFound  = "Case not found!"
	phraseDenied        = "Permission denied!"
	codeValidation      = "VALIDATION_ERROR"
	maxMessage          = 300
)

// itemIndex finds the item a validation error names: "escalations.3.title,
// ..." names item 3.
var itemIndex = regexp.MustCompile(`\bescalations\.(\d{1,6})\b`)

// body is the union of the answer shapes the API document shows.
type body struct {
	Success json.RawMessage `json:"success"`
	Code    string          `json:"code"`
	Message json.RawMessage `json:"message"`
	Error   json.RawMessage `json:"error"`
	Data    json.RawMessage `json:"data"`
}

// classify turns one HTTP answer into an Answer. now anchors a Retry-After
// given as an HTTP date.
func classify(status int, header http.Header, raw []byte, now time.Time) Answer {
	a := Answer{Status: status, Item: -1}

	// Read the body as far as it goes: the error text, else the message,
	// else the body itself.
	var b body
	parsed := json.Unmarshal(raw, &b) == nil
	errText, msgText := jsonText(b.Error), jsonText(b.Message)
	switch {
	case errText != "":
		a.Message = oneLine(errText)
	case msgText != "":
		a.Message = oneLine(msgText)
	default:
		a.Message = oneLine(string(raw))
	}
	texts := []string{errText, msgText}

	switch {
	case status >= 200 && status < 300:
		if !parsed || !bytes.Equal(bytes.TrimSpace(b.Success), []byte("true")) {
			a.Kind = Transient
			if a.Message == "" {
				a.Message = "answer without \"success\": true"
			}
			return a
		}
		// The success body lists the case's notes: keep only its message.
		a.Kind, a.Message = Created, oneLine(msgText)
		a.Escalations = createdItems(b.Data)
	case status == http.StatusTooManyRequests:
		a.Kind = RateLimited
		a.RetryAfter = retryAfter(header.Get("Retry-After"), now)
	case status >= 500:
		a.Kind = Transient
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// "Permission denied!" is the document's answer for a case of
		// another organisation; anything else means the key failed.
		a.Kind = KeyRejected
		if strings.TrimSpace(errText) == phraseDenied ||
			(errText == "" && strings.TrimSpace(msgText) == phraseDenied) {
			a.Kind = CaseRejected
		}
	case status == http.StatusNotFound:
		a.Kind = CaseRejected
	case status >= 400:
		classifyRefusal(&a, texts, b.Code)
	default:
		a.Kind = Rejected
	}
	return a
}

// classifyRefusal sorts a 4xx other than 401, 403, 404 and 429 by the
// phrases of its text.
func classifyRefusal(a *Answer, texts []string, code string) {
	a.Kind = Rejected
	for _, t := range texts {
		if rest, ok := after(t, phraseAlreadyActive); ok {
			a.Kind = AlreadyActive
			a.Type, a.Title = typeTitle(rest)
			return
		}
		if rest, ok := after(t, phraseDuplicate); ok {
			a.Kind = DuplicateInRequest
			a.Type, a.Title = typeTitle(rest)
			return
		}
		if rest, ok := after(t, phraseNoAssignee); ok {
			a.Kind = AssigneeNotFound
			a.Email = assigneeEmail(rest)
			return
		}
		if strings.Contains(t, phraseCaseNotFound) {
			a.Kind = CaseRejected
			return
		}
		m := itemIndex.FindStringSubmatch(t)
		if m != nil && (code == codeValidation ||
			strings.HasPrefix(strings.TrimSpace(t), m[0])) {
			n, _ := strconv.Atoi(m[1])
			a.Kind, a.Item = ItemInvalid, n
			return
		}
	}
}

// after returns what follows phrase in s.
func after(s, phrase string) (string, bool) {
	i := strings.Index(s, phrase)
	if i < 0 {
		return "", false
	}
	return s[i+len(phrase):], true
}

// typeTitle splits "support / Payment Received, Missing CIF" on the first
// " / ": types never hold one, titles may ("Severe Side Effect / Reaction").
func typeTitle(s string) (typ, title string) {
	typ, title, ok := strings.Cut(strings.TrimSpace(s), " / ")
	if !ok {
		return "", ""
	}
	return strings.TrimSpace(typ), strings.TrimSpace(title)
}

// assigneeEmail takes the address from the rest of "No assignable user
// found with email E for this organization".
func assigneeEmail(rest string) string {
	if i := strings.Index(rest, phraseNoAssigneeEnd); i >= 0 {
		rest = rest[:i]
	}
	if f := strings.Fields(rest); len(f) > 0 {
		return f[0]
	}
	return ""
}

// createdItems reads data.escalations of a success body. A list that
// cannot be read gives nil: the request still succeeded.
func createdItems(data json.RawMessage) []Item {
	var d struct {
		Escalations []Item `json:"escalations"`
	}
	if json.Unmarshal(data, &d) != nil {
		return nil
	}
	return d.Escalations
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date,
// as a wait from now. Absent, unreadable or past values give 0.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e6 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// jsonText returns a JSON value as text: a string unquoted, null as "",
// anything else compacted.
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

// oneLine folds s to a single line of valid UTF-8 and cuts it to about
// maxMessage characters, marking the cut with "...".
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space, n := false, 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		need := 1
		if space {
			need = 2
		}
		if n+need > maxMessage {
			b.WriteString("...")
			break
		}
		if space {
			b.WriteByte(' ')
			space, n = false, n+1
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
