//go:build unix

package ca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
)

// Issue 7 item 5, at the package level: CA keys at rest (tests of the
// whole CLI, with umask 000 and a trace of every write, are in
// cmd/certmint/secrets_test.go).

var (
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA56 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type algorithmIdentifier struct {
	Algorithm asn1.ObjectIdentifier
	Params    asn1.RawValue `asn1:"optional"`
}

// pbes2Params reads an EncryptedPrivateKeyInfo (RFC 5958) with PBES2
// (RFC 8018): the KDF's salt, iterations and PRF, and the cipher.
func pbes2Params(t *testing.T, der []byte) (salt []byte, iter int, prf, cipher asn1.ObjectIdentifier) {
	t.Helper()
	var info struct {
		Algo algorithmIdentifier
		Data []byte
	}
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		t.Fatalf("not an EncryptedPrivateKeyInfo: %v", err)
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		t.Fatalf("encryption %v, want PBES2", info.Algo.Algorithm)
	}
	var params struct{ KDF, Enc algorithmIdentifier }
	if _, err := asn1.Unmarshal(info.Algo.Params.FullBytes, &params); err != nil {
		t.Fatal(err)
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		t.Fatalf("KDF %v, want PBKDF2", params.KDF.Algorithm)
	}
	var kdf struct {
		Salt   []byte
		Iter   int
		KeyLen int                 `asn1:"optional"`
		PRF    algorithmIdentifier `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(params.KDF.Params.FullBytes, &kdf); err != nil {
		t.Fatal(err)
	}
	if len(info.Data) == 0 {
		t.Fatal("no encrypted data")
	}
	return kdf.Salt, kdf.Iter, kdf.PRF.Algorithm, params.Enc.Algorithm
}

// TestCAKeysEncryptedAtRest: each CA key is PKCS#8 encrypted with PBES2,
// PBKDF2-HMAC-SHA256 at 600,000 iterations and AES-256-CBC, with its own
// salt, mode 0600, opens with the CA password and belongs to its
// certificate; no file of the home, the database included, holds the key
// in any unencrypted form.
func TestCAKeysEncryptedAtRest(t *testing.T) {
	s := newHome(t)
	if s.DB.Postgres() {
		t.Skip("the files of a SQLite home")
	}
	salts := map[string]bool{}
	material := map[string][]byte{}
	for _, a := range s.Authorities() {
		data, err := os.ReadFile(a.KeyPath())
		if err != nil {
			t.Fatal(err)
		}
		block, rest := pem.Decode(data)
		if block == nil || block.Type != "ENCRYPTED PRIVATE KEY" || len(bytes.TrimSpace(rest)) > 0 {
			t.Fatalf("%s: want one ENCRYPTED PRIVATE KEY block, got %q", a.KeyPath(), data)
		}
		salt, iter, prf, cipher := pbes2Params(t, block.Bytes)
		if iter != keys.CAIterations || !prf.Equal(oidHMACWithSHA56) || !cipher.Equal(oidAES256CBC) || len(salt) < 16 {
			t.Errorf("%s: PBKDF2 %d iterations, PRF %v, cipher %v, %d-byte salt; want %d, hmacWithSHA256, aes256-CBC, 16 bytes",
				a.KeyPath(), iter, prf, cipher, len(salt), keys.CAIterations)
		}
		if salts[string(salt)] {
			t.Errorf("%s: the two CA keys share a salt", a.KeyPath())
		}
		salts[string(salt)] = true
		if st, err := os.Stat(a.KeyPath()); err != nil || st.Mode().Perm() != fsutil.ModePrivate {
			t.Errorf("%s: mode %v, want %v", a.KeyPath(), st.Mode().Perm(), fsutil.ModePrivate)
		}
		k, err := s.Key(a)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		material[a.Slug+" PKCS#8 base64"] = []byte(base64.StdEncoding.EncodeToString(der))
		switch k := k.(type) {
		case *ecdsa.PrivateKey:
			d, _ := k.Bytes()
			material[a.Slug+" private scalar"] = d
		case *rsa.PrivateKey:
			material[a.Slug+" prime"] = k.Primes[0].Bytes()
			material[a.Slug+" PKCS#1 base64"] = []byte(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k)))
		}
	}
	s.Close() // the WAL is checkpointed into certmint.db, which is read too
	files := 0
	filepath.WalkDir(s.Home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		files++
		data, _ := os.ReadFile(p)
		flat := bytes.ReplaceAll(data, []byte("\n"), nil)
		for what, m := range material {
			if bytes.Contains(flat, m) {
				t.Errorf("%s holds the CA key unencrypted (%s)", p, what)
			}
		}
		for _, h := range []string{"-----BEGIN PRIVATE KEY", "-----BEGIN RSA PRIVATE KEY", "-----BEGIN EC PRIVATE KEY"} {
			if bytes.Contains(data, []byte(h)) {
				t.Errorf("%s holds an unencrypted key (%s)", p, h)
			}
		}
		if bytes.Contains(data, []byte(testPassword)) {
			t.Errorf("%s holds the CA password", p)
		}
		return nil
	})
	if files < 8 {
		t.Errorf("only %d files in the home", files)
	}
}

// TestInitRefusesEmptyPassword: a CA key is never written without a
// password, and the refusal leaves nothing behind.
func TestInitRefusesEmptyPassword(t *testing.T) {
	parent := t.TempDir()
	home := filepath.Join(parent, "pki")
	_, err := Init(context.Background(), InitOptions{Home: home, RootCN: "R", IssuingCN: "I", BaseURL: "http://pki.test",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "a CA password is required") {
		t.Fatalf("Init without a password: %v", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("a refused init left %v", ents)
	}
}

// TestCAKeyStagedEncrypted: the CA key reaches the disk only as the
// encrypted PEM: fsutil writes exactly those bytes to the temporary file
// beside ca.key, 0600 from its creation, even under umask 000, and the
// rename leaves nothing else.
func TestCAKeyStagedEncrypted(t *testing.T) {
	s := newHome(t)
	k, err := s.Key(s.Issuing)
	if err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	a := &Authority{Slug: "copy", dir: filepath.Join(dir, "copy"), key: k, Cert: s.Issuing.Cert}
	if err := os.Mkdir(a.dir, fsutil.ModeHome); err != nil {
		t.Fatal(err)
	}
	// As writeAuthority does: encrypt, then one fsutil write.
	keyPEM, err := keys.MarshalPKCS8PEM(a.key, testPassword, 1000) // the iterations do not change the path
	if err != nil {
		t.Fatal(err)
	}
	st, err := fsutil.Stage([]fsutil.File{{Path: a.KeyPath(), Data: keyPEM, Mode: fsutil.ModePrivate}}, false)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(a.dir)
	if len(ents) != 1 || !fsutil.IsTemp(ents[0].Name()) {
		t.Fatalf("staged: %v, want one temporary file", ents)
	}
	tmp := filepath.Join(a.dir, ents[0].Name())
	data, _ := os.ReadFile(tmp)
	info, _ := os.Stat(tmp)
	if !bytes.Equal(data, keyPEM) || info.Mode().Perm() != fsutil.ModePrivate {
		t.Errorf("the temporary file: mode %v, %d bytes, same as the encrypted PEM: %v", info.Mode().Perm(), len(data), bytes.Equal(data, keyPEM))
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	ents, _ = os.ReadDir(a.dir)
	if len(ents) != 1 || ents[0].Name() != KeyFile {
		t.Errorf("after the rename: %v", ents)
	}
	if got, err := readCAKey(a.KeyPath(), testPassword); err != nil || !keys.Match(got, k.Public()) {
		t.Errorf("the written key does not open: %v", err)
	}

	// writeAuthority itself, under umask 000.
	b := &Authority{Slug: "again", dir: filepath.Join(dir, "again"), key: k, Cert: s.Issuing.Cert}
	if err := writeAuthority(b, testPassword); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{b.dir: fsutil.ModeHome, b.KeyPath(): fsutil.ModePrivate, b.CertPath(): fsutil.ModePublic} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, info.Mode().Perm(), want, err)
		}
	}
	if data, _ := os.ReadFile(b.KeyPath()); !bytes.HasPrefix(data, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")) {
		t.Errorf("writeAuthority wrote %q", data[:min(len(data), 40)])
	}
}

// TestWrongCAPasswordManyTries: any wrong password is *WrongPasswordError,
// "the CA password does not decrypt <file>" with a hint, never a parse
// error of the key (PKCS#8 without a MAC makes a wrong key look like
// garbage plaintext: that must not reach the user as "asn1: ...").
func TestWrongCAPasswordManyTries(t *testing.T) {
	s := newHome(t)
	k, err := s.Key(s.Issuing)
	if err != nil {
		t.Fatal(err)
	}
	// The same key with a cheap KDF, so hundreds of tries take no time; the
	// decryption path is the same.
	cheap, err := keys.MarshalPKCS8PEM(k, testPassword, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Issuing.KeyPath(), cheap, 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_!é"
	for i := 0; i < 400; i++ {
		b := make([]byte, 1+rng.IntN(40))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		wrong := string(b)
		if wrong == testPassword {
			continue
		}
		st, err := reopen(s.Home, func() (string, error) { return wrong, nil })
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Key(st.Issuing)
		st.Close()
		var wp *WrongPasswordError
		if !errors.As(err, &wp) || err.Error() != "the CA password does not decrypt "+s.Issuing.KeyPath() {
			t.Fatalf("password %q: %v", wrong, err)
		}
	}
	st, err := reopen(s.Home, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Key(st.Issuing); err != nil {
		t.Fatalf("the right password: %v", err)
	}
}

// TestDamagedCAKey: a CA key file that is not an encrypted key is reported
// with its path, as what it is, without a panic.
func TestDamagedCAKey(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(fixtureHome, Slug("Test Issuing CA"), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no PEM private key found"},
		{"text", []byte("not a key\n"), "no PEM private key found"},
		{"certificate", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), "no PEM private key found"},
		{"truncated ciphertext", pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes[:len(block.Bytes)-7]}), ""},
		{"not PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newHome(t)
			if err := os.WriteFile(s.Issuing.KeyPath(), tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Key(s.Issuing)
			if err == nil || !strings.Contains(err.Error(), s.Issuing.KeyPath()) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v", err)
			}
			t.Logf("%v", err)
			if strings.Contains(fmt.Sprint(err), "panic") || strings.Contains(fmt.Sprint(err), "goroutine") {
				t.Errorf("err = %v", err)
			}
		})
	}
}
