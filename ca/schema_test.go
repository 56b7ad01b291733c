package ca

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

// v1Password opens the CA keys of testdata/v1-home.
func v1Password() (string, error) { return "v1-fixture-password", nil }

// v1Made is when testdata/v1-home was made: doctor judges it as of a day
// later, so its 7-day CRL is fresh whenever the test runs.
var v1Made = time.Date(2026, 12, 6, 15, 45, 0, 0, time.UTC)

// TestV1HomeMigrates: a home made before schema migrations existed (version
// 1, no CRL index) is migrated when today's certmint opens it, keeps every
// row, gets the index, and doctor finds nothing wrong.
func TestV1HomeMigrates(t *testing.T) {
	home := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir("testdata/v1-home/pki", home); err != nil {
		t.Fatal(err)
	}
	before := indexes(t, home)
	if before["certificates_revoked"] {
		t.Fatal("the version-1 fixture already has the CRL index")
	}
	s, err := Open(home, v1Password)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if v, err := s.DB.SchemaVersion(ctx); err != nil || v != store.LatestVersion(false) {
		t.Fatalf("schema version %d (%v) after opening, want %d", v, err, store.LatestVersion(false))
	}
	if !indexes(t, home)["certificates_revoked"] {
		t.Error("migration 2 did not add the CRL index")
	}
	recs, err := s.List(ctx, ListOptions{CAs: true, Now: v1Made})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, r := range recs {
		states[r.CN] = r.State(v1Made)
	}
	if len(recs) != 3 || states["www.v1.test"] != "valid" || states["old.v1.test"] != "revoked" || states["V1 Issuing CA"] != "valid" {
		t.Errorf("records after migration: %v", states)
	}
	// doctor's verdict on it is doctor.TestV1HomeClean.
	// A second open changes nothing: the migration ran once.
	s2, err := Open(home, v1Password)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

// TestNewerSchemaRefused: a database a newer certmint migrated is refused
// with a hint, and left as it was.
func TestNewerSchemaRefused(t *testing.T) {
	s := newHome(t)
	next := store.LatestVersion(s.DB.Postgres()) + 1
	if _, err := rawX(s).Exec(rawX(s).Rebind(`UPDATE certmint_meta SET value = ? WHERE key = 'schema_version'`), fmt.Sprint(next)); err != nil {
		t.Fatal(err)
	}
	home := s.Home
	s.Close()
	_, err := reopen(home, testCAPassword)
	var ne *store.NewerSchemaError
	if !errors.As(err, &ne) || ne.Version != next {
		t.Fatalf("Open of a version-%d database: %v, want a *store.NewerSchemaError", next, err)
	}
}

// indexes lists the indexes of a home's SQLite database, read as the file
// is (store.OpenSQLite would migrate it).
func indexes(t *testing.T, home string) map[string]bool {
	t.Helper()
	x, err := sqlx.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(home, DBFile))+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var names []string
	if err := x.Select(&names, `SELECT name FROM sqlite_master WHERE type = 'index'`); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}
