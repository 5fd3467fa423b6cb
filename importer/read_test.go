package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// Case ids used across the tests.
const (
	caseA = "3f2b8c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b"
	caseB = "9d8c7b6a-5f4e-4d3c-8b2a-0f1e2d3c4b5a"
	caseC = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
)

// readString reads src as a file named in.csv.
func readString(t *testing.T, src string, opts ReadOptions) (*Sheet, error) {
	t.Helper()
	return Read(strings.NewReader(src), "in.csv", opts)
}

// mustRead reads src and fails the test on a refusal.
func mustRead(t *testing.T, src string, opts ReadOptions) *Sheet {
	t.Helper()
	sheet, err := readString(t, src, opts)
	require.NoError(t, err)
	require.NotNil(t, sheet)
	return sheet
}

// fields returns the Fields of every row of sheet.
func fields(sheet *Sheet) [][]string {
	out := make([][]string, len(sheet.Rows))
	for i, r := range sheet.Rows {
		out[i] = r.Fields
	}
	return out
}

// lines returns the Line of every row of sheet.
func lines(sheet *Sheet) []int {
	out := make([]int, len(sheet.Rows))
	for i, r := range sheet.Rows {
		out[i] = r.Line
	}
	return out
}

func TestReadRefusals(t *testing.T) {
	const hdr = "caseId,type,title,note\n"
	const row = caseA + ",support,Cancellation,n\n"
	tests := []struct {
		name     string
		src      string
		opts     ReadOptions
		want     error
		wantLine int
		wantMsg  string // a part of Error()
	}{
		{"empty", "", ReadOptions{}, ErrEmpty, 0, "in.csv: file is empty"},
		{"only a BOM", "\xef\xbb\xbf", ReadOptions{}, ErrEmpty, 0, "only a byte-order mark"},
		{"only blank lines", "\n\r\n  \n\t\n", ReadOptions{}, ErrEmpty, 0, "only blank lines"},
		{"only empty fields", ",,,\n , ,\n", ReadOptions{}, ErrEmpty, 0, "only blank lines"},
		{"BOM then blank lines", "\xef\xbb\xbf\r\n\r\n", ReadOptions{}, ErrEmpty, 0, "only blank lines"},
		{"data without header", row + row, ReadOptions{}, ErrNoHeader, 1, "names none of caseId"},
		{"data without header after blanks", "\n,,\n" + row, ReadOptions{}, ErrNoHeader, 3, "no header row"},
		{"wrong delimiter forced", hdr + row, ReadOptions{Delimiter: ';'}, ErrNoHeader, 1, `delimiter ';'`},
		{"title missing", "caseId,type,note\n" + row, ReadOptions{}, ErrMissingColumn, 1,
			`missing required column: title (header found: "caseId", "type", "note")`},
		{"two missing", "Case ID,Note,Extra\n", ReadOptions{}, ErrMissingColumn, 1,
			`missing required column: type, title (header found: "Case ID", "Note", "Extra")`},
		{"missing after blank line", "\nCASE_ID,TYPE\n", ReadOptions{}, ErrMissingColumn, 2, "title"},
		{"known column twice", "caseId,type,title,Case ID\n", ReadOptions{}, ErrDuplicateColumn, 1,
			`"caseId" and "Case ID" both mean caseId`},
		{"optional column twice", "caseId,type,title,note,NOTE\n", ReadOptions{}, ErrDuplicateColumn, 1,
			`"note" and "NOTE" both mean note`},
		{"unterminated quote", hdr + row + caseA + `,support,Cancellation,"never closed` + "\n" + row,
			ReadOptions{}, ErrSyntax, 3, "not valid CSV"},
		{"quote inside quoted field", hdr + caseA + `,support,"Cancel"lation,n` + "\n",
			ReadOptions{}, ErrSyntax, 2, "not doubled"},
		{"bare quote", hdr + row + caseA + `,support,Cancel"lation,n` + "\n",
			ReadOptions{}, ErrSyntax, 3, `bare "`},
		{"bare quote after multi-line field", hdr + caseA + ",support,Cancellation,\"a\nb\nc\"\n" +
			caseA + `,support,Can"cel,n` + "\n", ReadOptions{}, ErrSyntax, 5, "column"},
		{"bare quote in header", "caseId,ty\"pe,title\n", ReadOptions{}, ErrSyntax, 1, "not valid CSV"},
		{"not UTF-8 in data", hdr + row + caseA + ",support,Caf\xe9,n\n",
			ReadOptions{}, ErrNotUTF8, 3, "field 3"},
		{"not UTF-8 in a multi-line field", hdr + caseA + ",support,X,\"a\nb\xff\"\n",
			ReadOptions{}, ErrNotUTF8, 2, "field 4"},
		{"not UTF-8 after multi-line field", hdr + caseA + ",support,X,\"a\nb\"\n" + caseA + ",\xc3,X,n\n",
			ReadOptions{}, ErrNotUTF8, 4, "field 2"},
		{"not UTF-8 in header", "caseId,type,t\xeftle\n", ReadOptions{}, ErrNotUTF8, 1, "header field 3"},
		{"UTF-16", "\xff\xfec\x00a\x00", ReadOptions{}, ErrNotUTF8, 1, "UTF-16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sheet, err := readString(t, tt.src, tt.opts)
			require.Error(t, err)
			assert.Nil(t, sheet)

			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.ErrorIs(t, err, tt.want)
			assert.Equal(t, "in.csv", fe.Path)
			assert.Equal(t, tt.wantLine, fe.Line, "line; error: %v", err)

			msg := err.Error()
			prefix := "in.csv: "
			if tt.wantLine > 0 {
				prefix = fmt.Sprintf("in.csv:%d: ", tt.wantLine)
			}
			assert.True(t, strings.HasPrefix(msg, prefix), "got %q, want prefix %q", msg, prefix)
			assert.Contains(t, msg, tt.wantMsg)
			assert.NotContains(t, msg, "\n")
			assert.NotContains(t, msg, "\r")
		})
	}
}

func TestReadSyntaxErrorKeepsCSVCause(t *testing.T) {
	src := "caseId,type,title\n" + caseA + ",support,\"open\n\nstill open\n"
	_, err := readString(t, src, ReadOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrSyntax)
	assert.ErrorIs(t, err, csv.ErrQuote)

	// The record starts on line 2; where csv gave up follows in the text.
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 2, fe.Line)
	assert.Contains(t, err.Error(), "line 4")
}

func TestFileErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *FileError
		want string
	}{
		{"with line", &FileError{Path: "a.csv", Line: 7, Err: ErrNoHeader}, "a.csv:7: no header row"},
		{"without line", &FileError{Path: "a.csv", Err: ErrEmpty}, "a.csv: file is empty"},
		{"cause on several lines", &FileError{Path: "a.csv", Line: 2,
			Err: errors.New("first\nsecond\r\nthird\rfourth")}, "a.csv:2: first second third fourth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			assert.Equal(t, tt.err.Err, errors.Unwrap(tt.err))
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.csv")
	_, err := ReadFile(path, ReadOptions{})
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, path, fe.Path)
	assert.Zero(t, fe.Line)
}

func TestReadInvalidDelimiterOption(t *testing.T) {
	for _, d := range []rune{'"', '\n', '\r', utf8RuneError} {
		_, err := readString(t, "caseId,type,title\n", ReadOptions{Delimiter: d})
		require.Error(t, err, "delimiter %q", d)
		var fe *FileError
		assert.False(t, errors.As(err, &fe), "got a *FileError for a bad option %q", d)
	}
}

// utf8RuneError is the replacement character, which csv refuses as a comma.
const utf8RuneError = '\uFFFD'

func TestReadEncodings(t *testing.T) {
	want := [][]string{
		{caseA, "support", "Cancellation", "first"},
		{caseB, "clinical", "Lab Review", "second"},
	}
	body := []string{
		"caseId,type,title,note",
		caseA + ",support,Cancellation,first",
		caseB + ",clinical,Lab Review,second",
	}
	tests := []struct {
		name    string
		src     string
		wantBOM bool
	}{
		{"LF", strings.Join(body, "\n") + "\n", false},
		{"LF no final newline", strings.Join(body, "\n"), false},
		{"CRLF", strings.Join(body, "\r\n") + "\r\n", false},
		{"BOM and LF", "\xef\xbb\xbf" + strings.Join(body, "\n") + "\n", true},
		{"BOM and CRLF", "\xef\xbb\xbf" + strings.Join(body, "\r\n") + "\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sheet := mustRead(t, tt.src, ReadOptions{})
			assert.Equal(t, tt.wantBOM, sheet.BOM)
			assert.Equal(t, []string{"caseId", "type", "title", "note"}, sheet.Header)
			assert.Equal(t, want, fields(sheet))
			assert.Equal(t, []int{2, 3}, lines(sheet))
			assert.Equal(t, ',', sheet.Delimiter)
		})
	}
}

func TestReadQuotedFields(t *testing.T) {
	src := "caseId,type,title,note,ref\r\n" +
		caseA + `,support,"Payment Received, Missing CIF","said ""hi"", then left",r1` + "\r\n" +
		caseA + ",support,Cancellation,\"three\nphysical\nlines\",r2\r\n" +
		caseB + ",support,Missing ID,\"\",\"\"\"quoted\"\"\"\r\n" +
		caseB + ",support,Hold Order,\"ends in a newline\n\",r4\n"
	sheet := mustRead(t, src, ReadOptions{})

	assert.Equal(t, [][]string{
		{caseA, "support", "Payment Received, Missing CIF", `said "hi", then left`, "r1"},
		{caseA, "support", "Cancellation", "three\nphysical\nlines", "r2"},
		{caseB, "support", "Missing ID", "", `"quoted"`},
		{caseB, "support", "Hold Order", "ends in a newline\n", "r4"},
	}, fields(sheet))
	// The row after the three-line note starts on line 6, not line 4.
	assert.Equal(t, []int{2, 3, 6, 7}, lines(sheet))
}

func TestReadDelimiters(t *testing.T) {
	rows := [][]string{{caseA, "support", "Missing ID", "a, b; c"}}
	tests := []struct {
		name string
		src  string
		opts ReadOptions
		want rune
	}{
		{"comma detected", "caseId,type,title,note\n" + caseA + `,support,Missing ID,"a, b; c"` + "\n",
			ReadOptions{}, ','},
		{"semicolon detected", "caseId;type;title;note\n" + caseA + `;support;Missing ID;"a, b; c"` + "\n",
			ReadOptions{}, ';'},
		{"tab detected", "caseId\ttype\ttitle\tnote\n" + caseA + "\tsupport\tMissing ID\ta, b; c\n",
			ReadOptions{}, '\t'},
		{"quoted commas in header ignored", `caseId;type;title;"note, a, b, c, d"` + "\n" +
			caseA + `;support;Missing ID;"a, b; c"` + "\n", ReadOptions{}, ';'},
		{"detected after blank lines", "\n  \n;;;\ncaseId;type;title;note\n" +
			caseA + `;support;Missing ID;"a, b; c"` + "\n", ReadOptions{}, ';'},
		{"detected after a BOM", "\xef\xbb\xbfcaseId\ttype\ttitle\tnote\n" +
			caseA + "\tsupport\tMissing ID\ta, b; c\n", ReadOptions{}, '\t'},
		{"comma forced", "caseId,type,title,note\n" + caseA + `,support,Missing ID,"a, b; c"` + "\n",
			ReadOptions{Delimiter: ','}, ','},
		{"semicolon forced against the count", "caseId;type;title;note,x,y,z,w\n" +
			caseA + `;support;Missing ID;"a, b; c"` + "\n", ReadOptions{Delimiter: ';'}, ';'},
		{"tab forced", "caseId\ttype\ttitle\tnote\n" + caseA + "\tsupport\tMissing ID\ta, b; c\n",
			ReadOptions{Delimiter: '\t'}, '\t'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sheet := mustRead(t, tt.src, tt.opts)
			assert.Equal(t, tt.want, sheet.Delimiter)
			assert.Equal(t, rows, fields(sheet))
		})
	}
}

func TestDetectDelimiter(t *testing.T) {
	tests := []struct {
		name string
		head string
		want rune
	}{
		{"nothing", "", ','},
		{"one column", "caseId\n", ','},
		{"tie goes to comma", "a,b;c\n", ','},
		{"tie semicolon before tab", "a;b\tc\n", ';'},
		{"only the first line counts", "a;b;c\nx,y,z,w,v,u\n", ';'},
		{"quoted line break", "\"a\nb,c,d,e\";f;g\n", ';'},
		{"line cut short by the peek", "a\tb\tc\td", '\t'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := detectDelimiter([]byte(tt.head))
			assert.Equal(t, tt.want, got, "got %q, want %q", got, tt.want)
		})
	}
}

func TestReadHeaderVariants(t *testing.T) {
	tests := []struct {
		name   string
		header string
	}{
		{"API spelling", "caseId,type,title,note,followUpDueAt,assignedToEmail"},
		{"spaced words", "Case ID,Type,Title,Note,Follow Up Due At,Assigned To Email"},
		{"snake case", "case_id,type,title,note,follow_up_due_at,assigned_to_email"},
		{"kebab upper case", "CASE-ID,TYPE,TITLE,NOTE,FOLLOW-UP-DUE-AT,ASSIGNED-TO-EMAIL"},
		{"padded names", " caseid , Type\t, title,note ,followupdueat,AssignedToEmail "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.header + "\n" + caseA + ",support,Cancellation,n,2025-06-01,a@example.com\n"
			sheet := mustRead(t, src, ReadOptions{})

			names := strings.Split(tt.header, ",")
			assert.Equal(t, names, sheet.Header)
			assert.Equal(t, [numColumns]int{0, 1, 2, 3, 4, 5}, sheet.Columns)
			assert.Equal(t, validate.Input{
				CaseID: caseA, Type: "support", Title: "Cancellation", Note: "n",
				FollowUpDueAt: "2025-06-01", AssignedToEmail: "a@example.com",
			}, sheet.Input(0))
			assert.Equal(t, []string{
				fmt.Sprintf("caseId <- %q", names[0]),
				fmt.Sprintf("type <- %q", names[1]),
				fmt.Sprintf("title <- %q", names[2]),
				fmt.Sprintf("note <- %q", names[3]),
				fmt.Sprintf("followUpDueAt <- %q", names[4]),
				fmt.Sprintf("assignedToEmail <- %q", names[5]),
			}, sheet.Mapping())
		})
	}
}

func TestReadOptionalColumnsAbsent(t *testing.T) {
	sheet := mustRead(t, "Title,Ref,Case ID,Type\nCancellation,r1,"+caseA+",support\n", ReadOptions{})

	assert.Equal(t, [numColumns]int{2, 3, 0, -1, -1, -1}, sheet.Columns)
	assert.Equal(t, validate.Input{CaseID: caseA, Type: "support", Title: "Cancellation"},
		sheet.Input(0))
	assert.Equal(t, []string{`caseId <- "Case ID"`, `type <- "Type"`, `title <- "Title"`},
		sheet.Mapping())
}

func TestReadDropsResultColumns(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		wantHeader []string
		wantFields [][]string
	}{
		{"results file", "caseId,type,title,ref,line,status,escalationId,error\n" +
			caseA + ",support,Cancellation,r1,2,created,id-1,\n",
			[]string{"caseId", "type", "title", "ref"},
			[][]string{{caseA, "support", "Cancellation", "r1"}}},
		{"failures file", "caseId,type,title,error\n" +
			caseA + ",support,Cancelation,\"title: unknown title \"\"Cancelation\"\"\"\n",
			[]string{"caseId", "type", "title"},
			[][]string{{caseA, "support", "Cancelation"}}},
		{"result columns first and respelled", "Status,Escalation ID,caseId,LINE,type,title,Error\n" +
			"created,id-1," + caseA + ",9,support,Cancellation,\n",
			[]string{"caseId", "type", "title"},
			[][]string{{caseA, "support", "Cancellation"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sheet := mustRead(t, tt.src, ReadOptions{})
			assert.Equal(t, tt.wantHeader, sheet.Header)
			assert.Equal(t, tt.wantFields, fields(sheet))
			assert.Equal(t, 0, sheet.Columns[ColCaseID])
			assert.False(t, sheet.Rows[0].Short)
			assert.Empty(t, sheet.Rows[0].Extra)
		})
	}
}

func TestReadResultsFileRoundTrip(t *testing.T) {
	// A results file written from a sheet reads back as the same sheet.
	sheet, err := ReadFile(filepath.Join("testdata", "valid.csv"), ReadOptions{})
	require.NoError(t, err)
	plan := BuildPlan(sheet, &validate.Checker{}, nil)

	for _, write := range []struct {
		name string
		fn   func(io.Writer, []string, iter.Seq[report.Record]) error
	}{
		{"results", func(w io.Writer, h []string, s iter.Seq[report.Record]) error {
			return report.WriteResults(w, h, s)
		}},
		{"failures", func(w io.Writer, h []string, s iter.Seq[report.Record]) error {
			return report.WriteFailures(w, h, s)
		}},
	} {
		t.Run(write.name, func(t *testing.T) {
			// Mark every row invalid so the failures file holds them all.
			for i := range plan.Outcomes {
				plan.Outcomes[i] = report.Outcome{Status: report.Invalid, Err: "x"}
			}
			var buf bytes.Buffer
			require.NoError(t, write.fn(&buf, sheet.Header, plan.Records()))

			back, err := Read(&buf, "back.csv", ReadOptions{})
			require.NoError(t, err)
			assert.Equal(t, sheet.Header, back.Header)
			assert.Equal(t, fields(sheet), fields(back))
			assert.Equal(t, sheet.Columns, back.Columns)
		})
	}
}

func TestReadCarriesOtherColumnsByteForByte(t *testing.T) {
	values := []string{
		"  padded  ",
		`he said "hi", twice`,
		"émoji 🙂 and ünïcode",
		"two\nlines",
		"",
		"=1+2",
		"007",
	}
	var b strings.Builder
	b.WriteString("caseId,Extra One,type,title,extra two\n")
	for _, v := range values {
		q := `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		fmt.Fprintf(&b, "%s,%s,support,Cancellation,%s\n", caseA, q, q)
	}
	sheet := mustRead(t, b.String(), ReadOptions{})

	assert.Equal(t, []string{"caseId", "Extra One", "type", "title", "extra two"}, sheet.Header)
	require.Len(t, sheet.Rows, len(values))
	for i, v := range values {
		assert.Equal(t, v, sheet.Rows[i].Fields[1], "row %d", i)
		assert.Equal(t, v, sheet.Rows[i].Fields[4], "row %d", i)
	}
}

func TestReadIgnoresBlankRows(t *testing.T) {
	src := "\n\n" + // blank lines before the header
		"caseId,type,title\n" + // line 3
		caseA + ",support,Cancellation\n" + // line 4
		"\n" +
		",,\n" +
		" , \t ,  \n" +
		"\r\n" +
		caseB + ",support,Missing ID\n" + // line 9
		",,,,\n" // a long blank row is still blank
	sheet := mustRead(t, src, ReadOptions{})

	assert.Equal(t, []int{4, 9}, lines(sheet))
	assert.Equal(t, [][]string{
		{caseA, "support", "Cancellation"},
		{caseB, "support", "Missing ID"},
	}, fields(sheet))
}

func TestReadHeaderOnly(t *testing.T) {
	sheet := mustRead(t, "caseId,type,title\n\n", ReadOptions{})
	assert.Empty(t, sheet.Rows)
	assert.Equal(t, 3, sheet.Width)
}

func TestReadRaggedRows(t *testing.T) {
	src := "caseId,type,title,error\n" + // error is dropped, width stays 4
		caseA + ",support,Cancellation,\n" +
		caseA + ",support\n" +
		caseA + ",support,Cancellation,,x,\"y\"\n"
	sheet := mustRead(t, src, ReadOptions{})
	require.Len(t, sheet.Rows, 3)
	assert.Equal(t, 4, sheet.Width)

	tests := []struct {
		name      string
		row       Row
		wantShort bool
		wantN     int32
		want      []string
		wantExtra []string
	}{
		{"full", sheet.Rows[0], false, 4, []string{caseA, "support", "Cancellation"}, nil},
		{"short is padded", sheet.Rows[1], true, 2, []string{caseA, "support", ""}, nil},
		{"long keeps the surplus", sheet.Rows[2], false, 6,
			[]string{caseA, "support", "Cancellation"}, []string{"x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantShort, tt.row.Short)
			assert.Equal(t, tt.wantN, tt.row.NumFields)
			assert.Equal(t, tt.want, tt.row.Fields)
			assert.Equal(t, tt.wantExtra, tt.row.Extra)
		})
	}
}

func TestReadSampleFiles(t *testing.T) {
	tests := []struct {
		file      string
		wantDelim rune
		wantBOM   bool
		wantLines []int
	}{
		{"valid.csv", ',', false, []int{2, 3, 4, 6}},
		{"excel.csv", ',', true, []int{2, 3, 7}},
		{"results.csv", ',', false, []int{2, 3}},
		{"semicolon.csv", ';', false, []int{2}},
		{"tab.csv", '\t', false, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			sheet, err := ReadFile(filepath.Join("testdata", tt.file), ReadOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.wantDelim, sheet.Delimiter)
			assert.Equal(t, tt.wantBOM, sheet.BOM)
			assert.Equal(t, tt.wantLines, lines(sheet))
			for i, r := range sheet.Rows {
				assert.Len(t, r.Fields, len(sheet.Header), "row %d", i)
				assert.False(t, r.Short || len(r.Extra) > 0, "row %d is ragged", i)
			}
		})
	}
}

func TestColumnString(t *testing.T) {
	assert.Equal(t, "followUpDueAt", ColFollowUpDueAt.String())
	assert.Equal(t, "Column(99)", Column(99).String())
}

func TestEstimateRows(t *testing.T) {
	head := []byte("h\n0123456789\n0123456789\n0123456789\n")
	assert.Zero(t, estimateRows(head, 0), "size unknown")
	assert.Zero(t, estimateRows([]byte("no newline"), 1000))
	got := estimateRows(head, 10_000_000)
	assert.GreaterOrEqual(t, got, 10_000_000/11, "got %d", got)
}

func TestRefusalsNeverQuoteARowsNote(t *testing.T) {
	const note = "Patient reports chest pain after the second dose"

	// A first row with no known column is data: nothing of it is quoted.
	_, err := Read(strings.NewReader(
		"3f8a1c52-9b7d-4e21-a6c4-5d2e8f1b7a90,support,Refill Request,"+note+"\n"),
		"x.csv", ReadOptions{})
	require.ErrorIs(t, err, ErrNoHeader)
	assert.NotContains(t, err.Error(), "chest")
	assert.NotContains(t, err.Error(), "Refill")

	// A header naming some known columns is quoted, each name cut short.
	_, err = Read(strings.NewReader("caseId,type,"+note+"\n"), "x.csv", ReadOptions{})
	require.ErrorIs(t, err, ErrMissingColumn)
	assert.Contains(t, err.Error(), `"Patient reports chest pain aft…"`)
	assert.NotContains(t, err.Error(), note)
}
