package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/validate"
)

const importSynopsis = `Usage: cvimport import [flags] INPUT.csv

Checks every row of INPUT.csv, then sends each case's rows in one request.
Nothing is sent unless the whole file can be read. The API key comes from
the CV_API_KEY environment variable or -api-key-file, never from a flag.

Examples:
  cvimport import -dry-run export.csv
  CV_API_KEY=... cvimport import -tz America/New_York export.csv
  cvimport import -api-key-file ~/.cvimport-key -rate 5 export.csv
  cvimport import -sandbox samples/escalations.csv
  cvimport import -resume export.results.csv export.failures.csv

Exit codes: 0 all done; 1 some rows need fixing; 2 nothing was sent;
3 some rows can simply be retried (run again, with -resume).

Flags:
`

// importConfig is the import command's settings, checked and resolved.
type importConfig struct {
	input       string
	out         string
	failures    string
	summaryJSON string
	resume      string
	dryRun      bool
	sandbox     bool

	catalog   *validate.Catalog
	location  *time.Location
	dateOrder validate.DateOrder
	delimiter rune

	baseURL    string
	apiKeyFile string

	rate          float64
	burst         int
	workers       int
	timeout       time.Duration
	retries       int
	maxPerRequest int
	maxWait       time.Duration
	stopAfter     int
	deadline      time.Time

	logFormat string
	quiet     bool
}

// parseImportFlags reads the import command line into a config. It returns
// (nil, nil) after printing the help text for -h.
func parseImportFlags(args []string, stderr io.Writer, now time.Time) (*importConfig, error) {
	fs := newFlagSet("import", importSynopsis, stderr)
	c := &importConfig{}
	fs.StringVar(&c.out, "out", "", "write the results CSV to `path` "+
		"(default INPUT.results.csv beside the input)")
	fs.StringVar(&c.failures, "failures", "", "write the rows that are not done to `path` "+
		"(default INPUT.failures.csv); it is a valid input")
	fs.StringVar(&c.summaryJSON, "summary-json", "", "also write the run's summary as JSON to `path`")
	fs.StringVar(&c.resume, "resume", "", "skip rows an earlier results CSV at `path` shows done "+
		"(may be the same file as -out)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "check and report every row, send nothing")
	fs.BoolVar(&c.sandbox, "sandbox", false, "send to a built-in fake API on loopback "+
		"(no key, no network)")

	var raw rawFlags
	fs.StringVar(&raw.tz, "tz", "Local", "time `zone` for dates written without an offset "+
		"(IANA name such as America/New_York)")
	fs.StringVar(&raw.dateOrder, "date-order", "mdy", "how to read 6/1/2025: mdy (June 1) or dmy (6 January)")
	fs.StringVar(&raw.delimiter, "delimiter", "", "field separator: comma, semicolon or tab "+
		"(default: detected from the header)")
	fs.StringVar(&raw.titles, "titles", "", "read the title catalog from this CSV `file` "+
		"(type,title) instead of the built-in one")

	fs.StringVar(&c.baseURL, "base-url", api.ProductionURL, "the API's base `URL`")
	fs.BoolVar(&raw.staging, "staging", false, "use the staging API: "+api.StagingURL)
	fs.StringVar(&c.apiKeyFile, "api-key-file", "", "read the API key from this `file` "+
		"instead of CV_API_KEY")

	fs.Float64Var(&c.rate, "rate", 2, "requests per second, shared by all workers")
	fs.IntVar(&c.burst, "burst", 1, "requests allowed at once above the rate")
	fs.IntVar(&c.workers, "workers", 2, "requests in flight at most")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "time limit for one request")
	fs.IntVar(&c.retries, "retries", 4, "retries of a request after a 5xx, timeout or "+
		"dropped connection")
	fs.IntVar(&c.maxPerRequest, "max-per-request", 50, "split a case with more rows "+
		"into requests of at most this many")
	fs.DurationVar(&c.maxWait, "max-wait", 2*time.Minute, "the longest Retry-After to honour")
	fs.IntVar(&c.stopAfter, "stop-after-errors", 5, "stop the run when this many cases "+
		"in a row get no usable answer")
	fs.StringVar(&raw.deadline, "deadline", "", "start no new case after this: a duration (90m) "+
		"or a clock time (06:30, 2025-06-01T06:30:00Z)")

	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.quiet, "quiet", false, "log warnings and errors only")

	if done, err := parseFlags(fs, args); done {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		if fs.NArg() == 0 {
			return nil, errors.New("import: name one INPUT.csv")
		}
		return nil, fmt.Errorf("import: one INPUT.csv, got %d arguments "+
			"(flags go before the file)", fs.NArg())
	}
	c.input = fs.Arg(0)

	if err := c.resolve(fs, raw, now); err != nil {
		return nil, err
	}
	return c, nil
}

// rawFlags holds the flag values that resolve turns into settings.
type rawFlags struct {
	tz, dateOrder, delimiter, titles, deadline string
	staging                                    bool
}

// resolve fills the derived settings and checks every value, so that a bad
// flag stops the run before the input is read (-titles reads its file
// here).
func (c *importConfig) resolve(fs *flag.FlagSet, raw rawFlags, now time.Time) error {
	var err error
	stem := strings.TrimSuffix(c.input, filepath.Ext(c.input))
	if c.out == "" {
		c.out = stem + ".results.csv"
	}
	if c.failures == "" {
		c.failures = stem + ".failures.csv"
	}
	if err := distinct(c.input, c.out, c.failures, c.summaryJSON); err != nil {
		return err
	}

	if c.location, err = time.LoadLocation(raw.tz); err != nil {
		return fmt.Errorf("-tz %q: %w", raw.tz, err)
	}
	if c.dateOrder, err = validate.ParseDateOrder(raw.dateOrder); err != nil {
		return fmt.Errorf("-date-order: %w", err)
	}
	if c.delimiter, err = parseDelimiter(raw.delimiter); err != nil {
		return err
	}
	if c.catalog, err = loadCatalog(raw.titles); err != nil {
		return err
	}
	if c.deadline, err = parseDeadline(raw.deadline, now); err != nil {
		return err
	}

	if c.logFormat != "text" && c.logFormat != "json" {
		return fmt.Errorf("-log-format %q: want text or json", c.logFormat)
	}

	if raw.staging {
		if isSet(fs, "base-url") {
			return errors.New("-staging and -base-url name two different APIs: pick one")
		}
		c.baseURL = api.StagingURL
	}
	if _, err := api.ParseBaseURL(c.baseURL); err != nil {
		return fmt.Errorf("-base-url: %w", err)
	}
	if c.sandbox && (raw.staging || isSet(fs, "base-url")) {
		return errors.New("-sandbox sends to a built-in fake: drop -staging and -base-url")
	}

	switch {
	case c.rate <= 0 || c.rate > maxRate:
		return fmt.Errorf("-rate %v: must be above zero and at most %d", c.rate, maxRate)
	case c.burst < 1 || c.burst > maxRate:
		return fmt.Errorf("-burst %d: must be from 1 to %d", c.burst, maxRate)
	case c.workers < 1:
		return fmt.Errorf("-workers %d: must be at least 1", c.workers)
	case c.timeout <= 0:
		return fmt.Errorf("-timeout %v: must be above zero", c.timeout)
	case c.retries < 0:
		return fmt.Errorf("-retries %d: must not be negative", c.retries)
	case c.maxPerRequest < 1:
		return fmt.Errorf("-max-per-request %d: must be at least 1", c.maxPerRequest)
	case c.maxWait < 0:
		return fmt.Errorf("-max-wait %v: must not be negative", c.maxWait)
	case c.stopAfter < 1:
		return fmt.Errorf("-stop-after-errors %d: must be at least 1", c.stopAfter)
	}
	return nil
}

// maxRate bounds -rate and -burst: far above what any API allows one
// client, and low enough that the sender's per-second bookkeeping stays
// small.
const maxRate = 1000

// distinct checks that the files a run reads and writes are different
// ones: the input, the results, the failures and the JSON summary (when
// asked for).
func distinct(input, out, failures, summaryJSON string) error {
	paths := []string{input, out, failures}
	if summaryJSON != "" {
		paths = append(paths, summaryJSON)
	}
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			if same(paths[i], paths[j]) {
				return fmt.Errorf("%s is named twice: the input, -out, "+
					"-failures and -summary-json must be different files", paths[i])
			}
		}
	}
	return nil
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// same reports whether two paths name the same file, as far as can be told
// without the files existing.
func same(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// parseDelimiter reads the -delimiter flag; 0 means detect.
func parseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "":
		return 0, nil
	case ",", "comma":
		return ',', nil
	case ";", "semicolon":
		return ';', nil
	case "\t", `\t`, "tab":
		return '\t', nil
	}
	return 0, fmt.Errorf("-delimiter %q: want comma, semicolon or tab", s)
}

// parseDeadline reads the -deadline flag: a duration from now, a clock time
// today (tomorrow if already past), or an RFC 3339 instant.
func parseDeadline(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		clock, err := time.ParseInLocation(layout, s, now.Location())
		if err != nil {
			continue
		}
		t := time.Date(now.Year(), now.Month(), now.Day(), clock.Hour(),
			clock.Minute(), clock.Second(), 0, now.Location())
		if !t.After(now) {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("-deadline %q: want a duration (90m), "+
		"a clock time (06:30) or an RFC 3339 time", s)
}

// readKey returns the API key from the file when one is named, otherwise
// from CV_API_KEY. The key is never printed, and errors never quote it.
func readKey(getenv func(string) string, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading the API key: %w", err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" || strings.ContainsAny(key, "\r\n") {
			return "", fmt.Errorf("reading the API key: %s must hold the key "+
				"alone on one line", file)
		}
		return key, nil
	}

	key := strings.TrimSpace(getenv("CV_API_KEY"))
	if key == "" {
		return "", errors.New("no API key: set CV_API_KEY or use -api-key-file " +
			"(or -dry-run / -sandbox, which need none)")
	}
	return key, nil
}
