package ca

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"sort"
	"time"
)

// Record is one issued certificate as the database knows it.
type Record struct {
	Serial    *big.Int
	AKI       string
	CALabel   string
	Status    string // "good" or "revoked" as stored
	Reason    int
	RevokedAt time.Time
	NotBefore time.Time
	NotAfter  time.Time
	IssuedAt  time.Time
	CN        string
	SANs      []string
	Meta      Metadata
	PEM       string
}

// State is what a record means now: "valid", "revoked" or "expired".
func (r *Record) State(now time.Time) string {
	switch {
	case r.Status == "revoked":
		return "revoked"
	case !now.Before(r.NotAfter):
		return "expired"
	}
	return "valid"
}

// SerialHex is the serial as certmint prints it.
func (r *Record) SerialHex() string { return SerialHex(r.Serial) }

// Certificate parses the stored PEM.
func (r *Record) Certificate() (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(r.PEM))
	if block == nil {
		return nil, fmt.Errorf("record %s holds no PEM certificate", r.SerialHex())
	}
	return x509.ParseCertificate(block.Bytes)
}

// IsCA reports a record of a CA certificate (the issuing CA, recorded at init).
func (r *Record) IsCA() bool { return r.Meta.Template == issuingCATemplate }

// issuingCATemplate is the template name recorded for the issuing CA.
const issuingCATemplate = "issuing-ca"

type recordRow struct {
	Serial    string         `db:"serial_number"`
	AKI       string         `db:"authority_key_identifier"`
	CALabel   sql.NullString `db:"ca_label"`
	Status    string         `db:"status"`
	Reason    sql.NullInt64  `db:"reason"`
	Expiry    sql.NullTime   `db:"expiry"`
	RevokedAt sql.NullTime   `db:"revoked_at"`
	PEM       string         `db:"pem"`
	IssuedAt  sql.NullTime   `db:"issued_at"`
	NotBefore sql.NullTime   `db:"not_before"`
	Metadata  sql.NullString `db:"metadata"`
	SANs      sql.NullString `db:"sans"`
	CN        sql.NullString `db:"common_name"`
}

const recordColumns = `serial_number, authority_key_identifier, ca_label, status, reason, expiry, revoked_at, pem,
	issued_at, not_before, metadata, sans, common_name`

func (row recordRow) record() (*Record, error) {
	n, ok := new(big.Int).SetString(row.Serial, 10)
	if !ok {
		return nil, fmt.Errorf("issuance database: serial %q is not a decimal number", row.Serial)
	}
	r := &Record{Serial: n, AKI: row.AKI, CALabel: row.CALabel.String, Status: row.Status, Reason: int(row.Reason.Int64),
		RevokedAt: row.RevokedAt.Time, NotBefore: row.NotBefore.Time, NotAfter: row.Expiry.Time, IssuedAt: row.IssuedAt.Time,
		CN: row.CN.String, PEM: row.PEM}
	if row.SANs.Valid && row.SANs.String != "" {
		json.Unmarshal([]byte(row.SANs.String), &r.SANs)
	}
	if row.Metadata.Valid && row.Metadata.String != "" {
		json.Unmarshal([]byte(row.Metadata.String), &r.Meta)
	}
	return r, nil
}

// NotFoundSerialError is a serial this CA never issued.
type NotFoundSerialError struct{ Serial string }

func (e *NotFoundSerialError) Error() string {
	return fmt.Sprintf("no certificate with serial %s in this CA", e.Serial)
}

// HintText implements the CLI's hint interface.
func (e *NotFoundSerialError) HintText() string {
	return "`certmint list` shows every serial; serials are hexadecimal, as `openssl x509 -serial` prints them"
}

// Lookup finds the record of a serial.
func (s *Store) Lookup(ctx context.Context, serial *big.Int) (*Record, error) {
	var rows []recordRow
	err := s.DB.X.SelectContext(ctx, &rows, s.DB.X.Rebind(`SELECT `+recordColumns+` FROM certificates WHERE serial_number = ?`), serial.String())
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	if len(rows) == 0 {
		return nil, &NotFoundSerialError{Serial: SerialHex(serial)}
	}
	// Serials are unique per CA, and certmint's two CAs draw 127- and
	// 159-bit random serials: a collision across them is not a real case.
	return rows[0].record()
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
		return nil, &UsageError{Msg: fmt.Sprintf("unknown status %q", o.State), Hint: "use --status valid, revoked or expired"}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	var rows []recordRow
	if err := s.DB.X.SelectContext(ctx, &rows, `SELECT `+recordColumns+` FROM certificates`); err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	var out []*Record
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, err
		}
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

// HintText implements the CLI's hint interface.
func (e *AlreadyRevokedError) HintText() string {
	return "nothing to do; `certmint crl` republishes the CRLs if they are out of date"
}

// subjectOf prefers the stored subject, falling back to the CN.
func subjectOf(r *Record) string {
	if r.Meta.Subject != "" {
		return r.Meta.Subject
	}
	return "CN=" + r.CN
}
