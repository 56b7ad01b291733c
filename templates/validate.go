package templates

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// rsaSizes are the RSA sizes certmint generates: below 2048 is broken
// (NIST SP 800-131A), above 4096 is slow and unsupported by many devices
// (004: "RSA 2048 bits (Minimum) or 4096 bits").
var rsaSizes = []int{2048, 3072, 4096}

// maxValidityDays bounds any template: no end-entity certificate should
// outlive its CA, and 10 years is already more than any seed needs.
const maxValidityDays = 3650

func (t *Template) applyDefaults() {
	if t.Issuer == "" {
		t.Issuer = IssuerIssuing
	}
	if t.Subject.CN == "" {
		t.Subject.CN = CNAny
	}
	if !slices.Contains(t.Subject.Require, "CN") {
		t.Subject.Require = append([]SubjectField{"CN"}, t.Subject.Require...)
	}
	if t.Signature.Hash == "" {
		t.Signature.Hash = SHA256
	}
	if len(t.Signature.Allowed) == 0 {
		t.Signature.Allowed = []Hash{t.Signature.Hash}
	}
	if len(t.Key.AllowedTypes) == 0 && t.Key.Type != "" {
		t.Key.AllowedTypes = []KeyType{t.Key.Type}
	}
	if len(t.Key.AllowedBits) == 0 && slices.Contains(rsaSizes, t.Key.Bits) {
		t.Key.AllowedBits = []int{t.Key.Bits}
	}
	if len(t.Key.AllowedCurves) == 0 && t.Key.Curve != "" {
		t.Key.AllowedCurves = []Curve{t.Key.Curve}
	}
	if t.Output.PFXEncryption == "" {
		t.Output.PFXEncryption = PFXModern
	}
}

func (t *Template) validate() ErrorList {
	var errs ErrorList
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: t.file, Line: t.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	switch {
	case t.Name == "":
		bad("name", "missing: every template needs a name")
	case !nameRe.MatchString(t.Name):
		bad("name", "%q: use lowercase letters, digits and hyphens", t.Name)
	}
	if t.Issuer == IssuerSelf && (t.Revocation.CRLDistributionPoint || t.Revocation.AIA) {
		bad("revocation", "a self-signed certificate has no issuing CA whose CRL or certificate could be named; set crl_distribution_point and aia to false")
	}
	if t.Issuer == IssuerSelf && t.Revocation.OCSP {
		bad("revocation.ocsp", "a self-signed certificate has no issuing CA whose OCSP responder could answer for it; set ocsp to false")
	}

	// key
	switch t.Key.Type {
	case "":
		bad("key.type", "missing: set \"rsa\" or \"ecdsa\"")
	case RSA:
		if t.Key.Curve != "" {
			bad("key.curve", "an RSA key has no curve; remove key.curve or set key.type = \"ecdsa\"")
		}
		if !slices.Contains(rsaSizes, t.Key.Bits) {
			bad("key.bits", "RSA key size %d is not allowed: use 2048, 3072 or 4096", t.Key.Bits)
		}
	case ECDSA:
		if t.Key.Bits != 0 {
			bad("key.bits", "an ECDSA key's size comes from its curve; remove key.bits and set key.curve")
		}
		if t.Key.Curve == "" {
			bad("key.curve", "missing: an ECDSA key needs a curve (\"P-256\" or \"P-384\")")
		}
	}
	for _, b := range t.Key.AllowedBits {
		if !slices.Contains(rsaSizes, b) {
			bad("key.allowed_bits", "RSA key size %d is not allowed: use 2048, 3072 or 4096", b)
		}
	}
	if t.Key.Type != "" && !slices.Contains(t.Key.AllowedTypes, t.Key.Type) {
		bad("key.allowed_types", "does not include key.type %q", t.Key.Type)
	}
	if t.Key.Type == RSA && slices.Contains(rsaSizes, t.Key.Bits) && !slices.Contains(t.Key.AllowedBits, t.Key.Bits) {
		bad("key.allowed_bits", "does not include key.bits %d", t.Key.Bits)
	}
	if t.Key.Type == ECDSA && t.Key.Curve != "" && !slices.Contains(t.Key.AllowedCurves, t.Key.Curve) {
		bad("key.allowed_curves", "does not include key.curve %q", t.Key.Curve)
	}
	if t.Key.Encrypt && !t.HasFormat(FormatKey) {
		bad("key.encrypt", "the key file is encrypted but output.formats does not write it; add \"key\" or remove key.encrypt")
	}

	// signature
	if !slices.Contains(t.Signature.Allowed, t.Signature.Hash) {
		bad("signature.allowed", "does not include signature.hash %q", t.Signature.Hash)
	}

	// validity
	switch {
	case t.Validity.Days <= 0:
		bad("validity.days", "must be a positive number of days")
	case t.Validity.Days > maxValidityDays:
		bad("validity.days", "%d days is more than %d (10 years)", t.Validity.Days, maxValidityDays)
	case t.Validity.MaxDays > 0 && t.Validity.Days > t.Validity.MaxDays:
		bad("validity.days", "%d days exceeds validity.max_days = %d", t.Validity.Days, t.Validity.MaxDays)
	}
	if t.Validity.MaxDays < 0 || t.Validity.MaxDays > maxValidityDays {
		bad("validity.max_days", "must be between 1 and %d", maxValidityDays)
	}
	if bd := time.Duration(t.Validity.Backdate); bd > 7*24*time.Hour {
		bad("validity.backdate", "%s is more than 7 days; a backdate only absorbs clock skew", FormatDuration(bd))
	}

	// usage
	if len(t.Usage.KeyUsage) == 0 {
		bad("usage.key_usage", "missing: list at least one key usage, e.g. [\"digitalSignature\"]")
	}
	for _, ku := range t.Usage.KeyUsage {
		if ku == "keyCertSign" || ku == "cRLSign" {
			bad("usage.key_usage", "%q is for CA certificates, which `certmint init` makes; templates issue end-entity certificates", ku)
		}
		// RFC 5480 section 3: an ECDSA key cannot encipher keys or data.
		if t.Key.Type == ECDSA && (ku == "keyEncipherment" || ku == "dataEncipherment") {
			bad("usage.key_usage", "%q is impossible with an ECDSA key (RFC 5480); use an RSA key or drop it", ku)
		}
	}
	if d := duplicate(t.Usage.KeyUsage); d != "" {
		bad("usage.key_usage", "%q is listed twice", d)
	}
	if d := duplicate(t.Usage.ExtKeyUsage); d != "" {
		bad("usage.ext_key_usage", "%q is listed twice", d)
	}

	// subject
	if d := duplicate(t.Subject.Require); d != "" {
		bad("subject.require", "%q is listed twice", d)
	}

	// san
	s := t.SAN
	if !s.AllowDNS && (s.RequireDNS || s.AllowWildcard) {
		bad("san.allow_dns", "san.require_dns and san.allow_wildcard need DNS names; set allow_dns = true")
	}
	if s.Require && !(s.AllowDNS || s.AllowIP || s.AllowEmail || s.AllowURI) {
		bad("san.require", "a SAN is required but no kind is allowed; set allow_dns, allow_ip, allow_email or allow_uri")
	}
	if s.CNInSAN && !(s.AllowDNS || s.AllowIP) {
		bad("san.cn_in_san", "the CN can only be copied as a DNS name or IP; set allow_dns or allow_ip")
	}
	if (t.Subject.CN == CNDNS || t.Subject.CN == CNFQDN || t.Subject.CN == CNHostname) && !s.AllowDNS && s.CNInSAN {
		bad("subject.cn", "a DNS-form CN copied into the SAN needs san.allow_dns = true")
	}

	if t.Usage.ExtKeyUsageOnly && len(t.Usage.ExtKeyUsage) == 0 {
		bad("usage.ext_key_usage_only", "needs usage.ext_key_usage: the purposes a certificate has and no others")
	}
	for _, a := range t.Signature.Algorithms {
		if h := HashOf(a.X509()); !slices.Contains(t.Signature.Allowed, h) {
			bad("signature.algorithms", "%s uses %s, which signature.allowed does not list", a, h)
		}
	}
	if len(t.Signature.Algorithms) > 0 && !slices.ContainsFunc(t.Signature.Algorithms, func(a SignatureAlgorithm) bool {
		return HashOf(a.X509()) == t.Signature.Hash
	}) {
		bad("signature.algorithms", "has no algorithm with signature.hash %q, so nothing certmint signs would pass", t.Signature.Hash)
	}

	// revocation
	r := t.Revocation
	if !r.CRLDistributionPoint && (r.CDPAllowHTTPS || r.CDPCRLFile || r.AllowNoCDP) {
		bad("revocation.crl_distribution_point", "cdp_allow_https, cdp_crl_file and allow_no_cdp describe a CDP; set crl_distribution_point = true")
	}

	// output
	for _, f := range t.Output.Required {
		if !t.HasFormat(f) {
			bad("output.required", "%q is required but output.formats does not write it", f)
		}
	}
	if len(t.Output.Formats) == 0 {
		bad("output.formats", "missing: list the files to write, e.g. [\"crt\", \"key\", \"chain\"]")
	}
	if d := duplicate(t.Output.Formats); d != "" {
		bad("output.formats", "%q is listed twice", d)
	}
	if t.HasFormat(FormatNote) && t.Output.Note == "" {
		bad("output.note", "missing: the \"note\" format needs output.note (\"macos-1e\")")
	}
	if t.Output.Note == NoteMacOS1E && !t.HasFormat(FormatPFX) {
		bad("output.note", "the macOS note imports the .pfx; add \"pfx\" to output.formats")
	}
	t.validateInstallers(bad)

	// lint: each exemption is reported at its own [[lint.exempt]] entry.
	exLines := arrayTableLines(t.src, "lint.exempt")
	badAt := func(i int, key, format string, args ...any) {
		line := t.line("lint.exempt." + key)
		if i < len(exLines) {
			if l, ok := exLines[i][key]; ok {
				line = l
			} else {
				line = exLines[i][""]
			}
		}
		errs = append(errs, &Error{File: t.file, Line: line, Key: "lint.exempt." + key, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for i, e := range t.Lint.Exempt {
		switch {
		case e.Name == "":
			badAt(i, "name", "missing: name the zlint lint to exempt")
		case seen[e.Name]:
			badAt(i, "name", "%q is exempted twice", e.Name)
		default:
			if msg := checkExemption(e.Name); msg != "" {
				badAt(i, "name", "%s", msg)
			}
		}
		seen[e.Name] = true
		if strings.TrimSpace(e.Reason) == "" {
			badAt(i, "reason", "missing for %q: quote the vendor's sentence that forces the exemption", e.Name)
		}
	}

	// example: it must be a request the template accepts.
	if t.Builtin() && t.Example.CN == "" {
		bad("example.cn", "missing: a built-in template gives an example request")
	}
	if t.Example.CN != "" {
		if err := t.checkExample(); err != "" {
			bad("example", "%s", err)
		}
	}

	// cite and advice
	errs = append(errs, t.validateCitations()...)
	return errs
}

// validateCitations: every cited or advised rule exists, a requirement
// quotes its sentence, and a built-in template names its sources from the
// table (users see the document's title, never a file name).
func (t *Template) validateCitations() ErrorList {
	var errs ErrorList
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: t.file, Line: t.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	checkSource := func(key, id string) {
		if _, ok := LookupSource(id); !ok && t.Builtin() {
			if s := closestName(id, sourceIDs()); s != "" {
				bad(key, "unknown source %q (did you mean %q?)", id, s)
			} else {
				bad(key, "unknown source %q: a built-in template names a row of the table of sources (%s)", id, strings.Join(sourceIDs(), ", "))
			}
		}
	}
	if t.Source != "" {
		checkSource("source", t.Source)
	}
	for _, table := range []struct {
		name string
		m    map[string]Citations
	}{{"cite", t.Cite}, {"advice", t.Advice}} {
		for rule, cs := range table.m {
			key := table.name + "." + rule
			if !slices.Contains(RuleKeys, rule) {
				if s := closestName(rule, RuleKeys); s != "" {
					bad(key, "unknown rule %q (did you mean %q?)", rule, s)
				} else {
					bad(key, "unknown rule %q", rule)
				}
				continue
			}
			if !t.Evaluates(rule) {
				bad(key, "the template does not set %q, so nothing checks it; set it, or remove this entry", rule)
				continue
			}
			if table.name == "advice" {
				if _, dup := t.Cite[rule]; dup {
					bad(key, "%q is both a requirement ([cite]) and advice; it can only be one", rule)
				}
			}
			for _, c := range cs {
				if c.Source != "" {
					checkSource(key, c.Source)
				}
				switch {
				case table.name == "cite" && strings.TrimSpace(c.Quote) == "":
					bad(key, "a requirement quotes the sentence that demands it (quote = \"...\"); without one, move the rule to [advice]")
				case table.name == "cite" && c.Reason != "":
					bad(key, "a requirement is the source's own words; put certmint's reasons in [advice]")
				case table.name == "cite" && c.Source == "" && t.Source == "" && t.Builtin():
					bad(key, "cites no source: set source here or at the top of the template")
				case table.name == "advice" && c.Quote == "" && c.Reason == "":
					bad(key, "say why: a quote from a source that recommends it, or a reason")
				case table.name == "advice" && c.Quote != "" && c.Source == "" && t.Source == "":
					bad(key, "a quote needs its source: set source here or at the top of the template")
				}
			}
		}
	}
	return errs
}

func duplicate[T comparable](list []T) T {
	seen := map[T]bool{}
	var zero T
	for _, v := range list {
		if seen[v] {
			return v
		}
		seen[v] = true
	}
	return zero
}
