// Package san parses and validates subject alternative names as given on the
// command line: "DNS:name", "IP:1.2.3.4", "email:a@b", "URI:https://x", or a
// bare value whose kind is inferred (an IP address is an IP, a value with
// "://" a URI, one with "@" an email address, anything else DNS).
package san

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Kind is the GeneralName type of a SAN entry (RFC 5280 section 4.2.1.6).
type Kind string

const (
	DNS   Kind = "DNS"
	IP    Kind = "IP"
	Email Kind = "email"
	URI   Kind = "URI"
)

// Name is one subject alternative name.
type Name struct {
	Kind  Kind
	Value string // as given, without the prefix; IPs in canonical form
}

// String returns the name with its kind prefix, as Parse accepts it.
func (n Name) String() string { return string(n.Kind) + ":" + n.Value }

// IsWildcard reports a DNS name whose first label is "*".
func (n Name) IsWildcard() bool { return n.Kind == DNS && strings.HasPrefix(n.Value, "*.") }

// IP returns the address of an IP name.
func (n Name) IP() net.IP { return net.ParseIP(n.Value) }

// Error describes a SAN value that cannot be used. Error() quotes the
// value with %q, so no control byte of hostile input reaches a terminal.
type Error struct {
	Value  string
	Reason string
	Hint   string // what to write instead, when there is an obvious fix
}

func (e *Error) Error() string { return fmt.Sprintf("invalid SAN %q: %s", e.Value, e.Reason) }

// HintText implements the CLI's hint interface.
func (e *Error) HintText() string { return e.Hint }

// maxLen bounds one value: a DNS name is at most 253 octets, and nothing
// longer than a few KiB belongs in a certificate name.
const maxLen = 2048

// MaxNames is the most subject alternative names one certificate gets,
// however they come (issue --san, a batch row, a signed request, with the
// CN a template copies in). Devices need a handful; a list of hundreds is
// a mistake or an attack on whoever parses and prints the certificate.
const MaxNames = 100

// CountError is a list of more than MaxNames names.
type CountError struct{ N int }

func (e *CountError) Error() string {
	return fmt.Sprintf("%d subject alternative names; a certificate holds at most %d", e.N, MaxNames)
}

// HintText implements the CLI's hint interface.
func (e *CountError) HintText() string {
	return fmt.Sprintf("split the names over several certificates of at most %d names each", MaxNames)
}

// CheckCount refuses a list of more than MaxNames names.
func CheckCount(n int) error {
	if n > MaxNames {
		return &CountError{N: n}
	}
	return nil
}

// Parse reads one SAN value.
func Parse(s string) (Name, error) {
	raw := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Name{}, &Error{Value: raw, Reason: "empty value"}
	}
	if len(s) > maxLen {
		return Name{}, &Error{Value: raw[:32] + "...", Reason: fmt.Sprintf("longer than %d characters", maxLen)}
	}
	kind, value, hasPrefix := splitPrefix(s)
	if !hasPrefix {
		kind, value = infer(s), s
	}
	n, err := Check(Name{Kind: kind, Value: value})
	if err != nil {
		// Quote the value as typed, prefix and all.
		err.(*Error).Value = raw
		return Name{}, err
	}
	return n, nil
}

// Check validates a name whose kind is known: the one rule set of every
// SAN, whether typed (Parse calls it once the kind is known) or taken with
// its kind from a certificate request (sign) or a certificate (renew). It
// returns the name in canonical form (IPs as netip prints them, URIs as
// net/url writes them, which is what crypto/x509 encodes), or an *Error.
// Nothing is inferred: a DNS name that looks like an IP address, an email
// address or a URI is an invalid DNS name, never retyped.
func Check(n Name) (Name, error) {
	v := n.Value
	bad := func(hint, format string, args ...any) (Name, error) {
		return Name{}, &Error{Value: n.String(), Reason: fmt.Sprintf(format, args...), Hint: hint}
	}
	if len(v) > maxLen {
		return Name{}, &Error{Value: string(n.Kind) + ":" + v[:32] + "...", Reason: fmt.Sprintf("longer than %d characters", maxLen)}
	}
	switch n.Kind {
	case DNS:
		if a, err := netip.ParseAddr(v); err == nil {
			return bad("write IP:"+a.WithZone("").Unmap().String(), "%q is an IP address, not a DNS name", v)
		}
		if err := ValidateDNS(v, true); err != nil {
			return bad("", "%v", err)
		}
		return Name{DNS, v}, nil
	case IP:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return bad("", "not an IPv4 or IPv6 address")
		}
		return Name{IP, a.Unmap().String()}, nil
	case Email:
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || strings.IndexFunc(local, notAtext) >= 0 {
			return bad("", "not an email address (want name@example.com)")
		}
		if err := ValidateDNS(domain, false); err != nil {
			return bad("", "email domain: %v", err)
		}
		return Name{Email, v}, nil
	case URI:
		// RFC 3986 section 2: a URI is printable ASCII; anything else is
		// percent-encoded. crypto/x509 writes URIs as IA5String.
		if i := strings.IndexFunc(v, func(r rune) bool { return r <= ' ' || r >= 0x7f }); i >= 0 {
			r, _ := utf8.DecodeRuneInString(v[i:])
			return bad("", "character %q is not allowed in a URI (percent-encode it)", r)
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
			return bad("", "not an absolute URI (want scheme://host/...)")
		}
		if u.Host != "" {
			// crypto/x509 refuses to parse a certificate whose URI host
			// is not a domain name (parser.go), so check it here.
			h := u.Hostname()
			if !isIP(h) {
				if strings.HasSuffix(h, ".") {
					return bad("", "URI host %q ends with a dot", h)
				}
				if err := ValidateDNS(h, false); err != nil {
					return bad("", "URI host: %v", err)
				}
			}
		}
		canon := u.String()
		if again, err := url.Parse(canon); err != nil || again.String() != canon {
			return bad("", "not a URI in a form that can be written unchanged")
		}
		return Name{URI, canon}, nil
	}
	return bad("", "unknown kind %q", string(n.Kind))
}

// notAtext reports a character that may not appear in the local part of
// an email address: RFC 5322 section 3.2.3 atext, plus the dots of a
// dot-atom. Quoted local parts are not accepted.
func notAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	case strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r):
		return false
	}
	return true
}

// CheckList validates names that come with their kinds (a certificate
// request's, a certificate's) as Check does, drops duplicates as ParseList
// does, and refuses more than MaxNames.
func CheckList(names []Name) ([]Name, error) {
	var out []Name
	seen := map[string]bool{}
	for _, n := range names {
		c, err := Check(n)
		if err != nil {
			return nil, err
		}
		if key := c.key(); !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
	}
	if err := CheckCount(len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// infer gives a bare value its kind: an IP address is an IP, a value with
// "://" a URI, one with "@" an email address, anything else a DNS name.
func infer(s string) Kind {
	switch {
	case isIP(s):
		return IP
	case strings.Contains(s, "://"):
		return URI
	case strings.Contains(s, "@"):
		return Email
	}
	return DNS
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// splitPrefix recognises the kind prefixes, case-insensitively, including
// the spellings OpenSSL and Windows print ("IP Address:", "DNS Name=").
func splitPrefix(s string) (Kind, string, bool) {
	i := strings.IndexAny(s, ":=")
	if i <= 0 {
		return "", s, false
	}
	p := strings.ToLower(strings.TrimSpace(s[:i]))
	v := strings.TrimSpace(s[i+1:])
	switch p {
	case "dns", "dns name":
		return DNS, v, true
	case "ip", "ip address":
		return IP, v, true
	case "email", "rfc822", "rfc822name", "rfc822 name":
		return Email, v, true
	case "uri", "url":
		return URI, v, true
	}
	return "", s, false
}

// ParseList parses values that may each hold a comma-separated list, which is
// how a PowerShell array ("a", "b") reaches a POSIX shell: "a," and "b".
// Empty items (a trailing comma) are skipped; duplicates are dropped.
func ParseList(values []string) ([]Name, error) {
	var out []Name
	seen := map[string]bool{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.Trim(strings.TrimSpace(item), `"'`)
			if item == "" {
				continue
			}
			n, err := Parse(item)
			if err != nil {
				return nil, err
			}
			if key := n.key(); !seen[key] {
				seen[key] = true
				out = append(out, n)
			}
		}
	}
	if err := CheckCount(len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// key compares DNS names and emails case-insensitively, as matching does.
func (n Name) key() string {
	if n.Kind == DNS || n.Kind == Email {
		return string(n.Kind) + ":" + strings.ToLower(n.Value)
	}
	return n.String()
}

// Contains reports whether list holds n (DNS case-insensitively).
func Contains(list []Name, n Name) bool {
	for _, m := range list {
		if m.key() == n.key() {
			return true
		}
	}
	return false
}

// ValidateDNS checks a DNS name: labels of letters, digits, hyphens and
// underscores (service labels), 1-63 octets each, 253 in all, no leading or
// trailing hyphen. With wildcard, "*" may be the whole first label.
func ValidateDNS(name string, wildcard bool) error {
	if name == "" {
		return fmt.Errorf("empty DNS name")
	}
	name = strings.TrimSuffix(name, ".")
	if len(name) > 253 {
		return fmt.Errorf("DNS name longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	// RFC 3696 section 2: a top-level label is never all digits. Without
	// this rule a mistyped address ("10.0.0.256") would become a DNS name.
	if last := labels[len(labels)-1]; len(labels) > 1 && last != "" && strings.Trim(last, "0123456789") == "" {
		return fmt.Errorf("%q is neither an IP address nor a DNS name: the last label is all digits", name)
	}
	for i, l := range labels {
		if l == "*" && i == 0 && wildcard {
			if len(labels) < 3 {
				return fmt.Errorf("wildcard %q must be followed by at least two labels (*.example.com)", name)
			}
			continue
		}
		if l == "" {
			return fmt.Errorf("empty label in DNS name %q", name)
		}
		if len(l) > 63 {
			return fmt.Errorf("label %q is longer than 63 characters", l)
		}
		if strings.Contains(l, "*") {
			return fmt.Errorf("%q: a wildcard may only be the whole first label (*.example.com)", name)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
		for _, r := range l {
			if r >= 0x80 {
				return fmt.Errorf("%q is not a valid DNS name: character %q is not allowed (use punycode for international names)", name, r)
			}
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q is not a valid DNS name: character %q is not allowed (letters, digits, hyphens and underscores only)", name, r)
			}
		}
	}
	return nil
}

// Strings returns the names in the form Parse reads.
func Strings(list []Name) []string {
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = n.String()
	}
	return out
}

// FromCertificate lists the SANs of a certificate.
func FromCertificate(c *x509.Certificate) []Name {
	return fromFields(c.DNSNames, c.IPAddresses, c.EmailAddresses, c.URIs)
}

// FromRequest lists the SANs of a certificate request.
func FromRequest(r *x509.CertificateRequest) []Name {
	return fromFields(r.DNSNames, r.IPAddresses, r.EmailAddresses, r.URIs)
}

func fromFields(dns []string, ips []net.IP, emails []string, uris []*url.URL) []Name {
	var out []Name
	for _, d := range dns {
		out = append(out, Name{Kind: DNS, Value: d})
	}
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, Name{Kind: IP, Value: a.Unmap().String()})
		}
	}
	for _, e := range emails {
		out = append(out, Name{Kind: Email, Value: e})
	}
	for _, u := range uris {
		out = append(out, Name{Kind: URI, Value: u.String()})
	}
	return out
}

// Fields sorts names into the fields of a certificate or request template.
func Fields(names []Name) (dns []string, ips []net.IP, emails []string, uris []*url.URL, err error) {
	for _, n := range names {
		switch n.Kind {
		case DNS:
			dns = append(dns, n.Value)
		case IP:
			ips = append(ips, net.ParseIP(n.Value))
		case Email:
			emails = append(emails, n.Value)
		case URI:
			u, perr := url.Parse(n.Value)
			if perr != nil {
				return nil, nil, nil, nil, perr
			}
			uris = append(uris, u)
		}
	}
	return dns, ips, emails, uris, nil
}
