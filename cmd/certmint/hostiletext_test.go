package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/store"
)

// Hostile text (issue 11 item 6): what an attacker with a CSR, a CSV row
// or a certificate of their own puts in names: a colour, a screen clear, a
// window title, a forged line, a right-to-left override, a zero-width
// space and a byte-order mark.
const (
	hostileCN   = "evil\x1b[31mred\x1b[2J\x1b]0;pwned\x07\nFAKE: ok\u202egnp.exe\u200b\ufeff"
	hostileDNS  = "a\x1b[2J.example.com"
	hostileCDP  = "http://crl\x1b[5m.example/x.crl"
	hostileFN   = "friendly\x1b[5m\u2066name\u2069"
	hostilePFXp = "hostile-pfx-pw"
)

// rawControl returns the first character of s a terminal would act on or
// that reorders or hides text: a control character other than newline and
// tab (C0, DEL, C1) or a format character (bidi controls, zero-width
// spaces, U+FEFF).
func rawControl(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			return r, true
		}
	}
	return 0, false
}

// hostileFiles writes, made with crypto/x509 (certmint refuses such names),
// a self-signed certificate with hostile names everywhere, the same as a
// .pfx with a hostile friendlyName, and a CSR.
func hostileFiles(t *testing.T, dir string) (crt, pfx, csr string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	name := pkix.Name{CommonName: hostileCN, Organization: []string{"O\u200brg\r"}}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: name, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{hostileDNS, "b\nFAKE.example.com"}, CRLDistributionPoints: []string{hostileCDP},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern2023.EncodeWithFriendlyName(key, cert, nil, hostilePFXp, hostileFN)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: name, DNSNames: []string{hostileDNS}}, key)
	if err != nil {
		t.Fatal(err)
	}
	crt = writeFile(t, dir, "hostile.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	pfx = writeFile(t, dir, "hostile.pfx", string(p12), 0o600)
	csr = writeFile(t, dir, "hostile.csr", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})), 0o644)
	return crt, pfx, csr
}

// TestCLIHostileText is issue 11 item 6 for the commands whose output is a
// report (inspect, check, log, list, status) and for what certmint names
// and writes from hostile input (files, passwords.csv): every value is
// shown escaped, stdout and stderr hold no raw control or bidi character,
// and the reports change nothing.
// recordHostile signs a certificate with cn under the home's issuing CA
// and records it, as a certmint that did not refuse such names would have.
func recordHostile(t *testing.T, home, cn string) issuedJSON {
	t.Helper()
	s, err := ca.Open(home, func() (string, error) { return caPW, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	caKey, err := s.Key(s.Issuing)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x5eed1e), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.Issuing.Cert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.DB.Insert(ctx, store.NewRecord(cert, s.Issuing.Slug, store.Metadata{Template: "client", Subject: cert.Subject.String()})); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.MarkReleased(ctx, cert.SerialNumber, hex.EncodeToString(cert.AuthorityKeyId), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.Audit(ctx, ca.Event{Action: "issue", Serial: ca.SerialHex(cert.SerialNumber), CALabel: s.Issuing.Slug,
		Template: "client", Subject: cert.Subject.String(), Detail: "DNS:" + cn}); err != nil {
		t.Fatal(err)
	}
	return issuedJSON{Serial: ca.SerialHex(cert.SerialNumber)}
}

func TestCLIHostileText(t *testing.T) {
	tmp := t.TempDir()
	crt, pfx, csrPath := hostileFiles(t, tmp)

	// A home whose trail and records hold hostile names: a certificate
	// with a bidi override in its CN, as an older certmint issued and
	// recorded it (today's refuses such a CN), and events recorded from a
	// signed CSR, with an escape sequence and a newline.
	seed := filepath.Join(tmp, "pki")
	copyTree(t, fixtureHome, seed)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	const bidiCN = "bob\u202egnp.exe"
	if code, _, stderr := runCLI(t, "issue", "--home", seed, "--template", "client", "--cn", bidiCN, "--out", t.TempDir(), "--format", "crt"); code != 2 {
		t.Fatalf("issuing %+q: exit %d, want 2 (refused): %s", bidiCN, code, stderr)
	}
	issued := recordHostile(t, seed, bidiCN)
	db, err := store.OpenSQLite(context.Background(), filepath.Join(seed, ca.DBFile), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(context.Background(), ca.Event{Action: "sign", Serial: "2A", Template: "client",
		Subject: "CN=evil\x1b[2J\nFAKE: line", Detail: "SANs DNS:\x1b]0;pwned\x07"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A user template whose comment and description hide text behind a
	// right-to-left override and a C1 control, which TOML allows.
	bidiTOML := writeFile(t, tmp, "bidi.toml", "# key size \u202e0402 :ton ,4202\u202c\n"+strings.Replace(goodTemplate,
		`name = "mine"`, "name = \"mine\"\ndescription = \"safe\u200b\u0085\"", 1), 0o644)
	formulaCSV := writeFile(t, tmp, "formula.csv", "cn,name\nh1.example.com,-rf\nh2.example.com,=SUM(1+1)\nh3.example.com,@cmd\nh4.example.com,+1\n", 0o644)

	tests := []struct {
		name     string
		args     []string // {home} and {out} are replaced
		env      map[string]string
		code     int
		stdout   []string // each must appear on stdout, as printed
		readOnly bool     // nothing in home or out may change
		check    func(t *testing.T, home, out, stdout string)
	}{
		{name: "inspect a certificate with hostile names", args: []string{"inspect", crt}, readOnly: true,
			stdout: []string{`Subject:              "CN=evil\x1b[31mred\x1b[2J\x1b]0\\;pwned\a\nFAKE: ok\u202egnp.exe\u200b\ufeff,O=O\u200brg\r"`,
				`DNS: "a\x1b[2J.example.com", "b\nFAKE.example.com"`, `CRL distribution:     "http://crl\x1b[5m.example/x.crl"`}},
		{name: "inspect --json a certificate with hostile names", args: []string{"inspect", "--json", crt}, readOnly: true,
			stdout: []string{`evil\u001b[31mred`, `\u202egnp.exe\u200b\ufeff`, `"DNS:a\u001b[2J.example.com"`},
			check: func(t *testing.T, home, out, stdout string) {
				var r struct {
					Certificates []struct {
						Subject string `json:"subject"`
					} `json:"certificates"`
				}
				if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Certificates) != 1 {
					t.Fatalf("not the JSON report (%v):\n%s", err, stdout)
				}
				if !strings.Contains(r.Certificates[0].Subject, hostileCN[:16]) {
					t.Errorf("the JSON subject %+q is not the certificate's", r.Certificates[0].Subject)
				}
			}},
		{name: "inspect a .pfx with a hostile friendlyName", args: []string{"inspect", pfx}, env: map[string]string{"CERTMINT_PASSWORD": hostilePFXp}, readOnly: true,
			stdout: []string{`friendlyName "friendly\x1b[5m\u2066name\u2069"`, `\x1b[31mred`}},
		{name: "inspect a CSR with hostile names", args: []string{"inspect", csrPath}, readOnly: true,
			stdout: []string{`"CN=evil\x1b[31mred`, `DNS: "a\x1b[2J.example.com"`}},
		{name: "check a certificate with hostile names", args: []string{"check", "--template", "server", "--cert", crt}, code: 1, readOnly: true,
			stdout: []string{`Checking "CN=evil\x1b[31mred\x1b[2J`, `got: "http://crl\x1b[5m.example/x.crl"`, `issued by "evil\x1b[31mred`}},
		{name: "check --json a certificate with hostile names", args: []string{"check", "--json", "--template", "server", "--cert", crt}, code: 1, readOnly: true,
			stdout: []string{`"subject":"CN=evil\u001b[31mred`, `\u202egnp.exe`}},
		{name: "log with hostile subjects", args: []string{"log"}, readOnly: true,
			stdout: []string{`"CN=evil\x1b[2J\nFAKE: line"`, `"CN=bob\u202egnp.exe"`, `SANs DNS:\x1b]0;pwned\a`}},
		{name: "log --json with hostile subjects", args: []string{"log", "--json"}, readOnly: true,
			stdout: []string{`"subject":"CN=evil\u001b[2J\nFAKE: line"`, `"subject":"CN=bob\u202egnp.exe"`}},
		{name: "list a certificate with a bidi override in its CN", args: []string{"list"}, readOnly: true,
			stdout: []string{`"bob\u202egnp.exe"`}},
		{name: "list --json a certificate with a bidi override in its CN", args: []string{"list", "--json"}, readOnly: true,
			stdout: []string{`"cn":"bob\u202egnp.exe"`}},
		{name: "status of a certificate with a bidi override in its CN", args: []string{"status", "--warn", "3650d"}, code: 1, readOnly: true,
			stdout: []string{`"bob\u202egnp.exe" expires`}},
		{name: "revoke a certificate with a bidi override in its CN", args: []string{"revoke", issued.Serial},
			stdout: []string{`(` + `"bob\u202egnp.exe"` + `), reason`}},
		{name: "templates show a file with bidi controls", args: []string{"templates", "show", bidiTOML}, readOnly: true,
			stdout: []string{`# key size \u202e0402 :ton ,4202\u202c`, `description = "safe\u200b\u0085"`}},
		{name: "issue a CN with a bidi override and a zero-width space is refused", args: []string{"issue", "--template", "client", "--cn", "invoice\u202egnp.exe\u200b", "--out", "{out}", "--format", "crt"},
			code: 2, readOnly: true},
		{name: "issue a CN starting with a hyphen", args: []string{"issue", "--template", "client", "--cn", "-rf", "--out", "{out}", "--format", "crt"},
			stdout: []string{"_-rf.crt"},
			check: func(t *testing.T, home, out, stdout string) {
				if _, err := os.Stat(filepath.Join(out, "_-rf.crt")); err != nil {
					t.Errorf("no _-rf.crt: %v", err)
				}
			}},
		{name: "batch with names that spreadsheets read as formulas", args: []string{"batch", "--template", "server", "--input", formulaCSV, "--random-passwords", "--out", "{out}"},
			stdout: []string{"4 issued"},
			check: func(t *testing.T, home, out, stdout string) {
				f, err := os.Open(filepath.Join(out, ca.PasswordsFile))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				recs, err := csv.NewReader(f).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				names := map[string]bool{}
				for _, r := range recs[1:] {
					names[r[0]] = true
				}
				for _, want := range []string{"_-rf", "'=SUM(1+1)", "'@cmd", "'+1"} {
					if !names[want] {
						t.Errorf("passwords.csv has no name cell %q: %v", want, recs)
					}
				}
				if _, err := os.Stat(filepath.Join(out, "_-rf")); err != nil {
					t.Errorf("the row folder of \"-rf\" is not \"_-rf\": %v", err)
				}
				// The rerun reads its own passwords.csv: every row is complete.
				code, stdout, stderr := runCLI(t, "batch", "--template", "server", "--input", formulaCSV, "--random-passwords", "--out", out)
				if code != 0 || !strings.Contains(stdout, "4 skipped") {
					t.Errorf("rerun: exit %d, want 4 rows skipped:\n%s%s", code, stdout, stderr)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "pki")
			copyTree(t, seed, home)
			out := t.TempDir()
			t.Chdir(out)
			t.Setenv("CERTMINT_HOME", home)
			t.Setenv("CERTMINT_CA_PASSWORD", caPW)
			t.Setenv("CERTMINT_PASSWORD", "")
			t.Setenv(ca.DatabaseURLEnv, "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.NewReplacer("{home}", home, "{out}", out).Replace(a)
			}
			before := snapshot(t, home, out)
			code, stdout, stderr := runCLI(t, args...)
			t.Logf("certmint %q\nexit %d\n%s%s", tc.args, code, stdout, stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			if r, ok := rawControl(stdout); ok {
				t.Errorf("stdout holds a raw %U:\n%+q", r, stdout)
			}
			if r, ok := rawControl(stderr); ok {
				t.Errorf("stderr holds a raw %U:\n%+q", r, stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %s:\n%s", want, stdout)
				}
			}
			if tc.readOnly {
				if after := snapshot(t, home, out); after != before {
					t.Errorf("a report changed files or the database:\n%s", diffLines(before, after))
				}
			}
			if tc.check != nil {
				tc.check(t, home, out, stdout)
			}
		})
	}
}

// TestCLIServeAccessLog is issue 11 item 6 for `certmint serve`: a
// request for /x%0a<a fake log line> or /%1b[2J gives one access log line
// that shows the path as it was sent.
func TestCLIServeAccessLog(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ca.crl", "crl", 0o644)
	// --home is given: urfave/cli keeps a shared flag's "set" state from
	// an earlier run in the same process (a test's CERTMINT_HOME), which
	// would make serve open a home that no longer exists.
	home := newHome(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"certmint", "serve", "--home", home, "--dir", dir, "--addr", addr}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not listen on %s:\n%s", addr, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	targets := []string{
		"/x%0a2027-01-01T00:00:00Z%20GET%20/ca.crl%20200%203.crl",
		"/%1b[2J%1b]0;pwned%07.crl",
		"/invoice\u202egnp.crl",
		"/ca.crl",
	}
	for _, target := range targets {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		c.Close()
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	log := stderr.String()
	if r, ok := rawControl(log); ok {
		t.Errorf("the access log holds a raw %U:\n%+q", r, log)
	}
	var access []string
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		if !strings.HasPrefix(line, "certmint: ") {
			access = append(access, line)
		}
	}
	want := []string{
		" GET /x%0a2027-01-01T00:00:00Z%20GET%20/ca.crl%20200%203.crl 404 19",
		" GET /%1b[2J%1b]0;pwned%07.crl 404 19",
		" GET /invoice%E2%80%AEgnp.crl 404 19",
		" GET /ca.crl 200 3",
	}
	if len(access) != len(want) {
		t.Fatalf("%d access log lines, want one per request (%d):\n%s", len(access), len(want), log)
	}
	for i, w := range want {
		if !strings.HasSuffix(access[i], w) {
			t.Errorf("access log line %d:\n%s\nwant it to end with\n%s", i+1, access[i], w)
		}
	}
}
