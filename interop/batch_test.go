package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/testkit"
)

// TestBatchCSV is issue 6's acceptance at a smaller size: a CSV with 3 bad
// rows among good ones gives every good bundle, 3 errors with their line
// numbers and exit 1; SIGINT halfway through (exit 130) and a rerun complete the rest
// without reissuing finished rows; every bundle verifies with openssl; no
// serial appears twice.
func TestBatchCSV(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	h, err := initCA("batch", "http://pki.batch.test", "--root-cn", "Batch Root CA", "--issuing-cn", "Batch Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	const good = 60
	var csv strings.Builder
	csv.WriteString("cn,san,name\n")
	bad := map[int]string{}
	line := 1
	for i := 1; i <= good; i++ {
		line++
		fmt.Fprintf(&csv, "pc%d.acme.local,10.0.%d.%d,\n", i, i/250, i%250+1)
		switch i {
		case 10:
			line++
			csv.WriteString("pc10.acme.local,,\n") // a duplicate cn
			bad[line] = "already appears on line 11"
		case 20:
			line++
			csv.WriteString("bad20.acme.local,IP:10.0.0.300,\n")
			bad[line] = "not an IPv4 or IPv6 address"
		case 30:
			line++
			csv.WriteString(",x.acme.local,\n")
			bad[line] = "cn is empty"
		}
	}
	dir := filepath.Join(workDir, "batch-csv")
	os.MkdirAll(filepath.Join(dir, "out"), 0o700)
	input := filepath.Join(dir, "hosts.csv")
	if err := os.WriteFile(input, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"batch", "--template", "client", "--input", input, "--out", filepath.Join(dir, "out"), "--random-passwords", "--json", "--jobs", "2"}

	// First run: interrupted with SIGINT once a third of the rows are done.
	cmd := exec.Command(certmintBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, certmintEnv(h.Home)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Line   int    `json:"line"`
		CN     string `json:"cn"`
		Status string `json:"status"`
		Serial string `json:"serial"`
		Error  string `json:"error"`
	}
	type report struct {
		Rows []row `json:"rows"`
	}
	// --json prints one document when the batch ends, interrupted or not:
	// the progress is read from the bundle folders, each of which appears
	// complete, in one rename.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	interrupted := false
running:
	for {
		select {
		case err = <-exited:
			break running
		case <-time.After(10 * time.Millisecond):
		}
		if !interrupted && bundleFolders(t, filepath.Join(dir, "out")) >= good/3 {
			cmd.Process.Signal(syscall.SIGINT)
			interrupted = true
		}
	}
	if !interrupted || err == nil {
		t.Fatalf("first run: interrupted %v, exit %v\n%s", interrupted, err, stderr.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("first run: %v after SIGINT, want exit status 130 (128 + SIGINT)", err)
	}
	var firstRun report
	if err := json.Unmarshal(stdout.Bytes(), &firstRun); err != nil {
		t.Fatalf("first run: batch --json printed %q: %v", stdout.String(), err)
	}
	first := map[string]row{} // cn -> issued in the first run
	for _, r := range firstRun.Rows {
		if r.Status == "issued" {
			first[r.CN] = r
		}
	}
	if len(first) >= good {
		t.Fatalf("the interruption came too late: %d rows already done", len(first))
	}

	// Rerun: finishes the rest, skips what was done, reports the bad rows.
	r := runCertmint(h.Home, args...)
	if r.Code != 1 {
		t.Fatalf("rerun: exit %d, want 1 (3 bad rows)\n%s", r.Code, r)
	}
	serials := map[string]string{}
	var errs []row
	var rerun report
	if err := json.Unmarshal([]byte(r.Stdout), &rerun); err != nil {
		t.Fatalf("rerun: batch --json printed %q: %v", r.Stdout, err)
	}
	for _, x := range rerun.Rows {
		switch x.Status {
		case "skipped":
			if _, ok := first[x.CN]; !ok {
				t.Errorf("%s skipped, but the first run did not issue it", x.CN)
			}
		case "issued", "reissued":
			if _, ok := first[x.CN]; ok {
				t.Errorf("%s issued again although the first run finished it", x.CN)
			}
			serials[x.CN] = x.Serial
		case "failed":
			errs = append(errs, x)
		}
	}
	for cn, x := range first {
		serials[cn] = x.Serial
	}
	if len(serials) != good {
		t.Errorf("%d bundles, want %d", len(serials), good)
	}
	if len(errs) != 3 {
		t.Errorf("%d failed rows, want 3: %+v", len(errs), errs)
	}
	for _, e := range errs {
		if want := bad[e.Line]; want == "" || !strings.Contains(e.Error, want) {
			t.Errorf("line %d: %q, want %q", e.Line, e.Error, bad[e.Line])
		}
	}
	seen := map[string]bool{}
	for cn, s := range serials {
		if seen[s] {
			t.Errorf("serial %s twice", s)
		}
		seen[s] = true
		crt := filepath.Join(dir, "out", cn, cn+".crt")
		mustTool(t, "verify "+cn, "openssl", "verify", "-CAfile", h.Root.Path, "-untrusted", h.Issuing.Path, crt)
	}
	// Every .pfx opens with its password from passwords.csv.
	pw, err := os.ReadFile(filepath.Join(dir, "out", "passwords.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(pw)), "\n")[1:]
	latest := map[string]string{}
	for _, l := range lines {
		f := strings.Split(l, ",")
		latest[f[0]] = f[3]
	}
	if len(latest) != good {
		t.Errorf("passwords.csv has passwords for %d rows, want %d", len(latest), good)
	}
	for name, p := range latest {
		mustTool(t, "pkcs12 "+name, "openssl", "pkcs12", "-info", "-noout", "-in", filepath.Join(dir, "out", name, name+".pfx"), "-passin", "pass:"+p)
	}
}

// bundleFolders counts the bundle folders in place in a batch's OUT (its
// staging folders are hidden).
func bundleFolders(t *testing.T, out string) int {
	t.Helper()
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}
