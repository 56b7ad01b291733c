package inspect

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Hostile text, as an attacker who controls a CSR or a certificate puts
// it in names (issue 11 item 6): colours, a screen clear, a window title,
// a carriage return, a forged line, right-to-left override, zero-width
// and byte-order marks, and a C1 control.
const (
	hostileCN    = "evil\x1b[31mred\x1b[0m\u202egnp.exe\nFAKE: line\u200b"
	hostileOrg   = "Org\x1b]0;pwned\x07\r\ufeff\u009b2J"
	hostileDNS   = "a\x1b[2J.example.com"
	hostileEmail = "x\x7f\b@example.com"
	hostileFName = "friendly\x1b[5m\u2066name\u2069"
)

var hostileSubject = pkix.Name{CommonName: hostileCN, Organization: []string{hostileOrg}}

// hostileShown is what escaped output shows for each: the escape, never
// the character.
var hostileShown = []string{
	`\x1b[31mred\x1b[0m\u202egnp.exe\nFAKE: line\u200b`,
	`\x1b]0\\;pwned\a\r\ufeff\u009b2J`, // pkix.Name escapes ';' as "\;"
	`a\x1b[2J.example.com`,
	`x\x7f\b@example.com`,
	`"http://crl.example/\x1b[2Jx.crl"`,
	`\u202eUPN`,
}

// hostileFiles makes, with crypto/x509 (certmint itself refuses such
// names), a self-signed CA, a leaf it signed, a CSR, a CRL and a .pfx that
// carry hostileCN and its friends everywhere a name can go.
func hostileFiles(t *testing.T) map[string][]byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	name := hostileSubject
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: name, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	// A DNS name with an escape and a UPN otherName (what inspect lists as
	// "other") with a bidi override, which crypto/x509 would not write.
	var sans cryptobyte.Builder
	sans.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(hostileEmail)) })
		b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(hostileDNS)) })
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3})
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("\u202eUPN@example.com")) })
			})
		})
	})
	sanDER, err := sans.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: name, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		CRLDistributionPoints: []string{"http://crl.example/\x1b[2Jx.crl"},
		IssuingCertificateURL: []string{"http://aia.example/\u202ex.crt"},
		ExtraExtensions:       []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: sanDER}},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	// (A URI SAN with an escape would not parse: crypto/x509 refuses
	// control characters in URLs.)
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: name, DNSNames: []string{hostileDNS}}, key)
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(2), RevocationTime: now}},
	}, caCert, key)
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := pkcs12.Modern2023.EncodeWithFriendlyName(crypto.Signer(key), leaf, []*x509.Certificate{caCert}, "pw", hostileFName)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der ...[]byte) []byte {
		var b bytes.Buffer
		for _, d := range der {
			pem.Encode(&b, &pem.Block{Type: typ, Bytes: d})
		}
		return b.Bytes()
	}
	return map[string][]byte{
		"chain.pem": pemOf("CERTIFICATE", leafDER, caDER),
		"leaf.der":  leafDER,
		"req.csr":   pemOf("CERTIFICATE REQUEST", csrDER),
		"ca.crl":    crlDER,
		"leaf.pfx":  pfx,
	}
}

// assertNoRaw fails when out holds a control character other than newline
// or a format (bidi, zero-width) character.
func assertNoRaw(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Errorf("%s holds a raw %U:\n%s", what, r, out)
			return
		}
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	for file, data := range hostileFiles(t) {
		t.Run(file, func(t *testing.T) {
			r, err := Data(data, Options{Password: password("pw")})
			if err != nil {
				t.Fatal(err)
			}
			r.File = "dir/\x1b[1m" + file
			var text, js bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			assertNoRaw(t, "the text output", text.String())
			assertNoRaw(t, "the JSON output", js.String())
			out := text.String()
			// Every hostile value is shown, escaped, in quotes.
			for _, want := range []string{strconv.Quote(hostileSubject.String()), `File:                 "dir/\x1b[1m` + file + `"`} {
				if !strings.Contains(out, want) {
					t.Errorf("the text lacks %s:\n%s", want, out)
				}
			}
			if strings.Contains(out, "\nFAKE: line") {
				t.Errorf("a name forged a line:\n%s", out)
			}
			switch file {
			case "chain.pem", "leaf.der", "leaf.pfx":
				for _, want := range hostileShown {
					if !strings.Contains(out, want) {
						t.Errorf("the text lacks %s:\n%s", want, out)
					}
				}
				if !strings.Contains(out, `"http://aia.example/\u202ex.crt"`) {
					t.Errorf("the AIA URL is not escaped:\n%s", out)
				}
			case "req.csr":
				if !strings.Contains(out, `DNS: "a\x1b[2J.example.com"`) {
					t.Errorf("the CSR's SAN is not escaped:\n%s", out)
				}
			}
			if file == "leaf.pfx" {
				if !strings.Contains(out, `friendlyName "friendly\x1b[5m\u2066name\u2069"`) {
					t.Errorf("the friendlyName is not escaped:\n%s", out)
				}
				if !strings.Contains(out, `--in $'dir/\x1b[1mleaf.pfx'`) && strings.Contains(out, "Make a legacy copy") {
					t.Errorf("the suggested command does not quote the file name for a shell:\n%s", out)
				}
			}
			// JSON keeps the exact values: escaped only as JSON escapes.
			var back Report
			if err := json.Unmarshal(js.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			subject := ""
			switch {
			case len(back.Certificates) > 0:
				subject = back.Certificates[0].Subject
			case len(back.CSRs) > 0:
				subject = back.CSRs[0].Subject
			case len(back.CRLs) > 0:
				subject = back.CRLs[0].Issuer
			}
			if want := hostileSubject.String(); subject != want {
				t.Errorf("JSON subject %+q, want %+q", subject, want)
			}
			if !strings.Contains(js.String(), `\u202e`) {
				t.Errorf("JSON does not escape U+202E:\n%s", js.String())
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"server.pfx", "server.pfx"},
		{"my file.pfx", "'my file.pfx'"},
		{"it's.pfx", `'it'\''s.pfx'`},
		{"a\x1b[2J.pfx", `$'a\x1b[2J.pfx'`},
		{"it's\n.pfx", `$'it\'s\n.pfx'`},
		{"q\"\u202e.pfx", `$'q"\u202e.pfx'`},
	} {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%+q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
