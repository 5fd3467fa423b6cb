package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/carevalidate/cvimport/importer"
	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// progressInterval is how often a run off a terminal logs progress.
const progressInterval = 30 * time.Second

// runImport checks the input and, unless it is a dry run, sends it. The
// steps run in this order so that each failure costs as little as it can:
// flags, key, lock, earlier results, input, plan; only then the network.
func runImport(ctx context.Context, args []string, getenv func(string) string,
	stderr io.Writer) error {
	start := time.Now()
	cfg, err := parseImportFlags(args, stderr, start)
	if cfg == nil {
		return err
	}

	con := &console{out: stderr}
	logger, err := newLogger(con, cfg.logFormat, cfg.quiet)
	if err != nil {
		return err
	}
	stopLog := context.AfterFunc(ctx, func() {
		logger.Warn("stopping: finishing requests in flight; " +
			"signal again to stop at once")
	})
	defer stopLog()

	// The key comes first: a run that cannot send should not get as far as
	// reading a million rows.
	var key string
	if !cfg.dryRun && !cfg.sandbox {
		if key, err = readKey(getenv, cfg.apiKeyFile); err != nil {
			return err
		}
	}

	lock, err := lockResults(cfg.out)
	if err != nil {
		return err
	}
	defer lock.Release()

	// Holding the lock, clear what a run killed mid-write left behind, and
	// make sure every file can be written before anything is sent.
	for _, path := range []string{cfg.out, cfg.failures} {
		if err := report.RemoveTemps(path); err != nil {
			logger.Warn("could not clear temporary files", keyErr, err)
		}
	}
	if err := checkWritable(cfg.out, cfg.failures, cfg.summaryJSON); err != nil {
		return err
	}

	checker := &validate.Checker{
		Catalog:  cfg.catalog,
		Location: cfg.location,
		Order:    cfg.dateOrder,
	}
	if err := guardResults(cfg, checker); err != nil {
		return err
	}
	done, err := loadResume(cfg.resume, checker, logger)
	if err != nil {
		return err
	}

	if cfg.dryRun {
		return dryRun(cfg, checker, done, start, logger, stderr)
	}

	sheet, err := importer.ReadFile(cfg.input, importer.ReadOptions{
		Delimiter: cfg.delimiter,
	})
	if err != nil {
		return err
	}
	plan := importer.BuildPlan(sheet, checker, done)
	sum := newSummary(cfg, plan)
	logger.Info("checked", keyInput, cfg.input, keyRows, len(sheet.Rows),
		keyCases, len(plan.Groups))

	if len(plan.Groups) == 0 {
		return finish(cfg, plan, sum, start, stderr)
	}
	if err := send(ctx, cfg, key, plan, sum, con, logger); err != nil {
		return err
	}
	if err := finish(cfg, plan, sum, start, stderr); err != nil {
		return sentError(err)
	}
	return nil
}

// guardResults refuses to replace a results file that records rows done,
// unless this run resumes from it: the ids of the escalations created would
// be lost, and a later -resume of the new file would send those rows again.
func guardResults(cfg *importConfig, checker *validate.Checker) error {
	if cfg.resume != "" && same(cfg.resume, cfg.out) {
		return nil
	}

	prev, err := importer.LoadResume(cfg.out, checker)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, importer.ErrNotResults):
		return fmt.Errorf("-out %s exists and is not a results file (%w); "+
			"choose another -out", cfg.out, err)
	case err != nil:
		return fmt.Errorf("checking -out before replacing it: %w", err)
	case prev.Len() > 0:
		return fmt.Errorf("-out %s records %d rows already done; pass "+
			"-resume %s to keep them, or choose another -out",
			cfg.out, prev.Len(), cfg.out)
	}
	return nil
}

// checkWritable makes sure a file can be created beside each path, so that
// a run does not send everything and then fail to write its results.
func checkWritable(paths ...string) error {
	for _, path := range paths {
		if path == "" {
			continue
		}
		f, err := os.CreateTemp(filepath.Dir(path), ".cvimport-check-*")
		if err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
		f.Close()
		os.Remove(f.Name())
	}
	return nil
}

// loadResume reads the earlier results named by -resume, if any. A file
// that does not exist yet is no reason to stop: it is the first run of a
// job that always passes -resume, and nothing is done yet.
func loadResume(path string, checker *validate.Checker,
	logger *slog.Logger) (importer.Done, error) {
	if path == "" {
		return nil, nil
	}

	resume, err := importer.LoadResume(path, checker)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		logger.Warn("no earlier results to resume; every row is sent",
			keyResume, path)
		return nil, nil
	case err != nil:
		return nil, err
	}

	logger.Info("resuming", keyResume, path, keyDone, resume.Len(),
		keyUnreadable, resume.Unreadable)
	return resume, nil
}

// dryRun checks the input and writes the results and failures files in one
// streaming pass, so that a file of millions of rows is checked in a few
// hundred megabytes. A file that cannot be read leaves neither file behind.
func dryRun(cfg *importConfig, checker *validate.Checker, done importer.Done,
	start time.Time, logger *slog.Logger, stderr io.Writer) error {
	var (
		rep     *importer.DryRunReport
		readErr error
	)
	opts := importer.ReadOptions{Delimiter: cfg.delimiter}
	err := report.WriteFileAtomic(cfg.out, func(results io.Writer) error {
		return report.WriteFileAtomic(cfg.failures, func(failures io.Writer) error {
			rep, readErr = importer.DryRun(cfg.input, opts, checker, done,
				cfg.maxPerRequest, results, failures)
			return readErr
		})
	})
	switch {
	case readErr != nil:
		return readErr
	case err != nil:
		return fmt.Errorf("writing results: %w", err)
	}
	logger.Info("checked", keyInput, cfg.input, keyRows, rep.Rows,
		keyCases, rep.Cases)

	sum := &report.Summary{
		Input:     cfg.input,
		Results:   cfg.out,
		Failures:  cfg.failures,
		DryRun:    true,
		Rows:      rep.Rows,
		Delimiter: report.DelimiterName(rep.Sheet.Delimiter),
		BOM:       rep.Sheet.BOM,
		Mapping:   rep.Sheet.Mapping(),
		Cases:     rep.Cases,
		Requests:  rep.Requests,
		Reasons:   rep.Reasons,
	}
	return conclude(cfg, sum, rep.Counts, start, stderr)
}

// finish writes the results and failures files of a run that sent, then
// concludes it.
func finish(cfg *importConfig, plan *importer.Plan, sum *report.Summary,
	start time.Time, stderr io.Writer) error {
	header := plan.Sheet.Header
	err := report.WriteFileAtomic(cfg.out, func(w io.Writer) error {
		return report.WriteResults(w, header, plan.Records())
	})
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	err = report.WriteFileAtomic(cfg.failures, func(w io.Writer) error {
		return report.WriteFailures(w, header, plan.Records())
	})
	if err != nil {
		return fmt.Errorf("writing failures: %w", err)
	}

	sum.Reasons = report.TopReasons(plan.Records(), report.SummaryReasons)
	return conclude(cfg, sum, plan.Counts(), start, stderr)
}

// conclude completes the summary, prints it (and writes it as JSON when
// asked), and returns the error that sets the exit code.
func conclude(cfg *importConfig, sum *report.Summary,
	counts map[report.Status]int, start time.Time, stderr io.Writer) error {
	verdict := rowsVerdict(counts, cfg.dryRun)
	sum.Counts = counts
	sum.Elapsed = time.Since(start)
	sum.ExitCode = exitCode(verdict, io.Discard)

	if err := sum.WriteText(stderr); err != nil {
		return fmt.Errorf("writing the summary: %w", err)
	}
	if cfg.summaryJSON != "" {
		err := report.WriteFileAtomic(cfg.summaryJSON, sum.WriteJSON)
		if err != nil {
			return fmt.Errorf("writing the JSON summary: %w", err)
		}
	}
	return verdict
}

// rowsVerdict turns the rows' statuses into the run's verdict. Retryable
// rows outrank rows to fix: a wrapper that re-runs on exitRetry then makes
// progress, and the rows to fix still end the last run with exitFix.
func rowsVerdict(counts map[report.Status]int, dryRun bool) error {
	switch {
	case counts[report.Error] > 0:
		return errRowsToRetry
	case counts[report.Pending] > 0 && !dryRun:
		return errRowsToRetry
	case counts[report.Invalid]+counts[report.Failed] > 0:
		return errRowsToFix
	}
	return nil
}

// newSummary starts the run's summary with what is known before sending.
func newSummary(cfg *importConfig, plan *importer.Plan) *report.Summary {
	return &report.Summary{
		Input:     cfg.input,
		Results:   cfg.out,
		Failures:  cfg.failures,
		DryRun:    cfg.dryRun,
		Rows:      len(plan.Sheet.Rows),
		Delimiter: report.DelimiterName(plan.Sheet.Delimiter),
		BOM:       plan.Sheet.BOM,
		Mapping:   plan.Sheet.Mapping(),
		Cases:     len(plan.Groups),
		Requests:  plan.Requests(cfg.maxPerRequest),
	}
}
