// Package store is certmint's issuance database: every SQL statement
// certmint runs, for SQLite (the file certmint.db in a CA home) and
// PostgreSQL (a database several hosts share), behind named methods. Its
// schema is a list of numbered migrations per backend (migrations/),
// applied in order when a database is opened. Nothing outside this
// package sees the SQL driver or sqlx.
//
// The certificates table is cfssl's certdb schema, and new certificates are
// inserted through cfssl's certdb Accessor (or its exact statement inside a
// transaction), so cfssl's tools read a certmint database.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	cfsql "github.com/cloudflare/cfssl/certdb/sql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // pure-Go SQLite: certmint builds with CGO disabled
)

func init() {
	// sqlx knows "sqlite3" but not modernc's "sqlite"; its placeholders are "?".
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// DB is an open issuance database.
type DB struct {
	x        *sqlx.DB
	certs    *cfsql.Accessor
	postgres bool
	url      string

	stmtMu sync.Mutex
	status *sql.Stmt // CertStatuses' prepared statement (ocsp.go)
}

// URL names the database in messages: the SQLite file's path, or the
// PostgreSQL URL without its password.
func (db *DB) URL() string { return db.url }

// Postgres reports a PostgreSQL database (else SQLite).
func (db *DB) Postgres() bool { return db.postgres }

// Files are the files that hold the database on this host, for checks of
// their permissions: certmint.db and its -wal and -shm files for SQLite,
// none for PostgreSQL.
func (db *DB) Files() []string {
	if db.postgres {
		return nil
	}
	return []string{db.url, db.url + "-wal", db.url + "-shm"}
}

// Close closes the database (on SQLite, checkpointing its WAL).
func (db *DB) Close() error {
	if db.status != nil {
		db.status.Close()
	}
	return db.x.Close()
}

// RawSQL is the database/sql handle, for tests that corrupt or inspect rows
// directly (doctor's, the crash harness's). certmint itself calls the
// named methods.
func (db *DB) RawSQL() *sql.DB { return db.x.DB }

// sqliteDSN opens path in WAL mode (readers never block the writer) with a
// long busy timeout and IMMEDIATE transactions, so concurrent certmint
// processes wait for each other instead of failing with "database is locked".
// Timestamps are stored in SQLite's format so cfssl's "CURRENT_TIMESTAMP <
// expiry" comparisons are sound.
//
// The path is a URI path here: "%", "?" and "#" in it are escaped, so a home
// under a folder named "C# tools" opens its own certmint.db, not a new one.
func sqliteDSN(path string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + p +
		"?_time_format=sqlite&_txlock=immediate" +
		"&_pragma=busy_timeout(60000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
}

// OpenSQLite opens the SQLite database at path, creating it when create is
// set, and brings its schema to this certmint's version (Migrate). A
// database made by a newer certmint is refused (*NewerSchemaError).
func OpenSQLite(ctx context.Context, path string, create bool) (*DB, error) {
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
	db := &DB{x: x, certs: cfsql.NewAccessor(x), url: path}
	upgrade := db.Upgrade
	if create {
		upgrade = db.Migrate
	}
	if _, err := upgrade(ctx); err != nil {
		x.Close()
		return nil, err
	}
	return db, nil
}

// Tx is a write transaction: every statement a certmint operation makes
// atomic runs on one. On SQLite it holds the database's write lock from
// its first statement (IMMEDIATE); on PostgreSQL, row locks as taken.
type Tx struct {
	tx       *sqlx.Tx
	postgres bool
}

// InTx runs fn in one transaction, committed when fn returns nil and
// rolled back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("issuance database: %w", err)
	}
	defer tx.Rollback()
	if err := fn(&Tx{tx: tx, postgres: db.postgres}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("issuance database: %w", err)
	}
	return nil
}

// execer is what a statement runs on: the database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	Rebind(string) string
}

// queryer reads, on the database or in a transaction.
type queryer interface {
	sqlx.QueryerContext
	Rebind(string) string
}
