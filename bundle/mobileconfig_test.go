package bundle

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
)

var uuidRe = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

// readProfile parses a profile with howett.net/plist, as an MDM would
// read it, into the structure Apple documents.
func readProfile(t *testing.T, data []byte) profileXML {
	t.Helper()
	var p profileXML
	format, err := plist.Unmarshal(data, &p)
	if err != nil {
		t.Fatalf("the profile does not parse as a plist: %v", err)
	}
	if format != plist.XMLFormat {
		t.Errorf("plist format %d, want XML", format)
	}
	return p
}

// TestMobileconfig: a profile for an MDM: a root payload, a PKCS#1
// payload for the issuing CA, a PKCS#12 payload that opens with the bundle
// password and holds the key and the chain; unique UUIDs, reverse-DNS
// identifiers, System scope, no password unless asked.
func TestMobileconfig(t *testing.T) {
	p := newTestPKI(t, "MAC01.local")
	o := p.options(t.TempDir(), "mobileconfig")
	data := build(t, o)["MAC01.local.mobileconfig"].Data
	prof := readProfile(t, data)
	if prof.PayloadType != "Configuration" || prof.PayloadScope != "System" || prof.PayloadVersion != 1 {
		t.Errorf("profile type %q, scope %q, version %d", prof.PayloadType, prof.PayloadScope, prof.PayloadVersion)
	}
	if prof.PayloadIdentifier != "com.contoso.pki.certmint.MAC01.local" {
		t.Errorf("PayloadIdentifier %q, want the CA's host reversed, certmint, the CN", prof.PayloadIdentifier)
	}
	if !strings.Contains(prof.PayloadDisplayName, "MAC01.local") || prof.PayloadOrganization != "Contoso" {
		t.Errorf("display name %q, organization %q", prof.PayloadDisplayName, prof.PayloadOrganization)
	}
	if len(prof.PayloadContent) != 3 {
		t.Fatalf("%d payloads, want the root, the issuing CA and the identity", len(prof.PayloadContent))
	}
	uuids := map[string]bool{prof.PayloadUUID: true}
	ids := map[string]bool{prof.PayloadIdentifier: true}
	for i, want := range []struct {
		typ, name string
		der       []byte
	}{
		{PayloadTypeRoot, "Contoso Root CA", p.Root.Raw},
		{PayloadTypePKCS1, "Contoso Issuing CA", p.Issuing.Raw},
	} {
		pl := prof.PayloadContent[i]
		if pl.PayloadType != want.typ || pl.PayloadDisplayName != want.name || !bytes.Equal(pl.PayloadContent, want.der) {
			t.Errorf("payload %d: %s %q, want %s %q with the CA's DER", i, pl.PayloadType, pl.PayloadDisplayName, want.typ, want.name)
		}
	}
	id := prof.PayloadContent[2]
	if id.PayloadType != PayloadTypePKCS12 || id.PayloadDisplayName != "MAC01.local" || id.PayloadCertificateFileName != "MAC01.local.pfx" {
		t.Errorf("identity payload %s %q %q", id.PayloadType, id.PayloadDisplayName, id.PayloadCertificateFileName)
	}
	for _, pl := range prof.PayloadContent {
		if !uuidRe.MatchString(pl.PayloadUUID) || uuids[pl.PayloadUUID] {
			t.Errorf("PayloadUUID %q is not a fresh random UUID", pl.PayloadUUID)
		}
		uuids[pl.PayloadUUID] = true
		if !strings.HasPrefix(pl.PayloadIdentifier, prof.PayloadIdentifier+".") || ids[pl.PayloadIdentifier] {
			t.Errorf("PayloadIdentifier %q is not unique under %q", pl.PayloadIdentifier, prof.PayloadIdentifier)
		}
		ids[pl.PayloadIdentifier] = true
		if pl.PayloadVersion != 1 {
			t.Errorf("%s: PayloadVersion %d", pl.PayloadType, pl.PayloadVersion)
		}
	}
	if !uuidRe.MatchString(prof.PayloadUUID) {
		t.Errorf("profile PayloadUUID %q", prof.PayloadUUID)
	}
	// No password unless asked: the device asks for it.
	if bytes.Contains(data, []byte("<key>Password</key>")) || bytes.Contains(data, []byte(o.Password)) {
		t.Error("the profile holds the password; it should be left out by default")
	}
	// The PKCS#12 opens with the bundle password, legacy-encrypted, with
	// the key, the certificate and both CAs.
	key, leaf, cas, err := pkcs12.DecodeChain(id.PayloadContent, o.Password)
	if err != nil {
		t.Fatalf("go-pkcs12: %v", err)
	}
	if k, ok := key.(crypto.Signer); !ok || !leaf.Equal(p.Leaf) || !keys.Match(k, p.Leaf.PublicKey) || len(cas) != 2 {
		t.Errorf("PKCS#12 holds leaf %q, %d CAs; want MAC01.local with its key and 2 CAs", leaf.Subject.CommonName, len(cas))
	}
	// Another build: new UUIDs, the same identifiers (a renewal replaces
	// the profile on the device).
	again := readProfile(t, build(t, p.options(t.TempDir(), "mobileconfig"))["MAC01.local.mobileconfig"].Data)
	if again.PayloadUUID == prof.PayloadUUID || again.PayloadIdentifier != prof.PayloadIdentifier {
		t.Errorf("rebuilt: UUID %s (was %s), identifier %s (was %s)", again.PayloadUUID, prof.PayloadUUID, again.PayloadIdentifier, prof.PayloadIdentifier)
	}
	// Asked for: the password is in the identity payload.
	o.ProfilePassword = true
	withPW := readProfile(t, build(t, o)["MAC01.local.mobileconfig"].Data)
	if got := withPW.PayloadContent[2].Password; got != o.Password {
		t.Errorf("ProfilePassword: Password %q, want the bundle password", got)
	}
}

// TestMobileconfigOpenSSL: openssl reads the profile's PKCS#12 with the
// password (3DES, SHA-1 MAC: -legacy), with the key and three certificates.
func TestMobileconfigOpenSSL(t *testing.T) {
	openssl := testkit.RequireTool(t, "openssl")
	p := newTestPKI(t, "MAC01.local")
	o := p.options(t.TempDir(), "mobileconfig")
	prof := readProfile(t, build(t, o)["MAC01.local.mobileconfig"].Data)
	pfx := filepath.Join(t.TempDir(), "payload.p12")
	os.WriteFile(pfx, prof.PayloadContent[2].PayloadContent, 0o600)
	cmd := exec.Command(openssl, "pkcs12", "-legacy", "-in", pfx, "-passin", "env:PW", "-nodes", "-info")
	cmd.Env = append(os.Environ(), "PW="+o.Password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs12 -legacy: %v\n%s", err, out)
	}
	for _, want := range []string{"pbeWithSHA1And3-KeyTripleDES-CBC", "MAC: sha1", "PRIVATE KEY"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("openssl pkcs12 -info lacks %q:\n%s", want, out)
		}
	}
	if n := bytes.Count(out, []byte("BEGIN CERTIFICATE")); n != 3 {
		t.Errorf("openssl finds %d certificates, want the leaf and both CAs", n)
	}
}

// TestMobileconfigHostileNames: names with XML and plist syntax read back
// as they are.
func TestMobileconfigHostileNames(t *testing.T) {
	for _, cn := range hostileNames {
		p := newTestPKINames(t, cn, cn+" Root", cn+" Issuing")
		o := p.options(t.TempDir(), "mobileconfig")
		o.Base = "hostile"
		prof := readProfile(t, build(t, o)["hostile.mobileconfig"].Data)
		if got := prof.PayloadContent[2].PayloadDisplayName; got != cn {
			t.Errorf("display name reads back %q, want %q", got, cn)
		}
		if got := prof.PayloadContent[0].PayloadDisplayName; got != cn+" Root" {
			t.Errorf("root name reads back %q", got)
		}
		if !regexp.MustCompile(`^[A-Za-z0-9.-]+$`).MatchString(prof.PayloadContent[2].PayloadIdentifier) {
			t.Errorf("identifier %q is not reverse-DNS", prof.PayloadContent[2].PayloadIdentifier)
		}
	}
}

// signer makes a profile signing certificate under the test issuing CA.
func (p *testPKI) signer(t *testing.T, mutate func(*x509.Certificate)) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	k := ecKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "Contoso Profile Signing"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	if mutate != nil {
		mutate(tmpl)
	}
	return sign(t, tmpl, p.Issuing, k, p.IssuingKey), k
}

// TestSignedMobileconfig: with a signer, BASE.signed.mobileconfig is CMS
// SignedData over the very XML of BASE.mobileconfig; openssl cms and
// openssl smime verify it, with and without the chain to the root.
func TestSignedMobileconfig(t *testing.T) {
	openssl := testkit.RequireTool(t, "openssl")
	p := newTestPKI(t, "MAC01.local")
	cert, key := p.signer(t, nil)
	dir := t.TempDir()
	o := p.options(dir, "mobileconfig")
	o.ProfileSigner = &ProfileSigner{Cert: cert, Chain: []*x509.Certificate{p.Issuing}, Key: key}
	files := build(t, o)
	unsigned, signed := files["MAC01.local.mobileconfig"], files["MAC01.local.signed.mobileconfig"]
	if signed.Mode != 0o600 {
		t.Errorf("signed profile mode %v, want 0600 (it holds the encrypted .pfx)", signed.Mode)
	}
	sd, err := pkcs7.Parse(signed.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.Verify(); err != nil {
		t.Errorf("pkcs7 Verify: %v", err)
	}
	if !bytes.Equal(sd.Content, unsigned.Data) {
		t.Error("the signed content is not the unsigned profile")
	}
	root := filepath.Join(t.TempDir(), "root.pem")
	os.WriteFile(root, CertPEM(p.Root), 0o644)
	for _, args := range [][]string{
		{"cms", "-verify", "-inform", "DER", "-noverify"},
		{"smime", "-verify", "-inform", "DER", "-noverify"},
		{"cms", "-verify", "-inform", "DER", "-CAfile", root, "-purpose", "any"},
	} {
		content := filepath.Join(t.TempDir(), "content.xml")
		cmd := exec.Command(openssl, append(args, "-in", filepath.Join(dir, "MAC01.local.signed.mobileconfig"), "-out", content)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		if got, _ := os.ReadFile(content); !bytes.Equal(got, unsigned.Data) {
			t.Errorf("openssl %s: the verified content is not the profile", strings.Join(args, " "))
		}
	}
}

// TestLoadProfileSigner: the certificate and key files a user gives, and
// each way they can be wrong.
func TestLoadProfileSigner(t *testing.T) {
	p := newTestPKI(t, "MAC01.local")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, data, 0o600)
		return path
	}
	good, goodKey := p.signer(t, nil)
	plainKey, _ := keys.MarshalPKCS8PEM(goodKey, "", 0)
	encKey, _ := keys.MarshalPKCS8PEM(goodKey, "key-password", 1000)
	expired, expiredKey := p.signer(t, func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-time.Minute) })
	noDS, noDSKey := p.signer(t, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })
	marshal := func(k crypto.Signer) []byte { b, _ := keys.MarshalPKCS8PEM(k, "", 0); return b }
	now := time.Now()
	pw := func(s string) func() (string, error) { return func() (string, error) { return s, nil } }
	for _, tc := range []struct {
		name      string
		cert, key string
		password  func() (string, error)
		err       string
		signerErr bool
	}{
		{"a certificate and its key", write("good.crt", CertPEM(good)), write("good.key", plainKey), nil, "", false},
		{"with its chain", write("chain.crt", append(CertPEM(good), CertPEM(p.Issuing)...)), write("good.key", plainKey), nil, "", false},
		{"an encrypted key", write("good.crt", CertPEM(good)), write("enc.key", encKey), pw("key-password"), "", false},
		{"the wrong password", write("good.crt", CertPEM(good)), write("enc.key", encKey), pw("nope"), "password", false},
		{"another certificate's key", write("good.crt", CertPEM(good)), write("other.key", marshal(expiredKey)), nil, "does not belong to the certificate", true},
		{"an expired certificate", write("expired.crt", CertPEM(expired)), write("expired.key", marshal(expiredKey)), nil, "not now", true},
		{"no digital signature", write("nods.crt", CertPEM(noDS)), write("nods.key", marshal(noDSKey)), nil, "does not allow digital signatures", true},
		{"the chain upside down", write("bad-chain.crt", append(CertPEM(good), CertPEM(p.Root)...)), write("good.key", plainKey), nil, "is not signed by", true},
		{"not a certificate", write("junk.crt", []byte("junk")), write("good.key", plainKey), nil, "profile signing certificate", false},
		{"not a key", write("good.crt", CertPEM(good)), write("junk.key", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: good.Raw})), nil, "profile signing key", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadProfileSigner(tc.cert, tc.key, tc.password, now)
			if tc.err == "" {
				if err != nil || !s.Cert.Equal(good) {
					t.Fatalf("LoadProfileSigner: %v", err)
				}
				if _, err := SignProfile([]byte("<plist/>"), s); err != nil {
					t.Errorf("SignProfile: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			var se *SignerError
			if tc.signerErr && !errors.As(err, &se) {
				t.Errorf("%T is not a SignerError, whose hint says what to give", err)
			}
		})
	}
}
