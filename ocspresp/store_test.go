package ocspresp

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/ocspload"
	"github.com/certmint/certmint/internal/pgtest"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

const testPassword = "ocspresp-test-password"

// home is a CA home (ECDSA P-256 CAs) with n client certificates, and a
// responder on its database; with dbURL, the database is PostgreSQL.
type home struct {
	s     *ca.Store
	r     *Responder
	certs []*x509.Certificate
}

func newHome(t testing.TB, n int, dbURL string) *home {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := ca.Init(ctx, ca.InitOptions{Home: filepath.Join(dir, "pki"), RootCN: "Resp Root CA", IssuingCN: "Resp Issuing CA",
		BaseURL: "http://pki.ocsp.test", RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}, Password: testPassword,
		DatabaseURL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The URL with its password, as a host of a shared CA has it.
	if s, err = ca.Open(filepath.Join(dir, "pki"), func() (string, error) { return testPassword, nil }, ca.WithDatabaseURL(dbURL)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tm, err := templates.Parse("resp-client.toml", []byte(testkit.ECDSAClientTemplate("resp-client", "crt")))
	if err != nil {
		t.Fatal(err)
	}
	h := &home{s: s}
	for i := 0; i < n; i++ {
		res, err := s.Issue(ctx, ca.IssueRequest{Template: tm, Subject: pkix.Name{CommonName: fmt.Sprintf("c%d.ocsp.test", i)}, Out: dir})
		if err != nil {
			t.Fatal(err)
		}
		h.certs = append(h.certs, res.Cert)
	}
	rs, err := s.OCSPResponders(ctx, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.r = New(s.DB)
	s.DB.KeepReaders(DefaultReaders + 2)
	for _, x := range rs {
		if err := h.r.SetSigner(x.CA.Slug, x.CA.Cert, x.Cert, x.Key); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *home) status(t testing.TB, cert *x509.Certificate) *ocsp.Response {
	t.Helper()
	issuer := h.s.Issuing.Cert
	if cert.Equal(h.s.Issuing.Cert) {
		issuer = h.s.Root.Cert
	}
	der, err := h.r.Respond(context.Background(), request(t, issuer, cert.SerialNumber, crypto.SHA1))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// testDatabase: the responder on a real issuance database, through
// revocation, for the leaves, the issuing CA (answered by the root's
// responder) and the responder certificates themselves.
func testDatabase(t *testing.T, dbURL string) {
	h := newHome(t, 2, dbURL)
	ctx := context.Background()
	if st := h.status(t, h.certs[0]).Status; st != ocsp.Good {
		t.Fatalf("leaf: status %d, want good", st)
	}
	if st := h.status(t, h.s.Issuing.Cert).Status; st != ocsp.Good {
		t.Fatalf("issuing CA at the root's responder: status %d, want good", st)
	}
	at := time.Now().UTC().Truncate(time.Second)
	if _, err := h.s.Revoke(ctx, h.certs[0].SerialNumber, ocsp.KeyCompromise, at); err != nil {
		t.Fatal(err)
	}
	resp := h.status(t, h.certs[0])
	if resp.Status != ocsp.Revoked || !resp.RevokedAt.Equal(at) || resp.RevocationReason != ocsp.KeyCompromise {
		t.Fatalf("right after revoke: status %d at %v reason %d", resp.Status, resp.RevokedAt, resp.RevocationReason)
	}
	if st := h.status(t, h.certs[1]).Status; st != ocsp.Good {
		t.Errorf("the other leaf: status %d", st)
	}
	// The issuing CA's serial asked of the issuing CA itself: the root issued it.
	der, err := h.r.Respond(ctx, request(t, h.s.Issuing.Cert, h.s.Issuing.Cert.SerialNumber, crypto.SHA1))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ocsp.ParseResponse(der, h.s.Issuing.Cert); err != nil || resp.Status != ocsp.Unknown {
		t.Errorf("a serial of the root asked of the issuing CA: %v, %v; want unknown", resp, err)
	}
}

func TestDatabaseSQLite(t *testing.T) { testDatabase(t, "") }

func TestPostgresDatabase(t *testing.T) { testDatabase(t, pgtest.Schema(t, "certmint_ocspresp")) }

// BenchmarkRespond: cached responses for 100 certificates, the database
// looked up for each, from many goroutines (as under HTTP load).
func BenchmarkRespond(b *testing.B) {
	h := newHome(b, 100, "")
	reqs := make([][]byte, len(h.certs))
	for i, c := range h.certs {
		reqs[i] = request(b, h.s.Issuing.Cert, c.SerialNumber, crypto.SHA1)
	}
	b.SetParallelism(50)
	b.ResetTimer()
	var mu sync.Mutex
	i := 0
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n := i
		i++
		mu.Unlock()
		for pb.Next() {
			if _, err := h.r.Respond(context.Background(), reqs[n%len(reqs)]); err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
	looked, queries := h.r.Lookups()
	b.ReportMetric(float64(looked)/float64(max(queries, 1)), "lookups/query")
}

// BenchmarkCertStatuses: one database query for 1 and for 100 serials.
func BenchmarkCertStatuses(b *testing.B) {
	h := newHome(b, 100, "")
	serials := make([]*big.Int, len(h.certs))
	for i, c := range h.certs {
		serials[i] = c.SerialNumber
	}
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := h.s.DB.CertStatuses(context.Background(), serials[:n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHTTP: the responder behind net/http on the loopback, under
// ocspload's 200 clients, as `make bench` runs it (b.N is ignored: one
// 3-second run).
func BenchmarkHTTP(b *testing.B) {
	h := newHome(b, 100, "")
	srv := httptest.NewServer(h.r.Route("", http.NotFoundHandler()))
	defer srv.Close()
	var reqs []ocspload.Request
	for _, c := range h.certs {
		r, err := ocspload.NewRequest(c, h.s.Issuing.Cert)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	res := ocspload.Run(context.Background(), ocspload.Config{URL: srv.URL + "/ocsp", Requests: reqs, Clients: 200, Duration: 3 * time.Second})
	cpu := cpuTime() - cpu0
	b.StopTimer()
	// CPU per response, server and clients together: what the figure
	// would be on idle cores, whatever else this machine is running.
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(res.OK, 1)), "cpu-us/response")
	if res.OK != res.Requests {
		b.Fatal(res)
	}
	looked, queries := h.r.Lookups()
	b.ReportMetric(res.PerSecond(), "responses/s")
	b.ReportMetric(float64(res.P99)/1e6, "p99-ms")
	b.ReportMetric(float64(looked)/float64(max(queries, 1)), "lookups/query")
}
