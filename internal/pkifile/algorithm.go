package pkifile

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Algorithm describes a password-based encryption or MAC as written in a
// PKCS#12 file or an encrypted PKCS#8 key. Reading it is parsing only: no
// key is derived and nothing is decrypted.
type Algorithm struct {
	Name       string `json:"name"`                 // "PBES2", "pbeWithSHA1And3-KeyTripleDES-CBC", "SHA-256" (MAC)
	OID        string `json:"oid"`                  // of Name
	KDF        string `json:"kdf,omitempty"`        // PBES2/PBMAC1: "PBKDF2" or "scrypt"
	PRF        string `json:"prf,omitempty"`        // PBKDF2: "hmacWithSHA256"
	Cipher     string `json:"cipher,omitempty"`     // PBES2: "AES-256-CBC"; PBMAC1: the HMAC
	Iterations int    `json:"iterations,omitempty"` // PBKDF2 / PKCS#12 KDF iterations; scrypt: N

	scryptR, scryptP int
}

// String reads like openssl pkcs12 -info: "PBES2 (PBKDF2, hmacWithSHA256,
// AES-256-CBC), 2048 iterations".
func (a Algorithm) String() string {
	var parts []string
	for _, p := range []string{a.KDF, a.PRF, a.Cipher} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	s := a.Name
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if a.Iterations > 0 {
		if a.KDF == "scrypt" {
			s += fmt.Sprintf(", N=%d", a.Iterations)
		} else if a.Iterations == 1 {
			s += ", 1 iteration"
		} else {
			s += fmt.Sprintf(", %d iterations", a.Iterations)
		}
	}
	return s
}

// Uses reports whether the algorithm or one of its parts has name n.
func (a Algorithm) Uses(n string) bool {
	return a.Name == n || a.KDF == n || a.PRF == n || a.Cipher == n
}

var (
	oidPBEWithSHA1And128BitRC4  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 1}
	oidPBEWithSHA1And40BitRC4   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 2}
	oidPBEWithSHA1And3KeyDES    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHA1And2KeyDES    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBEWithSHA1And128BitRC2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHA1And40BitRC2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBEWithMD5AndDES         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	oidPBEWithSHA1AndDES        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}
	oidPBEWithMD5AndRC2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 6}
	oidPBEWithSHA1AndRC2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 11}
	oidPBES2                    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBMAC1                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidScrypt                   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidSHA1                     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA224                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidMD5                      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidDataContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedDataContentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidEnvelopedDataContentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidFriendlyName             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidMicrosoftCSPName         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 17, 1}
	oidMicrosoftLocalKeySet     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 17, 2}
	oidJavaTrustStore           = asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}
	oidKeyBag                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidPKCS8ShroudedKeyBag      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidCRLBag                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 4}
	oidSecretBag                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 5}
	oidSafeContentsBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
)

// names of the ciphers, PRFs and MAC digests that appear in PBES2, PBMAC1
// and PKCS#12 MacData.
var algorithmNames = map[string]string{
	"1.2.840.113549.2.7":      "hmacWithSHA1",
	"1.2.840.113549.2.8":      "hmacWithSHA224",
	"1.2.840.113549.2.9":      "hmacWithSHA256",
	"1.2.840.113549.2.10":     "hmacWithSHA384",
	"1.2.840.113549.2.11":     "hmacWithSHA512",
	"2.16.840.1.101.3.4.1.2":  "AES-128-CBC",
	"2.16.840.1.101.3.4.1.22": "AES-192-CBC",
	"2.16.840.1.101.3.4.1.42": "AES-256-CBC",
	"1.2.840.113549.3.7":      "DES-EDE3-CBC",
	"1.3.14.3.2.7":            "DES-CBC",
	"1.2.840.113549.3.2":      "RC2-CBC",
	"1.2.643.7.1.1.4.2":       "GOST",
	oidSHA1.String():          "SHA-1",
	oidSHA224.String():        "SHA-224",
	oidSHA256.String():        "SHA-256",
	oidSHA384.String():        "SHA-384",
	oidSHA512.String():        "SHA-512",
	oidMD5.String():           "MD5",
}

// pbeNames are the password-based encryption schemes, with OpenSSL's names.
var pbeNames = map[string]string{
	oidPBEWithSHA1And128BitRC4.String(): "pbeWithSHA1And128BitRC4",
	oidPBEWithSHA1And40BitRC4.String():  "pbeWithSHA1And40BitRC4",
	oidPBEWithSHA1And3KeyDES.String():   "pbeWithSHA1And3-KeyTripleDES-CBC",
	oidPBEWithSHA1And2KeyDES.String():   "pbeWithSHA1And2-KeyTripleDES-CBC",
	oidPBEWithSHA1And128BitRC2.String(): "pbeWithSHA1And128BitRC2-CBC",
	oidPBEWithSHA1And40BitRC2.String():  "pbeWithSHA1And40BitRC2-CBC",
	oidPBEWithMD5AndDES.String():        "pbeWithMD5AndDES-CBC",
	oidPBEWithSHA1AndDES.String():       "pbeWithSHA1AndDES-CBC",
	oidPBEWithMD5AndRC2.String():        "pbeWithMD5AndRC2-CBC",
	oidPBEWithSHA1AndRC2.String():       "pbeWithSHA1AndRC2-CBC",
	oidPBES2.String():                   "PBES2",
}

func nameOf(oid asn1.ObjectIdentifier) string {
	if n, ok := algorithmNames[oid.String()]; ok {
		return n
	}
	if n, ok := pbeNames[oid.String()]; ok {
		return n
	}
	return oid.String()
}

// Legacy ciphers: not in OpenSSL 3's default provider, so `openssl pkcs12`
// needs -legacy to read a file that uses them.
var legacyCiphers = map[string]bool{
	"pbeWithSHA1And128BitRC4":     true,
	"pbeWithSHA1And40BitRC4":      true,
	"pbeWithSHA1And128BitRC2-CBC": true,
	"pbeWithSHA1And40BitRC2-CBC":  true,
	"pbeWithMD5AndDES-CBC":        true,
	"pbeWithSHA1AndDES-CBC":       true,
	"pbeWithMD5AndRC2-CBC":        true,
	"pbeWithSHA1AndRC2-CBC":       true,
	"DES-CBC":                     true,
	"RC2-CBC":                     true,
}

// NeedsOpenSSLLegacy reports whether OpenSSL 3 needs its legacy provider
// (openssl pkcs12 -legacy) for this algorithm: RC2, RC4 and single DES.
func (a Algorithm) NeedsOpenSSLLegacy() bool {
	return legacyCiphers[a.Name] || legacyCiphers[a.Cipher]
}

// PKCS12PBE reports whether the algorithm is one of the original PKCS#12
// password-based schemes (pbeWithSHA1And...), as opposed to PBES2.
func (a Algorithm) PKCS12PBE() bool { return strings.HasPrefix(a.OID, "1.2.840.113549.1.12.1.") }

type pbeParams struct {
	Salt       []byte
	Iterations int
}

type pbes2Params struct {
	KDF              pkix.AlgorithmIdentifier
	EncryptionScheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       asn1.RawValue
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	N         int
	BlockSize int
	Parallel  int
	KeyLength int `asn1:"optional"`
}

// describeEncryption reads an encryption AlgorithmIdentifier: the PKCS#12
// PBE schemes, PKCS#5 v1 and PBES2 with PBKDF2 or scrypt. Unknown schemes
// come back with their OID as the name; malformed parameters are an error.
func describeEncryption(alg pkix.AlgorithmIdentifier) (Algorithm, error) {
	a := Algorithm{Name: nameOf(alg.Algorithm), OID: alg.Algorithm.String()}
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		var p pbes2Params
		if err := unmarshalAll(alg.Parameters.FullBytes, &p); err != nil {
			return a, fmt.Errorf("PBES2 parameters: %w", err)
		}
		a.Cipher = nameOf(p.EncryptionScheme.Algorithm)
		if err := describeKDF(&a, p.KDF); err != nil {
			return a, err
		}
	case pbeNames[alg.Algorithm.String()] != "":
		var p pbeParams
		if err := unmarshalAll(alg.Parameters.FullBytes, &p); err != nil {
			return a, fmt.Errorf("%s parameters: %w", a.Name, err)
		}
		a.Iterations = p.Iterations
	}
	return a, nil
}

func describeKDF(a *Algorithm, kdf pkix.AlgorithmIdentifier) error {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		a.KDF = "PBKDF2"
		var p pbkdf2Params
		if err := unmarshalAll(kdf.Parameters.FullBytes, &p); err != nil {
			return fmt.Errorf("PBKDF2 parameters: %w", err)
		}
		a.Iterations = p.Iterations
		a.PRF = "hmacWithSHA1" // the ASN.1 DEFAULT
		if len(p.PRF.Algorithm) > 0 {
			a.PRF = nameOf(p.PRF.Algorithm)
		}
	case kdf.Algorithm.Equal(oidScrypt):
		a.KDF = "scrypt"
		var p scryptParams
		if err := unmarshalAll(kdf.Parameters.FullBytes, &p); err != nil {
			return fmt.Errorf("scrypt parameters: %w", err)
		}
		a.Iterations, a.scryptR, a.scryptP = p.N, p.BlockSize, p.Parallel
	default:
		a.KDF = kdf.Algorithm.String()
	}
	return nil
}

// unmarshalAll is asn1.Unmarshal that refuses trailing data.
func unmarshalAll(der []byte, out any) error {
	rest, err := asn1.Unmarshal(der, out)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%d bytes of trailing data", len(rest))
	}
	return nil
}

// MaxIterations bounds the KDF work a file may ask for before certmint
// tries a password on it: certmint's own CA keys use 600,000 PBKDF2
// iterations; a file asking for billions is hostile or broken, and would
// keep the command busy for hours. scrypt's N is bounded by MaxScryptN
// (memory is 128·r·N bytes).
const (
	MaxIterations = 10_000_000
	MaxScryptN    = 1 << 20
)

// CheckCost refuses an algorithm whose KDF would take unreasonably long or
// use unreasonable memory. limit 0 means MaxIterations.
func (a Algorithm) CheckCost(limit int) error {
	if limit <= 0 {
		limit = MaxIterations
	}
	if a.KDF == "scrypt" {
		if a.Iterations > MaxScryptN || a.scryptR > 32 || a.scryptP > 16 {
			return fmt.Errorf("%s asks for scrypt N=%d, r=%d, p=%d; certmint refuses more than N=%d, r=32, p=16", a.Name, a.Iterations, a.scryptR, a.scryptP, MaxScryptN)
		}
		return nil
	}
	if a.Iterations > limit {
		return fmt.Errorf("%s asks for %d iterations; certmint refuses more than %d", a.Name, a.Iterations, limit)
	}
	return nil
}
