package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMaskProblem(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "caseId: missing", "caseId: missing"},
		{"quoted value", `type: "suport" is not a type`, `type: "…" is not a type`},
		{"list of values", `closest: "A", "B, C", "D"`, `closest: "…"`},
		{"digits", "duplicate of line 12", "duplicate of line N"},
		{"digits in a word", "escalations.0.title, bad", "escalations.N.title, bad"},
		{"digits inside quotes", `date "2/30/2025" does not exist`, `date "…" does not exist`},
		{"escaped quote", `title "say \"hi\"" unknown`, `title "…" unknown`},
		{"unterminated quote", `bad "value`, `bad "value`},
		{"non-ASCII", `title: unknown title "Zürich" 2`, `title: unknown title "…" N`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := maskProblem(tt.in)
			assert.Equal(t, tt.want, got, "maskProblem(%q): got %q, want %q", tt.in, got, tt.want)
		})
	}
}

func TestSplitProblems(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"one", "caseId: missing", []string{"caseId: missing"}},
		{"two", "caseId: missing; title: missing",
			[]string{"caseId: missing", "title: missing"}},
		{"continuation", `title: unknown "X"; closest: "Y"; type: bad`,
			[]string{`title: unknown "X"; closest: "Y"`, "type: bad"}},
		{"API message", "Case not found!", []string{"Case not found!"}},
		{"trailing separator", "note: too long; ", []string{"note: too long; "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, splitProblems(tt.in))
		})
	}
}

func outcomeAt(line int, st Status, err string) Record {
	return Record{Line: line, Outcome: Outcome{Status: st, Err: err}}
}

func TestTopReasons(t *testing.T) {
	tests := []struct {
		name string
		recs []Record
		n    int
		want []Reason
	}{
		{
			name: "fixture",
			recs: testRecords(),
			n:    0,
			want: []Reason{
				{`title: unknown title "…" for type support; closest: "…"`, 2, []int{6, 10}},
				{`caseId: "…" is not a UUID`, 1, []int{7}},
				{`followUpDueAt: "…" is not a date`, 1, []int{7}},
				{"No assignable user found with email nobody@example.com " +
					"for this organization", 1, []int{8}},
				{"no usable answer after N attempts: N", 1, []int{9}},
				{"caseId: missing", 1, []int{12}},
				{"type: missing", 1, []int{12}},
				{"title: missing", 1, []int{12}},
			},
		},
		{
			name: "done rows and empty errors are left out",
			recs: []Record{
				outcomeAt(2, Created, "ignored"), outcomeAt(3, Skipped, "ignored"),
				outcomeAt(4, AlreadyActive, "ignored"), outcomeAt(5, Pending, ""),
			},
			want: []Reason{},
		},
		{
			name: "most frequent first, ties by first line",
			recs: []Record{
				outcomeAt(2, Invalid, "type: missing"),
				outcomeAt(3, Failed, "Case not found!"),
				outcomeAt(4, Invalid, "note: too long"),
				outcomeAt(5, Failed, "Case not found!"),
				outcomeAt(6, Invalid, "type: missing"),
				outcomeAt(7, Failed, "Case not found!"),
			},
			want: []Reason{
				{"Case not found!", 3, []int{3, 5, 7}},
				{"type: missing", 2, []int{2, 6}},
				{"note: too long", 1, []int{4}},
			},
		},
		{
			name: "three example lines, each once",
			recs: []Record{
				outcomeAt(2, Invalid, `type: "a" unknown; type: "b" unknown`),
				outcomeAt(3, Invalid, `type: "c" unknown`),
				outcomeAt(4, Invalid, `type: "d" unknown`),
				outcomeAt(5, Invalid, `type: "e" unknown`),
			},
			want: []Reason{{`type: "…" unknown`, 5, []int{2, 3, 4}}},
		},
		{
			name: "n keeps the top",
			recs: []Record{
				outcomeAt(2, Error, "timeout"), outcomeAt(3, Error, "timeout"),
				outcomeAt(4, Error, "reset"), outcomeAt(5, Error, "eof"),
			},
			n: 2,
			want: []Reason{
				{"timeout", 2, []int{2, 3}},
				{"reset", 1, []int{4}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TopReasons(slices.Values(tt.recs), tt.n)
			assert.Equal(t, tt.want, got)

			again := TopReasons(slices.Values(tt.recs), tt.n)
			assert.Equal(t, got, again, "two calls must agree")
		})
	}
}

// testSummaries are a dry run and a real run that stopped early.
func testSummaries() map[string]*Summary {
	recs := slices.Values(testRecords())
	counts := map[Status]int{}
	for r := range recs {
		counts[r.Outcome.Status]++
	}
	mapping := []string{
		`caseId <- "Case ID"`, `type <- "Type"`, `title <- "Title"`, `note <- "Note"`,
		`followUpDueAt <- "Follow-up"`, `assignedToEmail <- "Assigned To"`,
	}
	dry := &Summary{
		Input:     "samples/escalations.csv",
		Results:   "samples/escalations.results.csv",
		Failures:  "samples/escalations.failures.csv",
		DryRun:    true,
		Rows:      10,
		Counts:    map[Status]int{Invalid: 4, Pending: 6},
		Delimiter: DelimiterName(';'),
		BOM:       true,
		Mapping:   mapping,
		Cases:     3,
		Requests:  3,
		Reasons:   TopReasons(recs, 5),
		ExitCode:  1,
	}
	real := &Summary{
		Input:     "in.csv",
		Results:   "out/in.results.csv",
		Failures:  "out/in.failures.csv",
		BaseURL:   "https://api-staging.care360-next.carevalidate.com",
		Rows:      10,
		Counts:    counts,
		Delimiter: DelimiterName(','),
		Mapping:   mapping[:3],
		Cases:     3,
		Requests:  4,
		Sent:      9,
		Retries:   1,
		TooMany:   2,
		Elapsed:   3240 * time.Millisecond,
		Rate:      2.777,
		Reasons:   TopReasons(recs, 3),
		ExitCode:  3,
		Stopped:   "5 cases in a row ended in error",
	}
	return map[string]*Summary{"dry": dry, "real": real}
}

func TestSummaryWriteTextGolden(t *testing.T) {
	for name, s := range testSummaries() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, s.WriteText(&buf))
			checkGolden(t, "summary-"+name+".txt", buf.Bytes())
		})
	}
}

func TestSummaryWriteJSONGolden(t *testing.T) {
	for name, s := range testSummaries() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, s.WriteJSON(&buf))
			checkGolden(t, "summary-"+name+".json", buf.Bytes())
		})
	}
}

// A zero summary still has every key monitoring reads, every status
// counted, and lists rather than nulls.
func TestSummaryJSONZero(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, (&Summary{}).WriteJSON(&buf))
	want := `{
		"input": "", "results": "", "failures": "", "dryRun": false, "rows": 0,
		"counts": {"created": 0, "already_active": 0, "skipped": 0, "invalid": 0,
			"failed": 0, "error": 0, "pending": 0},
		"delimiter": "", "bom": false, "mapping": [], "cases": 0, "requests": 0,
		"sent": 0, "retries": 0, "tooMany": 0, "elapsedSeconds": 0,
		"requestsPerSecond": 0, "reasons": [], "exitCode": 0, "stopped": ""
	}`
	assert.JSONEq(t, want, buf.String())
}

// The wire form carries exactly Summary's tags, in Summary's field order.
func TestSummaryJSONTagsMatch(t *testing.T) {
	tags := func(v any) []string {
		var out []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			out = append(out, typ.Field(i).Tag.Get("json"))
		}
		return out
	}
	assert.Equal(t, tags(Summary{}), tags(summaryJSON{}))
}

func TestSummaryJSONRoundTrip(t *testing.T) {
	s := testSummaries()["real"]
	data, err := json.Marshal(s)
	require.NoError(t, err)

	var got map[string]any
	require.NoError(t, json.Unmarshal(data, &got))
	assert.InDelta(t, 3.24, got["elapsedSeconds"], 1e-9)
	assert.Equal(t, s.BaseURL, got["baseUrl"])
	counts := got["counts"].(map[string]any)
	for _, st := range Statuses {
		assert.InDelta(t, float64(s.Counts[st]), counts[string(st)], 0, "count of %s", st)
	}
}

// Lines stay short even with big numbers and many columns; only problem
// lines may run long.
func TestSummaryTextWidth(t *testing.T) {
	s := testSummaries()["real"]
	s.Rows = 7 * 1_000_000
	s.Counts = map[Status]int{}
	for _, st := range Statuses {
		s.Counts[st] = 1_000_000
	}
	for i := range 12 {
		s.Mapping = append(s.Mapping, strings.Repeat("x", i+5)+` <- "Some Column"`)
	}
	s.Reasons = []Reason{{strings.Repeat("long problem ", 20), 1, []int{2}}}

	var buf bytes.Buffer
	require.NoError(t, s.WriteText(&buf))
	for line := range strings.Lines(buf.String()) {
		line = strings.TrimSuffix(line, "\n")
		if strings.Contains(line, "× ") {
			continue
		}
		n := utf8.RuneCountInString(line)
		assert.Less(t, n, 100, "line of %d columns: %q", n, line)
	}
	assert.Contains(t, buf.String(), "pending 1000000")
}

func TestSummaryTextCountsMismatch(t *testing.T) {
	s := &Summary{Rows: 3, Counts: map[Status]int{Created: 2}}
	var buf bytes.Buffer
	require.NoError(t, s.WriteText(&buf))
	assert.Contains(t, buf.String(), "  created 2, (2 of 3 rows counted)\n")
}

func TestDelimiterName(t *testing.T) {
	tests := []struct {
		in   rune
		want string
	}{
		{',', "comma"}, {';', "semicolon"}, {'\t', "tab"}, {'|', "'|'"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, DelimiterName(tt.in))
		})
	}
}

// A ReasonCounter fed row by row agrees with TopReasons at every step, and
// what Top returned is not changed by later rows.
func TestReasonCounterIncremental(t *testing.T) {
	recs := testRecords()
	var c ReasonCounter
	assert.Equal(t, []Reason{}, c.Top(5), "empty counter")

	var earlier []Reason
	for i, rec := range recs {
		c.Add(rec)
		want := TopReasons(slices.Values(recs[:i+1]), 3)
		got := c.Top(3)
		assert.Equal(t, want, got, "after %d records", i+1)
		if i == 4 {
			earlier = got
		}
	}
	assert.Equal(t, TopReasons(slices.Values(recs[:5]), 3), earlier,
		"a result of Top changed after more records were added")
}
