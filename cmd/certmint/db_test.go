package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/ca"
)

// The PostgreSQL options refuse bad input before touching anything and
// without a server: a password bound for certmint.toml, a URL that is not
// postgres://, two URLs that disagree, a server that does not answer.
// (Runs against a real server are in ca/pg_test.go and
// interop/postgres_test.go.)
func TestCLIDatabaseRefusals(t *testing.T) {
	initArgs := []string{"--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://pki.cli.test", "--key", "ecdsa:P-256"}
	tests := []struct {
		name   string
		args   []string // "HOME" is replaced
		env    string   // CERTMINT_DATABASE_URL
		code   int
		stderr []string
	}{
		{name: "init: password in --database-url", args: append([]string{"init", "--home", "NEW", "--database-url", "postgres://ca:s3cret@db.example.com/certmint"}, initArgs...),
			code: 2, stderr: []string{"--database-url holds a password", "hint: give the URL without the password", ca.DatabaseURLEnv, "~/.pgpass", "PGPASSWORD"}},
		{name: "init: password parameter", args: append([]string{"init", "--home", "NEW", "--database-url", "postgres://ca@db.example.com/certmint?password=s3cret"}, initArgs...),
			code: 2, stderr: []string{"--database-url holds a password"}},
		{name: "init: not postgres", args: append([]string{"init", "--home", "NEW", "--database-url", "mysql://ca@db.example.com/certmint"}, initArgs...),
			code: 2, stderr: []string{"is not a postgres:// URL"}},
		{name: "init: flag and environment disagree", args: append([]string{"init", "--home", "NEW", "--database-url", "postgres://ca@db.example.com/certmint"}, initArgs...),
			env: "postgres://ca:s3cret@other.example.com/certmint", code: 2, stderr: []string{"name different databases"}},
		{name: "migrate: no --to", args: []string{"db", "migrate", "--home", "HOME"}, code: 2, stderr: []string{"--to is required"}},
		{name: "migrate: password in --to", args: []string{"db", "migrate", "--home", "HOME", "--to", "postgres://ca:s3cret@db.example.com/certmint"},
			code: 2, stderr: []string{"--to holds a password", ca.DatabaseURLEnv}},
		{name: "migrate: no server", args: []string{"db", "migrate", "--home", "HOME", "--to", "postgres://ca@127.0.0.1:1/certmint?connect_timeout=5"},
			env: "postgres://ca:s3cret@127.0.0.1:1/certmint?connect_timeout=5", code: 1, stderr: []string{"cannot connect to postgres://ca@127.0.0.1:1/certmint", "hint:"}},
		{name: "migrate: no CA", args: []string{"db", "migrate", "--home", "NEW", "--to", "postgres://ca@127.0.0.1:1/certmint"}, code: 1, stderr: []string{"no CA in"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(ca.DatabaseURLEnv, tc.env)
			t.Setenv("CERTMINT_CA_PASSWORD", caPW)
			home := newHome(t)
			fresh := filepath.Join(t.TempDir(), "pki")
			before := snapshot(t, home)
			var args []string
			for _, a := range tc.args {
				args = append(args, strings.NewReplacer("HOME", home, "NEW", fresh).Replace(a))
			}
			code, _, stderr := runCLI(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("a message shows the password:\n%s", stderr)
			}
			if after := snapshot(t, home); after != before {
				t.Errorf("the home changed:\n%s---\n%s", before, after)
			}
			if _, err := os.Stat(fresh); err == nil {
				t.Error("a refused command created a home")
			}
		})
	}
}

// A password written into certmint.toml by hand is refused, not used.
func TestCLIDatabasePasswordInConfig(t *testing.T) {
	t.Setenv(ca.DatabaseURLEnv, "")
	home := newHome(t)
	cfgPath := filepath.Join(home, ca.ConfigFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), `url = ""`, `url = "postgres://ca:s3cret@db.example.com/certmint"`, 1))
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "list", "--home", home)
	if code != 1 || !strings.Contains(stderr, "database.url holds a password") || strings.Contains(stderr, "s3cret") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
}
