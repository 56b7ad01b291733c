package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/secret"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func batchCommand() *cli.Command {
	return &cli.Command{
		Name:  "batch",
		Usage: "issue one bundle per CSV row, in parallel; rerun to finish an interrupted batch",
		Description: "The CSV has a header; cn is required; optional columns: san (several separated by ';'),\n" +
			"name (the bundle folder, default the CN), c, o, ou, st, l, days, password, and key (the row's\n" +
			"key type, e.g. rsa:4096, one the template accepts; default: --key, else the template's).\n" +
			"Each row gets OUT/<name>/ with the template's files. Bad rows are reported with their line\n" +
			"number and the others go on (unless --fail-fast); exit status 1 if any row failed. Rerunning\n" +
			"the same command skips rows whose bundle is complete and redoes torn ones.",
		Flags: []cli.Flag{
			homeFlag, templateFlag, keyFlag,
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "the CSV `FILE` (- for standard input)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: runtime.NumCPU(), Usage: "parallel workers"},
			outFlag,
			&cli.BoolFlag{Name: "random-passwords", Usage: "a generated password per row, written to OUT/passwords.csv (0600), never printed"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first bad row"},
			&cli.StringFlag{Name: "format", Usage: "files to write instead of the template's: crt,key,pfx,chain,cer"},
			ocspFlag,
			passwordFileFlag, passwordFlag, caPasswordFileFlag,
			jsonFlag,
		},
		Action: batchAction,
	}
}

type batchRowJSON struct {
	Line    int      `json:"line"`
	CN      string   `json:"cn"`
	Status  string   `json:"status"` // issued, skipped, reissued, failed
	Serial  string   `json:"serial,omitempty"`
	Files   []string `json:"files,omitempty"`
	Error   string   `json:"error,omitempty"`
	Elapsed float64  `json:"elapsed_seconds,omitempty"`
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
	for _, w := range warnings {
		output(c).warnf("%s", w)
	}
	if err := checkOutDir(opts.Out); err != nil {
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
	s, err := ca.Open(c.String(homeFlag.Name), caPassword(c, false).Resolve)
	if err != nil {
		return err
	}
	defer s.Close()
	formats := opts.Formats
	if formats == nil {
		formats = t.Output.Formats
	}
	needPW := false
	for _, f := range formats {
		needPW = needPW || f == templates.FormatPFX || (f == templates.FormatKey && t.Key.Encrypt)
	}
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
	var issued, skipped, redone, failed, interrupted atomic.Int64
	var failures []string
	start := time.Now()
	failFast := c.Bool("fail-fast")
	var stopReading atomic.Bool
	var shortPW []string // lines whose password column is short
	read := func() (*batch.Row, error) {
		if stopReading.Load() {
			return nil, errFailFast
		}
		row, err := rows.Next()
		if row != nil && needPW && row.Password != "" && secret.ShortWarning("", row.Password, minBundlePassword) != "" {
			shortPW = append(shortPW, strconv.Itoa(row.Line))
		}
		return row, err
	}
	err = s.IssueBatch(c.Context, opts, read, func(r ca.BatchResult) {
		j := batchRowJSON{Line: r.Row.Line, CN: r.Row.CN}
		where := fmt.Sprintf("line %d", j.Line)
		if j.CN != "" {
			where += " (" + textsafe.Quote(j.CN) + ")"
		}
		switch {
		case r.Err != nil && errors.Is(r.Err, context.Canceled):
			// Interrupted before it was signed: not a failure of the row;
			// the rerun issues it.
			interrupted.Add(1)
			return
		case r.Err != nil:
			failed.Add(1)
			j.Status, j.Error = "failed", r.Err.Error()
			// What to change in the row, as the reader's own row errors say
			// it (a required subject field is only found missing here).
			var re *templates.RequestError
			if errors.As(r.Err, &re) && re.Hint != "" {
				j.Error += " (" + re.Hint + ")"
			}
			var le *fsutil.LinkError
			if errors.As(r.Err, &le) {
				j.Error += " (" + le.HintText() + ")"
			}
			failures = append(failures, fmt.Sprintf("%s: %s", where, j.Error))
			if failFast {
				stopReading.Store(true)
			}
		case r.Skipped:
			skipped.Add(1)
			j.Status = "skipped"
		default:
			if r.Redone {
				redone.Add(1)
				j.Status = "reissued"
			} else {
				issued.Add(1)
				j.Status = "issued"
			}
			j.Serial, j.Files = r.Issued.Serial, r.Issued.Files
		}
		switch {
		case jsonOut:
			o.json(j)
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
	})
	if bar != nil {
		bar.Finish()
	}
	elapsed := time.Since(start)
	if len(shortPW) > 0 {
		lines := "line " + shortPW[0]
		if len(shortPW) > 1 {
			lines = "lines " + strings.Join(shortPW, ", ")
		}
		o.warnf("the password column has fewer than %d characters on %s; those passwords are used, but longer ones are much harder to guess",
			minBundlePassword, lines)
	}
	done := issued.Load() + redone.Load()
	// A batch stopped before its first row (the CA key did not open) has
	// nothing to report but the error.
	if err != nil && err != errFailFast && done+skipped.Load()+failed.Load() == 0 {
		return err
	}
	if !jsonOut {
		rate := ""
		if done > 0 {
			rate = fmt.Sprintf(", %.1f certificates/s", float64(done)/elapsed.Seconds())
		}
		o.infof("Batch %s: %d issued, %d reissued (torn), %d skipped (already complete), %d failed, in %s%s.",
			opts.Out, issued.Load(), redone.Load(), skipped.Load(), failed.Load(), elapsed.Round(time.Millisecond), rate)
		if opts.RandomPasswords && done > 0 {
			o.infof("Passwords: %s (0600; keep it safe, it is the only copy).", strings.TrimSuffix(opts.Out, "/")+"/"+ca.PasswordsFile)
		}
	}
	if c.Context.Err() != nil {
		return fmt.Errorf("interrupted after %d new bundles (%d rows were not done); run the same command again to finish", done, interrupted.Load())
	}
	if err != nil && err != errFailFast {
		return err
	}
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d rows failed (the others are done; fix the rows and run the same command again)", n, n+done+skipped.Load())
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
