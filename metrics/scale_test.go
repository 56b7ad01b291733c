//go:build unix

package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
)

// BenchmarkScrapeScale scrapes /metrics of the home CERTMINT_BENCH_SCALE_HOME
// names (made by ca's TestMakeScaleHome: 100,000 certificates, 10,000 of
// them revoked and on the issuing CA's CRL). "steady" is every scrape but
// the first, the CRLs' parse kept; "first" parses them again.
func BenchmarkScrapeScale(b *testing.B) {
	home := os.Getenv("CERTMINT_BENCH_SCALE_HOME")
	if home == "" {
		b.Skip("set CERTMINT_BENCH_SCALE_HOME to a home made by ca's TestMakeScaleHome")
	}
	s, err := ca.Open(home, func() (string, error) { return "", errors.New("no CA key is needed") })
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	site := &crl.Handler{Dir: s.PublicDir()}
	get := func(m *Metrics) {
		w := httptest.NewRecorder()
		m.Handler().ServeHTTP(w, httptest.NewRequest("GET", Path, nil))
		if w.Code != 200 {
			b.Fatalf("scrape: %d %s", w.Code, w.Body)
		}
		io.Copy(io.Discard, w.Body)
	}
	b.Run("steady", func(b *testing.B) {
		m := New(Options{Dir: s.PublicDir(), Store: s})
		m.Mux(site)
		get(m)
		cpu := cpuTime()
		for b.Loop() {
			get(m)
		}
		reportCPU(b, cpu)
	})
	b.Run("first", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			get(New(Options{Dir: s.PublicDir(), Store: s}))
		}
		reportCPU(b, cpu)
	})
}

// cpuTime is the CPU time the process has used: on a machine others share,
// a steadier cost than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime()-since)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
