package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/testkit"
)

// fixtures made by openssl (inspect/testdata/make-fixtures.sh).
const (
	inspectFixtures = "../../inspect/testdata"
	fixturePW       = "fixture-pw"
)

func fixturePath(name string) string { return filepath.Join(inspectFixtures, name) }

func TestCLIInspect(t *testing.T) {
	pwFile := writeFile(t, t.TempDir(), "pw", fixturePW+"\n", 0o600)
	wrongFile := writeFile(t, t.TempDir(), "wrong", "nope\n", 0o600)
	huge := testkit.SparseFile(t, t.TempDir(), "huge.pfx", 100<<20)

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout string // must appear in stdout
		stderr string // must appear in stderr
		json   bool   // stdout must be one JSON object
	}{
		{name: "certificate", args: []string{"inspect", fixturePath("server.crt")}, stdout: "Subject alt. names:   DNS: sensor.fixture.test"},
		{name: "json after the file", args: []string{"inspect", fixturePath("server.der"), "--json"}, stdout: `"kind": "certificate"`, json: true},
		{name: "json before the file", args: []string{"inspect", "--json", fixturePath("issuing.crl")}, stdout: `"number": "42"`, json: true},
		{name: "chain tree", args: []string{"inspect", fixturePath("chain-unordered.pem")}, stdout: "  └── [3] CN=Fixture Issuing CA"},
		{name: "pfx with the environment password", args: []string{"inspect", fixturePath("legacy-rc2.pfx")}, env: map[string]string{"CERTMINT_PASSWORD": fixturePW},
			stdout: "OpenSSL 3:            needs -legacy"},
		{name: "pfx with a password file after the file", args: []string{"inspect", fixturePath("modern.pfx"), "--password-file", pwFile, "--json"},
			stdout: `"friendly_name": "Fixture Sensor"`, json: true},
		{name: "pfx with --password-file=", args: []string{"inspect", fixturePath("modern.pfx"), "--password-file=" + pwFile},
			stdout: "macOS Keychain:       no: needs 3DES"},
		{name: "pfx without a password needs none", args: []string{"inspect", fixturePath("no-password.pfx")}, stdout: "PKCS#12 (DER): 3 certificates, 1 private key"},
		{name: "encrypted key", args: []string{"inspect", "--password-file", pwFile, fixturePath("server-encrypted.key")}, stdout: "Encryption:           PBES2"},
		{name: "wrong password", args: []string{"inspect", fixturePath("modern.pfx"), "--password-file", wrongFile}, code: 1,
			stderr: "certmint: error: " + fixturePath("modern.pfx") + ": the password does not open the PKCS#12 file\ncertmint: hint: check CERTMINT_PASSWORD"},
		{name: "wrong password for a key", args: []string{"inspect", fixturePath("server-encrypted.key")}, env: map[string]string{"CERTMINT_PASSWORD": "nope"}, code: 1,
			stderr: "the password does not open the private key\ncertmint: hint:"},
		{name: "no password and no terminal", args: []string{"inspect", fixturePath("modern.pfx")}, code: 1, stderr: "certmint: hint: set CERTMINT_PASSWORD"},
		{name: "oversized file", args: []string{"inspect", huge}, code: 1, stderr: "huge.pfx is 100 MiB"},
		{name: "missing file", args: []string{"inspect", filepath.Join(t.TempDir(), "none.crt")}, code: 2, stderr: "no such file"},
		{name: "not a certificate", args: []string{"inspect", fixturePath("make-fixtures.sh")}, code: 1, stderr: "not a certificate, certificate request, CRL, private key or PKCS#12 file"},
		{name: "no file", args: []string{"inspect"}, code: 2, stderr: "inspect takes one file"},
		{name: "two files", args: []string{"inspect", fixturePath("server.crt"), fixturePath("root.crt")}, code: 2, stderr: "inspect takes one file, got 2"},
		{name: "unknown flag after the file", args: []string{"inspect", fixturePath("server.crt"), "--jsn"}, code: 2, stderr: "unknown flag --jsn\ncertmint: hint: did you mean --json?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CERTMINT_PASSWORD", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if tc.code != 0 && stdout != "" {
				t.Errorf("stdout is not empty on error:\n%s", stdout)
			}
			if tc.json {
				var v map[string]any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("stdout is not one JSON object: %v\n%s", err, stdout)
				}
				if stderr != "" {
					t.Errorf("stderr with --json: %s", stderr)
				}
			}
		})
	}
}

// A .pfx certmint issues is read back by inspect, with its friendlyName
// and the compatibility the template asked for.
func TestCLIInspectIssuedBundle(t *testing.T) {
	home := newHome(t)
	out := t.TempDir()
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
	for _, tc := range []struct {
		pfx, name  string
		macOS      bool
		iterations int // every count: the MAC's and both encryptions'
	}{{"modern", "W1.ACME.LOCAL", false, bundle.ModernPFXIterations}, {"legacy", "W2.ACME.LOCAL", true, bundle.LegacyPFXIterations}} {
		if code, _, stderr := runCLI(t, "issue", "--home", home, "--template", "client", "--cn", tc.name, "--out", out,
			"--format", "pfx", "--pfx", tc.pfx, "--friendly-name", "Client "+tc.pfx); code != 0 {
			t.Fatalf("issue: %s", stderr)
		}
		code, stdout, stderr := runCLI(t, "inspect", filepath.Join(out, tc.name+".pfx"), "--json")
		if code != 0 {
			t.Fatalf("inspect: %s", stderr)
		}
		var r struct {
			Certificates []struct{ Subject string }
			PKCS12       struct {
				Leaf *int
				MAC  struct{ Iterations int }
				Bags []struct {
					FriendlyName string `json:"friendly_name"`
					Encryption   *struct{ Iterations int }
				}
				Safes []struct {
					Encryption *struct{ Iterations int }
				}
				Compatibility struct {
					MacOS struct{ OK bool } `json:"macos_keychain"`
				}
			}
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Certificates) != 3 || r.PKCS12.Leaf == nil || *r.PKCS12.Leaf != 1 {
			t.Errorf("%s: %d certificates, leaf %v", tc.pfx, len(r.Certificates), r.PKCS12.Leaf)
		}
		if r.PKCS12.Compatibility.MacOS.OK != tc.macOS {
			t.Errorf("%s: macOS compatible %v, want %v", tc.pfx, !tc.macOS, tc.macOS)
		}
		if r.PKCS12.Bags[0].FriendlyName != "Client "+tc.pfx {
			t.Errorf("%s: friendlyName %q", tc.pfx, r.PKCS12.Bags[0].FriendlyName)
		}
		// inspect shows the MAC and KDF iteration counts.
		counts := []int{r.PKCS12.MAC.Iterations}
		for _, b := range r.PKCS12.Bags {
			if b.Encryption != nil {
				counts = append(counts, b.Encryption.Iterations)
			}
		}
		for _, sf := range r.PKCS12.Safes {
			if sf.Encryption != nil {
				counts = append(counts, sf.Encryption.Iterations)
			}
		}
		if len(counts) != 3 || slices.ContainsFunc(counts, func(n int) bool { return n != tc.iterations }) {
			t.Errorf("%s: iteration counts %v (MAC, key bag, certificate safe), want 3 times %d", tc.pfx, counts, tc.iterations)
		}
		_, text, _ := runCLI(t, "inspect", filepath.Join(out, tc.name+".pfx"))
		want := fmt.Sprintf(", %d iterations", tc.iterations)
		for _, line := range []string{"MAC:", "Certificate bags:", "Key bag:"} {
			if !strings.Contains(text, line) || !strings.Contains(strings.SplitN(text[strings.Index(text, line):], "\n", 2)[0], want) {
				t.Errorf("%s: inspect's %q line does not end with %q:\n%s", tc.pfx, line, want, text)
			}
		}
	}
}
