package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// caKeyHomes are the CA key pairs every built-in template is issued from:
// root and issuing of the same type, and an RSA 4096 root over each
// issuing type.
var caKeyHomes = []struct{ root, issuing string }{
	{"rsa:2048", "rsa:2048"},
	{"rsa:4096", "rsa:4096"},
	{"ecdsa:P-256", "ecdsa:P-256"},
	{"ecdsa:P-384", "ecdsa:P-384"},
	{"rsa:4096", "rsa:2048"},
	{"rsa:4096", "ecdsa:P-256"},
	{"rsa:4096", "ecdsa:P-384"},
}

// wantSignature is the signature a CA key of this spec must make on a
// template's certificates, written out rather than computed: RSA signs
// with the template's hash, ECDSA with its curve's (Mozilla Root Store
// Policy 5.1.2).
func wantSignature(ca keys.Spec, hash templates.Hash) x509.SignatureAlgorithm {
	switch {
	case ca.Curve == "P-256":
		return x509.ECDSAWithSHA256
	case ca.Curve == "P-384":
		return x509.ECDSAWithSHA384
	case hash == templates.SHA384:
		return x509.SHA384WithRSA
	case hash == templates.SHA512:
		return x509.SHA512WithRSA
	}
	return x509.SHA256WithRSA
}

// lintName matches a zlint name, which a user must never get as the reason.
var lintName = regexp.MustCompile(`\b[enw]_[a-z0-9]+_[a-z0-9_]+`)

// checkRefusal asserts err is a refusal a user can act on: a *UsageError
// whose message is a sentence about the template, with a hint, and no lint
// name.
func checkRefusal(t *testing.T, err error, template string, reasons ...string) {
	t.Helper()
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("refusal is %T (%v), want a *UsageError", err, err)
	}
	msg := ue.Error()
	if lintName.MatchString(msg) || strings.Contains(msg, ".txt") {
		t.Errorf("refusal names a lint or a seed file: %q", msg)
	}
	if !strings.HasPrefix(msg, "template \""+template+"\" ") || strings.HasSuffix(msg, ".") {
		t.Errorf("refusal %q does not start with the template's name, or ends with a period", msg)
	}
	for _, r := range reasons {
		if !strings.Contains(msg, r) {
			t.Errorf("refusal %q does not say %q", msg, r)
		}
	}
	if ue.Hint.IsZero() {
		t.Errorf("refusal %q has no hint", msg)
	}
}

// matrixDir holds the matrix's CA homes, one per key pair, made once per
// test run (RSA 4096 keys are slow) and shared by the tests that issue
// from every CA key type.
var (
	matrixDir   string
	matrixMu    sync.Mutex
	matrixHomes = map[string]*matrixEntry{}
)

type matrixEntry struct {
	once sync.Once
	home string
	err  error
}

// matrixHome opens the CA home whose root and issuing CA have these keys.
func matrixHome(t *testing.T, root, issuing string) *Store {
	t.Helper()
	matrixMu.Lock()
	e := matrixHomes[root+"/"+issuing]
	if e == nil {
		e = &matrixEntry{}
		matrixHomes[root+"/"+issuing] = e
	}
	matrixMu.Unlock()
	e.once.Do(func() {
		rootSpec, err1 := keys.ParseSpec(root)
		issSpec, err2 := keys.ParseSpec(issuing)
		if e.err = errors.Join(err1, err2); e.err != nil {
			return
		}
		e.home = filepath.Join(matrixDir, strings.NewReplacer(":", "", "/", "-").Replace(root+"-over-"+issuing))
		var s *Store
		s, e.err = Init(context.Background(), InitOptions{
			Home: e.home, RootCN: "Matrix Root", IssuingCN: "Matrix Issuing",
			BaseURL: "http://pki.matrix.test", Org: "Matrix", OU: "Lab", Country: "US",
			RootKey: rootSpec, IssuingKey: issSpec, Password: testPassword,
		})
		if e.err == nil {
			s.Close()
		}
	})
	if e.err != nil {
		t.Fatal(e.err)
	}
	s, err := Open(e.home, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// leafKeys caches one leaf key per spec across the matrix: generating RSA
// keys dominates issuance, and the CA's signature is what is tested.
var leafKeys = struct {
	sync.Mutex
	m map[keys.Spec]crypto.Signer
}{m: map[keys.Spec]crypto.Signer{}}

func leafKeyFor(t *testing.T, spec keys.Spec) crypto.Signer {
	t.Helper()
	k, err := cachedKey(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// cachedKey is keys.Generate, once per spec (IssueRequest.newKey).
func cachedKey(spec keys.Spec) (crypto.Signer, error) {
	leafKeys.Lock()
	defer leafKeys.Unlock()
	if k, ok := leafKeys.m[spec]; ok {
		return k, nil
	}
	k, err := keys.Generate(spec)
	if err != nil {
		return nil, err
	}
	leafKeys.m[spec] = k
	return k, nil
}

// TestCAKeyTypes issues every built-in template's example from CA homes of
// every key type: each either issues, signed with the algorithm the CA key
// calls for and passing zlint, or is refused with a sentence that names
// the reason, before anything is signed.
func TestCAKeyTypes(t *testing.T) {
	builtins, err := templates.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range caKeyHomes {
		t.Run(h.root+"_over_"+h.issuing, func(t *testing.T) {
			t.Parallel()
			rootSpec, err1 := keys.ParseSpec(h.root)
			issSpec, err2 := keys.ParseSpec(h.issuing)
			if err := errors.Join(err1, err2); err != nil {
				t.Fatal(err)
			}
			s := matrixHome(t, h.root, h.issuing)
			// The root signs itself and the issuing CA as its own key
			// calls for.
			want := wantSignature(rootSpec, templates.SHA256)
			for _, c := range []*x509.Certificate{s.Root.Cert, s.Issuing.Cert} {
				if c.SignatureAlgorithm != want {
					t.Errorf("%s is signed with %v; the root's %s key must sign with %v", c.Subject.CommonName, c.SignatureAlgorithm, rootSpec, want)
				}
				findings, err := Lint(c.Raw, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range findings {
					if strings.HasPrefix(f.Lint, "e_mp_ecdsa_") || strings.Contains(f.Lint, "signature") {
						t.Errorf("%s: %s: %s", c.Subject.CommonName, f.Lint, f.Details)
					}
				}
			}
			caKey, err := s.Key(s.Issuing)
			if err != nil {
				t.Fatal(err)
			}
			for _, tm := range builtins {
				t.Run(tm.Name, func(t *testing.T) {
					req := IssueRequest{Template: tm, Out: t.TempDir(), Password: "matrix-pfx"}
					req.Subject, req.SANs = tm.ExampleRequest()
					kinds, _ := tm.IssuerKeyTypes()
					refusedType := len(kinds) > 0 && !slices.Contains(kinds, templates.KeyType(issSpec.Type))
					wantAlg := wantSignature(issSpec, tm.Signature.Hash)
					refusedHash := !slices.Contains(tm.Signature.Allowed, templates.HashOf(wantAlg))
					if refusedType || refusedHash {
						before := countCerts(t, s)
						_, err := s.Issue(context.Background(), req)
						if err == nil {
							t.Fatalf("issued from an %s issuing CA; want a refusal", issSpec)
						}
						if refusedType {
							checkRefusal(t, err, tm.Name, "needs certificates signed by an RSA key", "this CA's key is "+issSpec.String())
						} else {
							checkRefusal(t, err, tm.Name, "must sign with")
						}
						if n := countCerts(t, s); n != before {
							t.Errorf("a refused issuance changed the database: %d certificates, was %d", n, before)
						}
						if ents, _ := os.ReadDir(req.Out); len(ents) > 0 {
							t.Errorf("a refused issuance wrote %d files", len(ents))
						}
						return
					}
					// Issue's own path without its key generation and
					// file writing: plan, sign (cfssl), lint.
					p, err := s.plan(context.Background(), req, true)
					if err != nil {
						t.Fatalf("plan: %v", err)
					}
					cert, _, err := s.signKey(p, leafKeyFor(t, p.key), caKey)
					if err != nil {
						t.Fatalf("signing from an %s issuing CA: %v", issSpec, err)
					}
					if cert.SignatureAlgorithm != wantAlg {
						t.Errorf("signed with %v; an %s issuing CA must sign with %v", cert.SignatureAlgorithm, issSpec, wantAlg)
					}
					if err := cert.CheckSignatureFrom(s.Issuing.Cert); err != nil {
						t.Errorf("not signed by the issuing CA: %v", err)
					}
					findings, err := Lint(cert.Raw, tm)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range findings {
						if f.Status == "error" || f.Status == "fatal" {
							t.Errorf("zlint %s: %s %s", f.Status, f.Lint, f.Details)
						}
					}
				})
			}
		})
	}
}

// sigTemplate is a template whose own key signs (self-signed allowed),
// with the given key and [signature] lines.
func sigTemplate(t *testing.T, name, key, signature string) *templates.Template {
	t.Helper()
	src := `name = "` + name + `"
allow_self_signed = true
[key]
` + key + `
[signature]
` + signature + `
[validity]
days = 30
[usage]
key_usage = ["digitalSignature"]
ext_key_usage = ["clientAuth"]
[san]
allow_dns = true
cn_in_san = true
[output]
formats = ["crt", "key"]
`
	tm, err := templates.Parse(name+".toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestSignatureAlgorithm(t *testing.T) {
	sha256Only := sigTemplate(t, "sha256-only", `type = "ecdsa"`+"\ncurve = \"P-256\"", `hash = "sha256"`)
	sha384 := sigTemplate(t, "sha384", `type = "rsa"`+"\nbits = 2048", `hash = "sha384"`+"\nallowed = [\"sha256\", \"sha384\"]")
	rsaOnly := sigTemplate(t, "rsa-only", `type = "rsa"`+"\nbits = 2048", `hash = "sha256"`+"\nallowed = [\"sha256\", \"sha384\"]\nissuer_key_types = [\"rsa\"]")
	rsa2048 := keys.Spec{Type: "rsa", Bits: 2048}
	p256, p384 := keys.Spec{Type: "ecdsa", Curve: "P-256"}, keys.Spec{Type: "ecdsa", Curve: "P-384"}
	for _, tc := range []struct {
		name     string
		t        *templates.Template
		key      keys.Spec
		whose    string
		want     x509.SignatureAlgorithm
		refusal  []string // the refusal must say these
		wantHint string
	}{
		{name: "CA certificate, RSA", key: rsa2048, whose: ownKey, want: x509.SHA256WithRSA},
		{name: "CA certificate, P-256", key: p256, whose: ownKey, want: x509.ECDSAWithSHA256},
		{name: "CA certificate, P-384", key: p384, whose: ownKey, want: x509.ECDSAWithSHA384},
		{name: "RSA signs with the template's hash", t: sha384, key: rsa2048, whose: issuingCAKey, want: x509.SHA384WithRSA},
		{name: "P-256 signs with SHA-256 whatever the template's hash", t: sha384, key: p256, whose: issuingCAKey, want: x509.ECDSAWithSHA256},
		{name: "P-384 signs with SHA-384", t: sha384, key: p384, whose: issuingCAKey, want: x509.ECDSAWithSHA384},
		{name: "P-256 under sha256 only", t: sha256Only, key: p256, whose: issuingCAKey, want: x509.ECDSAWithSHA256},
		{name: "P-384 under sha256 only", t: sha256Only, key: p384, whose: issuingCAKey,
			refusal:  []string{`template "sha256-only" only accepts SHA-256 signatures, and this CA's P-384 key must sign with SHA-384`},
			wantHint: "another issuing key"},
		{name: "own P-384 key under sha256 only", t: sha256Only, key: p384, whose: ownKey,
			refusal:  []string{"the certificate's own P-384 key must sign with SHA-384"},
			wantHint: "issue it from the CA"},
		{name: "RSA under issuer_key_types rsa", t: rsaOnly, key: rsa2048, whose: issuingCAKey, want: x509.SHA256WithRSA},
		{name: "ECDSA under issuer_key_types rsa", t: rsaOnly, key: p384, whose: issuingCAKey,
			refusal:  []string{`template "rsa-only" needs certificates signed by an RSA key`, "this CA's key is ecdsa:P-384"},
			wantHint: "--issuing-key rsa:4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := signatureAlgorithm(tc.t, tc.key, tc.whose)
			if tc.refusal != nil {
				if err == nil {
					t.Fatalf("got %v; want a refusal", got)
				}
				checkRefusal(t, err, tc.t.Name, tc.refusal...)
				if h := testkit.Dashed(err.(*UsageError).Hint); !strings.Contains(h, tc.wantHint) {
					t.Errorf("hint %q, want it to contain %q", h, tc.wantHint)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := signatureAlgorithm(nil, keys.Spec{Type: "ed25519"}, issuingCAKey); err == nil {
		t.Error("an Ed25519 CA key was given an algorithm")
	}
}

// TestSelfSignedSignature: a self-signed certificate's own key decides its
// signature by the same rule, and a key the template's hashes exclude is
// refused before anything is made.
func TestSelfSignedSignature(t *testing.T) {
	for _, tc := range []struct {
		name, key, signature string
		want                 x509.SignatureAlgorithm
	}{
		{"rsa", `type = "rsa"` + "\nbits = 2048", `hash = "sha384"` + "\nallowed = [\"sha384\"]", x509.SHA384WithRSA},
		{"p384", `type = "ecdsa"` + "\ncurve = \"P-384\"", `hash = "sha256"` + "\nallowed = [\"sha256\", \"sha384\"]", x509.ECDSAWithSHA384},
		{"p384-refused", `type = "ecdsa"` + "\ncurve = \"P-384\"", `hash = "sha256"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := sigTemplate(t, "self-"+tc.name, tc.key, tc.signature)
			out := t.TempDir()
			req := IssueRequest{Template: tm, Out: out}
			req.Subject.CommonName = "self.example.com"
			res, err := IssueSelfSigned(context.Background(), nil, req)
			if tc.want == 0 {
				checkRefusal(t, err, tm.Name, "must sign with SHA-384")
				if ents, _ := os.ReadDir(out); len(ents) > 0 {
					t.Errorf("a refused self-signed certificate wrote %d files", len(ents))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Cert.SignatureAlgorithm != tc.want {
				t.Errorf("signed with %v, want %v", res.Cert.SignatureAlgorithm, tc.want)
			}
		})
	}
}
