package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/jsonout"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// noPasswords unsets every password variable for the rest of the test: a
// dry run must need none (and the test's stdin is no terminal to ask on).
func noPasswords(t *testing.T) {
	t.Helper()
	for _, v := range []string{"CERTMINT_CA_PASSWORD", "CERTMINT_PASSWORD"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
}

// previewDoc is the --dry-run --json document of issue, sign and renew, as
// a script reads it.
type previewDoc struct {
	SchemaVersion int      `json:"schema_version"`
	DryRun        bool     `json:"dry_run"`
	Command       string   `json:"command"`
	Template      string   `json:"template"`
	Subject       string   `json:"subject"`
	SANs          []string `json:"sans"`
	Key           string   `json:"key"`
	KeySource     string   `json:"key_source"`
	KeyUsage      []string `json:"key_usage"`
	ExtKeyUsage   []string `json:"ext_key_usage"`
	CDP           []string `json:"crl_distribution_points"`
	CAIssuers     []string `json:"ca_issuers"`
	OCSP          []string `json:"ocsp_servers"`
	Issuer        string   `json:"issuer"`
	NotBefore     string   `json:"not_before"`
	NotAfter      string   `json:"not_after"`
	ValidityDays  int      `json:"validity_days"`
	SigAlg        string   `json:"signature_algorithm"`
	Lint          struct {
		Verdict  string `json:"verdict"`
		Findings []struct {
			Lint, Status, Message string
		} `json:"findings"`
	} `json:"lint"`
	Warnings   []string `json:"warnings"`
	Out        string   `json:"out"`
	OutCreated bool     `json:"out_created"`
	Files      []struct {
		Path   string `json:"path"`
		Mode   string `json:"mode"`
		Secret bool   `json:"secret"`
		State  string `json:"state"`
	} `json:"files"`
	Passwords struct {
		CA     string `json:"ca"`
		Bundle string `json:"bundle"`
	} `json:"passwords"`
	Renewal *struct {
		Serial      string `json:"serial"`
		State       string `json:"state"`
		RevokeOld   bool   `json:"revoke_old"`
		WouldRevoke bool   `json:"would_revoke"`
	} `json:"renewal"`
}

// everyKey fails unless the JSON object has each key, lists as [] and not
// null (DESIGN: every key always present, empty lists as []).
func everyKey(t *testing.T, doc string, keys ...string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			t.Errorf("key %q missing in %s", k, doc)
		} else if v == nil && k != "renewal" {
			t.Errorf("key %q is null", k)
		}
	}
}

// TestCLIDryRun is issue 12 item 4: issue, sign, renew and batch take
// --dry-run and print the subject, SANs, key, KU/EKU, CDP/AIA, validity,
// the lint verdict and the files (with modes) they would write, exit as the
// real run would, and change nothing: no database row, no audit event, no
// file, no folder (--out included), with no CA or bundle password set.
func TestCLIDryRun(t *testing.T) {
	s := seedHome(t)
	dir := t.TempDir()
	csr := csrFile(t, dir, "api.csr", mustECKey(t), "api.example.com", "api.example.com")
	rows := writeFile(t, dir, "rows.csv", "cn,san\na.example.com,\nb.example.com,10.0.0.7\nc.example.com,IP:999.1.1.1\n", 0o644)
	out := filepath.Join(dir, "new", "out") // neither folder exists
	noPasswords(t)
	home := []string{"--home", s.home}
	cdp, aia := "http://pki.cli.test/cli-issuing-ca.crl", "http://pki.cli.test/cli-issuing-ca.crt"
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // in order
		stderr []string
		json   func(t *testing.T, d previewDoc)
	}{
		{name: "issue --example", args: []string{"issue", "--template", "defender-sensor", "--example", "--dry-run", "--out", out},
			stdout: []string{
				"Dry run: nothing was signed, recorded or written.",
				"Would issue a defender-sensor certificate:",
				"  subject        CN=Sensor.contoso.com,OU=Contoso Labs,O=Contoso Inc.,C=US",
				"  SANs           DNS:Sensor.contoso.com",
				"  key            a new rsa:2048 key",
				"  key usage      digitalSignature, keyEncipherment",
				"  ext key usage  serverAuth",
				"  CRL (CDP)      " + cdp,
				"  CA issuers     " + aia,
				"  issuer         CN=CLI Issuing CA",
				"  not after      ", "(730 days)",
				"  serial         assigned when it is signed",
				"stand-in, made with a throwaway rsa:2048 key (the CA key stays locked)",
				"  lint           passes: zlint finds nothing to report",
				"Files it would write, in " + out + " (a new folder, 0700):",
				filepath.Join(out, "Sensor.contoso.com.crt") + "        0644",
				filepath.Join(out, "Sensor.contoso.com.key") + "        0600 secret",
				filepath.Join(out, "Sensor.contoso.com-chain.pem") + "  0644",
				"The real run would also:",
				`unlock the issuing CA's key with the CA password (asked on the terminal), sign, and record the certificate and an "issue" event`,
			}},
		{name: "issue --json, a .pfx and IP SAN", args: []string{"issue", "--template", "server", "--cn", "www.example.com", "--san", "10.1.2.3", "--dry-run", "--json", "--out", out},
			json: func(t *testing.T, d previewDoc) {
				if d.SchemaVersion != jsonout.SchemaVersion || !d.DryRun || d.Command != "issue" || d.Template != "server" {
					t.Errorf("header %+v", d)
				}
				if !reflect.DeepEqual(d.SANs, []string{"DNS:www.example.com", "IP:10.1.2.3"}) || d.Subject != "CN=www.example.com" {
					t.Errorf("names %q %v", d.Subject, d.SANs)
				}
				if !reflect.DeepEqual(d.KeyUsage, []string{"digitalSignature", "keyEncipherment"}) || !reflect.DeepEqual(d.ExtKeyUsage, []string{"serverAuth"}) {
					t.Errorf("usages %v %v", d.KeyUsage, d.ExtKeyUsage)
				}
				if !reflect.DeepEqual(d.CDP, []string{cdp}) || !reflect.DeepEqual(d.CAIssuers, []string{aia}) || d.OCSP == nil {
					t.Errorf("URLs %v %v %v", d.CDP, d.CAIssuers, d.OCSP)
				}
				if d.Lint.Verdict != "pass" || d.Lint.Findings == nil || d.Warnings == nil || d.Key != "rsa:2048" || d.KeySource != "new" {
					t.Errorf("lint %+v, warnings %v, key %s %s", d.Lint, d.Warnings, d.Key, d.KeySource)
				}
				nb, _ := time.Parse(time.RFC3339, d.NotBefore)
				na, _ := time.Parse(time.RFC3339, d.NotAfter)
				if d.ValidityDays != 397 || na.Sub(nb) < 397*24*time.Hour || nb.After(time.Now()) {
					t.Errorf("validity %s to %s, %d days", d.NotBefore, d.NotAfter, d.ValidityDays)
				}
				var files []string
				for _, f := range d.Files {
					files = append(files, fmt.Sprintf("%s %s %v %s", filepath.Base(f.Path), f.Mode, f.Secret, f.State))
				}
				want := []string{"www.example.com.crt 0644 false new", "www.example.com.key 0600 true new",
					"www.example.com.pfx 0600 true new", "www.example.com-chain.pem 0644 false new"}
				if !reflect.DeepEqual(files, want) || d.Out != out || !d.OutCreated {
					t.Errorf("files %v in %s (created %v), want %v", files, d.Out, d.OutCreated, want)
				}
				// The .pfx needs a password the real run asks for; the preview does not.
				if d.Passwords.CA != "prompt" || d.Passwords.Bundle != "prompt" {
					t.Errorf("passwords %+v", d.Passwords)
				}
			}},
		{name: "issue --random-password", args: []string{"issue", "--template", "client", "--cn", "W1.ACME.LOCAL", "--random-password", "--dry-run", "--out", out},
			stdout: []string{"ext key usage  clientAuth", filepath.Join(out, "W1.ACME.LOCAL.password"), " 0600 secret",
				"protect the .pfx or key with the bundle password (generated, into " + filepath.Join(out, "W1.ACME.LOCAL.password") + ")"}},
		{name: "issue refused by zlint", args: []string{"issue", "--template", "server", "--cn", "MAC_03.local", "--dry-run", "--out", out}, code: 1,
			stdout: []string{"  lint           refused: the real run would not release this certificate",
				"    error: MAC_03.local: DNS names may not contain an underscore; use MAC-03.local (e_dnsname_underscore_in_sld, e_rfc_dnsname_underscore_in_sld"},
			stderr: []string{"certmint: error: the certificate would not be released: MAC_03.local: DNS names may not contain an underscore",
				"certmint: hint: change the request or the template"}},
		{name: "issue over an existing file", args: []string{"issue", "--template", "server", "--cn", "valid.example.com", "--dry-run", "--out", filepath.Dir(s.cert), "--format", "crt,chain"}, code: 1,
			stderr: []string{"valid.example.com.crt already exists", "add --force"}},
		{name: "issue a unique CN twice", args: []string{"issue", "--template", "defender-sensor", "--cn", "sensor1.example.com", "--subject", "C=US,O=Contoso,OU=OT", "--dry-run", "--out", out}, code: 2,
			stderr: []string{"a valid defender-sensor certificate for \"sensor1.example.com\" already exists"}},
		{name: "sign", args: []string{"sign", "--template", "server", "--csr", csr, "--dry-run", "--out", out, "--format", "crt,chain,cer"},
			stdout: []string{"Would sign a server certificate:", "  subject        CN=api.example.com", "  key            the request's ecdsa:P-256 key",
				"  key usage      digitalSignature", "  CRL (CDP)      " + cdp,
				filepath.Join(out, "api.example.com.crt"), filepath.Join(out, "cli-issuing-ca.cer"), filepath.Join(out, "cli-root-ca.cer"),
				`record the certificate and a "sign" event`}},
		{name: "sign --json", args: []string{"sign", "--template", "server", "--csr", csr, "--dry-run", "--json", "--out", out},
			json: func(t *testing.T, d previewDoc) {
				if d.Command != "sign" || d.KeySource != "csr" || d.Key != "ecdsa:P-256" || !reflect.DeepEqual(d.KeyUsage, []string{"digitalSignature"}) {
					t.Errorf("%+v", d)
				}
			}},
		{name: "renew --revoke-old", args: []string{"renew", s.valid, "--revoke-old", "--dry-run", "--out", out},
			stdout: []string{"Would renew certificate " + s.valid + " (valid.example.com) as a new server certificate:",
				"  subject        CN=valid.example.com", "  SANs           DNS:valid.example.com",
				filepath.Join(out, "valid.example.com.crt") + "        0644",
				`record the certificate and "issue" and "renew" events`,
				"revoke the old certificate " + s.valid + " as superseded and republish the CRLs"}},
		{name: "renew --json", args: []string{"renew", "valid.example.com", "--dry-run", "--json", "--out", out},
			json: func(t *testing.T, d previewDoc) {
				if d.Command != "renew" || d.Renewal == nil || d.Renewal.Serial != s.valid || d.Renewal.State != "valid" || d.Renewal.RevokeOld || d.Renewal.WouldRevoke {
					t.Errorf("%+v %+v", d, d.Renewal)
				}
			}},
		{name: "renew without --revoke-old", args: []string{"renew", s.valid, "--dry-run", "--out", out},
			stdout: []string{"leave the old certificate " + s.valid + " valid until"}},
		{name: "renew a revoked certificate", args: []string{"renew", s.revoked, "--dry-run", "--out", out}, code: 1,
			stderr: []string{"was revoked on", "renew it with --force"}},
		{name: "batch", args: []string{"batch", "--template", "server", "--input", rows, "--dry-run", "--out", out, "--random-passwords"}, code: 1,
			stdout: []string{"Batch of server certificates into " + out + " (a new folder, 0700):",
				`line 2 (a.example.com): would be issued`, "    subject        CN=a.example.com",
				"  Files it would write, in " + filepath.Join(out, "a.example.com") + " (a new folder, 0700):",
				filepath.Join(out, "a.example.com", "a.example.com.pfx") + "        0600 secret",
				`line 3 (b.example.com): would be issued`, "    SANs           DNS:b.example.com, IP:10.0.0.7",
				`line 4 (c.example.com): would fail`,
				"Totals: 3 rows: 2 to issue, 0 to issue again (torn), 0 to skip (complete), 1 would fail.",
				"generate the bundle password of each row without a password column, into " + filepath.Join(out, "passwords.csv")},
			stderr: []string{`certmint: error: line 4 (c.example.com): san: invalid SAN "IP:999.1.1.1"`,
				"certmint: error: dry run: 1 of 3 rows would fail; fix them before the real run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, s.home, dir)
			code, stdout, stderr := runCLI(t, append(tc.args, home...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if after := snapshot(t, s.home, dir); after != before {
				t.Errorf("the dry run changed something:\n%s", diffLines(before, after))
			}
			if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
				t.Errorf("the dry run made the --out folder")
			}
			rest := stdout
			for _, want := range tc.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Errorf("stdout lacks %q (or not in order):\n%s", want, stdout)
					break
				}
				rest = rest[i+len(want):]
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "password") && !strings.Contains(strings.Join(tc.stderr, ""), "password") {
				t.Errorf("a password was asked for:\n%s", stderr)
			}
			if tc.json != nil {
				everyKey(t, stdout, "schema_version", "dry_run", "command", "template", "subject", "sans", "key", "key_source", "key_usage",
					"ext_key_usage", "crl_distribution_points", "ca_issuers", "ocsp_servers", "issuer", "not_before", "not_after",
					"validity_days", "signature_algorithm", "stand_in_key", "lint", "warnings", "out", "out_created", "files", "passwords")
				var d previewDoc
				if err := json.Unmarshal([]byte(stdout), &d); err != nil {
					t.Fatalf("%v\n%s", err, stdout)
				}
				tc.json(t, d)
			}
		})
	}
}

// errorLines are the "certmint: error: line ..." lines of a batch run.
func errorLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "certmint: error: line ") {
			out = append(out, l)
		}
	}
	return out
}

// TestCLIBatchDryRunAsTheRealRun: a batch preview judges each row as the
// real batch then does (issue, skip a complete bundle, issue a torn one
// again, fail a bad row with the same message), exits as it does, and
// changes nothing, not even the release marks or passwords.csv.
func TestCLIBatchDryRunAsTheRealRun(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	rows := writeFile(t, dir, "rows.csv", "cn,san\na.example.com,\nb.example.com,\n", 0o644)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	if code, _, stderr := runCLI(t, "batch", "--home", home, "--template", "client", "--input", rows, "--out", out, "--random-passwords"); code != 0 {
		t.Fatal(stderr)
	}
	// b's bundle loses its .pfx (torn); c is new; d is bad.
	if err := os.Remove(filepath.Join(out, "b.example.com", "b.example.com.pfx")); err != nil {
		t.Fatal(err)
	}
	rows = writeFile(t, dir, "rows.csv", "cn,san\na.example.com,\nb.example.com,\nc.example.com,\nd.example.com,DNS:bad_name..example.com\n", 0o644)
	noPasswords(t)
	before := snapshot(t, home, dir)
	code, stdout, stderr := runCLI(t, "batch", "--home", home, "--template", "client", "--input", rows, "--out", out, "--random-passwords", "--dry-run", "--json")
	if after := snapshot(t, home, dir); after != before {
		t.Errorf("the dry run changed something:\n%s", diffLines(before, after))
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 (a row would fail):\n%s", code, stderr)
	}
	everyKey(t, stdout, "schema_version", "dry_run", "command", "template", "out", "out_created", "passwords_file", "passwords", "warnings", "rows", "totals")
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		DryRun        bool   `json:"dry_run"`
		PasswordsFile string `json:"passwords_file"`
		Rows          []struct {
			Line        int
			CN          string
			Action      string
			Error       string
			Certificate *previewDoc
		}
		Totals struct{ Rows, Issue, Reissue, Skip, Fail int }
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var got []string
	for _, r := range doc.Rows {
		got = append(got, fmt.Sprintf("%d %s %s %v", r.Line, r.CN, r.Action, r.Certificate != nil))
	}
	want := []string{"2 a.example.com skip false", "3 b.example.com reissue true", "4 c.example.com issue true", "5 d.example.com fail false"}
	if !reflect.DeepEqual(got, want) || doc.Totals != (struct{ Rows, Issue, Reissue, Skip, Fail int }{4, 1, 1, 1, 1}) {
		t.Errorf("rows %v, totals %+v; want %v", got, doc.Totals, want)
	}
	if doc.SchemaVersion != jsonout.SchemaVersion || !doc.DryRun || doc.PasswordsFile != filepath.Join(out, "passwords.csv") {
		t.Errorf("document %+v", doc)
	}
	var dryErrors []string
	for _, r := range doc.Rows {
		if r.Error != "" {
			dryErrors = append(dryErrors, fmt.Sprintf("certmint: error: line %d (%s): %s", r.Line, r.CN, r.Error))
		}
	}
	// The real run on the same rows.
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	code, stdout, stderr = runCLI(t, "batch", "--home", home, "--template", "client", "--input", rows, "--out", out, "--random-passwords")
	if code != 1 {
		t.Errorf("the real run exited %d", code)
	}
	if real := errorLines(stderr); !reflect.DeepEqual(dryErrors, real) || len(real) != 1 {
		t.Errorf("bad rows: dry run %q, real run %q", dryErrors, real)
	}
	if !strings.Contains(stdout, "1 issued, 1 reissued (torn), 1 skipped (already complete), 1 failed") {
		t.Errorf("the real run did not do what the dry run said:\n%s", stdout)
	}
}

// TestCLIDryRunMatchesIssue: for every built-in template, `issue --example
// --dry-run --json` shows the subject, SANs, key, KU, EKU, CDP, AIA, OCSP,
// issuer, signature algorithm, validity and files (with modes) of the
// certificate `issue --example` then issues, and --example alone issues
// and records it (the README's `--example --dry-run` is the preview).
func TestCLIDryRunMatchesIssue(t *testing.T) {
	for _, name := range templates.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			home := newHome(t)
			out := t.TempDir()
			noPasswords(t)
			code, stdout, stderr := runCLI(t, "issue", "--home", home, "--template", name, "--example", "--dry-run", "--json", "--out", out)
			if code != 0 {
				t.Fatalf("dry run: exit %d: %s", code, stderr)
			}
			var d previewDoc
			if err := json.Unmarshal([]byte(stdout), &d); err != nil {
				t.Fatal(err)
			}
			t.Setenv("CERTMINT_CA_PASSWORD", caPW)
			t.Setenv("CERTMINT_PASSWORD", "bundle-password")
			code, stdout, stderr = runCLI(t, "issue", "--home", home, "--template", name, "--example", "--json", "--out", out)
			if code != 0 {
				t.Fatalf("issue: exit %d: %s", code, stderr)
			}
			var res issuedJSON
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatal(err)
			}
			s, err := ca.Open(home, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			serial, _ := ca.ParseSerial(res.Serial)
			rec, err := s.Lookup(context.Background(), serial)
			if err != nil {
				t.Fatalf("--example alone recorded nothing: %v", err)
			}
			c, err := rec.Certificate()
			if err != nil {
				t.Fatal(err)
			}
			var ku, eku []string
			for bit := x509.KeyUsageDigitalSignature; bit <= x509.KeyUsageDecipherOnly; bit <<= 1 {
				if c.KeyUsage&bit != 0 {
					ku = append(ku, string(templates.KeyUsageName(bit)))
				}
			}
			for _, u := range c.ExtKeyUsage {
				eku = append(eku, string(templates.ExtKeyUsageName(u)))
			}
			nb, _ := time.Parse(time.RFC3339, d.NotBefore)
			na, _ := time.Parse(time.RFC3339, d.NotAfter)
			for _, m := range []struct {
				what      string
				got, want any
			}{
				{"subject", d.Subject, c.Subject.String()},
				{"SANs", d.SANs, orEmpty(san.Strings(san.FromCertificate(c)))},
				{"key usage", d.KeyUsage, orEmpty(ku)},
				{"ext key usage", d.ExtKeyUsage, orEmpty(eku)},
				{"CDP", d.CDP, orEmpty(c.CRLDistributionPoints)},
				{"AIA", d.CAIssuers, orEmpty(c.IssuingCertificateURL)},
				{"OCSP", d.OCSP, orEmpty(c.OCSPServer)},
				{"issuer", d.Issuer, c.Issuer.String()},
				{"signature", d.SigAlg, c.SignatureAlgorithm.String()},
				{"validity", na.Sub(nb), c.NotAfter.Sub(c.NotBefore)},
				{"key", d.Key, keySpec(c)},
			} {
				if !reflect.DeepEqual(m.got, m.want) {
					t.Errorf("%s: dry run %v, issued %v", m.what, m.got, m.want)
				}
			}
			var files []string
			for _, f := range d.Files {
				files = append(files, f.Path)
				st, err := os.Stat(f.Path)
				if err != nil {
					t.Errorf("listed but not written: %s", f.Path)
				} else if got := fmt.Sprintf("%04o", st.Mode().Perm()); got != f.Mode {
					t.Errorf("%s: written %s, dry run said %s", f.Path, got, f.Mode)
				}
			}
			if !reflect.DeepEqual(files, res.Files) {
				t.Errorf("files: dry run %v, issued %v", files, res.Files)
			}
		})
	}
}

func keySpec(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa:%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ecdsa:" + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", c.PublicKey)
}
