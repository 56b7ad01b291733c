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
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certmint/certmint/templates"
)

// fuzzTemplates are the built-in templates `certmint sign` can use.
func fuzzTemplates(f *testing.F) []*templates.Template {
	all, err := templates.Builtins()
	if err != nil {
		f.Fatal(err)
	}
	var out []*templates.Template
	for _, t := range all {
		if t.Issuer == templates.IssuerIssuing {
			out = append(out, t)
		}
	}
	return out
}

// fuzzSigner signs accepted requests in a copy of the fixture CA and checks
// what `certmint sign` promises: either a certificate of the issuing CA
// for the request's key, with the template's usages, recorded and written;
// or an error, with nothing written and nothing recorded.
type fuzzSigner struct {
	s     *Store
	tmpls []*templates.Template
	dir   string
}

func newFuzzSigner(f *testing.F) *fuzzSigner {
	dir, err := os.MkdirTemp("", "certmint-fuzz-ca-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	return &fuzzSigner{s: newHome(f), tmpls: fuzzTemplates(f), dir: dir}
}

func (fs *fuzzSigner) sign(t *testing.T, tm *templates.Template, csr *x509.CertificateRequest) {
	s := fs.s
	out, err := os.MkdirTemp(fs.dir, "out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(out)
	before := countCerts(t, s)
	res, err := s.SignCSR(context.Background(), IssueRequest{Template: tm, Out: out}, csr)
	if err != nil {
		if strings.TrimSpace(err.Error()) == "" {
			t.Fatal("an error without a message")
		}
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Fatalf("SignCSR failed (%v) but wrote %d files", err, len(ents))
		}
		if n := countCerts(t, s); n != before {
			t.Fatalf("SignCSR failed (%v) but the database went from %d to %d certificates", err, before, n)
		}
		return
	}
	cert := res.Cert
	if err := cert.CheckSignatureFrom(s.Issuing.Cert); err != nil {
		t.Fatalf("the certificate is not signed by the issuing CA: %v", err)
	}
	if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(csr.PublicKey) {
		t.Fatal("the certificate's key is not the request's")
	}
	if cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign != 0 {
		t.Fatal("a CA certificate from a request")
	}
	var ku x509.KeyUsage
	for _, k := range tm.Usage.KeyUsage {
		ku |= k.X509()
	}
	if cert.KeyUsage != ku {
		t.Fatalf("key usage %v, template %v", cert.KeyUsage, ku)
	}
	var eku []x509.ExtKeyUsage
	for _, e := range tm.Usage.ExtKeyUsage {
		eku = append(eku, e.X509())
	}
	if !slices.Equal(cert.ExtKeyUsage, eku) || len(cert.UnknownExtKeyUsage) > 0 {
		t.Fatalf("extended key usage %v %v, template %v", cert.ExtKeyUsage, cert.UnknownExtKeyUsage, eku)
	}
	// The SANs are the checked ones, not whatever the request carried.
	for _, d := range cert.DNSNames {
		if !containsValue(res, d) {
			t.Fatalf("DNS SAN %q was not checked", d)
		}
	}
	if n := countCerts(t, s); n != before+1 {
		t.Fatalf("the database went from %d to %d certificates", before, n)
	}
	for _, p := range res.Files {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("file of the bundle: %v", err)
		}
	}
}

func containsValue(res *Issued, v string) bool {
	for _, n := range res.SANs {
		if strings.EqualFold(n.Value, v) {
			return true
		}
	}
	return false
}

// FuzzParseCSR feeds arbitrary bytes to the CSR reader of `certmint sign`:
// input must never panic; a request it accepts has a valid signature and an
// accepted key, and is then signed under a template (see fuzzSigner). The
// corpus in testdata/fuzz/FuzzParseCSR holds requests made by OpenSSL: RSA
// and ECDSA, PEM and DER, SANs of every kind, requested CA extensions,
// refused keys (RSA 1024, P-521, Ed25519) and a broken signature.
//
//	go test ./ca -run '^$' -fuzz '^FuzzParseCSR$' -fuzztime 60s
func FuzzParseCSR(f *testing.F) {
	fs := newFuzzSigner(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ParseCSR(data)
		if err != nil {
			if csr != nil {
				t.Fatal("a request and an error")
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("accepted a request whose signature does not verify: %v", err)
		}
		switch pub := csr.PublicKey.(type) {
		case *rsa.PublicKey:
			if pub.N.BitLen() < 2048 {
				t.Fatalf("accepted RSA %d", pub.N.BitLen())
			}
		case *ecdsa.PublicKey:
			if n := pub.Curve.Params().Name; n != "P-256" && n != "P-384" {
				t.Fatalf("accepted curve %s", n)
			}
		default:
			t.Fatalf("accepted key type %T", csr.PublicKey)
		}
		fs.sign(t, fs.tmpls[len(data)%len(fs.tmpls)], csr)
	})
}

// FuzzSignCSR builds well-signed requests from fuzzed subject fields and
// SANs (as an external tool would make them) and signs them under every
// template: the template's rules must refuse what they do not allow, and
// whatever is signed must be what the template says (see fuzzSigner).
//
//	go test ./ca -run '^$' -fuzz '^FuzzSignCSR$' -fuzztime 60s
func FuzzSignCSR(f *testing.F) {
	fs := newFuzzSigner(f)
	for i, tm := range fs.tmpls {
		subj, sans := tm.ExampleRequest()
		var vals []string
		for _, n := range tm.ResolveSANs(subj.CommonName, sans) {
			vals = append(vals, n.Value)
		}
		// kind: the template's index times 3, plus 2 for the RSA key
		// every built-in template accepts.
		f.Add(uint8(i*3+2), subj.CommonName, strings.Join(subj.Organization, ""), strings.Join(subj.OrganizationalUnit, ""),
			strings.Join(subj.Country, ""), strings.Join(vals, ","))
	}
	f.Add(uint8(1), "*.contoso.com", "Contoso", "", "US", "*.contoso.com,contoso.com")
	f.Add(uint8(2), "W701", "", "", "", "W701,10.0.0.1,::1,a@b.example,https://x.example/y")
	f.Add(uint8(4), strings.Repeat("a", 70)+".example", "Ünïcode 株式会社", "\x00", "usa", "xn--nxasmq6b.example,-bad-.example,a..b")
	f.Add(uint8(5), "", "", "", "", "")
	f.Add(uint8(7), "host.example", "O", "OU", "ZZ", "host.example,spiffe://acme/w,mailto:x@y,192.168.0.300")

	keys := []crypto.Signer{mustKey(f, "ecdsa-256"), mustKey(f, "ecdsa-384"), mustKey(f, "rsa-2048")}
	f.Fuzz(func(t *testing.T, kind uint8, cn, o, ou, c, sans string) {
		req := &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}
		for _, kv := range []struct {
			v   string
			dst *[]string
		}{{o, &req.Subject.Organization}, {ou, &req.Subject.OrganizationalUnit}, {c, &req.Subject.Country}} {
			if kv.v != "" {
				*kv.dst = []string{kv.v}
			}
		}
		for _, v := range strings.Split(sans, ",") {
			switch {
			case v == "":
			case net.ParseIP(v) != nil:
				req.IPAddresses = append(req.IPAddresses, net.ParseIP(v))
			case strings.Contains(v, "://"):
				u, err := url.Parse(v)
				if err != nil {
					return
				}
				req.URIs = append(req.URIs, u)
			case strings.Contains(v, "@"):
				req.EmailAddresses = append(req.EmailAddresses, v)
			default:
				req.DNSNames = append(req.DNSNames, v)
			}
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, req, keys[int(kind)%len(keys)])
		if err != nil {
			return // crypto/x509 will not encode it: no tool hands sign such a request
		}
		csr, err := ParseCSR(der)
		if err != nil {
			return
		}
		fs.sign(t, fs.tmpls[int(kind)/len(keys)%len(fs.tmpls)], csr)
	})
}

// mustKey makes a key for FuzzSignCSR, once per fuzzing process.
func mustKey(f *testing.F, kind string) crypto.Signer {
	var k crypto.Signer
	var err error
	switch kind {
	case "ecdsa-256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa-384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		f.Fatal(err)
	}
	return k
}

// The committed corpus is where it is expected: a renamed target would
// leave it unused.
func TestFuzzCorpusPresent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseCSR", "*"))
	if len(files) < 10 {
		t.Fatalf("testdata/fuzz/FuzzParseCSR holds %d inputs", len(files))
	}
}
