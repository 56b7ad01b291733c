package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
)

// attackCSRs writes the certificate requests of issue 11 item 1 into dir,
// made with crypto/x509, which puts any ASCII into a dNSName as a careless
// tool would, and returns their files by name.
func attackCSRs(t *testing.T, dir string) map[string]string {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e3Key, err := testkit.RSAKeyExponent3()
	if err != nil {
		t.Fatal(err)
	}
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf("h%d.example", i))
	}
	out := map[string]string{}
	for _, r := range []struct {
		name string
		key  crypto.Signer
		req  x509.CertificateRequest
	}{
		// Under 1e-client-macos (RSA keys, DNS names only).
		{"retyped-ip", rsaKey, x509.CertificateRequest{DNSNames: []string{"mac01", "10.9.8.7"}}},
		{"retyped-email", rsaKey, x509.CertificateRequest{DNSNames: []string{"mac01", "admin@corp.example"}}},
		{"retyped-uri", rsaKey, x509.CertificateRequest{DNSNames: []string{"mac01", "https://evil.example/x"}}},
		{"ip", rsaKey, x509.CertificateRequest{DNSNames: []string{"mac01"}, IPAddresses: []net.IP{net.ParseIP("10.9.8.7")}}},
		// Under client.
		{"escape", ecKey, x509.CertificateRequest{DNSNames: []string{"\x1b[31mred\x1b[0m.example"}}},
		{"newline", ecKey, x509.CertificateRequest{DNSNames: []string{"evil.example\nDNS:trusted.example"}}},
		{"space", ecKey, x509.CertificateRequest{DNSNames: []string{"evil example.com"}}},
		{"hyphen", ecKey, x509.CertificateRequest{DNSNames: []string{"-rf.example"}}},
		{"nul", ecKey, x509.CertificateRequest{DNSNames: []string{"www.bank.example\x00.evil.example"}}},
		{"sha1", rsaKey, x509.CertificateRequest{DNSNames: []string{"mac01"}, SignatureAlgorithm: x509.SHA1WithRSA}},
		{"exponent3", e3Key, x509.CertificateRequest{DNSNames: []string{"mac01"}}},
		// Under server.
		{"101-sans", ecKey, x509.CertificateRequest{DNSNames: many}},
	} {
		r.req.Subject = pkix.Name{CommonName: "mac01"}
		if r.name == "101-sans" {
			r.req.Subject.CommonName = "h0.example"
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &r.req, r.key)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		out[r.name] = writeFile(t, dir, r.name+".csr", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), 0o644)
	}
	return out
}

// TestRawControl: the check every refused command's output goes through
// (hostiletext_test.go's rawControl) finds what a terminal would act on.
func TestRawControl(t *testing.T) {
	for in, bad := range map[string]bool{
		"certmint: error: x\ncertmint: hint: y\t\n": false,
		`invalid SAN "DNS:\x1b[31m"`:                false, // escaped
		"a\x1b[31mb":                                true,
		"a\rb":                                      true,
		"a\u0085b":                                  true,
		"a\u202eb":                                  true,
		"Ünïcode 株式会社":                              false,
	} {
		if r, got := rawControl(in); got != bad {
			t.Errorf("rawControl(%q) = %U, want bad=%v", in, r, bad)
		}
	}
}
