package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/carevalidate/cvimport/api"
	"github.com/carevalidate/cvimport/fakeapi"
	"github.com/carevalidate/cvimport/importer"
	"github.com/carevalidate/cvimport/report"
)

// send checks the key, then sends every group of the plan, journaling each
// case's outcome to the results file as it arrives. It returns an error only
// when nothing was sent; a run stopped part-way is recorded in sum.
func send(ctx context.Context, cfg *importConfig, key string, plan *importer.Plan,
	sum *report.Summary, con *console, logger *slog.Logger) error {
	baseURL := cfg.baseURL
	if cfg.sandbox {
		url, sandboxKey, stop, err := startSandbox()
		if err != nil {
			return err
		}
		defer stop()
		baseURL, key = url, sandboxKey
	}
	sum.BaseURL = baseURL

	client, err := newClient(baseURL, key, cfg.workers)
	if err != nil {
		return err
	}
	limiter := rate.NewLimiter(rate.Limit(cfg.rate), cfg.burst)
	if err := checkKey(ctx, client, limiter, cfg.timeout, logger); err != nil {
		return err
	}

	journal, err := report.OpenJournal(cfg.out, plan.Sheet.Header, plan.Records())
	if err != nil {
		return fmt.Errorf("starting the results file: %w", err)
	}
	defer journal.Close()

	prog := startProgress(con, logger, plan.Counts()[report.Pending],
		isTerminal(con.out), progressInterval)
	defer prog.Stop()

	sender := &importer.Sender{
		Client:               client,
		Limiter:              limiter,
		Workers:              cfg.workers,
		Retries:              cfg.retries,
		MaxPerRequest:        cfg.maxPerRequest,
		MaxWait:              cfg.maxWait,
		Timeout:              cfg.timeout,
		MaxConsecutiveErrors: cfg.stopAfter,
		Deadline:             cfg.deadline,
		Logger:               logger,
		OnGroup: func(g importer.Group) {
			if err := journal.Append(groupRecords(plan, g)); err != nil {
				logger.Error("journaling results; a crash now would lose "+
					"this case's outcome", keyResults, cfg.out, keyErr, err)
			}
		},
		OnRows: prog.Add,
	}
	stats, err := sender.Run(ctx, plan)
	if errors.Is(err, context.Canceled) {
		err = errors.New("stopped by a signal")
	}
	if err != nil {
		sum.Stopped = err.Error()
		logger.Warn("run stopped early; unsent rows are pending", keyErr, err)
	}

	sum.Sent = stats.Requests
	sum.Rate = roundTo(stats.Rate(), 2)
	sum.Retries = stats.Retries
	sum.TooMany = stats.TooMany
	return nil
}

// startSandbox starts the built-in fake API on loopback and returns its
// URL, the key it accepts, and the function that stops it.
func startSandbox() (url, key string, stop func(), err error) {
	fake, key := fakeapi.Sandbox()
	url, stop, err = fake.Start()
	if err != nil {
		return "", "", nil, fmt.Errorf("starting the sandbox API: %w", err)
	}
	return url, key, stop, nil
}

// checkKey makes one cheap read before the first POST, so that a wrong key
// stops the run with nothing sent instead of failing every case. Only a
// clear rejection is an error; anything else is logged and the run goes
// on. The read takes a token like every request, so that no second holds
// more than rate + burst requests.
func checkKey(ctx context.Context, client *api.Client, limiter *rate.Limiter,
	timeout time.Duration, logger *slog.Logger) error {
	if err := limiter.Wait(ctx); err != nil {
		return fmt.Errorf("checking the API key: %w", err)
	}

	checkCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := client.CheckKey(checkCtx)
	switch {
	case errors.Is(err, api.ErrKeyRejected):
		return fmt.Errorf("checking the API key at %s: %w", client.BaseURL, err)
	case err != nil:
		logger.Warn("could not check the API key; sending anyway",
			keyBaseURL, client.BaseURL.String(), keyErr, err)
	}
	return nil
}

// newClient builds the API client with a transport sized to the workers.
func newClient(baseURL, key string, workers int) (*api.Client, error) {
	u, err := api.ParseBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("-base-url: %w", err)
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = workers
	return &api.Client{
		BaseURL:   u,
		Key:       key,
		HTTP:      &http.Client{Transport: transport},
		UserAgent: "cvimport/" + programVersion(),
	}, nil
}

// groupRecords returns the records of one group's rows, for the journal.
func groupRecords(plan *importer.Plan, g importer.Group) []report.Record {
	recs := make([]report.Record, len(g.Rows))
	for i, row := range g.Rows {
		recs[i] = report.Record{
			Line:    plan.Sheet.Rows[row].Line,
			Fields:  plan.Sheet.Rows[row].Fields,
			Outcome: plan.Outcomes[row],
		}
	}
	return recs
}

// Compile-time check: the real client is what the sender posts with.
var _ importer.Poster = (*api.Client)(nil)
