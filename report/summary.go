package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Reason is one kind of problem, with how often it occurred.
type Reason struct {
	// Text is the problem with its specifics masked: each double-quoted
	// value, or comma-separated run of them, becomes "…" (quotes kept) and
	// each other run of digits becomes N.
	Text string `json:"text"`
	// Count is the number of occurrences, counting each problem of a row.
	Count int `json:"count"`
	// Lines holds up to three example lines, in the order rows came.
	Lines []int `json:"lines"`
}

// SummaryReasons is how many kinds of problem a run's summary lists.
const SummaryReasons = 5

// maxExampleLines is how many lines a Reason keeps as examples.
const maxExampleLines = 3

// problemFields are the field names that open a problem in an error cell
// ("title: unknown title ..."): the importer's known columns, spelled as
// validate.Problem.Field spells them. report and validate are both leaf
// packages, so the list is repeated here rather than imported; a problem
// of a field missing here would be counted together with the one before
// it, and a test in package importer, which sees both, checks the lists
// agree.
var problemFields = []string{
	"caseId", "type", "title", "note", "followUpDueAt", "assignedToEmail",
}

// TopReasons groups the problems in the error cells of the rows that are
// not done and returns the n most frequent groups (all when n <= 0).
//
// An error cell holds one problem, or several joined by "; ". A "; "
// starts a new problem only when a field name and a colon follow it
// ("; caseId: ..."); anything else, such as "; closest: ...", continues the
// problem before it. Problems group by their masked text (see Reason.Text),
// so the same mistake with different values counts as one reason.
//
// The order is deterministic: most frequent first, then by the line each
// was first seen on, then by which was seen first. Example lines are the
// first ones seen, so rows should come in input order. It is a loop over
// a ReasonCounter.
func TopReasons(rows iter.Seq[Record], n int) []Reason {
	var c ReasonCounter
	if rows != nil {
		for rec := range rows {
			c.Add(rec)
		}
	}
	return c.Top(n)
}

// ReasonCounter counts the problems of rows as they come, for a caller
// that sees each row once (a streaming dry run): Add every record in input
// order, then Top gives what TopReasons gives for the same records. It
// keeps one entry per distinct masked problem, not the rows.
//
// The zero value is an empty counter. It is not safe for concurrent use.
type ReasonCounter struct {
	groups map[string]*reasonGroup // by masked text
	order  []*reasonGroup          // in order of first sighting
}

// reasonGroup is a Reason and the order in which it was first seen.
type reasonGroup struct {
	Reason
	first int
}

// Add counts the problems in rec's error cell, unless rec is done or its
// error is empty (see TopReasons for how a cell splits into problems).
func (c *ReasonCounter) Add(rec Record) {
	if rec.Outcome.Status.Done() || rec.Outcome.Err == "" {
		return
	}
	if c.groups == nil {
		c.groups = map[string]*reasonGroup{}
	}
	for _, problem := range splitProblems(rec.Outcome.Err) {
		text := maskProblem(problem)
		g := c.groups[text]
		if g == nil {
			g = &reasonGroup{Reason: Reason{Text: text}, first: len(c.order)}
			c.groups[text] = g
			c.order = append(c.order, g)
		}
		g.Count++
		g.addLine(rec.Line)
	}
}

// Top returns the n most frequent reasons counted so far (all when
// n <= 0), in TopReasons' order; never nil. The result is the caller's:
// later calls to Add do not change it.
func (c *ReasonCounter) Top(n int) []Reason {
	// Most frequent first; ties by first line, then by first sighting,
	// which is unique. Sorting from the order of sighting rather than the
	// map's keeps even the steps of the sort the same from run to run.
	sorted := slices.Clone(c.order)
	slices.SortFunc(sorted, func(a, b *reasonGroup) int {
		return cmp.Or(
			cmp.Compare(b.Count, a.Count),
			cmp.Compare(a.Lines[0], b.Lines[0]),
			cmp.Compare(a.first, b.first),
		)
	})

	if n > 0 && len(sorted) > n {
		sorted = sorted[:n]
	}
	reasons := make([]Reason, len(sorted))
	for i, g := range sorted {
		reasons[i] = g.Reason
		reasons[i].Lines = slices.Clone(g.Lines)
	}
	return reasons
}

// addLine records line as an example, once, up to maxExampleLines.
func (r *Reason) addLine(line int) {
	if len(r.Lines) >= maxExampleLines || slices.Contains(r.Lines, line) {
		return
	}
	r.Lines = append(r.Lines, line)
}

// splitProblems cuts an error cell into its problems (see TopReasons).
func splitProblems(cell string) []string {
	var problems []string
	start := 0
	for i := 0; ; {
		j := strings.Index(cell[i:], "; ")
		if j < 0 {
			break
		}
		i += j + len("; ")
		if opensProblem(cell[i:]) {
			problems = append(problems, cell[start:i-len("; ")])
			start = i
		}
	}
	return append(problems, cell[start:])
}

// opensProblem reports whether s starts with a field name and ": ".
func opensProblem(s string) bool {
	for _, field := range problemFields {
		if strings.HasPrefix(s, field+": ") {
			return true
		}
	}
	return false
}

// maskProblem replaces each double-quoted value, or comma-separated run of
// them, with "…" and each run of ASCII digits outside them with N. A
// backslash escapes the next byte inside quotes, as Go's %q writes them.
func maskProblem(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			end := quotedEnd(s, i)
			if end < 0 { // unterminated: keep the rest as it is
				b.WriteString(s[i:])
				return b.String()
			}
			// Swallow a list: "a", "b", "c" masks as one value.
			for strings.HasPrefix(s[end:], `, "`) {
				next := quotedEnd(s, end+len(", "))
				if next < 0 {
					break
				}
				end = next
			}
			b.WriteString(`"…"`)
			i = end

		case '0' <= c && c <= '9':
			j := i
			for j < len(s) && '0' <= s[j] && s[j] <= '9' {
				j++
			}
			// An HTTP status is the reason itself, not a value in it.
			if strings.HasSuffix(s[:i], "HTTP ") {
				b.WriteString(s[i:j])
			} else {
				b.WriteByte('N')
			}
			i = j

		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// quotedEnd returns the index just past the quoted value opening at
// s[open], which is '"', or -1 when it is not closed.
func quotedEnd(s string, open int) int {
	for i := open + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// Summary is what a run did, for a person (WriteText) and for monitoring
// (WriteJSON). The caller fills it in; the JSON field names are part of
// the monitoring contract.
type Summary struct {
	Input    string `json:"input"`             // input file path
	Results  string `json:"results"`           // results file path
	Failures string `json:"failures"`          // failures file path
	BaseURL  string `json:"baseUrl,omitempty"` // API base URL, if any
	DryRun   bool   `json:"dryRun"`

	// Rows is the number of data rows read; Counts splits them by status.
	// The JSON form lists every status, zero counts included.
	Rows   int            `json:"rows"`
	Counts map[Status]int `json:"counts"`

	// Delimiter is the delimiter's name (see DelimiterName); BOM tells
	// whether the input started with a UTF-8 byte-order mark.
	Delimiter string `json:"delimiter"`
	BOM       bool   `json:"bom"`
	// Mapping says which input column feeds each known field, one entry
	// per field, such as `caseId <- "Case ID"`.
	Mapping []string `json:"mapping"`

	Cases    int `json:"cases"`    // cases with rows to send
	Requests int `json:"requests"` // requests a real run makes for them
	Sent     int `json:"sent"`     // requests actually sent, retries included
	Retries  int `json:"retries"`  // of those, retries
	TooMany  int `json:"tooMany"`  // answers 429 Too Many Requests

	// Elapsed is the whole run's wall time, reading and checking included;
	// JSON carries it in seconds.
	Elapsed time.Duration `json:"elapsedSeconds"`
	// Rate is the request rate achieved while sending, in requests per
	// second.
	Rate float64 `json:"requestsPerSecond"`

	Reasons  []Reason `json:"reasons"` // top problems, from TopReasons
	ExitCode int      `json:"exitCode"`
	// Stopped says why the run stopped early; empty when it did not.
	Stopped string `json:"stopped"`
}

// DelimiterName returns the name the summary uses for a delimiter:
// "comma", "semicolon", "tab", or the character quoted.
func DelimiterName(r rune) string {
	switch r {
	case ',':
		return "comma"
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	}
	return strconv.QuoteRune(r)
}

// textWidth is where WriteText wraps its lists.
const textWidth = 90

// WriteText writes the summary a person reads on stderr: a compact block
// of short lines (rows and counts by status, delimiter and columns, cases
// and requests, top problems, output paths). Statuses with no rows are
// left out. Long lists wrap; only a problem's text may exceed 100 columns.
//
// It prints no cell value: problem texts come from error cells, which hold
// no notes by design, with their quoted values masked.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format+"\n", args...)
	}

	if s.Input != "" {
		line("input: %s", s.Input)
	}
	line("rows read: %d", s.Rows)
	if counts := s.countItems(); len(counts) > 0 {
		writeWrapped(&b, "  ", counts)
	}
	if s.Stopped != "" {
		line("stopped early: %s", s.Stopped)
	}
	line("delimiter: %s, byte-order mark: %s", s.Delimiter, yesNo(s.BOM))
	if len(s.Mapping) > 0 {
		writeWrapped(&b, "columns: ", s.Mapping)
	}

	// Requests: planned for a dry run, what happened for a real one.
	if s.DryRun {
		line("cases: %d (%s), dry run: nothing sent",
			s.Cases, plural(s.Requests, "request", "requests"))
	} else {
		line("cases: %d (%s planned)",
			s.Cases, plural(s.Requests, "request", "requests"))
		if s.BaseURL != "" {
			line("api: %s", s.BaseURL)
		}
		line("requests: %d sent, %s, %d rate-limited (429), %s, %.1f req/s",
			s.Sent, plural(s.Retries, "retry", "retries"), s.TooMany,
			s.Elapsed.Round(100*time.Millisecond), s.Rate)
	}

	if len(s.Reasons) > 0 {
		line("top problems:")
		for _, r := range s.Reasons {
			line("  %d× %s (%s)", r.Count, r.Text, exampleLines(r))
		}
	}
	if s.Results != "" {
		line("results: %s", s.Results)
	}
	if s.Failures != "" {
		line("failures: %s", s.Failures)
	}

	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	return nil
}

// countItems lists the non-zero counts as "created 30", in Statuses order,
// and adds a warning when they do not add up to Rows.
func (s *Summary) countItems() []string {
	var items []string
	total := 0
	for _, st := range Statuses {
		if n := s.Counts[st]; n != 0 {
			items = append(items, fmt.Sprintf("%s %d", st, n))
			total += n
		}
	}
	if total != s.Rows {
		items = append(items, fmt.Sprintf("(%d of %d rows counted)", total, s.Rows))
	}
	return items
}

// writeWrapped writes items joined by ", " after prefix, starting a new
// line indented by two spaces before an item would pass textWidth.
func writeWrapped(b *strings.Builder, prefix string, items []string) {
	col := 0
	for i, item := range items {
		switch {
		case i == 0:
			b.WriteString(prefix)
			col = len(prefix)
		case col+len(", ")+len(item) > textWidth:
			b.WriteString(",\n  ")
			col = len("  ")
		default:
			b.WriteString(", ")
			col += len(", ")
		}
		b.WriteString(item)
		col += len(item)
	}
	b.WriteByte('\n')
}

// exampleLines says "line 4" or "lines 4, 9, 17", with "…" when the
// reason occurred on more lines than it keeps.
func exampleLines(r Reason) string {
	nums := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		nums[i] = strconv.Itoa(l)
	}
	if r.Count > len(r.Lines) && len(r.Lines) == maxExampleLines {
		nums = append(nums, "…")
	}
	word := "lines "
	if len(nums) == 1 {
		word = "line "
	}
	return word + strings.Join(nums, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// WriteJSON writes the summary as indented JSON (see MarshalJSON), ending
// with a newline. Characters such as '<' and '&' are written as they are.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	return nil
}

// MarshalJSON encodes the summary with the field names of its tags, in
// field order: counts as an object holding every status in Statuses order
// (zeros included), elapsedSeconds as seconds, and empty lists as [].
func (s Summary) MarshalJSON() ([]byte, error) {
	reasons := make([]Reason, len(s.Reasons))
	for i, r := range s.Reasons {
		reasons[i] = r
		if r.Lines == nil {
			reasons[i].Lines = []int{}
		}
	}

	wire := summaryJSON{
		Input:     s.Input,
		Results:   s.Results,
		Failures:  s.Failures,
		BaseURL:   s.BaseURL,
		DryRun:    s.DryRun,
		Rows:      s.Rows,
		Counts:    statusCounts(s.Counts),
		Delimiter: s.Delimiter,
		BOM:       s.BOM,
		Mapping:   nonNil(s.Mapping),
		Cases:     s.Cases,
		Requests:  s.Requests,
		Sent:      s.Sent,
		Retries:   s.Retries,
		TooMany:   s.TooMany,
		Elapsed:   s.Elapsed.Seconds(),
		Rate:      s.Rate,
		Reasons:   reasons,
		ExitCode:  s.ExitCode,
		Stopped:   s.Stopped,
	}

	// Paths and mappings hold '<' and '&'; keep them readable.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(wire); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// summaryJSON is Summary as JSON carries it; its tags must stay those of
// Summary (a test checks).
type summaryJSON struct {
	Input     string       `json:"input"`
	Results   string       `json:"results"`
	Failures  string       `json:"failures"`
	BaseURL   string       `json:"baseUrl,omitempty"`
	DryRun    bool         `json:"dryRun"`
	Rows      int          `json:"rows"`
	Counts    statusCounts `json:"counts"`
	Delimiter string       `json:"delimiter"`
	BOM       bool         `json:"bom"`
	Mapping   []string     `json:"mapping"`
	Cases     int          `json:"cases"`
	Requests  int          `json:"requests"`
	Sent      int          `json:"sent"`
	Retries   int          `json:"retries"`
	TooMany   int          `json:"tooMany"`
	Elapsed   float64      `json:"elapsedSeconds"`
	Rate      float64      `json:"requestsPerSecond"`
	Reasons   []Reason     `json:"reasons"`
	ExitCode  int          `json:"exitCode"`
	Stopped   string       `json:"stopped"`
}

// statusCounts encodes as an object with every status in Statuses order,
// then any other key the map holds, sorted.
type statusCounts map[Status]int

func (c statusCounts) MarshalJSON() ([]byte, error) {
	keys := slices.Clone(Statuses)
	var others []Status
	for st := range c {
		if !slices.Contains(Statuses, st) {
			others = append(others, st)
		}
	}
	slices.Sort(others)
	keys = append(keys, others...)

	b := []byte{'{'}
	for i, st := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		key, err := json.Marshal(string(st))
		if err != nil {
			return nil, err
		}
		b = append(append(b, key...), ':')
		b = strconv.AppendInt(b, int64(c[st]), 10)
	}
	return append(b, '}'), nil
}
