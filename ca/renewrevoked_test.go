package ca

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/testkit"
)

// Renewing a revoked certificate is refused, saying when and why it was
// revoked, and records nothing; with force it is renewed, and the audit
// trail says so.
func TestRenewRevoked(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	for _, tc := range []struct {
		reason int
		name   string
	}{
		{1, "keyCompromise"},
		{4, "superseded"},
		{5, "cessationOfOperation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := issueFor(t, s, "client", "renew-"+strings.ToLower(tc.name)+".example.com")
			if _, err := s.Revoke(ctx, old.Cert.SerialNumber, tc.reason, time.Now()); err != nil {
				t.Fatal(err)
			}
			req, rec, err := s.RenewalRequest(ctx, old.Cert.SerialNumber, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			req.Password = "pw"
			before := countCerts(t, s)
			_, _, err = s.Renew(ctx, req, rec, false, time.Now())
			var re *RevokedRenewalError
			if !errors.As(err, &re) {
				t.Fatalf("renew of a revoked certificate: %v, want a RevokedRenewalError", err)
			}
			for _, want := range []string{old.Serial, "was revoked on " + rec.RevokedAt.UTC().Format("2006-01-02"), "(" + tc.name + ")",
				"would put a new certificate with its subject and SANs in its place"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
			if n := countCerts(t, s); n != before {
				t.Errorf("%d certificates recorded, want %d", n, before)
			}
			if w, err := CheckRenewable(rec, false); err == nil || !w.IsZero() {
				t.Errorf("CheckRenewable(revoked, no force) = %q, %v", w, err)
			}

			req.Force = true
			w, err := CheckRenewable(rec, true)
			if err != nil || !strings.Contains(testkit.Dashed(w), "renewing it anyway (--force)") || !strings.Contains(w.String(), tc.name) {
				t.Errorf("CheckRenewable(revoked, force) = %q, %v", w, err)
			}
			res, rv, err := s.Renew(ctx, req, rec, true, time.Now())
			if err != nil {
				t.Fatalf("renew --force: %v", err)
			}
			if rv != nil {
				t.Errorf("--revoke-old revoked the already revoked certificate again: %+v", rv)
			}
			events, err := s.Log(ctx, LogOptions{Serial: res.Serial, Action: "renew"})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range events {
				if e.Action == "renew" && strings.Contains(e.Detail, "renews "+old.Serial+" (revoked, "+tc.name+"; forced)") {
					found = true
				}
			}
			if !found {
				t.Errorf("no audit event says the renewal of a revoked certificate was forced: %+v", events)
			}
		})
	}
	// A valid certificate renews without force and without a warning.
	valid := issueFor(t, s, "client", "renew-valid.example.com")
	_, rec, err := s.RenewalRequest(ctx, valid.Cert.SerialNumber, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if w, err := CheckRenewable(rec, false); !w.IsZero() || err != nil {
		t.Errorf("CheckRenewable(valid) = %q, %v", w, err)
	}
}

// A certificate that a valid one renews is refused a second renewal
// (AlreadyRenewedError names the successor) unless forced; the successor
// itself renews.
func TestRenewAlreadyRenewed(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	old := issueFor(t, s, "client", "renew-twice.example.com")
	renew := func(serial string, force bool) (*Issued, error) {
		t.Helper()
		n, _ := new(big.Int).SetString(serial, 16)
		req, rec, err := s.RenewalRequest(ctx, n, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		req.Password, req.Force = "pw", force
		res, _, err := s.Renew(ctx, req, rec, false, time.Now())
		return res, err
	}
	first, err := renew(old.Serial, false)
	if err != nil {
		t.Fatal(err)
	}
	before := countCerts(t, s)
	_, err = renew(old.Serial, false)
	var ae *AlreadyRenewedError
	if !errors.As(err, &ae) || ae.Serial != old.Serial || ae.By != first.Serial {
		t.Fatalf("second renewal: %v, want an AlreadyRenewedError naming %s", err, first.Serial)
	}
	if n := countCerts(t, s); n != before {
		t.Errorf("%d certificates recorded, want %d", n, before)
	}
	if _, err := renew(old.Serial, true); err != nil {
		t.Errorf("forced second renewal: %v", err)
	}
	if _, err := renew(first.Serial, false); err != nil {
		t.Errorf("renewal of the successor: %v", err)
	}
}
