package ca

import (
	"context"
	"time"

	"github.com/certmint/certmint/store"
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
	rows, err := s.DB.Log(ctx, store.LogFilter{Since: o.Since, Serial: o.Serial, Action: o.Action})
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, len(rows))
	for i, e := range rows {
		out[i] = AuditEntry{ID: e.ID, At: e.At, Action: e.Action, Serial: e.Serial, CALabel: e.CALabel, Template: e.Template,
			Subject: e.Subject, Detail: e.Detail, User: e.User, Host: e.Host}
	}
	return out, nil
}
