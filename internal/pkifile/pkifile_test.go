package pkifile

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/youmark/pkcs8"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

const fixtures = "../../inspect/testdata"

func TestParseKinds(t *testing.T) {
	tests := []struct {
		file  string
		enc   Encoding
		kinds []Kind
	}{
		{"server.crt", PEM, []Kind{KindCertificate}},
		{"server.der", DER, []Kind{KindCertificate}},
		{"chain-unordered.pem", PEM, []Kind{KindCertificate, KindCertificate, KindCertificate}},
		{"server-combined.pem", PEM, []Kind{KindCertificate, KindCertificate, KindKey}},
		{"server.csr", PEM, []Kind{KindCSR}},
		{"server-csr.der", DER, []Kind{KindCSR}},
		{"issuing.crl", DER, []Kind{KindCRL}},
		{"issuing.crl.pem", PEM, []Kind{KindCRL}},
		{"server.key", PEM, []Kind{KindKey}},
		{"server-key.der", DER, []Kind{KindKey}},
		{"client-sec1.key", PEM, []Kind{KindKey}}, // after an EC PARAMETERS block
		{"modern.pfx", DER, []Kind{KindPKCS12}},
		{"legacy-3des.p12", DER, []Kind{KindPKCS12}},
	}
	for _, tc := range tests {
		data, err := os.ReadFile(filepath.Join(fixtures, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		var kinds []Kind
		for _, o := range f.Objects {
			kinds = append(kinds, o.Kind)
		}
		if f.Encoding != tc.enc || strings.Join(kindStrings(kinds), ",") != strings.Join(kindStrings(tc.kinds), ",") {
			t.Errorf("%s: %s %v, want %s %v", tc.file, f.Encoding, kinds, tc.enc, tc.kinds)
		}
		if len(f.Skipped) > 0 {
			t.Errorf("%s: skipped %v", tc.file, f.Skipped)
		}
	}
}

func kindStrings(k []Kind) []string {
	out := make([]string, len(k))
	for i, v := range k {
		out[i] = string(v)
	}
	return out
}

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
	ecKey   *ecdsa.PrivateKey
	cert    *x509.Certificate
)

func testKeys(t *testing.T) (*rsa.PrivateKey, *ecdsa.PrivateKey, *x509.Certificate) {
	keyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pkifile test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ecKey.Public(), ecKey)
		if err != nil {
			panic(err)
		}
		cert, _ = x509.ParseCertificate(der)
	})
	return rsaKey, ecKey, cert
}

// DER keys of every format are recognised and read.
func TestKeyFormats(t *testing.T) {
	rk, ek, _ := testKeys(t)
	pkcs8RSA, _ := x509.MarshalPKCS8PrivateKey(rk)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	encrypted, err := pkcs8.MarshalPrivateKey(ek, []byte("pw"), &pkcs8.Opts{Cipher: pkcs8.AES256CBC,
		KDFOpts: pkcs8.ScryptOpts{SaltSize: 16, CostParameter: 1 << 14, BlockSize: 8, ParallelizationParameter: 1}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, format string
		der          []byte
		want         crypto.PublicKey
		encryption   string
	}{
		{"PKCS#1", FormatPKCS1, x509.MarshalPKCS1PrivateKey(rk), rk.Public(), ""},
		{"PKCS#8", FormatPKCS8, pkcs8RSA, rk.Public(), ""},
		{"SEC 1", FormatSEC1, sec1, ek.Public(), ""},
		{"scrypt PKCS#8", FormatEncryptedPKCS8, encrypted, ek.Public(), "PBES2 (scrypt, AES-256-CBC), N=16384"},
	}
	for _, tc := range tests {
		f, err := Parse(tc.der)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f.Objects[0].Kind != KindKey {
			t.Fatalf("%s: kind %s", tc.name, f.Objects[0].Kind)
		}
		k, err := DecodeKey(f.Objects[0], func() (string, error) { return "pw", nil }, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if k.Format != tc.format {
			t.Errorf("%s: format %q", tc.name, k.Format)
		}
		if !k.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.want) {
			t.Errorf("%s: another key", tc.name)
		}
		if got := ""; k.Encryption != nil {
			if got = k.Encryption.String(); got != tc.encryption {
				t.Errorf("%s: encryption %q, want %q", tc.name, got, tc.encryption)
			}
		}
	}
	// A legacy PEM-encrypted key is refused with the openssl command that converts it.
	legacy := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
	f, err := Parse([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	_, err = DecodeKey(f.Objects[0], nil, 0)
	var ke *KeyError
	if !errors.As(err, &ke) || !strings.Contains(ke.HintText(), "openssl pkcs8 -topk8") {
		t.Errorf("legacy PEM encryption: %v", err)
	}
}

// What every go-pkcs12 encoder writes is described, and decoded.
func TestPFXAlgorithms(t *testing.T) {
	_, ek, c := testKeys(t)
	tests := []struct {
		name     string
		enc      *pkcs12.Encoder
		password string
		mac      string
		encs     []string
		legacy   bool
	}{
		{"Modern2023", pkcs12.Modern2023, "pw", "SHA-256, 2048 iterations",
			[]string{"PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC), 2048 iterations", "PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC), 2048 iterations"}, false},
		{"Modern2026", pkcs12.Modern2026, "pw", "PBMAC1 (PBKDF2, hmacWithSHA256, hmacWithSHA256), 2048 iterations",
			[]string{"PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC), 2048 iterations", "PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC), 2048 iterations"}, false},
		{"LegacyDES", pkcs12.LegacyDES, "pw", "SHA-1, 1 iteration",
			[]string{"pbeWithSHA1And3-KeyTripleDES-CBC, 2048 iterations", "pbeWithSHA1And3-KeyTripleDES-CBC, 2048 iterations"}, false},
		{"LegacyRC2", pkcs12.LegacyRC2, "pw", "SHA-1, 1 iteration",
			[]string{"pbeWithSHA1And40BitRC2-CBC, 2048 iterations", "pbeWithSHA1And3-KeyTripleDES-CBC, 2048 iterations"}, true},
		{"Passwordless", pkcs12.Passwordless, "", "", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der, err := tc.enc.EncodeWithFriendlyName(ek, c, nil, tc.password, "Name "+tc.name)
			if err != nil {
				t.Fatal(err)
			}
			asked := false
			p, err := DecodePFX(der, func() (string, error) { asked = true; return tc.password, nil }, 0)
			if err != nil {
				t.Fatal(err)
			}
			if asked == (tc.password == "") {
				t.Errorf("password asked: %v", asked)
			}
			mac := ""
			if p.MAC != nil {
				mac = p.MAC.String()
			}
			if mac != tc.mac {
				t.Errorf("MAC %q, want %q", mac, tc.mac)
			}
			var encs []string
			legacy := false
			for _, a := range p.Encryptions() {
				encs = append(encs, a.String())
				legacy = legacy || a.NeedsOpenSSLLegacy()
			}
			if strings.Join(encs, "|") != strings.Join(tc.encs, "|") {
				t.Errorf("encryptions %q, want %q", encs, tc.encs)
			}
			if legacy != tc.legacy {
				t.Errorf("needs -legacy %v", legacy)
			}
			if p.Key == nil || len(p.Certs) != 1 || p.Leaf != 0 || !p.Certs[0].Equal(c) {
				t.Fatalf("key %v, %d certificates, leaf %d", p.Key != nil, len(p.Certs), p.Leaf)
			}
			if tc.enc == pkcs12.Passwordless {
				// ToPEM cannot read a plain key bag: DecodeChain gives the
				// contents, and the plaintext bags keep their attributes.
				if p.Incomplete != "" {
					t.Errorf("Incomplete: %s", p.Incomplete)
				}
			}
			names := 0
			for _, b := range p.Bags {
				if b.FriendlyName == "Name "+tc.name {
					names++
				}
			}
			if want := 2; tc.enc == pkcs12.Passwordless && names < 1 || tc.enc != pkcs12.Passwordless && names != want {
				t.Errorf("%d bags named, bags %+v", names, p.Bags)
			}
		})
	}
}

func TestCheckCost(t *testing.T) {
	for _, tc := range []struct {
		a     Algorithm
		limit int
		ok    bool
	}{
		{Algorithm{Name: "PBES2", KDF: "PBKDF2", Iterations: 600_000}, 0, true},
		{Algorithm{Name: "PBES2", KDF: "PBKDF2", Iterations: 2_000_000_000}, 0, false},
		{Algorithm{Name: "SHA-1", Iterations: 2048}, 1000, false},
		{Algorithm{Name: "PBES2", KDF: "scrypt", Iterations: 1 << 14, scryptR: 8, scryptP: 1}, 0, true},
		{Algorithm{Name: "PBES2", KDF: "scrypt", Iterations: 1 << 30, scryptR: 8, scryptP: 1}, 0, false},
		{Algorithm{Name: "PBES2", KDF: "scrypt", Iterations: 1 << 10, scryptR: 1 << 20, scryptP: 1}, 0, false},
	} {
		if err := tc.a.CheckCost(tc.limit); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.a, err)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("0123456789"), 0o600)
	if _, err := ReadFile(path, 10); err != nil {
		t.Error(err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(path, 9); !errors.As(err, &tl) {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := ReadFile(t.TempDir(), 9); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder: %v", err)
	}
	// PEM bytes in a PEM file are found after other text (openssl's "Bag Attributes").
	data, _ := os.ReadFile(filepath.Join(fixtures, "server.crt"))
	f, err := Parse(append([]byte("Bag Attributes\n    friendlyName: x\n"), data...))
	if err != nil || len(f.Objects) != 1 {
		t.Errorf("bag attributes before the PEM block: %v", err)
	}
}
