package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/certmint/certmint/internal/certfile"
)

// TestServeOCSP: serve answers OCSP for what the CA issued, says where,
// and without the CA password says OCSP is off and answers tryLater;
// issue --ocsp names the responder in the AIA; init prints its URL.
func TestServeOCSP(t *testing.T) {
	home := newHome(t)
	out := t.TempDir()
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	code, stdout, stderr := runCLI(t, "issue", "--home", home, "--template", "client", "--cn", "pc1.example.com", "--out", out, "--format", "crt", "--ocsp", "--json")
	if code != 0 {
		t.Fatalf("issue --ocsp: %d\n%s", code, stderr)
	}
	var issued issuedJSON
	if err := json.Unmarshal([]byte(stdout), &issued); err != nil {
		t.Fatal(err)
	}
	leaf := readCert(t, filepath.Join(out, "pc1.example.com.crt"))
	issuer := readCert(t, filepath.Join(home, "cli-issuing-ca", "ca.crt"))
	if want := "http://pki.cli.test/ocsp"; len(leaf.OCSPServer) != 1 || leaf.OCSPServer[0] != want {
		t.Errorf("issue --ocsp: AIA OCSP %q, want %q", leaf.OCSPServer, want)
	}
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	post := func(base string) []byte {
		t.Helper()
		resp, err := http.Post(base+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("POST /ocsp: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		return body
	}

	base, log := startServe(t, "--home", home)
	if !strings.Contains(log.String(), "OCSP responder at http://pki.cli.test/ocsp") {
		t.Errorf("serve does not say where OCSP answers:\n%s", log)
	}
	resp, err := ocsp.ParseResponseForCert(post(base), leaf, issuer)
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("OCSP: %v, %v; want good", resp, err)
	}
	if code, _, stderr := runCLI(t, "revoke", "--home", home, "--reason", "keyCompromise", issued.Serial); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	if resp, err := ocsp.ParseResponseForCert(post(base), leaf, issuer); err != nil || resp.Status != ocsp.Revoked || resp.RevocationReason != ocsp.KeyCompromise {
		t.Fatalf("OCSP right after revoke: %v, %v; want revoked, keyCompromise", resp, err)
	}

	t.Setenv("CERTMINT_CA_PASSWORD", "")
	base, log = startServe(t, "--home", home)
	if !strings.Contains(log.String(), "OCSP is off") {
		t.Errorf("serve without the CA password does not say OCSP is off:\n%s", log)
	}
	if body := post(base); !bytes.Equal(body, ocsp.TryLaterErrorResponse) {
		t.Errorf("OCSP without the CA password: % x, want tryLater", body)
	}

	if _, stdout, _ := runCLI(t, "serve", "--help"); !strings.Contains(stdout, "openssl ocsp -issuer") {
		t.Errorf("serve --help does not document OCSP:\n%s", stdout)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	certs, err := certfile.ReadCertificates(path)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}
