package bundle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/templates"
)

// Every .pfx certmint writes derives its MAC key and both encryption keys
// with the counts of iterations.go: at least 2,048 for a legacy file (as
// `openssl pkcs12 -export -legacy`; go-pkcs12's LegacyDES MAC has 1), and
// ModernPFXIterations for a modern one.
func TestPFXIterations(t *testing.T) {
	if LegacyPFXIterations < 2048 || ModernPFXIterations < 10_000 || ModernPFXIterations > 300_000 {
		t.Fatalf("legacy %d, modern %d: want legacy >= 2048 and modern between 10,000 and .NET's 300,000", LegacyPFXIterations, ModernPFXIterations)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pfx.example.com"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	chain := []CA{{Slug: "issuing", Cert: testCA(t, "Issuing")}, {Slug: "root", Cert: testCA(t, "Root")}}
	for _, tc := range []struct {
		enc        templates.PFXEncryption
		iterations int
		mac        string
		cipher     string
	}{
		{templates.PFXLegacy, LegacyPFXIterations, "SHA-1", "pbeWithSHA1And3-KeyTripleDES-CBC"},
		{templates.PFXModern, ModernPFXIterations, "SHA-256", "PBES2"},
	} {
		t.Run(string(tc.enc), func(t *testing.T) {
			data, err := PFX(key, leaf, chain, "bundle-password", tc.enc, "pfx.example.com")
			if err != nil {
				t.Fatal(err)
			}
			c, err := pkifile.DecodePFX(data, func() (string, error) { return "bundle-password", nil }, 0)
			if err != nil {
				t.Fatal(err)
			}
			if c.MAC == nil || c.MAC.Name != tc.mac || c.MAC.Iterations != tc.iterations {
				t.Errorf("MAC %+v, want %s with %d iterations", c.MAC, tc.mac, tc.iterations)
			}
			encs := c.Encryptions()
			if len(encs) != 2 {
				t.Fatalf("%d encryptions (%v), want the certificate bags' and the key bag's", len(encs), encs)
			}
			for _, a := range encs {
				if a.Name != tc.cipher || a.Iterations != tc.iterations {
					t.Errorf("encryption %s, want %s with %d iterations", a, tc.cipher, tc.iterations)
				}
			}
			if c.Key == nil || len(c.Certs) != 3 {
				t.Errorf("decoded %d certificates and key %v, want 3 and the key", len(c.Certs), c.Key != nil)
			}
		})
	}
}
