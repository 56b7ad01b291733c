// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by CERTMINT_TEST_DATABASE_URL, dropped when the test ends. Without
// that variable the test is skipped, or fails when CERTMINT_REQUIRE_POSTGRES
// is 1 (as .ci/run sets it).
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Environment variables.
const (
	URLEnv     = "CERTMINT_TEST_DATABASE_URL"
	RequireEnv = "CERTMINT_REQUIRE_POSTGRES"
)

// Schema creates an empty schema named prefix_<random> and returns the test
// URL with search_path set to it.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv(URLEnv)
	if base == "" && os.Getenv(RequireEnv) == "1" {
		t.Fatal(URLEnv + " is not set, and " + RequireEnv + "=1 forbids skipping the PostgreSQL tests")
	}
	if base == "" {
		t.Skip(URLEnv + " is not set: the PostgreSQL tests need a server (.ci/run starts one), e.g. " +
			URLEnv + "=postgres://certmint:PASSWORD@127.0.0.1:5432/certmint_test")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + name); err != nil {
		admin.Close()
		t.Fatalf("creating schema %s on the test server: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
