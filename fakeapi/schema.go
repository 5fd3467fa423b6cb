package fakeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The action the endpoint supports.
const actionAdd = "ADD_ESCALATION"

// item is one escalation of a request that passed the schema.
type item struct {
	Type            string
	Title           string
	Note            string
	FollowUpDueAt   string // normalized to timeLayout, or empty
	AssignedToEmail string // as sent, or empty
}

// problem is one schema failure: "path, message" in the answer.
type problem struct {
	path string
	msg  string
}

func (p *problem) String() string { return p.path + ", " + p.msg }

// checkBody checks a JSON body against the ADD_ESCALATION schema and
// returns its items. count is the length of the escalations array when
// there is one, even if the body fails. The first problem is reported:
// top-level fields in schema order (action, escalations item by item),
// then unknown top-level keys; inside an item: type, title, note,
// followUpDueAt, assignedToEmail, then unknown keys.
func (s *Server) checkBody(body []byte) ([]item, int, *problem) {
	if k := kindOf(body); k != "object" {
		return nil, 0, &problem{"body", "Expected object, received " + k}
	}
	keys, fields := objectFields(body)

	// escalations is looked at first only to count its items.
	rawItems, isArray := arrayItems(fields["escalations"])
	count := len(rawItems)

	action, ok := fields["action"]
	switch {
	case !ok:
		return nil, count, &problem{"action", "Required"}
	case kindOf(action) != "string":
		return nil, count, &problem{"action", expected("string", action)}
	case stringOf(action) != actionAdd:
		return nil, count, &problem{"action",
			`Invalid literal value, expected "` + actionAdd + `"`}
	}

	raw, ok := fields["escalations"]
	switch {
	case !ok:
		return nil, count, &problem{"escalations", "Required"}
	case !isArray:
		return nil, count, &problem{"escalations", expected("array", raw)}
	case count == 0:
		return nil, count, &problem{"escalations",
			"At least one escalation is required"}
	}

	items := make([]item, 0, count)
	for i, r := range rawItems {
		it, p := s.checkItem("escalations."+strconv.Itoa(i), r)
		if p != nil {
			return nil, count, p
		}
		items = append(items, it)
	}

	if p := unknownKeys("", keys, "action", "escalations"); p != nil {
		return nil, count, p
	}
	return items, count, nil
}

// checkItem checks one element of the escalations array; path is its
// position, such as "escalations.0".
func (s *Server) checkItem(path string, raw json.RawMessage) (item, *problem) {
	if kindOf(raw) != "object" {
		return item{}, &problem{path, expected("object", raw)}
	}
	keys, fields := objectFields(raw)
	var it item

	// type: the document's message for anything but a valid type, as a
	// schema enum with its own message gives.
	typ, ok := fields["type"]
	if !ok || kindOf(typ) != "string" || s.titleSet[stringOf(typ)] == nil {
		return item{}, &problem{path + ".type",
			"Invalid type. Must be one of: " + strings.Join(s.types, ", ")}
	}
	it.Type = stringOf(typ)

	title, ok := fields["title"]
	switch {
	case !ok:
		return item{}, &problem{path + ".title", "Required"}
	case kindOf(title) != "string":
		return item{}, &problem{path + ".title", expected("string", title)}
	case !s.titleSet[it.Type][stringOf(title)]:
		return item{}, &problem{path + ".title", "Invalid title \"" +
			stringOf(title) + "\" for type \"" + it.Type +
			"\". Valid titles: " + strings.Join(s.titles[it.Type], ", ")}
	}
	it.Title = stringOf(title)

	if raw, ok := fields["note"]; ok {
		if kindOf(raw) != "string" {
			return item{}, &problem{path + ".note", expected("string", raw)}
		}
		it.Note = stringOf(raw)
	}

	if raw, ok := fields["followUpDueAt"]; ok {
		p := path + ".followUpDueAt"
		if kindOf(raw) != "string" {
			return item{}, &problem{p, expected("string", raw)}
		}
		t, err := time.Parse(time.RFC3339Nano, stringOf(raw))
		if err != nil {
			return item{}, &problem{p, "Invalid datetime"}
		}
		it.FollowUpDueAt = t.UTC().Format(timeLayout)
	}

	if raw, ok := fields["assignedToEmail"]; ok {
		p := path + ".assignedToEmail"
		if kindOf(raw) != "string" {
			return item{}, &problem{p, expected("string", raw)}
		}
		if !isEmail(stringOf(raw)) {
			return item{}, &problem{p, "Invalid email"}
		}
		it.AssignedToEmail = stringOf(raw)
	}

	known := []string{"type", "title", "note", "followUpDueAt",
		"assignedToEmail"}
	if p := unknownKeys(path, keys, known...); p != nil {
		return item{}, p
	}
	return it, nil
}

// unknownKeys reports the keys not in known, in the document's form: the
// first unknown key in the path, every one in the message.
func unknownKeys(path string, keys []string, known ...string) *problem {
	var extra []string
	for _, k := range keys {
		found := false
		for _, kn := range known {
			found = found || k == kn
		}
		if !found {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) == 0 {
		return nil
	}

	first := strings.Trim(extra[0], "'")
	if path != "" {
		first = path + "." + first
	}
	return &problem{first,
		"Unrecognized key(s) in object: " + strings.Join(extra, ", ")}
}

// expected is the schema message for a value of the wrong JSON type.
func expected(want string, raw json.RawMessage) string {
	return "Expected " + want + ", received " + kindOf(raw)
}

// kindOf names the JSON type of a valid JSON value: object, array,
// string, boolean, null or number.
func kindOf(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "undefined"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// objectFields reads a valid JSON object, keeping its keys in order of
// first appearance. A repeated key keeps its last value, as JSON.parse
// does.
func objectFields(raw []byte) ([]string, map[string]json.RawMessage) {
	var keys []string
	fields := map[string]json.RawMessage{}

	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, fields
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
		if _, seen := fields[key]; !seen {
			keys = append(keys, key)
		}
		fields[key] = v
	}
	return keys, fields
}

// arrayItems splits a JSON array into its elements; ok is false when raw
// is not an array.
func arrayItems(raw json.RawMessage) ([]json.RawMessage, bool) {
	if kindOf(raw) != "array" {
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false
	}
	return items, true
}

// stringOf decodes a JSON string; anything else gives "".
func stringOf(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// isEmail reports whether s is one bare address such as a@b.example.
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at:], ".") &&
		!strings.ContainsAny(s, " \t\r\n")
}

// validJSON reports whether body is exactly one JSON value in UTF-8.
// encoding/json alone would accept invalid UTF-8 inside strings.
func validJSON(body []byte) bool {
	return utf8.Valid(body) && json.Valid(body)
}

// isJSONContentType reports whether a Content-Type header is JSON, with
// at most a utf-8 charset parameter.
func isJSONContentType(v string) bool {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, val := range params {
		if k != "charset" || !strings.EqualFold(val, "utf-8") {
			return false
		}
	}
	return true
}

// isTooLarge reports whether err says the body passed maxBody.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
