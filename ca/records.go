package ca

import (
	"context"
	"errors"
	"fmt"
	"math/big"
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
	Template string        // only certificates of this template
	CAs      bool          // include CA certificates
	Limit    int           // at most this many, soonest expiry first; 0: all
	// WithPEM reads the certificates themselves too; WithoutSANs leaves
	// their SANs out.
	WithPEM, WithoutSANs bool
	Now                  time.Time
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
	f := store.ListFilter{State: o.State, Template: o.Template, IncludeCAs: o.CAs, Limit: o.Limit, WithPEM: o.WithPEM,
		WithoutSANs: o.WithoutSANs, Now: o.Now}
	if o.Expiring > 0 {
		f.ExpiringBefore = o.Now.Add(o.Expiring)
	}
	return s.DB.List(ctx, f)
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
