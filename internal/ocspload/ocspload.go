// Package ocspload puts an OCSP responder under load: many HTTP clients,
// each on a kept-alive connection of its own, send OCSP requests for a set
// of certificates for a while, and every answer is checked, so what is
// counted is correct responses per second, with the latency distribution.
// `make bench` runs it against certmint, cfssl's ocspserve and `openssl
// ocsp` (scripts/ocspload), and the interop tests run it against `certmint
// serve` while certificates are revoked.
//
// Its HTTP/1.1 client is a minimal one written here (a request written
// as prepared bytes, the response read by its Content-Length): net/http's
// client costs several times the CPU per request, and on a machine where
// load generator and responder share the cores that is taken from the
// responder being measured.
package ocspload

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
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
}

// NewRequest builds the request for cert, issued by issuer.
func NewRequest(cert, issuer *x509.Certificate) (Request, error) {
	der, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return Request{}, err
	}
	return Request{Cert: cert, Issuer: issuer, DER: der}, nil
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
	var res Result
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		res.Failed, res.Errors = 1, []string{fmt.Sprintf("%q is not an http:// URL", cfg.URL)}
		return res
	}
	host := u.Host
	if u.Port() == "" {
		host += ":80"
	}
	// The wire form of every request, made once.
	base := strings.TrimRight(u.EscapedPath(), "/")
	wire := make([][]byte, len(cfg.Requests))
	for i, r := range cfg.Requests {
		if cfg.GET {
			wire[i] = []byte("GET " + base + "/" + base64.StdEncoding.EncodeToString(r.DER) + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n")
		} else {
			path := base
			if path == "" {
				path = "/"
			}
			wire[i] = append([]byte("POST "+path+" HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Type: application/ocsp-request\r\nContent-Length: "+
				strconv.Itoa(len(r.DER))+"\r\n\r\n"), r.DER...)
		}
	}
	end := time.Now().Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	var (
		mu        sync.Mutex
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
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			conn := &client{addr: host}
			defer conn.close()
			for i := c; ctx.Err() == nil; i++ {
				n := i % len(cfg.Requests)
				rq := cfg.Requests[n]
				sent := time.Now()
				status, body, err := conn.do(ctx, wire[n])
				if ctx.Err() != nil || !time.Now().Before(end) {
					break // cut off by the end of the run, not a failure
				}
				lat = append(lat, time.Since(sent))
				switch {
				case err != nil:
					fail.Add(1)
					note("transport: %v", err)
					continue
				case status != 200:
					fail.Add(1)
					note("HTTP status %d", status)
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

// client is one HTTP/1.1 connection, kept alive while the server allows
// it (an HTTP/1.0 server such as `openssl ocsp` closes it after every
// response, and the next request dials again).
type client struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
}

func (cl *client) close() {
	if cl.c != nil {
		cl.c.Close()
		cl.c = nil
	}
}

// do sends one request and reads the response's status and body.
func (cl *client) do(ctx context.Context, req []byte) (int, []byte, error) {
	if cl.c == nil {
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", cl.addr)
		if err != nil {
			return 0, nil, err
		}
		cl.c, cl.br = c, bufio.NewReaderSize(c, 4096)
	}
	cl.c.SetDeadline(time.Now().Add(10 * time.Second))
	status, body, keep, err := cl.roundTrip(req)
	if err != nil || !keep {
		cl.close()
	}
	return status, body, err
}

func (cl *client) roundTrip(req []byte) (status int, body []byte, keep bool, err error) {
	if _, err := cl.c.Write(req); err != nil {
		return 0, nil, false, err
	}
	line, err := cl.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	proto, rest, _ := strings.Cut(string(line), " ")
	if status, err = strconv.Atoi(strings.TrimSpace(rest[:min(3, len(rest))])); err != nil || !strings.HasPrefix(proto, "HTTP/1.") {
		return 0, nil, false, fmt.Errorf("not an HTTP response: %q", line)
	}
	keep = proto == "HTTP/1.1"
	length := -1
	for {
		line, err := cl.br.ReadSlice('\n')
		if err != nil {
			return status, nil, false, err
		}
		h := strings.TrimSpace(string(line))
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			if length, err = strconv.Atoi(v); err != nil || length < 0 {
				return status, nil, false, fmt.Errorf("Content-Length %q", v)
			}
		case "connection":
			keep = keep && !strings.EqualFold(v, "close") || strings.EqualFold(v, "keep-alive")
		case "transfer-encoding":
			return status, nil, false, errors.New("chunked responses are not read by this load generator")
		}
	}
	if length < 0 {
		body, err = io.ReadAll(cl.br)
		return status, body, false, err
	}
	body = make([]byte, length)
	_, err = io.ReadFull(cl.br, body)
	return status, body, keep && err == nil, err
}
