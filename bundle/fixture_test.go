package bundle

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/templates"
)

// testPKI is a root, an issuing CA and a client certificate, as certmint
// issues them (CDP and AIA under http://pki.contoso.com), with ECDSA keys
// to be quick.
type testPKI struct {
	Root, Issuing, Leaf *x509.Certificate
	RootKey, IssuingKey crypto.Signer
	LeafKey             crypto.Signer
}

func (p *testPKI) chain() []CA {
	return []CA{{Slug: "contoso-issuing-ca", Cert: p.Issuing}, {Slug: "contoso-root-ca", Cert: p.Root}}
}

// options are the bundle options of the leaf, with the formats asked.
func (p *testPKI) options(dir string, formats ...string) Options {
	o := Options{Dir: dir, Base: p.Leaf.Subject.CommonName, Key: p.LeafKey, Leaf: p.Leaf, Chain: p.chain(), Password: "bundle-password"}
	for _, f := range formats {
		o.Formats = append(o.Formats, formatOf(f))
	}
	return o
}

func newTestPKI(t testing.TB, cn string) *testPKI {
	t.Helper()
	return newTestPKINames(t, cn, "Contoso Root CA", "Contoso Issuing CA")
}

// newTestPKINames names the CAs too (a CA's name is the administrator's
// text, as much as a CN).
func newTestPKINames(t testing.TB, cn, rootCN, issuingCN string) *testPKI {
	t.Helper()
	p := &testPKI{}
	now := time.Now()
	p.RootKey, p.IssuingKey, p.LeafKey = ecKey(t), ecKey(t), ecKey(t)
	p.Root = sign(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: rootCN, Organization: []string{"Contoso"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, p.RootKey, p.RootKey)
	p.Issuing = sign(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: issuingCN, Organization: []string{"Contoso"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(47 * time.Hour), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, p.Root, p.IssuingKey, p.RootKey)
	p.Leaf = sign(t, &x509.Certificate{SerialNumber: big.NewInt(0x5D3F01), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		CRLDistributionPoints: []string{"http://pki.contoso.com/contoso-issuing-ca.crl"},
		IssuingCertificateURL: []string{"http://pki.contoso.com/contoso-issuing-ca.crt"}}, p.Issuing, p.LeafKey, p.IssuingKey)
	return p
}

func ecKey(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sign makes a certificate for key's public key, signed by parentKey
// (self-signed when parent is nil).
func sign(t testing.TB, tmpl, parent *x509.Certificate, key, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func formatOf(s string) templates.Format { return templates.Format(s) }

// build writes the bundle of o into o.Dir (all or nothing, as issue does)
// and returns the paths by base name.
func build(t testing.TB, o Options) map[string]fsutil.File {
	t.Helper()
	files, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	st, err := fsutil.Stage(files, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	out := map[string]fsutil.File{}
	for _, f := range files {
		out[filepath.Base(f.Path)] = f
	}
	return out
}
