package ca

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditEntry is one event of the audit trail.
type AuditEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Action   string    `json:"action"`
	Serial   string    `json:"serial,omitempty"`
	CALabel  string    `json:"ca,omitempty"`
	Template string    `json:"template,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	User     string    `json:"user,omitempty"`
	Host     string    `json:"host,omitempty"`
}

// Actions are the kinds of audit events certmint writes.
var Actions = []string{"init", "issue", "issue-self-signed", "sign", "renew", "revoke", "crl", "migrate", "repair"}

// LogOptions filter the audit trail.
type LogOptions struct {
	Since  time.Time // zero: everything
	Serial string    // hex, as printed; "" for all
	Action string
}

// Log returns audit events, oldest first. certmint only ever appends to
// the trail: no command updates or deletes an event.
func (s *Store) Log(ctx context.Context, o LogOptions) ([]AuditEntry, error) {
	q := `SELECT id, at, action, serial, ca_label, template, subject, detail, os_user, host FROM audit_log WHERE 1 = 1`
	var args []any
	if !o.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, o.Since.UTC())
	}
	if o.Serial != "" {
		q += ` AND upper(serial) = upper(?)`
		args = append(args, o.Serial)
	}
	if o.Action != "" {
		q += ` AND action = ?`
		args = append(args, o.Action)
	}
	q += ` ORDER BY id`
	rows, err := s.DB.X.QueryContext(ctx, s.DB.X.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("issuance database: reading the audit trail: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
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
			e.At, _ = parseDBTime(v)
		case []byte:
			e.At, _ = parseDBTime(string(v))
		}
		e.Serial, e.CALabel, e.Template, e.Subject, e.Detail, e.User, e.Host =
			serial.String, label.String, tmpl.String, subj.String, detail.String, user.String, host.String
		out = append(out, e)
	}
	return out, rows.Err()
}
