package inspect

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"strings"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/san"
)

func describeCSR(csr *x509.CertificateRequest) CSR {
	std, other := sans(san.FromRequest(csr), csr.Extensions)
	d := CSR{
		Subject:             csr.Subject.String(),
		SANs:                std,
		OtherSANs:           other,
		PublicKey:           describePublicKey(csr.PublicKey, csr.RawSubjectPublicKeyInfo, csr.PublicKeyAlgorithm),
		SignatureAlgorithm:  csr.SignatureAlgorithm.String(),
		RequestedExtensions: []Extension{},
	}
	if err := csr.CheckSignature(); err != nil {
		d.SignatureError = err.Error()
	} else {
		d.SignatureValid = true
	}
	// The request's extensions are only requests: a CA decides. Go parses
	// the SANs of a request, not its key usages, so those are read here.
	for _, ext := range csr.Extensions {
		d.RequestedExtensions = append(d.RequestedExtensions, Extension{OID: ext.Id.String(), Name: extensionName(ext.Id.String()), Critical: ext.Critical})
		switch {
		case ext.Id.Equal(oidKeyUsage):
			var bits asn1.BitString
			ku := &KeyUsage{Critical: ext.Critical, Names: []string{}}
			if _, err := asn1.Unmarshal(ext.Value, &bits); err != nil {
				ku.Names = append(ku.Names, "(malformed)")
			} else {
				var usage x509.KeyUsage
				for i := range keyUsageNames {
					if bits.At(i) != 0 {
						usage |= 1 << i
					}
				}
				ku.Names = keyUsageList(usage)
			}
			d.KeyUsage = ku
		case ext.Id.Equal(oidEKU):
			d.ExtKeyUsage = parseEKU(ext)
		case ext.Id.Equal(oidBasicConstraints):
			var bc struct {
				CA         bool `asn1:"optional"`
				MaxPathLen int  `asn1:"optional,default:-1"`
			}
			b := &BasicConstraints{Critical: ext.Critical}
			if _, err := asn1.Unmarshal(ext.Value, &bc); err == nil {
				b.CA = bc.CA
				if bc.MaxPathLen >= 0 {
					b.MaxPathLen = intp(bc.MaxPathLen)
				}
			}
			d.BasicConstraints = b
		}
	}
	return d
}

func describeCRL(rl *x509.RevocationList, now time.Time) CRL {
	sum := sha256.Sum256(rl.Raw)
	d := CRL{
		Issuer:             rl.Issuer.String(),
		ThisUpdate:         timeString(rl.ThisUpdate),
		NextUpdate:         timeString(rl.NextUpdate),
		AuthorityKeyID:     pkifile.HexID(rl.AuthorityKeyId),
		SignatureAlgorithm: rl.SignatureAlgorithm.String(),
		SHA256Fingerprint:  pkifile.HexID(sum[:]),
		Count:              len(rl.RevokedCertificateEntries),
		Entries:            make([]CRLEntry, 0, len(rl.RevokedCertificateEntries)),
	}
	if rl.Number != nil {
		d.Number = rl.Number.String()
	}
	switch {
	case rl.NextUpdate.IsZero():
		d.Status, d.StatusText = StatusNoUpdate, "no nextUpdate: validators cannot tell when to fetch a new one"
	case now.After(rl.NextUpdate):
		d.Status, d.StatusText = StatusExpired, "expired "+span(now.Sub(rl.NextUpdate))+" ago: validators reject it"
	case now.Before(rl.ThisUpdate):
		d.Status, d.StatusText = StatusNotYet, "not yet valid: thisUpdate is in "+span(rl.ThisUpdate.Sub(now))
	default:
		d.Status, d.StatusText = StatusCurrent, "next update in "+span(rl.NextUpdate.Sub(now))
	}
	for _, e := range rl.RevokedCertificateEntries {
		entry := CRLEntry{Serial: SerialHex(e.SerialNumber), RevokedAt: timeString(e.RevocationTime)}
		// ReasonCode 0 means both "unspecified" and "no reason code".
		for _, ext := range e.Extensions {
			if ext.Id.Equal(oidCRLReason) {
				entry.Reason = crl.ReasonName(e.ReasonCode)
			}
		}
		d.Entries = append(d.Entries, entry)
	}
	return d
}

func describeKey(k *pkifile.Key) Key {
	d := Key{Format: k.Format, Encrypted: k.Encrypted, PublicKey: publicKeyOf(k.Signer)}
	if k.Encryption != nil {
		d.Encryption = algorithm(*k.Encryption)
	}
	return d
}

func algorithm(a pkifile.Algorithm) *Algorithm {
	return &Algorithm{Algorithm: a, Text: a.String()}
}

func describePFX(c *pkifile.PFXContents) *PKCS12 {
	p := &PKCS12{
		CertificateEncryption: []string{},
		KeyEncryption:         []string{},
		Safes:                 []Safe{},
		Bags:                  []Bag{},
		Incomplete:            c.Incomplete,
	}
	if c.MAC != nil {
		p.MAC = algorithm(*c.MAC)
	}
	for _, s := range c.Safes {
		safe := Safe{ContentType: s.ContentType}
		if s.Encryption != nil {
			safe.Encryption = algorithm(*s.Encryption)
		}
		p.Safes = append(p.Safes, safe)
	}
	add := func(list *[]string, s string) {
		for _, v := range *list {
			if v == s {
				return
			}
		}
		*list = append(*list, s)
	}
	// protection says what protects a bag: its safe's encryption and, for
	// a shrouded key, its own.
	protection := func(b pkifile.Bag) []string {
		var out []string
		if b.Encryption != nil {
			out = append(out, b.Encryption.String())
		} else if b.Type == "pkcs8ShroudedKeyBag" {
			out = append(out, "shrouded (algorithm not readable)")
		}
		switch {
		case b.Safe >= 0 && c.Safes[b.Safe].Encryption != nil:
			out = append(out, c.Safes[b.Safe].Encryption.String())
		case b.Safe >= 0 && c.Safes[b.Safe].Encrypted():
			out = append(out, c.Safes[b.Safe].ContentType)
		case b.Safe < 0:
			// The bag's safe is not known: any encrypted safe may hold it.
			for _, s := range c.Safes {
				if s.Encryption != nil {
					out = append(out, s.Encryption.String())
				}
			}
		}
		if len(out) == 0 {
			out = append(out, "none")
		}
		return out
	}
	for _, b := range c.Bags {
		bag := Bag{Type: b.Type, FriendlyName: b.FriendlyName, LocalKeyID: pkifile.HexID(b.LocalKeyID), OtherAttributes: nonNil(b.Other)}
		if b.Safe >= 0 {
			bag.Safe = intp(b.Safe + 1)
		}
		if b.Encryption != nil {
			bag.Encryption = algorithm(*b.Encryption)
		}
		if b.CertIndex >= 0 {
			bag.Certificate = intp(b.CertIndex + 1)
		}
		p.Bags = append(p.Bags, bag)
		switch b.Type {
		case "certBag":
			for _, s := range protection(b) {
				add(&p.CertificateEncryption, s)
			}
		case "pkcs8ShroudedKeyBag", "keyBag", "key":
			for _, s := range protection(b) {
				add(&p.KeyEncryption, s)
			}
		}
	}
	if c.Leaf >= 0 {
		p.Leaf = intp(c.Leaf + 1)
	}
	p.Compatibility = compatibility(c.PFX)
	return p
}

// compatibility judges who can import the file from its algorithms.
//
// macOS Keychain (`security import`, 002) and Windows before Windows 10 1709
// / Server 2016 read only the original PKCS#12 schemes (3DES, RC2) with a
// SHA-1 MAC: PBES2 (AES) encryption or a SHA-256 MAC makes them refuse the
// file, typically as a wrong password. OpenSSL 3 moved RC2, RC4 and single
// DES to its legacy provider: `openssl pkcs12` needs -legacy for them, and
// OpenSSL before 3.4 does not know PBMAC1.
func compatibility(p *pkifile.PFX) Compatibility {
	problems := p.LegacyImportProblems()
	legacy := false
	for _, a := range p.Encryptions() {
		if a.NeedsOpenSSLLegacy() {
			legacy = true
		}
	}
	verdict := func() Verdict {
		if len(problems) == 0 {
			return Verdict{OK: true, Reason: "3DES/RC2 encryption with a SHA-1 MAC"}
		}
		return Verdict{Reason: "needs 3DES (or RC2) encryption with a SHA-1 MAC; this file uses " + strings.Join(problems, " and ")}
	}
	notes := []string{}
	if p.MAC != nil && p.MAC.Name == "PBMAC1" {
		// RFC 9579; go-pkcs12 Modern2026 writes it.
		notes = append(notes, "the PBMAC1 MAC needs OpenSSL 3.4 or later and Java 26 or later")
	}
	if p.MAC == nil {
		notes = append(notes, "no MAC: nothing checks the password or the file's integrity")
	}
	return Compatibility{
		MacOSKeychain:       verdict(),
		WindowsBefore1709:   verdict(),
		OpenSSL3NeedsLegacy: legacy,
		Notes:               notes,
	}
}
