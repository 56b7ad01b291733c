package ca

import (
	"context"
	"crypto"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

func issueFor(t *testing.T, s *Store, template, cn string, sans ...string) *Issued {
	t.Helper()
	names, err := san.ParseList(sans)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Issue(context.Background(), IssueRequest{Template: mustTemplate(t, template),
		Subject: pkix.Name{CommonName: cn, Organization: []string{"Org"}}, SANs: names, Out: t.TempDir(), Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRevokeAndCRL(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	reasons := []string{"keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged", "certificateHold", "caCompromise", "unspecified", "privilegeWithdrawn"}
	want := map[string]int{}
	for _, name := range reasons {
		res := issueFor(t, s, "client", strings.ToLower(name)+".example.com")
		code, err := ParseReason(strings.ToUpper(name))
		if err != nil {
			t.Fatal(err)
		}
		rv, err := s.Revoke(ctx, res.Cert.SerialNumber, code, time.Now())
		if err != nil {
			t.Fatalf("revoke %s: %v", name, err)
		}
		if rv.CRL == nil || rv.Record.Status != "revoked" {
			t.Fatalf("revoke %s: %+v", name, rv)
		}
		want[res.Cert.SerialNumber.String()] = code
	}
	rl, err := crl.ReadFile(filepath.Join(s.PublicDir(), s.Issuing.Slug+".crl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.RevokedCertificateEntries) != len(reasons) {
		t.Fatalf("CRL lists %d entries, want %d", len(rl.RevokedCertificateEntries), len(reasons))
	}
	for _, e := range rl.RevokedCertificateEntries {
		code, ok := want[e.SerialNumber.String()]
		if !ok {
			t.Errorf("unexpected serial %x on the CRL", e.SerialNumber)
		}
		if e.ReasonCode != code {
			t.Errorf("serial %x: reason %d, want %d", e.SerialNumber, e.ReasonCode, code)
		}
		if time.Since(e.RevocationTime) > time.Minute {
			t.Errorf("revocation time %v", e.RevocationTime)
		}
	}
	// The root's CRL stays empty.
	if rl, _ := crl.ReadFile(filepath.Join(s.PublicDir(), s.Root.Slug+".crl")); len(rl.RevokedCertificateEntries) != 0 {
		t.Errorf("root CRL lists %d entries", len(rl.RevokedCertificateEntries))
	}
}

func TestRevokeErrors(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	res := issueFor(t, s, "client", "twice.example.com")
	if _, err := s.Revoke(ctx, res.Cert.SerialNumber, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	before := homeSnapshot(t, s)
	_, err := s.Revoke(ctx, res.Cert.SerialNumber, 4, time.Now())
	var already *AlreadyRevokedError
	if !errors.As(err, &already) || !strings.Contains(err.Error(), "keyCompromise") {
		t.Errorf("second revoke: %v, want AlreadyRevokedError naming the first reason", err)
	}
	_, err = s.Revoke(ctx, big.NewInt(0xdeadbeef), 0, time.Now())
	var nf *NotFoundSerialError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "DEADBEEF") {
		t.Errorf("unknown serial: %v", err)
	}
	if _, err := ParseReason("keyCompromized"); err == nil {
		t.Error("a misspelt reason was accepted")
	}
	if after := homeSnapshot(t, s); after != before {
		t.Error("a refused revocation changed files or rows")
	}
	// A wrong CA password leaves the certificate good.
	good := issueFor(t, s, "client", "good.example.com")
	st, err := reopen(s.Home, func() (string, error) { return "wrong", nil })
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Revoke(ctx, good.Cert.SerialNumber, 1, time.Now()); err == nil {
		t.Fatal("revoke with a wrong CA password succeeded")
	}
	if rec, _ := s.Lookup(ctx, good.Cert.SerialNumber); rec.Status != "good" {
		t.Errorf("status %q after a refused revocation", rec.Status)
	}
}

// Revoking the issuing CA puts it on the root's CRL.
func TestRevokeIssuingCA(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	// Asked for like any revocation, it is refused: it would invalidate
	// everything the CA issued.
	_, err := s.Revoke(ctx, s.Issuing.Cert.SerialNumber, 2, time.Now())
	var ce *CACertificateError
	if !errors.As(err, &ce) || ce.Serial == "" {
		t.Fatalf("Revoke of the issuing CA: %v, want a *CACertificateError", err)
	}
	leaf := issueFor(t, s, "server", "www.example.com")
	if _, err := s.RevokeCA(ctx, leaf.Cert.SerialNumber, 2, time.Now()); err == nil {
		t.Error("RevokeCA revoked a leaf")
	}
	rv, err := s.RevokeCA(ctx, s.Issuing.Cert.SerialNumber, 2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rv.CRL.Slug != s.Root.Slug || rv.CRL.Entries != 1 {
		t.Errorf("published %+v, want the root's CRL with 1 entry", rv.CRL)
	}
	// A revoked issuing CA issues nothing more; status says so (and
	// doctor: doctor.TestRevokedIssuingCA).
	s2, err := reopen(s.Home, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	tm := mustTemplate(t, "server")
	_, err = s2.Issue(ctx, IssueRequest{Template: tm, Subject: subj("after.example.com"), Out: t.TempDir(), Password: "x"})
	var ue *CAUnusableError
	if !errors.As(err, &ue) || ue.Problems[0].State != StateRevoked {
		t.Fatalf("issue from a revoked CA: %v, want a *CAUnusableError", err)
	}
	st, err := s2.Status(ctx, StatusOptions{Warn: DefaultWarn, CAWarn: DefaultCAWarn, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Alert || st.CAs[1].State != StateRevoked || st.CAs[1].Problem == "" {
		t.Errorf("status: alert %v, issuing CA %+v; want it revoked", st.Alert, st.CAs[1])
	}
}

// TestCANotYetValidRefused: a CA whose certificate is not valid yet (the
// host's clock is behind) issues nothing.
func TestCANotYetValidRefused(t *testing.T) {
	s := newHome(t)
	past := s.Issuing.Cert.NotBefore.Add(-24 * time.Hour)
	_, err := s.Issue(context.Background(), IssueRequest{Template: mustTemplate(t, "server"), Subject: subj("early.example.com"),
		Out: t.TempDir(), Password: "x", Now: past})
	var ue *CAUnusableError
	if !errors.As(err, &ue) || ue.Problems[0].State != StateNotYetValid || !strings.Contains(ue.HintText(), "clock") {
		t.Fatalf("issue before the CA is valid: %v", err)
	}
}

func TestRenew(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	old := issueFor(t, s, "server", "www.example.com", "api.example.com", "10.0.0.1")
	req, rec, err := s.RenewalRequest(ctx, old.Cert.SerialNumber, "")
	if err != nil {
		t.Fatal(err)
	}
	req.Password = "pw"
	// The old files are in the way without --force.
	if _, _, err := s.Renew(ctx, req, rec, true, time.Now()); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("renew over existing files: %v", err)
	}
	req.Force = true
	res, rv, err := s.Renew(ctx, req, rec, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Cert.Subject.String() != old.Cert.Subject.String() {
		t.Errorf("subject %s, want %s", res.Cert.Subject, old.Cert.Subject)
	}
	if strings.Join(san.Strings(res.SANs), ",") != strings.Join(san.Strings(old.SANs), ",") {
		t.Errorf("SANs %v, want %v", san.Strings(res.SANs), san.Strings(old.SANs))
	}
	if res.Cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(old.Cert.PublicKey) {
		t.Error("the renewal reuses the old key")
	}
	if rv == nil || rv.Record.Reason != 4 {
		t.Fatalf("old certificate not revoked as superseded: %+v", rv)
	}
	if strings.Join(res.Files, ",") != strings.Join(old.Files, ",") {
		t.Errorf("files %v, want the old names %v", res.Files, old.Files)
	}
	newRec, _ := s.Lookup(ctx, res.Cert.SerialNumber)
	if newRec.Meta.Renews != old.Serial {
		t.Errorf("renews %q, want %q", newRec.Meta.Renews, old.Serial)
	}
}

func TestListAndStatus(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	a := issueFor(t, s, "client", "a.example.com")
	issueFor(t, s, "client", "b.example.com")
	if _, err := s.Revoke(ctx, a.Cert.SerialNumber, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	count := func(o ListOptions) int {
		o.Now = now
		recs, err := s.List(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	if n := count(ListOptions{}); n != 2 {
		t.Errorf("all: %d", n)
	}
	if n := count(ListOptions{State: "revoked"}); n != 1 {
		t.Errorf("revoked: %d", n)
	}
	if n := count(ListOptions{State: "valid"}); n != 1 {
		t.Errorf("valid: %d", n)
	}
	if n := count(ListOptions{Expiring: 400 * 24 * time.Hour}); n != 1 {
		t.Errorf("expiring within 400d: %d", n)
	}
	if n := count(ListOptions{Expiring: 30 * 24 * time.Hour}); n != 0 {
		t.Errorf("expiring within 30d: %d", n)
	}
	if n := count(ListOptions{CAs: true}); n != 3 {
		t.Errorf("with CAs: %d", n)
	}
	if _, err := s.List(ctx, ListOptions{State: "bogus"}); err == nil {
		t.Error("unknown status accepted")
	}
	later := now.Add(400 * 24 * time.Hour)
	if n, _ := s.List(ctx, ListOptions{State: "expired", Now: later}); len(n) != 1 {
		t.Errorf("expired after 400 days: %d", len(n))
	}

	r, err := s.Status(ctx, StatusOptions{Warn: 7 * 24 * time.Hour, CAWarn: 7 * 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if r.Alert || r.Certs.Valid != 1 || r.Certs.Revoked != 1 {
		t.Errorf("fresh home: alert %v, counts %+v", r.Alert, r.Certs)
	}
	// Five days on, the 7-day issuing CRL is past half its life: alert.
	r, _ = s.Status(ctx, StatusOptions{Warn: 7 * 24 * time.Hour, CAWarn: 7 * 24 * time.Hour, Now: now.Add(5 * 24 * time.Hour)})
	if !r.Alert || r.CRLs[1].State != StateWarn {
		t.Errorf("5 days later: alert %v, CRLs %+v", r.Alert, r.CRLs)
	}
	if !s.CRLDue(s.Issuing, now.Add(4*24*time.Hour)) || s.CRLDue(s.Issuing, now) {
		t.Error("CRLDue does not switch at half-life")
	}
	r, _ = s.Status(ctx, StatusOptions{Warn: 7 * 24 * time.Hour, CAWarn: 7 * 24 * time.Hour, Now: now.Add(8 * 24 * time.Hour)})
	if r.CRLs[1].State != StateExpired {
		t.Errorf("8 days later the issuing CRL is %s, want expired", r.CRLs[1].State)
	}
	// Near the end of the issuing CA's life, its certificate alerts.
	r, _ = s.Status(ctx, StatusOptions{Warn: 30 * 24 * time.Hour, CAWarn: 30 * 24 * time.Hour, CRLWarn: 365 * 24 * time.Hour, Now: s.Issuing.Cert.NotAfter.Add(-10 * 24 * time.Hour)})
	if r.CAs[1].State != StateWarn {
		t.Errorf("issuing CA 10 days before expiry: %s", r.CAs[1].State)
	}
}

// Renew keeps what was chosen at issue time: the legacy .pfx, no CDP, an
// encrypted key.
func TestRenewKeepsOverrides(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	out := t.TempDir()
	old, err := s.Issue(ctx, IssueRequest{Template: mustTemplate(t, "defender-sensor"),
		Subject: pkix.Name{CommonName: "sensor.contoso.com", Country: []string{"US"}, Organization: []string{"C"}, OrganizationalUnit: []string{"L"}},
		Out:     out, Password: "pw", PFX: "legacy", NoCDP: true, EncryptKey: true,
		Formats: []templates.Format{templates.FormatCRT, templates.FormatKey, templates.FormatPFX}})
	if err != nil {
		t.Fatal(err)
	}
	req, rec, err := s.RenewalRequest(ctx, old.Cert.SerialNumber, "")
	if err != nil {
		t.Fatal(err)
	}
	if req.PFX != "legacy" || !req.NoCDP || !req.EncryptKey {
		t.Errorf("renewal request: pfx %q, no-cdp %v, encrypt-key %v", req.PFX, req.NoCDP, req.EncryptKey)
	}
	req.Password, req.Force = "pw", true
	res, _, err := s.Renew(ctx, req, rec, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cert.CRLDistributionPoints) != 0 {
		t.Errorf("renewed certificate has a CDP: %v", res.Cert.CRLDistributionPoints)
	}
	key, _ := os.ReadFile(filepath.Join(out, "sensor.contoso.com.key"))
	if !strings.Contains(string(key), "ENCRYPTED PRIVATE KEY") {
		t.Error("the renewed key is not encrypted")
	}
}
