package importer

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/fakeapi"
	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// The sending benchmarks run against the fake over loopback with 200 ms of
// latency per request, as issue 3 sets them:
//
//	go test -run x -bench Send -benchtime 1x ./importer/
//
// BenchmarkSend400Cases takes about 20 s. BenchmarkSendOneRowSerial sends
// one row per request, one request at a time, which costs 200 ms a row:
// it covers the first -send-serial-cases cases (default 100, about 60 s);
// pass -args -send-serial-cases=400 for the whole file (about 4 min).
const (
	benchSendCases   = 400
	benchSendRows    = 3 // rows per case
	benchSendRate    = 20
	benchSendBurst   = 1
	benchSendWorkers = 8
	benchSendLatency = 200 * time.Millisecond
	benchSendKey     = "cvk_bench_0f9e8d7c6b5a4"
)

var benchSerialCases = flag.Int("send-serial-cases", 100,
	"cases sent by BenchmarkSendOneRowSerial (at most 400)")

var benchSendTitles = []string{"Hold Order", "Missing ID", "Cancellation"}

// benchSendPlan is the benchmark file: n cases of benchSendRows rows.
func benchSendPlan(n int) *Plan {
	var cases []e2eCase
	for i := range n {
		c := e2eCase{id: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)}
		for _, title := range benchSendTitles[:benchSendRows] {
			c.items = append(c.items, validate.Escalation{
				Type: "support", Title: title, Note: "benchmark row"})
		}
		cases = append(cases, c)
	}
	return e2ePlan(cases...)
}

// benchSendSetup starts a fake with the benchmark's latency and returns it
// with a client whose transport keeps a connection per worker.
func benchSendSetup(b *testing.B) (*fakeapi.Server, *api.Client) {
	b.Helper()
	fake := fakeapi.New(fakeapi.Seed{
		Keys: map[string]string{benchSendKey: "org"}, AnyCaseOrg: "org"})
	fake.SetLatency(benchSendLatency)
	srv := httptest.NewServer(fake)
	b.Cleanup(srv.Close)

	base, err := api.ParseBaseURL(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 2 * benchSendWorkers}
	b.Cleanup(transport.CloseIdleConnections)
	return fake, &api.Client{BaseURL: base, Key: benchSendKey,
		HTTP: &http.Client{Transport: transport}, UserAgent: "cvimport/bench"}
}

// maxInWindow returns the most arrivals in any window of length w.
func maxInWindow(recs []fakeapi.RequestRecord, w time.Duration) int {
	times := make([]time.Time, len(recs))
	for i, r := range recs {
		times[i] = r.Arrived
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })

	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// benchDone counts the rows that ended created or already active.
func benchDone(p *Plan) int {
	n := 0
	for _, o := range p.Outcomes {
		if o.Status == report.Created || o.Status == report.AlreadyActive {
			n++
		}
	}
	return n
}

// BenchmarkSend400Cases sends 400 cases of 3 rows, one request per case,
// at -rate 20 -burst 1 -workers 8. It fails if any 1-second window at the
// fake holds more than rate + burst requests.
func BenchmarkSend400Cases(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		fake, client := benchSendSetup(b)
		plan := benchSendPlan(benchSendCases)
		s := &Sender{
			Client:  client,
			Limiter: rate.NewLimiter(benchSendRate, benchSendBurst),
			Workers: benchSendWorkers,
			Retries: 3,
		}
		b.StartTimer()

		stats, err := s.Run(context.Background(), plan)

		b.StopTimer()
		if err != nil {
			b.Fatalf("run stopped: %v", err)
		}
		if done := benchDone(plan); done != len(plan.Outcomes) {
			b.Fatalf("got %d rows done, want %d", done, len(plan.Outcomes))
		}
		window := maxInWindow(fake.Requests(), time.Second)
		if window > benchSendRate+benchSendBurst {
			b.Fatalf("got %d requests in one 1-second window, want at most %d",
				window, benchSendRate+benchSendBurst)
		}
		b.ReportMetric(stats.Rate(), "req/s")
		b.ReportMetric(100*stats.Rate()/benchSendRate, "%-of-rate")
		b.ReportMetric(float64(window), "max-per-1s-window")
		b.ReportMetric(float64(stats.Requests), "requests")
		b.ReportMetric(float64(benchDone(plan)), "rows-done")
		b.ReportMetric(stats.Elapsed.Seconds(), "wall-s")
		b.StartTimer()
	}
}

// BenchmarkSendOneRowSerial sends the same rows the way the API document's
// example does: one row per request, one request at a time, no limiter.
func BenchmarkSendOneRowSerial(b *testing.B) {
	n := min(max(*benchSerialCases, 1), benchSendCases)
	for b.Loop() {
		b.StopTimer()
		fake, client := benchSendSetup(b)
		plan := benchSendPlan(n)
		s := &Sender{Client: client, Workers: 1, MaxPerRequest: 1, Retries: 3}
		b.StartTimer()

		stats, err := s.Run(context.Background(), plan)

		b.StopTimer()
		if err != nil {
			b.Fatalf("run stopped: %v", err)
		}
		b.ReportMetric(stats.Rate(), "req/s")
		b.ReportMetric(float64(stats.Requests), "requests")
		b.ReportMetric(float64(benchDone(plan)), "rows-done")
		b.ReportMetric(float64(benchDone(plan))/stats.Elapsed.Seconds(), "rows/s")
		b.ReportMetric(stats.Elapsed.Seconds(), "wall-s")
		b.ReportMetric(float64(len(fake.Requests())), "fake-requests")
		b.StartTimer()
	}
}
