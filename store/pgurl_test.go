package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactDatabaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://ca:s3cret@db.example.com:5432/certmint", "postgres://ca@db.example.com:5432/certmint"},
		{"postgresql://ca@db.example.com/certmint?sslmode=verify-full", "postgresql://ca@db.example.com/certmint?sslmode=verify-full"},
		{"postgres://db.example.com/certmint?password=s3cret&sslmode=require", "postgres://db.example.com/certmint?sslmode=require"},
		{"host=db password=s3cret", "(a database connection string that is not a URL)"},
	}
	for _, tc := range tests {
		if got := RedactDatabaseURL(tc.in); got != tc.want {
			t.Errorf("RedactDatabaseURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewDatabaseURL(t *testing.T) {
	tests := []struct {
		name                  string
		given, env            string
		connect, record, fail string
	}{
		{name: "flag only", given: "postgres://ca@db/certmint", connect: "postgres://ca@db/certmint", record: "postgres://ca@db/certmint"},
		{name: "environment only, password kept out of the record", env: "postgres://ca:pw@db/certmint",
			connect: "postgres://ca:pw@db/certmint", record: "postgres://ca@db/certmint"},
		{name: "both, the environment has the password", given: "postgres://ca@db/certmint", env: "postgres://ca:pw@db/certmint",
			connect: "postgres://ca:pw@db/certmint", record: "postgres://ca@db/certmint"},
		{name: "password in the flag", given: "postgres://ca:pw@db/certmint", fail: "database-url holds a password"},
		{name: "password parameter in the flag", given: "postgres://ca@db/certmint?password=pw", fail: "database-url holds a password"},
		{name: "different databases", given: "postgres://ca@db/certmint", env: "postgres://ca:pw@db/other", fail: "name different databases"},
		{name: "not postgres", given: "mysql://ca@db/certmint", fail: "not a postgres:// URL"},
		{name: "environment not postgres", env: "sqlite:///x.db", fail: DatabaseURLEnv + ": database URL"},
		{name: "neither", fail: "database-url is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			connect, record, err := NewDatabaseURL(tc.given, tc.env)
			if tc.fail != "" {
				var ue *URLError
				if err == nil || !strings.Contains(err.Error(), tc.fail) || !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error with %q", err, tc.fail)
				}
				if strings.Contains(err.Error(), ":pw@") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil || connect != tc.connect || record != tc.record {
				t.Errorf("= %q, %q, %v; want %q, %q", connect, record, err, tc.connect, tc.record)
			}
		})
	}
}

// TestSQLitePathCharacters: a database under a folder whose name holds URI
// characters opens that file, not another one.
func TestSQLitePathCharacters(t *testing.T) {
	for _, name := range []string{"C# tools", "a?b", "100% done", "plain"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "certmint.db")
			db, err := OpenSQLite(context.Background(), path, true)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			db, err = OpenSQLite(context.Background(), path, false)
			if err != nil {
				t.Fatalf("reopening %s: %v", path, err)
			}
			defer db.Close()
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if !strings.HasPrefix(e.Name(), "certmint.db") {
					t.Errorf("another file appeared beside the database: %s", e.Name())
				}
			}
		})
	}
}
