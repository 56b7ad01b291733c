// Package metrics exposes what `certmint serve` knows as Prometheus
// metrics: how long each served CRL and each CA certificate has left, the
// issued certificates by state and template, and the requests served by
// kind and status.
//
// The gauges are computed when Prometheus scrapes (a Collector), from the
// files being served, which are what validators fetch, and from the
// issuance database through aggregate queries (store.CountByTemplate),
// never by reading every record: a home may hold 100,000 certificates.
// Without a CA home (serve --dir) only the request counters and what the
// served files say are available.
package metrics

import (
	"fmt"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/certmint/certmint/ca"
)

// ExpiringWindow is the span of certmint_certificates_expiring_within_30_days,
// the default of `certmint list --expiring`.
const ExpiringWindow = 30 * 24 * time.Hour

// Options say what the metrics describe.
type Options struct {
	// Dir is the folder being served (the home's public/, or --dir).
	Dir string
	// Prefix is the URL path prefix the files are served under besides
	// the root (crl.Handler.Prefix), to tell the index page from a 404.
	Prefix string
	// Store is the CA home; nil when serving a folder without one, which
	// leaves out the CA roles of the home, the certificate counts and
	// certmint_database_up.
	Store *ca.Store
	// Version is certmint's version, for certmint_build_info.
	Version string
	// Logf reports errors: the database failing (once, until it answers
	// again) and errors writing a scrape's response.
	Logf func(format string, args ...any)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Metrics is the registry of one server and its request counters.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	prefix   string
	logf     func(format string, args ...any)
}

// New builds the registry: certmint's own collector, the request counters,
// certmint_build_info and the Go runtime and process collectors. It has a
// registry of its own, not prometheus.DefaultRegisterer, so two servers in
// one process (tests) each count their own requests.
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	m := &Metrics{reg: prometheus.NewRegistry(), prefix: o.Prefix, logf: o.Logf}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certmint_http_requests_total",
		Help: "HTTP requests served, by kind (crl, ca_certificate, index, ocsp, other) and status code.",
	}, []string{"kind", "code"})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "certmint_build_info",
		Help: "Always 1; the labels say which certmint and Go built the server.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(o.Version, runtime.Version()).Set(1)
	m.reg.MustRegister(
		newCollector(o),
		m.requests,
		build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the registry the metrics are gathered from.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Println logs an error of promhttp (promhttp.Logger).
func (m *Metrics) Println(v ...any) {
	m.logf("metrics: %s", fmt.Sprint(v...))
}
