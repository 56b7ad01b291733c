package san

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
)

var label63 = strings.Repeat("a", 63)

// dnsOfLen returns a valid-looking DNS name of exactly n octets.
func dnsOfLen(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		l := min(63, n-b.Len())
		b.WriteString(strings.Repeat("a", l))
	}
	return b.String()
}

var parseTests = []struct {
	name string
	in   string
	want Name
	// wantErr is part of the reason; "" when the value is valid.
	wantErr string
}{
	// Prefixes, case-insensitive, in the spellings OpenSSL and Windows print.
	{name: "DNS prefix", in: "DNS:www.contoso.com", want: Name{DNS, "www.contoso.com"}},
	{name: "dns lower", in: "dns:www.contoso.com", want: Name{DNS, "www.contoso.com"}},
	{name: "DNS Name=", in: "DNS Name=W701.ACME.LOCAL", want: Name{DNS, "W701.ACME.LOCAL"}},
	{name: "dns name: spaced", in: "  dns name : host1  ", want: Name{DNS, "host1"}},
	{name: "IP prefix", in: "IP:10.0.0.5", want: Name{IP, "10.0.0.5"}},
	{name: "IP Address:", in: "IP Address:192.168.1.1", want: Name{IP, "192.168.1.1"}},
	{name: "ip address= IPv6", in: "ip address=2001:DB8::1", want: Name{IP, "2001:db8::1"}},
	{name: "IP: IPv6", in: "IP:::1", want: Name{IP, "::1"}},
	{name: "email prefix", in: "email:admin@contoso.com", want: Name{Email, "admin@contoso.com"}},
	{name: "EMAIL upper", in: "EMAIL:admin@contoso.com", want: Name{Email, "admin@contoso.com"}},
	{name: "RFC822 Name", in: "RFC822 Name=admin@contoso.com", want: Name{Email, "admin@contoso.com"}},
	{name: "Windows URL=", in: "URL=https://contoso.com/", want: Name{URI, "https://contoso.com/"}},
	{name: "rfc822", in: "rfc822:a@contoso.com", want: Name{Email, "a@contoso.com"}},
	{name: "URI prefix", in: "URI:https://contoso.com/x", want: Name{URI, "https://contoso.com/x"}},
	{name: "uri lower", in: "uri:spiffe://contoso.com/svc", want: Name{URI, "spiffe://contoso.com/svc"}},
	{name: "URI scheme lowercased", in: "URI:HTTPS://contoso.com/x", want: Name{URI, "https://contoso.com/x"}},
	{name: "URI with IPv6 host and port", in: "URI:https://[2001:db8::1]:8443/x", want: Name{URI, "https://[2001:db8::1]:8443/x"}},
	{name: "URI percent-encoded", in: "URI:https://contoso.com/a%20b", want: Name{URI, "https://contoso.com/a%20b"}},
	{name: "email with atext", in: "email:first.last+tag@contoso.com", want: Name{Email, "first.last+tag@contoso.com"}},
	{name: "URI opaque", in: "URI:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", want: Name{URI, "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}},

	// Bare values: the kind is inferred.
	{name: "bare IPv4", in: "1.2.3.4", want: Name{IP, "1.2.3.4"}},
	{name: "bare IPv6", in: "2001:db8::1", want: Name{IP, "2001:db8::1"}},
	{name: "bare IPv6 canonical", in: "2001:0DB8:0000::0001", want: Name{IP, "2001:db8::1"}},
	{name: "bare IPv6 starting with hex word", in: "dead:beef::1", want: Name{IP, "dead:beef::1"}},
	{name: "bare loopback v6", in: "::1", want: Name{IP, "::1"}},
	{name: "mapped IPv4 unmapped", in: "::ffff:1.2.3.4", want: Name{IP, "1.2.3.4"}},
	{name: "mapped with prefix", in: "IP:::ffff:10.0.0.1", want: Name{IP, "10.0.0.1"}},
	{name: "bare email", in: "admin@contoso.com", want: Name{Email, "admin@contoso.com"}},
	{name: "bare URI", in: "https://pki.contoso.com/crl", want: Name{URI, "https://pki.contoso.com/crl"}},
	{name: "bare DNS", in: "www.contoso.com", want: Name{DNS, "www.contoso.com"}},
	{name: "bare host", in: "W701", want: Name{DNS, "W701"}},
	{name: "bare all-digit host", in: "1234", want: Name{DNS, "1234"}},
	{name: "bare DNS case kept", in: "MAC01.local", want: Name{DNS, "MAC01.local"}},
	{name: "bare wildcard", in: "*.company.com", want: Name{DNS, "*.company.com"}},
	{name: "trailing dot", in: "www.contoso.com.", want: Name{DNS, "www.contoso.com."}},
	{name: "underscore allowed", in: "_sip._tcp.contoso.com", want: Name{DNS, "_sip._tcp.contoso.com"}},
	{name: "label of 63", in: label63 + ".com", want: Name{DNS, label63 + ".com"}},
	{name: "name of 253", in: dnsOfLen(253), want: Name{DNS, dnsOfLen(253)}},
	{name: "name of 253 with root dot", in: dnsOfLen(253) + ".", want: Name{DNS, dnsOfLen(253) + "."}},
	{name: "punycode", in: "xn--mnchen-3ya.de", want: Name{DNS, "xn--mnchen-3ya.de"}},
	{name: "spaces trimmed", in: "  www.contoso.com\t", want: Name{DNS, "www.contoso.com"}},

	// Invalid values, with their reason.
	{name: "empty", in: "", wantErr: "empty value"},
	{name: "blank", in: "   ", wantErr: "empty value"},
	{name: "empty after prefix", in: "DNS:", wantErr: "empty DNS name"},
	{name: "label over 63", in: label63 + "a.com", wantErr: "is longer than 63 characters"},
	{name: "name over 253", in: dnsOfLen(254), wantErr: "DNS name longer than 253 characters"},
	{name: "leading hyphen", in: "-www.contoso.com", wantErr: `label "-www" starts or ends with a hyphen`},
	{name: "trailing hyphen", in: "www-.contoso.com", wantErr: "starts or ends with a hyphen"},
	{name: "empty label", in: "www..contoso.com", wantErr: "empty label"},
	{name: "leading dot", in: ".contoso.com", wantErr: "empty label"},
	{name: "space inside", in: "www contoso.com", wantErr: `character ' ' is not allowed`},
	{name: "non-ASCII", in: "münchen.de", wantErr: "use punycode"},
	{name: "star not first label", in: "www.*.contoso.com", wantErr: "a wildcard may only be the whole first label"},
	{name: "partial wildcard", in: "w*.contoso.com", wantErr: "a wildcard may only be the whole first label"},
	{name: "star alone", in: "*", wantErr: "must be followed by at least two labels"},
	{name: "star.com too short", in: "*.com", wantErr: `wildcard "*.com" must be followed by at least two labels`},
	{name: "double wildcard", in: "*.*.contoso.com", wantErr: "whole first label"},
	{name: "host with port", in: "www.contoso.com:443", wantErr: "':' is not allowed"},
	{name: "bad IP", in: "IP:1.2.3.256", wantErr: "not an IPv4 or IPv6 address"},
	{name: "IP prefix with name", in: "IP:www.contoso.com", wantErr: "not an IPv4 or IPv6 address"},
	{name: "IP with zone", in: "IP:fe80::1%eth0", wantErr: "not an IPv4 or IPv6 address"},
	{name: "bare IP with zone", in: "fe80::1%25eth0", wantErr: "not an IPv4 or IPv6 address"},
	{name: "IP with CIDR", in: "IP:10.0.0.0/8", wantErr: "not an IPv4 or IPv6 address"},
	{name: "bare IP out of range", in: "10.0.0.256", wantErr: "the last label is all digits"},
	{name: "bare IP leading zero", in: "010.0.0.1", wantErr: "the last label is all digits"},
	{name: "bare IP three parts", in: "10.0.1", wantErr: "the last label is all digits"},
	{name: "email without domain", in: "email:admin@", wantErr: "email domain: empty DNS name"},
	{name: "email without at", in: "email:admin", wantErr: "not an email address"},
	{name: "email without local part", in: "@contoso.com", wantErr: "not an email address"},
	{name: "email with display name", in: "email:Admin <a@contoso.com>", wantErr: "not an email address"},
	{name: "email bad domain", in: "a@contoso_.com.", wantErr: ""},
	{name: "email two ats", in: "a@b@contoso.com", wantErr: "email domain"},
	{name: "relative URI", in: "URI:/crl/root.crl", wantErr: "not an absolute URI"},
	{name: "URI without host", in: "URI:https://", wantErr: "not an absolute URI"},
	{name: "URI unparsable", in: "URI:http://[::1", wantErr: "not an absolute URI"},
	{name: "URI with a space", in: "URI:https://x.example/a b", wantErr: `character ' ' is not allowed in a URI`},
	{name: "URI with an escape", in: "URI:https://x.example/\x1b[31m", wantErr: `character '\x1b' is not allowed in a URI`},
	{name: "URI non-ASCII", in: "URI:https://x.example/ü", wantErr: `character 'ü' is not allowed in a URI`},
	{name: "URI host not a name", in: "URI:https://x_.-y.example/", wantErr: "URI host:"},
	{name: "URI host with a root dot", in: "URI:https://x.example./", wantErr: "ends with a dot"},
	{name: "URI wildcard host", in: "URI:https://*.example.com/", wantErr: "URI host:"},
	{name: "DNS that is an IPv4 address", in: "DNS:10.9.8.7", wantErr: `"10.9.8.7" is an IP address, not a DNS name`},
	{name: "DNS that is an IPv6 address", in: "DNS:2001:db8::1", wantErr: "is an IP address, not a DNS name"},
	{name: "DNS that is an email address", in: "DNS:admin@corp.example", wantErr: `character '@' is not allowed`},
	{name: "DNS that is a URI", in: "DNS:https://evil.example/x", wantErr: `character ':' is not allowed`},
	{name: "DNS with an escape sequence", in: "DNS:\x1b[31mred.example", wantErr: `character '\x1b' is not allowed`},
	{name: "DNS with a newline", in: "DNS:a\nb.example", wantErr: `character '\n' is not allowed`},
	{name: "DNS with a NUL", in: "DNS:www.bank.example\x00.evil.example", wantErr: `character '\x00' is not allowed`},
	{name: "DNS with a bidi override", in: "DNS:\u202egpj.example", wantErr: `character '\u202e' is not allowed`},
	{name: "email with an escape", in: "email:\x1b[2Ja@corp.example", wantErr: "not an email address"},
	{name: "email with a newline", in: "email:a\nb@corp.example", wantErr: "not an email address"},
	{name: "email with a quoted local part", in: `email:"a b"@corp.example`, wantErr: "not an email address"},
	{name: "email at an IP", in: "email:a@10.0.0.1", wantErr: "email domain"},
	{name: "over-long", in: "a." + strings.Repeat("b", 2100), wantErr: "longer than 2048 characters"},
}

func init() {
	// "a@contoso_.com." is a valid email: underscores are allowed in labels.
	for i := range parseTests {
		if parseTests[i].name == "email bad domain" {
			parseTests[i].in, parseTests[i].wantErr = "a@contoso-.com", `email domain: label "contoso-" starts or ends with a hyphen`
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.in, err)
				}
				if got != tc.want {
					t.Fatalf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
				}
				// The String form parses back to the same name.
				again, err := Parse(got.String())
				if err != nil || again != got {
					t.Errorf("Parse(%q.String() = %q) = %#v, %v", tc.in, got.String(), again, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want error %q", tc.in, got, tc.wantErr)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error is %T, want *Error", tc.in, err)
			}
			if !strings.Contains(e.Reason, tc.wantErr) {
				t.Errorf("Parse(%q) reason = %q, want it to contain %q", tc.in, e.Reason, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "invalid SAN ") {
				t.Errorf("Error() = %q", err)
			}
			if len(tc.in) <= maxLen && e.Value != tc.in {
				t.Errorf("error quotes %q, want the input", e.Value)
			}
			if got != (Name{}) {
				t.Errorf("Parse(%q) returned %#v with an error", tc.in, got)
			}
		})
	}
}

func TestParseOverLongValueShortened(t *testing.T) {
	_, err := Parse(strings.Repeat("x", 5000))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if len(e.Value) > 40 || !strings.HasSuffix(e.Value, "...") {
		t.Errorf("error quotes %d characters of an over-long value: %q", len(e.Value), e.Value)
	}
}

func TestName(t *testing.T) {
	for _, tc := range []struct {
		n        Name
		str      string
		wildcard bool
		ip       net.IP
	}{
		{Name{DNS, "*.contoso.com"}, "DNS:*.contoso.com", true, nil},
		{Name{DNS, "www.contoso.com"}, "DNS:www.contoso.com", false, nil},
		{Name{IP, "10.0.0.1"}, "IP:10.0.0.1", false, net.ParseIP("10.0.0.1")},
		{Name{IP, "::1"}, "IP:::1", false, net.IPv6loopback},
		{Name{Email, "*.a@contoso.com"}, "email:*.a@contoso.com", false, nil},
		{Name{URI, "https://x.example/"}, "URI:https://x.example/", false, nil},
	} {
		if got := tc.n.String(); got != tc.str {
			t.Errorf("%#v.String() = %q, want %q", tc.n, got, tc.str)
		}
		if got := tc.n.IsWildcard(); got != tc.wildcard {
			t.Errorf("%#v.IsWildcard() = %v", tc.n, got)
		}
		if got := tc.n.IP(); !got.Equal(tc.ip) {
			t.Errorf("%#v.IP() = %v, want %v", tc.n, got, tc.ip)
		}
	}
}

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{name: "nil", in: nil, want: nil},
		{name: "PowerShell array through a POSIX shell", in: []string{"*.company.com,", "1.2.3.4"}, want: []string{"DNS:*.company.com", "IP:1.2.3.4"}},
		{name: "one comma list", in: []string{"a.company.com,b.company.com, 10.0.0.1"}, want: []string{"DNS:a.company.com", "DNS:b.company.com", "IP:10.0.0.1"}},
		{name: "trailing comma and empty items", in: []string{"a.company.com,,", ",", ""}, want: []string{"DNS:a.company.com"}},
		{name: "quotes stripped", in: []string{`"*.company.com",`, `'1.2.3.4'`}, want: []string{"DNS:*.company.com", "IP:1.2.3.4"}},
		{name: "quoted with prefix", in: []string{`"DNS:a.company.com"`}, want: []string{"DNS:a.company.com"}},
		{name: "duplicates dropped case-insensitively", in: []string{"WWW.Company.com", "www.company.com", "DNS:www.COMPANY.com"}, want: []string{"DNS:WWW.Company.com"}},
		{name: "email duplicates case-insensitive", in: []string{"A@Company.com", "email:a@company.com"}, want: []string{"email:A@Company.com"}},
		{name: "IP duplicates by canonical form", in: []string{"::ffff:1.2.3.4", "1.2.3.4", "IP:2001:DB8::1", "2001:db8::1"}, want: []string{"IP:1.2.3.4", "IP:2001:db8::1"}},
		{name: "same value different kinds kept", in: []string{"URI:https://a.company.com", "a.company.com"}, want: []string{"URI:https://a.company.com", "DNS:a.company.com"}},
		{name: "URI case kept distinct", in: []string{"URI:https://a.company.com/X", "URI:https://a.company.com/x"}, want: []string{"URI:https://a.company.com/X", "URI:https://a.company.com/x"}},
		{name: "one bad value fails the list", in: []string{"a.company.com", "b..company.com"}, wantErr: `invalid SAN "b..company.com": empty label`},
		{name: "bad item inside a list", in: []string{"a.company.com,*.com"}, wantErr: `invalid SAN "*.com"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseList(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseList(%q) = %v, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseList(%q): %v", tc.in, err)
			}
			if s := Strings(got); !reflect.DeepEqual(s, tc.want) && !(len(s) == 0 && len(tc.want) == 0) {
				t.Errorf("ParseList(%q) = %q, want %q", tc.in, s, tc.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	list := []Name{{DNS, "www.Contoso.com"}, {IP, "10.0.0.1"}, {Email, "Admin@contoso.com"}, {URI, "https://contoso.com/A"}}
	for _, tc := range []struct {
		n    Name
		want bool
	}{
		{Name{DNS, "www.Contoso.com"}, true},
		{Name{DNS, "WWW.CONTOSO.COM"}, true},
		{Name{DNS, "contoso.com"}, false},
		{Name{IP, "10.0.0.1"}, true},
		{Name{IP, "10.0.0.2"}, false},
		{Name{DNS, "10.0.0.1"}, false},
		{Name{Email, "admin@CONTOSO.com"}, true},
		{Name{URI, "https://contoso.com/A"}, true},
		{Name{URI, "https://contoso.com/a"}, false},
		{Name{URI, "www.contoso.com"}, false},
	} {
		if got := Contains(list, tc.n); got != tc.want {
			t.Errorf("Contains(%v) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if Contains(nil, Name{DNS, "a"}) {
		t.Error("Contains(nil) = true")
	}
}

func TestStrings(t *testing.T) {
	list, err := ParseList([]string{"www.contoso.com", "IP Address:10.0.0.1", "a@contoso.com", "URI:https://contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Strings(list), []string{"DNS:www.contoso.com", "IP:10.0.0.1", "email:a@contoso.com", "URI:https://contoso.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Strings = %q, want %q", got, want)
	}
	if got := Strings(nil); len(got) != 0 {
		t.Errorf("Strings(nil) = %q", got)
	}
}

func TestValidateDNS(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wildcard bool
		ok       bool
	}{
		{"www.contoso.com", false, true},
		{"*.contoso.com", true, true},
		{"*.contoso.com", false, false},
		{"*.contoso.com.", true, true},
		{"*.com", true, false},
		{"*.com.", true, false},
		{"W701", false, true},
		{"", false, false},
		{".", false, false},
		{"a.b.c.d.e.f", false, true},
		{"1.2.3.4", false, false},
		{"host.42", false, false},
		{"42.example.com", false, true},
	} {
		err := ValidateDNS(tc.name, tc.wildcard)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateDNS(%q, %v) = %v, want ok=%v", tc.name, tc.wildcard, err, tc.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseTests {
		f.Add(tc.in)
	}
	f.Add("IP Address:::ffff:0:0")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error is %T", s, err)
			}
			if n != (Name{}) {
				t.Fatalf("Parse(%q) returned %#v and an error", s, n)
			}
			return
		}
		switch n.Kind {
		case DNS, IP, Email, URI:
		default:
			t.Fatalf("Parse(%q) kind %q", s, n.Kind)
		}
		if n.Value == "" {
			t.Fatalf("Parse(%q) gave an empty value", s)
		}
		// A parsed name round-trips through its String form.
		again, err := Parse(n.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %v, but Parse(%q): %v", s, n, n.String(), err)
		}
		if again != n {
			t.Fatalf("Parse(%q) = %#v, Parse(String()) = %#v", s, n, again)
		}
		if n.Kind == IP && n.IP() == nil {
			t.Fatalf("Parse(%q) = %v, whose IP() is nil", s, n)
		}
		if !Contains([]Name{n}, again) {
			t.Fatalf("Contains does not find %v in itself", n)
		}
	})
}

func TestFieldsRoundTrip(t *testing.T) {
	in, err := ParseList([]string{"www.example.com", "IP:10.0.0.1", "IP:::ffff:10.0.0.2", "email:a@example.com", "URI:spiffe://example.com/x"})
	if err != nil {
		t.Fatal(err)
	}
	dns, ips, emails, uris, err := Fields(in)
	if err != nil {
		t.Fatal(err)
	}
	got := FromCertificate(&x509.Certificate{DNSNames: dns, IPAddresses: ips, EmailAddresses: emails, URIs: uris})
	if strings.Join(Strings(got), ",") != "DNS:www.example.com,IP:10.0.0.1,IP:10.0.0.2,email:a@example.com,URI:spiffe://example.com/x" {
		t.Errorf("round trip: %v", Strings(got))
	}
	if r := FromRequest(&x509.CertificateRequest{DNSNames: dns}); len(r) != 1 || r[0].Value != "www.example.com" {
		t.Errorf("FromRequest: %v", r)
	}
	if _, _, _, _, err := Fields([]Name{{Kind: URI, Value: "%zz"}}); err == nil {
		t.Error("a malformed URI was accepted")
	}
}

// TestCheck is the rule set applied to names that arrive with their kind
// (a CSR's, a certificate's): the same as Parse's once the kind is known,
// nothing retyped, and every message quoting the name with %q.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in      Name
		want    Name
		wantErr string
		hint    string
	}{
		{in: Name{DNS, "www.contoso.com"}, want: Name{DNS, "www.contoso.com"}},
		{in: Name{DNS, "*.contoso.com"}, want: Name{DNS, "*.contoso.com"}},
		{in: Name{IP, "::ffff:10.0.0.1"}, want: Name{IP, "10.0.0.1"}},
		{in: Name{Email, "a@contoso.com"}, want: Name{Email, "a@contoso.com"}},
		{in: Name{URI, "HTTPS://contoso.com/x"}, want: Name{URI, "https://contoso.com/x"}},
		{in: Name{DNS, "10.9.8.7"}, wantErr: `invalid SAN "DNS:10.9.8.7": "10.9.8.7" is an IP address, not a DNS name`, hint: "write IP:10.9.8.7"},
		{in: Name{DNS, "fe80::1%eth0"}, wantErr: "is an IP address, not a DNS name", hint: "write IP:fe80::1"},
		{in: Name{DNS, "admin@corp.example"}, wantErr: `invalid SAN "DNS:admin@corp.example":`},
		{in: Name{DNS, "https://evil.example/x"}, wantErr: `invalid SAN "DNS:https://evil.example/x":`},
		{in: Name{DNS, "\x1b[31mred.example"}, wantErr: `invalid SAN "DNS:\x1b[31mred.example": "\x1b[31mred.example" is not a valid DNS name: character '\x1b'`},
		{in: Name{DNS, "a\nb.example"}, wantErr: `character '\n' is not allowed`},
		{in: Name{DNS, "has space.example"}, wantErr: `character ' ' is not allowed`},
		{in: Name{DNS, " lead.example"}, wantErr: `character ' ' is not allowed`},
		{in: Name{DNS, "-flag.example"}, wantErr: `label "-flag" starts or ends with a hyphen`},
		{in: Name{DNS, ""}, wantErr: "empty DNS name"},
		{in: Name{IP, "10.0.0.0/8"}, wantErr: "not an IPv4 or IPv6 address"},
		{in: Name{Email, "a\x1b@b.example"}, wantErr: "not an email address"},
		{in: Name{URI, "https://x.example/\n"}, wantErr: `character '\n' is not allowed in a URI`},
		{in: Name{"X400", "x"}, wantErr: `unknown kind "X400"`},
		{in: Name{DNS, strings.Repeat("a", 3000)}, wantErr: "longer than 2048 characters"},
	} {
		got, err := Check(tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("Check(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Check(%q) = %q, %v; want *Error %q", tc.in, got, err, tc.wantErr)
			continue
		}
		// %q: the message holds the value escaped, never a raw control byte.
		if !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Check(%q) error %q, want it to contain %q", tc.in, err, tc.wantErr)
		}
		if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("Check(%q) error holds a raw control byte: %q", tc.in, err)
		}
		if e.Hint != tc.hint {
			t.Errorf("Check(%q) hint %q, want %q", tc.in, e.Hint, tc.hint)
		}
	}
}

// Every name Parse accepts passes Check unchanged: one rule set.
func TestParseAgreesWithCheck(t *testing.T) {
	for _, tc := range parseTests {
		n, err := Parse(tc.in)
		if err != nil {
			continue
		}
		if c, err := Check(n); err != nil || c != n {
			t.Errorf("Parse(%q) = %q, but Check gives %q, %v", tc.in, n, c, err)
		}
	}
}

func TestCheckList(t *testing.T) {
	got, err := CheckList([]Name{{DNS, "a.example"}, {DNS, "A.EXAMPLE"}, {IP, "::ffff:1.2.3.4"}, {IP, "1.2.3.4"}})
	if err != nil || strings.Join(Strings(got), ",") != "DNS:a.example,IP:1.2.3.4" {
		t.Errorf("CheckList = %q, %v", Strings(got), err)
	}
	if _, err := CheckList([]Name{{DNS, "a.example"}, {DNS, "10.9.8.7"}}); err == nil || !strings.Contains(err.Error(), `"DNS:10.9.8.7"`) {
		t.Errorf("CheckList with an IP as DNS: %v", err)
	}
	var many []Name
	for i := range MaxNames + 1 {
		many = append(many, Name{DNS, fmt.Sprintf("h%d.example", i)})
	}
	if got, err := CheckList(many[:MaxNames]); err != nil || len(got) != MaxNames {
		t.Errorf("CheckList of %d names: %d, %v", MaxNames, len(got), err)
	}
	var ce *CountError
	if _, err := CheckList(many); !errors.As(err, &ce) || ce.N != MaxNames+1 {
		t.Errorf("CheckList of %d names: %v", MaxNames+1, err)
	}
	// Duplicates do not count.
	if _, err := CheckList(append(many[:MaxNames:MaxNames], Name{DNS, "H0.example"})); err != nil {
		t.Errorf("a duplicate counted: %v", err)
	}
}

func TestParseListLimit(t *testing.T) {
	var vals []string
	for i := range MaxNames + 1 {
		vals = append(vals, fmt.Sprintf("h%d.example", i))
	}
	if _, err := ParseList(vals[:MaxNames]); err != nil {
		t.Errorf("ParseList of %d names: %v", MaxNames, err)
	}
	_, err := ParseList([]string{strings.Join(vals, ",")})
	var ce *CountError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "101 subject alternative names; a certificate holds at most 100") {
		t.Errorf("ParseList of %d names: %v", MaxNames+1, err)
	}
	if ce != nil && ce.HintText() == "" {
		t.Error("no hint")
	}
}
