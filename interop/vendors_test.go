package interop

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// The acceptance of issue 4 with the tools the vendors name: the SafeQ
// script's example typed into bash (003), seed 004's own openssl test and
// conversion commands on Defender bundles, the macOS .pfx and .cer files as
// `security import` and Keychain need them (002), keytool on every .pfx, and
// a TLS handshake with the SafeQ SSL certificate.
//
// These tests share a CA home of their own, with a fast ECDSA root, an RSA
// issuing CA (seed 004: "Signature Algorithm = SHA256RSA") and a base URL
// with a port (004: "Define another URL and a specific port").

const vendorBaseURL = "http://pki.vendors.test:8080/pki"

// safeqSeedLine is seed 003's example, as an administrator types it (the
// script's name replaced by certmint's).
const safeqSeedLine = `certmint safeq -Subject "YSoft SafeQ" -FriendlyName "YSoft SafeQ Signing Certificate" -Password "123456" -SubjectAlternativeNames "*.company.com", "1.2.3.4"`

const safeqFriendly = "YSoft SafeQ Signing Certificate"

var (
	vendorOnce sync.Once
	vendorHome *caHome
	vendorErr  error
)

// vendorCA is the CA home of these tests, made on first use.
func vendorCA(t *testing.T) *caHome {
	t.Helper()
	vendorOnce.Do(func() {
		vendorHome, vendorErr = initCA("vendors", vendorBaseURL,
			"--root-cn", "Vendors Root CA", "--issuing-cn", "Vendors Issuing CA",
			"--key", "ecdsa:P-256", "--issuing-key", "rsa:2048", "--org", "Vendors Lab", "--country", "US")
	})
	if vendorErr != nil {
		t.Fatal(vendorErr)
	}
	return vendorHome
}

// vendorDir is a fresh folder below workDir (t.TempDir names are long and
// may hold characters shells would need quoted).
func vendorDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp(workDir, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// vendorCertmint runs certmint in the vendors home and fails t unless it
// exits 0.
func vendorCertmint(t *testing.T, h *caHome, args ...string) result {
	t.Helper()
	r := runCertmint(h.Home, args...)
	if r.Code != 0 {
		t.Fatalf("certmint failed:\n%s", r)
	}
	return r
}

// vendorBash runs a bash script with certmint on PATH, in dir, with env.
func vendorBash(t *testing.T, dir string, env []string, script string) result {
	t.Helper()
	testkit.RequireTool(t, "bash")
	env = append(env, "PATH="+filepath.Dir(certmintBin)+string(os.PathListSeparator)+os.Getenv("PATH"), "OUT="+dir)
	return execute(env, "", "bash", "-c", `cd "$OUT" && `+script)
}

// combined is what a tool printed on both streams.
func combined(r result) string { return r.Stdout + r.Stderr }

// TestVendorSafeQScriptExample: seed 003's generateCertificate.ps1 example,
// typed into bash as the administrator types it, works: the argv password
// warns, "YSoft SafeQ Signing Certificate.pfx" is written, openssl shows its
// friendlyName and the SANs DNS:*.company.com and IP Address:1.2.3.4. Also
// with --self-signed and no CA home, and with the long flag names.
func TestVendorSafeQScriptExample(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	h := vendorCA(t)
	const shortWarning = "certmint: warning: the bundle password has only 6 characters; it is used"
	pwFile := filepath.Join(workDir, "safeq-123456.pw")
	if err := os.WriteFile(pwFile, []byte("123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		home       string
		line       string
		warnings   []string // stderr must contain each
		selfSigned bool
	}{
		// "123456" works, with a warning that it is short (issue 11).
		{"as-typed", h.Home, safeqSeedLine,
			[]string{"certmint: warning: a password on the command line", shortWarning}, false},
		{"self-signed-without-ca", filepath.Join(workDir, "no-such-home"), safeqSeedLine + " --self-signed",
			[]string{"certmint: warning: a password on the command line", "certmint: warning: self-signed and not recorded", shortWarning}, true},
		{"long-flags", h.Home, `certmint safeq --subject "YSoft SafeQ" --friendly-name "YSoft SafeQ Signing Certificate" --password-file ` +
			pwFile + ` --san "*.company.com" --san 1.2.3.4`, []string{shortWarning}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := vendorDir(t, "safeq-"+tc.name)
			// The password comes from the command line only: no CERTMINT_PASSWORD.
			r := vendorBash(t, dir, []string{"CERTMINT_HOME=" + tc.home, "CERTMINT_CA_PASSWORD=" + caPassword}, tc.line)
			if r.Code != 0 {
				t.Fatalf("the seed's example does not work under bash:\n%s", r)
			}
			for _, w := range tc.warnings {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r)
				}
			}
			if !strings.Contains(tc.line, "-Password") && strings.Contains(r.Stderr, "on the command line") {
				t.Errorf("a warning without a password on the command line:\n%s", r)
			}
			pfx := filepath.Join(dir, safeqFriendly+".pfx")
			st, err := os.Stat(pfx)
			if err != nil {
				t.Fatalf("003: \"The certificate will be stored in a file named after FriendlyName\": %v\n%s", err, r)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v, want 0600", pfx, st.Mode().Perm())
			}
			info := mustTool(t, "the SafeQ .pfx", "openssl", "pkcs12", "-info", "-in", pfx, "-passin", "pass:123456", "-nokeys")
			if !strings.Contains(combined(info), "friendlyName: "+safeqFriendly) {
				t.Errorf("openssl pkcs12 -info does not print friendlyName: %s:\n%s", safeqFriendly, info)
			}
			leaf := filepath.Join(dir, "leaf.pem")
			mustTool(t, "the leaf of the .pfx", "openssl", "pkcs12", "-in", pfx, "-passin", "pass:123456", "-nokeys", "-clcerts", "-out", leaf)
			text := mustTool(t, "the leaf of the .pfx", "openssl", "x509", "-in", leaf, "-noout", "-text").Stdout
			sans := findBlock(text, "X509v3 Subject Alternative Name:")
			for _, want := range []string{"DNS:*.company.com", "IP Address:1.2.3.4"} {
				if !strings.Contains(sans.Value(), want) {
					t.Errorf("the leaf's SAN %q lacks %s", sans.Value(), want)
				}
			}
			if s, _ := field(text, "Subject:"); s != "CN = YSoft SafeQ" {
				t.Errorf("Subject: %q, want CN = YSoft SafeQ (-Subject is used as CN)", s)
			}
			issuer, _ := field(text, "Issuer:")
			switch {
			case tc.selfSigned && issuer != "CN = YSoft SafeQ":
				t.Errorf("--self-signed: Issuer: %q, want the subject", issuer)
			case !tc.selfSigned:
				mustTool(t, "the CA-issued SafeQ certificate", "openssl", "verify", "-CAfile", h.Root.Path, "-untrusted", h.Issuing.Path, leaf)
			}
		})
	}
}

// TestVendorDefenderOpenSSL: seed 004's test commands (Test certificates you
// create) and conversion commands (Convert existing files to supported
// files) on what certmint csr, sign and issue write for defender-sensor.
func TestVendorDefenderOpenSSL(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	h := vendorCA(t)
	const subject = "C=US,O=Contoso Inc.,OU=Contoso Labs"

	t.Run("csr-then-sign", func(t *testing.T) {
		t.Parallel()
		dir := vendorDir(t, "defender-csr")
		cn := "sensor1.contoso.com"
		vendorCertmint(t, h, "csr", "--template", "defender-sensor", "--cn", cn, "--subject", subject, "--out", dir)
		csr, key := filepath.Join(dir, cn+".csr"), filepath.Join(dir, cn+".key")
		// "Check a Certificate Signing Request (CSR)"
		r := mustTool(t, "004 CSR test", "openssl", "req", "-text", "-noout", "-verify", "-in", csr)
		for _, want := range []string{"verify OK", "Subject: C = US, O = Contoso Inc., OU = Contoso Labs, CN = " + cn, "Public-Key: (2048 bit)", "DNS:" + cn} {
			if !strings.Contains(combined(r), want) {
				t.Errorf("openssl req -text -noout -verify: lacks %q\n%s", want, r)
			}
		}
		// "Check a private key"
		if r := mustTool(t, "004 key test", "openssl", "rsa", "-in", key, "-check", "-noout"); !strings.Contains(combined(r), "RSA key ok") {
			t.Errorf("openssl rsa -check does not say RSA key ok:\n%s", r)
		}
		vendorCertmint(t, h, "sign", "--template", "defender-sensor", "--csr", csr, "--out", dir)
		// "Check a certificate"
		vendorCheckCRT(t, h, filepath.Join(dir, cn+".crt"), 2048, "C = US, O = Contoso Inc., OU = Contoso Labs, CN = "+cn)
	})

	t.Run("rsa-4096-csr", func(t *testing.T) {
		t.Parallel()
		dir := vendorDir(t, "defender-4096")
		cn := "sensor4096.contoso.com"
		csr, key := filepath.Join(dir, cn+".csr"), filepath.Join(dir, cn+".key")
		mustTool(t, "a 4096-bit request from openssl", "openssl", "req", "-new", "-newkey", "rsa:4096", "-nodes", "-keyout", key, "-out", csr,
			"-subj", "/C=US/O=Contoso Inc./OU=Contoso Labs/CN="+cn, "-addext", "subjectAltName=DNS:"+cn)
		mustTool(t, "004 key test", "openssl", "rsa", "-in", key, "-check", "-noout")
		vendorCertmint(t, h, "sign", "--template", "defender-sensor", "--csr", csr, "--out", dir)
		vendorCheckCRT(t, h, filepath.Join(dir, cn+".crt"), 4096, "C = US, O = Contoso Inc., OU = Contoso Labs, CN = "+cn)
	})

	t.Run("rsa-3072-and-ecdsa-refused", func(t *testing.T) {
		t.Parallel()
		dir := vendorDir(t, "defender-refused")
		for _, k := range []struct{ name, newkey, want string }{
			{"rsa3072", "rsa:3072", "3072-bit RSA"},
			{"ecdsa", "ec", "ecdsa keys"},
		} {
			cn := k.name + ".contoso.com"
			csr := filepath.Join(dir, k.name+".csr")
			args := []string{"req", "-new", "-newkey", k.newkey, "-nodes", "-keyout", filepath.Join(dir, k.name+".key"), "-out", csr,
				"-subj", "/C=US/O=Contoso Inc./OU=Contoso Labs/CN=" + cn}
			if k.newkey == "ec" {
				args = append(args, "-pkeyopt", "ec_paramgen_curve:P-256")
			}
			mustTool(t, "a request openssl makes", "openssl", args...)
			r := runCertmint(h.Home, "sign", "--template", "defender-sensor", "--csr", csr, "--out", dir)
			if r.Code != 2 || !strings.Contains(r.Stderr, k.want) {
				t.Errorf("004 \"RSA 2048 bits (Minimum) or 4096 bits\": sign of a %s request: want exit 2 naming %q\n%s", k.name, k.want, r)
			}
			if _, err := os.Stat(filepath.Join(dir, cn+".crt")); err == nil {
				t.Errorf("a refused request left %s.crt", cn)
			}
		}
	})

	t.Run("issue-and-convert", func(t *testing.T) {
		t.Parallel()
		dir := vendorDir(t, "defender-bundle")
		cn := "sensor2.contoso.com"
		vendorCertmint(t, h, "issue", "--template", "defender-sensor", "--cn", cn, "--subject", subject,
			"--format", "crt,key,pfx,chain", "--out", dir, "--name", "sensor2")
		crt, key, pfx, chain := filepath.Join(dir, "sensor2.crt"), filepath.Join(dir, "sensor2.key"), filepath.Join(dir, "sensor2.pfx"), filepath.Join(dir, "sensor2-chain.pem")
		vendorCheckCRT(t, h, crt, 2048, "C = US, O = Contoso Inc., OU = Contoso Labs, CN = "+cn)
		mustTool(t, "004 key test", "openssl", "rsa", "-in", key, "-check", "-noout")
		mustTool(t, "the chain .pem correlates to the .crt", "openssl", "verify", "-CAfile", h.Root.Path, "-untrusted", chain, crt)

		// Convert .crt file to .pem file, and back.
		pemFile, back := filepath.Join(dir, "sensor2.pem"), filepath.Join(dir, "sensor2-back.crt")
		mustTool(t, "004 .crt to .pem", "openssl", "x509", "-inform", "PEM", "-in", crt, "-out", pemFile)
		mustTool(t, "004 .pem to .crt", "openssl", "x509", "-inform", "PEM", "-in", pemFile, "-out", back)
		orig := mustReadCert(t, crt)
		for _, p := range []string{pemFile, back} {
			if !mustReadCert(t, p).Equal(orig) {
				t.Errorf("%s is not the certificate of %s", p, crt)
			}
		}

		// Convert a PKCS#12 file to .pem: everything, -nocerts, -nokeys.
		for _, v := range []struct {
			flag         string
			keys, certs  int
			wantLeafName bool
		}{
			{"", 1, 3, true},
			{"-nocerts", 1, 0, false},
			{"-nokeys", 0, 3, true},
		} {
			out := filepath.Join(dir, "keyStore"+v.flag+".pem")
			args := []string{"pkcs12", "-in", pfx, "-out", out, "-nodes", "-passin", "pass:" + bundlePassword}
			if v.flag != "" {
				args = append(args, v.flag)
			}
			mustTool(t, "004 PKCS#12 to .pem", "openssl", args...)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			nk, nc := strings.Count(string(data), "-----BEGIN PRIVATE KEY-----"), strings.Count(string(data), "-----BEGIN CERTIFICATE-----")
			if nk != v.keys || nc != v.certs {
				t.Errorf("openssl pkcs12 -nodes %s: %d keys and %d certificates, want %d and %d", v.flag, nk, nc, v.keys, v.certs)
			}
			if v.keys == 1 {
				// The key converted from the .pfx is the .key certmint wrote.
				if r := mustTool(t, "the converted key", "openssl", "rsa", "-in", out, "-check", "-noout"); !strings.Contains(combined(r), "RSA key ok") {
					t.Errorf("the key of %s does not check:\n%s", out, r)
				}
				a := mustTool(t, "public key", "openssl", "pkey", "-in", out, "-pubout").Stdout
				b := mustTool(t, "public key", "openssl", "pkey", "-in", key, "-pubout").Stdout
				if a != b {
					t.Errorf("the key in the .pfx is not sensor2.key")
				}
			}
		}

		// "You create a unique certificate for each sensor": a second one is
		// refused, with what to do instead.
		r := runCertmint(h.Home, "issue", "--template", "defender-sensor", "--cn", cn, "--subject", subject, "--out", vendorDir(t, "defender-again"))
		if r.Code == 0 || !strings.Contains(r.Stderr, "--force") || !strings.Contains(r.Stderr, "certmint renew") {
			t.Errorf("a second certificate for %s: want a refusal with a hint to use --force or renew\n%s", cn, r)
		}
		// "If you are not carrying out certificate validation, remove the CRL URL reference".
		nocdp := vendorDir(t, "defender-nocdp")
		vendorCertmint(t, h, "issue", "--template", "defender-sensor", "--cn", "sensor3.contoso.com", "--subject", subject, "--no-cdp", "--out", nocdp, "--name", "sensor3")
		if text := mustTool(t, "--no-cdp", "openssl", "x509", "-in", filepath.Join(nocdp, "sensor3.crt"), "-noout", "-text").Stdout; strings.Contains(text, "CRL Distribution Points") {
			t.Errorf("--no-cdp: the certificate still has a CRL distribution point")
		}
	})
}

// vendorCheckCRT runs seed 004's "Check a certificate" command and compares
// its output with every row of the CRT file requirements table.
func vendorCheckCRT(t *testing.T, h *caHome, crt string, bits int, subject string) {
	t.Helper()
	r := mustTool(t, "004 certificate test", "openssl", "x509", "-in", crt, "-text", "-noout")
	text := r.Stdout
	errorf := func(row, format string, args ...any) {
		t.Helper()
		t.Errorf("004 %q: %s\n$ %s", row, fmt.Sprintf(format, args...), r.Cmd)
	}
	if got, _ := field(text, "Signature Algorithm:"); got != "sha256WithRSAEncryption" {
		errorf("Signature Algorithm = SHA256RSA", "Signature Algorithm: %q", got)
	}
	now := time.Now()
	nbText, _ := field(text, "Not Before:")
	if nb, err := opensslTime(nbText); err != nil || !nb.Before(now) {
		errorf("Valid from = Valid past date", "Not Before: %q (%v)", nbText, err)
	}
	naText, _ := field(text, "Not After :")
	if na, err := opensslTime(naText); err != nil || !na.After(now) {
		errorf("Valid To = Valid future date", "Not After : %q (%v)", naText, err)
	}
	if !strings.Contains(text, fmt.Sprintf("Public-Key: (%d bit)", bits)) || !strings.Contains(text, "Public Key Algorithm: rsaEncryption") {
		errorf("Public Key = RSA 2048 bits (Minimum) or 4096 bits", "no RSA key of %d bits", bits)
	}
	cdp := findBlock(text, "X509v3 CRL Distribution Points:")
	m := regexp.MustCompile(`URI:(\S+)`).FindStringSubmatch(cdp.Value())
	if m == nil {
		errorf("CRL Distribution Point = URL to .crl file", "no URI in %q", cdp.Value())
	} else {
		base, _ := url.Parse(h.BaseURL)
		u, err := url.Parse(m[1])
		switch {
		case err != nil || u.Scheme != "http":
			errorf("The URL should be defined as http: // rather than https: //", "CDP %s", m[1])
		case !strings.HasSuffix(u.Path, ".crl"):
			errorf("CRL Distribution Point = URL to .crl file", "CDP %s", m[1])
		case u.Host != base.Host || u.Port() != base.Port():
			errorf("Define another URL and a specific port in the certificate", "CDP %s, want the host and port of %s", m[1], h.BaseURL)
		case m[1] != h.BaseURL+"/"+h.Issuing.Slug+".crl":
			errorf("CRL Distribution Point = URL to .crl file", "CDP %s, want the issuing CA's %s/%s.crl", m[1], h.BaseURL, h.Issuing.Slug)
		}
	}
	if got, _ := field(text, "Subject:"); got != subject {
		errorf("Subject CN, C, OU, O = defined", "Subject: %q, want %q", got, subject)
	}
}

// TestVendorMacOSPFX: the 1e-client-macos .pfx is what macOS `security
// import -f pkcs12` reads (3DES, SHA-1 MAC), OpenSSL 3 opens it without
// -legacy, it holds the leaf and both CAs, and each .cer is one base-64
// certificate (002).
func TestVendorMacOSPFX(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	h := vendorCA(t)
	dir := vendorDir(t, "macos")
	vendorCertmint(t, h, "issue", "--template", "1e-client-macos", "--cn", "MAC01.local", "--out", dir)
	pfx := filepath.Join(dir, "MAC01.local.pfx")
	pass := "pass:" + bundlePassword

	info := combined(mustTool(t, "the macOS .pfx", "openssl", "pkcs12", "-info", "-noout", "-in", pfx, "-passin", pass))
	for _, want := range []string{"MAC: sha1", "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC", "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC"} {
		if !strings.Contains(info, want) {
			t.Errorf("openssl pkcs12 -info (without -legacy) lacks %q:\n%s", want, info)
		}
	}
	certs := mustTool(t, "the macOS .pfx", "openssl", "pkcs12", "-in", pfx, "-passin", pass, "-nokeys").Stdout
	if n := strings.Count(certs, "-----BEGIN CERTIFICATE-----"); n != 3 {
		t.Errorf("002 \"include all certificates in the certification path\": the .pfx holds %d certificates, want 3", n)
	}
	for _, want := range []string{"subject=CN = MAC01.local", "subject=C = US, O = Vendors Lab, CN = Vendors Issuing CA", "subject=C = US, O = Vendors Lab, CN = Vendors Root CA"} {
		if !strings.Contains(certs, want) {
			t.Errorf("the .pfx lacks %q:\n%s", want, certs)
		}
	}

	cers, _ := filepath.Glob(filepath.Join(dir, "*.cer"))
	if len(cers) != 2 {
		t.Fatalf("002 \"as individual .cer files\": %v, want one per CA", cers)
	}
	for _, cer := range cers {
		data, err := os.ReadFile(cer)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "-----BEGIN CERTIFICATE-----"); n != 1 || !strings.HasPrefix(string(data), "-----BEGIN CERTIFICATE-----\n") {
			t.Errorf("%s: %d certificates; want exactly one, base-64 (PEM)", cer, n)
		}
		if b, rest := pem.Decode(data); b == nil || len(strings.TrimSpace(string(rest))) > 0 {
			t.Errorf("%s is not one PEM certificate", cer)
		}
		mustTool(t, "a .cer file", "openssl", "x509", "-in", cer, "-noout", "-subject")
		// 004: "Convert .cer file to .crt file".
		mustTool(t, "004 .cer to .crt", "openssl", "x509", "-inform", "PEM", "-in", cer, "-out", strings.TrimSuffix(cer, ".cer")+"-converted.crt")
	}

	note, err := os.ReadFile(filepath.Join(dir, "MAC01.local-install.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain '" + h.Root.Slug + ".cer'",
		"security import 'MAC01.local.pfx' -k /Library/Keychains/System.keychain -t agg -f pkcs12 -P ",
		"-T '/Library/Application Support/1E/Client/1E.Client'",
	} {
		if !strings.Contains(string(note), want) {
			t.Errorf("the install note lacks %q:\n%s", want, note)
		}
	}
}

// vendorPFX is one .pfx certmint wrote, and what keytool must find in it.
type vendorPFX struct {
	name  string
	path  string
	alias string // the friendlyName; keytool lowercases it
	chain int    // certificates in the entry's chain
}

// TestVendorKeytool: Java's keytool opens every kind of .pfx certmint
// writes: one per built-in template, the SafeQ one named after its friendly
// name, a self-signed one, a --pfx legacy override and a renewed one.
func TestVendorKeytool(t *testing.T) {
	testkit.RequireTool(t, "keytool")
	h := vendorCA(t)
	var pfxs []vendorPFX
	var mu sync.Mutex
	add := func(p vendorPFX) {
		mu.Lock()
		defer mu.Unlock()
		pfxs = append(pfxs, p)
	}

	t.Run("issue", func(t *testing.T) {
		for _, tmpl := range builtins {
			t.Run(tmpl.Name, func(t *testing.T) {
				t.Parallel()
				dir := vendorDir(t, "keytool-"+tmpl.Name)
				args := []string{"issue", "--template", tmpl.Name, "--example", "--out", dir, "--name", tmpl.Name}
				if !tmpl.HasFormat(templates.FormatPFX) {
					var f []string
					for _, x := range tmpl.Output.Formats {
						f = append(f, string(x))
					}
					args = append(args, "--format", strings.Join(append(f, "pfx"), ","))
				}
				vendorCertmint(t, h, args...)
				add(vendorPFX{tmpl.Name, filepath.Join(dir, tmpl.Name+".pfx"), tmpl.Example.CN, 3})
			})
		}
		t.Run("safeq", func(t *testing.T) {
			t.Parallel()
			dir := vendorDir(t, "keytool-safeq")
			vendorCertmint(t, h, "safeq", "--subject", "YSoft SafeQ", "--friendly-name", safeqFriendly, "--san", "*.company.com", "--san", "1.2.3.4", "--out", dir)
			add(vendorPFX{"safeq", filepath.Join(dir, safeqFriendly+".pfx"), safeqFriendly, 3})
		})
		t.Run("self-signed", func(t *testing.T) {
			t.Parallel()
			dir := vendorDir(t, "keytool-self-signed")
			r := runCertmint(filepath.Join(workDir, "no-such-home"), "safeq", "--self-signed", "--subject", "YSoft SafeQ",
				"--friendly-name", "SafeQ Self-Signed", "--san", "*.company.com", "--out", dir)
			if r.Code != 0 {
				t.Fatalf("certmint safeq --self-signed:\n%s", r)
			}
			add(vendorPFX{"self-signed", filepath.Join(dir, "SafeQ Self-Signed.pfx"), "SafeQ Self-Signed", 1})
		})
		t.Run("pfx-legacy", func(t *testing.T) {
			t.Parallel()
			dir := vendorDir(t, "keytool-legacy")
			vendorCertmint(t, h, "issue", "--template", "server", "--cn", "legacy.vendors.test", "--pfx", "legacy", "--out", dir, "--name", "legacy")
			add(vendorPFX{"pfx-legacy", filepath.Join(dir, "legacy.pfx"), "legacy.vendors.test", 3})
		})
		t.Run("renewed", func(t *testing.T) {
			t.Parallel()
			dir, dir2 := vendorDir(t, "keytool-renew"), vendorDir(t, "keytool-renewed")
			r := vendorCertmint(t, h, "issue", "--template", "client", "--cn", "renew.vendors.test", "--out", dir, "--name", "renew", "--json")
			var out issueJSON
			if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
				t.Fatalf("issue --json: %v\n%s", err, r)
			}
			vendorCertmint(t, h, "renew", "--out", dir2, out.Serial)
			add(vendorPFX{"renewed", filepath.Join(dir2, "renew.pfx"), "renew.vendors.test", 3})
		})
	})
	t.Run("keytool", func(t *testing.T) {
		for _, p := range pfxs {
			t.Run(p.name, func(t *testing.T) {
				t.Parallel()
				r := mustTool(t, p.name, "keytool", "-list", "-v", "-storetype", "PKCS12", "-keystore", p.path, "-storepass", bundlePassword)
				for _, want := range []string{"Your keystore contains 1 entry", "Entry type: PrivateKeyEntry", fmt.Sprintf("Certificate chain length: %d", p.chain)} {
					if !strings.Contains(r.Stdout, want) {
						t.Errorf("keytool -list -v %s does not say %q:\n%s", filepath.Base(p.path), want, r)
					}
				}
				if alias, _ := field(r.Stdout, "Alias name:"); !strings.EqualFold(alias, p.alias) {
					t.Errorf("keytool alias %q, want the friendlyName %q (any case)", alias, p.alias)
				}
			})
		}
	})
}

// TestVendorSafeQTLS: a CA-issued safeq-ssl certificate, loaded from its
// .pfx as the Job Service does, passes a Go TLS handshake for a name under
// the wildcard and for the IP address, and fails for a name outside its SAN.
func TestVendorSafeQTLS(t *testing.T) {
	h := vendorCA(t)
	dir := vendorDir(t, "safeq-ssl")
	vendorCertmint(t, h, "safeq", "--ssl", "--subject", "safeq.company.com", "--friendly-name", "YSoft SafeQ SSL Certificate",
		"--san", "*.company.com", "--san", "1.2.3.4", "--out", dir)
	data, err := os.ReadFile(filepath.Join(dir, "YSoft SafeQ SSL Certificate.pfx"))
	if err != nil {
		t.Fatal(err)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, bundlePassword)
	if err != nil {
		t.Fatal(err)
	}
	if len(cas) != 2 {
		t.Fatalf("the .pfx holds %d CA certificates, want 2", len(cas))
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Raw, cas[0].Raw}, PrivateKey: key, Leaf: leaf}
	addr, seen, err := startTLS(t, "tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x.company.com", "1.2.3.4", "safeq.company.com"} {
		st, err := dial(addr, &tls.Config{RootCAs: pool(h.Root.Cert), ServerName: name})
		hs := serverSide(t, seen)
		if err != nil {
			t.Errorf("ServerName %s: %v (server: %v)", name, err, hs.Err)
			continue
		}
		checkChains(t, "the SafeQ server as "+name, st, [][]byte{leaf.Raw, h.Issuing.Cert.Raw}, h)
	}
	_, err = dial(addr, &tls.Config{RootCAs: pool(h.Root.Cert), ServerName: "printer.other.org"})
	serverSide(t, seen)
	wantX509Error(t, "ServerName outside the SAN", err, "a hostname error", isHostnameError)
}
