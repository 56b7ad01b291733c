package ca

import (
	"context"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflare/cfssl/certdb"
	cfsql "github.com/cloudflare/cfssl/certdb/sql"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/pgtest"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

// freshSchema creates an empty schema in the test database, dropped when
// the test ends, and returns the test URL with search_path set to it.
func freshSchema(t testing.TB) string {
	t.Helper()
	return pgtest.Schema(t, "certmint_test")
}

// postgresTests marks the tests TestPostgres runs again on PostgreSQL:
// newHome gives them a home moved onto a fresh schema.
var postgresTests sync.Map // testing.TB -> bool

func onPostgres(t testing.TB) bool {
	_, ok := postgresTests.Load(t)
	return ok
}

// postgresURLs is the database URL (password included) of each home
// newPostgresHome made, for reopen.
var postgresURLs sync.Map // home -> URL

// reopen opens a test's home again: on PostgreSQL with its URL when
// newPostgresHome made it.
func reopen(home string, password func() (string, error)) (*Store, error) {
	if u, ok := postgresURLs.Load(home); ok {
		return Open(home, password, WithDatabaseURL(u.(string)))
	}
	return Open(home, password)
}

// pgURLOf is the database URL of a home made by newPostgresHome, "" for
// a SQLite home.
func pgURLOf(home string) string {
	if u, ok := postgresURLs.Load(home); ok {
		return u.(string)
	}
	return ""
}

// newPostgresHome copies the fixture CA and moves its database onto a
// fresh schema with Migrate. The URL (password included) reaches Open
// through WithDatabaseURL, as the command line passes
// CERTMINT_DATABASE_URL on a host of a shared CA; certmint.toml records it
// without the password.
func newPostgresHome(t testing.TB) *Store {
	t.Helper()
	dbURL := freshSchema(t)
	home := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir(fixtureHome, home); err != nil {
		t.Fatal(err)
	}
	if _, err := MoveToPostgres(context.Background(), MoveOptions{Home: home, To: dbURL}); err != nil {
		t.Fatal(err)
	}
	postgresURLs.Store(home, dbURL)
	t.Cleanup(func() { postgresURLs.Delete(home) })
	s, err := Open(home, testCAPassword, WithDatabaseURL(dbURL))
	if err != nil {
		t.Fatal(err)
	}
	if !s.DB.Postgres() {
		t.Fatal("the migrated home did not open on PostgreSQL")
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgres runs the storage tests again with the database on
// PostgreSQL: issue, refusals, revoke, CRL numbers, list and status,
// renew, batch issuance, the audit trail, and the concurrent publishers
// and issuers (separate Store instances, each with its own connections,
// as on separate hosts).
func TestPostgres(t *testing.T) {
	freshSchema(t) // skips without a server
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"InitLayout", TestInitLayout},
		{"IssueRefusals", TestIssueRefusals},
		{"LintGateRefusesWithoutExemption", TestLintGateRefusesWithoutExemption},
		{"RevokeAndCRL", TestRevokeAndCRL},
		{"RevokeErrors", TestRevokeErrors},
		{"Find", TestFind},
		{"RevokeIssuingCA", TestRevokeIssuingCA},
		{"Renew", TestRenew},
		{"RenewAlreadyRenewed", TestRenewAlreadyRenewed},
		{"ListAndStatus", TestListAndStatus},
		{"StatusAlerts", TestStatusAlerts},
		{"PublishCRLNumbersIncrease", TestPublishCRLNumbersIncrease},
		{"PublishCRLConcurrent", TestPublishCRLConcurrent},
		{"IssueConcurrent", TestIssueConcurrent},
		{"IssueBatch", TestIssueBatch},
		{"IssueBatchInterrupted", TestIssueBatchInterrupted},
		{"AuditLog", TestAuditLog},
		{"NewerSchemaRefused", TestNewerSchemaRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			postgresTests.Store(t, true)
			defer postgresTests.Delete(t)
			tc.fn(t)
		})
	}
}

// TestPostgresAccessor drives cfssl's certdb Accessor itself on the
// PostgreSQL schema, whose identifier columns are bytea while cfssl binds
// Go strings: what it writes, certmint's queries and its own read back.
func TestPostgresAccessor(t *testing.T) {
	s := newPostgresHome(t)
	ctx := context.Background()
	acc := cfsql.NewAccessor(rawX(s))
	res, err := s.Issue(ctx, IssueRequest{Template: ecdsaTemplate(t, "pg-ecdsa", "crt", "key"), Subject: subj("acc.example.com"), Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	serial, aki := res.Cert.SerialNumber.String(), hex.EncodeToString(res.Cert.AuthorityKeyId)

	// Stored as the bytes of the decimal text, as cfssl stores it.
	var raw []byte
	if err := rawX(s).Get(&raw, `SELECT serial_number FROM certificates WHERE serial_number = $1`, serial); err != nil {
		t.Fatal(err)
	}
	if string(raw) != serial {
		t.Errorf("serial_number holds %q, want the decimal text %q", raw, serial)
	}

	recs, err := acc.GetCertificate(serial, aki)
	if err != nil || len(recs) != 1 {
		t.Fatalf("GetCertificate: %d records, %v", len(recs), err)
	}
	r := recs[0]
	if r.Serial != serial || r.AKI != aki || r.CALabel != s.Issuing.Slug || r.Status != "good" || r.Expiry.Unix() != res.Cert.NotAfter.Unix() {
		t.Errorf("GetCertificate: %+v", r)
	}
	if meta, err := r.GetMetadata(); err != nil || meta["template"] != "pg-ecdsa" {
		t.Errorf("metadata %v (%v)", meta, err)
	}
	if sans, err := r.GetSANs(); err != nil || !slices.Equal(sans, []string{"acc.example.com"}) {
		t.Errorf("SANs %v (%v)", sans, err)
	}

	// A record inserted by cfssl itself, revoked by cfssl itself.
	other := certdb.CertificateRecord{Serial: "1234567890123456789", AKI: aki, CALabel: s.Issuing.Slug, Status: "good",
		Expiry: time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second), PEM: r.PEM}
	other.SetSANs([]string{"x.example.com"})
	other.SetMetadata(map[string]any{"template": "cfssl"})
	if err := acc.InsertCertificate(other); err != nil {
		t.Fatal(err)
	}
	if err := acc.RevokeCertificate(other.Serial, aki, 1); err != nil {
		t.Fatal(err)
	}
	revoked, err := acc.GetRevokedAndUnexpiredCertificatesByLabel(s.Issuing.Slug)
	if err != nil || len(revoked) != 1 || revoked[0].Serial != other.Serial || revoked[0].Reason != 1 || time.Since(revoked[0].RevokedAt) > time.Minute {
		t.Fatalf("GetRevokedAndUnexpiredCertificatesByLabel: %+v, %v", revoked, err)
	}
	if cols, err := acc.GetRevokedAndUnexpiredCertificatesByLabelSelectColumns(s.Issuing.Slug); err != nil || len(cols) != 1 {
		t.Errorf("…SelectColumns: %+v, %v", cols, err)
	}
	if all, err := acc.GetUnexpiredCertificates(); err != nil || len(all) != 3 { // issuing CA, ours, cfssl's
		t.Errorf("GetUnexpiredCertificates: %d, %v", len(all), err)
	}
	if err := acc.InsertOCSP(certdb.OCSPRecord{Serial: serial, AKI: aki, Body: "ocsp-body", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if o, err := acc.GetOCSP(serial, aki); err != nil || len(o) != 1 || o[0].Body != "ocsp-body" {
		t.Errorf("GetOCSP: %+v, %v", o, err)
	}

	// certmint reads what cfssl revoked: Lookup, List, and the CRL
	// (revoked_at as a timestamptz, serials as bytes).
	n, _ := new(big.Int).SetString(other.Serial, 10)
	rec, err := s.Lookup(ctx, n)
	if err != nil || rec.Status != "revoked" || rec.Reason != 1 || time.Since(rec.RevokedAt) > time.Minute {
		t.Fatalf("Lookup: %+v, %v", rec, err)
	}
	if recs, err := s.List(ctx, ListOptions{State: "revoked"}); err != nil || len(recs) != 1 {
		t.Errorf("List revoked: %d, %v", len(recs), err)
	}
	p, err := s.PublishCRL(ctx, s.Issuing, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rl, err := crl.ReadFile(p.Path)
	if err != nil || len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].SerialNumber.Cmp(n) != 0 ||
		rl.RevokedCertificateEntries[0].RevocationTime.Unix() != revoked[0].RevokedAt.Unix() {
		t.Fatalf("CRL: %+v, %v", rl, err)
	}
	// The unique-CN check decodes jsonb metadata (re-spaced by the server).
	if got, err := s.validSerialForCN(ctx, "pg-ecdsa", "acc.example.com", time.Now()); err != nil || got != res.Serial {
		t.Errorf("validSerialForCN = %q, %v; want %s", got, err, res.Serial)
	}
}

// crlNumberRe reads the number from a "crl" audit event's detail.
var crlNumberRe = regexp.MustCompile(`^CRL number (\d+),`)

// TestPostgresSharedCA is two hosts of one CA: two homes (copies) whose
// database is the same PostgreSQL schema, each with its own Store,
// issuing, revoking and publishing at the same time. Serials never
// collide, every CRL number is allocated once and in audit order, each
// host's CRL file carries the highest number that host published and
// lists every revocation it made, and the next CRL lists them all.
func TestPostgresSharedCA(t *testing.T) {
	a := newPostgresHome(t)
	homeB := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir(a.Home, homeB); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(homeB, DBFile)) // host B never had the SQLite file
	tm := ecdsaTemplate(t, "pg-ecdsa", "crt", "key")
	ctx := context.Background()
	const workers, each, revokeEvery, publishes = 2, 15, 3, 5

	type hostResult struct {
		serials []string
		revoked []string
		numbers []int64 // issuing CA CRL numbers this host got, in order, per worker
		maxNum  int64
		err     error
	}
	var mu sync.Mutex
	results := map[string]*hostResult{"a": {}, "b": {}}
	var wg sync.WaitGroup
	dbURL, _ := postgresURLs.Load(a.Home)
	for _, h := range []struct{ name, home string }{{"a", a.Home}, {"b", homeB}} {
		st, err := Open(h.home, testCAPassword, WithDatabaseURL(dbURL.(string)))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.UnlockAll(); err != nil {
			t.Fatal(err)
		}
		r := results[h.name]
		fail := func(err error) {
			mu.Lock()
			r.err = errors.Join(r.err, err)
			mu.Unlock()
		}
		got := func(p *PublishedCRL) {
			mu.Lock()
			r.numbers = append(r.numbers, p.Number)
			r.maxNum = max(r.maxNum, p.Number)
			mu.Unlock()
		}
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var last int64
				for i := 0; i < each; i++ {
					res, err := st.Issue(ctx, IssueRequest{Template: tm, Subject: pkix.Name{CommonName: fmt.Sprintf("%s-%d-%d.example.com", h.name, w, i)}, Out: t.TempDir()})
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					r.serials = append(r.serials, res.Serial)
					mu.Unlock()
					if i%revokeEvery != 0 {
						continue
					}
					rv, err := st.Revoke(ctx, res.Cert.SerialNumber, 4, time.Now())
					if err != nil {
						fail(err)
						return
					}
					if rv.CRL.Number <= last {
						fail(fmt.Errorf("host %s: CRL number %d after %d", h.name, rv.CRL.Number, last))
					}
					last = rv.CRL.Number
					mu.Lock()
					r.revoked = append(r.revoked, res.Serial)
					mu.Unlock()
					got(rv.CRL)
				}
			}()
		}
		wg.Add(1)
		go func() { // a third writer per host: `certmint crl` now and then
			defer wg.Done()
			for i := 0; i < publishes; i++ {
				p, err := st.PublishCRL(ctx, st.Issuing, time.Now())
				if err != nil {
					fail(err)
					return
				}
				got(p)
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Wait()

	all := map[string]bool{}
	numbers := map[int64]string{}
	var revoked []string
	for name, r := range results {
		if r.err != nil {
			t.Fatalf("host %s: %v", name, r.err)
		}
		for _, s := range r.serials {
			if all[s] {
				t.Errorf("serial %s issued twice", s)
			}
			all[s] = true
		}
		for _, n := range r.numbers {
			if numbers[n] != "" {
				t.Errorf("CRL number %d given to host %s and host %s", n, numbers[n], name)
			}
			numbers[n] = name
		}
		revoked = append(revoked, r.revoked...)
		// The host's file: its own highest number, its own revocations.
		home := map[string]string{"a": a.Home, "b": homeB}[name]
		rl, err := crl.ReadFile(filepath.Join(home, PublicDir, a.Issuing.Slug+".crl"))
		if err != nil {
			t.Fatal(err)
		}
		if rl.Number.Int64() != r.maxNum {
			t.Errorf("host %s: CRL file has number %v, the host's highest is %d", name, rl.Number, r.maxNum)
		}
		onCRL := map[string]bool{}
		for _, e := range rl.RevokedCertificateEntries {
			onCRL[SerialHex(e.SerialNumber)] = true
		}
		for _, s := range r.revoked {
			if !onCRL[s] {
				t.Errorf("host %s revoked %s, but its CRL %v does not list it", name, s, rl.Number)
			}
		}
	}
	if want := 2 * workers * each; len(all) != want {
		t.Errorf("%d distinct serials, want %d", len(all), want)
	}
	if n := countCerts(t, a); n != 2*workers*each+1 {
		t.Errorf("database holds %d certificates, want %d", n, 2*workers*each+1)
	}
	// In the audit trail (one sequence for both hosts), the issuing CA's
	// CRL numbers strictly increase: allocation and the audit row happen
	// under the same row lock.
	var details []string
	if err := rawX(a).Select(&details, `SELECT detail FROM audit_log WHERE action = 'crl' AND ca_label = $1 ORDER BY id`, a.Issuing.Slug); err != nil {
		t.Fatal(err)
	}
	var prev int64
	for _, d := range details {
		m := crlNumberRe.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("crl audit detail %q", d)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if n <= prev {
			t.Errorf("audit trail: CRL number %d after %d", n, prev)
		}
		prev = n
	}
	if len(details) < len(numbers) {
		t.Errorf("%d crl audit events for %d publications", len(details), len(numbers))
	}
	// The next CRL, from either host, lists every revocation.
	p, err := a.PublishCRL(ctx, a.Issuing, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p.Number != prev+1 || p.Entries != len(revoked) || len(revoked) != 2*workers*((each+revokeEvery-1)/revokeEvery) {
		t.Errorf("next CRL: number %d (want %d), %d entries, %d revoked", p.Number, prev+1, p.Entries, len(revoked))
	}
}

// TestPostgresMigrate moves a SQLite home with issued, revoked and
// published state onto PostgreSQL, then checks the copy, the audit
// event, the switched configuration, the untouched backup, that the CA
// carries on where it was, and that a second migration is refused.
func TestPostgresMigrate(t *testing.T) {
	dbURL := freshSchema(t)
	s := newHome(t) // SQLite
	ctx := context.Background()
	tm := ecdsaTemplate(t, "pg-ecdsa", "crt", "key")
	var serials []*big.Int
	for i := 0; i < 4; i++ {
		res, err := s.Issue(ctx, IssueRequest{Template: tm, Subject: subj(fmt.Sprintf("m%d.example.com", i)), Out: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, res.Cert.SerialNumber)
	}
	if _, err := s.Revoke(ctx, serials[1], 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	lastCRL, err := s.PublishCRL(ctx, s.Issuing, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, table := range []string{"certificates", "ocsp_responses", "crl_numbers", "audit_log"} {
		var n int64
		if err := rawX(s).Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		want[table] = n
	}
	s.Close()
	// Another copy of the same CA, still on SQLite, for the refusal below.
	other := newHome(t)
	other.Close()
	dbFile := filepath.Join(s.Home, DBFile)
	before, err := os.ReadFile(dbFile)
	if err != nil {
		t.Fatal(err)
	}

	res, err := MoveToPostgres(ctx, MoveOptions{Home: s.Home, To: dbURL, Record: store.RedactDatabaseURL(dbURL)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range res.Tables {
		if w, ok := want[tc.Table]; ok && tc.Rows != w {
			t.Errorf("%s: %d rows copied, SQLite had %d", tc.Table, tc.Rows, w)
		}
	}
	if len(res.Checksum) != len("sha256:")+64 {
		t.Errorf("checksum %q", res.Checksum)
	}
	after, _ := os.ReadFile(dbFile)
	if string(before) != string(after) || res.Backup != dbFile {
		t.Errorf("certmint.db changed or is not the backup (%s)", res.Backup)
	}
	cfg, err := LoadConfig(filepath.Join(s.Home, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.URL != store.RedactDatabaseURL(dbURL) || cfg.Database.URL != res.URL {
		t.Errorf("certmint.toml names %q, want %q", cfg.Database.URL, store.RedactDatabaseURL(dbURL))
	}

	m, err := Open(s.Home, testCAPassword, WithDatabaseURL(dbURL))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.DB.Postgres() {
		t.Fatal("the migrated home did not open on PostgreSQL")
	}
	for table, w := range want {
		var n int64
		if err := rawX(m).Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		if table == "audit_log" {
			w++ // the migrate event
		}
		if n != w {
			t.Errorf("%s: %d rows in PostgreSQL, want %d", table, n, w)
		}
	}
	var ev struct {
		ID     int64          `db:"id"`
		Detail sql.NullString `db:"detail"`
	}
	if err := rawX(m).Get(&ev, `SELECT id, detail FROM audit_log WHERE action = 'migrate'`); err != nil {
		t.Fatalf("migrate audit event: %v", err)
	}
	if !regexp.MustCompile(`certificates \d+, .*serial checksum sha256:`).MatchString(ev.Detail.String) {
		t.Errorf("migrate event detail %q", ev.Detail.String)
	}
	// The CA carries on: records and revocations read back, CRL numbers
	// continue, audit ids continue after the copied ones.
	rec, err := m.Lookup(ctx, serials[1])
	if err != nil || rec.Status != "revoked" || rec.CN != "m1.example.com" {
		t.Fatalf("Lookup after migrate: %+v, %v", rec, err)
	}
	p, err := m.PublishCRL(ctx, m.Issuing, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p.Number != lastCRL.Number+1 || p.Entries != 1 {
		t.Errorf("first CRL on PostgreSQL: number %d (want %d), %d entries", p.Number, lastCRL.Number+1, p.Entries)
	}
	var maxID int64
	rawX(m).Get(&maxID, `SELECT max(id) FROM audit_log`)
	if maxID <= ev.ID {
		t.Errorf("audit ids do not continue: crl event id %d, migrate event id %d", maxID, ev.ID)
	}

	// A second migration of the same home is refused...
	if _, err := MoveToPostgres(ctx, MoveOptions{Home: s.Home, To: dbURL}); !errors.As(err, new(*AlreadyOnPostgresError)) {
		t.Errorf("second migrate: %v, want AlreadyOnPostgresError", err)
	}
	// ...and so is another SQLite home into the database that is now in use,
	// which leaves that home as it was.
	cfgBefore, _ := os.ReadFile(filepath.Join(other.Home, ConfigFile))
	if _, err := MoveToPostgres(ctx, MoveOptions{Home: other.Home, To: dbURL}); !errors.As(err, new(*store.DatabaseInUseError)) {
		t.Errorf("migrate into a database in use: %v, want DatabaseInUseError", err)
	}
	if cfgAfter, _ := os.ReadFile(filepath.Join(other.Home, ConfigFile)); string(cfgAfter) != string(cfgBefore) {
		t.Error("a refused migrate changed certmint.toml")
	}
}

// TestPostgresInit creates a CA straight onto PostgreSQL, then checks
// that the configuration holds no password, that a second CA cannot take
// the same database, and that a home pointed at another CA's database is
// refused.
func TestPostgresInit(t *testing.T) {
	dbURL := freshSchema(t)
	other := newHome(t) // SQLite, another CA
	other.Close()
	ctx := context.Background()
	opts := func(home string) InitOptions {
		return InitOptions{Home: home, RootCN: "PG Root", IssuingCN: "PG Issuing", BaseURL: "http://pki.pg.test",
			RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}, Password: testPassword, DatabaseURL: dbURL}
	}
	home := filepath.Join(t.TempDir(), "pki")
	s, err := Init(ctx, opts(home))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.DB.Postgres() {
		t.Fatal("init did not use PostgreSQL")
	}
	if _, err := os.Stat(filepath.Join(home, DBFile)); err == nil {
		t.Error("init on PostgreSQL left a certmint.db")
	}
	cfg, err := LoadConfig(filepath.Join(home, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.URL != store.RedactDatabaseURL(dbURL) {
		t.Errorf("certmint.toml names %q, want %q", cfg.Database.URL, store.RedactDatabaseURL(dbURL))
	}
	if n := countCerts(t, s); n != 1 {
		t.Errorf("%d certificates after init, want 1", n)
	}

	home2 := filepath.Join(t.TempDir(), "pki")
	if _, err := Init(ctx, opts(home2)); !errors.As(err, new(*store.DatabaseInUseError)) {
		t.Fatalf("second init into the same database: %v, want DatabaseInUseError", err)
	}
	if _, err := os.Stat(home2); err == nil {
		t.Error("a refused init created its home")
	}
	if n := countCerts(t, s); n != 1 {
		t.Errorf("a refused init changed the database: %d certificates", n)
	}

	// Another CA's home pointed at this database is refused.
	if _, err := Open(other.Home, nil, WithDatabaseURL(dbURL)); !errors.As(err, new(*store.OtherCAError)) {
		t.Errorf("opening another CA's home on this database: %v, want store.OtherCAError", err)
	}
	// An empty database is not a CA.
	if _, err := Open(home, nil, WithDatabaseURL(freshSchema(t))); !errors.As(err, new(*store.NoSchemaError)) {
		t.Errorf("opening a home on an empty database: %v, want store.NoSchemaError", err)
	}
}

// TestPostgresV1Migrates: a shared database at schema version 1 (the CRL
// index on ca_label only) is migrated when a host opens its home, once
// (doctor.TestPostgresV1Clean: and doctor finds nothing wrong).
func TestPostgresV1Migrates(t *testing.T) {
	s := newPostgresHome(t)
	x := rawX(s)
	for _, q := range []string{
		`DROP INDEX certificates_revoked`,
		`CREATE INDEX certificates_revoked ON certificates(ca_label) WHERE status = 'revoked'`,
		`DROP INDEX certificates_unreleased`,
		`ALTER TABLE certificates DROP COLUMN released_at`,
		`UPDATE certmint_meta SET value = '1' WHERE key = 'schema_version'`,
	} {
		if _, err := x.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	home := s.Home
	s.Close()
	s2, err := reopen(home, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := context.Background()
	if v, err := s2.DB.SchemaVersion(ctx); err != nil || v != store.LatestVersion(true) {
		t.Fatalf("schema version %d (%v), want %d", v, err, store.LatestVersion(true))
	}
	var def string
	if err := rawX(s2).Get(&def, `SELECT indexdef FROM pg_indexes WHERE indexname = 'certificates_revoked' AND schemaname = current_schema()`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "serial_number") {
		t.Errorf("after migration the CRL index is %q, want the covering one", def)
	}
}
