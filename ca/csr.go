package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// CSR is a new key and a certificate request that meets a template, for an
// enterprise CA (AD CS, a public CA) to sign.
type CSR struct {
	Key     crypto.Signer
	DER     []byte
	SANs    []san.Name
	Subject pkix.Name // as requested, with the home's defaults filled in
}

// PEM encodes the request.
func (c *CSR) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: c.DER})
}

// NewCSR checks subject and SANs against the template, generates the leaf
// key (key when not zero and the template accepts it, else the template's
// key), and builds a request carrying the SANs and, as requested
// extensions, the template's key usage and extended key usage, so a CA that
// honours requested extensions issues what the template says. home is the
// CA home's configuration, or nil outside a home: its subject defaults
// fill the fields the template requires and subject lacks. key is the leaf
// key to generate, zero for the template's.
func NewCSR(t *templates.Template, subject pkix.Name, sans []san.Name, home *Config, key keys.Spec) (*CSR, error) {
	names, err := resolveSANs(t, subject.CommonName, sans)
	if err != nil {
		return nil, err
	}
	subject, err = home.checkRequest(t, subject, names)
	if err != nil {
		return nil, err
	}
	spec, err := chooseKey(t, key)
	if err != nil {
		return nil, err
	}
	priv, err := keys.Generate(spec)
	if err != nil {
		return nil, err
	}
	req := &x509.CertificateRequest{Subject: subject}
	if err := setSANs(req, names); err != nil {
		return nil, err
	}
	exts, err := usageExtensions(t, spec.Type == "ecdsa")
	if err != nil {
		return nil, err
	}
	req.ExtraExtensions = exts
	der, err := x509.CreateCertificateRequest(rand.Reader, req, priv)
	if err != nil {
		return nil, fmt.Errorf("creating the request: %w", err)
	}
	return &CSR{Key: priv, DER: der, SANs: names, Subject: subject}, nil
}

func setSANs(req *x509.CertificateRequest, names []san.Name) error {
	var err error
	req.DNSNames, req.IPAddresses, req.EmailAddresses, req.URIs, err = san.Fields(names)
	return err
}

var (
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// usageExtensions encodes the template's KU (critical) and EKU. For an
// ECDSA key the encipherment bits are left out, as the CA leaves them out
// of the certificate (profileOptions.ECDSAKey).
func usageExtensions(t *templates.Template, ecdsaKey bool) ([]pkix.Extension, error) {
	// Encode through a throwaway certificate so the DER is exactly what
	// crypto/x509 writes into certificates (no hand-written bit strings).
	var ku x509.KeyUsage
	for _, k := range t.Usage.KeyUsage {
		if ecdsaKey && (k == "keyEncipherment" || k == "dataEncipherment") {
			continue
		}
		ku |= k.X509()
	}
	var eku []x509.ExtKeyUsage
	for _, e := range t.Usage.ExtKeyUsage {
		eku = append(eku, e.X509())
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), KeyUsage: ku, ExtKeyUsage: eku}
	k, err := encoderKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	var out []pkix.Extension
	for _, e := range c.Extensions {
		if e.Id.Equal(oidKeyUsage) || e.Id.Equal(oidExtKeyUsage) {
			out = append(out, e)
		}
	}
	return out, nil
}

// maxCSRSize bounds a CSR read from a file.
const maxCSRSize = 64 << 10

// CSRError is a certificate request certmint will not sign; Hint says how
// to make one it will.
type CSRError struct {
	Msg  string
	Hint string
}

func (e *CSRError) Error() string    { return e.Msg }
func (e *CSRError) HintText() string { return e.Hint }

// weakCSRSignatures are the signature algorithms a request may not use:
// collisions are practical for MD5 and SHA-1 (SHAttered, 2017), and
// crypto/x509 still verifies SHA-1 on requests. The CA/Browser Forum's
// Baseline Requirements (7.1.3.2) and Microsoft's root program stopped
// SHA-1 signatures years ago.
var weakCSRSignatures = map[x509.SignatureAlgorithm]bool{
	x509.MD2WithRSA: true, x509.MD5WithRSA: true, x509.SHA1WithRSA: true,
	x509.DSAWithSHA1: true, x509.ECDSAWithSHA1: true,
}

// csrRSAExponent is the only RSA public exponent certmint signs for. FIPS
// 186-5 (A.1.1) wants 2^16 < e < 2^256, small exponents such as 3 have a
// history of signature forgeries against lax verifiers (Bleichenbacher
// 2006), and OpenSSL, Windows and Go all make keys with 65537.
const csrRSAExponent = 65537

// ParseCSR reads a PEM or DER request, verifies its signature, and refuses
// weak requests: MD5 or SHA-1 signatures, RSA below 2048 bits or with an
// exponent other than 65537, curves other than P-256 and P-384. Refusals
// the requester must fix are *CSRError, with a hint.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	if len(data) > maxCSRSize {
		return nil, fmt.Errorf("the request is larger than %d KiB", maxCSRSize>>10)
	}
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("PEM block is %q, not a CERTIFICATE REQUEST", block.Type)
		}
		data = block.Bytes
	}
	csr, err := x509.ParseCertificateRequest(data)
	if err != nil {
		return nil, fmt.Errorf("not a certificate request: %w", err)
	}
	if weakCSRSignatures[csr.SignatureAlgorithm] {
		return nil, &CSRError{
			Msg:  fmt.Sprintf("the request is signed with %s; certmint does not accept MD5 or SHA-1 signatures", csr.SignatureAlgorithm),
			Hint: "make the request again with SHA-256: openssl req -new -sha256 -key KEY -out REQ.csr (or `certmint csr`)"}
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("the request's signature does not verify: %w", err)
	}
	switch pub := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("the request's RSA key has %d bits; at least 2048 are required", pub.N.BitLen())
		}
		if pub.E != csrRSAExponent {
			return nil, &CSRError{
				Msg:  fmt.Sprintf("the request's RSA public exponent is %d; certmint accepts only %d", pub.E, csrRSAExponent),
				Hint: "make a new key and request: openssl req -new -newkey rsa:2048 -sha256 -keyout KEY -out REQ.csr (OpenSSL and Windows use 65537)"}
		}
	case *ecdsa.PublicKey:
		if n := pub.Curve.Params().Name; n != "P-256" && n != "P-384" {
			return nil, fmt.Errorf("the request's ECDSA curve %s is not accepted (use P-256 or P-384)", n)
		}
	default:
		return nil, fmt.Errorf("the request's key type %T is not accepted (use RSA or ECDSA)", csr.PublicKey)
	}
	return csr, nil
}

// checkKeyAllowed refuses a public key the template does not accept.
func checkKeyAllowed(t *templates.Template, pub crypto.PublicKey) error {
	spec, err := keys.Describe(pub)
	if err != nil {
		return err
	}
	if !slices.Contains(t.Key.AllowedTypes, templates.KeyType(spec.Type)) {
		return &templates.RequestError{Template: t.Name, Rule: "key.allowed_types",
			Msg: fmt.Sprintf("does not accept %s keys (allowed: %v)", spec.Type, t.Key.AllowedTypes)}
	}
	switch spec.Type {
	case "rsa":
		if !slices.Contains(t.Key.AllowedBits, spec.Bits) {
			return &templates.RequestError{Template: t.Name, Rule: "key.allowed_bits",
				Msg: fmt.Sprintf("does not accept %d-bit RSA keys (allowed: %v)", spec.Bits, t.Key.AllowedBits)}
		}
	case "ecdsa":
		if !slices.Contains(t.Key.AllowedCurves, templates.Curve(spec.Curve)) {
			return &templates.RequestError{Template: t.Name, Rule: "key.allowed_curves",
				Msg: fmt.Sprintf("does not accept ECDSA %s keys (allowed: %v)", spec.Curve, t.Key.AllowedCurves)}
		}
	}
	return nil
}
