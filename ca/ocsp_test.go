package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// TestOCSPResponders: serve's delegated responder certificates are what
// RFC 6960 4.2.2.2 asks, recorded like any certificate, kept while fresh
// and replaced when a third of their life is left or they were revoked.
func TestOCSPResponders(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	now := time.Now()
	rs, err := s.OCSPResponders(ctx, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].CA != s.Root || rs[1].CA != s.Issuing {
		t.Fatalf("got %d responders, want the root's then the issuing CA's", len(rs))
	}
	for _, r := range rs {
		c := r.Cert
		if err := c.CheckSignatureFrom(r.CA.Cert); err != nil {
			t.Errorf("%s: not signed by its CA: %v", r.CA.Slug, err)
		}
		if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}) || c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA {
			t.Errorf("%s: EKU %v KU %v CA %v, want OCSPSigning, digitalSignature, not a CA", r.CA.Slug, c.ExtKeyUsage, c.KeyUsage, c.IsCA)
		}
		if !slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidOCSPNoCheck) }) {
			t.Errorf("%s: no id-pkix-ocsp-nocheck", r.CA.Slug)
		}
		if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s: responder key %T, want ECDSA P-256", r.CA.Slug, c.PublicKey)
		}
		if life := c.NotAfter.Sub(c.NotBefore); life < OCSPResponderValidity-time.Minute || life > OCSPResponderValidity+time.Minute {
			t.Errorf("%s: lifetime %v, want %v", r.CA.Slug, life, OCSPResponderValidity)
		}
		rec, err := s.Lookup(ctx, c.SerialNumber)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Meta.Template != OCSPResponderTemplate || rec.CALabel != r.CA.Slug || rec.ReleasedAt.IsZero() || rec.Status != "good" {
			t.Errorf("%s: recorded as %+v", r.CA.Slug, rec)
		}
		_, keyPath := r.CA.responderPaths()
		if st, err := os.Stat(keyPath); err != nil || st.Mode().Perm() != fsutil.ModePrivate {
			t.Errorf("%s: %s: %v %v, want mode 0600", r.CA.Slug, keyPath, err, st)
		}
		if data, _ := os.ReadFile(keyPath); !strings.Contains(string(data), "ENCRYPTED PRIVATE KEY") {
			t.Errorf("%s: the responder key is not encrypted at rest", r.CA.Slug)
		}
	}
	// They are the CA's own: status and the counts leave them out.
	st, err := s.Status(ctx, StatusOptions{Warn: 30 * 24 * time.Hour, CAWarn: 90 * 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Certs; c.Valid+c.Expiring+c.Expired+c.Revoked != 0 {
		t.Errorf("status counts the responder certificates: %+v", st.Certs)
	}
	if c, err := s.DB.Count(ctx, now, now.Add(30*24*time.Hour)); err != nil || c != (store.Counts{}) {
		t.Errorf("Count: %+v, %v; want nothing", c, err)
	}
	if recs, err := s.List(ctx, ListOptions{Template: OCSPResponderTemplate, Now: now}); err != nil || len(recs) != 2 {
		t.Errorf("list --template ocsp-responder: %d records, %v; want 2", len(recs), err)
	}
	issued := 0
	err = s.DB.EachAuditedSerial(ctx, func(e store.AuditedSerial) {
		if e.Action == "issue" && (e.Serial == SerialHex(rs[0].Cert.SerialNumber) || e.Serial == SerialHex(rs[1].Cert.SerialNumber)) {
			issued++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if issued != 2 {
		t.Errorf("%d issue events for the 2 responder certificates", issued)
	}

	// Reopened (serve restarted): the same ones, from the CA folders.
	s2, err := reopen(s.Home, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	again, err := s2.OCSPResponders(ctx, now.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if !again[i].Cert.Equal(rs[i].Cert) {
			t.Errorf("%s: a fresh responder certificate was replaced on restart", rs[i].CA.Slug)
		}
	}

	tests := []struct {
		name string
		prep func(t *testing.T, kept *OCSPResponder)
		at   time.Time
	}{
		{"two thirds of its life gone", func(*testing.T, *OCSPResponder) {}, now.Add(OCSPResponderValidity * 2 / 3).Add(time.Hour)},
		{"revoked", func(t *testing.T, kept *OCSPResponder) {
			if _, err := s2.DB.Revoke(ctx, kept.Cert.SerialNumber, aki(kept.Cert), 1, now); err != nil {
				t.Fatal(err)
			}
		}, now},
		{"its key file gone", func(t *testing.T, _ *OCSPResponder) {
			_, keyPath := s2.Issuing.responderPaths()
			os.Remove(keyPath)
		}, now},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _, err := s2.OCSPResponder(ctx, s2.Issuing, now)
			if err != nil {
				t.Fatal(err)
			}
			tc.prep(t, before)
			r, issued, err := s2.OCSPResponder(ctx, s2.Issuing, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if !issued || r.Cert.Equal(before.Cert) {
				t.Fatal("not replaced")
			}
			rec, err := s2.Lookup(ctx, r.Cert.SerialNumber)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Meta.Renews != SerialHex(before.Cert.SerialNumber) {
				t.Errorf("the new responder records renews = %q, want %s", rec.Meta.Renews, SerialHex(before.Cert.SerialNumber))
			}
		})
	}
}

func aki(c *x509.Certificate) string { return hex.EncodeToString(c.AuthorityKeyId) }

// TestOCSPResponderWithoutPassword: no CA password, no responder.
func TestOCSPResponderWithoutPassword(t *testing.T) {
	s := newHome(t)
	s2, err := Open(s.Home, func() (string, error) { return "wrong password", nil })
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, _, err := s2.OCSPResponder(context.Background(), s2.Issuing, time.Now()); err == nil {
		t.Fatal("a responder was made with a wrong CA password")
	}
	if _, err := os.Stat(filepath.Join(s2.Issuing.Dir(), OCSPResponderCertFile)); err == nil {
		t.Error("a responder certificate was written")
	}
}

// TestKeepCRLsCurrent: a revocation recorded without a CRL publication
// (as another host of a shared database records it: its CRL goes to its
// own public/) is on this home's CRL within seconds; one that `revoke`
// published itself is not published twice.
func TestKeepCRLsCurrent(t *testing.T) {
	s := newHome(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The other host: a second copy of the home on the same database.
	other := s
	if !s.DB.Postgres() {
		var err error
		if other, err = Open(s.Home, testCAPassword); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
	} else {
		homeB := filepath.Join(t.TempDir(), "pki")
		if err := testkit.CopyDir(s.Home, homeB); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(homeB, DBFile))
		var err error
		if other, err = Open(homeB, testCAPassword, WithDatabaseURL(pgURLOf(s.Home))); err != nil {
			t.Fatal(err)
		}
		defer other.Close()
	}
	if err := s.UnlockAll(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs []string
	poll := 100 * time.Millisecond
	if s.DB.Postgres() {
		poll = time.Hour // only NOTIFY can wake it
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.KeepCRLsCurrent(ctx, poll, func(f string, args ...any) {
			mu.Lock()
			logs = append(logs, f)
			mu.Unlock()
		})
	}()
	time.Sleep(300 * time.Millisecond) // the first pass, and the LISTEN
	res := issueFor(t, other, "client", "elsewhere.example.com")
	start := time.Now()
	// Recorded only, as on a host that publishes elsewhere.
	if _, err := other.DB.Revoke(ctx, res.Cert.SerialNumber, aki(res.Cert), 1, start); err != nil {
		t.Fatal(err)
	}
	path, _ := crl.Paths(s.PublicDir(), s.Issuing.Slug)
	for {
		rl, err := crl.ReadFile(path)
		if err == nil && slices.ContainsFunc(rl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
			return e.SerialNumber.Cmp(res.Cert.SerialNumber) == 0
		}) {
			break
		}
		if time.Since(start) > 10*time.Second {
			mu.Lock()
			t.Fatalf("the CRL does not list the revocation after 10 s; log: %q", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("republished %v after the revocation", time.Since(start).Round(time.Millisecond))

	cancel()
	<-done
}

// TestCRLsCurrentGrace: a CRL found lacking a revocation is republished
// only once it has lacked it for the grace period, so the publication that
// `certmint revoke` makes a moment after recording the revocation is not
// made twice; one that stays stale is republished.
func TestCRLsCurrentGrace(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	if err := s.UnlockAll(); err != nil {
		t.Fatal(err)
	}
	logf := func(string, ...any) {}
	seen, since := map[string]store.RevocationMark{}, map[string]time.Time{}
	if again := s.checkCRLsCurrent(ctx, seen, since, logf); again != 0 {
		t.Fatalf("a current home: look again in %v", again)
	}
	n := publications(t, s)
	for i, publishItself := range []bool{true, false} {
		res := issueFor(t, s, "client", fmt.Sprintf("grace%d.example.com", i))
		if _, err := s.DB.Revoke(ctx, res.Cert.SerialNumber, aki(res.Cert), 1, time.Now()); err != nil {
			t.Fatal(err)
		}
		if again := s.checkCRLsCurrent(ctx, seen, since, logf); again <= 0 || again > republishGrace {
			t.Fatalf("a revocation missing from the CRL: look again in %v, want within %v", again, republishGrace)
		}
		if got := publications(t, s); got != n {
			t.Fatalf("published at once, within the grace period")
		}
		if publishItself { // as revoke does
			if _, err := s.PublishCRL(ctx, s.Issuing, time.Now()); err != nil {
				t.Fatal(err)
			}
			n++
		} else {
			since[s.Issuing.Slug] = since[s.Issuing.Slug].Add(-republishGrace) // the grace is over
		}
		if again := s.checkCRLsCurrent(ctx, seen, since, logf); again != 0 {
			t.Errorf("look again in %v after the CRL was made current", again)
		}
		if !publishItself {
			n++
		}
		if got := publications(t, s); got != n {
			t.Errorf("publishItself=%v: %d publications, want %d", publishItself, got, n)
		}
		if missing, _ := s.CRLMissing(ctx, s.Issuing); missing != 0 {
			t.Errorf("the CRL lacks %d revocations", missing)
		}
	}
}

// publications counts the audit trail's CRL publications.
func publications(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := rawX(s).Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'crl'`); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPostgresOCSP runs the responder and republishing tests on
// PostgreSQL, where the republisher is woken by NOTIFY alone.
func TestPostgresOCSP(t *testing.T) {
	freshSchema(t) // skips without a server
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"OCSPResponders", TestOCSPResponders},
		{"KeepCRLsCurrent", TestKeepCRLsCurrent},
		{"CRLsCurrentGrace", TestCRLsCurrentGrace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			postgresTests.Store(t, true)
			defer postgresTests.Delete(t)
			tc.fn(t)
		})
	}
}

// TestOCSPInAIA: [revocation] ocsp = true, or --ocsp, names the responder
// at the base URL + /ocsp in the AIA; renew keeps it; without either there
// is none.
func TestOCSPInAIA(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	want := []string{"http://pki.test.example:8080/pki/ocsp"}
	withOCSP := ecdsaTemplate(t, "with-ocsp", "crt")
	withOCSP.Revocation.OCSP = true
	tests := []struct {
		name  string
		req   IssueRequest
		want  []string
		renew bool
	}{
		{"template", IssueRequest{Template: withOCSP}, want, false},
		{"--ocsp", IssueRequest{Template: mustTemplate(t, "client"), OCSP: true}, want, true},
		{"neither", IssueRequest{Template: mustTemplate(t, "client")}, nil, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Subject, tc.req.Out, tc.req.Password = subj(fmt.Sprintf("aia%d.example.com", i)), t.TempDir(), "pw"
			res, err := s.Issue(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Cert.OCSPServer, tc.want) {
				t.Fatalf("AIA OCSP %q, want %q", res.Cert.OCSPServer, tc.want)
			}
			if len(res.Cert.IssuingCertificateURL) != 1 {
				t.Errorf("AIA caIssuers %q", res.Cert.IssuingCertificateURL)
			}
			if !tc.renew {
				return
			}
			req, old, err := s.RenewalRequest(ctx, res.Cert.SerialNumber, "")
			if err != nil {
				t.Fatal(err)
			}
			req.Password = "pw"
			req.Force = true
			rn, _, err := s.Renew(ctx, req, old, false, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rn.Cert.OCSPServer, tc.want) {
				t.Errorf("renewed: AIA OCSP %q, want %q", rn.Cert.OCSPServer, tc.want)
			}
		})
	}
}
