package ca

import (
	"context"
	"crypto/x509"
	"path/filepath"

	"github.com/certmint/certmint/store"
)

// DBFile is the SQLite database in the home.
const DBFile = "certmint.db"

// The issuance database's types, as ca's callers use them (package store
// owns the SQL).
type (
	// Record is one issued certificate as the database knows it.
	Record = store.Record
	// Metadata is what certmint records of how a certificate was issued.
	Metadata = store.Metadata
	// Event is one entry of the audit trail.
	Event = store.Event
)

// issuingCATemplate is the template name recorded for the issuing CA.
const issuingCATemplate = store.IssuingCATemplate

// DatabaseURLEnv names the environment variable in which the command line
// takes the issuance database's URL (WithDatabaseURL). It overrides
// certmint.toml's [database] url, and unlike the file it may hold the
// password. Package ca reads no environment.
const DatabaseURLEnv = store.DatabaseURLEnv

// OpenOption changes how Open opens a home.
type OpenOption func(*openOptions)

type openOptions struct {
	databaseURL string
}

// WithDatabaseURL gives the URL of the home's PostgreSQL database, password
// included: it overrides certmint.toml's [database] url, which never holds
// a password. An empty url changes nothing.
func WithDatabaseURL(url string) OpenOption {
	return func(o *openOptions) { o.databaseURL = url }
}

// openHomeDB opens the issuance database of a home: the PostgreSQL
// database named by dbURL (WithDatabaseURL) or else by certmint.toml's
// [database] url, or the SQLite file certmint.db when neither is set. Its
// schema is brought to this certmint's version; a PostgreSQL database
// must hold certmint's tables and, when it records one, this CA's
// identity.
func openHomeDB(home string, cfg *Config, issuing *x509.Certificate, dbURL string) (*store.DB, error) {
	ctx := context.Background()
	if dbURL == "" {
		dbURL = cfg.Database.URL
	}
	if dbURL == "" {
		return store.OpenSQLite(ctx, filepath.Join(home, DBFile), false)
	}
	db, err := store.OpenPostgres(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	// Whose database it is is checked before anything is migrated: a home
	// pointed at another CA's database must not change it.
	err = func() error {
		if v, err := db.SchemaVersion(ctx); err != nil {
			return err
		} else if v == 0 {
			return &store.NoSchemaError{URL: db.URL()}
		}
		if err := db.CheckIdentity(ctx, store.Identity(issuing), home); err != nil {
			return err
		}
		_, err := db.Upgrade(ctx)
		return err
	}()
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
