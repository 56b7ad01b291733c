package inspect

import (
	"github.com/certmint/certmint/internal/jsonout"
	"github.com/certmint/certmint/internal/pkifile"
)

// SchemaVersion is the version of the JSON below, the one version of every
// certmint --json document (internal/jsonout). It changes only when a
// field is removed or changes meaning; new fields may appear at any time.
// Version 2 made "sans" a list of "DNS:x", "IP:y", "email:z", "URI:u" (it
// was an object of lists by kind) and added "other_sans".
const SchemaVersion = jsonout.SchemaVersion

// Report is what `certmint inspect --json` prints: one JSON object.
//
// The schema (version 2). Every list is present ([] when empty); an object
// that does not apply is null. Times are RFC 3339 in UTC; serials are
// upper-case hex as `openssl x509 -serial` and certmint print them;
// fingerprints and key identifiers are colon-separated upper-case hex.
//
//	{
//	  "schema_version": 2,
//	  "file": "server.pfx",
//	  "kind": "certificate" | "chain" | "csr" | "crl" | "key" | "pkcs12" | "mixed",
//	  "encoding": "PEM" | "DER",
//	  "certificates": [Certificate],   // in file order; "index" is 1-based
//	  "keys": [Key],
//	  "csrs": [CSR],
//	  "crls": [CRL],
//	  "pkcs12": PKCS12 | null,
//	  "warnings": [string]
//	}
//
// Certificate:
//
//	{ "index": 1, "subject": "CN=...,O=...,C=US", "issuer": "...", "serial": "753E...",
//	  "version": 3, "not_before": "...", "not_after": "...",
//	  "validity": {"status": "valid"|"expired"|"not yet valid", "days_left": 365, "text": "365 days left"},
//	  "self_signed": false,
//	  "issuer_index": 2 | null,            // the certificate of the same file that signed this one
//	                                       // (null for one link of a cross-signing cycle)
//	  "sans": ["DNS:www.example.com", "IP:10.0.0.5", "email:a@example.com", "URI:https://example.com/x"],
//	  "other_sans": ["UPN:user@example.com", "otherName:1.2.3.4", "DirName:CN=x", "RID:1.2.3", ...],
//	  "key_usage": {"critical": true, "names": ["digitalSignature", ...]} | null,
//	  "ext_key_usage": {"critical": false, "names": ["serverAuth", ...], "oids": ["1.3.6.1.5.5.7.3.1", ...]} | null,
//	  "basic_constraints": {"critical": true, "ca": false, "max_path_len": 0 | null} | null,
//	  "crl_distribution_points": [url], "ocsp": [url], "ca_issuers": [url],
//	  "policies": [oid],
//	  "subject_key_id": "9A:37:...", "authority_key_id": "99:DC:...",
//	  "public_key": PublicKey,
//	  "signature_algorithm": "SHA256-RSA",
//	  "sha1_fingerprint": "...", "sha256_fingerprint": "...",
//	  "other_extensions": [{"oid": "...", "name": "...", "critical": false}] }
//
// "sans" are the names crypto/x509 reads, written as certmint writes SANs
// everywhere (DNS names, then IP addresses, email addresses and URIs, each
// in certificate order); "other_sans" the kinds it does not read.
//
// PublicKey: {"type": "RSA"|"ECDSA"|"Ed25519", "bits": 2048, "curve": "P-256" | "",
// "spki_sha256": "..."}: spki_sha256 is the SHA-256 of the SubjectPublicKeyInfo,
// the same for a certificate, its request and its private key.
//
// Key: {"format": "PKCS#8"|"PKCS#8, encrypted"|"PKCS#1"|"SEC 1"|"PKCS#12 pkcs8ShroudedKeyBag"|...,
// "encrypted": bool, "encryption": Algorithm | null, "public_key": PublicKey,
// "matches_certificate": 1 | null}: the certificate of the file with the same public key.
//
// CSR: {"subject", "sans", "other_sans", "public_key", "signature_algorithm",
// "signature_valid": bool, "signature_error": "", "key_usage", "ext_key_usage",
// "basic_constraints", "requested_extensions": [{"oid", "name", "critical"}]}
//
// CRL: {"issuer", "number": "42" (decimal) | "", "this_update", "next_update",
// "status": "current"|"expired"|"not yet valid"|"no next update", "status_text": "next update in 3 days",
// "authority_key_id", "signature_algorithm",
// "sha256_fingerprint", "count": 25,
// "entries": [{"serial", "revoked_at", "reason": "keyCompromise" | "" (no reason code)}]}: all entries.
//
// PKCS12:
//
//	{ "mac": Algorithm | null,
//	  "certificate_encryption": [string],   // how certificate bags are protected: algorithm summaries, or "none"
//	  "key_encryption": [string],           // likewise for key bags
//	  "safes": [{"content_type": "data"|"encryptedData"|..., "encryption": Algorithm | null}],
//	  "bags": [{"type": "certBag"|"pkcs8ShroudedKeyBag"|"keyBag"|..., "safe": 1 | null,
//	            "encryption": Algorithm | null, "friendly_name": "", "local_key_id": "",
//	            "other_attributes": [string], "certificate": 1 | null}],
//	  "leaf": 1 | null,                     // the certificate of the private key
//	  "compatibility": {
//	    "macos_keychain": {"ok": bool, "reason": "..."},
//	    "windows_before_1709": {"ok": bool, "reason": "..."},
//	    "openssl3_needs_legacy": bool,
//	    "notes": [string] },                // other readers' limits (PBMAC1 needs OpenSSL 3.4)
//	  "incomplete": "" }                    // what go-pkcs12 could not decode, if anything
//
// Algorithm: {"name", "oid", "kdf", "prf", "cipher", "iterations"} as read from
// the file, plus "text", the one-line summary the text output prints.
type Report struct {
	SchemaVersion int           `json:"schema_version"`
	File          string        `json:"file"`
	Kind          string        `json:"kind"`
	Encoding      string        `json:"encoding"`
	Certificates  []Certificate `json:"certificates"`
	Keys          []Key         `json:"keys"`
	CSRs          []CSR         `json:"csrs"`
	CRLs          []CRL         `json:"crls"`
	PKCS12        *PKCS12       `json:"pkcs12"`
	Warnings      []string      `json:"warnings"`
}

// Certificate is one certificate.
type Certificate struct {
	Index                 int               `json:"index"`
	Subject               string            `json:"subject"`
	Issuer                string            `json:"issuer"`
	Serial                string            `json:"serial"`
	Version               int               `json:"version"`
	NotBefore             string            `json:"not_before"`
	NotAfter              string            `json:"not_after"`
	Validity              Validity          `json:"validity"`
	SelfSigned            bool              `json:"self_signed"`
	IssuerIndex           *int              `json:"issuer_index"`
	SANs                  []string          `json:"sans"`
	OtherSANs             []string          `json:"other_sans"`
	KeyUsage              *KeyUsage         `json:"key_usage"`
	ExtKeyUsage           *ExtKeyUsage      `json:"ext_key_usage"`
	BasicConstraints      *BasicConstraints `json:"basic_constraints"`
	CRLDistributionPoints []string          `json:"crl_distribution_points"`
	OCSP                  []string          `json:"ocsp"`
	CAIssuers             []string          `json:"ca_issuers"`
	Policies              []string          `json:"policies"`
	SubjectKeyID          string            `json:"subject_key_id"`
	AuthorityKeyID        string            `json:"authority_key_id"`
	PublicKey             PublicKey         `json:"public_key"`
	SignatureAlgorithm    string            `json:"signature_algorithm"`
	SHA1Fingerprint       string            `json:"sha1_fingerprint"`
	SHA256Fingerprint     string            `json:"sha256_fingerprint"`
	OtherExtensions       []Extension       `json:"other_extensions"`

	parent   int   // index in Report.Certificates of the issuer, -1
	children []int // indexes of the certificates it signed
	cutFrom  int   // the issuer whose link was cut to break a cycle (cross-signing), -1
}

// Validity is a certificate's validity against "now".
type Validity struct {
	Status   string `json:"status"` // "valid", "expired", "not yet valid"
	DaysLeft int    `json:"days_left"`
	Text     string `json:"text"`
}

// Validity states.
const (
	StatusValid    = "valid"
	StatusExpired  = "expired"
	StatusNotYet   = "not yet valid"
	StatusCurrent  = "current" // a CRL before its nextUpdate
	StatusNoUpdate = "no next update"
)

// KeyUsage is the key usage extension.
type KeyUsage struct {
	Critical bool     `json:"critical"`
	Names    []string `json:"names"`
}

// ExtKeyUsage is the extended key usage extension.
type ExtKeyUsage struct {
	Critical bool     `json:"critical"`
	Names    []string `json:"names"`
	OIDs     []string `json:"oids"`
}

// BasicConstraints is the basic constraints extension.
type BasicConstraints struct {
	Critical   bool `json:"critical"`
	CA         bool `json:"ca"`
	MaxPathLen *int `json:"max_path_len"`
}

// Extension is an extension listed by name.
type Extension struct {
	OID      string `json:"oid"`
	Name     string `json:"name"`
	Critical bool   `json:"critical"`
}

// PublicKey describes a public key.
type PublicKey struct {
	Type       string `json:"type"`
	Bits       int    `json:"bits"`
	Curve      string `json:"curve"`
	SPKISHA256 string `json:"spki_sha256"`
}

// Key is a private key.
type Key struct {
	Format             string     `json:"format"`
	Encrypted          bool       `json:"encrypted"`
	Encryption         *Algorithm `json:"encryption"`
	PublicKey          PublicKey  `json:"public_key"`
	MatchesCertificate *int       `json:"matches_certificate"`
}

// CSR is a certificate signing request.
type CSR struct {
	Subject             string            `json:"subject"`
	SANs                []string          `json:"sans"`
	OtherSANs           []string          `json:"other_sans"`
	PublicKey           PublicKey         `json:"public_key"`
	SignatureAlgorithm  string            `json:"signature_algorithm"`
	SignatureValid      bool              `json:"signature_valid"`
	SignatureError      string            `json:"signature_error"`
	KeyUsage            *KeyUsage         `json:"key_usage"`
	ExtKeyUsage         *ExtKeyUsage      `json:"ext_key_usage"`
	BasicConstraints    *BasicConstraints `json:"basic_constraints"`
	RequestedExtensions []Extension       `json:"requested_extensions"`
}

// CRL is a certificate revocation list.
type CRL struct {
	Issuer             string     `json:"issuer"`
	Number             string     `json:"number"`
	ThisUpdate         string     `json:"this_update"`
	NextUpdate         string     `json:"next_update"`
	Status             string     `json:"status"`
	StatusText         string     `json:"status_text"`
	AuthorityKeyID     string     `json:"authority_key_id"`
	SignatureAlgorithm string     `json:"signature_algorithm"`
	SHA256Fingerprint  string     `json:"sha256_fingerprint"`
	Count              int        `json:"count"`
	Entries            []CRLEntry `json:"entries"`
}

// CRLEntry is one revoked certificate.
type CRLEntry struct {
	Serial    string `json:"serial"`
	RevokedAt string `json:"revoked_at"`
	Reason    string `json:"reason"`
}

// Algorithm is a password-based algorithm with its one-line summary.
type Algorithm struct {
	pkifile.Algorithm
	Text string `json:"text"`
}

// PKCS12 describes the container of a .pfx / .p12.
type PKCS12 struct {
	MAC                   *Algorithm    `json:"mac"`
	CertificateEncryption []string      `json:"certificate_encryption"`
	KeyEncryption         []string      `json:"key_encryption"`
	Safes                 []Safe        `json:"safes"`
	Bags                  []Bag         `json:"bags"`
	Leaf                  *int          `json:"leaf"`
	Compatibility         Compatibility `json:"compatibility"`
	Incomplete            string        `json:"incomplete"`
}

// Safe is one ContentInfo of the authenticated safe.
type Safe struct {
	ContentType string     `json:"content_type"`
	Encryption  *Algorithm `json:"encryption"`
}

// Bag is one safe bag.
type Bag struct {
	Type            string     `json:"type"`
	Safe            *int       `json:"safe"`
	Encryption      *Algorithm `json:"encryption"`
	FriendlyName    string     `json:"friendly_name"`
	LocalKeyID      string     `json:"local_key_id"`
	OtherAttributes []string   `json:"other_attributes"`
	Certificate     *int       `json:"certificate"`
}

// Compatibility says who can import a .pfx.
type Compatibility struct {
	MacOSKeychain       Verdict  `json:"macos_keychain"`
	WindowsBefore1709   Verdict  `json:"windows_before_1709"`
	OpenSSL3NeedsLegacy bool     `json:"openssl3_needs_legacy"`
	Notes               []string `json:"notes"`
}

// Verdict is whether a consumer can import a file, and why not.
type Verdict struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
}
