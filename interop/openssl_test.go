package interop

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	certbundle "github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// purposes are the `openssl verify -purpose` checks that follow from a
// template's extended key usage.
var purposes = []struct {
	purpose string
	eku     templates.ExtKeyUsage
}{
	{"sslserver", "serverAuth"},
	{"sslclient", "clientAuth"},
}

// TestOpenSSLVerify: openssl verifies every example certificate up to the
// root, with the issuing CA as the only intermediate, in strict mode, with
// the published CRLs, and for the purpose its EKU names; it refuses the
// purposes the EKU does not name and the other CA's root.
func TestOpenSSLVerify(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	forEachTemplate(t, func(t *testing.T, tmpl *templates.Template) {
		b := example(t, tmpl)
		ctx := "template " + tmpl.Name
		chainArgs := []string{"-CAfile", b.CA.Root.Path, "-untrusted", b.CA.Issuing.Path}

		r := mustTool(t, ctx, "openssl", append(append([]string{"verify"}, chainArgs...), b.crt())...)
		if want := b.crt() + ": OK"; strings.TrimSpace(r.Stdout) != want {
			t.Errorf("%s: openssl verify printed %q, want %q\n%s", ctx, strings.TrimSpace(r.Stdout), want, r)
		}
		mustTool(t, ctx+" (strict)", "openssl", append(append([]string{"verify", "-x509_strict"}, chainArgs...), b.crt())...)

		// The CRLs certmint published: both must be valid, signed, current,
		// and must not list the new certificate.
		pub := filepath.Join(b.CA.Home, "public")
		mustTool(t, ctx+" (with the published CRLs)", "openssl", append(append([]string{"verify", "-crl_check_all",
			"-CRLfile", filepath.Join(pub, b.CA.Root.Slug+".crl"),
			"-CRLfile", filepath.Join(pub, b.CA.Issuing.Slug+".crl")}, chainArgs...), b.crt())...)

		for _, p := range purposes {
			args := append(append([]string{"verify", "-purpose", p.purpose}, chainArgs...), b.crt())
			r := tool(t, "openssl", args...)
			switch {
			case slices.Contains(tmpl.Usage.ExtKeyUsage, p.eku) && r.Code != 0:
				t.Errorf("%s: ext_key_usage has %s, but openssl verify -purpose %s fails:\n%s", ctx, p.eku, p.purpose, r)
			case len(tmpl.Usage.ExtKeyUsage) > 0 && !slices.Contains(tmpl.Usage.ExtKeyUsage, p.eku) && r.Code == 0:
				t.Errorf("%s: ext_key_usage %v lacks %s, but openssl verify -purpose %s accepts the certificate:\n%s", ctx, tmpl.Usage.ExtKeyUsage, p.eku, p.purpose, r)
			}
		}

		r = tool(t, "openssl", "verify", "-CAfile", otherCA.Root.Path, "-untrusted", otherCA.Issuing.Path, b.crt())
		if r.Code == 0 {
			t.Errorf("%s: openssl verify accepts the certificate under an unrelated CA:\n%s", ctx, r)
		}
	})
}

// TestOpenSSLText: `openssl x509 -text` of every example shows what its
// template says, exactly; so does a client certificate with a SAN of every
// kind, and one issued by the ECDSA CA.
func TestOpenSSLText(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	forEachTemplate(t, func(t *testing.T, tmpl *templates.Template) {
		checkText(t, example(t, tmpl))
	})
	t.Run("client-every-san-kind", func(t *testing.T) {
		t.Parallel()
		checkText(t, ready(t, clientEverySAN, "client bundle with a SAN of every kind"))
	})
	t.Run("other-ca-client", func(t *testing.T) {
		t.Parallel()
		checkText(t, ready(t, otherClient, "client bundle of the other CA"))
	})
}

// checkText compares `openssl x509 -text` of a bundle's certificate with its
// template, its CA and certmint's --json output.
func checkText(t *testing.T, b *bundle) {
	tmpl, h := b.Template, b.CA
	r := mustTool(t, "template "+tmpl.Name, "openssl", "x509", "-in", b.crt(), "-noout", "-text")
	text := r.Stdout
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("template %s (%s CA): %s: %s\n(issued with: %s)", tmpl.Name, h.Label, r.Cmd, fmt.Sprintf(format, args...), b.Cmd)
	}
	defer func() {
		if t.Failed() {
			t.Logf("openssl x509 -text of %s (hex dumps left out):\n%s", b.crt(), withoutHexDumps(text))
		}
	}()

	// Key usage: critical, exactly the template's bits.
	ku := findBlock(text, "X509v3 Key Usage:")
	var wantKU []string
	for _, u := range tmpl.Usage.KeyUsage {
		wantKU = append(wantKU, opensslKeyUsage[u])
	}
	switch {
	case len(wantKU) == 0 && ku.Found:
		errorf("has a Key Usage %q; the template has none", ku.Value())
	case len(wantKU) > 0 && !ku.Found:
		errorf("no X509v3 Key Usage; want %v", wantKU)
	case len(wantKU) > 0:
		if !ku.Critical {
			errorf("X509v3 Key Usage is not critical")
		}
		if got, want := splitList(ku.Lines...), sortedCopy(wantKU); !slices.Equal(got, want) {
			errorf("key usage %v, want %v (usage.key_usage = %v)", got, want, tmpl.Usage.KeyUsage)
		}
	}

	// Extended key usage: exactly the template's purposes.
	eku := findBlock(text, "X509v3 Extended Key Usage:")
	var wantEKU []string
	for _, u := range tmpl.Usage.ExtKeyUsage {
		wantEKU = append(wantEKU, opensslExtKeyUsage[u])
	}
	switch {
	case len(wantEKU) == 0 && eku.Found:
		errorf("has an Extended Key Usage %q; the template has none", eku.Value())
	case len(wantEKU) > 0 && !eku.Found:
		errorf("no X509v3 Extended Key Usage; want %v", wantEKU)
	case len(wantEKU) > 0:
		if got, want := splitList(eku.Lines...), sortedCopy(wantEKU); !slices.Equal(got, want) {
			errorf("extended key usage %v, want %v (usage.ext_key_usage = %v)", got, want, tmpl.Usage.ExtKeyUsage)
		}
	}

	// SAN: exactly what --json reported.
	sanBlock := findBlock(text, "X509v3 Subject Alternative Name:")
	var wantSAN []string
	for _, s := range b.JSON.SANs {
		o, err := opensslSAN(s)
		if err != nil {
			errorf("certmint --json: %v", err)
			continue
		}
		wantSAN = append(wantSAN, o)
	}
	switch {
	case len(wantSAN) == 0 && sanBlock.Found:
		errorf("has a Subject Alternative Name %q; certmint --json reported none", sanBlock.Value())
	case len(wantSAN) > 0 && !sanBlock.Found:
		errorf("no Subject Alternative Name; certmint --json reported %v", b.JSON.SANs)
	case len(wantSAN) > 0:
		if got, want := splitList(sanBlock.Lines...), sortedCopy(wantSAN); !slices.Equal(got, want) {
			errorf("subject alternative names %v, want %v (certmint --json: %v)", got, want, b.JSON.SANs)
		}
	}
	// The SANs asked for are all there (read with certmint's own parser,
	// which gives their canonical form).
	askedSANs, err := san.ParseList(b.SANs)
	if err != nil {
		errorf("the SANs asked for, %v: %v", b.SANs, err)
	}
	for _, s := range san.Strings(askedSANs) {
		if !slices.Contains(b.JSON.SANs, s) {
			errorf("the SAN %q asked for is not in the certificate (certmint --json: %v)", s, b.JSON.SANs)
		}
	}

	// CDP and AIA: the issuing CA's URLs under the base URL, or nothing.
	cdp := findBlock(text, "X509v3 CRL Distribution Points:")
	wantCDP := "URI:" + h.BaseURL + "/" + h.Issuing.Slug + ".crl"
	if tmpl.Revocation.CRLDistributionPoint {
		var uris []string
		for _, l := range cdp.Lines {
			if strings.HasPrefix(l, "URI:") {
				uris = append(uris, l)
			}
		}
		if !slices.Equal(uris, []string{wantCDP}) {
			errorf("CRL distribution point %q, want exactly %q", cdp.Value(), wantCDP)
		}
	} else if cdp.Found {
		errorf("has a CRL distribution point %q, but revocation.crl_distribution_point is false", cdp.Value())
	}
	aia := findBlock(text, "Authority Information Access:")
	wantAIA := "CA Issuers - URI:" + h.BaseURL + "/" + h.Issuing.Slug + ".crt"
	if tmpl.Revocation.AIA {
		if !slices.Equal(aia.Lines, []string{wantAIA}) {
			errorf("Authority Information Access %q, want exactly %q", aia.Value(), wantAIA)
		}
	} else if aia.Found {
		errorf("has Authority Information Access %q, but revocation.aia is false", aia.Value())
	}

	// An end-entity certificate.
	bc := findBlock(text, "X509v3 Basic Constraints:")
	if !bc.Found || bc.Value() != "CA:FALSE" {
		errorf("basic constraints %q, want CA:FALSE", bc.Value())
	}
	ski := findBlock(text, "X509v3 Subject Key Identifier:")
	aki := findBlock(text, "X509v3 Authority Key Identifier:")
	if !ski.Found {
		errorf("no Subject Key Identifier")
	}
	if want := hexColon(h.Issuing.Cert.SubjectKeyId); len(aki.Lines) != 1 || keyID(aki.Lines[0]) != want {
		errorf("Authority Key Identifier %q, want the issuing CA's key identifier %s", aki.Value(), want)
	}

	// Signature algorithm: the template's hash with the issuing CA's key.
	caType := templates.RSA
	if h.Issuing.Cert.PublicKeyAlgorithm == x509.ECDSA {
		caType = templates.ECDSA
	}
	if got, want := mustField(t, text, "Signature Algorithm:"), opensslSigAlg[caType][tmpl.Signature.Hash]; got != want {
		errorf("signature algorithm %q, want %q (signature.hash = %s, issuing CA key %s)", got, want, tmpl.Signature.Hash, caType)
	}

	// The key the template asks for.
	switch tmpl.Key.Type {
	case templates.RSA:
		if got, want := mustField(t, text, "Public-Key:"), fmt.Sprintf("(%d bit)", tmpl.Key.Bits); got != want {
			errorf("public key %s, want %s (key.bits)", got, want)
		}
	case templates.ECDSA:
		if got, want := mustField(t, text, "NIST CURVE:"), opensslCurve[tmpl.Key.Curve]; got != want {
			errorf("EC curve %s, want %s (key.curve)", got, want)
		}
	}

	// Subject, issuer and serial.
	if subj := mustField(t, text, "Subject:"); !strings.Contains(subj, "CN = "+b.CN) {
		errorf("subject %q does not have CN = %s", subj, b.CN)
	}
	if iss := mustField(t, text, "Issuer:"); !strings.Contains(iss, "CN = "+h.Issuing.Cert.Subject.CommonName) {
		errorf("issuer %q is not the issuing CA %q", iss, h.Issuing.Cert.Subject.CommonName)
	}
	sr := mustTool(t, "template "+tmpl.Name, "openssl", "x509", "-in", b.crt(), "-noout", "-serial")
	if got, want := strings.TrimSpace(sr.Stdout), "serial="+b.JSON.Serial; got != want {
		errorf("openssl x509 -serial printed %q; certmint --json said serial %q", got, b.JSON.Serial)
	}

	// Validity: notBefore in the past by the template's backdate, notAfter
	// as --json reported it.
	now := time.Now()
	nb, err := opensslTime(mustField(t, text, "Not Before:"))
	if err != nil {
		errorf("Not Before: %v", err)
	} else {
		if !nb.Before(now) {
			errorf("Not Before %v is not in the past", nb)
		}
		if bd := time.Duration(tmpl.Validity.Backdate); bd > 0 {
			// cfssl rounds "now" to the minute before subtracting.
			want := b.IssuedAt.Add(-bd)
			if d := nb.Sub(want); d < -2*time.Minute || d > time.Minute {
				errorf("Not Before %v is not issuance time minus validity.backdate %v (%v)", nb.UTC(), bd, want.UTC())
			}
		}
	}
	na, err := opensslTime(mustField(t, text, "Not After :"))
	if err != nil {
		errorf("Not After: %v", err)
	} else if want, err := time.Parse(time.RFC3339, b.JSON.NotAfter); err != nil {
		errorf("certmint --json not_after %q: %v", b.JSON.NotAfter, err)
	} else if !na.Equal(want) {
		errorf("Not After %v; certmint --json said %v", na.UTC(), want)
	} else if got, want := na.Sub(nb), time.Duration(tmpl.Validity.Days)*24*time.Hour; got > want || got < want-time.Duration(tmpl.Validity.Backdate)-time.Minute {
		// At most validity.days from notBefore to notAfter (what Apple's
		// and the CA/B Forum's limits measure), and not shorter than that
		// minus the backdate.
		errorf("valid for %v (notBefore %v to notAfter %v), want validity.days = %d (%v)", got, nb.UTC(), na.UTC(), tmpl.Validity.Days, want)
	}
}

// TestOpenSSLPKCS12: OpenSSL 3 reads every .pfx without -legacy, sees the
// template's algorithms, the friendlyName, the leaf and both CAs.
func TestOpenSSLPKCS12(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	forEachPFX(t, func(t *testing.T, tmpl *templates.Template, b *bundle) {
		ctx := fmt.Sprintf("template %s (pfx_encryption = %q)", tmpl.Name, tmpl.Output.PFXEncryption)
		pass := "pass:" + bundlePassword

		// -info: the MAC and encryption lines go to stderr.
		r := mustTool(t, ctx, "openssl", "pkcs12", "-info", "-in", b.pfx(), "-passin", pass, "-noout")
		info := r.Stdout + r.Stderr
		// Every count as bundle/iterations.go says: a legacy MAC of 2048
		// (go-pkcs12's own is 1), a modern file's stronger PBKDF2.
		var want []string
		switch tmpl.Output.PFXEncryption {
		case templates.PFXLegacy:
			it := fmt.Sprintf("Iteration %d", certbundle.LegacyPFXIterations)
			want = []string{"MAC: sha1, " + it, "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, " + it, "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, " + it}
		default:
			it := fmt.Sprintf("Iteration %d", certbundle.ModernPFXIterations)
			want = []string{"MAC: sha256, " + it, "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, " + it, "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, " + it}
		}
		for _, w := range want {
			if !strings.Contains(info, w) {
				t.Errorf("%s: openssl pkcs12 -info does not show %q:\n%s", ctx, w, r)
			}
		}
		if tmpl.Output.PFXEncryption == templates.PFXLegacy {
			// Where legacy is needed, OpenSSL 3 reads it in legacy mode too
			// (what an administrator types for an old .pfx).
			r := mustTool(t, ctx, "openssl", "pkcs12", "-legacy", "-info", "-in", b.pfx(), "-passin", pass, "-noout")
			if info := r.Stdout + r.Stderr; !strings.Contains(info, want[0]) || strings.Count(info, "Certificate bag") != 3 {
				t.Errorf("%s: openssl pkcs12 -legacy -info does not show %q and 3 certificate bags:\n%s", ctx, want[0], r)
			}
		}
		if n := strings.Count(info, "Certificate bag"); n != 3 {
			t.Errorf("%s: openssl pkcs12 -info shows %d certificate bags, want 3 (leaf, issuing, root):\n%s", ctx, n, r)
		}
		if n := strings.Count(info, "Shrouded Keybag"); n != 1 {
			t.Errorf("%s: openssl pkcs12 -info shows %d shrouded key bags, want 1:\n%s", ctx, n, r)
		}

		// Everything decrypted: bag attributes and PEM blocks.
		r = mustTool(t, ctx, "openssl", "pkcs12", "-in", b.pfx(), "-nodes", "-passin", pass)
		leaf := mustReadCert(t, b.crt())
		friendly := "friendlyName: " + leaf.Subject.CommonName
		var certs [][]byte
		keys := 0
		rest := []byte(r.Stdout)
		for {
			i := bytes.Index(rest, []byte("-----BEGIN "))
			if i < 0 {
				break
			}
			attrs := string(rest[:i])
			block, next := pem.Decode(rest[i:])
			if block == nil {
				t.Fatalf("%s: openssl pkcs12 -nodes printed a PEM block Go cannot read:\n%s", ctx, r)
			}
			rest = next
			switch block.Type {
			case "CERTIFICATE":
				certs = append(certs, block.Bytes)
				if bytes.Equal(block.Bytes, leaf.Raw) && !strings.Contains(attrs, friendly) {
					t.Errorf("%s: the leaf certificate's bag has no %q:\n%s", ctx, friendly, attrs)
				}
			case "PRIVATE KEY":
				keys++
				if !strings.Contains(attrs, friendly) {
					t.Errorf("%s: the key bag has no %q:\n%s", ctx, friendly, attrs)
				}
				k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
				if err != nil {
					t.Errorf("%s: the .pfx key is not PKCS#8: %v", ctx, err)
				} else if pk, ok := k.(crypto.Signer); !ok || !publicEqual(pk.Public(), leaf.PublicKey) {
					t.Errorf("%s: the .pfx key does not belong to %s", ctx, b.crt())
				}
			default:
				t.Errorf("%s: unexpected PEM block %q in openssl pkcs12 -nodes output", ctx, block.Type)
			}
		}
		if keys != 1 {
			t.Errorf("%s: openssl pkcs12 -nodes printed %d private keys, want 1:\n%s", ctx, keys, r)
		}
		want3 := [][]byte{leaf.Raw, mainCA.Issuing.Cert.Raw, mainCA.Root.Cert.Raw}
		for i, w := range want3 {
			if !slices.ContainsFunc(certs, func(c []byte) bool { return bytes.Equal(c, w) }) {
				t.Errorf("%s: the .pfx lacks the %s certificate", ctx, []string{"leaf (" + b.crt() + ")", "issuing CA", "root CA"}[i])
			}
		}
		if len(certs) != 3 {
			t.Errorf("%s: the .pfx holds %d certificates, want 3 (leaf, issuing, root)", ctx, len(certs))
		}
	})
}

// publicEqual compares two public keys.
func publicEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(x crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

// TestOpenSSLKey: openssl accepts every .key, and its public key is the
// certificate's.
func TestOpenSSLKey(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	forEachTemplate(t, func(t *testing.T, tmpl *templates.Template) {
		b := example(t, tmpl)
		if !b.has(templates.FormatKey) {
			b = ready(t, fullBundles[tmpl.Name], "template "+tmpl.Name+" with --format crt,key,pfx,chain")
		}
		ctx := "template " + tmpl.Name
		pass := []string{"-passin", "pass:" + bundlePassword} // ignored for an unencrypted key
		head, err := os.ReadFile(b.key())
		if err != nil {
			t.Fatal(err)
		}
		wantType := "PRIVATE KEY"
		if tmpl.Key.Encrypt {
			wantType = "ENCRYPTED PRIVATE KEY"
		}
		if block, _ := pem.Decode(head); block == nil || block.Type != wantType {
			t.Errorf("%s: %s is not a PEM %q (key.encrypt = %v)", ctx, b.key(), wantType, tmpl.Key.Encrypt)
		}
		if tmpl.Key.Encrypt {
			// Without the password openssl must not read it.
			if r := tool(t, "openssl", "pkey", "-in", b.key(), "-noout", "-passin", "pass:wrong-password"); r.Code == 0 {
				t.Errorf("%s: openssl reads the encrypted key with a wrong password:\n%s", ctx, r)
			}
		}

		mustTool(t, ctx, "openssl", append([]string{"pkey", "-in", b.key(), "-check", "-noout"}, pass...)...)
		pub := mustTool(t, ctx, "openssl", append([]string{"pkey", "-in", b.key(), "-pubout"}, pass...)...)
		certPub := mustTool(t, ctx, "openssl", "x509", "-in", b.crt(), "-pubkey", "-noout")
		if pub.Stdout != certPub.Stdout {
			t.Errorf("%s: the public key of %s is not the certificate's:\n%s\n%s", ctx, b.key(), pub, certPub)
		}
		if tmpl.Key.Type == templates.RSA {
			r := mustTool(t, ctx, "openssl", append([]string{"rsa", "-in", b.key(), "-check", "-noout"}, pass...)...)
			if !strings.Contains(r.Stdout, "RSA key ok") {
				t.Errorf("%s: openssl rsa -check did not say \"RSA key ok\":\n%s", ctx, r)
			}
		}
	})
}

// TestBundleFiles: --json lists exactly the template's files; the chain
// file is the issuing CA then the root, byte for byte; each .cer is a CA
// certificate; private files are 0600.
func TestBundleFiles(t *testing.T) {
	forEachTemplate(t, func(t *testing.T, tmpl *templates.Template) {
		b := example(t, tmpl)
		ctx := "template " + tmpl.Name
		var want []string
		for _, f := range tmpl.Output.Formats {
			switch f {
			case templates.FormatCRT:
				want = append(want, b.crt())
			case templates.FormatKey:
				want = append(want, b.key())
			case templates.FormatPFX:
				want = append(want, b.pfx())
			case templates.FormatChain:
				want = append(want, b.chain())
			case templates.FormatCER:
				want = append(want, filepath.Join(b.Dir, mainCA.Issuing.Slug+".cer"), filepath.Join(b.Dir, mainCA.Root.Slug+".cer"))
			case templates.FormatNote:
				want = append(want, b.path("-install.txt"))
			}
		}
		if got := sortedCopy(b.JSON.Files); !slices.Equal(got, sortedCopy(want)) {
			t.Errorf("%s: certmint issue --json files = %v, want %v (output.formats = %v)", ctx, b.JSON.Files, want, tmpl.Output.Formats)
		}
		ents, err := os.ReadDir(b.Dir)
		if err != nil {
			t.Fatal(err)
		}
		var onDisk []string
		for _, e := range ents {
			onDisk = append(onDisk, filepath.Join(b.Dir, e.Name()))
		}
		if !slices.Equal(sortedCopy(onDisk), sortedCopy(b.JSON.Files)) {
			t.Errorf("%s: %s holds %v; certmint --json listed %v", ctx, b.Dir, onDisk, b.JSON.Files)
		}
		for _, f := range b.JSON.Files {
			st, err := os.Stat(f)
			if err != nil {
				t.Errorf("%s: %v", ctx, err)
				continue
			}
			if (strings.HasSuffix(f, ".key") || strings.HasSuffix(f, ".pfx")) && st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", ctx, f, st.Mode().Perm())
			}
		}

		if b.has(templates.FormatChain) {
			chain, err := readCerts(b.chain())
			if err != nil {
				t.Fatalf("%s: %v", ctx, err)
			}
			if len(chain) != 2 || !bytes.Equal(chain[0].Raw, mainCA.Issuing.Cert.Raw) || !bytes.Equal(chain[1].Raw, mainCA.Root.Cert.Raw) {
				var names []string
				for _, c := range chain {
					names = append(names, c.Subject.String())
				}
				t.Errorf("%s: %s holds %v; want exactly the issuing CA (%s) then the root (%s), as in %s/<slug>/ca.crt",
					ctx, b.chain(), names, mainCA.Issuing.Cert.Subject, mainCA.Root.Cert.Subject, mainCA.Home)
			}
			// openssl builds the path from the chain file alone.
			if _, err := os.Stat(b.crt()); err == nil && hasTool("openssl") {
				mustTool(t, ctx+" (chain file as -untrusted)", "openssl", "verify", "-CAfile", mainCA.Root.Path, "-untrusted", b.chain(), b.crt())
			}
		}
		for _, ca := range []caCert{mainCA.Issuing, mainCA.Root} {
			cer := filepath.Join(b.Dir, ca.Slug+".cer")
			if !slices.Contains(b.JSON.Files, cer) {
				continue
			}
			certs, err := readCerts(cer)
			if err != nil {
				t.Errorf("%s: %v", ctx, err)
			} else if len(certs) != 1 || !bytes.Equal(certs[0].Raw, ca.Cert.Raw) {
				t.Errorf("%s: %s is not exactly %s", ctx, cer, ca.Path)
			}
		}
	})
}

func hasTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// TestOpenSSLCA: the CA certificates and the published folder, as openssl
// reads them, for both CA homes (RSA 4096 and ECDSA P-256).
func TestOpenSSLCA(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	for _, h := range []*caHome{mainCA, otherCA} {
		t.Run(h.Label, func(t *testing.T) {
			t.Parallel()
			ctx := h.Label + " CA"
			text := func(path string) string {
				return mustTool(t, ctx, "openssl", "x509", "-in", path, "-noout", "-text").Stdout
			}
			rootText, issText := text(h.Root.Path), text(h.Issuing.Path)
			check := func(what, text, header, want string, critical bool) extension {
				t.Helper()
				e := findBlock(text, header)
				switch {
				case !e.Found:
					t.Errorf("%s: %s has no %q", ctx, what, header)
				case critical && !e.Critical:
					t.Errorf("%s: %s: %s is not critical", ctx, what, header)
				case want != "" && e.Value() != want:
					t.Errorf("%s: %s: %s %q, want %q", ctx, what, header, e.Value(), want)
				}
				return e
			}

			// The keys init was asked for (main: the defaults, rsa:4096 for
			// both CAs) and the matching SHA-256 signatures.
			want := map[string]struct{ field, key, sig string }{
				"main":  {"Public-Key:", "(4096 bit)", "sha256WithRSAEncryption"},
				"other": {"NIST CURVE:", "P-256", "ecdsa-with-SHA256"},
			}[h.Label]
			for _, c := range []struct{ what, text string }{{"root", rootText}, {"issuing", issText}} {
				if got := mustField(t, c.text, want.field); got != want.key {
					t.Errorf("%s: %s CA key: %s %s, want %s", ctx, c.what, want.field, got, want.key)
				}
				if got := mustField(t, c.text, "Signature Algorithm:"); got != want.sig {
					t.Errorf("%s: %s CA signature algorithm %s, want %s", ctx, c.what, got, want.sig)
				}
			}

			check("root", rootText, "X509v3 Basic Constraints:", "CA:TRUE, pathlen:1", true)
			check("root", rootText, "X509v3 Key Usage:", "Certificate Sign, CRL Sign", true)
			rootSKI := check("root", rootText, "X509v3 Subject Key Identifier:", "", false)
			if findBlock(rootText, "X509v3 CRL Distribution Points:").Found || findBlock(rootText, "Authority Information Access:").Found {
				t.Errorf("%s: the self-signed root has a CDP or AIA; nothing above it could be named", ctx)
			}

			check("issuing", issText, "X509v3 Basic Constraints:", "CA:TRUE, pathlen:0", true)
			check("issuing", issText, "X509v3 Key Usage:", "Certificate Sign, CRL Sign", true)
			check("issuing", issText, "X509v3 Subject Key Identifier:", "", false)
			aki := check("issuing", issText, "X509v3 Authority Key Identifier:", "", false)
			if len(rootSKI.Lines) != 1 || len(aki.Lines) != 1 || keyID(aki.Lines[0]) != keyID(rootSKI.Lines[0]) {
				t.Errorf("%s: issuing CA's Authority Key Identifier %q is not the root's Subject Key Identifier %q", ctx, aki.Value(), rootSKI.Value())
			}
			cdp := findBlock(issText, "X509v3 CRL Distribution Points:")
			if want := "URI:" + h.BaseURL + "/" + h.Root.Slug + ".crl"; !slices.Equal(cdp.Lines, []string{"Full Name:", want}) {
				t.Errorf("%s: issuing CA's CRL distribution point %q, want %q", ctx, cdp.Value(), want)
			}
			aia := findBlock(issText, "Authority Information Access:")
			if want := "CA Issuers - URI:" + h.BaseURL + "/" + h.Root.Slug + ".crt"; !slices.Equal(aia.Lines, []string{want}) {
				t.Errorf("%s: issuing CA's Authority Information Access %q, want %q", ctx, aia.Value(), want)
			}
			mustTool(t, ctx+": issuing CA under the root", "openssl", "verify", "-x509_strict", "-CAfile", h.Root.Path, h.Issuing.Path)
			mustTool(t, ctx+": self-signed root", "openssl", "verify", "-x509_strict", "-CAfile", h.Root.Path, h.Root.Path)

			pub := filepath.Join(h.Home, "public")
			for _, c := range []caCert{h.Root, h.Issuing} {
				// public/<slug>.crt: DER, the same certificate.
				crt := filepath.Join(pub, c.Slug+".crt")
				der, err := os.ReadFile(crt)
				if err != nil {
					t.Errorf("%s: %v", ctx, err)
				} else if !bytes.Equal(der, c.Cert.Raw) {
					t.Errorf("%s: %s is not the DER of %s", ctx, crt, c.Path)
				}
				r := mustTool(t, ctx, "openssl", "x509", "-inform", "DER", "-in", crt, "-noout", "-subject")
				if !strings.Contains(r.Stdout, "CN = "+c.Cert.Subject.CommonName) {
					t.Errorf("%s: openssl x509 -inform DER -subject of %s: %q, want CN = %s", ctx, crt, r.Stdout, c.Cert.Subject.CommonName)
				}

				// public/<slug>.crl: DER, with a CRL number, signed by that CA
				// and by no other.
				crl := filepath.Join(pub, c.Slug+".crl")
				r = mustTool(t, ctx, "openssl", "crl", "-inform", "DER", "-in", crl, "-noout", "-text")
				if !strings.Contains(r.Stdout, "X509v3 CRL Number:") {
					t.Errorf("%s: %s has no CRL Number:\n%s", ctx, crl, r)
				}
				if iss, _ := field(r.Stdout, "Issuer:"); !strings.Contains(iss, "CN = "+c.Cert.Subject.CommonName) {
					t.Errorf("%s: %s is issued by %q, want %s", ctx, crl, iss, c.Cert.Subject.CommonName)
				}
				if nu, ok := field(r.Stdout, "Next Update:"); !ok {
					t.Errorf("%s: %s has no Next Update", ctx, crl)
				} else if tm, err := opensslTime(nu); err != nil || !tm.After(time.Now()) {
					t.Errorf("%s: %s: Next Update %q is not in the future (%v)", ctx, crl, nu, err)
				}
				r = mustTool(t, ctx, "openssl", "crl", "-inform", "DER", "-in", crl, "-noout", "-verify", "-CAfile", c.Path)
				if !strings.Contains(r.Stdout+r.Stderr, "verify OK") {
					t.Errorf("%s: openssl crl -verify did not say \"verify OK\":\n%s", ctx, r)
				}
				other := h.Root
				if c.Slug == h.Root.Slug {
					other = h.Issuing
				}
				if r := tool(t, "openssl", "crl", "-inform", "DER", "-in", crl, "-noout", "-verify", "-CAfile", other.Path); r.Code == 0 && strings.Contains(r.Stdout+r.Stderr, "verify OK") {
					t.Errorf("%s: %s verifies under %s too:\n%s", ctx, crl, other.Path, r)
				}
				// The PEM copy is the same CRL.
				pemCRL := crl + ".pem"
				mustTool(t, ctx, "openssl", "crl", "-in", pemCRL, "-noout")
				if data, err := os.ReadFile(pemCRL); err != nil {
					t.Errorf("%s: %v", ctx, err)
				} else if block, _ := pem.Decode(data); block == nil || block.Type != "X509 CRL" {
					t.Errorf("%s: %s is not a PEM X509 CRL", ctx, pemCRL)
				} else if derCRL, err := os.ReadFile(crl); err == nil && !bytes.Equal(block.Bytes, derCRL) {
					t.Errorf("%s: %s and %s differ", ctx, pemCRL, crl)
				}
			}
		})
	}
}

// mustField returns a field of openssl's text output or fails t.
func mustField(t testing.TB, text, prefix string) string {
	t.Helper()
	v, ok := field(text, prefix)
	if !ok {
		t.Fatalf("openssl output has no %q line:\n%s", prefix, text)
	}
	return v
}

// hexColon writes a key identifier as openssl does: "AB:CD:...".
func hexColon(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

// withoutHexDumps drops the modulus and signature lines of openssl's -text
// output, which only make failure messages long.
func withoutHexDumps(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && strings.Trim(t, "0123456789abcdef:") == "" && strings.Contains(t, ":") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestOpenSSLRepublishedCRL: after `certmint crl`, openssl reads each CA's
// new CRL with the next CRL number, signed by that CA, and still verifies an
// issued certificate against the new CRLs. (Not parallel: it replaces the
// published files other tests read.)
func TestOpenSSLRepublishedCRL(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	pub := filepath.Join(mainCA.Home, "public")
	crlNumber := func(c caCert) (int, string) {
		t.Helper()
		r := mustTool(t, "CA "+c.Slug, "openssl", "crl", "-inform", "DER", "-in", filepath.Join(pub, c.Slug+".crl"), "-noout", "-text")
		e := findBlock(r.Stdout, "X509v3 CRL Number:")
		var n int
		if len(e.Lines) != 1 {
			t.Fatalf("CA %s: no CRL Number:\n%s", c.Slug, r)
		}
		if _, err := fmt.Sscan(e.Lines[0], &n); err != nil {
			t.Fatalf("CA %s: CRL Number %q: %v", c.Slug, e.Lines[0], err)
		}
		return n, r.Stdout
	}
	before := map[string]int{}
	for _, c := range []caCert{mainCA.Root, mainCA.Issuing} {
		before[c.Slug], _ = crlNumber(c)
	}

	stdout, stderr, code := run(t, "crl", "--json")
	if code != 0 {
		t.Fatalf("certmint crl --json: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var doc struct {
		CRLs []struct {
			CA     string `json:"ca"`
			Number int    `json:"number"`
			Path   string `json:"path"`
		} `json:"crls"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("certmint crl --json printed no JSON: %v\n%s", err, stdout)
	}
	rows := doc.CRLs
	if len(rows) != 2 {
		t.Errorf("certmint crl --json lists %d CRLs, want 2 (root, issuing):\n%s", len(rows), stdout)
	}
	for _, c := range []caCert{mainCA.Root, mainCA.Issuing} {
		n, text := crlNumber(c)
		if n != before[c.Slug]+1 {
			t.Errorf("CA %s: CRL Number %d after certmint crl, want %d (one more than before)", c.Slug, n, before[c.Slug]+1)
		}
		for _, row := range rows {
			if row.CA == c.Slug && row.Number != n {
				t.Errorf("CA %s: certmint crl --json says number %d, openssl reads %d", c.Slug, row.Number, n)
			}
		}
		if lu, ok := field(text, "Last Update:"); !ok {
			t.Errorf("CA %s: the new CRL has no Last Update", c.Slug)
		} else if tm, err := opensslTime(lu); err != nil || tm.After(time.Now()) {
			t.Errorf("CA %s: the new CRL's Last Update %q is in the future (%v)", c.Slug, lu, err)
		}
		mustTool(t, "CA "+c.Slug, "openssl", "crl", "-inform", "DER", "-in", filepath.Join(pub, c.Slug+".crl"), "-noout", "-verify", "-CAfile", c.Path)
	}

	server, err := templates.Builtin("server")
	if err != nil {
		t.Fatal(err)
	}
	b := example(t, server)
	mustTool(t, "template server with the republished CRLs", "openssl", "verify", "-crl_check_all",
		"-CRLfile", filepath.Join(pub, mainCA.Root.Slug+".crl"), "-CRLfile", filepath.Join(pub, mainCA.Issuing.Slug+".crl"),
		"-CAfile", mainCA.Root.Path, "-untrusted", mainCA.Issuing.Path, b.crt())
}
