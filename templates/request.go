package templates

import (
	"crypto/x509/pkix"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/san"
)

// RequestError is a request (CN, subject, SANs) that the template does not
// allow. Rule is the template key it breaks; Hint says what to give
// instead, naming the request's inputs (input.CN, input.SAN,
// input.Subject) as input.Refs, which the command line writes as flags and
// a batch as CSV columns.
type RequestError struct {
	Template string
	Rule     string
	Msg      string
	Hint     input.Text
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("template %q: %s", e.Template, e.Msg)
}

// ubCommonName is the upper bound of a CN in RFC 5280 appendix A.
const ubCommonName = 64

// ResolveSANs returns the SANs a certificate for cn gets: those asked for,
// plus the CN itself when the template copies it and it is a DNS name or an
// IP address (000: "CN=<computername> or ... DNS Name=<computername>";
// 003: "SAN must contain all addresses/domain names").
func (t *Template) ResolveSANs(cn string, sans []san.Name) []san.Name {
	out := slices.Clone(sans)
	if !t.SAN.CNInSAN {
		return out
	}
	var n san.Name
	if a, err := netip.ParseAddr(cn); err == nil {
		// An address is copied only as an IP, never as a DNS name, and
		// never with a zone (san.Parse refuses "fe80::1%eth0" too).
		if !t.SAN.AllowIP || a.Zone() != "" {
			return out
		}
		n = san.Name{Kind: san.IP, Value: a.Unmap().String()}
	} else if t.SAN.AllowDNS && san.ValidateDNS(cn, t.SAN.AllowWildcard) == nil {
		n = san.Name{Kind: san.DNS, Value: cn}
	} else {
		return out
	}
	if !san.Contains(out, n) {
		out = append([]san.Name{n}, out...)
	}
	return out
}

// CheckRequest reports every way a subject and SAN list break the template.
// sans must already be resolved (ResolveSANs).
func (t *Template) CheckRequest(subj pkix.Name, sans []san.Name) []*RequestError {
	var errs []*RequestError
	bad := func(rule string, hint input.Text, format string, args ...any) {
		errs = append(errs, &RequestError{Template: t.Name, Rule: rule, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}

	// Every subject field is text a person reads (certificate stores, MMC,
	// Keychain): no control character, and no bidi override or zero-width
	// character that would show it as something else.
	for _, f := range subjectFields[1:] { // the CN is CheckCN's
		for _, v := range SubjectValues(subj, f) {
			if unsafeText(v) {
				bad("subject", input.PlainText("remove control, bidi and zero-width characters from the subject"), "subject field %s contains a control character or an invisible formatting character: %q", f, v)
			}
		}
	}
	var missing []string
	for _, f := range t.Subject.Require {
		if len(SubjectValues(subj, f)) == 0 {
			missing = append(missing, string(f))
		}
	}
	if len(missing) > 0 && !(len(missing) == 1 && missing[0] == "CN") {
		// Placeholders, not an example company: a hint copied as
		// written must not put someone else's name in a certificate. ca
		// replaces this hint with one that knows the CA home's defaults.
		var ex []string
		for _, m := range missing {
			if m != "CN" {
				ex = append(ex, m+"="+SubjectPlaceholder(SubjectField(m)))
			}
		}
		bad("subject.require", input.Textf("add %s", input.Quoted(input.Subject, strings.Join(ex, ","))),
			"requires the subject fields %s; missing %s", joinAnd(fieldNames(t.Subject.Require)), joinAnd(missing))
	}
	if err := t.CheckCN(subj.CommonName); err != nil {
		errs = append(errs, err)
	}

	for _, n := range sans {
		// The name is quoted (%q) and the rule named: a request's names
		// come from whoever made it, and may hold any byte.
		refuse := func(rule string, hint input.Text, what string) {
			bad(rule, hint, "does not allow %s: %q (rule %s)", what, n.String(), rule)
		}
		switch {
		case n.Kind == san.DNS && !t.SAN.AllowDNS:
			refuse("san.allow_dns", input.Textf("remove the %s value", input.Of(input.SAN)), "DNS names in the SAN")
		case n.IsWildcard() && !t.SAN.AllowWildcard:
			refuse("san.allow_wildcard", input.Textf("name each host, e.g. %s", input.Val(input.SAN, "host1.example.com")), "wildcard names")
		case n.Kind == san.IP && !t.SAN.AllowIP:
			refuse("san.allow_ip", input.PlainText("use a DNS name instead"), "IP addresses in the SAN")
		case n.Kind == san.Email && !t.SAN.AllowEmail:
			refuse("san.allow_email", input.Textf("remove the %s value", input.Of(input.SAN)), "email addresses in the SAN")
		case n.Kind == san.URI && !t.SAN.AllowURI:
			refuse("san.allow_uri", input.Textf("remove the %s value", input.Of(input.SAN)), "URIs in the SAN")
		}
	}
	if t.SAN.RequireDNS && !slices.ContainsFunc(sans, func(n san.Name) bool { return n.Kind == san.DNS }) {
		bad("san.require_dns", input.Textf("add %s", input.Val(input.SAN, "DNS:host.example.com")), "requires at least one DNS name in the SAN")
	} else if t.SAN.Require && !slices.ContainsFunc(sans, t.SAN.allows) {
		bad("san.require", input.Textf("add %s with every name and address clients use", input.Of(input.SAN)), "requires at least one subject alternative name")
	}
	return errs
}

// allows reports whether a SAN entry is of a kind the rules allow.
func (r SANRules) allows(n san.Name) bool {
	switch {
	case n.IsWildcard():
		return r.AllowWildcard
	case n.Kind == san.DNS:
		return r.AllowDNS
	case n.Kind == san.IP:
		return r.AllowIP
	case n.Kind == san.Email:
		return r.AllowEmail
	case n.Kind == san.URI:
		return r.AllowURI
	}
	return false
}

// CheckCN reports a common name that does not have the template's form.
func (t *Template) CheckCN(cn string) *RequestError {
	e := func(hint input.Text, format string, args ...any) *RequestError {
		return &RequestError{Template: t.Name, Rule: "subject.cn", Msg: fmt.Sprintf(format, args...), Hint: hint}
	}
	if strings.TrimSpace(cn) == "" {
		return e(input.Textf("give %s", input.Val(input.CN, "NAME")), "the common name is empty")
	}
	// The bound counts characters, not bytes (zlint e_subject_common_name_max_length).
	if n := utf8.RuneCountInString(cn); n > ubCommonName {
		return e(input.Textf("use a shorter CN and put long names in %s", input.Of(input.SAN)), "the common name is %d characters; X.509 allows at most %d", n, ubCommonName)
	}
	if unsafeText(cn) {
		return e(input.Textf("remove control, bidi and zero-width characters from %s", input.Of(input.CN)), "the common name contains a control character or an invisible formatting character")
	}
	switch t.Subject.CN {
	case CNDNS:
		if err := san.ValidateDNS(cn, t.SAN.AllowWildcard); err != nil {
			return e(input.Textf("use the appliance's domain name, e.g. %s", input.Val(input.CN, "sensor1.contoso.com")), "the common name must be a domain name: %v", err)
		}
	case CNFQDN:
		if err := san.ValidateDNS(cn, t.SAN.AllowWildcard); err != nil {
			return e(input.Textf("use the computer's FQDN, e.g. %s", input.Val(input.CN, "W701.ACME.LOCAL")), "the common name must be the fully qualified domain name: %v", err)
		}
		if !strings.Contains(strings.TrimSuffix(strings.TrimPrefix(cn, "*."), "."), ".") {
			return e(input.Textf("use the FQDN, e.g. %s", input.Val(input.CN, cn+".ACME.LOCAL")), "the common name %q is a bare host name; this template needs the fully qualified domain name", cn)
		}
	case CNHostname:
		if err := san.ValidateDNS(cn, false); err != nil {
			return e(input.PlainText("use the name the `hostname` command prints on the device"), "the common name must be a host name: %v", err)
		}
	}
	return nil
}

// unsafeText reports a control character (C0, DEL, C1) or an invisible
// formatting character (Unicode Cf: bidi overrides, zero-width marks) in a
// name: what would make a terminal act or a name read as another.
func unsafeText(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return !utf8.ValidString(s)
}

// ParseSubject reads "C=US,O=Contoso Inc.,OU=Contoso Labs". A comma inside a
// value is written \, as in RFC 4514.
func ParseSubject(s string) (pkix.Name, error) {
	var n pkix.Name
	err := MergeSubject(&n, s)
	return n, err
}

// MergeSubject adds the fields of s to n.
func MergeSubject(n *pkix.Name, s string) error {
	for _, part := range splitRDN(s) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToUpper(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" {
			return fmt.Errorf("subject field %q is not KEY=VALUE (e.g. C=US,O=Contoso,OU=OT)", part)
		}
		switch k {
		case "CN":
			n.CommonName = v
		case "C":
			if len(v) != 2 || !isLetter(v[0]) || !isLetter(v[1]) {
				return fmt.Errorf("country %q must be a two-letter ISO 3166 code such as US or DE", v)
			}
			n.Country = append(n.Country, strings.ToUpper(v))
		case "ST", "S":
			n.Province = append(n.Province, v)
		case "L":
			n.Locality = append(n.Locality, v)
		case "O":
			n.Organization = append(n.Organization, v)
		case "OU":
			n.OrganizationalUnit = append(n.OrganizationalUnit, v)
		default:
			return fmt.Errorf("subject field %q is not supported (use CN, C, ST, L, O, OU)", k)
		}
		if utf8.RuneCountInString(v) > 64 {
			return fmt.Errorf("subject field %s is longer than 64 characters", k)
		}
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// splitRDN splits on commas that are not escaped with a backslash.
func splitRDN(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			i++
		case s[i] == ',':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}

// SubjectValues returns the values of one field of a name.
func SubjectValues(n pkix.Name, f SubjectField) []string {
	switch f {
	case "CN":
		if n.CommonName == "" {
			return nil
		}
		return []string{n.CommonName}
	case "C":
		return n.Country
	case "ST":
		return n.Province
	case "L":
		return n.Locality
	case "O":
		return n.Organization
	case "OU":
		return n.OrganizationalUnit
	}
	return nil
}

// SubjectPlaceholder is what a hint shows for a subject field the user
// must fill in: "O=<your organization>".
func SubjectPlaceholder(f SubjectField) string {
	switch f {
	case "C":
		return "<two-letter country code>"
	case "ST":
		return "<state or province>"
	case "L":
		return "<city>"
	case "O":
		return "<your organization>"
	case "OU":
		return "<your unit>"
	case "CN":
		return "<name>"
	}
	return "<value>"
}

func fieldNames(fs []SubjectField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// checkExample returns why the template's own example is not a valid
// request, or "".
func (t *Template) checkExample() string {
	subj, err := ParseSubject(t.Example.Subject)
	if err != nil {
		return err.Error()
	}
	subj.CommonName = t.Example.CN
	sans, err := san.ParseList(t.Example.SAN)
	if err != nil {
		return err.Error()
	}
	if errs := t.CheckRequest(subj, t.ResolveSANs(subj.CommonName, sans)); len(errs) > 0 {
		return "the example request is refused: " + errs[0].Msg
	}
	return ""
}

// ExampleRequest returns the example's subject and SANs.
func (t *Template) ExampleRequest() (pkix.Name, []san.Name) {
	subj, _ := ParseSubject(t.Example.Subject)
	subj.CommonName = t.Example.CN
	sans, _ := san.ParseList(t.Example.SAN)
	return subj, sans
}
