package interop

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", to create and inspect the test schemas

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/pgtest"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

// pgSchema creates an empty schema in the test database, dropped when the
// test ends, and returns the test URL with search_path set to it, and a
// connection for checks.
func pgSchema(t *testing.T) (string, *sql.DB) {
	t.Helper()
	u := pgtest.Schema(t, "certmint_interop")
	// The checks read the schema through the same URL.
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return u, db
}

// ecdsaTemplate is a user template for client certificates with ECDSA
// P-256 keys: issuance costs a fraction of a millisecond, so the test
// measures the database, not RSA key generation.
var ecdsaTemplate = testkit.ECDSAClientTemplate("shared-ecdsa", "crt", "key")

// pgEnv is certmint's environment for a home whose database is dbURL.
func pgEnv(home, dbURL string) []string {
	return append(certmintEnv(home), ca.DatabaseURLEnv+"="+dbURL)
}

// TestPostgresTwoHosts is the shared CA of issue 6: two hosts (two copies
// of one CA home) on one PostgreSQL database. On each host one
// `certmint batch` process issues 200 certificates while, at the same
// time, `certmint revoke` processes revoke every 8th certificate as soon
// as its bundle is in place (25 per host, 50 in all) and `certmint crl`
// republishes now and then. Every command must succeed without a word on
// stderr; the 400 serials must be distinct; the CRL numbers each host gets
// must strictly increase, never repeat across hosts, and follow the audit
// trail's order; and the next CRL must list exactly the 50 revoked
// certificates.
func TestPostgresTwoHosts(t *testing.T) {
	dbURL, db := pgSchema(t)
	const perHost, revokeEvery, crlEvery = 200, 8, 10 // 25 revocations per host

	dir := t.TempDir()
	homeA := filepath.Join(dir, "host-a", "pki")
	start := time.Now()
	r := execute(pgEnv(homeA, dbURL), "", certmintBin, "init", "--database-url", store.RedactDatabaseURL(dbURL),
		"--root-cn", "Shared Root CA", "--issuing-cn", "Shared Issuing CA", "--base-url", "http://pki.shared.test",
		"--key", "ecdsa:P-256", "--json")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("init on PostgreSQL:\n%s", r)
	}
	cfg, err := os.ReadFile(filepath.Join(homeA, ca.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), store.RedactDatabaseURL(dbURL)) {
		t.Errorf("certmint.toml does not name the database:\n%s", cfg)
	}
	if u, _ := url.Parse(dbURL); u != nil {
		if pw, ok := u.User.Password(); ok && strings.Contains(string(cfg), pw) {
			t.Fatal("certmint.toml holds the database password")
		}
	}
	homeB := filepath.Join(dir, "host-b", "pki")
	if err := testkit.CopyDir(homeA, homeB); err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, "shared-ecdsa.toml")
	if err := os.WriteFile(tmpl, []byte(ecdsaTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	issuingSlug := ca.Slug("Shared Issuing CA")

	type host struct {
		mu              sync.Mutex // failures and commands: both goroutines of the host
		name, home, out string
		serials         []string // in the order the batch reported them
		revoked         []string
		numbers         []int64 // issuing CA CRL numbers, in the order the commands ended
		failures        []string
		commands        int
	}
	hosts := []*host{{name: "a", home: homeA}, {name: "b", home: homeB}}
	var wg sync.WaitGroup
	for _, h := range hosts {
		h.out = filepath.Join(dir, "host-"+h.name, "bundles")
		if err := os.MkdirAll(h.out, 0o755); err != nil {
			t.Fatal(err)
		}
		var csv strings.Builder
		csv.WriteString("cn\n")
		for i := 0; i < perHost; i++ {
			fmt.Fprintf(&csv, "host-%s-%03d.shared.test\n", h.name, i)
		}
		input := filepath.Join(dir, "host-"+h.name, "rows.csv")
		if err := os.WriteFile(input, []byte(csv.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		env := pgEnv(h.home, dbURL)
		fail := func(format string, args ...any) {
			h.mu.Lock()
			h.failures = append(h.failures, fmt.Sprintf(format, args...))
			h.mu.Unlock()
		}
		count := func() { h.mu.Lock(); h.commands++; h.mu.Unlock() }
		toRevoke := make(chan string, perHost)
		wg.Add(2)
		go func() { // the batch process
			defer wg.Done()
			defer close(toRevoke)
			count()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, certmintBin, "batch", "--template", tmpl, "--input", input, "--out", h.out, "--jobs", "1", "--json")
			cmd.Env = append(cleanEnv(), env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				fail("batch: %v", err)
				return
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Every 8th bundle is revoked while the batch goes on, as soon
			// as its folder is in place (a row's folder appears complete,
			// in one rename); --json reports the rows when the batch ends.
			next := 0
			offer := func() {
				for ; next < perHost; next += revokeEvery {
					cn := fmt.Sprintf("host-%s-%03d.shared.test", h.name, next)
					crt := filepath.Join(h.out, cn, cn+".crt")
					if _, err := os.Stat(crt); err != nil {
						return
					}
					toRevoke <- crt
				}
			}
			var err error
		running:
			for {
				select {
				case err = <-exited:
					break running
				case <-time.After(20 * time.Millisecond):
					offer()
				}
			}
			offer()
			if err != nil || stderr.Len() > 0 {
				fail("batch: %v\n%s", err, stderr.String())
				return
			}
			var doc struct {
				Rows []struct {
					Line   int    `json:"line"`
					Status string `json:"status"`
					Serial string `json:"serial"`
					Error  string `json:"error"`
				} `json:"rows"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				fail("batch printed %q (%v)", stdout.String(), err)
				return
			}
			for _, row := range doc.Rows {
				if row.Status != "issued" || row.Serial == "" {
					fail("batch line %d: %s %s", row.Line, row.Status, row.Error)
					continue
				}
				h.serials = append(h.serials, row.Serial)
			}
		}()
		go func() { // revoke and crl processes, one at a time on this host
			defer wg.Done()
			crlNumber := func(r result) (serial string) {
				var out struct {
					Serial string `json:"serial"`
					Number int64  `json:"crl_number"`
				}
				if r.Code != 0 || r.Stderr != "" || json.Unmarshal([]byte(r.Stdout), &out) != nil || out.Number == 0 {
					fail("%s", r)
					return ""
				}
				h.numbers = append(h.numbers, out.Number)
				return out.Serial
			}
			for crt := range toRevoke {
				count()
				r := execute(env, "", certmintBin, "revoke", "--reason", "keyCompromise", "--json", "--cert", crt)
				if serial := crlNumber(r); serial != "" {
					h.revoked = append(h.revoked, serial)
				}
				if len(h.revoked)%crlEvery == 0 {
					count()
					r := execute(env, "", certmintBin, "crl", "--json")
					var pubs struct {
						CRLs []struct {
							CA     string `json:"ca"`
							Number int64  `json:"number"`
						} `json:"crls"`
					}
					if r.Code != 0 || r.Stderr != "" || json.Unmarshal([]byte(r.Stdout), &pubs) != nil {
						fail("%s", r)
						continue
					}
					for _, p := range pubs.CRLs {
						if p.CA == issuingSlug {
							h.numbers = append(h.numbers, p.Number)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	all := map[string]string{}
	byNumber := map[int64]string{}
	var revoked []string
	commands := 0
	for _, h := range hosts {
		for _, f := range h.failures {
			t.Errorf("host %s: %s", h.name, f)
		}
		commands += h.commands
		if len(h.serials) != perHost {
			t.Errorf("host %s: the batch issued %d certificates, want %d", h.name, len(h.serials), perHost)
		}
		for _, s := range h.serials {
			if other, dup := all[s]; dup {
				t.Errorf("serial %s issued on host %s and host %s", s, other, h.name)
			}
			all[s] = h.name
		}
		for i, n := range h.numbers {
			if i > 0 && n <= h.numbers[i-1] {
				t.Errorf("host %s: CRL number %d after %d", h.name, n, h.numbers[i-1])
			}
			if other, dup := byNumber[n]; dup {
				t.Errorf("CRL number %d published by host %s and host %s", n, other, h.name)
			}
			byNumber[n] = h.name
		}
		revoked = append(revoked, h.revoked...)
		// The host's public/ file never went backwards: it carries the
		// highest number the host published.
		if rl, err := crl.ReadFile(filepath.Join(h.home, ca.PublicDir, issuingSlug+".crl")); err != nil {
			t.Error(err)
		} else if len(h.numbers) > 0 && rl.Number.Int64() != h.numbers[len(h.numbers)-1] {
			t.Errorf("host %s: public CRL has number %v, the host's last publication was %d", h.name, rl.Number, h.numbers[len(h.numbers)-1])
		}
	}
	if len(all) != 2*perHost {
		t.Errorf("%d distinct serials, want %d", len(all), 2*perHost)
	}
	wantRevoked := 2 * ((perHost + revokeEvery - 1) / revokeEvery)
	if len(revoked) != wantRevoked {
		t.Errorf("%d revocations, want %d", len(revoked), wantRevoked)
	}

	// The audit trail, shared by both hosts, shows the issuing CA's CRL
	// numbers strictly increasing in the order they were committed.
	rows, err := db.Query(`SELECT detail FROM audit_log WHERE action = 'crl' AND ca_label = $1 ORDER BY id`, issuingSlug)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	audited := 0
	re := regexp.MustCompile(`^CRL number (\d+),`)
	for rows.Next() {
		var d string
		rows.Scan(&d)
		m := re.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("crl audit event %q", d)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if n <= last {
			t.Errorf("audit trail: CRL number %d after %d", n, last)
		}
		last = n
		audited++
	}
	rows.Close()
	var certs, revokedRows int
	db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE status = 'revoked') FROM certificates WHERE ca_label = $1`, issuingSlug).Scan(&certs, &revokedRows)
	if certs != 2*perHost || revokedRows != wantRevoked {
		t.Errorf("database: %d certificates of the issuing CA, %d revoked; want %d and %d", certs, revokedRows, 2*perHost, wantRevoked)
	}

	// The next CRL, from host B, lists exactly the revoked certificates.
	r = execute(pgEnv(homeB, dbURL), "", certmintBin, "crl", "--json")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("final crl:\n%s", r)
	}
	rl, err := crl.ReadFile(filepath.Join(homeB, ca.PublicDir, issuingSlug+".crl"))
	if err != nil {
		t.Fatal(err)
	}
	var onCRL []string
	for _, e := range rl.RevokedCertificateEntries {
		onCRL = append(onCRL, ca.SerialHex(e.SerialNumber))
		if e.ReasonCode != 1 {
			t.Errorf("CRL entry %s: reason %d, want 1 (keyCompromise)", ca.SerialHex(e.SerialNumber), e.ReasonCode)
		}
	}
	sort.Strings(onCRL)
	sort.Strings(revoked)
	if strings.Join(onCRL, ",") != strings.Join(revoked, ",") {
		t.Errorf("the next CRL lists %d serials, want the %d revoked ones", len(onCRL), len(revoked))
	}
	if rl.Number.Int64() != last+1 {
		t.Errorf("the next CRL has number %v, want %d (after the audit trail's last, %d)", rl.Number, last+1, last)
	}
	t.Logf("two hosts on one PostgreSQL database: %d certificates issued by 2 batch processes, %d revoked, %d CRL numbers (audit: %d crl events, last %d), %d certmint processes in %v; next CRL number %v with %d entries",
		len(all), len(revoked), len(byNumber), audited, last, commands+2, elapsed.Round(time.Millisecond), rl.Number, len(onCRL))
}

// cleanEnv is the test's environment without CERTMINT_ variables, as
// execute gives it to certmint.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			env = append(env, kv)
		}
	}
	return env
}

// TestPostgresDBMigrate moves a SQLite home onto PostgreSQL with
// `certmint db migrate`, then checks what it printed, the switched
// certmint.toml (no password), the kept certmint.db, the audit event, that
// the CA carries on from the database, and that a second migrate is
// refused.
func TestPostgresDBMigrate(t *testing.T) {
	dbURL, db := pgSchema(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "pki")
	sqliteEnv := certmintEnv(home)
	if r := execute(sqliteEnv, "", certmintBin, "init", "--root-cn", "Migrate Root", "--issuing-cn", "Migrate Issuing",
		"--base-url", "http://pki.migrate.test", "--key", "ecdsa:P-256"); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	tmpl := filepath.Join(dir, "shared-ecdsa.toml")
	os.WriteFile(tmpl, []byte(ecdsaTemplate), 0o644)
	var serials []string
	for i := 0; i < 3; i++ {
		r := execute(sqliteEnv, "", certmintBin, "issue", "--template", tmpl, "--cn", fmt.Sprintf("m%d.migrate.test", i), "--out", dir, "--json")
		var out issueJSON
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &out) != nil {
			t.Fatalf("%s", r)
		}
		serials = append(serials, out.Serial)
	}
	if r := execute(sqliteEnv, "", certmintBin, "revoke", serials[0]); r.Code != 0 {
		t.Fatalf("%s", r)
	}
	dbFile := filepath.Join(home, ca.DBFile)
	backup, _ := os.ReadFile(dbFile)

	// A password in --to is refused before anything is touched.
	withPW, _ := url.Parse(dbURL)
	withPW.User = url.UserPassword(withPW.User.Username(), "s3cret")
	r := execute(sqliteEnv, "", certmintBin, "db", "migrate", "--to", withPW.String())
	if r.Code != 2 || !strings.Contains(r.Stderr, "holds a password") || !strings.Contains(r.Stderr, ca.DatabaseURLEnv) {
		t.Errorf("--to with a password:\n%s", r)
	}

	// The URL without password in --to, the whole URL in the environment.
	// certificates: the issuing CA and 3 leaves; audit_log: init, its two
	// CRLs, 3 issues, a revocation and its CRL.
	r = execute(pgEnv(home, dbURL), "", certmintBin, "db", "migrate", "--to", store.RedactDatabaseURL(dbURL))
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("db migrate:\n%s", r)
	}
	for _, want := range []string{"certificates 4, ocsp_responses 0, crl_numbers 2, audit_log 8", "serial checksum:     sha256:",
		ca.ConfigFile + " now names the PostgreSQL database", dbFile + " is kept, unchanged, as a backup"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("db migrate does not say %q:\n%s", want, r)
		}
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'migrate' AND detail LIKE '%certificates 4%'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d migrate audit events, want 1", n)
	}
	cfg, _ := os.ReadFile(filepath.Join(home, ca.ConfigFile))
	if !strings.Contains(string(cfg), "url = \""+store.RedactDatabaseURL(dbURL)+"\"") || strings.Contains(string(cfg), "s3cret") {
		t.Errorf("certmint.toml after migrate:\n%s", cfg)
	}
	if after, _ := os.ReadFile(dbFile); !bytes.Equal(after, backup) {
		t.Error("certmint.db changed; it must stay as the backup")
	}

	// Another copy of the CA, still on SQLite, cannot move into the same
	// database.
	home2 := filepath.Join(dir, "pki2")
	testkit.CopyDir(home, home2)
	os.WriteFile(filepath.Join(home2, ca.ConfigFile), regexp.MustCompile(`(?m)^\s*url = ".*"$`).ReplaceAll(cfg, []byte(`url = ""`)), 0o644)
	r = execute(pgEnv(home2, dbURL), "", certmintBin, "db", "migrate", "--to", store.RedactDatabaseURL(dbURL))
	if r.Code != 1 || !strings.Contains(r.Stderr, "already holds certmint data") {
		t.Errorf("migrate into a database in use:\n%s", r)
	}

	// The CA carries on from PostgreSQL (certmint.db is no longer read).
	os.Rename(dbFile, dbFile+".moved")
	r = execute(pgEnv(home, dbURL), "", certmintBin, "list", "--json")
	var doc struct {
		Certificates []struct {
			Serial string `json:"serial"`
			Status string `json:"status"`
		} `json:"certificates"`
	}
	json.Unmarshal([]byte(r.Stdout), &doc)
	listed := doc.Certificates
	revokedListed := 0
	for _, l := range listed {
		if l.Status == "revoked" {
			revokedListed++
		}
	}
	if r.Code != 0 || len(listed) != 3 || revokedListed != 1 {
		t.Errorf("list after migrate:\n%s", r)
	}
	r = execute(pgEnv(home, dbURL), "", certmintBin, "revoke", "--json", serials[1])
	if r.Code != 0 || !strings.Contains(r.Stdout, `"crl_number":3`) {
		t.Errorf("revoke after migrate (CRL number 3 expected):\n%s", r)
	}
	os.Rename(dbFile+".moved", dbFile)

	// A second migrate of the same home is refused.
	r = execute(pgEnv(home, dbURL), "", certmintBin, "db", "migrate", "--to", store.RedactDatabaseURL(dbURL))
	if r.Code != 1 || !strings.Contains(r.Stderr, "already uses the PostgreSQL database") {
		t.Errorf("second migrate:\n%s", r)
	}
}
