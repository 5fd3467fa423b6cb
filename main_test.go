package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carevalidate/cvimport/fakeapi"
	"github.com/carevalidate/cvimport/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

// result is what one run of the command left behind.
type result struct {
	err      error
	code     int
	stdout   string
	stderr   string
	results  string // path of the results file
	failures string
}

// runCmd runs cvimport with args in a temporary folder; "{dir}" in an
// argument is replaced by that folder.
func runCmd(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	dir := t.TempDir()
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "{dir}", dir)
	}

	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), args, getenv, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return result{
		err:      err,
		code:     code,
		stdout:   stdout.String(),
		stderr:   stderr.String(),
		results:  filepath.Join(dir, "results.csv"),
		failures: filepath.Join(dir, "failures.csv"),
	}
}

// readCSV reads a whole CSV file.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()

	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return recs
}

// statuses returns the status column of a results file, by line number.
func statuses(t *testing.T, path string) map[string]string {
	t.Helper()
	recs := readCSV(t, path)
	line, status := column(t, recs[0], "line"), column(t, recs[0], "status")
	got := make(map[string]string)
	for _, rec := range recs[1:] {
		got[rec[line]] = rec[status]
	}
	return got
}

func column(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %q", name, header)
	return -1
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), got, "golden file %s", path)
}

func TestDryRunSamplesMatchGolden(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"export", "samples/escalations.csv"},
		{"excel", "samples/escalations-excel.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, nil, "import", "-dry-run", "-tz", "America/New_York",
				"-out", "{dir}/results.csv", "-failures", "{dir}/failures.csv",
				tt.input)
			assert.Equal(t, exitFix, r.code, "stderr: %s", r.stderr)

			results, err := os.ReadFile(r.results)
			require.NoError(t, err)
			failures, err := os.ReadFile(r.failures)
			require.NoError(t, err)
			golden(t, tt.name+".results.golden", string(results))
			golden(t, tt.name+".failures.golden", string(failures))

			for _, path := range []string{r.results, r.failures} {
				info, err := os.Stat(path)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), path)
			}
		})
	}
}

func TestExcelCopyGetsTheSameVerdicts(t *testing.T) {
	export := runCmd(t, nil, "import", "-dry-run", "-tz", "UTC",
		"-out", "{dir}/results.csv", "-failures", "{dir}/failures.csv",
		"samples/escalations.csv")
	excel := runCmd(t, nil, "import", "-dry-run", "-tz", "UTC",
		"-out", "{dir}/results.csv", "-failures", "{dir}/failures.csv",
		"samples/escalations-excel.csv")

	assert.Equal(t, statuses(t, export.results), statuses(t, excel.results))
	assert.Contains(t, excel.stderr, "byte-order mark: yes")
}

func TestFailuresFileIsAValidInput(t *testing.T) {
	first := runCmd(t, nil, "import", "-dry-run", "-tz", "UTC",
		"-out", "{dir}/results.csv", "-failures", "{dir}/failures.csv",
		"samples/escalations.csv")
	require.Equal(t, exitFix, first.code)

	again := runCmd(t, nil, "import", "-dry-run", "-tz", "UTC",
		"-out", "{dir}/results.csv", "-failures", "{dir}/failures.csv",
		first.failures)
	assert.Equal(t, exitFix, again.code, again.stderr)

	// Every row of the failures file is still not done, for the same reason.
	want := readCSV(t, first.failures)
	got := readCSV(t, again.failures)
	assert.Equal(t, want, got)
}

func TestRefusedInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad,
		[]byte("caseId,type,title\n\"3f8a1c52-9b7d-4e21-a6c4-5d2e8f1b7a90,support\n"), 0o600))

	r := runCmd(t, nil, "import", "-dry-run", "-out", "{dir}/results.csv",
		"-failures", "{dir}/failures.csv", bad)

	assert.Equal(t, exitRefused, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.Contains(t, r.stderr, bad+":")
	assert.NoFileExists(t, r.results)
	assert.NoFileExists(t, r.failures)
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no command", nil, nil, ""},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
		{"no input", nil, []string{"import", "-dry-run"}, "INPUT.csv"},
		{"two inputs", nil, []string{"import", "-dry-run", "a.csv", "b.csv"}, "one INPUT.csv"},
		{"no key", nil, []string{"import", "samples/escalations.csv"}, "CV_API_KEY"},
		{"bad zone", nil, []string{"import", "-dry-run", "-tz", "Mars/Base", "x.csv"}, "-tz"},
		{"bad order", nil, []string{"import", "-dry-run", "-date-order", "ymd", "x.csv"}, "date-order"},
		{"bad delimiter", nil, []string{"import", "-dry-run", "-delimiter", "|", "x.csv"}, "-delimiter"},
		{"zero rate", nil, []string{"import", "-dry-run", "-rate", "0", "x.csv"}, "-rate"},
		{"zero burst", nil, []string{"import", "-dry-run", "-burst", "0", "x.csv"}, "-burst"},
		{"plain http", map[string]string{"CV_API_KEY": "k"},
			[]string{"import", "-base-url", "http://api.example.com", "x.csv"}, "-base-url"},
		{"missing input", nil, []string{"import", "-dry-run", "{dir}/nope.csv"}, "nope.csv"},
		{"key as a flag", nil, []string{"import", "-api-key", "k", "x.csv"}, "api-key"},
		{"huge rate", nil, []string{"import", "-dry-run", "-rate", "1e10", "x.csv"}, "-rate"},
		{"summary over results", nil, []string{"import", "-dry-run", "-out", "{dir}/r.csv",
			"-summary-json", "{dir}/r.csv", "x.csv"}, "named twice"},
		{"unwritable failures", nil, []string{"import", "-dry-run", "-out", "{dir}/results.csv",
			"-failures", "{dir}/no/such/dir/f.csv", "samples/escalations.csv"}, "cannot write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.env, tt.args...)
			assert.Equal(t, exitRefused, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.NoFileExists(t, r.results)
		})
	}
}

func TestTemplateRowsPassEveryCheck(t *testing.T) {
	r := runCmd(t, nil, "template")
	require.NoError(t, r.err)

	dir := t.TempDir()
	input := filepath.Join(dir, "template.csv")
	require.NoError(t, os.WriteFile(input, []byte(r.stdout), 0o600))

	check := runCmd(t, nil, "import", "-dry-run", "-out", "{dir}/results.csv",
		"-failures", "{dir}/failures.csv", input)
	assert.Equal(t, exitOK, check.code, check.stderr)
	for line, status := range statuses(t, check.results) {
		assert.Equal(t, "pending", status, "line %s", line)
	}
}

func TestTitlesRoundTripThroughTheTitlesFlag(t *testing.T) {
	r := runCmd(t, nil, "titles")
	require.NoError(t, r.err)
	assert.Contains(t, r.stdout, `"Payment Received, Missing CIF"`)

	dir := t.TempDir()
	file := filepath.Join(dir, "titles.csv")
	require.NoError(t, os.WriteFile(file, []byte(r.stdout), 0o600))

	again := runCmd(t, nil, "titles", "-titles", file)
	require.NoError(t, again.err)
	assert.Equal(t, r.stdout, again.stdout)

	support := runCmd(t, nil, "titles", "-type", "SUPPORT")
	require.NoError(t, support.err)
	assert.NotContains(t, support.stdout, "clinical,")
	assert.Contains(t, support.stdout, "support,Refill Request")
}

// sandboxWant is what the bundled sample gets from the sandbox fake, by line.
var sandboxWant = map[string]string{
	"2": "already_active", "3": "created", "4": "created",
	"5": "created", "6": "created", "7": "created",
	"8": "created", "9": "created", "10": "created", "12": "invalid",
	"13": "created", "14": "created", "15": "created", "16": "invalid",
	"17": "created", "18": "created", "19": "invalid", "20": "invalid",
	"21": "failed", "22": "failed", "23": "error", "24": "error",
	"25": "created", "26": "failed", "27": "invalid", "28": "invalid",
	"29": "created", "30": "created", "31": "created", "32": "created",
	"33": "invalid", "34": "created", "35": "created", "36": "created",
	"37": "created", "38": "created", "39": "created",
}

func TestSandboxShowsEveryOutcome(t *testing.T) {
	r := runCmd(t, nil, "import", "-sandbox", "-tz", "UTC", "-rate", "50",
		"-workers", "4", "-retries", "1", "-summary-json", "{dir}/summary.json",
		"-out", "{dir}/results.csv", "-failures", "{dir}/failures.csv",
		"samples/escalations.csv")

	assert.Equal(t, exitRetry, r.code, r.stderr)
	assert.Equal(t, sandboxWant, statuses(t, r.results))

	var sum map[string]any
	b, err := os.ReadFile(filepath.Join(filepath.Dir(r.results), "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.EqualValues(t, exitRetry, sum["exitCode"])
}

func TestKeyNeverAppearsInOutput(t *testing.T) {
	const key = "cv-test-key-5f1d9a7c2b"
	fake := fakeapi.New(fakeapi.Seed{
		Keys:       map[string]string{key: "org-1"},
		AnyCaseOrg: "org-1",
		Users:      map[string][]string{"org-1": {"agent@example.com"}},
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	r := runCmd(t, map[string]string{"CV_API_KEY": key}, "import",
		"-base-url", srv.URL, "-tz", "UTC", "-rate", "50", "-retries", "0",
		"-log-format", "json", "-summary-json", "{dir}/summary.json",
		"-out", "{dir}/results.csv", "-failures", "{dir}/failures.csv",
		"samples/escalations.csv")
	require.NotEqual(t, exitRefused, r.code, r.stderr)

	dir := filepath.Dir(r.results)
	for _, name := range []string{"results.csv", "failures.csv", "summary.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.NotContains(t, string(b), key, name)
	}
	assert.NotContains(t, r.stdout+r.stderr, key)
	assert.NotEmpty(t, fake.Created())
}

func TestRejectedKeySendsNothing(t *testing.T) {
	fake := fakeapi.New(fakeapi.Seed{
		Keys:       map[string]string{"right": "org-1"},
		AnyCaseOrg: "org-1",
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	r := runCmd(t, map[string]string{"CV_API_KEY": "wrong"}, "import",
		"-base-url", srv.URL, "-out", "{dir}/results.csv",
		"-failures", "{dir}/failures.csv", "samples/escalations.csv")

	assert.Equal(t, exitRefused, r.code, r.stderr)
	assert.Contains(t, r.stderr, "API key")
	assert.Empty(t, fake.Created())
	for _, req := range fake.Requests() {
		assert.NotEqual(t, "POST", req.Method)
	}
}

func TestSecondRunOnTheSameResultsIsRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.csv")
	held, err := lockResults(out)
	require.NoError(t, err)
	defer held.Release()

	r := runCmd(t, nil, "import", "-dry-run", "-out", out,
		"-failures", "{dir}/failures.csv", "samples/escalations.csv")

	assert.Equal(t, exitRefused, r.code)
	assert.Contains(t, r.stderr, "in use by another run")
	assert.Contains(t, r.stderr, "pid ")
	assert.NoFileExists(t, out)
}

func TestRowsVerdict(t *testing.T) {
	tests := []struct {
		name   string
		counts map[report.Status]int
		dryRun bool
		want   int
	}{
		{"all created", map[report.Status]int{report.Created: 3}, false, exitOK},
		{"done in every way", map[report.Status]int{report.Created: 1,
			report.AlreadyActive: 1, report.Skipped: 1}, false, exitOK},
		{"dry run pending", map[report.Status]int{report.Pending: 3}, true, exitOK},
		{"invalid", map[report.Status]int{report.Invalid: 1, report.Created: 2}, false, exitFix},
		{"failed", map[report.Status]int{report.Failed: 1}, false, exitFix},
		{"dry run invalid", map[report.Status]int{report.Invalid: 1,
			report.Pending: 2}, true, exitFix},
		{"error", map[report.Status]int{report.Error: 1}, false, exitRetry},
		{"pending after a stop", map[report.Status]int{report.Pending: 1}, false, exitRetry},
		{"retry outranks fix", map[report.Status]int{report.Error: 1,
			report.Invalid: 1}, false, exitRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exitCode(rowsVerdict(tt.counts, tt.dryRun), nil)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestProgressLogsEveryIntervalOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	con := &console{out: &buf}
	logger, err := newLogger(con, "text", false)
	require.NoError(t, err)

	p := startProgress(con, logger, 10, false, 5*time.Millisecond)
	p.Add(4)
	require.Eventually(t, func() bool {
		con.mu.Lock()
		defer con.mu.Unlock()
		return strings.Count(buf.String(), "msg=progress") >= 2
	}, 5*time.Second, time.Millisecond)
	p.Stop()

	con.mu.Lock()
	out := buf.String()
	con.mu.Unlock()
	assert.Contains(t, out, "rows_done=4 rows_total=10")
	assert.NotContains(t, out, "\r", "no bar redraws off a terminal")
}

func TestResultsWithDoneRowsAreNotReplacedWithoutResume(t *testing.T) {
	sent := runCmd(t, nil, "import", "-sandbox", "-tz", "UTC", "-rate", "50",
		"-retries", "0", "-out", "{dir}/results.csv",
		"-failures", "{dir}/failures.csv", "samples/escalations.csv")
	require.Equal(t, exitRetry, sent.code, sent.stderr)
	before, err := os.ReadFile(sent.results)
	require.NoError(t, err)

	for _, args := range [][]string{
		{"import", "-dry-run", "-out", sent.results, "-failures", "{dir}/f.csv",
			"samples/escalations.csv"},
		{"import", "-sandbox", "-out", sent.results, "-failures", "{dir}/f.csv",
			"samples/escalations.csv"},
	} {
		r := runCmd(t, nil, args...)
		assert.Equal(t, exitRefused, r.code, r.stderr)
		assert.Contains(t, r.stderr, "rows already done; pass -resume")
		after, err := os.ReadFile(sent.results)
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after), "results kept")
	}

	resumed := runCmd(t, nil, "import", "-sandbox", "-tz", "UTC", "-rate", "50",
		"-retries", "0", "-resume", sent.results, "-out", sent.results,
		"-failures", "{dir}/f.csv", "samples/escalations.csv")
	assert.Equal(t, exitRetry, resumed.code, resumed.stderr)
	assert.Contains(t, resumed.stderr, "skipped 25")
}

func TestDryRunResultsMayBeReplaced(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.csv")
	for range 2 {
		r := runCmd(t, nil, "import", "-dry-run", "-out", out,
			"-failures", "{dir}/f.csv", "samples/escalations.csv")
		assert.Equal(t, exitFix, r.code, r.stderr)
	}
}

func TestFailureAfterSendingExitsRetry(t *testing.T) {
	var stderr bytes.Buffer
	err := sentError(errors.New("writing results: disk full"))

	assert.Equal(t, exitRetry, exitCode(err, &stderr))
	assert.Equal(t, "cvimport: writing results: disk full; rows were sent: "+
		"run again with -resume on the results file\n", stderr.String())
	assert.Equal(t, exitFix, exitCode(sentError(errRowsToFix), &stderr),
		"a verdict on the rows is kept")
}
