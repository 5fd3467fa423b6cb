package validate

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultCatalogCounts(t *testing.T) {
	// Counted by hand from the API document's three title lists.
	want := map[string]int{"support": 47, "clinical": 27, "external": 22}

	c := Default()
	require.Equal(t, []string{"support", "clinical", "external"}, c.Types())
	for typ, n := range want {
		assert.Len(t, c.Titles(typ), n, "titles of %s", typ)
	}
	assert.Same(t, c, Default(), "Default must parse once")
}

func TestDefaultCatalogOrderAndSpelling(t *testing.T) {
	c := Default()
	tests := []struct {
		name        string
		typ         string
		first, last string
	}{
		{"support", "support", "Cancellation", "No Decision For Case"},
		{"clinical", "clinical", "Case missed for review", "New Patient Sync Callback"},
		{"external", "external", "Patient requesting to cancel Sub", "Subscription Change"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			titles := c.Titles(tt.typ)
			require.NotEmpty(t, titles)
			assert.Equal(t, tt.first, titles[0])
			assert.Equal(t, tt.last, titles[len(titles)-1])
			for _, title := range titles {
				assert.NotContains(t, title, `\`, "the doc's backslash is markup")
			}
		})
	}
	assert.Contains(t, c.Titles("support"), "Payment Received, Missing CIF")
	assert.Contains(t, c.Titles("external"), "Payment Received, Missing CIF")
	assert.NotContains(t, c.Titles("clinical"), "Payment Received, Missing CIF")
}

func TestLookupEveryTitleAndVariant(t *testing.T) {
	c := Default()
	for _, typ := range c.Types() {
		for _, title := range c.Titles(typ) {
			variants := map[string]string{
				"exact":         title,
				"upper":         strings.ToUpper(title),
				"lower":         strings.ToLower(title),
				"spaced":        "  " + strings.ReplaceAll(title, " ", "  ") + " \t",
				"escaped comma": strings.ReplaceAll(title, ",", `\,`),
			}
			for name, v := range variants {
				t.Run(typ+"/"+title+"/"+name, func(t *testing.T) {
					got, ok := c.Lookup(typ, v)
					require.True(t, ok, "lookup %q", v)
					assert.Equal(t, title, got)
				})
			}
		}
	}
}

func TestLookupCommaSpellings(t *testing.T) {
	c := Default()
	const want = "Payment Received, Missing CIF"
	tests := []struct {
		name, typ, in string
	}{
		{"support plain", "support", "Payment Received, Missing CIF"},
		{"support escaped", "support", `Payment Received\, Missing CIF`},
		{"support escaped lower", "support", `payment received\,  missing cif`},
		{"external plain", "external", "Payment Received, Missing CIF"},
		{"external escaped", "external", `Payment Received\, Missing CIF`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Lookup(tt.typ, tt.in)
			require.True(t, ok)
			assert.Equal(t, want, got)
		})
	}
}

func TestLookupIsPerType(t *testing.T) {
	c := Default()
	tests := []struct {
		name, typ, in string
		want          string // "" means not found
	}{
		{"urgent is clinical only", "support", "Urgent", ""},
		{"urgent in clinical", "clinical", "urgent", "Urgent"},
		{"cif not clinical", "clinical", "Payment Received, Missing CIF", ""},
		{"lab request support spelling", "support", "LAB REQUEST", "Lab request"},
		{"lab request external spelling", "external", "lab request", "Lab Request"},
		{"patient reply support", "support", "waiting for patient reply", "Waiting for patient reply"},
		{"patient reply clinical", "clinical", "waiting for patient reply", "Waiting for Patient Reply"},
		{"miscellaneous support", "support", "miscellaneous", "Miscellaneous"},
		{"miscellaneous external", "external", "Miscellaneous", "Miscellaneous"},
		{"miscellaneous not clinical", "clinical", "Miscellaneous", ""},
		{"delinquent clinical", "clinical", "Delinquent Task", "Delinquent Task"},
		{"unknown type", "billing", "Urgent", ""},
		{"type must be canonical", "Clinical", "Urgent", ""},
		{"inner punctuation matters", "support", "Missed appointment - reschedule", ""},
		{"empty", "support", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Lookup(tt.typ, tt.in)
			assert.Equal(t, tt.want != "", ok, "got %q", got)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNoCollisionWithinType(t *testing.T) {
	c := Default()
	for _, typ := range c.Types() {
		seen := map[string]string{}
		for _, title := range c.Titles(typ) {
			key := normalizeTitle(title)
			prev, dup := seen[key]
			assert.False(t, dup, "%s: %q collides with %q", typ, title, prev)
			seen[key] = title
		}
	}
}

func TestParseType(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"lower", "support", "support", true},
		{"upper", "CLINICAL", "clinical", true},
		{"mixed with space", "  External\t", "external", true},
		{"empty", "", "", false},
		{"unknown", "billing", "", false},
		{"plural", "supports", "", false},
		{"inner space", "sup port", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseType(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSuggest(t *testing.T) {
	c := Default()
	tests := []struct {
		name, typ, in string
		n             int
		wantFirst     string
	}{
		{"one letter dropped", "support", "Refil Request", 3, "Refill Request"},
		{"transposed letters", "support", "Cancelaltion", 3, "Cancellation"},
		{"prefix", "clinical", "nursing - nausea", 3, "NURSING - Nausea Medication Request"},
		{"title inside input", "clinical", "urgent please", 3, "Urgent"},
		{"other type's title", "external", "Lab requets", 3, "Lab Request"},
		{"spaced dash", "support", "Missed appointment - reschedule", 3, "Missed appointment -reschedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Suggest(tt.typ, tt.in, tt.n)
			require.Len(t, got, tt.n)
			assert.Equal(t, tt.wantFirst, got[0], "got %q", got)
			assert.Equal(t, got, c.Suggest(tt.typ, tt.in, tt.n), "deterministic")
			for _, s := range got {
				_, ok := c.Lookup(tt.typ, s)
				assert.True(t, ok, "suggestion %q is not a %s title", s, tt.typ)
			}
		})
	}

	t.Run("bounds", func(t *testing.T) {
		assert.Empty(t, c.Suggest("support", "x", 0))
		assert.Empty(t, c.Suggest("billing", "x", 3))
		assert.Len(t, c.Suggest("clinical", "x", 1000), len(c.Titles("clinical")))
	})
}

func TestWriteCSVRoundTrip(t *testing.T) {
	c := Default()
	for _, typ := range []string{"", "support", "clinical", "external"} {
		t.Run("type="+typ, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, c.WriteCSV(&buf, typ))
			require.True(t, strings.HasPrefix(buf.String(), "type,title\n"))

			back, err := ParseCatalog(&buf)
			require.NoError(t, err)
			for _, ty := range c.Types() {
				if typ == "" || ty == typ {
					assert.Equal(t, c.Titles(ty), back.Titles(ty), ty)
				} else {
					assert.Empty(t, back.Titles(ty), ty)
				}
			}
		})
	}

	t.Run("embedded file is what WriteCSV writes", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, c.WriteCSV(&buf, ""))
		assert.Equal(t, string(titlesCSV), buf.String())
	})

	t.Run("unknown type", func(t *testing.T) {
		assert.ErrorContains(t, c.WriteCSV(&bytes.Buffer{}, "billing"), "unknown type")
	})
}

func TestParseCatalogAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		typ  string
		want []string
	}{
		{"plain", "type,title\nsupport,Refill Request\n", "support", []string{"Refill Request"}},
		{"bom and crlf", "\ufefftype,title\r\nsupport,A\r\nsupport,B\r\n", "support", []string{"A", "B"}},
		{"header case and order", " Title ,TYPE\nA,Clinical\n", "clinical", []string{"A"}},
		{"escaped comma", "type,title\nexternal,\"X\\, Y\"\n", "external", []string{"X, Y"}},
		{"trimmed title", "type,title\nsupport,  Spaced  \n", "support", []string{"Spaced"}},
		{"same title in two types", "type,title\nsupport,A\nexternal,A\n", "external", []string{"A"}},
		{"no final newline", "type,title\nsupport,A", "support", []string{"A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCatalog(strings.NewReader(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Titles(tt.typ))
		})
	}
}

func TestParseCatalogRefusals(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty file", "", "empty file"},
		{"bom only", "\ufeff", "empty file"},
		{"header only", "type,title\n", "no titles"},
		{"missing title column", "type\nsupport\n", `line 1: missing column "title"`},
		{"missing type column", "title\nUrgent\n", `line 1: missing column "type"`},
		{"unknown column", "type,title,owner\nsupport,A,me\n", `line 1: unknown column "owner"`},
		{"column twice", "type,title,title\nsupport,A,B\n", `line 1: column "title" appears twice`},
		{"unknown type", "type,title\nsupport,A\nbilling,B\n", "line 3: unknown type \"billing\""},
		{"empty type", "type,title\n,A\n", "line 2: unknown type"},
		{"empty title", "type,title\nsupport,A\nsupport,  \n", "line 3: empty title"},
		{"repeat", "type,title\nsupport,Hold Order\nclinical,x\nsupport,hold  ORDER\n",
			`line 4: title "hold  ORDER" repeats line 2 for type support`},
		{"repeat via escape", "type,title\nsupport,\"a, b\"\nsupport,\"a\\, b\"\n", "line 3: title"},
		{"backslash", "type,title\nsupport,a\\b\n", "line 2: title \"a\\\\b\" holds a backslash"},
		{"control character", "type,title\nsupport,\"a\x1fb\"\n", "line 2: title"},
		{"ragged row", "type,title\nsupport,A,extra\n", "line 2"},
		{"bad quote", "type,title\nsupport,\"A\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCatalog(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.True(t, strings.HasPrefix(err.Error(), "read titles: "), "got %q", err)
		})
	}
}

func TestNormalizeTitle(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Refill Request", "refill request"},
		{"runs of space", " \tRefill \u00a0  Request\r\n", "refill request"},
		{"escaped comma", `Payment Received\, Missing CIF`, "payment received, missing cif"},
		{"empty", "   ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, normalizeTitle(tt.in))
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3},
		{"refil", "refill", 1}, {"héllo", "hello", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"->"+tt.b, func(t *testing.T) {
			assert.Equal(t, tt.want, editDistance([]rune(tt.a), []rune(tt.b)))
		})
	}
}

func TestQuoteCell(t *testing.T) {
	assert.Equal(t, `"short"`, quoteCell("short"))
	long := strings.Repeat("é", maxQuoted+5)
	assert.Equal(t, `"`+strings.Repeat("é", maxQuoted)+`"…`, quoteCell(long))
}

func TestSameTitle(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"identical", "Refill Request", "Refill Request", true},
		{"case and spaces", " refill   REQUEST ", "Refill Request", true},
		{"escaped comma", `Payment Received\, Missing CIF`, "Payment Received, Missing CIF", true},
		{"different", "Refill Request", "Refill not processed", false},
		{"punctuation matters", "Payment: Refund Request", "Payment Refund Request", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, SameTitle(tt.a, tt.b))
		})
	}
}
