package templates

import (
	"crypto/x509/pkix"
	"reflect"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/san"
)

// reqTemplate builds a template with the given CN form and SAN rules, with
// the defaults Parse applies.
func reqTemplate(cn CNForm, require []SubjectField, s SANRules) *Template {
	t := &Template{Name: "t", Subject: SubjectRules{CN: cn, Require: require}, SAN: s}
	t.applyDefaults()
	return t
}

func TestCheckCN(t *testing.T) {
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		name     string
		form     CNForm
		wildcard bool
		cn       string
		wantErr  string // "" for accepted
		wantHint string
	}{
		{name: "any text", form: CNAny, cn: "YSoft SafeQ"},
		{name: "any with punctuation", form: CNAny, cn: "Contoso, Inc. (Code Signing)"},
		{name: "any 64 chars", form: CNAny, cn: strings.Repeat("a", 64)},
		{name: "any 64 non-ASCII chars", form: CNAny, cn: strings.Repeat("ü", 64)},
		{name: "any 65 chars", form: CNAny, cn: long, wantErr: "65 characters; X.509 allows at most 64", wantHint: "--san"},
		{name: "any 65 non-ASCII chars", form: CNAny, cn: strings.Repeat("é", 65), wantErr: "65 characters"},
		{name: "empty", form: CNAny, cn: "", wantErr: "the common name is empty", wantHint: "give --cn NAME"},
		{name: "blank", form: CNFQDN, cn: "   ", wantErr: "the common name is empty"},
		{name: "NUL", form: CNAny, cn: "a\x00b", wantErr: "control character"},
		{name: "newline", form: CNAny, cn: "host\nCN=evil", wantErr: "control character"},
		{name: "tab", form: CNHostname, cn: "W701\t", wantErr: "control character"},
		{name: "DEL", form: CNAny, cn: "a\x7f", wantErr: "control character"},

		{name: "dns name", form: CNDNS, cn: "sensor1.contoso.com"},
		{name: "dns single label", form: CNDNS, cn: "sensor1"},
		{name: "dns case preserved", form: CNDNS, cn: "Sensor1.Contoso.COM"},
		{name: "dns wildcard allowed", form: CNDNS, wildcard: true, cn: "*.contoso.com"},
		{name: "dns wildcard refused", form: CNDNS, cn: "*.contoso.com", wantErr: "must be a domain name", wantHint: "--cn sensor1.contoso.com"},
		{name: "dns with space", form: CNDNS, cn: "sensor 1.contoso.com", wantErr: "must be a domain name"},
		{name: "dns text", form: CNDNS, cn: "YSoft SafeQ", wantErr: "must be a domain name"},
		{name: "dns IP-like", form: CNDNS, cn: "10.0.0.300", wantErr: "must be a domain name"},

		{name: "fqdn upper case", form: CNFQDN, cn: "W701.ACME.LOCAL"},
		{name: "fqdn two labels", form: CNFQDN, cn: "MAC01.local"},
		{name: "fqdn trailing dot", form: CNFQDN, cn: "w701.acme.local."},
		{name: "fqdn bare host", form: CNFQDN, cn: "W701", wantErr: `the common name "W701" is a bare host name`, wantHint: "--cn W701.ACME.LOCAL"},
		{name: "fqdn bare host with dot", form: CNFQDN, cn: "W701.", wantErr: "bare host name"},
		{name: "fqdn wildcard where allowed", form: CNFQDN, wildcard: true, cn: "*.acme.local"},
		{name: "fqdn wildcard not allowed", form: CNFQDN, cn: "*.acme.local", wantErr: "fully qualified domain name"},
		{name: "fqdn wildcard over one label", form: CNFQDN, wildcard: true, cn: "*.local", wantErr: "at least two labels"},
		{name: "fqdn hyphen", form: CNFQDN, cn: "-w701.acme.local", wantErr: "hyphen"},
		{name: "fqdn empty label", form: CNFQDN, cn: "w701..local", wantErr: "empty label"},

		{name: "hostname one label", form: CNHostname, cn: "W701"},
		{name: "hostname dotted", form: CNHostname, cn: "MAC01.local"},
		{name: "hostname fqdn", form: CNHostname, cn: "W701.ACME.LOCAL"},
		{name: "hostname with space", form: CNHostname, cn: "Johns MacBook", wantErr: "must be a host name", wantHint: "hostname"},
		{name: "hostname apostrophe", form: CNHostname, cn: "Johns-MacBook's", wantErr: "must be a host name"},
		{name: "hostname wildcard", form: CNHostname, wildcard: true, cn: "*.local", wantErr: "must be a host name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := reqTemplate(tc.form, nil, SANRules{AllowDNS: true, AllowWildcard: tc.wildcard})
			err := tp.CheckCN(tc.cn)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckCN(%q) = %v, want accepted", tc.cn, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckCN(%q) accepted, want %q", tc.cn, tc.wantErr)
			}
			if !strings.Contains(err.Msg, tc.wantErr) {
				t.Errorf("CheckCN(%q).Msg = %q, want it to contain %q", tc.cn, err.Msg, tc.wantErr)
			}
			if err.Rule != "subject.cn" || err.Template != "t" {
				t.Errorf("CheckCN(%q): Rule %q, Template %q", tc.cn, err.Rule, err.Template)
			}
			if hint := testkit.Dashed(err.Hint); !strings.Contains(hint, tc.wantHint) || hint == "" {
				t.Errorf("CheckCN(%q) hint = %q, want it to contain %q", tc.cn, hint, tc.wantHint)
			}
			if !strings.HasPrefix(err.Error(), `template "t": `) {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func mustSANs(t *testing.T, values ...string) []san.Name {
	t.Helper()
	l, err := san.ParseList(values)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCheckRequest(t *testing.T) {
	allKinds := SANRules{AllowDNS: true, AllowWildcard: true, AllowIP: true, AllowEmail: true, AllowURI: true}
	type want struct {
		rule string
		msg  string
		hint string
	}
	for _, tc := range []struct {
		name    string
		form    CNForm
		require []SubjectField
		rules   SANRules
		subject string // ParseSubject input; CN included
		sans    []string
		want    []want // in order; nil for accepted
	}{
		{name: "all kinds allowed", form: CNAny, rules: allKinds, subject: "CN=x",
			sans: []string{"a.example.com", "*.example.com", "10.0.0.1", "::1", "a@example.com", "URI:https://example.com/x"}},
		{name: "no SAN allowed, none given", form: CNAny, subject: "CN=Contoso Code Signing"},
		{name: "required fields present", form: CNAny, require: []SubjectField{"C", "O", "OU"}, subject: "CN=sensor1,C=US,O=Contoso,OU=OT"},
		{name: "missing C, O and OU", form: CNAny, require: []SubjectField{"C", "O", "OU"}, subject: "CN=sensor1",
			want: []want{{"subject.require", "requires the subject fields CN, C, O and OU; missing C, O and OU", `add --subject "C=<two-letter country code>,O=<your organization>,OU=<your unit>"`}}},
		{name: "missing OU only", form: CNAny, require: []SubjectField{"C", "O", "OU"}, subject: "CN=sensor1,C=DE,O=Contoso",
			want: []want{{"subject.require", "missing OU", `add --subject "OU=<your unit>"`}}},
		{name: "missing ST and L", form: CNAny, require: []SubjectField{"ST", "L"}, subject: "CN=x",
			want: []want{{"subject.require", "missing ST and L", `"ST=<state or province>,L=<city>"`}}},
		{name: "missing CN alone is a CN error", form: CNAny, require: []SubjectField{"O"}, subject: "O=Contoso",
			want: []want{{"subject.cn", "the common name is empty", "--cn"}}},
		{name: "missing CN and O", form: CNAny, require: []SubjectField{"O"}, subject: "",
			want: []want{{"subject.require", "missing CN and O", `add --subject "O=<your organization>"`}, {"subject.cn", "empty", ""}}},
		{name: "DNS not allowed", form: CNAny, rules: SANRules{AllowIP: true}, subject: "CN=x", sans: []string{"a.example.com"},
			want: []want{{"san.allow_dns", `does not allow DNS names in the SAN: "DNS:a.example.com" (rule san.allow_dns)`, "remove"}}},
		{name: "wildcard not allowed", form: CNAny, rules: SANRules{AllowDNS: true}, subject: "CN=x", sans: []string{"*.example.com"},
			want: []want{{"san.allow_wildcard", `does not allow wildcard names: "DNS:*.example.com" (rule san.allow_wildcard)`, "host1.example.com"}}},
		{name: "wildcard without DNS is a DNS error", form: CNAny, rules: SANRules{AllowIP: true}, subject: "CN=x", sans: []string{"*.example.com"},
			want: []want{{"san.allow_dns", "DNS names", ""}}},
		{name: "IP not allowed", form: CNAny, rules: SANRules{AllowDNS: true}, subject: "CN=x", sans: []string{"10.0.0.1"},
			want: []want{{"san.allow_ip", `does not allow IP addresses in the SAN: "IP:10.0.0.1" (rule san.allow_ip)`, "DNS name"}}},
		{name: "email not allowed", form: CNAny, rules: SANRules{AllowDNS: true}, subject: "CN=x", sans: []string{"a@example.com"},
			want: []want{{"san.allow_email", `email addresses in the SAN: "email:a@example.com" (rule san.allow_email)`, ""}}},
		{name: "URI not allowed", form: CNAny, rules: SANRules{AllowDNS: true}, subject: "CN=x", sans: []string{"https://example.com"},
			want: []want{{"san.allow_uri", `URIs in the SAN: "URI:https://example.com" (rule san.allow_uri)`, ""}}},
		{name: "every SAN checked", form: CNAny, subject: "CN=x", sans: []string{"a.example.com", "10.0.0.1"},
			want: []want{{"san.allow_dns", "DNS:a.example.com", ""}, {"san.allow_ip", "IP:10.0.0.1", ""}}},
		{name: "require_dns met", form: CNAny, rules: SANRules{AllowDNS: true, AllowIP: true, RequireDNS: true}, subject: "CN=x", sans: []string{"a.example.com", "10.0.0.1"}},
		{name: "require_dns with only an IP", form: CNAny, rules: SANRules{AllowDNS: true, AllowIP: true, RequireDNS: true}, subject: "CN=x", sans: []string{"10.0.0.1"},
			want: []want{{"san.require_dns", "requires at least one DNS name in the SAN", "add --san DNS:host.example.com"}}},
		{name: "require_dns with nothing", form: CNAny, rules: SANRules{AllowDNS: true, RequireDNS: true, Require: true}, subject: "CN=x",
			want: []want{{"san.require_dns", "DNS name", ""}}},
		{name: "require met by an IP", form: CNAny, rules: SANRules{AllowIP: true, Require: true}, subject: "CN=x", sans: []string{"10.0.0.1"}},
		{name: "require with nothing", form: CNAny, rules: SANRules{AllowDNS: true, Require: true}, subject: "CN=x",
			want: []want{{"san.require", "requires at least one subject alternative name", "add --san"}}},
		{name: "CN form and SAN errors together", form: CNFQDN, rules: SANRules{AllowDNS: true, Require: true}, subject: "CN=W701",
			want: []want{{"subject.cn", "bare host name", ""}, {"san.require", "subject alternative name", ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := reqTemplate(tc.form, tc.require, tc.rules)
			subj, err := ParseSubject(tc.subject)
			if err != nil {
				t.Fatal(err)
			}
			errs := tp.CheckRequest(subj, mustSANs(t, tc.sans...))
			if len(errs) != len(tc.want) {
				t.Fatalf("CheckRequest gave %d errors, want %d: %v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				e := errs[i]
				if hint := testkit.Dashed(e.Hint); e.Rule != w.rule || !strings.Contains(e.Msg, w.msg) || !strings.Contains(hint, w.hint) {
					t.Errorf("error %d = {%q, %q, hint %q}, want {%q, ~%q, hint ~%q}", i, e.Rule, e.Msg, hint, w.rule, w.msg, w.hint)
				}
				if e.Hint.IsZero() {
					t.Errorf("error %d has no hint", i)
				}
			}
		})
	}
}

func TestResolveSANs(t *testing.T) {
	dnsIP := SANRules{CNInSAN: true, AllowDNS: true, AllowIP: true}
	for _, tc := range []struct {
		name  string
		rules SANRules
		cn    string
		sans  []string
		want  []string
	}{
		{name: "DNS CN copied first", rules: dnsIP, cn: "www.contoso.com", sans: []string{"api.contoso.com"}, want: []string{"DNS:www.contoso.com", "DNS:api.contoso.com"}},
		{name: "case preserved", rules: dnsIP, cn: "MAC01.local", want: []string{"DNS:MAC01.local"}},
		{name: "single label host", rules: dnsIP, cn: "W701", want: []string{"DNS:W701"}},
		{name: "not duplicated", rules: dnsIP, cn: "www.contoso.com", sans: []string{"www.contoso.com"}, want: []string{"DNS:www.contoso.com"}},
		{name: "not duplicated case-insensitively", rules: dnsIP, cn: "WWW.Contoso.com", sans: []string{"10.0.0.1", "www.contoso.COM"}, want: []string{"IP:10.0.0.1", "DNS:www.contoso.COM"}},
		{name: "IP CN copied as IP", rules: dnsIP, cn: "10.0.0.5", want: []string{"IP:10.0.0.5"}},
		{name: "IPv6 CN canonical", rules: dnsIP, cn: "2001:DB8::1", want: []string{"IP:2001:db8::1"}},
		{name: "mapped IPv4 CN unmapped", rules: dnsIP, cn: "::ffff:10.0.0.5", sans: []string{"10.0.0.5"}, want: []string{"IP:10.0.0.5"}},
		{name: "IP CN not duplicated", rules: dnsIP, cn: "10.0.0.5", sans: []string{"a.contoso.com", "10.0.0.5"}, want: []string{"DNS:a.contoso.com", "IP:10.0.0.5"}},
		{name: "IP CN without allow_ip not copied as DNS", rules: SANRules{CNInSAN: true, AllowDNS: true}, cn: "10.0.0.5", want: []string{}},
		{name: "IPv6 CN without allow_ip", rules: SANRules{CNInSAN: true, AllowDNS: true}, cn: "::1", want: []string{}},
		{name: "zoned IP CN not copied", rules: dnsIP, cn: "fe80::1%eth0", want: []string{}},
		{name: "DNS CN without allow_dns", rules: SANRules{CNInSAN: true, AllowIP: true}, cn: "www.contoso.com", sans: []string{"10.0.0.1"}, want: []string{"IP:10.0.0.1"}},
		{name: "text CN not copied", rules: dnsIP, cn: "YSoft SafeQ", want: []string{}},
		{name: "wildcard CN copied when allowed", rules: SANRules{CNInSAN: true, AllowDNS: true, AllowWildcard: true}, cn: "*.contoso.com", want: []string{"DNS:*.contoso.com"}},
		{name: "wildcard CN not copied otherwise", rules: dnsIP, cn: "*.contoso.com", want: []string{}},
		{name: "cn_in_san off", rules: SANRules{AllowDNS: true, AllowIP: true}, cn: "www.contoso.com", sans: []string{"api.contoso.com"}, want: []string{"DNS:api.contoso.com"}},
		{name: "empty CN", rules: dnsIP, cn: "", want: []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := reqTemplate(CNAny, nil, tc.rules)
			in := mustSANs(t, tc.sans...)
			before := san.Strings(in)
			got := san.Strings(tp.ResolveSANs(tc.cn, in))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ResolveSANs(%q, %q) = %q, want %q", tc.cn, tc.sans, got, tc.want)
			}
			if !reflect.DeepEqual(san.Strings(in), before) {
				t.Errorf("ResolveSANs changed its input: %q", san.Strings(in))
			}
		})
	}
}

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    pkix.Name
		wantErr string
	}{
		{in: "", want: pkix.Name{}},
		{in: "C=US,O=Contoso Inc.,OU=Contoso Labs", want: pkix.Name{Country: []string{"US"}, Organization: []string{"Contoso Inc."}, OrganizationalUnit: []string{"Contoso Labs"}}},
		{in: " CN = W701.ACME.LOCAL , c = de , o=Contoso ", want: pkix.Name{CommonName: "W701.ACME.LOCAL", Country: []string{"DE"}, Organization: []string{"Contoso"}}},
		{in: `O=Contoso\, Inc.,OU=OT`, want: pkix.Name{Organization: []string{"Contoso, Inc."}, OrganizationalUnit: []string{"OT"}}},
		{in: `O=a\\b`, want: pkix.Name{Organization: []string{`a\b`}}},
		{in: "O=a=b", want: pkix.Name{Organization: []string{"a=b"}}},
		{in: "ST=Washington,S=Bavaria,L=Redmond", want: pkix.Name{Province: []string{"Washington", "Bavaria"}, Locality: []string{"Redmond"}}},
		{in: "OU=One,OU=Two,", want: pkix.Name{OrganizationalUnit: []string{"One", "Two"}}},
		{in: "O=" + strings.Repeat("ü", 64), want: pkix.Name{Organization: []string{strings.Repeat("ü", 64)}}},
		{in: "C=USA", wantErr: `country "USA" must be a two-letter ISO 3166 code`},
		{in: "C=U", wantErr: "two-letter"},
		{in: "C=12", wantErr: "two-letter"},
		{in: "C=ü", wantErr: "two-letter"},
		{in: "E=a@example.com", wantErr: `subject field "E" is not supported (use CN, C, ST, L, O, OU)`},
		{in: "DC=com", wantErr: "not supported"},
		{in: "O", wantErr: `subject field "O" is not KEY=VALUE`},
		{in: "O=", wantErr: "not KEY=VALUE"},
		{in: "O=Contoso,OU", wantErr: `"OU" is not KEY=VALUE`},
		{in: "=US", wantErr: "not supported"},
		{in: "O=" + strings.Repeat("x", 65), wantErr: "subject field O is longer than 64 characters"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSubject(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSubject(%q) = %+v, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSubject(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseSubject(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestMergeSubject(t *testing.T) {
	n := pkix.Name{CommonName: "old", Organization: []string{"Contoso"}}
	if err := MergeSubject(&n, "CN=new,OU=Labs"); err != nil {
		t.Fatal(err)
	}
	want := pkix.Name{CommonName: "new", Organization: []string{"Contoso"}, OrganizationalUnit: []string{"Labs"}}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("MergeSubject = %+v, want %+v", n, want)
	}
	if err := MergeSubject(&n, "C=XYZ"); err == nil {
		t.Error("MergeSubject accepted C=XYZ")
	}
	for _, f := range []struct {
		f    SubjectField
		want []string
	}{{"CN", []string{"new"}}, {"O", []string{"Contoso"}}, {"OU", []string{"Labs"}}, {"C", nil}, {"ST", nil}, {"L", nil}, {"X", nil}} {
		if got := SubjectValues(n, f.f); !reflect.DeepEqual(got, f.want) {
			t.Errorf("SubjectValues(%s) = %q, want %q", f.f, got, f.want)
		}
	}
	if got := SubjectValues(pkix.Name{}, "CN"); got != nil {
		t.Errorf("SubjectValues of an empty CN = %q", got)
	}
}
