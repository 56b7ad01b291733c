package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/certmint/certmint/batch"
)

// notStarted is the status of a row a batch stopped before (Ctrl-C,
// --fail-fast): not a failure of the row; the rerun issues it.
const notStarted = "not_started"

// batchTally counts every row of a batch exactly once: issued, reissued,
// skipped, failed or not started, so the summary adds up to the rows of
// the file even after an interruption.
type batchTally struct {
	issued, redone, skipped, failed, notStarted int
}

func (t *batchTally) add(status string) {
	switch status {
	case "issued":
		t.issued++
	case "reissued":
		t.redone++
	case "skipped":
		t.skipped++
	case "failed":
		t.failed++
	case notStarted:
		t.notStarted++
	}
}

func (t *batchTally) rows() int {
	return t.issued + t.redone + t.skipped + t.failed + t.notStarted
}

// readsToEnd reports whether the rest of in can be read without waiting:
// a file, named with --input or redirected to standard input. A pipe or a
// terminal may never end.
func readsToEnd(in *os.File) bool {
	st, err := in.Stat()
	return err == nil && st.Mode().IsRegular()
}

// rest counts the rows a stopped batch never read as not started, calling
// each for every one: the rest of a file, or what the pipe reader had read
// (the rest of a pipe may never come). It returns "" when it read to the
// end, else what was left unread, for the summary.
func (t *batchTally) rest(rows *batch.Reader, pipe *pipeRows, each func(line int, cn string)) string {
	if pipe != nil {
		t.notStarted += pipe.leftover(each)
		return "the rest of standard input was not read"
	}
	for {
		row, err := rows.Next()
		var re *batch.RowError
		switch {
		case err == nil:
			each(row.Line, row.CN)
		case errors.As(err, &re):
			each(re.Line, re.CN) // a bad row, but not one this run tried
		case errors.Is(err, io.EOF):
			return ""
		default:
			return fmt.Sprintf("the rest of the file was not read (%v)", err)
		}
		t.notStarted++
	}
}

// summary is the batch's last line: every row, counted once.
func (t *batchTally) summary(out, unread string, elapsed time.Duration) string {
	var b strings.Builder
	if unread == "" {
		fmt.Fprintf(&b, "Batch %s: %s: ", out, plural(t.rows(), "row"))
	} else {
		fmt.Fprintf(&b, "Batch %s: %s read: ", out, plural(t.rows(), "row"))
	}
	fmt.Fprintf(&b, "%d issued, %d reissued (torn), %d skipped (already complete), %d failed", t.issued, t.redone, t.skipped, t.failed)
	if t.notStarted > 0 || unread != "" {
		fmt.Fprintf(&b, ", %d not started", t.notStarted)
		if unread != "" {
			fmt.Fprintf(&b, " (%s)", unread)
		}
	}
	fmt.Fprintf(&b, ", in %s", elapsed.Round(time.Millisecond))
	if done := t.issued + t.redone; done > 0 {
		fmt.Fprintf(&b, ", %.1f certificates/s", float64(done)/elapsed.Seconds())
	}
	return b.String() + "."
}

// notDone says what a stopped batch left for the rerun.
func (t *batchTally) notDone(unread string) string {
	if unread != "" {
		return fmt.Sprintf("%d rows read but not started, and %s", t.notStarted, unread)
	}
	return fmt.Sprintf("%d of %d rows not started", t.notStarted, t.rows())
}

// pipeRows reads the rows of a pipe or a terminal in a goroutine, so that
// Ctrl-C stops a batch waiting for input that may never come (a terminal,
// a pipe whose writer stays open); a file is read in place.
type pipeRows struct {
	ctx  context.Context
	ch   chan rowRead
	mu   sync.Mutex
	left []rowRead // read after Ctrl-C, too late to be handed over
}

type rowRead struct {
	row *batch.Row
	err error
}

func newPipeRows(ctx context.Context, next func() (*batch.Row, error)) *pipeRows {
	p := &pipeRows{ctx: ctx, ch: make(chan rowRead)}
	go func() {
		for {
			row, err := next()
			select {
			case p.ch <- rowRead{row, err}:
			case <-ctx.Done():
				p.mu.Lock()
				p.left = append(p.left, rowRead{row, err})
				p.mu.Unlock()
				return
			}
			var re *batch.RowError
			if err != nil && !errors.As(err, &re) {
				return // the end, or a broken file
			}
		}
	}()
	return p
}

// next is the batch's reader: the next row, or ctx's error once the batch
// is cancelled.
func (p *pipeRows) next() (*batch.Row, error) {
	select {
	case r := <-p.ch:
		return r.row, r.err
	case <-p.ctx.Done():
		return nil, p.ctx.Err()
	}
}

// leftover calls each for the rows read but never handed to the batch:
// after Ctrl-C, or the one waiting when --fail-fast stopped taking rows.
func (p *pipeRows) leftover(each func(line int, cn string)) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	left := p.left
	select {
	case r := <-p.ch:
		left = append(left, r)
	default:
	}
	n := 0
	for _, r := range left {
		var re *batch.RowError
		switch {
		case r.err == nil:
			each(r.row.Line, r.row.CN)
		case errors.As(r.err, &re):
			each(re.Line, re.CN)
		default:
			continue
		}
		n++
	}
	return n
}
