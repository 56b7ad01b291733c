package store

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	cfsql "github.com/cloudflare/cfssl/certdb/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // pgx's database/sql driver: pure Go, builds with CGO disabled
	"github.com/jmoiron/sqlx"

	"github.com/certmint/certmint/internal/input"
)

// DatabaseURLEnv names the environment variable in which certmint's CLI
// takes the issuance database's URL, password included. The hints name it;
// this package never reads it.
const DatabaseURLEnv = "CERTMINT_DATABASE_URL"

// schemaLockKey is the pg_advisory_xact_lock key under which certmint
// creates its tables: CREATE TABLE IF NOT EXISTS is not safe against a
// concurrent CREATE of the same table.
const schemaLockKey = 0x63657274_6d696e74 // "certmint"

// ParseDatabaseURL checks a PostgreSQL URL (postgres:// or postgresql://,
// as libpq and pgx read them).
func ParseDatabaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
		return nil, &URLError{Msg: input.PlainText(fmt.Sprintf("database URL %q is not a postgres:// URL", RedactDatabaseURL(s))),
			Hint: input.PlainText("e.g. postgres://certmint@db.example.com:5432/certmint?sslmode=verify-full")}
	}
	return u, nil
}

// databaseURLHasPassword reports a password in the user info or in the
// password parameter.
func URLHasPassword(u *url.URL) bool {
	if _, ok := u.User.Password(); ok {
		return true
	}
	return u.Query().Has("password")
}

// RedactDatabaseURL returns the URL without its password, for messages and
// for certmint.toml. A string that is not a URL comes back as a placeholder.
func RedactDatabaseURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return "(a database connection string that is not a URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// DatabasePasswordError is a database URL that would be written into
// certmint.toml with a password in it. certmint.toml is readable by anyone
// who can read the home; the password belongs elsewhere.
type DatabasePasswordError struct{ Where string }

func (e *DatabasePasswordError) Error() string {
	return fmt.Sprintf("%s holds a password, and certmint.toml never records one", e.Where)
}

// NewDatabaseURL decides the PostgreSQL database of a new CA (init) or of
// a move to PostgreSQL (db migrate). given is the URL the command names
// (input.DatabaseURL), which goes into certmint.toml and so must hold no
// password; env is the URL from the environment (input.DatabaseEnv),
// which may. It returns the URL to connect with (env when set, given
// otherwise) and the URL to record (without a password). When both are
// set they must name the same database.
func NewDatabaseURL(given, env string) (connect, record string, err error) {
	if given != "" {
		u, err := ParseDatabaseURL(given)
		if err != nil {
			return "", "", err
		}
		if URLHasPassword(u) {
			return "", "", &URLError{Msg: input.Textf("%s holds a password, and certmint.toml never records one", input.Of(input.DatabaseURL)),
				Hint: input.Textf("give the URL without the password, and the password in %s (the whole URL, password included), in ~/.pgpass, or in PGPASSWORD", input.Of(input.DatabaseEnv))}
		}
	}
	if env != "" {
		if _, err := ParseDatabaseURL(env); err != nil {
			return "", "", fmt.Errorf("%s: %w", DatabaseURLEnv, err)
		}
	}
	switch {
	case given == "" && env == "":
		return "", "", &URLError{Msg: input.Textf("%s is required", input.Of(input.DatabaseURL))}
	case env == "":
		return given, given, nil
	case given == "":
		return env, RedactDatabaseURL(env), nil
	case RedactDatabaseURL(env) != RedactDatabaseURL(given):
		return "", "", &URLError{
			Msg:  input.Textf("%s and %s name different databases", input.Val(input.DatabaseURL, RedactDatabaseURL(given)), input.Val(input.DatabaseEnv, RedactDatabaseURL(env))),
			Hint: input.Textf("unset %s, or give the same URL in both (the password only in %s)", input.Of(input.DatabaseEnv), input.Of(input.DatabaseEnv))}
	}
	return env, RedactDatabaseURL(given), nil
}

// OpenPostgres connects to the PostgreSQL database at rawURL through pgx's
// database/sql driver, under sqlx with $n placeholders, and checks that it
// answers. It creates nothing: a home's database is brought up to date by
// Upgrade, a new one made by Claim.
func OpenPostgres(ctx context.Context, rawURL string) (*DB, error) {
	if _, err := ParseDatabaseURL(rawURL); err != nil {
		return nil, err
	}
	shown := RedactDatabaseURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx's parse errors repeat the URL, password included.
		return nil, &URLError{Msg: input.PlainText(fmt.Sprintf("database URL %s cannot be used: %s", shown, strings.ReplaceAll(unwrapAll(err).Error(), rawURL, shown)))}
	}
	// Sessions in UTC: certmint writes UTC and reads timestamptz as instants,
	// and nothing it shows depends on the server's TimeZone. lock_timeout
	// mirrors SQLite's busy_timeout: wait for another host's CRL
	// publication, but not forever for a stuck one.
	for k, v := range map[string]string{"timezone": "UTC", "application_name": "certmint", "lock_timeout": "60s"} {
		if _, set := cfg.RuntimeParams[k]; !set {
			cfg.RuntimeParams[k] = v
		}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	x := sqlx.NewDb(stdlib.OpenDB(*cfg), "pgx") // sqlx binds "pgx" with DOLLAR
	x.SetMaxOpenConns(16)
	x.SetMaxIdleConns(4)
	x.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{x: x, certs: cfsql.NewAccessor(x), postgres: true, url: shown}
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+5*time.Second)
	defer cancel()
	if err := x.PingContext(pctx); err != nil {
		x.Close()
		return nil, &DatabaseConnectError{URL: shown, Err: err}
	}
	return db, nil
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// DatabaseConnectError is a PostgreSQL server that could not be reached or
// refused certmint.
type DatabaseConnectError struct {
	URL string // without the password
	Err error
}

func (e *DatabaseConnectError) Error() string {
	return fmt.Sprintf("issuance database: cannot connect to %s: %v", e.URL, e.Err)
}

func (e *DatabaseConnectError) Unwrap() error { return e.Err }

// AuthFailed reports a server that refused the login (a wrong or missing
// password), rather than one that could not be reached.
func (e *DatabaseConnectError) AuthFailed() bool {
	var pe *pgconn.PgError
	return errors.As(e.Err, &pe) && (pe.Code == "28P01" || pe.Code == "28000")
}

// NoSchemaError is a PostgreSQL database without certmint's tables.
type NoSchemaError struct{ URL string }

func (e *NoSchemaError) Error() string {
	return fmt.Sprintf("issuance database %s holds no certmint tables", e.URL)
}

// DatabaseInUseError is a database that already holds a certmint CA's data
// where an empty one is needed (init, db migrate).
type DatabaseInUseError struct {
	URL  string
	What string // e.g. "12 certificates, 3 CRL numbers"
}

func (e *DatabaseInUseError) Error() string {
	return fmt.Sprintf("issuance database %s already holds certmint data (%s); nothing was changed", e.URL, e.What)
}

// HintText implements the CLI's hint interface.
func (e *DatabaseInUseError) HintText() string {
	return "use an empty database (CREATE DATABASE ...), or another schema with ?search_path=NAME in the URL"
}

// OtherCAError is a database that belongs to another CA than the home.
type OtherCAError struct{ URL, Home string }

func (e *OtherCAError) Error() string {
	return fmt.Sprintf("issuance database %s belongs to another CA than %s", e.URL, e.Home)
}

// lockSchema takes the advisory lock that serialises schema changes and
// claiming the database between hosts, until the transaction ends.
func (tx *Tx) lockSchema(ctx context.Context) error {
	if _, err := tx.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLockKey)); err != nil {
		return fmt.Errorf("issuance database: %w", err)
	}
	return nil
}

// CheckIdentity makes sure a database belongs to the CA whose identity
// (the SHA-256 of its issuing CA certificate, Identity) is given, when it
// records one: a home pointed at another CA's database is refused.
func (db *DB) CheckIdentity(ctx context.Context, identity, home string) error {
	var fp []string
	if err := db.x.SelectContext(ctx, &fp, `SELECT value FROM certmint_meta WHERE key = 'issuing_ca'`); err != nil {
		return fmt.Errorf("issuance database %s: %w", db.url, err)
	}
	if len(fp) > 0 && fp[0] != "pending" && fp[0] != identity {
		return &OtherCAError{URL: db.url, Home: home}
	}
	return nil
}

// SetIdentity records the CA the database belongs to.
func (db *DB) SetIdentity(ctx context.Context, identity string) error {
	return setMeta(ctx, db.x, "issuing_ca", identity)
}

// Identity is how a database names its CA: the SHA-256 of the issuing CA
// certificate.
func Identity(issuing *x509.Certificate) string {
	sum := sha256.Sum256(issuing.Raw)
	return hex.EncodeToString(sum[:])
}

// dataSummary describes the certmint rows a database holds, "" for none.
func (db *DB) dataSummary(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	var parts []string
	for _, t := range []struct{ table, what string }{
		{"certificates", "certificates"}, {"ocsp_responses", "OCSP responses"},
		{"crl_numbers", "CRL numbers"}, {"audit_log", "audit events"},
	} {
		var n int64
		if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM `+t.table); err != nil {
			return "", fmt.Errorf("issuance database %s: %w", db.url, err)
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, t.what))
		}
	}
	var fp []string
	if err := sqlx.SelectContext(ctx, q, &fp, `SELECT value FROM certmint_meta WHERE key = 'issuing_ca'`); err != nil {
		return "", fmt.Errorf("issuance database %s: %w", db.url, err)
	}
	switch {
	case len(fp) > 0 && fp[0] == "pending":
		parts = append(parts, "the claim of a `certmint init` that has not finished; if none is running, "+
			"DELETE FROM certmint_meta WHERE key = 'issuing_ca' releases it")
	case len(fp) > 0:
		parts = append(parts, "the identity of a CA")
	}
	return strings.Join(parts, ", "), nil
}

// setMeta records a key of certmint_meta.
func setMeta(ctx context.Context, x execer, key, value string) error {
	_, err := x.ExecContext(ctx, x.Rebind(`INSERT INTO certmint_meta(key, value) VALUES(?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`), key, value)
	if err != nil {
		return fmt.Errorf("issuance database: %w", err)
	}
	return nil
}

func (tx *Tx) setMeta(ctx context.Context, key, value string) error {
	return setMeta(ctx, tx.tx, key, value)
}

// Wipe empties the tables a failed init filled: the database was checked
// empty before (Claim), so this restores it.
func (db *DB) Wipe() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db.x.ExecContext(ctx, `TRUNCATE ocsp_responses, certificates, crl_numbers, audit_log`)
	db.x.ExecContext(ctx, `DELETE FROM certmint_meta WHERE key <> 'schema_version'`)
}

// Claim makes sure a PostgreSQL database has certmint's tables (creating
// or migrating them) and holds no certmint data, and marks it as taken
// (issuing_ca = "pending") so that a second init at the same moment finds
// it in use. Init replaces the mark with the new CA's identity
// (SetIdentity), or wipes the database when it fails (Wipe).
func (db *DB) Claim(ctx context.Context) error {
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error {
		if err := tx.lockSchema(ctx); err != nil {
			return err
		}
		if what, err := db.dataSummary(ctx, tx.tx); err != nil {
			return err
		} else if what != "" {
			return &DatabaseInUseError{URL: db.url, What: what}
		}
		return tx.setMeta(ctx, "issuing_ca", "pending")
	})
}
