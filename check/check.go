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

	"github.com/certmint/certmint/templates"
)

// Status of one finding.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip" // not checked (no key given, no CRL source)
)

// Finding is the result of one requirement or validation step.
type Finding struct {
	// Rule is the template key ("usage.key_usage") or the validation step
	// ("validation.chain", "validation.expiry", ...).
	Rule   string `json:"rule"`
	Status Status `json:"status"`
	// Title says what was checked, in a few words.
	Title string `json:"title"`
	Got   string `json:"got,omitempty"`
	Want  string `json:"want,omitempty"`
	// Seed is the requirement sentence the rule comes from.
	Seed string `json:"seed,omitempty"`
	// Fix says what to do about a failure.
	Fix string `json:"fix,omitempty"`
	// Defender is the message Microsoft Defender for IoT shows for this
	// failure (004_0eebd9b6bc772684.txt, Troubleshoot CA-Certificate Upload).
	Defender string `json:"defender_message,omitempty"`
}

// Defender for IoT's certificate validation errors, word for word from
// 004_0eebd9b6bc772684.txt, "Troubleshoot CA-Certificate Upload".
const (
	DefenderPassphrase  = "Passphrase does not match to the key"
	DefenderChain       = "Cannot validate chain of trust. The provided Certificate and Root CA do not match."
	DefenderExpired     = "This SSL certificate has expired and is not considered valid."
	DefenderRevoked     = "This certificate has been revoked by the CRL and cannot be trusted for a secure connection"
	DefenderUnreachable = "The CRL (Certificate Revocation List) location is not reachable. Verify the URL can be accessed from this appliance"
)

// Report is every finding for one certificate against one template.
type Report struct {
	Template string    `json:"template"`
	Subject  string    `json:"subject"`
	Serial   string    `json:"serial"`
	Findings []Finding `json:"findings"`
	OK       bool      `json:"ok"`
}

// Failed returns the rules that failed.
func (r *Report) Failed() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Status == Fail {
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
	Now      time.Time
}

// Run evaluates every requirement of the template, then the validation.
func Run(t *templates.Template, in Input) *Report {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	r := &Report{Template: t.Name, Subject: in.Leaf.Subject.String(), Serial: serialHex(in.Leaf)}
	r.Findings = append(r.Findings, requirements(t, in)...)
	r.Findings = append(r.Findings, validation(in)...)
	r.OK = len(r.Failed()) == 0
	return r
}
