package bundle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/fsutil"
)

func testCA(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestExportCA(t *testing.T) {
	dir := t.TempDir()
	chain := []CA{{Slug: "issuing", Cert: testCA(t, "Issuing")}, {Slug: "root", Cert: testCA(t, "Root")}}
	files, err := ExportCA(dir, chain, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"issuing.cer", "issuing.crt", "root.cer", "root.crt", ChainFile}
	if len(files) != len(want) {
		t.Fatalf("%d files", len(files))
	}
	for i, f := range files {
		if filepath.Base(f.Path) != want[i] || !f.Written {
			t.Errorf("file %d: %+v, want %s written", i, f, want[i])
		}
	}
	if der, _ := os.ReadFile(filepath.Join(dir, "root.crt")); string(der) != string(chain[1].Cert.Raw) {
		t.Error("root.crt is not DER")
	}
	if chainPEM, _ := os.ReadFile(filepath.Join(dir, ChainFile)); string(chainPEM) != string(CertPEM(chain[0].Cert))+string(CertPEM(chain[1].Cert)) {
		t.Error("the chain is not issuing then root")
	}
	// Identical files: nothing rewritten, no error.
	files, err = ExportCA(dir, chain, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Written {
			t.Errorf("%s rewritten", f.Path)
		}
	}
	// Another CA's files in the way: refused, all or nothing.
	other := []CA{{Slug: "issuing", Cert: testCA(t, "Other")}, {Slug: "new-root", Cert: chain[1].Cert}}
	_, err = ExportCA(dir, other, false)
	var ex *fsutil.ExistsError
	if !errors.As(err, &ex) {
		t.Fatalf("error %v, want ExistsError", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new-root.cer")); err == nil {
		t.Error("a refused export wrote new-root.cer")
	}
}
