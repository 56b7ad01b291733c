package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/check"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// The vendor documents (../shared/seeds in the workspace). Every requirement
// sentence of them is a row of seedRules below, quoted exactly, with the
// templates it applies to and a check over what certmint issues, writes or
// refuses. When the seeds folder is present the quotes are also checked
// against it, so a row cannot cite words the vendor never wrote.
const (
	seed000 = "000_c69ba679cf60fb8d.txt" // 1E: certificate requirements
	seed001 = "001_eb67de2e005c8f04.txt" // 1E: the same page, another copy
	seed002 = "002_f13c679b5db039e5.txt" // 1E Client for macOS
	seed003 = "003_90fdeedbb106b03d.txt" // YSoft SafeQ generateCertificate.ps1
	seed004 = "004_0eebd9b6bc772684.txt" // Microsoft Defender for IoT

)

// seed1E: the 1E sentences appear in both copies of the page.
var seed1E = []string{seed000, seed001}

// seedRule is one requirement sentence of a seed document.
type seedRule struct {
	seeds []string // the seed files that contain the sentence
	// sentence is the exact wording. " ... " separates fragments that
	// appear in this order (a list item split from its heading).
	sentence  string
	templates []string // built-in templates the rule applies to; none: the CA itself
	check     func(t *testing.T, e *seedEnv, tmpl string)
}

var (
	seed1EClients = []string{"1e-client", "1e-client-workgroup", "1e-client-macos"}
	seed1EAll     = []string{"1e-client", "1e-client-workgroup", "1e-client-macos", "1e-switch", "1e-code-signing"}
	seedSafeQ     = []string{"safeq-signing", "safeq-ssl"}
	seedDefender  = []string{"defender-sensor"}
	seedMac       = []string{"1e-client-macos"}
)

// seedRules: one row per requirement sentence of the seeds.
var seedRules = []seedRule{
	// ---- 000 / 001: 1E platform, certificate requirements ----
	{seed1E, "You need to have a PKI in your environment with at least one Issuing CA.", seed1EAll,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.example(t, tmpl).Cert
			seedIssuedByCA(t, e.s, c)
		}},
	{seed1E, "1E requires each Issuing CA has: ... A Certificate Revocation List (CRL) Distribution Point (CDP) that uses HTTP/S", nil,
		func(t *testing.T, e *seedEnv, _ string) {
			// The issuing CA publishes its CRL where its certificates point,
			// over http, and is itself listed on the root's http CDP.
			u := seedHTTPURL(t, e.s.Config.CRLURL(e.s.Issuing.Slug))
			rl, err := crl.ReadFile(filepath.Join(e.s.PublicDir(), filepath.Base(u.Path)))
			if err != nil {
				t.Fatalf("the CRL behind %s is not in public/: %v", u, err)
			}
			if err := rl.CheckSignatureFrom(e.s.Issuing.Cert); err != nil {
				t.Errorf("public/%s is not signed by the issuing CA: %v", filepath.Base(u.Path), err)
			}
			if got := e.s.Issuing.Cert.CRLDistributionPoints; len(got) != 1 || got[0] != e.s.Config.CRLURL(e.s.Root.Slug) {
				t.Errorf("issuing CA CDP = %v, want the root's CRL %s", got, e.s.Config.CRLURL(e.s.Root.Slug))
			}
		}},
	{seed1E, "This HTTP/S CDP information included in certificates issued to 1E Server and client devices.",
		[]string{"1e-client", "1e-client-workgroup", "1e-client-macos", "1e-switch", "1e-code-signing", "server", "client"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedCDP(t, e.s, e.example(t, tmpl).Cert)
			if tmpl == "1e-switch" {
				// A server certificate signed from an enterprise-style CSR too.
				seedCDP(t, e.s, e.signed(t, tmpl).Cert)
			}
		}},
	{seed1E, "If you have an existing PKI and have just added a new CDP to support HTTP/S then you will need to re-issue certificates to your servers and devices.",
		[]string{"1e-client", "1e-switch"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			old := e.example(t, tmpl)
			req, rec, err := e.s.RenewalRequest(context.Background(), old.Cert.SerialNumber, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			req.Password = seedPFXPassword
			res, _, err := e.s.Renew(context.Background(), req, rec, false, time.Now())
			if err != nil {
				t.Fatalf("renew: %v", err)
			}
			seedCDP(t, e.s, res.Cert)
			if res.Cert.Subject.CommonName != old.Cert.Subject.CommonName || res.Cert.SerialNumber.Cmp(old.Cert.SerialNumber) == 0 {
				t.Errorf("renewal: CN %q serial %s; want CN %q and a new serial", res.Cert.Subject.CommonName, res.Serial, old.Cert.Subject.CommonName)
			}
		}},
	{seed1E, "1E web server deliberately does not work with self-signed certificates for security reasons.",
		[]string{"1e-switch", "1e-client", "1e-client-workgroup", "1e-client-macos"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedRefusesSelfSigned(t, e, tmpl)
			seedIssuedByCA(t, e.s, e.example(t, tmpl).Cert)
		}},
	{seed1E, "1E supports TLSv1.2 and TLSv1.3.", []string{"1e-switch"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			sw := e.example(t, tmpl)
			server, err := tls.LoadX509KeyPair(sw.file(t, ".crt"), sw.file(t, ".key"))
			if err != nil {
				t.Fatal(err)
			}
			server.Certificate = append(server.Certificate, e.s.Issuing.Cert.Raw)
			// The 1E Client presents the certificate from its .pfx.
			cl := e.example(t, "1e-client")
			key, leaf, cas := cl.pfx(t, seedPFXPassword)
			client := tls.Certificate{Certificate: [][]byte{leaf.Raw, cas[0].Raw}, PrivateKey: key}
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				for _, name := range sw.Cert.DNSNames {
					if err := seedHandshake(e.s, server, &client, name, v); err != nil {
						t.Errorf("%s handshake with the Switch as %s and the 1E Client certificate: %v", tls.VersionName(v), name, err)
					}
				}
			}
		}},
	{seed1E, "If your PKI is using SHA512, then please ensure that your environment has relevant updates applied", seed1EAll,
		func(t *testing.T, e *seedEnv, tmpl string) {
			if got := e.example(t, tmpl).Cert.SignatureAlgorithm; got != x509.SHA256WithRSA {
				t.Errorf("default signature %v, want SHA256-RSA", got)
			}
			tm := mustTemplate(t, tmpl)
			hashes := []templates.Hash{templates.SHA512}
			if tmpl == "1e-client" {
				hashes = append(hashes, templates.SHA384)
			}
			want := map[templates.Hash]x509.SignatureAlgorithm{templates.SHA384: x509.SHA384WithRSA, templates.SHA512: x509.SHA512WithRSA}
			for _, h := range hashes {
				if !slices.Contains(tm.Signature.Allowed, h) {
					t.Errorf("signature.allowed %v lacks %s", tm.Signature.Allowed, h)
				}
				derived := seedDerive(t, tm, `hash = "sha256"`, fmt.Sprintf("hash = %q", h))
				b := e.issue(t, tmpl+"-"+string(h), e.exampleRequest(t, derived))
				if got := b.Cert.SignatureAlgorithm; got != want[h] {
					t.Errorf("signature.hash = %q: certificate signed with %v, want %v", h, got, want[h])
				}
			}
		}},
	{seed1E, "The certificate for the Root CA in the Certification Path must exist in the Trusted Root CA store of the client.", seed1EClients,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			seedHasCA(t, b, e.s.Root)
		}},
	{seed1E, "If the issuing CA is not the Root CA then the certificate for the issuing CA and any intermediate CA in the Certification Path must exist in the Intermediate CA store of the client.", seed1EClients,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			seedHasCA(t, b, e.s.Issuing)
		}},
	{seed1E, "Has at least the following Enhanced Key Usage: ... Client Authentication.", append(slices.Clone(seed1EClients), "client"),
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.example(t, tmpl).Cert
			if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
				t.Errorf("EKU %v lacks Client Authentication", c.ExtKeyUsage)
			}
			seedVerify(t, e.s, c, x509.ExtKeyUsageClientAuth)
		}},
	{seed1E, "Has at least the following Key Usage: ... Digital Signature. ... Key encipherment.", seed1EClients,
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedKeyUsage(t, e.example(t, tmpl).Cert, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment)
		}},
	{seed1E, "The 1E Client requires that the client certificate it presents to the platform has both the Signature and Encryption request handling options.", seed1EClients,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.example(t, tmpl).Cert
			seedKeyUsage(t, c, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment)
			// Key encipherment needs a key that can encrypt: RSA.
			if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
				t.Errorf("public key %T cannot encrypt; want RSA", c.PublicKey)
			}
		}},
	{seed1E, "For workgroup and non-Windows devices, the private key must be exportable.", []string{"1e-client-workgroup", "1e-client-macos"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedExportableKey(t, e.example(t, tmpl))
		}},
	{seed1E, "References at least one CRL Distribution point that uses HTTP.", append(slices.Clone(seed1EClients), "client"),
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedCDP(t, e.s, e.example(t, tmpl).Cert)
		}},
	{seed1E, "Has a Subject Name of type Common Name (CN=<computername>) or Subject Alternative Name (DNS Name=<computername>)", seed1EClients,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.example(t, tmpl).Cert
			if !slices.Contains(c.DNSNames, c.Subject.CommonName) {
				t.Errorf("CN %q is not a DNS name of the SAN %v", c.Subject.CommonName, c.DNSNames)
			}
		}},
	{seed1E, "On domain-joined Windows PCs this must be the computername FQDN of the computer, for example W701.ACME.LOCAL.", []string{"1e-client"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedComputerName(t, e.example(t, tmpl).Cert, "W701.ACME.LOCAL")
			err := seedRefused(t, e, tmpl, IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj("W701")})
			seedRequestRule(t, err, "subject.cn")
		}},
	{seed1E, "On workgroup Windows PCs and non-Windows devices, this must be the computername of the computer - as returned by the hostname command, for example on Windows PC this could be W701, and on a Mac this could be MAC01.local.",
		[]string{"1e-client-workgroup", "1e-client-macos"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			names := map[string][]string{
				"1e-client-workgroup": {"W701", "ubuntu-web-01"},
				"1e-client-macos":     {"MAC01.local"},
			}[tmpl]
			for _, n := range names {
				b := e.issue(t, tmpl+"-"+n, IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj(n)})
				seedComputerName(t, b.Cert, n)
			}
		}},
	{seed1E, "Instead, the client requires the certificate exists as a .pfx file in the client installation folder structure.", []string{"1e-client-workgroup"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			seedExportableKey(t, b)
			if p := b.file(t, ".pfx"); filepath.Base(p) != "W701.pfx" {
				t.Errorf(".pfx is %s, want W701.pfx (named after the host name)", p)
			}
		}},
	{seed1E, "For macOS, you have a choice of storing the client certificate in the macOS Key Store or using the .pfx file approach required by other non-Windows devices.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedExportableKey(t, e.example(t, tmpl))
		}},
	{seed1E, "The template must Allow private key to be exported - so a certificate can be requested on a domain joined Windows computer, exported as a .pfx file and then imported on the target device",
		[]string{"1e-client", "1e-client-workgroup"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedExportableKey(t, e.example(t, tmpl))
		}},
	{seed1E, "Custom Instructions must be signed by TIMS using a code-signing certificate present in the Personal certificate store where TIMS is installed (either local user or machine store).",
		[]string{"1e-code-signing", "code-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			c := b.Cert
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}) || len(c.UnknownExtKeyUsage) > 0 {
				t.Errorf("EKU %v %v, want Code Signing", c.ExtKeyUsage, c.UnknownExtKeyUsage)
			}
			seedKeyUsage(t, c, x509.KeyUsageDigitalSignature)
			seedVerify(t, e.s, c, x509.ExtKeyUsageCodeSigning)
			seedExportableKey(t, b) // the Personal store imports the .pfx
		}},
	{seed1E, "The TIMS user signing the Instruction also needs to have access to the certificate's private key.", []string{"1e-code-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			key, leaf, _ := b.pfx(t, seedPFXPassword)
			seedSignVerify(t, key, leaf)
		}},
	{seed1E, "Ideally, all of your 1E instruction developers should share a single code signing certificate between them.", []string{"1e-code-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			// One .pfx carries all a developer needs: key, certificate, chain.
			b := e.example(t, tmpl)
			if n := len(b.files(".pfx")); n != 1 {
				t.Fatalf("%d .pfx files, want 1", n)
			}
			_, leaf, cas := b.pfx(t, seedPFXPassword)
			if !leaf.Equal(b.Cert) || len(cas) != 2 {
				t.Errorf(".pfx holds the leaf %v and %d CA certificates; want the issued certificate and both CAs", leaf.Equal(b.Cert), len(cas))
			}
		}},
	{seed1E, "The signature algorithm of the 1E code signing certificate is SHA256RSA.", []string{"1e-code-signing", "code-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.example(t, tmpl).Cert
			if c.SignatureAlgorithm != x509.SHA256WithRSA {
				t.Errorf("signature %v, want SHA256-RSA", c.SignatureAlgorithm)
			}
			if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
				t.Errorf("public key %T, want RSA", c.PublicKey)
			}
			// It describes 1E's own certificate, not the customer's: advice.
			if mustTemplate(t, tmpl).IsRequirement("signature.allowed") || mustTemplate(t, tmpl).IsRequirement("signature.issuer_key_types") {
				t.Errorf("%s makes 1E's own signature algorithm a requirement of the customer's certificate", tmpl)
			}
		}},
	{seed1E, "Each code signing certificate must be registered in your 1E license and associated with your organization's instruction name prefix.", []string{"1e-code-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			if got := e.example(t, tmpl).Cert.Subject.Organization; len(got) != 1 || got[0] != "ACME Corp" {
				t.Errorf("O = %v, want [ACME Corp]", got)
			}
			err := seedRefused(t, e, tmpl, IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj("ACME Instruction Signing")})
			seedRequestRule(t, err, "subject.require")
			if !strings.Contains(err.Error(), "missing O") {
				t.Errorf("the refusal does not name O: %v", err)
			}
		}},

	// ---- 002: 1E Client for macOS ----
	{[]string{seed002}, "The Subject Name of the certificate must be the host name of the mac device.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedComputerName(t, e.example(t, tmpl).Cert, "MAC01.local")
			// The note says where the Mac shows it.
			seedNoteLine(t, e.example(t, tmpl), "Computers on your local network can access your computer at")
		}},
	{[]string{seed002}, "It must be typed exactly as displayed in the certificate request (case-sensitive and including any special characters).", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			for _, n := range []string{"MAC01.local", "Johns-MacBook-Pro-2.local"} {
				b := e.issue(t, tmpl+"-"+n, IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj(n)})
				seedComputerName(t, b.Cert, n)
				if p := b.file(t, ".pfx"); filepath.Base(p) != n+".pfx" {
					t.Errorf(".pfx is %s, want %s.pfx (case kept)", filepath.Base(p), n)
				}
			}
		}},
	{[]string{seed002}, "Extensions - Application Policies should contain only Client Authentication.", seed1EClients,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.example(t, tmpl).Cert
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || len(c.UnknownExtKeyUsage) > 0 {
				t.Errorf("EKU %v, unknown %v; want only Client Authentication", c.ExtKeyUsage, c.UnknownExtKeyUsage)
			}
		}},
	{[]string{seed002}, "Request Handling - Allow private keys to be exported.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedExportableKey(t, e.example(t, tmpl))
		}},
	{[]string{seed002}, "include all certificates in the certification path if possible", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			_, leaf, cas := b.pfx(t, seedPFXPassword)
			if !leaf.Equal(b.Cert) {
				t.Errorf("the .pfx leaf is not the issued certificate")
			}
			if len(cas) != 2 || !cas[0].Equal(e.s.Issuing.Cert) || !cas[1].Equal(e.s.Root.Cert) {
				t.Errorf(".pfx CA certificates %v, want the issuing CA then the root", seedSubjects(cas))
			}
		}},
	{[]string{seed002}, "Enable certificate privacy", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			info := seedInspectPFX(t, e.example(t, tmpl).file(t, ".pfx"))
			if info.plainCertBags != 0 || info.encryptedSafes == 0 {
				t.Errorf(".pfx: %d certificate bags in the clear, %d encrypted safes; want every certificate encrypted", info.plainCertBags, info.encryptedSafes)
			}
		}},
	{[]string{seed002}, "export it in .pfx form and remember the password.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			data, err := os.ReadFile(b.file(t, ".pfx"))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := pkcs12.DecodeChain(data, "not-the-password"); !errors.Is(err, pkcs12.ErrIncorrectPassword) {
				t.Errorf(".pfx opened with a wrong password: %v", err)
			}
			req := e.exampleRequest(t, mustTemplate(t, tmpl))
			req.Out = t.TempDir()
			if _, err := e.s.Issue(context.Background(), req); err == nil || !strings.Contains(err.Error(), "password") {
				t.Errorf("issuing without a password: %v, want a refusal that asks for one", err)
			}
		}},
	{[]string{seed002}, "Obtain Certificate Authority (CA) certificates as individual .cer files - They must be exported individually because when presented with a bundle of certificates the Keychain Access UI only imports the last one it encounters.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			cers := b.files(".cer")
			if len(cers) != 2 {
				t.Fatalf(".cer files %v, want one per CA (2)", cers)
			}
			for _, a := range e.s.Authorities() {
				p := filepath.Join(b.Dir, a.Slug+".cer")
				certs := seedReadPEMCerts(t, p)
				if len(certs) != 1 || !certs[0].Equal(a.Cert) {
					t.Errorf("%s holds %d certificates %v, want exactly %s", p, len(certs), seedSubjects(certs), a.Cert.Subject)
				}
			}
		}},
	{[]string{seed002}, "export as a .cer file using base-64 encoded X.509 format.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			for _, p := range e.example(t, tmpl).files(".cer") {
				data, _ := os.ReadFile(p)
				if !bytes.HasPrefix(data, []byte("-----BEGIN CERTIFICATE-----\n")) {
					t.Errorf("%s is not base-64 (PEM) X.509: starts %q", p, data[:min(len(data), 30)])
				}
			}
		}},
	{[]string{seed002}, "sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain <certificate.cer>", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			line := seedNoteLine(t, b, "security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain")
			root := e.s.Root.Slug + ".cer"
			if !strings.HasSuffix(line, " "+root) && !strings.HasSuffix(line, " '"+root+"'") {
				t.Errorf("the trust command does not name the root's file %s: %q", root, line)
			}
			if !slices.Contains(b.Files, filepath.Join(b.Dir, root)) {
				t.Errorf("the note names %s, which the bundle does not hold", root)
			}
		}},
	{[]string{seed002}, "sudo security import <download location>/<macOSpfx>.pfx -k /Library/Keychains/System.keychain -t agg -f pkcs12 -P <password> -T '/Library/Application Support/1E/Client/1E.Client'", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			pfx := filepath.Base(b.file(t, ".pfx"))
			line := seedNoteLine(t, b, "security import ")
			for _, want := range []string{
				"security import '" + pfx + "' -k /Library/Keychains/System.keychain -t agg -f pkcs12 -P ",
				"-T '/Library/Application Support/1E/Client/1E.Client'",
			} {
				if !strings.Contains(line, want) && !strings.Contains(line, strings.ReplaceAll(want, "'"+pfx+"'", pfx)) {
					t.Errorf("the import command lacks %q: %q", want, line)
				}
			}
		}},
	{[]string{seed002}, "This command imports a client certificate and the associated private key (termed an identity on macOS) from a .pfx file to a <keychain> as an aggregated type in PKCS #12 format",
		seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			// macOS `security import` reads 3DES-encrypted PKCS#12 with a SHA-1 MAC.
			info := seedInspectPFX(t, e.example(t, tmpl).file(t, ".pfx"))
			if !info.macAlg.Equal(seedOIDSHA1) {
				t.Errorf("MAC algorithm %v, want SHA-1 (%v)", info.macAlg, seedOIDSHA1)
			}
			for _, alg := range append(info.safeAlgs, info.keyAlgs...) {
				if !alg.Equal(seedOIDPBE3DES) {
					t.Errorf("encryption %v, want pbeWithSHAAnd3-KeyTripleDES-CBC (%v)", alg, seedOIDPBE3DES)
				}
			}
			if len(info.keyAlgs) != 1 {
				t.Errorf("%d shrouded key bags, want 1", len(info.keyAlgs))
			}
		}},
	{[]string{seed002}, "Each macOS device requires its own client certificate.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			a := e.example(t, tmpl)
			b := e.issue(t, tmpl+"-MAC02", IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj("MAC02.local")})
			if a.Cert.SerialNumber.Cmp(b.Cert.SerialNumber) == 0 || a.Cert.Subject.CommonName == b.Cert.Subject.CommonName ||
				bytes.Equal(a.Cert.RawSubjectPublicKeyInfo, b.Cert.RawSubjectPublicKeyInfo) {
				t.Errorf("two Macs share a serial, a CN or a key")
			}
		}},
	{[]string{seed002}, "The 1E Client for macOS needs to have the client authentication certificate and the public certificates for the chain of trust for the Tachyon Switch in the System key chain.", seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			// What the Mac receives (the .pfx and the .cer files) is enough to
			// build and verify the chain.
			b := e.example(t, tmpl)
			_, leaf, cas := b.pfx(t, seedPFXPassword)
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(seedReadPEMCerts(t, filepath.Join(b.Dir, e.s.Root.Slug+".cer"))[0])
			for _, c := range cas {
				inter.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("the chain from the bundle does not verify: %v", err)
			}
		}},

	{[]string{seed002}, "When upgrading the 1E Client, by default the new version will not automatically be granted access to the private key in the Key Store. You can either repeat the import process during upgrade, or avoid the overhead by using the command-line security command with the import -A flag instead of -T .",
		seedMac,
		func(t *testing.T, e *seedEnv, tmpl string) {
			line := seedNoteLine(t, e.example(t, tmpl), "After upgrading the 1E Client")
			if !strings.Contains(line, "run step 3 again") {
				t.Errorf("the install note does not say to import again after an upgrade: %q", line)
			}
			seedNoteLine(t, e.example(t, tmpl), "-A instead of -T")
		}},

	// ---- 003: YSoft SafeQ ----
	{[]string{seed003}, "Will be used as CN therefore preferred form is FQDN (fully qualified domain name).", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.safeq(t, tmpl)
			if got, want := b.Cert.Subject.CommonName, b.Req.Subject.CommonName; got != want {
				t.Errorf("CN %q, want the -Subject %q", got, want)
			}
			// The preferred FQDN form becomes the CN and a DNS name.
			f := e.issue(t, tmpl+"-fqdn", IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj("safeq.company.com"), FriendlyName: "SafeQ FQDN"})
			seedComputerName(t, f.Cert, "safeq.company.com")
		}},
	{[]string{seed003}, "This field can also include the certificate recipient's organization, organization unit, locality, state or province, and country/region.", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			s, err := templates.ParseSubject("CN=safeq.company.com,O=Company,OU=Print,L=Brno,ST=South Moravia,C=CZ")
			if err != nil {
				t.Fatal(err)
			}
			c := e.issue(t, tmpl+"-dn", IssueRequest{Template: mustTemplate(t, tmpl), Subject: s}).Cert.Subject
			got := []string{c.CommonName, strings.Join(c.Organization, ","), strings.Join(c.OrganizationalUnit, ","),
				strings.Join(c.Locality, ","), strings.Join(c.Province, ","), strings.Join(c.Country, ",")}
			if want := []string{"safeq.company.com", "Company", "Print", "Brno", "South Moravia", "CZ"}; !slices.Equal(got, want) {
				t.Errorf("subject %v, want %v", got, want)
			}
		}},
	{[]string{seed003}, "The name under which you will see the certificate in the Microsoft Management Console.", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.safeq(t, tmpl)
			data, err := os.ReadFile(b.file(t, ".pfx"))
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := pkcs12.ToPEM(data, b.Req.Password) //nolint:staticcheck // the only API that returns bag attributes
			if err != nil {
				t.Fatal(err)
			}
			var leafName, keyName string
			for _, bl := range blocks {
				switch {
				case bl.Type == "PRIVATE KEY":
					keyName = bl.Headers["friendlyName"]
				case bl.Type == "CERTIFICATE" && bytes.Equal(bl.Bytes, b.Cert.Raw):
					leafName = bl.Headers["friendlyName"]
				}
			}
			if leafName != b.Req.FriendlyName || keyName != b.Req.FriendlyName {
				t.Errorf("friendlyName: certificate %q, key %q; want %q on both", leafName, keyName, b.Req.FriendlyName)
			}
		}},
	{[]string{seed003}, `The certificate will be stored in a file named after FriendlyName (e.g. "YSoft SafeQ Signing Certificate.pfx").`, []string{"safeq-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.safeq(t, tmpl)
			if p := b.file(t, ".pfx"); filepath.Base(p) != "YSoft SafeQ Signing Certificate.pfx" {
				t.Errorf(".pfx is %q, want \"YSoft SafeQ Signing Certificate.pfx\"", filepath.Base(p))
			}
		}},
	{[]string{seed003}, "Password used for private key encryption.", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.safeq(t, tmpl)
			data, _ := os.ReadFile(b.file(t, ".pfx"))
			if _, _, _, err := pkcs12.DecodeChain(data, b.Req.Password); err != nil {
				t.Errorf("the -Password %q does not open the .pfx: %v", b.Req.Password, err)
			}
			if _, _, _, err := pkcs12.DecodeChain(data, b.Req.Password+"x"); !errors.Is(err, pkcs12.ErrIncorrectPassword) {
				t.Errorf("another password opens the .pfx: %v", err)
			}
			if info := seedInspectPFX(t, b.file(t, ".pfx")); info.plainKeyBags != 0 || len(info.keyAlgs) != 1 {
				t.Errorf(".pfx: %d unencrypted key bags, %d encrypted; want the key encrypted", info.plainKeyBags, len(info.keyAlgs))
			}
		}},
	{[]string{seed003}, "if someone adds a printer using IP address 1.2.3.4, then this address has to be in SAN otherwise the connection will be aborted.", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.safeq(t, tmpl).Cert
			if len(c.IPAddresses) == 0 || !c.IPAddresses[0].Equal(net.ParseIP("1.2.3.4")) {
				t.Errorf("SAN IPs %v, want 1.2.3.4", c.IPAddresses)
			}
			if err := c.VerifyHostname("1.2.3.4"); err != nil {
				t.Error(err)
			}
		}},
	{[]string{seed003}, "(note that wildcard records such as *.company.com will work as well).", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.safeq(t, tmpl).Cert
			if !slices.Contains(c.DNSNames, "*.company.com") {
				t.Errorf("SAN DNS %v, want *.company.com", c.DNSNames)
			}
			if err := c.VerifyHostname("printer7.company.com"); err != nil {
				t.Error(err)
			}
		}},
	{[]string{seed003}, "SAN must contain all addresses/domain names that will be used to connect the server. ... If someone else will use DNS record myserver1.company.com to access the same machine, then this value must be also in the SAN",
		[]string{"safeq-ssl"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.safeq(t, tmpl)
			names := []string{b.Req.Subject.CommonName}
			for _, n := range b.Req.SANs {
				names = append(names, n.Value)
			}
			for _, n := range names {
				if err := b.Cert.VerifyHostname(n); err != nil {
					t.Errorf("address %s: %v", n, err)
				}
			}
			if !slices.Contains(b.Cert.DNSNames, "myserver1.company.com") {
				t.Errorf("SAN DNS %v lacks myserver1.company.com", b.Cert.DNSNames)
			}
			seedVerify(t, e.s, b.Cert, x509.ExtKeyUsageServerAuth)
		}},
	{[]string{seed003}, "The signing certificate is NOT the certificate that is used for HTTPS.", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.safeq(t, tmpl).Cert
			server := slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
			if want := tmpl == "safeq-ssl"; server != want {
				t.Errorf("serverAuth in EKU %v: %v, want %v", c.ExtKeyUsage, server, want)
			}
		}},
	{[]string{seed003}, "A signing certificate is used to sign access tokens used by clients during communication with the server.", []string{"safeq-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.safeq(t, tmpl)
			seedKeyUsage(t, b.Cert, x509.KeyUsageDigitalSignature)
			key, leaf, _ := b.pfx(t, b.Req.Password)
			seedSignVerify(t, key, leaf)
		}},
	{[]string{seed003}, "The same signing certificate must be used during the installation of every job service in the near roaming group.", []string{"safeq-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			// One .pfx, copied to every job service, carries the key.
			b := e.safeq(t, tmpl)
			key, leaf, cas := b.pfx(t, b.Req.Password)
			if !leaf.Equal(b.Cert) || !keys.Match(key.(crypto.Signer), leaf.PublicKey) || len(cas) != 2 {
				t.Errorf(".pfx: leaf is the certificate %v, key matches %v, %d CA certificates", leaf.Equal(b.Cert), keys.Match(key.(crypto.Signer), leaf.PublicKey), len(cas))
			}
		}},
	{[]string{seed003}, "A signing certificate can be generated using a PowerShell script included in the YSoft SafeQ Job Service package - generateCertificate.ps1.", []string{"safeq-signing"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			// Issued by the CA by default; self-signed, as the script makes
			// it, only when asked (certmint safeq --self-signed), with no CA.
			seedIssuedByCA(t, e.s, e.safeq(t, tmpl).Cert)
			req := e.safeqRequest(t, tmpl)
			req.Out = t.TempDir()
			res, err := IssueSelfSigned(context.Background(), nil, req)
			if err != nil {
				t.Fatalf("self-signed without a CA home: %v", err)
			}
			c := res.Cert
			if !bytes.Equal(c.RawIssuer, c.RawSubject) || c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) != nil {
				t.Errorf("not self-signed: issuer %s", c.Issuer)
			}
			if len(c.CRLDistributionPoints)+len(c.IssuingCertificateURL) > 0 {
				t.Errorf("self-signed certificate names CA URLs: CDP %v AIA %v", c.CRLDistributionPoints, c.IssuingCertificateURL)
			}
			if !slices.Contains(res.Files, filepath.Join(req.Out, "YSoft SafeQ Signing Certificate.pfx")) {
				t.Errorf("files %v lack YSoft SafeQ Signing Certificate.pfx", res.Files)
			}
		}},
	{[]string{seed003}, "1. Key Usage (at least):", []string{"safeq-ssl"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedKeyUsage(t, e.safeq(t, tmpl).Cert, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment)
		}},
	{[]string{seed003}, "2. enhanced Key Usage (at least):", []string{"safeq-ssl"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.safeq(t, tmpl).Cert
			if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
				t.Errorf("EKU %v lacks SSL server authentication", c.ExtKeyUsage)
			}
		}},
	{[]string{seed003}, "acts as a fallback for SAN. If SAN is present then there are no requirements for CN.", []string{"safeq-ssl"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			// A DNS name or IP as CN is also put in the SAN.
			// 10.0.0.5: a private address, as printers on a site network use
			// (README: reserved-IP lints do not apply to a private CA).
			for _, cn := range []string{"safeq2.company.com", "1.2.3.4", "10.0.0.5"} {
				c := e.issue(t, tmpl+"-cn-"+cn, IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj(cn)}).Cert
				if err := c.VerifyHostname(cn); err != nil {
					t.Errorf("CN %s without --san: %v (SAN %v %v)", cn, err, c.DNSNames, c.IPAddresses)
				}
			}
			// A label CN beside a SAN is fine (the script's -Subject "YSoft SafeQ").
			if got := e.safeq(t, "safeq-signing").Cert.Subject.CommonName; got != "YSoft SafeQ" {
				t.Errorf("CN %q", got)
			}
			req := e.safeqRequest(t, tmpl)
			req.Subject = subj("YSoft SafeQ")
			if c := e.issue(t, tmpl+"-label-cn", req).Cert; c.Subject.CommonName != "YSoft SafeQ" || len(c.DNSNames) == 0 {
				t.Errorf("CN %q SAN %v", c.Subject.CommonName, c.DNSNames)
			}
		}},
	{[]string{seed003}, "*is not required to run the script or to use the minimum version of the signing certificate but is required to be included in a valid SSL certificate.", seedSafeQ,
		func(t *testing.T, e *seedEnv, tmpl string) {
			req := IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj("YSoft SafeQ")}
			if tmpl == "safeq-signing" {
				b := e.issue(t, tmpl+"-no-san", req)
				if len(b.Cert.DNSNames)+len(b.Cert.IPAddresses) != 0 {
					t.Errorf("SAN %v %v, want none", b.Cert.DNSNames, b.Cert.IPAddresses)
				}
				return
			}
			seedRequestRule(t, seedRefused(t, e, tmpl, req), "san.require")
		}},
	{[]string{seed003}, "While not recommended, it is possible to use the localhost address as well", []string{"safeq-ssl"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			sans, err := san.ParseList([]string{"localhost", "127.0.0.1", "::1"})
			if err != nil {
				t.Fatal(err)
			}
			c := e.issue(t, tmpl+"-localhost", IssueRequest{Template: mustTemplate(t, tmpl), Subject: subj("safeq.company.com"), SANs: sans}).Cert
			for _, n := range []string{"localhost", "127.0.0.1", "::1"} {
				if err := c.VerifyHostname(n); err != nil {
					t.Error(err)
				}
			}
		}},
	{[]string{seed003}, "Automatically generated, self-signed certificate doesn't have correct SAN and subject and therefore doesn't satisfy all requirements since server identity is not guaranteed.", []string{"safeq-ssl"},
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedAdvisesAgainstSelfSigned(t, e, tmpl, "Automatically generated, self-signed certificate doesn't have correct SAN")
			seedIssuedByCA(t, e.s, e.safeq(t, tmpl).Cert)
		}},

	// ---- 004: Microsoft Defender for IoT ----
	{[]string{seed004}, "Signature Algorithm = SHA256RSA", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			if got := e.example(t, tmpl).Cert.SignatureAlgorithm; got != x509.SHA256WithRSA {
				t.Errorf("signature %v, want SHA256-RSA", got)
			}
			if got := e.signed(t, tmpl).Cert.SignatureAlgorithm; got != x509.SHA256WithRSA {
				t.Errorf("signed CSR: signature %v, want SHA256-RSA", got)
			}
			seedSHA256RSAOrRefused(t, e, tmpl)
		}},
	{[]string{seed004}, "Signature Hash Algorithm = SHA256", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			if h := templates.HashOf(e.example(t, tmpl).Cert.SignatureAlgorithm); h != templates.SHA256 {
				t.Errorf("hash %q, want sha256", h)
			}
			if a := mustTemplate(t, tmpl).Signature.Allowed; !slices.Equal(a, []templates.Hash{templates.SHA256}) {
				t.Errorf("signature.allowed %v, want only sha256", a)
			}
		}},
	{[]string{seed004}, "Valid from = Valid past date", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			for _, b := range []*seedIssued{e.example(t, tmpl), e.signed(t, tmpl)} {
				if nb := b.Cert.NotBefore; !nb.Before(time.Now()) {
					t.Errorf("notBefore %v is not in the past", nb)
				}
			}
		}},
	{[]string{seed004}, "Valid To = Valid future date", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			if na := e.example(t, tmpl).Cert.NotAfter; !na.After(time.Now().Add(24 * time.Hour)) {
				t.Errorf("notAfter %v is not in the future", na)
			}
		}},
	{[]string{seed004}, "Public Key = RSA 2048 bits (Minimum) or 4096 bits", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			if spec, _ := keys.Describe(e.example(t, tmpl).Cert.PublicKey); spec.Type != "rsa" || spec.Bits != 2048 {
				t.Errorf("issued key %v, want rsa 2048", spec)
			}
			tm := mustTemplate(t, tmpl)
			// What `sign` (checkKeyAllowed) and `check` (a certificate from
			// any CA) accept: RSA 2048 and 4096, nothing else.
			for _, k := range []struct {
				name string
				pub  crypto.PublicKey
				ok   bool
			}{
				{"rsa 2048", seedRSAPub(2048), true},
				{"rsa 4096", seedRSAPub(4096), true},
				{"rsa 3072", seedRSAPub(3072), false},
				{"rsa 1024", seedRSAPub(1024), false},
				{"ecdsa P-256", seedECPub(elliptic.P256()), false},
				{"ecdsa P-384", seedECPub(elliptic.P384()), false},
			} {
				if err := checkKeyAllowed(tm, k.pub); (err == nil) != k.ok {
					t.Errorf("sign: checkKeyAllowed(%s) = %v, want accepted %v", k.name, err, k.ok)
				}
				rep := check.Run(tm, check.Input{Leaf: seedCertWithKey(t, k.pub)})
				var keyFails []string
				for _, f := range rep.Findings {
					if strings.HasPrefix(f.Rule, "key.") && f.Status == check.Fail {
						keyFails = append(keyFails, f.Rule+": "+f.Got)
					}
				}
				if (len(keyFails) == 0) != k.ok {
					t.Errorf("check of a certificate with an %s key: key findings failed %v, want accepted %v", k.name, keyFails, k.ok)
				}
			}
			// sign: real requests. 4096 is accepted, 3072 and ECDSA refused
			// before anything is recorded.
			for _, k := range []struct {
				name string
				gen  func() (crypto.Signer, error)
				rule string
			}{
				{"rsa 4096", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 4096) }, ""},
				{"rsa 3072", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 3072) }, "key.allowed_bits"},
				{"ecdsa P-256", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }, "key.allowed_types"},
			} {
				key, err := k.gen()
				if err != nil {
					t.Fatal(err)
				}
				cn := "csr-" + strings.ReplaceAll(k.name, " ", "-") + ".contoso.com"
				csr := seedCSR(t, key, pkix.Name{CommonName: cn, Country: []string{"US"}, Organization: []string{"Contoso Inc."}, OrganizationalUnit: []string{"Contoso Labs"}}, cn)
				n := countCerts(t, e.s)
				res, err := e.s.SignCSR(context.Background(), IssueRequest{Template: tm, Out: t.TempDir()}, csr)
				if k.rule == "" {
					if err != nil {
						t.Errorf("sign %s: %v", k.name, err)
					} else if spec, _ := keys.Describe(res.Cert.PublicKey); spec.Bits != 4096 {
						t.Errorf("sign %s: certificate key %v", k.name, spec)
					}
					continue
				}
				seedRequestRule(t, err, k.rule)
				if m := countCerts(t, e.s); m != n {
					t.Errorf("sign %s: refused, but the database grew from %d to %d", k.name, n, m)
				}
			}
		}},
	{[]string{seed004}, "Use either RSA 2048 bits or 4096 bits.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			key := seedReadKey(t, b.file(t, ".key"))
			if spec, _ := keys.Describe(key); spec.Type != "rsa" || (spec.Bits != 2048 && spec.Bits != 4096) {
				t.Errorf(".key is %v", spec)
			}
			if !keys.Match(key, b.Cert.PublicKey) {
				t.Error(".key does not belong to .crt")
			}
		}},
	{[]string{seed004}, "CRL Distribution Point = URL to .crl file", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			c := e.example(t, tmpl).Cert
			seedCDP(t, e.s, c)
			if _, err := os.Stat(filepath.Join(e.s.PublicDir(), e.s.Issuing.Slug+".crl")); err != nil {
				t.Errorf("the .crl file to publish: %v", err)
			}
		}},
	{[]string{seed004}, "The URL should be defined as http: // rather than https: // .", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			for _, c := range []*x509.Certificate{e.example(t, tmpl).Cert, e.signed(t, tmpl).Cert} {
				seedCDP(t, e.s, c)
			}
			if _, err := ValidateBaseURL("https://pki.contoso.com"); err == nil {
				t.Error("an https:// base URL is accepted")
			}
		}},
	{[]string{seed004}, "By default, the certificate will reference the CRL URL on HTTP port 80.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			s := e.port80Home(t)
			req := e.exampleRequest(t, mustTemplate(t, tmpl))
			req.Out = t.TempDir()
			res, err := s.Issue(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			u := seedHTTPURL(t, seedOneCDP(t, res.Cert))
			if u.Port() != "" && u.Port() != "80" {
				t.Errorf("CDP %s: port %s, want 80", u, u.Port())
			}
		}},
	{[]string{seed004}, "Define another URL and a specific port in the certificate.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			// The fixture's base URL is http://pki.test.example:8080/pki.
			u := seedHTTPURL(t, seedOneCDP(t, e.example(t, tmpl).Cert))
			if u.Port() != "8080" || u.Hostname() != "pki.test.example" {
				t.Errorf("CDP %s, want the base URL's host and port 8080", u)
			}
		}},
	{[]string{seed004}, "Subject CN (Common Name) = domain name of the appliance; for example, Sensor.contoso.com, or *.contoso.com.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedComputerName(t, e.example(t, tmpl).Cert, "Sensor.contoso.com")
			req := e.exampleRequest(t, mustTemplate(t, tmpl))
			req.Subject.CommonName = "*.contoso.com"
			seedComputerName(t, e.issue(t, tmpl+"-wildcard", req).Cert, "*.contoso.com")
			req.Subject.CommonName = "Sensor Console"
			seedRequestRule(t, seedRefused(t, e, tmpl, req), "subject.cn")
		}},
	{[]string{seed004}, "Subject (C)ountry = defined, for example, US", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) { seedSubjectField(t, e, tmpl, "C") }},
	{[]string{seed004}, "Subject (OU) Org Unit = defined, for example, Contoso Labs", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) { seedSubjectField(t, e, tmpl, "OU") }},
	{[]string{seed004}, "Subject (O)rganization = defined, for example, Contoso Inc.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) { seedSubjectField(t, e, tmpl, "O") }},
	{[]string{seed004}, "Defender for IoT requires that each CA-signed certificate contains a .key file and a .crt file.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			certs := seedReadPEMCerts(t, b.file(t, ".crt"))
			if len(certs) != 1 || !certs[0].Equal(b.Cert) {
				t.Errorf(".crt holds %v, want the issued certificate only", seedSubjects(certs))
			}
			if !keys.Match(seedReadKey(t, b.file(t, ".key")), b.Cert.PublicKey) {
				t.Error(".key does not belong to .crt")
			}
			seedIssuedByCA(t, e.s, b.Cert)
		}},
	{[]string{seed004}, "A key file is in the same format as a PEM file, but it has a different extension.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			data, _ := os.ReadFile(e.example(t, tmpl).file(t, ".key"))
			if b, _ := pem.Decode(data); b == nil || !strings.HasSuffix(b.Type, "PRIVATE KEY") {
				t.Errorf(".key is not PEM: %q", data[:min(len(data), 40)])
			}
		}},
	{[]string{seed004}, "A .pem file containing the certificates of all the certificate authorities in the chain of trust that led to your certificate.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			certs := seedReadPEMCerts(t, e.example(t, tmpl).file(t, "-chain.pem"))
			if len(certs) != 2 || !certs[0].Equal(e.s.Issuing.Cert) || !certs[1].Equal(e.s.Root.Cert) {
				t.Errorf("chain .pem holds %v, want the issuing CA then the root", seedSubjects(certs))
			}
		}},
	{[]string{seed004}, "Make sure the .pem file correlates to the .crt file.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.example(t, tmpl)
			certs := seedReadPEMCerts(t, b.file(t, "-chain.pem"))
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			for _, c := range certs {
				if bytes.Equal(c.RawIssuer, c.RawSubject) {
					roots.AddCert(c)
				} else {
					inter.AddCert(c)
				}
			}
			leaf := seedReadPEMCerts(t, b.file(t, ".crt"))[0]
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf(".crt does not verify with the chain .pem: %v", err)
			}
		}},
	{[]string{seed004}, "You create a unique certificate for each sensor, management console and HA machine.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			first := e.example(t, tmpl)
			req := e.exampleRequest(t, mustTemplate(t, tmpl))
			err := seedRefused(t, e, tmpl, req)
			var ue *UsageError
			if !errors.As(err, &ue) || !ue.Hint.Names(input.Force) || !strings.Contains(ue.Hint.String(), "renew "+first.Serial) {
				t.Errorf("second certificate for %s: %v (hint %q); want a refusal that says --force or renew %s", req.Subject.CommonName, err, seedHint(err), first.Serial)
			}
			// DNS names compare without case: the same appliance.
			upper := req
			upper.Subject.CommonName = strings.ToUpper(req.Subject.CommonName)
			if err := seedRefused(t, e, tmpl, upper); !errors.As(err, &ue) {
				t.Errorf("%s beside %s: %v; want the unique-certificate refusal", upper.Subject.CommonName, req.Subject.CommonName, err)
			}
			// A renewal of the same appliance is allowed.
			rr, rec, err := e.s.RenewalRequest(context.Background(), first.Cert.SerialNumber, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.s.Renew(context.Background(), rr, rec, false, time.Now()); err != nil {
				t.Errorf("renewing the appliance's certificate: %v", err)
			}
			// And so is another appliance.
			req.Subject.CommonName = "Sensor2.contoso.com"
			e.issue(t, tmpl+"-sensor2", req)
		}},
	{[]string{seed004}, "If you are not carrying out certificate validation, remove the CRL URL reference in the certificate.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			req := e.exampleRequest(t, mustTemplate(t, tmpl))
			req.Subject.CommonName, req.NoCDP = "novalidation.contoso.com", true
			if c := e.issue(t, tmpl+"-no-cdp", req).Cert; len(c.CRLDistributionPoints) != 0 {
				t.Errorf("NoCDP: CDP %v", c.CRLDistributionPoints)
			}
		}},
	{[]string{seed004}, "It is not recommended to use locally self-signed certificates.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			seedAdvisesAgainstSelfSigned(t, e, tmpl, "It is not recommended to use locally self-signed certificates.")
			seedIssuedByCA(t, e.s, e.example(t, tmpl).Cert)
		}},
	{[]string{seed004}, "Passphrase does not match to the key | Validate that you typed the correct passphrase.", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			// By default the .key has no passphrase; with EncryptKey
			// (--encrypt-key) the bundle password is the passphrase.
			if data, _ := os.ReadFile(e.example(t, tmpl).file(t, ".key")); !bytes.Contains(data, []byte("-----BEGIN PRIVATE KEY-----")) {
				t.Errorf("the default .key is encrypted")
			}
			req := e.exampleRequest(t, mustTemplate(t, tmpl))
			req.Subject.CommonName, req.EncryptKey, req.Password = "encrypted.contoso.com", true, "sensor passphrase"
			b := e.issue(t, tmpl+"-encrypted-key", req)
			data, err := os.ReadFile(b.file(t, ".key"))
			if err != nil {
				t.Fatal(err)
			}
			if k, err := keys.ParsePEM(data, "sensor passphrase"); err != nil || !keys.Match(k, b.Cert.PublicKey) {
				t.Errorf("the passphrase does not open the .key of the certificate: %v", err)
			}
			if _, err := keys.ParsePEM(data, "another passphrase"); !errors.Is(err, keys.ErrWrongPassword) {
				t.Errorf("a wrong passphrase: %v, want keys.ErrWrongPassword", err)
			}
		}},
	{[]string{seed004}, "This certificate has been revoked by the CRL and cannot be trusted for a secure connection", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			s := newHome(t) // revocation must not leak into the shared home
			req := e.exampleRequest(t, mustTemplate(t, tmpl))
			req.Out = t.TempDir()
			res, err := s.Issue(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Revoke(context.Background(), res.Cert.SerialNumber, 1, time.Now()); err != nil {
				t.Fatal(err)
			}
			u := seedHTTPURL(t, seedOneCDP(t, res.Cert))
			rl, err := crl.ReadFile(filepath.Join(s.PublicDir(), filepath.Base(u.Path)))
			if err != nil {
				t.Fatal(err)
			}
			if err := rl.CheckSignatureFrom(s.Issuing.Cert); err != nil {
				t.Error(err)
			}
			if !slices.ContainsFunc(rl.RevokedCertificateEntries, func(r x509.RevocationListEntry) bool { return r.SerialNumber.Cmp(res.Cert.SerialNumber) == 0 }) {
				t.Errorf("the CRL at the CDP (%s) does not list serial %s", u, res.Serial)
			}
		}},
	{[]string{seed004}, "Check a Certificate Signing Request (CSR)", seedDefender,
		func(t *testing.T, e *seedEnv, tmpl string) {
			b := e.signed(t, tmpl)
			csr := b.csr
			if err := csr.CheckSignature(); err != nil {
				t.Errorf("CSR signature: %v", err)
			}
			if s := csr.Subject; s.CommonName != "sensor-csr.contoso.com" || len(s.Country)*len(s.Organization)*len(s.OrganizationalUnit) == 0 {
				t.Errorf("CSR subject %s lacks CN, C, O or OU", s)
			}
			if spec, _ := keys.Describe(csr.PublicKey); spec.Bits != 2048 {
				t.Errorf("CSR key %v", spec)
			}
			var ku, eku bool
			for _, x := range csr.Extensions {
				ku = ku || x.Id.Equal(oidKeyUsage)
				eku = eku || x.Id.Equal(oidExtKeyUsage)
			}
			if !ku || !eku || !slices.Equal(csr.DNSNames, []string{"sensor-csr.contoso.com"}) {
				t.Errorf("CSR requests KU %v EKU %v SAN %v", ku, eku, csr.DNSNames)
			}
			c := b.Cert
			seedKeyUsage(t, c, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment)
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || !slices.Equal(c.Subject.OrganizationalUnit, []string{"Contoso Labs"}) {
				t.Errorf("signed: EKU %v subject %s", c.ExtKeyUsage, c.Subject)
			}
		}},
}

// TestSeedRequirements runs every requirement sentence of the seeds against
// what certmint issues, writes and refuses.
func TestSeedRequirements(t *testing.T) {
	texts := seedTexts(t)
	e := &seedEnv{s: newHome(t), dir: t.TempDir(), cache: map[string]*seedIssued{}}
	// A required subject field missing from a request must be refused: no
	// home defaults fill it here (TestFillSubject tests those).
	e.s.Config.Subject = SubjectDefaults{}
	names := map[string]bool{}
	for _, r := range seedRules {
		name := seedShort(r.seeds) + " " + r.sentence
		if len(name) > 72 {
			name = name[:72]
		}
		if names[name] {
			t.Fatalf("two rows are named %q", name)
		}
		names[name] = true
		t.Run(name, func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("requirement of %s: %q", strings.Join(r.seeds, " and "), r.sentence)
				}
			})
			for _, f := range r.seeds {
				if !seedQuoted(texts[f], r.sentence) {
					t.Errorf("%s does not contain %q", f, r.sentence)
				}
			}
			if len(r.templates) == 0 {
				r.check(t, e, "")
				return
			}
			for _, tmpl := range r.templates {
				t.Run(tmpl, func(t *testing.T) { r.check(t, e, tmpl) })
			}
		})
	}
}

// TestSeedRulesCoverTemplates: every built-in template that cites a seed is
// named by at least one row, and every row names real templates.
func TestSeedRulesCoverTemplates(t *testing.T) {
	used := map[string]bool{}
	for _, r := range seedRules {
		for _, tmpl := range r.templates {
			used[tmpl] = true
			if _, err := templates.Builtin(tmpl); err != nil {
				t.Errorf("row %q: %v", r.sentence, err)
			}
		}
	}
	all, err := templates.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range all {
		if !used[tm.Name] {
			t.Errorf("template %s (source %q) is checked by no seed row", tm.Name, tm.Source)
		}
	}
}

// seedCopies are the repository's word-for-word copies of the seeds
// (templates/testdata/sources, checked against the seeds themselves by
// templates.TestSourceCopies), so the quotes are checked in every clone.
var seedCopies = map[string]string{
	seed000: "1e-certificate-requirements.txt",
	seed001: "1e-certificate-requirements-copy.txt",
	seed002: "1e-client-macos.txt",
	seed003: "ysoft-safeq-certificates.txt",
	seed004: "defender-iot-certificates.txt",
}

// seedTexts reads the seeds with whitespace collapsed.
func seedTexts(t *testing.T) map[string]string {
	t.Helper()
	texts := map[string]string{}
	for seed, f := range seedCopies {
		data, err := os.ReadFile(filepath.Join("..", "templates", "testdata", "sources", f))
		if err != nil {
			t.Fatal(err)
		}
		texts[seed] = strings.Join(strings.Fields(string(data)), " ")
	}
	return texts
}

// seedQuoted reports whether text contains the sentence's fragments in order.
func seedQuoted(text, sentence string) bool {
	for _, frag := range strings.Split(sentence, " ... ") {
		frag = strings.Join(strings.Fields(frag), " ")
		i := strings.Index(text, frag)
		if i < 0 {
			return false
		}
		text = text[i+len(frag):]
	}
	return true
}

func seedShort(files []string) string {
	var s []string
	for _, f := range files {
		s = append(s, f[:3])
	}
	return strings.Join(s, "+")
}

const seedPFXPassword = "seed-pfx-password"

// seedEnv is the CA home the rows share and the bundles they issued, each
// issued once.
type seedEnv struct {
	s      *Store
	dir    string
	cache  map[string]*seedIssued
	port80 *Store
	n      int // folders made
}

// newDir makes a fresh folder for one bundle.
func (e *seedEnv) newDir(t *testing.T) string {
	t.Helper()
	e.n++
	dir := filepath.Join(e.dir, fmt.Sprintf("%03d", e.n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// seedIssued is an issued bundle and the request that made it.
type seedIssued struct {
	*Issued
	Req IssueRequest
	Dir string
	csr *x509.CertificateRequest // for signed bundles
}

func (b *seedIssued) files(suffix string) []string {
	var out []string
	for _, f := range b.Files {
		if strings.HasSuffix(f, suffix) {
			out = append(out, f)
		}
	}
	return out
}

// file returns the one file of the bundle whose name ends with suffix.
func (b *seedIssued) file(t *testing.T, suffix string) string {
	t.Helper()
	f := b.files(suffix)
	if len(f) != 1 {
		t.Fatalf("bundle %s has %d files ending in %s: %v", b.Template, len(f), suffix, b.Files)
	}
	return f[0]
}

// pfx decodes the bundle's .pfx.
func (b *seedIssued) pfx(t *testing.T, password string) (crypto.PrivateKey, *x509.Certificate, []*x509.Certificate) {
	t.Helper()
	data, err := os.ReadFile(b.file(t, ".pfx"))
	if err != nil {
		t.Fatal(err)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		t.Fatalf("decoding %s: %v", b.file(t, ".pfx"), err)
	}
	return key, leaf, cas
}

// issue issues req once per key (later calls return the first result).
func (e *seedEnv) issue(t *testing.T, key string, req IssueRequest) *seedIssued {
	t.Helper()
	if b, ok := e.cache[key]; ok {
		return b
	}
	dir := e.newDir(t)
	req.Out = dir
	if req.Password == "" {
		req.Password = seedPFXPassword
	}
	res, err := e.s.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("issuing %s (%s): %v", key, req.Subject, err)
	}
	b := &seedIssued{Issued: res, Req: req, Dir: dir}
	e.cache[key] = b
	return b
}

// exampleRequest is the template's own [example] request.
func (e *seedEnv) exampleRequest(t *testing.T, tm *templates.Template) IssueRequest {
	t.Helper()
	s, sans := tm.ExampleRequest()
	return IssueRequest{Template: tm, Subject: s, SANs: sans}
}

// example issues the template's example with its default files.
func (e *seedEnv) example(t *testing.T, tmpl string) *seedIssued {
	t.Helper()
	return e.issue(t, "example:"+tmpl, e.exampleRequest(t, mustTemplate(t, tmpl)))
}

// safeqRequest mirrors `certmint safeq` for the example of seed 003:
// -Subject "YSoft SafeQ" -FriendlyName "YSoft SafeQ Signing Certificate"
// -Password "123456" -SubjectAlternativeNames "*.company.com", "1.2.3.4";
// the SSL certificate gets the server's FQDN and every address.
func (e *seedEnv) safeqRequest(t *testing.T, tmpl string) IssueRequest {
	t.Helper()
	req := IssueRequest{Template: mustTemplate(t, tmpl), Password: "123456"}
	values := []string{"*.company.com", "1.2.3.4"}
	if tmpl == "safeq-signing" {
		req.Subject, req.FriendlyName = subj("YSoft SafeQ"), "YSoft SafeQ Signing Certificate"
	} else {
		req.Subject, req.FriendlyName = subj("safeq.company.com"), "YSoft SafeQ SSL Certificate"
		values = append(values, "myserver1.company.com")
	}
	sans, err := san.ParseList(values)
	if err != nil {
		t.Fatal(err)
	}
	req.SANs = sans
	req.Base = fsutil.SafeName(req.FriendlyName)
	req.PFXName = req.Base + ".pfx"
	return req
}

func (e *seedEnv) safeq(t *testing.T, tmpl string) *seedIssued {
	t.Helper()
	return e.issue(t, "safeq:"+tmpl, e.safeqRequest(t, tmpl))
}

// signed is a CSR made by NewCSR for the template and signed by SignCSR,
// as `certmint csr` then `certmint sign` do.
func (e *seedEnv) signed(t *testing.T, tmpl string) *seedIssued {
	t.Helper()
	key := "signed:" + tmpl
	if b, ok := e.cache[key]; ok {
		return b
	}
	tm := mustTemplate(t, tmpl)
	s, _ := tm.ExampleRequest()
	s.CommonName = tm.Name + "-csr.contoso.com"
	if tmpl == "defender-sensor" {
		s.CommonName = "sensor-csr.contoso.com"
	}
	r, err := NewCSR(tm, s, nil, nil, keys.Spec{})
	if err != nil {
		t.Fatalf("NewCSR(%s): %v", tmpl, err)
	}
	csr, err := ParseCSR(r.PEM())
	if err != nil {
		t.Fatal(err)
	}
	dir := e.newDir(t)
	req := IssueRequest{Template: tm, Out: dir}
	res, err := e.s.SignCSR(context.Background(), req, csr)
	if err != nil {
		t.Fatalf("SignCSR(%s): %v", tmpl, err)
	}
	b := &seedIssued{Issued: res, Req: req, Dir: dir, csr: csr}
	e.cache[key] = b
	return b
}

// port80Home is a CA whose base URL names no port.
func (e *seedEnv) port80Home(t *testing.T) *Store {
	t.Helper()
	if e.port80 == nil {
		e.port80 = seedInit(t, "http://pki.contoso.test/pki", keys.Spec{Type: "rsa", Bits: 2048})
	}
	return e.port80
}

func seedInit(t *testing.T, base string, issuing keys.Spec) *Store {
	t.Helper()
	s, err := Init(context.Background(), InitOptions{
		Home: filepath.Join(t.TempDir(), "pki"), RootCN: "Seed Root CA", IssuingCN: "Seed Issuing CA", BaseURL: base,
		Org: "Seed", Country: "US", RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}, IssuingKey: issuing, Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seedSHA256RSAOrRefused: from a CA whose issuing key is ECDSA, a template
// that requires SHA256RSA is refused, or still SHA256RSA; never ECDSA.
func seedSHA256RSAOrRefused(t *testing.T, e *seedEnv, tmpl string) {
	t.Helper()
	s := seedInit(t, "http://pki.contoso.test", keys.Spec{Type: "ecdsa", Curve: "P-256"})
	req := e.exampleRequest(t, mustTemplate(t, tmpl))
	req.Out, req.Password = t.TempDir(), seedPFXPassword
	res, err := s.Issue(context.Background(), req)
	if err == nil && res.Cert.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("issued from an ECDSA issuing CA with signature %v; want SHA256-RSA or a refusal", res.Cert.SignatureAlgorithm)
	}
}

// seedRefused issues req into an empty folder and expects an error that
// leaves no file and no record behind.
func seedRefused(t *testing.T, e *seedEnv, tmpl string, req IssueRequest) error {
	t.Helper()
	req.Out = t.TempDir()
	if req.Password == "" {
		req.Password = seedPFXPassword
	}
	n := countCerts(t, e.s)
	res, err := e.s.Issue(context.Background(), req)
	if err == nil {
		t.Fatalf("%s: issued %s; want a refusal", tmpl, res.Cert.Subject)
	}
	if m := countCerts(t, e.s); m != n {
		t.Errorf("refused, but the database grew from %d to %d", n, m)
	}
	if left, _ := os.ReadDir(req.Out); len(left) > 0 {
		t.Errorf("refused, but files were written: %v", left)
	}
	return err
}

func seedHint(err error) string {
	var ue *UsageError
	var re *RequirementError
	var te *templates.RequestError
	switch {
	case errors.As(err, &ue):
		return testkit.Dashed(ue.Hint)
	case errors.As(err, &re):
		return testkit.Dashed(re.Hint)
	case errors.As(err, &te):
		return testkit.Dashed(te.Hint)
	}
	var h interface{ HintText() string }
	if errors.As(err, &h) {
		return h.HintText()
	}
	return ""
}

// seedRequestRule asserts err is the template's refusal for rule.
func seedRequestRule(t *testing.T, err error, rule string) {
	t.Helper()
	var re *templates.RequestError
	if !errors.As(err, &re) || re.Rule != rule {
		t.Errorf("refusal %v (%T); want a templates.RequestError for %s", err, err, rule)
	}
}

// seedSubjectField: the field is in the issued certificate, and a request
// without it is refused with an error that names it.
func seedSubjectField(t *testing.T, e *seedEnv, tmpl, field string) {
	t.Helper()
	if got := templates.SubjectValues(e.example(t, tmpl).Cert.Subject, templates.SubjectField(field)); len(got) != 1 {
		t.Errorf("%s = %v, want one value", field, got)
	}
	req := e.exampleRequest(t, mustTemplate(t, tmpl))
	switch field {
	case "C":
		req.Subject.Country = nil
	case "O":
		req.Subject.Organization = nil
	case "OU":
		req.Subject.OrganizationalUnit = nil
	}
	req.Subject.CommonName = "missing-" + strings.ToLower(field) + ".contoso.com"
	err := seedRefused(t, e, tmpl, req)
	seedRequestRule(t, err, "subject.require")
	if !strings.Contains(err.Error(), "missing "+field) {
		t.Errorf("the refusal does not name %s: %v", field, err)
	}
	if h := seedHint(err); !strings.Contains(h, field+"=") {
		t.Errorf("the hint does not say what to type for %s: %q", field, h)
	}
}

func seedRefusesSelfSigned(t *testing.T, e *seedEnv, tmpl string) {
	t.Helper()
	req := e.exampleRequest(t, mustTemplate(t, tmpl))
	req.Out, req.Password = t.TempDir(), seedPFXPassword
	_, err := IssueSelfSigned(context.Background(), nil, req)
	var re *RequirementError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "self-signed") {
		t.Errorf("self-signed %s: %v; want a refusal naming the requirement", tmpl, err)
	}
	if left, _ := os.ReadDir(req.Out); len(left) > 0 {
		t.Errorf("refused, but files were written: %v", left)
	}
}

// seedAdvisesAgainstSelfSigned: where a document only recommends a CA
// (004 "It is not recommended"), a self-signed certificate is issued with
// a warning that quotes it, and check warns without failing.
func seedAdvisesAgainstSelfSigned(t *testing.T, e *seedEnv, tmpl, quote string) {
	t.Helper()
	tm := mustTemplate(t, tmpl)
	if tm.IsRequirement("allow_self_signed") {
		t.Fatalf("%s: allow_self_signed is a requirement; the document only recommends it", tmpl)
	}
	req := e.exampleRequest(t, tm)
	req.Out, req.Password = t.TempDir(), seedPFXPassword
	res, err := IssueSelfSigned(context.Background(), nil, req)
	if err != nil {
		t.Fatalf("self-signed %s: %v; want it issued with a warning", tmpl, err)
	}
	if !slices.ContainsFunc(res.Warnings, func(w input.Text) bool { return strings.Contains(w.String(), quote) }) {
		t.Errorf("self-signed %s: warnings %q; want one quoting %q", tmpl, res.Warnings, quote)
	}
	r := check.Run(tm, check.Input{Leaf: res.Cert, Now: time.Now()})
	if !slices.Contains(r.Warned(), "allow_self_signed") || slices.Contains(r.Failed(), "allow_self_signed") {
		t.Errorf("check of the self-signed %s: failed %v, warned %v; want a warning on allow_self_signed", tmpl, r.Failed(), r.Warned())
	}
}

// seedIssuedByCA: issued by the home's issuing CA, not self-signed.
func seedIssuedByCA(t *testing.T, s *Store, c *x509.Certificate) {
	t.Helper()
	if bytes.Equal(c.RawIssuer, c.RawSubject) {
		t.Errorf("%s is self-signed", c.Subject)
	}
	if err := c.CheckSignatureFrom(s.Issuing.Cert); err != nil {
		t.Errorf("%s is not signed by the issuing CA: %v", c.Subject, err)
	}
	seedVerify(t, s, c, x509.ExtKeyUsageAny)
}

func seedVerify(t *testing.T, s *Store, c *x509.Certificate, eku x509.ExtKeyUsage) {
	t.Helper()
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(s.Root.Cert)
	inter.AddCert(s.Issuing.Cert)
	chains, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{eku}})
	if err != nil {
		t.Errorf("%s does not verify for %v: %v", c.Subject, eku, err)
		return
	}
	if len(chains[0]) != 3 {
		t.Errorf("chain %v, want leaf, issuing CA, root", seedSubjects(chains[0]))
	}
}

// seedCDP: exactly the issuing CA's CRL URL, over http, ending in .crl.
func seedCDP(t *testing.T, s *Store, c *x509.Certificate) {
	t.Helper()
	got := seedOneCDP(t, c)
	if want := s.Config.CRLURL(s.Issuing.Slug); got != want {
		t.Errorf("CDP %s, want %s", got, want)
	}
	u := seedHTTPURL(t, got)
	if !strings.HasSuffix(u.Path, ".crl") {
		t.Errorf("CDP %s does not name a .crl file", got)
	}
}

func seedOneCDP(t *testing.T, c *x509.Certificate) string {
	t.Helper()
	if len(c.CRLDistributionPoints) != 1 {
		t.Fatalf("%s: CDP %v, want one", c.Subject, c.CRLDistributionPoints)
	}
	return c.CRLDistributionPoints[0]
}

func seedHTTPURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		t.Fatalf("%q is not an http:// URL (%v)", s, err)
	}
	return u
}

func seedKeyUsage(t *testing.T, c *x509.Certificate, want x509.KeyUsage) {
	t.Helper()
	if c.KeyUsage&want != want {
		t.Errorf("%s: key usage %b lacks %b", c.Subject, c.KeyUsage, want)
	}
}

// seedComputerName: the CN is name exactly (case included) and the SAN
// holds it as a DNS name, exactly.
func seedComputerName(t *testing.T, c *x509.Certificate, name string) {
	t.Helper()
	if c.Subject.CommonName != name {
		t.Errorf("CN %q, want %q exactly", c.Subject.CommonName, name)
	}
	if !slices.Contains(c.DNSNames, name) {
		t.Errorf("SAN DNS %v, want %q exactly", c.DNSNames, name)
	}
}

// seedExportableKey: the .pfx opens with the bundle password and holds the
// private key of the certificate.
func seedExportableKey(t *testing.T, b *seedIssued) {
	t.Helper()
	key, leaf, _ := b.pfx(t, b.Req.Password)
	signer, ok := key.(crypto.Signer)
	if !ok || !keys.Match(signer, b.Cert.PublicKey) || !leaf.Equal(b.Cert) {
		t.Errorf(".pfx key (%T) or certificate is not the issued one's", key)
	}
}

// seedHasCA: the CA certificate reaches the device in the bundle: in the
// .pfx, and as its own .cer or in the chain file.
func seedHasCA(t *testing.T, b *seedIssued, a *Authority) {
	t.Helper()
	_, _, cas := b.pfx(t, b.Req.Password)
	if !slices.ContainsFunc(cas, a.Cert.Equal) {
		t.Errorf(".pfx lacks %s", a.Cert.Subject)
	}
	cer := filepath.Join(b.Dir, a.Slug+".cer")
	chain := b.files("-chain.pem")
	switch {
	case slices.Contains(b.Files, cer):
		if c := seedReadPEMCerts(t, cer); len(c) != 1 || !c[0].Equal(a.Cert) {
			t.Errorf("%s is not %s", cer, a.Cert.Subject)
		}
	case len(chain) == 1:
		if !slices.ContainsFunc(seedReadPEMCerts(t, chain[0]), a.Cert.Equal) {
			t.Errorf("%s lacks %s", chain[0], a.Cert.Subject)
		}
	default:
		t.Errorf("no .cer or chain file holds %s: %v", a.Cert.Subject, b.Files)
	}
}

// seedNoteLine returns the line of the install note that contains cmd.
func seedNoteLine(t *testing.T, b *seedIssued, cmd string) string {
	t.Helper()
	data, err := os.ReadFile(b.file(t, "-install.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, cmd) {
			return strings.TrimSpace(l)
		}
	}
	t.Fatalf("the install note has no %q:\n%s", cmd, data)
	return ""
}

func seedSignVerify(t *testing.T, key crypto.PrivateKey, leaf *x509.Certificate) {
	t.Helper()
	signer, ok := key.(crypto.Signer)
	if !ok {
		t.Fatalf("key %T cannot sign", key)
	}
	digest := sha256.Sum256([]byte("access token"))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	alg := x509.SHA256WithRSA
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); ok {
		alg = x509.ECDSAWithSHA256
	}
	if err := leaf.CheckSignature(alg, []byte("access token"), sig); err != nil {
		t.Errorf("a signature made with the .pfx key does not verify with the certificate: %v", err)
	}
}

// seedHandshake runs a TLS handshake over a pipe: the server presents
// server, the client verifies it as name under the home's root and, when
// client is set, presents it to a server that requires client certificates.
func seedHandshake(s *Store, server tls.Certificate, client *tls.Certificate, name string, version uint16) error {
	roots := x509.NewCertPool()
	roots.AddCert(s.Root.Cert)
	sc, cc := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	sc.SetDeadline(deadline)
	cc.SetDeadline(deadline)
	scfg := &tls.Config{Certificates: []tls.Certificate{server}, MinVersion: version, MaxVersion: version}
	ccfg := &tls.Config{RootCAs: roots, ServerName: name, MinVersion: version, MaxVersion: version}
	if client != nil {
		scfg.ClientAuth, scfg.ClientCAs = tls.RequireAndVerifyClientCert, roots
		ccfg.Certificates = []tls.Certificate{*client}
	}
	// The raw ends are closed, not the TLS ones: a close_notify written
	// into a synchronous pipe that nobody reads would block.
	done := make(chan error, 1)
	go func() {
		c := tls.Server(sc, scfg)
		err := c.Handshake()
		if err == nil {
			_, err = c.Write([]byte("ok"))
		}
		done <- err
	}()
	c := tls.Client(cc, ccfg)
	err := c.Handshake()
	if err == nil {
		buf := make([]byte, 2)
		_, err = io.ReadFull(c, buf)
	}
	cc.Close()
	serr := <-done
	sc.Close()
	if serr != nil {
		return fmt.Errorf("server: %w (client: %v)", serr, err)
	}
	return err
}

// seedDerive returns the template with one line of its TOML replaced, as a
// user template.
func seedDerive(t *testing.T, tm *templates.Template, old, repl string) *templates.Template {
	t.Helper()
	src := string(tm.Text())
	if !strings.Contains(src, old) {
		t.Fatalf("template %s has no %q", tm.Name, old)
	}
	d, err := templates.Parse(tm.Name+"-derived.toml", []byte(strings.Replace(src, old, repl, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func seedCSR(t *testing.T, key crypto.Signer, subject pkix.Name, dns ...string) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseCSR(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

// seedRSAPub is an RSA public key of the given size, for the key checks
// that only read the size (no key generation).
func seedRSAPub(bits int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return &rsa.PublicKey{N: n.Add(n, big.NewInt(1)), E: 65537}
}

// seedCertWithKey is a defender-style certificate for pub, from a CA that is
// not certmint's: what `check` is given.
func seedCertWithKey(t *testing.T, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Other CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		Subject:  pkix.Name{CommonName: "key.contoso.com", Country: []string{"US"}, Organization: []string{"Contoso Inc."}, OrganizationalUnit: []string{"Contoso Labs"}},
		DNSNames: []string{"key.contoso.com"}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, CRLDistributionPoints: []string{"http://pki.contoso.com/other.crl"}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caTmpl, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func seedECPub(c elliptic.Curve) *ecdsa.PublicKey {
	k, _ := ecdsa.GenerateKey(c, rand.Reader)
	return &k.PublicKey
}

func seedReadPEMCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			t.Fatalf("%s: PEM block %q", path, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		t.Fatalf("%s: data after the last certificate", path)
	}
	return out
}

func seedReadKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePEM(data, "")
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

func seedSubjects(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, c.Subject.CommonName)
	}
	return out
}

// PKCS#12 structure, read by hand: the parsers of go-pkcs12 and crypto do
// not say which safes are encrypted, and with what.
var (
	seedOIDData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	seedOIDEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	seedOIDKeyBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	seedOIDShroudedKey   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	seedOIDCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	seedOIDPBE3DES       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	seedOIDSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
)

type seedP12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type seedP12PFX struct {
	Version  int
	AuthSafe seedP12ContentInfo
	MacData  struct {
		Mac struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}
		Salt       []byte
		Iterations int `asn1:"optional,default:1"`
	} `asn1:"optional"`
}

type seedP12EncryptedData struct {
	Version     int
	ContentInfo struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   pkix.AlgorithmIdentifier
		Content     asn1.RawValue `asn1:"tag:0,optional"`
	}
}

type seedP12SafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue `asn1:"tag:0,explicit"`
	Attributes []struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"set"`
	} `asn1:"set,optional"`
}

// seedPFXInfo is what a .pfx protects and how.
type seedPFXInfo struct {
	macAlg         asn1.ObjectIdentifier
	safeAlgs       []asn1.ObjectIdentifier // encryption of each encrypted safe
	keyAlgs        []asn1.ObjectIdentifier // encryption of each shrouded key bag
	encryptedSafes int
	plainCertBags  int
	plainKeyBags   int
}

func seedInspectPFX(t *testing.T, path string) seedPFXInfo {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pfx seedP12PFX
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	info := seedPFXInfo{macAlg: pfx.MacData.Mac.Algorithm.Algorithm}
	var authSafe []byte
	if !pfx.AuthSafe.ContentType.Equal(seedOIDData) {
		t.Fatalf("%s: authSafe is %v, want data", path, pfx.AuthSafe.ContentType)
	}
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		t.Fatalf("%s: authSafe: %v", path, err)
	}
	var safes []seedP12ContentInfo
	if _, err := asn1.Unmarshal(authSafe, &safes); err != nil {
		t.Fatalf("%s: safes: %v", path, err)
	}
	for _, ci := range safes {
		switch {
		case ci.ContentType.Equal(seedOIDEncryptedData):
			var ed seedP12EncryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				t.Fatalf("%s: encryptedData: %v", path, err)
			}
			info.encryptedSafes++
			info.safeAlgs = append(info.safeAlgs, ed.ContentInfo.Algorithm.Algorithm)
		case ci.ContentType.Equal(seedOIDData):
			var raw []byte
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &raw); err != nil {
				t.Fatalf("%s: data safe: %v", path, err)
			}
			var bags []seedP12SafeBag
			if _, err := asn1.Unmarshal(raw, &bags); err != nil {
				t.Fatalf("%s: safe bags: %v", path, err)
			}
			for _, bag := range bags {
				switch {
				case bag.ID.Equal(seedOIDCertBag):
					info.plainCertBags++
				case bag.ID.Equal(seedOIDKeyBag):
					info.plainKeyBags++
				case bag.ID.Equal(seedOIDShroudedKey):
					var epki struct {
						Algorithm pkix.AlgorithmIdentifier
						Data      []byte
					}
					if _, err := asn1.Unmarshal(bag.Value.Bytes, &epki); err != nil {
						t.Fatalf("%s: shrouded key: %v", path, err)
					}
					info.keyAlgs = append(info.keyAlgs, epki.Algorithm.Algorithm)
				}
			}
		default:
			t.Fatalf("%s: safe of type %v", path, ci.ContentType)
		}
	}
	return info
}
