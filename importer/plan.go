package importer

import (
	"iter"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// Done tells which rows an earlier run finished (the -resume feature).
// BuildPlan calls Lookup from several goroutines at once: it must be safe
// for concurrent use (a map only read after it is built is).
type Done interface {
	// Lookup returns the escalation id recorded for a row whose
	// validate.Checked.Key is key, and whether that row is done.
	Lookup(key string) (escalationID string, ok bool)
}

// BuildPlan gives every row of sheet its verdict before anything is sent.
// done may be nil: then no row was done before. chk must be safe for
// concurrent use, as a built validate.Checker is.
//
// A row is Invalid when it is ragged (another number of fields than the
// header) or fails the field checks; its Err lists every problem, joined
// with "; ", the ragged one first. A row that passes the field checks gets
// its Plan.Checked entry (even when ragged or a duplicate, though only
// Pending rows are ever sent) and then, unless ragged:
//   - Skipped, with the recorded id, when done has its Key;
//   - Invalid when an earlier row has the same DuplicateKey (caseId, type
//     and title); the error names that row's line;
//   - Pending otherwise.
//
// The first row of each DuplicateKey wins whether it is Pending or
// Skipped: a row repeating one already created must not be sent either.
// Groups hold the Pending rows, one group per case in order of the case's
// first Pending row, rows in input order.
//
// DryRun applies the very same rules (checkRow, then a planner) to a file
// it streams.
func BuildPlan(sheet *Sheet, chk *validate.Checker, done Done) *Plan {
	n := len(sheet.Rows)
	p := &Plan{
		Sheet:    sheet,
		Outcomes: make([]report.Outcome, n),
		Checked:  make([]validate.Checked, n),
	}

	// Check the rows, each on its own, spread over the CPUs.
	forChunks(n, func(lo, hi int) {
		var problems []string // reused from row to row
		for i := lo; i < hi; i++ {
			var rc rowCheck
			rc, problems = checkRow(sheet, &sheet.Rows[i], chk, done, problems[:0])
			p.Outcomes[i] = rc.out
			if rc.passed {
				p.Checked[i] = rc.checked
			}
		}
	})

	// Then in input order: the first row of each key wins; group the rest.
	pl := newPlanner(n)
	for i := range p.Outcomes {
		out, g := pl.add(sheet.Rows[i].Line, p.Outcomes[i], &p.Checked[i])
		p.Outcomes[i] = out
		if g < 0 {
			continue
		}
		if g == len(p.Groups) {
			p.Groups = append(p.Groups, Group{CaseID: p.Checked[i].CaseID})
		}
		p.Groups[g].Rows = append(p.Groups[g].Rows, i)
	}
	return p
}

// rowCheck is what one row shows on its own, before the rules that need
// the rows before it (duplicates, grouping) are applied.
type rowCheck struct {
	// out is Invalid (ragged or failing a field check), Skipped (done
	// before), or the zero Outcome: still to be decided by a planner.
	out report.Outcome
	// checked is the row as it would be sent; set only when passed.
	checked validate.Checked
	// passed is true when the row passed the field checks, even if it is
	// ragged.
	passed bool
}

// checkRow checks one row of sheet on its own. It is safe for concurrent
// use when chk and done are. problems is scratch space, returned for reuse.
func checkRow(sheet *Sheet, row *Row, chk *validate.Checker, done Done,
	problems []string) (rowCheck, []string) {
	var rc rowCheck
	if msg := raggedProblem(row, sheet.Width); msg != "" {
		problems = append(problems, msg)
	}
	checked, probs := chk.Check(sheet.input(row.Fields))
	for _, pr := range probs {
		problems = append(problems, pr.Error())
	}
	if len(probs) == 0 {
		rc.checked, rc.passed = checked, true
	}

	switch {
	case len(problems) > 0:
		rc.out = report.Outcome{
			Status: report.Invalid,
			Err:    strings.Join(problems, "; "),
		}
	case done != nil:
		if id, ok := done.Lookup(checked.Key()); ok {
			rc.out = report.Outcome{Status: report.Skipped, EscalationID: id}
		}
	}
	return rc, problems
}

// planner applies the rules that depend on the rows before: the first row
// of each DuplicateKey wins, and Pending rows are grouped by case. It keeps
// only what those rules need (the first line of each key, the groups and
// their sizes), not the rows, so a streaming dry run can use it as well as
// BuildPlan. Rows must be added in input order.
type planner struct {
	dups    *dupIndex
	groupOf map[string]int // case id -> group index
	sizes   []int          // Pending rows of each group
}

// newPlanner returns a planner expecting about rows rows (0 if unknown).
func newPlanner(rows int) *planner {
	return &planner{dups: newDupIndex(rows), groupOf: make(map[string]int)}
}

// add decides the next row, which starts on line, from its own verdict pre
// (rowCheck.out) and, unless pre is Invalid, its checked form. It returns
// the row's outcome and, when that is Pending, the index of its case's
// group (a new group is len of the groups so far); otherwise -1.
func (p *planner) add(line int, pre report.Outcome,
	checked *validate.Checked) (report.Outcome, int) {
	if pre.Status == report.Invalid {
		return pre, -1
	}

	// The first row of a key holds it, even a Skipped one.
	first, dup := p.dups.claim(checked, line)
	switch {
	case pre.Status == report.Skipped:
		return pre, -1
	case dup:
		return report.Outcome{
			Status: report.Invalid,
			Err: "duplicate of line " + strconv.Itoa(first) +
				" (same caseId, type and title)",
		}, -1
	}

	g, ok := p.groupOf[checked.CaseID]
	if !ok {
		g = len(p.sizes)
		// A clone: the id may share memory with the whole row's record.
		p.groupOf[strings.Clone(checked.CaseID)] = g
		p.sizes = append(p.sizes, 0)
	}
	p.sizes[g]++
	return report.Outcome{Status: report.Pending}, g
}

// requests returns how many requests a real run makes for the groups so
// far when each carries at most maxPerRequest rows (0 or less: no cap).
// Requests returns how many requests sending the plan takes when a case's
// rows go at most maxPerRequest to a request (all in one when 0 or less).
func (p *Plan) Requests(maxPerRequest int) int {
	n := 0
	for _, g := range p.Groups {
		n += requestsFor(len(g.Rows), maxPerRequest)
	}
	return n
}

// requestsFor returns how many requests a case of rows pending rows takes.
func requestsFor(rows, maxPerRequest int) int {
	if maxPerRequest <= 0 {
		return 1
	}
	return (rows + maxPerRequest - 1) / maxPerRequest
}

func (p *planner) requests(maxPerRequest int) int {
	n := 0
	for _, size := range p.sizes {
		n += requestsFor(size, maxPerRequest)
	}
	return n
}

// minChunk is the fewest rows worth a goroutine of their own.
const minChunk = 4096

// forChunks splits [0, n) into up to GOMAXPROCS contiguous chunks and
// runs fn on each at once, returning when all are done. Small inputs run
// on the calling goroutine.
func forChunks(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/minChunk)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	size := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// raggedProblem describes a row whose field count differs from the
// header's width, or returns "".
//
// The surplus values are quoted in full so that nothing of the row is lost
// from the results file. If the columns shifted they may hold a note, that
// is patient data: the results file is ours and created 0600, but this
// message must never be logged.
func raggedProblem(row *Row, width int) string {
	if len(row.Extra) == 0 && !row.Short {
		return ""
	}
	var b strings.Builder
	b.WriteString("row has ")
	b.WriteString(strconv.Itoa(int(row.NumFields)))
	b.WriteString(" fields, header has ")
	b.WriteString(strconv.Itoa(width))
	for k, v := range row.Extra {
		if k == 0 {
			b.WriteString("; extra values: ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

// Records yields every row in input order with its current outcome, as the
// report writers want them. The Fields are the row's own, not copies.
func (p *Plan) Records() iter.Seq[report.Record] {
	return func(yield func(report.Record) bool) {
		for i := range p.Sheet.Rows {
			row := &p.Sheet.Rows[i]
			rec := report.Record{Line: row.Line, Fields: row.Fields, Outcome: p.Outcomes[i]}
			if !yield(rec) {
				return
			}
		}
	}
}

// Counts returns the number of rows of each status; absent statuses are
// absent from the map.
func (p *Plan) Counts() map[report.Status]int {
	counts := make(map[report.Status]int)
	for _, o := range p.Outcomes {
		counts[o.Status]++
	}
	return counts
}

// dupIndex remembers the first line of each DuplicateKey. On a million
// rows the key strings would cost ~100 MB, so it keys its main map by a
// compact exact form of the key instead: the case id's 16 bytes and a
// number for the type and title. A key is never hashed alone: two rows
// share an entry exactly when their DuplicateKeys are equal. A Checked
// that does not fit the compact form (a case id not in canonical UUID
// form, which Check never returns) goes to a map of the key itself.
type dupIndex struct {
	titles map[typeTitle]uint32 // type and title -> number, in order seen
	first  map[dupKey]int       // compact key -> first line holding it
	other  map[string]int       // DuplicateKey -> first line, for the rest
}

// typeTitle is a type and a title, as Checked spells them.
type typeTitle struct{ typ, title string }

// dupKey is the compact form of a DuplicateKey.
type dupKey struct {
	caseID [16]byte
	title  uint32 // dupIndex.titles number of the type and title
}

// newDupIndex returns an empty index sized for rows keys, so that the map
// is allocated once instead of growing (and copying) step by step.
func newDupIndex(rows int) *dupIndex {
	return &dupIndex{
		titles: make(map[typeTitle]uint32),
		first:  make(map[dupKey]int, rows),
	}
}

// claim records c, found on line, as the holder of its DuplicateKey unless
// an earlier line holds it. It returns the holder's line and true when the
// key was taken. Lines must be claimed in input order.
func (d *dupIndex) claim(c *validate.Checked, line int) (first int, dup bool) {
	id, ok := parseUUID(c.CaseID)
	if !ok {
		if d.other == nil {
			d.other = make(map[string]int)
		}
		return claimIn(d.other, c.DuplicateKey(), line)
	}
	tt := typeTitle{c.Escalation.Type, c.Escalation.Title}
	n, ok := d.titles[tt]
	if !ok {
		n = uint32(len(d.titles))
		d.titles[tt] = n
	}
	return claimIn(d.first, dupKey{caseID: id, title: n}, line)
}

// claimIn gives key to line in m unless an earlier line holds it, and
// returns the holder and whether it was taken.
func claimIn[K comparable](m map[K]int, key K, line int) (int, bool) {
	if first, ok := m[key]; ok {
		return first, true
	}
	m[key] = line
	return line, false
}

// parseUUID reads a case id in canonical form (8-4-4-4-12 lower-case hex
// digits, as validate.ParseCaseID returns it) into its 16 bytes. Any other
// string is refused, so that the bytes map back to exactly one string.
func parseUUID(s string) (id [16]byte, ok bool) {
	if len(s) != 36 {
		return id, false
	}
	k := 0
	for i := 0; i < 36; i += 2 {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return id, false
			}
			i++
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return id, false
		}
		id[k] = hi<<4 | lo
		k++
	}
	return id, true
}

// lowerHex returns the value of a lower-case hexadecimal digit.
func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
