package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// revocationCA is a home of its own: these tests revoke and republish, which
// the shared homes' parallel tests must not see.
func revocationCA(t *testing.T, base string) *caHome {
	t.Helper()
	h, err := initCA("revocation-"+strings.ReplaceAll(t.Name(), "/", "-"), base,
		"--root-cn", "Revocation Root CA", "--issuing-cn", "Revocation Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func issueClient(t *testing.T, h *caHome, cn string) *bundle {
	t.Helper()
	client, err := templates.Builtin("client")
	if err != nil {
		t.Fatal(err)
	}
	b := issue(h, client, "client", filepath.Join(h.Label+"-bundles", cn), cn, "--cn", cn)
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	return b
}

type revokeJSON struct {
	Serial    string `json:"serial"`
	Reason    string `json:"reason"`
	CRL       string `json:"crl"`
	CRLNumber int64  `json:"crl_number"`
}

func revoke(t *testing.T, h *caHome, args ...string) revokeJSON {
	t.Helper()
	r := runCertmint(h.Home, append([]string{"revoke", "--json"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("certmint revoke failed:\n%s", r)
	}
	var out revokeJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("certmint revoke --json: %v\n%s", err, r)
	}
	return out
}

// crlFiles are the PEM CRLs of a home, root first.
func crlFiles(h *caHome) []string {
	return []string{
		filepath.Join(h.Home, "public", h.Root.Slug+".crl.pem"),
		filepath.Join(h.Home, "public", h.Issuing.Slug+".crl.pem"),
	}
}

func verifyWithCRLs(t *testing.T, h *caHome, crt string) result {
	t.Helper()
	args := []string{"verify", "-crl_check_all", "-CAfile", h.Root.Path, "-untrusted", h.Issuing.Path}
	for _, f := range crlFiles(h) {
		args = append(args, "-CRLfile", f)
	}
	return tool(t, "openssl", append(args, crt)...)
}

// TestRevokeOpenSSL: openssl verify -crl_check_all passes for a good
// certificate and fails with "certificate revoked" after certmint revoke;
// openssl crl -text shows every reason; CRL numbers strictly increase.
func TestRevokeOpenSSL(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	h := revocationCA(t, "http://crl.interop.test")
	good, bad := issueClient(t, h, "good.acme.local"), issueClient(t, h, "bad.acme.local")
	for _, b := range []*bundle{good, bad} {
		if r := verifyWithCRLs(t, h, b.crt()); r.Code != 0 {
			t.Fatalf("before revocation:\n%s", r)
		}
	}
	rv := revoke(t, h, "--reason", "keyCompromise", "--cert", bad.crt())
	if rv.Serial != bad.JSON.Serial || rv.Reason != "keyCompromise" {
		t.Errorf("revoke --json: %+v", rv)
	}
	if r := verifyWithCRLs(t, h, bad.crt()); r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "certificate revoked") {
		t.Errorf("revoked certificate: want openssl to fail with \"certificate revoked\":\n%s", r)
	}
	if r := verifyWithCRLs(t, h, good.crt()); r.Code != 0 {
		t.Errorf("good certificate after another's revocation:\n%s", r)
	}

	// Every reason, each revocation publishing a higher CRL number.
	reasons := map[string]string{
		"superseded": "Superseded", "cessationOfOperation": "Cessation Of Operation", "affiliationChanged": "Affiliation Changed",
		"certificateHold": "Certificate Hold", "caCompromise": "CA Compromise", "privilegeWithdrawn": "Privilege Withdrawn",
		"unspecified": "",
	}
	last := rv.CRLNumber
	for reason := range reasons {
		b := issueClient(t, h, strings.ToLower(reason)+".acme.local")
		out := revoke(t, h, "--reason", reason, b.JSON.Serial)
		if out.CRLNumber <= last {
			t.Errorf("CRL number %d after %d", out.CRLNumber, last)
		}
		last = out.CRLNumber
	}
	crlText := mustTool(t, "openssl crl -text", "openssl", "crl", "-in", crlFiles(h)[1], "-noout", "-text").Stdout
	for reason, text := range reasons {
		if text != "" && !strings.Contains(crlText, "CRL Reason Code: \n                "+text+"\n") {
			t.Errorf("openssl crl -text lacks the reason %s (%q):\n%s", reason, text, crlText)
		}
	}
	if n := strings.Count(crlText, "Serial Number:"); n != len(reasons)+1 {
		// keyCompromise from above, plus one per reason.
		t.Errorf("CRL lists %d serials, want %d", n, len(reasons)+1)
	}
	if !strings.Contains(crlText, fmt.Sprintf("X509v3 CRL Number: \n                %d", last)) {
		t.Errorf("CRL does not carry number %d:\n%s", last, crlText)
	}
	rl := parseCRL(t, filepath.Join(h.Home, "public", h.Issuing.Slug+".crl"))
	if !rl.NextUpdate.After(time.Now()) {
		t.Errorf("nextUpdate %v is not in the future", rl.NextUpdate)
	}
	// Regenerating without a revocation also moves the number on.
	r := runCertmint(h.Home, "crl", "--json")
	var pub struct {
		CRLs []struct {
			CA     string `json:"ca"`
			Number int64  `json:"number"`
		} `json:"crls"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &pub) != nil {
		t.Fatalf("certmint crl:\n%s", r)
	}
	for _, p := range pub.CRLs {
		if p.CA == h.Issuing.Slug && p.Number != last+1 {
			t.Errorf("certmint crl published number %d, want %d", p.Number, last+1)
		}
	}
}

// TestRevokeConcurrent: revoke commands running at once all succeed, get
// distinct CRL numbers, and the last CRL lists every revocation.
func TestRevokeConcurrent(t *testing.T) {
	h := revocationCA(t, "http://crl.interop.test")
	const n = 6
	var bundles []*bundle
	for i := 0; i < n; i++ {
		bundles = append(bundles, issueClient(t, h, fmt.Sprintf("pc%d.acme.local", i)))
	}
	var wg sync.WaitGroup
	results := make([]result, n)
	for i, b := range bundles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCertmint(h.Home, "revoke", "--json", "--reason", "superseded", b.JSON.Serial)
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	var max int64
	for _, r := range results {
		var out revokeJSON
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &out) != nil {
			t.Fatalf("concurrent revoke failed:\n%s", r)
		}
		if strings.Contains(r.Stderr, "locked") {
			t.Errorf("a lock error reached the user:\n%s", r)
		}
		if seen[out.CRLNumber] {
			t.Errorf("CRL number %d published twice", out.CRLNumber)
		}
		seen[out.CRLNumber] = true
		max = max64(max, out.CRLNumber)
	}
	rl := parseCRL(t, filepath.Join(h.Home, "public", h.Issuing.Slug+".crl"))
	if rl.Number.Int64() != max || len(rl.RevokedCertificateEntries) != n {
		t.Errorf("final CRL: number %v (want %d), %d entries (want %d)", rl.Number, max, len(rl.RevokedCertificateEntries), n)
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func parseCRL(t *testing.T, path string) *x509.RevocationList {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(data)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

// freePort returns a loopback port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serve starts `certmint serve` for the home on addr (with extra flags),
// waits until it listens, and stops it at the end of the test with
// SIGTERM, checking it shuts down gracefully. Its stderr is returned.
func serve(t *testing.T, h *caHome, addr string, extra ...string) *lockedBuffer {
	t.Helper()
	return serveEnv(t, certmintEnv(h.Home), addr, extra...)
}

// serveEnv is serve with certmint's environment given (a home on
// PostgreSQL needs CERTMINT_DATABASE_URL).
func serveEnv(t *testing.T, env []string, addr string, extra ...string) *lockedBuffer {
	t.Helper()
	cmd := exec.Command(certmintBin, append([]string{"serve", "--addr", addr}, extra...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("certmint serve did not listen on %s:\n%s", addr, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("certmint serve did not stop cleanly on SIGTERM: %v\n%s", err, stderr.String())
			} else if !strings.Contains(stderr.String(), "stopped") {
				t.Errorf("certmint serve stderr lacks \"stopped\":\n%s", stderr.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("certmint serve ignored SIGTERM")
		}
	})
	return stderr
}

// lockedBuffer collects a child's stderr while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// loopbackClient resolves every host name to 127.0.0.1, keeping the port:
// the host of the CDP URL "mapped to the loopback address".
func loopbackClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}}
}

func fetch(t *testing.T, url string) ([]byte, string) {
	t.Helper()
	resp, err := loopbackClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return body, resp.Header.Get("Content-Type")
}

// TestServeCDP: the CRL and CA certificate fetched from `certmint serve` at
// the exact URLs in a certificate are the files on disk, with the RFC 2585
// content types; and a TLS server that checks revocation by fetching the
// client's CDP rejects a revoked client and accepts a good one.
func TestServeCDP(t *testing.T) {
	port := freePort(t)
	h := revocationCA(t, fmt.Sprintf("http://crl.interop.test:%d/pki", port))
	good, bad := issueClient(t, h, "good.acme.local"), issueClient(t, h, "bad.acme.local")
	serve(t, h, fmt.Sprintf("127.0.0.1:%d", port))

	leaf := mustReadCert(t, good.crt())
	if len(leaf.CRLDistributionPoints) != 1 || len(leaf.IssuingCertificateURL) != 1 {
		t.Fatalf("CDP %v AIA %v", leaf.CRLDistributionPoints, leaf.IssuingCertificateURL)
	}
	for _, c := range []struct{ url, file, ctype string }{
		{leaf.CRLDistributionPoints[0], filepath.Join(h.Home, "public", h.Issuing.Slug+".crl"), "application/pkix-crl"},
		{leaf.IssuingCertificateURL[0], filepath.Join(h.Home, "public", h.Issuing.Slug+".crt"), "application/pkix-cert"},
		{h.Issuing.Cert.CRLDistributionPoints[0], filepath.Join(h.Home, "public", h.Root.Slug+".crl"), "application/pkix-crl"},
	} {
		body, ctype := fetch(t, c.url)
		disk, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, disk) {
			t.Errorf("GET %s: %d bytes differ from %s (%d bytes)", c.url, len(body), c.file, len(disk))
		}
		if ctype != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.url, ctype, c.ctype)
		}
	}

	revoke(t, h, "--reason", "keyCompromise", "--cert", bad.crt())

	// The server checks each client's revocation against the CRL at its CDP.
	roots := x509.NewCertPool()
	roots.AddCert(h.Root.Cert)
	serverBundle := issue(h, mustBuiltin(t, "server"), "server", filepath.Join(h.Label+"-bundles", "srv"), "srv", "--cn", "localhost", "--san", "127.0.0.1")
	if serverBundle.Err != nil {
		t.Fatal(serverBundle.Err)
	}
	srvCert, err := tls.LoadX509KeyPair(serverBundle.crt(), serverBundle.key())
	if err != nil {
		t.Fatal(err)
	}
	srvCert.Certificate = append(srvCert.Certificate, h.Issuing.Cert.Raw)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots,
		VerifyPeerCertificate: func(_ [][]byte, chains [][]*x509.Certificate) error {
			return checkRevocation(chains[0][0], chains[0][1])
		},
	}
	for _, tc := range []struct {
		b      *bundle
		wantOK bool
	}{{good, true}, {bad, false}} {
		err := revocationHandshake(t, cfg, tc.b, roots)
		if tc.wantOK && err != nil {
			t.Errorf("%s: refused: %v", tc.b.CN, err)
		}
		if !tc.wantOK && (err == nil || !strings.Contains(err.Error(), "revoked")) {
			t.Errorf("%s: want a revocation error, got %v", tc.b.CN, err)
		}
	}
}

func mustBuiltin(t *testing.T, name string) *templates.Template {
	t.Helper()
	tm, err := templates.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// checkRevocation fetches the CRL named in leaf's CDP, checks it was
// signed by issuer, and refuses leaf when the CRL lists it.
func checkRevocation(leaf, issuer *x509.Certificate) error {
	if len(leaf.CRLDistributionPoints) == 0 {
		return errors.New("no CRL distribution point")
	}
	resp, err := loopbackClient().Get(leaf.CRLDistributionPoints[0])
	if err != nil {
		return fmt.Errorf("CRL location not reachable: %w", err)
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return err
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("CRL not signed by the issuer: %w", err)
	}
	if time.Now().After(rl.NextUpdate) {
		return errors.New("CRL expired")
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			return fmt.Errorf("certificate %x is revoked", leaf.SerialNumber)
		}
	}
	return nil
}

// revocationHandshake runs one TLS handshake of client bundle b against a server
// with cfg, and returns the server's error.
func revocationHandshake(t *testing.T, cfg *tls.Config, b *bundle, roots *x509.CertPool) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		errc <- c.(*tls.Conn).Handshake()
	}()
	cert, err := tls.LoadX509KeyPair(b.crt(), b.key())
	if err != nil {
		t.Fatal(err)
	}
	chain, err := readCerts(b.chain())
	if err != nil {
		t.Fatal(err)
	}
	cert.Certificate = append(cert.Certificate, chain[0].Raw)
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "localhost"})
	if err == nil {
		// TLS 1.3: the client learns of a refusal on its first read.
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Read(make([]byte, 1))
		conn.Close()
	}
	return <-errc
}
