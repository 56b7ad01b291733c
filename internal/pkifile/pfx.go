package pkifile

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// PFX is the structure of a PKCS#12 file as far as it can be read without
// the password: the MAC algorithm, and for each safe of the authenticated
// safe its encryption or, when it is not encrypted, its bags.
//
// This is hand-written ASN.1 parsing with encoding/asn1 (RFC 7292 section 4),
// not cryptography: go-pkcs12 decrypts, but has no API that reports which
// algorithms a file uses, and that is what decides whether macOS or an older
// Windows can import it.
type PFX struct {
	MAC   *Algorithm // nil when the file has no MAC
	Safes []Safe
}

// Safe is one ContentInfo of the authenticated safe.
type Safe struct {
	ContentType string     // "data", "encryptedData", "envelopedData" or an OID
	Encryption  *Algorithm // encryptedData: its contentEncryptionAlgorithm
	Bags        []Bag      // the bags of a "data" safe; an encrypted safe's are only known once decrypted
}

// Encrypted reports whether the safe's contents need the password.
func (s Safe) Encrypted() bool { return s.ContentType != "data" }

// Bag is one SafeBag.
type Bag struct {
	Type         string     // "certBag", "pkcs8ShroudedKeyBag", "keyBag", "crlBag", "secretBag", "safeContentsBag" or an OID
	Safe         int        // index of its safe in PFX.Safes, -1 when unknown
	Encryption   *Algorithm // pkcs8ShroudedKeyBag: how the key is shrouded (nil when not readable)
	FriendlyName string
	LocalKeyID   []byte
	Other        []string // other attributes, "name: value" or "name"
	CertIndex    int      // certBag: index of its certificate in PFXContents.Certs, -1 otherwise

	certDER, keyDER []byte // certBag / keyBag contents of a plaintext safe
}

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbmac1Params struct {
	KDF               pkix.AlgorithmIdentifier
	MessageAuthScheme pkix.AlgorithmIdentifier
}

var bagTypes = map[string]string{
	oidKeyBag.String():              "keyBag",
	oidPKCS8ShroudedKeyBag.String(): "pkcs8ShroudedKeyBag",
	oidCertBag.String():             "certBag",
	oidCRLBag.String():              "crlBag",
	oidSecretBag.String():           "secretBag",
	oidSafeContentsBag.String():     "safeContentsBag",
}

// PFXError is a file that looked like PKCS#12 but is not well formed.
type PFXError struct{ Detail string }

func (e *PFXError) Error() string { return "PKCS#12: " + e.Detail }

// ParsePFX reads the structure of a DER PKCS#12 file.
func ParsePFX(der []byte) (*PFX, error) {
	var pdu pfxPDU
	if err := unmarshalAll(der, &pdu); err != nil {
		return nil, &PFXError{"malformed file (" + err.Error() + "); BER-encoded files are not supported"}
	}
	if pdu.Version != 3 {
		return nil, &PFXError{fmt.Sprintf("version %d; only version 3 exists", pdu.Version)}
	}
	p := &PFX{}
	if len(pdu.MacData.Mac.Algorithm.Algorithm) > 0 {
		mac, err := describeMAC(pdu.MacData)
		if err != nil {
			return nil, &PFXError{"MAC: " + err.Error()}
		}
		p.MAC = &mac
	}
	if !pdu.AuthSafe.ContentType.Equal(oidDataContentType) {
		// signedData: the public-key integrity mode, which nothing certmint
		// talks to produces and go-pkcs12 does not read.
		return nil, &PFXError{"the authenticated safe is " + pdu.AuthSafe.ContentType.String() + " (public-key integrity mode), which is not supported"}
	}
	var authSafe []byte
	if err := unmarshalAll(pdu.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, &PFXError{"authenticated safe: " + err.Error()}
	}
	var safes []contentInfo
	if err := unmarshalAll(authSafe, &safes); err != nil {
		return nil, &PFXError{"authenticated safe: " + err.Error()}
	}
	for i, ci := range safes {
		s, err := parseSafe(i, ci)
		if err != nil {
			return nil, &PFXError{fmt.Sprintf("safe %d: %v", i+1, err)}
		}
		p.Safes = append(p.Safes, s)
	}
	return p, nil
}

func describeMAC(m macData) (Algorithm, error) {
	alg := m.Mac.Algorithm
	a := Algorithm{Name: nameOf(alg.Algorithm), OID: alg.Algorithm.String(), Iterations: m.Iterations}
	if alg.Algorithm.Equal(oidPBMAC1) {
		// RFC 9579: the iterations of MacData are ignored; PBKDF2's count.
		a.Name = "PBMAC1"
		var p pbmac1Params
		if err := unmarshalAll(alg.Parameters.FullBytes, &p); err != nil {
			return a, fmt.Errorf("PBMAC1 parameters: %w", err)
		}
		a.Cipher = nameOf(p.MessageAuthScheme.Algorithm)
		if err := describeKDF(&a, p.KDF); err != nil {
			return a, err
		}
	}
	return a, nil
}

func parseSafe(index int, ci contentInfo) (Safe, error) {
	switch {
	case ci.ContentType.Equal(oidDataContentType):
		s := Safe{ContentType: "data"}
		var data []byte
		if err := unmarshalAll(ci.Content.Bytes, &data); err != nil {
			return s, err
		}
		var bags []safeBag
		if err := unmarshalAll(data, &bags); err != nil {
			return s, err
		}
		for _, b := range bags {
			bag, err := parseBag(b)
			if err != nil {
				return s, err
			}
			bag.Safe = index
			s.Bags = append(s.Bags, bag)
		}
		return s, nil
	case ci.ContentType.Equal(oidEncryptedDataContentType):
		s := Safe{ContentType: "encryptedData"}
		var ed encryptedData
		if err := unmarshalAll(ci.Content.Bytes, &ed); err != nil {
			return s, err
		}
		a, err := describeEncryption(ed.EncryptedContentInfo.ContentEncryptionAlgorithm)
		if err != nil {
			return s, err
		}
		s.Encryption = &a
		return s, nil
	case ci.ContentType.Equal(oidEnvelopedDataContentType):
		return Safe{ContentType: "envelopedData"}, nil
	}
	return Safe{ContentType: ci.ContentType.String()}, nil
}

func parseBag(b safeBag) (Bag, error) {
	bag := Bag{Type: b.ID.String(), CertIndex: -1}
	if t, ok := bagTypes[b.ID.String()]; ok {
		bag.Type = t
	}
	switch {
	case b.ID.Equal(oidPKCS8ShroudedKeyBag):
		var info encryptedPrivateKeyInfo
		if err := unmarshalAll(b.Value.Bytes, &info); err != nil {
			return bag, fmt.Errorf("shrouded key bag: %w", err)
		}
		a, err := describeEncryption(info.Algorithm)
		if err != nil {
			return bag, fmt.Errorf("shrouded key bag: %w", err)
		}
		bag.Encryption = &a
	case b.ID.Equal(oidCertBag):
		var cb certBag
		// 1.2.840.113549.1.9.22.1: x509Certificate (the other type, SDSI, is unused).
		if err := unmarshalAll(b.Value.Bytes, &cb); err == nil && cb.ID.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}) {
			bag.certDER = cb.Data
		}
	case b.ID.Equal(oidKeyBag):
		bag.keyDER = b.Value.FullBytes
	}
	for _, attr := range b.Attributes {
		addAttribute(&bag, attr)
	}
	return bag, nil
}

// addAttribute records a bag attribute; a value that cannot be decoded is
// shown by its name only.
func addAttribute(bag *Bag, attr pkcs12Attribute) {
	switch {
	case attr.ID.Equal(oidFriendlyName):
		if s, err := decodeBMPAttribute(attr.Value.Bytes); err == nil {
			bag.FriendlyName = s
		}
	case attr.ID.Equal(oidLocalKeyID):
		var id []byte
		if _, err := asn1.Unmarshal(attr.Value.Bytes, &id); err == nil {
			bag.LocalKeyID = id
		}
	case attr.ID.Equal(oidMicrosoftCSPName):
		if s, err := decodeBMPAttribute(attr.Value.Bytes); err == nil {
			bag.Other = append(bag.Other, "Microsoft CSP Name: "+s)
		} else {
			bag.Other = append(bag.Other, "Microsoft CSP Name")
		}
	case attr.ID.Equal(oidMicrosoftLocalKeySet):
		bag.Other = append(bag.Other, "Microsoft Local Key set")
	case attr.ID.Equal(oidJavaTrustStore):
		bag.Other = append(bag.Other, "Java trusted certificate")
	default:
		bag.Other = append(bag.Other, attr.ID.String())
	}
}

// decodeBMPAttribute reads the first value of an attribute's SET as a
// BMPString (UCS-2, big-endian).
func decodeBMPAttribute(set []byte) (string, error) {
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(set, &v); err != nil {
		return "", err
	}
	if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagBMPString || len(v.Bytes)%2 != 0 {
		return "", errors.New("not a BMPString")
	}
	u := make([]uint16, len(v.Bytes)/2)
	for i := range u {
		u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
	}
	return strings.TrimSuffix(string(utf16.Decode(u)), "\x00"), nil
}

// Algorithms lists every algorithm the file names: the MAC, the encryption
// of each encrypted safe and of each readable shrouded key bag.
func (p *PFX) Algorithms() []Algorithm {
	var out []Algorithm
	if p.MAC != nil {
		out = append(out, *p.MAC)
	}
	return append(out, p.Encryptions()...)
}

// Encryptions lists the encryption of each encrypted safe and of each
// readable shrouded key bag.
func (p *PFX) Encryptions() []Algorithm {
	var out []Algorithm
	for _, s := range p.Safes {
		if s.Encryption != nil {
			out = append(out, *s.Encryption)
		}
		for _, b := range s.Bags {
			if b.Encryption != nil {
				out = append(out, *b.Encryption)
			}
		}
	}
	return out
}

// LegacyImportProblems lists what keeps macOS Keychain (`security import`)
// and Windows before Windows 10 1709 / Server 2016 from importing the file:
// they read only the original PKCS#12 schemes (3DES, RC2) with a SHA-1
// MAC, and refuse PBES2 (AES) encryption or a SHA-256 MAC, typically as a
// wrong password. Empty: they import it.
func (p *PFX) LegacyImportProblems() []string {
	var problems []string
	switch {
	case p.MAC == nil:
	case p.MAC.Name == "PBMAC1":
		problems = append(problems, "a PBMAC1 MAC")
	case p.MAC.Name != "SHA-1":
		problems = append(problems, "a "+p.MAC.Name+" MAC")
	}
	seen := map[string]bool{}
	for _, a := range p.Encryptions() {
		if !a.PKCS12PBE() && !seen[a.Name+a.Cipher] {
			seen[a.Name+a.Cipher] = true
			name := a.Name
			if a.Cipher != "" {
				name = a.Cipher + " (" + a.Name + ")"
			}
			problems = append(problems, name+" encryption")
		}
	}
	for _, s := range p.Safes {
		if s.ContentType == "envelopedData" {
			problems = append(problems, "public-key (envelopedData) encryption")
		}
	}
	return problems
}

// CheckCost refuses a file whose KDFs ask for unreasonable work before any
// password is tried on it.
func (p *PFX) CheckCost(limit int) error {
	for _, a := range p.Algorithms() {
		if err := a.CheckCost(limit); err != nil {
			return &PFXError{err.Error()}
		}
	}
	return nil
}

// HexID formats a key identifier or fingerprint as colon-separated
// upper-case hex, as openssl prints them.
func HexID(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := strings.ToUpper(hex.EncodeToString(b))
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}
