package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// A template that accepts ECDSA keys and lists keyEncipherment for RSA keys
// (server) signs an ECDSA request without it: RFC 5480 section 3.
func TestSignECDSARequestDropsKeyEncipherment(t *testing.T) {
	s := newHome(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "ec.example.com"}, DNSNames: []string{"ec.example.com"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseCSR(der)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.SignCSR(context.Background(), IssueRequest{Template: mustTemplate(t, "server"), Out: t.TempDir()}, csr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage %v, want digitalSignature only", res.Cert.KeyUsage)
	}
	// An RSA request keeps keyEncipherment.
	rsaRes := issueFor(t, s, "server", "rsa.example.com", "rsa.example.com")
	if rsaRes.Cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
		t.Error("an RSA server certificate lost keyEncipherment")
	}
}
