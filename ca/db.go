package ca

import (
	"context"
	"crypto/x509"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudflare/cfssl/certdb"
	cfsql "github.com/cloudflare/cfssl/certdb/sql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // pure-Go SQLite: certmint builds with CGO disabled
)

//go:embed schema/sqlite.sql
var sqliteSchema string

// DBFile is the SQLite database in the home.
const DBFile = "certmint.db"

// schemaVersion is stored in certmint_meta; bump it with a migration.
const schemaVersion = "1"

func init() {
	// sqlx knows "sqlite3" but not modernc's "sqlite"; its placeholders are "?".
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// DB is the issuance database: cfssl's certdb Accessor for certificates,
// plus certmint's tables (CRL numbers, audit trail). It is the SQLite file
// certmint.db in the home, or a PostgreSQL database that several hosts share.
type DB struct {
	X     *sqlx.DB
	Certs *cfsql.Accessor
	// Postgres is set for a PostgreSQL database. Queries are written with
	// "?" and go through X.Rebind; the few that differ check this.
	Postgres bool
	// URL names the database in messages: the SQLite file's path, or the
	// PostgreSQL URL without its password.
	URL string
}

// sqliteDSN opens path in WAL mode (readers never block the writer) with a
// long busy timeout and IMMEDIATE transactions, so concurrent certmint
// processes wait for each other instead of failing with "database is locked".
// Timestamps are stored in SQLite's format so cfssl's "CURRENT_TIMESTAMP <
// expiry" comparisons are sound.
func sqliteDSN(path string) string {
	return "file:" + filepath.ToSlash(path) +
		"?_time_format=sqlite&_txlock=immediate" +
		"&_pragma=busy_timeout(60000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
}

// OpenSQLite opens (creating when create is set) the SQLite database.
func OpenSQLite(path string, create bool) (*DB, error) {
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("issuance database: %w", err)
		}
	} else if f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
		// SQLite gives its -wal and -shm files the database file's mode:
		// the audit trail names users and hosts, so keep it 0600.
		f.Close()
	}
	x, err := sqlx.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	db := &DB{X: x, Certs: cfsql.NewAccessor(x), URL: path}
	if create {
		if err := db.createSchema(context.Background()); err != nil {
			x.Close()
			return nil, err
		}
	}
	return db, nil
}

// createSchema creates the tables that are missing.
func (db *DB) createSchema(ctx context.Context) error {
	if db.Postgres {
		return db.createPostgresSchema(ctx)
	}
	for _, stmt := range strings.Split(sqliteSchema, ";") {
		if strings.TrimSpace(stripSQLComments(stmt)) == "" {
			continue
		}
		if _, err := db.X.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("issuance database: creating schema: %w", err)
		}
	}
	_, err := db.X.ExecContext(ctx, `INSERT INTO certmint_meta(key, value) VALUES('schema_version', ?)
		ON CONFLICT(key) DO NOTHING`, schemaVersion)
	return err
}

// openHomeDB opens the issuance database of a home: the PostgreSQL
// database named by CERTMINT_DATABASE_URL or else by certmint.toml's
// [database] url, or the SQLite file certmint.db when neither is set.
// A PostgreSQL database must hold certmint's tables and, when it records
// one, this CA's identity.
func openHomeDB(home string, cfg *Config, issuing *x509.Certificate) (*DB, error) {
	dbURL := cfg.Database.URL
	if v := os.Getenv(DatabaseURLEnv); v != "" {
		dbURL = v
	}
	if dbURL == "" {
		return OpenSQLite(filepath.Join(home, DBFile), false)
	}
	ctx := context.Background()
	db, err := OpenPostgres(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if err := db.checkPostgres(ctx, home, issuing); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func stripSQLComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Close closes the database.
func (db *DB) Close() error { return db.X.Close() }

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
}

// InsertCertificate records an issued certificate through cfssl's Accessor.
func (db *DB) InsertCertificate(rec certdb.CertificateRecord, meta Metadata) error {
	data, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	rec.MetadataJSON = data
	if err := db.Certs.InsertCertificate(rec); err != nil {
		return fmt.Errorf("issuance database: recording certificate %s: %w", rec.Serial, err)
	}
	return nil
}

// Event is one entry of the audit trail.
type Event struct {
	Action   string // init, issue, revoke, renew, crl, repair
	Serial   string
	CALabel  string
	Template string
	Subject  string
	Detail   string
}

// Audit appends an event with the time, OS user and host.
func (db *DB) Audit(ctx context.Context, ev Event) error {
	return auditExec(ctx, db.X, ev)
}

func auditTx(ctx context.Context, tx *sqlx.Tx, ev Event) error { return auditExec(ctx, tx, ev) }

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	Rebind(string) string
}

func auditExec(ctx context.Context, x execer, ev Event) error {
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
