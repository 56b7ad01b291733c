package store

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/cloudflare/cfssl/certdb"
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
	// ReleasedAt is when the certificate's files were in place; zero while
	// it is recorded but not yet released (see MarkReleased).
	ReleasedAt time.Time
	CN         string
	SANs       []string
	Meta       Metadata
	PEM        string

	// serialHex caches SerialHex of serialOf for records read from the
	// database: doctor asks for it several times for each of 100,000
	// records. A copy given another Serial does not use it.
	serialHex string
	serialOf  *big.Int
}

// Metadata is what certmint keeps in cfssl's metadata column: enough to
// renew the certificate the same way and to find its files.
type Metadata struct {
	Template     string   `json:"template"`
	TemplateFile string   `json:"template_file,omitempty"` // a user template's path
	Subject      string   `json:"subject"`
	Files        []string `json:"files,omitempty"`
	Out          string   `json:"out,omitempty"`
	Base         string   `json:"base,omitempty"`
	Formats      []string `json:"formats,omitempty"`
	FriendlyName string   `json:"friendly_name,omitempty"`
	PFXName      string   `json:"pfx_name,omitempty"`
	Renews       string   `json:"renews,omitempty"` // serial of the certificate this one replaced
	Batch        string   `json:"batch,omitempty"`  // the OUT folder of the batch that issued it (doctor looks there)
	// Overrides given at issue time, so renew reissues the same way.
	PFX        string `json:"pfx,omitempty"`         // "legacy" or "modern" when --pfx was given
	NoCDP      bool   `json:"no_cdp,omitempty"`      // --no-cdp
	EncryptKey bool   `json:"encrypt_key,omitempty"` // --encrypt-key
	// ProfilePassword: the bundle password is in the .mobileconfig
	// (--profile-password).
	ProfilePassword bool `json:"profile_password,omitempty"`
	OCSP            bool `json:"ocsp,omitempty"` // --ocsp
}

// IssuingCATemplate is the template name recorded for the issuing CA's
// own certificate (init records it as a certificate the root issued).
const IssuingCATemplate = "issuing-ca"

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
func (r *Record) SerialHex() string {
	if r.serialOf == r.Serial && r.serialHex != "" {
		return r.serialHex
	}
	return SerialHex(r.Serial)
}

// SerialHex formats a serial the way openssl -serial prints it.
func SerialHex(n *big.Int) string {
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// Certificate parses the stored PEM.
func (r *Record) Certificate() (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(r.PEM))
	if block == nil {
		return nil, fmt.Errorf("record %s holds no PEM certificate", r.SerialHex())
	}
	return x509.ParseCertificate(block.Bytes)
}

// Is reports whether the record is of that certificate: the same
// certificate when the record was read with its PEM, else the same serial
// from the same issuer key (a CA never reuses a serial).
func (r *Record) Is(c *x509.Certificate) bool {
	if r.PEM == "" {
		return c.SerialNumber.Cmp(r.Serial) == 0 && hex.EncodeToString(c.AuthorityKeyId) == r.AKI
	}
	rc, err := r.Certificate()
	return err == nil && rc.Equal(c)
}

// Subject is the subject recorded at issuance, or the CN.
func (r *Record) Subject() string {
	if r.Meta.Subject != "" {
		return r.Meta.Subject
	}
	return "CN=" + r.CN
}

// IsCA reports a record of a CA certificate (the issuing CA, recorded at init).
func (r *Record) IsCA() bool { return r.Meta.Template == IssuingCATemplate }

type recordRow struct {
	Serial    string         `db:"serial_number"`
	AKI       string         `db:"authority_key_identifier"`
	CALabel   sql.NullString `db:"ca_label"`
	Status    string         `db:"status"`
	Reason    sql.NullInt64  `db:"reason"`
	Expiry    dbTime         `db:"expiry"`
	RevokedAt dbTime         `db:"revoked_at"`
	PEM       string         `db:"pem"`
	IssuedAt  dbTime         `db:"issued_at"`
	NotBefore dbTime         `db:"not_before"`
	Metadata  sql.NullString `db:"metadata"`
	SANs      sql.NullString `db:"sans"`
	CN        sql.NullString `db:"common_name"`
	Released  dbTime         `db:"released_at"`
}

// dbTime reads a timestamp column: a time.Time (PostgreSQL), or the text
// SQLite holds, parsed here with the one layout certmint writes. Reading
// SQLite's timestamps as text (see columns) spares the driver's parser,
// which tries layout after layout and was a third of reading 100,000
// records.
type dbTime struct{ Time time.Time }

func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = x
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	default:
		return fmt.Errorf("store: a timestamp column holds %T", v)
	}
	return nil
}

func (t *dbTime) parse(s string) error {
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := parseTime(s)
	t.Time = v
	return err
}

// cfsslColumns are the columns of cfssl's certdb schema, which cfssl's
// Accessor writes; recordColumns adds certmint's own.
const (
	cfsslColumns = `serial_number, authority_key_identifier, ca_label, status, reason, expiry, revoked_at, pem,
	issued_at, not_before, metadata, sans, common_name`
	recordColumns = cfsslColumns + `, released_at`
)

func (row recordRow) record() (*Record, error) {
	n, ok := new(big.Int).SetString(row.Serial, 10)
	if !ok {
		return nil, fmt.Errorf("issuance database: serial %q is not a decimal number", row.Serial)
	}
	r := &Record{Serial: n, AKI: row.AKI, CALabel: row.CALabel.String, Status: row.Status, Reason: int(row.Reason.Int64),
		RevokedAt: row.RevokedAt.Time, NotBefore: row.NotBefore.Time, NotAfter: row.Expiry.Time, IssuedAt: row.IssuedAt.Time,
		ReleasedAt: row.Released.Time, CN: row.CN.String, PEM: row.PEM}
	r.serialHex, r.serialOf = SerialHex(n), n
	if row.SANs.Valid && row.SANs.String != "" {
		json.Unmarshal([]byte(row.SANs.String), &r.SANs)
	}
	if row.Metadata.Valid && row.Metadata.String != "" {
		json.Unmarshal([]byte(row.Metadata.String), &r.Meta)
	}
	return r, nil
}

// NewRecord is the row for an issued certificate: serial in decimal and
// AKI in lowercase hex, as cfssl's own signer stores them, status good.
func NewRecord(cert *x509.Certificate, label string, meta Metadata) *Record {
	var sans []string
	sans = append(sans, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		sans = append(sans, ip.String())
	}
	sans = append(sans, cert.EmailAddresses...)
	for _, u := range cert.URIs {
		sans = append(sans, u.String())
	}
	return &Record{Serial: cert.SerialNumber, AKI: hex.EncodeToString(cert.AuthorityKeyId), CALabel: label, Status: "good",
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), IssuedAt: time.Now().UTC(),
		CN: cert.Subject.CommonName, SANs: sans, Meta: meta,
		PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))}
}

// cfssl is the record as cfssl's certdb writes it.
func (r *Record) cfssl() (certdb.CertificateRecord, error) {
	meta, err := json.Marshal(r.Meta)
	if err != nil {
		return certdb.CertificateRecord{}, err
	}
	issued, notBefore := r.IssuedAt, r.NotBefore
	rec := certdb.CertificateRecord{
		Serial: r.Serial.String(), AKI: r.AKI, CALabel: r.CALabel, Status: r.Status, Reason: r.Reason,
		Expiry: r.NotAfter.UTC(), PEM: r.PEM, IssuedAt: &issued, NotBefore: &notBefore,
		CommonName:   sql.NullString{String: r.CN, Valid: r.CN != ""},
		MetadataJSON: meta,
	}
	if !r.RevokedAt.IsZero() {
		rec.RevokedAt = r.RevokedAt.UTC()
	}
	rec.SetSANs(r.SANs)
	return rec, nil
}

// Insert records a certificate through cfssl's certdb Accessor, not yet
// released: certmint records a certificate before any file holds it, and
// marks it released (MarkReleased) once its files are in place.
func (db *DB) Insert(ctx context.Context, r *Record) error {
	rec, err := r.cfssl()
	if err != nil {
		return err
	}
	if err := db.certs.InsertCertificate(rec); err != nil {
		return fmt.Errorf("issuance database: recording certificate %s: %w", r.SerialHex(), err)
	}
	return nil
}

// insertCertificateSQL is cfssl's certdb insert (certdb/sql), run inside a
// transaction: cfssl's Accessor has no transaction form.
const insertCertificateSQL = `INSERT INTO certificates (` + cfsslColumns + `)
VALUES (:serial_number, :authority_key_identifier, :ca_label, :status, :reason, :expiry, :revoked_at, :pem,
	:issued_at, :not_before, :metadata, :sans, :common_name)`

// Insert records a certificate inside the transaction.
func (tx *Tx) Insert(ctx context.Context, r *Record) error {
	rec, err := r.cfssl()
	if err != nil {
		return err
	}
	if _, err := tx.tx.NamedExecContext(ctx, insertCertificateSQL, &rec); err != nil {
		return fmt.Errorf("issuance database: recording %s: %w", r.SerialHex(), err)
	}
	return nil
}

// MarkReleased says the certificate's files are in place.
func (db *DB) MarkReleased(ctx context.Context, serial *big.Int, aki string, at time.Time) error {
	return markReleased(ctx, db.x, serial, aki, at)
}

// MarkReleased says the certificate's files are in place.
func (tx *Tx) MarkReleased(ctx context.Context, serial *big.Int, aki string, at time.Time) error {
	return markReleased(ctx, tx.tx, serial, aki, at)
}

func markReleased(ctx context.Context, x execer, serial *big.Int, aki string, at time.Time) error {
	_, err := x.ExecContext(ctx, x.Rebind(`UPDATE certificates SET released_at = ? WHERE serial_number = ? AND authority_key_identifier = ?`),
		at.UTC(), serial.String(), aki)
	if err != nil {
		return fmt.Errorf("issuance database: marking %s released: %w", SerialHex(serial), err)
	}
	return nil
}

// Unreleased returns the certificates recorded but not marked released:
// those a command is still writing, and those whose command was killed
// between recording and placing their files.
func (db *DB) Unreleased(ctx context.Context) ([]*Record, error) {
	var rows []recordRow
	if err := db.x.SelectContext(ctx, &rows, `SELECT `+db.columns(true)+` FROM certificates WHERE released_at IS NULL`); err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	out := make([]*Record, 0, len(rows))
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Delete forgets a certificate that was never released and whose files
// were never written: it existed only in memory.
func (db *DB) Delete(ctx context.Context, serial *big.Int, aki string) error {
	_, err := db.x.ExecContext(ctx, db.x.Rebind(`DELETE FROM certificates WHERE serial_number = ? AND authority_key_identifier = ?`),
		serial.String(), aki)
	if err != nil {
		return fmt.Errorf("issuance database: %w", err)
	}
	return nil
}

// ErrNotFound is a serial the database does not hold.
var ErrNotFound = errors.New("no such certificate")

// Lookup finds the record of a serial.
func (db *DB) Lookup(ctx context.Context, serial *big.Int) (*Record, error) {
	var rows []recordRow
	err := db.x.SelectContext(ctx, &rows, db.x.Rebind(`SELECT `+db.columns(true)+` FROM certificates WHERE serial_number = ?`), serial.String())
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	// Serials are unique per CA, and certmint's two CAs draw 127- and
	// 159-bit random serials: a collision across them is not a real case.
	return rows[0].record()
}

// ListFilter selects records; its zero value selects every end-entity
// record.
type ListFilter struct {
	// State is "", "valid" (good and unexpired), "expired" (good, past
	// its end) or "revoked".
	State string
	// ExpiringBefore selects valid records that end before it.
	ExpiringBefore time.Time
	Template       string // the template recorded at issuance
	IncludeCAs     bool   // the issuing CA's own record too
	Limit          int    // 0: no limit
	// WithPEM reads each certificate too; list, status and doctor's scan
	// do without, which keeps 100,000 records in a few tens of MiB.
	WithPEM bool
	// WithoutSANs leaves the SAN list out (doctor does not read it).
	WithoutSANs bool
	Now         time.Time
}

// columns is recordColumns as a SELECT reads them: on SQLite the
// timestamps as text (dbTime parses them), and without the PEM unless
// withPEM.
func (db *DB) columns(withPEM bool) string {
	cols := recordColumns
	if !withPEM {
		cols = strings.Replace(cols, "pem,", "'' AS pem,", 1)
	}
	if !db.postgres {
		for _, c := range []string{"expiry", "revoked_at", "issued_at", "not_before", "released_at"} {
			cols = strings.Replace(cols, c, "CAST("+c+" AS TEXT) AS "+c, 1)
		}
	}
	return cols
}

// List returns the records the filter selects, soonest expiry first (then
// by serial), filtered, ordered and limited in SQL.
func (db *DB) List(ctx context.Context, f ListFilter) ([]*Record, error) {
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	cols := db.columns(f.WithPEM)
	if f.WithoutSANs {
		cols = strings.Replace(cols, "sans,", "NULL AS sans,", 1)
	}
	q := `SELECT ` + cols + ` FROM certificates WHERE 1 = 1`
	var args []any
	if !f.IncludeCAs {
		c, a := db.templateNotIn(IssuingCATemplate)
		q += ` AND ` + c
		args = append(args, a...)
	}
	if f.Template != "" {
		c, a := db.templateIs(f.Template)
		q += ` AND ` + c
		args = append(args, a...)
	}
	now := f.Now.UTC()
	switch f.State {
	case "":
	case "valid":
		q += ` AND status = 'good' AND expiry > ?`
		args = append(args, now)
	case "expired":
		q += ` AND status = 'good' AND expiry <= ?`
		args = append(args, now)
	case "revoked":
		q += ` AND status = 'revoked'`
	default:
		return nil, fmt.Errorf("store: unknown state %q", f.State)
	}
	if !f.ExpiringBefore.IsZero() {
		q += ` AND status = 'good' AND expiry > ? AND expiry <= ?`
		args = append(args, now, f.ExpiringBefore.UTC())
	}
	// Serials are decimal text: shorter is smaller.
	q += ` ORDER BY expiry, length(serial_number), serial_number`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := db.x.QueryxContext(ctx, db.x.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	defer rows.Close()
	out := []*Record{}
	for rows.Next() {
		var row recordRow
		if err := rows.StructScan(&row); err != nil {
			return nil, fmt.Errorf("issuance database: %w", err)
		}
		r, err := row.record()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// templateIs is the condition that a record's template is name, and its
// arguments. On SQLite the metadata is JSON text: json_extract parses it,
// which over 100,000 rows costs a quarter of a second, so rows whose text
// does not even contain the quoted name are passed over first.
func (db *DB) templateIs(name string) (string, []any) {
	if db.postgres {
		return `(metadata->>'template') = ?`, []any{name}
	}
	quoted, _ := json.Marshal(name)
	return `instr(metadata, ?) > 0 AND json_extract(metadata, '$.template') = ?`, []any{string(quoted), name}
}

// templateNotIn is the condition that a record's template is none of
// names (or it has none), and its arguments.
func (db *DB) templateNotIn(names ...string) (string, []any) {
	marks := "?" + strings.Repeat(", ?", len(names)-1)
	var args []any
	for _, n := range names {
		args = append(args, n)
	}
	if db.postgres {
		return `COALESCE(metadata->>'template', '') NOT IN (` + marks + `)`, args
	}
	// JSON parsed only for the rows whose text holds one of the names.
	var found []string
	var foundArgs []any
	for _, n := range names {
		quoted, _ := json.Marshal(n)
		found = append(found, `instr(metadata, ?) > 0`)
		foundArgs = append(foundArgs, string(quoted))
	}
	return `(metadata IS NULL OR NOT (` + strings.Join(found, " OR ") + `) OR COALESCE(json_extract(metadata, '$.template'), '') NOT IN (` + marks + `))`,
		append(foundArgs, args...)
}

// Counts are the end-entity records by state.
type Counts struct {
	Valid, Expiring, Expired, Revoked int
}

// Count counts the end-entity records in each state, as of now; Expiring
// are the valid ones that end before warnBefore. One aggregate query, not
// a read of every row. The CA's own certificates (the issuing CA's, the
// OCSP responders') are not counted.
func (db *DB) Count(ctx context.Context, now, warnBefore time.Time) (Counts, error) {
	// The CA's own certificates are not counted: its issuing CA's, and the
	// OCSP responders' that serve replaces before they run out.
	notIssued, notIssuedArgs := db.templateNotIn(IssuingCATemplate, OCSPResponderTemplate)
	q := db.x.Rebind(`SELECT
		COALESCE(SUM(CASE WHEN status = 'good' AND expiry > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'good' AND expiry > ? AND expiry <= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'good' AND expiry <= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'revoked' THEN 1 ELSE 0 END), 0)
		FROM certificates WHERE ` + notIssued)
	var c Counts
	n, w := now.UTC(), warnBefore.UTC()
	err := db.x.QueryRowxContext(ctx, q, append([]any{n, n, w, n}, notIssuedArgs...)...).Scan(&c.Valid, &c.Expiring, &c.Expired, &c.Revoked)
	if err != nil {
		return c, fmt.Errorf("issuance database: counting certificates: %w", err)
	}
	return c, nil
}

// RenewedSerials returns the serials (uppercase hex) that valid
// certificates renew (Metadata.Renews): status counts a certificate in its
// warning window as done when one of them names it. Only the rows that
// name one are decoded.
func (db *DB) RenewedSerials(ctx context.Context, now time.Time) (map[string]bool, error) {
	q := `SELECT json_extract(metadata, '$.renews') FROM certificates
		WHERE status = 'good' AND expiry > ? AND instr(metadata, '"renews"') > 0`
	if db.postgres {
		q = `SELECT metadata->>'renews' FROM certificates
		WHERE status = 'good' AND expiry > ? AND (metadata->>'renews') IS NOT NULL`
	}
	rows, err := db.x.QueryContext(ctx, db.x.Rebind(q), now.UTC())
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var serial sql.NullString
		if err := rows.Scan(&serial); err != nil {
			return nil, fmt.Errorf("issuance database: %w", err)
		}
		if serial.String != "" {
			out[strings.ToUpper(serial.String)] = true
		}
	}
	return out, rows.Err()
}

// Successor returns the newest valid certificate that renews the
// certificate serial (uppercase hex, as Metadata.Renews holds it), or nil.
func (db *DB) Successor(ctx context.Context, serial string, now time.Time) (*Record, error) {
	quoted, _ := json.Marshal(serial)
	cond := `instr(metadata, ?) > 0 AND json_extract(metadata, '$.renews') = ?`
	args := []any{string(quoted), serial}
	if db.postgres {
		cond, args = `(metadata->>'renews') = ?`, []any{serial}
	}
	rows, err := db.x.QueryxContext(ctx, db.x.Rebind(`SELECT `+db.columns(false)+` FROM certificates
		WHERE status = 'good' AND expiry > ? AND `+cond+` ORDER BY issued_at DESC`), append([]any{now.UTC()}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var row recordRow
	if err := rows.StructScan(&row); err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	return row.record()
}

// ValidSerialForCN returns the serial of a good, unexpired certificate of
// the template whose CN is cn, compared without case (DNS names, RFC
// 4343), or nil.
func (db *DB) ValidSerialForCN(ctx context.Context, template, cn string, now time.Time) (*big.Int, error) {
	rows, err := db.x.QueryxContext(ctx, db.x.Rebind(`SELECT serial_number, metadata FROM certificates
		WHERE LOWER(common_name) = LOWER(?) AND status = 'good' AND expiry > ?`), cn, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var serial string
		var meta sql.NullString
		if err := rows.Scan(&serial, &meta); err != nil {
			return nil, err
		}
		// Decoded, not matched as text: PostgreSQL's jsonb gives the
		// metadata back re-spaced and with its keys reordered.
		var m Metadata
		if json.Unmarshal([]byte(meta.String), &m) == nil && m.Template == template {
			if n, ok := new(big.Int).SetString(serial, 10); ok {
				return n, nil
			}
		}
	}
	return nil, rows.Err()
}

// Revoke marks a good certificate revoked. The status guard makes it
// atomic: of two concurrent revocations of one serial exactly one changes
// the row (cfssl's RevokeCertificate has no such guard). It reports
// whether this call did.
func (db *DB) Revoke(ctx context.Context, serial *big.Int, aki string, reason int, at time.Time) (bool, error) {
	res, err := db.x.ExecContext(ctx, db.x.Rebind(`UPDATE certificates SET status = 'revoked', reason = ?, revoked_at = ?
		WHERE serial_number = ? AND authority_key_identifier = ? AND status = 'good'`),
		reason, at.UTC(), serial.String(), aki)
	if err != nil {
		return false, fmt.Errorf("issuance database: revoking %s: %w", SerialHex(serial), err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
