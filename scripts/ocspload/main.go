// Command ocspload is `make bench`'s OCSP load generator: CLIENTS kept-alive
// HTTP clients ask a responder about the certificates given for DURATION,
// and it prints the correct responses per second and the latency
// percentiles (one line; -json for the figures alone). Every response is
// checked: a successful OCSP response for the serial asked, signed by a
// responder the issuing CA certified.
//
//	go run ./scripts/ocspload -url http://127.0.0.1:8080/ocsp -issuer issuing.crt -c 200 -d 10s leaf1.crt leaf2.crt ...
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/ocspload"
)

func main() {
	url := flag.String("url", "", "the responder `URL`")
	issuerFile := flag.String("issuer", "", "the issuing CA certificate (PEM)")
	clients := flag.Int("c", 200, "concurrent clients")
	duration := flag.Duration("d", 10*time.Second, "how long")
	get := flag.Bool("get", false, "GET with the base64 request in the path instead of POST")
	name := flag.String("name", "", "label of the output line")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	if *url == "" || *issuerFile == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: ocspload -url URL -issuer CA.crt [-c N] [-d DURATION] [-get] LEAF.crt...")
		os.Exit(2)
	}
	issuer, err := certfile.ReadCertificates(*issuerFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocspload:", err)
		os.Exit(1)
	}
	var reqs []ocspload.Request
	for _, f := range flag.Args() {
		certs, err := certfile.ReadCertificates(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ocspload:", err)
			os.Exit(1)
		}
		r, err := ocspload.NewRequest(certs[0], issuer[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "ocspload:", err)
			os.Exit(1)
		}
		reqs = append(reqs, r)
	}
	res := ocspload.Run(context.Background(), ocspload.Config{URL: *url, Requests: reqs, Clients: *clients, Duration: *duration, GET: *get})
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(map[string]any{
			"name": *name, "requests": res.Requests, "ok": res.OK, "failed": res.Failed, "malformed": res.Malformed,
			"per_second": res.PerSecond(), "p50_ms": float64(res.P50) / 1e6, "p99_ms": float64(res.P99) / 1e6, "errors": res.Errors,
		})
	} else {
		fmt.Printf("%-28s %s\n", *name, res)
		for _, e := range res.Errors {
			fmt.Printf("%-28s   %s\n", "", e)
		}
	}
	if res.Failed+res.Malformed+res.Wrong > 0 {
		os.Exit(1)
	}
}
