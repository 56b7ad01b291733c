package ca

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/store"
)

// NotFoundSerialError is a serial this CA never issued.
type NotFoundSerialError struct{ Serial string }

func (e *NotFoundSerialError) Error() string {
	return fmt.Sprintf("no certificate with serial %s in this CA", e.Serial)
}

// Lookup finds the record of a serial.
func (s *Store) Lookup(ctx context.Context, serial *big.Int) (*Record, error) {
	r, err := s.DB.Lookup(ctx, serial)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &NotFoundSerialError{Serial: SerialHex(serial)}
	}
	return r, err
}

// ListOptions filter List.
type ListOptions struct {
	State    string        // "", "valid", "revoked", "expired"
	Expiring time.Duration // valid certificates expiring within this span
	CAs      bool          // include CA certificates
	Now      time.Time
}

// List returns issued certificates, soonest expiry first.
func (s *Store) List(ctx context.Context, o ListOptions) ([]*Record, error) {
	switch o.State {
	case "", "valid", "revoked", "expired":
	default:
		return nil, usageErrorf(input.Textf("use %s valid, revoked or expired", input.Of(input.Status)), "unknown status %q", o.State)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	all, err := s.DB.All(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, r := range all {
		if r.IsCA() && !o.CAs {
			continue
		}
		st := r.State(o.Now)
		if o.State != "" && st != o.State {
			continue
		}
		if o.Expiring > 0 && (st != "valid" || r.NotAfter.After(o.Now.Add(o.Expiring))) {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NotAfter.Equal(out[j].NotAfter) {
			return out[i].NotAfter.Before(out[j].NotAfter)
		}
		return out[i].Serial.Cmp(out[j].Serial) < 0
	})
	return out, nil
}

// AlreadyRevokedError says a certificate is already on the CRL.
type AlreadyRevokedError struct {
	Serial string
	At     time.Time
	Reason string
}

func (e *AlreadyRevokedError) Error() string {
	return fmt.Sprintf("certificate %s was already revoked on %s (%s)", e.Serial, e.At.UTC().Format("2006-01-02 15:04 MST"), e.Reason)
}

// subjectOf prefers the stored subject, falling back to the CN.
func subjectOf(r *Record) string {
	if r.Meta.Subject != "" {
		return r.Meta.Subject
	}
	return "CN=" + r.CN
}
