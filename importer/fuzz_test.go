package importer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// FuzzReadPlan feeds arbitrary bytes to Read and BuildPlan. Read must
// either refuse with a *FileError or return a sheet; the plan must then
// account for every row exactly once. The streaming dry run of the same
// bytes must refuse them with the same error, or write the very files and
// report that the plan gives.
func FuzzReadPlan(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"\xef\xbb\xbf",
		"caseId,type,title\n",
		"caseId,type,title\n" + caseA + ",support,Cancellation\n" + caseA + ",support,cancellation\n",
		"caseId;type;title;note\n" + caseA + ";support;Missing ID;\"a\nb\"\n;;\n" + caseB + ";x\n",
		"caseId,type,title,error,line\n" + caseA + ",support,Cancellation,e,2,extra\n",
		"caseId,type,title\n\"open\n",
		"caseId,type,title\nbare\"quote,,\n",
		"caseId,Case ID,type,title\n",
		"caseId,type,title\n\xff\xfe\n",
	} {
		f.Add([]byte(s))
	}

	chk := &validate.Checker{}
	f.Fuzz(func(t *testing.T, data []byte) {
		var res, fail bytes.Buffer
		rep, dryErr := dryRunFrom(bytes.NewReader(data), "fuzz.csv", 0,
			ReadOptions{}, chk, nil, 3, &res, &fail)

		sheet, err := Read(bytes.NewReader(data), "fuzz.csv", ReadOptions{})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got error %T %v, want a *FileError", err, err)
			}
			if bytes.ContainsAny([]byte(err.Error()), "\r\n") {
				t.Fatalf("error spans lines: %q", err.Error())
			}
			if dryErr == nil || dryErr.Error() != err.Error() {
				t.Fatalf("dry run: got error %v, want %v", dryErr, err)
			}
			return
		}
		if dryErr != nil {
			t.Fatalf("dry run: got error %v, want none", dryErr)
		}
		checkSheet(t, sheet)
		checkPlan(t, BuildPlan(sheet, chk, nil))

		want := planOutput(t, sheet, chk, nil, 3)
		if !bytes.Equal(res.Bytes(), want.results) {
			t.Fatalf("dry run results:\n%q\nwant:\n%q", res.Bytes(), want.results)
		}
		if !bytes.Equal(fail.Bytes(), want.failures) {
			t.Fatalf("dry run failures:\n%q\nwant:\n%q", fail.Bytes(), want.failures)
		}
		if !reflect.DeepEqual(rep, want.rep) {
			t.Fatalf("dry run report:\n%+v\nwant:\n%+v", rep, want.rep)
		}
	})
}

// checkSheet fails t when a row breaks the Row contract.
func checkSheet(t *testing.T, sheet *Sheet) {
	t.Helper()
	last := 1
	for i, row := range sheet.Rows {
		if len(row.Fields) != len(sheet.Header) {
			t.Fatalf("row %d: got %d fields, want %d", i, len(row.Fields), len(sheet.Header))
		}
		if row.Line <= last {
			t.Fatalf("row %d: line %d not after line %d", i, row.Line, last)
		}
		last = row.Line
	}
}

// checkPlan fails t unless every row has one valid outcome and the Pending
// rows, and only they, are each in exactly one group.
func checkPlan(t *testing.T, plan *Plan) {
	t.Helper()
	rows := len(plan.Sheet.Rows)
	if len(plan.Outcomes) != rows || len(plan.Checked) != rows {
		t.Fatalf("got %d outcomes and %d checked for %d rows",
			len(plan.Outcomes), len(plan.Checked), rows)
	}

	inGroups := make([]int, rows)
	for _, g := range plan.Groups {
		if len(g.Rows) == 0 {
			t.Fatalf("group of case %s is empty", g.CaseID)
		}
		for _, i := range g.Rows {
			inGroups[i]++
			if plan.Checked[i].CaseID != g.CaseID {
				t.Fatalf("row %d of case %q is in the group of %q",
					i, plan.Checked[i].CaseID, g.CaseID)
			}
		}
	}
	for i, o := range plan.Outcomes {
		if _, ok := report.ParseStatus(string(o.Status)); !ok {
			t.Fatalf("row %d: invalid status %q", i, o.Status)
		}
		pending := o.Status == report.Pending
		if pending && inGroups[i] != 1 || !pending && inGroups[i] != 0 {
			t.Fatalf("row %d (%s) is in %d groups", i, o.Status, inGroups[i])
		}
		if o.Status == report.Invalid && o.Err == "" {
			t.Fatalf("row %d is invalid without a reason", i)
		}
	}

	n := 0
	for range plan.Records() {
		n++
	}
	if n != rows {
		t.Fatalf("Records yielded %d rows, want %d", n, rows)
	}
}
