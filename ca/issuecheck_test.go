package ca

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/check"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

// matrixCAKeys are the CA key types every built-in template is issued
// from in TestIssueCheckMatrix (root and issuing CA of the same type).
var matrixCAKeys = []string{"rsa:2048", "rsa:4096", "ecdsa:P-256", "ecdsa:P-384"}

// matrixVariant is one way to issue from a template: the example request
// changed by one of the flags the template allows.
type matrixVariant struct {
	name  string
	apply func(*IssueRequest)
	// noCDP: checked as `check --no-cdp` (the document allows it).
	noCDP bool
	// selfSigned: issued with IssueSelfSigned (certmint safeq --self-signed).
	selfSigned bool
}

// matrixVariants lists the flags a template allows: each key it accepts,
// --no-cdp where its document allows leaving the CDP out (or the CDP is
// advice), the other .pfx flavour where its platform does not require one,
// --encrypt-key, the longest --days, and self-signed where allowed.
func matrixVariants(tm *templates.Template) []matrixVariant {
	vs := []matrixVariant{{name: "example", apply: func(*IssueRequest) {}}}
	def := leafKeySpec(tm)
	var specs []keys.Spec
	for _, kt := range tm.Key.AllowedTypes {
		switch kt {
		case templates.RSA:
			for _, b := range tm.Key.AllowedBits {
				specs = append(specs, keys.Spec{Type: "rsa", Bits: b})
			}
		case templates.ECDSA:
			for _, c := range tm.Key.AllowedCurves {
				specs = append(specs, keys.Spec{Type: "ecdsa", Curve: string(c)})
			}
		}
	}
	for _, spec := range specs {
		if spec != def {
			vs = append(vs, matrixVariant{name: "key " + spec.String(), apply: func(r *IssueRequest) { r.Key = spec }})
		}
	}
	if tm.Revocation.CRLDistributionPoint && (tm.Revocation.AllowNoCDP || !tm.IsRequirement("revocation.crl_distribution_point")) {
		vs = append(vs, matrixVariant{name: "no-cdp", apply: func(r *IssueRequest) { r.NoCDP = true }, noCDP: tm.Revocation.AllowNoCDP})
	}
	if tm.HasFormat(templates.FormatPFX) && !tm.IsRequirement("output.pfx_encryption") {
		other := templates.PFXLegacy
		if tm.Output.PFXEncryption == templates.PFXLegacy {
			other = templates.PFXModern
		}
		vs = append(vs, matrixVariant{name: "pfx " + string(other), apply: func(r *IssueRequest) { r.PFX = other }})
	}
	if tm.HasFormat(templates.FormatKey) && !tm.Key.Encrypt {
		vs = append(vs, matrixVariant{name: "encrypt-key", apply: func(r *IssueRequest) { r.EncryptKey = true }})
	}
	if !tm.Revocation.OCSP && tm.Issuer == templates.IssuerIssuing { // check neither requires nor rejects it
		vs = append(vs, matrixVariant{name: "ocsp", apply: func(r *IssueRequest) { r.OCSP = true }})
	}
	if tm.Validity.MaxDays > 0 {
		vs = append(vs, matrixVariant{name: "longest days", apply: func(r *IssueRequest) { r.Days = tm.Validity.MaxDays }})
	}
	if tm.AllowSelfSigned {
		vs = append(vs, matrixVariant{name: "self-signed", apply: func(*IssueRequest) {}, selfSigned: true})
	}
	return vs
}

// distinctCN makes the example's CN unique per variant, in the template's
// CN form, so one-certificate-per-CN templates (defender-sensor) issue
// every variant.
func distinctCN(tm *templates.Template, cn string, i int) string {
	if tm.Subject.CN == templates.CNAny && strings.Contains(cn, " ") {
		return fmt.Sprintf("%s %d", cn, i) // a label (YSoft SafeQ, a code signer)
	}
	return fmt.Sprintf("v%d-%s", i, cn)
}

// TestIssueCheckMatrix: every certificate certmint issues from a built-in
// template, under every CA key type, with every flag the template allows,
// passes check against that template (exit 0), from the files the user
// gets; check warns only where the issuance said it departed from advice.
// A CA key a template cannot use is refused at issue with the vendor's
// reason, never a lint name.
func TestIssueCheckMatrix(t *testing.T) {
	builtins, err := templates.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	const pw = "matrix-bundle-password"
	for _, caKey := range matrixCAKeys {
		t.Run(caKey, func(t *testing.T) {
			t.Parallel()
			s := matrixHome(t, caKey, caKey)
			caSpec, err := keys.Describe(s.Issuing.Cert.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			for _, tm := range builtins {
				for i, v := range matrixVariants(tm) {
					t.Run(tm.Name+"/"+v.name, func(t *testing.T) {
						req := IssueRequest{Template: tm, Out: t.TempDir(), Password: pw, newKey: cachedKey}
						req.Subject, req.SANs = tm.ExampleRequest()
						req.Subject.CommonName = distinctCN(tm, req.Subject.CommonName, i)
						v.apply(&req)
						var res *Issued
						if v.selfSigned {
							res, err = IssueSelfSigned(context.Background(), s, req)
						} else {
							res, err = s.Issue(context.Background(), req)
						}
						if refused := matrixRefuses(tm, caSpec); refused != "" && !v.selfSigned {
							if err == nil {
								t.Fatalf("issued from an %s CA; want a refusal (%s)", caSpec, refused)
							}
							checkRefusal(t, err, tm.Name, refused)
							return
						}
						if err != nil {
							t.Fatalf("issue: %v", err)
						}
						r := checkIssued(t, s, tm, res, pw, v.noCDP)
						if !r.OK {
							for _, f := range r.Findings {
								if f.Status == check.Fail {
									t.Errorf("check fails %s: got %s; want %s", f.Rule, f.Got, f.Want)
								}
							}
						}
						if w := r.Warned(); len(w) > 0 && len(res.Warnings) == 0 {
							t.Errorf("check warns %v on a certificate issued as the template advises", w)
						}
					})
				}
			}
		})
	}
}

// matrixRefuses says why a CA key cannot issue the template, "" when it
// can: the template's signature algorithms need another key type, or its
// hashes do not include the one an ECDSA CA key's curve calls for.
func matrixRefuses(tm *templates.Template, ca keys.Spec) string {
	if kinds, _ := tm.IssuerKeyTypes(); len(kinds) > 0 && !slices.Contains(kinds, templates.KeyType(ca.Type)) {
		return "Signature Algorithm = SHA256RSA"
	}
	if ca.Type == "ecdsa" && !slices.Contains(tm.Signature.Allowed, templates.HashOf(wantSignature(ca, tm.Signature.Hash))) {
		return "must sign with"
	}
	return ""
}

// checkIssued runs check on the bundle as written: the .pfx where the
// template writes one, else the .crt with its .key and chain, trusting the
// home's root as the device would.
func checkIssued(t *testing.T, s *Store, tm *templates.Template, res *Issued, pw string, noCDP bool) *check.Report {
	t.Helper()
	find := func(suffix string) string {
		for _, f := range res.Files {
			if strings.HasSuffix(f, suffix) {
				return f
			}
		}
		return ""
	}
	files := check.Files{Password: func() (string, error) { return pw, nil }}
	if pfx := find(".pfx"); pfx != "" {
		files.PFX = pfx
	} else {
		files.Cert, files.Key, files.Chain = find(".crt"), find(".key"), find("-chain.pem")
	}
	if files.PFX == "" && files.Cert == "" {
		t.Fatalf("no .pfx or .crt among %v", res.Files)
	}
	in, err := check.Load(files)
	if err != nil {
		var pe *check.PassphraseError
		if errors.As(err, &pe) {
			t.Fatalf("the bundle's password does not open it: %v", err)
		}
		t.Fatal(err)
	}
	if !res.Cert.Equal(in.Leaf) {
		t.Fatal("check read another certificate than the one issued")
	}
	in.Roots = append(in.Roots, s.Root.Cert)
	in.Chain = append(in.Chain, s.Issuing.Cert)
	in.NoCDP = noCDP
	in.Now = time.Now()
	return check.Run(tm, in)
}

// TestIssueCheckMatrixCanFail: the matrix's check is not a formality: a
// certificate issued under one template fails check against a template
// whose requirements it breaks.
func TestIssueCheckMatrixCanFail(t *testing.T) {
	s := matrixHome(t, "rsa:2048", "rsa:2048")
	tm := mustTemplate(t, "server")
	req := IssueRequest{Template: tm, Out: t.TempDir(), Password: "x", newKey: cachedKey}
	req.Subject, req.SANs = tm.ExampleRequest()
	res, err := s.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r := checkIssued(t, s, mustTemplate(t, "1e-client-macos"), res, "x", false)
	if r.OK || !slices.Contains(r.Failed(), "usage.ext_key_usage") {
		t.Errorf("a server certificate passes 1e-client-macos: failed %v", r.Failed())
	}
}
