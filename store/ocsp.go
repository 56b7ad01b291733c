package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// OCSPResponderTemplate is the template name recorded for the delegated
// OCSP responder certificates `certmint serve` issues for each CA. Like
// the issuing CA's record, they are the CA's own: Count leaves them out.
const OCSPResponderTemplate = "ocsp-responder"

// CertStatus is what an OCSP responder needs to know of one certificate:
// which CA issued it and whether, when and why it was revoked.
type CertStatus struct {
	Serial    *big.Int
	CALabel   string
	Revoked   bool
	RevokedAt time.Time
	Reason    int
}

// MaxStatusBatch is the most serials CertStatuses looks up in one query.
const MaxStatusBatch = 256

// CertStatuses looks up serials (at most MaxStatusBatch) in one query, by
// the serial index (SQLite's certificates_serial, PostgreSQL's primary
// key), and returns a row per certificate found, of any CA. Serials the
// database does not hold are left out. Called for every OCSP request that
// is not answered from memory, so it reads only these five columns.
func (db *DB) CertStatuses(ctx context.Context, serials []*big.Int) ([]CertStatus, error) {
	if len(serials) == 0 {
		return nil, nil
	}
	if len(serials) > MaxStatusBatch {
		return nil, fmt.Errorf("store: %d serials in one status lookup (at most %d)", len(serials), MaxStatusBatch)
	}
	at := "CAST(revoked_at AS TEXT)"
	if db.postgres {
		at = "revoked_at"
	}
	var rows *sql.Rows
	var err error
	if db.postgres {
		args := make([]any, len(serials))
		for i, s := range serials {
			args[i] = s.String()
		}
		q := `SELECT serial_number, ca_label, status, reason, ` + at + ` FROM certificates WHERE serial_number IN (?` +
			strings.Repeat(", ?", len(serials)-1) + `)`
		rows, err = db.x.QueryContext(ctx, db.x.Rebind(q), args...)
	} else {
		// One statement for any number of serials, prepared once:
		// parsing the SQL was as costly as running it. The serials go in
		// as a JSON array of decimal strings, each looked up in the
		// serial index.
		list := make([]byte, 0, 48*len(serials))
		list = append(list, '[')
		for i, s := range serials {
			if i > 0 {
				list = append(list, ',')
			}
			list = append(list, '"')
			list = s.Append(list, 10)
			list = append(list, '"')
		}
		list = append(list, ']')
		var stmt *sql.Stmt
		if stmt, err = db.statusStmt(ctx); err == nil {
			rows, err = stmt.QueryContext(ctx, string(list))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("issuance database: looking up certificate status: %w", err)
	}
	defer rows.Close()
	var out []CertStatus
	for rows.Next() {
		var serial, label, status sql.RawBytes
		var reason sql.NullInt64
		var revokedAt dbTime
		if err := rows.Scan(&serial, &label, &status, &reason, &revokedAt); err != nil {
			return nil, fmt.Errorf("issuance database: looking up certificate status: %w", err)
		}
		n, ok := new(big.Int).SetString(string(serial), 10)
		if !ok {
			return nil, fmt.Errorf("issuance database: serial %q is not a decimal number", serial)
		}
		out = append(out, CertStatus{Serial: n, CALabel: string(label), Revoked: string(status) == "revoked",
			RevokedAt: revokedAt.Time, Reason: int(reason.Int64)})
	}
	return out, rows.Err()
}

// KeepReaders keeps n connections open for readers that query at once
// (the OCSP responder's lookups): database/sql keeps two idle connections
// by default, and on SQLite every further one is a file opened and its
// pragmas run for each query.
func (db *DB) KeepReaders(n int) {
	if db.postgres {
		// OpenPostgres caps the pool at 16 connections and keeps 4.
		n = min(n, 16)
	}
	db.x.SetMaxIdleConns(max(n, 2))
}

// RevocationMark summarises the revocations of one CA: how many there are
// and the latest. It only ever changes when a certificate of the CA is
// revoked (or its record removed), so a watcher that sees it change knows
// a CRL may need republishing.
type RevocationMark struct {
	Count int64
	Last  time.Time
}

// RevocationMarks returns the mark of every CA with revocations, by CA
// label, in one aggregate over the CRL index (certificates_revoked, a
// partial index of the revoked rows): cheap enough to poll every few
// seconds.
func (db *DB) RevocationMarks(ctx context.Context) (map[string]RevocationMark, error) {
	last := "CAST(max(revoked_at) AS TEXT)"
	if db.postgres {
		last = "max(revoked_at)"
	}
	rows, err := db.x.QueryContext(ctx, `SELECT ca_label, count(*), `+last+` FROM certificates WHERE status = 'revoked' GROUP BY ca_label`)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading revocations: %w", err)
	}
	defer rows.Close()
	out := map[string]RevocationMark{}
	for rows.Next() {
		var label sql.RawBytes
		var m RevocationMark
		var at dbTime
		if err := rows.Scan(&label, &m.Count, &at); err != nil {
			return nil, fmt.Errorf("issuance database: reading revocations: %w", err)
		}
		m.Last = at.Time
		out[string(label)] = m
	}
	return out, rows.Err()
}

// RevokedSerials lists the serials of the revoked, unexpired certificates
// of a CA (those its CRL must list), from the CRL index alone, outside any
// transaction: a reader's view, to compare with a published CRL.
func (db *DB) RevokedSerials(ctx context.Context, label string) ([]*big.Int, error) {
	rows, err := db.x.QueryContext(ctx, db.x.Rebind(`SELECT serial_number FROM certificates
		WHERE ca_label = ? AND status = 'revoked' AND expiry > CURRENT_TIMESTAMP`), label)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
	}
	defer rows.Close()
	var out []*big.Int
	for rows.Next() {
		var serial sql.RawBytes
		if err := rows.Scan(&serial); err != nil {
			return nil, fmt.Errorf("issuance database: reading revocations of %s: %w", label, err)
		}
		n, ok := new(big.Int).SetString(string(serial), 10)
		if !ok {
			return nil, fmt.Errorf("issuance database: serial %q of %s is not a decimal number", serial, label)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// statusQuerySQLite is CertStatuses' statement on SQLite.
const statusQuerySQLite = `SELECT serial_number, ca_label, status, reason, CAST(revoked_at AS TEXT) FROM certificates
	WHERE serial_number IN (SELECT value FROM json_each(?))`

// statusStmt prepares CertStatuses' statement once per database (and
// database/sql once per connection).
func (db *DB) statusStmt(ctx context.Context) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if db.status == nil {
		st, err := db.x.PrepareContext(ctx, statusQuerySQLite)
		if err != nil {
			return nil, err
		}
		db.status = st
	}
	return db.status, nil
}
