package ca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

const testPassword = "test-ca-password"

// testCAPassword gives Open the fixture CA's password.
func testCAPassword() (string, error) { return testPassword, nil }

// fixtureHome is a CA made once per test run; tests work on copies.
var fixtureHome string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certmint-ca-test-")
	if err != nil {
		panic(err)
	}
	fixtureHome = filepath.Join(dir, "pki")
	s, err := Init(context.Background(), InitOptions{
		Home: fixtureHome, RootCN: "Test Root CA", IssuingCN: "Test Issuing CA",
		BaseURL: "http://pki.test.example:8080/pki", Org: "Test Org", Country: "US",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-384"}, IssuingKey: keys.Spec{Type: "rsa", Bits: 2048},
		Password: testPassword,
	})
	if err != nil {
		panic(err)
	}
	s.Close()
	matrixDir = filepath.Join(dir, "matrix")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newHome copies the fixture CA into a fresh folder and opens it.
func newHome(t testing.TB) *Store {
	t.Helper()
	if onPostgres(t) { // TestPostgres runs this test again on PostgreSQL
		return newPostgresHome(t)
	}
	home := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir(fixtureHome, home); err != nil {
		t.Fatal(err)
	}
	s, err := Open(home, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ecdsaTemplate parses testkit's client template with ECDSA P-256 keys,
// named name and writing formats: fast to issue.
func ecdsaTemplate(t testing.TB, name string, formats ...string) *templates.Template {
	t.Helper()
	tm, err := templates.Parse(name+".toml", []byte(testkit.ECDSAClientTemplate(name, formats...)))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func mustTemplate(t testing.TB, name string) *templates.Template {
	t.Helper()
	tm, err := templates.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func countCerts(t testing.TB, s *Store) int {
	t.Helper()
	var n int
	if err := rawX(s).Get(&n, `SELECT count(*) FROM certificates`); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInitLayout(t *testing.T) {
	s := newHome(t)
	if st, err := os.Stat(s.Home); err != nil || st.Mode().Perm() != fsutil.ModeHome {
		t.Errorf("home mode = %v, want 0700 (err %v)", st.Mode().Perm(), err)
	}
	for _, a := range s.Authorities() {
		st, err := os.Stat(a.KeyPath())
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", a.KeyPath(), st.Mode().Perm())
		}
		data, _ := os.ReadFile(a.KeyPath())
		if !strings.Contains(string(data), "ENCRYPTED PRIVATE KEY") {
			t.Errorf("%s is not encrypted PKCS#8", a.KeyPath())
		}
		if _, err := keys.ParsePEM(data, "wrong"); !errors.Is(err, keys.ErrWrongPassword) {
			t.Errorf("wrong password on %s: %v", a.KeyPath(), err)
		}
		der, err := os.ReadFile(filepath.Join(s.PublicDir(), a.Slug+".crt"))
		if err != nil || string(der) != string(a.Cert.Raw) {
			t.Errorf("public/%s.crt is not the DER CA certificate (err %v)", a.Slug, err)
		}
		rl, err := crl.ReadFile(filepath.Join(s.PublicDir(), a.Slug+".crl"))
		if err != nil {
			t.Fatalf("first CRL of %s: %v", a.Slug, err)
		}
		if err := rl.CheckSignatureFrom(a.Cert); err != nil {
			t.Errorf("CRL of %s not signed by it: %v", a.Slug, err)
		}
		if rl.Number.Int64() != 1 || len(rl.RevokedCertificateEntries) != 0 || !rl.NextUpdate.After(time.Now()) {
			t.Errorf("first CRL of %s: number %v, %d entries, next update %v", a.Slug, rl.Number, len(rl.RevokedCertificateEntries), rl.NextUpdate)
		}
	}
	root, iss := s.Root.Cert, s.Issuing.Cert
	if !root.IsCA || root.MaxPathLen != 1 || root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign || len(root.SubjectKeyId) == 0 {
		t.Errorf("root: IsCA %v pathlen %d KU %v SKI %x", root.IsCA, root.MaxPathLen, root.KeyUsage, root.SubjectKeyId)
	}
	if !iss.IsCA || iss.MaxPathLen != 0 || !iss.MaxPathLenZero || string(iss.AuthorityKeyId) != string(root.SubjectKeyId) {
		t.Errorf("issuing: IsCA %v pathlen %d/%v AKI %x root SKI %x", iss.IsCA, iss.MaxPathLen, iss.MaxPathLenZero, iss.AuthorityKeyId, root.SubjectKeyId)
	}
	if got, want := iss.CRLDistributionPoints, []string{"http://pki.test.example:8080/pki/test-root-ca.crl"}; strings.Join(got, ",") != want[0] {
		t.Errorf("issuing CDP = %v, want %v", got, want)
	}
	if got := iss.IssuingCertificateURL; len(got) != 1 || got[0] != "http://pki.test.example:8080/pki/test-root-ca.crt" {
		t.Errorf("issuing AIA = %v", got)
	}
	if err := iss.CheckSignatureFrom(root); err != nil {
		t.Error(err)
	}
	// The issuing CA is in the database, so the root's CRL can list it.
	if n := countCerts(t, s); n != 1 {
		t.Errorf("database holds %d certificates after init, want 1 (the issuing CA)", n)
	}
}

func TestInitRefusesExistingHome(t *testing.T) {
	s := newHome(t)
	before := homeSnapshot(t, s)
	_, err := Init(context.Background(), InitOptions{Home: s.Home, RootCN: "A", IssuingCN: "B", BaseURL: "http://x", Password: "p",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}})
	var ex *ExistsError
	if !errors.As(err, &ex) {
		t.Fatalf("Init on an existing home: %v, want ExistsError", err)
	}
	if after := homeSnapshot(t, s); after != before {
		t.Errorf("init changed the existing home:\n%s\n---\n%s", before, after)
	}
}

func TestInitOptionsValidation(t *testing.T) {
	base := InitOptions{RootCN: "R", IssuingCN: "I", BaseURL: "http://pki.example", Password: "p",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}}
	tests := []struct {
		name string
		edit func(*InitOptions)
		want string
	}{
		{"https base URL", func(o *InitOptions) { o.BaseURL = "https://pki.example" }, "must use http://"},
		{"no base URL", func(o *InitOptions) { o.BaseURL = "" }, "is not a URL"},
		{"same names", func(o *InitOptions) { o.IssuingCN = "R" }, "different names"},
		{"same slug", func(o *InitOptions) { o.RootCN, o.IssuingCN = "My CA", "my-ca" }, "same file name"},
		{"no password", func(o *InitOptions) { o.Password = "" }, "password is required"},
		{"bad country", func(o *InitOptions) { o.Country = "USA" }, "--country: country \"USA\" must be a two-letter"},
		{"long organization", func(o *InitOptions) { o.Org = strings.Repeat("x", 65) }, "--org: "},
		{"control character in the state", func(o *InitOptions) { o.State = "Bay\nern" }, "--state: the value contains a control character"},
		{"control character in the locality", func(o *InitOptions) { o.Locality = "M\x7f" }, "--locality: "},
		{"issuing outlives root", func(o *InitOptions) { o.RootDays, o.IssuingDays = 100, 200 }, "must expire before the root"},
		{"root days overflow a Duration", func(o *InitOptions) { o.RootDays, o.IssuingDays = 106752, 100 }, "--root-days 106752 is more than 36500"},
		{"issuing days overflow a Duration", func(o *InitOptions) { o.RootDays, o.IssuingDays = 36500, 106752 }, "must expire before the root"},
		{"punctuation-only name", func(o *InitOptions) { o.RootCN = "!!!" }, "at least one letter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.Home = filepath.Join(t.TempDir(), "pki")
			tc.edit(&o)
			_, err := Init(context.Background(), o)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(errText(err), tc.want) {
				t.Fatalf("err = %v, want UsageError containing %q", errText(err), tc.want)
			}
			if _, err := os.Stat(o.Home); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("home %s exists after a refused init", o.Home)
			}
			if m, _ := filepath.Glob(filepath.Join(filepath.Dir(o.Home), ".certmint-init-*")); len(m) > 0 {
				t.Errorf("temporary folders left: %v", m)
			}
		})
	}
}

func TestIssueEveryBuiltin(t *testing.T) {
	s := newHome(t)
	all, err := templates.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.Root.Cert)
	inter := x509.NewCertPool()
	inter.AddCert(s.Issuing.Cert)
	for _, tm := range all {
		t.Run(tm.Name, func(t *testing.T) {
			out := t.TempDir()
			subj, sans := tm.ExampleRequest()
			res, err := s.Issue(context.Background(), IssueRequest{Template: tm, Subject: subj, SANs: sans, Out: out, Password: "pfx-pw"})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Cert
			var ekus []x509.ExtKeyUsage
			for _, e := range tm.Usage.ExtKeyUsage {
				ekus = append(ekus, e.X509())
			}
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: ekus}); err != nil {
				t.Errorf("verify: %v", err)
			}
			var ku x509.KeyUsage
			for _, k := range tm.Usage.KeyUsage {
				ku |= k.X509()
			}
			if c.KeyUsage != ku {
				t.Errorf("key usage %v, want %v", c.KeyUsage, ku)
			}
			if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() < 64 {
				t.Errorf("serial %x: want positive with at least 64 bits", c.SerialNumber)
			}
			if !c.NotBefore.Before(time.Now()) {
				t.Errorf("notBefore %v is not in the past", c.NotBefore)
			}
			if tm.Revocation.CRLDistributionPoint && (len(c.CRLDistributionPoints) != 1 || c.CRLDistributionPoints[0] != s.Config.CRLURL(s.Issuing.Slug)) {
				t.Errorf("CDP %v", c.CRLDistributionPoints)
			}
			if tm.Revocation.AIA && (len(c.IssuingCertificateURL) != 1 || c.IssuingCertificateURL[0] != s.Config.CertURL(s.Issuing.Slug)) {
				t.Errorf("AIA %v", c.IssuingCertificateURL)
			}
			if templates.HashOf(c.SignatureAlgorithm) != tm.Signature.Hash {
				t.Errorf("signature %v, want hash %s", c.SignatureAlgorithm, tm.Signature.Hash)
			}
			var rec struct {
				Status string `db:"status"`
				Label  string `db:"ca_label"`
				Meta   string `db:"metadata"`
			}
			if err := rawX(s).Get(&rec, `SELECT status, ca_label, metadata FROM certificates WHERE serial_number = ? AND authority_key_identifier = ?`,
				c.SerialNumber.String(), hex.EncodeToString(c.AuthorityKeyId)); err != nil {
				t.Fatalf("record: %v", err)
			}
			if rec.Status != "good" || rec.Label != s.Issuing.Slug || !strings.Contains(rec.Meta, `"template":"`+tm.Name+`"`) {
				t.Errorf("record %+v", rec)
			}
			for _, f := range res.Files {
				st, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				private := strings.HasSuffix(f, ".key") || strings.HasSuffix(f, ".pfx") || strings.HasSuffix(f, ".password")
				if want := map[bool]fs.FileMode{true: 0o600, false: 0o644}[private]; st.Mode().Perm() != want {
					t.Errorf("%s mode %v, want %v", f, st.Mode().Perm(), want)
				}
			}
		})
	}
}

// snapshot lists every file under dir with its size and content hash
// prefix, to prove a refused command changed nothing.
// snapshot is every file under dir, whole (testkit.Snapshot).
func snapshot(t testing.TB, dir string) string { return testkit.Snapshot(t, nil, false, dir) }

// homeSnapshot is the home's files and every row of its database.
func homeSnapshot(t testing.TB, s *Store) string {
	return testkit.Snapshot(t, s.DB.RawSQL(), s.DB.Postgres(), s.Home)
}

func TestIssueRefusals(t *testing.T) {
	s := newHome(t)
	server := mustTemplate(t, "server")
	client := mustTemplate(t, "client")
	dns := func(v ...string) []san.Name {
		var out []san.Name
		for _, x := range v {
			n, err := san.Parse(x)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	existing := t.TempDir()
	os.WriteFile(filepath.Join(existing, "www.example.com.crt"), []byte("old"), 0o644)
	tests := []struct {
		name string
		req  IssueRequest
		want string
	}{
		{"empty CN", IssueRequest{Template: client}, "common name is empty"},
		{"server without SAN or DNS CN", IssueRequest{Template: server, Subject: subj("Web Server")}, "requires at least one subject alternative name"},
		{"wildcard not allowed", IssueRequest{Template: client, Subject: subj("a.example.com"), SANs: dns("*.example.com")}, "does not allow wildcard"},
		{"no CDP on a 1E client", IssueRequest{Template: mustTemplate(t, "1e-client"), Subject: subj("W701.ACME.LOCAL"), NoCDP: true, Password: "x"},
			"References at least one CRL Distribution point that uses HTTP"},
		{"Defender bundle without its key", IssueRequest{Template: mustTemplate(t, "defender-sensor"), Subject: defenderSubject("sensor9.contoso.com"),
			Formats: []templates.Format{templates.FormatCRT}}, "without its key file"},
		{"modern pfx for macOS", IssueRequest{Template: mustTemplate(t, "1e-client-macos"), Subject: subj("MAC01.local"), PFX: templates.PFXModern, Password: "x"},
			"security import"},
		{"Defender single-label CN", IssueRequest{Template: mustTemplate(t, "defender-sensor"), Subject: defenderSubject("sensor2")}, "bare host name"},
		{"outlives issuing CA", IssueRequest{Template: client, Subject: subj("a.example.com"), Days: 4000, Password: "x"}, "would outlive the issuing CA"},
		{"no password for pfx", IssueRequest{Template: client, Subject: subj("a.example.com")}, "needs a password"},
		{"bad base name", IssueRequest{Template: client, Subject: subj("a.example.com"), Base: "a/b", Password: "x"}, "not a usable file name"},
		{"existing file", IssueRequest{Template: server, Subject: subj("www.example.com"), Out: existing, Password: "x"}, "already exists"},
		{"missing out dir", IssueRequest{Template: server, Subject: subj("www.example.com"), Out: filepath.Join(existing, "nope"), Password: "x"}, "does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.Out == "" {
				tc.req.Out = t.TempDir()
			}
			before, n := snapshot(t, tc.req.Out)+homeSnapshot(t, s), countCerts(t, s)
			_, err := s.Issue(context.Background(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if after := snapshot(t, tc.req.Out) + homeSnapshot(t, s); after != before {
				t.Errorf("files changed:\n%s---\n%s", before, after)
			}
			if m := countCerts(t, s); m != n {
				t.Errorf("database rows %d -> %d", n, m)
			}
		})
	}
}

func subj(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

func defenderSubject(cn string) pkix.Name {
	return pkix.Name{CommonName: cn, Country: []string{"US"}, Organization: []string{"Contoso"}, OrganizationalUnit: []string{"OT"}}
}

// Departing from advice is allowed and said; a document's own variation
// needs no word; a forced departure from a requirement is said too.
func TestDepartures(t *testing.T) {
	s := newHome(t)
	tests := []struct {
		name string
		req  IssueRequest
		warn string // "" for none
		cert func(*x509.Certificate) bool
	}{
		{"server past Apple's 825 days", IssueRequest{Template: mustTemplate(t, "server"), Subject: subj("www.example.com"), Days: 900},
			"825", func(c *x509.Certificate) bool { return c.NotAfter.Sub(c.NotBefore) > 899*24*time.Hour }},
		{"Defender without CDP", IssueRequest{Template: mustTemplate(t, "defender-sensor"), Subject: defenderSubject("novalidation.contoso.com"), NoCDP: true},
			"", func(c *x509.Certificate) bool { return len(c.CRLDistributionPoints) == 0 }},
		{"code signing without CDP", IssueRequest{Template: mustTemplate(t, "1e-code-signing"), Subject: pkix.Name{CommonName: "Signer", Organization: []string{"ACME"}}, NoCDP: true},
			"without a CRL distribution point", func(c *x509.Certificate) bool { return len(c.CRLDistributionPoints) == 0 }},
		{"forced modern pfx for macOS", IssueRequest{Template: mustTemplate(t, "1e-client-macos"), Subject: subj("MAC02.local"), PFX: templates.PFXModern, Force: true},
			"against a requirement", func(c *x509.Certificate) bool { return true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Out, tc.req.Password = t.TempDir(), "x"
			res, err := s.Issue(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.warn == "" && len(res.Warnings) > 0:
				t.Errorf("warnings %q, want none", res.Warnings)
			case tc.warn != "" && !slices.ContainsFunc(res.Warnings, func(w input.Text) bool { return strings.Contains(testkit.Dashed(w), tc.warn) }):
				t.Errorf("warnings %q, want one with %q", res.Warnings, tc.warn)
			}
			if !tc.cert(res.Cert) {
				t.Errorf("the certificate does not show the departure")
			}
		})
	}
}

// rawX is the home's database for tests that read or corrupt rows
// directly; certmint's code goes through package store's methods.
func rawX(s *Store) *sqlx.DB {
	driver := "sqlite"
	if s.DB.Postgres() {
		driver = "pgx"
	}
	return sqlx.NewDb(s.DB.RawSQL(), driver)
}

// emptyDir reports whether dir holds nothing.
func emptyDir(t testing.TB, dir string) bool {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) == 0
}

// errText is err's message with the inputs a *UsageError names written as
// the command line's flags would be (testkit.Dashed), so a test states it
// as a user reads it.
func errText(err error) string {
	var ue *UsageError
	if errors.As(err, &ue) {
		return strings.Replace(err.Error(), ue.Msg.String(), testkit.Dashed(ue.Msg), 1)
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
