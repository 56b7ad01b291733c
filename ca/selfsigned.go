package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/cloudflare/cfssl/signer"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
)

// IssueSelfSigned makes a self-signed certificate from a template: what
// YSoft SafeQ's generateCertificate.ps1 does (003), for administrators who
// need that behaviour. It gets the template's key, usages, SANs and
// validity, and no CDP or AIA (no CA publishes anything for it). When s is
// not nil the certificate is recorded in the home's database, labelled
// "self-signed"; without a CA home only the files are written.
//
// Written with crypto/x509 directly: cfssl's selfsign package draws a
// 63-bit serial that may be zero and copies every CSR extension.
func IssueSelfSigned(ctx context.Context, s *Store, req IssueRequest) (*Issued, error) {
	t := req.Template
	warning, err := selfSignedDeparture(t)
	if err != nil {
		return nil, err
	}
	var home *Config // the home's subject defaults apply when there is one
	if s != nil {
		home = s.Config
	}
	p, err := planRequest(req, home, true)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		p.warnings = append(p.warnings, input.PlainText(warning))
	}
	// The certificate's own key signs it, so that key must be one the
	// template's signature rules accept; refused before it is made.
	if _, err := signatureAlgorithm(t, p.key, ownKey); err != nil {
		return nil, err
	}
	if err := precheckFiles(p); err != nil {
		return nil, err
	}
	key, err := p.req.generateKey(p.key)
	if err != nil {
		return nil, err
	}
	cert, err := selfSign(p, key)
	if err != nil {
		return nil, err
	}
	findings, err := lintGate(cert.Raw, t)
	if err != nil {
		return nil, err
	}
	return s.release(ctx, p, key, cert, findings, "issue-self-signed")
}

func selfSign(p *plan, key crypto.Signer) (*x509.Certificate, error) {
	t := p.req.Template
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := p.req.Now
	if now.IsZero() {
		now = time.Now()
	}
	spec, err := keys.Describe(key)
	if err != nil {
		return nil, err
	}
	alg, err := signatureAlgorithm(t, spec, ownKey)
	if err != nil {
		return nil, err
	}
	backdate := time.Duration(t.Validity.Backdate)
	if backdate == 0 {
		backdate = 5 * time.Minute
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               p.req.Subject,
		NotBefore:             now.Add(-backdate).UTC().Truncate(time.Second),
		NotAfter:              now.Add(p.validity).UTC().Truncate(time.Second),
		BasicConstraintsValid: true,
		SignatureAlgorithm:    alg,
	}
	// RFC 5280 4.2.1.1: a self-signed end-entity certificate still names
	// its key in the AKI; cfssl computes the key identifier (method 1).
	tmpl.PublicKey = key.Public()
	ski, err := signer.ComputeSKI(tmpl)
	if err != nil {
		return nil, err
	}
	tmpl.SubjectKeyId, tmpl.AuthorityKeyId = ski, ski
	for _, ku := range t.Usage.KeyUsage {
		tmpl.KeyUsage |= ku.X509()
	}
	for _, e := range t.Usage.ExtKeyUsage {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, e.X509())
	}
	if tmpl.DNSNames, tmpl.IPAddresses, tmpl.EmailAddresses, tmpl.URIs, err = san.Fields(p.sans); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating the self-signed certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}
