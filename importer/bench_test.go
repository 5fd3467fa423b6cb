package importer

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// The generated benchmark file: benchRows data rows over benchCases cases.
// Each case gets about 83 rows, all of distinct titles (the catalog has 95
// type and title pairs), so duplicates come only from the planted ones.
const (
	benchRows  = 1_000_000
	benchCases = 12_000
	// benchVersion names the generator's output; change it with the
	// generator so that a cached file of an older shape is not reused.
	benchVersion = 1
)

var (
	benchOnce sync.Once
	benchPath string
	benchErr  error
)

// benchFile returns the path of the generated 1,000,000-row CSV. It is
// cached in the system temp directory across runs (about 170 MB), as
// generating it takes longer than reading it; delete it to reclaim the
// space. The content depends only on benchVersion.
func benchFile(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		name := fmt.Sprintf("cvimport-bench-v%d-%d.csv", benchVersion, benchRows)
		benchPath = filepath.Join(os.TempDir(), name)
		if _, err := os.Stat(benchPath); err == nil {
			return
		}
		benchErr = writeBenchFile(benchPath)
	})
	if benchErr != nil {
		b.Fatalf("generating the benchmark file: %v", benchErr)
	}
	return benchPath
}

// writeBenchFile writes the benchmark CSV to path, atomically.
func writeBenchFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cvimport-bench-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())

	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := generateBench(w, benchRows); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// generateBench writes a realistic export of n rows: 8 columns (the six
// known ones, a source and a ticket), notes of varied length some of which
// need quoting or span lines, the date forms spreadsheets produce, and
// about 2% planted mistakes (unknown title, impossible date, bad case id,
// bad address, duplicate row, ragged row).
func generateBench(w io.Writer, n int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	cat := validate.Default()
	type pair struct{ typ, title string }
	var pairs []pair
	for _, typ := range cat.Types() {
		for _, title := range cat.Titles(typ) {
			pairs = append(pairs, pair{typ, title})
		}
	}

	cases := make([]string, benchCases)
	for i := range cases {
		cases[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(),
			rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&(1<<48-1))
	}
	perCase := make([]int, benchCases)

	words := []string{"patient", "called", "about", "refill", "shipping", "delay",
		"card", "declined", "asked", "for", "callback", "pharmacy", "dose", "order",
		"portal", "message", "left", "voicemail", "urgent", "follow", "up"}
	note := func() string {
		k := rng.IntN(24)
		b := make([]byte, 0, 160)
		for j := 0; j < k; j++ {
			if j > 0 {
				b = append(b, ' ')
			}
			b = append(b, words[rng.IntN(len(words))]...)
		}
		switch rng.IntN(20) {
		case 0:
			b = append(b, `, said "asap"`...)
		case 1:
			b = append(b, "\nsecond line"...)
		}
		return string(b)
	}
	date := func() string {
		d := rng.IntN(28) + 1
		switch rng.IntN(6) {
		case 0:
			return fmt.Sprintf("2025-07-%02d", d)
		case 1:
			return fmt.Sprintf("7/%d/2025", d)
		case 2:
			return fmt.Sprintf("7/%d/2025 %d:30 PM", d, rng.IntN(12)+1)
		case 3:
			return fmt.Sprintf("2025-07-%02dT09:00:00Z", d)
		}
		return ""
	}

	cw := csv.NewWriter(w)
	header := []string{"Case ID", "Type", "Title", "Note", "Follow Up Due At",
		"Assigned To Email", "Source", "Ticket"}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	var prev []string
	for i := range n {
		c := (i * 7919) % benchCases // cases interleaved, as exports sorted by date are
		p := pairs[(perCase[c]+c)%len(pairs)]
		perCase[c]++
		rec = rec[:len(header)]
		rec[0], rec[1], rec[2] = cases[c], p.typ, p.title
		rec[3], rec[4] = note(), date()
		rec[5] = ""
		if rng.IntN(3) == 0 {
			rec[5] = "agent" + strconv.Itoa(rng.IntN(40)) + "@example.com"
		}
		rec[6] = "nightly-export"
		rec[7] = "T-" + strconv.Itoa(100000+i)

		// Plant a mistake in about one row in fifty.
		switch rng.IntN(300) {
		case 0:
			rec[2] += "x"
		case 1:
			rec[4] = "2/30/2025"
		case 2:
			rec[0] = rec[0][:35]
		case 3:
			rec[5] = "agent at example.com"
		case 4:
			if prev != nil {
				copy(rec, prev)
			}
		case 5:
			rec = append(rec, "stray")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		prev = append(prev[:0], rec[:len(header)]...)
	}
	cw.Flush()
	return cw.Error()
}

// peakMemory samples the runtime's memory until stop is closed, keeping
// the highest heap object bytes (live and not yet swept garbage), memory
// held from the OS (an approximation of RSS), and live heap (as marked by
// the last collection).
type peakMemory struct {
	stop chan struct{}
	done chan struct{}
	heap uint64
	held uint64
	live uint64
}

func startPeakMemory() *peakMemory {
	pm := &peakMemory{stop: make(chan struct{}), done: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	go func() {
		defer close(pm.done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			pm.heap = max(pm.heap, samples[0].Value.Uint64())
			pm.held = max(pm.held, samples[1].Value.Uint64()-samples[2].Value.Uint64())
			pm.live = max(pm.live, samples[3].Value.Uint64())
			select {
			case <-pm.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return pm
}

// end stops sampling and returns the peaks in MB.
func (pm *peakMemory) end() (heapMB, heldMB, liveMB float64) {
	close(pm.stop)
	<-pm.done
	return float64(pm.heap) / 1e6, float64(pm.held) / 1e6, float64(pm.live) / 1e6
}

// liveHeapMB collects garbage and returns the heap still in use, in MB.
func liveHeapMB() float64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64()) / 1e6
}

// benchMemory are the memory figures a benchmark reports, each the worst
// over its iterations.
type benchMemory struct {
	heapMB, heldMB, liveMB float64
}

// add folds one iteration's peaks into m.
func (m *benchMemory) add(heapMB, heldMB, liveMB float64) {
	m.heapMB = max(m.heapMB, heapMB)
	m.heldMB = max(m.heldMB, heldMB)
	m.liveMB = max(m.liveMB, liveMB)
}

// report reports rows/s and the memory figures of b.
func (m *benchMemory) report(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(m.heapMB, "peak-MB")
	b.ReportMetric(m.heldMB, "held-MB")
	b.ReportMetric(m.liveMB, "live-MB")
}

// BenchmarkDryRun measures the dry run of the generated file as the tool
// runs it: DryRun streaming read, check, plan and the writing of the
// results and failures files (to io.Discard), with default GOGC. Besides
// time it reports rows/s, peak-MB (heap objects, garbage not yet swept
// included), held-MB (memory the runtime holds from the OS, close to the
// process's RSS) and live-MB (the most the heap held live at any
// collection during the run: the floor any GC setting could reach).
func BenchmarkDryRun(b *testing.B) {
	path := benchFile(b)
	chk := &validate.Checker{Location: time.UTC}

	var mem benchMemory
	var rows int
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		pm := startPeakMemory()
		b.StartTimer()

		rep, err := DryRun(path, ReadOptions{}, chk, nil, 0, io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		rows = rep.Rows

		b.StopTimer()
		mem.add(pm.end())
		b.StartTimer()
	}
	mem.report(b, rows)
}

// BenchmarkPlanInMemory measures the in-memory path of a real run on the
// same file: ReadFile, BuildPlan, and the results and failures files
// written from the plan (to io.Discard). Its metrics are BenchmarkDryRun's,
// except that live-MB is the heap after a collection with the plan still in
// use. The difference from BenchmarkDryRun is the price of holding every
// row.
func BenchmarkPlanInMemory(b *testing.B) {
	path := benchFile(b)
	chk := &validate.Checker{Location: time.UTC}

	var mem benchMemory
	var rows int
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		pm := startPeakMemory()
		b.StartTimer()

		sheet, err := ReadFile(path, ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		plan := BuildPlan(sheet, chk, nil)
		if err := report.WriteResults(io.Discard, sheet.Header, plan.Records()); err != nil {
			b.Fatal(err)
		}
		if err := report.WriteFailures(io.Discard, sheet.Header, plan.Records()); err != nil {
			b.Fatal(err)
		}
		rows = len(sheet.Rows)

		b.StopTimer()
		heap, held, _ := pm.end()
		mem.add(heap, held, liveHeapMB())
		runtime.KeepAlive(plan)
		b.StartTimer()
	}
	mem.report(b, rows)
}

// BenchmarkBareCSV is the floor for BenchmarkDryRun: encoding/csv reading
// the same file with a reused record, counting records. The ratio of the
// two is what checking and writing cost over reading alone.
func BenchmarkBareCSV(b *testing.B) {
	path := benchFile(b)

	var records int
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		records = 0
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			records++
		}
		f.Close()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
