package inspect

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/san"
)

// Extension OIDs inspect decodes itself.
var (
	oidSKI              = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidSAN              = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidCDP              = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidPolicies         = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidAKI              = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidEKU              = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidAIA              = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidCRLReason        = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidUPN              = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// describedExtensions are shown in their own fields, not in other_extensions.
var describedExtensions = map[string]bool{
	oidSKI.String(): true, oidKeyUsage.String(): true, oidSAN.String(): true,
	oidBasicConstraints.String(): true, oidCDP.String(): true, oidPolicies.String(): true,
	oidAKI.String(): true, oidEKU.String(): true, oidAIA.String(): true,
}

// extensionNames names the extensions that commonly appear.
var extensionNames = map[string]string{
	"2.5.29.9":                "subjectDirectoryAttributes",
	"2.5.29.14":               "subjectKeyIdentifier",
	"2.5.29.15":               "keyUsage",
	"2.5.29.17":               "subjectAltName",
	"2.5.29.18":               "issuerAltName",
	"2.5.29.19":               "basicConstraints",
	"2.5.29.30":               "nameConstraints",
	"2.5.29.31":               "cRLDistributionPoints",
	"2.5.29.32":               "certificatePolicies",
	"2.5.29.33":               "policyMappings",
	"2.5.29.35":               "authorityKeyIdentifier",
	"2.5.29.36":               "policyConstraints",
	"2.5.29.37":               "extKeyUsage",
	"2.5.29.46":               "freshestCRL",
	"2.5.29.54":               "inhibitAnyPolicy",
	"1.3.6.1.5.5.7.1.1":       "authorityInfoAccess",
	"1.3.6.1.5.5.7.1.11":      "subjectInfoAccess",
	"1.3.6.1.5.5.7.1.24":      "tlsFeature",
	"1.3.6.1.5.5.7.48.1.5":    "ocspNoCheck",
	"1.3.6.1.4.1.11129.2.4.2": "ctPrecertificateSCTs",
	"1.3.6.1.4.1.11129.2.4.3": "ctPrecertificatePoison",
	"1.3.6.1.4.1.311.20.2":    "msCertificateTemplateName",
	"1.3.6.1.4.1.311.21.1":    "msCAVersion",
	"1.3.6.1.4.1.311.21.2":    "msPreviousCACertHash",
	"1.3.6.1.4.1.311.21.7":    "msCertificateTemplate",
	"1.3.6.1.4.1.311.21.10":   "msApplicationPolicies",
	"1.3.6.1.4.1.311.25.2":    "msNTDSCASecurity",
	"2.16.840.1.113730.1.1":   "nsCertType",
	"2.16.840.1.113730.1.13":  "nsComment",
}

func extensionName(oid string) string {
	if n, ok := extensionNames[oid]; ok {
		return n
	}
	return oid
}

// keyUsageNames are the RFC 5280 4.2.1.3 names, by bit.
var keyUsageNames = []string{
	"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
	"keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
}

// extKeyUsageNames are RFC 5280 4.2.1.12 and the common vendor purposes.
var extKeyUsageNames = map[string]string{
	"2.5.29.37.0":             "anyExtendedKeyUsage",
	"1.3.6.1.5.5.7.3.1":       "serverAuth",
	"1.3.6.1.5.5.7.3.2":       "clientAuth",
	"1.3.6.1.5.5.7.3.3":       "codeSigning",
	"1.3.6.1.5.5.7.3.4":       "emailProtection",
	"1.3.6.1.5.5.7.3.5":       "ipsecEndSystem",
	"1.3.6.1.5.5.7.3.6":       "ipsecTunnel",
	"1.3.6.1.5.5.7.3.7":       "ipsecUser",
	"1.3.6.1.5.5.7.3.8":       "timeStamping",
	"1.3.6.1.5.5.7.3.9":       "OCSPSigning",
	"1.3.6.1.5.5.7.3.17":      "ipsecIKE",
	"1.3.6.1.5.2.3.4":         "pkInitClientAuth",
	"1.3.6.1.5.2.3.5":         "pkInitKDC",
	"1.3.6.1.4.1.311.2.1.21":  "msCodeInd",
	"1.3.6.1.4.1.311.2.1.22":  "msCodeCom",
	"1.3.6.1.4.1.311.10.3.1":  "msCTLSign",
	"1.3.6.1.4.1.311.10.3.3":  "msSGC",
	"1.3.6.1.4.1.311.10.3.4":  "msEFS",
	"1.3.6.1.4.1.311.10.3.12": "msDocumentSigning",
	"1.3.6.1.4.1.311.20.2.2":  "msSmartcardLogin",
	"1.3.6.1.4.1.311.61.1.1":  "msKernelModeCodeSigning",
	"2.16.840.1.113730.4.1":   "nsSGC",
}

// SerialHex formats a serial the way `openssl x509 -serial` and certmint
// (ca.SerialHex) print it: upper-case hex, an even number of digits.
func SerialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	sign := ""
	if n.Sign() < 0 {
		sign, n = "-", new(big.Int).Neg(n)
	}
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return sign + s
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// describeCerts describes every certificate and links each to its issuer
// in the same file: same name (or AKI = SKI) and a signature that verifies.
func describeCerts(certs []*x509.Certificate, now time.Time, warnings *[]string) []Certificate {
	out := make([]Certificate, len(certs))
	for i, c := range certs {
		out[i] = describeCert(c, i+1, now)
		out[i].parent, out[i].cutFrom = -1, -1
	}
	if len(certs) > maxTree {
		*warnings = append(*warnings, fmt.Sprintf("%d certificates: too many to draw as a tree", len(certs)))
		return out
	}
	for i, c := range certs {
		if out[i].SelfSigned {
			continue
		}
		for j, p := range certs {
			if i != j && issuedBy(c, p) {
				out[i].parent = j
				break
			}
		}
	}
	// Cross-signed pairs can point at each other; a cycle is cut where it
	// is found, so every certificate hangs from some root of the tree.
	for i := range out {
		seen := map[int]bool{i: true}
		for p := out[i].parent; p >= 0; p = out[p].parent {
			if p == i {
				out[i].cutFrom, out[i].parent = out[i].parent, -1
				break
			}
			if seen[p] {
				break // a cycle above i, cut when its own members come
			}
			seen[p] = true
		}
	}
	for i := range out {
		if p := out[i].parent; p >= 0 {
			out[i].IssuerIndex = intp(p + 1)
			out[p].children = append(out[p].children, i)
		}
	}
	return out
}

// issuedBy reports whether p signed c.
func issuedBy(c, p *x509.Certificate) bool {
	if len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 {
		if !bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId) {
			return false
		}
	} else if !bytes.Equal(c.RawIssuer, p.RawSubject) {
		return false
	}
	// CheckSignature (unlike CheckSignatureFrom) accepts SHA-1 signatures
	// and an issuer without basic constraints: this draws what signed what,
	// it does not validate.
	return p.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func describeCert(c *x509.Certificate, index int, now time.Time) Certificate {
	sha1sum := sha1.Sum(c.Raw)
	sha256sum := sha256.Sum256(c.Raw)
	std, other := sans(san.FromCertificate(c), c.Extensions)
	d := Certificate{
		SANs:                  std,
		OtherSANs:             other,
		Index:                 index,
		Subject:               c.Subject.String(),
		Issuer:                c.Issuer.String(),
		Serial:                SerialHex(c.SerialNumber),
		Version:               c.Version,
		NotBefore:             timeString(c.NotBefore),
		NotAfter:              timeString(c.NotAfter),
		Validity:              validity(c.NotBefore, c.NotAfter, now),
		SelfSigned:            selfSigned(c),
		CRLDistributionPoints: nonNil(c.CRLDistributionPoints),
		OCSP:                  nonNil(c.OCSPServer),
		CAIssuers:             nonNil(c.IssuingCertificateURL),
		Policies:              []string{},
		SubjectKeyID:          pkifile.HexID(c.SubjectKeyId),
		AuthorityKeyID:        pkifile.HexID(c.AuthorityKeyId),
		PublicKey:             describePublicKey(c.PublicKey, c.RawSubjectPublicKeyInfo, c.PublicKeyAlgorithm),
		SignatureAlgorithm:    c.SignatureAlgorithm.String(),
		SHA1Fingerprint:       pkifile.HexID(sha1sum[:]),
		SHA256Fingerprint:     pkifile.HexID(sha256sum[:]),
		OtherExtensions:       []Extension{},
	}
	for _, p := range c.Policies {
		d.Policies = append(d.Policies, p.String())
	}
	for _, ext := range c.Extensions {
		switch {
		case ext.Id.Equal(oidKeyUsage):
			d.KeyUsage = &KeyUsage{Critical: ext.Critical, Names: keyUsageList(c.KeyUsage)}
		case ext.Id.Equal(oidEKU):
			d.ExtKeyUsage = parseEKU(ext)
		case ext.Id.Equal(oidBasicConstraints):
			bc := &BasicConstraints{Critical: ext.Critical, CA: c.IsCA}
			if c.MaxPathLen > 0 || c.MaxPathLenZero {
				bc.MaxPathLen = intp(c.MaxPathLen)
			}
			d.BasicConstraints = bc
		case !describedExtensions[ext.Id.String()]:
			d.OtherExtensions = append(d.OtherExtensions, Extension{OID: ext.Id.String(), Name: extensionName(ext.Id.String()), Critical: ext.Critical})
		}
	}
	return d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// validity says where now is in [notBefore, notAfter].
func validity(notBefore, notAfter, now time.Time) Validity {
	left := notAfter.Sub(now)
	v := Validity{DaysLeft: int(left.Hours() / 24)}
	switch {
	case now.Before(notBefore):
		v.Status = StatusNotYet
		v.Text = "not yet valid: starts in " + span(notBefore.Sub(now))
	case now.After(notAfter):
		v.Status = StatusExpired
		v.Text = "expired " + span(-left) + " ago"
	default:
		v.Status = StatusValid
		v.Text = span(left) + " left"
	}
	return v
}

// span writes a duration in days, or hours and minutes under a day.
func span(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= 24*time.Hour:
		return plural(int(d.Hours()/24), "day")
	case d >= time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Minutes()), "minute")
}

func keyUsageList(ku x509.KeyUsage) []string {
	names := []string{}
	for bit, name := range keyUsageNames {
		if ku&(1<<bit) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// parseEKU reads the extension itself, so purposes Go has no constant for
// (Microsoft's, Kerberos') keep their OIDs.
func parseEKU(ext pkix.Extension) *ExtKeyUsage {
	e := &ExtKeyUsage{Critical: ext.Critical, Names: []string{}, OIDs: []string{}}
	var oids []asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(ext.Value, &oids); err != nil {
		e.Names = append(e.Names, "(malformed)")
		return e
	}
	for _, oid := range oids {
		s := oid.String()
		name, ok := extKeyUsageNames[s]
		if !ok {
			name = s
		}
		e.Names = append(e.Names, name)
		e.OIDs = append(e.OIDs, s)
	}
	return e
}

// sans writes the subject alternative names Go parses as certmint writes
// SANs everywhere ("DNS:x", "IP:y", "email:z", "URI:u"), and reads apart
// the kinds it does not parse (otherName such as a Windows UPN,
// directoryName, registeredID).
func sans(names []san.Name, exts []pkix.Extension) (std, other []string) {
	std, other = nonNil(san.Strings(names)), []string{}
	for _, ext := range exts {
		if ext.Id.Equal(oidSAN) {
			other = append(other, otherNames(ext.Value)...)
		}
	}
	return std, other
}

// otherNames walks GeneralNames (RFC 5280 4.2.1.6) for the kinds Go skips.
func otherNames(der []byte) []string {
	var out []string
	input := cryptobyte.String(der)
	var seq cryptobyte.String
	if !input.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil
	}
	for !seq.Empty() {
		var v cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&v, &tag) {
			return append(out, "(malformed)")
		}
		switch tag {
		case cbasn1.Tag(0).Constructed().ContextSpecific(): // otherName
			var oid asn1.ObjectIdentifier
			var val cryptobyte.String
			if !v.ReadASN1ObjectIdentifier(&oid) || !v.ReadASN1(&val, cbasn1.Tag(0).Constructed().ContextSpecific()) {
				out = append(out, "otherName:(malformed)")
				continue
			}
			var str cryptobyte.String
			if oid.Equal(oidUPN) && val.ReadASN1(&str, cbasn1.UTF8String) {
				out = append(out, "UPN:"+string(str))
			} else {
				out = append(out, "otherName:"+oid.String())
			}
		case cbasn1.Tag(4).Constructed().ContextSpecific(): // directoryName
			var rdn pkix.RDNSequence
			if rest, err := asn1.Unmarshal(v, &rdn); err == nil && len(rest) == 0 {
				var n pkix.Name
				n.FillFromRDNSequence(&rdn)
				out = append(out, "DirName:"+n.String())
			} else {
				out = append(out, "DirName:(malformed)")
			}
		case cbasn1.Tag(8).ContextSpecific(): // registeredID
			var oid asn1.ObjectIdentifier
			b := cryptobyte.NewBuilder(nil)
			b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(v) })
			if raw, err := b.Bytes(); err == nil {
				if s := cryptobyte.String(raw); s.ReadASN1ObjectIdentifier(&oid) {
					out = append(out, "RID:"+oid.String())
					continue
				}
			}
			out = append(out, "RID:(malformed)")
		case cbasn1.Tag(3).Constructed().ContextSpecific():
			out = append(out, "x400Address")
		case cbasn1.Tag(5).Constructed().ContextSpecific():
			out = append(out, "ediPartyName")
		}
	}
	return out
}

// describePublicKey names a key; spki is its DER SubjectPublicKeyInfo.
func describePublicKey(pub crypto.PublicKey, spki []byte, alg x509.PublicKeyAlgorithm) PublicKey {
	p := PublicKey{}
	if len(spki) > 0 {
		sum := sha256.Sum256(spki)
		p.SPKISHA256 = pkifile.HexID(sum[:])
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		p.Type, p.Bits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		p.Type, p.Bits, p.Curve = "ECDSA", k.Curve.Params().BitSize, k.Curve.Params().Name
	case ed25519.PublicKey:
		p.Type, p.Bits = "Ed25519", 256
	default:
		p.Type = alg.String()
		if alg == x509.UnknownPublicKeyAlgorithm {
			p.Type = "unknown"
		}
	}
	return p
}

// publicKeyOf describes the public half of a private key.
func publicKeyOf(s crypto.Signer) PublicKey {
	spki, _ := x509.MarshalPKIXPublicKey(s.Public())
	var alg x509.PublicKeyAlgorithm
	return describePublicKey(s.Public(), spki, alg)
}
