package doctor

import (
	"context"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

const testPassword = "test-ca-password"

func testCAPassword() (string, error) { return testPassword, nil }

// fixtureHome is a CA made once per test run; tests work on copies.
var fixtureHome string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certmint-doctor-test-")
	if err != nil {
		panic(err)
	}
	fixtureHome = filepath.Join(dir, "pki")
	s, err := ca.Init(context.Background(), ca.InitOptions{
		Home: fixtureHome, RootCN: "Test Root CA", IssuingCN: "Test Issuing CA",
		BaseURL: "http://pki.test.example:8080/pki", Org: "Test Org", Country: "US",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}, IssuingKey: keys.Spec{Type: "ecdsa", Curve: "P-256"},
		Password: testPassword,
	})
	if err != nil {
		panic(err)
	}
	s.Close()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newHome copies the fixture CA into a fresh folder and opens it.
func newHome(t testing.TB) *ca.Store {
	t.Helper()
	home := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir(fixtureHome, home); err != nil {
		t.Fatal(err)
	}
	s, err := ca.Open(home, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ecdsaTemplate parses testkit's client template with ECDSA P-256 keys.
func ecdsaTemplate(t testing.TB, name string, formats ...string) *templates.Template {
	t.Helper()
	tm, err := templates.Parse(name+".toml", []byte(testkit.ECDSAClientTemplate(name, formats...)))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func subj(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

// rawX is the home's database for tests that read or corrupt rows
// directly; doctor itself goes through package store's methods.
func rawX(s *ca.Store) *sqlx.DB {
	driver := "sqlite"
	if s.DB.Postgres() {
		driver = "pgx"
	}
	return sqlx.NewDb(s.DB.RawSQL(), driver)
}

// batchRun is what one batch reported.
type batchRun struct {
	results []ca.BatchResult
	err     error
}

func (r batchRun) count(pred func(ca.BatchResult) bool) int {
	n := 0
	for _, res := range r.results {
		if pred(res) {
			n++
		}
	}
	return n
}

// runBatch issues the CSV data as `certmint batch` does.
func runBatch(t *testing.T, ctx context.Context, s *ca.Store, opts ca.BatchOptions, data string, stopAfter int) batchRun {
	t.Helper()
	rd, err := batch.NewReader(strings.NewReader(data), opts.Template)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var run batchRun
	run.err = s.IssueBatch(ctx, opts, rd.Next, func(r ca.BatchResult) {
		mu.Lock()
		defer mu.Unlock()
		run.results = append(run.results, r)
		if stopAfter > 0 && len(run.results) == stopAfter {
			cancel() // as Ctrl-C would
		}
	})
	return run
}

func countCerts(t testing.TB, s *ca.Store) int {
	t.Helper()
	var n int
	if err := rawX(s).Get(&n, `SELECT count(*) FROM certificates`); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustTemplate(t testing.TB, name string) *templates.Template {
	t.Helper()
	tm, err := templates.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
