package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/ocspload"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

// ocspCase is where the OCSP tests run: commands (issue, revoke) in one
// home, `certmint serve` in another home of the same CA (the same home on
// SQLite; a second host's copy on PostgreSQL).
type ocspCase struct {
	cmdHome, serveHome *caHome
	cmdEnv, serveEnv   []string
	addr               string
	stderr             *lockedBuffer
}

func (c *ocspCase) certmint(t *testing.T, args ...string) result {
	t.Helper()
	r := execute(c.cmdEnv, "", certmintBin, args...)
	if r.Code != 0 {
		t.Fatalf("certmint failed:\n%s", r)
	}
	return r
}

// issueLeaf issues a `client` certificate with --ocsp and returns its file
// and serial.
func (c *ocspCase) issueLeaf(t *testing.T, cn string) (string, *x509.Certificate) {
	t.Helper()
	dir := filepath.Join(workDir, c.cmdHome.Label+"-bundles")
	os.MkdirAll(dir, 0o700)
	r := c.certmint(t, "issue", "--template", "client", "--cn", cn, "--out", dir, "--format", "crt", "--ocsp", "--json")
	var out issueJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("issue --json: %v\n%s", err, r)
	}
	path := filepath.Join(dir, cn+".crt")
	cert, err := readCert(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.cmdHome.BaseURL + "/ocsp"; !slices.Equal(cert.OCSPServer, []string{want}) {
		t.Errorf("issue --ocsp: AIA OCSP %q, want %q", cert.OCSPServer, want)
	}
	return path, cert
}

// ocspHome makes a CA home for the OCSP tests (RSA CAs: the responder's
// ECDSA key signs under an RSA CA), with env for its commands.
func ocspHome(t *testing.T, label, base string, env func(home string) []string, args ...string) *caHome {
	t.Helper()
	home := filepath.Join(workDir, label+"-pki")
	r := execute(env(home), "", certmintBin, append([]string{"init", "--base-url", base, "--json",
		"--root-cn", "OCSP Root CA", "--issuing-cn", "OCSP Issuing CA", "--key", "rsa:2048"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("init:\n%s", r)
	}
	if !strings.Contains(r.Stdout, `"ocsp_url":"`+base+`/ocsp"`) {
		t.Errorf("init --json does not give the OCSP URL:\n%s", r.Stdout)
	}
	return homeAt(t, label, home, base)
}

// homeAt reads the CA certificates of a home.
func homeAt(t *testing.T, label, home, base string) *caHome {
	t.Helper()
	h := &caHome{Label: label, Home: home, BaseURL: base}
	for _, c := range []*caCert{&h.Root, &h.Issuing} {
		slug := ca.Slug("OCSP Root CA")
		if c == &h.Issuing {
			slug = ca.Slug("OCSP Issuing CA")
		}
		c.Slug, c.Path = slug, filepath.Join(home, slug, "ca.crt")
		cert, err := readCert(c.Path)
		if err != nil {
			t.Fatal(err)
		}
		c.Cert = cert
	}
	return h
}

var (
	opensslStatusRe  = regexp.MustCompile(`(?m)^\S+: (good|revoked|unknown)$`)
	opensslRevokedRe = regexp.MustCompile(`Revocation Time: (.+)`)
	opensslReasonRe  = regexp.MustCompile(`Reason: (\S+)`)
	gnutlsStatusRe   = regexp.MustCompile(`Certificate Status: (good|revoked|unknown)`)
	gnutlsRevokedRe  = regexp.MustCompile(`Revocation time: (.+)`)
)

// seen is what one client says of a certificate.
type seen struct {
	status    string
	revokedAt time.Time
	reason    string
}

// viaOpenSSL asks with `openssl ocsp`: -cert FILE, or -serial.
func (c *ocspCase) viaOpenSSL(t *testing.T, target string, nonce bool) seen {
	t.Helper()
	args := []string{"ocsp", "-issuer", c.serveHome.Issuing.Path, "-url", "http://" + c.addr + "/ocsp", "-CAfile", c.serveHome.Root.Path}
	if strings.HasPrefix(target, "0x") {
		args = append(args, "-serial", target)
	} else {
		args = append(args, "-cert", target)
	}
	if !nonce {
		args = append(args, "-no_nonce")
	}
	r := tool(t, "openssl", args...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "Response verify OK") {
		t.Fatalf("openssl ocsp does not verify the response:\n%s", r)
	}
	if strings.Contains(r.Stderr, "nonce") {
		t.Errorf("openssl ocsp complains about the nonce:\n%s", r)
	}
	m := opensslStatusRe.FindStringSubmatch(r.Stdout)
	if m == nil {
		t.Fatalf("openssl ocsp printed no status:\n%s", r)
	}
	s := seen{status: m[1]}
	if m := opensslRevokedRe.FindStringSubmatch(r.Stdout); m != nil {
		s.revokedAt, _ = time.Parse("Jan _2 15:04:05 2006 MST", strings.TrimSpace(m[1]))
	}
	if m := opensslReasonRe.FindStringSubmatch(r.Stdout); m != nil {
		s.reason = m[1]
	}
	return s
}

// viaGnuTLS asks with GnuTLS's `ocsptool --ask`; --load-signer is the CA
// that delegated the responder.
func (c *ocspCase) viaGnuTLS(t *testing.T, certFile string, nonce bool) seen {
	t.Helper()
	args := []string{"--ask=http://" + c.addr + "/ocsp", "--load-issuer", c.serveHome.Issuing.Path, "--load-cert", certFile,
		"--load-signer", c.serveHome.Issuing.Path}
	if nonce {
		args = append(args, "--nonce")
	}
	r := tool(t, "ocsptool", args...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Verifying OCSP Response: Success.") {
		t.Fatalf("ocsptool does not verify the response:\n%s", r)
	}
	if nonce && !strings.Contains(r.Stdout, "Nonce:") {
		t.Errorf("ocsptool --nonce: no nonce in the response:\n%s", r.Stdout)
	}
	m := gnutlsStatusRe.FindStringSubmatch(r.Stdout)
	if m == nil {
		t.Fatalf("ocsptool printed no status:\n%s", r)
	}
	s := seen{status: m[1]}
	if m := gnutlsRevokedRe.FindStringSubmatch(r.Stdout); m != nil {
		s.revokedAt, _ = time.Parse("Mon Jan 02 15:04:05 MST 2006", strings.TrimSpace(m[1]))
	}
	return s
}

var goStatus = map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}

// viaGo asks with golang.org/x/crypto/ocsp, over POST or GET.
func (c *ocspCase) viaGo(t *testing.T, req []byte, serial *big.Int, get bool) seen {
	t.Helper()
	u := "http://" + c.addr + "/ocsp"
	var resp *http.Response
	var err error
	if get {
		resp, err = http.Get(u + "/" + base64.StdEncoding.EncodeToString(req))
	} else {
		resp, err = http.Post(u, "application/ocsp-request", bytes.NewReader(req))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("%s: %s %s", u, resp.Status, resp.Header.Get("Content-Type"))
	}
	if get && !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
		t.Errorf("GET: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	r, err := ocsp.ParseResponse(body, c.serveHome.Issuing.Cert)
	if err != nil {
		t.Fatalf("x/crypto/ocsp: %v", err)
	}
	if r.SerialNumber.Cmp(serial) != 0 {
		t.Fatalf("answer for serial %x, asked %x", r.SerialNumber, serial)
	}
	s := seen{status: goStatus[r.Status]}
	if r.Status == ocsp.Revoked {
		s.revokedAt = r.RevokedAt
		s.reason = []string{"unspecified", "keyCompromise", "CACompromise", "affiliationChanged", "superseded", "cessationOfOperation", "certificateHold"}[min(r.RevocationReason, 6)]
	}
	return s
}

// rawRequest is an OCSP request for any serial under the issuing CA.
func rawRequest(t *testing.T, issuer *x509.Certificate, serial *big.Int) []byte {
	t.Helper()
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		t.Fatal(err)
	}
	nh, kh := crypto.SHA1.New(), crypto.SHA1.New()
	nh.Write(issuer.RawSubject)
	kh.Write(spki.PublicKey.RightAlign())
	der, err := (&ocsp.Request{HashAlgorithm: crypto.SHA1, IssuerNameHash: nh.Sum(nil), IssuerKeyHash: kh.Sum(nil), SerialNumber: serial}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// strangerCert is a certificate naming the issuing CA as its issuer that
// the CA never issued (signed by another key): ocsptool needs a
// certificate file to ask about a serial.
func strangerCert(t *testing.T, issuer *x509.Certificate, serial *big.Int) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fake := *issuer
	fake.PublicKey = k.Public() // what CreateCertificate checks the key against
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: serial, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)},
		&fake, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stranger.crt")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return path
}

// testOCSP is the acceptance of issue 14 item 1: openssl ocsp (with and
// without a nonce), GnuTLS ocsptool and x/crypto/ocsp over POST and GET
// agree that a certificate is good, revoked (with its time and reason)
// right after `certmint revoke` returns, and that a serial the CA never
// issued is unknown; a GET whose base64 holds "//" is answered.
func testOCSP(t *testing.T, c *ocspCase) {
	leafFile, leaf := c.issueLeaf(t, "ocsp-leaf.example.com")
	otherFile, other := c.issueLeaf(t, "ocsp-other.example.com")
	issuer := c.serveHome.Issuing.Cert
	all := func(t *testing.T, file string, cert *x509.Certificate) map[string]seen {
		t.Helper()
		req, err := ocsp.CreateRequest(cert, issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]seen{
			"openssl":          c.viaOpenSSL(t, file, true),
			"openssl-no_nonce": c.viaOpenSSL(t, file, false),
			"ocsptool":         c.viaGnuTLS(t, file, false),
			"ocsptool-nonce":   c.viaGnuTLS(t, file, true),
			"go-post":          c.viaGo(t, req, cert.SerialNumber, false),
			"go-get":           c.viaGo(t, req, cert.SerialNumber, true),
		}
	}
	agree := func(t *testing.T, what string, got map[string]seen, want string) {
		t.Helper()
		for client, s := range got {
			if s.status != want {
				t.Errorf("%s: %s says %s, want %s", what, client, s.status, want)
			}
		}
	}
	agree(t, "before revoke", all(t, leafFile, leaf), "good")

	before := time.Now().Truncate(time.Second)
	c.certmint(t, "revoke", "--reason", "keyCompromise", ca.SerialHex(leaf.SerialNumber))
	after := time.Now()
	got := all(t, leafFile, leaf) // right after revoke returned
	agree(t, "after revoke", got, "revoked")
	for client, s := range got {
		if s.revokedAt.Before(before) || s.revokedAt.After(after) {
			t.Errorf("%s: revocation time %v, want between %v and %v", client, s.revokedAt, before, after)
		}
		if s.reason != "" && s.reason != "keyCompromise" {
			t.Errorf("%s: reason %q, want keyCompromise", client, s.reason)
		}
	}
	if got["openssl"].reason != "keyCompromise" || got["go-post"].reason != "keyCompromise" {
		t.Errorf("openssl and x/crypto must show the reason: %+v", got)
	}
	agree(t, "the other certificate", all(t, otherFile, other), "good")

	// A serial the CA never issued: one whose GET path has "//".
	var unknown *big.Int
	var req []byte
	for i := int64(1); unknown == nil; i++ {
		s := big.NewInt(0x7e57_0000 + i)
		if r := rawRequest(t, issuer, s); strings.Contains(base64.StdEncoding.EncodeToString(r), "//") {
			unknown, req = s, r
		}
	}
	got = map[string]seen{
		"openssl":   c.viaOpenSSL(t, fmt.Sprintf("0x%x", unknown), true),
		"ocsptool":  c.viaGnuTLS(t, strangerCert(t, issuer, unknown), true),
		"go-post":   c.viaGo(t, req, unknown, false),
		"go-get //": c.viaGo(t, req, unknown, true),
	}
	agree(t, "a serial never issued", got, "unknown")

	// The issuing CA's own certificate, answered by the root's responder.
	r := tool(t, "openssl", "ocsp", "-issuer", c.serveHome.Root.Path, "-cert", c.serveHome.Issuing.Path,
		"-url", "http://"+c.addr+"/ocsp", "-CAfile", c.serveHome.Root.Path)
	if !strings.Contains(r.Stdout, ": good") || !strings.Contains(r.Stderr, "Response verify OK") {
		t.Errorf("the issuing CA at the root's responder:\n%s", r)
	}
}

// TestOCSP runs testOCSP on a SQLite home.
func TestOCSP(t *testing.T) {
	testkit.RequireTool(t, "ocsptool")
	port := freePort(t)
	c := &ocspCase{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	c.cmdHome = ocspHome(t, "ocsp-sqlite", "http://"+c.addr, certmintEnv)
	c.serveHome, c.cmdEnv, c.serveEnv = c.cmdHome, certmintEnv(c.cmdHome.Home), certmintEnv(c.cmdHome.Home)
	c.stderr = serveEnv(t, c.serveEnv, c.addr)
	if !waitFor(c.stderr, "serving ") || !strings.Contains(c.stderr.String(), "OCSP responder at http://"+c.addr+"/ocsp") {
		t.Errorf("serve does not say where OCSP answers:\n%s", c.stderr)
	}
	testOCSP(t, c)
}

// TestPostgresOCSP is the shared CA of issue 14 item 2: two homes on one
// PostgreSQL database. Everything is issued and revoked on host A; serve
// runs on host B, whose OCSP answers from the database at once (testOCSP),
// and whose published CRL lists a revocation made on A within 10 s.
func TestPostgresOCSP(t *testing.T) {
	testkit.RequireTool(t, "ocsptool")
	dbURL, _ := pgSchema(t)
	port := freePort(t)
	c := &ocspCase{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	env := func(home string) []string { return pgEnv(home, dbURL) }
	c.cmdHome = ocspHome(t, "ocsp-pg-a", "http://"+c.addr, env, "--database-url", store.RedactDatabaseURL(dbURL))
	homeB := filepath.Join(workDir, "ocsp-pg-b-pki")
	if err := testkit.CopyDir(c.cmdHome.Home, homeB); err != nil {
		t.Fatal(err)
	}
	c.serveHome = homeAt(t, "ocsp-pg-b", homeB, c.cmdHome.BaseURL)
	c.cmdEnv, c.serveEnv = env(c.cmdHome.Home), env(homeB)
	c.stderr = serveEnv(t, c.serveEnv, c.addr)

	testOCSP(t, c)

	_, cert := c.issueLeaf(t, "ocsp-republish.example.com")
	crlURL := "http://" + c.addr + "/" + c.serveHome.Issuing.Slug + ".crl"
	start := time.Now()
	c.certmint(t, "revoke", "--reason", "superseded", ca.SerialHex(cert.SerialNumber))
	for {
		resp, err := http.Get(crlURL)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rl, err := x509.ParseRevocationList(body); err == nil && slices.ContainsFunc(rl.RevokedCertificateEntries,
				func(e x509.RevocationListEntry) bool { return e.SerialNumber.Cmp(cert.SerialNumber) == 0 }) {
				break
			}
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("host B's CRL does not list the revocation made on host A after 10 s; serve said:\n%s", c.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	logf("interop: host B's served CRL listed host A's revocation %v after revoke began", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(c.stderr.String(), "republished the CRL of "+c.serveHome.Issuing.Slug) {
		t.Errorf("serve on host B does not say it republished:\n%s", c.stderr)
	}
}

// waitFor waits up to 10 s for text in a child's stderr.
func waitFor(b *lockedBuffer, text string) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(b.String(), text) {
			return true
		}
	}
	return false
}

// TestOCSPLoad: `certmint serve` answers 200 concurrent OCSP clients (POST
// and GET, kept-alive connections) while `certmint revoke` revokes one of
// the certificates asked about every second. Every response must be a
// successful OCSP response, signed by the CA's responder, for the serial
// asked; and a certificate whose revoke returned before a request was
// sent must be answered revoked. 2 s in `make test`, 10 s with
// CERTMINT_STRESS=long (`make bench`, `make stress`), reporting requests/s
// and latency.
func TestOCSPLoad(t *testing.T) {
	clients, duration := 200, 2*time.Second
	if stressIsLong() {
		duration = 10 * time.Second
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	h, err := initCA("ocspload", "http://"+addr, "--root-cn", "OCSP Load Root CA", "--issuing-cn", "OCSP Load Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	const leaves = 40
	dir := filepath.Join(workDir, "ocspload")
	tmpl := filepath.Join(dir, "ocspload-ecdsa.toml")
	var csv strings.Builder
	csv.WriteString("cn\n")
	for i := 0; i < leaves; i++ {
		fmt.Fprintf(&csv, "load%02d.ocsp.test\n", i)
	}
	input := filepath.Join(dir, "rows.csv")
	os.MkdirAll(filepath.Join(dir, "out"), 0o700)
	os.WriteFile(tmpl, []byte(testkit.ECDSAClientTemplate("ocspload-ecdsa", "crt")), 0o644)
	os.WriteFile(input, []byte(csv.String()), 0o644)
	if r := runCertmint(h.Home, "batch", "--template", tmpl, "--input", input, "--out", filepath.Join(dir, "out")); r.Code != 0 {
		t.Fatalf("batch:\n%s", r)
	}
	var reqs []ocspload.Request
	for i := 0; i < leaves; i++ {
		name := fmt.Sprintf("load%02d.ocsp.test", i)
		cert, err := readCert(filepath.Join(dir, "out", name, name+".crt"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := ocspload.NewRequest(cert, h.Issuing.Cert)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	serveEnv(t, certmintEnv(h.Home), addr, "--quiet")

	// revoked holds, by serial, when `certmint revoke` returned.
	var mu sync.Mutex
	revoked := map[string]time.Time{}
	check := func(req ocspload.Request, resp *ocsp.Response, sent time.Time) error {
		mu.Lock()
		at, ok := revoked[req.Cert.SerialNumber.String()]
		mu.Unlock()
		if ok && at.Before(sent) && resp.Status != ocsp.Revoked {
			return fmt.Errorf("status %s for a certificate revoked %v before the request", goStatus[resp.Status], sent.Sub(at))
		}
		if resp.Status == ocsp.Revoked && resp.RevocationReason != ocsp.KeyCompromise {
			return fmt.Errorf("revoked with reason %d, want keyCompromise", resp.RevocationReason)
		}
		if resp.Status == ocsp.Unknown {
			return fmt.Errorf("unknown for a certificate the CA issued")
		}
		return nil
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	var revokeErrs []string
	wg.Add(1)
	go func() { // one revocation a second
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; i < leaves; i++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			serial := reqs[i].Cert.SerialNumber
			r := runCertmint(h.Home, "revoke", "--reason", "keyCompromise", ca.SerialHex(serial))
			returned := time.Now()
			if r.Code != 0 {
				revokeErrs = append(revokeErrs, r.String())
				continue
			}
			mu.Lock()
			revoked[serial.String()] = returned
			mu.Unlock()
		}
	}()
	var results []ocspload.Result
	for _, get := range []bool{false, true} {
		res := ocspload.Run(context.Background(), ocspload.Config{URL: "http://" + addr + "/ocsp", Requests: reqs,
			Clients: clients, Duration: duration / 2, GET: get, Check: check})
		method := map[bool]string{false: "POST", true: "GET"}[get]
		logf("interop: OCSP load, %d clients, %s: %s", clients, method, res)
		if res.Failed+res.Malformed+res.Wrong > 0 || res.OK == 0 {
			t.Errorf("%s: %s; first problems: %q", method, res, res.Errors)
		}
		results = append(results, res)
	}
	close(done)
	wg.Wait()
	if len(revokeErrs) > 0 {
		t.Errorf("certmint revoke failed under load:\n%s", revokeErrs[0])
	}
	mu.Lock()
	n := len(revoked)
	mu.Unlock()
	if n < int(duration/time.Second)-1 {
		t.Errorf("only %d revocations in %v", n, duration)
	}
}
