package main

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// console owns stderr while a run sends: log lines and the progress bar
// both go through it, under one lock, so a log line never lands in the
// middle of a bar redraw. Off a terminal it has no bar and just writes.
type console struct {
	mu  sync.Mutex
	out io.Writer
	bar *progressbar.ProgressBar // nil when stderr is not a terminal
}

// isTerminal reports whether w is a terminal a person is watching.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Write writes one log line, clearing the bar first and redrawing it after.
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.bar != nil {
		c.bar.Clear()
	}
	n, err := c.out.Write(p)
	if c.bar != nil {
		c.bar.RenderBlank()
	}
	return n, err
}

// progress counts rows as they finish and shows the count: a live bar on a
// terminal, otherwise a plain log line every interval, whether or not rows
// moved (a cron log must not fill with carriage-return redraws, and a long
// pause after a 429 should still show the run is alive).
type progress struct {
	console *console
	logger  *slog.Logger
	total   int
	start   time.Time
	stop    chan struct{}
	stopped sync.WaitGroup

	mu   sync.Mutex
	done int
}

// startProgress begins counting towards total rows. A bar is drawn only when
// live is true; the bar is sized to the rows this run sends, so a resumed run
// starts at zero rather than at the rows an earlier run finished.
func startProgress(c *console, logger *slog.Logger, total int, live bool,
	interval time.Duration) *progress {
	p := &progress{
		console: c,
		logger:  logger,
		total:   total,
		start:   time.Now(),
		stop:    make(chan struct{}),
	}
	if total == 0 {
		return p
	}

	if !live {
		p.stopped.Go(func() { p.tick(interval) })
		return p
	}

	c.mu.Lock()
	// No throttle: a redraw after a log line must not be skipped, and the
	// bar moves once per case, not once per row.
	c.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(c.out),
		progressbar.OptionSetDescription("sending"),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)
	c.bar.RenderBlank()
	c.mu.Unlock()
	return p
}

// Add records n more rows finished.
func (p *progress) Add(n int) {
	p.mu.Lock()
	p.done += n
	p.mu.Unlock()

	p.console.mu.Lock()
	defer p.console.mu.Unlock()
	if p.console.bar != nil {
		p.console.bar.Add(n)
	}
}

// Stop ends the progress lines and removes the bar, leaving the terminal
// to the summary.
func (p *progress) Stop() {
	close(p.stop)
	p.stopped.Wait()

	p.console.mu.Lock()
	defer p.console.mu.Unlock()
	if p.console.bar != nil {
		p.console.bar.Clear()
		p.console.bar = nil
	}
}

// tick logs the count every interval until Stop.
func (p *progress) tick(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.log()
		case <-p.stop:
			return
		}
	}
}

func (p *progress) log() {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()

	elapsed := time.Since(p.start)
	p.logger.Info("progress",
		keyRowsDone, done,
		keyRowsTotal, p.total,
		keyRowsPerSecond, roundTo(float64(done)/elapsed.Seconds(), 1),
		keyElapsed, elapsed.Round(time.Second).String())
}
