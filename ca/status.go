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
	Valid    int       `json:"valid"`
	Expiring int       `json:"expiring"` // valid, but inside the warning window
	Expired  int       `json:"expired"`
	Revoked  int       `json:"revoked"`
	Soonest  []*Record `json:"-"`
}

// StatusReport is `certmint status`: CA certificates, CRLs and issued
// certificates against a warning window.
type StatusReport struct {
	Warn  time.Duration `json:"-"`
	CAs   []CAStatus    `json:"cas"`
	CRLs  []CRLStatus   `json:"crls"`
	Certs CertCounts    `json:"certificates"`
	// Alert is set when a CA certificate or a CRL is inside the warning
	// window, expired or missing: what silently breaks every validator.
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

// Status builds the expiry report. CA and issued certificates are judged
// against warn. A CRL is judged against crlWarn, or when crlWarn is 0
// against the smaller of warn and half its own lifetime: a 7-day CRL that
// was published today is fine, one past its half-life was not refreshed by
// `certmint serve` or a scheduled `certmint crl`.
func (s *Store) Status(ctx context.Context, warn, crlWarn time.Duration, now time.Time) (*StatusReport, error) {
	r := &StatusReport{Warn: warn}
	problems, err := s.CAProblems(ctx, now)
	if err != nil {
		return nil, err
	}
	for _, a := range s.Authorities() {
		st := CAStatus{Slug: a.Slug, Subject: a.Cert.Subject.String(), NotAfter: a.Cert.NotAfter.UTC(),
			DaysLeft: int(a.Cert.NotAfter.Sub(now).Hours() / 24), State: stateOf(a.Cert.NotAfter, now, warn)}
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
	recs, err := s.List(ctx, ListOptions{Now: now})
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if rec.Meta.Template == OCSPResponderTemplate {
			continue // the CA's own, replaced by serve before it runs out
		}
		switch rec.State(now) {
		case "revoked":
			r.Certs.Revoked++
		case "expired":
			r.Certs.Expired++
		default:
			r.Certs.Valid++
			if rec.NotAfter.Sub(now) <= warn {
				r.Certs.Expiring++
				r.Certs.Soonest = append(r.Certs.Soonest, rec)
			}
		}
	}
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
