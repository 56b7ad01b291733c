// Package templates defines certmint's certificate templates: typed TOML
// documents that say both how to issue a certificate and what a conforming
// certificate must have, so `issue` and `check` read the same rules.
//
// Keys read by issuance: issuer, subject, key, signature, validity, usage,
// san, revocation, output, lint. Keys read by checking: the same, where
// "key_usage" and "ext_key_usage" are the least a certificate must have
// and allowed_* widen what is accepted beyond what is issued.
package templates

import (
	"time"
)

// Template is one decoded, validated template.
type Template struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Source is the document the template encodes: an id of the table of
	// sources (sources.go), or a user template's own document by name. A
	// citation without a source of its own cites this one.
	Source string `toml:"source"`
	// Issuer is "issuing" (the home's issuing CA) or "self" (self-signed).
	Issuer Issuer `toml:"issuer"`
	// AllowSelfSigned says whether check accepts a self-signed certificate.
	// 000: "1E web server deliberately does not work with self-signed certificates".
	AllowSelfSigned bool `toml:"allow_self_signed"`
	// UniqueCN refuses a second valid certificate with the same CN from this
	// template (004: "a unique certificate for each sensor").
	UniqueCN bool `toml:"unique_cn"`

	Subject    SubjectRules    `toml:"subject"`
	Key        KeyRules        `toml:"key"`
	Signature  SignatureRules  `toml:"signature"`
	Validity   ValidityRules   `toml:"validity"`
	Usage      UsageRules      `toml:"usage"`
	SAN        SANRules        `toml:"san"`
	Revocation RevocationRules `toml:"revocation"`
	Output     OutputRules     `toml:"output"`
	Lint       LintRules       `toml:"lint"`
	Validation ValidationRules `toml:"validation"`
	// Example is a request that meets the template: documentation, and what
	// the demo and the tests issue.
	Example Example `toml:"example"`
	// Cite makes rules requirements: it maps a rule (a dotted key such as
	// "usage.key_usage", see RuleKeys) to the sentence of a source that
	// demands it. check fails a certificate that breaks one, and issue
	// refuses a flag that would.
	Cite map[string]Citations `toml:"cite"`
	// Advice explains rules that are not requirements: certmint's good
	// practice, or what a document only recommends. check warns.
	Advice map[string]Citations `toml:"advice"`

	file string // where the template came from, for messages
	src  []byte // the TOML text as written, comments included
	// lines maps dotted keys to their line in src.
	lines map[string]int
}

// Example is a sample request for a template.
type Example struct {
	CN      string   `toml:"cn"`
	SAN     []string `toml:"san"`
	Subject string   `toml:"subject"`
}

// SubjectRules: which distinguished-name fields must be present, and the
// form of the common name.
type SubjectRules struct {
	Require []SubjectField `toml:"require"`
	CN      CNForm         `toml:"cn"`
	// CNOrSAN: the name may be the CN or a DNS name in the SAN (000:
	// "Common Name (CN=<computername>) or Subject Alternative Name (DNS
	// Name=<computername>)"); check accepts either of the CN form.
	CNOrSAN bool `toml:"cn_or_san"`
}

// KeyRules: the key issue generates (type, bits or curve) and the keys check
// accepts (allowed_*).
type KeyRules struct {
	Type          KeyType   `toml:"type"`
	Bits          int       `toml:"bits"`
	Curve         Curve     `toml:"curve"`
	AllowedTypes  []KeyType `toml:"allowed_types"`
	AllowedBits   []int     `toml:"allowed_bits"`
	AllowedCurves []Curve   `toml:"allowed_curves"`
	// Encrypt writes BASE.key as encrypted PKCS#8 with the bundle password.
	Encrypt bool `toml:"encrypt"`
}

// SignatureRules: the hash the CA signs with, and the hashes check accepts.
type SignatureRules struct {
	Hash    Hash   `toml:"hash"`
	Allowed []Hash `toml:"allowed"`
	// IssuerKeyTypes restricts the key type of the CA that signs (004:
	// "Signature Algorithm = SHA256RSA" needs an RSA issuing CA). Empty: any.
	IssuerKeyTypes []KeyType `toml:"issuer_key_types"`
	// Algorithms, when set, are the only signature algorithms check accepts
	// (004: "Signature Algorithm = SHA256RSA" is PKCS#1 v1.5, not PSS).
	Algorithms []SignatureAlgorithm `toml:"algorithms"`
}

// ValidityRules: lifetime in days, the most a certificate may have, and how
// far notBefore lies in the past (004: "Valid from = Valid past date").
type ValidityRules struct {
	Days     int      `toml:"days"`
	MaxDays  int      `toml:"max_days"`
	Backdate Duration `toml:"backdate"`
}

// UsageRules: key usage bits and extended key usages. Issued exactly; a
// checked certificate must have at least these.
type UsageRules struct {
	KeyUsage    []KeyUsage    `toml:"key_usage"`
	ExtKeyUsage []ExtKeyUsage `toml:"ext_key_usage"`
	// ExtKeyUsageOnly: the certificate has exactly ext_key_usage, nothing
	// more (002: "Application Policies should contain only Client
	// Authentication").
	ExtKeyUsageOnly bool `toml:"ext_key_usage_only"`
}

// SANRules: which subject alternative names are required and allowed.
type SANRules struct {
	// Require: at least one SAN of any allowed kind.
	Require bool `toml:"require"`
	// RequireDNS: at least one DNS name.
	RequireDNS bool `toml:"require_dns"`
	// CNInSAN: the CN, when it is a DNS name or IP, is copied into the SAN
	// (and check requires it there).
	CNInSAN       bool `toml:"cn_in_san"`
	AllowDNS      bool `toml:"allow_dns"`
	AllowWildcard bool `toml:"allow_wildcard"`
	AllowIP       bool `toml:"allow_ip"`
	AllowEmail    bool `toml:"allow_email"`
	AllowURI      bool `toml:"allow_uri"`
}

// RevocationRules: the HTTP CRL distribution point and the AIA caIssuers URL
// of the issuing CA, written into every certificate.
type RevocationRules struct {
	CRLDistributionPoint bool `toml:"crl_distribution_point"`
	AIA                  bool `toml:"aia"`
	// CDPAllowHTTPS: check also accepts an https:// CDP (000: "uses
	// HTTP/S"). certmint always writes http://.
	CDPAllowHTTPS bool `toml:"cdp_allow_https"`
	// CDPCRLFile: the CDP URL must name a .crl file (004: "URL to .crl
	// file").
	CDPCRLFile bool `toml:"cdp_crl_file"`
	// AllowNoCDP: the document allows leaving the CDP out (004: "If you
	// are not carrying out certificate validation, remove the CRL URL
	// reference in the certificate"): issue --no-cdp and check --no-cdp.
	AllowNoCDP bool `toml:"allow_no_cdp"`
	// OCSP writes the URL of the OCSP responder `certmint serve` runs
	// (base URL + /ocsp) into the AIA. Issuance only: check neither
	// requires nor rejects an OCSP URL, so it is no rule and needs no
	// citation; the vendor templates leave it off, their documents naming
	// only CRLs.
	OCSP bool `toml:"ocsp"`
}

// OutputRules: the bundle files written by default, and the PKCS#12 flavour.
type OutputRules struct {
	Formats []Format `toml:"formats"`
	// Required are the files --format may not leave out (004: "each
	// CA-signed certificate contains a .key file and a .crt file").
	Required []Format `toml:"required"`
	// Optional are formats the template offers beyond the default set:
	// the installers that fit its devices (install-windows for a Windows
	// PC). Advice, never a requirement: --format asks for them.
	Optional      []Format      `toml:"optional"`
	PFXEncryption PFXEncryption `toml:"pfx_encryption"`
	// Note is the install note the "note" format writes.
	Note NoteKind `toml:"note"`
}

// ValidationRules: how check reports the validation an appliance does.
type ValidationRules struct {
	// Messages names the appliance whose own error messages check prints
	// beside a validation failure ("defender-iot"); empty: none.
	Messages Appliance `toml:"messages"`
}

// LintRules: zlint findings this template must accept because its seed rule
// forces them. Each exemption gives its reason.
type LintRules struct {
	Exempt []LintExemption `toml:"exempt"`
}

// LintExemption names one zlint lint and why it does not apply.
type LintExemption struct {
	Name   string `toml:"name"`
	Reason string `toml:"reason"`
}

// File is where the template was read from: a path, or "builtin:NAME.toml".
func (t *Template) File() string { return t.file }

// Text is the template as written, comments included.
func (t *Template) Text() []byte { return t.src }

// Builtin reports whether the template is one of certmint's own.
func (t *Template) Builtin() bool { return len(t.file) > 8 && t.file[:8] == "builtin:" }

// Validity returns the lifetime issue gives by default.
func (t *Template) DefaultValidity() time.Duration {
	return time.Duration(t.Validity.Days) * 24 * time.Hour
}

// HasFormat reports whether the template writes the format by default.
func (t *Template) HasFormat(f Format) bool {
	for _, g := range t.Output.Formats {
		if g == f {
			return true
		}
	}
	return false
}

// LintExempt reports whether the template exempts a lint.
func (t *Template) LintExempt(name string) bool {
	for _, e := range t.Lint.Exempt {
		if e.Name == name {
			return true
		}
	}
	return false
}
