package main

// End-to-end tests: the built binary, run as a child process, against the
// fake API served by this test process on loopback. They cover what only a
// real process shows: SIGKILL at any moment, SIGTERM and SIGINT, the
// deadline, the lock between two processes, resuming from files left
// behind, the failures loop, and the cron wrapper in samples/.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/fakeapi"
)

const (
	// e2eKey is the API key of every run; no file or output may hold it.
	e2eKey = "cv-e2e-secret-key-5c2a91f07d3b"
	e2eOrg = "org-e2e"
	// e2eAgent is an assignable user of e2eOrg.
	e2eAgent = "agent@example.com"
	// notePrefix starts every note: patient data, which only the input,
	// results and failures CSVs may hold.
	notePrefix = "pt-note-"
	// childTimeout bounds one run of the binary.
	childTimeout = 30 * time.Second
)

// The binary under test, built once by cvimportBin.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// cvimportBin builds the binary on first use and returns its path. A
// failed build fails every test that needs it.
func cvimportBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "cvimport-e2e-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "cvimport")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// e2eHeader is the header of generated inputs; ticket is carried through.
var e2eHeader = []string{"caseId", "type", "title", "note", "followUpDueAt",
	"assignedToEmail", "ticket"}

// row is one generated input row.
type row struct {
	CaseID, Type, Title, Note, Due, Email, Ticket string
}

func (r row) record() []string {
	return []string{r.CaseID, r.Type, r.Title, r.Note, r.Due, r.Email, r.Ticket}
}

// key names the escalation the row creates, as the fake's labels do.
func (r row) key() string { return rowKey(r.CaseID, r.Type+" / "+r.Title) }

func rowKey(caseID, label string) string {
	return strings.ToLower(caseID) + " " + label
}

// genRows returns cases × 3 rows with deterministic case ids; seed keeps
// the cases of different tests apart. Notes hold commas, quotes and line
// breaks so that cut-short files end inside quoted fields.
func genRows(seed, cases int) []row {
	var rows []row
	for c := range cases {
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", seed, c, c, c, c)
		note := fmt.Sprintf("%s%03d", notePrefix, c)
		ticket := fmt.Sprintf("T%03d-", c)
		rows = append(rows,
			row{id, "support", "Refill Request",
				note + " called, asked for a \"refill\"\nsecond line",
				"2025-06-01 12:00", "", ticket + "a"},
			row{id, "clinical", "Urgent", "", "", e2eAgent, ticket + "b"},
			row{id, "external", "Payment Received, Missing CIF",
				note + " plain", "", "", ticket + "c"},
		)
	}
	return rows
}

func tickets(rows []row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Ticket
	}
	return out
}

// writeCSV writes a header and records to path.
func writeCSV(t *testing.T, path string, header []string, recs [][]string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	require.NoError(t, w.Write(header))
	require.NoError(t, w.WriteAll(recs))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
}

func writeRows(t *testing.T, path string, rows []row) {
	t.Helper()
	recs := make([][]string, len(rows))
	for i, r := range rows {
		recs[i] = r.record()
	}
	writeCSV(t, path, e2eHeader, recs)
}

// fold matches column names the way cvimport does.
func fold(name string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(name))
}

// resultRow is one record of a results file.
type resultRow struct {
	CaseID, Type, Title, Ticket, Status, ID, Error string
	Line                                           int
}

func (r resultRow) key() string { return rowKey(r.CaseID, r.Type+" / "+r.Title) }

// layout finds the columns of a results or failures file.
type layout map[string]int

func newLayout(header []string) layout {
	l := layout{}
	for i, h := range header {
		l[fold(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	return l
}

func (l layout) get(rec []string, name string) string {
	if i, ok := l[fold(name)]; ok && i < len(rec) {
		return rec[i]
	}
	return ""
}

func (l layout) row(rec []string) resultRow {
	line, _ := strconv.Atoi(l.get(rec, "line"))
	return resultRow{
		CaseID: l.get(rec, "caseId"), Type: l.get(rec, "type"),
		Title: l.get(rec, "title"), Ticket: l.get(rec, "ticket"),
		Status: l.get(rec, "status"), ID: l.get(rec, "escalationId"),
		Error: l.get(rec, "error"), Line: line,
	}
}

// readResults reads a finished results (or failures) file strictly.
func readResults(t *testing.T, path string) []resultRow {
	t.Helper()
	recs := readCSV(t, path)
	require.NotEmpty(t, recs, path)
	l := newLayout(recs[0])
	out := make([]resultRow, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		out = append(out, l.row(rec))
	}
	return out
}

var doneStatus = map[string]bool{"created": true, "already_active": true,
	"skipped": true}

// doneOnDisk reads a results file as a crash may have left it, written up
// to any byte, and returns the rows some record shows done. A record is
// trusted only when it has every field and something follows it: the last
// one only when the file ends with its line break. Reading stops at the
// first record that cannot be parsed.
func doneOnDisk(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err, "the file a kill left")

	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	require.NoError(t, err, "the header of the file a kill left")
	l := newLayout(header)

	var recs [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			// The last record read is the file's last.
			if !bytes.HasSuffix(data, []byte("\n")) && len(recs) > 0 {
				recs = recs[:len(recs)-1]
			}
			break
		}
		if err != nil {
			break
		}
		recs = append(recs, rec)
	}

	done := map[string]bool{}
	for _, rec := range recs {
		if len(rec) == len(header) && doneStatus[l.get(rec, "status")] {
			done[l.row(rec).key()] = true
		}
	}
	return done
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// child is one run of the binary (or of the cron wrapper).
type child struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	started, ended time.Time
	done           chan struct{}
}

// wait waits for the child to end and returns its exit code, -1 when a
// signal killed it.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(childTimeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("%v still running after %v; stderr:\n%s", c.cmd.Args,
			childTimeout, c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode()
}

// killed reports whether a signal ended the child (after wait).
func (c *child) killed() bool {
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

func (c *child) signal(sig os.Signal) { _ = c.cmd.Process.Signal(sig) }

// trip is an action on the running child, taken from inside the fake's
// handler: when a POST arrives, or right after one was answered, once the
// condition holds. Its time goes to fired.
type trip struct {
	onArrival bool
	when      func(f *fakeapi.Server) bool
	delay     time.Duration // wait this long after the condition, then act
	act       func()
	fired     chan time.Time
}

// tripwire is the test server's handler: the fake, plus one armed trip.
type tripwire struct {
	fake *fakeapi.Server
	mu   sync.Mutex
	trip *trip
}

func (w *tripwire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.fake.ServeHTTP(rw, r)
		return
	}
	w.check(true)
	sw := &seenWriter{ResponseWriter: rw}
	w.fake.ServeHTTP(sw, r)
	if sw.wrote {
		// The answer leaves now, not when the handler returns, so that a
		// trip after it finds the child holding it.
		_ = http.NewResponseController(rw).Flush()
	}
	w.check(false)
}

// firedAt returns when the trip acted; it fails the test if it never did.
func (tr *trip) firedAt(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-tr.fired:
		return at
	case <-time.After(time.Second):
		t.Fatal("the trip never fired")
		return time.Time{}
	}
}

func (w *tripwire) arm(tr *trip) {
	tr.fired = make(chan time.Time, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trip = tr
}

func (w *tripwire) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trip = nil
}

func (w *tripwire) check(arrival bool) {
	w.mu.Lock()
	tr := w.trip
	if tr == nil || tr.onArrival != arrival || !tr.when(w.fake) {
		w.mu.Unlock()
		return
	}
	w.trip = nil
	w.mu.Unlock()

	fire := func() {
		tr.act()
		tr.fired <- time.Now()
	}
	if tr.delay > 0 {
		time.AfterFunc(tr.delay, fire)
		return
	}
	fire()
}

// seenWriter notes whether the fake wrote an answer.
type seenWriter struct {
	http.ResponseWriter
	wrote bool
}

func (s *seenWriter) WriteHeader(code int) {
	s.wrote = true
	s.ResponseWriter.WriteHeader(code)
}

func (s *seenWriter) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

func (s *seenWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// e2e is one test's world: a folder, a seeded fake on loopback, and every
// run made in it, whose outputs are checked for the key and for notes when
// the test ends.
type e2e struct {
	t    *testing.T
	dir  string
	fake *fakeapi.Server
	wire *tripwire
	url  string

	mu       sync.Mutex
	children []*child
	keyFiles []string // files allowed to hold the key
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	cvimportBin(t)
	e := &e2e{t: t, dir: t.TempDir()}
	e.fake = fakeapi.New(fakeapi.Seed{
		Keys:       map[string]string{e2eKey: e2eOrg},
		AnyCaseOrg: e2eOrg,
		Users:      map[string][]string{e2eOrg: {e2eAgent, "nurse@example.com"}},
	})
	e.wire = &tripwire{fake: e.fake}
	ts := httptest.NewServer(e.wire)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	t.Cleanup(e.checkNoSecrets)
	return e
}

func (e *e2e) path(name string) string { return filepath.Join(e.dir, name) }

// start runs the binary with args; CV_API_KEY holds the key.
func (e *e2e) start(t *testing.T, args ...string) *child {
	t.Helper()
	return e.startCmd(t, e.binCmd(binPath, args...))
}

// binCmd is the command that runs the binary through name (the binary
// itself, or a launcher such as nice), with the key in CV_API_KEY.
func (e *e2e) binCmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"CV_API_KEY=" + e2eKey, "HOME=" + e.dir,
		"PATH=" + os.Getenv("PATH")}
	return cmd
}

// startCmd starts cmd in e's folder; the child is killed if the test ends
// first.
func (e *e2e) startCmd(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	c := &child{cmd: cmd, done: make(chan struct{})}
	cmd.Dir = e.dir
	cmd.Stdout, cmd.Stderr = &c.stdout, &c.stderr
	c.started = time.Now()
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		c.ended = time.Now()
		close(c.done)
	}()

	e.mu.Lock()
	e.children = append(e.children, c)
	e.mu.Unlock()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// run runs the binary to the end and returns the child and exit code.
func (e *e2e) run(t *testing.T, args ...string) (*child, int) {
	t.Helper()
	c := e.start(t, args...)
	return c, c.wait(t)
}

// importArgs are the flags every import run takes, then extra.
func (e *e2e) importArgs(extra ...string) []string {
	return append([]string{"import", "-base-url", e.url, "-tz", "UTC",
		"-timeout", "10s"}, extra...)
}

// posts returns the POSTs the fake received from index from on.
func (e *e2e) posts(from int) []fakeapi.RequestRecord {
	var out []fakeapi.RequestRecord
	for _, r := range e.fake.Requests()[from:] {
		if r.Method == http.MethodPost {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond every few milliseconds until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkNoSecrets is the key check of every test: no output of any run and
// no file left in the folder (but the key files) holds the API key, and
// nothing but the CSVs (and copies of them) holds a note. The import
// command writes nothing on stdout.
func (e *e2e) checkNoSecrets() {
	t := e.t
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.children {
		for name, out := range map[string]string{"stdout": c.stdout.String(),
			"stderr": c.stderr.String()} {
			assert.NotContains(t, out, e2eKey, "%s of %v", name, c.cmd.Args)
			assert.NotContains(t, out, notePrefix, "%s of %v", name, c.cmd.Args)
		}
		if slices.Contains(c.cmd.Args, binPath) {
			assert.Empty(t, c.stdout.String(), "stdout of %v", c.cmd.Args)
		}
	}

	checked := 0
	err := filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || slices.Contains(e.keyFiles, p) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		checked++
		assert.NotContains(t, string(b), e2eKey, "file %s", p)
		if !strings.Contains(filepath.Base(p), ".csv") {
			assert.NotContains(t, string(b), notePrefix, "file %s", p)
		}
		return nil
	})
	assert.NoError(t, err)
	assert.NotZero(t, checked, "no file to check for the key")
}

// assertAllDone checks the final results of rows: each row once, in input
// order, done; each escalation created exactly once on the fake, and any
// escalationId the one the fake gave.
func (e *e2e) assertAllDone(t *testing.T, results string, rows []row) []resultRow {
	t.Helper()
	got := readResults(t, results)
	require.Equal(t, tickets(rows), ticketsOf(got), "rows of %s", results)

	ids := createdIDs(e.fake)
	for i, r := range got {
		assert.True(t, doneStatus[r.Status], "ticket %s: status %s (%s)",
			r.Ticket, r.Status, r.Error)
		assert.Equal(t, 1, e.fake.CountCreated(strings.ToLower(rows[i].CaseID),
			rows[i].Type, rows[i].Title), "created on the fake: %s", r.Ticket)
		if r.ID != "" {
			assert.Equal(t, ids[rows[i].key()], r.ID, "escalationId of %s", r.Ticket)
		}
		if i > 0 {
			assert.Greater(t, r.Line, got[i-1].Line, "line of %s", r.Ticket)
		}
	}
	return got
}

// createdIDs returns the id of every escalation the fake created, by row
// key.
func createdIDs(f *fakeapi.Server) map[string]string {
	ids := map[string]string{}
	for _, c := range f.Created() {
		e := c.Escalation
		ids[rowKey(c.CaseID, e.Type+" / "+e.Title)] = e.ID
	}
	return ids
}

func ticketsOf(rows []resultRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Ticket
	}
	return out
}

// killMark is what the disk held when a run was killed: the rows its
// results file showed done, and how many requests the fake had received.
type killMark struct {
	requests int
	done     map[string]bool
}

// assertNotSentAgain checks that no POST after a kill carried a row the
// results file showed done at that kill. A request the fake never checked
// (its client died during the latency) is known by its case only: it
// must not be for a case whose rows were all done.
func (e *e2e) assertNotSentAgain(t *testing.T, marks []killMark, rows []row) {
	t.Helper()
	reqs := e.fake.Requests()
	for k, m := range marks {
		caseDone := map[string]bool{}
		for _, r := range rows {
			id := strings.ToLower(r.CaseID)
			d, seen := caseDone[id]
			caseDone[id] = (d || !seen) && m.done[r.key()]
		}
		for i, rec := range reqs[m.requests:] {
			if rec.Method != http.MethodPost {
				continue
			}
			if rec.Labels == nil {
				assert.False(t, caseDone[rec.CaseID], "kill %d: request %d "+
					"to case %s, all done on disk", k, m.requests+i, rec.CaseID)
				continue
			}
			for _, l := range rec.Labels {
				assert.False(t, m.done[rowKey(rec.CaseID, l)], "kill %d: request "+
					"%d sent %s %s again, done on disk", k, m.requests+i,
					rec.CaseID, l)
			}
		}
	}
}

// killOnFile kills c as soon as a file whose name starts with prefix is
// in dir. It polls without sleeping: the window is a few fsyncs long.
func killOnFile(c *child, dir, prefix string) {
	for {
		select {
		case <-c.done:
			return
		default:
		}
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), prefix) {
				_ = c.cmd.Process.Kill()
				return
			}
		}
	}
}

func createdAtLeast(n int) func(*fakeapi.Server) bool {
	return func(f *fakeapi.Server) bool { return len(f.Created()) >= n }
}

func anyPost(*fakeapi.Server) bool { return true }

// kill is where a run of TestE2EKillNineThenResume is killed: when a POST
// arrives or right after one is answered, once when holds; then after
// delay, or once a file whose name starts with file is in the folder.
type kill struct {
	onArrival bool
	when      func(*fakeapi.Server) bool
	delay     time.Duration
	file      string
	latency   time.Duration // of the fake during this run; 0: the default
}

// startKilled starts the binary and arms the tripwire to SIGKILL it at k.
func (e *e2e) startKilled(t *testing.T, k kill, args []string) *child {
	t.Helper()
	if k.latency > 0 {
		e.fake.SetLatency(k.latency)
	}
	var c *child
	act := func() { _ = c.cmd.Process.Kill() }
	if k.file == "" {
		c = e.start(t, args...)
	} else {
		// At the lowest priority the binary yields the processor to the
		// watcher, which then sees the file even on a busy machine.
		c = e.startCmd(t, e.binCmd("nice", append([]string{"-n", "19",
			binPath}, args...)...))
		act = func() { go killOnFile(c, e.dir, k.file) }
	}
	e.wire.arm(&trip{onArrival: k.onArrival, when: k.when, delay: k.delay,
		act: act})
	return c
}

// TestE2EKillNineThenResume kills the binary with SIGKILL at chosen points
// and resumes with -resume RESULTS -out RESULTS until a run exits 0.
func TestE2EKillNineThenResume(t *testing.T) {
	const cases = 40
	all := cases * 3
	tests := []struct {
		name  string
		kills []kill // of the first runs, in order
	}{
		{"before the first answer", []kill{
			{onArrival: true, when: anyPost, latency: 300 * time.Millisecond}}},
		{"mid-run", []kill{{when: createdAtLeast(all / 2)}}},
		{"right after the last answer", []kill{{when: createdAtLeast(all)}}},
		{"while the final results are written", []kill{
			{when: createdAtLeast(all), file: ".in.results.csv.tmp-"}}},
		{"while the failures file is written", []kill{
			{when: createdAtLeast(all), file: ".in.failures.csv.tmp-"}}},
		{"spread over the run", []kill{
			{when: createdAtLeast(1 * 3)},
			{when: createdAtLeast(5 * 3)},
			{when: createdAtLeast(17 * 3), delay: time.Millisecond},
			{when: createdAtLeast(30 * 3), onArrival: true}}},
	}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A kill on a file's appearance races the binary: on a busy
			// machine the write may be over before the kill lands. Such a
			// miss is tried again, on a new fake, a few times.
			const attempts = 5
			for attempt := 1; ; attempt++ {
				if killThenResume(t, genRows(0x100+ti*16+attempt, cases), tt.kills) {
					return
				}
				require.Less(t, attempt, attempts, "no kill landed in %d tries",
					attempts)
				t.Logf("attempt %d: the run ended before its kill", attempt)
			}
		})
	}
}

// killThenResume runs the binary on rows, killing its first runs at kills,
// then resumes until a run exits 0, and checks the outcome. It returns
// false, having checked nothing, if a run with a kill on a file's
// appearance ended before the kill.
func killThenResume(t *testing.T, rows []row, kills []kill) bool {
	const workers = 2
	e := newE2E(t)
	input, results := e.path("in.csv"), e.path("in.results.csv")
	writeRows(t, input, rows)

	var marks []killMark
	for run := 0; ; run++ {
		require.Less(t, run, len(kills)+3, "runs without an end")
		args := e.importArgs("-rate", "400", "-workers", strconv.Itoa(workers),
			"-out", results)
		if run > 0 {
			args = append(args, "-resume", results)
		}
		args = append(args, input)

		e.fake.SetLatency(5 * time.Millisecond)
		var c *child
		if run < len(kills) {
			c = e.startKilled(t, kills[run], args)
		} else {
			c = e.start(t, args...)
		}
		code := c.wait(t)
		e.wire.disarm()

		if !c.killed() {
			require.NotEqual(t, exitRefused, code, "the file left by a kill "+
				"was refused:\n%s", c.stderr.String())
			require.Equal(t, exitOK, code, c.stderr.String())
			if run < len(kills) && kills[run].file != "" {
				return false
			}
			require.GreaterOrEqual(t, run, len(kills),
				"run %d ended before its kill", run)
			break
		}

		// Every case answered before the kill is on disk, but those in
		// flight: at most one per worker.
		m := killMark{requests: len(e.fake.Requests()),
			done: doneOnDisk(t, results)}
		created := len(e.fake.Created())
		t.Logf("run %d killed after %v: %d rows created, %d done on disk",
			run, c.ended.Sub(c.started).Round(time.Millisecond), created,
			len(m.done))
		assert.GreaterOrEqual(t, len(m.done), created-workers*3,
			"run %d: rows done on disk", run)
		marks = append(marks, m)
	}

	e.assertAllDone(t, results, rows)
	assert.Len(t, e.fake.Created(), len(rows))
	e.assertNotSentAgain(t, marks, rows)

	// Temporary files of writes cut short are cleared by the next run
	// that holds the lock.
	temps, err := filepath.Glob(e.path(".in.*.tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, temps)
	return true
}

// TestE2ESigtermFinishesInFlightAndResumes: the first SIGTERM stops
// taking cases, writes every row once with the unsent ones pending, exits
// 3; a resume finishes the rest.
func TestE2ESigtermFinishesInFlightAndResumes(t *testing.T) {
	e := newE2E(t)
	rows := genRows(0x200, 40)
	input, results := e.path("in.csv"), e.path("in.results.csv")
	writeRows(t, input, rows)
	e.fake.SetLatency(40 * time.Millisecond)

	c := e.start(t, e.importArgs("-rate", "50", "-workers", "2", input)...)
	tr := &trip{when: createdAtLeast(10 * 3),
		act: func() { c.signal(syscall.SIGTERM) }}
	e.wire.arm(tr)
	code := c.wait(t)

	require.Equal(t, exitRetry, code, c.stderr.String())
	signalled := tr.firedAt(t)
	assert.Less(t, c.ended.Sub(signalled), 2*time.Second, "time to stop")

	// Every row once, in input order; created exactly what the fake
	// created, the rest pending.
	got := readResults(t, results)
	require.Equal(t, tickets(rows), ticketsOf(got))
	onFake := createdIDs(e.fake)
	var pending []string
	for _, r := range got {
		switch r.Status {
		case "created":
			assert.Equal(t, onFake[r.key()], r.ID, r.Ticket)
		case "pending":
			assert.NotContains(t, onFake, r.key(), "%s created, recorded pending",
				r.Ticket)
			assert.Empty(t, r.ID, r.Ticket)
			pending = append(pending, r.Ticket)
		default:
			t.Errorf("%s: status %s, want created or pending", r.Ticket, r.Status)
		}
	}
	t.Logf("stopped %v after SIGTERM: %d rows created, %d pending",
		c.ended.Sub(signalled).Round(time.Millisecond), len(onFake), len(pending))
	assert.Len(t, onFake, len(got)-len(pending), "created on the fake")
	assert.NotEmpty(t, pending)
	assert.Equal(t, pending, ticketsOf(readResults(t, e.path("in.failures.csv"))))

	// The resume sends only the pending rows.
	mark := killMark{requests: len(e.fake.Requests()), done: doneOnDisk(t, results)}
	e.fake.SetLatency(time.Millisecond)
	c, code = e.run(t, e.importArgs("-rate", "400", "-resume", results, input)...)
	require.Equal(t, exitOK, code, c.stderr.String())
	e.assertAllDone(t, results, rows)
	e.assertNotSentAgain(t, []killMark{mark}, rows)
}

// TestE2ESecondSignalStopsAtOnce: a second SIGINT exits 3 without waiting
// for the request in flight, and the file it leaves resumes.
func TestE2ESecondSignalStopsAtOnce(t *testing.T) {
	e := newE2E(t)
	rows := genRows(0x300, 10)
	input, results := e.path("in.csv"), e.path("in.results.csv")
	writeRows(t, input, rows)

	// The first POST, and only it, waits long: the first signal comes as
	// it arrives, the second while it waits.
	const latency = 2 * time.Second
	c := e.start(t, e.importArgs("-rate", "100", "-workers", "1", input)...)
	e.wire.arm(&trip{onArrival: true, when: anyPost, act: func() {
		e.fake.SetLatency(latency)
		c.signal(os.Interrupt)
	}})
	waitFor(t, "the first signal's message", func() bool {
		return strings.Contains(c.stderr.String(), "finishing requests in flight")
	})
	second := time.Now()
	c.signal(os.Interrupt)
	code := c.wait(t)

	require.Equal(t, exitRetry, code, c.stderr.String())
	assert.Less(t, c.ended.Sub(second), latency/2, "exit after the second signal")
	assert.Contains(t, c.stderr.String(), "stopped at once")

	mark := killMark{requests: len(e.fake.Requests()), done: doneOnDisk(t, results)}
	e.fake.SetLatency(time.Millisecond)
	c, code = e.run(t, e.importArgs("-rate", "400", "-resume", results,
		"-out", results, input)...)
	require.Equal(t, exitOK, code, c.stderr.String())
	e.assertAllDone(t, results, rows)
	e.assertNotSentAgain(t, []killMark{mark}, rows)
}

// TestE2EDeadline: no case starts after -deadline; the rest are pending.
func TestE2EDeadline(t *testing.T) {
	t.Run("passes mid-run", func(t *testing.T) {
		e := newE2E(t)
		rows := genRows(0x400, 40)
		input, results := e.path("in.csv"), e.path("in.results.csv")
		writeRows(t, input, rows)
		e.fake.SetLatency(20 * time.Millisecond)

		// At 2 requests a second, cases start about 0, 0.5 and 1s after
		// the key check; a fourth would start about 1.5s after it.
		const deadline = 1250 * time.Millisecond
		c, code := e.run(t, e.importArgs("-rate", "2", "-workers", "2",
			"-deadline", deadline.String(), input)...)
		require.Equal(t, exitRetry, code, c.stderr.String())
		assert.Contains(t, c.stderr.String(), "deadline")

		// The run started before its key check arrived, so its deadline is
		// before that arrival + 1.25s; a POST may arrive a little after a
		// case started in time.
		reqs := e.fake.Requests()
		require.NotEmpty(t, reqs)
		latest := reqs[0].Arrived.Add(deadline + 100*time.Millisecond)
		posts := e.posts(0)
		t.Logf("%d cases sent, the last %v after the key check", len(posts),
			posts[len(posts)-1].Arrived.Sub(reqs[0].Arrived).Round(time.Millisecond))
		assert.GreaterOrEqual(t, len(posts), 2, "cases sent before the deadline")
		for i, p := range posts {
			assert.False(t, p.Arrived.After(latest), "POST %d arrived %v "+
				"after the deadline", i, p.Arrived.Sub(latest))
		}

		counts := map[string]int{}
		for _, r := range readResults(t, results) {
			counts[r.Status]++
		}
		assert.Equal(t, len(posts)*3, counts["created"])
		assert.Equal(t, len(rows)-len(posts)*3, counts["pending"])

		mark := killMark{requests: len(reqs), done: doneOnDisk(t, results)}
		e.fake.SetLatency(time.Millisecond)
		c, code = e.run(t, e.importArgs("-rate", "400", "-resume", results, input)...)
		require.Equal(t, exitOK, code, c.stderr.String())
		e.assertAllDone(t, results, rows)
		e.assertNotSentAgain(t, []killMark{mark}, rows)
	})

	t.Run("a Retry-After past it is not waited for", func(t *testing.T) {
		e := newE2E(t)
		rows := genRows(0x401, 3)
		input := e.path("in.csv")
		writeRows(t, input, rows)
		e.fake.SetRateLimit(1) // the key check takes the window's only slot
		e.fake.SetRetryAfter("30")

		c, code := e.run(t, e.importArgs("-rate", "100", "-max-wait", "1m",
			"-deadline", "3s", input)...)
		require.Equal(t, exitRetry, code, c.stderr.String())
		assert.Less(t, c.ended.Sub(c.started), 10*time.Second)
		assert.Empty(t, e.fake.Created())
	})
}

// TestE2ELock: a second run on the same results file is refused at once;
// a lock left behind by a dead run is not.
func TestE2ELock(t *testing.T) {
	e := newE2E(t)
	rows := genRows(0x500, 10)
	input, results := e.path("in.csv"), e.path("in.results.csv")
	writeRows(t, input, rows)
	e.fake.SetLatency(300 * time.Millisecond)

	first := e.start(t, e.importArgs("-rate", "100", "-workers", "1", input)...)
	waitFor(t, "the first run's first POST", func() bool {
		return len(e.posts(0)) > 0
	})

	// A second run, pointed at another fake so that anything it sends
	// shows, is refused and names the first.
	other := fakeapi.New(fakeapi.Seed{Keys: map[string]string{e2eKey: e2eOrg},
		AnyCaseOrg: e2eOrg})
	ts := httptest.NewServer(other)
	t.Cleanup(ts.Close)
	second, code := e.run(t, "import", "-base-url", ts.URL, "-tz", "UTC",
		"-out", results, "-failures", e.path("second.failures.csv"), input)
	require.Equal(t, exitRefused, code, second.stderr.String())
	assert.Less(t, second.ended.Sub(second.started), 2*time.Second)
	assert.Contains(t, second.stderr.String(),
		fmt.Sprintf("pid %d", first.cmd.Process.Pid))
	assert.Empty(t, other.Requests(), "the refused run sent something")
	assert.NoFileExists(t, e.path("second.failures.csv"))

	// kill -9 leaves the lock file, naming a dead process; the next run
	// takes it and finishes.
	_ = first.cmd.Process.Kill()
	first.wait(t)
	holder, err := os.ReadFile(results + ".lock")
	require.NoError(t, err, "the lock file a killed run left")
	assert.Contains(t, string(holder), fmt.Sprintf("pid %d", first.cmd.Process.Pid))

	e.fake.SetLatency(time.Millisecond)
	c, code := e.run(t, e.importArgs("-rate", "400", "-resume", results,
		"-out", results, input)...)
	require.Equal(t, exitOK, code, c.stderr.String())
	e.assertAllDone(t, results, rows)
	assert.NoFileExists(t, results+".lock", "released at the end")

	// A stale lock file that no process holds does not block either.
	again := e.path("again.results.csv")
	require.NoError(t, os.WriteFile(again+".lock",
		[]byte("pid 999999 on ghost since 2020-01-01T00:00:00Z\n"), 0o600))
	before := len(e.fake.Requests())
	c, code = e.run(t, e.importArgs("-rate", "400", "-resume", results,
		"-out", again, "-failures", e.path("again.failures.csv"), input)...)
	require.Equal(t, exitOK, code, c.stderr.String())
	assert.Empty(t, e.posts(before), "every row was done already")
	for _, r := range readResults(t, again) {
		assert.Equal(t, "skipped", r.Status, r.Ticket)
	}
	assert.NoFileExists(t, again+".lock", "released at the end")
}

// TestE2EResumeAfterEdits: -resume matches rows by content, whatever the
// order, the column names, or the file; a cut-short results file resumes.
func TestE2EResumeAfterEdits(t *testing.T) {
	e := newE2E(t)
	rows := genRows(0x600, 40)
	input, results := e.path("in.csv"), e.path("in.results.csv")
	writeRows(t, input, rows)

	c, code := e.run(t, e.importArgs("-rate", "400", "-workers", "2", input)...)
	require.Equal(t, exitOK, code, c.stderr.String())
	first := e.assertAllDone(t, results, rows)
	idOf := map[string]string{}
	for _, r := range first {
		idOf[r.Ticket] = r.ID
	}

	t.Run("re-sorted, renamed, one note edited", func(t *testing.T) {
		edited := slices.Clone(rows)
		rand.New(rand.NewPCG(6, 0)).Shuffle(len(edited), func(i, j int) {
			edited[i], edited[j] = edited[j], edited[i]
		})
		changed := slices.IndexFunc(edited, func(r row) bool {
			return r.Ticket == "T007-a"
		})
		edited[changed].Note += " (edited)"
		header := slices.Clone(e2eHeader)
		header[0] = "Case ID"
		recs := make([][]string, len(edited))
		for i, r := range edited {
			recs[i] = r.record()
		}
		path := e.path("edited.csv")
		writeCSV(t, path, header, recs)

		before := len(e.fake.Requests())
		c, code := e.run(t, e.importArgs("-rate", "400", "-resume", results, path)...)
		require.Equal(t, exitOK, code, c.stderr.String())

		// Only the edited row is sent; same case, type and title, so the
		// API finds it already active.
		posts := e.posts(before)
		require.Len(t, posts, 1)
		assert.Equal(t, strings.ToLower(edited[changed].CaseID), posts[0].CaseID)
		assert.Equal(t, []string{"support / Refill Request"}, posts[0].Labels)

		got := readResults(t, e.path("edited.results.csv"))
		require.Equal(t, tickets(edited), ticketsOf(got))
		for _, r := range got {
			if r.Ticket == "T007-a" {
				assert.Equal(t, "already_active", r.Status)
				continue
			}
			assert.Equal(t, "skipped", r.Status, r.Ticket)
			assert.Equal(t, idOf[r.Ticket], r.ID, "escalationId kept: %s", r.Ticket)
		}
		assert.Len(t, e.fake.Created(), len(rows), "nothing created again")
	})

	t.Run("cut short at any byte", func(t *testing.T) {
		whole, err := os.ReadFile(results)
		require.NoError(t, err)
		headerEnd := bytes.IndexByte(whole, '\n') + 1
		mid := len(whole) / 2
		inNote := mid + bytes.Index(whole[mid:], []byte("second line")) + 3
		require.Greater(t, inNote, mid+3)
		offsets := []int{headerEnd + 5, len(whole) / 3, inNote, len(whole) - 30,
			len(whole) - 1}
		for _, off := range offsets {
			t.Run(strconv.Itoa(off), func(t *testing.T) {
				cut := e.path(fmt.Sprintf("cut-%d.results.csv", off))
				require.NoError(t, os.WriteFile(cut, whole[:off], 0o600))
				done := doneOnDisk(t, cut)

				before := len(e.fake.Requests())
				c, code := e.run(t, e.importArgs("-rate", "400", "-resume", cut,
					"-out", cut, "-failures", cut+".failures.csv", input)...)
				require.NotEqual(t, exitRefused, code, c.stderr.String())
				require.Equal(t, exitOK, code, c.stderr.String())

				got := e.assertAllDone(t, cut, rows)
				for _, r := range got {
					want := "already_active"
					if done[r.key()] {
						want = "skipped"
					}
					assert.Equal(t, want, r.Status, r.Ticket)
				}
				e.assertNotSentAgain(t, []killMark{{before, done}}, rows)
				assert.Len(t, e.fake.Created(), len(rows))
			})
		}
	})

	t.Run("the failures file of a run as the input", func(t *testing.T) {
		e := newE2E(t)
		rows := genRows(0x601, 10)
		input, results := e.path("in.csv"), e.path("in.results.csv")
		writeRows(t, input, rows)
		down := []string{rows[3].CaseID, rows[9].CaseID, rows[27].CaseID}
		for _, id := range down {
			e.fake.SetDown(id, true)
		}

		c, code := e.run(t, e.importArgs("-rate", "400", "-retries", "0", input)...)
		require.Equal(t, exitRetry, code, c.stderr.String())
		failures := readResults(t, e.path("in.failures.csv"))
		require.Len(t, failures, 9)

		for _, id := range down {
			e.fake.SetDown(id, false)
		}
		before := len(e.fake.Requests())
		c, code = e.run(t, e.importArgs("-rate", "400", "-resume", results,
			e.path("in.failures.csv"))...)
		require.Equal(t, exitOK, code, c.stderr.String())
		sent := map[string]bool{}
		for _, p := range e.posts(before) {
			sent[p.CaseID] = true
		}
		assert.Len(t, sent, len(down), "cases sent: %v", sent)
		for _, r := range readResults(t, e.path("in.failures.results.csv")) {
			assert.Equal(t, "created", r.Status, r.Ticket)
		}
		for _, r := range rows {
			assert.Equal(t, 1, e.fake.CountCreated(r.CaseID, r.Type, r.Title))
		}
	})
}

// TestE2EFailuresLoop: run, fix the failures file, run it with -resume of
// the first results: the loop ends with exit 0 and every row created once.
func TestE2EFailuresLoop(t *testing.T) {
	e := newE2E(t)
	rows := genRows(0x700, 10)
	broken := map[string]func(*row){
		"T001-a": func(r *row) { r.Title = "Refil Requestt" },
		"T004-b": func(r *row) { r.Email = "agent@@example.com" },
		"T006-b": func(r *row) { r.Email = "ghost@example.com" }, // unknown
		"T008-a": func(r *row) { r.Due = "2/30/2025" },
	}
	for i := range rows {
		if f, ok := broken[rows[i].Ticket]; ok {
			f(&rows[i])
		}
	}
	input, results := e.path("in.csv"), e.path("in.results.csv")
	writeRows(t, input, rows)

	c, code := e.run(t, e.importArgs("-rate", "400", input)...)
	require.Equal(t, exitFix, code, c.stderr.String())
	statuses := map[string]string{}
	for _, r := range readResults(t, results) {
		statuses[r.Ticket] = r.Status
	}
	assert.Equal(t, "invalid", statuses["T001-a"])
	assert.Equal(t, "invalid", statuses["T004-b"])
	assert.Equal(t, "failed", statuses["T006-b"])
	assert.Equal(t, "invalid", statuses["T008-a"])
	assert.Equal(t, "created", statuses["T006-a"], "the rest of the case")

	// Fix the failures file as a person would in a spreadsheet.
	recs := readCSV(t, e.path("in.failures.csv"))
	l := newLayout(recs[0])
	require.Len(t, recs, 1+len(broken))
	for _, rec := range recs[1:] {
		switch l.get(rec, "ticket") {
		case "T001-a":
			rec[l[fold("title")]] = "refill request"
		case "T004-b", "T006-b":
			rec[l[fold("assignedToEmail")]] = "Nurse@Example.com"
		case "T008-a":
			rec[l[fold("followUpDueAt")]] = "2/28/2025"
		}
	}
	fixed := e.path("fixed.csv")
	writeCSV(t, fixed, recs[0], recs[1:])

	// Pass 1 resumes the first run's results: only the fixed rows are
	// sent, one request per case, and all of them are created.
	before := len(e.fake.Requests())
	c, code = e.run(t, e.importArgs("-rate", "400", "-resume", results, fixed)...)
	require.Equal(t, exitOK, code, c.stderr.String())
	assert.Len(t, e.posts(before), len(broken), "one request per fixed case")
	got := readResults(t, e.path("fixed.results.csv"))
	require.Len(t, got, len(broken))
	for _, r := range got {
		assert.Equal(t, "created", r.Status, "%s: %s", r.Ticket, r.Error)
	}
	assert.Empty(t, readResults(t, e.path("fixed.failures.csv")))

	// The loop has converged: running the fixed file again with its own
	// results sends nothing.
	before = len(e.fake.Requests())
	c, code = e.run(t, e.importArgs("-rate", "400", "-resume",
		e.path("fixed.results.csv"), fixed)...)
	require.Equal(t, exitOK, code, c.stderr.String())
	assert.Empty(t, e.posts(before))
	assert.Len(t, e.fake.Created(), len(rows))
	for _, r := range rows {
		title := r.Title
		if r.Ticket == "T001-a" {
			title = "Refill Request"
		}
		assert.Equal(t, 1, e.fake.CountCreated(r.CaseID, r.Type, title), r.Ticket)
	}
}

// nightly runs samples/cvimport-nightly.sh with bash against e's fake.
func (e *e2e) nightly(t *testing.T, input string, flags ...string) (*child, int) {
	t.Helper()
	return e.nightlyEnv(t, input, nil, flags...)
}

// nightlyEnv is nightly with further environment variables for the script,
// which override its test defaults.
func (e *e2e) nightlyEnv(t *testing.T, input string, env []string,
	flags ...string) (*child, int) {
	t.Helper()
	keyFile := e.path("api-key")
	require.NoError(t, os.WriteFile(keyFile, []byte(e2eKey+"\n"), 0o600))
	e.keyFiles = append(e.keyFiles, keyFile)

	script, err := filepath.Abs(filepath.Join("samples", "cvimport-nightly.sh"))
	require.NoError(t, err)
	cmd := exec.Command("bash", script)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.dir,
		"CVIMPORT_BIN=" + binPath,
		"CVIMPORT_INPUT=" + input,
		"CVIMPORT_OUT_DIR=" + e.path("out"),
		"CVIMPORT_KEY_FILE=" + keyFile,
		"CVIMPORT_TZ=UTC",
		// A clock-time default could fall inside the test's run.
		"CVIMPORT_DEADLINE=2h",
		"CVIMPORT_FLAGS=" + strings.Join(append([]string{"-base-url", e.url,
			"-rate", "50"}, flags...), " "),
		"CVIMPORT_RETRY_DELAY=0",
		"CVIMPORT_ATTEMPTS=3",
	}
	cmd.Env = append(cmd.Env, env...)
	c := e.startCmd(t, cmd)
	return c, c.wait(t)
}

// stamped returns the path in dir named escalations-DAY.SUFFIX, checking
// that DAY is today's date.
func stamped(t *testing.T, dir, suffix string, before time.Time) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "escalations-*."+suffix))
	require.NoError(t, err)
	require.Len(t, matches, 1, "escalations-DAY.%s in %s", suffix, dir)
	day := regexp.MustCompile(`escalations-(\d{4}-\d{2}-\d{2})\.`).
		FindStringSubmatch(filepath.Base(matches[0]))
	require.NotNil(t, day, matches[0])
	assert.Contains(t, []string{before.Format(time.DateOnly),
		time.Now().Format(time.DateOnly)}, day[1])
	return matches[0]
}

// TestE2ENightlyWrapper runs the cron wrapper of samples/ against the fake.
func TestE2ENightlyWrapper(t *testing.T) {
	t.Run("retries after a 503 and ends silent", func(t *testing.T) {
		e := newE2E(t)
		rows := genRows(0x800, 10)
		input := e.path("export.csv")
		writeRows(t, input, rows)
		e.fake.FailNext(1, http.StatusServiceUnavailable)

		before := time.Now()
		c, code := e.nightly(t, input, "-retries", "0")
		out := e.path("out")
		log, _ := os.ReadFile(filepath.Join(out, "escalations-"+
			before.Format(time.DateOnly)+".log"))
		require.Equal(t, exitOK, code, "stdout %q; log:\n%s", c.stdout.String(), log)
		assert.Empty(t, c.stdout.String(), "a run with nothing to do prints nothing")
		assert.Empty(t, c.stderr.String())

		results := stamped(t, out, "results.csv", before)
		e.assertAllDone(t, results, rows)
		for _, suffix := range []string{"results.csv", "failures.csv", "log",
			"summary.json"} {
			fi, err := os.Stat(stamped(t, out, suffix, before))
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), suffix)
		}

		logText, err := os.ReadFile(stamped(t, out, "log", before))
		require.NoError(t, err)
		assert.Contains(t, string(logText), "run 1 exit code 3")
		assert.Contains(t, string(logText), "run 2 exit code 0")
		assert.NotContains(t, string(logText), "run 3")

		raw, err := os.ReadFile(stamped(t, out, "summary.json", before))
		require.NoError(t, err)
		var sum struct {
			ExitCode int            `json:"exitCode"`
			Counts   map[string]int `json:"counts"`
			BaseURL  string         `json:"baseUrl"`
		}
		require.NoError(t, json.Unmarshal(raw, &sum))
		assert.Equal(t, 0, sum.ExitCode)
		assert.Equal(t, e.url, sum.BaseURL)
		assert.Equal(t, len(rows)-3, sum.Counts["skipped"], "%s", raw)
	})

	t.Run("a clock-time deadline holds for the retries too", func(t *testing.T) {
		if time.Now().UTC().Format("15:04") == "00:00" {
			t.Skip("the deadline 00:00 is not yet past in the first minute of the day")
		}
		e := newE2E(t)
		rows := genRows(0x802, 4)
		input := e.path("export.csv")
		writeRows(t, input, rows)

		// Today's 00:00 has passed: no run may start a case, the retry
		// included (as a clock time it would mean tomorrow 00:00).
		c, code := e.nightlyEnv(t, input, []string{"CVIMPORT_DEADLINE=00:00",
			"CVIMPORT_ATTEMPTS=2"})
		require.Equal(t, exitRetry, code, c.stdout.String())
		assert.Empty(t, e.fake.Created())
		assert.True(t, strings.HasPrefix(c.stdout.String(),
			"cvimport: some rows are still to send"), c.stdout.String())
	})

	t.Run("rows to fix print one line", func(t *testing.T) {
		e := newE2E(t)
		rows := genRows(0x801, 4)
		rows[5].Title = "Not a title"
		input := e.path("export.csv")
		writeRows(t, input, rows)

		c, code := e.nightly(t, input)
		require.Equal(t, exitFix, code, c.stdout.String())
		lines := strings.Split(strings.TrimSuffix(c.stdout.String(), "\n"), "\n")
		require.Len(t, lines, 1, "stdout %q", c.stdout.String())
		assert.True(t, strings.HasPrefix(lines[0], "cvimport: some rows need fixing"),
			lines[0])
		assert.Len(t, e.fake.Created(), len(rows)-1)
	})
}
