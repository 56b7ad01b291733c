package keys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
)

func runOpenSSL(t *testing.T, bin string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, errors.New(strings.TrimSpace(stderr.String()) + ": " + err.Error())
	}
	return out, nil
}

func mustOpenSSL(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	out, err := runOpenSSL(t, bin, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func spki(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestOpenSSLReadsOurKeys: openssl decrypts the PKCS#8 we write and finds the
// same public key.
func TestOpenSSLReadsOurKeys(t *testing.T) {
	bin := testkit.RequireTool(t, "openssl")
	for _, tc := range []struct {
		spec       string
		password   string
		iterations int
	}{
		{"rsa:2048", "x", testIterations},
		{"ecdsa:P-256", "x", testIterations},
		{"ecdsa:P-384", "pässwörd with spaces", testIterations},
		{"ecdsa:P-256", "x", CAIterations},
		{"ecdsa:P-256", "", 0},
		{"ed25519", "x", testIterations},
	} {
		name := tc.spec + "/" + map[bool]string{true: "encrypted", false: "plain"}[tc.password != ""]
		if tc.iterations == CAIterations {
			name += "/CA iterations"
		}
		t.Run(name, func(t *testing.T) {
			k := testKey(t, tc.spec)
			pemBytes, err := MarshalPKCS8PEM(k, tc.password, tc.iterations)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(f, pemBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			mustOpenSSL(t, bin, "pkey", "-in", f, "-passin", "pass:"+tc.password, "-noout")
			pub := mustOpenSSL(t, bin, "pkey", "-in", f, "-passin", "pass:"+tc.password, "-pubout", "-outform", "DER")
			if !bytes.Equal(pub, spki(t, k.Public())) {
				t.Error("openssl finds another public key")
			}
			if tc.password != "" {
				if _, err := runOpenSSL(t, bin, "pkey", "-in", f, "-passin", "pass:wrong", "-noout"); err == nil {
					t.Error("openssl accepted a wrong password: the key is not really encrypted")
				}
			}
		})
	}
}

// TestWeReadOpenSSLKeys: ParsePEM reads what openssl writes.
func TestWeReadOpenSSLKeys(t *testing.T) {
	bin := testkit.RequireTool(t, "openssl")
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	// A plain EC key from which the PKCS#8 and traditional forms are made.
	mustOpenSSL(t, bin, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("ec-plain.pem"))
	mustOpenSSL(t, bin, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path("rsa-plain.pem"))

	for _, tc := range []struct {
		name             string
		args             []string // openssl command writing path(name)
		from             string   // the plain key it was made from, "" for a new key
		pw               string
		wantErr          string // "" when it must be read
		notWrongPassword bool
	}{
		{name: "genpkey-rsa.pem", pw: "x", args: []string{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes-256-cbc", "-pass", "pass:x"}},
		{name: "genpkey-ec.pem", pw: "x", args: []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", "pass:x"}},
		{name: "genpkey-ec384.pem", pw: "x", args: []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-aes-256-cbc", "-pass", "pass:x"}},
		{name: "genpkey-ed25519.pem", pw: "x", args: []string{"genpkey", "-algorithm", "ED25519", "-aes-256-cbc", "-pass", "pass:x"}},
		{name: "topk8-ec.pem", pw: "x", from: "ec-plain.pem", args: []string{"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:x"}},
		{name: "topk8-rsa.pem", pw: "secret with spaces", from: "rsa-plain.pem", args: []string{"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:secret with spaces"}},
		{name: "topk8-sha1prf.pem", pw: "x", from: "ec-plain.pem", args: []string{"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1", "-passout", "pass:x"}},
		{name: "topk8-aes128.pem", pw: "x", from: "ec-plain.pem", args: []string{"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-passout", "pass:x"}},
		{name: "topk8-des3.pem", pw: "x", from: "ec-plain.pem", args: []string{"pkcs8", "-topk8", "-v2", "des3", "-passout", "pass:x"}},
		{name: "topk8-scrypt.pem", pw: "x", from: "ec-plain.pem", args: []string{"pkcs8", "-topk8", "-scrypt", "-passout", "pass:x"}},
		{name: "topk8-plain.pem", from: "rsa-plain.pem", args: []string{"pkcs8", "-topk8", "-nocrypt"}},
		{name: "traditional-rsa.pem", from: "rsa-plain.pem", args: []string{"rsa", "-traditional"}},
		{name: "traditional-ec.pem", from: "ec-plain.pem", args: []string{"ec"}},
		{name: "ecparam.pem", args: []string{"ecparam", "-name", "prime256v1", "-genkey"}},
		{name: "legacy-rsa.pem", pw: "x", from: "rsa-plain.pem", args: []string{"rsa", "-traditional", "-aes256", "-passout", "pass:x"},
			wantErr: "legacy PEM encryption (Proc-Type/DEK-Info) is not supported", notWrongPassword: true},
		{name: "legacy-ec.pem", pw: "x", from: "ec-plain.pem", args: []string{"ec", "-aes256", "-passout", "pass:x"},
			wantErr: "legacy PEM encryption", notWrongPassword: true},
		{name: "topk8-v1.pem", pw: "x", from: "ec-plain.pem", args: []string{"pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-passout", "pass:x"},
			wantErr: "reading encrypted key", notWrongPassword: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{}, tc.args...)
			if tc.from != "" {
				args = append(args, "-in", path(tc.from))
			}
			args = append(args, "-out", path(tc.name))
			mustOpenSSL(t, bin, args...)
			data, err := os.ReadFile(path(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			k, err := ParsePEM(data, tc.pw)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePEM = %T, %v; want error %q", k, err, tc.wantErr)
				}
				if tc.notWrongPassword && errors.Is(err, ErrWrongPassword) {
					t.Errorf("ParsePEM blames the password for an unsupported format: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePEM: %v", err)
			}
			// Same key as openssl sees.
			pub := mustOpenSSL(t, bin, "pkey", "-in", path(tc.name), "-passin", "pass:"+tc.pw, "-pubout", "-outform", "DER")
			if !bytes.Equal(pub, spki(t, k.Public())) {
				t.Error("ParsePEM found another key than openssl")
			}
			if tc.from != "" {
				orig, err := os.ReadFile(path(tc.from))
				if err != nil {
					t.Fatal(err)
				}
				ok, err := ParsePEM(orig, "")
				if err != nil || !Match(k, ok.Public()) {
					t.Errorf("the converted key does not match %s: %v", tc.from, err)
				}
			}
			if tc.pw != "" {
				if _, err := ParsePEM(data, tc.pw+"-wrong"); !errors.Is(err, ErrWrongPassword) {
					t.Errorf("ParsePEM with a wrong password = %v, want ErrWrongPassword", err)
				}
				if _, err := ParsePEM(data, ""); !errors.Is(err, ErrNeedPassword) {
					t.Errorf("ParsePEM without a password = %v, want ErrNeedPassword", err)
				}
			}
		})
	}
}
