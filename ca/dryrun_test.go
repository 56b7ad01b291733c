package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// lockedHome opens a copy of home whose CA password answers only while
// *unlocked is true: a preview that asked for it would fail the test.
func lockedHome(t *testing.T, home string, unlocked *bool) *Store {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir(home, dst); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dst, func() (string, error) {
		if !*unlocked {
			t.Error("the dry run asked for the CA password")
			return "", errors.New("locked")
		}
		return testPassword, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// oidSKI is the subject key identifier, which follows the key: the one
// extension a preview's certificate may hold differently.
var oidSKI = "2.5.29.14"

// samePreview fails unless the preview's certificate is the issued one in
// everything but its key, serial and signature: subject and issuer bytes,
// the authority key identifier, every extension (OID, criticality and
// value, the SKI aside), the validity's length, the signature algorithm;
// and unless it lists the files the issuance wrote, with their modes, and
// the issuance's lint findings.
func samePreview(t *testing.T, pv *Preview, res *Issued) {
	t.Helper()
	p, c := pv.Cert, res.Cert
	if !bytes.Equal(p.RawSubject, c.RawSubject) || !bytes.Equal(p.RawIssuer, c.RawIssuer) {
		t.Errorf("subject/issuer: preview %s / %s, issued %s / %s", p.Subject, p.Issuer, c.Subject, c.Issuer)
	}
	if !bytes.Equal(p.AuthorityKeyId, c.AuthorityKeyId) {
		t.Errorf("AKI: preview %x, issued %x", p.AuthorityKeyId, c.AuthorityKeyId)
	}
	type ext struct {
		OID      string
		Critical bool
		Value    []byte
	}
	exts := func(c *x509.Certificate) []ext {
		var out []ext
		for _, e := range c.Extensions {
			x := ext{OID: e.Id.String(), Critical: e.Critical, Value: e.Value}
			if x.OID == oidSKI {
				x.Value = nil
			}
			out = append(out, x)
		}
		return out
	}
	if got, want := exts(p), exts(c); !reflect.DeepEqual(got, want) {
		t.Errorf("extensions differ:\npreview %+v\nissued  %+v", got, want)
	}
	if p.NotAfter.Sub(p.NotBefore) != c.NotAfter.Sub(c.NotBefore) {
		t.Errorf("validity: preview %v, issued %v", p.NotAfter.Sub(p.NotBefore), c.NotAfter.Sub(c.NotBefore))
	}
	if p.SignatureAlgorithm != c.SignatureAlgorithm {
		t.Errorf("signature: preview %v, issued %v", p.SignatureAlgorithm, c.SignatureAlgorithm)
	}
	if spec, _ := keys.Describe(c.PublicKey); spec != pv.Key {
		t.Errorf("key: preview %v, issued %v", pv.Key, spec)
	}
	if got, want := san.Strings(pv.SANs), san.Strings(res.SANs); !reflect.DeepEqual(got, want) {
		t.Errorf("SANs: preview %v, issued %v", got, want)
	}
	var files []string
	for _, f := range pv.Files {
		files = append(files, f.Path)
		st, err := os.Stat(f.Path)
		if err != nil {
			t.Errorf("the preview lists %s, which the issuance did not write", f.Path)
			continue
		}
		if st.Mode().Perm() != f.Mode.Perm() || f.Secret != (f.Mode.Perm() == 0o600) {
			t.Errorf("%s: preview mode %v (secret %v), written %v", f.Path, f.Mode, f.Secret, st.Mode().Perm())
		}
	}
	if !reflect.DeepEqual(files, res.Files) {
		t.Errorf("files: preview %v, issued %v", files, res.Files)
	}
	msgs := func(fs []Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Message())
		}
		return out
	}
	if got, want := msgs(pv.Findings), msgs(res.Findings); !reflect.DeepEqual(got, want) {
		t.Errorf("lint: preview %v, issued %v", got, want)
	}
	if got, want := pv.Warnings, res.Warnings; !reflect.DeepEqual(got, want) {
		t.Errorf("warnings: preview %v, issued %v", got, want)
	}
}

// TestPreviewMatchesIssue: for every built-in template, on a CA with an RSA
// issuing key and one with an ECDSA P-384 key, a preview changes nothing,
// never asks for the CA password, and is refused with the issuance's own
// error or shows the very certificate and files the issuance then makes.
func TestPreviewMatchesIssue(t *testing.T) {
	ecHome := filepath.Join(t.TempDir(), "pki")
	s, err := Init(context.Background(), InitOptions{
		Home: ecHome, RootCN: "EC Root CA", IssuingCN: "EC Issuing CA", BaseURL: "http://pki.ec.example",
		Org: "EC Org", Country: "US", OU: "Lab",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-384"}, IssuingKey: keys.Spec{Type: "ecdsa", Curve: "P-384"},
		Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	all, err := templates.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, home := range []struct{ name, dir string }{{"rsa-issuing", fixtureHome}, {"ecdsa-p384-issuing", ecHome}} {
		for _, tm := range all {
			t.Run(home.name+"/"+tm.Name, func(t *testing.T) {
				unlocked := false
				s := lockedHome(t, home.dir, &unlocked)
				out := t.TempDir()
				subj, sans := tm.ExampleRequest()
				req := IssueRequest{Template: tm, Subject: subj, SANs: sans, Out: out}
				before := homeSnapshot(t, s) + snapshot(t, out)
				pv, perr := s.Preview(context.Background(), req)
				if after := homeSnapshot(t, s) + snapshot(t, out); after != before {
					t.Errorf("the preview changed the home or the folder:\n%s\n----\n%s", before, after)
				}
				unlocked = true
				req.Password = "pfx-password"
				res, ierr := s.Issue(context.Background(), req)
				if errText(perr) != errText(ierr) {
					t.Fatalf("preview error %v, issue error %v", perr, ierr)
				}
				if ierr != nil {
					return // refused alike (a template that does not accept this CA's signatures)
				}
				if pv.MakesOut || pv.Err() != nil || pv.NeedsPassword != req.NeedsPassword() {
					t.Errorf("preview: makes out %v, err %v, needs password %v", pv.MakesOut, pv.Err(), pv.NeedsPassword)
				}
				samePreview(t, pv, res)
				if spec, _ := keys.Describe(s.Issuing.Cert.PublicKey); spec.Type != pv.StandIn.Type || spec.Curve != pv.StandIn.Curve {
					t.Errorf("stand-in key %v for an issuing key %v", pv.StandIn, spec)
				}
			})
		}
	}
}

// TestPreviewCSRMatchesSign: a signing preview shows the certificate
// SignCSR then makes from the same request, with the request's key.
func TestPreviewCSRMatchesSign(t *testing.T) {
	unlocked := false
	s := lockedHome(t, fixtureHome, &unlocked)
	key, err := keys.Generate(keys.Spec{Type: "ecdsa", Curve: "P-256"})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(nil, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "api.example.com"},
		DNSNames: []string{"api.example.com", "api2.example.com"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseCSR(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	req := IssueRequest{Template: mustTemplate(t, "server"), Out: out}
	before := homeSnapshot(t, s) + snapshot(t, out)
	pv, err := s.PreviewCSR(context.Background(), req, csr)
	if err != nil {
		t.Fatal(err)
	}
	if after := homeSnapshot(t, s) + snapshot(t, out); after != before {
		t.Errorf("the preview changed the home or the folder")
	}
	if !pv.KeyFromCSR || pv.Key != (keys.Spec{Type: "ecdsa", Curve: "P-256"}) {
		t.Errorf("key %v (from the CSR: %v)", pv.Key, pv.KeyFromCSR)
	}
	unlocked = true
	res, err := s.SignCSR(context.Background(), req, csr)
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, pv, res)
	if !reflect.DeepEqual(pv.Cert.PublicKey, res.Cert.PublicKey) {
		t.Error("the preview's certificate does not hold the request's key")
	}
}

// TestPreviewRefusals: a preview is refused where issuance is, before it
// signs (files in the way, a unique CN issued twice), and a certificate
// zlint refuses is shown with its findings and Err says so.
func TestPreviewRefusals(t *testing.T) {
	unlocked := false
	s := lockedHome(t, fixtureHome, &unlocked)
	out := t.TempDir()
	server := mustTemplate(t, "server")
	if err := os.WriteFile(filepath.Join(out, "www.example.com.crt"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err := s.Preview(ctx, IssueRequest{Template: server, Subject: subj("www.example.com"), Out: out})
	if !strings.Contains(errText(err), "already exists") {
		t.Errorf("a file in the way: %v", err)
	}
	pv, err := s.Preview(ctx, IssueRequest{Template: server, Subject: subj("www.example.com"), Out: out, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Files[0].State != FileReplace {
		t.Errorf("forced over an existing file: %+v", pv.Files[0])
	}
	pv, err = s.Preview(ctx, IssueRequest{Template: server, Subject: subj("MAC_03.local"), Out: filepath.Join(out, "new")})
	if err != nil {
		t.Fatal(err)
	}
	var wr *WouldRefuseError
	if !errors.As(pv.Err(), &wr) || len(pv.Refused) == 0 || !pv.MakesOut {
		t.Errorf("an underscore: err %v, refused %v, makes out %v", pv.Err(), pv.Refused, pv.MakesOut)
	}
	if _, err := os.Stat(filepath.Join(out, "new")); err == nil {
		t.Error("the preview made the folder")
	}
}

// TestPreviewBatchOrder: rows are reported once each, in the input's
// order, however many workers judge them, bad rows in their place; and the
// preview changes nothing.
func TestPreviewBatchOrder(t *testing.T) {
	unlocked := false
	s := lockedHome(t, fixtureHome, &unlocked)
	tm := ecdsaTemplate(t, "fast", "crt", "key")
	var csv strings.Builder
	csv.WriteString("cn,san\n")
	for i := range 40 {
		if i%7 == 3 {
			fmt.Fprintf(&csv, "bad%d.example.com,IP:999.0.0.%d\n", i, i)
		} else {
			fmt.Fprintf(&csv, "h%d.example.com,\n", i)
		}
	}
	rd, err := batch.NewReader(strings.NewReader(csv.String()), tm)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	before := homeSnapshot(t, s) + snapshot(t, filepath.Dir(out))
	bp, err := s.PreviewBatch(BatchOptions{Template: tm, Out: out, Jobs: 4})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	err = bp.Run(context.Background(), rd.Next, func(r RowPreview) {
		lines = append(lines, r.Row.Line)
		bad := strings.HasPrefix(r.Row.CN, "bad")
		if bad != (r.Action == BatchFail) || (r.Preview == nil) != bad {
			t.Errorf("line %d (%s): %s, preview %v, err %v", r.Row.Line, r.Row.CN, r.Action, r.Preview != nil, r.Err)
		}
		if !bad && r.Preview.Cert.Subject.CommonName != r.Row.CN {
			t.Errorf("line %d: the preview of %s", r.Row.Line, r.Preview.Cert.Subject.CommonName)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		if l != i+2 {
			t.Fatalf("reported lines %v, want 2 to 41 in order", lines)
		}
	}
	if len(lines) != 40 || bp.Count(BatchFail) != 6 || bp.Count(BatchIssue) != 34 || !bp.MakesOut {
		t.Errorf("%d rows, %d fail, %d issue, makes out %v", len(lines), bp.Count(BatchFail), bp.Count(BatchIssue), bp.MakesOut)
	}
	if after := homeSnapshot(t, s) + snapshot(t, filepath.Dir(out)); after != before {
		t.Error("the batch preview changed the home or the folder")
	}
}
