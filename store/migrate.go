package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

// migrations holds the schema of each backend as numbered SQL files,
// NNNN_what.sql, applied in order. A released migration is never edited:
// a change is a new file. Hand-written (about sixty lines) rather than
// goose: certmint needs only "apply the missing ones, in one transaction,
// under the lock init already takes", and its version lives in the
// certmint_meta row that version 1 homes already have.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// migration is one numbered file.
type migration struct {
	version int
	name    string
	sql     string
}

func (db *DB) migrationsDir() string {
	if db.postgres {
		return "migrations/postgres"
	}
	return "migrations/sqlite"
}

// loadMigrations reads a backend's migrations in order.
func loadMigrations(dir string) ([]migration, error) {
	ents, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("store: migration %s is not named NNNN_what.sql", e.Name())
		}
		data, err := migrations.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations of %s skip from %d to %d", dir, i, m.version)
		}
	}
	return out, nil
}

// LatestVersion is the schema version this certmint writes.
func LatestVersion(postgres bool) int {
	db := &DB{postgres: postgres}
	ms, err := loadMigrations(db.migrationsDir())
	if err != nil {
		panic(err) // the embedded files are part of the program
	}
	return len(ms)
}

// NewerSchemaError is a database made or migrated by a newer certmint:
// this one does not know its tables and must not write to it.
type NewerSchemaError struct {
	URL           string
	Version, Know int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("issuance database %s has schema version %d; this certmint knows versions up to %d and changes nothing", e.URL, e.Version, e.Know)
}

// Migrated is what Migrate did.
type Migrated struct {
	From, To int
}

// Upgrade brings an existing certmint database to this certmint's schema,
// as opening a home does: nothing happens (and no write lock is taken)
// when it is current; a newer one is refused; a database without
// certmint's tables is *NoSchemaError.
func (db *DB) Upgrade(ctx context.Context) (Migrated, error) {
	v, err := db.readVersion(ctx)
	if err != nil {
		return Migrated{}, err
	}
	latest := LatestVersion(db.postgres)
	switch {
	case v == 0:
		return Migrated{}, &NoSchemaError{URL: db.url}
	case v > latest:
		return Migrated{}, &NewerSchemaError{URL: db.url, Version: v, Know: latest}
	case v == latest:
		return Migrated{From: v, To: v}, nil
	}
	return db.Migrate(ctx)
}

// readVersion reads the schema version outside a transaction, so opening a
// current database takes no write lock.
func (db *DB) readVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, db.x, db.postgres)
}

// Migrate brings the schema to this certmint's latest version: it applies
// the missing migrations in order, in one transaction, and records the new
// version in certmint_meta. A new database gets every migration; one at the
// latest version is left alone; a newer one is refused. On PostgreSQL the
// transaction holds the advisory lock init and db migrate take, so hosts
// opening a shared database at once migrate it once.
func (db *DB) Migrate(ctx context.Context) (Migrated, error) {
	ms, err := loadMigrations(db.migrationsDir())
	if err != nil {
		return Migrated{}, err
	}
	var done Migrated
	err = db.InTx(ctx, func(tx *Tx) error {
		if db.postgres {
			if err := tx.lockSchema(ctx); err != nil {
				return err
			}
		}
		v, err := tx.schemaVersion(ctx)
		if err != nil {
			return err
		}
		done = Migrated{From: v, To: v}
		if v > len(ms) {
			return &NewerSchemaError{URL: db.url, Version: v, Know: len(ms)}
		}
		for _, m := range ms[v:] {
			for _, stmt := range statements(m.sql) {
				if _, err := tx.tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("issuance database %s: migration %s: %w", db.url, m.name, err)
				}
			}
			done.To = m.version
		}
		if done.To == v {
			return nil
		}
		return tx.setMeta(ctx, "schema_version", strconv.Itoa(done.To))
	})
	return done, err
}

// SchemaVersion is the version the database records (0: none yet).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) { return db.readVersion(ctx) }

func (tx *Tx) schemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, tx.tx, tx.postgres)
}

// schemaVersion reads certmint_meta's schema_version; a database without
// the table is version 0.
func schemaVersion(ctx context.Context, q sqlx.QueryerContext, postgres bool) (int, error) {
	var exists bool
	var err error
	if postgres {
		err = sqlx.GetContext(ctx, q, &exists, `SELECT to_regclass('certmint_meta') IS NOT NULL`)
	} else {
		err = sqlx.GetContext(ctx, q, &exists, `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'certmint_meta'`)
	}
	if err != nil {
		return 0, fmt.Errorf("issuance database: reading the schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var s string
	err = sqlx.GetContext(ctx, q, &s, `SELECT value FROM certmint_meta WHERE key = 'schema_version'`)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("issuance database: reading the schema version: %w", err)
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("issuance database: schema version %q is not a number", s)
	}
	return v, nil
}

// statements splits a migration into statements: comments go first, as
// they may hold semicolons. A semicolon inside a $$-quoted body (a
// PL/pgSQL function's) does not end a statement.
func statements(src string) []string {
	var lines []string
	for _, l := range strings.Split(src, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var out []string
	var cur strings.Builder
	for i, part := range strings.Split(strings.Join(lines, "\n"), "$$") {
		if i%2 == 1 { // inside $$...$$
			cur.WriteString("$$" + part + "$$")
			continue
		}
		stmts := strings.Split(part, ";")
		for j, stmt := range stmts {
			cur.WriteString(stmt)
			if j < len(stmts)-1 {
				if strings.TrimSpace(cur.String()) != "" {
					out = append(out, cur.String())
				}
				cur.Reset()
			}
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}
