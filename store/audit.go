package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/user"
	"time"
)

// Event is one entry of the audit trail to write.
type Event struct {
	Action   string // init, issue, revoke, renew, crl, repair
	Serial   string
	CALabel  string
	Template string
	Subject  string
	Detail   string
}

// Audit appends an event with the time, OS user and host. certmint only
// ever appends to the trail: no statement updates or deletes an event.
func (db *DB) Audit(ctx context.Context, ev Event) error { return audit(ctx, db.x, ev) }

// Audit appends an event inside the transaction.
func (tx *Tx) Audit(ctx context.Context, ev Event) error { return audit(ctx, tx.tx, ev) }

func audit(ctx context.Context, x execer, ev Event) error {
	host, _ := os.Hostname()
	_, err := x.ExecContext(ctx, x.Rebind(`INSERT INTO audit_log(at, action, serial, ca_label, template, subject, detail, os_user, host)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		time.Now().UTC(), ev.Action, nullable(ev.Serial), nullable(ev.CALabel), nullable(ev.Template),
		nullable(ev.Subject), nullable(ev.Detail), osUser(), host)
	if err != nil {
		return fmt.Errorf("issuance database: writing audit trail: %w", err)
	}
	return nil
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// AuditEntry is one event of the audit trail as read back.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Action   string
	Serial   string
	CALabel  string
	Template string
	Subject  string
	Detail   string
	User     string
	Host     string
}

// LogFilter selects audit events; zero values select everything.
type LogFilter struct {
	Since  time.Time
	Serial string // hex, as printed
	Action string
}

// Log returns the audit events the filter selects, oldest first.
func (db *DB) Log(ctx context.Context, f LogFilter) ([]AuditEntry, error) {
	q := `SELECT id, at, action, serial, ca_label, template, subject, detail, os_user, host FROM audit_log WHERE 1 = 1`
	var args []any
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, f.Since.UTC())
	}
	if f.Serial != "" {
		q += ` AND upper(serial) = upper(?)`
		args = append(args, f.Serial)
	}
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	q += ` ORDER BY id`
	rows, err := db.x.QueryContext(ctx, db.x.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading the audit trail: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var serial, label, tmpl, subj, detail, user, host sql.NullString
		var at any
		if err := rows.Scan(&e.ID, &at, &e.Action, &serial, &label, &tmpl, &subj, &detail, &user, &host); err != nil {
			return nil, fmt.Errorf("issuance database: reading the audit trail: %w", err)
		}
		switch v := at.(type) {
		case time.Time:
			e.At = v
		case string:
			e.At, _ = parseTime(v)
		case []byte:
			e.At, _ = parseTime(string(v))
		}
		e.Serial, e.CALabel, e.Template, e.Subject, e.Detail, e.User, e.Host =
			serial.String, label.String, tmpl.String, subj.String, detail.String, user.String, host.String
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditedSerial is what doctor needs of an event that names a certificate.
type AuditedSerial struct {
	Serial, Action, Detail string
}

// EachAuditedSerial calls fn for each event that names a certificate, in
// no particular order, without holding them all: a home of 100,000
// certificates has more than 100,000 such events.
func (db *DB) EachAuditedSerial(ctx context.Context, fn func(AuditedSerial)) error {
	// Only a repair's detail says what it recorded late.
	rows, err := db.x.QueryContext(ctx, `SELECT serial, action, CASE WHEN action = 'repair' THEN detail END FROM audit_log
		WHERE serial IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("issuance database: reading the audit trail: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AuditedSerial
		var detail sql.NullString
		if err := rows.Scan(&a.Serial, &a.Action, &detail); err != nil {
			return fmt.Errorf("issuance database: reading the audit trail: %w", err)
		}
		a.Detail = detail.String
		fn(a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("issuance database: reading the audit trail: %w", err)
	}
	return nil
}
