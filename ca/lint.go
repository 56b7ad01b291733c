package ca

import (
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"sort"
	"strings"
	"sync"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/certmint/certmint/templates"
)

// lintSources are the zlint sources whose error-level findings stop an
// issuance: the RFCs certmint's certificates must follow, and the
// community lints. ETSI, EV, S/MIME and the code-signing BR lints describe
// public-trust programmes, not a private CA.
var lintSources = lint.SourceList{
	lint.RFC3279, lint.RFC5280, lint.RFC5480, lint.RFC5891, lint.RFC8813,
	lint.Community,
	lint.CABFBaselineRequirements, lint.MozillaRootStorePolicy, lint.AppleRootStorePolicy, lint.ChromeRootStorePolicy,
}

// privateCAExclusions are lints that do not apply to a private CA: they
// encode the CA/Browser Forum Baseline Requirements and browser root
// programme rules for publicly trusted certificates. This is the one list;
// a template may exempt more only where its seed rule forces it, and never
// a validity or encoding lint (templates.NeverExempt).
var privateCAExclusions = map[string]string{
	// Certificate policies: BR 7.1.2.7.9 requires a CA/B Forum policy OID in
	// publicly trusted certificates; a private CA asserts no public policy.
	"e_sub_cert_certificate_policies_missing": "BR policy OIDs are for publicly trusted certificates",
	"e_sub_cert_cert_policy_empty":            "BR policy OIDs are for publicly trusted certificates",
	// Validity limits: BR 6.3.2 (398 days, falling to 200 from March 2026).
	// certmint applies each seed's own limit instead (Apple's 825 days for
	// TLS servers that macOS clients reach, template validity.max_days).
	"e_tls_server_cert_valid_time_longer_than_398_days": "BR validity limit for publicly trusted TLS",
	"w_tls_server_cert_valid_time_longer_than_397_days": "BR validity limit for publicly trusted TLS",
	"e_server_cert_valid_time_longer_than_200_days":     "BR validity limit for publicly trusted TLS",
	// The next BR steps (100 days from 15 March 2027, 47 from 15 March
	// 2029) would otherwise refuse every server certificate on that day.
	"e_server_cert_valid_time_longer_than_100_days": "BR validity limit for publicly trusted TLS",
	"e_server_cert_valid_time_longer_than_47_days":  "BR validity limit for publicly trusted TLS",
	"e_sub_cert_valid_time_longer_than_825_days":    "BR validity limit for publicly trusted certificates",
	// Public suffixes: private PKI names live in internal zones
	// (W701.ACME.LOCAL and MAC01.local in 000, company.com examples in 003).
	"e_dnsname_not_valid_tld": "internal names under .local, .lan, .corp are what a private CA serves",
	// BR 7.1.2.7.12: no reserved IP addresses in public certificates; a
	// private PKI names hosts by their 10.x / 192.168.x addresses (003:
	// "if someone adds a printer using IP address 1.2.3.4, then this address
	// has to be in SAN").
	"e_ext_san_contains_reserved_ip": "private addresses are what a private CA certifies",
	"e_subject_contains_reserved_ip": "private addresses are what a private CA certifies (003: the CN is validated against the address when there is no SAN)",
	// BR 7.1.2.7.12: a public subscriber certificate has a SAN. Templates
	// decide with san.require; 003's signing certificate needs none
	// ("-SubjectAlternativeNames ... is not required ... to use the minimum
	// version of the signing certificate").
	"e_ext_san_missing": "templates decide whether a SAN is required (san.require, san.require_dns)",
	// BR 7.1.4.2: OU is no longer allowed in public TLS certificates. Private
	// PKIs use it: 004 "Subject (OU) Org Unit = defined", 003 "-Subject ...
	// can also include the certificate recipient's ... organization unit".
	"e_organizational_unit_name_prohibited": "004 requires OU; 003 allows it",
	// BR 7.1.2.7.7 and 7.1.2.7.8 require a CDP or OCSP and an AIA in public
	// certificates. Templates decide: 004 says "If you are not carrying out
	// certificate validation, remove the CRL URL reference in the certificate".
	"e_missing_crl_distrib_point": "a template without revocation.crl_distribution_point is a deliberate choice (004)",
	"e_sub_cert_aia_missing":      "a template without revocation.aia is a deliberate choice",
	// BR 7.1.4.2.2: a public OV certificate with O must also carry C, ST or
	// L. A private certificate's subject follows its seed instead (004 asks
	// for C, O and OU, and nothing about locality).
	"e_sub_cert_country_name_must_appear":  "subject fields follow the template's seed, not BR 7.1.4.2.2",
	"e_sub_cert_locality_name_must_appear": "subject fields follow the template's seed, not BR 7.1.4.2.2",
	"e_sub_cert_province_must_appear":      "subject fields follow the template's seed, not BR 7.1.4.2.2",
	// BR 7.1.2.7.10: public subscriber certificates carry an EKU. RFC 5280
	// 4.2.1.12 allows its absence; SafeQ's token-signing certificate (003)
	// is "NOT the certificate that is used for HTTPS" and needs no EKU.
	"e_sub_cert_eku_missing": "RFC 5280 allows a certificate without EKU; BR 7.1.2.7.10 is for public certificates",
	// BR-only recommendations that contradict the seeds or RFC 5280 practice.
	"w_ext_subject_key_identifier_not_recommended_subscriber": "RFC 5280 4.2.1.2 recommends the SKI; cfssl writes it",
	"w_server_cert_valid_time_longer_than_199_days":           "BR validity limit for publicly trusted TLS",
	"w_server_cert_valid_time_longer_than_99_days":            "BR validity limit for publicly trusted TLS",
	"w_server_cert_valid_time_longer_than_46_days":            "BR validity limit for publicly trusted TLS",
	"w_sub_cert_aia_contains_internal_names":                  "the AIA points at the private CA's own web server",
	"w_subject_common_name_included":                          "1E, SafeQ and Defender read the CN (000, 003, 004)",
}

var (
	lintRegOnce sync.Once
	lintReg     lint.Registry
	lintRegErr  error
)

func lintRegistry() (lint.Registry, error) {
	lintRegOnce.Do(func() {
		var excl []string
		for name := range privateCAExclusions {
			excl = append(excl, name)
		}
		lintReg, lintRegErr = lint.GlobalRegistry().Filter(lint.FilterOptions{
			IncludeSources: lintSources,
			ExcludeNames:   excl,
		})
	})
	return lintReg, lintRegErr
}

// Finding is one lint result at warning level or above, explained in
// words: Value is what in the certificate is wrong (a DNS name, a subject
// field, the key), Problem what is wrong with it, Fix what to change in the
// request or the template. Message puts them on one line.
type Finding struct {
	Lint    string
	Status  string // "warn", "error", "fatal"
	Source  string
	Details string // zlint's own details, often empty
	Value   string // "" when the lint is about the certificate as a whole
	Problem string
	Fix     string
}

// LintError lists the error-level findings that stopped an issuance.
type LintError struct{ Findings []Finding }

// Error says why the certificate was not released: one line when the
// findings are about one mistake (zlint often has several lints for it),
// else one line per mistake after a heading.
func (e *LintError) Error() string {
	lines := lintLines(e.Findings)
	if len(lines) == 1 {
		return "the certificate was not released: " + lines[0]
	}
	return fmt.Sprintf("the certificate was not released, for %d reasons:\n%s", len(lines), strings.Join(lines, "\n"))
}

// HintText implements the CLI's hint interface. It names no flag: the
// same error comes from issue, sign, batch, renew and safeq.
func (e *LintError) HintText() string {
	if allNeverExempt(e.Findings) {
		return "change the request or the template as said above; validity and encoding lints cannot be exempted"
	}
	return "change the request or the template as said above; a template may exempt a lint ([[lint.exempt]]) only where a vendor sentence forces it"
}

// Lint runs zlint over a certificate and returns every finding at warning
// level or above, minus the template's exemptions. Only error and fatal
// findings are meant to stop issuance.
func Lint(der []byte, t *templates.Template) ([]Finding, error) {
	reg, err := lintRegistry()
	if err != nil {
		return nil, err
	}
	zc, err := zx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	res := zlint.LintCertificateEx(zc, reg)
	var out []Finding
	for name, r := range res.Results {
		if r.Status < lint.Warn || (t != nil && t.LintExempt(name)) {
			continue
		}
		src := ""
		if l := reg.ByName(name); l != nil {
			src = string(l.Source)
		}
		f := Finding{Lint: name, Status: r.Status.String(), Source: src, Details: r.Details}
		explain(&f, zc, reg)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Lint < out[j].Lint })
	return out, nil
}

// lintGate returns a *LintError when a finding is error or fatal.
func lintGate(der []byte, t *templates.Template) ([]Finding, error) {
	findings, err := Lint(der, t)
	if err != nil {
		return nil, err
	}
	var bad []Finding
	for _, f := range findings {
		if f.Status == "error" || f.Status == "fatal" {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		return findings, &LintError{Findings: bad}
	}
	return findings, nil
}

// KnownLint reports whether zlint has a certificate lint by that name.
// Templates check their exemptions with it (templates.KnownLint).
func KnownLint(name string) bool { return templates.KnownLint(name) }

// smallKeyLint is zlint's lint whose first use on a curve builds a table of
// about 4,000 curve points (20-25 ms on this project's 2-core runner).
const smallKeyLint = "e_ecdsa_small_private_key"

// warmLint builds that table for pub's curve ahead of time, so that it can
// be built on the second core while the CA key is being unlocked. The lint
// still runs, in full, on every certificate (Lint): this only moves its
// one-time set-up.
func warmLint(pub crypto.PublicKey) {
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return
	}
	reg, err := lintRegistry()
	if err != nil {
		return
	}
	l := reg.CertificateLints().ByName(smallKeyLint)
	if l == nil {
		return
	}
	l.Execute(&zx509.Certificate{PublicKeyAlgorithm: zx509.ECDSA, PublicKey: ec}, reg.GetConfiguration())
}
