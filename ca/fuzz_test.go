package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certmint/certmint/san"
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
	_, ecKey := csr.PublicKey.(*ecdsa.PublicKey)
	for _, k := range tm.Usage.KeyUsage {
		// An ECDSA key cannot encipher (RFC 5480 section 3): left out.
		if !ecKey || k != "keyEncipherment" && k != "dataEncipherment" {
			ku |= k.X509()
		}
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
	// The SANs are the request's, checked, each in its own type.
	checkSignedSANs(t, tm, csr, res)
	if n := countCerts(t, s); n != before+1 {
		t.Fatalf("the database went from %d to %d certificates", before, n)
	}
	for _, p := range res.Files {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("file of the bundle: %v", err)
		}
	}
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

// FuzzSignCSR builds well-signed requests from fuzzed keys, hashes,
// subject fields and typed SANs (as an external tool would make them, with
// any ASCII in a dNSName) and signs them under a built-in template: sign
// must refuse, or issue a certificate whose SANs are the request's in type
// and value (checkSignedSANs), with the template's usages (fuzzSigner).
// key picks fuzzKey's key (P-256, P-384, RSA, RSA with exponent 3); sha1
// signs the request with SHA-1; template names a built-in, or picks one by
// its length; sans is encodeSANs' format. The corpus in
// testdata/fuzz/FuzzSignCSR holds the attacks of signAttacks.
//
//	go test ./ca -run '^$' -fuzz '^FuzzSignCSR$' -fuzztime 60s
func FuzzSignCSR(f *testing.F) {
	fs := newFuzzSigner(f)
	for _, tm := range fs.tmpls {
		subj, sans := tm.ExampleRequest()
		f.Add(uint8(2), false, tm.Name, subj.CommonName, strings.Join(subj.Organization, ""), strings.Join(subj.OrganizationalUnit, ""),
			strings.Join(subj.Country, ""), encodeSANs(tm.ResolveSANs(subj.CommonName, sans)))
	}
	for _, tc := range signAccepted {
		f.Add(tc.key, tc.sha1, tc.template, tc.cn, tc.o, tc.ou, tc.c, encodeSANs(tc.sans))
	}
	f.Add(uint8(1), false, "server", "*.contoso.com", "Contoso", "", "US", encodeSANs(dnsSANs("*.contoso.com", "contoso.com")))
	f.Add(uint8(2), false, "1e-client-workgroup", "W701", "", "", "", encodeSANs([]san.Name{{Kind: san.DNS, Value: "W701"},
		{Kind: san.IP, Value: "10.0.0.1"}, {Kind: san.IP, Value: "::1"}, {Kind: san.Email, Value: "a@b.example"}, {Kind: san.URI, Value: "https://x.example/y"}}))
	f.Add(uint8(0), false, "defender-sensor", strings.Repeat("a", 70)+".example", "Ünïcode 株式会社", "\x00", "usa",
		encodeSANs(dnsSANs("xn--nxasmq6b.example", "-bad-.example", "a..b")))
	f.Add(uint8(0), false, "", "", "", "", "", []byte{})
	f.Add(uint8(1), false, "client", "host.example", "O", "OU", "ZZ", encodeSANs([]san.Name{{Kind: san.DNS, Value: "host.example"},
		{Kind: san.URI, Value: "spiffe://acme/w"}, {Kind: san.Email, Value: "mailto:x@y"}, {Kind: san.IP, Value: "192.168.0.300"}}))

	f.Fuzz(func(t *testing.T, key uint8, sha1 bool, template, cn, o, ou, c string, sans []byte) {
		spec := csrSpec{key: key, sha1: sha1, cn: cn, o: o, ou: ou, c: c, sans: decodeSANs(sans)}
		der, err := spec.request(fuzzKey(t, key))
		if err != nil {
			return // crypto/x509 will not encode it: no tool hands sign such a request
		}
		csr, err := ParseCSR(der)
		if err != nil {
			return
		}
		tm := fs.tmpls[len(template)%len(fs.tmpls)]
		for _, x := range fs.tmpls {
			if x.Name == template {
				tm = x
			}
		}
		fs.sign(t, tm, csr)
	})
}

// The committed corpus is where it is expected: a renamed target would
// leave it unused.
func TestFuzzCorpusPresent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseCSR", "*"))
	if len(files) < 10 {
		t.Fatalf("testdata/fuzz/FuzzParseCSR holds %d inputs", len(files))
	}
}
