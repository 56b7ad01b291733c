package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/ocspresp"
)

// serveOCSPHelp is what `serve --help` says of OCSP and of a shared CA.
const serveOCSPHelp = "\n\nOCSP (RFC 6960): with the CA password it also answers OCSP requests, GET and POST, at\n" +
	"<base URL>/ocsp (and /ocsp) for every CA of the home, from the issuance database: good, revoked\n" +
	"(time and reason) or unknown, as of the moment of the request. Responses are signed by a delegated\n" +
	"responder certificate per CA (ECDSA P-256, id-kp-OCSPSigning, id-pkix-ocsp-nocheck, 14 days), kept in\n" +
	"the CA's folder and re-issued at start or when a third of its life is left; it is recorded like any\n" +
	"certificate (`certmint list --template ocsp-responder`). Signed responses are cached per CA, serial\n" +
	"and status and re-signed after 30 minutes (nextUpdate is 1 hour); a request with a nonce gets a fresh\n" +
	"response with the nonce. Without the CA password OCSP answers tryLater. Test it with\n" +
	"  openssl ocsp -issuer ISSUING.crt -cert LEAF.crt -url <base URL>/ocsp -CAfile ROOT.crt\n" +
	"Certificates name the responder in their AIA when their template sets [revocation] ocsp = true,\n" +
	"or when issued (or signed, or batch-issued) with --ocsp.\n\n" +
	"Shared CA: it republishes a CA's CRL within seconds when the database records a revocation the\n" +
	"published CRL lacks, such as one made on another host of a shared PostgreSQL database (which\n" +
	"announces it with NOTIFY; SQLite is polled every 2 seconds)."

// startOCSP makes serve's OCSP responder: the responder certificate of
// every CA (kept or issued), a responder answering from the database, and
// the goroutine that replaces responder certificates before they run out.
func startOCSP(ctx context.Context, s *ca.Store, interval time.Duration, logf func(string, ...any)) (*ocspresp.Responder, error) {
	rs, err := s.OCSPResponders(ctx, time.Now(), logf)
	if err != nil {
		return nil, err
	}
	r := ocspresp.New(s.DB)
	s.DB.KeepReaders(ocspresp.DefaultReaders + 2) // + the CRL publishers'
	use := func(x *ca.OCSPResponder) error {
		return r.SetSigner(x.CA.Slug, x.CA.Cert, x.Cert, x.Key)
	}
	for _, x := range rs {
		if err := use(x); err != nil {
			return nil, err
		}
	}
	go s.KeepOCSPRespondersFresh(ctx, rs, interval, func(x *ca.OCSPResponder) {
		if err := use(x); err != nil {
			logf("%v", err)
		}
	}, logf)
	return r, nil
}

// ocspHandler puts the OCSP responder (or, when there is none, its
// tryLater stand-in) in front of the files, and says where it answers.
func ocspHandler(ctx context.Context, o out, s *ca.Store, h *crl.Handler, on bool, interval time.Duration) http.Handler {
	logf := func(f string, args ...any) { fmt.Fprintf(o.stderr, "certmint: "+f+"\n", args...) }
	if on {
		r, err := startOCSP(ctx, s, interval, logf)
		if err == nil {
			r.Log = h.Log
			logf("OCSP responder at %s (and /ocsp on this server)", s.Config.OCSPURL())
			return r.Route(h.Prefix, h)
		}
		o.warnf("OCSP is off: %v", err)
	}
	return ocspresp.Unavailable(h.Prefix, h, h.Log)
}

// ocspFlag is issue's, sign's and batch's --ocsp (renew keeps what the old
// certificate had).
var ocspFlag = &cli.BoolFlag{Name: "ocsp", Usage: "name the OCSP responder of `certmint serve` (<base URL>/ocsp) in the AIA, even if the template does not ([revocation] ocsp = true)"}
