package main

import (
	"crypto/x509"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/promtest"
)

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeMetrics is issue 14 item 4 through the command line: a home
// with certificates issued, revoked and expiring soon (--days), served
// with --metrics, scraped and parsed with expfmt.
func TestServeMetrics(t *testing.T) {
	home := newHome(t)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
	out := t.TempDir()
	for _, a := range [][]string{
		{"--cn", "a.example.com"},
		{"--cn", "b.example.com"},
		{"--cn", "c.example.com", "--days", "10"},
	} {
		if code, _, stderr := runCLI(t, append([]string{"issue", "--home", home, "--template", "client", "--out", out}, a...)...); code != 0 {
			t.Fatalf("issue %v: %s", a, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "revoke", "--home", home, "--cert", filepath.Join(out, "b.example.com.crt")); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	base, stderr := startServe(t, "--home", home, "--metrics")
	if m := metricsAtRe.FindStringSubmatch(stderr.String()); m == nil || m[1] != base+"/metrics" {
		t.Errorf("serve does not say the metrics are at %s/metrics:\n%s", base, stderr)
	}
	root, issuing := "cli-root-ca", "cli-issuing-ca"
	for path, want := range map[string]int{"/" + issuing + ".crl": 200, "/" + root + ".crt": 200, "/": 200, "/missing.crl": 404} {
		if got := httpStatus(t, base+path); got != want {
			t.Fatalf("GET %s: %d, want %d", path, got, want)
		}
	}
	now := time.Now()
	fams := promtest.Scrape(t, base+"/metrics")
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"certmint_certificates", []string{"template=client", "state=valid"}, 2},
		{"certmint_certificates", []string{"template=client", "state=revoked"}, 1},
		{"certmint_certificates", []string{"template=client", "state=expired"}, 0},
		{"certmint_certificates_expiring_within_30_days", []string{"template=client"}, 1},
		{"certmint_crl_published", []string{"ca=" + issuing, "role=issuing"}, 1},
		{"certmint_crl_revoked_entries", []string{"ca=" + issuing, "role=issuing"}, 1},
		{"certmint_crl_published", []string{"ca=" + root, "role=root"}, 1},
		{"certmint_database_up", nil, 1},
		{"certmint_http_requests_total", []string{"kind=crl", "code=200"}, 1},
		{"certmint_http_requests_total", []string{"kind=crl", "code=404"}, 1},
		{"certmint_http_requests_total", []string{"kind=ca_certificate", "code=200"}, 1},
		{"certmint_http_requests_total", []string{"kind=index", "code=200"}, 1},
	} {
		if got, ok := promtest.Sample(fams, tc.name, tc.labels...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// The seconds left, against the served files, within the time the
	// scrape took.
	for slug, role := range map[string]string{root: "root", issuing: "issuing"} {
		rl, err := crl.ReadFile(filepath.Join(home, "public", slug+".crl"))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := promtest.Sample(fams, "certmint_crl_time_to_next_update_seconds", "ca="+slug, "role="+role)
		if want := rl.NextUpdate.Sub(now).Seconds(); math.Abs(got-want) > 5 {
			t.Errorf("%s CRL: %v s to nextUpdate, want %v", slug, got, want)
		}
		der, err := os.ReadFile(filepath.Join(home, "public", slug+".crt"))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		got, _ = promtest.Sample(fams, "certmint_ca_certificate_time_to_expiry_seconds", "ca="+slug, "role="+role)
		if want := cert.NotAfter.Sub(now).Seconds(); math.Abs(got-want) > 5 {
			t.Errorf("%s certificate: %v s to notAfter, want %v", slug, got, want)
		}
	}
}

var metricsAtRe = regexp.MustCompile(`Prometheus metrics at (http://\S+)`)

// TestServeMetricsAddr: --metrics-addr serves the metrics on a listener
// of their own, and not on --addr, while counting --addr's requests.
func TestServeMetricsAddr(t *testing.T) {
	home := newHome(t)
	base, stderr := startServe(t, "--home", home, "--metrics-addr", "127.0.0.1:0")
	m := metricsAtRe.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("serve does not say where the metrics are:\n%s", stderr)
	}
	if got := httpStatus(t, base+"/metrics"); got != 404 {
		t.Errorf("GET --addr /metrics: %d, want 404 (they are on --metrics-addr)", got)
	}
	httpStatus(t, base+"/cli-issuing-ca.crl")
	fams := promtest.Scrape(t, m[1])
	for _, labels := range [][]string{{"kind=other", "code=404"}, {"kind=crl", "code=200"}} {
		if v, _ := promtest.Sample(fams, "certmint_http_requests_total", labels...); v != 1 {
			t.Errorf("requests %v: %v, want 1", labels, v)
		}
	}
	if v, _ := promtest.Sample(fams, "certmint_database_up"); v != 1 {
		t.Errorf("certmint_database_up %v", v)
	}
}

// TestServeMetricsDir: without a home, the metrics say what the folder's
// files say, and serve says that is all.
func TestServeMetricsDir(t *testing.T) {
	home := newHome(t)
	// urfave/cli keeps a shared flag's state from an earlier run in this
	// process (a test's CERTMINT_HOME), which would make serve open that
	// home: start from the flag's defaults, as a new process does. (No
	// test of this package runs in parallel.)
	homeFlag.HasBeenSet, homeFlag.Value = false, "pki"
	base, stderr := startServe(t, "--dir", filepath.Join(home, "public"), "--metrics")
	if !strings.Contains(stderr.String(), "no CA home") {
		t.Errorf("serve --dir --metrics does not say which metrics are missing:\n%s", stderr)
	}
	fams := promtest.Scrape(t, base+"/metrics")
	if v, ok := promtest.Sample(fams, "certmint_crl_published", "ca=cli-issuing-ca", "role=issuing"); !ok || v != 1 {
		t.Errorf("issuing CRL published %v (present %v)", v, ok)
	}
	if _, ok := fams["certmint_certificates"]; ok {
		t.Error("certificate counts without a home")
	}
}

func TestServeMetricsBadAddr(t *testing.T) {
	home := newHome(t)
	for _, addr := range []string{"9100", "127.0.0.1:http-alt-x", "localhost:99999"} {
		code, _, stderr := runCLI(t, "serve", "--home", home, "--metrics-addr", addr)
		if code != 2 || !strings.Contains(stderr, "--metrics-addr") || !strings.Contains(stderr, "hint:") {
			t.Errorf("--metrics-addr %s: exit %d\n%s", addr, code, stderr)
		}
	}
}
