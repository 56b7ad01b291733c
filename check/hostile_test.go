package check

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/certmint/certmint/templates"
)

// TestHostileNamesQuoted is issue 11 item 6: the names check words into
// its findings (the CN, the chain's CAs, CRL URLs) come from a certificate
// anyone can make; they are quoted, so a finding never carries a raw
// escape, newline or bidi control to the terminal.
func TestHostileNamesQuoted(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const caCN, leafCN = "Root\x1b]0;pwned\x07\u202e", "host\x1b[31m.example.com\nFAKE"
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: caCN}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	tmpl, err := templates.Load("server")
	if err != nil {
		t.Fatal(err)
	}
	// Two certificates: one whose only CDP is not http:// (the CDP rule
	// words the URLs), one whose http:// CDP is fetched and fails (the
	// revocation step words the URL).
	for _, tc := range []struct {
		cdp  string
		want map[string]string
	}{
		{"ftp://crl\x1b[2J.example/ca.crl", map[string]string{
			"revocation.crl_distribution_point": `"ftp://crl\x1b[2J.example/ca.crl"`,
			"validation.chain":                  `"Root\x1b]0;pwned\a\u202e"`,
		}},
		{"http://crl.example/\u202ex.crl", map[string]string{
			"validation.revocation": `the CRL location "http://crl.example/\u202ex.crl" is not reachable`,
		}},
	} {
		leafTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: leafCN}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			DNSNames: []string{"other.example.com"}, CRLDistributionPoints: []string{tc.cdp},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(leafDER)
		if err != nil {
			t.Fatal(err)
		}
		r := Run(tmpl, Input{Leaf: leaf, Roots: []*x509.Certificate{caCert}, Now: now, FetchCRL: true,
			Fetcher: func(context.Context, string) ([]byte, error) { return nil, errors.New("unreachable") }})
		got := map[string]Finding{}
		for _, f := range r.Findings {
			got[f.Rule] = f
			for _, s := range []string{f.Title, f.Got, f.Want, f.Fix} {
				if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
					t.Errorf("%s: %+q holds a raw control or bidi character", f.Rule, s)
				}
			}
		}
		for rule, want := range tc.want {
			if f := got[rule]; !strings.Contains(f.Got, want) {
				t.Errorf("%s: got %q, want it to contain %s", rule, f.Got, want)
			}
		}
		// The report's subject is the certificate's own, for --json.
		if r.Subject != leaf.Subject.String() {
			t.Errorf("subject %+q, want %+q", r.Subject, leaf.Subject.String())
		}
	}
}
