// Package fakeapi is an in-process fake of the Care360 endpoint
// POST /api/v1/cases/{caseId} (action ADD_ESCALATION) and of the
// GET /api/v1/cases read that cvimport uses to check its key.
//
// It is built from the API document and is deliberately strict: a request
// the document would not accept is refused with the document's status and
// body, so a test that passes against it shows that the client sends what
// the API expects. Where the document is silent the fake takes a decision
// and says so beside the code; the main ones are:
//
//   - A missing or unknown cv-api-key answers 401 with error "Invalid API
//     key" before anything else is looked at.
//   - Content-Type must be application/json (a charset of utf-8 is allowed);
//     anything else answers 415. A body that is not one JSON value answers
//     400 VALIDATION_ERROR "body, Invalid JSON".
//   - Validation messages not given by the document use the wording of the
//     zod schema library the document's messages come from ("Required",
//     "Expected string, received number", "Invalid datetime", ...), and the
//     first problem in schema order is reported.
//   - followUpDueAt is any RFC 3339 date-time (an offset is allowed); it is
//     stored and answered as UTC with milliseconds.
//   - Case ids are matched exactly as sent: an upper-case UUID is "Case not
//     found!". Assignee emails are matched ignoring case.
//   - Absent optional fields of an escalation are answered as JSON null.
//
// A Server is an http.Handler; use it with httptest.NewServer or Start.
// Knobs (latency, a server-side rate limit, injected failures, dropped
// connections after apply, cases that are down) may be changed while it
// serves. Inspection methods (Created, Requests, Active) let tests check
// what was really applied. The server never prints or logs, and it never
// stores the API key it was sent, only whether it was valid.
package fakeapi
