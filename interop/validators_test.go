package interop

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/certmint/certmint/templates"
)

// The switches that make a missing validator a failure instead of a skip.
// .ci/run installs certtool and certutil and sets the first two; it sets
// the third only when its python3 has pyca/cryptography 44 or later, which
// it cannot install without internet.
const (
	requireGnuTLSEnv = "CERTMINT_REQUIRE_GNUTLS"
	requireNSSEnv    = "CERTMINT_REQUIRE_NSS"
	requirePycaEnv   = "CERTMINT_REQUIRE_PYCA"
)

// pycaScript runs pyca/cryptography's RFC 5280 verifier on one chain.
const pycaScript = "testdata/pyca_verify.py"

// validator is a chain verifier nobody here wrote.
type validator struct {
	name  string
	env   string       // its CERTMINT_REQUIRE_ switch
	find  func() error // why it cannot run here, or nil
	check func(t *testing.T, c chainCase, ps []purpose) []verdict
}

var validators = []validator{
	{"gnutls", requireGnuTLSEnv, lookPath("certtool", "gnutls-bin"), gnutlsVerify},
	{"nss", requireNSSEnv, lookPath("certutil", "libnss3-tools"), nssVerify},
	{"pyca", requirePycaEnv, findPyca, pycaVerify},
}

func lookPath(name, pkg string) func() error {
	return func() error {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("%s is not in PATH (Debian: apt-get install %s)", name, pkg)
		}
		return nil
	}
}

// findPyca asks python3, once, for what pyca_verify.py imports.
var findPyca = sync.OnceValue(func() error {
	if _, err := exec.LookPath("python3"); err != nil {
		return errors.New("python3 is not in PATH")
	}
	r := execute(nil, "", "python3", "-c", "from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store")
	if r.Code != 0 {
		why := fmt.Sprint(r.Err)
		if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); lines[len(lines)-1] != "" {
			why = lines[len(lines)-1] // the ImportError
		}
		return fmt.Errorf("python3 has no pyca/cryptography 44 or later (pip install 'cryptography>=44'): %s", why)
	}
	return nil
})

// require skips t when the validator cannot run here, or fails it when
// its switch is set.
func (v validator) require(t *testing.T) {
	t.Helper()
	err := v.find()
	if err == nil {
		return
	}
	if os.Getenv(v.env) == "1" {
		t.Fatalf("%v, and %s=1", err, v.env)
	}
	t.Skipf("%v: skipping (set %s=1 to make this a failure)", err, v.env)
}

// validatorHome is a CA home and its example bundle of every template.
type validatorHome struct {
	ca      *caHome
	key     templates.KeyType // of its issuing CA
	bundles map[string]*bundle
}

// ecdsaHomeOnce is a CA home with ECDSA P-256 root and issuing CAs
// (mainCA's are RSA 4096) and the example of every template issued from it,
// made on first use: only TestValidators reads it.
var ecdsaHomeOnce = sync.OnceValues(func() (*validatorHome, error) {
	h := &validatorHome{key: templates.ECDSA, bundles: map[string]*bundle{}}
	var err error
	h.ca, err = initCA("validators-ecdsa", "http://pki.validators.test",
		"--root-cn", "Validators ECDSA Root CA", "--issuing-cn", "Validators ECDSA Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		return nil, err
	}
	for _, tmpl := range builtins {
		h.bundles[tmpl.Name] = issue(h.ca, tmpl, tmpl.Name, filepath.Join("validators-ecdsa", tmpl.Name), tmpl.Name, "--example")
	}
	return h, nil
})

func ecdsaCA(t *testing.T) *validatorHome {
	t.Helper()
	h, err := ecdsaHomeOnce()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// purpose is one use the validators check a leaf for, from its template's
// extended key usage.
type purpose struct {
	oid  string   // certtool --verify-purpose; "" for a template without EKU
	host string   // certtool --verify-hostname, for servers
	nss  string   // certutil -V -u
	pyca []string // pyca_verify.py's mode and its argument
}

// purposesOf lists the checks for a leaf of tmpl: one per extended key
// usage, or one for a template without any.
func purposesOf(tmpl *templates.Template, leaf *x509.Certificate) ([]purpose, error) {
	if len(tmpl.Usage.ExtKeyUsage) == 0 {
		// No EKU: any purpose (RFC 5280 4.2.1.12). NSS has no usage for a
		// token signer (safeq-signing); SSL client is its usage for a key
		// that only signs (SSL server wants keyEncipherment of an RSA key).
		return []purpose{{nss: "C", pyca: []string{"signing", "none"}}}, nil
	}
	var ps []purpose
	for _, u := range tmpl.Usage.ExtKeyUsage {
		switch u {
		case "serverAuth":
			name := serverName(leaf)
			if name == "" {
				return nil, fmt.Errorf("ext_key_usage has serverAuth, but the certificate names no host")
			}
			ps = append(ps, purpose{oid: "1.3.6.1.5.5.7.3.1", host: name, nss: "V", pyca: []string{"server", name}})
		case "clientAuth":
			ps = append(ps, purpose{oid: "1.3.6.1.5.5.7.3.2", nss: "C", pyca: []string{"client"}})
		case "codeSigning":
			// pyca has no code-signing profile: its EE defaults, with
			// codeSigning required instead of a TLS purpose.
			ps = append(ps, purpose{oid: "1.3.6.1.5.5.7.3.3", nss: "J", pyca: []string{"signing", "1.3.6.1.5.5.7.3.3"}})
		default:
			return nil, fmt.Errorf("no validator check for ext_key_usage %s: add one to purposesOf", u)
		}
	}
	return ps, nil
}

// serverName is the name a TLS client would connect to: the CN when the
// SAN repeats it, else the first DNS name that is not a wildcard, else the
// first IP address.
func serverName(c *x509.Certificate) string {
	for _, n := range c.DNSNames {
		if strings.EqualFold(n, c.Subject.CommonName) {
			return n
		}
	}
	for _, n := range c.DNSNames {
		if !strings.HasPrefix(n, "*.") {
			return n
		}
	}
	if len(c.IPAddresses) > 0 {
		return c.IPAddresses[0].String()
	}
	return ""
}

// chainCase is what one validator run is handed.
type chainCase struct {
	name    string
	root    *caCert // the only trusted certificate
	issuing *caCert // the intermediate offered; nil for none
	leaf    *bundle
	want    bool   // whether the validators must accept it
	what    string // for messages
}

// verdict is one answer of a validator.
type verdict struct {
	ok     bool
	reason string // why it refused
	err    error  // set when it gave no verdict: the tool failed, or said something unknown
	run    result
}

// TestValidators: GnuTLS certtool, NSS certutil and pyca/cryptography's
// RFC 5280 verifier accept the example of every built-in template, issued
// by an RSA issuing CA and by an ECDSA P-256 one, up to its root, for the
// purposes its extended key usage names (and the host name of servers);
// they refuse it without the issuing CA, and under another certmint root.
func TestValidators(t *testing.T) {
	rsa := &validatorHome{ca: mainCA, key: templates.RSA, bundles: examples}
	ecdsa := ecdsaCA(t)
	homes := []*validatorHome{rsa, ecdsa}
	for i, h := range homes {
		other := homes[1-i]
		for _, tmpl := range builtins {
			t.Run(string(h.key)+"/"+tmpl.Name, func(t *testing.T) {
				t.Parallel()
				b := h.bundles[tmpl.Name]
				if b == nil {
					t.Fatalf("template %s: no bundle was issued from the %s CA", tmpl.Name, h.key)
				}
				if kinds, rule := tmpl.IssuerKeyTypes(); len(kinds) > 0 && !slices.Contains(kinds, h.key) {
					// certmint must refuse, so there is nothing to validate.
					if b.Err == nil || !strings.Contains(b.Err.Error(), "exit status 2") ||
						!strings.Contains(b.Err.Error(), "needs certificates signed by an") {
						t.Fatalf("template %s: %s allows only %v signers, but certmint issue from the %s CA did not refuse it (exit status 2, saying why): %v",
							tmpl.Name, rule, kinds, h.key, b.Err)
					}
					t.Logf("template %s: its %s exclude the %s CA, which certmint refused as it must", tmpl.Name, rule, h.key)
					return
				}
				if b.Err != nil {
					t.Fatalf("template %s (%s CA): %v", tmpl.Name, h.key, b.Err)
				}
				if !b.has(templates.FormatCRT) {
					t.Fatalf("template %s: its files have no .crt for the validators; issue it with --format crt here", tmpl.Name)
				}
				ps, err := purposesOf(tmpl, mustReadCert(t, b.crt()))
				if err != nil {
					t.Fatalf("template %s: %v", tmpl.Name, err)
				}
				cases := []chainCase{
					{"chain", &h.ca.Root, &h.ca.Issuing, b, true, "with its issuing CA, under its root"},
					{"no-issuing-ca", &h.ca.Root, nil, b, false, "without its issuing CA"},
					{"other-root", &other.ca.Root, &h.ca.Issuing, b, false, "under the root of the " + string(other.key) + " CA home"},
				}
				for _, c := range cases {
					for _, v := range validators {
						t.Run(c.name+"/"+v.name, func(t *testing.T) {
							v.require(t)
							for _, vd := range v.check(t, c, ps) {
								switch {
								case vd.err != nil:
									t.Errorf("template %s (%s CA): %s: %v\n%s", tmpl.Name, h.key, v.name, vd.err, vd.run)
								case c.want && !vd.ok:
									t.Errorf("template %s (%s CA): %s refuses certmint's certificate: %s\n%s\n(issued with: %s)", tmpl.Name, h.key, v.name, vd.reason, vd.run, b.Cmd)
								case !c.want && vd.ok:
									t.Errorf("template %s (%s CA): %s accepts the certificate %s:\n%s", tmpl.Name, h.key, v.name, c.what, vd.run)
								}
							}
						})
					}
				}
			})
		}
	}
}

// gnutlsVerify runs certtool --verify once per purpose, on a file with the
// leaf and the issuing CA (when offered), trusting only the root.
func gnutlsVerify(t *testing.T, c chainCase, ps []purpose) []verdict {
	infile := filepath.Join(t.TempDir(), "chain.pem")
	paths := []string{c.leaf.crt()}
	if c.issuing != nil {
		paths = append(paths, c.issuing.Path)
	}
	var pemData []byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pemData = append(pemData, data...)
	}
	if err := os.WriteFile(infile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	var out []verdict
	for _, p := range ps {
		// medium: the profile certtool says it will apply by default (it
		// refuses keys and hashes of less than 112-bit security).
		args := []string{"--verify", "--verify-profile", "medium", "--load-ca-certificate", c.root.Path, "--infile", infile}
		if p.oid != "" {
			args = append(args, "--verify-purpose", p.oid)
		}
		if p.host != "" {
			args = append(args, "--verify-hostname", p.host)
		}
		r := tool(t, "certtool", args...)
		vd := verdict{run: r}
		const prefix = "Chain verification output: "
		i := strings.LastIndex(r.Stdout, prefix)
		line := ""
		if i >= 0 {
			line, _, _ = strings.Cut(r.Stdout[i+len(prefix):], "\n")
			line = strings.TrimSpace(line)
		}
		switch {
		case strings.HasPrefix(line, "Verified.") && r.Code == 0:
			vd.ok = true
		case strings.HasPrefix(line, "Not verified.") && r.Code != 0:
			vd.reason = line
		default:
			vd.err = fmt.Errorf("want a %q line saying Verified or Not verified, matching the exit status", prefix)
		}
		out = append(out, vd)
	}
	return out
}

// nssVerify makes a throwaway NSS database with the root as the only
// trusted CA, the issuing CA (when offered) and the leaf, then runs
// certutil -V once per purpose.
func nssVerify(t *testing.T, c chainCase, ps []purpose) []verdict {
	db := "sql:" + t.TempDir()
	ctx := "NSS database " + db
	mustTool(t, ctx, "certutil", "-N", "-d", db, "--empty-password")
	// Root trust: C to issue server certificates, T client ones (with only
	// C, NSS refuses a client leaf: "Peer's certificate issuer has been
	// marked as not trusted by the user."), and C for object signing.
	mustTool(t, ctx, "certutil", "-A", "-d", db, "-n", "root", "-t", "CT,,C", "-i", c.root.Path)
	if c.issuing != nil {
		trust := ",,"
		if slices.ContainsFunc(ps, func(p purpose) bool { return p.nss == "J" }) {
			// NSS takes a CA without nsCertType or extended key usage for an
			// SSL and e-mail CA, never an object-signing one (lib/certdb/
			// certdb.c, cert_ComputeCertType), and refuses code signers under
			// it: "Issuer certificate is invalid." RFC 5280 gives CAs no
			// purpose (4.2.1.12: the EKU "will appear only in end entity
			// certificates"), so NSS is stricter than RFC 5280 here: mark the
			// issuing CA a valid object-signing CA, as NSS users must.
			trust = ",,c"
		}
		mustTool(t, ctx, "certutil", "-A", "-d", db, "-n", "issuing", "-t", trust, "-i", c.issuing.Path)
	}
	mustTool(t, ctx, "certutil", "-A", "-d", db, "-n", "leaf", "-t", ",,", "-i", c.leaf.crt())
	var out []verdict
	for _, p := range ps {
		r := tool(t, "certutil", "-V", "-d", db, "-n", "leaf", "-u", p.nss)
		vd := verdict{run: r}
		line := strings.TrimSpace(r.Stdout)
		switch reason, refused := strings.CutPrefix(line, "certutil: certificate is invalid: "); {
		case line == "certutil: certificate is valid" && r.Code == 0:
			vd.ok = true
		case refused && r.Code != 0:
			vd.reason = reason
		default:
			vd.err = errors.New(`want "certutil: certificate is valid" (exit status 0) or "certutil: certificate is invalid: REASON"`)
		}
		out = append(out, vd)
	}
	return out
}

// pycaVerify runs pyca_verify.py once per purpose and checks the chain it
// returns: the leaf, the issuing CA, the root.
func pycaVerify(t *testing.T, c chainCase, ps []purpose) []verdict {
	intermediates := "-"
	if c.issuing != nil {
		intermediates = c.issuing.Path
	}
	leaf := mustReadCert(t, c.leaf.crt())
	var out []verdict
	for _, p := range ps {
		args := append([]string{pycaScript, c.root.Path, intermediates, c.leaf.crt()}, p.pyca...)
		r := tool(t, "python3", args...)
		vd := verdict{run: r}
		var got struct {
			Verified bool         `json:"verified"`
			Error    string       `json:"error"`
			Chain    []chainEntry `json:"chain"`
		}
		err := json.Unmarshal([]byte(r.Stdout), &got)
		switch {
		case err != nil:
			vd.err = fmt.Errorf("no JSON line on stdout: %v", err)
		case got.Verified && r.Code == 0:
			vd.ok = true
			want := []*x509.Certificate{leaf, c.root.Cert}
			if c.issuing != nil {
				want = slices.Insert(want, 1, c.issuing.Cert)
			}
			if !slices.EqualFunc(got.Chain, want, func(e chainEntry, cert *x509.Certificate) bool {
				sum := sha256.Sum256(cert.Raw)
				return e.SHA256 == hex.EncodeToString(sum[:])
			}) {
				vd.err = fmt.Errorf("the verified chain is %v; want the leaf, the issuing CA and the root", got.Chain)
			}
		case !got.Verified && r.Code == 1 && got.Error != "":
			vd.reason = got.Error
		default:
			vd.err = errors.New(`want {"verified": true, ...} (exit status 0) or {"verified": false, "error": ...} (exit status 1)`)
		}
		out = append(out, vd)
	}
	return out
}

// chainEntry is one certificate of the chain pyca_verify.py verified.
type chainEntry struct {
	Subject string `json:"subject"`
	SHA256  string `json:"sha256"`
}

func (e chainEntry) String() string { return fmt.Sprintf("%s (SHA-256 %.16s...)", e.Subject, e.SHA256) }
