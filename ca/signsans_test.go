package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// Issue 11 item 1: `sign` took a request's SANs as strings and cfssl's
// signer guessed each type again, so DNS:10.9.8.7 became an IP address,
// DNS:admin@corp.example an email address and DNS:https://evil.example/x
// a URI, under a template that allows DNS names only; names holding an
// escape sequence, a newline, a space or a leading hyphen were signed.

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzSignCSR/attack-* and FuzzParseCSR/attack-* from signAttacks")

// csrSpec is a certificate request as FuzzSignCSR builds it: a key (see
// fuzzKey), SHA-1 or the key's usual hash, a subject, and typed SANs.
type csrSpec struct {
	key      uint8 // 0 P-256, 1 P-384, 2 RSA 2048, 3 RSA 2048 with exponent 3
	sha1     bool
	template string
	cn       string
	o, ou, c string
	sans     []san.Name
}

// sanKinds numbers the kinds in the fuzzer's encoding of a SAN list.
var sanKinds = []san.Kind{san.DNS, san.IP, san.Email, san.URI}

// encodeSANs writes names as FuzzSignCSR reads them: per name, its kind's
// index in sanKinds, the length of the value (at most 255), the value.
func encodeSANs(names []san.Name) []byte {
	var b []byte
	for _, n := range names {
		if len(n.Value) > 255 {
			panic("encodeSANs: value longer than 255 bytes")
		}
		b = append(b, byte(slices.Index(sanKinds, n.Kind)), byte(len(n.Value)))
		b = append(b, n.Value...)
	}
	return b
}

// request builds the certificate request the way a tool that does not
// check names would: crypto/x509 puts any ASCII into a dNSName. Kinds are
// never inferred. An IP value is an address as text or, failing that, the
// raw bytes; a URI that net/url cannot parse is left out (x509 takes URIs
// parsed). An error is a request crypto/x509 will not encode.
func (c csrSpec) request(key crypto.Signer) ([]byte, error) {
	req := &x509.CertificateRequest{Subject: pkix.Name{CommonName: c.cn}}
	for _, kv := range []struct {
		v   string
		dst *[]string
	}{{c.o, &req.Subject.Organization}, {c.ou, &req.Subject.OrganizationalUnit}, {c.c, &req.Subject.Country}} {
		if kv.v != "" {
			*kv.dst = []string{kv.v}
		}
	}
	for _, n := range c.sans {
		switch n.Kind {
		case san.DNS:
			req.DNSNames = append(req.DNSNames, n.Value)
		case san.IP:
			ip := net.ParseIP(n.Value)
			if ip == nil {
				ip = net.IP(n.Value)
			}
			req.IPAddresses = append(req.IPAddresses, ip)
		case san.Email:
			req.EmailAddresses = append(req.EmailAddresses, n.Value)
		case san.URI:
			if u, err := url.Parse(n.Value); err == nil {
				req.URIs = append(req.URIs, u)
			}
		}
	}
	if c.sha1 {
		req.SignatureAlgorithm = x509.SHA1WithRSA
		if _, ok := key.(*ecdsa.PrivateKey); ok {
			req.SignatureAlgorithm = x509.ECDSAWithSHA1
		}
	}
	return x509.CreateCertificateRequest(rand.Reader, req, key)
}

// decodeSANs reads encodeSANs' format from any bytes: a kind byte is taken
// modulo the number of kinds, a length past the end takes what is left.
func decodeSANs(b []byte) []san.Name {
	var out []san.Name
	for len(b) >= 2 {
		kind, n := sanKinds[int(b[0])%len(sanKinds)], min(int(b[1]), len(b)-2)
		out = append(out, san.Name{Kind: kind, Value: string(b[2 : 2+n])})
		b = b[2+n:]
	}
	return out
}

var (
	fuzzKeysOnce sync.Once
	fuzzKeysList []crypto.Signer
)

// fuzzKey returns the request key of index i (modulo 4), made once per
// process: P-256, P-384, RSA 2048, and RSA 2048 with public exponent 3.
func fuzzKey(t testing.TB, i uint8) crypto.Signer {
	fuzzKeysOnce.Do(func() {
		p256, err1 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p384, err2 := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		r, err3 := rsa.GenerateKey(rand.Reader, 2048)
		e3, err4 := testkit.RSAKeyExponent3()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			panic(err)
		}
		fuzzKeysList = []crypto.Signer{p256, p384, r, e3}
	})
	return fuzzKeysList[int(i)%len(fuzzKeysList)]
}

// manyDNS is n DNS names h0.example ... h<n-1>.example.
func manyDNS(n int) []san.Name {
	var out []san.Name
	for i := range n {
		out = append(out, san.Name{Kind: san.DNS, Value: fmt.Sprintf("h%d.example", i)})
	}
	return out
}

func dnsSANs(vals ...string) []san.Name {
	var out []san.Name
	for _, v := range vals {
		out = append(out, san.Name{Kind: san.DNS, Value: v})
	}
	return out
}

// signAttacks are the requests of issue 11 item 1 and their neighbours,
// each with the words of its refusal. They seed FuzzSignCSR (its
// testdata) and FuzzParseCSR (as request files).
var signAttacks = []struct {
	name string
	csrSpec
	want string
}{
	{"retyped-ip", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: dnsSANs("mac01", "10.9.8.7")},
		`invalid SAN "DNS:10.9.8.7": "10.9.8.7" is an IP address, not a DNS name`},
	{"retyped-ipv6", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: dnsSANs("2001:db8::7")},
		`invalid SAN "DNS:2001:db8::7": "2001:db8::7" is an IP address, not a DNS name`},
	{"retyped-email", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: dnsSANs("admin@corp.example")},
		`invalid SAN "DNS:admin@corp.example": "admin@corp.example" is not a valid DNS name: character '@' is not allowed`},
	{"retyped-uri", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: dnsSANs("https://evil.example/x")},
		`invalid SAN "DNS:https://evil.example/x": "https://evil.example/x" is not a valid DNS name: character ':' is not allowed`},
	{"retyped-all-three", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: dnsSANs("10.9.8.7", "admin@corp.example", "https://evil.example/x")},
		`invalid SAN "DNS:10.9.8.7"`},
	{"escape-sequence", csrSpec{key: 0, template: "client", cn: "dev1.example", sans: dnsSANs("\x1b[31mred\x1b[0m.example")},
		`invalid SAN "DNS:\x1b[31mred\x1b[0m.example": "\x1b[31mred\x1b[0m.example" is not a valid DNS name: character '\x1b' is not allowed`},
	{"newline", csrSpec{key: 0, template: "client", cn: "dev1.example", sans: dnsSANs("evil.example\nDNS:trusted.example")},
		`character '\n' is not allowed`},
	{"space", csrSpec{key: 0, template: "client", cn: "dev1.example", sans: dnsSANs("evil example.com")},
		`invalid SAN "DNS:evil example.com": "evil example.com" is not a valid DNS name: character ' ' is not allowed`},
	{"leading-hyphen", csrSpec{key: 0, template: "client", cn: "dev1.example", sans: dnsSANs("-rf.example")},
		`invalid SAN "DNS:-rf.example": label "-rf" starts or ends with a hyphen`},
	{"nul-byte", csrSpec{key: 0, template: "client", cn: "dev1.example", sans: dnsSANs("www.bank.example\x00.evil.example")},
		`character '\x00' is not allowed`},
	{"email-with-escape", csrSpec{key: 0, template: "client", cn: "dev1.example", sans: []san.Name{{Kind: san.Email, Value: "\x1b]0;pwned\x07@corp.example"}}},
		`invalid SAN "email:\x1b]0;pwned\a@corp.example": not an email address`},
	{"ip-not-allowed", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: []san.Name{{Kind: san.IP, Value: "10.9.8.7"}}},
		`does not allow IP addresses in the SAN: "IP:10.9.8.7" (rule san.allow_ip)`},
	{"email-not-allowed", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: []san.Name{{Kind: san.Email, Value: "admin@corp.example"}}},
		`does not allow email addresses in the SAN: "email:admin@corp.example" (rule san.allow_email)`},
	{"uri-not-allowed", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: []san.Name{{Kind: san.URI, Value: "https://evil.example/x"}}},
		`does not allow URIs in the SAN: "URI:https://evil.example/x" (rule san.allow_uri)`},
	{"sha1-rsa", csrSpec{key: 2, sha1: true, template: "client", cn: "dev1.example", sans: dnsSANs("dev1.example")},
		"the request is signed with SHA1-RSA; certmint does not accept MD5 or SHA-1 signatures"},
	{"sha1-ecdsa", csrSpec{key: 0, sha1: true, template: "client", cn: "dev1.example", sans: dnsSANs("dev1.example")},
		"the request is signed with ECDSA-SHA1"},
	{"rsa-exponent-3", csrSpec{key: 3, template: "client", cn: "dev1.example", sans: dnsSANs("dev1.example")},
		"the request's RSA public exponent is 3; certmint accepts only 65537"},
	{"101-sans", csrSpec{key: 0, template: "server", cn: "h0.example", sans: manyDNS(101)},
		"101 subject alternative names; a certificate holds at most 100"},
	{"100-sans-and-the-cn", csrSpec{key: 0, template: "server", cn: "www.example", sans: manyDNS(100)},
		"101 subject alternative names; a certificate holds at most 100, counting the CN the template copies into the SAN"},
}

// signAccepted are requests sign must sign, SANs kept in type and value.
var signAccepted = []struct {
	name string
	csrSpec
	want []string // the certificate's SANs, in crypto/x509's order
}{
	{"every-kind", csrSpec{key: 0, template: "client", cn: "dev1.example", sans: []san.Name{
		{Kind: san.DNS, Value: "alt.example"}, {Kind: san.IP, Value: "10.9.8.7"}, {Kind: san.IP, Value: "2001:db8::7"},
		{Kind: san.Email, Value: "admin@corp.example"}, {Kind: san.URI, Value: "spiffe://corp.example/dev1"}}},
		[]string{"DNS:dev1.example", "DNS:alt.example", "IP:10.9.8.7", "IP:2001:db8::7", "email:admin@corp.example", "URI:spiffe://corp.example/dev1"}},
	{"dns-that-looks-numeric", csrSpec{key: 2, template: "1e-client-macos", cn: "mac01", sans: dnsSANs("mac01", "42.example")},
		[]string{"DNS:mac01", "DNS:42.example"}},
	{"duplicates-dropped", csrSpec{key: 0, template: "server", cn: "www.example", sans: dnsSANs("www.example", "WWW.EXAMPLE", "api.example")},
		[]string{"DNS:www.example", "DNS:api.example"}},
	{"100-sans", csrSpec{key: 0, template: "server", cn: "h0.example", sans: manyDNS(100)}, nil},
}

func (c csrSpec) build(t testing.TB) []byte {
	t.Helper()
	der, err := c.request(fuzzKey(t, c.key))
	if err != nil {
		t.Fatalf("building the request: %v", err)
	}
	return der
}

// TestSignCSRRefusesAttacks: each attack is refused with a message that
// names it (escaped: no control byte), and nothing is written or recorded.
// (`certmint sign` adds the hint: make the request again; see
// cmd/certmint's hostile-input table.)
func TestSignCSRRefusesAttacks(t *testing.T) {
	s := newHome(t)
	for _, tc := range signAttacks {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			before := countCerts(t, s)
			csr, err := ParseCSR(tc.build(t))
			if err == nil {
				_, err = s.SignCSR(context.Background(), IssueRequest{Template: mustTemplate(t, tc.template), Out: out}, csr)
			}
			if err == nil {
				t.Fatal("signed")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Errorf("the message holds a raw control byte: %q", err)
			}
			if ents, _ := os.ReadDir(out); len(ents) > 0 {
				t.Errorf("wrote %d files", len(ents))
			}
			if n := countCerts(t, s); n != before {
				t.Errorf("recorded %d certificates", n-before)
			}
		})
	}
}

// TestSignCSRKeepsKinds: what sign accepts keeps each SAN's type and value,
// as crypto/x509 reads it and as OpenSSL prints it.
func TestSignCSRKeepsKinds(t *testing.T) {
	s := newHome(t)
	for _, tc := range signAccepted {
		t.Run(tc.name, func(t *testing.T) {
			der := tc.build(t)
			csr, err := ParseCSR(der)
			if err != nil {
				t.Fatal(err)
			}
			tm := mustTemplate(t, tc.template)
			res, err := s.SignCSR(context.Background(), IssueRequest{Template: tm, Out: t.TempDir()}, csr)
			if err != nil {
				t.Fatal(err)
			}
			checkSignedSANs(t, tm, csr, res)
			got := san.Strings(san.FromCertificate(res.Cert))
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("SANs %q, want %q", got, tc.want)
			}
			if tc.name == "100-sans" && len(got) != san.MaxNames {
				t.Errorf("%d SANs, want %d", len(got), san.MaxNames)
			}
			for _, f := range res.Findings {
				if strings.Contains(f.Lint, "san") || strings.Contains(f.Lint, "dns") {
					t.Errorf("zlint: %s %s", f.Lint, f.Status)
				}
			}
			if tc.want != nil {
				opensslSANs(t, res.Cert, tc.want)
			}
		})
	}
}

// opensslSANs checks that OpenSSL prints exactly the SANs want.
func opensslSANs(t *testing.T, cert *x509.Certificate, want []string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("openssl not found: not checked with OpenSSL")
		return
	}
	f := filepath.Join(t.TempDir(), "c.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "x509", "-in", f, "-noout", "-ext", "subjectAltName").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var got []string
	for _, item := range strings.Split(strings.TrimSpace(lines[len(lines)-1]), ", ") {
		kind, v, _ := strings.Cut(item, ":")
		if kind == "IP Address" {
			// OpenSSL writes IPv6 in full (2001:DB8:0:0:0:0:0:7).
			kind = "IP"
			if a, err := netip.ParseAddr(v); err == nil {
				v = a.String()
			}
		}
		got = append(got, kind+":"+v)
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("openssl x509 -ext subjectAltName: %q, want %q\n%s", got, w, out)
	}
}

// checkSignedSANs is the promise of sign about SANs, checked without the
// code that keeps it: the certificate's SANs are the request's, each in
// its own type with its own value (DNS names and email addresses compared
// without case, duplicates dropped), plus the CN where the template copies
// it; every one is valid for its type (no name a resolver or a terminal
// would read differently) and of a kind the template allows; there are at
// most san.MaxNames; and they are what Issued reports.
func checkSignedSANs(t *testing.T, tm *templates.Template, csr *x509.CertificateRequest, res *Issued) {
	t.Helper()
	got, asked := san.FromCertificate(res.Cert), san.FromRequest(csr)
	same := func(a, b san.Name) bool {
		if a.Kind != b.Kind {
			return false
		}
		if a.Kind == san.DNS || a.Kind == san.Email {
			return strings.EqualFold(a.Value, b.Value)
		}
		return a.Value == b.Value
	}
	cn := csr.Subject.CommonName
	isCN := func(g san.Name) bool {
		if !tm.SAN.CNInSAN {
			return false
		}
		if a, err := netip.ParseAddr(cn); err == nil {
			return g.Kind == san.IP && g.Value == a.Unmap().String()
		}
		return g.Kind == san.DNS && strings.EqualFold(g.Value, cn)
	}
	for _, g := range got {
		if !slices.ContainsFunc(asked, func(a san.Name) bool { return same(a, g) }) && !isCN(g) {
			t.Fatalf("the certificate has %q, which the request (%q) does not", g, san.Strings(asked))
		}
		if strings.ContainsFunc(g.Value, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			t.Fatalf("SAN %q holds a control, space or non-ASCII character", g)
		}
		switch g.Kind {
		case san.DNS:
			if _, err := netip.ParseAddr(g.Value); err == nil {
				t.Fatalf("DNS SAN %q is an IP address", g)
			}
			if err := san.ValidateDNS(g.Value, true); err != nil {
				t.Fatalf("DNS SAN %q: %v", g, err)
			}
			if !tm.SAN.AllowDNS || g.IsWildcard() && !tm.SAN.AllowWildcard {
				t.Fatalf("template %s does not allow %q", tm.Name, g)
			}
		case san.IP:
			if !tm.SAN.AllowIP {
				t.Fatalf("template %s does not allow %q", tm.Name, g)
			}
		case san.Email:
			if !tm.SAN.AllowEmail {
				t.Fatalf("template %s does not allow %q", tm.Name, g)
			}
		case san.URI:
			if !tm.SAN.AllowURI {
				t.Fatalf("template %s does not allow %q", tm.Name, g)
			}
		}
	}
	for _, a := range asked {
		if !slices.ContainsFunc(got, func(g san.Name) bool { return same(a, g) }) {
			t.Fatalf("the request's %q is not in the certificate (%q)", a, san.Strings(got))
		}
	}
	if len(got) > san.MaxNames {
		t.Fatalf("%d SANs", len(got))
	}
	g, r := san.Strings(got), san.Strings(res.SANs)
	slices.Sort(g)
	slices.Sort(r)
	if !slices.Equal(g, r) {
		t.Fatalf("the certificate has %q, sign reports %q", g, r)
	}
	if weakCSRSignatures[csr.SignatureAlgorithm] {
		t.Fatalf("signed a request signed with %s", csr.SignatureAlgorithm)
	}
	if pub, ok := csr.PublicKey.(*rsa.PublicKey); ok && pub.E != 65537 {
		t.Fatalf("signed a request with RSA exponent %d", pub.E)
	}
}

// The SAN extension is built from typed names and nothing else: a DNS name
// that looks like an address stays a DNS name (cfssl's Hosts would have
// made it an IP address), and cfssl is given no hosts.
func TestSANExtensionKeepsKinds(t *testing.T) {
	names := []san.Name{{Kind: san.DNS, Value: "10.9.8.7"}, {Kind: san.DNS, Value: "admin@corp.example"},
		{Kind: san.DNS, Value: "https://evil.example/x"}, {Kind: san.IP, Value: "10.0.0.1"}}
	for _, tc := range []struct {
		subject  pkix.Name
		critical bool
	}{{pkix.Name{CommonName: "x"}, false}, {pkix.Name{}, true}} {
		exts, err := sanExtension(tc.subject, names)
		if err != nil || len(exts) != 1 {
			t.Fatalf("sanExtension: %v, %v", exts, err)
		}
		if exts[0].Critical != tc.critical {
			t.Errorf("subject %q: critical %v, want %v (RFC 5280 4.2.1.6)", tc.subject, exts[0].Critical, tc.critical)
		}
		sr := signRequest(nil, exts, "x")
		if sr.Hosts == nil || len(sr.Hosts) != 0 {
			t.Errorf("Hosts = %#v, want empty and not nil", sr.Hosts)
		}
	}
	// Sign with it through cfssl, as signCSR does.
	s := newHome(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"},
		DNSNames: []string{"smuggled.example"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.1")}}, key)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := s.Key(s.Issuing)
	if err != nil {
		t.Fatal(err)
	}
	tm := mustTemplate(t, "client")
	prof, err := s.leafProfile(tm, s.Issuing, profileOptions{Validity: 24 * 3600e9, ECDSAKey: true})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := newSigner(s.Issuing.Cert, caKey, tm, prof)
	if err != nil {
		t.Fatal(err)
	}
	exts, _ := sanExtension(pkix.Name{CommonName: "x"}, names)
	sr := signRequest(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}), exts, s.Issuing.Slug)
	sr.Subject = cfsslSubject(pkix.Name{CommonName: "x"})
	out, err := sg.Sign(sr)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(out)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DNS:10.9.8.7", "DNS:admin@corp.example", "DNS:https://evil.example/x", "IP:10.0.0.1"}
	if got := san.Strings(san.FromCertificate(cert)); !slices.Equal(got, want) {
		t.Errorf("SANs %q, want %q (the request's own SANs are never copied)", got, want)
	}
}

// TestIssueSANsTyped: issue gives its typed names to the signer the same
// way; every kind survives, as OpenSSL prints it.
func TestIssueSANsTyped(t *testing.T) {
	s := newHome(t)
	res := issueFor(t, s, "client", "dev2.example", "DNS:alt.example", "IP:10.9.8.7", "IP:2001:db8::7",
		"email:admin@corp.example", "URI:HTTPS://corp.example/a%20b")
	want := []string{"DNS:dev2.example", "DNS:alt.example", "IP:10.9.8.7", "IP:2001:db8::7", "email:admin@corp.example", "URI:https://corp.example/a%20b"}
	if got := san.Strings(san.FromCertificate(res.Cert)); !slices.Equal(got, want) {
		t.Errorf("SANs %q, want %q", got, want)
	}
	if got := san.Strings(res.SANs); !slices.Equal(got, want) {
		t.Errorf("reported SANs %q, want %q", got, want)
	}
	opensslSANs(t, res.Cert, want)
	for _, f := range res.Findings {
		t.Errorf("zlint: %s %s", f.Lint, f.Status)
	}
	// The count limit holds for issue too, the CN included.
	_, err := s.Issue(context.Background(), IssueRequest{Template: mustTemplate(t, "server"),
		Subject: pkix.Name{CommonName: "www.example"}, SANs: manyDNS(100), Out: t.TempDir()})
	var ce *san.CountError
	if !errors.As(err, &ce) || ce.N != 101 {
		t.Errorf("100 SANs and the CN: %v", err)
	}
}

// The attacks are in FuzzSignCSR's corpus (testdata/fuzz/FuzzSignCSR) and,
// as request files, in FuzzParseCSR's; -update-seeds writes them.
func TestSignAttackSeeds(t *testing.T) {
	for _, tc := range signAttacks {
		seed := filepath.Join("testdata", "fuzz", "FuzzSignCSR", "attack-"+tc.name)
		want := corpusFile(tc.key, tc.sha1, tc.template, tc.cn, tc.o, tc.ou, tc.c, encodeSANs(tc.sans))
		req := filepath.Join("testdata", "fuzz", "FuzzParseCSR", "attack-"+tc.name)
		if *updateSeeds {
			pemCSR := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: tc.build(t)})
			for path, data := range map[string]string{seed: want, req: corpusFile(pemCSR)} {
				if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got, err := os.ReadFile(seed); err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (go test ./ca -run TestSignAttackSeeds -update-seeds): %v", seed, err)
		}
		if _, err := os.Stat(req); err != nil {
			t.Errorf("%v (go test ./ca -run TestSignAttackSeeds -update-seeds)", err)
		}
	}
}

// corpusFile writes values in the format of Go's fuzzing corpus files.
func corpusFile(vals ...any) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		default:
			panic(fmt.Sprintf("corpusFile: %T", v))
		}
	}
	return b.String()
}
