package metrics

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/pgtest"
	"github.com/certmint/certmint/internal/promtest"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

const testPassword = "metrics-test-ca-password"

// fixtureHome is a CA made once, 60 days ago (so a certificate can have
// expired under it); tests work on copies.
var fixtureHome string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certmint-metrics-test-")
	if err != nil {
		panic(err)
	}
	fixtureHome = filepath.Join(dir, "pki")
	// The fixture is SQLite; a CERTMINT_DATABASE_URL given for
	// BenchmarkScrapeScale's home on PostgreSQL is for that home only.
	dbURL, dbURLSet := os.LookupEnv(ca.DatabaseURLEnv)
	os.Unsetenv(ca.DatabaseURLEnv)
	s, err := ca.Init(context.Background(), ca.InitOptions{
		Home: fixtureHome, RootCN: "Metrics Root CA", IssuingCN: "Metrics Issuing CA",
		BaseURL: "http://pki.metrics.test/pki", Org: "Test Org", Country: "US",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}, Password: testPassword,
		Now: time.Now().Add(-60 * 24 * time.Hour),
	})
	if err != nil {
		panic(err)
	}
	// Init's CRLs were signed 60 days ago and have expired: sign today's.
	if _, err := s.PublishCRLs(context.Background(), time.Now()); err != nil {
		panic(err)
	}
	s.Close()
	if dbURLSet {
		os.Setenv(ca.DatabaseURLEnv, dbURL)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testCAPassword() (string, error) { return testPassword, nil }

// newHome copies the fixture and opens it; with postgres, its database is
// moved onto a fresh PostgreSQL schema first (skipped without a server).
func newHome(t *testing.T, postgres bool) *ca.Store {
	t.Helper()
	var dbURL string
	if postgres {
		dbURL = pgtest.Schema(t, "certmint_metrics")
	}
	home := filepath.Join(t.TempDir(), "pki")
	if err := testkit.CopyDir(fixtureHome, home); err != nil {
		t.Fatal(err)
	}
	if postgres {
		if _, err := ca.MoveToPostgres(context.Background(), ca.MoveOptions{Home: home, To: dbURL}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := ca.Open(home, testCAPassword, ca.WithDatabaseURL(dbURL))
	if err != nil {
		t.Fatal(err)
	}
	if s.DB.Postgres() != postgres {
		t.Fatalf("home on PostgreSQL: %v, want %v", s.DB.Postgres(), postgres)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var templateCache sync.Map

func ecdsaTemplate(t *testing.T, name string) *templates.Template {
	t.Helper()
	if v, ok := templateCache.Load(name); ok {
		return v.(*templates.Template)
	}
	tm, err := templates.Parse(name+".toml", []byte(testkit.ECDSAClientTemplate(name, "crt", "key")))
	if err != nil {
		t.Fatal(err)
	}
	templateCache.Store(name, tm)
	return tm
}

// issue issues cn from template tmpl for days, as if at now.
func issue(t *testing.T, s *ca.Store, tmpl, cn string, days int, now time.Time) *ca.Issued {
	t.Helper()
	res, err := s.Issue(context.Background(), ca.IssueRequest{Template: ecdsaTemplate(t, tmpl), Subject: pkix.Name{CommonName: cn},
		SANs: []san.Name{{Kind: san.DNS, Value: cn}}, Days: days, Out: t.TempDir(), Now: now})
	if err != nil {
		t.Fatalf("issuing %s: %v", cn, err)
	}
	return res
}

// series lists the label sets of name, as "k=v,k=v" sorted.
func series(fams map[string]*dto.MetricFamily, name string) []string {
	var out []string
	if f := fams[name]; f != nil {
		for _, m := range f.Metric {
			var kv []string
			for _, l := range m.Label {
				kv = append(kv, l.GetName()+"="+l.GetValue())
			}
			out = append(out, strings.Join(kv, ","))
		}
	}
	sort.Strings(out)
	return out
}

// TestScrapeHome is the acceptance test of issue 14 item 4: /metrics of a
// real home, parsed with expfmt, carries the right values.
func TestScrapeHome(t *testing.T) { testScrapeHome(t, false) }

// TestScrapeHomePostgres is the same on PostgreSQL, whose count query
// differs (metadata->>'template').
func TestScrapeHomePostgres(t *testing.T) { testScrapeHome(t, true) }

func testScrapeHome(t *testing.T, postgres bool) {
	s := newHome(t, postgres)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	day := 24 * time.Hour
	issue(t, s, "web", "a.metrics.test", 365, now)
	revoked := issue(t, s, "web", "b.metrics.test", 365, now)
	issue(t, s, "sensor", "c.metrics.test", 10, now)              // expiring within 30 days
	issue(t, s, "sensor", "d.metrics.test", 20, now.Add(-40*day)) // expired 20 days ago
	issue(t, s, "sensor", "e.metrics.test", 90, now)
	if _, err := s.Revoke(ctx, revoked.Cert.SerialNumber, 1, now); err != nil {
		t.Fatal(err)
	}

	m := New(Options{Dir: s.PublicDir(), Prefix: "/pki", Store: s, Version: "1.2.3", Now: func() time.Time { return now }})
	site := &crl.Handler{Dir: s.PublicDir(), Prefix: "/pki"}
	srv := httptest.NewServer(m.Mux(site))
	defer srv.Close()

	requests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/pki/" + s.Issuing.Slug + ".crl", 200},
		{"GET", "/" + s.Root.Slug + ".crl", 200},
		{"HEAD", "/" + s.Root.Slug + ".crl.pem", 200},
		{"GET", "/pki/" + s.Root.Slug + ".crt", 200},
		{"GET", "/" + s.Issuing.Slug + ".cer", 200},
		{"GET", "/pki/", 200},
		{"GET", "/nothing.crl", 404},
		{"GET", "/favicon.ico", 404},
		{"GET", "/robots.txt", 404},
		{"POST", "/pki/ocsp", 405}, // no OCSP responder in this handler: counted all the same
	}
	for _, r := range requests {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != r.want {
			t.Fatalf("%s %s: %d, want %d", r.method, r.path, resp.StatusCode, r.want)
		}
	}

	fams := promtest.Scrape(t, srv.URL+Path)
	type want struct {
		name   string
		labels []string
		value  float64
	}
	var wants []want
	for _, a := range []struct {
		auth *ca.Authority
		role string
	}{{s.Root, "root"}, {s.Issuing, "issuing"}} {
		l := []string{"ca=" + a.auth.Slug, "role=" + a.role}
		rl, err := crl.ReadFile(filepath.Join(s.PublicDir(), a.auth.Slug+".crl"))
		if err != nil {
			t.Fatal(err)
		}
		entries := 0
		if a.role == "issuing" {
			entries = 1
		}
		wants = append(wants,
			want{"certmint_ca_certificate_time_to_expiry_seconds", l, a.auth.Cert.NotAfter.Sub(now).Seconds()},
			want{"certmint_ca_certificate_not_after_timestamp_seconds", l, float64(a.auth.Cert.NotAfter.Unix())},
			want{"certmint_crl_published", l, 1},
			want{"certmint_crl_time_to_next_update_seconds", l, rl.NextUpdate.Sub(now).Seconds()},
			want{"certmint_crl_next_update_timestamp_seconds", l, float64(rl.NextUpdate.Unix())},
			want{"certmint_crl_this_update_timestamp_seconds", l, float64(rl.ThisUpdate.Unix())},
			want{"certmint_crl_revoked_entries", l, float64(entries)},
		)
	}
	wants = append(wants,
		want{"certmint_certificates", []string{"template=web", "state=valid"}, 1},
		want{"certmint_certificates", []string{"template=web", "state=revoked"}, 1},
		want{"certmint_certificates", []string{"template=web", "state=expired"}, 0},
		want{"certmint_certificates", []string{"template=sensor", "state=valid"}, 2},
		want{"certmint_certificates", []string{"template=sensor", "state=revoked"}, 0},
		want{"certmint_certificates", []string{"template=sensor", "state=expired"}, 1},
		want{"certmint_certificates_expiring_within_30_days", []string{"template=web"}, 0},
		want{"certmint_certificates_expiring_within_30_days", []string{"template=sensor"}, 1},
		want{"certmint_database_up", nil, 1},
		want{"certmint_build_info", []string{"version=1.2.3"}, 1},
		want{"certmint_http_requests_total", []string{"kind=crl", "code=200"}, 3},
		want{"certmint_http_requests_total", []string{"kind=crl", "code=404"}, 1},
		want{"certmint_http_requests_total", []string{"kind=ca_certificate", "code=200"}, 2},
		want{"certmint_http_requests_total", []string{"kind=index", "code=200"}, 1},
		want{"certmint_http_requests_total", []string{"kind=other", "code=404"}, 2},
		want{"certmint_http_requests_total", []string{"kind=ocsp", "code=405"}, 1},
	)
	for _, w := range wants {
		got, ok := promtest.Sample(fams, w.name, w.labels...)
		if !ok {
			t.Errorf("%s{%s}: missing; the series are %v", w.name, strings.Join(w.labels, ","), series(fams, w.name))
			continue
		}
		// Timestamps are written with sub-second digits; a second is the
		// resolution of what certificates and CRLs hold.
		if math.Abs(got-w.value) > 1 {
			t.Errorf("%s{%s} = %v, want %v", w.name, strings.Join(w.labels, ","), got, w.value)
		}
	}
	// Nothing else: no series for a state or kind that did not happen,
	// none for the issuing CA's own record, no scrape counted.
	if got, want := series(fams, "certmint_http_requests_total"), []string{
		"code=200,kind=ca_certificate", "code=200,kind=crl", "code=200,kind=index", "code=404,kind=crl",
		"code=404,kind=other", "code=405,kind=ocsp"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("request series %v, want %v", got, want)
	}
	if got := series(fams, "certmint_certificates"); len(got) != 6 {
		t.Errorf("certificate series %v, want 3 states of 2 templates", got)
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s missing: the Go and process collectors are not registered", name)
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		prefix, path, want string
	}{
		{"/pki", "/pki/contoso-issuing-ca.crl", KindCRL},
		{"/pki", "/contoso-issuing-ca.crl", KindCRL},
		{"", "/contoso-root-ca.crl.pem", KindCRL},
		{"/pki", "/pki/contoso-root-ca.crt", KindCACertificate},
		{"", "/contoso-root-ca.cer", KindCACertificate},
		{"pki/", "/pki/contoso-issuing-ca-chain.pem", KindCACertificate},
		{"", "/", KindIndex},
		{"", "", KindIndex},
		{"", "/index.html", KindIndex},
		{"/pki", "/pki", KindIndex},
		{"/pki", "/pki/", KindIndex},
		{"/pki", "/pki/index.html", KindIndex},
		{"", "/ocsp", KindOCSP},
		{"/pki", "/pki/ocsp", KindOCSP},
		{"/pki", "/pki/ocsp/MEowSDBGMEQwQjAJBgUrDgMCGgUABBQ", KindOCSP},
		{"", "/ocsp/MEow//SDBG+MEQ=", KindOCSP}, // base64 may hold "//"
		{"", "/ocsp/x.crl", KindOCSP},
		{"", "/notocsp", KindOther},
		{"", "/ocspx/y", KindOther},
		{"", "/favicon.ico", KindOther},
		{"/pki", "/other/", KindOther},
		{"", "/contoso-root-ca.key", KindOther},
		{"", "/metrics", KindOther},
	}
	for _, tc := range tests {
		if got := Kind(tc.prefix, tc.path); got != tc.want {
			t.Errorf("Kind(%q, %q) = %q, want %q", tc.prefix, tc.path, got, tc.want)
		}
	}
}

// TestMux: the site gets every path as sent, "//" and "/../" included
// (an http.ServeMux would answer 301 to a cleaned path, which breaks OCSP
// GET requests), and scrapes of /metrics are not counted as requests.
func TestMux(t *testing.T) {
	var seen []string
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path)
		if strings.HasPrefix(r.URL.Path, "/ocsp") {
			w.Header().Set("Content-Type", "application/ocsp-response")
			w.Write([]byte("ok"))
			return
		}
		http.NotFound(w, r)
	})
	m := New(Options{Dir: t.TempDir()})
	srv := httptest.NewServer(m.Mux(site))
	defer srv.Close()
	paths := []string{"/ocsp/MEow//SDBG+MEQ=", "/ocsp/a/../b", "/x//y.crl"}
	for _, p := range paths {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		resp, err := http.DefaultTransport.RoundTrip(req) // no redirect following
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusMovedPermanently {
			t.Errorf("GET %s was redirected to %s", p, resp.Header.Get("Location"))
		}
	}
	if strings.Join(seen, " ") != strings.Join(paths, " ") {
		t.Errorf("the site saw %q, want %q", seen, paths)
	}
	promtest.Scrape(t, srv.URL+Path)
	fams := promtest.Scrape(t, srv.URL+Path)
	if got := series(fams, "certmint_http_requests_total"); strings.Join(got, " ") != "code=200,kind=ocsp code=404,kind=crl" {
		t.Errorf("request series %v", got)
	}
	if v, _ := promtest.Sample(fams, "certmint_http_requests_total", "kind=ocsp", "code=200"); v != 2 {
		t.Errorf("ocsp requests %v, want 2", v)
	}
}

// TestScrapeDir is serve --dir without a home: the CAs and CRLs of the
// folder, their roles told by the folder's hierarchy, and no counts.
func TestScrapeDir(t *testing.T) {
	s := newHome(t, false)
	dir := filepath.Join(t.TempDir(), "www")
	if err := testkit.CopyDir(s.PublicDir(), dir); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m := New(Options{Dir: dir, Now: func() time.Time { return now }})
	srv := httptest.NewServer(m.Mux(&crl.Handler{Dir: dir}))
	defer srv.Close()
	fams := promtest.Scrape(t, srv.URL+Path)
	want := []string{"ca=" + s.Issuing.Slug + ",role=issuing", "ca=" + s.Root.Slug + ",role=root"}
	for _, name := range []string{"certmint_ca_certificate_time_to_expiry_seconds", "certmint_crl_published", "certmint_crl_time_to_next_update_seconds"} {
		if got := series(fams, name); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s series %v, want %v", name, got, want)
		}
	}
	rl, err := crl.ReadFile(filepath.Join(dir, s.Issuing.Slug+".crl"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := promtest.Sample(fams, "certmint_crl_time_to_next_update_seconds", "ca="+s.Issuing.Slug); math.Abs(v-rl.NextUpdate.Sub(now).Seconds()) > 0.001 {
		t.Errorf("issuing CRL: %v s to nextUpdate, want %v", v, rl.NextUpdate.Sub(now).Seconds())
	}
	for _, name := range []string{"certmint_certificates", "certmint_certificates_expiring_within_30_days", "certmint_database_up"} {
		if _, ok := fams[name]; ok {
			t.Errorf("%s is there without a home", name)
		}
	}
}

// TestCRLChanges: a republished CRL is read again, though its parse is
// kept between scrapes; a missing one, one signed by another key and a
// link out of the folder are reported as not published.
func TestCRLChanges(t *testing.T) {
	s := newHome(t, false)
	ctx := context.Background()
	now := time.Now()
	m := New(Options{Dir: s.PublicDir(), Store: s, Now: func() time.Time { return now }})
	srv := httptest.NewServer(m.Mux(&crl.Handler{Dir: s.PublicDir()}))
	defer srv.Close()
	iss := "ca=" + s.Issuing.Slug
	crlPath := filepath.Join(s.PublicDir(), s.Issuing.Slug+".crl")
	nextUpdate := func() float64 {
		t.Helper()
		rl, err := crl.ReadFile(crlPath)
		if err != nil {
			t.Fatal(err)
		}
		return float64(rl.NextUpdate.Unix())
	}
	check := func(step string, published float64, next float64) {
		t.Helper()
		fams := promtest.Scrape(t, srv.URL+Path)
		if v, ok := promtest.Sample(fams, "certmint_crl_published", iss); !ok || v != published {
			t.Errorf("%s: certmint_crl_published %v (present %v), want %v", step, v, ok, published)
		}
		v, ok := promtest.Sample(fams, "certmint_crl_next_update_timestamp_seconds", iss)
		if published == 0 && ok {
			t.Errorf("%s: a nextUpdate (%v) for a CRL that is not published", step, v)
		}
		if published == 1 && (!ok || math.Abs(v-next) > 1) {
			t.Errorf("%s: nextUpdate %v, want %v", step, v, next)
		}
	}
	check("first scrape", 1, nextUpdate())
	check("cached", 1, nextUpdate())
	if _, err := s.PublishCRL(ctx, s.Issuing, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("republished an hour later", 1, nextUpdate())
	rootCRL, err := os.ReadFile(filepath.Join(s.PublicDir(), s.Root.Slug+".crl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crlPath, rootCRL, 0o644); err != nil {
		t.Fatal(err)
	}
	check("signed by the root", 0, 0)
	os.Remove(crlPath)
	check("missing", 0, 0)
	outside := filepath.Join(t.TempDir(), "elsewhere.crl")
	os.WriteFile(outside, rootCRL, 0o644)
	if err := os.Symlink(outside, crlPath); err != nil {
		t.Fatal(err)
	}
	check("a link out of the folder", 0, 0)
	os.Remove(crlPath)
	if _, err := s.PublishCRL(ctx, s.Issuing, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("published again", 1, nextUpdate())
}

// TestDatabaseDown: a database that stops answering is certmint_database_up
// 0, without counts, logged once however many scrapes see it.
func TestDatabaseDown(t *testing.T) {
	s := newHome(t, false)
	var mu sync.Mutex
	var logged []string
	m := New(Options{Dir: s.PublicDir(), Store: s, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(f, a...))
	}})
	srv := httptest.NewServer(m.Mux(&crl.Handler{Dir: s.PublicDir()}))
	defer srv.Close()
	if v, _ := promtest.Sample(promtest.Scrape(t, srv.URL+Path), "certmint_database_up"); v != 1 {
		t.Fatalf("certmint_database_up %v before the database closed", v)
	}
	s.DB.Close()
	for range 3 {
		fams := promtest.Scrape(t, srv.URL+Path)
		if v, ok := promtest.Sample(fams, "certmint_database_up"); !ok || v != 0 {
			t.Errorf("certmint_database_up %v (present %v), want 0", v, ok)
		}
		if _, ok := fams["certmint_certificates"]; ok {
			t.Error("certificate counts without a database")
		}
		if _, ok := fams["certmint_crl_published"]; !ok {
			t.Error("the CRL metrics went with the database")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 1 || !strings.Contains(logged[0], "certmint_database_up is 0") {
		t.Errorf("logged %q, want one line", logged)
	}
}

// TestConcurrentScrapes gathers from several goroutines while requests are
// counted and a CRL is republished (make test-race runs it under the race
// detector); the /metrics handler itself lets two scrapes in at once and
// answers the others 503.
func TestConcurrentScrapes(t *testing.T) {
	s := newHome(t, false)
	m := New(Options{Dir: s.PublicDir(), Store: s})
	srv := httptest.NewServer(m.Mux(&crl.Handler{Dir: s.PublicDir()}))
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if i%2 == 0 {
					if _, err := m.Registry().Gather(); err != nil {
						t.Error(err)
					}
					continue
				}
				resp, err := http.Get(srv.URL + "/" + s.Issuing.Slug + ".crl")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for i := range 3 {
		if _, err := s.PublishCRL(context.Background(), s.Issuing, time.Now().Add(time.Duration(i)*time.Minute)); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	if v, _ := promtest.Sample(promtest.Scrape(t, srv.URL+Path), "certmint_http_requests_total", "kind=crl", "code=200"); v != 15 {
		t.Errorf("%v CRL requests counted, want 15", v)
	}
}
