package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/testkit"
)

// runMeasured runs certmint for a home and also returns how long it took
// and its peak resident memory (Linux ru_maxrss, KiB; 0 elsewhere).
func runMeasured(home string, args ...string) (result, time.Duration, int64) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, certmintBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, certmintEnv(home)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	r := result{Cmd: commandLine(certmintBin, args), Stdout: stdout.String(), Stderr: stderr.String(), Code: -1, Err: err}
	var rss int64
	if cmd.ProcessState != nil {
		r.Code = cmd.ProcessState.ExitCode()
		rss = maxRSS(cmd.ProcessState)

	}
	return r, took, rss
}

// TestOversizedInputs: a 100 MB file given as a certificate, key, .pfx,
// CRL, CSR or CSV, a CSV line of 1 MB and an absurdly nested template are
// refused by every command that reads them, quickly, with a clear error,
// without reading them whole (the 100 MB file is sparse: reading it would
// take time and show in the peak memory), and nothing changes.
func TestOversizedInputs(t *testing.T) {
	h, err := initCA("oversize", baseURL, "--root-cn", "Oversize Root CA", "--issuing-cn", "Oversize Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	good := issueClient(t, h, "good.oversize.test")
	dir := filepath.Join(workDir, "oversize-in")
	out := filepath.Join(workDir, "oversize-out")
	for _, d := range []string{dir, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	huge := func(name string) string { return testkit.SparseFile(t, dir, name, 100<<20) }
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hugeCrt, hugeKey, hugePFX, hugeCRL, hugeCSR, hugeCSV, hugeTOML :=
		huge("huge.crt"), huge("huge.key"), huge("huge.pfx"), huge("huge.crl"), huge("huge.csr"), huge("huge.csv"), huge("huge.toml")
	longLine := write("long-line.csv", "cn,san\nok.oversize.test,"+strings.Repeat("a", 1<<20)+"\n")
	nested := write("nested.toml", "name = \"nested\"\nx = "+strings.Repeat("{a=", 10_000)+"1"+strings.Repeat("}", 10_000)+"\n")
	nestedTables := write("nested-tables.toml", "name = \"nested\"\n["+strings.Repeat("a.", 10_000)+"a]\n")
	wideArray := write("wide-array.toml", "name = \"wide\"\nx = ["+strings.Repeat("1,", 100_000)+"1]\n")

	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"check --cert", []string{"check", "--template", "client", "--cert", hugeCrt}, "huge.crt is 100 MiB; a certificate file is at most 4 MiB"},
		{"check --chain", []string{"check", "--template", "client", "--cert", good.crt(), "--chain", hugeCrt}, "huge.crt is 100 MiB"},
		{"check --key", []string{"check", "--template", "client", "--cert", good.crt(), "--key", hugeKey}, "huge.key is 100 MiB"},
		{"check --pfx", []string{"check", "--template", "client", "--pfx", hugePFX}, "huge.pfx is 100 MiB"},
		{"check --crl", []string{"check", "--template", "client", "--cert", good.crt(), "--crl", hugeCRL}, "huge.crl is larger than 64 MiB"},
		{"inspect .crt", []string{"inspect", hugeCrt}, "huge.crt is 100 MiB"},
		{"inspect .pfx", []string{"inspect", hugePFX}, "huge.pfx is 100 MiB"},
		{"inspect .crl", []string{"inspect", hugeCRL}, "huge.crl is 100 MiB"},
		{"inspect .key", []string{"inspect", hugeKey}, "huge.key is 100 MiB"},
		{"revoke --cert", []string{"revoke", "--cert", hugeCrt}, "huge.crt is 100 MiB"},
		{"sign --csr", []string{"sign", "--template", "client", "--csr", hugeCSR, "--out", out}, "huge.csr is 100 MiB"},
		{"convert --in", []string{"convert", "--in", hugeCrt, "--to", "der", "--out", filepath.Join(out, "x.der")}, "huge.crt is 100 MiB"},
		{"batch: a 100 MB CSV", []string{"batch", "--template", "client", "--input", hugeCSV, "--out", out}, "longer than 64 KiB"},
		{"batch: a CSV line of 1 MB", []string{"batch", "--template", "client", "--input", longLine, "--out", out}, "line 2 is longer than 64 KiB"},
		{"issue: a 100 MB template", []string{"issue", "--template", hugeTOML, "--cn", "x.oversize.test", "--out", out}, "huge.toml: larger than 256 KiB"},
		{"issue: 10,000 nested inline tables", []string{"issue", "--template", nested, "--cn", "x.oversize.test", "--out", out}, "nested.toml:2: nested more than 32 levels deep"},
		{"templates show: 10,000 nested tables", []string{"templates", "show", nestedTables}, "nested-tables.toml:2: nested more than 32 levels deep"},
		{"check: 10,000 nested inline tables", []string{"check", "--template", nested, "--cert", good.crt()}, "nested more than 32 levels deep"},
		{"issue: a 200 KB array", []string{"issue", "--template", wideArray, "--cn", "x.oversize.test", "--out", out}, "wide-array.toml:2: x: unknown key"},
	}
	count := func() int {
		stdout, _, code := runIn(t, h.Home, "list", "--json")
		var doc struct {
			Certificates []json.RawMessage `json:"certificates"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil {
			t.Fatalf("certmint list --json failed")
		}
		return len(doc.Certificates)
	}
	before := count()
	crlBefore, err := os.ReadFile(filepath.Join(h.Home, "public", h.Issuing.Slug+".crl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, took, rss := runMeasured(h.Home, tc.args...)
			t.Logf("%s: exit %d in %v, peak memory %d MiB", tc.name, r.Code, took.Round(time.Millisecond), rss>>10)
			if r.Code != 1 && r.Code != 2 {
				t.Fatalf("exit status %d, want 1 or 2\n%s", r.Code, r)
			}
			if !strings.Contains(r.Stderr, "certmint: error: ") || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r)
			}
			if strings.Contains(r.Stderr, "goroutine ") || strings.Contains(r.Stderr, "panic") {
				t.Errorf("a Go stack trace:\n%s", r)
			}
			if len(r.Stderr) > 2000 {
				t.Errorf("%d bytes of messages", len(r.Stderr))
			}
			if took > 5*time.Second {
				t.Errorf("took %v to refuse", took)
			}
			// certmint itself needs some 20-40 MiB; reading the 100 MB file
			// whole would need more than 100.
			if rss > 80<<10 {
				t.Errorf("peak memory %d MiB: the input was read whole", rss>>10)
			}
		})
	}
	if n := count(); n != before {
		t.Errorf("the database went from %d to %d certificates", before, n)
	}
	if ents, _ := os.ReadDir(out); len(ents) > 0 {
		t.Errorf("%d files were written into %s", len(ents), out)
	}
	if crlAfter, _ := os.ReadFile(filepath.Join(h.Home, "public", h.Issuing.Slug+".crl")); !bytes.Equal(crlBefore, crlAfter) {
		t.Error("the CRL was republished")
	}
}
