package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes. They are chosen in exitCode, and nowhere else but the second
// signal's immediate exit in notifyStop.
const (
	// exitOK: every row is done (or, in a dry run, would be sent).
	exitOK = 0
	// exitFix: some rows need a person to fix them (invalid, failed).
	exitFix = 1
	// exitRefused: nothing was sent: bad usage, unreadable input, a
	// rejected key, or another run holding the results file.
	exitRefused = 2
	// exitRetry: some rows can simply be retried (error, pending).
	exitRetry = 3
)

// Row verdicts that end a run with a non-zero exit code. The summary has
// already told the person why, so exitCode prints nothing for them.
var (
	errRowsToFix   = errors.New("some rows need fixing")
	errRowsToRetry = errors.New("some rows can be retried")
)

// afterSendError is a failure after requests were sent, such as a results
// file that could not be replaced. Some rows may be done: the exit code
// must not say that nothing was sent, and the journal on disk still lets a
// run with -resume finish the job.
type afterSendError struct{ err error }

func (e *afterSendError) Error() string {
	return e.err.Error() + "; rows were sent: run again with -resume " +
		"on the results file"
}

func (e *afterSendError) Unwrap() error { return e.err }

// sentError marks err, a failure after sending, unless it is a verdict on
// the rows.
func sentError(err error) error {
	if errors.Is(err, errRowsToRetry) || errors.Is(err, errRowsToFix) {
		return err
	}
	return &afterSendError{err: err}
}

// exitCode maps the error run returned to the process exit code, printing
// the error as one line on stderr when the summary has not explained it.
func exitCode(err error, stderr io.Writer) int {
	var afterSend *afterSendError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errRowsToRetry):
		return exitRetry
	case errors.Is(err, errRowsToFix):
		return exitFix
	case errors.As(err, &afterSend):
		fmt.Fprintf(stderr, "cvimport: %v\n", err)
		return exitRetry
	}

	fmt.Fprintf(stderr, "cvimport: %v\n", err)
	return exitRefused
}

// notifyStop returns a context cancelled by the first SIGINT or SIGTERM: the
// run then stops taking new cases, lets requests in flight finish and writes
// complete results. A second signal exits at once with exitRetry; the results
// file is synced after every case, so what is on disk can still be resumed.
func notifyStop(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})

	go func() {
		select {
		case <-signals:
			// The run logs what it does about it, through the console
			// that owns the terminal.
			cancel()
		case <-done:
			return
		}
		select {
		case <-signals:
			// A progress bar may hold the line: start a new one.
			fmt.Fprintln(stderr, "\ncvimport: stopped at once; "+
				"resume with -resume on the results file")
			os.Exit(exitRetry)
		case <-done:
		}
	}()

	stop := func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
	return ctx, stop
}
