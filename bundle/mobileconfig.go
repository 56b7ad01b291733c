package bundle

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"

	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

// An Apple configuration profile (a .mobileconfig) for an MDM such as Jamf
// or Intune, or for a manual install on a Mac: one com.apple.security.pkcs12
// payload with the identity, and one payload per CA certificate. Apple's
// Device Management reference: CertificateRoot, "The payload that
// configures a root certificate", payload type com.apple.security.root;
// CertificatePKCS1, "a PKCS #1-formatted certificate" (DER),
// com.apple.security.pkcs1, for the issuing CA; CertificatePKCS12,
// com.apple.security.pkcs12, of which it warns "The system obfuscates the
// profile but doesn't encrypt it" and recommends "to omit the password in
// the profile". So the password is left out unless asked for
// (Options.ProfilePassword): the device asks for it when the profile is
// installed by hand; an MDM that pushes the profile silently needs it
// inside.

// profileXML is a profile as written; field order is the key order Apple
// documents (howett.net/plist writes dictionary keys sorted anyway).
type profileXML struct {
	PayloadContent      []payloadXML `plist:"PayloadContent"`
	PayloadDescription  string       `plist:"PayloadDescription"`
	PayloadDisplayName  string       `plist:"PayloadDisplayName"`
	PayloadIdentifier   string       `plist:"PayloadIdentifier"`
	PayloadOrganization string       `plist:"PayloadOrganization,omitempty"`
	PayloadScope        string       `plist:"PayloadScope"`
	PayloadType         string       `plist:"PayloadType"`
	PayloadUUID         string       `plist:"PayloadUUID"`
	PayloadVersion      int          `plist:"PayloadVersion"`
}

type payloadXML struct {
	Password                   string `plist:"Password,omitempty"`
	PayloadCertificateFileName string `plist:"PayloadCertificateFileName"`
	PayloadContent             []byte `plist:"PayloadContent"`
	PayloadDescription         string `plist:"PayloadDescription"`
	PayloadDisplayName         string `plist:"PayloadDisplayName"`
	PayloadIdentifier          string `plist:"PayloadIdentifier"`
	PayloadType                string `plist:"PayloadType"`
	PayloadUUID                string `plist:"PayloadUUID"`
	PayloadVersion             int    `plist:"PayloadVersion"`
}

// Payload types, from Apple's Device Management reference.
const (
	PayloadTypeProfile = "Configuration"
	PayloadTypePKCS12  = "com.apple.security.pkcs12"
	PayloadTypeRoot    = "com.apple.security.root"
	PayloadTypePKCS1   = "com.apple.security.pkcs1"
)

// ProfileSigner signs BASE.signed.mobileconfig: a certificate with its
// key, and the CA certificates above it, sent along in the signature so
// a device can build the chain.
type ProfileSigner struct {
	Cert  *x509.Certificate
	Chain []*x509.Certificate
	Key   crypto.Signer
}

// LoadProfileSigner reads the signing certificate (PEM; the certificates
// after the first are its chain) and its key (PEM: PKCS#8, encrypted or
// not, PKCS#1 or SEC 1). password is asked only for an encrypted key. The
// certificate must be valid now, match the key, and allow digital
// signatures.
func LoadProfileSigner(certPath, keyPath string, password func() (string, error), now time.Time) (*ProfileSigner, error) {
	certs, err := certfile.ReadCertificates(certPath)
	if err != nil {
		return nil, fmt.Errorf("profile signing certificate: %w", err)
	}
	data, err := fsutil.ReadLimited(keyPath, certfile.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("profile signing key: %w", err)
	}
	key, err := keys.ParsePEM(data, "")
	if errors.Is(err, keys.ErrNeedPassword) {
		var pw string
		if pw, err = password(); err != nil {
			return nil, err
		}
		key, err = keys.ParsePEM(data, pw)
	}
	if err != nil {
		return nil, fmt.Errorf("profile signing key %s: %w", keyPath, err)
	}
	s := &ProfileSigner{Cert: certs[0], Chain: certs[1:], Key: key}
	return s, s.check(now)
}

// SignerError is a signing certificate or key that cannot sign a profile.
type SignerError struct{ Msg, Hint string }

func (e *SignerError) Error() string    { return e.Msg }
func (e *SignerError) HintText() string { return e.Hint }

func (s *ProfileSigner) check(now time.Time) error {
	c := s.Cert
	switch {
	case !keys.Match(s.Key, c.PublicKey):
		return &SignerError{Msg: fmt.Sprintf("the profile signing key does not belong to the certificate %q", c.Subject.CommonName),
			Hint: "give the certificate and the key that were issued together: --sign-profile CERT,KEY"}
	case now.Before(c.NotBefore) || !now.Before(c.NotAfter):
		return &SignerError{Msg: fmt.Sprintf("the profile signing certificate %q is valid from %s to %s, not now", c.Subject.CommonName,
			c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02")),
			Hint: "a device shows a profile signed by an expired certificate as unverified; renew the signing certificate"}
	case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		return &SignerError{Msg: fmt.Sprintf("the profile signing certificate %q does not allow digital signatures (key usage)", c.Subject.CommonName),
			Hint: "use a certificate with the digitalSignature key usage, e.g. one from the code-signing template"}
	}
	for i, parent := range s.Chain {
		child := c
		if i > 0 {
			child = s.Chain[i-1]
		}
		if err := child.CheckSignatureFrom(parent); err != nil {
			return &SignerError{Msg: fmt.Sprintf("the profile signing certificate file: %q is not signed by %q, the certificate after it", child.Subject.CommonName, parent.Subject.CommonName),
				Hint: "put the signing certificate first, then its issuing CA, then the next CA up"}
		}
	}
	return nil
}

// mobileconfigFiles builds BASE.mobileconfig and, with a signer,
// BASE.signed.mobileconfig. Both hold the encrypted PKCS#12 (and with
// ProfilePassword its password), so both are private.
func mobileconfigFiles(o Options, path func(string) string) ([]fsutil.File, error) {
	xml, err := Profile(o)
	if err != nil {
		return nil, err
	}
	files := []fsutil.File{{Path: path(InstallerName(templates.FormatMobileconfig, o.Base)), Data: xml, Mode: fsutil.ModePrivate}}
	if o.ProfileSigner != nil {
		signed, err := SignProfile(xml, o.ProfileSigner)
		if err != nil {
			return nil, err
		}
		files = append(files, fsutil.File{Path: path(SignedProfileName(o.Base)), Data: signed, Mode: fsutil.ModePrivate})
	}
	return files, nil
}

// Profile returns the configuration profile of a bundle as an XML plist.
// The .pfx inside is always the legacy kind (3DES, SHA-1 MAC), which
// macOS and iOS read, whatever the bundle's own .pfx is. PayloadUUIDs are
// random; PayloadIdentifiers are stable for a CN under one CA, so a
// renewed profile replaces the old one on the device.
func Profile(o Options) ([]byte, error) {
	if o.Key == nil {
		return nil, errors.New("bundle: the profile needs the private key")
	}
	pfx, err := PFX(o.Key, o.Leaf, o.Chain, o.Password, templates.PFXLegacy, o.friendlyName())
	if err != nil {
		return nil, err
	}
	cn := o.Leaf.Subject.CommonName
	id := profileIdentifier(o.Leaf)
	var payloads []payloadXML
	roots, intermediates := caRoles(o.Chain)
	for _, ca := range append(roots, intermediates...) {
		typ, role := PayloadTypePKCS1, "issuing CA"
		if string(ca.Cert.RawIssuer) == string(ca.Cert.RawSubject) {
			typ, role = PayloadTypeRoot, "root CA"
		}
		u, err := newUUID()
		if err != nil {
			return nil, err
		}
		payloads = append(payloads, payloadXML{
			PayloadCertificateFileName: ca.Slug + ".cer",
			PayloadContent:             ca.Cert.Raw,
			PayloadDescription:         fmt.Sprintf("The %s %s, for the chain of trust of %s", role, ca.Cert.Subject.CommonName, cn),
			PayloadDisplayName:         ca.Cert.Subject.CommonName,
			PayloadIdentifier:          id + ".ca." + identifierLabel(ca.Slug),
			PayloadType:                typ,
			PayloadUUID:                u,
			PayloadVersion:             1,
		})
	}
	u, err := newUUID()
	if err != nil {
		return nil, err
	}
	identity := payloadXML{
		PayloadCertificateFileName: o.pfxName(),
		PayloadContent:             pfx,
		PayloadDescription:         fmt.Sprintf("The certificate %s and its private key", cn),
		PayloadDisplayName:         cn,
		PayloadIdentifier:          id + ".identity",
		PayloadType:                PayloadTypePKCS12,
		PayloadUUID:                u,
		PayloadVersion:             1,
	}
	if o.ProfilePassword {
		identity.Password = o.Password
	}
	payloads = append(payloads, identity)
	u, err = newUUID()
	if err != nil {
		return nil, err
	}
	p := profileXML{
		PayloadContent:     payloads,
		PayloadDescription: fmt.Sprintf("Installs the certificate %s, its private key and its CA certificates in the System keychain. Made by certmint; serial %X, valid until %s.", cn, o.Leaf.SerialNumber, o.Leaf.NotAfter.UTC().Format("2006-01-02")),
		PayloadDisplayName: "Certificate " + cn,
		PayloadIdentifier:  id,
		PayloadScope:       "System",
		PayloadType:        PayloadTypeProfile,
		PayloadUUID:        u,
		PayloadVersion:     1,
	}
	if len(o.Chain) > 0 && len(o.Chain[0].Cert.Subject.Organization) > 0 {
		p.PayloadOrganization = o.Chain[0].Cert.Subject.Organization[0]
	}
	out, err := plist.MarshalIndent(p, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("bundle: encoding the profile: %w", err)
	}
	return append(out, '\n'), nil
}

// SignProfile wraps a profile in CMS SignedData (RFC 5652; PKCS#7), as
// Apple devices verify it: the XML as the signed content, SHA-256, the
// signer's certificate and chain included.
func SignProfile(xml []byte, s *ProfileSigner) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(xml)
	if err != nil {
		return nil, fmt.Errorf("bundle: signing the profile: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(s.Cert, s.Key, s.Chain, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("bundle: signing the profile: %w", err)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("bundle: signing the profile: %w", err)
	}
	return der, nil
}

// profileIdentifier is a reverse-DNS PayloadIdentifier: the host of the
// CA's published URLs (the certificate's CRL distribution point or AIA)
// reversed, then "certmint" and the CN: pki.contoso.com and MAC01.local
// give com.contoso.pki.certmint.MAC01.local. Without a DNS host it starts
// with local.certmint.
func profileIdentifier(leaf *x509.Certificate) string {
	prefix := "local.certmint"
	for _, raw := range append(append([]string{}, leaf.CRLDistributionPoints...), leaf.IssuingCertificateURL...) {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
			continue
		}
		labels := strings.Split(strings.ToLower(u.Hostname()), ".")
		for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
			labels[i], labels[j] = labels[j], labels[i]
		}
		prefix = identifierLabel(strings.Join(labels, ".")) + ".certmint"
		break
	}
	return prefix + "." + identifierLabel(leaf.Subject.CommonName)
}

// identifierLabel keeps letters, digits, dots and hyphens (a reverse-DNS
// identifier's alphabet) and turns anything else into a hyphen.
func identifierLabel(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '-'
	}, s)
	out = strings.Trim(out, ".")
	if out == "" {
		return "certificate"
	}
	return out
}

// newUUID is a random (version 4) UUID, upper case as Apple writes them.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])), nil
}
