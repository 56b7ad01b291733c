package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
)

const caPW = "cli-test-ca-password"

var fixtureHome string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certmint-cli-test-")
	if err != nil {
		panic(err)
	}
	fixtureHome = filepath.Join(dir, "pki")
	os.Setenv("CERTMINT_CA_PASSWORD", caPW)
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"certmint", "init", "--home", fixtureHome,
		"--root-cn", "CLI Root CA", "--issuing-cn", "CLI Issuing CA", "--base-url", "http://pki.cli.test",
		"--key", "ecdsa:P-256", "--issuing-key", "rsa:2048"}, io.Discard, &stderr); code != 0 {
		panic("fixture init failed: " + stderr.String())
	}
	os.Unsetenv("CERTMINT_CA_PASSWORD")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs certmint in-process and returns exit status, stdout, stderr.
func runCLI(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"certmint"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// newHome copies the fixture CA.
func newHome(t testing.TB) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "pki")
	err := testkit.CopyDir(fixtureHome, home)
	if err != nil {
		t.Fatal(err)
	}
	return home
}

func writeFile(t testing.TB, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodTemplate = `name = "mine"
[key]
type = "rsa"
bits = 2048
[validity]
days = 30
[usage]
key_usage = ["digitalSignature"]
ext_key_usage = ["serverAuth"]
[san]
allow_dns = true
cn_in_san = true
[output]
formats = ["crt", "key"]
`

func TestCLIHappyPath(t *testing.T) {
	home := newHome(t)
	out := t.TempDir()
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
	code, stdout, stderr := runCLI(t, "issue", "--home", home, "--template", "server", "--cn", "www.example.com", "--san", "10.1.2.3", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"serial":`, `"DNS:www.example.com"`, `"IP:10.1.2.3"`, `"not_after":`, "www.example.com.pfx"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--json output lacks %s:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "bundle-pw") || strings.Contains(stderr, "bundle-pw") {
		t.Error("the bundle password appears in the output")
	}
	// A user template by path.
	tpl := writeFile(t, t.TempDir(), "mine.toml", goodTemplate, 0o644)
	if code, _, stderr := runCLI(t, "issue", "--home", home, "--template", tpl, "--cn", "svc.example.com", "--out", out); code != 0 {
		t.Fatalf("user template: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "svc.example.com.key")); err != nil {
		t.Error(err)
	}
	// --random-password writes BASE.password, 0600, and never prints it.
	code, stdout, stderr = runCLI(t, "issue", "--home", home, "--template", "client", "--cn", "W1.ACME.LOCAL", "--out", out, "--random-password")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	pw, err := os.ReadFile(filepath.Join(out, "W1.ACME.LOCAL.password"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(out, "W1.ACME.LOCAL.password")); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v", st.Mode().Perm())
	}
	if strings.Contains(stdout+stderr, strings.TrimSpace(string(pw))) {
		t.Error("the random password was printed")
	}
	// --password on argv works and warns.
	code, _, stderr = runCLI(t, "issue", "--home", home, "--template", "client", "--cn", "W2.ACME.LOCAL", "--out", out, "--password", "argv-pw")
	if code != 0 || !strings.Contains(stderr, "certmint: warning: a password on the command line") {
		t.Errorf("--password: exit %d, stderr %q", code, stderr)
	}
}

func TestCLIBadInput(t *testing.T) {
	tmp := t.TempDir()
	badTOML := writeFile(t, tmp, "bad.toml", "name = \"x\"\n[key\n", 0o644)
	unknownKey := writeFile(t, tmp, "unknown.toml", strings.Replace(goodTemplate, "[san]\n", "[san]\nallow_dnss = true\n", 1), 0o644)
	badKU := writeFile(t, tmp, "badku.toml", strings.Replace(goodTemplate, `"digitalSignature"`, `"digitalSignatur"`, 1), 0o644)
	rsa1024 := writeFile(t, tmp, "rsa1024.toml", strings.Replace(goodTemplate, "bits = 2048", "bits = 1024", 1), 0o644)
	emptyPW := writeFile(t, tmp, "empty.pw", "", 0o600)
	wrongPW := writeFile(t, tmp, "wrong.pw", "not-the-password\n", 0o600)
	notADir := writeFile(t, tmp, "file", "x", 0o644)
	exempt := func(name, lint string) (string, int) {
		src := strings.TrimSuffix(goodTemplate, "\n") + "\n\n[[lint.exempt]]\nname = \"" + lint + "\"\nreason = \"a test\"\n"
		return writeFile(t, tmp, name, src, 0o644), strings.Count(src, "\n") - 1 // the name line
	}
	forbidden, forbiddenLine := exempt("forbidden.toml", "e_validity_time_not_positive")
	misspelt, misspeltLine := exempt("misspelt.toml", "e_dnsname_underscore_in_sId")

	tests := []struct {
		name   string
		args   []string // "HOME" and "OUT" are replaced
		env    map[string]string
		setup  func(t *testing.T, out string)
		code   int
		stderr string // must appear in stderr
		hint   bool   // a hint line is expected
	}{
		{name: "malformed TOML", args: []string{"issue", "--template", badTOML, "--cn", "a.example.com"}, code: 1, stderr: "bad.toml:2:", hint: true},
		{name: "unknown template key", args: []string{"issue", "--template", unknownKey, "--cn", "a.example.com"}, code: 1, stderr: `unknown.toml:11: san.allow_dnss: unknown key (did you mean "san.allow_dns"?)`, hint: true},
		{name: "bad key usage name", args: []string{"issue", "--template", badKU, "--cn", "a.example.com"}, code: 1, stderr: `did you mean "digitalSignature"?`, hint: true},
		{name: "RSA 1024", args: []string{"issue", "--template", rsa1024, "--cn", "a.example.com"}, code: 1, stderr: "key.bits: RSA key size 1024 is not allowed"},
		{name: "missing template file", args: []string{"issue", "--template", filepath.Join(tmp, "none.toml"), "--cn", "a"}, code: 2, stderr: "--template: " + filepath.Join(tmp, "none.toml") + ": no such file", hint: true},
		{name: "unknown built-in", args: []string{"issue", "--template", "sever", "--cn", "a"}, code: 2, stderr: `no built-in template "sever"`, hint: true},
		{name: "invalid IP", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--san", "IP:10.0.0.999"}, code: 2, stderr: "not an IPv4 or IPv6 address", hint: true},
		{name: "bad DNS name", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--san", "bad_name-.example.com"}, code: 2, stderr: "ends with a hyphen"},
		{name: "wildcard not allowed", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--san", "*.example.com"}, code: 2, stderr: "does not allow wildcard", hint: true},
		{name: "empty CN", args: []string{"issue", "--template", "client", "--cn", ""}, code: 2, stderr: "--cn is required"},
		{name: "CN too long", args: []string{"issue", "--template", "client", "--cn", strings.Repeat("a", 65)}, code: 2, stderr: "at most 64"},
		{name: "missing template flag", args: []string{"issue", "--cn", "a"}, code: 2, stderr: "--template is required"},
		{name: "server without any SAN", args: []string{"issue", "--template", "server", "--cn", "Web Server"}, code: 2, stderr: "requires at least one subject alternative name", hint: true},
		{name: "no CA password", args: []string{"issue", "--template", "client", "--cn", "a.example.com"}, env: map[string]string{"CERTMINT_CA_PASSWORD": ""}, code: 1, stderr: "no CA password given", hint: true},
		{name: "wrong CA password", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--ca-password-file", wrongPW}, code: 1, stderr: "the CA password does not decrypt", hint: true},
		{name: "empty CA password file", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--ca-password-file", emptyPW}, code: 1, stderr: "is empty"},
		{name: "missing password file", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--password-file", filepath.Join(tmp, "nope")}, code: 2, stderr: "--password-file: " + filepath.Join(tmp, "nope") + ": no such file", hint: true},
		{name: "no bundle password", args: []string{"issue", "--template", "client", "--cn", "a.example.com"}, env: map[string]string{"CERTMINT_PASSWORD": ""}, code: 1, stderr: "no bundle password given", hint: true},
		{name: "random and file password", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--random-password", "--password-file", wrongPW}, code: 2, stderr: "cannot be combined"},
		{name: "out is a file", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--out", notADir}, code: 2, stderr: "is not a folder", hint: true},
		{name: "existing file without --force", args: []string{"issue", "--template", "client", "--cn", "a.example.com"},
			setup: func(t *testing.T, out string) { writeFile(t, out, "a.example.com.crt", "old", 0o644) }, code: 1, stderr: "already exists", hint: true},
		{name: "1E client without its CDP", args: []string{"issue", "--template", "1e-client", "--cn", "W701.ACME.LOCAL", "--no-cdp"}, code: 2,
			stderr: `1E 23.11: Certificate requirements — Client authentication certificates: "Revocation information is included: ... References at least one CRL Distribution point that uses HTTP."`, hint: true},
		{name: "Defender bundle without its key", args: []string{"issue", "--template", "defender-sensor", "--cn", "s1.contoso.com", "--subject", "C=US,O=Contoso,OU=OT", "--format", "crt"}, code: 2,
			stderr: `"Defender for IoT requires that each CA-signed certificate contains a .key file and a .crt file."`, hint: true},
		{name: "modern pfx for macOS", args: []string{"issue", "--template", "1e-client-macos", "--cn", "MAC01.local", "--pfx", "modern"}, code: 2,
			stderr: "sudo security import", hint: true},
		{name: "Defender single-label CN", args: []string{"issue", "--template", "defender-sensor", "--cn", "sensor2", "--subject", "C=US,O=Contoso,OU=OT"}, code: 2,
			stderr: "bare host name", hint: true},
		{name: "negative days", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--days", "-1"}, code: 2, stderr: "--days must be positive"},
		{name: "unknown format", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--format", "crt,p7b"}, code: 2, stderr: `unknown value "p7b"`},
		{name: "bad subject", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--subject", "C=USA"}, code: 2, stderr: "two-letter", hint: true},
		{name: "bad file name", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--name", "x/y"}, code: 2, stderr: "not a usable file name", hint: true},
		{name: "example with cn", args: []string{"issue", "--template", "server", "--example", "--cn", "a"}, code: 2, stderr: "cannot be combined"},
		{name: "unknown flag", args: []string{"issue", "--templat", "server"}, code: 2, stderr: "unknown flag --templat", hint: true},
		{name: "stray argument", args: []string{"issue", "--template", "server", "--cn", "my", "server"}, code: 2, stderr: `unexpected argument "server"`, hint: true},
		{name: "home without a CA", args: []string{"issue", "--home", filepath.Join(tmp, "nohome"), "--template", "server", "--cn", "a.example.com"}, code: 1, stderr: "no CA in", hint: true},
		{name: "init over an existing home", args: []string{"init", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x"}, code: 1, stderr: "already exists and is not empty", hint: true},
		{name: "init with https", args: []string{"init", "--home", filepath.Join(tmp, "new1"), "--root-cn", "R", "--issuing-cn", "I", "--base-url", "https://x"}, code: 2, stderr: "must use http://", hint: true},
		{name: "init without names", args: []string{"init", "--home", filepath.Join(tmp, "new2"), "--base-url", "http://x"}, code: 2, stderr: "are required"},
		{name: "init with a bad key", args: []string{"init", "--home", filepath.Join(tmp, "new3"), "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x", "--key", "rsa:1024"}, code: 2, stderr: "RSA size must be 2048, 3072 or 4096"},
		// zlint's findings in words, with the lint's name after them.
		{name: "underscore in the CN", args: []string{"issue", "--template", "server", "--cn", "MAC_03.local"}, code: 1,
			stderr: "certmint: error: the certificate was not released: MAC_03.local: DNS names may not contain an underscore; use MAC-03.local (e_dnsname_underscore_in_sld", hint: true},
		{name: "UK as a country code", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--subject", "C=UK,O=Contoso"}, code: 1,
			stderr: "C=UK: the country must be a two-letter ISO 3166 code; use C=GB (e_subject_country_not_iso)", hint: true},
		{name: "template exempting a validity lint", args: []string{"issue", "--template", forbidden, "--cn", "a.example.com"}, code: 1,
			stderr: fmt.Sprintf(`forbidden.toml:%d: lint.exempt.name: "e_validity_time_not_positive" may never be exempted`, forbiddenLine)},
		{name: "template exempting a misspelt lint", args: []string{"issue", "--template", misspelt, "--cn", "a.example.com"}, code: 1,
			stderr: fmt.Sprintf(`misspelt.toml:%d: lint.exempt.name: zlint has no lint "e_dnsname_underscore_in_sId" (did you mean "e_dnsname_underscore_in_sld"?)`, misspeltLine)},
		{name: "templates show without a name", args: []string{"templates", "show"}, code: 2, stderr: "takes one template name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := newHome(t)
			out := t.TempDir()
			t.Setenv("CERTMINT_HOME", home)
			t.Setenv("CERTMINT_CA_PASSWORD", caPW)
			t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.setup != nil {
				tc.setup(t, out)
			}
			args := append([]string{}, tc.args...)
			if args[0] == "issue" && !contains(args, "--out") {
				args = append(args, "--out", out)
			}
			before := snapshot(t, home, out)
			code, stdout, stderr := runCLI(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if !strings.HasPrefix(stderr, "certmint: error: ") {
				t.Errorf("stderr does not start with \"certmint: error: \":\n%s", stderr)
			}
			if tc.hint && !strings.Contains(stderr, "\ncertmint: hint: ") {
				t.Errorf("no hint line:\n%s", stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
				t.Errorf("stack trace in stderr:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty on error:\n%s", stdout)
			}
			if after := snapshot(t, home, out); after != before {
				t.Errorf("the refused command changed files or the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
