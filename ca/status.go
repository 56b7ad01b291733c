package ca

import (
	"context"
	"path/filepath"
	"time"

	"github.com/certmint/certmint/crl"
)

// Health of one item in the status report.
const (
	StateOK      = "ok"
	StateWarn    = "warn"    // inside the warning window
	StateExpired = "expired" // past its end
	StateMissing = "missing" // a published file that is not there
	// A CA certificate that cannot vouch for anything now.
	StateRevoked     = "revoked"
	StateNotYetValid = "not-yet-valid"
)

// CAStatus is the expiry of one CA certificate.
type CAStatus struct {
	Slug     string    `json:"slug"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
	State    string    `json:"state"`
	// Problem says why a CA that is revoked, expired or not yet valid
	// cannot vouch for certificates.
	Problem string `json:"problem,omitempty"`
}

// CRLStatus is the freshness of one published CRL.
type CRLStatus struct {
	Slug       string    `json:"slug"`
	Path       string    `json:"path"`
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
	Revoked    int       `json:"revoked"`
	State      string    `json:"state"`
	Error      string    `json:"error,omitempty"`
	// Window is the warning window applied to this CRL.
	Window time.Duration `json:"-"`
}

// CertCounts summarises the issued certificates.
type CertCounts struct {
	Valid    int `json:"valid"`
	Expiring int `json:"expiring"` // valid, inside the warning window, not renewed
	// Renewed counts valid certificates inside the warning window that a
	// later valid certificate renews (`certmint renew` without
	// --revoke-old): nothing is left to do for them.
	Renewed int       `json:"renewed"`
	Expired int       `json:"expired"`
	Revoked int       `json:"revoked"`
	Soonest []*Record `json:"-"` // the expiring ones, soonest first
}

// Default warning windows of `certmint status`. An issued certificate is
// renewed with one command, so a month is time enough; a CA certificate
// needs a new CA and every device to trust it, so it gets a quarter.
const (
	DefaultWarn   = 30 * 24 * time.Hour
	DefaultCAWarn = 90 * 24 * time.Hour
)

// StatusOptions are the warning windows of a status report.
type StatusOptions struct {
	Warn   time.Duration // issued certificates
	CAWarn time.Duration // CA certificates
	// CRLWarn is the window of every CRL; 0: the smaller of Warn and half
	// the CRL's own lifetime.
	CRLWarn time.Duration
	Now     time.Time
}

// StatusReport is `certmint status`: CA certificates, CRLs and issued
// certificates against their warning windows.
type StatusReport struct {
	Warn   time.Duration `json:"-"`
	CAWarn time.Duration `json:"-"`
	CAs    []CAStatus    `json:"cas"`
	CRLs   []CRLStatus   `json:"crls"`
	Certs  CertCounts    `json:"certificates"`
	// Alert is set when anything needs attention: a CA certificate or a
	// CRL inside its warning window, expired or missing (what silently
	// breaks every validator), or an issued certificate inside its window
	// that was not renewed. `certmint status` exits 1 on it.
	Alert bool `json:"alert"`
}

func stateOf(end, now time.Time, warn time.Duration) string {
	switch {
	case !now.Before(end):
		return StateExpired
	case end.Sub(now) <= warn:
		return StateWarn
	}
	return StateOK
}

// Status builds the expiry report. CA certificates are judged against
// o.CAWarn, issued certificates against o.Warn. A CRL is judged against
// o.CRLWarn, or when it is 0 against the smaller of o.Warn and half its own
// lifetime: a 7-day CRL that was published today is fine, one past its
// half-life was not refreshed by `certmint serve` or a scheduled
// `certmint crl`.
func (s *Store) Status(ctx context.Context, o StatusOptions) (*StatusReport, error) {
	now, warn, crlWarn := o.Now, o.Warn, o.CRLWarn
	if now.IsZero() {
		now = time.Now()
	}
	r := &StatusReport{Warn: warn, CAWarn: o.CAWarn}
	problems, err := s.CAProblems(ctx, now)
	if err != nil {
		return nil, err
	}
	for _, a := range s.Authorities() {
		st := CAStatus{Slug: a.Slug, Subject: a.Cert.Subject.String(), NotAfter: a.Cert.NotAfter.UTC(),
			DaysLeft: int(a.Cert.NotAfter.Sub(now).Hours() / 24), State: stateOf(a.Cert.NotAfter, now, o.CAWarn)}
		for _, p := range problems { // revoked or not yet valid wins over the expiry window
			if p.Slug == a.Slug {
				st.State, st.Problem = p.State, p.Why
			}
		}
		r.CAs = append(r.CAs, st)
		r.CRLs = append(r.CRLs, crlStatus(s.PublicDir(), a, now, warn, crlWarn))
	}
	for _, c := range r.CAs {
		r.Alert = r.Alert || c.State != StateOK
	}
	for _, c := range r.CRLs {
		r.Alert = r.Alert || c.State != StateOK
	}
	// Counted by the database, and only the certificates inside the
	// window read: a home may hold 100,000.
	counts, err := s.DB.Count(ctx, now, now.Add(warn))
	if err != nil {
		return nil, err
	}
	r.Certs.Valid, r.Certs.Expired, r.Certs.Revoked = counts.Valid, counts.Expired, counts.Revoked
	// Expired ones are counted, never alerted on: an expired certificate
	// stays in the database for good, and would page every day after.
	if counts.Expiring > 0 {
		soon, err := s.List(ctx, ListOptions{Expiring: warn, Now: now})
		if err != nil {
			return nil, err
		}
		// A certificate that a valid one renews needs nothing more; the
		// renewal records the serial it replaces (Metadata.Renews).
		renewed, err := s.DB.RenewedSerials(ctx, now)
		if err != nil {
			return nil, err
		}
		for _, rec := range soon {
			if rec.Meta.Template == OCSPResponderTemplate {
				continue // the CA's own, replaced by serve before it runs out
			}
			if renewed[rec.SerialHex()] {
				r.Certs.Renewed++
				continue
			}
			r.Certs.Expiring++
			r.Certs.Soonest = append(r.Certs.Soonest, rec)
		}
	}
	r.Alert = r.Alert || r.Certs.Expiring > 0
	return r, nil
}

func crlStatus(public string, a *Authority, now time.Time, warn, crlWarn time.Duration) CRLStatus {
	path, _ := crl.Paths(public, a.Slug)
	st := CRLStatus{Slug: a.Slug, Path: filepath.Clean(path)}
	rl, err := crl.ReadFile(path)
	if err != nil {
		st.State, st.Error = StateMissing, err.Error()
		return st
	}
	if err := rl.CheckSignatureFrom(a.Cert); err != nil {
		st.State, st.Error = StateMissing, "not signed by "+a.Slug+": "+err.Error()
		return st
	}
	if rl.Number != nil {
		st.Number = rl.Number.Int64()
	}
	st.ThisUpdate, st.NextUpdate, st.Revoked = rl.ThisUpdate.UTC(), rl.NextUpdate.UTC(), len(rl.RevokedCertificateEntries)
	window := crlWarn
	if window <= 0 {
		window = min(warn, rl.NextUpdate.Sub(rl.ThisUpdate)/2)
	}
	st.Window = window
	st.State = stateOf(rl.NextUpdate, now, window)
	return st
}

// CRLDue reports whether a CA's published CRL has used half its lifetime
// (or is missing or broken), the point at which `certmint serve` re-signs
// it, so validators never meet an expired CRL.
func (s *Store) CRLDue(a *Authority, now time.Time) bool {
	path, _ := crl.Paths(s.PublicDir(), a.Slug)
	rl, err := crl.ReadFile(path)
	if err != nil || rl.CheckSignatureFrom(a.Cert) != nil {
		return true
	}
	half := rl.ThisUpdate.Add(rl.NextUpdate.Sub(rl.ThisUpdate) / 2)
	return !now.Before(half)
}
