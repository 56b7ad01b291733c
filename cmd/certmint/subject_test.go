package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readPEM(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	return block.Bytes
}

func certSubject(t *testing.T, path string) string {
	t.Helper()
	c, err := x509.ParseCertificate(readPEM(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return c.Subject.String()
}

// TestCLISubjectDefaults: init's --org, --ou, --country (and --state,
// --locality) become the home's subject defaults, and every command that
// builds a request takes the fields its template requires from them.
func TestCLISubjectDefaults(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
	home := filepath.Join(t.TempDir(), "pki")
	code, stdout, stderr := runCLI(t, "init", "--home", home, "--root-cn", "Fabrikam Root CA", "--issuing-cn", "Fabrikam Issuing CA",
		"--base-url", "http://pki.fabrikam.test", "--key", "ecdsa:P-256", "--issuing-key", "rsa:2048",
		"--org", "Fabrikam GmbH", "--ou", "OT", "--country", "de", "--state", "Bayern", "--locality", "München")
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout+stderr, "subject     C=DE, ST=Bayern, L=München, O=Fabrikam GmbH, OU=OT") {
		t.Errorf("init does not show the subject defaults:\n%s%s", stdout, stderr)
	}
	cfg, err := os.ReadFile(filepath.Join(home, "certmint.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[subject]", `c = "DE"`, `st = "Bayern"`, `l = "München"`, `o = "Fabrikam GmbH"`, `ou = "OT"`} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("certmint.toml lacks %s:\n%s", want, cfg)
		}
	}
	if got := certSubject(t, filepath.Join(home, "fabrikam-issuing-ca", "ca.crt")); got != "CN=Fabrikam Issuing CA,OU=OT,O=Fabrikam GmbH,L=München,ST=Bayern,C=DE" {
		t.Errorf("issuing CA subject %s", got)
	}

	out := t.TempDir()
	tests := []struct {
		name string
		args []string
		file string // the certificate or request written
		want string // its subject: only the fields the template requires
	}{
		{"issue without --subject", []string{"issue", "-t", "defender-sensor", "--cn", "sensor1.contoso.com"},
			"sensor1.contoso.com.crt", "CN=sensor1.contoso.com,OU=OT,O=Fabrikam GmbH,C=DE"},
		{"issue: --subject wins", []string{"issue", "-t", "defender-sensor", "--cn", "sensor2.contoso.com", "--subject", "OU=Lab"},
			"sensor2.contoso.com.crt", "CN=sensor2.contoso.com,OU=Lab,O=Fabrikam GmbH,C=DE"},
		{"1e-code-signing takes only O", []string{"issue", "-t", "1e-code-signing", "--cn", "Fabrikam Signing"},
			"Fabrikam Signing.crt", "CN=Fabrikam Signing,O=Fabrikam GmbH"},
		{"csr in the home", []string{"csr", "-t", "defender-sensor", "--cn", "sensor3.contoso.com"},
			"sensor3.contoso.com.csr", "CN=sensor3.contoso.com,OU=OT,O=Fabrikam GmbH,C=DE"},
		{"safeq with a template that requires O", []string{"safeq", "--template", "1e-code-signing", "--subject", "Instructions", "--friendly-name", "Safeq Signing"},
			"Safeq Signing.crt", "CN=Instructions,O=Fabrikam GmbH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), "--home", home, "--out", out)
			if code, _, stderr := runCLI(t, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			path := filepath.Join(out, tc.file)
			var got string
			if strings.HasSuffix(tc.file, ".csr") {
				r, err := x509.ParseCertificateRequest(readPEM(t, path))
				if err != nil {
					t.Fatal(err)
				}
				got = r.Subject.String()
			} else {
				got = certSubject(t, path)
			}
			if got != tc.want {
				t.Errorf("subject %s, want %s", got, tc.want)
			}
		})
	}

	// batch: the CSV's columns win, the home fills the rest, per row.
	csv := writeFile(t, t.TempDir(), "rows.csv", "cn,o,c\nrow1.contoso.com,Contoso,\nrow2.contoso.com,,US\n", 0o644)
	bout := t.TempDir()
	if code, _, stderr := runCLI(t, "batch", "--home", home, "-t", "defender-sensor", "--input", csv, "--out", bout, "--jobs", "2"); code != 0 {
		t.Fatalf("batch: exit %d: %s", code, stderr)
	}
	for cn, want := range map[string]string{
		"row1.contoso.com": "CN=row1.contoso.com,OU=OT,O=Contoso,C=DE",
		"row2.contoso.com": "CN=row2.contoso.com,OU=OT,O=Fabrikam GmbH,C=US",
	} {
		if got := certSubject(t, filepath.Join(bout, cn, cn+".crt")); got != want {
			t.Errorf("batch %s: subject %s, want %s", cn, got, want)
		}
	}
}

// TestCLISubjectMissing: in a home without defaults, a request that lacks
// a required field is refused (exit 2) with a hint of placeholders and
// where to set defaults, never an example company, and nothing changes.
func TestCLISubjectMissing(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
	home := newHome(t)
	out := t.TempDir()
	csv := writeFile(t, t.TempDir(), "rows.csv", "cn,ou\nrow1.contoso.com,OT\n", 0o644)
	noHome := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		name   string
		args   []string
		code   int
		want   []string
		notOut bool // the command writes nothing into out
	}{
		{"issue", []string{"issue", "--home", home, "-t", "defender-sensor", "--cn", "sensor1.contoso.com", "--out", out}, 2, []string{
			`certmint: error: template "defender-sensor": requires the subject fields CN, C, O and OU; missing C, O and OU`,
			`certmint: hint: add --subject "C=<two-letter country code>,O=<your organization>,OU=<your unit>"`,
			`under [subject] in ` + filepath.Join(home, "certmint.toml")}, true},
		{"issue with part of it", []string{"issue", "--home", home, "-t", "defender-sensor", "--cn", "sensor1.contoso.com", "--subject", "C=DE", "--out", out}, 2, []string{
			"missing O and OU", `add --subject "O=<your organization>,OU=<your unit>"`, `o = "<your organization>" and ou = "<your unit>"`}, true},
		{"csr in the home", []string{"csr", "--home", home, "-t", "1e-code-signing", "--cn", "Signing", "--out", out}, 2, []string{
			"missing O", `add --subject "O=<your organization>"`, "[subject]"}, true},
		{"csr outside a home", []string{"csr", "--home", noHome, "-t", "1e-code-signing", "--cn", "Signing", "--out", out}, 2, []string{
			"missing O", `certmint: hint: add --subject "O=<your organization>"` + "\n"}, true},
		{"batch row", []string{"batch", "--home", home, "-t", "defender-sensor", "--input", csv, "--out", out}, 1, []string{
			"line 2 (row1.contoso.com): template \"defender-sensor\": requires the subject fields CN, C, O and OU; missing C and O (fill the row's c and o columns, or set the home's defaults once"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, home, out)
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "Contoso Inc") || strings.Contains(stderr, "Contoso Labs") {
				t.Errorf("the hint proposes an example company:\n%s", stderr)
			}
			if after := snapshot(t, home, out); tc.notOut && after != before {
				t.Errorf("a refused command changed something:\n%s\n---\n%s", before, after)
			}
		})
	}
}
