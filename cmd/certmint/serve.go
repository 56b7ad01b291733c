package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/secret"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve public/ (CRLs and CA certificates) and OCSP over HTTP, re-signing CRLs before they expire",
		Description: "Serves the home's public/ folder (or --dir) at / and at the path of the base URL, with the\n" +
			"content types validators expect. With the CA password (CERTMINT_CA_PASSWORD or\n" +
			"--ca-password-file) it re-signs each CRL when half its lifetime has passed. Its index page lists\n" +
			"the root, then the CAs under it, with thumbprints and CRL state, and links each CA's .crt, .cer\n" +
			"(base64), -chain.pem, .crl and .crl.pem; the .cer and -chain.pem are made from the .crt files.\n" +
			"It warns when it listens on another host or port than the base URL names." + serveOCSPHelp,
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "listen `ADDRESS` (use :80 to serve the CDP on every interface)"},
			&cli.StringFlag{Name: "dir", Usage: "serve this `DIR` instead of the home's public/ (no re-signing)"},
			&cli.StringFlag{Name: "prefix", Usage: "URL path prefix to serve the files under (default: the base URL's path)"},
			&cli.DurationFlag{Name: "check-every", Value: time.Minute, Usage: "how often to check whether a CRL needs re-signing"},
			&cli.BoolFlag{Name: "quiet", Usage: "no access log"},
			caPasswordFileFlag,
			metricsFlag,
			metricsAddrFlag,
		},
		Action: serveAction,
	}
}

func serveAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := checkAddr(c.String("addr")); err != nil {
		return err
	}
	if err := checkMetricsFlags(c); err != nil {
		return err
	}
	o := output(c)
	h := &crl.Handler{Dir: c.String("dir"), Prefix: c.String("prefix")}
	var store *ca.Store
	if h.Dir == "" || c.IsSet(homeFlag.Name) {
		s, err := openCA(c)
		if err != nil {
			var nf *ca.NotFoundError
			if errors.As(err, &nf) && h.Dir == "" {
				return usageHint("give --dir FOLDER to serve any folder, or --home pointing at a CA", "%v", err)
			}
			return err
		}
		defer s.Close()
		store = s
		if h.Dir == "" {
			h.Dir = s.PublicDir()
		}
		h.BaseURL = s.Config.BaseURL
		if h.Prefix == "" {
			if u, err := url.Parse(s.Config.BaseURL); err == nil {
				h.Prefix = u.Path
			}
		}
	}
	if st, err := os.Stat(h.Dir); err != nil || !st.IsDir() {
		return usageErrorf("--dir %s is not a folder", h.Dir)
	}
	// A refusal is a warning even with --quiet: someone put a link there.
	h.Refused = func(name, reason string) {
		o.warnf("not serving %q: %s", name, reason)
	}
	if !c.Bool("quiet") {
		h.Log = func(r *http.Request, status, size int) {
			fmt.Fprintln(o.stderr, crl.AccessLine(time.Now(), r, status, size))
		}
	}
	if c.Duration("check-every") <= 0 {
		return usageErrorf("--check-every must be positive")
	}

	ln, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", c.String("addr"), err)
	}
	sm, err := setupMetrics(c, o, h, store, ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	defer sm.close()
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	// The index page shows these too; here they reach whoever starts it.
	h.Listen = ln.Addr().String()
	for _, w := range crl.ListenWarnings(h.BaseURL, h.Listen, h.Prefix) {
		o.warnf("%s", w)
	}

	var handler http.Handler = h
	if store != nil && c.String("dir") == "" {
		// Re-signing needs both CA keys; without the password the folder is
		// still served, and the warning says until when its CRLs hold.
		ocspOn := true
		if err := store.UnlockAll(); err != nil {
			var miss *secret.MissingError
			if !errors.As(err, &miss) {
				return err
			}
			o.warnf("no CA password: CRLs will not be re-signed; run `certmint crl` before %s, or give CERTMINT_CA_PASSWORD / --ca-password-file", nextDue(store))
			o.warnf("no CA password: OCSP is off (it answers tryLater), and revocations made on other hosts reach the CRLs only through `certmint crl`")
			ocspOn = false
		} else {
			logf := func(f string, args ...any) { fmt.Fprintf(o.stderr, "certmint: "+f+"\n", args...) }
			go store.KeepCRLsFresh(ctx, c.Duration("check-every"), logf)
			go store.KeepCRLsCurrent(ctx, ca.RevocationPollInterval, logf)
		}
		handler = ocspHandler(ctx, o, store, h, ocspOn, c.Duration("check-every"))
	}

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintf(o.stderr, "certmint: serving %s at http://%s%s/ (Ctrl-C stops)\n", filepath.Clean(h.Dir), ln.Addr(), h.Prefix)
	srv.Handler = sm.wrap(srv.Handler) // --metrics: requests counted, /metrics beside the files
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	sm.serve(errc)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful shutdown: finish the responses in flight.
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := errors.Join(srv.Shutdown(shutdownCtx), sm.shutdown(shutdownCtx)); err != nil {
		return err
	}
	fmt.Fprintln(o.stderr, "certmint: stopped")
	return nil
}

// checkAddr refuses a listen address that is not HOST:PORT before anything
// is opened: a typo is a usage error, unlike a port already in use.
func checkAddr(addr string) error {
	const hint = "e.g. --addr 127.0.0.1:8080, or --addr :80 for every interface"
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageHint(hint, "--addr %q is not HOST:PORT", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usageHint(hint, "--addr %q: %q is not a port number (0 to 65535)", addr, port)
	}
	return nil
}

// nextDue is the earliest nextUpdate of the published CRLs.
func nextDue(s *ca.Store) string {
	r, err := s.Status(context.Background(), ca.StatusOptions{Now: time.Now()})
	if err != nil || len(r.CRLs) == 0 {
		return "they expire"
	}
	first := r.CRLs[0].NextUpdate
	for _, l := range r.CRLs {
		if l.NextUpdate.Before(first) {
			first = l.NextUpdate
		}
	}
	return first.Format("2006-01-02 15:04 MST")
}
