package inspect

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sign makes a CA certificate for key named cn, signed by parent/parentKey
// (self-signed when parent is nil).
func sign(t *testing.T, cn string, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, serial int64) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
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

func pemOf(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func treeText(t *testing.T, data []byte) string {
	t.Helper()
	r, err := Data(data, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	out := b.String()
	start := strings.Index(out, "Chain")
	end := strings.Index(out[start:], "\n\n")
	return out[start : start+end]
}

func TestTreeBranches(t *testing.T) {
	rootKey, aKey, bKey, leafKey := newKey(t), newKey(t), newKey(t), newKey(t)
	root := sign(t, "Root", rootKey, nil, nil, 1)
	a := sign(t, "Issuing A", aKey, root, rootKey, 2)
	b := sign(t, "Issuing B", bKey, root, rootKey, 3)
	leaf := sign(t, "Leaf under A", leafKey, a, aKey, 4)
	got := treeText(t, pemOf(leaf, b, root, a))
	want := `Chain (each certificate under the one that signed it):
  [3] CN=Root (self-signed)
  ├── [2] CN=Issuing B
  └── [4] CN=Issuing A
      └── [1] CN=Leaf under A`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Two CAs that cross-signed each other point at each other; the tree must
// still end.
func TestTreeCrossSigned(t *testing.T) {
	aKey, bKey := newKey(t), newKey(t)
	aSelf := sign(t, "CA A", aKey, nil, nil, 1)
	bSelf := sign(t, "CA B", bKey, nil, nil, 2)
	aByB := sign(t, "CA A", aKey, bSelf, bKey, 3)
	bByA := sign(t, "CA B", bKey, aSelf, aKey, 4)
	got := treeText(t, pemOf(aByB, bByA))
	want := `Chain (each certificate under the one that signed it):
  [1] CN=CA A (cross-signed: also signed by [2] below)
  └── [2] CN=CA B`
	if got != want {
		t.Errorf("each certificate must appear once:\n%s", got)
	}
}
