package inspect

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixedNow is the "now" of the goldens: the fixtures' dates are fixed by
// make-fixtures.sh, so days left and CRL status never drift.
var fixedNow = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

const fixturePassword = "fixture-pw"

func password(pw string) pkifile.PasswordFunc {
	return func() (string, error) { return pw, nil }
}

// goldenFixtures are the files whose text and JSON output is kept.
var goldenFixtures = []string{
	"server.crt", "server.der", "server.cer", "root.crt", "client.crt", "expired.crt", "not-yet-valid.crt",
	"chain-unordered.pem", "ca-chain.pem", "server-combined.pem",
	"server.key", "server-encrypted.key", "server-pkcs1.key", "server-key.der", "client-sec1.key", "ed25519.key",
	"server.csr", "server-csr.der", "bad-signature-csr.der",
	"issuing.crl", "issuing.crl.pem",
	"modern.pfx", "legacy-rc2.pfx", "legacy-3des.p12", "no-password.pfx", "certs-only.pfx", "windows-style.pfx",
}

func TestGolden(t *testing.T) {
	for _, name := range goldenFixtures {
		t.Run(name, func(t *testing.T) {
			asked := 0
			r, err := File(filepath.Join("testdata", name), Options{
				Now:      fixedNow,
				Password: func() (string, error) { asked++; return fixturePassword, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", name+".txt"), text.Bytes())
			golden(t, filepath.Join("testdata", "golden", name+".json"), js.Bytes())
			// The password is asked for only when the file is encrypted.
			wantAsk := strings.Contains(name, "encrypted") || (strings.Contains(name, "pfx") || strings.HasSuffix(name, ".p12")) && name != "no-password.pfx"
			if (asked > 0) != wantAsk || asked > 1 {
				t.Errorf("password asked %d times", asked)
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./inspect -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update if the change is intended):\n--- got\n%s", path, got)
	}
}

func TestPasswords(t *testing.T) {
	wrong := password("not-the-password")
	failing := func() (string, error) { return "", errors.New("no terminal to ask on") }
	tests := []struct {
		name     string
		file     string
		password pkifile.PasswordFunc
		want     string // in the error
		wrongPW  bool
	}{
		{name: "pfx wrong password", file: "modern.pfx", password: wrong, want: "the password does not open the PKCS#12 file", wrongPW: true},
		{name: "legacy pfx wrong password", file: "legacy-rc2.pfx", password: wrong, want: "the password does not open the PKCS#12 file", wrongPW: true},
		{name: "key wrong password", file: "server-encrypted.key", password: wrong, want: "the password does not open the private key", wrongPW: true},
		{name: "pfx without a password source", file: "modern.pfx", password: nil, want: "needs a password", wrongPW: true},
		{name: "key without a password source", file: "server-encrypted.key", password: nil, want: "needs a password", wrongPW: true},
		{name: "password source fails", file: "modern.pfx", password: failing, want: "no terminal to ask on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := File(filepath.Join("testdata", tc.file), Options{Now: fixedNow, Password: tc.password})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if IsPasswordError(err) != tc.wrongPW {
				t.Errorf("IsPasswordError = %v", !tc.wrongPW)
			}
			if !strings.HasPrefix(err.Error(), filepath.Join("testdata", tc.file)+": ") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	pfx, _ := os.ReadFile("testdata/modern.pfx")
	crt, _ := os.ReadFile("testdata/server.crt")
	der, _ := os.ReadFile("testdata/server.der")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"text", []byte("hello, world\n"), "not a certificate, certificate request, CRL, private key or PKCS#12 file"},
		{"UTF-16", append([]byte{0xff, 0xfe}, []byte("-\x00-\x00")...), "UTF-16"},
		{"cut PEM", crt[:len(crt)/2], "no complete PEM block"},
		{"cut DER", der[:len(der)/2], "the file is cut short: its DER structure declares 1314 bytes but the file has 657"},
		{"damaged DER certificate", append(append([]byte{}, der[:40]...), make([]byte, len(der)-40)...), "not a certificate, certificate request"},
		{"public key only", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), `found PUBLIC KEY`},
		{"PKCS#7", []byte("-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n"), "PKCS#7 (.p7b)"},
		{"cut PKCS#12", pfx[:len(pfx)-100], "the file is cut short"},
		{"damaged PKCS#12", flip(pfx, len(pfx)-60), "PKCS#12: malformed file"},
		{"damaged PKCS#12 MAC", flip(pfx, len(pfx)-20), "the password does not open the PKCS#12 file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Data(tc.data, Options{Now: fixedNow, Password: password(fixturePassword)})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func flip(data []byte, at int) []byte {
	out := append([]byte{}, data...)
	out[at] ^= 1
	return out
}

// A 100 MB file is refused from its size, before it is read: the sparse
// file below would take seconds to read, and the test fails if it is.
func TestOversizedFile(t *testing.T) {
	path := testkit.SparseFile(t, t.TempDir(), "huge.crt", 100<<20)
	_, err := File(path, Options{})
	var tl *pkifile.TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "is 100 MiB") {
		t.Fatalf("error %v, want a TooLargeError", err)
	}
}

// BenchmarkRefuseOversizedFile: refusing a 100 MB file is a stat, not a
// read (no test asserts a time).
func BenchmarkRefuseOversizedFile(b *testing.B) {
	path := testkit.SparseFile(b, b.TempDir(), "huge.crt", 100<<20)
	for b.Loop() {
		if _, err := File(path, Options{}); err == nil {
			b.Fatal("accepted")
		}
	}
}

// A file that asks for more KDF work than allowed is refused before any
// password is tried.
func TestKDFCost(t *testing.T) {
	for _, name := range []string{"server-encrypted.key", "modern.pfx"} {
		asked := false
		_, err := File(filepath.Join("testdata", name), Options{Now: fixedNow, MaxIterations: 1000,
			Password: func() (string, error) { asked = true; return fixturePassword, nil }})
		if err == nil || !strings.Contains(err.Error(), "asks for 2048 iterations; certmint refuses more than 1000") {
			t.Errorf("%s: error %v", name, err)
		}
		if asked {
			t.Errorf("%s: the password was asked for", name)
		}
	}
}

func TestValidityText(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		now    time.Time
		status string
		text   string
		days   int
	}{
		{nb.Add(-48 * time.Hour), StatusNotYet, "not yet valid: starts in 2 days", 367},
		{nb.Add(-90 * time.Minute), StatusNotYet, "not yet valid: starts in 1 hour", 365},
		{nb.Add(time.Hour), StatusValid, "364 days left", 364},
		{na.Add(-5 * time.Hour), StatusValid, "5 hours left", 0},
		{na.Add(-time.Minute), StatusValid, "1 minute left", 0},
		{na.Add(time.Minute), StatusExpired, "expired 1 minute ago", 0},
		{na.Add(49 * time.Hour), StatusExpired, "expired 2 days ago", -2},
	}
	for _, tc := range tests {
		v := validity(nb, na, tc.now)
		if v.Status != tc.status || v.Text != tc.text || v.DaysLeft != tc.days {
			t.Errorf("at %v: got %+v, want %s %q %d", tc.now, v, tc.status, tc.text, tc.days)
		}
	}
}
