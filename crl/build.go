// Package crl builds certificate revocation lists with Go's
// x509.CreateRevocationList (cfssl's crl package goes through the deprecated
// CreateCRL and writes no CRL Number, cfssl issue 1308), publishes them
// atomically into the public folder, and serves that folder over HTTP.
package crl

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	encasn1 "encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
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
//
// x509.CreateRevocationList makes everything but the list of entries: the
// algorithm identifier, issuer name, dates and extensions come from a CRL it
// signs with no entries. The entries are then encoded with cryptobyte, the
// TBSCertList re-signed with the same key and algorithm, and the signature
// checked. Hand-assembled because encoding/asn1's reflection needs about
// 100 MB and a third of a second for 100,000 entries; for RSA keys the
// result is byte for byte what CreateRevocationList writes (see the tests).
func Build(issuer *x509.Certificate, key crypto.Signer, number int64, now time.Time, lifetime time.Duration, entries []Entry) ([]byte, error) {
	if number < 1 {
		return nil, fmt.Errorf("crl: CRL number must be positive, got %d", number)
	}
	empty, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(number),
		ThisUpdate: now.Add(-Skew).UTC(),
		NextUpdate: now.Add(lifetime).UTC(),
	}, issuer, key)
	if err != nil {
		return nil, fmt.Errorf("crl: signing CRL for %s: %w", issuer.Subject.CommonName, err)
	}
	if len(entries) == 0 {
		return empty, nil
	}
	der, err := withEntries(empty, issuer, key, entries)
	if err != nil {
		return nil, fmt.Errorf("crl: signing CRL for %s: %w", issuer.Subject.CommonName, err)
	}
	return der, nil
}

var oidReasonCode = encasn1.ObjectIdentifier{2, 5, 29, 21}

// withEntries rebuilds the signed CRL empty with entries between its
// nextUpdate and its extensions (RFC 5280 5.1: TBSCertList), and signs it.
func withEntries(empty []byte, issuer *x509.Certificate, key crypto.Signer, entries []Entry) ([]byte, error) {
	in := cryptobyte.String(empty)
	var list, tbs cryptobyte.String
	var version, sigAlgInner, name, thisUpdate, nextUpdate, exts, sigAlg cryptobyte.String
	var extTag asn1.Tag
	if !in.ReadASN1(&list, asn1.SEQUENCE) || !list.ReadASN1(&tbs, asn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&version, asn1.INTEGER) || !tbs.ReadASN1Element(&sigAlgInner, asn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&name, asn1.SEQUENCE) || !readTime(&tbs, &thisUpdate) || !readTime(&tbs, &nextUpdate) ||
		!tbs.ReadAnyASN1Element(&exts, &extTag) || extTag != asn1.Tag(0).Constructed().ContextSpecific() || !tbs.Empty() ||
		!list.ReadASN1Element(&sigAlg, asn1.SEQUENCE) {
		return nil, errors.New("unexpected structure of the CRL x509 made")
	}
	// Sized for the whole list up front (an entry is at most about 50
	// bytes): cryptobyte's nested builders then never copy what is built.
	b := cryptobyte.NewBuilder(make([]byte, 0, len(empty)+len(entries)*56))
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, part := range []cryptobyte.String{version, sigAlgInner, name, thisUpdate, nextUpdate} {
			b.AddBytes(part)
		}
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, e := range entries {
				addEntry(b, e)
			}
		})
		b.AddBytes(exts)
	})
	tbsDER, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	rl, err := x509.ParseRevocationList(empty)
	if err != nil {
		return nil, err
	}
	sig, err := sign(key, rl.SignatureAlgorithm, tbsDER)
	if err != nil {
		return nil, err
	}
	// As crypto/x509 does after signing: a faulty signature never leaves.
	if err := issuer.CheckSignature(rl.SignatureAlgorithm, tbsDER, sig); err != nil {
		return nil, fmt.Errorf("the new CRL's signature does not verify: %w", err)
	}
	out := cryptobyte.NewBuilder(make([]byte, 0, len(tbsDER)+len(sig)+64))
	out.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	return out.Bytes()
}

func readTime(s *cryptobyte.String, out *cryptobyte.String) bool {
	if s.PeekASN1Tag(asn1.UTCTime) {
		return s.ReadASN1Element(out, asn1.UTCTime)
	}
	return s.ReadASN1Element(out, asn1.GeneralizedTime)
}

// addEntry encodes one revokedCertificates element as encoding/asn1 does
// for pkix.RevokedCertificate: the serial, the revocation time (UTCTime for
// 1950 to 2049, GeneralizedTime otherwise), and the reasonCode extension
// when the reason is not unspecified.
func addEntry(b *cryptobyte.Builder, e Entry) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(e.Serial)
		t := e.RevokedAt.UTC().Truncate(time.Second)
		if t.Year() >= 1950 && t.Year() < 2050 {
			b.AddASN1UTCTime(t)
		} else {
			b.AddASN1GeneralizedTime(t)
		}
		if e.Reason != 0 {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidReasonCode)
					b.AddASN1(asn1.OCTET_STRING, func(b *cryptobyte.Builder) {
						b.AddASN1Enum(int64(e.Reason))
					})
				})
			})
		}
	})
}

// sign signs tbs as crypto/x509 would for alg: the key's own hash, PSS
// with a salt as long as the hash, or Ed25519 over the message itself.
func sign(key crypto.Signer, alg x509.SignatureAlgorithm, tbs []byte) ([]byte, error) {
	var h crypto.Hash
	switch alg {
	case x509.SHA256WithRSA, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		h = crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	case x509.PureEd25519:
		return key.Sign(rand.Reader, tbs, crypto.Hash(0))
	default:
		return nil, fmt.Errorf("unsupported signature algorithm %v", alg)
	}
	d := h.New()
	d.Write(tbs)
	var opts crypto.SignerOpts = h
	switch alg {
	case x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	}
	return key.Sign(rand.Reader, d.Sum(nil), opts)
}
