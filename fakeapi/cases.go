package fakeapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxPageSize is the largest pageSize GET /api/v1/cases accepts.
const maxPageSize = 100

// applyLocked runs the case-level checks of a request that passed the
// schema, in the document's order, and applies every item or none.
// The caller holds s.mu.
func (s *Server) applyLocked(org, caseID string, items []item) answer {
	caseOrg, ok := s.caseOrgLocked(caseID)
	if !ok {
		return invalid("Case not found!")
	}
	if caseOrg != org {
		return failure(http.StatusUnauthorized, "Invalid request",
			"Permission denied!")
	}

	// The same type and title twice: the second one is named.
	seen := map[[2]string]bool{}
	for _, it := range items {
		k := [2]string{it.Type, it.Title}
		if seen[k] {
			return invalid("Duplicate escalation in request: " + label(it))
		}
		seen[k] = true
	}

	for _, it := range items {
		email := strings.ToLower(it.AssignedToEmail)
		if it.AssignedToEmail != "" && !s.users[org][email] {
			return invalid("No assignable user found with email " +
				it.AssignedToEmail + " for this organization")
		}
	}

	for _, it := range items {
		if s.activeIndexLocked(caseID, it.Type, it.Title) >= 0 {
			return invalid("Escalation already active on this case: " +
				label(it))
		}
	}

	// Every check passed: apply all items.
	now := s.now().UTC().Truncate(time.Millisecond)
	for _, it := range items {
		e := Escalation{
			ID:              newUUID(),
			Type:            it.Type,
			Title:           it.Title,
			Note:            it.Note,
			FollowUpDueAt:   it.FollowUpDueAt,
			AssignedToEmail: it.AssignedToEmail,
			CreatedAt:       now,
			UpdatedAt:       now,
		}
		if it.AssignedToEmail != "" {
			e.AssignedToUserID = UserID(org, it.AssignedToEmail)
		}
		s.escalations[caseID] = append(s.escalations[caseID], e)
		s.created = append(s.created, CreatedEscalation{caseID, e})
	}

	ans := answer{status: http.StatusOK, body: successBody{
		Status:  http.StatusOK,
		Success: true,
		Message: "Escalation(s) added successfully",
		Data:    successData{Escalations: s.activeLocked(caseID)},
	}}
	if s.dropN > 0 {
		s.dropN--
		ans.drop = true
	}
	return ans
}

// label names an item the way the document's messages do.
func label(it item) string { return it.Type + " / " + it.Title }

// caseOrgLocked returns the organisation of a case, if the case exists.
// Ids are matched exactly as sent. The caller holds s.mu.
func (s *Server) caseOrgLocked(caseID string) (string, bool) {
	if s.notFound[caseID] {
		return "", false
	}
	if org, ok := s.cases[caseID]; ok {
		return org, true
	}
	if s.anyCaseOrg != "" && isLowerUUID(caseID) {
		return s.anyCaseOrg, true
	}
	return "", false
}

// activeIndexLocked returns the index in s.escalations[caseID] of the
// active escalation with that type and title, or -1.
func (s *Server) activeIndexLocked(caseID, typ, title string) int {
	for i, e := range s.escalations[caseID] {
		if !e.IsCompleted && e.Type == typ && e.Title == title {
			return i
		}
	}
	return -1
}

// activeLocked returns a copy of the active escalations of a case, oldest
// first; never nil, so that it is answered as [].
func (s *Server) activeLocked(caseID string) []Escalation {
	out := []Escalation{}
	for _, e := range s.escalations[caseID] {
		if !e.IsCompleted {
			out = append(out, e)
		}
	}
	return out
}

// listCases answers GET /api/v1/cases?from&to&page&pageSize with the ids
// of the key's organisation's known cases (those of the seed, and any
// other that has escalations), sorted. from and to must be RFC 3339 times
// but do not filter: the fake keeps no case dates. Cases that only exist
// through Seed.AnyCaseOrg are not listed.
func (s *Server) listCases(r *http.Request, org string, keyOK bool) answer {
	if !keyOK {
		return badKey()
	}

	q := r.URL.Query()
	for _, name := range []string{"from", "to"} {
		v := q.Get(name)
		if v == "" {
			return validationFailure(name + ", Required")
		}
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return validationFailure(name + ", Invalid datetime")
		}
	}
	page, p := positiveParam(q.Get("page"), "page", 0)
	if p != nil {
		return validationFailure(p.String())
	}
	size, p := positiveParam(q.Get("pageSize"), "pageSize", maxPageSize)
	if p != nil {
		return validationFailure(p.String())
	}

	s.mu.Lock()
	ids := s.casesOfLocked(org)
	s.mu.Unlock()

	start := min((page-1)*size, len(ids))
	end := min(start+size, len(ids))
	return answer{status: http.StatusOK, body: listBody{
		Status:  http.StatusOK,
		Success: true,
		Data:    listData{Cases: slices.Clone(ids[start:end]), Total: len(ids)},
	}}
}

// casesOfLocked returns the sorted ids of an organisation's known cases.
func (s *Server) casesOfLocked(org string) []string {
	ids := []string{}
	for id := range s.cases {
		if s.cases[id] == org && !s.notFound[id] {
			ids = append(ids, id)
		}
	}
	for id := range s.escalations {
		if o, ok := s.caseOrgLocked(id); ok && o == org &&
			!slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// positiveParam reads a required whole-number query parameter of at
// least 1 and, when limit > 0, at most limit.
func positiveParam(v, name string, limit int) (int, *problem) {
	if v == "" {
		return 0, &problem{name, "Required"}
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, &problem{name, "Expected number, received string"}
	case n < 1:
		return 0, &problem{name, "Number must be greater than or equal to 1"}
	case limit > 0 && n > limit:
		return 0, &problem{name, "Number must be less than or equal to " +
			strconv.Itoa(limit)}
	}
	return n, nil
}

// isLowerUUID reports whether s is a UUID written in lower-case hex.
func isLowerUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
