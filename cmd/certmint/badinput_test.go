package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

// snapshot is everything a refused command must leave as it was, in home
// and the other folders dirs: every folder, every file's mode and whole
// content (the database files aside), and the database's rows: each
// certificate's status, every CRL number, the audit trail and the meta
// table.
func snapshot(t testing.TB, home string, dirs ...string) string {
	t.Helper()
	dbFile := filepath.Join(home, ca.DBFile)
	if _, err := os.Stat(dbFile); err != nil {
		return testkit.Snapshot(t, nil, false, append([]string{home}, dirs...)...)
	}
	sdb, err := store.OpenSQLite(context.Background(), dbFile, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	return testkit.Snapshot(t, sdb.RawSQL(), false, append([]string{home}, dirs...)...)
}

// copyTree copies a folder with its modes (a CA home with its database).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	if err := testkit.CopyDir(src, dst); err != nil {
		t.Fatal(err)
	}
}

// seededHome is the fixture CA with one valid and one revoked certificate,
// made once per test binary.
type seeded struct {
	home    string
	valid   string // serial of a valid certificate
	revoked string // serial of a revoked certificate
	caSer   string // serial of the issuing CA's own certificate
	cert    string // the valid certificate's file
}

func seedHome(t *testing.T) seeded {
	t.Helper()
	dir := t.TempDir()
	s := seeded{home: filepath.Join(dir, "pki")}
	copyTree(t, fixtureHome, s.home)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	issue := func(template, cn string, extra ...string) string {
		args := append([]string{"issue", "--home", s.home, "--template", template, "--cn", cn, "--out", out, "--json"}, extra...)
		if !slices.Contains(extra, "--format") {
			args = append(args, "--format", "crt,chain")
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("seeding %s: exit %d: %s", cn, code, stderr)
		}
		var j issuedJSON
		if err := json.Unmarshal([]byte(stdout), &j); err != nil {
			t.Fatal(err)
		}
		return j.Serial
	}
	s.valid = issue("server", "valid.example.com")
	// defender-sensor allows one valid certificate per CN.
	issue("defender-sensor", "sensor1.example.com", "--subject", "C=US,O=Contoso,OU=OT", "--format", "crt,key,chain")
	s.cert = filepath.Join(out, "valid.example.com.crt")
	s.revoked = issue("server", "revoked.example.com")
	if code, _, stderr := runCLI(t, "revoke", "--home", s.home, "--reason", "superseded", s.revoked); code != 0 {
		t.Fatalf("seeding the revocation: %s", stderr)
	}
	code, stdout, stderr := runCLI(t, "list", "--home", s.home, "--all", "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var list listJSON
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Certificates {
		if r.Template == "issuing-ca" {
			s.caSer = r.Serial
		}
	}
	if s.caSer == "" {
		t.Fatal("no issuing CA record")
	}
	return s
}

// csrFile writes a PEM certificate request made with key and the given
// subject and SANs.
func csrFile(t *testing.T, dir, name string, key any, cn string, dns ...string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), 0o644)
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCLIBadInputAllCommands is issue 7 item 7: one table of bad inputs
// across every command. Each case asserts the exit status (2: how the
// command was called; 1: the operation failed or a requirement is not
// met), an error line that says what is wrong, a hint where the user needs
// one, no stack trace, nothing on stdout unless a report is the output, no
// secret in the output, and that nothing changed in the home, in the output
// folder or in the database. (issue and init's basic cases are in
// TestCLIBadInput.)
func TestCLIBadInputAllCommands(t *testing.T) {
	sd := seedHome(t)
	tmp := t.TempDir()

	// Inputs.
	wrongPW := writeFile(t, tmp, "wrong.pw", "not-the-ca-password\n", 0o600)
	garbage := writeFile(t, tmp, "garbage.crt", "this is not a certificate\n", 0o644)
	notADir := writeFile(t, tmp, "a-file", "x", 0o644)
	emptyCSV := writeFile(t, tmp, "empty.csv", "", 0o644)
	unknownCol := writeFile(t, tmp, "unknown.csv", "cn,hostname\nh1.example.com,h1\n", 0o644)
	noCN := writeFile(t, tmp, "nocn.csv", "name,san\nh1,h1.example.com\n", 0o644)
	twiceCol := writeFile(t, tmp, "twice.csv", "cn,san,SAN\nh1.example.com,a,b\n", 0o644)
	goodCSV := writeFile(t, tmp, "good.csv", "cn,san\nh1.example.com,h1.example.com\n", 0o644)
	badRows := writeFile(t, tmp, "badrows.csv", "cn,san\nh1.example.com,IP:10.0.0.999\n,h2.example.com\n", 0o644)
	dupCSV := writeFile(t, tmp, "dup.csv", "cn,c,o,ou\nsensor1.example.com,US,Contoso,OT\n", 0o644)
	badTOML := writeFile(t, tmp, "broken.toml", "name = \"x\"\n[key\n", 0o644)

	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	csrWeak := csrFile(t, tmp, "weak.csr", rsa1024, "weak.example.com", "weak.example.com")
	csrWildcard := csrFile(t, tmp, "wild.csr", rsa2048, "host.example.com", "host.example.com", "*.example.com")
	csrGood := csrFile(t, tmp, "good.csr", ecKey, "signed.example.com", "signed.example.com")
	atk := attackCSRs(t, tmp) // issue 11 item 1
	var sans101 []string
	for i := range 101 {
		sans101 = append(sans101, fmt.Sprintf("h%d.example.com", i))
	}
	csv101 := writeFile(t, tmp, "sans101.csv", "cn,san\nh0.example.com,"+strings.Join(sans101, ";")+"\n", 0o644)
	inspectDir := absPath(t, inspectFixtures)
	fx := func(name string) string { return filepath.Join(inspectDir, name) }
	otherCA := absPath(t, corpus+"v-good.crt")

	const bundlePW = "bundle-pw-4f7a"
	noHome := filepath.Join(tmp, "no-such-home")

	// Hostile text (issue 11 item 6): a certificate and a CSR made with
	// escape sequences, a newline and bidi controls in their names, CSV
	// rows and file names that carry them.
	hostileCrt, _, hostileCSR := hostileFiles(t, tmp)
	escCSV := writeFile(t, tmp, "esc.csv", "cn\n\"evil\x1b[2J.example.com\"\n", 0o644)
	bidiCSV := writeFile(t, tmp, "bidi.csv", "cn\nhost\u202egnp.example.com\n", 0o644)
	escMissing := filepath.Join(tmp, "none\x1b[2J\u202e.crt")
	// Issue 11 items 5, 7, 8: numbers, base URLs, renewal of a revoked
	// certificate.
	overflowCSV := writeFile(t, tmp, "overflow.csv", "cn,san,days\nh1.example.com,h1.example.com,106752\n", 0o644)
	negativeCSV := writeFile(t, tmp, "negative.csv", "cn,san,days\nh1.example.com,h1.example.com,-1\n", 0o644)
	zeroCSV := writeFile(t, tmp, "zero.csv", "cn,san,days\nh1.example.com,h1.example.com,0\n", 0o644)
	outliveCSV := writeFile(t, tmp, "outlive.csv", "cn,san,days\nh1.example.com,h1.example.com,3651\n", 0o644)
	initArgs := func(base string) []string {
		return []string{"init", "--home", "{out}/new", "--root-cn", "R", "--issuing-cn", "I", "--key", "ecdsa:P-256", "--base-url", base}
	}
	editBaseURL := func(base string) func(t *testing.T, home, out string) {
		return func(t *testing.T, home, out string) {
			p := filepath.Join(home, ca.ConfigFile)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			edited := strings.Replace(string(data), `base_url = "http://pki.cli.test"`, "base_url = '"+base+"'", 1)
			if edited == string(data) {
				t.Fatal("certmint.toml has no base_url line to edit")
			}
			if err := os.WriteFile(p, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	tests := []struct {
		name   string
		args   []string // {home} and {out} are replaced
		env    map[string]string
		setup  func(t *testing.T, home, out string)
		code   int
		stderr []string // each must appear in stderr
		hint   bool     // a hint line is expected
		stdout string   // a report that is the output; otherwise stdout must be empty
	}{
		// safeq
		{name: "safeq without -FriendlyName", args: []string{"safeq", "-Subject", "safeq.example.com", "--out", "{out}"},
			code: 2, stderr: []string{"--friendly-name is required"}},
		{name: "safeq with a bad SAN", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "-SubjectAlternativeNames", "safeq.example.com,", "1.2.3.999", "--out", "{out}"},
			code: 2, stderr: []string{"-SubjectAlternativeNames:", "1.2.3.999"}, hint: true},
		{name: "safeq --ssl with --template", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "--ssl", "--template", "server", "--out", "{out}"},
			code: 2, stderr: []string{"--ssl and --template cannot be combined"}},
		{name: "safeq with a bad DN", args: []string{"safeq", "-Subject", "CN=safeq.example.com,C=USA", "-FriendlyName", "SafeQ", "--out", "{out}"},
			code: 2, stderr: []string{"-Subject:", "two-letter"}, hint: true},
		{name: "safeq with zero days", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "--days", "0", "--out", "{out}"},
			code: 2, stderr: []string{"--days must be positive"}},
		{name: "safeq with a wrong CA password", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "-SubjectAlternativeNames", "safeq.example.com", "--ca-password-file", wrongPW, "--out", "{out}"},
			code: 1, stderr: []string{"the CA password does not decrypt"}, hint: true},
		{name: "safeq over an existing .pfx", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "-SubjectAlternativeNames", "safeq.example.com", "--out", "{out}"},
			setup: func(t *testing.T, home, out string) { writeFile(t, out, "SafeQ.pfx", "old", 0o600) },
			code:  1, stderr: []string{"SafeQ.pfx already exists"}, hint: true},

		// batch
		{name: "batch with an empty CSV", args: []string{"batch", "--template", "server", "--input", emptyCSV, "--out", "{out}"},
			code: 1, stderr: []string{"the CSV is empty", "header such as: cn,san,name"}},
		{name: "batch with an unknown column", args: []string{"batch", "--template", "server", "--input", unknownCol, "--out", "{out}"},
			code: 1, stderr: []string{`unknown column "hostname"`, "known: cn, san, name"}},
		{name: "batch without a cn column", args: []string{"batch", "--template", "server", "--input", noCN, "--out", "{out}"},
			code: 1, stderr: []string{"the header has no cn column"}},
		{name: "batch with a column twice", args: []string{"batch", "--template", "server", "--input", twiceCol, "--out", "{out}"},
			code: 1, stderr: []string{`column "san" appears twice`}},
		{name: "batch without --input", args: []string{"batch", "--template", "server", "--out", "{out}"},
			code: 2, stderr: []string{"--input is required"}},
		{name: "batch with a missing file", args: []string{"batch", "--template", "server", "--input", filepath.Join(tmp, "none.csv"), "--out", "{out}"},
			code: 2, stderr: []string{"--input:", "none.csv", "no such file"}},
		{name: "batch with no workers", args: []string{"batch", "--template", "server", "--input", goodCSV, "--jobs", "0", "--out", "{out}"},
			code: 2, stderr: []string{"--jobs must be at least 1"}},
		{name: "batch with an unknown format", args: []string{"batch", "--template", "server", "--input", goodCSV, "--format", "crt,p7b", "--out", "{out}"},
			code: 2, stderr: []string{"--format:", `unknown value "p7b"`}},
		{name: "batch with a wrong CA password", args: []string{"batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--ca-password-file", wrongPW, "--out", "{out}"},
			code: 1, stderr: []string{"the CA password does not decrypt"}, hint: true},
		{name: "batch where every row is bad", args: []string{"batch", "--template", "server", "--input", badRows, "--random-passwords", "--jobs", "1", "--out", "{out}"},
			code: 1, stderr: []string{"line 2 (h1.example.com): san:", "line 3: cn is empty", "2 of 2 rows failed"}, stdout: "0 issued"},
		{name: "batch of a CN that already has a valid certificate", args: []string{"batch", "--template", "defender-sensor", "--input", dupCSV, "--random-passwords", "--out", "{out}"},
			code: 1, stderr: []string{"line 2 (sensor1.example.com):", "1 of 1 rows failed"}, stdout: "0 issued"},

		// csr
		{name: "csr without --cn", args: []string{"csr", "--template", "server", "--out", "{out}"},
			code: 2, stderr: []string{"--cn is required"}},
		{name: "csr with a SAN the template forbids", args: []string{"csr", "--template", "1e-client", "--cn", "pc1.corp.example.com", "--san", "IP:10.0.0.1", "--out", "{out}"},
			code: 2, stderr: []string{"10.0.0.1"}, hint: true},
		{name: "csr over an existing key", args: []string{"csr", "--template", "server", "--cn", "www.example.com", "--out", "{out}"},
			setup: func(t *testing.T, home, out string) { writeFile(t, out, "www.example.com.key", "old", 0o600) },
			code:  1, stderr: []string{"www.example.com.key already exists"}, hint: true},
		{name: "csr into a file", args: []string{"csr", "--template", "server", "--cn", "www.example.com", "--out", notADir},
			code: 2, stderr: []string{"is not a folder"}, hint: true},

		// sign
		{name: "sign a certificate instead of a CSR", args: []string{"sign", "--template", "server", "--csr", sd.cert, "--out", "{out}"},
			code: 2, stderr: []string{"--csr " + sd.cert}},
		{name: "sign a CSR with a 1024-bit key", args: []string{"sign", "--template", "server", "--csr", csrWeak, "--out", "{out}"},
			code: 2, stderr: []string{"--csr " + csrWeak + ": the request's RSA key has 1024 bits; at least 2048 are required"}},
		{name: "sign a CSR whose SAN the template forbids", args: []string{"sign", "--template", "client", "--csr", csrWildcard, "--out", "{out}"},
			code: 2, stderr: []string{"--csr " + csrWildcard + `: template "client": does not allow wildcard names: "DNS:*.example.com" (rule san.allow_wildcard)`, "certmint csr --template client"}, hint: true},
		{name: "sign a CSR whose key the template forbids", args: []string{"sign", "--template", "code-signing", "--csr", csrGood, "--out", "{out}"},
			code: 2, stderr: []string{"--csr " + csrGood + `: template "code-signing": does not accept ecdsa keys`}, hint: true},
		{name: "sign --format key", args: []string{"sign", "--template", "server", "--csr", csrGood, "--format", "crt,key", "--out", "{out}"},
			code: 2, stderr: []string{"--format key needs the private key"}, hint: true},
		{name: "sign a CSR with a bad signature", args: []string{"sign", "--template", "server", "--csr", fx("bad-signature-csr.der"), "--out", "{out}"},
			code: 2, stderr: []string{"signature"}},
		{name: "sign without --csr", args: []string{"sign", "--template", "server", "--out", "{out}"},
			code: 2, stderr: []string{"--csr is required"}},
		{name: "sign with a wrong CA password", args: []string{"sign", "--template", "server", "--csr", csrGood, "--ca-password-file", wrongPW, "--out", "{out}"},
			code: 1, stderr: []string{"the CA password does not decrypt"}, hint: true},
		{name: "sign with negative days", args: []string{"sign", "--template", "server", "--csr", csrGood, "--days", "-5", "--out", "{out}"},
			code: 2, stderr: []string{"--days must be positive, not -5"}, hint: true},

		// Issue 11 item 1: sign retyped a request's SANs (cfssl guessed
		// each type from the string) and did not validate them.
		{name: "sign a DNS SAN that is an IP address", args: []string{"sign", "--template", "1e-client-macos", "--csr", atk["retyped-ip"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:10.9.8.7": "10.9.8.7" is an IP address, not a DNS name`, "certmint: hint: make the request again (write IP:10.9.8.7)"}, hint: true},
		{name: "sign a DNS SAN that is an email address", args: []string{"sign", "--template", "1e-client-macos", "--csr", atk["retyped-email"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:admin@corp.example": "admin@corp.example" is not a valid DNS name: character '@' is not allowed`}, hint: true},
		{name: "sign a DNS SAN that is a URI", args: []string{"sign", "--template", "1e-client-macos", "--csr", atk["retyped-uri"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:https://evil.example/x": "https://evil.example/x" is not a valid DNS name: character ':' is not allowed`}, hint: true},
		{name: "sign an IP SAN under a DNS-only template", args: []string{"sign", "--template", "1e-client-macos", "--csr", atk["ip"], "--out", "{out}"},
			code: 2, stderr: []string{`does not allow IP addresses in the SAN: "IP:10.9.8.7" (rule san.allow_ip)`}, hint: true},
		{name: "sign a SAN with an escape sequence", args: []string{"sign", "--template", "client", "--csr", atk["escape"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:\x1b[31mred\x1b[0m.example"`, `character '\x1b' is not allowed`}, hint: true},
		{name: "sign a SAN with a newline", args: []string{"sign", "--template", "client", "--csr", atk["newline"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:evil.example\nDNS:trusted.example"`, `character '\n' is not allowed`}, hint: true},
		{name: "sign a SAN with a space", args: []string{"sign", "--template", "client", "--csr", atk["space"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:evil example.com"`, `character ' ' is not allowed`}, hint: true},
		{name: "sign a SAN with a leading hyphen", args: []string{"sign", "--template", "client", "--csr", atk["hyphen"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:-rf.example": label "-rf" starts or ends with a hyphen`}, hint: true},
		{name: "sign a SAN with a NUL byte", args: []string{"sign", "--template", "client", "--csr", atk["nul"], "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:www.bank.example\x00.evil.example"`}, hint: true},
		{name: "sign a SHA-1 request", args: []string{"sign", "--template", "1e-client-macos", "--csr", atk["sha1"], "--out", "{out}"},
			code: 2, stderr: []string{"the request is signed with SHA1-RSA; certmint does not accept MD5 or SHA-1 signatures", "certmint: hint: make the request again with SHA-256: openssl req -new -sha256"}, hint: true},
		{name: "sign a request with RSA exponent 3", args: []string{"sign", "--template", "1e-client-macos", "--csr", atk["exponent3"], "--out", "{out}"},
			code: 2, stderr: []string{"the request's RSA public exponent is 3; certmint accepts only 65537"}, hint: true},
		{name: "sign a request with 101 SANs", args: []string{"sign", "--template", "server", "--csr", atk["101-sans"], "--out", "{out}"},
			code: 2, stderr: []string{"101 subject alternative names; a certificate holds at most 100"}, hint: true},
		{name: "issue --san DNS: with an IP address", args: []string{"issue", "--template", "server", "--cn", "www.example.com", "--san", "DNS:10.9.8.7", "--out", "{out}"},
			code: 2, stderr: []string{`--san: invalid SAN "DNS:10.9.8.7": "10.9.8.7" is an IP address, not a DNS name`, "certmint: hint: write IP:10.9.8.7"}, hint: true},
		{name: "issue --san with an escape sequence", args: []string{"issue", "--template", "server", "--cn", "www.example.com", "--san", "DNS:\x1b]0;pwned\x07.example", "--out", "{out}"},
			code: 2, stderr: []string{`--san: invalid SAN "DNS:\x1b]0;pwned\a.example"`}, hint: true},
		{name: "issue with 101 SANs", args: append([]string{"issue", "--template", "server", "--cn", "h0.example.com", "--out", "{out}", "--san"}, strings.Join(sans101, ",")),
			code: 2, stderr: []string{"--san: 101 subject alternative names; a certificate holds at most 100"}, hint: true},
		{name: "batch row with 101 SANs", args: []string{"batch", "--template", "server", "--input", csv101, "--random-passwords", "--out", "{out}"},
			code: 1, stderr: []string{"line 2 (h0.example.com): san: 101 subject alternative names"}, stdout: "0 issued"},

		// renew
		{name: "renew an unknown serial", args: []string{"renew", "--out", "{out}", "0123456789ABCDEF"},
			code: 2, stderr: []string{"0123456789ABCDEF"}, hint: true},
		{name: "renew an unknown CN", args: []string{"renew", "--out", "{out}", "not-a-serial"},
			code: 2, stderr: []string{`no certificate of this CA has the serial, a serial starting with, or the CN "not-a-serial"`}, hint: true},
		{name: "renew a short serial prefix", args: []string{"renew", "--out", "{out}", "5D3F..."},
			code: 2, stderr: []string{`no certificate of this CA has the serial or the CN "5D3F..."`, "a serial prefix needs at least 8 hex digits"}, hint: true},
		{name: "renew with zero days", args: []string{"renew", "--out", "{out}", "--days", "0", sd.valid},
			code: 2, stderr: []string{"--days must be positive, not 0"}, hint: true},
		{name: "renew two serials", args: []string{"renew", "--out", "{out}", sd.valid, sd.revoked},
			code: 2, stderr: []string{"renew takes one certificate (a serial, a serial prefix or a CN), got 2 arguments"}, hint: true},
		{name: "renew the issuing CA", args: []string{"renew", "--out", "{out}", sd.caSer},
			code: 2, stderr: []string{"is the issuing CA's certificate"}},
		{name: "renew with a wrong CA password", args: []string{"renew", "--out", "{out}", "--ca-password-file", wrongPW, sd.valid},
			code: 1, stderr: []string{"the CA password does not decrypt"}, hint: true},

		// revoke
		{name: "revoke an unknown serial", args: []string{"revoke", "0123456789ABCDEF"},
			code: 2, stderr: []string{"0123456789ABCDEF"}, hint: true},
		{name: "revoke one already revoked", args: []string{"revoke", sd.revoked},
			code: 1, stderr: []string{sd.revoked, "already revoked", "superseded"}},
		{name: "revoke with a bad reason", args: []string{"revoke", "--reason", "stolen", sd.valid},
			code: 2, stderr: []string{`unknown revocation reason "stolen"`}, hint: true},
		{name: "revoke another CA's certificate", args: []string{"revoke", "--cert", otherCA},
			code: 2, stderr: []string{"was not issued by this CA"}, hint: true},
		{name: "revoke serial and --cert", args: []string{"revoke", "--cert", sd.cert, sd.valid},
			code: 2, stderr: []string{"give either SERIAL (or CN) or --cert FILE, not both"}},
		{name: "revoke nothing", args: []string{"revoke"},
			code: 2, stderr: []string{"which certificate?"}, hint: true},
		{name: "revoke --cert garbage", args: []string{"revoke", "--cert", garbage},
			code: 1, stderr: []string{garbage + ": neither PEM nor a DER certificate"}},
		{name: "revoke with a wrong CA password", args: []string{"revoke", "--ca-password-file", wrongPW, sd.valid},
			code: 1, stderr: []string{"the CA password does not decrypt"}, hint: true},

		// crl
		{name: "crl with a wrong CA password", args: []string{"crl", "--ca-password-file", wrongPW},
			code: 1, stderr: []string{"the CA password does not decrypt"}, hint: true},
		{name: "crl without a CA password", args: []string{"crl"}, env: map[string]string{"CERTMINT_CA_PASSWORD": ""},
			code: 1, stderr: []string{"no CA password given"}, hint: true},
		{name: "crl with a stray argument", args: []string{"crl", "now"},
			code: 2, stderr: []string{`unexpected argument "now"`}, hint: true},

		// serve (every case is refused before it listens)
		{name: "serve on a bad address", args: []string{"serve", "--addr", "localhost"},
			code: 2, stderr: []string{"--addr", "localhost"}, hint: true},
		{name: "serve on a port out of range", args: []string{"serve", "--addr", "127.0.0.1:99999"},
			code: 2, stderr: []string{"--addr", "99999"}, hint: true},
		{name: "serve a --dir that is a file", args: []string{"serve", "--dir", notADir},
			code: 2, stderr: []string{"--dir " + notADir + " is not a folder"}},
		{name: "serve without a CA or --dir", args: []string{"serve", "--home", noHome},
			code: 2, stderr: []string{"no CA in"}, hint: true},
		{name: "serve with a zero check interval", args: []string{"serve", "--check-every", "0s"},
			code: 2, stderr: []string{"--check-every must be positive"}},

		// list, status, log
		{name: "list with a bad --status", args: []string{"list", "--status", "active"},
			code: 2, stderr: []string{`unknown status "active"`}, hint: true},
		{name: "list with a bad --expiring", args: []string{"list", "--expiring", "soon"},
			code: 2, stderr: []string{`--expiring: "soon" is not a time span`}, hint: true},
		{name: "list without a CA", args: []string{"list", "--home", noHome},
			code: 1, stderr: []string{"no CA in " + noHome}, hint: true},
		{name: "status with a bad --warn", args: []string{"status", "--warn", "a week"},
			code: 2, stderr: []string{"--warn:"}, hint: true},
		{name: "status with a bad --crl-warn", args: []string{"status", "--crl-warn", "-"},
			code: 2, stderr: []string{"--crl-warn:"}, hint: true},
		{name: "log with a bad --since", args: []string{"log", "--since", "yesterday"},
			code: 2, stderr: []string{`--since "yesterday" is neither a time span nor a date`}, hint: true},
		{name: "log with a bad --serial", args: []string{"log", "--serial", "xyz"},
			code: 2, stderr: []string{`--serial: serial "xyz" is not hexadecimal`}},
		{name: "log with an unknown --action", args: []string{"log", "--action", "issued"},
			code: 2, stderr: []string{`--action "issued" is not a kind of event certmint records`}, hint: true},

		// check
		{name: "check without a certificate", args: []string{"check", "--template", "server"},
			code: 2, stderr: []string{"give --cert FILE or --pfx FILE"}, hint: true},
		{name: "check with an unknown template", args: []string{"check", "--template", "sevrer", "--cert", sd.cert},
			code: 2, stderr: []string{`no built-in template "sevrer"`, `certmint: hint: did you mean "server"?`}, hint: true},
		{name: "check with a broken template", args: []string{"check", "--template", badTOML, "--cert", sd.cert},
			code: 1, stderr: []string{"broken.toml:2:"}, hint: true},
		{name: "check a file that is not a certificate", args: []string{"check", "--template", "server", "--cert", garbage},
			code: 2, stderr: []string{garbage}},
		{name: "check --at garbage", args: []string{"check", "--template", "server", "--cert", sd.cert, "--at", "next tuesday"},
			code: 2, stderr: []string{`--at: "next tuesday" is not a date`}, hint: true},
		{name: "check --pfx with --cert", args: []string{"check", "--template", "server", "--cert", sd.cert, "--pfx", fx("modern.pfx")},
			code: 2, stderr: []string{"give either --pfx or --cert/--key, not both"}},

		// inspect
		{name: "inspect a missing file", args: []string{"inspect", filepath.Join(tmp, "none.crt")},
			code: 2, stderr: []string{"none.crt", "no such file"}, hint: true},
		{name: "inspect a garbage file", args: []string{"inspect", garbage},
			code: 1, stderr: []string{"not a certificate, certificate request, CRL, private key or PKCS#12 file"}},
		{name: "inspect a .pfx with a wrong password", args: []string{"inspect", fx("modern.pfx")}, env: map[string]string{"CERTMINT_PASSWORD": "wrong-pfx-pw"},
			code: 1, stderr: []string{"the password does not open the PKCS#12 file"}, hint: true},

		// convert
		{name: "convert to an unknown form", args: []string{"convert", "--in", fx("server.crt"), "--to", "p7b", "--out", "{out}"},
			code: 2, stderr: []string{`--to "p7b": unknown form`}, hint: true},
		{name: "convert without --in", args: []string{"convert", "--to", "pem", "--out", "{out}"},
			code: 2, stderr: []string{"--in is required"}},
		{name: "convert a key that is not the certificate's", args: []string{"convert", "--in", fx("client.crt"), "--key", fx("server.key"), "--to", "pfx", "--out", "{out}"},
			code: 1, stderr: []string{"does not belong to any certificate in"}, hint: true},
		{name: "convert a missing file", args: []string{"convert", "--in", filepath.Join(tmp, "none.pfx"), "--to", "pem", "--out", "{out}"},
			code: 2, stderr: []string{"--in: ", "none.pfx", "no such file"}, hint: true},

		// export-ca
		{name: "export-ca without a CA", args: []string{"export-ca", "--home", noHome, "--out", "{out}"},
			code: 1, stderr: []string{"no CA in " + noHome}, hint: true},
		{name: "export-ca into a file", args: []string{"export-ca", "--out", notADir},
			code: 2, stderr: []string{"is not a folder"}, hint: true},

		// db
		{name: "db migrate without --to", args: []string{"db", "migrate"},
			code: 2, stderr: []string{"--to is required (see `certmint db migrate --help`)"}},
		{name: "db migrate to a URL with a password", args: []string{"db", "migrate", "--to", "postgres://ca:db-s3cret@db.example.com/certmint"},
			code: 2, stderr: []string{"--to holds a password"}, hint: true},
		{name: "db migrate to MySQL", args: []string{"db", "migrate", "--to", "mysql://ca@db.example.com/certmint"},
			code: 2, stderr: []string{"is not a postgres:// URL"}},
		{name: "db with an unknown subcommand", args: []string{"db", "migrat"},
			code: 2, stderr: []string{`unknown command "db migrat"`, "did you mean `certmint db migrate`?"}, hint: true},

		// templates
		{name: "templates show an unknown name", args: []string{"templates", "show", "sever"},
			code: 2, stderr: []string{`no built-in template "sever"`, `did you mean "server"?`}, hint: true},
		{name: "templates show a broken file", args: []string{"templates", "show", badTOML},
			code: 1, stderr: []string{"broken.toml:2:"}, hint: true},
		{name: "templates with an unknown subcommand", args: []string{"templates", "shwo", "server"},
			code: 2, stderr: []string{`unknown command "templates shwo"`, "did you mean `certmint templates show`?"}, hint: true},
		{name: "templates list with a stray argument", args: []string{"templates", "list", "server"},
			code: 2, stderr: []string{`unexpected argument "server"`}, hint: true},

		// hostile text (issue 11 item 6): what comes from a certificate, a
		// CSR, a CSV row or the command line is shown escaped, never raw
		{name: "revoke --cert a certificate with escapes in its names", args: []string{"revoke", "--cert", hostileCrt},
			code: 2, stderr: []string{`certificate "evil\x1b[31mred\x1b[2J\x1b]0;pwned\a\nFAKE: ok\u202egnp.exe\u200b\ufeff" (serial 2A) was not issued by this CA`}, hint: true},
		{name: "sign a CSR with escapes in its names", args: []string{"sign", "--template", "client", "--csr", hostileCSR, "--out", "{out}"},
			code: 2, stderr: []string{`invalid SAN "DNS:a\x1b[2J.example.com"`}, hint: true},
		{name: "issue a CN with a bidi override", args: []string{"issue", "--template", "client", "--cn", "bob\u202egnp.exe", "--out", "{out}"},
			code: 2, stderr: []string{"the common name contains a control character or an invisible formatting character"}, hint: true},
		{name: "issue a subject field with an escape sequence", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--subject", "O=Evil\x1b[31m", "--out", "{out}"},
			code: 2, stderr: []string{`subject field O contains a control character or an invisible formatting character: "Evil\x1b[31m"`}, hint: true},
		{name: "issue a subject field with a zero-width space", args: []string{"issue", "--template", "client", "--cn", "a.example.com", "--subject", "OU=La\u200bbs", "--out", "{out}"},
			code: 2, stderr: []string{`subject field OU contains`}, hint: true},
		{name: "batch of a CSV whose CN has an escape sequence", args: []string{"batch", "--template", "server", "--input", escCSV, "--random-passwords", "--out", "{out}"},
			code: 1, stderr: []string{`line 2 ("evil\x1b[2J.example.com"): the common name contains a control character`, "1 of 1 rows failed"}, stdout: "0 issued"},
		{name: "batch of a CSV whose CN has a bidi override", args: []string{"batch", "--template", "server", "--input", bidiCSV, "--random-passwords", "--out", "{out}"},
			code: 1, stderr: []string{`line 2 ("host\u202egnp.example.com"):`, "1 of 1 rows failed"}, stdout: "0 issued"},
		{name: "issue --cn with an escape sequence", args: []string{"issue", "--template", "client", "--cn", "bob\x1b[31m", "--out", "{out}"},
			code: 2, stderr: []string{"the common name contains a control character"}, hint: true},
		{name: "issue --name starting with a hyphen", args: []string{"issue", "--template", "server", "--cn", "www.example.com", "--name=-rf", "--out", "{out}"},
			code: 2, stderr: []string{`--name "-rf" is not a usable file name`, `try --name "_-rf"`}, hint: true},
		{name: "issue --name with a bidi override", args: []string{"issue", "--template", "server", "--cn", "www.example.com", "--name", "invoice\u202egnp.exe", "--out", "{out}"},
			code: 2, stderr: []string{`--name "invoice\u202egnp.exe" is not a usable file name`, `try --name "invoicegnp.exe"`}, hint: true},
		{name: "csr --san with a bidi override", args: []string{"csr", "--template", "server", "--cn", "www.example.com", "--san", "www\u202e.example.com", "--out", "{out}"},
			code: 2, stderr: []string{`\u202e`}, hint: true},
		{name: "inspect a missing file whose name has escapes", args: []string{"inspect", escMissing},
			code: 2, stderr: []string{`none\x1b[2J\u202e.crt`, "no such file"}, hint: true},
		{name: "check --template with an escape sequence", args: []string{"check", "--template", "sev\x1b[2Jrer", "--cert", hostileCrt},
			code: 2, stderr: []string{`no built-in template "sev\x1b[2Jrer"`}, hint: true},
		{name: "log --action with an escape sequence", args: []string{"log", "--action", "issue\x1b[2J"},
			code: 2, stderr: []string{`--action "issue\x1b[2J"`}, hint: true},
		{name: "revoke a serial with a newline", args: []string{"revoke", "0A\nFAKE"},
			code: 2, stderr: []string{`the CN "0A\nFAKE"`}, hint: true},
		{name: "convert a certificate with escapes in its names and another key", args: []string{"convert", "--in", hostileCrt, "--key", fx("server.key"), "--to", "pfx", "--out", "{out}"},
			code: 1, stderr: []string{"does not belong to any certificate in"}, hint: true},

		// the command line itself
		{name: "unknown command", args: []string{"isue", "--template", "server"},
			code: 2, stderr: []string{`unknown command "isue"`, "did you mean `certmint issue`?"}, hint: true},
		{name: "unknown global flag", args: []string{"--hme", "x", "list"},
			code: 2, stderr: []string{"unknown flag --hme", "certmint: hint: did you mean --home?"}, hint: true},

		// init, beyond TestCLIBadInput
		{name: "init with a three-letter country", args: []string{"init", "--home", "{out}/new", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x", "--country", "USA"},
			code: 2, stderr: []string{`country "USA" must be a two-letter`}},
		{name: "init with one name for both CAs", args: []string{"init", "--home", "{out}/new", "--root-cn", "Acme CA", "--issuing-cn", "Acme CA", "--base-url", "http://x"},
			code: 2, stderr: []string{"need different names"}},
		{name: "init with the issuing CA outliving the root", args: []string{"init", "--home", "{out}/new", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x", "--root-days", "100", "--issuing-days", "200"},
			code: 2, stderr: []string{"must expire before the root"}},
		{name: "init with a password in --database-url", args: []string{"init", "--home", "{out}/new", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x", "--database-url", "postgres://ca:db-s3cret@db.example.com/certmint"},
			code: 2, stderr: []string{"--database-url holds a password"}, hint: true},

		// Issue 11 item 5: a validity that overflows a time.Duration
		// (106752 days), passes 100 years or outlives the issuing CA, on
		// every way in.
		{name: "issue --days 106752", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--days", "106752", "--out", "{out}"},
			code: 2, stderr: []string{"--days 106752 is more than 36500 (100 years)"}, hint: true},
		{name: "issue --days 36501", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--days", "36501", "--out", "{out}"},
			code: 2, stderr: []string{"--days 36501 is more than 36500"}, hint: true},
		{name: "issue --days past the issuing CA", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--days", "3651", "--out", "{out}"},
			code: 2, stderr: []string{"a certificate valid for 3651 days would outlive the issuing CA, which expires on"}, hint: true},
		{name: "issue --days 0", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--days", "0", "--out", "{out}"},
			code: 2, stderr: []string{"--days must be positive, not 0"}, hint: true},
		{name: "issue --days beyond an int", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--days", "99999999999999999999", "--out", "{out}"},
			code: 2, stderr: []string{"99999999999999999999", "-days"}},
		{name: "sign --days 106752", args: []string{"sign", "--template", "server", "--csr", csrGood, "--days", "106752", "--out", "{out}"},
			code: 2, stderr: []string{"--days 106752 is more than 36500"}, hint: true},
		{name: "sign --days 0", args: []string{"sign", "--template", "server", "--csr", csrGood, "--days", "0", "--out", "{out}"},
			code: 2, stderr: []string{"--days must be positive, not 0"}, hint: true},
		{name: "sign --days past the issuing CA", args: []string{"sign", "--template", "server", "--csr", csrGood, "--days", "3651", "--out", "{out}"},
			code: 2, stderr: []string{"would outlive the issuing CA"}, hint: true},
		{name: "renew --days 106752", args: []string{"renew", "--out", "{out}", "--days", "106752", sd.valid},
			code: 2, stderr: []string{"--days 106752 is more than 36500"}, hint: true},
		{name: "renew --days -1", args: []string{"renew", "--out", "{out}", "--days", "-1", sd.valid},
			code: 2, stderr: []string{"--days must be positive, not -1"}, hint: true},
		{name: "renew --days past the issuing CA", args: []string{"renew", "--out", "{out}", "--days", "3651", sd.valid},
			code: 2, stderr: []string{"would outlive the issuing CA"}, hint: true},
		{name: "safeq --days 106752", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "--days", "106752", "--out", "{out}"},
			code: 2, stderr: []string{"--days 106752 is more than 36500"}, hint: true},
		{name: "safeq --days -1", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "--days", "-1", "--out", "{out}"},
			code: 2, stderr: []string{"--days must be positive, not -1"}, hint: true},
		{name: "safeq --self-signed --days 106752", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "--self-signed", "--days", "106752", "--out", "{out}"},
			code: 2, stderr: []string{"--days 106752 is more than 36500"}, hint: true},
		{name: "batch with days 106752 in the CSV", args: []string{"batch", "--template", "server", "--input", overflowCSV, "--out", "{out}"},
			code: 1, stderr: []string{"line 2 (h1.example.com): days 106752 is more than 36500 (100 years)", "1 of 1 rows failed"}, stdout: "0 issued"},
		{name: "batch with days -1 in the CSV", args: []string{"batch", "--template", "server", "--input", negativeCSV, "--out", "{out}"},
			code: 1, stderr: []string{`line 2 (h1.example.com): days "-1" is not a positive number`}, stdout: "0 issued"},
		{name: "batch with days 0 in the CSV", args: []string{"batch", "--template", "server", "--input", zeroCSV, "--out", "{out}"},
			code: 1, stderr: []string{`line 2 (h1.example.com): days "0" is not a positive number`}, stdout: "0 issued"},
		{name: "batch with days past the issuing CA in the CSV", args: []string{"batch", "--template", "server", "--input", outliveCSV, "--out", "{out}"},
			code: 1, stderr: []string{"line 2 (h1.example.com): a certificate valid for 3651 days would outlive the issuing CA", "1 of 1 rows failed"}, stdout: "0 issued"},
		{name: "init --root-days 106752", args: []string{"init", "--home", "{out}/new", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x", "--root-days", "106752"},
			code: 2, stderr: []string{"--root-days 106752 is more than 36500 (100 years)"}},

		// Issue 11 item 7: --base-url is parsed and validated; nothing
		// unsafe reaches a CDP.
		{name: "init --base-url with a quote", args: initArgs(`http://pki.example.com/"onmouseover=x`),
			code: 2, stderr: []string{`--base-url: base URL "http://pki.example.com/\"onmouseover=x" contains '"'`}, hint: true},
		{name: "init --base-url with <", args: initArgs("http://pki.example.com/<script>"),
			code: 2, stderr: []string{"contains '<'"}, hint: true},
		{name: "init --base-url with a space", args: initArgs("http://pki.example.com/my pki"),
			code: 2, stderr: []string{"contains a space"}, hint: true},
		{name: "init --base-url with a backslash", args: initArgs(`http://pki.example.com\pki`),
			code: 2, stderr: []string{`contains '\\'`}, hint: true},
		{name: "init --base-url with an escape sequence", args: initArgs("http://pki.example.com/\x1b[31mred"),
			code: 2, stderr: []string{`\x1b[31mred`, "control character (U+001B)"}, hint: true},
		{name: "init --base-url with an escaped <", args: initArgs("http://pki.example.com/%3Cscript%3E"),
			code: 2, stderr: []string{"%3C in its path, which stands for '<'"}, hint: true},
		{name: "init --base-url with user info", args: initArgs("http://admin:db-s3cret@pki.example.com/pki"),
			code: 2, stderr: []string{`base URL "http://admin:xxxxx@pki.example.com/pki" must not hold a user name or password`}, hint: true},
		{name: "init --base-url with https", args: initArgs("https://pki.example.com/pki"),
			code: 2, stderr: []string{"must use http://, not https://"}, hint: true},
		{name: "init --base-url with a query", args: initArgs("http://pki.example.com/pki?x=1"),
			code: 2, stderr: []string{"must not have a query"}, hint: true},
		{name: "init --base-url with a fragment", args: initArgs("http://pki.example.com/pki#top"),
			code: 2, stderr: []string{"must not have a fragment"}, hint: true},
		{name: "init --base-url with port 0", args: initArgs("http://pki.example.com:0/pki"),
			code: 2, stderr: []string{"has port 0; a port is a number from 1 to 65535"}, hint: true},
		{name: "init --base-url with port 70000", args: initArgs("http://pki.example.com:70000/pki"),
			code: 2, stderr: []string{"has port 70000; a port is a number from 1 to 65535"}, hint: true},
		{name: "issue with a quote in certmint.toml's base_url", args: []string{"issue", "--template", "server", "--cn", "a.example.com", "--out", "{out}"},
			setup: editBaseURL(`http://pki.cli.test/"><x`),
			code:  1, stderr: []string{ca.ConfigFile + `: base URL "http://pki.cli.test/\"><x" contains '"'`, "fix base_url there"}},

		// Issue 11 item 8: renew of a revoked certificate needs --force.
		{name: "renew a revoked certificate", args: []string{"renew", "--out", "{out}", sd.revoked},
			code: 1, stderr: []string{"certificate " + sd.revoked + " was revoked on ", "(superseded)", "renewing it would put a new certificate", "--force"}, hint: true},
	}

	commands := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "pki")
			copyTree(t, sd.home, home)
			out := t.TempDir()
			// Anything written relative to the working folder lands in out,
			// which is checked.
			t.Chdir(out)
			t.Setenv("CERTMINT_HOME", home)
			t.Setenv("CERTMINT_CA_PASSWORD", caPW)
			t.Setenv("CERTMINT_PASSWORD", bundlePW)
			t.Setenv(ca.DatabaseURLEnv, "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.setup != nil {
				tc.setup(t, home, out)
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.NewReplacer("{home}", home, "{out}", out).Replace(a)
			}
			before := snapshot(t, home, out)

			// serve must be refused before it listens; the deadline turns a
			// server that started anyway into a failure, not a hang.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdoutBuf, stderrBuf bytes.Buffer
			code := run(ctx, append([]string{"certmint"}, args...), &stdoutBuf, &stderrBuf)
			stdout, stderr := stdoutBuf.String(), stderrBuf.String()
			t.Logf("certmint %q\nexit %d\n%s", tc.args, code, stderr)

			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.HasPrefix(stderr, "certmint: error: ") {
				t.Errorf("stderr does not start with \"certmint: error: \":\n%s", stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tc.hint && !strings.Contains(stderr, "\ncertmint: hint: ") {
				t.Errorf("no hint line:\n%s", stderr)
			}
			for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
				if !strings.HasPrefix(line, "certmint: ") {
					t.Errorf("stderr line without the certmint: prefix: %q", line)
				}
			}
			for _, trace := range []string{"goroutine ", "panic:", "runtime error", ".go:"} {
				if strings.Contains(stderr, trace) || strings.Contains(stdout, trace) {
					t.Errorf("stack trace or Go source position in the output (%q):\n%s%s", trace, stdout, stderr)
				}
			}
			// Nothing from the input reaches the terminal raw (issue 11
			// item 6): no control character but newline and tab, no bidi
			// or zero-width character.
			if r, ok := rawControl(stdout); ok {
				t.Errorf("stdout holds a raw %U:\n%+q", r, stdout)
			}
			if r, ok := rawControl(stderr); ok {
				t.Errorf("stderr holds a raw %U:\n%+q", r, stderr)
			}
			for _, secret := range []string{caPW, bundlePW, "db-s3cret"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("the output shows a secret %q:\n%s%s", secret, stdout, stderr)
				}
			}
			// Issue 11: nothing hostile reaches the terminal raw.
			for _, out := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", stderr}} {
				for i := 0; i < len(out.text); i++ {
					if b := out.text[i]; (b < 0x20 && b != '\n' && b != '\t') || b == 0x7f {
						t.Errorf("%s holds a raw control byte %#02x: %q", out.name, b, out.text)
						break
					}
				}
			}
			if tc.stdout == "" && stdout != "" {
				t.Errorf("stdout is not empty on error:\n%s", stdout)
			}
			noControlBytes(t, "stdout", stdout)
			noControlBytes(t, "stderr", stderr)
			if tc.stdout != "" && !strings.Contains(stdout, tc.stdout) {
				t.Errorf("the report on stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if after := snapshot(t, home, out); after != before {
				t.Errorf("the refused command changed files or the database:\n%s", diffLines(before, after))
			}
		})
		cmd := tc.args[0]
		if cmd == "db" || cmd == "templates" {
			cmd += " " + tc.args[1]
		}
		commands[cmd] = true
	}
	if len(tests) < 40 {
		t.Errorf("%d cases; issue 7 asks for at least 40", len(tests))
	}
	for _, want := range []string{"safeq", "batch", "csr", "sign", "renew", "revoke", "crl", "serve", "list", "status",
		"check", "log", "inspect", "convert", "export-ca", "db migrate", "templates show", "init"} {
		if !commands[want] {
			t.Errorf("no bad-input case for %s", want)
		}
	}
}

// diffLines shows the lines only in a and only in b.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// noControlBytes fails when the output holds a raw control byte other than
// \n and \t: hostile text (a SAN, a file name, a URL) must reach a terminal
// escaped.
func noControlBytes(t *testing.T, what, s string) {
	t.Helper()
	for i, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Errorf("%s holds the raw control character %U at byte %d:\n%q", what, r, i, s)
			return
		}
	}
}

// TestCLIBadInputSymlinks is issue 11 item 2: a symbolic link planted where
// certmint writes, appends, chmods, renames or removes. Each case asserts
// what TestCLIBadInputAllCommands does (exit status, a message naming the
// link, a hint, nothing changed in the home, the output folder or the
// database) and that the link's target, outside both, is unchanged: content
// and mode, compared by hash, and no file appeared beside it.
func TestCLIBadInputSymlinks(t *testing.T) {
	sd := seedHome(t)
	tmp := t.TempDir()
	goodCSV := writeFile(t, tmp, "good.csv", "cn,san\nh1.example.com,h1.example.com\n", 0o644)
	csr := csrFile(t, tmp, "good.csr", mustECKey(t), "signed.example.com", "signed.example.com")
	const linkMsg = "is a symbolic link; certmint does not write through links"

	// link plants a symbolic link at out/name (or home/name) to target.
	link := func(t *testing.T, target, dir string, name ...string) {
		t.Helper()
		p := filepath.Join(append([]string{dir}, name...)...)
		if err := os.Symlink(target, p); err != nil {
			t.Skipf("cannot make symbolic links here: %v", err)
		}
	}

	tests := []struct {
		name string
		args []string // {home}, {out} and {victim} (a file outside both) are replaced
		// setup runs with CERTMINT_HOME set; victim is the file outside,
		// elsewhere its folder.
		setup  func(t *testing.T, home, out, victim, elsewhere string)
		code   int
		stderr []string
		hint   bool
		stdout string // a report that is the output; otherwise stdout must be empty
	}{
		// batch
		{name: "batch --random-passwords into a linked passwords.csv", args: []string{"batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) { link(t, victim, out, "passwords.csv") },
			code:  1, stderr: []string{"{out}/passwords.csv " + linkMsg, "remove it or choose another --out"}, hint: true},
		{name: "batch --random-passwords into a dangling passwords.csv link", args: []string{"batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				link(t, filepath.Join(elsewhere, "created.csv"), out, "passwords.csv")
			},
			code: 1, stderr: []string{"{out}/passwords.csv " + linkMsg}, hint: true},
		{name: "batch into a linked row folder that looks torn", args: []string{"batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				// A folder outside holding the row's file names: followed,
				// it would be called torn and replaced.
				row := filepath.Join(elsewhere, "row")
				os.Mkdir(row, 0o755)
				writeFile(t, row, "h1.example.com.crt", "not a certificate", 0o644)
				writeFile(t, row, "h1.example.com.key", "someone's key", 0o600)
				writeFile(t, row, "notes.txt", "someone else's file", 0o644)
				link(t, row, out, "h1.example.com")
			},
			code: 1, stderr: []string{"line 2 (h1.example.com): {out}/h1.example.com " + linkMsg, "remove it or choose another --out", "1 of 1 rows failed"}, stdout: "0 issued"},
		{name: "batch into a dangling linked row folder", args: []string{"batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				link(t, filepath.Join(elsewhere, "row"), out, "h1.example.com")
			},
			code: 1, stderr: []string{"line 2 (h1.example.com): {out}/h1.example.com " + linkMsg}, stdout: "0 issued"},
		{name: "batch into a row folder linked inside OUT", args: []string{"batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				os.Mkdir(filepath.Join(out, "other"), 0o755)
				link(t, "other", out, "h1.example.com")
			},
			code: 1, stderr: []string{"{out}/h1.example.com " + linkMsg}, stdout: "0 issued"},

		// doctor --repair
		{name: "doctor --repair of a linked passwords.csv", args: []string{"doctor", "--repair", "--temp-age", "0"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				if code, _, stderr := runCLI(t, "batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--out", out); code != 0 {
					t.Fatalf("seeding the batch: %s", stderr)
				}
				os.Remove(filepath.Join(out, "passwords.csv"))
				link(t, victim, out, "passwords.csv")
			},
			code: 1, stderr: []string{"need attention"}, hint: true,
			stdout: "the repair failed: {out}/passwords.csv " + linkMsg},
		{name: "doctor --repair of a linked leftover", args: []string{"doctor", "--repair", "--temp-age", "0"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				if code, _, stderr := runCLI(t, "batch", "--template", "server", "--input", goodCSV, "--random-passwords", "--out", out); code != 0 {
					t.Fatalf("seeding the batch: %s", stderr)
				}
				link(t, elsewhere, out, ".certmint-tmp-planted")
			},
			code: 1, stderr: []string{"need attention"}, hint: true,
			stdout: "the repair failed: {out}/.certmint-tmp-planted " + linkMsg},

		// bundle writes
		{name: "issue over a linked BASE.key", args: []string{"issue", "--template", "server", "--cn", "h1.example.com", "--format", "crt,key", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) { link(t, victim, out, "h1.example.com.key") },
			code:  1, stderr: []string{"{out}/h1.example.com.key " + linkMsg, "remove it or choose another --out"}, hint: true},
		{name: "issue --force over a linked BASE.key", args: []string{"issue", "--template", "server", "--cn", "h1.example.com", "--format", "crt,key", "--force", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) { link(t, victim, out, "h1.example.com.key") },
			code:  1, stderr: []string{"{out}/h1.example.com.key " + linkMsg}, hint: true},
		{name: "issue over a dangling BASE.crt link", args: []string{"issue", "--template", "server", "--cn", "h1.example.com", "--format", "crt,key", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				link(t, filepath.Join(elsewhere, "created.crt"), out, "h1.example.com.crt")
			},
			code: 1, stderr: []string{"{out}/h1.example.com.crt " + linkMsg}, hint: true},
		{name: "issue over a linked chain file", args: []string{"issue", "--template", "server", "--cn", "h1.example.com", "--format", "crt,chain", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				link(t, victim, out, "h1.example.com-chain.pem")
			},
			code: 1, stderr: []string{"{out}/h1.example.com-chain.pem " + linkMsg}, hint: true},
		{name: "sign over a linked BASE.crt", args: []string{"sign", "--template", "server", "--csr", csr, "--force", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				link(t, victim, out, "signed.example.com.crt")
			},
			code: 1, stderr: []string{"{out}/signed.example.com.crt " + linkMsg}, hint: true},
		{name: "renew over a linked BASE.crt", args: []string{"renew", "--force", "--out", "{out}", sd.valid},
			setup: func(t *testing.T, home, out, victim, elsewhere string) { link(t, victim, out, "valid.example.com.crt") },
			code:  1, stderr: []string{"{out}/valid.example.com.crt " + linkMsg}, hint: true},
		{name: "safeq over a linked .pfx", args: []string{"safeq", "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "-SubjectAlternativeNames", "safeq.example.com", "--force", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) { link(t, victim, out, "SafeQ.pfx") },
			code:  1, stderr: []string{"{out}/SafeQ.pfx " + linkMsg}, hint: true},
		{name: "csr over a linked key", args: []string{"csr", "--template", "server", "--cn", "www.example.com", "--force", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) { link(t, victim, out, "www.example.com.key") },
			code:  1, stderr: []string{"{out}/www.example.com.key " + linkMsg}, hint: true},
		{name: "export-ca over a linked CA certificate with the same content", args: []string{"export-ca", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				// The link's target holds what export-ca would write: still
				// refused, not taken for the file already there.
				if code, _, stderr := runCLI(t, "export-ca", "--out", elsewhere); code != 0 {
					t.Fatal(stderr)
				}
				ents, _ := filepath.Glob(filepath.Join(elsewhere, "*.cer"))
				link(t, ents[0], out, filepath.Base(ents[0]))
			},
			code: 1, stderr: []string{linkMsg}, hint: true},
		{name: "convert over a linked output", args: []string{"convert", "--in", sd.cert, "--to", "der", "--force", "--out", "{out}"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) { link(t, victim, out, "valid.example.com.der") },
			code:  1, stderr: []string{"{out}/valid.example.com.der " + linkMsg}, hint: true},

		// public/ and the home
		{name: "crl into a public/ linked out of the home", args: []string{"crl"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				pub := filepath.Join(home, "public")
				copyTree(t, pub, filepath.Join(elsewhere, "public"))
				os.RemoveAll(pub)
				link(t, filepath.Join(elsewhere, "public"), home, "public")
			},
			code: 1, stderr: []string{"{home}/public is a symbolic link leading out of {home}; certmint does not write through links", "certmint serve"}, hint: true},
		{name: "crl over a linked CRL", args: []string{"crl"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				os.Remove(filepath.Join(home, "public", "cli-issuing-ca.crl"))
				link(t, victim, home, "public", "cli-issuing-ca.crl")
			},
			code: 1, stderr: []string{"{home}/public/cli-issuing-ca.crl " + linkMsg, "public/"}, hint: true},
		{name: "init --home at a link to an empty folder", args: []string{"init", "--home", "{out}/new", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x"},
			setup: func(t *testing.T, home, out, victim, elsewhere string) {
				os.Mkdir(filepath.Join(elsewhere, "empty"), 0o755)
				link(t, filepath.Join(elsewhere, "empty"), out, "new")
			},
			code: 1, stderr: []string{"{out}/new " + linkMsg, "--home"}, hint: true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "pki")
			copyTree(t, sd.home, home)
			out := t.TempDir()
			elsewhere := t.TempDir()
			victim := writeFile(t, elsewhere, "victim", "the file a link points at\n", 0o644)
			t.Chdir(out)
			t.Setenv("CERTMINT_HOME", home)
			t.Setenv("CERTMINT_CA_PASSWORD", caPW)
			t.Setenv("CERTMINT_PASSWORD", "bundle-pw-4f7a")
			t.Setenv(ca.DatabaseURLEnv, "")
			tc.setup(t, home, out, victim, elsewhere)
			r := strings.NewReplacer("{home}", home, "{out}", out, "{victim}", victim)
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = r.Replace(a)
			}
			before, beforeElsewhere := snapshot(t, home, out), snapshot(t, elsewhere)

			code, stdout, stderr := runCLI(t, args...)
			t.Logf("certmint %s\nexit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.HasPrefix(stderr, "certmint: error: ") {
				t.Errorf("stderr does not start with \"certmint: error: \"")
			}
			for _, want := range tc.stderr {
				if want = r.Replace(want); !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q", want)
				}
			}
			if tc.hint && !strings.Contains(stderr, "\ncertmint: hint: ") {
				t.Errorf("no hint line")
			}
			if want := r.Replace(tc.stdout); want == "" && stdout != "" || !strings.Contains(stdout, want) {
				t.Errorf("stdout: want %q", want)
			}
			noControlBytes(t, "stdout", stdout)
			noControlBytes(t, "stderr", stderr)
			if after := snapshot(t, home, out); after != before {
				t.Errorf("the refused command changed files or the database:\n%s", diffLines(before, after))
			}
			if after := snapshot(t, elsewhere); after != beforeElsewhere {
				t.Errorf("the refused command changed files outside the home and the output folder:\n%s", diffLines(beforeElsewhere, after))
			}
		})
	}
}

func mustECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// syncBuffer is a bytes.Buffer safe to write from serve's goroutines while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCLIServeRefusesLinks is issue 11 item 2 for `serve`: a link in
// public/ to the CA key (absolute or relative) answers 404 and a warning
// that says why, and not a byte of the key leaves; the key is unchanged.
func TestCLIServeRefusesLinks(t *testing.T) {
	home := newHome(t)
	keys, _ := filepath.Glob(filepath.Join(home, "*", ca.KeyFile))
	if len(keys) == 0 {
		t.Fatal("no CA key in the fixture")
	}
	caKey := keys[0]
	pub := filepath.Join(home, ca.PublicDir)
	rel, _ := filepath.Rel(pub, caKey)
	for name, target := range map[string]string{"evil.crt": caKey, "evil.crl": rel, "evil.pem": filepath.Join(filepath.Dir(home), "nothing")} {
		if err := os.Symlink(target, filepath.Join(pub, name)); err != nil {
			t.Skipf("cannot make symbolic links here: %v", err)
		}
	}
	crls, _ := filepath.Glob(filepath.Join(pub, "*.crl"))
	var good string
	for _, c := range crls {
		if filepath.Base(c) != "evil.crl" {
			good = filepath.Base(c)
		}
	}
	before := snapshot(t, home, filepath.Dir(caKey))
	t.Setenv("CERTMINT_CA_PASSWORD", "") // served without re-signing

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"certmint", "serve", "--home", home, "--addr", "127.0.0.1:0", "--quiet"}, &stdout, &stderr)
	}()
	var base string
	for base == "" {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if _, rest, ok := strings.Cut(stderr.String(), " at http://"); ok {
			host, _, _ := strings.Cut(rest, "/")
			base = "http://" + host
		}
	}
	for _, tc := range []struct {
		path   string
		status int
		warn   string
	}{
		{"/evil.crt", 404, `certmint: warning: not serving "evil.crt": a symbolic link that leaves ` + pub},
		{"/evil.crl", 404, `certmint: warning: not serving "evil.crl": a symbolic link that leaves ` + pub},
		{"/evil.pem", 404, `certmint: warning: not serving "evil.pem": a symbolic link that leaves ` + pub},
		{"/" + good, 200, ""},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if bytes.Contains(body, []byte("PRIVATE KEY")) {
			t.Errorf("GET %s sent the CA key", tc.path)
		}
		if tc.warn != "" && !strings.Contains(stderr.String(), tc.warn) {
			t.Errorf("GET %s: no warning %q in:\n%s", tc.path, tc.warn, stderr.String())
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d after Ctrl-C:\n%s", code, stderr.String())
	}
	noControlBytes(t, "stdout", stdout.String())
	noControlBytes(t, "stderr", stderr.String())
	if after := snapshot(t, home, filepath.Dir(caKey)); after != before {
		t.Errorf("serving changed files:\n%s", diffLines(before, after))
	}
}
