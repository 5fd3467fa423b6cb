package report

import (
	"fmt"
	"io"
	"iter"
	"sync"
	"testing"
)

// templates are the distinct rows manyRecords cycles through; built once.
var templates = sync.OnceValue(func() []Record {
	recs := make([]Record, 1024)
	for i := range recs {
		status := Statuses[i%len(Statuses)]
		out := Outcome{Status: status}
		switch {
		case status == Created:
			out.EscalationID = fmt.Sprintf("a1b2c3d4-e5f6-7890-abcd-%012d", i)
		case !status.Done():
			out.Err = fmt.Sprintf(`title: unknown title "Titel %d" for type support`, i)
		}
		recs[i] = Record{
			Fields: []string{
				fmt.Sprintf("0b9a5c3e-6a4e-4d8e-9a51-%012d", i),
				"support",
				"Payment Received, Missing CIF",
				fmt.Sprintf("Patient called about order %d, \"asap\"", i),
				"2025-06-01T12:00:00.000Z",
				"agent@example.com",
				"Main",
			},
			Outcome: out,
		}
	}
	return recs
})

// manyRecords yields n records cycling through templates, lines 2..n+1.
func manyRecords(n int) iter.Seq[Record] {
	tmpl := templates()
	return func(yield func(Record) bool) {
		for i := range n {
			rec := tmpl[i%len(tmpl)]
			rec.Line = i + 2
			if !yield(rec) {
				return
			}
		}
	}
}

func BenchmarkWriteResults(b *testing.B) {
	const rows = 1_000_000
	recs := manyRecords(rows)
	b.ReportAllocs()

	for b.Loop() {
		if err := WriteResults(io.Discard, testHeader, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
