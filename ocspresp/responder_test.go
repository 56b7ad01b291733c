package ocspresp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certmint/certmint/store"
)

// testCA is a CA with a delegated responder, made in memory.
type testCA struct {
	label     string
	cert      *x509.Certificate
	key       crypto.Signer
	responder *x509.Certificate
	respKey   crypto.Signer
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestCA(t testing.TB, label string) *testCA {
	t.Helper()
	c := &testCA{label: label, key: newKey(t)}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: label},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, c.key.Public(), c.key)
	if err != nil {
		t.Fatal(err)
	}
	if c.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	c.responder, c.respKey = c.newResponder(t)
	return c
}

func (c *testCA) newResponder(t testing.TB) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	k := newKey(t)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: c.label + " OCSP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, k.Public(), c.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, k
}

// fakeDB is a Source in memory.
type fakeDB struct {
	mu      sync.Mutex
	rows    map[string]store.CertStatus // by decimal serial
	queries atomic.Int64
	delay   time.Duration
	fail    error
}

func (f *fakeDB) CertStatuses(ctx context.Context, serials []*big.Int) ([]store.CertStatus, error) {
	f.queries.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []store.CertStatus
	for _, s := range serials {
		if r, ok := f.rows[s.String()]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeDB) set(r store.CertStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[r.Serial.String()] = r
}

func newResponder(t testing.TB, cas ...*testCA) (*Responder, *fakeDB) {
	t.Helper()
	db := &fakeDB{rows: map[string]store.CertStatus{}}
	r := New(db)
	for _, c := range cas {
		if err := r.SetSigner(c.label, c.cert, c.responder, c.respKey); err != nil {
			t.Fatal(err)
		}
	}
	return r, db
}

// request is the DER request for serial under ca, with hash h.
func request(t testing.TB, ca *x509.Certificate, serial *big.Int, h crypto.Hash) []byte {
	t.Helper()
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.RawSubjectPublicKeyInfo, &spki); err != nil {
		t.Fatal(err)
	}
	nh, kh := h.New(), h.New()
	nh.Write(ca.RawSubject)
	kh.Write(spki.PublicKey.RightAlign())
	der, err := (&ocsp.Request{HashAlgorithm: h, IssuerNameHash: nh.Sum(nil), IssuerKeyHash: kh.Sum(nil), SerialNumber: serial}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// withNonce adds a nonce extension holding an OCTET STRING of n bytes
// (RFC 9654's encoding) to a request x/crypto made.
func withNonce(t testing.TB, der []byte, n int) ([]byte, []byte) {
	t.Helper()
	var req struct {
		TBSRequest struct {
			Version           int `asn1:"explicit,tag:0,default:0,optional"`
			RequestList       asn1.RawValue
			RequestExtensions []pkix.Extension `asn1:"explicit,tag:2,optional"`
		}
	}
	if _, err := asn1.Unmarshal(der, &req); err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, n)
	rand.Read(nonce)
	val, _ := asn1.Marshal(nonce)
	req.TBSRequest.RequestExtensions = []pkix.Extension{{Id: oidNonce, Value: val}}
	out, err := asn1.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return out, val
}

// responseNonce returns the nonce extension value of a response's
// responseExtensions (x/crypto does not read them).
func responseNonce(t testing.TB, der []byte) []byte {
	t.Helper()
	var outer responseASN1
	var basic basicResponse
	var tbs responseData
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(outer.Response.Response, &basic); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(basic.TBSResponseData.FullBytes, &tbs); err != nil {
		t.Fatal(err)
	}
	for _, e := range tbs.ResponseExtensions {
		if e.Id.Equal(oidNonce) {
			return e.Value
		}
	}
	return nil
}

func parse(t testing.TB, der []byte, ca *x509.Certificate) *ocsp.Response {
	t.Helper()
	resp, err := ocsp.ParseResponse(der, ca) // checks the signature and the delegation
	if err != nil {
		t.Fatalf("ocsp.ParseResponse: %v (% x)", err, der)
	}
	return resp
}

func TestStatuses(t *testing.T) {
	main, other, stranger := newTestCA(t, "main-ca"), newTestCA(t, "root-ca"), newTestCA(t, "stranger")
	r, db := newResponder(t, main, other)
	revokedAt := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	db.set(store.CertStatus{Serial: big.NewInt(100), CALabel: "main-ca"})
	db.set(store.CertStatus{Serial: big.NewInt(101), CALabel: "main-ca", Revoked: true, RevokedAt: revokedAt, Reason: ocsp.KeyCompromise})
	db.set(store.CertStatus{Serial: big.NewInt(102), CALabel: "main-ca", Revoked: true, RevokedAt: revokedAt, Reason: ocsp.Unspecified})
	db.set(store.CertStatus{Serial: big.NewInt(200), CALabel: "root-ca"})
	tests := []struct {
		name   string
		ca     *testCA
		serial int64
		hash   crypto.Hash
		want   int // ocsp.Good, Revoked, Unknown; -1: unauthorized
		reason int
	}{
		{"good", main, 100, crypto.SHA1, ocsp.Good, 0},
		{"good, SHA-256 CertID", main, 100, crypto.SHA256, ocsp.Good, 0},
		{"good, SHA-512 CertID", main, 100, crypto.SHA512, ocsp.Good, 0},
		{"revoked, keyCompromise", main, 101, crypto.SHA1, ocsp.Revoked, ocsp.KeyCompromise},
		{"revoked, unspecified", main, 102, crypto.SHA256, ocsp.Revoked, ocsp.Unspecified},
		{"never issued", main, 999, crypto.SHA1, ocsp.Unknown, 0},
		{"zero serial", main, 0, crypto.SHA1, ocsp.Unknown, 0},
		{"negative serial", main, -100, crypto.SHA1, ocsp.Unknown, 0},
		{"serial of the other CA", main, 200, crypto.SHA1, ocsp.Unknown, 0},
		{"the other CA's own", other, 200, crypto.SHA1, ocsp.Good, 0},
		{"main's serial asked of the other CA", other, 100, crypto.SHA1, ocsp.Unknown, 0},
		{"a CA it does not answer for", stranger, 100, crypto.SHA1, -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der, err := r.Respond(context.Background(), request(t, tc.ca.cert, big.NewInt(tc.serial), tc.hash))
			if tc.want == -1 {
				if err == nil || !bytes.Equal(der, ocsp.UnauthorizedErrorResponse) {
					t.Fatalf("got % x, %v; want unauthorized", der, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp := parse(t, der, tc.ca.cert)
			if resp.Status != tc.want {
				t.Fatalf("status %d, want %d", resp.Status, tc.want)
			}
			if resp.SerialNumber.Int64() != tc.serial || resp.IssuerHash != tc.hash {
				t.Errorf("response for serial %d hash %v, want %d %v", resp.SerialNumber, resp.IssuerHash, tc.serial, tc.hash)
			}
			if !resp.Certificate.Equal(tc.ca.responder) {
				t.Error("the response does not carry the delegated responder certificate")
			}
			if tc.want == ocsp.Revoked && (!resp.RevokedAt.Equal(revokedAt) || resp.RevocationReason != tc.reason) {
				t.Errorf("revoked at %v reason %d, want %v %d", resp.RevokedAt, resp.RevocationReason, revokedAt, tc.reason)
			}
			if d := resp.NextUpdate.Sub(resp.ThisUpdate); d != DefaultValidity {
				t.Errorf("nextUpdate - thisUpdate = %v, want %v", d, DefaultValidity)
			}
			if resp.ThisUpdate.After(time.Now()) {
				t.Errorf("thisUpdate %v is in the future", resp.ThisUpdate)
			}
		})
	}
}

// TestRevocationSeenAtOnce: a cached good response is never served once
// the database says revoked, and the cache spares signatures otherwise.
func TestRevocationSeenAtOnce(t *testing.T) {
	c := newTestCA(t, "main-ca")
	r, db := newResponder(t, c)
	db.set(store.CertStatus{Serial: big.NewInt(7), CALabel: "main-ca"})
	req := request(t, c.cert, big.NewInt(7), crypto.SHA1)
	for i := 0; i < 5; i++ {
		der, err := r.Respond(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if parse(t, der, c.cert).Status != ocsp.Good {
			t.Fatal("not good")
		}
	}
	if n := r.Signatures.Load(); n != 1 {
		t.Errorf("5 requests for an unchanged status made %d signatures, want 1 (cached)", n)
	}
	at := time.Now().UTC().Truncate(time.Second)
	db.set(store.CertStatus{Serial: big.NewInt(7), CALabel: "main-ca", Revoked: true, RevokedAt: at, Reason: ocsp.Superseded})
	der, err := r.Respond(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp := parse(t, der, c.cert); resp.Status != ocsp.Revoked || !resp.RevokedAt.Equal(at) || resp.RevocationReason != ocsp.Superseded {
		t.Fatalf("after the revocation: status %d at %v reason %d", resp.Status, resp.RevokedAt, resp.RevocationReason)
	}
	if q := db.queries.Load(); q != 6 {
		t.Errorf("6 requests made %d database queries, want 6 (one each, sequentially)", q)
	}
}

// TestRevokedThisUpdate: a "revoked" answer never claims to have been
// correct before the revocation it reports (RFC 6960 4.2.2.1), although
// thisUpdate is otherwise rounded down to the minute.
func TestRevokedThisUpdate(t *testing.T) {
	c := newTestCA(t, "main-ca")
	r, db := newResponder(t, c)
	at := time.Date(2026, 12, 6, 18, 30, 46, 0, time.UTC)
	now := at.Add(3 * time.Second)
	r.Now = func() time.Time { return now }
	db.set(store.CertStatus{Serial: big.NewInt(7), CALabel: "main-ca", Revoked: true, RevokedAt: at, Reason: ocsp.KeyCompromise})
	der, err := r.Respond(context.Background(), request(t, c.cert, big.NewInt(7), crypto.SHA1))
	if err != nil {
		t.Fatal(err)
	}
	resp := parse(t, der, c.cert)
	if resp.Status != ocsp.Revoked || resp.ThisUpdate.Before(at) || resp.ThisUpdate.After(now) {
		t.Errorf("status %d, thisUpdate %v; want revoked, thisUpdate between the revocation %v and now %v", resp.Status, resp.ThisUpdate, at, now)
	}
	if d := resp.NextUpdate.Sub(resp.ThisUpdate); d != DefaultValidity {
		t.Errorf("nextUpdate - thisUpdate = %v, want %v", d, DefaultValidity)
	}
}

// TestRefresh: a cached response is re-signed once half its validity has
// passed, and after the responder certificate is replaced.
func TestRefresh(t *testing.T) {
	c := newTestCA(t, "main-ca")
	r, db := newResponder(t, c)
	now := time.Now()
	r.Now = func() time.Time { return now }
	db.set(store.CertStatus{Serial: big.NewInt(7), CALabel: "main-ca"})
	req := request(t, c.cert, big.NewInt(7), crypto.SHA1)
	first, _ := r.Respond(context.Background(), req)
	now = now.Add(DefaultValidity/2 - 2*time.Minute)
	if again, _ := r.Respond(context.Background(), req); !bytes.Equal(first, again) {
		t.Error("re-signed before half the validity passed")
	}
	now = now.Add(2 * time.Minute)
	later, _ := r.Respond(context.Background(), req)
	if bytes.Equal(first, later) {
		t.Fatal("not re-signed after half the validity")
	}
	if resp := parse(t, later, c.cert); resp.ThisUpdate.Before(now.Add(-time.Minute)) {
		t.Errorf("re-signed response has thisUpdate %v, want about %v", resp.ThisUpdate, now)
	}
	cert, key := c.newResponder(t)
	if err := r.SetSigner("main-ca", c.cert, cert, key); err != nil {
		t.Fatal(err)
	}
	der, _ := r.Respond(context.Background(), req)
	if resp := parse(t, der, c.cert); !resp.Certificate.Equal(cert) {
		t.Error("after SetSigner the cached response of the old responder was served")
	}
	if err := r.SetSigner("main-ca", c.cert, newTestCA(t, "x").responder, key); err == nil {
		t.Error("SetSigner took a responder certificate another CA signed")
	}
}

func TestNonce(t *testing.T) {
	c := newTestCA(t, "main-ca")
	r, db := newResponder(t, c)
	db.set(store.CertStatus{Serial: big.NewInt(7), CALabel: "main-ca"})
	plain := request(t, c.cert, big.NewInt(7), crypto.SHA1)
	for _, n := range []int{1, 16, 32, 128} {
		req, val := withNonce(t, plain, n)
		der, err := r.Respond(context.Background(), req)
		if err != nil {
			t.Fatalf("%d-byte nonce: %v", n, err)
		}
		if resp := parse(t, der, c.cert); resp.Status != ocsp.Good {
			t.Fatalf("%d-byte nonce: status %d", n, resp.Status)
		}
		if got := responseNonce(t, der); !bytes.Equal(got, val) {
			t.Errorf("%d-byte nonce: response nonce % x, want % x", n, got, val)
		}
	}
	before := r.Signatures.Load()
	req, _ := withNonce(t, plain, 16)
	r.Respond(context.Background(), req)
	r.Respond(context.Background(), req)
	if n := r.Signatures.Load() - before; n != 2 {
		t.Errorf("two requests with a nonce made %d signatures, want 2 (never cached)", n)
	}
	for _, n := range []int{0, 129} {
		req, _ := withNonce(t, plain, n)
		if der, err := r.Respond(context.Background(), req); err == nil || !bytes.Equal(der, ocsp.MalformedRequestErrorResponse) {
			t.Errorf("%d-byte nonce: % x, %v; want malformedRequest (RFC 9654 2.1)", n, der, err)
		}
	}
}

// get fetches an OCSP response over HTTP and checks the HTTP side.
func get(t *testing.T, method, u string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// serialWithSlashes finds a serial whose request's base64 holds "//".
func serialWithSlashes(t *testing.T, ca *x509.Certificate) (*big.Int, string) {
	t.Helper()
	for i := int64(1); i < 200000; i++ {
		s := big.NewInt(1_000_000 + i)
		b64 := base64.StdEncoding.EncodeToString(request(t, ca, s, crypto.SHA1))
		if strings.Contains(b64, "//") {
			return s, b64
		}
	}
	t.Fatal("no serial gives a base64 request with //")
	return nil, ""
}

// TestHTTP: GET and POST, under /ocsp and the base URL's path, with the
// path read as sent ("//" and "%2F" in the base64), the RFC 5019 headers,
// and OCSP errors for what is not a request.
func TestHTTP(t *testing.T) {
	c := newTestCA(t, "main-ca")
	r, db := newResponder(t, c)
	slashes, b64 := serialWithSlashes(t, c.cert)
	db.set(store.CertStatus{Serial: slashes, CALabel: "main-ca"})
	db.set(store.CertStatus{Serial: big.NewInt(5), CALabel: "main-ca", Revoked: true, RevokedAt: time.Now(), Reason: 1})
	next := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { http.Error(w, "files", http.StatusTeapot) })
	srv := httptest.NewServer(r.Route("/pki", next))
	defer srv.Close()
	plus := base64.StdEncoding.EncodeToString(request(t, c.cert, big.NewInt(5), crypto.SHA1))
	tests := []struct {
		name, method, path string
		body               []byte
		want               int // OCSP cert status; -1 malformed; 0 with want code
	}{
		{"GET with // in the base64", "GET", "/ocsp/" + b64, nil, ocsp.Good},
		{"GET under the base URL's path", "GET", "/pki/ocsp/" + b64, nil, ocsp.Good},
		{"GET with / escaped as %2F", "GET", "/ocsp/" + strings.ReplaceAll(b64, "/", "%2F"), nil, ocsp.Good},
		{"GET with every character escaped", "GET", "/ocsp/" + url.PathEscape(b64), nil, ocsp.Good},
		{"GET with a / too many", "GET", "/ocsp//" + b64, nil, ocsp.Good},
		{"GET with + escaped", "GET", "/ocsp/" + strings.ReplaceAll(plus, "+", "%2B"), nil, ocsp.Revoked},
		{"GET without padding", "GET", "/ocsp/" + strings.TrimRight(plus, "="), nil, ocsp.Revoked},
		{"POST", "POST", "/ocsp", request(t, c.cert, big.NewInt(5), crypto.SHA1), ocsp.Revoked},
		{"POST to /ocsp/", "POST", "/pki/ocsp/", request(t, c.cert, big.NewInt(5), crypto.SHA1), ocsp.Revoked},
		{"GET of /ocsp alone", "GET", "/ocsp", nil, -1},
		{"GET of bad base64", "GET", "/ocsp/!!!", nil, -1},
		{"GET of base64 that is not a request", "GET", "/ocsp/" + base64.StdEncoding.EncodeToString([]byte("hello")), nil, -1},
		{"POST of garbage", "POST", "/ocsp", []byte("\x30\x03\x02\x01"), -1},
		{"POST too large", "POST", "/ocsp", make([]byte, maxRequest+1), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, tc.method, srv.URL+tc.path, tc.body, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
				t.Fatalf("%s %s: %s, %s", tc.method, tc.path, resp.Status, resp.Header.Get("Content-Type"))
			}
			if tc.want == -1 {
				if !bytes.Equal(body, ocsp.MalformedRequestErrorResponse) {
					t.Fatalf("got % x, want malformedRequest", body)
				}
				if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
					t.Errorf("an error response has Cache-Control %q", cc)
				}
				return
			}
			or := parse(t, body, c.cert)
			if or.Status != tc.want {
				t.Fatalf("status %d, want %d", or.Status, tc.want)
			}
			// RFC 5019 6.2.
			cc := resp.Header.Get("Cache-Control")
			age, err := strconv.Atoi(strings.TrimPrefix(strings.Split(cc, ",")[0], "max-age="))
			if err != nil || age <= 0 || age > int(DefaultMaxAge/time.Second) || !strings.Contains(cc, "public") {
				t.Errorf("Cache-Control %q", cc)
			}
			lm, err1 := http.ParseTime(resp.Header.Get("Last-Modified"))
			ex, err2 := http.ParseTime(resp.Header.Get("Expires"))
			if err1 != nil || err2 != nil || !lm.Equal(or.ThisUpdate) || !ex.Equal(or.NextUpdate) {
				t.Errorf("Last-Modified %q Expires %q, want thisUpdate %v nextUpdate %v",
					resp.Header.Get("Last-Modified"), resp.Header.Get("Expires"), or.ThisUpdate, or.NextUpdate)
			}
			if resp.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
		})
	}
	t.Run("If-None-Match", func(t *testing.T) {
		resp, _ := get(t, "GET", srv.URL+"/ocsp/"+b64, nil, nil)
		again, body := get(t, "GET", srv.URL+"/ocsp/"+b64, nil, map[string]string{"If-None-Match": resp.Header.Get("ETag")})
		if again.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("conditional GET: %s with %d bytes, want 304", again.Status, len(body))
		}
	})
	t.Run("nonce over POST is not cacheable", func(t *testing.T) {
		req, val := withNonce(t, request(t, c.cert, big.NewInt(5), crypto.SHA1), 32)
		resp, body := get(t, "POST", srv.URL+"/ocsp", req, nil)
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" || resp.Header.Get("ETag") != "" {
			t.Errorf("Cache-Control %q ETag %q for a response with a nonce", cc, resp.Header.Get("ETag"))
		}
		if !bytes.Equal(responseNonce(t, body), val) {
			t.Error("nonce not echoed")
		}
	})
	t.Run("other methods", func(t *testing.T) {
		resp, _ := get(t, "PUT", srv.URL+"/ocsp", []byte("x"), nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("PUT: %s Allow %q", resp.Status, resp.Header.Get("Allow"))
		}
	})
	t.Run("other paths go on", func(t *testing.T) {
		for _, p := range []string{"/", "/ocspx", "/pki/main-ca.crl", "/pki/ocspfoo"} {
			if resp, _ := get(t, "GET", srv.URL+p, nil, nil); resp.StatusCode != http.StatusTeapot {
				t.Errorf("GET %s: %s, want the next handler's", p, resp.Status)
			}
		}
	})
}

// TestDatabaseError: a failing lookup is internalError, not a status.
func TestDatabaseError(t *testing.T) {
	c := newTestCA(t, "main-ca")
	r, db := newResponder(t, c)
	db.fail = errors.New("connection refused")
	der, err := r.Respond(context.Background(), request(t, c.cert, big.NewInt(1), crypto.SHA1))
	if err == nil || !bytes.Equal(der, ocsp.InternalErrorErrorResponse) {
		t.Fatalf("got % x, %v; want internalError", der, err)
	}
}

// TestBatching: concurrent requests share queries, and a revocation made
// before a request arrives is always in its answer.
func TestBatching(t *testing.T) {
	c := newTestCA(t, "main-ca")
	r, db := newResponder(t, c)
	db.delay = 2 * time.Millisecond
	const serials = 50
	for i := int64(1); i <= serials; i++ {
		db.set(store.CertStatus{Serial: big.NewInt(i), CALabel: "main-ca"})
	}
	var revoked sync.Map // serial -> true once set in the database
	var wrong atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(g); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := i%serials + 1
				_, wasRevoked := revoked.Load(s) // before the request
				der, err := r.Respond(context.Background(), request(t, c.cert, big.NewInt(s), crypto.SHA1))
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := ocsp.ParseResponse(der, c.cert)
				if err != nil || (wasRevoked && resp.Status != ocsp.Revoked) {
					wrong.Add(1)
				}
			}
		}()
	}
	for s := int64(1); s <= 10; s++ {
		time.Sleep(5 * time.Millisecond)
		db.set(store.CertStatus{Serial: big.NewInt(s), CALabel: "main-ca", Revoked: true, RevokedAt: time.Now(), Reason: 1})
		revoked.Store(s, true)
	}
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d responses said good for a certificate revoked before the request", n)
	}
	looked, queries := r.Lookups()
	if queries == 0 || looked/queries < 4 {
		t.Errorf("%d lookups in %d queries: concurrent requests do not share queries", looked, queries)
	}
	t.Logf("%d lookups in %d queries", looked, queries)
}
