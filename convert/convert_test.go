package convert

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/internal/testkit"
)

// The fixtures are inspect's, made by openssl (inspect/testdata/make-fixtures.sh).
const (
	fixtures   = "../inspect/testdata"
	fixturePW  = "fixture-pw"
	newPFXPass = "new-pfx-password"
)

// contents is what a file holds, read back with pkifile.
type contents struct {
	certs []*x509.Certificate
	key   crypto.Signer
	csrs  int
	crls  int
	enc   pkifile.Encoding
}

func readBack(t *testing.T, path, password string) contents {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pkifile.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := contents{enc: f.Encoding}
	for _, o := range f.Objects {
		switch o.Kind {
		case pkifile.KindCertificate:
			cert, err := x509.ParseCertificate(o.DER)
			if err != nil {
				t.Fatal(err)
			}
			c.certs = append(c.certs, cert)
		case pkifile.KindKey:
			if o.PEMType == "ENCRYPTED PRIVATE KEY" {
				t.Errorf("%s: the key is encrypted", path)
			}
			k, err := pkifile.DecodeKey(o, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			c.key = k.Signer
		case pkifile.KindCSR:
			c.csrs++
		case pkifile.KindCRL:
			c.crls++
		case pkifile.KindPKCS12:
			p, err := pkifile.DecodePFX(o.DER, func() (string, error) { return password, nil }, 0)
			if err != nil {
				t.Fatal(err)
			}
			c.certs, c.key = p.Certs, p.Key
		}
	}
	return c
}

// fixture returns what a fixture holds.
func fixture(t *testing.T, name string) contents {
	t.Helper()
	return readBack(t, filepath.Join(fixtures, name), fixturePW)
}

// copyIn copies fixtures into a fresh folder and returns it.
func copyIn(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(fixtures, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sameCerts(t *testing.T, what string, got, want []*x509.Certificate) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d certificates, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if !bytes.Equal(got[i].Raw, want[i].Raw) {
			t.Errorf("%s: certificate %d is %s, want %s", what, i+1, got[i].Subject, want[i].Subject)
		}
	}
}

func sameKey(t *testing.T, what string, got crypto.Signer, want crypto.Signer) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s: key present %v, want %v", what, got != nil, want != nil)
	case !keys.Match(got, want.Public()):
		t.Errorf("%s: a different private key", what)
	}
}

func runOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(testkit.RequireTool(t, "openssl"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// opensslReads checks that openssl reads a file convert wrote, the way an
// administrator would (seed 004's test commands and conversions).
func opensslReads(t *testing.T, path string, c contents, pfxPassword string) {
	t.Helper()
	data, _ := os.ReadFile(path)
	form := "PEM"
	if c.enc == pkifile.DER {
		form = "DER"
	}
	switch {
	case bytes.HasPrefix(data, []byte{0x30}) && c.key != nil && len(c.certs) > 0: // .pfx
		// Without -legacy: OpenSSL 3 must read both the modern and the
		// legacy (3DES) form certmint writes.
		out := runOpenSSL(t, "pkcs12", "-in", path, "-info", "-nodes", "-passin", "pass:"+pfxPassword)
		if !strings.Contains(out, "BEGIN CERTIFICATE") || !strings.Contains(out, "BEGIN PRIVATE KEY") {
			t.Errorf("openssl pkcs12 -nodes on %s printed no certificate or key:\n%s", path, out)
		}
	default:
		for range c.certs[:min(1, len(c.certs))] {
			runOpenSSL(t, "x509", "-inform", form, "-in", path, "-noout", "-subject")
		}
		if c.key != nil {
			runOpenSSL(t, "pkey", "-inform", form, "-in", path, "-noout")
		}
		if c.csrs > 0 {
			runOpenSSL(t, "req", "-inform", form, "-in", path, "-noout", "-verify")
		}
		if c.crls > 0 {
			runOpenSSL(t, "crl", "-inform", form, "-in", path, "-noout")
		}
	}
}

func TestConversions(t *testing.T) {
	server := fixture(t, "server.crt")
	caChain := fixture(t, "ca-chain.pem")
	full := append(append([]*x509.Certificate{}, server.certs...), caChain.certs...)
	serverKey := fixture(t, "server.key").key
	clientKey := fixture(t, "client-sec1.key").key
	ed := fixture(t, "ed25519.key").key

	type want struct {
		file  string // relative to the folder
		certs []*x509.Certificate
		key   crypto.Signer
		csrs  int
		crls  int
		enc   pkifile.Encoding
		mode  os.FileMode
	}
	tests := []struct {
		name  string
		files []string // fixtures copied into the folder
		opts  Options  // In and Out relative to the folder
		want  []want
	}{
		// Seed 004, "Convert existing files to supported files".
		{name: "crt to pem", files: []string{"server.crt"}, opts: Options{In: "server.crt", To: PEM},
			want: []want{{file: "server.pem", certs: server.certs, enc: pkifile.PEM, mode: 0o644}}},
		{name: "pem to crt", files: []string{"ca-chain.pem"}, opts: Options{In: "ca-chain.pem", To: CRT},
			want: []want{{file: "ca-chain.crt", certs: caChain.certs, enc: pkifile.PEM, mode: 0o644}}},
		{name: "pfx to pem (-nodes)", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: PEM},
			want: []want{{file: "modern.pem", certs: full, key: serverKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "pfx to pem -nokeys", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: PEM, NoKeys: true},
			want: []want{{file: "modern.pem", certs: full, enc: pkifile.PEM, mode: 0o644}}},
		{name: "pfx to pem -nocerts", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: PEM, NoCerts: true},
			want: []want{{file: "modern.pem", key: serverKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "legacy RC2 pfx to pem", files: []string{"legacy-rc2.pfx"}, opts: Options{In: "legacy-rc2.pfx", To: PEM},
			want: []want{{file: "legacy-rc2.pem", certs: full, key: serverKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "cer to crt", files: []string{"server.cer"}, opts: Options{In: "server.cer", To: CRT},
			want: []want{{file: "server.crt", certs: server.certs, enc: pkifile.PEM, mode: 0o644}}},
		// DER and PEM both ways.
		{name: "der to pem", files: []string{"server.der"}, opts: Options{In: "server.der", To: PEM},
			want: []want{{file: "server.pem", certs: server.certs, enc: pkifile.PEM, mode: 0o644}}},
		{name: "der to crt", files: []string{"server.der"}, opts: Options{In: "server.der", To: CRT},
			want: []want{{file: "server.crt", certs: server.certs, enc: pkifile.PEM, mode: 0o644}}},
		{name: "pem to der", files: []string{"server.crt"}, opts: Options{In: "server.crt", To: DER},
			want: []want{{file: "server.der", certs: server.certs, enc: pkifile.DER, mode: 0o644}}},
		{name: "der key to pem key", files: []string{"server-key.der"}, opts: Options{In: "server-key.der", To: Key},
			want: []want{{file: "server-key.key", key: serverKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "pem key to der", files: []string{"server.key"}, opts: Options{In: "server.key", To: DER},
			want: []want{{file: "server.der", key: serverKey, enc: pkifile.DER, mode: 0o600}}},
		{name: "encrypted key to plain PKCS#8", files: []string{"server-encrypted.key"}, opts: Options{In: "server-encrypted.key", To: Key, Out: "plain.key"},
			want: []want{{file: "plain.key", key: serverKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "PKCS#1 key to PKCS#8", files: []string{"server-pkcs1.key"}, opts: Options{In: "server-pkcs1.key", To: Key, Out: "pkcs8.key"},
			want: []want{{file: "pkcs8.key", key: serverKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "SEC 1 key to PKCS#8", files: []string{"client-sec1.key"}, opts: Options{In: "client-sec1.key", To: PEM},
			want: []want{{file: "client-sec1.pem", key: clientKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "Ed25519 key to DER", files: []string{"ed25519.key"}, opts: Options{In: "ed25519.key", To: DER},
			want: []want{{file: "ed25519.der", key: ed, enc: pkifile.DER, mode: 0o600}}},
		{name: "CRL DER to PEM", files: []string{"issuing.crl"}, opts: Options{In: "issuing.crl", To: PEM},
			want: []want{{file: "issuing.pem", crls: 1, enc: pkifile.PEM, mode: 0o644}}},
		{name: "CRL PEM to DER", files: []string{"issuing.crl.pem"}, opts: Options{In: "issuing.crl.pem", To: DER, Out: "out.crl"},
			want: []want{{file: "out.crl", crls: 1, enc: pkifile.DER, mode: 0o644}}},
		{name: "CSR PEM to DER", files: []string{"server.csr"}, opts: Options{In: "server.csr", To: DER},
			want: []want{{file: "server.der", csrs: 1, enc: pkifile.DER, mode: 0o644}}},
		// Certificate + key + chain to .pfx, and back.
		{name: "crt key chain to modern pfx", files: []string{"server.crt", "server.key", "ca-chain.pem"},
			opts: Options{In: "server.crt", To: PFX, Key: "server.key", Chain: "ca-chain.pem"},
			want: []want{{file: "server.pfx", certs: full, key: serverKey, enc: pkifile.DER, mode: 0o600}}},
		{name: "crt encrypted key chain to legacy pfx", files: []string{"server.crt", "server-encrypted.key", "ca-chain.pem"},
			opts: Options{In: "server.crt", To: PFX, Key: "server-encrypted.key", Chain: "ca-chain.pem", Legacy: true, FriendlyName: "Sensor 1"},
			want: []want{{file: "server.pfx", certs: full, key: serverKey, enc: pkifile.DER, mode: 0o600}}},
		{name: "unordered chain with key to pfx", files: []string{"chain-unordered.pem", "server.key"},
			opts: Options{In: "chain-unordered.pem", To: PFX, Key: "server.key", Out: "sensor.pfx"},
			want: []want{{file: "sensor.pfx", certs: full, key: serverKey, enc: pkifile.DER, mode: 0o600}}},
		{name: "combined pem to pfx", files: []string{"server-combined.pem"}, opts: Options{In: "server-combined.pem", To: PFX, Legacy: true},
			want: []want{{file: "server-combined.pfx", certs: full[:2], key: serverKey, enc: pkifile.DER, mode: 0o600}}},
		{name: "modern pfx to legacy pfx", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: PFX, Legacy: true, Out: "mac.pfx"},
			want: []want{{file: "mac.pfx", certs: full, key: serverKey, enc: pkifile.DER, mode: 0o600}}},
		{name: "pfx to crt, key and chain", files: []string{"legacy-3des.p12"}, opts: Options{In: "legacy-3des.p12", To: CRT, Out: "out" + string(filepath.Separator)},
			want: []want{
				{file: "out/legacy-3des.crt", certs: server.certs, enc: pkifile.PEM, mode: 0o644},
				{file: "out/legacy-3des.key", key: serverKey, enc: pkifile.PEM, mode: 0o600},
				{file: "out/legacy-3des-chain.pem", certs: caChain.certs, enc: pkifile.PEM, mode: 0o644},
			}},
		{name: "pfx to crt and chain -nokeys", files: []string{"no-password.pfx"}, opts: Options{In: "no-password.pfx", To: CRT, NoKeys: true, Out: "sensor.crt"},
			want: []want{
				{file: "sensor.crt", certs: server.certs, enc: pkifile.PEM, mode: 0o644},
				{file: "sensor-chain.pem", certs: caChain.certs, enc: pkifile.PEM, mode: 0o644},
			}},
		{name: "pfx to key", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: Key},
			want: []want{{file: "modern.key", key: serverKey, enc: pkifile.PEM, mode: 0o600}}},
		{name: "pfx to der: the leaf", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: DER},
			want: []want{{file: "modern.der", certs: server.certs, enc: pkifile.DER, mode: 0o644}}},
		{name: "chain to one cer per certificate", files: []string{"chain-unordered.pem"}, opts: Options{In: "chain-unordered.pem", To: CER},
			want: []want{
				{file: "Fixture Root CA.cer", certs: full[2:], enc: pkifile.PEM, mode: 0o644},
				{file: "sensor.fixture.test.cer", certs: full[:1], enc: pkifile.PEM, mode: 0o644},
				{file: "Fixture Issuing CA.cer", certs: full[1:2], enc: pkifile.PEM, mode: 0o644},
			}},
		{name: "der to cer", files: []string{"server.der"}, opts: Options{In: "server.der", To: CER},
			want: []want{{file: "server.cer", certs: server.certs, enc: pkifile.PEM, mode: 0o644}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyIn(t, tc.files...)
			if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			o := tc.opts
			o.In = filepath.Join(dir, o.In)
			for _, p := range []*string{&o.Key, &o.Chain, &o.Out} {
				if *p != "" {
					*p = filepath.Join(dir, *p) + strings.Repeat(string(filepath.Separator), boolInt(strings.HasSuffix(*p, string(filepath.Separator))))
				}
			}
			asked := 0
			o.Password = func() (string, error) { asked++; return fixturePW, nil }
			o.NewPassword = func() (string, error) { return newPFXPass, nil }
			res, err := Run(o)
			if err != nil {
				t.Fatal(err)
			}
			if asked > 1 {
				t.Errorf("the password was asked for %d times", asked)
			}
			if len(res.Files) != len(tc.want) {
				t.Errorf("wrote %d files, want %d: %+v", len(res.Files), len(tc.want), res.Files)
			}
			for _, w := range tc.want {
				path := filepath.Join(dir, filepath.FromSlash(w.file))
				st, err := os.Stat(path)
				if err != nil {
					t.Error(err)
					continue
				}
				if runtime.GOOS != "windows" && st.Mode().Perm() != w.mode {
					t.Errorf("%s: mode %v, want %v", w.file, st.Mode().Perm(), w.mode)
				}
				got := readBack(t, path, newPFXPass)
				sameCerts(t, w.file, got.certs, w.certs)
				sameKey(t, w.file, got.key, w.key)
				if got.csrs != w.csrs || got.crls != w.crls {
					t.Errorf("%s: %d requests and %d CRLs, want %d and %d", w.file, got.csrs, got.crls, w.csrs, w.crls)
				}
				if got.enc != w.enc {
					t.Errorf("%s: %s, want %s", w.file, got.enc, w.enc)
				}
				opensslReads(t, path, got, newPFXPass)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The .pfx convert writes carries the friendlyName, and the legacy one is
// what macOS and Windows before 1709 import: 3DES with a SHA-1 MAC.
func TestPFXFlavours(t *testing.T) {
	dir := copyIn(t, "server.crt", "server.key", "ca-chain.pem", "modern.pfx")
	for _, tc := range []struct {
		name, in, key, chain, friendly string
		legacy                         bool
		wantName, wantMAC, wantEnc     string
	}{
		{name: "modern", in: "server.crt", key: "server.key", chain: "ca-chain.pem", wantName: "sensor.fixture.test", wantMAC: "SHA-256", wantEnc: "PBES2"},
		{name: "legacy", in: "server.crt", key: "server.key", legacy: true, friendly: "Sensor One", wantName: "Sensor One", wantMAC: "SHA-1", wantEnc: "pbeWithSHA1And3-KeyTripleDES-CBC"},
		{name: "pfx keeps its friendlyName", in: "modern.pfx", legacy: true, wantName: "Fixture Sensor", wantMAC: "SHA-1", wantEnc: "pbeWithSHA1And3-KeyTripleDES-CBC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-")+".pfx")
			o := Options{In: filepath.Join(dir, tc.in), To: PFX, Out: out, Legacy: tc.legacy, FriendlyName: tc.friendly,
				Password: func() (string, error) { return fixturePW, nil }, NewPassword: func() (string, error) { return newPFXPass, nil }}
			if tc.key != "" {
				o.Key = filepath.Join(dir, tc.key)
			}
			if tc.chain != "" {
				o.Chain = filepath.Join(dir, tc.chain)
			}
			if _, err := Run(o); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(out)
			p, err := pkifile.DecodePFX(data, func() (string, error) { return newPFXPass, nil }, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.MAC.Name != tc.wantMAC {
				t.Errorf("MAC %s, want %s", p.MAC.Name, tc.wantMAC)
			}
			for _, a := range p.Encryptions() {
				if a.Name != tc.wantEnc {
					t.Errorf("encryption %s, want %s", a.Name, tc.wantEnc)
				}
			}
			names := 0
			for _, b := range p.Bags {
				if b.FriendlyName != "" {
					names++
					if b.FriendlyName != tc.wantName {
						t.Errorf("friendlyName %q, want %q", b.FriendlyName, tc.wantName)
					}
				}
			}
			if names != 2 {
				t.Errorf("%d bags with a friendlyName, want 2 (key and leaf)", names)
			}
			if p.Leaf != 0 {
				t.Errorf("the key's certificate is bag %d, want the first", p.Leaf)
			}
			// openssl shows the name too.
			if out := runOpenSSL(t, "pkcs12", "-in", out, "-nokeys", "-passin", "pass:"+newPFXPass); !strings.Contains(out, "friendlyName: "+tc.wantName) {
				t.Errorf("openssl does not show friendlyName %q:\n%s", tc.wantName, out)
			}
		})
	}
}

// Round trips: .pfx to separate files and back to a .pfx, and PEM to DER
// and back, keep the key and every certificate.
func TestRoundTrips(t *testing.T) {
	dir := copyIn(t, "legacy-rc2.pfx", "server.crt")
	pw := func() (string, error) { return fixturePW, nil }
	newPW := func() (string, error) { return newPFXPass, nil }
	orig := fixture(t, "legacy-rc2.pfx")
	split := filepath.Join(dir, "split")
	os.Mkdir(split, 0o755)
	steps := []Options{
		{In: filepath.Join(dir, "legacy-rc2.pfx"), To: CRT, Out: split},
		{In: filepath.Join(split, "legacy-rc2.crt"), To: PFX, Key: filepath.Join(split, "legacy-rc2.key"), Chain: filepath.Join(split, "legacy-rc2-chain.pem"), Out: filepath.Join(dir, "again.pfx")},
		{In: filepath.Join(dir, "again.pfx"), To: PEM, Out: filepath.Join(dir, "again.pem")},
		{In: filepath.Join(dir, "again.pem"), To: PFX, Legacy: true, Out: filepath.Join(dir, "third.pfx")},
	}
	for _, o := range steps {
		o.Password, o.NewPassword = pw, newPW
		if o.In != filepath.Join(dir, "legacy-rc2.pfx") {
			o.Password = newPW
		}
		if _, err := Run(o); err != nil {
			t.Fatalf("%s to %s: %v", o.In, o.To, err)
		}
	}
	for _, f := range []string{"again.pfx", "again.pem", "third.pfx"} {
		got := readBack(t, filepath.Join(dir, f), newPFXPass)
		sameCerts(t, f, got.certs, orig.certs)
		sameKey(t, f, got.key, orig.key)
	}
	// PEM -> DER -> PEM gives the same bytes.
	for _, o := range []Options{
		{In: filepath.Join(dir, "server.crt"), To: DER, Out: filepath.Join(dir, "x.der")},
		{In: filepath.Join(dir, "x.der"), To: PEM, Out: filepath.Join(dir, "x.pem")},
	} {
		if _, err := Run(o); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "server.crt"))
	b, _ := os.ReadFile(filepath.Join(dir, "x.pem"))
	if !bytes.Equal(a, b) {
		t.Error("PEM -> DER -> PEM changed the file")
	}
	// openssl agrees on the key of the pfx convert wrote.
	mod1 := runOpenSSL(t, "pkcs12", "-in", filepath.Join(dir, "third.pfx"), "-nocerts", "-nodes", "-passin", "pass:"+newPFXPass)
	if !strings.Contains(mod1, "BEGIN PRIVATE KEY") {
		t.Errorf("openssl found no key:\n%s", mod1)
	}
	k, err := keys.ParsePEM([]byte(mod1), "")
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "openssl's view of third.pfx", k, orig.key)
	// go-pkcs12's own reader agrees too.
	data, _ := os.ReadFile(filepath.Join(dir, "third.pfx"))
	key, leaf, cas, err := pkcs12.DecodeChain(data, newPFXPass)
	if err != nil {
		t.Fatal(err)
	}
	sameCerts(t, "DecodeChain", append([]*x509.Certificate{leaf}, cas...), orig.certs)
	sameKey(t, "DecodeChain", key.(crypto.Signer), orig.key)
}

// Refusals: an error, and nothing written.
func TestRefusals(t *testing.T) {
	wrongPW := func() (string, error) { return "wrong", nil }
	tests := []struct {
		name   string
		files  []string
		setup  func(t *testing.T, dir string)
		opts   Options
		want   string
		target any // the error type, as errors.As wants it
	}{
		{name: "key does not match", files: []string{"server.crt", "client-sec1.key"}, opts: Options{In: "server.crt", To: PFX, Key: "client-sec1.key"},
			want: "does not belong to any certificate", target: new(*MismatchError)},
		{name: "--key with --to crt", files: []string{"client.crt", "server.key"}, opts: Options{In: "client.crt", To: CRT, Key: "server.key"},
			want: "key-file, chain, legacy and friendly-name only apply to to=pfx", target: new(*UsageError)},
		{name: "existing output", files: []string{"server.crt"}, opts: Options{In: "server.crt", To: PEM},
			setup: func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "server.pem"), []byte("mine"), 0o644) },
			want:  "already exists", target: new(*fsutil.ExistsError)},
		{name: "existing key of a split", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: CRT},
			setup: func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "modern.key"), []byte("mine"), 0o600) },
			want:  "modern.key already exists", target: new(*fsutil.ExistsError)},
		{name: "chain to der", files: []string{"ca-chain.pem"}, opts: Options{In: "ca-chain.pem", To: DER},
			want: "a DER file holds one certificate, and", target: new(*NothingError)},
		{name: "nokeys and nocerts", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: PEM, NoKeys: true, NoCerts: true},
			want: "leave nothing to write", target: new(*UsageError)},
		{name: "wrong pfx password", files: []string{"modern.pfx"}, opts: Options{In: "modern.pfx", To: PEM, Password: wrongPW},
			want: "the password does not open the PKCS#12 file", target: new(*pkifile.WrongPasswordError)},
		{name: "wrong key password", files: []string{"server.crt", "server-encrypted.key"}, opts: Options{In: "server.crt", To: PFX, Key: "server-encrypted.key", Password: wrongPW},
			want: "the password does not open the private key", target: new(*pkifile.WrongPasswordError)},
		{name: "certificates-only pfx", files: []string{"certs-only.pfx"}, opts: Options{In: "certs-only.pfx", To: PEM},
			want: "cannot be decoded", target: new(*NothingError)},
		{name: "no key for key", files: []string{"server.crt"}, opts: Options{In: "server.crt", To: Key},
			want: "holds no private key", target: new(*NothingError)},
		{name: "no key for pfx", files: []string{"server.crt"}, opts: Options{In: "server.crt", To: PFX},
			want: "a .pfx needs one", target: new(*NothingError)},
		{name: "two keys", files: []string{"server-combined.pem", "server.key"}, opts: Options{In: "server-combined.pem", To: PFX, Key: "server.key"},
			want: "already holds a private key", target: new(*UsageError)},
		{name: "several cer into a file", files: []string{"ca-chain.pem"}, opts: Options{In: "ca-chain.pem", To: CER, Out: "x.cer"},
			want: "out must be an existing folder", target: new(*UsageError)},
		{name: "not a certificate file", files: []string{"make-fixtures.sh"}, opts: Options{In: "make-fixtures.sh", To: PEM},
			want: "not a certificate", target: new(*pkifile.UnknownError)},
		{name: "missing input", opts: Options{In: "nope.crt", To: PEM}, want: "no such file", target: new(*os.PathError)},
		{name: "out under a file", files: []string{"server.crt"}, opts: Options{In: "server.crt", To: PEM, Out: "server.crt/x.pem"}, want: "is not a folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyIn(t, tc.files...)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			before := listing(t, dir)
			o := tc.opts
			o.In = filepath.Join(dir, o.In)
			for _, p := range []*string{&o.Key, &o.Chain, &o.Out} {
				if *p != "" {
					*p = filepath.Join(dir, *p)
				}
			}
			if o.Password == nil {
				o.Password = func() (string, error) { return fixturePW, nil }
			}
			o.NewPassword = func() (string, error) { return newPFXPass, nil }
			_, err := Run(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.target != nil && !errors.As(err, tc.target) {
				t.Errorf("error %T is not %T", err, tc.target)
			}
			if after := listing(t, dir); after != before {
				t.Errorf("files changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// listing is the names and contents of a folder's files.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			data, _ := os.ReadFile(p)
			b.WriteString(p + ":" + string(data[:min(16, len(data))]) + ";")
		}
		return nil
	})
	return b.String()
}

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		"sensor.crt": "sensor", "dir/issuing.crl.pem": "issuing", "a.b.example.com.pfx": "a.b.example.com",
		"noext": "noext", ".pem": "converted", "x.tar": "x.tar",
	} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}
