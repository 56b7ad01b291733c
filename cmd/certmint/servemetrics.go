package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/metrics"
)

// Flags of `serve` for its Prometheus metrics.
var (
	metricsFlag = &cli.BoolFlag{Name: "metrics",
		Usage: "serve Prometheus metrics at /metrics: CRL and CA certificate expiry, certificates by state, requests"}
	metricsAddrFlag = &cli.StringFlag{Name: "metrics-addr",
		Usage: "serve the metrics on this `ADDRESS` instead of --addr, e.g. 127.0.0.1:8081 when --addr is public (implies --metrics)"}
)

// serveMetrics is what --metrics adds to serve: the metrics (nil without
// --metrics), and the server of --metrics-addr, already listening, or nil.
type serveMetrics struct {
	m   *metrics.Metrics
	srv *http.Server
	ln  net.Listener
}

// wrap is the handler for --addr: site, its requests counted, with
// /metrics beside it unless --metrics-addr moved the metrics away.
func (sm *serveMetrics) wrap(site http.Handler) http.Handler {
	switch {
	case sm.m == nil:
		return site
	case sm.srv != nil:
		return sm.m.Instrument(site)
	}
	return sm.m.Mux(site)
}

// checkMetricsFlags refuses a bad --metrics-addr before anything is opened.
func checkMetricsFlags(c *cli.Context) error {
	if c.IsSet(metricsAddrFlag.Name) {
		return checkAddrFlag("--metrics-addr", c.String(metricsAddrFlag.Name))
	}
	return nil
}

// setupMetrics makes the metrics of the folder h serves when --metrics or
// --metrics-addr is given, and listens on --metrics-addr; listen is
// --addr's listener. store is nil when serving --dir without a home,
// which leaves only the request counters and what the served files say.
func setupMetrics(c *cli.Context, o out, h *crl.Handler, store *ca.Store, listen string) (*serveMetrics, error) {
	addr := c.String(metricsAddrFlag.Name)
	if !c.Bool(metricsFlag.Name) && addr == "" {
		return &serveMetrics{}, nil
	}
	m := metrics.New(metrics.Options{Dir: h.Dir, Prefix: h.Prefix, Store: store, Version: version,
		Logf: func(f string, args ...any) { o.warnf(f, args...) }})
	what := ""
	if store == nil {
		what = " (no CA home: requests and the served CRLs and CA certificates only, no certificate counts)"
	}
	if addr == "" {
		fmt.Fprintf(o.stderr, "certmint: Prometheus metrics at http://%s%s%s\n", listen, metrics.Path, what)
		return &serveMetrics{m: m}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (--metrics-addr): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(metrics.Path, m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintf(o.stderr, "certmint: Prometheus metrics at http://%s%s%s\n", ln.Addr(), metrics.Path, what)
	return &serveMetrics{m: m, srv: srv, ln: ln}, nil
}

// checkAddrFlag is checkAddr for another flag than --addr.
func checkAddrFlag(flag, addr string) error {
	hint := "e.g. " + flag + " 127.0.0.1:8081, or " + flag + " :8081 for every interface"
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageHint(hint, "%s %q is not HOST:PORT", flag, addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usageHint(hint, "%s %q: %q is not a port number (0 to 65535)", flag, addr, port)
	}
	return nil
}

// serve runs the metrics server until it fails or is shut down; errc gets
// its error, as it gets the site server's.
func (sm *serveMetrics) serve(errc chan<- error) {
	if sm.srv != nil {
		go func() { errc <- sm.srv.Serve(sm.ln) }()
	}
}

// shutdown stops the metrics server, finishing the scrapes in flight.
func (sm *serveMetrics) shutdown(ctx context.Context) error {
	if sm.srv == nil {
		return nil
	}
	return sm.srv.Shutdown(ctx)
}

// close releases the listener of a server that never started.
func (sm *serveMetrics) close() {
	if sm.ln != nil {
		sm.ln.Close()
	}
}
