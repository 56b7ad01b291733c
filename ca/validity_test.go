package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

func TestCheckDays(t *testing.T) {
	for _, tc := range []struct {
		days int
		want string // "" = accepted
	}{
		{1, ""},
		{365, ""},
		{templates.MaxDays, ""},
		{templates.MaxDays + 1, "validity is more than 36500 days"},
		{106752, "--days 106752: validity is more than 36500 days"},
		{math.MaxInt, "validity is more than 36500 days"},
		{0, "validity must be positive"},
		{-1, "--days -1: validity must be positive"},
		{math.MinInt, "validity must be positive"},
	} {
		err := checkDays(tc.days)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkDays(%d) = %v, want nil", tc.days, err)
		case tc.want != "" && (err == nil || !strings.Contains(errText(err), tc.want)):
			t.Errorf("checkDays(%d) = %v, want %q", tc.days, errText(err), tc.want)
		}
	}
}

// checkLifetime compares whole days, so no count, however large, wraps
// into a lifetime that passes.
func TestCheckLifetime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	issuer := func(left time.Duration) *x509.Certificate { return &x509.Certificate{NotAfter: now.Add(left)} }
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		days int
		left time.Duration
		ok   bool
	}{
		{"well inside", 365, 3650 * day, true},
		{"ends exactly with the CA", 100, 100 * day, true},
		{"a day past the CA", 101, 100 * day, false},
		{"half a day left over", 10, 10*day + 12*time.Hour, true},
		{"half a day short", 11, 10*day + 12*time.Hour, false},
		{"less than a day left", 1, 23 * time.Hour, false},
		{"CA expired", 1, -time.Hour, false},
		{"overflows a Duration", 106752, 3650 * day, false},
		{"MaxInt", math.MaxInt, 3650 * day, false},
		{"CA ends in 2200", 36500, time.Duration(math.MaxInt64), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkLifetime(tc.days, now, issuer(tc.left))
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), "would outlive the issuing CA, which expires on") {
					t.Fatalf("err = %v, want a UsageError saying the certificate would outlive the issuing CA", err)
				}
			}
		})
	}
}

// Every way into issuance refuses a validity that overflows a
// time.Duration, that passes templates.MaxDays, or that outlives the
// issuing CA, and records nothing.
func TestDaysEveryPath(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	// A template file, so renew can load it again.
	file := filepath.Join(t.TempDir(), "days-test.toml")
	if err := os.WriteFile(file, []byte(testkit.ECDSAClientTemplate("days-test", "crt")), 0o600); err != nil {
		t.Fatal(err)
	}
	tm, err := templates.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	old, err := s.Issue(ctx, IssueRequest{Template: tm, Subject: pkix.Name{CommonName: "old.example.com"}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	left := int(time.Until(s.Issuing.Cert.NotAfter) / (24 * time.Hour))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr.example.com"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseCSR(der)
	if err != nil {
		t.Fatal(err)
	}
	paths := []struct {
		name string
		ca   bool // bound by the issuing CA
		run  func(t *testing.T, days int) error
	}{
		{"issue", true, func(t *testing.T, days int) error {
			_, err := s.Issue(ctx, IssueRequest{Template: tm, Subject: pkix.Name{CommonName: "new.example.com"}, Out: t.TempDir(), Days: days})
			return err
		}},
		{"check request", true, func(t *testing.T, days int) error {
			return s.CheckRequest(ctx, IssueRequest{Template: tm, Subject: pkix.Name{CommonName: "new.example.com"}, Out: t.TempDir(), Days: days})
		}},
		{"sign", true, func(t *testing.T, days int) error {
			_, err := s.SignCSR(ctx, IssueRequest{Template: tm, Out: t.TempDir(), Days: days}, csr)
			return err
		}},
		{"renew", true, func(t *testing.T, days int) error {
			req, rec, err := s.RenewalRequest(ctx, old.Cert.SerialNumber, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			req.Days = days
			_, _, err = s.Renew(ctx, req, rec, false, time.Now())
			return err
		}},
		{"batch", true, func(t *testing.T, days int) error {
			// A row as the CSV reader would never give it: ca refuses on
			// its own.
			rows := []*batch.Row{{Line: 2, CN: "row.example.com", Name: "row.example.com", Days: days,
				Subject: pkix.Name{CommonName: "row.example.com"}}}
			var got error
			err := s.IssueBatch(ctx, BatchOptions{Template: tm, Out: t.TempDir(), Jobs: 1}, func() (*batch.Row, error) {
				if len(rows) == 0 {
					return nil, io.EOF
				}
				r := rows[0]
				rows = rows[1:]
				return r, nil
			}, func(r BatchResult) { got = r.Err })
			if err != nil {
				return err
			}
			return got
		}},
		{"self-signed", false, func(t *testing.T, days int) error {
			_, err := IssueSelfSigned(ctx, s, IssueRequest{Template: mustTemplate(t, "safeq-signing"),
				Subject: pkix.Name{CommonName: "self.example.com"}, Out: t.TempDir(), Password: "bundle-password", Days: days})
			return err
		}},
	}
	for _, p := range paths {
		for _, tc := range []struct {
			name string
			days int
			want string
		}{
			{"overflow", 106752, "validity is more than 36500 days"},
			{"MaxInt", math.MaxInt, "validity is more than 36500 days"},
			{"over MaxDays", templates.MaxDays + 1, "validity is more than 36500 days"},
			{"negative", -1, "validity must be positive"},
			{"past the CA", left + 1, "would outlive the issuing CA"},
		} {
			if tc.name == "past the CA" && !p.ca {
				continue
			}
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				before := countCerts(t, s)
				err := p.run(t, tc.days)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("--days %d: err = %v, want %q", tc.days, err, tc.want)
				}
				if n := countCerts(t, s); n != before {
					t.Errorf("--days %d: %d certificates recorded, want %d", tc.days, n, before)
				}
			})
		}
	}
	// The bound itself issues, up to the CA's end.
	res, err := s.Issue(ctx, IssueRequest{Template: tm, Subject: pkix.Name{CommonName: "long.example.com"}, Out: t.TempDir(), Days: left})
	if err != nil {
		t.Fatalf("--days %d (the issuing CA's days left): %v", left, err)
	}
	if res.Cert.NotAfter.After(s.Issuing.Cert.NotAfter) {
		t.Errorf("notAfter %s is after the issuing CA's %s", res.Cert.NotAfter, s.Issuing.Cert.NotAfter)
	}
}

// certmint.toml's CRL lifetimes are days too: one that would overflow
// days*24h is refused on load.
func TestLoadConfigCRLDays(t *testing.T) {
	s := newHome(t)
	data, err := os.ReadFile(filepath.Join(s.Home, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		days string
		ok   bool
	}{{"7", true}, {"36500", true}, {"36501", false}, {"106752", false}, {"-1", false}} {
		edited := strings.Replace(string(data), "issuing_days = 7", "issuing_days = "+tc.days, 1)
		if !strings.Contains(string(data), "issuing_days = 7") {
			t.Fatalf("certmint.toml has no issuing_days = 7:\n%s", data)
		}
		p := filepath.Join(t.TempDir(), ConfigFile)
		if err := os.WriteFile(p, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(p)
		if tc.ok != (err == nil) {
			t.Errorf("crl.issuing_days = %s: %v", tc.days, err)
		}
	}
}
