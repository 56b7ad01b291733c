package check

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/certmint/certmint/templates"
)

// crypto/x509 verifies RSASSA-PSS signatures only when their salt is as
// long as the hash; OpenSSL's default (`openssl ca -sigopt
// rsa_padding_mode:pss`) uses the longest salt the key allows, which Go
// parses as UnknownSignatureAlgorithm. check still has to say what such a
// certificate is (004's "SHA256RSA" is PKCS#1 v1.5, not PSS) and whether
// its CA signed it, so the PSS parameters are read here with encoding/asn1
// and the signature checked with crypto/rsa.

var (
	oidRSASSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA1      = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// pssParams is RSASSA-PSS-params of RFC 4055 section 3.1.
type pssParams struct {
	Hash       pkix.AlgorithmIdentifier `asn1:"explicit,tag:0,optional"`
	MGF        pkix.AlgorithmIdentifier `asn1:"explicit,tag:1,optional"`
	SaltLength int                      `asn1:"explicit,tag:2,optional,default:20"`
	Trailer    int                      `asn1:"explicit,tag:3,optional,default:1"`
}

type rawCertificate struct {
	TBS       asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

// pssSignature is what a PSS signature Go does not verify is made of.
type pssSignature struct {
	hash crypto.Hash
	salt int
	tbs  []byte
	sig  []byte
}

// unknownPSS returns the PSS parameters of a certificate whose signature
// crypto/x509 left as UnknownSignatureAlgorithm, or nil.
func unknownPSS(c *x509.Certificate) *pssSignature {
	if c.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return nil
	}
	var raw rawCertificate
	if rest, err := asn1.Unmarshal(c.Raw, &raw); err != nil || len(rest) > 0 || !raw.Algorithm.Algorithm.Equal(oidRSASSAPSS) {
		return nil
	}
	var p pssParams
	if _, err := asn1.Unmarshal(raw.Algorithm.Parameters.FullBytes, &p); err != nil {
		return nil
	}
	h := crypto.SHA1 // RFC 4055: the default hash
	switch {
	case p.Hash.Algorithm == nil, p.Hash.Algorithm.Equal(oidSHA1):
	case p.Hash.Algorithm.Equal(oidSHA256):
		h = crypto.SHA256
	case p.Hash.Algorithm.Equal(oidSHA384):
		h = crypto.SHA384
	case p.Hash.Algorithm.Equal(oidSHA512):
		h = crypto.SHA512
	default:
		return nil
	}
	return &pssSignature{hash: h, salt: p.SaltLength, tbs: raw.TBS.FullBytes, sig: raw.Signature.RightAlign()}
}

// signatureName says what signed the certificate, also for a PSS
// signature Go does not name.
func signatureName(c *x509.Certificate) string {
	if p := unknownPSS(c); p != nil {
		return fmt.Sprintf("RSASSA-PSS with %s (salt %d bytes)", p.hash, p.salt)
	}
	return c.SignatureAlgorithm.String()
}

// signatureHash is the hash of the certificate's signature, "" when none
// certmint allows.
func signatureHash(c *x509.Certificate) templates.Hash {
	if p := unknownPSS(c); p != nil {
		switch p.hash {
		case crypto.SHA256:
			return templates.SHA256
		case crypto.SHA384:
			return templates.SHA384
		case crypto.SHA512:
			return templates.SHA512
		}
		return ""
	}
	return templates.HashOf(c.SignatureAlgorithm)
}

// checkPSSFrom verifies a PSS signature Go does not verify, with any salt
// length, against the issuer's RSA key.
func checkPSSFrom(c, issuer *x509.Certificate) error {
	p := unknownPSS(c)
	if p == nil {
		return errors.New("not an RSASSA-PSS signature")
	}
	pub, ok := issuer.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the issuer's key is not RSA")
	}
	if !p.hash.Available() {
		return fmt.Errorf("%s is not available", p.hash)
	}
	h := p.hash.New()
	h.Write(p.tbs)
	return rsa.VerifyPSS(pub, p.hash, h.Sum(nil), p.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: p.hash})
}
