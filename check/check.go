// Package check decides whether a certificate, from any CA, meets a
// template's requirements and passes the validation an appliance performs:
// chain of trust, key match, expiry, revocation. It reuses the template
// that issuance reads, so "what certmint issues" and "what certmint
// accepts" are one set of rules, each traced to its seed sentence.
package check

import (
	"crypto"
	"crypto/x509"
	"time"

	"github.com/certmint/certmint/internal/jsonout"
	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// Status of one finding.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail" // a requirement is not met: the certificate will not pass
	Warn Status = "warn" // advice is not followed: the result does not change
	Skip Status = "skip" // not checked (no key given, no CRL source)
)

// Finding is the result of one rule of the template or one validation
// step.
type Finding struct {
	// Rule is the template key ("usage.key_usage") or the validation step
	// ("validation.chain", "validation.expiry", ...).
	Rule string `json:"rule"`
	// Level is requirement (its failure fails check) or advice (its
	// failure is a warning).
	Level  templates.Level `json:"level"`
	Status Status          `json:"status"`
	// Title says what was checked, in a few words.
	Title string `json:"title"`
	Got   string `json:"got"`
	Want  string `json:"want"`
	// Citations are the sentences the rule comes from, each with its
	// document and section; Reason is certmint's own, for advice.
	Citations []templates.Quote `json:"citations"`
	Reason    string            `json:"reason"`
	// Fix says what to do about a failure or a warning.
	Fix string `json:"fix"`
	// ApplianceMessage is what the appliance itself shows for this failure,
	// for templates whose document lists its messages (Defender for IoT's
	// troubleshooting table).
	ApplianceMessage string `json:"appliance_message"`
}

// Cited is the finding's level and citations, as the template gives them.
func (f Finding) Cited() templates.Cited {
	return templates.Cited{Rule: f.Rule, Level: f.Level, Quotes: f.Citations, Reason: f.Reason}
}

// Defender for IoT's certificate validation errors, word for word from its
// troubleshooting table (Microsoft Defender for IoT: Certificate
// requirements — Troubleshoot CA-Certificate Upload).
const (
	DefenderPassphrase  = "Passphrase does not match to the key"
	DefenderChain       = "Cannot validate chain of trust. The provided Certificate and Root CA do not match."
	DefenderExpired     = "This SSL certificate has expired and is not considered valid."
	DefenderRevoked     = "This certificate has been revoked by the CRL and cannot be trusted for a secure connection"
	DefenderUnreachable = "The CRL (Certificate Revocation List) location is not reachable. Verify the URL can be accessed from this appliance"
)

// SchemaVersion is the version of the JSON a Report encodes to: the one
// version of every certmint --json document (internal/jsonout).
const SchemaVersion = jsonout.SchemaVersion

// Report is every finding for one certificate against one template.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Template      string    `json:"template"`
	Subject       string    `json:"subject"`
	Serial        string    `json:"serial"`
	SANs          []string  `json:"sans"` // "DNS:x", "IP:y", "email:z", "URI:u"
	Findings      []Finding `json:"findings"`
	// OK: every requirement is met (advice may not be).
	OK bool `json:"ok"`
}

// Failed returns the requirements that are not met.
func (r *Report) Failed() []string { return r.with(Fail) }

// Warned returns the advice that is not followed.
func (r *Report) Warned() []string { return r.with(Warn) }

func (r *Report) with(s Status) []string {
	out := []string{}
	for _, f := range r.Findings {
		if f.Status == s {
			out = append(out, f.Rule)
		}
	}
	return out
}

// Input is what is checked.
type Input struct {
	Leaf *x509.Certificate
	// Chain holds the other certificates given (--chain, the .pfx): the
	// intermediates, and possibly the root.
	Chain []*x509.Certificate
	// Roots are the trust anchors: self-signed certificates of Chain are
	// added to them. Empty roots make the chain check fail.
	Roots []*x509.Certificate
	// Key is the private key given, if any; KeyErr says why a key that was
	// given could not be read (a wrong passphrase).
	Key    crypto.Signer
	KeyErr error
	// KeyGiven reports that a key (or a .pfx) was given at all.
	KeyGiven bool
	// Revocation sources: CRLs given as files, and whether to fetch the
	// CRLs named in the certificates' CDPs.
	CRLs     []*x509.RevocationList
	FetchCRL bool
	Fetcher  Fetcher
	// NoCDP says the site does not validate certificates, so a missing CRL
	// distribution point is what it asked for (004: "If you are not
	// carrying out certificate validation, remove the CRL URL reference in
	// the certificate"). Only for templates that allow it.
	NoCDP bool
	// PFX is the structure of the .pfx the certificate came from, nil when
	// it came from --cert; PFXChain are the certificates inside it besides
	// the leaf (Chain adds those of --chain and the CA home).
	PFX      *pkifile.PFX
	PFXChain []*x509.Certificate
	Now      time.Time
}

// Run evaluates every requirement of the template, then the validation.
func Run(t *templates.Template, in Input) *Report {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	r := &Report{SchemaVersion: SchemaVersion, Template: t.Name, Subject: in.Leaf.Subject.String(), Serial: serialHex(in.Leaf),
		SANs: jsonout.List(san.Strings(san.FromCertificate(in.Leaf))), Findings: []Finding{}}
	r.Findings = append(r.Findings, requirements(t, in)...)
	r.Findings = append(r.Findings, validation(t, in)...)
	for i := range r.Findings {
		// A validation step cites no document: [] in the JSON, not null.
		r.Findings[i].Citations = jsonout.List(r.Findings[i].Citations)
	}
	r.OK = len(r.Failed()) == 0
	return r
}

// NoCDPAllowed reports whether check --no-cdp makes sense for the
// template: its document allows a certificate without a CDP, or the CDP is
// only advice.
func NoCDPAllowed(t *templates.Template) bool {
	return t.Revocation.AllowNoCDP || !t.IsRequirement("revocation.crl_distribution_point")
}
