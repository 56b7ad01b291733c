package ca

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/jmoiron/sqlx"
)

// PublishedCRL describes one CRL written into public/.
type PublishedCRL struct {
	Slug       string
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	Entries    int
	Path       string
}

// CRLLifetime is how long the CRL of a CA is valid.
func (s *Store) CRLLifetime(a *Authority) time.Duration {
	if a == s.Root {
		return time.Duration(s.Config.CRL.RootDays) * 24 * time.Hour
	}
	return time.Duration(s.Config.CRL.IssuingDays) * 24 * time.Hour
}

// PublishCRLs signs and publishes a fresh CRL for every CA.
func (s *Store) PublishCRLs(ctx context.Context, now time.Time) ([]PublishedCRL, error) {
	var out []PublishedCRL
	for _, a := range s.Authorities() {
		p, err := s.PublishCRL(ctx, a, now)
		if err != nil {
			return out, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// PublishCRL signs and publishes the CRL of one CA. The CRL number is
// allocated, the revoked entries read and the files written inside one
// database write transaction, so concurrent publishers are serialised: the
// file on disk always carries the highest number, and lists every revocation
// committed before its number was taken.
func (s *Store) PublishCRL(ctx context.Context, a *Authority, now time.Time) (*PublishedCRL, error) {
	key, err := s.Key(a)
	if err != nil {
		return nil, err
	}
	lifetime := s.CRLLifetime(a)
	tx, err := s.DB.X.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	defer tx.Rollback()

	number, err := nextCRLNumber(ctx, tx, a.Slug, now.Add(-crl.Skew), now.Add(lifetime))
	if err != nil {
		return nil, err
	}
	entries, err := revokedEntries(ctx, tx, a.Slug)
	if err != nil {
		return nil, err
	}
	der, err := crl.Build(a.Cert, key, number, now, lifetime, entries)
	if err != nil {
		return nil, err
	}
	if err := crl.Publish(s.PublicDir(), a.Slug, der); err != nil {
		return nil, err
	}
	if err := auditTx(ctx, tx, Event{Action: "crl", CALabel: a.Slug,
		Detail: fmt.Sprintf("CRL number %d, %d entries, next update %s", number, len(entries), now.Add(lifetime).UTC().Format(time.RFC3339))}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	path, _ := crl.Paths(s.PublicDir(), a.Slug)
	return &PublishedCRL{Slug: a.Slug, Number: number, ThisUpdate: now.Add(-crl.Skew).UTC(),
		NextUpdate: now.Add(lifetime).UTC(), Entries: len(entries), Path: path}, nil
}

func nextCRLNumber(ctx context.Context, tx *sqlx.Tx, label string, thisUpdate, nextUpdate time.Time) (int64, error) {
	var n int64
	err := tx.QueryRowxContext(ctx, tx.Rebind(`INSERT INTO crl_numbers(ca_label, number, this_update, next_update)
		VALUES(?, 1, ?, ?)
		ON CONFLICT(ca_label) DO UPDATE SET number = crl_numbers.number + 1,
			this_update = excluded.this_update, next_update = excluded.next_update
		RETURNING number`), label, thisUpdate.UTC(), nextUpdate.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("issuance database: allocating CRL number for %s: %w", label, err)
	}
	return n, nil
}

// revokedEntries lists the revoked, unexpired certificates of a CA. Expired
// ones may leave the CRL (RFC 5280 3.3).
func revokedEntries(ctx context.Context, tx *sqlx.Tx, label string) ([]crl.Entry, error) {
	rows, err := tx.QueryxContext(ctx, tx.Rebind(`SELECT serial_number, revoked_at, reason FROM certificates
		WHERE ca_label = ? AND status = 'revoked' AND expiry > CURRENT_TIMESTAMP
		ORDER BY revoked_at, serial_number`), label)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
	}
	defer rows.Close()
	var out []crl.Entry
	for rows.Next() {
		var serial string
		var at time.Time
		var reason int
		if err := rows.Scan(&serial, &at, &reason); err != nil {
			return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
		}
		n, ok := new(big.Int).SetString(serial, 10)
		if !ok {
			return nil, fmt.Errorf("issuance database: serial %q of %s is not a decimal number", serial, label)
		}
		out = append(out, crl.Entry{Serial: n, RevokedAt: at, Reason: reason})
	}
	return out, rows.Err()
}
