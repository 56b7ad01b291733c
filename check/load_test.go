package check

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	corpusDir  = "testdata/corpus"
	corpusPass = "corpus-pass"
)

func corpusFile(name string) string { return filepath.Join(corpusDir, name) }

// sparse makes a file of size bytes of zeros without writing them.
func sparse(t testing.TB, name string, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}

func staticPassword(pw string) func() (string, error) {
	return func() (string, error) { return pw, nil }
}

// loadGuarded runs Load and fails t if it is still running after 30 s: a
// hostile file must be refused, not worked on for minutes. How fast a
// refusal is, is for benchmarks, not for a test on a loaded runner.
func loadGuarded(t *testing.T, f Files) (Input, error) {
	t.Helper()
	type res struct {
		in  Input
		err error
	}
	done := make(chan res, 1)
	go func() {
		in, err := Load(f)
		done <- res{in, err}
	}()
	select {
	case r := <-done:
		return r.in, r.err
	case <-time.After(30 * time.Second):
		t.Fatalf("Load still running after 30 s (files %+v)", f)
		return Input{}, nil
	}
}

// A 100 MB file given as any of check's inputs is refused from its size.
func TestLoadOversized(t *testing.T) {
	huge := sparse(t, "huge.bin", 100<<20)
	good, key, chain := corpusFile("server-good.crt"), corpusFile("keys/rsa2048.key"), corpusFile("chain.pem")
	for _, tc := range []struct {
		name string
		f    Files
		want string
	}{
		{"cert", Files{Cert: huge}, "huge.bin is 100 MiB; a certificate file is at most 4 MiB"},
		{"chain", Files{Cert: good, Chain: huge}, "huge.bin is 100 MiB"},
		{"key", Files{Cert: good, Key: huge, Chain: chain}, "huge.bin is 100 MiB"},
		{"pfx", Files{PFX: huge}, "huge.bin is 100 MiB"},
		{"crl", Files{Cert: good, Key: key, Chain: chain, CRLs: []string{huge}}, "larger than 64 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadGuarded(t, tc.f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A CRL "file" that never ends (a device, a pipe) is refused after the
// size limit instead of being read until memory runs out.
func TestLoadEndlessCRL(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := loadGuarded(t, Files{Cert: corpusFile("server-good.crt"), CRLs: []string{"/dev/zero"}})
	if err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("error %v", err)
	}
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// costlyPFX is the corpus .pfx with its MAC asking for n PBKDF iterations.
func costlyPFX(t *testing.T, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(corpusFile("v-good.pfx"))
	if err != nil {
		t.Fatal(err)
	}
	var pdu struct {
		Version  int
		AuthSafe asn1.RawValue
		MacData  struct {
			Mac        asn1.RawValue
			MacSalt    []byte
			Iterations int `asn1:"optional,default:1"`
		} `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(data, &pdu); err != nil {
		t.Fatal(err)
	}
	pdu.MacData.Iterations = n
	out, err := asn1.Marshal(pdu)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// costlyKey is the corpus's encrypted key (PBES2, PBKDF2) asking for n
// iterations.
func costlyKey(t *testing.T, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(corpusFile("keys/rsa2048-enc.key"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	var info struct {
		Algorithm     algorithmIdentifier
		EncryptedData []byte
	}
	if _, err := asn1.Unmarshal(block.Bytes, &info); err != nil {
		t.Fatal(err)
	}
	var pbes2 struct {
		KDF algorithmIdentifier
		Enc algorithmIdentifier
	}
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &pbes2); err != nil {
		t.Fatal(err)
	}
	var kdf struct {
		Salt       []byte
		Iterations int
		PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(pbes2.KDF.Parameters.FullBytes, &kdf); err != nil {
		t.Fatal(err)
	}
	kdf.Iterations = n
	var err2 error
	if pbes2.KDF.Parameters.FullBytes, err2 = asn1.Marshal(kdf); err2 != nil {
		t.Fatal(err2)
	}
	if info.Algorithm.Parameters.FullBytes, err2 = asn1.Marshal(pbes2); err2 != nil {
		t.Fatal(err2)
	}
	der, err := asn1.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// A .pfx or an encrypted key asking for billions of KDF iterations is
// refused before the password is tried, as inspect refuses it
// (pkifile.MaxIterations); it would keep check busy for hours.
func TestLoadCostlyKDF(t *testing.T) {
	dir := t.TempDir()
	pfx := filepath.Join(dir, "costly.pfx")
	if err := os.WriteFile(pfx, costlyPFX(t, 1<<31-1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadGuarded(t, Files{PFX: pfx, Password: staticPassword(corpusPass)})
	if err == nil || !strings.Contains(err.Error(), "asks for 2147483647 iterations") {
		t.Errorf(".pfx: error %v", err)
	}

	key := filepath.Join(dir, "costly.key")
	if err := os.WriteFile(key, costlyKey(t, 1<<31-1), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := loadGuarded(t, Files{Cert: corpusFile("server-good.crt"), Key: key, Password: staticPassword(corpusPass)})
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	if in.Key != nil || in.KeyErr == nil || !strings.Contains(in.KeyErr.Error(), "asks for 2147483647 iterations") {
		t.Errorf("key: KeyErr %v", in.KeyErr)
	}

	// The unmodified files still open (the rewriting above is sound).
	if _, err := Load(Files{PFX: corpusFile("v-good.pfx"), Password: staticPassword(corpusPass)}); err != nil {
		t.Errorf("v-good.pfx: %v", err)
	}
	if err := os.WriteFile(key, costlyKey(t, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	if in, err := Load(Files{Cert: corpusFile("server-good.crt"), Key: key, Password: staticPassword(corpusPass)}); err != nil || in.Key == nil {
		t.Errorf("key rewritten with 2048 iterations: %v, %v", err, in.KeyErr)
	}
}
