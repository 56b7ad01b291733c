// CERTMINT PATCH: tests for Encoder.EncodeWithFriendlyName (see CERTMINT-PATCH.md).

package pkcs12

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

func friendlyNameTestCert(t *testing.T, cn string, isCA bool, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  isCA,
		BasicConstraintsValid: true,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// bagFriendlyNames returns the friendlyName of every safe bag in pfxData,
// keyed by bag type, with "" for bags that have no friendlyName attribute.
func bagFriendlyNames(t *testing.T, pfxData []byte, password string) (certBags, keyBags []string) {
	t.Helper()
	encodedPassword, err := bmpStringZeroTerminated(password)
	if err != nil {
		t.Fatal(err)
	}
	bags, _, err := getSafeContents(pfxData, encodedPassword, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range bags {
		name := ""
		for j := range bags[i].Attributes {
			attr := bags[i].Attributes[j]
			if !attr.Id.Equal(oidFriendlyName) {
				continue
			}
			key, value, err := convertAttribute(&attr)
			if err != nil {
				t.Fatal(err)
			}
			if key != "friendlyName" {
				t.Fatalf("convertAttribute returned key %q", key)
			}
			name = value
		}
		if !bags[i].hasAttribute(oidLocalKeyID) && (bags[i].Id.Equal(oidKeyBag) || bags[i].Id.Equal(oidPKCS8ShroundedKeyBag)) {
			t.Errorf("key bag lost its localKeyId attribute")
		}
		switch {
		case bags[i].Id.Equal(oidCertBag):
			certBags = append(certBags, name)
		case bags[i].Id.Equal(oidKeyBag), bags[i].Id.Equal(oidPKCS8ShroundedKeyBag):
			keyBags = append(keyBags, name)
		default:
			t.Fatalf("unexpected bag type %v", bags[i].Id)
		}
	}
	return certBags, keyBags
}

// detReader is a deterministic io.Reader so that two encodings can be compared byte for byte.
type detReader struct{ ctr uint64 }

func (r *detReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); {
		r.ctr++
		sum := sha256.Sum256([]byte{byte(r.ctr), byte(r.ctr >> 8), byte(r.ctr >> 16), byte(r.ctr >> 24)})
		i += copy(p[i:], sum[:])
	}
	return len(p), nil
}

func TestEncodeWithFriendlyName(t *testing.T) {
	caCert, _ := friendlyNameTestCert(t, "Test CA", true, nil, nil)
	leafCert, leafKey := friendlyNameTestCert(t, "leaf.example.com", false, nil, nil) // self-signed leaf

	encoders := []struct {
		name     string
		enc      *Encoder
		password string
	}{
		{"Modern2023", Modern2023, "x"},
		{"LegacyDES", LegacyDES, "x"},
		{"Passwordless", Passwordless, ""},
	}
	for _, e := range encoders {
		for _, friendlyName := range []string{"SafeQ Server Cert", ""} {
			t.Run(e.name+"/"+friendlyName, func(t *testing.T) {
				pfxData, err := e.enc.EncodeWithFriendlyName(leafKey, leafCert, []*x509.Certificate{caCert}, e.password, friendlyName)
				if err != nil {
					t.Fatal(err)
				}

				key, cert, caCerts, err := DecodeChain(pfxData, e.password)
				if err != nil {
					t.Fatal(err)
				}
				if !key.(*rsa.PrivateKey).Equal(leafKey) {
					t.Error("decoded private key differs")
				}
				if !cert.Equal(leafCert) {
					t.Error("decoded leaf certificate differs")
				}
				if len(caCerts) != 1 || !caCerts[0].Equal(caCert) {
					t.Error("decoded CA certificates differ")
				}

				certNames, keyNames := bagFriendlyNames(t, pfxData, e.password)
				if len(certNames) != 2 || len(keyNames) != 1 {
					t.Fatalf("got %d cert bags and %d key bags, want 2 and 1", len(certNames), len(keyNames))
				}
				if certNames[0] != friendlyName {
					t.Errorf("leaf cert bag friendlyName = %q, want %q", certNames[0], friendlyName)
				}
				if certNames[1] != "" {
					t.Errorf("CA cert bag friendlyName = %q, want none", certNames[1])
				}
				if keyNames[0] != friendlyName {
					t.Errorf("key bag friendlyName = %q, want %q", keyNames[0], friendlyName)
				}
			})
		}

		t.Run(e.name+"/EncodeUnchanged", func(t *testing.T) {
			a, err := e.enc.WithRand(&detReader{}).Encode(leafKey, leafCert, []*x509.Certificate{caCert}, e.password)
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.enc.WithRand(&detReader{}).EncodeWithFriendlyName(leafKey, leafCert, []*x509.Certificate{caCert}, e.password, "")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Error(`Encode and EncodeWithFriendlyName(..., "") produced different output`)
			}
		})
	}

	if _, err := Modern2023.EncodeWithFriendlyName(leafKey, leafCert, nil, "x", "emoji \U0001F600"); err == nil {
		t.Error("expected error for friendlyName that cannot be encoded as a BMPString")
	}
}
