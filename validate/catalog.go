package validate

import (
	"bufio"
	"bytes"
	_ "embed" // titles.csv
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/gocarina/gocsv"
)

// The escalation types the API accepts.
const (
	TypeSupport  = "support"
	TypeClinical = "clinical"
	TypeExternal = "external"
)

// apiTypes is the API's type list in the document's order.
var apiTypes = [...]string{TypeSupport, TypeClinical, TypeExternal}

// titlesCSV is the title list of the API document: a `type,title` header,
// then one row per title in the document's order.
//
//go:embed titles.csv
var titlesCSV []byte

// defaultCatalog parses the embedded list once, on first use.
var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := ParseCatalog(bytes.NewReader(titlesCSV))
	if err != nil {
		// The file is compiled in and a test parses it: this is a build bug.
		panic("validate: embedded titles.csv: " + err.Error())
	}
	return c
})

// Catalog is the set of valid titles of each escalation type. It is
// immutable once built and safe for concurrent use.
type Catalog struct {
	sets map[string]*titleSet // by canonical type
}

// titleSet holds the titles of one type.
type titleSet struct {
	titles []string       // canonical spellings, in file order
	keys   []string       // normalized spellings, same index
	exact  map[string]int // canonical spelling -> index
	byKey  map[string]int // normalized spelling -> index
}

// Default returns the catalog embedded in the program, copied from the API
// document. Every call returns the same *Catalog.
func Default() *Catalog { return defaultCatalog() }

// titleRow is one record of a titles file.
type titleRow struct {
	Type  string `csv:"type"`
	Title string `csv:"title"`
}

// ParseCatalog reads a titles file: a `type,title` header (names in any
// case) and one row per title. A leading byte-order mark is skipped. In a
// title, `\,` is read as `,`, as the API document writes it.
//
// The file is refused, with an error naming the line, when it is empty,
// lacks a column or has an unknown one, names an unknown type, has an empty
// title or one holding a control character or a backslash, or repeats a
// title within a type once case and spacing are ignored. A type may have no
// titles: then every title of that type is unknown.
func ParseCatalog(r io.Reader) (*Catalog, error) {
	// gocsv suits this small fixed-schema file: the struct tags are the
	// schema. The row reader of the importer is a hot loop over millions of
	// rows and uses encoding/csv directly, which is several times faster.
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\ufeff")) {
		_, _ = br.Discard(3) // cannot fail: the bytes were just peeked
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true

	um, err := gocsv.NewUnmarshaller(cr, titleRow{})
	if errors.Is(err, io.EOF) {
		return nil, errors.New("read titles: empty file")
	}
	if err != nil {
		return nil, fmt.Errorf("read titles: line 1: %w", err)
	}
	if err := checkTitleHeader(um); err != nil {
		return nil, fmt.Errorf("read titles: line 1: %w", err)
	}

	c := &Catalog{sets: make(map[string]*titleSet, len(apiTypes))}
	seen := make(map[string]int) // type + key -> line
	rows := 0
	for {
		v, err := um.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// csv.ParseError already names its line.
			return nil, fmt.Errorf("read titles: %w", err)
		}
		line, _ := cr.FieldPos(0)
		rows++
		if err := c.add(v.(titleRow), line, seen); err != nil {
			return nil, fmt.Errorf("read titles: line %d: %w", line, err)
		}
	}
	if rows == 0 {
		return nil, errors.New("read titles: no titles after the header")
	}
	return c, nil
}

// checkTitleHeader matches the header ignoring case and surrounding space,
// and insists on exactly the columns type and title: gocsv would otherwise
// leave a missing column empty and ignore an unknown one.
func checkTitleHeader(um *gocsv.Unmarshaller) error {
	var dup string
	err := um.RenormalizeHeaders(func(h []string) []string {
		out := make([]string, len(h))
		seen := make(map[string]bool, len(h))
		for i, name := range h {
			out[i] = strings.ToLower(strings.TrimSpace(name))
			if seen[out[i]] && dup == "" {
				dup = out[i]
			}
			seen[out[i]] = true
		}
		return out
	})
	if err != nil {
		return err
	}
	if dup != "" {
		return fmt.Errorf("column %q appears twice", dup)
	}
	if len(um.MismatchedStructFields) > 0 {
		return fmt.Errorf("missing column %q (want type,title)",
			um.MismatchedStructFields[0])
	}
	if len(um.MismatchedHeaders) > 0 {
		return fmt.Errorf("unknown column %q (want type,title)",
			um.MismatchedHeaders[0])
	}
	return nil
}

// add checks one row of a titles file and adds it to c.
func (c *Catalog) add(row titleRow, line int, seen map[string]int) error {
	typ, ok := ParseType(row.Type)
	if !ok {
		return fmt.Errorf("unknown type %s (want support, clinical or external)",
			quoteCell(row.Type))
	}

	title := strings.TrimSpace(strings.ReplaceAll(row.Title, `\,`, ","))
	switch {
	case title == "":
		return errors.New("empty title")
	case strings.ContainsRune(title, '\\'):
		return fmt.Errorf("title %s holds a backslash; only `\\,` is understood",
			quoteCell(title))
	case strings.ContainsFunc(title, unicode.IsControl):
		return fmt.Errorf("title %s holds a control character", quoteCell(title))
	}

	key := normalizeTitle(title)
	if first, dup := seen[typ+"\x1f"+key]; dup {
		return fmt.Errorf("title %s repeats line %d for type %s",
			quoteCell(title), first, typ)
	}
	seen[typ+"\x1f"+key] = line

	set := c.sets[typ]
	if set == nil {
		set = &titleSet{exact: map[string]int{}, byKey: map[string]int{}}
		c.sets[typ] = set
	}
	set.exact[title] = len(set.titles)
	set.byKey[key] = len(set.titles)
	set.titles = append(set.titles, title)
	set.keys = append(set.keys, key)
	return nil
}

// ParseType reads an escalation type, ignoring case and surrounding space,
// and returns its canonical lower-case spelling. It knows the API's three
// types whatever the catalog holds.
func ParseType(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, t := range apiTypes {
		if strings.EqualFold(s, t) {
			return t, true
		}
	}
	return "", false
}

// Types returns the types that have at least one title, in the API
// document's order: support, clinical, external.
func (c *Catalog) Types() []string {
	out := make([]string, 0, len(apiTypes))
	for _, t := range apiTypes {
		if c.sets[t] != nil {
			out = append(out, t)
		}
	}
	return out
}

// Titles returns the canonical titles of typ, a canonical type, in file
// order; nil for a type with none. The caller may modify the result.
func (c *Catalog) Titles(typ string) []string {
	if set := c.sets[typ]; set != nil {
		return slices.Clone(set.titles)
	}
	return nil
}

// Lookup finds title among the titles of typ, a canonical type, and returns
// its canonical spelling. Matching ignores case, surrounding space and the
// length of runs of white space, and reads `\,` as `,`.
func (c *Catalog) Lookup(typ, title string) (canonical string, ok bool) {
	set := c.sets[typ]
	if set == nil {
		return "", false
	}
	// Most cells are written exactly as the catalog spells them.
	if i, ok := set.exact[title]; ok {
		return set.titles[i], true
	}
	if i, ok := set.byKey[normalizeTitle(title)]; ok {
		return set.titles[i], true
	}
	return "", false
}

// Suggest returns up to n titles of typ, a canonical type, closest to
// title, best first. Titles that start with the normalized input come
// first, then titles that contain it or are contained in it (for inputs of
// three characters or more), then the rest; within each group the smaller
// edit distance wins, then the earlier title. The order is deterministic.
func (c *Catalog) Suggest(typ, title string, n int) []string {
	set := c.sets[typ]
	if set == nil || n <= 0 {
		return nil
	}
	// TODO(cvimport): the distance is over whole titles, so after the best
	// match a short unrelated title can outrank a longer one sharing the
	// first word ("Refil Request" gives "Lab request" before "Refill not
	// processed"). Word-level scoring would make the 2nd and 3rd better.
	key := normalizeTitle(title)
	q := []rune(key)

	type candidate struct{ rank, dist, index int }
	cands := make([]candidate, len(set.keys))
	for i, k := range set.keys {
		rank := 2
		switch {
		case key == "":
		case strings.HasPrefix(k, key):
			rank = 0
		case len(q) >= 3 && (strings.Contains(k, key) || strings.Contains(key, k)):
			rank = 1
		}
		cands[i] = candidate{rank, editDistance(q, []rune(k)), i}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		return a.index - b.index
	})

	out := make([]string, 0, min(n, len(cands)))
	for _, cand := range cands[:min(n, len(cands))] {
		out = append(out, set.titles[cand.index])
	}
	return out
}

// WriteCSV writes the catalog as a titles file that ParseCatalog reads
// back: a `type,title` header, then every title in order. When typ is not
// empty only that type's titles are written; an unknown typ is an error.
func (c *Catalog) WriteCSV(w io.Writer, typ string) error {
	types := c.Types()
	if typ != "" {
		t, ok := ParseType(typ)
		if !ok {
			return fmt.Errorf("write titles: unknown type %s", quoteCell(typ))
		}
		types = []string{t}
	}

	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"type", "title"}); err != nil {
		return fmt.Errorf("write titles: %w", err)
	}
	for _, t := range types {
		for _, title := range c.Titles(t) {
			if err := cw.Write([]string{t, title}); err != nil {
				return fmt.Errorf("write titles: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write titles: %w", err)
	}
	return nil
}

// SameTitle reports whether two spellings name the same title, as Lookup
// matches them: ignoring case, surrounding space and runs of white space,
// with `\,` read as `,`.
func SameTitle(a, b string) bool {
	return normalizeTitle(a) == normalizeTitle(b)
}

// normalizeTitle returns the form titles are matched in: `\,` read as `,`,
// lower case, no surrounding space, each run of white space one space.
func normalizeTitle(s string) string {
	s = strings.ReplaceAll(s, `\,`, ",")

	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// maxQuoted is how many characters of a cell a message quotes at most.
const maxQuoted = 40

// quoteCell quotes a cell value for an error message, cut to maxQuoted
// characters so that a long value (a note pasted into the wrong column)
// cannot fill the message.
func quoteCell(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return fmt.Sprintf("%q…", s[:i])
		}
		n++
	}
	return fmt.Sprintf("%q", s)
}
