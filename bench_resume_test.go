package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/carevalidate/cvimport/fakeapi"
	"github.com/carevalidate/cvimport/importer"
	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// The resumed file: 100,000 rows over 5,000 cases of 20 rows each.
const (
	benchResumeRows    = 100_000
	benchResumeCases   = 5_000
	benchResumeKey     = "cv-bench-key-3e7a1c"
	benchResumeOrg     = "org-bench"
	benchResumePerCase = benchResumeRows / benchResumeCases
)

var benchResumeDir = flag.String("resume-bench-dir", "",
	"keep BenchmarkResumeFinished100k's input and results in `dir`, to time the binary on them")

// benchResumeInput writes an export of benchResumeRows rows that all pass
// the checks: the six known columns and one of the user's own, notes that
// need quoting or span lines, and the date forms spreadsheets produce.
func benchResumeInput(path string) error {
	rng := rand.New(rand.NewPCG(4, 100_000))
	cat := validate.Default()
	type pair struct{ typ, title string }
	var pairs []pair
	for _, typ := range cat.Types() {
		for _, title := range cat.Titles(typ) {
			pairs = append(pairs, pair{typ, title})
		}
	}
	words := strings.Fields("patient called about refill shipping delay card " +
		"declined asked for callback pharmacy dose order portal message left")

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := csv.NewWriter(bw)
	cw.Write([]string{"Case ID", "Type", "Title", "Note", "Follow Up Due At",
		"Assigned To Email", "Source"})

	row := make([]string, 7)
	for c := range benchResumeCases {
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(),
			rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff,
			rng.Uint64()&(1<<48-1))
		if c%10 == 0 {
			id = strings.ToUpper(id)
		}
		// Distinct (type, title) within a case: no row is a duplicate.
		start := rng.IntN(len(pairs))
		for j := range benchResumePerCase {
			p := pairs[(start+j)%len(pairs)]
			var note strings.Builder
			for k := range rng.IntN(16) {
				if k > 0 {
					note.WriteByte(' ')
				}
				note.WriteString(words[rng.IntN(len(words))])
			}
			switch rng.IntN(10) {
			case 0:
				note.WriteString(`, said "asap"`)
			case 1:
				note.WriteString("\nsecond line")
			}
			day := rng.IntN(28) + 1
			date := [...]string{"", fmt.Sprintf("2025-07-%02d", day),
				fmt.Sprintf("7/%d/2025 9:30 AM", day),
				fmt.Sprintf("2025-07-%02dT12:00:00Z", day)}[rng.IntN(4)]
			email := ""
			if rng.IntN(3) == 0 {
				email = fmt.Sprintf("agent%d@example.com", rng.IntN(40))
			}
			row = append(row[:0], id, p.typ, p.title, note.String(), date, email,
				"crm")
			cw.Write(row)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// benchResumeResults writes the results file of a finished run of input:
// every row created, with an id. It reads input with the real reader and
// fails unless every row passes the checks, so that every row can match.
func benchResumeResults(input, path string) error {
	sheet, err := importer.ReadFile(input, importer.ReadOptions{})
	if err != nil {
		return err
	}
	plan := importer.BuildPlan(sheet, &validate.Checker{}, nil)
	if n := plan.Counts()[report.Pending]; n != benchResumeRows {
		return fmt.Errorf("%d of %d generated rows pass the checks", n, benchResumeRows)
	}

	recs := func(yield func(report.Record) bool) {
		for i, row := range sheet.Rows {
			out := report.Outcome{Status: report.Created,
				EscalationID: fmt.Sprintf("esc-%06d", i)}
			if !yield(report.Record{Line: row.Line, Fields: row.Fields, Outcome: out}) {
				return
			}
		}
	}
	return report.WriteFileAtomic(path, func(w io.Writer) error {
		return report.WriteResults(w, sheet.Header, recs)
	})
}

// benchResumeStatuses counts the statuses of a results file.
func benchResumeStatuses(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	status := slices.Index(header, report.ColStatus)
	counts := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return counts, nil
		}
		if err != nil {
			return nil, err
		}
		counts[rec[status]]++
	}
}

// BenchmarkResumeFinished100k times a whole import run resumed from the
// finished results of the same 100,000 rows: flags, lock, loading the
// earlier results, reading and checking the input, writing results and
// failures. Every row must end skipped, with nothing sent to the API.
func BenchmarkResumeFinished100k(b *testing.B) {
	dir := *benchResumeDir
	if dir == "" {
		dir = b.TempDir()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	input := filepath.Join(dir, "export.csv")
	results := filepath.Join(dir, "export.results.csv")
	out := filepath.Join(dir, "resumed.results.csv")
	failures := filepath.Join(dir, "resumed.failures.csv")
	if err := benchResumeInput(input); err != nil {
		b.Fatalf("writing the input: %v", err)
	}
	if err := benchResumeResults(input, results); err != nil {
		b.Fatalf("writing the finished results: %v", err)
	}

	fake := fakeapi.New(fakeapi.Seed{
		Keys:       map[string]string{benchResumeKey: benchResumeOrg},
		AnyCaseOrg: benchResumeOrg,
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	getenv := func(k string) string {
		if k == "CV_API_KEY" {
			return benchResumeKey
		}
		return ""
	}
	args := []string{"import", "-base-url", srv.URL, "-resume", results,
		"-out", out, "-failures", failures, "-tz", "UTC", "-quiet", input}
	ctx := context.Background()

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		// Each run writes a new results file; the last one's, which records
		// rows done, would not be replaced without -resume of it.
		b.StopTimer()
		if err := os.Remove(out); err != nil && !errors.Is(err, fs.ErrNotExist) {
			b.Fatal(err)
		}
		b.StartTimer()

		err := run(ctx, slices.Clone(args), getenv, io.Discard, io.Discard)
		if code := exitCode(err, io.Discard); code != exitOK {
			b.Fatalf("exit code %d, want %d: %v", code, exitOK, err)
		}
	}
	b.StopTimer()

	for _, req := range fake.Requests() {
		if req.Method == "POST" {
			b.Fatalf("the resumed run sent %s %s", req.Method, req.Path)
		}
	}
	counts, err := benchResumeStatuses(out)
	if err != nil {
		b.Fatal(err)
	}
	if counts[string(report.Skipped)] != benchResumeRows || len(counts) != 1 {
		b.Fatalf("statuses of the resumed run: %v, want %d skipped", counts,
			benchResumeRows)
	}
	b.ReportMetric(float64(benchResumeRows)*float64(b.N)/b.Elapsed().Seconds(),
		"rows/s")
}
