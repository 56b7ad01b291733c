package ca

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"os"
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
	if err := s.UnlockAll(); err != nil {
		return nil, err
	}
	// Every CA's files first: a link refused at the second CA must not
	// leave the first one's CRL published and numbered.
	for _, a := range s.Authorities() {
		if err := crl.CheckPublish(s.PublicDir(), a.Slug); err != nil {
			return nil, err
		}
	}
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
// committed before its number was taken. On SQLite the serialisation is the
// IMMEDIATE transaction (one writer at a time); on PostgreSQL, where several
// hosts publish, it is the lock on the CA's crl_numbers row that allocating
// the number takes (see nextCRLNumber).
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
	if number, err = afterPublished(ctx, tx, s.PublicDir(), a.Slug, number); err != nil {
		return nil, err
	}
	entries, err := revokedEntries(ctx, tx, a.Slug, s.DB.Postgres)
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

// nextCRLNumber allocates the CA's next CRL number inside tx. On
// PostgreSQL the upsert locks the CA's crl_numbers row (ON CONFLICT DO
// UPDATE locks as SELECT ... FOR UPDATE does; a first insert holds the new
// row's lock) until tx ends: a publisher on another host waits here, then
// increments the committed number. Under READ COMMITTED every later
// statement of tx sees what was committed before the lock was granted, so
// the CRL lists every revocation committed before its number was taken.
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

// afterPublished returns number, or one past the number of the CRL already
// in public/ when that is as high, and then records it in crl_numbers
// inside tx. A publisher killed after writing its file but before its
// transaction committed leaves a CRL whose number the database rolled
// back; without this every later publication would take that number again
// and crl.Publish would refuse it (StaleError), forever.
func afterPublished(ctx context.Context, tx *sqlx.Tx, public, label string, number int64) (int64, error) {
	path, _ := crl.Paths(public, label)
	cur, err := os.ReadFile(path)
	if err != nil {
		return number, nil
	}
	n, err := crl.Number(cur)
	if err != nil || !n.IsInt64() || n.Int64() < number {
		return number, nil
	}
	number = n.Int64() + 1
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE crl_numbers SET number = ? WHERE ca_label = ?`), number, label); err != nil {
		return 0, fmt.Errorf("issuance database: allocating CRL number for %s: %w", label, err)
	}
	return number, nil
}

// revokedEntries lists the revoked, unexpired certificates of a CA. Expired
// ones may leave the CRL (RFC 5280 3.3).
func revokedEntries(ctx context.Context, tx *sqlx.Tx, label string, postgres bool) ([]crl.Entry, error) {
	// On SQLite revoked_at comes back as text and is parsed with the one
	// layout the driver writes (_time_format=sqlite): the driver's generic
	// parser tries layout after layout, which is a third of the read for
	// 100,000 rows. PostgreSQL's timestamptz arrives as a time.Time (pgx
	// decodes the binary form), and its text form would follow the
	// server's DateStyle.
	at := "CAST(revoked_at AS TEXT)"
	if postgres {
		at = "revoked_at"
	}
	rows, err := tx.QueryxContext(ctx, tx.Rebind(`SELECT serial_number, `+at+`, reason FROM certificates
		WHERE ca_label = ? AND status = 'revoked' AND expiry > CURRENT_TIMESTAMP`), label)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
	}
	defer rows.Close()
	var out []crl.Entry
	for rows.Next() {
		// RawBytes: no string allocated per row for 100,000 rows.
		var serial, atText sql.RawBytes
		var atTime time.Time
		var reason int
		atDest := any(&atText)
		if postgres {
			atDest = &atTime
		}
		if err := rows.Scan(&serial, atDest, &reason); err != nil {
			return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
		}
		at := atTime
		if !postgres {
			var err error
			if at, err = parseDBTime(string(atText)); err != nil {
				return nil, fmt.Errorf("issuance database: revocation time of %s: %w", serial, err)
			}
		}
		n, ok := new(big.Int).SetString(string(serial), 10)
		if !ok {
			return nil, fmt.Errorf("issuance database: serial %q of %s is not a decimal number", serial, label)
		}
		out = append(out, crl.Entry{Serial: n, RevokedAt: at, Reason: reason})
	}
	return out, rows.Err()
}

// KeepCRLsFresh re-signs each CA's CRL once it has used half its lifetime,
// checking every interval until ctx ends, so a long-running `certmint serve`
// never serves an expired CRL. logf reports each publication and error.
func (s *Store) KeepCRLsFresh(ctx context.Context, interval time.Duration, logf func(format string, args ...any)) {
	check := func() {
		for _, a := range s.Authorities() {
			now := time.Now()
			if !s.CRLDue(a, now) {
				continue
			}
			p, err := s.PublishCRL(ctx, a, now)
			if err != nil {
				logf("re-signing the CRL of %s failed: %v", a.Slug, err)
				continue
			}
			logf("re-signed the CRL of %s: number %d, next update %s", a.Slug, p.Number, p.NextUpdate.Format(time.RFC3339))
		}
	}
	check()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

// dbTimeLayouts are the forms revoked_at takes: SQLite's (certmint and the
// _time_format=sqlite DSN), with fractional seconds, and Go's default
// time.String form that a database written without that option holds.
var dbTimeLayouts = []string{
	"2006-01-02 15:04:05-07:00",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999-07", // PostgreSQL timestamptz as text
}

func parseDBTime(s string) (time.Time, error) {
	for _, l := range dbTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}
