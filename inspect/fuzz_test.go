package inspect

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzInspect feeds arbitrary bytes to the kind detection and every reader
// (certificate, chain, CSR, CRL, key, PKCS#12) and to both outputs: input
// must never panic. The corpus starts from every fixture, whole and cut.
//
//	go test ./inspect -run '^$' -fuzz FuzzInspect -fuzztime 60s
func FuzzInspect(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range files {
		if filepath.Ext(p) == ".sh" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Data(data, Options{
			Now:      fixedNow,
			Password: password(fixturePassword),
			// The fixtures use 2048 iterations; a mutated count must not
			// make one input run for minutes.
			MaxIterations: 4096,
		})
		if err != nil {
			if r != nil {
				t.Fatal("a report and an error")
			}
			return
		}
		if err := r.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
