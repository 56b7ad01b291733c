package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
)

// Tests use few PBKDF2 iterations to stay fast; TestPBES2Parameters checks
// the production counts are what is written.
const testIterations = 1000

// Keys are slow to generate; each spec is made once per test binary.
var (
	keyCacheMu sync.Mutex
	keyCache   = map[string]crypto.Signer{}
)

func testKey(t testing.TB, spec string) crypto.Signer {
	t.Helper()
	keyCacheMu.Lock()
	defer keyCacheMu.Unlock()
	if k, ok := keyCache[spec]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	if spec == "ed25519" {
		_, k, err = ed25519.GenerateKey(rand.Reader)
	} else {
		var s Spec
		if s, err = ParseSpec(spec); err == nil {
			k, err = Generate(s)
		}
	}
	if err != nil {
		t.Fatalf("key %s: %v", spec, err)
	}
	keyCache[spec] = k
	return k
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Spec
		wantErr string
	}{
		{in: "rsa", want: Spec{Type: "rsa", Bits: 2048}},
		{in: "rsa:2048", want: Spec{Type: "rsa", Bits: 2048}},
		{in: "rsa:3072", want: Spec{Type: "rsa", Bits: 3072}},
		{in: "RSA:4096", want: Spec{Type: "rsa", Bits: 4096}},
		{in: " rsa:4096 ", want: Spec{Type: "rsa", Bits: 4096}},
		{in: "ecdsa", want: Spec{Type: "ecdsa", Curve: "P-256"}},
		{in: "ecdsa:P-256", want: Spec{Type: "ecdsa", Curve: "P-256"}},
		{in: "ecdsa:p256", want: Spec{Type: "ecdsa", Curve: "P-256"}},
		{in: "ec:prime256v1", want: Spec{Type: "ecdsa", Curve: "P-256"}},
		{in: "ECDSA:P-384", want: Spec{Type: "ecdsa", Curve: "P-384"}},
		{in: "ec:secp384r1", want: Spec{Type: "ecdsa", Curve: "P-384"}},
		{in: "p256", want: Spec{Type: "ecdsa", Curve: "P-256"}},
		{in: "P-384", want: Spec{Type: "ecdsa", Curve: "P-384"}},
		{in: "rsa:1024", wantErr: `key "rsa:1024": RSA size must be 2048, 3072 or 4096`},
		{in: "rsa:8192", wantErr: "RSA size must be"},
		{in: "rsa:2k", wantErr: "RSA size must be"},
		{in: "rsa:", want: Spec{Type: "rsa", Bits: 2048}},
		{in: "ecdsa:P-521", wantErr: `key "ecdsa:P-521": ECDSA curve must be P-256 or P-384`},
		{in: "ed25519", wantErr: "use rsa:2048, rsa:3072, rsa:4096, ecdsa:P-256 or ecdsa:P-384"},
		{in: "dsa:2048", wantErr: "use rsa:2048"},
		{in: "", wantErr: "use rsa:2048"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSpec(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSpec(%q) = %v, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			// String is a form ParseSpec reads back.
			if again, err := ParseSpec(got.String()); err != nil || again != got {
				t.Errorf("ParseSpec(%q.String() = %q) = %+v, %v", tc.in, got.String(), again, err)
			}
		})
	}
}

func TestGenerateDescribe(t *testing.T) {
	for _, spec := range []string{"rsa:2048", "rsa:3072", "rsa:4096", "ecdsa:P-256", "ecdsa:P-384"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSpec(spec)
			if err != nil {
				t.Fatal(err)
			}
			k := testKey(t, spec)
			for _, v := range []any{k, k.Public()} {
				got, err := Describe(v)
				if err != nil || got != s {
					t.Errorf("Describe(%T) = %+v, %v; want %+v", v, got, err, s)
				}
			}
			if got := s.String(); got != spec {
				t.Errorf("String() = %q, want %q", got, spec)
			}
			if !Match(k, k.Public()) {
				t.Error("Match(key, own public key) = false")
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, tc := range []struct {
		spec    Spec
		wantErr string
	}{
		{Spec{Type: "rsa", Bits: 1024}, "shorter than 2048 bits are refused"},
		{Spec{Type: "rsa"}, "shorter than 2048"},
		{Spec{Type: "ecdsa", Curve: "P-521"}, `unsupported curve "P-521"`},
		{Spec{Type: "ecdsa"}, "unsupported curve"},
		{Spec{Type: "dsa", Bits: 2048}, `unsupported key type "dsa"`},
		{Spec{}, "unsupported key type"},
	} {
		if k, err := Generate(tc.spec); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Generate(%+v) = %T, %v; want error %q", tc.spec, k, err, tc.wantErr)
		}
	}
}

func TestDescribeOther(t *testing.T) {
	ed := testKey(t, "ed25519")
	for _, v := range []any{ed, ed.Public()} {
		got, err := Describe(v)
		if err != nil || got.Type != "ed25519" {
			t.Errorf("Describe(%T) = %+v, %v", v, got, err)
		}
		if got.String() != "ed25519" {
			t.Errorf("Describe(%T).String() = %q, want ed25519", v, got.String())
		}
	}
	if _, err := Describe("not a key"); err == nil || !strings.Contains(err.Error(), "unsupported key type string") {
		t.Errorf("Describe(string) = %v", err)
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	for _, spec := range []string{"rsa:2048", "ecdsa:P-256", "ecdsa:P-384", "ed25519"} {
		for _, pw := range []string{"", "x", "pässwörd with spaces"} {
			name := spec + "/plain"
			if pw != "" {
				name = spec + "/encrypted/" + pw
			}
			t.Run(name, func(t *testing.T) {
				k := testKey(t, spec)
				pemBytes, err := MarshalPKCS8PEM(k, pw, testIterations)
				if err != nil {
					t.Fatal(err)
				}
				block, rest := pem.Decode(pemBytes)
				if block == nil || len(bytes.TrimSpace(rest)) != 0 {
					t.Fatalf("not one PEM block:\n%s", pemBytes)
				}
				wantType := "PRIVATE KEY"
				if pw != "" {
					wantType = "ENCRYPTED PRIVATE KEY"
				}
				if block.Type != wantType {
					t.Errorf("PEM type %q, want %q", block.Type, wantType)
				}
				if pw == "" {
					if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
						t.Errorf("crypto/x509 does not read the plain key: %v", err)
					}
				} else if bytes.Contains(block.Bytes, mustPKCS8(t, k)) {
					t.Error("the encrypted key holds the plain PKCS#8")
				}
				got, err := ParsePEM(pemBytes, pw)
				if err != nil {
					t.Fatalf("ParsePEM: %v", err)
				}
				if !Match(got, k.Public()) {
					t.Error("the parsed key does not match the original")
				}
				if pw == "" {
					// A password given for a plain key is not needed.
					if _, err := ParsePEM(pemBytes, "unused"); err != nil {
						t.Errorf("ParsePEM(plain, password): %v", err)
					}
					return
				}
				if _, err := ParsePEM(pemBytes, pw+"x"); !errors.Is(err, ErrWrongPassword) {
					t.Errorf("ParsePEM with a wrong password = %v, want ErrWrongPassword", err)
				}
				if _, err := ParsePEM(pemBytes, ""); !errors.Is(err, ErrNeedPassword) {
					t.Errorf("ParsePEM without a password = %v, want ErrNeedPassword", err)
				}
			})
		}
	}
}

func mustPKCS8(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// ASN.1 of an encrypted PKCS#8 key with PBES2 (RFC 8018 appendix A).
type encryptedPrivateKeyInfo struct {
	Algo pbes2Algorithm
	Data []byte
}

type pbes2Algorithm struct {
	OID    asn1.ObjectIdentifier
	Params pbes2Params
}

type pbes2Params struct {
	KDF    pbkdf2Algorithm
	Cipher pkix.AlgorithmIdentifier
}

type pbkdf2Algorithm struct {
	OID    asn1.ObjectIdentifier
	Params pbkdf2Params
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

func TestPBES2Parameters(t *testing.T) {
	k := testKey(t, "ecdsa:P-256")
	for _, iter := range []int{testIterations, BundleIterations} {
		pemBytes, err := MarshalPKCS8PEM(k, "x", iter)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(pemBytes)
		var info encryptedPrivateKeyInfo
		if rest, err := asn1.Unmarshal(block.Bytes, &info); err != nil || len(rest) > 0 {
			t.Fatalf("not an EncryptedPrivateKeyInfo: %v", err)
		}
		p := info.Algo.Params
		if !info.Algo.OID.Equal(oidPBES2) || !p.KDF.OID.Equal(oidPBKDF2) || !p.KDF.Params.PRF.Algorithm.Equal(oidHMACSHA256) || !p.Cipher.Algorithm.Equal(oidAES256CBC) {
			t.Errorf("algorithms %v / %v / %v / %v, want PBES2, PBKDF2, hmacWithSHA256, aes256-CBC", info.Algo.OID, p.KDF.OID, p.KDF.Params.PRF.Algorithm, p.Cipher.Algorithm)
		}
		if p.KDF.Params.Iterations != iter {
			t.Errorf("iterations %d, want %d", p.KDF.Params.Iterations, iter)
		}
		if len(p.KDF.Params.Salt) != 16 {
			t.Errorf("salt of %d bytes, want 16", len(p.KDF.Params.Salt))
		}
		if len(info.Data)%16 != 0 {
			t.Errorf("ciphertext of %d bytes is not whole AES blocks", len(info.Data))
		}
	}
	// Salts (and so ciphertexts) differ between two encryptions.
	a, _ := MarshalPKCS8PEM(k, "x", testIterations)
	b, _ := MarshalPKCS8PEM(k, "x", testIterations)
	if bytes.Equal(a, b) {
		t.Error("two encryptions of one key are identical")
	}
	if CAIterations < 600_000 {
		t.Errorf("CAIterations = %d, below OWASP's 600,000", CAIterations)
	}
}

func TestParsePEM(t *testing.T) {
	rsaKey := testKey(t, "rsa:2048").(*rsa.PrivateKey)
	ecKey := testKey(t, "ecdsa:P-256").(*ecdsa.PrivateKey)
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
	ecParams := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
	legacyHeaders := map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}
	legacyRSA := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: legacyHeaders, Bytes: bytes.Repeat([]byte{1}, 1200)})
	legacyEC := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: legacyHeaders, Bytes: bytes.Repeat([]byte{1}, 128)})
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}})
	plain, _ := MarshalPKCS8PEM(ecKey, "", 0)
	enc, _ := MarshalPKCS8PEM(ecKey, "x", testIterations)

	for _, tc := range []struct {
		name    string
		data    []byte
		pw      string
		want    crypto.PublicKey
		wantErr string
		is      error
	}{
		{name: "PKCS#1", data: pkcs1, want: rsaKey.Public()},
		{name: "SEC 1", data: ecPEM, want: ecKey.Public()},
		{name: "SEC 1 after EC PARAMETERS", data: append(ecParams, ecPEM...), want: ecKey.Public()},
		{name: "key after certificate", data: append(cert, plain...), want: ecKey.Public()},
		{name: "text around the PEM", data: append(append([]byte("Bag Attributes\n    friendlyName: x\n"), plain...), "trailer\n"...), want: ecKey.Public()},
		{name: "CRLF line ends", data: bytes.ReplaceAll(plain, []byte("\n"), []byte("\r\n")), want: ecKey.Public()},
		{name: "legacy encrypted RSA refused", data: legacyRSA, pw: "x", wantErr: "legacy PEM encryption (Proc-Type/DEK-Info) is not supported: convert with `openssl pkcs8 -topk8`"},
		{name: "legacy encrypted EC refused", data: legacyEC, pw: "x", wantErr: "legacy PEM encryption"},
		{name: "legacy without password", data: legacyRSA, wantErr: "legacy PEM encryption"},
		{name: "empty", data: nil, wantErr: "no PEM private key found"},
		{name: "certificate only", data: cert, wantErr: "no PEM private key found"},
		{name: "DER, not PEM", data: mustPKCS8(t, ecKey), wantErr: "no PEM private key found"},
		{name: "public key only", data: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0}}), wantErr: "no PEM private key found"},
		{name: "corrupt PKCS#8", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), wantErr: "reading PKCS#8 key"},
		{name: "corrupt PKCS#1", data: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{0x30, 0}}), wantErr: "reading PKCS#1 RSA key: "},
		{name: "encrypted, garbage", data: pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}}), pw: "x", wantErr: "reading encrypted key"},
		{name: "encrypted, truncated ciphertext", data: mangleEncrypted(t, enc, func(i *encryptedPrivateKeyInfo) { i.Data = i.Data[:len(i.Data)-1] }), pw: "x", wantErr: "reading encrypted key"},
		{name: "encrypted, empty ciphertext", data: mangleEncrypted(t, enc, func(i *encryptedPrivateKeyInfo) { i.Data = nil }), pw: "x", wantErr: ""},
		{name: "encrypted, short IV", data: mangleEncrypted(t, enc, func(i *encryptedPrivateKeyInfo) {
			i.Algo.Params.Cipher.Parameters = asn1.RawValue{FullBytes: []byte{0x04, 0x04, 1, 2, 3, 4}}
		}), pw: "x", wantErr: "reading encrypted key"},
		{name: "encrypted, zero iterations", data: mangleEncrypted(t, enc, func(i *encryptedPrivateKeyInfo) { i.Algo.Params.KDF.Params.Iterations = 0 }), pw: "x", wantErr: ""},
		{name: "encrypted, wrong password", data: enc, pw: "y", is: ErrWrongPassword},
		{name: "encrypted, no password", data: enc, is: ErrNeedPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePEM(tc.data, tc.pw)
			switch {
			case tc.is != nil:
				if !errors.Is(err, tc.is) {
					t.Fatalf("ParsePEM = %v, want %v", err, tc.is)
				}
			case tc.want != nil:
				if err != nil {
					t.Fatalf("ParsePEM: %v", err)
				}
				if !Match(got, tc.want) {
					t.Error("the parsed key is not the one written")
				}
			default:
				if err == nil {
					t.Fatalf("ParsePEM accepted it (%T)", got)
				}
				if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParsePEM = %v, want %q", err, tc.wantErr)
				}
			}
		})
	}
}

// mangleEncrypted changes one field of an encrypted PKCS#8 PEM key.
func mangleEncrypted(t *testing.T, pemBytes []byte, f func(*encryptedPrivateKeyInfo)) []byte {
	t.Helper()
	block, _ := pem.Decode(pemBytes)
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(block.Bytes, &info); err != nil {
		t.Fatal(err)
	}
	f(&info)
	der, err := asn1.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
}

func TestMatch(t *testing.T) {
	rsa1 := testKey(t, "rsa:2048")
	ec1 := testKey(t, "ecdsa:P-256")
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384 := testKey(t, "ecdsa:P-384")
	ed := testKey(t, "ed25519")
	for _, tc := range []struct {
		name string
		priv crypto.Signer
		pub  crypto.PublicKey
		want bool
	}{
		{"RSA own", rsa1, rsa1.Public(), true},
		{"RSA copy of public key", rsa1, &rsa.PublicKey{N: rsa1.Public().(*rsa.PublicKey).N, E: rsa1.Public().(*rsa.PublicKey).E}, true},
		{"EC own", ec1, ec1.Public(), true},
		{"EC other key", ec1, ec2.Public(), false},
		{"EC other curve", ec1, ec384.Public(), false},
		{"ed25519 own", ed, ed.Public(), true},
		{"RSA vs EC", rsa1, ec1.Public(), false},
		{"EC vs RSA", ec1, rsa1.Public(), false},
		{"nil public key", ec1, nil, false},
	} {
		if got := Match(tc.priv, tc.pub); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}
