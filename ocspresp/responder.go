// Package ocspresp is certmint's OCSP responder (RFC 6960, with the HTTP
// profile of RFC 5019): it answers, over GET and POST, the status of the
// certificates a CA issued, from the issuance database, in responses
// signed by each CA's delegated responder certificate.
//
// Requests are parsed and responses built with golang.org/x/crypto/ocsp;
// only the nonce, which that package does not handle, is read and written
// here (nonce.go). Every request looks the serial up in the database
// (batched: batch.go), so a revocation is answered as revoked as soon as
// it is committed; what is cached is the signed response for a (CA,
// serial, status) until it is due for re-signing, so a status that has not
// changed costs no signature.
package ocspresp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Defaults of a Responder.
const (
	// DefaultValidity is nextUpdate - thisUpdate of a response. A
	// response is re-signed when half of it has passed, so a client or
	// cache never holds one for more than this.
	DefaultValidity = time.Hour
	// DefaultMaxAge caps the HTTP max-age (RFC 5019 6.2 asks for one
	// before nextUpdate): an HTTP cache between client and responder
	// asks again after five minutes, as it does for the CRL.
	DefaultMaxAge = 5 * time.Minute
	// DefaultReaders is how many database queries run at once.
	DefaultReaders = 2
	// maxRequest bounds a request body or decoded GET request: a real
	// one for one certificate is about 100 bytes.
	maxRequest = 16 << 10
	// maxCached bounds the cache: beyond it, it starts again empty (a
	// client asking for random serials must not grow it for ever).
	maxCached = 200_000
)

// Responder answers OCSP requests for a set of CAs. Its zero value is not
// usable: make one with New.
type Responder struct {
	// Validity is nextUpdate - thisUpdate; MaxAge caps Cache-Control's
	// max-age. Set them before serving.
	Validity time.Duration
	MaxAge   time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log, when set, is called once per request, as crl.Handler's.
	Log func(r *http.Request, status, size int)

	batch *batcher

	mu      sync.RWMutex
	issuers []*issuer
	cache   map[cacheKey]*entry

	// Signatures counts the responses signed (the cache's misses), for
	// tests and benchmarks.
	Signatures atomic.Int64
}

// New returns a Responder that reads certificate statuses from src.
func New(src Source) *Responder {
	return &Responder{
		Validity: DefaultValidity, MaxAge: DefaultMaxAge,
		batch: &batcher{src: src, readers: DefaultReaders},
		cache: map[cacheKey]*entry{},
	}
}

// issuer is one CA the responder answers for.
type issuer struct {
	label string
	cert  *x509.Certificate
	// The CertID hashes of the CA's name and key, by hash algorithm:
	// requests may use any of them (openssl uses SHA-1 unless told).
	nameHash, keyHash map[crypto.Hash][]byte
	signer            atomic.Pointer[signer]
}

// signer is a delegated responder certificate and its key. gen tells
// cached responses of an older one apart.
type signer struct {
	cert *x509.Certificate
	key  crypto.Signer
	gen  int64
}

var signerGen atomic.Int64

var requestHashes = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512}

// SetSigner makes the responder answer for the CA labelled label (its
// label in the database) with certificate ca, signing with the delegated
// responder certificate cert and its key. Called again for the same label,
// it replaces the responder certificate: responses cached under the old
// one are signed again.
func (r *Responder) SetSigner(label string, ca, cert *x509.Certificate, key crypto.Signer) error {
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("ocsp: the responder certificate of %s is not signed by it: %w", label, err)
	}
	s := &signer{cert: cert, key: key, gen: signerGen.Add(1)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, is := range r.issuers {
		if is.label == label {
			is.signer.Store(s)
			return nil
		}
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.RawSubjectPublicKeyInfo, &spki); err != nil {
		return fmt.Errorf("ocsp: the public key of %s: %w", label, err)
	}
	is := &issuer{label: label, cert: ca, nameHash: map[crypto.Hash][]byte{}, keyHash: map[crypto.Hash][]byte{}}
	for _, h := range requestHashes {
		n, k := h.New(), h.New()
		n.Write(ca.RawSubject)
		k.Write(spki.PublicKey.RightAlign())
		is.nameHash[h], is.keyHash[h] = n.Sum(nil), k.Sum(nil)
	}
	is.signer.Store(s)
	r.issuers = append(r.issuers, is)
	return nil
}

// findIssuer returns the CA a request names, or nil.
func (r *Responder) findIssuer(req *ocsp.Request) *issuer {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, is := range r.issuers {
		if bytes.Equal(is.keyHash[req.HashAlgorithm], req.IssuerKeyHash) && bytes.Equal(is.nameHash[req.HashAlgorithm], req.IssuerNameHash) {
			return is
		}
	}
	return nil
}

// status is what a response says of a certificate.
type status struct {
	code      int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
	revokedAt time.Time
	reason    int
}

type cacheKey struct {
	label  string
	hash   crypto.Hash
	serial string // the serial's big-endian bytes
}

// entry is a signed response and its HTTP headers.
type entry struct {
	status     status
	gen        int64
	der        []byte
	thisUpdate time.Time
	nextUpdate time.Time
	refreshAt  time.Time // half-way: re-signed from then on
	// HTTP header values.
	etag, lastMod, expires, length, cacheControl []string
}

// ServeHTTP answers one OCSP request: POST with the DER request as body,
// or GET with it base64-encoded (then URL-encoded) as the last part of
// the path (RFC 6960 appendix A.1). It reads the path as sent: route
// requests to it with Route, not through http.ServeMux, which cleans a
// "//" out of the path and breaks the base64 in it.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.serve(w, req, r.requestPart(req.URL.EscapedPath()))
}

// Route returns a handler that sends requests for /ocsp (and
// prefix/ocsp, prefix being the base URL's path) to the responder, and
// every other request to next. It matches the path as sent, escapes and
// "//" included.
func (r *Responder) Route(prefix string, next http.Handler) http.Handler {
	return r.route(prefix, next, r.serve)
}

func (r *Responder) route(prefix string, next http.Handler, serve func(http.ResponseWriter, *http.Request, string)) http.Handler {
	prefix = strings.TrimRight(prefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.EscapedPath()
		for _, base := range []string{prefix + "/ocsp", "/ocsp"} {
			if p == base || strings.HasPrefix(p, base+"/") {
				serve(w, req, strings.TrimPrefix(p, base))
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

// requestPart is what follows "/ocsp" in a path handed to ServeHTTP
// directly (the whole path if it has no "/ocsp").
func (r *Responder) requestPart(p string) string {
	if i := strings.Index(p, "/ocsp"); i >= 0 && (len(p) == i+5 || p[i+5] == '/') {
		return p[i+5:]
	}
	return p
}

func (r *Responder) serve(w http.ResponseWriter, req *http.Request, rest string) {
	if r.Log != nil {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		w = sw
		defer func() { r.Log(req, sw.status, sw.size) }()
	}
	var der []byte
	switch req.Method {
	case http.MethodPost:
		body, err := readBody(req)
		if err != nil {
			r.fail(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		defer bodies.Put(body)
		der = *body
	case http.MethodGet:
		var ok bool
		if der, ok = decodeGET(rest); !ok {
			r.fail(w, ocsp.MalformedRequestErrorResponse)
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "OCSP requests are GET or POST (RFC 6960 appendix A.1)", http.StatusMethodNotAllowed)
		return
	}
	out, e, err := r.respond(req.Context(), der)
	if err != nil {
		r.fail(w, out)
		return
	}
	h := w.Header()
	h["Content-Type"] = contentType
	if e == nil { // a nonce: this response is for this request alone
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out)
		return
	}
	// RFC 5019 6.2: the headers that let HTTP caches keep a response, for
	// no longer than its nextUpdate (and at most MaxAge). Made once per
	// signed response: the value slices are shared, never changed.
	if left := e.nextUpdate.Sub(r.now()); left < r.MaxAge {
		h.Set("Cache-Control", cacheControl(left))
	} else {
		h["Cache-Control"] = e.cacheControl
	}
	h["Last-Modified"], h["Expires"], h["Etag"] = e.lastMod, e.expires, e.etag
	if req.Method == http.MethodGet && etagMatch(req.Header.Get("If-None-Match"), e.etag[0]) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Length"] = e.length
	w.Write(out)
}

var contentType = []string{"application/ocsp-response"}

func cacheControl(maxAge time.Duration) string {
	return "max-age=" + strconv.Itoa(max(int(maxAge/time.Second), 0)) + ", public, no-transform, must-revalidate"
}

// bodies holds request buffers: a POST body is read into one and needed
// only until its response is written.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// readBody reads a POST body of at most maxRequest bytes.
func readBody(req *http.Request) (*[]byte, error) {
	b := bodies.Get().(*[]byte)
	buf := (*b)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := req.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > maxRequest {
			*b = buf[:0]
			bodies.Put(b)
			return nil, errors.New("request too large")
		}
		if err == io.EOF {
			*b = buf
			return b, nil
		}
		if err != nil {
			*b = buf[:0]
			bodies.Put(b)
			return nil, err
		}
	}
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// fail writes an OCSP error response (malformedRequest, internalError,
// unauthorized): HTTP 200, as RFC 6960 carries the error in the OCSP
// status, never cached.
func (r *Responder) fail(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentType
	h.Set("Cache-Control", "max-age=0, no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// decodeGET reads the request of a GET path ("/<url-encoded base64>").
// The base64 may hold "/" (and so "//"), "+" and "=", escaped or not.
// Leading slashes are dropped: the base64 of a DER request starts with
// "M" (a SEQUENCE), and a client that joins the responder URL and the
// request with a "/" too many sends "/ocsp//MFQw...".
func decodeGET(rest string) ([]byte, bool) {
	s, err := url.PathUnescape(strings.TrimLeft(rest, "/"))
	if err != nil || s == "" || len(s) > maxRequest*4/3+4 {
		return nil, false
	}
	// A "+" that an HTTP client turned into a space.
	s = strings.ReplaceAll(s, " ", "+")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if der, err := enc.DecodeString(s); err == nil {
			return der, true
		}
	}
	return nil, false
}

// Respond answers one DER-encoded OCSP request with a DER-encoded
// response, as ServeHTTP does. The error, if any, says why the response is
// an OCSP error (malformedRequest, unauthorized, internalError).
func (r *Responder) Respond(ctx context.Context, der []byte) ([]byte, error) {
	out, _, err := r.respond(ctx, der)
	return out, err
}

// respond is Respond, and also returns the cache entry of a cacheable
// response (nil for a response to a request with a nonce).
func (r *Responder) respond(ctx context.Context, der []byte) ([]byte, *entry, error) {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil, fmt.Errorf("malformed request: %w", err)
	}
	nonce, err := requestNonce(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil, fmt.Errorf("malformed request: %w", err)
	}
	is := r.findIssuer(req)
	if is == nil {
		// RFC 5019 2.2.3: not a CA this responder answers for.
		return ocsp.UnauthorizedErrorResponse, nil, errors.New("unauthorized: the request names a CA this responder does not answer for")
	}
	st := status{code: ocsp.Unknown}
	if req.SerialNumber.Sign() > 0 {
		rows, err := r.batch.get(ctx, req.SerialNumber)
		if err != nil {
			return ocsp.InternalErrorErrorResponse, nil, err
		}
		for _, row := range rows {
			// A serial of another CA of the database is unknown to this one.
			if row.CALabel != is.label {
				continue
			}
			st = status{code: ocsp.Good}
			if row.Revoked {
				st = status{code: ocsp.Revoked, revokedAt: row.RevokedAt.UTC(), reason: row.Reason}
			}
		}
	}
	sg := is.signer.Load()
	now := r.now()
	if nonce != nil {
		out, err := r.sign(is, sg, req, st, now, nonce)
		if err != nil {
			return ocsp.InternalErrorErrorResponse, nil, err
		}
		return out, nil, nil
	}
	key := cacheKey{label: is.label, hash: req.HashAlgorithm, serial: string(req.SerialNumber.Bytes())}
	r.mu.RLock()
	e := r.cache[key]
	r.mu.RUnlock()
	if e != nil && e.status == st && e.gen == sg.gen && now.Before(e.refreshAt) {
		return e.der, e, nil
	}
	e, err = r.newEntry(is, sg, req, st, now)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, nil, err
	}
	r.mu.Lock()
	if len(r.cache) >= maxCached {
		r.cache = map[cacheKey]*entry{}
	}
	r.cache[key] = e
	r.mu.Unlock()
	return e.der, e, nil
}

func (r *Responder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// times are thisUpdate and nextUpdate of a response signed at now: on the
// minute, as x/crypto stamps producedAt, but never before a revocation the
// response reports (thisUpdate is when the status was known to be correct,
// RFC 6960 4.2.2.1, and "revoked" was not true before revocationTime).
func (r *Responder) times(now time.Time, st status) (time.Time, time.Time) {
	this := now.UTC().Truncate(time.Minute)
	if st.code == ocsp.Revoked {
		if at := st.revokedAt.UTC().Truncate(time.Second); this.Before(at) && !at.After(now) {
			this = at
		}
	}
	return this, this.Add(r.Validity)
}

func (r *Responder) newEntry(is *issuer, sg *signer, req *ocsp.Request, st status, now time.Time) (*entry, error) {
	der, err := r.sign(is, sg, req, st, now, nil)
	if err != nil {
		return nil, err
	}
	this, next := r.times(now, st)
	sum := sha256.Sum256(der)
	return &entry{status: st, gen: sg.gen, der: der, thisUpdate: this, nextUpdate: next,
		refreshAt:    this.Add(r.Validity / 2),
		etag:         []string{`"` + hex.EncodeToString(sum[:16]) + `"`},
		lastMod:      []string{this.Format(http.TimeFormat)},
		expires:      []string{next.Format(http.TimeFormat)},
		length:       []string{strconv.Itoa(len(der))},
		cacheControl: []string{cacheControl(r.MaxAge)}}, nil
}

// sign builds and signs a response with x/crypto/ocsp, carrying the
// responder certificate so clients can check the delegation (RFC 6960
// 4.2.2.2), and the nonce when the request had one.
func (r *Responder) sign(is *issuer, sg *signer, req *ocsp.Request, st status, now time.Time, nonce *pkix.Extension) ([]byte, error) {
	this, next := r.times(now, st)
	tmpl := ocsp.Response{
		Status: st.code, SerialNumber: req.SerialNumber, IssuerHash: req.HashAlgorithm,
		ThisUpdate: this, NextUpdate: next, Certificate: sg.cert,
	}
	if st.code == ocsp.Revoked {
		tmpl.RevokedAt, tmpl.RevocationReason = st.revokedAt, st.reason
	}
	r.Signatures.Add(1)
	if nonce == nil {
		return ocsp.CreateResponse(is.cert, sg.cert, tmpl, sg.key)
	}
	der, err := ocsp.CreateResponse(is.cert, sg.cert, tmpl, unsigned{pub: sg.key.Public()})
	if err != nil {
		return nil, err
	}
	return withResponseExtensions(der, []pkix.Extension{*nonce}, sg.key)
}

// Lookups is how many serials the responder has looked up, and in how
// many database queries.
func (r *Responder) Lookups() (serials, queries int64) {
	return r.batch.serials.Load(), r.batch.queries.Load()
}

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status, size int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.size += n
	return n, err
}

// Unavailable routes like Route, but answers every OCSP request with
// tryLater (RFC 6960 4.2.1): for a server that has no responder to offer
// (serve without the CA password), so clients that ask get an OCSP answer
// they understand rather than a 404 page.
// log, when set, is called once per OCSP request, as Responder.Log.
func Unavailable(prefix string, next http.Handler, log func(r *http.Request, status, size int)) http.Handler {
	off := &Responder{}
	return off.route(prefix, next, func(w http.ResponseWriter, req *http.Request, _ string) {
		if log != nil {
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			w = sw
			defer func() { log(req, sw.status, sw.size) }()
		}
		off.fail(w, ocsp.TryLaterErrorResponse)
	})
}
