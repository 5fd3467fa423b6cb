package fakeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/validate"
)

// js is s as a JSON string.
func js(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// validationError is the document's VALIDATION_ERROR body.
func validationError(msg string) string {
	return `{"status":400,"code":"VALIDATION_ERROR","error":` + js(msg) + `}`
}

// failed is the document's {status, success, message, error} body.
func failed(status int, message, msg string) string {
	b, err := json.Marshal(failureBody{status, false, message, msg})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// invalidRequest is the document's 400 "Invalid request" body.
func invalidRequest(msg string) string {
	return failed(http.StatusBadRequest, "Invalid request", msg)
}

// succeeded is the document's 200 body around the given items.
func succeeded(items ...string) string {
	return `{"status":200,"success":true,` +
		`"message":"Escalation(s) added successfully",` +
		`"data":{"escalations":[` + strings.Join(items, ",") + `]}}`
}

// answered is one escalation of a success body, created at epoch with a
// new id; note, due and user may be "null".
func answered(typ, title, note, due, user string) string {
	return `{"id":"ID","type":` + js(typ) + `,"title":` + js(title) +
		`,"note":` + note + `,"followUpDueAt":` + due +
		`,"assignedToUserId":` + user + `,"isCompleted":false,` +
		`"createdAt":"2025-05-12T10:00:00.000Z",` +
		`"updatedAt":"2025-05-12T10:00:00.000Z"}`
}

// seededCancellation is caseActive's escalation in a success body.
const seededCancellation = `{"id":"seed-cancellation","type":"support",` +
	`"title":"Cancellation","note":null,"followUpDueAt":null,` +
	`"assignedToUserId":null,"isCompleted":false,` +
	`"createdAt":"2025-05-11T10:00:00.000Z",` +
	`"updatedAt":"2025-05-11T10:00:00.000Z"}`

// docItem is the item of the document's example request.
const docItem = `{"type":"support","title":"Refill Request",` +
	`"note":"Patient called requesting a refill.",` +
	`"followUpDueAt":"2025-06-01T12:00:00.000Z",` +
	`"assignedToEmail":"agent@example.com"}`

func TestAddEscalation(t *testing.T) {
	support := strings.Join(validate.Default().Titles("support"), ", ")
	clinical := strings.Join(validate.Default().Titles("clinical"), ", ")
	refill := `{"type":"support","title":"Refill Request"}`
	cancel := `{"type":"support","title":"Cancellation"}`
	bare := func(typ, title string) string {
		return answered(typ, title, "null", "null", "null")
	}
	badType := "escalations.0.type, Invalid type. Must be one of: " +
		"support, clinical, external"
	agentID := js(UserID(orgA, "agent@example.com"))

	tests := []struct {
		name        string
		method      string            // default POST
		path        string            // default the case's path
		caseID      string            // default caseA
		headers     map[string]string // default correct, with keyA
		body        string
		wantStatus  int
		wantBody    string
		wantHeader  map[string]string
		wantCreated int
	}{
		// The document's answers, in its order.
		{
			name:       "200 the document's example is created",
			body:       addBody(docItem),
			wantStatus: 200,
			wantBody: succeeded(answered("support", "Refill Request",
				`"Patient called requesting a refill."`,
				`"2025-06-01T12:00:00.000Z"`, agentID)),
			wantCreated: 1,
		},
		{
			name:       "400 invalid type",
			body:       addBody(`{"type":"urgent","title":"Refill Request"}`),
			wantStatus: 400,
			wantBody:   validationError(badType),
		},
		{
			name:       "400 invalid title",
			body:       addBody(`{"type":"support","title":"Unknown"}`),
			wantStatus: 400,
			wantBody: validationError(`escalations.0.title, Invalid title ` +
				`"Unknown" for type "support". Valid titles: ` + support),
		},
		{
			name:       "400 empty array",
			body:       `{"action":"ADD_ESCALATION","escalations":[]}`,
			wantStatus: 400,
			wantBody: validationError(
				"escalations, At least one escalation is required"),
		},
		{
			name: "400 unknown field in an item",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"unknownField":1}`),
			wantStatus: 400,
			wantBody: validationError("escalations.0.unknownField, " +
				"Unrecognized key(s) in object: 'unknownField'"),
		},
		{
			name: "400 duplicate in request",
			body: addBody(refill,
				`{"type":"support","title":"Payment: Refund Request"}`,
				`{"type":"support","title":"Payment: Refund Request",`+
					`"note":"again"}`),
			wantStatus: 400,
			wantBody: invalidRequest("Duplicate escalation in request: " +
				"support / Payment: Refund Request"),
		},
		{
			name:       "400 already active on case",
			caseID:     caseActive,
			body:       addBody(cancel),
			wantStatus: 400,
			wantBody: invalidRequest(
				"Escalation already active on this case: support / Cancellation"),
		},
		{
			name:    "400 assignee not found",
			caseID:  caseB,
			headers: jsonHeaders(keyB),
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"assignedToEmail":"agent@example.com"}`),
			wantStatus: 400,
			wantBody: invalidRequest("No assignable user found with email " +
				"agent@example.com for this organization"),
		},
		{
			name:       "400 case not found",
			caseID:     caseGone,
			body:       addBody(refill),
			wantStatus: 400,
			wantBody:   invalidRequest("Case not found!"),
		},
		{
			name:       "401 permission denied for another organisation's case",
			caseID:     caseB,
			body:       addBody(refill),
			wantStatus: 401,
			wantBody:   failed(401, "Invalid request", "Permission denied!"),
		},

		// The key, our decision.
		{
			name:       "401 missing key",
			headers:    map[string]string{"Content-Type": "application/json"},
			body:       addBody(refill),
			wantStatus: 401,
			wantBody:   failed(401, "Unauthorized", "Invalid API key"),
		},
		{
			name:       "401 unknown key",
			headers:    jsonHeaders("not-a-key"),
			body:       addBody(refill),
			wantStatus: 401,
			wantBody:   failed(401, "Unauthorized", "Invalid API key"),
		},
		{
			name:       "401 key is checked before the body",
			headers:    jsonHeaders("not-a-key"),
			body:       `{"action":`,
			wantStatus: 401,
			wantBody:   failed(401, "Unauthorized", "Invalid API key"),
		},

		// Content type and JSON.
		{
			name: "200 charset parameter allowed",
			headers: map[string]string{HeaderAPIKey: keyA,
				"Content-Type": "application/json; charset=UTF-8"},
			body:        addBody(refill),
			wantStatus:  200,
			wantBody:    succeeded(bare("support", "Refill Request")),
			wantCreated: 1,
		},
		{
			name:       "415 text/plain",
			headers:    map[string]string{HeaderAPIKey: keyA, "Content-Type": "text/plain"},
			body:       addBody(refill),
			wantStatus: 415,
			wantBody: failed(415, "Invalid request",
				"Content-Type must be application/json"),
		},
		{
			name:       "415 no content type",
			headers:    map[string]string{HeaderAPIKey: keyA},
			body:       addBody(refill),
			wantStatus: 415,
			wantBody: failed(415, "Invalid request",
				"Content-Type must be application/json"),
		},
		{
			name: "415 another charset",
			headers: map[string]string{HeaderAPIKey: keyA,
				"Content-Type": "application/json; charset=latin1"},
			body:       addBody(refill),
			wantStatus: 415,
			wantBody: failed(415, "Invalid request",
				"Content-Type must be application/json"),
		},
		{
			name:       "400 malformed JSON",
			body:       `{"action":"ADD_ESCALATION","escalations":[`,
			wantStatus: 400,
			wantBody:   validationError("body, Invalid JSON"),
		},
		{
			name:       "400 two JSON values",
			body:       addBody(refill) + addBody(cancel),
			wantStatus: 400,
			wantBody:   validationError("body, Invalid JSON"),
		},
		{
			name: "400 invalid UTF-8",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"note":"caf` + "\xe9" + `"}`),
			wantStatus: 400,
			wantBody:   validationError("body, Invalid JSON"),
		},
		{
			name:       "400 body not an object",
			body:       `[` + addBody(refill) + `]`,
			wantStatus: 400,
			wantBody:   validationError("body, Expected object, received array"),
		},

		// Top level.
		{
			name: "400 unknown top-level key",
			body: `{"action":"ADD_ESCALATION","escalations":[` + refill +
				`],"unknownField":true}`,
			wantStatus: 400,
			wantBody: validationError("unknownField, " +
				"Unrecognized key(s) in object: 'unknownField'"),
		},
		{
			name: "400 every unknown top-level key is named",
			body: `{"caseId":"x","action":"ADD_ESCALATION","escalations":[` +
				refill + `],"dryRun":true}`,
			wantStatus: 400,
			wantBody: validationError("caseId, " +
				"Unrecognized key(s) in object: 'caseId', 'dryRun'"),
		},
		{
			name:       "400 wrong action",
			body:       `{"action":"add_escalation","escalations":[` + refill + `]}`,
			wantStatus: 400,
			wantBody: validationError(
				`action, Invalid literal value, expected "ADD_ESCALATION"`),
		},
		{
			name:       "400 action missing",
			body:       `{"escalations":[` + refill + `]}`,
			wantStatus: 400,
			wantBody:   validationError("action, Required"),
		},
		{
			name:       "400 action not a string",
			body:       `{"action":1,"escalations":[` + refill + `]}`,
			wantStatus: 400,
			wantBody:   validationError("action, Expected string, received number"),
		},
		{
			name:       "400 escalations missing",
			body:       `{"action":"ADD_ESCALATION"}`,
			wantStatus: 400,
			wantBody:   validationError("escalations, Required"),
		},
		{
			name:       "400 escalations not an array",
			body:       `{"action":"ADD_ESCALATION","escalations":` + refill + `}`,
			wantStatus: 400,
			wantBody: validationError(
				"escalations, Expected array, received object"),
		},

		// Items.
		{
			name:       "400 item not an object",
			body:       addBody(`"Refill Request"`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0, Expected object, received string"),
		},
		{
			name:       "400 type is exact lower case",
			body:       addBody(`{"type":"Support","title":"Refill Request"}`),
			wantStatus: 400,
			wantBody:   validationError(badType),
		},
		{
			name:       "400 type missing",
			body:       addBody(`{"title":"Refill Request"}`),
			wantStatus: 400,
			wantBody:   validationError(badType),
		},
		{
			name:       "400 title is case-sensitive",
			body:       addBody(`{"type":"support","title":"refill request"}`),
			wantStatus: 400,
			wantBody: validationError(`escalations.0.title, Invalid title ` +
				`"refill request" for type "support". Valid titles: ` + support),
		},
		{
			name: "400 the document's escaped comma is not a title",
			body: addBody(`{"type":"support",` +
				`"title":"Payment Received\\, Missing CIF"}`),
			wantStatus: 400,
			wantBody: validationError(`escalations.0.title, Invalid title ` +
				`"Payment Received\, Missing CIF" for type "support". ` +
				`Valid titles: ` + support),
		},
		{
			name: "200 a title with a comma",
			body: addBody(`{"type":"external",` +
				`"title":"Payment Received, Missing CIF"}`),
			wantStatus:  200,
			wantBody:    succeeded(bare("external", "Payment Received, Missing CIF")),
			wantCreated: 1,
		},
		{
			name:       "400 title of another type",
			body:       addBody(`{"type":"clinical","title":"Cancellation"}`),
			wantStatus: 400,
			wantBody: validationError(`escalations.0.title, Invalid title ` +
				`"Cancellation" for type "clinical". Valid titles: ` + clinical),
		},
		{
			name:       "400 title missing",
			body:       addBody(`{"type":"support"}`),
			wantStatus: 400,
			wantBody:   validationError("escalations.0.title, Required"),
		},
		{
			name:       "400 title not a string",
			body:       addBody(`{"type":"support","title":["Cancellation"]}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.title, Expected string, received array"),
		},
		{
			name: "400 note not a string",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"note":42}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.note, Expected string, received number"),
		},
		{
			name: "400 note null",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"note":null}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.note, Expected string, received null"),
		},
		{
			name: "200 date with an offset is answered in UTC",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"followUpDueAt":"2025-06-01T08:00:00-04:00"}`),
			wantStatus: 200,
			wantBody: succeeded(answered("support", "Refill Request", "null",
				`"2025-06-01T12:00:00.000Z"`, "null")),
			wantCreated: 1,
		},
		{
			name: "400 date without a time",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"followUpDueAt":"2025-06-01"}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.followUpDueAt, Invalid datetime"),
		},
		{
			name: "400 spreadsheet date",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"followUpDueAt":"6/1/2025 12:00 PM"}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.followUpDueAt, Invalid datetime"),
		},
		{
			name: "400 date that does not exist",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"followUpDueAt":"2025-02-30T12:00:00.000Z"}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.followUpDueAt, Invalid datetime"),
		},
		{
			name: "400 date not a string",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"followUpDueAt":1748779200}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.followUpDueAt, Expected string, received number"),
		},
		{
			name: "400 email not an address",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"assignedToEmail":"Agent <agent@example.com>"}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.assignedToEmail, Invalid email"),
		},
		{
			name: "400 empty email",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"assignedToEmail":""}`),
			wantStatus: 400,
			wantBody: validationError(
				"escalations.0.assignedToEmail, Invalid email"),
		},
		{
			name: "400 the first failing item is reported",
			body: addBody(refill, `{"type":"support","title":"Nope"}`,
				`{"type":"nope","title":"Cancellation"}`),
			wantStatus: 400,
			wantBody: validationError(`escalations.1.title, Invalid title ` +
				`"Nope" for type "support". Valid titles: ` + support),
		},
		{
			name:       "400 the schema is checked before the case",
			caseID:     caseGone,
			body:       addBody(`{"type":"urgent","title":"Refill Request"}`),
			wantStatus: 400,
			wantBody:   validationError(badType),
		},

		// Cases and organisations.
		{
			name:       "400 an upper-case case id is not found",
			caseID:     strings.ToUpper(caseA),
			body:       addBody(refill),
			wantStatus: 400,
			wantBody:   invalidRequest("Case not found!"),
		},
		{
			name:       "400 a case id that is not a UUID is not found",
			caseID:     "12345",
			body:       addBody(refill),
			wantStatus: 400,
			wantBody:   invalidRequest("Case not found!"),
		},
		{
			name: "200 assignee matched ignoring case",
			body: addBody(`{"type":"clinical","title":"Urgent",` +
				`"assignedToEmail":"nurse.jones@EXAMPLE.com"}`),
			wantStatus: 200,
			wantBody: succeeded(answered("clinical", "Urgent", "null", "null",
				js(UserID(orgA, "Nurse.Jones@example.com")))),
			wantCreated: 1,
		},
		{
			name: "400 a duplicate is found before an unknown assignee",
			body: addBody(refill, `{"type":"support","title":"Refill Request",`+
				`"assignedToEmail":"nobody@example.com"}`),
			wantStatus: 400,
			wantBody: invalidRequest("Duplicate escalation in request: " +
				"support / Refill Request"),
		},
		{
			name:   "400 an unknown assignee is found before an active one",
			caseID: caseActive,
			body: addBody(cancel, `{"type":"support","title":"Refill Request",`+
				`"assignedToEmail":"nobody@example.com"}`),
			wantStatus: 400,
			wantBody: invalidRequest("No assignable user found with email " +
				"nobody@example.com for this organization"),
		},
		{
			name:       "400 already active names the first such item",
			caseID:     caseActive,
			body:       addBody(refill, cancel),
			wantStatus: 400,
			wantBody: invalidRequest(
				"Escalation already active on this case: support / Cancellation"),
		},
		{
			name:       "200 older active escalations are listed first",
			caseID:     caseActive,
			body:       addBody(refill, `{"type":"clinical","title":"Urgent"}`),
			wantStatus: 200,
			wantBody: succeeded(seededCancellation,
				bare("support", "Refill Request"), bare("clinical", "Urgent")),
			wantCreated: 2,
		},

		// Routing.
		{
			name:       "404 unknown path",
			path:       "/api/v1/case/" + caseA,
			body:       addBody(refill),
			wantStatus: 404,
			wantBody: failed(404, "Not Found",
				"Cannot POST /api/v1/case/"+caseA),
		},
		{
			name:       "404 trailing slash",
			path:       casesPath + "/" + caseA + "/",
			body:       addBody(refill),
			wantStatus: 404,
			wantBody: failed(404, "Not Found",
				"Cannot POST "+casesPath+"/"+caseA+"/"),
		},
		{
			name:       "405 GET on a case",
			method:     http.MethodGet,
			wantStatus: 405,
			wantBody: failed(405, "Method Not Allowed",
				"Cannot GET "+casesPath+"/"+caseA),
			wantHeader: map[string]string{"Allow": "POST"},
		},
		{
			name: "413 body too large",
			body: addBody(`{"type":"support","title":"Refill Request",` +
				`"note":"` + strings.Repeat("x", maxBody) + `"}`),
			wantStatus: 413,
			wantBody:   failed(413, "Invalid request", "Request body too large"),
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base, _ := serve(t, testSeed())
			method, caseID, headers := tt.method, tt.caseID, tt.headers
			if method == "" {
				method = http.MethodPost
			}
			if caseID == "" {
				caseID = caseA
			}
			if headers == nil {
				headers = jsonHeaders(keyA)
			}
			path := tt.path
			if path == "" {
				path = casesPath + "/" + caseID
			}

			got := call(t, method, base+path, headers, tt.body)

			assert.Equal(t, tt.wantStatus, got.status, "status; body %s", got.body)
			assert.JSONEq(t, tt.wantBody, withIDs(got.body))
			assert.Equal(t, "application/json; charset=utf-8",
				got.header.Get("Content-Type"))
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, got.header.Get(k), "header %s", k)
			}
			assert.Len(t, s.Created(), tt.wantCreated, "escalations created")
			if tt.wantCreated == 0 {
				require.Len(t, s.Active(caseActive), 1)
				assert.Empty(t, s.Active(caseA))
			}
		})
	}
}

func TestAddEscalationIsAllOrNothing(t *testing.T) {
	tests := []struct {
		name       string
		caseID     string
		items      []string
		wantStatus int
	}{
		{
			name:   "unknown assignee on the last item",
			caseID: caseA,
			items: []string{
				`{"type":"support","title":"Refill Request"}`,
				`{"type":"clinical","title":"Urgent"}`,
				`{"type":"external","title":"Refund Needed",` +
					`"assignedToEmail":"nobody@example.com"}`,
			},
			wantStatus: 400,
		},
		{
			name:   "already active on the last item",
			caseID: caseActive,
			items: []string{
				`{"type":"support","title":"Refill Request"}`,
				`{"type":"support","title":"Cancellation"}`,
			},
			wantStatus: 400,
		},
		{
			name:   "invalid title on the last item",
			caseID: caseA,
			items: []string{
				`{"type":"support","title":"Refill Request"}`,
				`{"type":"support","title":"Refill request!"}`,
			},
			wantStatus: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base, _ := serve(t, testSeed())
			before := s.Active(tt.caseID)

			got := postCase(t, base, keyA, tt.caseID, addBody(tt.items...))

			assert.Equal(t, tt.wantStatus, got.status, "body %s", got.body)
			assert.Empty(t, s.Created())
			assert.Equal(t, before, s.Active(tt.caseID))
			recs := s.Requests()
			require.Len(t, recs, 1)
			assert.Equal(t, len(tt.items), recs[0].Items)
		})
	}
}

func TestSuccessBodyDecodes(t *testing.T) {
	s, base, _ := serve(t, testSeed())

	got := postCase(t, base, keyA, caseActive, addBody(docItem))
	require.Equal(t, 200, got.status, got.body)

	var body struct {
		Data struct {
			Escalations []Escalation `json:"escalations"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(got.body), &body))
	list := body.Data.Escalations
	require.Len(t, list, 2)
	assert.Equal(t, seededID, list[0].ID)

	created := s.Created()
	require.Len(t, created, 1)
	want := created[0].Escalation
	assert.Equal(t, caseActive, created[0].CaseID)
	assert.Equal(t, "agent@example.com", want.AssignedToEmail)
	want.AssignedToEmail = "" // not part of the answer
	assert.Equal(t, want, list[1])
}

func TestListCases(t *testing.T) {
	query := "?from=2025-05-12T09:59:00Z&to=2025-05-12T10:00:00Z"
	tests := []struct {
		name       string
		key        string
		query      string
		wantStatus int
		wantBody   string
	}{
		{
			name:       "valid key, one per page",
			key:        keyA,
			query:      query + "&page=1&pageSize=1",
			wantStatus: 200,
			wantBody: `{"status":200,"success":true,"data":{"cases":["` +
				caseA + `"],"total":2}}`,
		},
		{
			name:       "second page",
			key:        keyA,
			query:      query + "&page=2&pageSize=1",
			wantStatus: 200,
			wantBody: `{"status":200,"success":true,"data":{"cases":["` +
				caseActive + `"],"total":2}}`,
		},
		{
			name:       "past the end",
			key:        keyB,
			query:      query + "&page=3&pageSize=10",
			wantStatus: 200,
			wantBody:   `{"status":200,"success":true,"data":{"cases":[],"total":1}}`,
		},
		{
			name:       "unknown key",
			key:        "not-a-key",
			query:      query + "&page=1&pageSize=1",
			wantStatus: 401,
			wantBody:   failed(401, "Unauthorized", "Invalid API key"),
		},
		{
			name:       "missing key",
			query:      query + "&page=1&pageSize=1",
			wantStatus: 401,
			wantBody:   failed(401, "Unauthorized", "Invalid API key"),
		},
		{
			name:       "from missing",
			key:        keyA,
			query:      "?to=2025-05-12T10:00:00Z&page=1&pageSize=1",
			wantStatus: 400,
			wantBody:   validationError("from, Required"),
		},
		{
			name:       "to not a date",
			key:        keyA,
			query:      "?from=2025-05-12T09:59:00Z&to=now&page=1&pageSize=1",
			wantStatus: 400,
			wantBody:   validationError("to, Invalid datetime"),
		},
		{
			name:       "page zero",
			key:        keyA,
			query:      query + "&page=0&pageSize=1",
			wantStatus: 400,
			wantBody: validationError(
				"page, Number must be greater than or equal to 1"),
		},
		{
			name:       "pageSize too large",
			key:        keyA,
			query:      query + "&page=1&pageSize=1000",
			wantStatus: 400,
			wantBody: validationError(
				"pageSize, Number must be less than or equal to 100"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base, _ := serve(t, testSeed())
			hdr := map[string]string{}
			if tt.key != "" {
				hdr[HeaderAPIKey] = tt.key
			}

			got := call(t, http.MethodGet, base+casesPath+tt.query, hdr, "")

			assert.Equal(t, tt.wantStatus, got.status)
			assert.JSONEq(t, tt.wantBody, got.body)
		})
	}

	t.Run("POST on the collection is not allowed", func(t *testing.T) {
		_, base, _ := serve(t, testSeed())
		got := call(t, http.MethodPost, base+casesPath, jsonHeaders(keyA),
			addBody(docItem))
		assert.Equal(t, 405, got.status)
		assert.Equal(t, "GET", got.header.Get("Allow"))
	})
}

func TestRequestsNeverHoldTheKey(t *testing.T) {
	s, base, _ := serve(t, testSeed())
	badKey := "wrong-key-do-not-store-7c1e"

	postCase(t, base, keyA, caseA, addBody(docItem))
	postCase(t, base, badKey, caseA, addBody(docItem))
	call(t, http.MethodGet, base+casesPath+"?from=x", jsonHeaders(keyA), "")

	recs := s.Requests()
	require.Len(t, recs, 3)
	asJSON, err := json.Marshal(recs)
	require.NoError(t, err)
	for _, dump := range []string{fmt.Sprintf("%+v", recs), string(asJSON)} {
		for _, key := range []string{keyA, badKey} {
			assert.NotContains(t, dump, key)
		}
		assert.NotContains(t, dump, "Patient called")
	}

	assert.True(t, recs[0].KeyValid)
	assert.Equal(t, 200, recs[0].Status)
	assert.Equal(t, caseA, recs[0].CaseID)
	assert.Equal(t, 1, recs[0].Items)
	assert.Equal(t, "cvimport-test/1.0", recs[0].UserAgent)
	assert.Equal(t, "application/json", recs[0].ContentType)
	assert.False(t, recs[1].KeyValid)
	assert.Equal(t, 401, recs[1].Status)
	assert.Equal(t, http.MethodGet, recs[2].Method)
	assert.Equal(t, casesPath, recs[2].Path)
}
