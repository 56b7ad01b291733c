package ca

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/csr"
	cflog "github.com/cloudflare/cfssl/log"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

func init() {
	// cfssl logs "[INFO] signed certificate ..." to stderr for every signature.
	cflog.Level = cflog.LevelWarning
}

// cfssl's names for the usages (config.KeyUsage / config.ExtKeyUsage).
var cfsslKeyUsage = map[templates.KeyUsage]string{
	"digitalSignature":  "digital signature",
	"contentCommitment": "content commitment",
	"keyEncipherment":   "key encipherment",
	"dataEncipherment":  "data encipherment",
	"keyAgreement":      "key agreement",
	"encipherOnly":      "encipher only",
	"decipherOnly":      "decipher only",
}

var cfsslExtKeyUsage = map[templates.ExtKeyUsage]string{
	"serverAuth":      "server auth",
	"clientAuth":      "client auth",
	"codeSigning":     "code signing",
	"emailProtection": "email protection",
	"timeStamping":    "timestamping",
	"OCSPSigning":     "ocsp signing",
}

// profileOptions adjust a template's profile for one request.
type profileOptions struct {
	Validity time.Duration
	NoCDP    bool // 004: "If you are not carrying out certificate validation, remove the CRL URL reference"
	OCSP     bool // the OCSP URL in the AIA even when the template does not ask for it (--ocsp)
	// ECDSAKey: the subject key is ECDSA, which cannot encipher (RFC 5480
	// section 3), so keyEncipherment and dataEncipherment are left out
	// when a template that accepts ECDSA keys lists them for RSA.
	ECDSAKey bool
}

// leafProfile compiles a template into a cfssl signing profile: its key
// usages, validity and backdate, and the issuer's CDP and AIA URLs.
func (s *Store) leafProfile(t *templates.Template, issuer *Authority, o profileOptions) (*config.SigningProfile, error) {
	p := &config.SigningProfile{
		Expiry:   o.Validity,
		Backdate: time.Duration(t.Validity.Backdate),
		// Policy decides, the request proposes: from a CSR only the public
		// key is taken. The subject comes from the checked request
		// (SignRequest.Subject), the SANs from the checked, typed list
		// (sanExtension, the one extension a request may carry), and
		// every other extension from this profile.
		// SignatureAlgorithm is the signer's (the template's hash), not the
		// CSR's: cfssl fills it from the signer before whitelisting.
		CSRWhitelist:       &config.CSRWhitelist{PublicKey: true, PublicKeyAlgorithm: true, SignatureAlgorithm: true},
		ExtensionWhitelist: map[string]bool{oidSubjectAltName.String(): true},
	}
	// A template without backdate still gets cfssl's 5 minutes: cfssl
	// rounds "now" to the nearest minute, so a true zero could put
	// notBefore up to 30 s in the future, and 004 wants it in the past.
	for _, ku := range t.Usage.KeyUsage {
		if o.ECDSAKey && (ku == "keyEncipherment" || ku == "dataEncipherment") {
			continue
		}
		name, ok := cfsslKeyUsage[ku]
		if !ok {
			return nil, fmt.Errorf("key usage %q cannot be issued by a template", ku)
		}
		p.Usage = append(p.Usage, name)
	}
	for _, eku := range t.Usage.ExtKeyUsage {
		p.Usage = append(p.Usage, cfsslExtKeyUsage[eku])
	}
	if t.Revocation.CRLDistributionPoint && !o.NoCDP {
		p.CRL = s.Config.CRLURL(issuer.Slug)
	}
	if t.Revocation.AIA {
		p.IssuerURL = []string{s.Config.CertURL(issuer.Slug)}
	}
	if t.Revocation.OCSP || o.OCSP {
		p.OCSP = s.Config.OCSPURL()
	}
	return p, nil
}

// caProfile is the profile of the issuing CA, signed by the root: a CA
// limited to end-entity certificates (pathlen 0), with the root's CDP and
// AIA so validators can check the issuing CA's own revocation.
func (s *Store) caProfile(root *Authority, validity time.Duration) *config.SigningProfile {
	return &config.SigningProfile{
		Usage:    []string{"cert sign", "crl sign"},
		Expiry:   validity,
		Backdate: time.Hour,
		CAConstraint: config.CAConstraint{
			IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
		},
		CRL:       s.Config.CRLURL(root.Slug),
		IssuerURL: []string{s.Config.CertURL(root.Slug)},
	}
}

// newSigner wraps cfssl's local signer around a CA key with one profile.
// t is the template of the certificates it signs, nil for a CA
// certificate; signatureAlgorithm decides the algorithm.
func newSigner(caCert *x509.Certificate, caKey crypto.Signer, t *templates.Template, p *config.SigningProfile) (*local.Signer, error) {
	spec, err := keys.Describe(caKey)
	if err != nil {
		return nil, err
	}
	alg, err := signatureAlgorithm(t, spec, issuingCAKey)
	if err != nil {
		return nil, err
	}
	policy := &config.Signing{
		Default:  p,
		Profiles: map[string]*config.SigningProfile{"certmint": p},
	}
	return local.NewSigner(caKey, caCert, alg, policy)
}

// Whose key signs, as signatureAlgorithm's messages name it.
const (
	issuingCAKey = "this CA's"
	ownKey       = "the certificate's own"
)

// signatureAlgorithm is the one place that decides how a key signs a
// template's certificates (t nil: a CA certificate, which no template
// governs). Every signing path asks it: plan (before anything is signed),
// newSigner (issue, sign, batch, renew, safeq, and the root signing the
// issuing CA at init), and self-signed certificates, whose own key signs.
//
// An RSA key signs with the template's signature.hash (SHA-256 without a
// template). An ECDSA key signs with the hash of its curve, P-256 with
// SHA-256 and P-384 with SHA-384: Mozilla's Root Store Policy 5.1.2 ("If
// the signing key is P-384, the signature MUST use ECDSA with SHA-384"),
// which zlint enforces as e_mp_ecdsa_signature_encoding_correct. A
// template whose signature.allowed lacks that hash, or whose
// signature.issuer_key_types excludes the key, is refused with a
// *UsageError that says why.
func signatureAlgorithm(t *templates.Template, signer keys.Spec, whose string) (x509.SignatureAlgorithm, error) {
	hash := templates.SHA256
	if t != nil {
		hash = t.Signature.Hash
		if kinds, rule := t.IssuerKeyTypes(); len(kinds) > 0 && !slices.Contains(kinds, templates.KeyType(signer.Type)) {
			e := usageErrorf(input.Textf("use a CA home made with `certmint init %s` (or rsa:2048)", input.Val(input.IssuingKey, "rsa:4096")),
				"template %q needs certificates signed by an %s key (%s), and %s key is %s", t.Name, keyTypeNames(kinds), t.Rule(rule), whose, signer)
			if whose == ownKey {
				e.Hint = input.PlainText("issue it from the CA instead of self-signed")
			}
			return 0, e
		}
	}
	switch signer.Type {
	case "rsa":
		return hash.SignatureAlgorithm(templates.RSA), nil
	case "ecdsa":
		curveHash, ok := curveHashes[templates.Curve(signer.Curve)]
		if !ok {
			return 0, fmt.Errorf("%s ECDSA key is on %s; certmint signs with P-256 or P-384 keys", whose, signer.Curve)
		}
		if t != nil && !slices.Contains(t.Signature.Allowed, curveHash) {
			e := usageErrorf(input.Textf("use a CA home with another issuing key, e.g. `certmint init %s`", input.Val(input.IssuingKey, "rsa:4096")),
				"template %q only accepts %s signatures, and %s %s key must sign with %s (an ECDSA key signs with the hash of its curve)",
				t.Name, hashNames(t.Signature.Allowed), whose, signer.Curve, curveHash.Name())
			if whose == ownKey {
				e.Hint = input.PlainText("issue it from the CA instead of self-signed")
			}
			return 0, e
		}
		return curveHash.SignatureAlgorithm(templates.ECDSA), nil
	}
	return 0, fmt.Errorf("%s key is %s; certmint signs with RSA or ECDSA keys", whose, signer)
}

// curveHashes pairs each ECDSA curve with the only hash Mozilla's Root
// Store Policy 5.1.2 lets it sign with.
var curveHashes = map[templates.Curve]templates.Hash{
	templates.P256: templates.SHA256,
	templates.P384: templates.SHA384,
}

// vendorSentence is the sentence a template rule cites, without the seed
// file that holds it: users know the vendor's document, not certmint's
// file names.
func hashNames(hs []templates.Hash) string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Name())
	}
	return templates.OrList(names)
}

func keyTypeNames(ts []templates.KeyType) string {
	var names []string
	for _, t := range ts {
		names = append(names, strings.ToUpper(string(t)))
	}
	return templates.OrList(names)
}

// cfsslSubject carries a checked subject to cfssl's signer.
func cfsslSubject(n pkix.Name) *signer.Subject {
	sub := &signer.Subject{CN: n.CommonName}
	add := func(vals []string, set func(*csr.Name, string)) {
		for _, v := range vals {
			var nm csr.Name
			set(&nm, v)
			sub.Names = append(sub.Names, nm)
		}
	}
	add(n.Country, func(x *csr.Name, v string) { x.C = v })
	add(n.Province, func(x *csr.Name, v string) { x.ST = v })
	add(n.Locality, func(x *csr.Name, v string) { x.L = v })
	add(n.Organization, func(x *csr.Name, v string) { x.O = v })
	add(n.OrganizationalUnit, func(x *csr.Name, v string) { x.OU = v })
	return sub
}

// signRequest is the cfssl request for a CSR under the "certmint" profile,
// with the SANs as sanExtension encodes them (nil: none). Hosts is empty
// and not nil: cfssl keeps the CSR's SANs when Hosts is nil, and guesses
// each string's type again when it holds any (local.OverrideHosts), so no
// name ever goes there.
func signRequest(csrPEM []byte, sans []signer.Extension, label string) signer.SignRequest {
	return signer.SignRequest{Request: string(csrPEM), Hosts: []string{}, Extensions: sans, Profile: "certmint", Label: label}
}
