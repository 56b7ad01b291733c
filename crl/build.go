// Package crl builds certificate revocation lists with Go's
// x509.CreateRevocationList (cfssl's crl package goes through the deprecated
// CreateCRL and writes no CRL Number, cfssl issue 1308), publishes them
// atomically into the public folder, and serves that folder over HTTP.
package crl

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// Entry is one revoked certificate.
type Entry struct {
	Serial    *big.Int
	RevokedAt time.Time
	Reason    int // RFC 5280 5.3.1 CRLReason
}

// Reasons maps RFC 5280 reason names to codes. 7 is unused; removeFromCRL
// (8) only appears in delta CRLs, which certmint does not publish.
var Reasons = map[string]int{
	"unspecified":          0,
	"keyCompromise":        1,
	"caCompromise":         2,
	"affiliationChanged":   3,
	"superseded":           4,
	"cessationOfOperation": 5,
	"certificateHold":      6,
	"privilegeWithdrawn":   9,
	"aaCompromise":         10,
}

// ReasonName returns the RFC 5280 name of a reason code.
func ReasonName(code int) string {
	for n, c := range Reasons {
		if c == code {
			return n
		}
	}
	return fmt.Sprintf("reason%d", code)
}

// Skew is how far thisUpdate lies before the signing time, so a validator
// whose clock is a little behind does not see a CRL "not yet valid".
const Skew = 5 * time.Minute

// Build signs a v2 CRL: CRL Number, AKI (from the issuer's SKI), thisUpdate,
// nextUpdate, and per entry the revocation date and, unless unspecified,
// the reason code (RFC 5280 5.3.1: "reasonCode ... unspecified (0) SHOULD
// be absent").
func Build(issuer *x509.Certificate, key crypto.Signer, number int64, now time.Time, lifetime time.Duration, entries []Entry) ([]byte, error) {
	if number < 1 {
		return nil, fmt.Errorf("crl: CRL number must be positive, got %d", number)
	}
	list := make([]x509.RevocationListEntry, len(entries))
	for i, e := range entries {
		list[i] = x509.RevocationListEntry{
			SerialNumber:   e.Serial,
			RevocationTime: e.RevokedAt.UTC(),
			ReasonCode:     e.Reason,
		}
	}
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now.Add(-Skew).UTC(),
		NextUpdate:                now.Add(lifetime).UTC(),
		RevokedCertificateEntries: list,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
	if err != nil {
		return nil, fmt.Errorf("crl: signing CRL for %s: %w", issuer.Subject.CommonName, err)
	}
	return der, nil
}
