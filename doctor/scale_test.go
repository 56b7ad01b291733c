package doctor

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
)

// BenchmarkDoctorScale runs doctor over the home CERTMINT_BENCH_SCALE_HOME
// names (made by ca's TestMakeScaleHome): `make bench` profiles it.
func BenchmarkDoctorScale(b *testing.B) {
	home := os.Getenv("CERTMINT_BENCH_SCALE_HOME")
	if home == "" {
		b.Skip("set CERTMINT_BENCH_SCALE_HOME to a home made by ca's TestMakeScaleHome")
	}
	s, err := ca.Open(home, testCAPassword)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := Run(context.Background(), s, Options{Now: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}
