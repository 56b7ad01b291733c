package interop

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// Secrets of the test CA homes, passed to certmint in its environment only.
const (
	caPassword     = "interop-ca-password"
	bundlePassword = "interop-bundle-password" // keytool wants at least 6 characters
	baseURL        = "http://pki.interop.test"
	otherBaseURL   = "http://pki.other.test"
)

// caHome is a CA home made by `certmint init`.
type caHome struct {
	Label   string // "main" or "other", for messages
	Home    string
	BaseURL string
	Root    caCert
	Issuing caCert
}

// caCert is one CA of a home, as `certmint init --json` reports it.
type caCert struct {
	Slug string
	Path string // <home>/<slug>/ca.crt (PEM)
	Cert *x509.Certificate
}

// issueJSON is the output of `certmint issue --json`.
type issueJSON struct {
	Serial   string   `json:"serial"`
	Subject  string   `json:"subject"`
	SANs     []string `json:"sans"`
	Template string   `json:"template"`
	NotAfter string   `json:"not_after"`
	Files    []string `json:"files"`
}

// bundle is one `certmint issue` run and the files it wrote.
type bundle struct {
	Template *templates.Template
	CA       *caHome
	Dir      string
	Name     string    // --name: the files are Dir/Name.crt, ...
	CN       string    // the common name asked for (--cn, or the example's)
	SANs     []string  // the SANs asked for (--san, or the example's)
	Cmd      string    // the command line, for failure messages
	IssuedAt time.Time // just before certmint ran
	JSON     issueJSON
	Err      error // why issuance failed; tests of this bundle fail with it
}

func (b *bundle) path(suffix string) string { return filepath.Join(b.Dir, b.Name+suffix) }
func (b *bundle) crt() string               { return b.path(".crt") }
func (b *bundle) key() string               { return b.path(".key") }
func (b *bundle) pfx() string               { return b.path(".pfx") }
func (b *bundle) chain() string             { return b.path("-chain.pem") }

// has reports whether the bundle was issued with the format.
func (b *bundle) has(f templates.Format) bool {
	switch f {
	case templates.FormatCRT:
		return slices.Contains(b.JSON.Files, b.crt())
	case templates.FormatKey:
		return slices.Contains(b.JSON.Files, b.key())
	case templates.FormatPFX:
		return slices.Contains(b.JSON.Files, b.pfx())
	case templates.FormatChain:
		return slices.Contains(b.JSON.Files, b.chain())
	}
	return false
}

var (
	certmintBin string // the binary under test
	workDir     string // everything the tests write

	mainCA  *caHome // certmint init defaults: rsa:4096 root and issuing CA
	otherCA *caHome // an unrelated CA (ecdsa:P-256), for "wrong CA" cases

	builtins []*templates.Template
	// examples holds `certmint issue --template NAME --example` from mainCA,
	// by template name.
	examples = map[string]*bundle{}
	// fullBundles holds, for templates whose default files lack one of
	// .crt, .key, .pfx and the chain, the same example issued with --format
	// crt,key,pfx,chain, so every file kind of every template is exercised.
	fullBundles = map[string]*bundle{}
	// localhostServer: `server` for --cn localhost --san 127.0.0.1 --san ::1.
	localhostServer *bundle
	// otherClient: the `client` example issued by otherCA.
	otherClient *bundle
	// clientEverySAN: `client` with a SAN of every kind.
	clientEverySAN *bundle
	// legacyPFX: while no built-in template asks for pfx_encryption =
	// "legacy", the `client` template with only that changed, as a user
	// template file, so the legacy .pfx is handed to openssl and keytool too.
	legacyPFX *bundle
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() && os.Getenv(testkit.RequireInteropEnv) != "1" {
		fmt.Println("interop: skipped in -short mode (builds certmint and creates RSA 4096 CAs)")
		return 0
	}
	dir, err := os.MkdirTemp("", "certmint-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop setup:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	workDir = dir
	start := time.Now()
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "interop setup failed (work folder %s):\n%v\n", dir, err)
		return 1
	}
	logf("interop: setup done in %v", time.Since(start).Round(time.Millisecond))
	return m.Run()
}

// setup builds certmint, creates the two CA homes and issues every bundle
// the tests read. Issuance failures are kept per bundle (bundle.Err), so one
// broken template fails its own tests only.
func setup() error {
	var err error
	if builtins, err = templates.Builtins(); err != nil {
		return fmt.Errorf("templates.Builtins: %w", err)
	}
	if len(builtins) == 0 {
		return errors.New("templates.Builtins returned no template")
	}
	start := time.Now()
	if certmintBin, err = buildCertmint(); err != nil {
		return err
	}
	logf("interop: go build ./cmd/certmint: %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()

	// The two homes are independent: create them at the same time.
	var wg sync.WaitGroup
	var mainErr, otherErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		// The defaults end to end: no --key, no --issuing-key (rsa:4096).
		mainCA, mainErr = initCA("main", baseURL,
			"--root-cn", "Interop Root CA", "--issuing-cn", "Interop Issuing CA",
			"--org", "Certmint Interop", "--country", "US")
	}()
	go func() {
		defer wg.Done()
		otherCA, otherErr = initCA("other", otherBaseURL,
			"--root-cn", "Other Root CA", "--issuing-cn", "Other Issuing CA", "--key", "ecdsa:P-256")
	}()
	wg.Wait()
	if err := errors.Join(mainErr, otherErr); err != nil {
		return err
	}
	logf("interop: certmint init (main: defaults, rsa:4096; other: ecdsa:P-256): %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()

	// Issue from the two homes at the same time; within one home, one at a
	// time, as a single administrator would.
	wg.Add(2)
	go func() {
		defer wg.Done()
		for _, t := range builtins {
			b := issue(mainCA, t, t.Name, filepath.Join("bundles", t.Name), t.Name, "--example")
			examples[t.Name] = b
			full := t.HasFormat(templates.FormatCRT) && t.HasFormat(templates.FormatKey) &&
				t.HasFormat(templates.FormatPFX) && t.HasFormat(templates.FormatChain)
			if b.Err == nil && !full {
				// --force: a one-certificate-per-CN template (defender-sensor)
				// refuses the same example twice otherwise.
				fullBundles[t.Name] = issue(mainCA, t, t.Name, filepath.Join("full", t.Name), t.Name, "--example",
					"--format", "crt,key,pfx,chain", "--force")
			}
		}
		server, err := templates.Builtin("server")
		if err != nil {
			localhostServer = &bundle{Err: err}
			return
		}
		client, err := templates.Builtin("client")
		if err != nil {
			clientEverySAN = &bundle{Err: err}
			return
		}
		localhostServer = issue(mainCA, server, server.Name, "localhost", "localhost",
			"--cn", "localhost", "--san", "127.0.0.1", "--san", "::1")
		clientEverySAN = issue(mainCA, client, client.Name, "every-san", "every-san", "--cn", "W702.ACME.LOCAL",
			"--san", "DNS:w702.acme.local", "--san", "IP:10.1.2.3", "--san", "IP:fd00::17",
			"--san", "email:alice@acme.local", "--san", "URI:spiffe://acme.local/w702")
		if !slices.ContainsFunc(builtins, func(t *templates.Template) bool { return t.Output.PFXEncryption == templates.PFXLegacy }) {
			legacyPFX = issueLegacy()
		}
	}()
	go func() {
		defer wg.Done()
		client, err := templates.Builtin("client")
		if err != nil {
			otherClient = &bundle{Err: err}
			return
		}
		otherClient = issue(otherCA, client, client.Name, "other-client", "other-client", "--example")
	}()
	wg.Wait()
	logf("interop: certmint issue: %v", time.Since(start).Round(time.Millisecond))
	return nil
}

// logf prints setup progress with -v.
func logf(format string, args ...any) {
	if testing.Verbose() {
		fmt.Printf(format+"\n", args...)
	}
}

// buildCertmint builds ./cmd/certmint of this module with CGO disabled, as
// the release binaries are.
func buildCertmint() (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the certmint module")
	}
	bin := filepath.Join(workDir, "certmint")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./cmd/certmint")
	cmd.Dir = filepath.Dir(mod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -o %s ./cmd/certmint (in %s): %v\n%s", bin, cmd.Dir, err, out)
	}
	return bin, nil
}

// result is one finished command.
type result struct {
	Cmd    string // as typed, for messages
	Stdout string
	Stderr string
	Code   int   // exit status; -1 when it did not run or was killed
	Err    error // why it did not run, or how it exited
}

func (r result) String() string {
	return fmt.Sprintf("$ %s\nexit status %d\n--- stdout:\n%s--- stderr:\n%s", r.Cmd, r.Code, r.Stdout, r.Stderr)
}

// commandTimeout bounds every child process.
const commandTimeout = 60 * time.Second

// execute runs name with args, with env appended to a copy of the test's
// environment from which every CERTMINT_ variable was removed.
func execute(env []string, stdin string, name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{Cmd: commandLine(name, args), Stdout: stdout.String(), Stderr: stderr.String(), Code: -1, Err: err}
	if cmd.ProcessState != nil {
		r.Code = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		r.Err = fmt.Errorf("killed after %v: %w", commandTimeout, ctx.Err())
	}
	return r
}

func commandLine(name string, args []string) string {
	parts := []string{filepath.Base(name)}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'*?$") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// certmintEnv is the environment certmint runs with for a home.
func certmintEnv(home string) []string {
	return []string{
		"CERTMINT_HOME=" + home,
		"CERTMINT_CA_PASSWORD=" + caPassword,
		"CERTMINT_PASSWORD=" + bundlePassword,
	}
}

func runCertmint(home string, args ...string) result {
	return execute(certmintEnv(home), "", certmintBin, args...)
}

// run runs certmint against the main CA home and returns its stdout,
// stderr and exit status.
func run(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runIn(t, mainCA.Home, args...)
}

// runIn is run for another CA home.
func runIn(t testing.TB, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	r := runCertmint(home, args...)
	if r.Code == -1 {
		t.Fatalf("certmint did not run: %v\n%s", r.Err, r)
	}
	return r.Stdout, r.Stderr, r.Code
}

// initCA runs `certmint init --json` in a new home below workDir and loads
// the two CA certificates it reports.
func initCA(label, base string, args ...string) (*caHome, error) {
	home := filepath.Join(workDir, label+"-pki")
	r := runCertmint(home, append([]string{"init", "--base-url", base, "--json"}, args...)...)
	if r.Code != 0 {
		return nil, fmt.Errorf("%s CA: certmint init failed\n%s", label, r)
	}
	var out struct {
		Home string `json:"home"`
		CAs  []struct {
			Slug string `json:"slug"`
			Cert string `json:"cert"`
		} `json:"cas"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		return nil, fmt.Errorf("%s CA: certmint init --json printed no JSON: %v\n%s", label, err, r)
	}
	if len(out.CAs) != 2 {
		return nil, fmt.Errorf("%s CA: certmint init --json lists %d CAs, want 2 (root, issuing)\n%s", label, len(out.CAs), r)
	}
	h := &caHome{Label: label, Home: home, BaseURL: base}
	for i, c := range []*caCert{&h.Root, &h.Issuing} {
		c.Slug, c.Path = out.CAs[i].Slug, out.CAs[i].Cert
		if want := filepath.Join(home, c.Slug, "ca.crt"); c.Path != want {
			return nil, fmt.Errorf("%s CA: init --json says the certificate of %s is %s, want %s", label, c.Slug, c.Path, want)
		}
		cert, err := readCert(c.Path)
		if err != nil {
			return nil, fmt.Errorf("%s CA: %w", label, err)
		}
		c.Cert = cert
	}
	// init lists the root first; make sure that is what we took.
	if !bytes.Equal(h.Root.Cert.RawSubject, h.Root.Cert.RawIssuer) || bytes.Equal(h.Issuing.Cert.RawSubject, h.Issuing.Cert.RawIssuer) {
		return nil, fmt.Errorf("%s CA: init --json does not list the self-signed root first, then the issuing CA", label)
	}
	return h, nil
}

// issueLegacy writes the `client` template with pfx_encryption = "legacy"
// as a user template and issues its example.
func issueLegacy() *bundle {
	client, err := templates.Builtin("client")
	if err != nil {
		return &bundle{Err: err}
	}
	src := string(client.Text())
	for _, r := range [][2]string{
		{`name = "client"`, `name = "interop-legacy"`},
		{`pfx_encryption = "modern"`, `pfx_encryption = "legacy"`},
	} {
		if !strings.Contains(src, r[0]) {
			return &bundle{Err: fmt.Errorf("deriving a legacy template from builtin/client.toml: it no longer has %s", r[0])}
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	file := filepath.Join(workDir, "interop-legacy.toml")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		return &bundle{Err: err}
	}
	t, err := templates.LoadFile(file)
	if err != nil {
		return &bundle{Err: fmt.Errorf("the derived legacy template: %w", err)}
	}
	return issue(mainCA, t, file, "legacy", "legacy", "--example")
}

// issue runs `certmint issue --template TEMPLATE ... --out DIR --name NAME
// --json` in the CA home; dir is relative to workDir.
func issue(h *caHome, t *templates.Template, template, dir, name string, args ...string) *bundle {
	b := &bundle{Template: t, CA: h, Dir: filepath.Join(workDir, dir), Name: name}
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		b.Err = err
		return b
	}
	for i, a := range args {
		switch {
		case a == "--example":
			b.CN, b.SANs = t.Example.CN, append(b.SANs, t.Example.SAN...)
		case a == "--cn" && i+1 < len(args):
			b.CN = args[i+1]
		case a == "--san" && i+1 < len(args):
			b.SANs = append(b.SANs, args[i+1])
		}
	}
	argv := append([]string{"issue", "--template", template}, args...)
	argv = append(argv, "--out", b.Dir, "--name", name, "--json")
	b.IssuedAt = time.Now()
	r := runCertmint(h.Home, argv...)
	b.Cmd = r.Cmd
	if r.Code != 0 {
		b.Err = fmt.Errorf("certmint issue failed\n%s", r)
		return b
	}
	if err := json.Unmarshal([]byte(r.Stdout), &b.JSON); err != nil {
		b.Err = fmt.Errorf("certmint issue --json printed no JSON: %v\n%s", err, r)
	}
	return b
}

// example returns the main CA's example bundle of a template, or fails t
// with why it could not be issued.
func example(t testing.TB, tmpl *templates.Template) *bundle {
	t.Helper()
	b := examples[tmpl.Name]
	if b == nil {
		t.Fatalf("template %s: no bundle was issued in TestMain", tmpl.Name)
	}
	if b.Err != nil {
		t.Fatalf("template %s: %v", tmpl.Name, b.Err)
	}
	return b
}

// ready fails t when an extra bundle could not be issued.
func ready(t testing.TB, b *bundle, what string) *bundle {
	t.Helper()
	if b == nil {
		t.Fatalf("%s: not issued", what)
	}
	if b.Err != nil {
		t.Fatalf("%s: %v", what, b.Err)
	}
	return b
}

// forEachTemplate runs f as a parallel subtest per built-in template.
func forEachTemplate(t *testing.T, f func(t *testing.T, tmpl *templates.Template)) {
	t.Helper()
	for _, tmpl := range builtins {
		t.Run(tmpl.Name, func(t *testing.T) {
			t.Parallel()
			f(t, tmpl)
		})
	}
}

// forEachPFX runs f as a parallel subtest for the .pfx of every built-in
// template (issued with --format crt,key,pfx,chain when its own files have
// none) and for the derived legacy template.
func forEachPFX(t *testing.T, f func(t *testing.T, tmpl *templates.Template, b *bundle)) {
	t.Helper()
	forEachTemplate(t, func(t *testing.T, tmpl *templates.Template) {
		b := example(t, tmpl)
		if !b.has(templates.FormatPFX) {
			b = ready(t, fullBundles[tmpl.Name], "template "+tmpl.Name+" with --format crt,key,pfx,chain")
		}
		f(t, tmpl, b)
	})
	if legacyPFX != nil {
		t.Run("derived-legacy", func(t *testing.T) {
			t.Parallel()
			b := ready(t, legacyPFX, `the client template with pfx_encryption = "legacy"`)
			f(t, b.Template, b)
		})
	}
}

// tool runs an external tool (found by testkit.RequireTool) and returns what it did.
func tool(t testing.TB, name string, args ...string) result {
	t.Helper()
	return execute(nil, "", testkit.RequireTool(t, name), args...)
}

// mustTool runs an external tool and fails t, with the command and its
// output, unless it exits 0.
func mustTool(t testing.TB, context, name string, args ...string) result {
	t.Helper()
	r := tool(t, name, args...)
	if r.Code != 0 {
		t.Fatalf("%s: %s failed:\n%s", context, name, r)
	}
	return r
}

// readCert reads the first certificate of a PEM file.
func readCert(path string) (*x509.Certificate, error) {
	certs, err := readCerts(path)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// readCerts reads every CERTIFICATE block of a PEM file, refusing anything
// else in it.
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: unexpected PEM block %q", path, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		return nil, fmt.Errorf("%s: trailing data after the last certificate", path)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return certs, nil
}

func mustReadCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	c, err := readCert(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
