package interop

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadStats is what one client saw.
type loadStats struct {
	latencies []time.Duration
	requests  int
	torn      int // a 200 whose body is not the complete file: a CRL that does not parse or verify, a CA certificate that differs
	failed    int // transport errors and statuses other than 200
	backwards int // a CRL older than one this client already got
	numbers   map[string][2]int64
	firstErr  string
}

// TestServeLoad: `certmint serve` (the real binary, on 127.0.0.1) answers
// 200 concurrent HTTP clients fetching the CRLs (DER and PEM) and the CA
// certificates for 10 s, while the issuing CA's CRL is re-signed every
// second. Every response must be complete: a CRL that parses and verifies
// against its CA, never older than one the same client already got, or the
// exact CA certificate. Reports requests, requests/s, p50/p99 latency and
// torn responses (must be 0). 50 clients for 2 s in `make test`.
//
// The re-signing is `certmint crl` (and, every third second, `certmint
// revoke`, which republishes with one more entry) run by the test once a
// second, in other processes. serve's own re-signing (--check-every) only
// re-signs a CRL past half its lifetime, and certmint.toml gives lifetimes
// in whole days; an outside process replacing the file by rename while
// serve reads it is also the case that can tear a response.
func TestServeLoad(t *testing.T) {
	clients, duration := 50, 2*time.Second
	if stressIsLong() {
		clients, duration = 200, 10*time.Second
	}
	// The load loop is bounded in time and in count.
	const maxRequests = 5_000_000
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	h, err := initCA("serveload", fmt.Sprintf("http://%s", addr), "--root-cn", "Load Root CA", "--issuing-cn", "Load Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	// Certificates to revoke during the load, one every third second.
	var targets []string
	client := mustBuiltin(t, "client")
	for i := 0; i < int(duration/time.Second)/3+1; i++ {
		cn := fmt.Sprintf("load%d.acme.local", i)
		b := issue(h, client, "client", filepath.Join("serveload-bundles", cn), cn, "--cn", cn)
		if b.Err != nil {
			t.Fatal(b.Err)
		}
		targets = append(targets, b.JSON.Serial)
	}
	stderr := serve(t, h, addr, "--quiet")

	type target struct {
		path   string
		ca     caCert
		isCRL  bool
		pem    bool
		ctype  string
		expect []byte // the CA certificate
	}
	var urls []target
	for _, a := range []caCert{h.Issuing, h.Root} {
		urls = append(urls,
			target{path: "/" + a.Slug + ".crl", ca: a, isCRL: true, ctype: "application/pkix-crl"},
			target{path: "/" + a.Slug + ".crt", ca: a, ctype: "application/pkix-cert", expect: a.Cert.Raw},
			target{path: "/" + a.Slug + ".crl.pem", ca: a, isCRL: true, pem: true, ctype: "application/x-pem-file"},
		)
	}
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()

	// The re-signer: once a second until the load ends.
	var resigns []result
	var resignWG sync.WaitGroup
	resignWG.Add(1)
	go func() {
		defer resignWG.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			if i > 0 {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
			args := []string{"crl", "--json"}
			if i%3 == 2 && len(targets) > 0 {
				args = []string{"revoke", "--json", targets[0]}
				targets = targets[1:]
			}
			resigns = append(resigns, runCertmint(h.Home, args...))
		}
	}()

	var total atomic.Int64
	stats := make([]*loadStats, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		st := &loadStats{numbers: map[string][2]int64{}}
		stats[c] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := map[string]int64{}
			for i := c; ctx.Err() == nil && total.Add(1) <= maxRequests; i++ {
				u := urls[i%len(urls)]
				began := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+u.path, nil)
				resp, err := httpClient.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if ctx.Err() != nil {
					break // cut off by the end of the load, not a failure
				}
				st.latencies = append(st.latencies, time.Since(began))
				st.requests++
				fail := func(torn bool, format string, args ...any) {
					if torn {
						st.torn++
					} else {
						st.failed++
					}
					if st.firstErr == "" {
						st.firstErr = u.path + ": " + fmt.Sprintf(format, args...)
					}
				}
				switch {
				case err != nil:
					fail(false, "%v", err)
					continue
				case resp.StatusCode != http.StatusOK:
					fail(false, "status %s", resp.Status)
					continue
				case resp.Header.Get("Content-Type") != u.ctype:
					fail(false, "Content-Type %q", resp.Header.Get("Content-Type"))
					continue
				case resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength:
					fail(true, "%d bytes of %d", len(body), resp.ContentLength)
					continue
				}
				if !u.isCRL {
					if !bytes.Equal(body, u.expect) {
						fail(true, "not the CA certificate (%d bytes)", len(body))
					}
					continue
				}
				der := body
				if u.pem {
					block, rest := pem.Decode(body)
					if block == nil || block.Type != "X509 CRL" || len(bytes.TrimSpace(rest)) > 0 {
						fail(true, "not one PEM CRL (%d bytes)", len(body))
						continue
					}
					der = block.Bytes
				}
				rl, err := x509.ParseRevocationList(der)
				if err != nil {
					fail(true, "%v (%d bytes)", err, len(der))
					continue
				}
				if err := rl.CheckSignatureFrom(u.ca.Cert); err != nil {
					fail(true, "%v", err)
					continue
				}
				n := rl.Number.Int64()
				if n < last[u.path] {
					st.backwards++
					if st.firstErr == "" {
						st.firstErr = fmt.Sprintf("%s: CRL number %d after %d", u.path, n, last[u.path])
					}
				}
				last[u.path] = n
				r := st.numbers[u.ca.Slug]
				if r[0] == 0 || n < r[0] {
					r[0] = n
				}
				r[1] = max(r[1], n)
				st.numbers[u.ca.Slug] = r
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancel()
	resignWG.Wait()

	// Sum up.
	var all []time.Duration
	var sum loadStats
	numbers := map[string][2]int64{}
	var firstErrs []string
	for _, st := range stats {
		all = append(all, st.latencies...)
		sum.requests += st.requests
		sum.torn += st.torn
		sum.failed += st.failed
		sum.backwards += st.backwards
		if st.firstErr != "" && len(firstErrs) < 5 {
			firstErrs = append(firstErrs, st.firstErr)
		}
		for slug, r := range st.numbers {
			have := numbers[slug]
			if have[0] == 0 || r[0] < have[0] {
				have[0] = r[0]
			}
			have[1] = max(have[1], r[1])
			numbers[slug] = have
		}
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	resigned := 0
	for _, r := range resigns {
		if r.Code != 0 || r.Stderr != "" {
			t.Errorf("re-signing during the load failed:\n%s", r)
			continue
		}
		resigned++
	}
	t.Logf("serve under load: %d clients for %v: %d requests, %.0f requests/s, latency p50 %v p99 %v max %v; torn %d, failed %d, CRL going backwards %d",
		clients, elapsed.Round(time.Millisecond), sum.requests, float64(sum.requests)/elapsed.Seconds(),
		pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond), sum.torn, sum.failed, sum.backwards)
	t.Logf("serve under load: %d re-signings (certmint crl, certmint revoke) during the load; CRL numbers served: %s %d..%d, %s %d..%d",
		resigned, h.Issuing.Slug, numbers[h.Issuing.Slug][0], numbers[h.Issuing.Slug][1], h.Root.Slug, numbers[h.Root.Slug][0], numbers[h.Root.Slug][1])
	if sum.torn > 0 || sum.failed > 0 || sum.backwards > 0 {
		t.Errorf("%d torn, %d failed, %d backwards responses; first: %s", sum.torn, sum.failed, sum.backwards, strings.Join(firstErrs, "; "))
	}
	if sum.requests < clients {
		t.Errorf("only %d requests in %v", sum.requests, elapsed)
	}
	if resigned == 0 || numbers[h.Issuing.Slug][1] <= numbers[h.Issuing.Slug][0] {
		t.Errorf("the CRL was not re-signed while it was served (%d re-signings, numbers %v)", resigned, numbers[h.Issuing.Slug])
	}
	if s := stderr.String(); strings.Contains(s, "panic") || strings.Contains(s, "error") {
		t.Errorf("certmint serve stderr:\n%s", s)
	}
}
