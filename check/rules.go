package check

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// requirements evaluates the template's rules on the certificate itself.
func requirements(t *templates.Template, in Input) []Finding {
	c := in.Leaf
	var out []Finding
	add := func(rule string, ok bool, title, got, want, fix string) {
		f := Finding{Rule: rule, Title: title, Seed: t.Citation(rule), Status: Pass}
		if !ok {
			f.Status, f.Got, f.Want, f.Fix = Fail, got, want, fix
		}
		out = append(out, f)
	}

	// Subject and SANs: the same checks issuance applies to typed input.
	// The CN counts as a name where the template copies it into the SAN
	// (000: "CN=<computername> or ... DNS Name=<computername>"; 003: the CN
	// "acts as a fallback for SAN").
	names := san.FromCertificate(c)
	resolved := t.ResolveSANs(c.Subject.CommonName, names)
	failed := map[string]*templates.RequestError{}
	for _, e := range t.CheckRequest(c.Subject, resolved) {
		if _, dup := failed[e.Rule]; !dup {
			failed[e.Rule] = e
		}
	}
	reqFail := func(rule, title, want string) {
		e := failed[rule]
		if e == nil {
			add(rule, true, title, "", "", "")
			return
		}
		add(rule, false, title, e.Msg, want, reissueHint(e.Hint))
	}
	if len(t.Subject.Require) > 1 {
		var want, missing []string
		for _, f := range t.Subject.Require {
			want = append(want, string(f))
			if f != "CN" && len(templates.SubjectValues(c.Subject, f)) == 0 {
				missing = append(missing, string(f))
			}
		}
		fix := ""
		if e := failed["subject.require"]; e != nil {
			fix = reissueHint(e.Hint)
		}
		add("subject.require", len(missing) == 0, "subject fields "+strings.Join(want, ", ")+" are defined",
			"missing "+strings.Join(missing, ", "), strings.Join(want, ", ")+" defined", fix)
	}
	cn, ok := cnForms[t.Subject.CN]
	if !ok { // a template not through templates.Validate
		cn = cnForms[templates.CNAny]
	}
	reqFail("subject.cn", cn.title, cn.want)
	kindRules := []string{"san.allow_dns", "san.allow_wildcard", "san.allow_ip", "san.allow_email", "san.allow_uri"}
	kindFailed := false
	for _, r := range kindRules {
		if e := failed[r]; e != nil {
			add(r, false, "SAN entries are of kinds the template allows", e.Msg, allowedKinds(t), "reissue without that SAN entry")
			kindFailed = true
		}
	}
	if !kindFailed && len(names) > 0 {
		add("san.allow_dns", true, "SAN entries are of kinds the template allows ("+allowedKinds(t)+")", "", "", "")
	}
	if t.SAN.RequireDNS {
		reqFail("san.require_dns", "a DNS name is in the SAN (or is the CN)", "at least one DNS name")
	} else if t.SAN.Require {
		reqFail("san.require", "the SAN names every address clients use", "at least one SAN entry")
	}

	// Key.
	out = append(out, keyFinding(t, c))

	// Signature.
	hash := templates.HashOf(c.SignatureAlgorithm)
	add("signature.allowed", hash != "" && slices.Contains(t.Signature.Allowed, hash),
		"signature hash is "+joinHashes(t.Signature.Allowed), c.SignatureAlgorithm.String(), joinHashes(t.Signature.Allowed),
		"reissue from a CA that signs with "+string(t.Signature.Hash))
	if len(t.Signature.IssuerKeyTypes) > 0 {
		alg := sigKeyType(c.SignatureAlgorithm)
		add("signature.issuer_key_types", slices.Contains(t.Signature.IssuerKeyTypes, alg),
			"signed with an "+joinKeyTypes(t.Signature.IssuerKeyTypes)+" CA key", c.SignatureAlgorithm.String(),
			strings.ToUpper(joinKeyTypes(t.Signature.IssuerKeyTypes))+" signature (e.g. SHA256RSA)",
			"reissue from a CA whose key is "+joinKeyTypes(t.Signature.IssuerKeyTypes)+" (certmint init --issuing-key rsa:4096)")
	}

	// Validity window.
	add("validity.backdate", c.NotBefore.Before(in.Now), "valid from a date in the past",
		c.NotBefore.UTC().Format(time.RFC3339), "before "+in.Now.UTC().Format(time.RFC3339), "reissue; certmint backdates notBefore by the template's validity.backdate")
	if t.Validity.MaxDays > 0 {
		life := c.NotAfter.Sub(c.NotBefore)
		maxLife := time.Duration(t.Validity.MaxDays)*24*time.Hour + 24*time.Hour // a day of backdate slack
		add("validity.max_days", life <= maxLife, fmt.Sprintf("valid for at most %d days", t.Validity.MaxDays),
			fmt.Sprintf("%d days", int(life.Hours()/24)), fmt.Sprintf("%d days or fewer", t.Validity.MaxDays),
			fmt.Sprintf("reissue with --days %d or fewer", t.Validity.MaxDays))
	}

	// Usages: at least the template's (000: "Has at least the following").
	var missingKU []string
	for _, ku := range t.Usage.KeyUsage {
		if c.KeyUsage&ku.X509() != 0 {
			continue
		}
		// An ECDSA key cannot encipher (RFC 5480); a template that accepts
		// ECDSA keys does not demand it of them.
		if spec, _ := keys.Describe(c.PublicKey); spec.Type == "ecdsa" && (ku == "keyEncipherment" || ku == "dataEncipherment") {
			continue
		}
		missingKU = append(missingKU, string(ku))
	}
	if len(t.Usage.KeyUsage) > 0 {
		add("usage.key_usage", len(missingKU) == 0, "key usage includes "+joinKU(t.Usage.KeyUsage),
			"missing "+strings.Join(missingKU, ", ")+" (has "+kuNames(c.KeyUsage)+")", joinKU(t.Usage.KeyUsage),
			"reissue with key usage "+joinKU(t.Usage.KeyUsage))
	}
	var missingEKU []string
	for _, e := range t.Usage.ExtKeyUsage {
		if !slices.Contains(c.ExtKeyUsage, e.X509()) {
			missingEKU = append(missingEKU, string(e))
		}
	}
	if len(t.Usage.ExtKeyUsage) > 0 {
		add("usage.ext_key_usage", len(missingEKU) == 0, "extended key usage includes "+joinEKU(t.Usage.ExtKeyUsage),
			"missing "+strings.Join(missingEKU, ", ")+" (has "+ekuNames(c)+")", joinEKU(t.Usage.ExtKeyUsage),
			"reissue with extended key usage "+joinEKU(t.Usage.ExtKeyUsage))
	}
	add("end_entity", !c.IsCA, "an end-entity certificate (CA:FALSE)", "CA:TRUE", "CA:FALSE",
		"reissue as an end-entity certificate; a CA certificate must not identify a device")

	// Revocation information (000: "References at least one CRL
	// Distribution point that uses HTTP"; 004: "URL to .crl file", "http://
	// rather than https://").
	if t.Revocation.CRLDistributionPoint {
		ok, got := httpCDP(c.CRLDistributionPoints)
		add("revocation.crl_distribution_point", ok, "an http:// CRL distribution point to a .crl file", got, "http://.../name.crl",
			"reissue from a CA whose CDP is an http:// URL (certmint init --base-url http://...)")
	}
	if t.Revocation.AIA {
		add("revocation.aia", len(c.IssuingCertificateURL) > 0, "an AIA caIssuers URL", "none", "a URL to the issuing CA certificate",
			"reissue from a CA that writes the AIA extension")
	}
	if !t.AllowSelfSigned {
		add("allow_self_signed", !isSelfSigned(c), "issued by a CA, not self-signed", "self-signed", "issued by a trusted CA",
			"issue it from a CA: certmint issue --template "+t.Name)
	}
	return out
}

func reissueHint(h string) string {
	if h == "" {
		return "reissue the certificate"
	}
	return "reissue: " + h
}

func keyFinding(t *templates.Template, c *x509.Certificate) Finding {
	f := Finding{Rule: "key.allowed_types", Status: Pass, Seed: t.Citation("key.allowed_bits")}
	spec, err := keys.Describe(c.PublicKey)
	allowed := describeAllowed(t)
	f.Title = "key is " + allowed
	fail := func(rule, got string) Finding {
		f.Rule, f.Status, f.Got, f.Want = rule, Fail, got, allowed
		f.Seed = t.Citation(rule)
		f.Fix = "reissue with a " + describeIssued(t) + " key"
		return f
	}
	switch {
	case err != nil:
		return fail("key.allowed_types", fmt.Sprintf("%T", c.PublicKey))
	case !slices.Contains(t.Key.AllowedTypes, templates.KeyType(spec.Type)):
		return fail("key.allowed_types", spec.String())
	case spec.Type == "rsa" && !slices.Contains(t.Key.AllowedBits, spec.Bits):
		return fail("key.allowed_bits", spec.String())
	case spec.Type == "ecdsa" && !slices.Contains(t.Key.AllowedCurves, templates.Curve(spec.Curve)):
		return fail("key.allowed_curves", spec.String())
	}
	return f
}

func describeAllowed(t *templates.Template) string {
	var parts []string
	for _, kt := range t.Key.AllowedTypes {
		switch kt {
		case templates.RSA:
			var bits []string
			for _, b := range t.Key.AllowedBits {
				bits = append(bits, fmt.Sprint(b))
			}
			parts = append(parts, "RSA "+strings.Join(bits, "/"))
		case templates.ECDSA:
			var cs []string
			for _, c := range t.Key.AllowedCurves {
				cs = append(cs, string(c))
			}
			parts = append(parts, "ECDSA "+strings.Join(cs, "/"))
		}
	}
	return strings.Join(parts, " or ")
}

func describeIssued(t *templates.Template) string {
	if t.Key.Type == templates.ECDSA {
		return "ECDSA " + string(t.Key.Curve)
	}
	return fmt.Sprintf("RSA %d", t.Key.Bits)
}

func allowedKinds(t *templates.Template) string {
	var k []string
	if t.SAN.AllowDNS {
		k = append(k, "DNS")
	}
	if t.SAN.AllowWildcard {
		k = append(k, "wildcard")
	}
	if t.SAN.AllowIP {
		k = append(k, "IP")
	}
	if t.SAN.AllowEmail {
		k = append(k, "email")
	}
	if t.SAN.AllowURI {
		k = append(k, "URI")
	}
	if len(k) == 0 {
		return "none"
	}
	return strings.Join(k, ", ")
}

// cnForms says, for each form a template may ask of the CN, what the rule
// checks and what a passing CN looks like; CNAny asks only for a CN.
var cnForms = map[templates.CNForm]struct{ title, want string }{
	templates.CNAny:      {"CN is present", "a common name"},
	templates.CNFQDN:     {"CN is the fully qualified domain name", "an FQDN such as W701.ACME.LOCAL"},
	templates.CNHostname: {"CN is the host name as `hostname` prints it", "a host name such as W701 or MAC01.local"},
	templates.CNDNS:      {"CN is the domain name", "a domain name such as Sensor.contoso.com or *.contoso.com"},
}

func httpCDP(urls []string) (bool, string) {
	if len(urls) == 0 {
		return false, "no CRL distribution point"
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err == nil && u.Scheme == "http" && u.Host != "" && strings.HasSuffix(strings.ToLower(u.Path), ".crl") {
			return true, s
		}
	}
	return false, strings.Join(urls, ", ")
}

func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func sigKeyType(a x509.SignatureAlgorithm) templates.KeyType {
	switch a {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA, x509.SHA1WithRSA, x509.MD5WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return templates.RSA
	case x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512, x509.ECDSAWithSHA1:
		return templates.ECDSA
	}
	return ""
}

func joinHashes(h []templates.Hash) string {
	var s []string
	for _, x := range h {
		s = append(s, strings.ToUpper(string(x)))
	}
	return strings.Join(s, " or ")
}

func joinKeyTypes(k []templates.KeyType) string {
	var s []string
	for _, x := range k {
		s = append(s, strings.ToUpper(string(x)))
	}
	return strings.Join(s, " or ")
}

func joinKU(k []templates.KeyUsage) string {
	var s []string
	for _, x := range k {
		s = append(s, string(x))
	}
	return strings.Join(s, ", ")
}

func joinEKU(k []templates.ExtKeyUsage) string {
	var s []string
	for _, x := range k {
		s = append(s, string(x))
	}
	return strings.Join(s, ", ")
}

func kuNames(ku x509.KeyUsage) string {
	var s []string
	for bit := x509.KeyUsageDigitalSignature; bit <= x509.KeyUsageDecipherOnly; bit <<= 1 {
		if ku&bit != 0 {
			s = append(s, string(templates.KeyUsageName(bit)))
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func ekuNames(c *x509.Certificate) string {
	var s []string
	for _, e := range c.ExtKeyUsage {
		if n := templates.ExtKeyUsageName(e); n != "" {
			s = append(s, string(n))
		} else if e == x509.ExtKeyUsageAny {
			s = append(s, "anyExtendedKeyUsage")
		} else {
			s = append(s, fmt.Sprintf("%d", e))
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		s = append(s, o.String())
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func serialHex(c *x509.Certificate) string {
	s := strings.ToUpper(c.SerialNumber.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}
