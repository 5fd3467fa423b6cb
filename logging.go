package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
)

// Log keys. Logs carry counts, case ids, paths and reasons; never a note,
// never the API key.
const (
	keyInput         = "input"
	keyResults       = "results"
	keyFailures      = "failures"
	keyRows          = "rows"
	keyCases         = "cases"
	keyRowsDone      = "rows_done"
	keyRowsTotal     = "rows_total"
	keyRowsPerSecond = "rows_per_second"
	keyElapsed       = "elapsed"
	keyBaseURL       = "base_url"
	keyErr           = "err"
	keyHolder        = "holder"
	keyResume        = "resume"
	keyDone          = "done"
	keyUnreadable    = "unreadable"
)

// newLogger returns the run's logger on w: text or JSON, and at warning
// level when quiet.
func newLogger(w io.Writer, format string, quiet bool) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if quiet {
		opts.Level = slog.LevelWarn
	}

	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("-log-format %q: want text or json", format)
	}
}

// roundTo rounds f to n decimal places, for figures meant to be read.
func roundTo(f float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(f*p) / p
}
