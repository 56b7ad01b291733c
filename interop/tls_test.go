package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

const handshakeTimeout = 10 * time.Second

// handshake is what the server side of one connection saw.
type handshake struct {
	State tls.ConnectionState
	Err   error
}

// startTLS serves TLS on network/addr with cfg until the test ends and
// reports the server side of every handshake. After a successful handshake
// the server writes "hello\n", so the client's first read also reports a
// rejection the server sends after a TLS 1.3 handshake.
func startTLS(t *testing.T, network, addr string, cfg *tls.Config) (string, <-chan handshake, error) {
	t.Helper()
	ln, err := tls.Listen(network, addr, cfg)
	if err != nil {
		return "", nil, err
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan handshake, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				tc.SetDeadline(time.Now().Add(handshakeTimeout))
				h := handshake{Err: tc.Handshake()}
				if h.Err == nil {
					h.State = tc.ConnectionState()
					io.WriteString(tc, "hello\n")
				}
				ch <- h
			}()
		}
	}()
	return ln.Addr().String(), ch, nil
}

// serverSide waits for the server's view of the last connection.
func serverSide(t *testing.T, ch <-chan handshake) handshake {
	t.Helper()
	select {
	case h := <-ch:
		return h
	case <-time.After(handshakeTimeout):
		t.Fatal("the TLS server saw no handshake")
	}
	return handshake{}
}

// dial connects to addr with cfg, completes the handshake and reads the
// server's greeting.
func dial(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	d := &tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	state := tc.ConnectionState()
	line, err := bufio.NewReader(tc).ReadString('\n')
	if err == nil && line != "hello\n" {
		err = fmt.Errorf("server sent %q, want \"hello\\n\"", line)
	}
	return state, err
}

// keyPair loads BASE.crt and BASE.key as a user would, and appends the
// issuing CA so the peer can build the chain to the root.
func keyPair(t *testing.T, b *bundle, issuing []byte) tls.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(b.crt(), b.key())
	if err != nil {
		t.Fatalf("template %s: tls.LoadX509KeyPair(%s, %s): %v", b.Template.Name, b.crt(), b.key(), err)
	}
	c.Certificate = append(c.Certificate, issuing)
	return c
}

// withKey returns a bundle of the template that has an unencrypted .crt and
// .key, or skips the test.
func withKey(t *testing.T, tmpl *templates.Template) *bundle {
	t.Helper()
	if tmpl.Key.Encrypt {
		t.Skipf("template %s encrypts its .key (key.encrypt); crypto/tls cannot load it", tmpl.Name)
	}
	b := example(t, tmpl)
	if !b.has(templates.FormatKey) || !b.has(templates.FormatCRT) {
		b = ready(t, fullBundles[tmpl.Name], "template "+tmpl.Name+" with --format crt,key,pfx,chain")
	}
	return b
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// usable reports whether a certificate with the template's EKUs may be
// used for the purpose (no EKU at all means any purpose).
func usable(tmpl *templates.Template, eku templates.ExtKeyUsage) bool {
	return len(tmpl.Usage.ExtKeyUsage) == 0 || slices.Contains(tmpl.Usage.ExtKeyUsage, eku)
}

// rawChain returns the DER of certs.
func rawChain(certs []*x509.Certificate) [][]byte {
	var out [][]byte
	for _, c := range certs {
		out = append(out, c.Raw)
	}
	return out
}

func subjects(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, c.Subject.String())
	}
	return out
}

// checkChains asserts that a peer sent want (leaf, then intermediates) and
// that the verified chain is leaf, issuing CA, root.
func checkChains(t *testing.T, who string, st tls.ConnectionState, want [][]byte, h *caHome) {
	t.Helper()
	if got := rawChain(st.PeerCertificates); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("%s sent %d certificates %v, want %d: the leaf, then the issuing CA", who, len(got), subjects(st.PeerCertificates), len(want))
	}
	if len(st.VerifiedChains) == 0 {
		t.Errorf("%s: no verified chain", who)
		return
	}
	v := st.VerifiedChains[0]
	if wantV := [][]byte{want[0], h.Issuing.Cert.Raw, h.Root.Cert.Raw}; !slices.EqualFunc(rawChain(v), wantV, bytes.Equal) {
		t.Errorf("%s: verified chain %v, want leaf, %s, %s", who, subjects(v), h.Issuing.Cert.Subject, h.Root.Cert.Subject)
	}
}

// wantX509Error asserts that err carries an x509 error of the kind check
// accepts, and describes it otherwise.
func wantX509Error(t *testing.T, ctx string, err error, want string, check func(error) bool) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted; want %s", ctx, want)
		return
	}
	if !check(err) {
		t.Errorf("%s: failed with %v (%T); want %s", ctx, err, err, want)
	}
}

func isUnknownAuthority(err error) bool {
	var e x509.UnknownAuthorityError
	return errors.As(err, &e)
}

func isIncompatibleUsage(err error) bool {
	var e x509.CertificateInvalidError
	return errors.As(err, &e) && e.Reason == x509.IncompatibleUsage
}

func isHostnameError(err error) bool {
	var e x509.HostnameError
	return errors.As(err, &e)
}

// serverVerifyError: the server failed to verify the client's certificate.
func serverVerifyError(inner func(error) bool) func(error) bool {
	return func(err error) bool {
		var e *tls.CertificateVerificationError
		return errors.As(err, &e) && inner(e.Err)
	}
}

// TestTLSClientAuth: a crypto/tls server that requires client certificates
// under the main root accepts certificates whose EKU allows client auth,
// refuses the others for their usage, and refuses a client certificate of
// an unrelated CA for its authority.
func TestTLSClientAuth(t *testing.T) {
	srv := ready(t, localhostServer, "server bundle for localhost")
	serverCert := keyPair(t, srv, mainCA.Issuing.Cert.Raw)
	addr, seen, err := startTLS(t, "tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool(mainCA.Root.Cert),
	})
	if err != nil {
		t.Fatal(err)
	}
	clientConfig := func(certs ...tls.Certificate) *tls.Config {
		return &tls.Config{RootCAs: pool(mainCA.Root.Cert), ServerName: "localhost", Certificates: certs}
	}

	for _, tmpl := range builtins {
		t.Run(tmpl.Name, func(t *testing.T) {
			b := withKey(t, tmpl)
			ctx := fmt.Sprintf("template %s (ext_key_usage %v) as a TLS client certificate", tmpl.Name, tmpl.Usage.ExtKeyUsage)
			cert := keyPair(t, b, mainCA.Issuing.Cert.Raw)
			_, clientErr := dial(addr, clientConfig(cert))
			h := serverSide(t, seen)
			if usable(tmpl, "clientAuth") {
				if h.Err != nil || clientErr != nil {
					t.Fatalf("%s: refused\nserver: %v\nclient: %v", ctx, h.Err, clientErr)
				}
				checkChains(t, ctx+": the client", h.State, cert.Certificate, mainCA)
				return
			}
			wantX509Error(t, ctx+": server", h.Err, "a certificate verification error for its usage", serverVerifyError(isIncompatibleUsage))
		})
	}

	t.Run("other-ca", func(t *testing.T) {
		b := ready(t, otherClient, "client bundle of the other CA")
		cfg := clientConfig()
		// crypto/tls would send no certificate at all, since the server names
		// only the main root as acceptable; send this one regardless, as a
		// misconfigured or less careful client does.
		cert := keyPair(t, b, otherCA.Issuing.Cert.Raw)
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		_, clientErr := dial(addr, cfg)
		h := serverSide(t, seen)
		wantX509Error(t, "client certificate of an unrelated CA: server", h.Err,
			"a certificate verification error: unknown authority", serverVerifyError(isUnknownAuthority))
		if clientErr == nil {
			t.Errorf("client certificate of an unrelated CA: the client saw no error; the server should have closed the connection")
		}
	})

	t.Run("no-client-certificate", func(t *testing.T) {
		_, clientErr := dial(addr, clientConfig())
		h := serverSide(t, seen)
		if h.Err == nil || clientErr == nil {
			t.Errorf("a client without a certificate was accepted (server: %v, client: %v)", h.Err, clientErr)
		}
	})
}

// TestTLSServerNames: a crypto/tls client that trusts only the main root
// accepts each example certificate with serverAuth for every DNS name and
// IP address in its SAN, receives the leaf and the issuing CA, and refuses a
// name outside the SAN; a certificate without serverAuth is refused for its
// usage.
func TestTLSServerNames(t *testing.T) {
	forEachTemplate(t, func(t *testing.T, tmpl *templates.Template) {
		b := withKey(t, tmpl)
		chain, err := readCerts(b.chain())
		if err != nil {
			b2 := ready(t, fullBundles[tmpl.Name], "template "+tmpl.Name+" with --format crt,key,pfx,chain")
			if chain, err = readCerts(b2.chain()); err != nil {
				t.Fatalf("template %s: %v", tmpl.Name, err)
			}
		}
		// As a user would configure a server: BASE.crt and BASE.key, and
		// the first certificate of BASE-chain.pem as the intermediate.
		cert := keyPair(t, b, chain[0].Raw)
		addr, seen, err := startTLS(t, "tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}

		var names []string
		for _, s := range b.JSON.SANs {
			kind, v, _ := strings.Cut(s, ":")
			switch kind {
			case "DNS":
				names = append(names, strings.Replace(v, "*", "wildcard-host", 1))
			case "IP":
				names = append(names, v)
			}
		}
		leaf := mustReadCert(t, b.crt())
		if len(names) == 0 {
			names = []string{leaf.Subject.CommonName}
		}
		for _, name := range names {
			ctx := fmt.Sprintf("template %s (SANs %v, ext_key_usage %v): ServerName %q", tmpl.Name, b.JSON.SANs, tmpl.Usage.ExtKeyUsage, name)
			st, err := dial(addr, &tls.Config{RootCAs: pool(mainCA.Root.Cert), ServerName: name})
			h := serverSide(t, seen)
			inSAN := slices.ContainsFunc(b.JSON.SANs, func(s string) bool { return strings.HasSuffix(s, ":"+name) }) || strings.Contains(name, "wildcard-host")
			switch {
			case usable(tmpl, "serverAuth") && inSAN:
				if err != nil {
					t.Errorf("%s: refused: %v (server: %v)", ctx, err, h.Err)
					continue
				}
				checkChains(t, ctx+": the server", st, [][]byte{leaf.Raw, mainCA.Issuing.Cert.Raw}, mainCA)
			case inSAN:
				wantX509Error(t, ctx, err, "a verification error for its usage (no serverAuth)", isIncompatibleUsage)
			default:
				wantX509Error(t, ctx, err, "a hostname error (the name is not in the SAN)", isHostnameError)
			}
		}
		if usable(tmpl, "serverAuth") {
			ctx := fmt.Sprintf("template %s: ServerName not in the SAN", tmpl.Name)
			_, err := dial(addr, &tls.Config{RootCAs: pool(mainCA.Root.Cert), ServerName: "not-in-the-san.interop.test"})
			serverSide(t, seen)
			wantX509Error(t, ctx, err, "a hostname error", isHostnameError)
			_, err = dial(addr, &tls.Config{RootCAs: pool(otherCA.Root.Cert), ServerName: names[0]})
			serverSide(t, seen)
			wantX509Error(t, fmt.Sprintf("template %s: a client trusting only an unrelated root", tmpl.Name), err, "an unknown authority error", isUnknownAuthority)
		}
	})
}

// TestTLSIPLiteral: the localhost server certificate (--san 127.0.0.1
// --san ::1) is accepted when the client dials the IP literal and
// crypto/tls takes the name to verify from the address, as browsers and
// curl do.
func TestTLSIPLiteral(t *testing.T) {
	b := ready(t, localhostServer, "server bundle for localhost")
	cert := keyPair(t, b, mainCA.Issuing.Cert.Raw)
	for _, tc := range []struct{ network, listen string }{
		{"tcp4", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			addr, seen, err := startTLS(t, tc.network, tc.listen, &tls.Config{Certificates: []tls.Certificate{cert}})
			if err != nil {
				t.Skipf("cannot listen on %s (no loopback for %s here): %v", tc.listen, tc.network, err)
			}
			// No ServerName: tls.Dialer verifies the host of addr, an IP.
			st, err := dial(addr, &tls.Config{RootCAs: pool(mainCA.Root.Cert)})
			h := serverSide(t, seen)
			if err != nil {
				t.Fatalf("dialing %s with SANs %v: %v (server: %v)", addr, b.JSON.SANs, err, h.Err)
			}
			checkChains(t, "the server at "+addr, st, cert.Certificate, mainCA)
		})
	}
	t.Run("localhost", func(t *testing.T) {
		addr, seen, err := startTLS(t, "tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = dial(addr, &tls.Config{RootCAs: pool(mainCA.Root.Cert), ServerName: "localhost"})
		h := serverSide(t, seen)
		if err != nil {
			t.Fatalf("ServerName localhost with SANs %v: %v (server: %v)", b.JSON.SANs, err, h.Err)
		}
	})
}

// TestOpenSSLSClient: openssl s_client verifies the Go server's localhost
// certificate and hostname under the root, and presents the client example
// bundle (BASE.crt, BASE.key, BASE-chain.pem) that the Go server verifies.
func TestOpenSSLSClient(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	srv := ready(t, localhostServer, "server bundle for localhost")
	clientTmpl, err := templates.Builtin("client")
	if err != nil {
		t.Fatal(err)
	}
	cl := withKey(t, clientTmpl)
	addr, seen, err := startTLS(t, "tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{keyPair(t, srv, mainCA.Issuing.Cert.Raw)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool(mainCA.Root.Cert),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := tool(t, "openssl", "s_client", "-connect", addr, "-servername", "localhost",
		"-CAfile", mainCA.Root.Path, "-verify_return_error", "-verify_hostname", "localhost",
		"-cert", cl.crt(), "-key", cl.key(), "-cert_chain", cl.chain(), "-brief")
	h := serverSide(t, seen)
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "Verification: OK") {
		t.Errorf("openssl s_client does not accept the localhost server certificate (server side: %v):\n%s", h.Err, r)
	}
	if h.Err != nil {
		t.Fatalf("the Go server refused the client bundle presented by openssl s_client: %v\n%s", h.Err, r)
	}
	leaf := mustReadCert(t, cl.crt())
	checkChains(t, "openssl s_client", h.State, [][]byte{leaf.Raw, mainCA.Issuing.Cert.Raw, mainCA.Root.Cert.Raw}, mainCA)
}

// TestOpenSSLSServer: openssl s_server serving the server example (BASE.crt,
// BASE.key, BASE-chain.pem) and requiring a client certificate under the
// root accepts the Go client with the client example, and refuses one of
// an unrelated CA.
func TestOpenSSLSServer(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	server, err := templates.Builtin("server")
	if err != nil {
		t.Fatal(err)
	}
	client, err := templates.Builtin("client")
	if err != nil {
		t.Fatal(err)
	}
	srv, cl := withKey(t, server), withKey(t, client)
	if len(srv.JSON.SANs) == 0 {
		t.Fatalf("template server: the example has no SAN (certmint --json: %+v)", srv.JSON)
	}
	_, name, _ := strings.Cut(srv.JSON.SANs[0], ":")
	for _, tc := range []struct {
		name   string
		client tls.Certificate
		ok     bool
	}{
		{"client-example", keyPair(t, cl, mainCA.Issuing.Cert.Raw), true},
		{"other-ca", keyPair(t, ready(t, otherClient, "client bundle of the other CA"), otherCA.Issuing.Cert.Raw), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, done := startSServer(t, "-cert", srv.crt(), "-key", srv.key(), "-cert_chain", srv.chain(),
				"-Verify", "2", "-verify_return_error", "-CAfile", mainCA.Root.Path)
			cfg := &tls.Config{RootCAs: pool(mainCA.Root.Cert), ServerName: name}
			// Send the certificate even when it is not under the CAs the
			// server asks for (crypto/tls would otherwise send none).
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc.client, nil }
			st, err := dialHTTP(addr, cfg)
			out := done()
			switch {
			case tc.ok && err != nil:
				t.Errorf("openssl s_server: the Go client with the client example failed: %v\n%s", err, out)
			case tc.ok:
				if n := len(st.PeerCertificates); n < 2 || !bytes.Equal(st.PeerCertificates[1].Raw, mainCA.Issuing.Cert.Raw) {
					t.Errorf("openssl s_server with -cert_chain %s sent %v; want the leaf, then the issuing CA", srv.chain(), subjects(st.PeerCertificates))
				}
			case err == nil:
				t.Errorf("openssl s_server accepted a client certificate of an unrelated CA\n%s", out)
			case !strings.Contains(out, "unable to get local issuer certificate"):
				t.Errorf("openssl s_server refused the client certificate of an unrelated CA, but not for its issuer (Go client: %v):\n%s", err, out)
			}
		})
	}
}

// startSServer starts `openssl s_server -www` for one connection on a free
// loopback port; done waits for it and returns its output.
func startSServer(t *testing.T, args ...string) (addr string, done func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	argv := append([]string{"s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-www"}, args...)
	cmd := exec.CommandContext(ctx, testkit.RequireTool(t, "openssl"), argv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("openssl s_server: %v", err)
	}
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if a, ok := strings.CutPrefix(lines.Text(), "ACCEPT "); ok {
			addr = a
			break
		}
	}
	drained := make(chan struct{})
	go func() {
		for lines.Scan() {
			out.WriteString(lines.Text() + "\n")
		}
		io.Copy(io.Discard, stdout)
		close(drained)
	}()
	stop := func() string {
		timer := time.AfterFunc(handshakeTimeout, cancel)
		defer timer.Stop()
		<-drained
		cmd.Wait()
		cancel()
		return fmt.Sprintf("$ %s\n--- stdout:\n%s--- stderr:\n%s", commandLine("openssl", argv), out.String(), stderr.String())
	}
	if addr == "" {
		t.Fatalf("openssl s_server did not print its ACCEPT address\n%s", stop())
	}
	t.Cleanup(func() { cancel() })
	return addr, stop
}

// dialHTTP connects, sends an HTTP/1.0 request (s_server -www answers it)
// and checks the answer.
func dialHTTP(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	c, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	tc := c.(*tls.Conn)
	st := tc.ConnectionState()
	if _, err := io.WriteString(tc, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return st, err
	}
	status, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil {
		return st, err
	}
	if !strings.HasPrefix(status, "HTTP/1.0 200") {
		return st, fmt.Errorf("s_server answered %q", status)
	}
	return st, nil
}
