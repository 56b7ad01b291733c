package check

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// finder builds the findings of one template: each rule's level and
// citations come from the template, so a broken requirement fails and a
// broken piece of advice warns.
type finder struct {
	t   *templates.Template
	out []Finding
}

func (b *finder) add(rule string, ok bool, title, got, want, fix string) {
	cited := b.t.Rule(rule)
	f := Finding{Rule: rule, Level: cited.Level, Title: title, Citations: cited.Quotes, Reason: cited.Reason, Status: Pass}
	if !ok {
		f.Status, f.Got, f.Want, f.Fix = Fail, got, want, fix
		if cited.Level == templates.Advice {
			f.Status = Warn
		}
	}
	b.out = append(b.out, f)
}

// requirements evaluates the template's rules on the certificate itself.
func requirements(t *templates.Template, in Input) []Finding {
	c := in.Leaf
	b := &finder{t: t}
	add := b.add

	// Subject and SANs: the same checks issuance applies to typed input,
	// on the names the certificate really carries. The CN is not counted
	// as a SAN: 003's "proper SAN" is a SAN extension.
	names := san.FromCertificate(c)
	failed := map[string]*templates.RequestError{}
	for _, e := range t.CheckRequest(c.Subject, names) {
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
	b.name(c, names, failed["subject.cn"])
	kindRules := []string{"san.allow_dns", "san.allow_wildcard", "san.allow_ip", "san.allow_email", "san.allow_uri"}
	for _, r := range kindRules {
		if e := failed[r]; e != nil {
			add(r, false, "SAN entries are of kinds the template allows ("+allowedKinds(t)+")", e.Msg, allowedKinds(t), "reissue without that SAN entry")
		}
	}
	if len(names) > 0 && !slices.ContainsFunc(kindRules, func(r string) bool { return failed[r] != nil }) {
		add("san.allow_dns", true, "SAN entries are of kinds the template allows ("+allowedKinds(t)+")", "", "", "")
	}
	if t.SAN.CNInSAN {
		// certmint copies a DNS or IP CN into the SAN: TLS clients match
		// names against the SAN only (RFC 6125).
		want := t.ResolveSANs(c.Subject.CommonName, nil)
		ok := len(want) == 0 || san.Contains(names, want[0])
		add("san.cn_in_san", ok, "the CN is also in the SAN", "the SAN lacks "+textsafe.Quote(c.Subject.CommonName), "the CN among the SAN's names",
			"reissue with the CN in the SAN (certmint copies it)")
	}
	if t.SAN.RequireDNS {
		reqFail("san.require_dns", "a DNS name is in the SAN", "at least one DNS name in the SAN extension")
	} else if t.SAN.Require {
		reqFail("san.require", "the SAN names the addresses clients use", "a SAN extension with at least one entry")
	}

	b.key(c)
	b.signature(c)

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

	b.usage(c)
	add("end_entity", !c.IsCA, "an end-entity certificate (CA:FALSE)", "CA:TRUE", "CA:FALSE",
		"reissue as an end-entity certificate; a CA certificate must not identify a device")

	b.revocation(c, in.NoCDP && NoCDPAllowed(t))
	if !t.AllowSelfSigned {
		add("allow_self_signed", !isSelfSigned(c), "issued by a CA, not self-signed", "self-signed", "issued by a trusted CA",
			"issue it from a CA: certmint issue --template "+t.Name)
	}
	if in.PFX != nil {
		b.pfx(in)
	}
	b.keyFiles(in)
	return b.out
}

// keyFiles reports the files a template's document requires that carry the
// private key (004: "a .key file and a .crt file"; 000: "the private key
// must be exportable"; 003: one signing certificate on every job
// service). check sees only what it is given: with a key (or a .pfx) the
// rule passes, without one it is skipped, and issue is what enforces it.
func (b *finder) keyFiles(in Input) {
	t := b.t
	if !slices.ContainsFunc(t.Output.Required, func(f templates.Format) bool { return f == templates.FormatKey || f == templates.FormatPFX }) {
		return
	}
	var files []string
	for _, f := range t.Output.Required {
		files = append(files, "."+string(f))
	}
	b.add("output.required", true, "the private key comes with the certificate ("+strings.Join(files, ", ")+")", "", "", "")
	if !in.KeyGiven {
		f := &b.out[len(b.out)-1]
		f.Status, f.Got = Skip, "no key given (--key or --pfx); the device needs the private key with the certificate"
	}
}

// name checks the CN form. Where the template lets the name be a DNS SAN
// instead (000: "Common Name (CN=<computername>) or Subject Alternative
// Name (DNS Name=<computername>)"), a DNS SAN of the form passes too.
func (b *finder) name(c *x509.Certificate, names []san.Name, cnErr *templates.RequestError) {
	t := b.t
	form, ok := cnForms[t.Subject.CN]
	if !ok { // a template not through templates.Validate
		form = cnForms[templates.CNAny]
	}
	title, want := form.title, form.want
	if !t.Subject.CNOrSAN {
		if cnErr == nil {
			b.add("subject.cn", true, title, "", "", "")
		} else {
			b.add("subject.cn", false, title, cnErr.Msg, want, reissueHint(cnErr.Hint))
		}
		return
	}
	title = strings.Replace(title, "CN is", "the CN or a DNS name in the SAN is", 1)
	if cnErr == nil {
		b.add("subject.cn", true, title, "", "", "")
		return
	}
	for _, n := range names {
		if n.Kind == san.DNS && t.CheckCN(n.Value) == nil {
			b.add("subject.cn", true, title+" (the SAN's "+textsafe.Quote(n.Value)+")", "", "", "")
			return
		}
	}
	b.add("subject.cn", false, title, cnErr.Msg+", and no DNS name in the SAN has that form", want, reissueHint(cnErr.Hint))
}

// key checks the public key's type, then its size or curve.
func (b *finder) key(c *x509.Certificate) {
	t := b.t
	allowed := describeAllowed(t)
	fix := "reissue with a " + describeIssued(t) + " key"
	spec, err := keys.Describe(c.PublicKey)
	if err != nil {
		b.add("key.allowed_types", false, "key is "+allowed, fmt.Sprintf("%T", c.PublicKey), allowed, fix)
		return
	}
	typeOK := slices.Contains(t.Key.AllowedTypes, templates.KeyType(spec.Type))
	var types []string
	for _, k := range t.Key.AllowedTypes {
		types = append(types, strings.ToUpper(string(k)))
	}
	b.add("key.allowed_types", typeOK, "key type is "+strings.Join(types, " or "), spec.String(), allowed, fix)
	if !typeOK {
		return
	}
	switch spec.Type {
	case "rsa":
		b.add("key.allowed_bits", slices.Contains(t.Key.AllowedBits, spec.Bits), "RSA key of "+joinInts(t.Key.AllowedBits, " or ")+" bits",
			spec.String(), allowed, fix)
	case "ecdsa":
		b.add("key.allowed_curves", slices.Contains(t.Key.AllowedCurves, templates.Curve(spec.Curve)), "ECDSA key on "+joinCurves(t.Key.AllowedCurves),
			spec.String(), allowed, fix)
	}
}

// signature checks the hash, and where the template names them the exact
// algorithms (004: "Signature Algorithm = SHA256RSA" is not RSASSA-PSS)
// or the CA key type.
func (b *finder) signature(c *x509.Certificate) {
	t := b.t
	hash, name := signatureHash(c), signatureName(c)
	b.add("signature.allowed", hash != "" && slices.Contains(t.Signature.Allowed, hash),
		"signature hash is "+joinHashes(t.Signature.Allowed), name, joinHashes(t.Signature.Allowed),
		"reissue from a CA that signs with "+strings.ToUpper(string(t.Signature.Hash)))
	if len(t.Signature.Algorithms) > 0 {
		var names []string
		ok := false
		for _, a := range t.Signature.Algorithms {
			names = append(names, string(a))
			ok = ok || a.X509() == c.SignatureAlgorithm
		}
		b.add("signature.algorithms", ok, "signature algorithm is "+strings.Join(names, " or "),
			name, strings.Join(names, " or "),
			"reissue from a CA whose key and signature scheme give "+strings.Join(names, " or ")+" (certmint's RSA CAs sign with PKCS#1 v1.5)")
	}
	if len(t.Signature.IssuerKeyTypes) > 0 {
		alg := sigKeyType(c.SignatureAlgorithm)
		if unknownPSS(c) != nil {
			alg = templates.RSA
		}
		b.add("signature.issuer_key_types", slices.Contains(t.Signature.IssuerKeyTypes, alg),
			"signed with an "+joinKeyTypes(t.Signature.IssuerKeyTypes)+" CA key", name,
			strings.ToUpper(joinKeyTypes(t.Signature.IssuerKeyTypes))+" signature",
			"reissue from a CA whose key is "+joinKeyTypes(t.Signature.IssuerKeyTypes)+" (certmint init --issuing-key rsa:4096)")
	}
}

// usage checks key usage and extended key usage: at least the template's
// (000: "Has at least the following"), or exactly its EKU where the
// document says "only" (002).
func (b *finder) usage(c *x509.Certificate) {
	t := b.t
	var missingKU []string
	for _, ku := range t.Usage.KeyUsage {
		if c.KeyUsage&ku.X509() != 0 {
			continue
		}
		// An ECDSA key cannot encipher (RFC 5480); a template that accepts
		// ECDSA keys does not demand it of them. One that does not (1E's:
		// "Signature and Encryption") fails such a key on key.allowed_types
		// and here.
		if spec, _ := keys.Describe(c.PublicKey); spec.Type == "ecdsa" && slices.Contains(t.Key.AllowedTypes, templates.ECDSA) &&
			(ku == "keyEncipherment" || ku == "dataEncipherment") {
			continue
		}
		missingKU = append(missingKU, string(ku))
	}
	if len(t.Usage.KeyUsage) > 0 {
		b.add("usage.key_usage", len(missingKU) == 0, "key usage includes "+joinKU(t.Usage.KeyUsage),
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
		b.add("usage.ext_key_usage", len(missingEKU) == 0, "extended key usage includes "+joinEKU(t.Usage.ExtKeyUsage),
			"missing "+strings.Join(missingEKU, ", ")+" (has "+ekuNames(c)+")", joinEKU(t.Usage.ExtKeyUsage),
			"reissue with extended key usage "+joinEKU(t.Usage.ExtKeyUsage))
	}
	if t.Usage.ExtKeyUsageOnly {
		var extra []string
		for _, e := range c.ExtKeyUsage {
			if !slices.ContainsFunc(t.Usage.ExtKeyUsage, func(w templates.ExtKeyUsage) bool { return w.X509() == e }) {
				extra = append(extra, ekuName(e))
			}
		}
		for _, o := range c.UnknownExtKeyUsage {
			extra = append(extra, o.String())
		}
		b.add("usage.ext_key_usage_only", len(extra) == 0, "extended key usage is only "+joinEKU(t.Usage.ExtKeyUsage),
			"also "+strings.Join(extra, ", "), "only "+joinEKU(t.Usage.ExtKeyUsage),
			"reissue with extended key usage "+joinEKU(t.Usage.ExtKeyUsage)+" and nothing else")
	}
}

// revocation checks the CRL distribution point (000: "References at least
// one CRL Distribution point that uses HTTP", the CDP "uses HTTP/S"; 004:
// "URL to .crl file", "http:// rather than https://") and the AIA.
func (b *finder) revocation(c *x509.Certificate, noCDP bool) {
	t := b.t
	if t.AllowSelfSigned && isSelfSigned(c) && !t.IsRequirement("revocation.crl_distribution_point") && !t.IsRequirement("revocation.aia") {
		// A self-signed certificate the template allows (SafeQ's script
		// makes one) has no issuing CA whose CRL or certificate it could
		// name: the CA-issued variant's advice does not apply.
		if t.Revocation.CRLDistributionPoint {
			b.add("revocation.crl_distribution_point", true, "self-signed: no issuing CA whose CRL it could name", "", "", "")
		}
		if t.Revocation.AIA {
			b.add("revocation.aia", true, "self-signed: no issuing CA certificate to point to", "", "", "")
		}
		return
	}
	if t.Revocation.CRLDistributionPoint {
		title, want := "an http:// CRL distribution point", "http://..."
		if t.Revocation.CDPAllowHTTPS {
			title, want = "an http:// or https:// CRL distribution point", "http://... or https://..."
		}
		if t.Revocation.CDPCRLFile {
			title += " to a .crl file"
			want += "/name.crl"
		}
		switch ok, got := cdpOK(t, c.CRLDistributionPoints); {
		case noCDP && len(c.CRLDistributionPoints) == 0:
			b.add("revocation.crl_distribution_point", true, "no CRL distribution point, as --no-cdp asks (no certificate validation)", "", "", "")
		default:
			fix := "reissue from a CA whose CDP is an http:// URL (certmint init --base-url http://...)"
			if t.Revocation.AllowNoCDP && len(c.CRLDistributionPoints) == 0 {
				fix += "; or, where the site does not validate certificates, check with --no-cdp (the document allows leaving the CDP out then)"
			}
			b.add("revocation.crl_distribution_point", ok, title, got, want, fix)
		}
	}
	if t.Revocation.AIA {
		b.add("revocation.aia", len(c.IssuingCertificateURL) > 0, "an AIA caIssuers URL", "none", "a URL to the issuing CA certificate",
			"reissue from a CA that writes the AIA extension (certmint does)")
	}
}

// pfx checks what a .pfx must be for the template's platform: the
// encryption its importer reads (002: macOS `security import`), and the
// chain inside it.
func (b *finder) pfx(in Input) {
	t := b.t
	if t.HasFormat(templates.FormatPFX) && t.Output.PFXEncryption == templates.PFXLegacy {
		problems := in.PFX.LegacyImportProblems()
		b.add("output.pfx_encryption", len(problems) == 0, "the .pfx is 3DES with a SHA-1 MAC, which macOS `security import` reads",
			strings.Join(problems, " and "), "3DES (or RC2) encryption with a SHA-1 MAC",
			"make a legacy copy: certmint convert --in FILE.pfx --to pfx --legacy --out NEW.pfx")
	}
	hasCA := false
	for _, x := range in.PFXChain {
		if x.IsCA {
			hasCA = true
		}
	}
	b.add("output.pfx_chain", hasCA || isSelfSigned(in.Leaf), "the .pfx carries the CA certificates of the chain",
		"only the certificate", "the certificate and its CA chain", "re-export the .pfx with the chain (certmint convert --in FILE.crt --key FILE.key --chain CHAIN.pem --to pfx)")
}

// reissueHint is the fix of a request rule: a request error's hint names
// the request's inputs plainly (subject="O=..."), as any CA takes them.
func reissueHint(h input.Text) string {
	if h.IsZero() {
		return "reissue the certificate"
	}
	return "reissue: " + h.String()
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

// cdpOK reports whether one CDP URL has a scheme the template accepts and,
// where it asks, names a .crl file.
func cdpOK(t *templates.Template, urls []string) (bool, string) {
	if len(urls) == 0 {
		return false, "no CRL distribution point"
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			continue
		}
		scheme := strings.ToLower(u.Scheme)
		if scheme != "http" && !(scheme == "https" && t.Revocation.CDPAllowHTTPS) {
			continue
		}
		if t.Revocation.CDPCRLFile && !strings.HasSuffix(strings.ToLower(u.Path), ".crl") {
			continue
		}
		return true, textsafe.Quote(s)
	}
	return false, textsafe.Join(urls, ", ")
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

func joinInts(v []int, sep string) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, sep)
}

func joinCurves(v []templates.Curve) string {
	var s []string
	for _, x := range v {
		s = append(s, string(x))
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

func ekuName(e x509.ExtKeyUsage) string {
	if n := templates.ExtKeyUsageName(e); n != "" {
		return string(n)
	} else if e == x509.ExtKeyUsageAny {
		return "anyExtendedKeyUsage"
	}
	return fmt.Sprintf("%d", e)
}

func ekuNames(c *x509.Certificate) string {
	var s []string
	for _, e := range c.ExtKeyUsage {
		s = append(s, ekuName(e))
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
