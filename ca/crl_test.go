package ca

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certmint/certmint/crl"
)

func TestPublishCRLNumbersIncrease(t *testing.T) {
	s := newHome(t)
	var last int64
	for i := 0; i < 3; i++ {
		pub, err := s.PublishCRLs(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pub {
			rl, err := crl.ReadFile(p.Path)
			if err != nil {
				t.Fatal(err)
			}
			if rl.Number.Int64() != p.Number {
				t.Errorf("%s: file has number %v, published %d", p.Slug, rl.Number, p.Number)
			}
			if p.Slug == s.Issuing.Slug {
				if p.Number <= last {
					t.Errorf("CRL number %d after %d", p.Number, last)
				}
				last = p.Number
			}
			a, _ := s.Authority(p.Slug)
			if err := rl.CheckSignatureFrom(a.Cert); err != nil {
				t.Errorf("%s: %v", p.Slug, err)
			}
			if want := s.CRLLifetime(a); rl.NextUpdate.Sub(time.Now()) < want-time.Minute {
				t.Errorf("%s: next update %v, want about now+%v", p.Slug, rl.NextUpdate, want)
			}
		}
	}
}

// Concurrent publishers, each with its own connection as separate processes
// would have: numbers never repeat, and the file on disk always carries the
// highest number allocated so far.
func TestPublishCRLConcurrent(t *testing.T) {
	s := newHome(t)
	const workers, rounds = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	nums := make(chan int64, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := reopen(s.Home, testCAPassword)
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			for r := 0; r < rounds; r++ {
				p, err := st.PublishCRL(context.Background(), st.Issuing, time.Now())
				if err != nil {
					errs <- err
					return
				}
				nums <- p.Number
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(nums)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	var max int64
	for n := range nums {
		if seen[n] {
			t.Errorf("CRL number %d allocated twice", n)
		}
		seen[n] = true
		max = maxInt(max, n)
	}
	rl, err := crl.ReadFile(filepath.Join(s.PublicDir(), s.Issuing.Slug+".crl"))
	if err != nil {
		t.Fatal(err)
	}
	if rl.Number.Int64() != max {
		t.Errorf("published CRL has number %v, highest allocated %d", rl.Number, max)
	}
	if len(seen) != workers*rounds {
		t.Errorf("%d numbers for %d publications", len(seen), workers*rounds)
	}
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func TestParseSerial(t *testing.T) {
	tests := []struct {
		in   string
		want string // hex of the value, "" for an error
	}{
		{"5D3F", "5d3f"},
		{"5d:3f", "5d3f"},
		{"0x5d3f", "5d3f"},
		{"5 D3 F", "5d3f"},
		{"ABC", "abc"},
		{"", ""},
		{"xyz", ""},
		{fmt.Sprintf("%041d", 1), ""}, // longer than 20 bytes
	}
	for _, tc := range tests {
		n, err := ParseSerial(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseSerial(%q) = %x, want an error", tc.in, n)
		case tc.want != "" && err != nil:
			t.Errorf("ParseSerial(%q): %v", tc.in, err)
		case err == nil && n.Text(16) != tc.want:
			t.Errorf("ParseSerial(%q) = %x, want %s", tc.in, n, tc.want)
		}
	}
	if got := SerialHex(big.NewInt(0xabc)); got != "0ABC" {
		t.Errorf("SerialHex = %s, want 0ABC (even length, as openssl prints)", got)
	}
}
