package importer

import (
	"io"
	"sync"

	"github.com/carevalidate/cvimport/report"
	"github.com/carevalidate/cvimport/validate"
)

// DryRunReport is what a dry run learned of a file, for the summary.
type DryRunReport struct {
	// Sheet is what the header told (see Reader.Sheet); its Rows is nil.
	Sheet *Sheet
	// Rows is the number of data rows read.
	Rows int
	// Counts is the number of rows of each status; absent statuses are
	// absent from the map.
	Counts map[report.Status]int
	// Cases is the number of cases with Pending rows, each a group that a
	// real run would send.
	Cases int
	// Requests is how many requests a real run would make for them: the
	// sum over cases of ceil(Pending rows / maxPerRequest), one per case
	// when maxPerRequest is 0 or less.
	Requests int
	// Reasons holds the top problems, as report.TopReasons gives them for
	// the rows in input order (at most report.SummaryReasons).
	Reasons []report.Reason
}

// DryRun checks the file at path as BuildPlan would check it once read, in
// one pass, without keeping its rows: it reads, checks and writes each row
// as it goes, to the results file on results and the failures file on
// failures. What it writes is byte for byte what report.WriteResults and
// report.WriteFailures write for the records of
// BuildPlan(ReadFile(path, opts), chk, done); its report agrees with that
// plan's counts, groups and report.TopReasons.
//
// It keeps only what the rules over the whole file need: the first line of
// each duplicate key, the cases with Pending rows and their row counts, the
// status counts and the problems for the summary. Memory so grows with the
// number of distinct keys, not with the size of the rows.
//
// A file refused whole (see Read) gives the same *FileError as ReadFile,
// even when the refusal comes after rows were written: results and
// failures then hold part of a file, which the caller must discard (as
// report.WriteFileAtomic does when its write function fails). An error
// writing either file is returned as such. chk and done must be safe for
// concurrent use, as for BuildPlan: rows are checked on another goroutine
// than the one reading them and the one writing them.
func DryRun(path string, opts ReadOptions, chk *validate.Checker, done Done,
	maxPerRequest int, results, failures io.Writer) (*DryRunReport, error) {
	f, size, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return dryRunFrom(f, path, size, opts, chk, done, maxPerRequest,
		results, failures)
}

// dryRunFrom is DryRun of the input on r, named path, about size bytes
// long (0 if unknown).
func dryRunFrom(r io.Reader, path string, size int64, opts ReadOptions,
	chk *validate.Checker, done Done, maxPerRequest int,
	results, failures io.Writer) (*DryRunReport, error) {
	rd, err := newReader(r, path, opts, size)
	if err != nil {
		return nil, err
	}
	d, err := newDryRun(rd, chk, done, results, failures)
	if err != nil {
		return nil, err
	}
	return d.run(maxPerRequest)
}

// dryRun is the state of one DryRun.
type dryRun struct {
	rd       *Reader
	chk      *validate.Checker
	done     Done
	results  *report.ResultsWriter
	failures *report.FailuresWriter
	plan     *planner
	reasons  report.ReasonCounter
	rep      *DryRunReport
}

// newDryRun starts the results and failures files for rd's header.
func newDryRun(rd *Reader, chk *validate.Checker, done Done,
	results, failures io.Writer) (*dryRun, error) {
	header := rd.Sheet().Header
	rw, err := report.NewResultsWriter(results, header)
	if err != nil {
		return nil, err
	}
	fw, err := report.NewFailuresWriter(failures, header)
	if err != nil {
		return nil, err
	}
	return &dryRun{
		rd:       rd,
		chk:      chk,
		done:     done,
		results:  rw,
		failures: fw,
		plan:     newPlanner(rd.rowsHint),
		rep: &DryRunReport{
			Sheet:  rd.Sheet(),
			Counts: make(map[report.Status]int),
		},
	}, nil
}

// The rows travel between the stages of a dry run in batches: enough rows
// that handing one over costs nothing next to its work, few enough that
// the rows in flight stay within a few MB.
const (
	batchRows  = 512
	batchDepth = 4 // batches that may wait between two stages
	// batchPool is how many batches a dry run makes: as many as can be
	// queued or worked on at once, so the reader never waits for one in
	// vain. It then reuses them, whatever the timing of the stages.
	batchPool = 2*batchDepth + 3
)

// batch is a run of consecutive rows and, once checked, their verdicts.
// Whoever holds it owns it: it is handed over by channel, never shared.
type batch struct {
	rows   []Row
	checks []rowCheck
	// err is the refusal that ended the file after rows; nil otherwise.
	err error
}

// run streams the rows through three stages, each on its own goroutine:
// read, check (each row on its own), and, here on the caller's, decide
// (the rules over the whole file), write and count, in input order. Only
// the read and check stages run alongside: the order of the rows, and so
// every byte written, is that of the file whatever the scheduling.
func (d *dryRun) run(maxPerRequest int) (*DryRunReport, error) {
	free := make(chan *batch, batchPool) // batches to reuse
	read := make(chan *batch, batchDepth)
	checked := make(chan *batch, batchDepth)
	stop := make(chan struct{}) // closed when the caller gives up early

	var wg sync.WaitGroup
	wg.Go(func() { d.readBatches(free, read, stop) })
	wg.Go(func() { d.checkBatches(read, checked, stop) })
	defer func() {
		close(stop)
		wg.Wait()
	}()

	for b := range checked {
		for i := range b.rows {
			if err := d.add(&b.rows[i], &b.checks[i]); err != nil {
				return nil, err
			}
		}
		if b.err != nil {
			return nil, b.err
		}

		// Drop the rows so they do not outlive their turn, then reuse. The
		// send never blocks: free has room for every batch there is.
		clear(b.rows)
		clear(b.checks)
		free <- b
	}

	if err := d.results.Flush(); err != nil {
		return nil, err
	}
	if err := d.failures.Flush(); err != nil {
		return nil, err
	}
	d.rep.Cases = len(d.plan.sizes)
	d.rep.Requests = d.plan.requests(maxPerRequest)
	d.rep.Reasons = d.reasons.Top(report.SummaryReasons)
	return d.rep, nil
}

// readBatches reads rows into batches and sends them on out, the last one
// with the refusal if the file has one, then closes out. It makes the
// first batchPool batches and then reuses those from free, so that which
// batch is used does not depend on timing. It returns early when stop is
// closed.
func (d *dryRun) readBatches(free <-chan *batch, out chan<- *batch,
	stop <-chan struct{}) {
	defer close(out)
	for made := 0; ; {
		var b *batch
		if made < batchPool {
			b = &batch{rows: make([]Row, 0, batchRows)}
			made++
		} else {
			select {
			case b = <-free:
				b.rows, b.err = b.rows[:0], nil
			case <-stop:
				return
			}
		}

		for len(b.rows) < batchRows {
			row, err := d.rd.Next()
			if err != nil {
				if err != io.EOF {
					b.err = err
				}
				break
			}
			b.rows = append(b.rows, row)
		}
		if len(b.rows) == 0 && b.err == nil {
			return // the end of the file, on a batch boundary
		}

		select {
		case out <- b:
		case <-stop:
			return
		}
		if len(b.rows) < batchRows || b.err != nil {
			return
		}
	}
}

// checkBatches checks every row of each batch from in and sends it on out,
// then closes out. It returns early when stop is closed.
func (d *dryRun) checkBatches(in <-chan *batch, out chan<- *batch,
	stop <-chan struct{}) {
	defer close(out)
	sheet := d.rd.Sheet()
	var problems []string // reused from row to row
	for b := range in {
		if cap(b.checks) < len(b.rows) {
			b.checks = make([]rowCheck, len(b.rows), batchRows)
		}
		b.checks = b.checks[:len(b.rows)]
		for i := range b.rows {
			b.checks[i], problems = checkRow(sheet, &b.rows[i], d.chk, d.done,
				problems[:0])
		}

		select {
		case out <- b:
		case <-stop:
			return
		}
	}
}

// add decides one checked row, in input order, and writes and counts it.
func (d *dryRun) add(row *Row, rc *rowCheck) error {
	out, _ := d.plan.add(row.Line, rc.out, &rc.checked)
	rec := report.Record{Line: row.Line, Fields: row.Fields, Outcome: out}

	d.rep.Rows++
	d.rep.Counts[out.Status]++
	d.reasons.Add(rec)
	if err := d.results.Write(rec); err != nil {
		return err
	}
	return d.failures.Write(rec)
}
