package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// cancelAfter is stdout for an in-process run that cancels its context,
// as Ctrl-C does, once n rows were printed as issued.
type cancelAfter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Count(w.buf.String(), "issued") >= w.n {
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelAfter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// batchCSV writes a CSV of n rows, the ones in bad being bad, and returns
// its path.
func batchCSV(t *testing.T, n int, bad map[int]bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("cn,san\n")
	for i := 1; i <= n; i++ {
		if bad[i] {
			fmt.Fprintf(&b, "bad%d.batch.test,IP:10.0.0.300\n", i)
			continue
		}
		fmt.Fprintf(&b, "h%d.batch.test,\n", i)
	}
	return writeFile(t, t.TempDir(), "hosts.csv", b.String(), 0o600)
}

var batchSummary = regexp.MustCompile(`Batch \S+: (\d+) rows: (\d+) issued, (\d+) reissued \(torn\), (\d+) skipped \(already complete\), (\d+) failed(?:, (\d+) not started)?, in `)

// summaryCounts returns the rows of the summary line and its parts, which
// must add up to it.
func summaryCounts(t *testing.T, stdout string) (rows, issued, skipped, failed, notStarted int) {
	t.Helper()
	m := batchSummary.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no summary line:\n%s", stdout)
	}
	n := make([]int, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.Atoi(m[i])
	}
	if sum := n[2] + n[3] + n[4] + n[5] + n[6]; sum != n[1] {
		t.Errorf("the summary does not add up: %d + %d + %d + %d + %d != %d\n%s", n[2], n[3], n[4], n[5], n[6], n[1], stdout)
	}
	return n[1], n[2], n[4], n[5], n[6]
}

// TestBatchInterruptedSummary: after Ctrl-C every row of the file is
// counted exactly once (issued, skipped, failed or not started), in the
// summary and in --json, and the rerun finishes the rest.
func TestBatchInterruptedSummary(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	// Enough rows that the first are printed (a transaction of up to 64,
	// or after 200 ms) well before the last is signed.
	const rows = 300
	bad := map[int]bool{3: true, 250: true}
	for _, jsonOut := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonOut), func(t *testing.T) {
			home, out, input := newHome(t), t.TempDir(), batchCSV(t, rows, bad)
			args := []string{"certmint", "batch", "--home", home, "-t", "client", "--key", "ecdsa:P-256", "--format", "crt",
				"--input", input, "--out", out, "--jobs", "2"}
			if jsonOut {
				args = append(args, "--json")
			}
			// Ctrl-C, as main's signalContext reports it.
			ctx, cancelCause := context.WithCancelCause(context.Background())
			cancel := func() { cancelCause(signalError{os.Interrupt}) }
			defer cancel()
			stdout := &cancelAfter{n: 1, cancel: cancel}
			if jsonOut {
				// --json prints one document at the end: interrupt once the
				// first bundle is in place instead.
				stdout.n = 1 << 30
				go func() {
					for ctx.Err() == nil {
						// A row's folder moves into place whole (staging folders start with a dot).
						if ents, _ := os.ReadDir(out); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return !strings.HasPrefix(e.Name(), ".") }) {
							cancel()
							return
						}
						time.Sleep(5 * time.Millisecond)
					}
				}()
			}
			var stderr bytes.Buffer
			code := run(ctx, args, stdout, &stderr)
			if code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted: ") {
				t.Fatalf("exit %d, want 130 with \"interrupted\"\n%s%s", code, stdout, stderr.String())
			}
			if jsonOut {
				var e struct {
					ExitStatus int `json:"exit_status"`
				}
				if err := json.Unmarshal(stderr.Bytes(), &e); err != nil || e.ExitStatus != exitInterrupted {
					t.Errorf("stderr's exit_status %d (%v), want %d, as the process exits", e.ExitStatus, err, exitInterrupted)
				}
				var doc struct {
					Rows []struct {
						Line   int    `json:"line"`
						Status string `json:"status"`
					} `json:"rows"`
					NotStarted int `json:"not_started"`
				}
				if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
					t.Fatalf("%v\n%s", err, stdout)
				}
				seen := map[int]string{}
				for _, r := range doc.Rows {
					if seen[r.Line] != "" {
						t.Errorf("line %d reported twice: %s and %s", r.Line, seen[r.Line], r.Status)
					}
					seen[r.Line] = r.Status
				}
				if doc.NotStarted == 0 {
					t.Errorf("not_started = 0 after an interruption")
				}
				for line := 2; line <= rows+1; line++ {
					if seen[line] == "" {
						t.Errorf("line %d is not reported", line)
					}
				}
				if len(seen) != rows {
					t.Errorf("%d rows reported, want %d", len(seen), rows)
				}
				return
			}
			n, issued, _, _, notStarted := summaryCounts(t, stdout.String())
			if n != rows || issued < 1 || notStarted == 0 {
				t.Fatalf("summary: %d rows, %d issued, %d not started; want %d rows, some issued, some not started\n%s", n, issued, notStarted, rows, stdout)
			}
			if want := fmt.Sprintf("interrupted: %d of %d rows not started; run the same command again", notStarted, rows); !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
			}
			// The rerun finishes the rest and skips what was done.
			code, stdout2, stderr2 := runCLI(t, args[1:]...)
			if code != 1 {
				t.Fatalf("rerun: exit %d, want 1 (two bad rows)\n%s%s", code, stdout2, stderr2)
			}
			n2, issued2, skipped2, failed2, notStarted2 := summaryCounts(t, stdout2)
			if n2 != rows || skipped2 != issued || issued2 != rows-len(bad)-issued || failed2 != len(bad) || notStarted2 != 0 {
				t.Errorf("rerun: %d rows, %d issued, %d skipped, %d failed, %d not started; want %d, %d, %d, %d, 0\n%s",
					n2, issued2, skipped2, failed2, notStarted2, rows, rows-len(bad)-issued, issued, len(bad), stdout2)
			}
		})
	}
}

// TestBatchFailFastSummary: --fail-fast stops at the first bad row, and
// the summary still counts every row of the file.
func TestBatchFailFastSummary(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	home, out, input := newHome(t), t.TempDir(), batchCSV(t, 12, map[int]bool{2: true})
	code, stdout, stderr := runCLI(t, "batch", "--home", home, "-t", "client", "--key", "ecdsa:P-256", "--format", "crt",
		"--input", input, "--out", out, "--jobs", "1", "--fail-fast")
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	n, _, _, failed, notStarted := summaryCounts(t, stdout)
	if n != 12 || failed != 1 || notStarted == 0 {
		t.Errorf("%d rows, %d failed, %d not started; want 12, 1, some\n%s", n, failed, notStarted, stdout)
	}
	if !strings.Contains(stderr, "(--fail-fast)") || !strings.Contains(stderr, fmt.Sprintf("%d of 12 rows not started", notStarted)) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// TestBatchInterruptedStdin: a batch read from a pipe cannot count the
// rows it never read, and says so instead of printing a sum that does
// not add up.
func TestBatchInterruptedStdin(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	home, out := newHome(t), t.TempDir()
	data, err := os.ReadFile(batchCSV(t, 40, nil))
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close() // open until the end: the pipe never ends on its own
	go w.Write(data)
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &cancelAfter{n: 3, cancel: cancel}
	var stderr bytes.Buffer
	code := run(ctx, []string{"certmint", "batch", "--home", home, "-t", "client", "--key", "ecdsa:P-256", "--format", "crt",
		"--input", "-", "--out", out, "--jobs", "1"}, stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr.String())
	}
	m := regexp.MustCompile(`Batch \S+: (\d+) rows read: (\d+) issued, 0 reissued \(torn\), 0 skipped \(already complete\), 0 failed, (\d+) not started \(the rest of standard input was not read\)`).
		FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no summary of the rows read:\n%s", stdout)
	}
	read, _ := strconv.Atoi(m[1])
	issued, _ := strconv.Atoi(m[2])
	notStarted, _ := strconv.Atoi(m[3])
	if issued+notStarted != read {
		t.Errorf("%d + %d != %d rows read", issued, notStarted, read)
	}
	if !strings.Contains(stderr.String(), "rows read but not started, and the rest of standard input was not read") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// TestBatchCSVFromExcel: a semicolon-separated CSV (Excel where the
// decimal mark is a comma) is read, and bad rows' hints name the column.
func TestBatchCSVFromExcel(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	home, out := newHome(t), t.TempDir()
	input := writeFile(t, t.TempDir(), "hosts.csv", "\ufeffCN;SAN;Name\r\n"+
		"w1.acme.local;\"w1-alias.acme.local;w1.corp.acme.local\";first\r\n"+
		"W702;;\r\n"+
		"w3.acme.local;*.acme.local;\r\n", 0o600)
	code, stdout, stderr := runCLI(t, "batch", "--home", home, "-t", "1e-client", "--random-passwords", "--input", input, "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (two bad rows)\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`line 3 (W702): the common name "W702" is a bare host name; this template needs the fully qualified domain name (use the FQDN in the cn column, e.g. W702.ACME.LOCAL)`,
		`line 4 (w3.acme.local): does not allow wildcard names: "DNS:*.acme.local" (rule san.allow_wildcard) (name each host in the san column, e.g. host1.example.com)`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "--cn") || strings.Contains(stderr, "--san") {
		t.Errorf("a row's hint names a flag:\n%s", stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "first", "first.crt"))
	if err != nil {
		t.Fatalf("the good row's bundle: %v\n%s", err, stdout)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	// The quoted cell's ';' separates SANs, not columns.
	if got := strings.Join(cert.DNSNames, ","); got != "w1.acme.local,w1-alias.acme.local,w1.corp.acme.local" {
		t.Errorf("SANs %s", got)
	}
	if !strings.Contains(stdout, "Batch "+out+": 3 rows: 1 issued") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// TestBatchRowHintFromCA: a row refused by the CA rather than the reader
// (a validity past the issuing CA's, a subject field the home does not
// fill) gets a hint in the CSV's terms too.
func TestBatchRowHintFromCA(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	home, out := newHome(t), t.TempDir()
	input := writeFile(t, t.TempDir(), "hosts.csv", "cn,days\nlong.acme.local,20000\n", 0o600)
	code, stdout, stderr := runCLI(t, "batch", "--home", home, "-t", "client", "--key", "ecdsa:P-256", "--format", "crt",
		"--input", input, "--out", out)
	if code != 1 || !strings.Contains(stderr, "would outlive the issuing CA") || !strings.Contains(stderr, "(put fewer days in the days column, or renew the issuing CA)") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestRandomPasswordSpellings: --random-password and --random-passwords
// are both accepted by issue and batch.
func TestRandomPasswordSpellings(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "")
	for _, flag := range []string{"--random-password", "--random-passwords"} {
		t.Run(flag, func(t *testing.T) {
			home, out := newHome(t), t.TempDir()
			code, stdout, stderr := runCLI(t, "issue", "--home", home, "-t", "server", "--cn", "www.spell.test", "--out", out, flag)
			if code != 0 || !strings.Contains(stdout, "The bundle password is in") {
				t.Errorf("issue %s: exit %d\n%s%s", flag, code, stdout, stderr)
			}
			input := writeFile(t, t.TempDir(), "hosts.csv", "cn\nb.spell.test\n", 0o600)
			code, stdout, stderr = runCLI(t, "batch", "--home", home, "-t", "server", "--input", input, "--out", t.TempDir(), flag)
			if code != 0 || !strings.Contains(stdout, "Passwords: ") {
				t.Errorf("batch %s: exit %d\n%s%s", flag, code, stdout, stderr)
			}
		})
	}
}

// TestBatchRowWarnings: a row that departs from the template's advice (a
// days column beyond server's 825) gets the warning `issue --days` gives,
// naming its line, in the text output and in its --json row; the other
// rows get none, and a departure of the whole batch is printed once.
func TestBatchRowWarnings(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	home := newHome(t)
	input := writeFile(t, t.TempDir(), "hosts.csv", "cn,days\na1.batch.test,\na2.batch.test,900\na3.batch.test,30\n", 0o600)
	const want = `a certificate valid for 900 days (the template allows 825) departs from template "server" (advice: `
	for _, jsonOut := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonOut), func(t *testing.T) {
			args := []string{"batch", "--home", home, "-t", "server", "--key", "ecdsa:P-256", "--format", "crt,key",
				"--input", input, "--out", t.TempDir()}
			if jsonOut {
				args = append(args, "--json")
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			if jsonOut {
				var doc struct {
					Rows []struct {
						Line     int      `json:"line"`
						Warnings []string `json:"warnings"`
					} `json:"rows"`
				}
				if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
					t.Fatal(err)
				}
				for _, r := range doc.Rows {
					if r.Warnings == nil {
						t.Errorf("line %d: warnings is null, want a list", r.Line)
					}
					if got := strings.Join(r.Warnings, "|"); (r.Line == 3) != strings.Contains(got, want) || (r.Line != 3 && got != "") {
						t.Errorf("line %d: warnings %q", r.Line, r.Warnings)
					}
				}
				return
			}
			if !strings.Contains(stderr, `certmint: warning: line 3 (a2.batch.test): `+want) || strings.Count(stderr, "warning:") != 1 {
				t.Errorf("stderr:\n%s", stderr)
			}
		})
	}
	// A template whose key file is advice: --format without it departs for
	// the whole batch, said once, not again on every row.
	code, tmpl, _ := runCLI(t, "templates", "show", "server")
	if code != 0 {
		t.Fatal(tmpl)
	}
	tmpl = strings.Replace(strings.Replace(tmpl, `name = "server"`, `name = "server-key-advised"`, 1),
		"[output]\n", "[output]\nrequired = [\"key\"]\n", 1)
	file := writeFile(t, t.TempDir(), "server-key-advised.toml", tmpl, 0o600)
	code, stdout, stderr := runCLI(t, "batch", "--home", home, "-t", file, "--key", "ecdsa:P-256", "--format", "crt",
		"--input", input, "--out", t.TempDir())
	if code != 0 || strings.Count(stderr, "departs from template") != 2 || strings.Count(stderr, "a bundle without its key file") != 1 {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}
