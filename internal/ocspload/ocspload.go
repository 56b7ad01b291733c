// Package ocspload puts an OCSP responder under load: many HTTP clients
// (kept-alive connections) send OCSP requests for a set of certificates
// for a while, and every answer is checked, so what is counted is correct
// responses per second, with the latency distribution. `make bench` runs
// it against certmint, cfssl's ocspserve and `openssl ocsp` (cmd/ocspload
// under scripts/), and the interop tests run it against `certmint serve`
// while certificates are revoked.
package ocspload

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Request is one certificate to ask about.
type Request struct {
	Cert   *x509.Certificate
	Issuer *x509.Certificate
	DER    []byte // the OCSP request (SHA-1 CertID, no nonce: cacheable)
	b64    string
}

// NewRequest builds the request for cert, issued by issuer.
func NewRequest(cert, issuer *x509.Certificate) (Request, error) {
	der, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return Request{}, err
	}
	return Request{Cert: cert, Issuer: issuer, DER: der, b64: base64.StdEncoding.EncodeToString(der)}, nil
}

// Config is one load run.
type Config struct {
	URL      string // the responder, e.g. http://127.0.0.1:8080/ocsp
	Requests []Request
	Clients  int
	Duration time.Duration
	// GET sends the base64 request in the path (RFC 6960 A.1, as written,
	// "/" and all); otherwise POST.
	GET bool
	// Check, when set, is called for every successful, verified response
	// with the moment the request was sent: it returns an error for a
	// status that is wrong at that moment.
	Check func(req Request, resp *ocsp.Response, sent time.Time) error
}

// Result is what a run saw.
type Result struct {
	Requests  int64 // answered within the run
	OK        int64 // successful, signed by the CA's responder, for the serial asked, passing Check
	Failed    int64 // transport errors and HTTP statuses other than 200
	Malformed int64 // an answer that is not a good OCSP response for the request
	Wrong     int64 // a good response that Check refused
	Elapsed   time.Duration
	P50, P99  time.Duration
	Max       time.Duration
	Errors    []string // the first few problems, for the report
}

// PerSecond is correct responses per second.
func (r Result) PerSecond() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%d requests in %.1f s: %.0f correct responses/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d failed, %d malformed, %d wrong",
		r.Requests, r.Elapsed.Seconds(), r.PerSecond(), ms(r.P50), ms(r.P99), ms(r.Max), r.Failed, r.Malformed, r.Wrong)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// maxErrors bounds Result.Errors.
const maxErrors = 10

// Run sends requests from cfg.Clients clients for cfg.Duration (or until
// ctx ends), and checks every response.
func Run(ctx context.Context, cfg Config) Result {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Clients,
		MaxIdleConnsPerHost: cfg.Clients,
		MaxConnsPerHost:     cfg.Clients,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var (
		mu        sync.Mutex
		res       Result
		latencies []time.Duration
		ok, fail  atomic.Int64
		malformed atomic.Int64
		wrong     atomic.Int64
	)
	note := func(format string, args ...any) {
		mu.Lock()
		if len(res.Errors) < maxErrors {
			res.Errors = append(res.Errors, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	// The last response verified for each request, shared by the clients:
	// an identical answer needs no second signature check, so the load
	// generator spends its time on requests, not on verifying the same
	// pre-signed bytes again.
	var vmu sync.RWMutex
	verified := map[int]verifiedResponse{}
	base := strings.TrimRight(cfg.URL, "/")
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for i := c; ctx.Err() == nil; i++ {
				n := i % len(cfg.Requests)
				rq := cfg.Requests[n]
				var req *http.Request
				if cfg.GET {
					req, _ = http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+rq.b64, nil)
				} else {
					req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base, bytes.NewReader(rq.DER))
					req.Header.Set("Content-Type", "application/ocsp-request")
				}
				sent := time.Now()
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if ctx.Err() != nil {
					break // cut off by the end of the run, not a failure
				}
				lat = append(lat, time.Since(sent))
				switch {
				case err != nil:
					fail.Add(1)
					note("transport: %v", err)
					continue
				case resp.StatusCode != http.StatusOK:
					fail.Add(1)
					note("HTTP %s", resp.Status)
					continue
				}
				vmu.RLock()
				v, seen := verified[n]
				vmu.RUnlock()
				if !seen || !bytes.Equal(v.der, body) {
					parsed, err := ocsp.ParseResponseForCert(body, rq.Cert, rq.Issuer)
					if err == nil && parsed.SerialNumber.Cmp(rq.Cert.SerialNumber) != 0 {
						err = fmt.Errorf("answers for serial %x", parsed.SerialNumber)
					}
					if err != nil {
						malformed.Add(1)
						note("serial %x: %v", rq.Cert.SerialNumber, err)
						continue
					}
					v = verifiedResponse{der: body, resp: parsed}
					vmu.Lock()
					verified[n] = v
					vmu.Unlock()
				}
				if cfg.Check != nil {
					if err := cfg.Check(rq, v.resp, sent); err != nil {
						wrong.Add(1)
						note("serial %x: %v", rq.Cert.SerialNumber, err)
						continue
					}
				}
				ok.Add(1)
			}
			mu.Lock()
			latencies = append(latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.OK, res.Failed, res.Malformed, res.Wrong = ok.Load(), fail.Load(), malformed.Load(), wrong.Load()
	res.Requests = int64(len(latencies))
	if len(latencies) > 0 {
		slices.Sort(latencies)
		res.P50 = latencies[len(latencies)/2]
		res.P99 = latencies[len(latencies)*99/100]
		res.Max = latencies[len(latencies)-1]
	}
	return res
}

type verifiedResponse struct {
	der  []byte
	resp *ocsp.Response
}
