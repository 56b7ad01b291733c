package ca

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/input"
)

// ParseReason reads an RFC 5280 reason name, case-insensitively.
func ParseReason(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	for name, code := range crl.Reasons {
		if strings.EqualFold(name, s) {
			if name == "aaCompromise" {
				break // attribute certificates only
			}
			return code, nil
		}
	}
	return 0, usageErrorf(input.PlainText("use keyCompromise, superseded, cessationOfOperation, affiliationChanged, certificateHold, caCompromise, privilegeWithdrawn or unspecified"),
		"unknown revocation reason %q", s)
}

// RevokeResult is what a revocation did.
type RevokeResult struct {
	Record *Record
	CRL    *PublishedCRL
}

// Revoke marks a certificate revoked and republishes its issuer's CRL.
// Revoking an unknown serial or one already revoked is an error and changes
// nothing.
func (s *Store) Revoke(ctx context.Context, serial *big.Int, reason int, now time.Time) (*RevokeResult, error) {
	return s.revoke(ctx, serial, reason, now, false)
}

// RevokeCA is Revoke for the issuing CA's own certificate, which Revoke
// refuses (*CACertificateError): it invalidates every certificate the CA
// issued, and from then on nothing is issued from the home.
func (s *Store) RevokeCA(ctx context.Context, serial *big.Int, reason int, now time.Time) (*RevokeResult, error) {
	return s.revoke(ctx, serial, reason, now, true)
}

func (s *Store) revoke(ctx context.Context, serial *big.Int, reason int, now time.Time, ca bool) (*RevokeResult, error) {
	rec, err := s.Lookup(ctx, serial)
	if err != nil {
		return nil, err
	}
	if rec.IsCA() && !ca {
		return nil, &CACertificateError{Serial: rec.SerialHex(), Slug: s.Issuing.Slug}
	}
	if !rec.IsCA() && ca {
		return nil, usageErrorf(input.Textf("leave out %s", input.Of(input.IssuingCA)), "%s is not a CA certificate", rec.SerialHex())
	}
	if rec.Status == "revoked" {
		return nil, &AlreadyRevokedError{Serial: rec.SerialHex(), At: rec.RevokedAt, Reason: crl.ReasonName(rec.Reason)}
	}
	issuer, err := s.Authority(rec.CALabel)
	if err != nil {
		return nil, err
	}
	// Unlock the key first: a wrong password must not leave a revocation
	// that no CRL shows.
	if _, err := s.Key(issuer); err != nil {
		return nil, err
	}
	changed, err := s.DB.Revoke(ctx, rec.Serial, rec.AKI, reason, now.UTC().Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	if !changed { // another revocation won the race
		cur, err := s.Lookup(ctx, serial)
		if err != nil {
			return nil, err
		}
		return nil, &AlreadyRevokedError{Serial: cur.SerialHex(), At: cur.RevokedAt, Reason: crl.ReasonName(cur.Reason)}
	}
	rec.Status, rec.Reason, rec.RevokedAt = "revoked", reason, now.UTC().Truncate(time.Second)
	if err := s.DB.Audit(ctx, Event{Action: "revoke", Serial: rec.SerialHex(), CALabel: rec.CALabel, Template: rec.Meta.Template,
		Subject: rec.Subject(), Detail: crl.ReasonName(reason)}); err != nil {
		return nil, err
	}
	pub, err := s.PublishCRL(ctx, issuer, now)
	if err != nil {
		return &RevokeResult{Record: rec}, fmt.Errorf("revoked %s in the database, but publishing the CRL failed: %w (run `certmint crl`)", rec.SerialHex(), err)
	}
	return &RevokeResult{Record: rec, CRL: pub}, nil
}

// SerialOfIssued returns the serial of a certificate file, after checking
// that one of this home's CAs issued it.
func (s *Store) SerialOfIssued(cert *x509.Certificate) (*big.Int, error) {
	for _, a := range s.Authorities() {
		if cert.CheckSignatureFrom(a.Cert) == nil {
			return cert.SerialNumber, nil
		}
	}
	return nil, usageErrorf(input.Textf("point %s at the CA that issued it", input.Of(input.Home)),
		"certificate %q (serial %s) was not issued by this CA", cert.Subject.CommonName, SerialHex(cert.SerialNumber))
}
