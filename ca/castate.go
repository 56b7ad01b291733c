package ca

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/store"
)

// CAProblem is why a CA of the home cannot vouch for certificates now.
type CAProblem struct {
	Slug  string
	State string // StateRevoked, StateExpired, StateNotYetValid
	Why   string // in words, with the date
}

// CAProblems checks the home's own CAs: a CA certificate that has expired,
// is not yet valid, or (the issuing CA, which the root issued) has been
// revoked makes every certificate under it fail validation, so nothing is
// issued from it.
func (s *Store) CAProblems(ctx context.Context, now time.Time) ([]CAProblem, error) {
	var out []CAProblem
	for _, a := range s.Authorities() {
		c := a.Cert
		switch {
		case now.Before(c.NotBefore):
			out = append(out, CAProblem{a.Slug, StateNotYetValid, fmt.Sprintf("it is not valid until %s (check this host's clock)", c.NotBefore.UTC().Format(time.RFC3339))})
		case !now.Before(c.NotAfter):
			out = append(out, CAProblem{a.Slug, StateExpired, "it expired on " + c.NotAfter.UTC().Format("2006-01-02")})
		}
	}
	rec, err := s.DB.Lookup(ctx, s.Issuing.Cert.SerialNumber)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case rec.Status == "revoked":
		out = append(out, CAProblem{s.Issuing.Slug, StateRevoked,
			fmt.Sprintf("it was revoked on %s (%s)", rec.RevokedAt.UTC().Format("2006-01-02"), crl.ReasonName(rec.Reason))})
	}
	return out, nil
}

// CAUnusableError refuses an issuance from a CA that cannot vouch for it.
type CAUnusableError struct{ Problems []CAProblem }

func (e *CAUnusableError) Error() string {
	p := e.Problems[0]
	msg := fmt.Sprintf("CA %s cannot issue: %s; every certificate under it would fail validation", p.Slug, p.Why)
	for _, q := range e.Problems[1:] {
		msg += fmt.Sprintf("; CA %s: %s", q.Slug, q.Why)
	}
	return msg
}

// HintText implements the CLI's hint interface.
func (e *CAUnusableError) HintText() string {
	switch e.Problems[0].State {
	case StateNotYetValid:
		return "set this host's clock right, then issue again"
	case StateRevoked:
		return "a revoked CA stays revoked: make a new CA home (certmint init) and reissue the certificates that devices still need"
	}
	return "make a new CA home (certmint init) before the old one ends, and reissue from it"
}

// checkCAsUsable refuses to issue from a CA that cannot vouch for the
// certificate, once per opened home (a batch asks for every row).
func (s *Store) checkCAsUsable(ctx context.Context, now time.Time) error {
	s.caCheck.Do(func() {
		var probs []CAProblem
		if probs, s.caCheckErr = s.CAProblems(ctx, now); s.caCheckErr == nil && len(probs) > 0 {
			s.caCheckErr = &CAUnusableError{Problems: probs}
		}
	})
	return s.caCheckErr
}

// CACertificateError is a revocation of the issuing CA's own certificate
// asked for like any other: it invalidates everything the CA issued, so it
// needs to be asked for explicitly.
type CACertificateError struct{ Serial, Slug string }

func (e *CACertificateError) Error() string {
	return fmt.Sprintf("%s is the certificate of CA %s: revoking it makes every certificate %s issued fail validation", e.Serial, e.Slug, e.Slug)
}
