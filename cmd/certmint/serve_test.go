package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var servingRe = regexp.MustCompile(`serving \S+ at (http://\S+?)/? \(Ctrl-C`)

// startServe runs `certmint serve` in-process with args on a free loopback
// port and returns its URL and stderr; it is stopped, and must exit 0, at
// the end of the test.
func startServe(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	var code int
	done := make(chan struct{})
	go func() {
		defer close(done)
		code = run(ctx, append([]string{"certmint", "serve", "--addr", "127.0.0.1:0", "--quiet"}, args...), io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, stderr)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not stop:\n%s", stderr)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingRe.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stderr
		}
		select {
		case <-done:
			t.Fatalf("serve exited %d before serving:\n%s", code, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start:\n%s", stderr)
	return "", nil
}

// TestServeIndex is issue 12's serve bullet: the index page listed the
// issuing CA before the root, linked no .cer, chain or .crl.pem, showed no
// SHA-1 thumbprint, CRL thisUpdate or state, nor the base URL, and nothing
// warned that serve listened elsewhere than the base URL. Every file the
// page links answers with its content type. (The layout is tested in
// Chromium: interop TestIndexPageInChromium.)
func TestServeIndex(t *testing.T) {
	home := newHome(t)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	base, stderr := startServe(t, "--home", home)
	root, issuing := "cli-root-ca", "cli-issuing-ca"

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	oneCert := func(want string) func([]byte) string {
		return func(b []byte) string {
			blk, rest := pem.Decode(b)
			if blk == nil || blk.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
				return "not one PEM certificate"
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil || c.Subject.CommonName != want {
				return "not the certificate of " + want
			}
			return ""
		}
	}
	chainOf := func(want ...string) func([]byte) string {
		return func(b []byte) string {
			var got []string
			for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return err.Error()
				}
				got = append(got, c.Subject.CommonName)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				return "chain " + strings.Join(got, ",") + ", want " + strings.Join(want, ",")
			}
			return ""
		}
	}
	crlPEM := func(b []byte) string {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "X509 CRL" {
			return "not a PEM CRL"
		}
		if _, err := x509.ParseRevocationList(blk.Bytes); err != nil {
			return err.Error()
		}
		return ""
	}
	tests := []struct {
		path, ctype string
		check       func([]byte) string
	}{
		{"/" + root + ".cer", "application/x-x509-ca-cert", oneCert("CLI Root CA")},
		{"/" + issuing + ".cer", "application/x-x509-ca-cert", oneCert("CLI Issuing CA")},
		{"/" + issuing + "-chain.pem", "application/x-pem-file", chainOf("CLI Issuing CA", "CLI Root CA")},
		{"/" + root + "-chain.pem", "application/x-pem-file", chainOf("CLI Root CA")},
		{"/" + issuing + ".crl.pem", "application/x-pem-file", crlPEM},
		{"/" + root + ".crt", "application/pkix-cert", nil},
		{"/" + issuing + ".crl", "application/pkix-crl", nil},
	}
	for _, tc := range tests {
		resp, body := get(tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", tc.path, resp.Status)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if tc.check != nil {
			if msg := tc.check(body); msg != "" {
				t.Errorf("GET %s: %s", tc.path, msg)
			}
		}
	}

	resp, body := get("/")
	page := string(body)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("index without a restrictive Content-Security-Policy: %q", csp)
	}
	r, i := strings.Index(page, `data-slug="`+root+`"`), strings.Index(page, `data-slug="`+issuing+`"`)
	if r < 0 || i < 0 || r > i {
		t.Errorf("root section at %d, issuing at %d: want both, the root first", r, i)
	}
	for _, want := range []string{
		"http://pki.cli.test/", "SHA-1 thumbprint", "this update", `class="badge fresh"`,
		`href="` + root + `.cer"`, `href="` + issuing + `-chain.pem"`, `href="` + issuing + `.crl.pem"`,
		"certificates point to port 80",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if !strings.Contains(stderr.String(), "warning: certificates point to port 80") {
		t.Errorf("serve did not warn that it listens on another port than the base URL:\n%s", stderr)
	}
}

// TestServeIndexDirOnly: a folder served with --dir alone has no base URL
// to compare with; the page says so, and warns of nothing.
func TestServeIndexDirOnly(t *testing.T) {
	home := newHome(t)
	// No home at all. homeFlag is one value for every in-process run, and
	// urfave/cli marks it set (and keeps the value) once a run has read
	// CERTMINT_HOME; a real process runs once.
	t.Setenv("CERTMINT_HOME", "")
	os.Unsetenv("CERTMINT_HOME")
	saved := *homeFlag
	homeFlag.HasBeenSet, homeFlag.Value = false, "pki"
	t.Cleanup(func() { *homeFlag = saved })
	base, stderr := startServe(t, "--dir", home+"/public")
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "not known: this server was given a folder") || strings.Contains(string(body), `id="warnings"`) {
		t.Errorf("index for --dir:\n%s", body)
	}
	if strings.Contains(stderr.String(), "warning: certificates point") {
		t.Errorf("serve --dir warned about a base URL it does not know:\n%s", stderr)
	}
}
