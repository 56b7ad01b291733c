package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/pgtest"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

// v1BundleFolder is where the version-1 home's bundles were written.
const v1BundleFolder = "/tmp/v1/out/"

// TestV1HomeClean: the version-1 home of ca/testdata (made before schema
// migrations existed), opened and so migrated by today's certmint, has
// nothing doctor would report, as of a day after it was made.
func TestV1HomeClean(t *testing.T) {
	home := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir("../ca/testdata/v1-home/pki", home); err != nil {
		t.Fatal(err)
	}
	// git keeps no modes: give the copy the ones certmint gave the home.
	for path, mode := range map[string]os.FileMode{
		".": 0o700, "certmint.db": 0o600, "v1-root-ca": 0o700, "v1-issuing-ca": 0o700,
		"v1-root-ca/ca.key": 0o600, "v1-issuing-ca/ca.key": 0o600,
	} {
		if err := os.Chmod(filepath.Join(home, path), mode); err != nil {
			t.Fatal(err)
		}
	}
	s, err := ca.Open(home, func() (string, error) { return "v1-fixture-password", nil })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	made := time.Date(2026, 12, 6, 15, 45, 0, 0, time.UTC)
	r := runDoctor(t, s, Options{Now: made.Add(24 * time.Hour)})
	for _, f := range r.Findings {
		// The home records its bundles where they were written when it was
		// made, /tmp/v1/out (ca/testdata/v1-home/README.md); they are not
		// part of the fixture, and a test cannot own that shared path, so
		// what doctor says of them depends on the machine, not the
		// migration.
		if strings.HasPrefix(f.Path, v1BundleFolder) {
			continue
		}
		t.Errorf("doctor: %s: %s", f.Kind, f.Problem)
	}
	if r.SchemaVersion != store.LatestVersion(false) {
		t.Errorf("doctor reports schema version %d, want %d", r.SchemaVersion, store.LatestVersion(false))
	}
}

// TestRevokedIssuingCA: doctor reports an issuing CA that was revoked: it
// can issue nothing more, and no repair brings it back.
func TestRevokedIssuingCA(t *testing.T) {
	s := newHome(t)
	if _, err := s.RevokeCA(context.Background(), s.Issuing.Cert.SerialNumber, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := runDoctor(t, s, Options{Repair: true})
	f := findingsOf(r, KindCAUnusable)
	if len(f) != 1 || f[0].Repairable || f[0].Hint == "" {
		t.Errorf("want one unrepairable ca-unusable finding with a hint: %s", describe(r))
	}
}

// TestPostgresV1Clean: a shared PostgreSQL database moved back to schema
// version 1 is migrated when its home is opened, and doctor finds nothing
// wrong.
func TestPostgresV1Clean(t *testing.T) {
	dbURL := pgtest.Schema(t, "certmint_doctor")
	home := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir(fixtureHome, home); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.MoveToPostgres(context.Background(), ca.MoveOptions{Home: home, To: dbURL}); err != nil {
		t.Fatal(err)
	}
	s, err := ca.Open(home, testCAPassword, ca.WithDatabaseURL(dbURL))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP INDEX certificates_revoked`,
		`CREATE INDEX certificates_revoked ON certificates(ca_label) WHERE status = 'revoked'`,
		`ALTER TABLE certificates DROP COLUMN released_at`,
		`UPDATE certmint_meta SET value = '1' WHERE key = 'schema_version'`,
	} {
		if _, err := rawX(s).Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = ca.Open(home, testCAPassword, ca.WithDatabaseURL(dbURL))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := runDoctor(t, s, Options{})
	for _, f := range r.Findings {
		t.Errorf("doctor: %s: %s", f.Kind, f.Problem)
	}
	if r.SchemaVersion != store.LatestVersion(true) {
		t.Errorf("schema version %d, want %d", r.SchemaVersion, store.LatestVersion(true))
	}
}
