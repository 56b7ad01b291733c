package ca

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/store"
)

// MoveOptions move a home's issuance database from SQLite to PostgreSQL.
type MoveOptions struct {
	Home string
	// To is the URL to connect with; it may hold a password (from
	// CERTMINT_DATABASE_URL). Record is what certmint.toml gets: the URL
	// without a password (see NewDatabaseURL).
	To, Record string
	Now        time.Time
}

// TableCount is the number of rows of one table, in the source and, after
// the copy, in the target.
type TableCount = store.TableCount

// MoveResult is what a move to PostgreSQL copied and checked.
type MoveResult struct {
	URL    string       `json:"url"`    // the database certmint.toml now names (no password)
	Tables []TableCount `json:"tables"` // rows copied, equal on both sides
	// Checksum is the SHA-256 of every certificate's serial, AKI, status
	// and reason, sorted: the same on both sides.
	Checksum string `json:"checksum"`
	Backup   string `json:"backup"` // certmint.db, left as it was
	Config   string `json:"config"` // certmint.toml, rewritten
}

// AlreadyOnPostgresError is a home whose certmint.toml already names a
// PostgreSQL database.
type AlreadyOnPostgresError struct{ Config, URL string }

func (e *AlreadyOnPostgresError) Error() string {
	return fmt.Sprintf("%s already uses the PostgreSQL database %s; nothing was changed", e.Config, e.URL)
}

// HintText implements the CLI's hint interface.
func (e *AlreadyOnPostgresError) HintText() string {
	return "db migrate moves a home's SQLite database (certmint.db) once; to use another server, copy the database with pg_dump and change [database] url"
}

// MoveToPostgres moves the home's SQLite issuance database onto an empty
// PostgreSQL database (`certmint db migrate --to`): every row, in one
// PostgreSQL transaction that commits only after the row counts and a
// checksum of the serials match the source and a "migrate" audit event is
// added (store.CopyToPostgres). Then certmint.toml is rewritten
// (atomically) to name the database; certmint.db is left untouched as a
// backup. A target that holds certmint data is refused, and so is a home
// that already uses PostgreSQL. The SQLite database stays write-locked
// from the first read until certmint.toml names the new database, so no
// issuance on this host falls between the two.
func MoveToPostgres(ctx context.Context, o MoveOptions) (*MoveResult, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	home := filepath.Clean(o.Home)
	cfgPath := filepath.Join(home, ConfigFile)
	if _, err := os.Stat(cfgPath); err != nil {
		return nil, &NotFoundError{Home: home}
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if cfg.Database.URL != "" {
		return nil, &AlreadyOnPostgresError{Config: cfgPath, URL: cfg.Database.URL}
	}
	issuing, err := loadAuthority(home, cfg.Issuing.Slug)
	if err != nil {
		return nil, err
	}
	if o.Record == "" {
		o.Record = store.RedactDatabaseURL(o.To)
	}
	dbPath := filepath.Join(home, DBFile)
	src, err := store.OpenSQLite(ctx, dbPath, false)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := store.OpenPostgres(ctx, o.To)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	res := &MoveResult{URL: o.Record, Backup: dbPath, Config: cfgPath}
	event := func(c store.Copied) Event {
		var counts []string
		for _, tc := range c.Tables {
			counts = append(counts, fmt.Sprintf("%s %d", tc.Table, tc.Rows))
		}
		return Event{Action: "migrate", CALabel: cfg.Root.Slug + "," + cfg.Issuing.Slug,
			Detail: fmt.Sprintf("from SQLite %s to %s: %s; serial checksum %s", dbPath, o.Record, strings.Join(counts, ", "), c.Checksum)}
	}
	switchOver := func(c store.Copied) error {
		res.Tables, res.Checksum = c.Tables, c.Checksum
		cfg.Database.URL = o.Record
		data, err := cfg.Encode()
		if err == nil {
			err = fsutil.WriteFile(cfgPath, data, fsutil.ModePublic, true)
		}
		if err != nil {
			return fmt.Errorf("the data is in %s, but %s could not be switched to it: %w (add [database] url = %q by hand)", o.Record, cfgPath, err, o.Record)
		}
		return nil
	}
	if _, err := store.CopyToPostgres(ctx, src, dst, store.Identity(issuing.Cert), event, switchOver); err != nil {
		if res.Tables != nil {
			return res, err
		}
		return nil, err
	}
	return res, nil
}
