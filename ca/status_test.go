package ca

import (
	"context"
	"crypto/x509/pkix"
	"reflect"
	"testing"
	"time"
)

// TestStatusAlerts: what makes `certmint status` alert (exit 1) and what
// does not, with its default windows of 30 days for issued certificates
// and 90 days for CA certificates.
func TestStatusAlerts(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	now := time.Now()
	issue := func(cn string, days int) *Issued {
		t.Helper()
		res, err := s.Issue(ctx, IssueRequest{Template: mustTemplate(t, "client"), Subject: pkix.Name{CommonName: cn, Organization: []string{"Org"}},
			Out: t.TempDir(), Password: "pw", Days: days})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	issue("long.example.com", 365)
	short := issue("short.example.com", 10)
	old := issue("renewed.example.com", 10)
	req, rec, err := s.RenewalRequest(ctx, old.Cert.SerialNumber, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	req.Password, req.Days = "pw", 200
	if _, _, err := s.Renew(ctx, req, rec, false, now); err != nil {
		t.Fatal(err)
	}
	revoked := issue("revoked.example.com", 10)
	if _, err := s.Revoke(ctx, revoked.Cert.SerialNumber, 1, now); err != nil {
		t.Fatal(err)
	}
	// Eleven days on, with CRLs published then, only certificates have
	// changed: the 10-day ones have expired.
	later := now.Add(11 * 24 * time.Hour)
	if _, err := s.PublishCRLs(ctx, later); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		opts    StatusOptions
		alert   bool
		want    CertCounts // Soonest is checked by count
		issuing string     // the issuing CA certificate's state
	}{
		{name: "an issued certificate 10 days from its end", opts: StatusOptions{Warn: DefaultWarn, CAWarn: DefaultCAWarn, Now: later.Add(-11 * day)},
			alert: true, issuing: StateOK, want: CertCounts{Valid: 4, Expiring: 1, Renewed: 1, Revoked: 1}},
		{name: "outside a 7-day window", opts: StatusOptions{Warn: 7 * day, CAWarn: DefaultCAWarn, Now: later.Add(-11 * day)},
			issuing: StateOK, want: CertCounts{Valid: 4, Revoked: 1}},
		{name: "expired ones are counted, not alerted on", opts: StatusOptions{Warn: DefaultWarn, CAWarn: DefaultCAWarn, Now: later},
			issuing: StateOK, want: CertCounts{Valid: 2, Expired: 2, Revoked: 1}},
		{name: "a CA certificate within 90 days", opts: StatusOptions{Warn: 0, CAWarn: DefaultCAWarn, CRLWarn: time.Nanosecond, Now: s.Issuing.Cert.NotAfter.Add(-60 * day)},
			alert: true, issuing: StateWarn, want: CertCounts{Expired: 4, Revoked: 1}},
		// (the CRLs published years before have expired by then: alert)
		{name: "a CA certificate outside a 30-day window", opts: StatusOptions{CAWarn: 30 * day, Now: s.Issuing.Cert.NotAfter.Add(-60 * day)},
			alert: true, issuing: StateOK, want: CertCounts{Expired: 4, Revoked: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.Status(ctx, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Certs
			got.Soonest, tc.want.Soonest = nil, nil
			if !reflect.DeepEqual(got, tc.want) || len(r.Certs.Soonest) != tc.want.Expiring {
				t.Errorf("counts %+v (%d listed), want %+v", got, len(r.Certs.Soonest), tc.want)
			}
			if r.Alert != tc.alert {
				t.Errorf("alert %v, want %v (CAs %+v, CRLs %+v)", r.Alert, tc.alert, r.CAs, r.CRLs)
			}
			if tc.want.Expiring > 0 && r.Certs.Soonest[0].SerialHex() != short.Serial {
				t.Errorf("expiring %s, want %s", r.Certs.Soonest[0].SerialHex(), short.Serial)
			}
			if r.CAs[1].Slug != s.Issuing.Slug || r.CAs[1].State != tc.issuing {
				t.Errorf("CA %s is %s, want the issuing CA %s", r.CAs[1].Slug, r.CAs[1].State, tc.issuing)
			}
		})
	}
}
