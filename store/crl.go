package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"time"
)

// NextCRLNumber allocates the CA's next CRL number. On PostgreSQL the
// upsert locks the CA's crl_numbers row (ON CONFLICT DO UPDATE locks as
// SELECT ... FOR UPDATE does; a first insert holds the new row's lock)
// until the transaction ends: a publisher on another host waits here, then
// increments the committed number. Under READ COMMITTED every later
// statement of the transaction sees what was committed before the lock was
// granted, so the CRL lists every revocation committed before its number
// was taken. On SQLite the IMMEDIATE transaction already excludes every
// other writer.
func (tx *Tx) NextCRLNumber(ctx context.Context, label string, thisUpdate, nextUpdate time.Time) (int64, error) {
	var n int64
	err := tx.tx.QueryRowxContext(ctx, tx.tx.Rebind(`INSERT INTO crl_numbers(ca_label, number, this_update, next_update)
		VALUES(?, 1, ?, ?)
		ON CONFLICT(ca_label) DO UPDATE SET number = crl_numbers.number + 1,
			this_update = excluded.this_update, next_update = excluded.next_update
		RETURNING number`), label, thisUpdate.UTC(), nextUpdate.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("issuance database: allocating CRL number for %s: %w", label, err)
	}
	return n, nil
}

// SetCRLNumber records the number a CRL really got, when it had to skip
// past one already published.
func (tx *Tx) SetCRLNumber(ctx context.Context, label string, number int64) error {
	if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`UPDATE crl_numbers SET number = ? WHERE ca_label = ?`), number, label); err != nil {
		return fmt.Errorf("issuance database: allocating CRL number for %s: %w", label, err)
	}
	return nil
}

// CRLNumbers is the last CRL number of each CA.
func (db *DB) CRLNumbers(ctx context.Context) (map[string]int64, error) {
	rows, err := db.x.QueryContext(ctx, `SELECT ca_label, number FROM crl_numbers`)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading CRL numbers: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var label string
		var n int64
		if err := rows.Scan(&label, &n); err != nil {
			return nil, fmt.Errorf("issuance database: reading CRL numbers: %w", err)
		}
		out[label] = n
	}
	return out, rows.Err()
}

// Revoked is one entry of a CRL.
type Revoked struct {
	Serial    *big.Int
	RevokedAt time.Time
	Reason    int
}

// RevokedEntries lists the revoked, unexpired certificates of a CA (expired
// ones may leave the CRL, RFC 5280 3.3), from the CRL index
// (migration 2) alone.
func (tx *Tx) RevokedEntries(ctx context.Context, label string) ([]Revoked, error) {
	// On SQLite revoked_at comes back as text and is parsed with the one
	// layout the driver writes (_time_format=sqlite): the driver's generic
	// parser tries layout after layout, which is a third of the read for
	// 100,000 rows. PostgreSQL's timestamptz arrives as a time.Time (pgx
	// decodes the binary form), and its text form would follow the
	// server's DateStyle.
	at := "CAST(revoked_at AS TEXT)"
	if tx.postgres {
		at = "revoked_at"
	}
	rows, err := tx.tx.QueryxContext(ctx, tx.tx.Rebind(`SELECT serial_number, `+at+`, reason FROM certificates
		WHERE ca_label = ? AND status = 'revoked' AND expiry > CURRENT_TIMESTAMP`), label)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
	}
	defer rows.Close()
	var out []Revoked
	for rows.Next() {
		// RawBytes: no string allocated per row for 100,000 rows.
		var serial, atText sql.RawBytes
		var atTime time.Time
		var reason int
		atDest := any(&atText)
		if tx.postgres {
			atDest = &atTime
		}
		if err := rows.Scan(&serial, atDest, &reason); err != nil {
			return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
		}
		at := atTime
		if !tx.postgres {
			var err error
			if at, err = parseTime(string(atText)); err != nil {
				return nil, fmt.Errorf("issuance database: revocation time of %s: %w", serial, err)
			}
		}
		n, ok := new(big.Int).SetString(string(serial), 10)
		if !ok {
			return nil, fmt.Errorf("issuance database: serial %q of %s is not a decimal number", serial, label)
		}
		out = append(out, Revoked{Serial: n, RevokedAt: at, Reason: reason})
	}
	return out, rows.Err()
}

// timeLayouts are the forms a timestamp read as text takes: SQLite's
// (certmint and the _time_format=sqlite DSN), with fractional seconds, and
// Go's default time.String form that a database written without that
// option holds.
var timeLayouts = []string{
	"2006-01-02 15:04:05-07:00",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999-07", // PostgreSQL timestamptz as text
}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}
