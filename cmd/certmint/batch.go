package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/secret"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

func batchCommand() *cli.Command {
	return &cli.Command{
		Name:  "batch",
		Usage: "issue one bundle per CSV row, in parallel; rerun to finish an interrupted batch",
		Description: "The CSV has a header; cn is required; optional columns: san (several separated by ';'),\n" +
			"name (the bundle folder, default the CN), c, o, ou, st, l, days, password, and key (the row's\n" +
			"key type, e.g. rsa:4096, one the template accepts; default: --key, else the template's).\n" +
			"Columns are separated by commas, or by semicolons (Excel in many locales) or tabs when the\n" +
			"header has no comma.\n" +
			"Each row gets OUT/<name>/ with the template's files. Bad rows are reported with their line\n" +
			"number and the others go on (unless --fail-fast); exit status 1 if any row failed. The summary\n" +
			"counts every row once: issued, reissued, skipped, failed or not started (after Ctrl-C).\n" +
			"Rerunning the same command skips rows whose bundle is complete and redoes torn ones.",
		Flags: []cli.Flag{
			homeFlag, templateFlag, keyFlag,
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "the CSV `FILE` (- for standard input)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: runtime.NumCPU(), Usage: "parallel workers"},
			outFlag,
			&cli.BoolFlag{Name: "random-passwords", Aliases: []string{"random-password"}, Usage: "a generated password per row, written to OUT/passwords.csv (0600), never printed"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first bad row"},
			&cli.StringFlag{Name: "format", Usage: "files to write instead of the template's: crt,key,pfx,chain,cer"},
			ocspFlag,
			passwordFileFlag, passwordFlag, caPasswordFileFlag,
			jsonFlag, dryRunFlag,
		},
		Action: batchAction,
	}
}

func batchAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := requireFlags(c, "template", "input"); err != nil {
		return err
	}
	if c.Int("jobs") < 1 {
		return usageErrorf("--jobs must be at least 1")
	}
	t, err := templates.Load(c.String("template"))
	if err != nil {
		return err
	}
	opts := ca.BatchOptions{Template: t, Out: c.String("out"), Jobs: c.Int("jobs"), RandomPasswords: c.Bool("random-passwords"), OCSP: c.Bool(ocspFlag.Name)}
	if opts.Key, err = leafKey(c, t); err != nil {
		return err
	}
	if c.IsSet("format") {
		if opts.Formats, err = templates.ParseFormats(c.String("format")); err != nil {
			return usageErrorf("--format: %v", err)
		}
	}
	warnings, err := opts.Warnings()
	if err != nil {
		return err
	}
	batchWide := map[string]bool{} // printed once, not again for each row
	for _, w := range warnings {
		text := namerFor(c).text(w)
		batchWide[text] = true
		output(c).warnf("%s", text)
	}
	if err := prepareOut(c, opts.Out); err != nil {
		return err
	}
	in := os.Stdin
	if name := c.String("input"); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return usageErrorf("--input: %v", err)
		}
		defer f.Close()
		in = f
	}
	rows, err := batch.NewReader(in, t)
	if err != nil {
		return err
	}
	s, err := openCA(c)
	if err != nil {
		return err
	}
	defer s.Close()
	if c.Bool(dryRunFlag.Name) {
		return batchDryRun(c, s, opts, rows.Next, warnings)
	}
	unlockEarly(c, s)
	if err := unlockCA(c, s); err != nil {
		return err
	}
	formats := opts.Formats
	if formats == nil {
		formats = t.Output.Formats
	}
	// A .pfx, one an installer brings, a profile's PKCS#12, an encrypted key.
	needPW := bundle.NeedsPassword(formats, t.Key.Encrypt)
	if needPW && !opts.RandomPasswords {
		pw := bundlePassword(c)
		pw.Alternatives = "--password-file FILE or --random-passwords"
		if opts.Password, err = pw.Resolve(); err != nil {
			return err
		}
	}

	o := output(c)
	jsonOut := c.Bool(jsonFlag.Name)
	var bar *progressbar.ProgressBar
	if !jsonOut && term.IsTerminal(int(os.Stderr.Fd())) {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(o.stderr), progressbar.OptionSetDescription("issuing"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("cert"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(65*time.Millisecond), progressbar.OptionClearOnFinish())
		if n := countRows(c.String("input")); n > 0 {
			bar.ChangeMax(n)
		}
	}
	var tally batchTally
	var jsonRows []batchRowJSON // --json: printed as one document at the end
	start := time.Now()
	failFast := c.Bool("fail-fast")
	var stopReading atomic.Bool
	var shortPW []string // lines whose password column is short
	nextRow := rows.Next
	var pipe *pipeRows
	if !readsToEnd(in) {
		pipe = newPipeRows(c.Context, rows.Next)
		nextRow = pipe.next
	}
	read := func() (*batch.Row, error) {
		if stopReading.Load() {
			return nil, errFailFast
		}
		row, err := nextRow()
		if row != nil && needPW && row.Password != "" && secret.ShortWarning("", row.Password, minBundlePassword) != "" {
			shortPW = append(shortPW, strconv.Itoa(row.Line))
		}
		return row, err
	}
	printRow := func(j batchRowJSON) {
		where := fmt.Sprintf("line %d", j.Line)
		if j.CN != "" {
			where += " (" + textsafe.Quote(j.CN) + ")"
		}
		if !jsonOut {
			if bar != nil && len(j.Warnings) > 0 {
				bar.Clear()
			}
			for _, w := range j.Warnings {
				o.warnf("%s: %s", where, w)
			}
		}
		switch {
		case jsonOut:
			jsonRows = append(jsonRows, j)
		case bar != nil:
			bar.Add(1)
			if j.Status == "failed" {
				bar.Clear()
				fmt.Fprintf(o.stderr, "certmint: error: %s: %s\n", where, textsafe.Escape(j.Error))
			}
		default:
			if j.Status == "failed" {
				fmt.Fprintf(o.stderr, "certmint: error: %s: %s\n", where, textsafe.Escape(j.Error))
			} else {
				o.infof("line %d: %s %s %s", j.Line, j.Status, textsafe.Quote(j.CN), j.Serial)
			}
		}
	}
	err = s.IssueBatch(c.Context, opts, read, func(r ca.BatchResult) {
		j := batchRowJSON{Line: r.Row.Line, CN: r.Row.CN}
		switch {
		case r.Err != nil && errors.Is(r.Err, context.Canceled):
			// Interrupted before it was signed: not a failure of the row;
			// the rerun issues it.
			j.Status = notStarted
		case r.Err != nil:
			j.Status, j.Error = "failed", batchRowError(c, r.Err)
			if failFast {
				stopReading.Store(true)
			}
		case r.Skipped:
			j.Status = "skipped"
		default:
			j.Status = "issued"
			if r.Redone {
				j.Status = "reissued"
			}
			j.Serial, j.Files = r.Issued.Serial, r.Issued.Files
			for _, f := range r.Issued.Findings {
				j.Warnings = append(j.Warnings, f.Message())
			}
			for _, w := range r.Issued.Warnings {
				if text := namerFor(c).text(w); !batchWide[text] {
					j.Warnings = append(j.Warnings, text)
				}
			}
		}
		tally.add(j.Status)
		printRow(j)
	})
	if bar != nil {
		bar.Finish()
	}
	elapsed := time.Since(start)
	// Stopped before the end (Ctrl-C, --fail-fast): the rows never read
	// are not started either, so the summary accounts for every row.
	var unread string
	if c.Context.Err() != nil || errors.Is(err, errFailFast) {
		unread = tally.rest(rows, pipe, func(line int, cn string) {
			printRow(batchRowJSON{Line: line, CN: cn, Status: notStarted})
		})
	}
	// Ctrl-C after the last row changed nothing.
	interrupted := c.Context.Err() != nil && (tally.notStarted > 0 || unread != "")
	if len(shortPW) > 0 {
		lines := "line " + shortPW[0]
		if len(shortPW) > 1 {
			lines = "lines " + strings.Join(shortPW, ", ")
		}
		o.warnf("the password column has fewer than %d characters on %s; those passwords are used, but longer ones are much harder to guess",
			minBundlePassword, lines)
	}
	done := tally.issued + tally.redone
	// A batch stopped before its first row (the CA key did not open) has
	// nothing to report but the error.
	if err != nil && err != errFailFast && c.Context.Err() == nil && tally.rows() == 0 {
		return err
	}
	if jsonOut {
		j := batchJSON{header: newHeader(), Template: t.Name, Out: abs(opts.Out), Rows: jsonRows, Issued: int64(tally.issued),
			Reissued: int64(tally.redone), Skipped: int64(tally.skipped), Failed: int64(tally.failed),
			NotStarted: int64(tally.notStarted), ElapsedSeconds: elapsed.Seconds()}
		if opts.RandomPasswords && done > 0 {
			j.PasswordsFile = abs(filepath.Join(opts.Out, ca.PasswordsFile))
		}
		if err := o.json(j.inLineOrder()); err != nil {
			return err
		}
	} else {
		o.infof("%s", tally.summary(opts.Out, unread, elapsed))
		if opts.RandomPasswords && done > 0 {
			o.infof("Passwords: %s (0600; keep it safe, it is the only copy).", strings.TrimSuffix(opts.Out, "/")+"/"+ca.PasswordsFile)
		}
	}
	if interrupted {
		return fmt.Errorf("interrupted: %s; run the same command again to finish (it skips the rows already done)", tally.notDone(unread))
	}
	if err != nil && err != errFailFast && c.Context.Err() == nil {
		return err
	}
	if tally.failed > 0 {
		msg := fmt.Sprintf("%d of %d rows failed", tally.failed, tally.rows())
		if errors.Is(err, errFailFast) {
			return fmt.Errorf("%s; stopped there (--fail-fast): %s; fix the row and run the same command again", msg, tally.notDone(unread))
		}
		return fmt.Errorf("%s (the others are done; fix the rows and run the same command again)", msg)
	}
	return nil
}

var errFailFast = fmt.Errorf("stopped at the first failed row (--fail-fast)")

// countRows counts the lines of the input for the progress bar, cheaply and
// only for a regular file.
func countRows(name string) int {
	if name == "-" {
		return 0
	}
	f, err := os.Open(name)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := f.Read(buf)
		for _, b := range buf[:k] {
			if b == '\n' {
				n++
			}
		}
		if err != nil {
			break
		}
	}
	return max(n-1, 0)
}
