package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Request kinds, the kind label of certmint_http_requests_total.
const (
	KindCRL           = "crl"            // <slug>.crl, <slug>.crl.pem
	KindCACertificate = "ca_certificate" // <slug>.crt, <slug>.cer, <slug>-chain.pem
	KindIndex         = "index"          // the index page
	KindOCSP          = "ocsp"           // <base-url>/ocsp, GET and POST
	KindOther         = "other"          // anything else (mostly 404s)
)

var kinds = []string{KindCRL, KindCACertificate, KindIndex, KindOCSP, KindOther}

// Path is where the metrics are served.
const Path = "/metrics"

// Kind is the kind of a request for path (the URL path as decoded) on a
// server whose files are under prefix as well as at the root (see
// crl.Handler): OCSP for a path that ends in /ocsp or lies under /ocsp/
// (a GET request carries its base64 request there, which may itself hold
// slashes), else by the file name's extension.
func Kind(prefix, path string) string {
	if strings.HasSuffix(path, "/ocsp") || strings.Contains(path, "/ocsp/") {
		return KindOCSP
	}
	prefix = strings.TrimRight(prefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	if prefix != "" && (path == prefix || strings.HasPrefix(path, prefix+"/")) {
		path = strings.TrimPrefix(path, prefix)
	}
	switch path {
	case "", "/", "/index.html":
		return KindIndex
	}
	name := path[strings.LastIndex(path, "/")+1:]
	switch {
	case strings.HasSuffix(name, ".crl"), strings.HasSuffix(name, ".crl.pem"):
		return KindCRL
	case strings.HasSuffix(name, ".crt"), strings.HasSuffix(name, ".cer"), strings.HasSuffix(name, ".pem"):
		return KindCACertificate
	}
	return KindOther
}

// Instrument counts the requests next answers in
// certmint_http_requests_total, by kind (see Kind) and status code.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	byKind := map[string]http.Handler{}
	for _, k := range kinds {
		c := m.requests.MustCurryWith(prometheus.Labels{"kind": k})
		byKind[k] = promhttp.InstrumentHandlerCounter(c, next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		byKind[Kind(m.prefix, r.URL.Path)].ServeHTTP(w, r)
	})
}

// Handler serves the metrics in the Prometheus text format (or what the
// scraper's Accept header asks for). A scrape counts certificates in the
// database (a full scan: ~0.1 to 0.4 s for 100,000 of them on SQLite), so
// at most two run at once, whoever sends them (503 beyond); one that
// takes longer than a scraper waits (10 s by default) is answered 503.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorLog: m,
		MaxRequestsInFlight: 2, Timeout: 10 * time.Second})
}

// Mux serves the metrics at /metrics and everything else with site,
// counted (Instrument). It is not an http.ServeMux on purpose: that one
// cleans paths and redirects a "//" or "/../" to the cleaned form, which
// would break an OCSP GET request whose base64 holds "//" (RFC 6960
// appendix A.1 puts it in the path as it is).
func (m *Metrics) Mux(site http.Handler) http.Handler {
	metrics, counted := m.Handler(), m.Instrument(site)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Path {
			metrics.ServeHTTP(w, r)
			return
		}
		counted.ServeHTTP(w, r)
	})
}
