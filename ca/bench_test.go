package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// BenchmarkIssue is one whole issuance of a client bundle (RSA-2048 key,
// certificate, .pfx, .crt, .key, chain), including the database record and
// the files, with the CA key already unlocked.
func BenchmarkIssue(b *testing.B) {
	benchIssue(b, newHome(b), mustTemplate(b, "client"))
}

// benchIssue issues b.N bundles of template tm, one at a time, with the
// CA key unlocked before the clock starts.
func benchIssue(b *testing.B, s *Store, tm *templates.Template) {
	if _, err := s.Key(s.Issuing); err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := s.Issue(context.Background(), IssueRequest{Template: tm,
			Subject: pkix.Name{CommonName: fmt.Sprintf("pc%d.acme.local", i)}, Out: out, Password: "bench"})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueECDSA is the issuance of issue 13 item 5: one ECDSA P-256
// client bundle (crt, key, pfx), record and files included, signed by the
// bench home's issuing CA (RSA-4096 with CERTMINT_BENCH_FLOOR_HOME, as
// scripts/bench.sh sets it) with its key already unlocked: what one
// `certmint issue` process costs beyond the unlock and its own start.
func BenchmarkIssueECDSA(b *testing.B) {
	benchIssue(b, benchHome(b), ecdsaTemplate(b, "bench-ecdsa", "crt", "key", "pfx"))
}

// BenchmarkIssueParts splits an issuance into its three costs: key
// generation, signing (cfssl signer + zlint), and the .pfx encoding.
func BenchmarkIssueParts(b *testing.B) {
	s := newHome(b)
	tm := mustTemplate(b, "client")
	caKey, err := s.Key(s.Issuing)
	if err != nil {
		b.Fatal(err)
	}
	spec := keys.Spec{Type: "rsa", Bits: 2048}
	p, err := s.plan(context.Background(), IssueRequest{Template: tm, Subject: pkix.Name{CommonName: "pc.acme.local"}, Out: b.TempDir(), Password: "x"}, true)
	if err != nil {
		b.Fatal(err)
	}
	key, _ := keys.Generate(spec)
	cert, _, err := s.signKey(p, key, caKey)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("keygen-rsa2048", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := keys.Generate(spec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign+lint", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := s.signKey(p, key, caKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lint", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Lint(cert.Raw, tm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pfx-modern", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := bundle.PFX(key, cert, s.bundleChain(), "x", templates.PFXModern, "pc"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pfx-legacy", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := bundle.PFX(key, cert, s.bundleChain(), "x", templates.PFXLegacy, "pc"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUnlockCAKey is the cost of decrypting a CA key (PBKDF2-SHA256,
// 600,000 iterations): paid once per command.
func BenchmarkUnlockCAKey(b *testing.B) {
	s := newHome(b)
	for i := 0; i < b.N; i++ {
		if _, err := readCAKey(s.Issuing.KeyPath(), testPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// benchHome is the test home, or a copy of the home CERTMINT_BENCH_FLOOR_HOME
// names (its CA password in CERTMINT_CA_PASSWORD): scripts/bench.sh passes
// its RSA-4096 home so that benchmarks pay for the same CA key as the CLI.
func benchHome(b *testing.B) *Store {
	home := os.Getenv("CERTMINT_BENCH_FLOOR_HOME")
	if home == "" {
		return newHome(b)
	}
	dir := filepath.Join(b.TempDir(), "pki")
	if err := testkit.CopyDir(home, dir); err != nil {
		b.Fatal(err)
	}
	s, err := Open(dir, func() (string, error) { return os.Getenv("CERTMINT_CA_PASSWORD"), nil })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkFloor is the in-process floor of a batch: on W workers, only
// key generation ("keys"), plus a certificate signed with crypto/x509 by
// the issuing CA ("key+sign"), plus the .pfx ("key+sign+pfx"): no cfssl,
// no lint, no disk, no database. b.N bundles are shared by the workers, so
// ns/op is wall time per bundle. `make bench` compares batch with it.
//
// CERTMINT_BENCH_FLOOR_HOME names another home to sign with (its CA
// password in CERTMINT_CA_PASSWORD), so scripts/bench.sh compares batch with
// a floor that pays for the same CA key (RSA-4096 by default).
func BenchmarkFloor(b *testing.B) {
	s := benchHome(b)
	caKey, err := s.Key(s.Issuing)
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range []keys.Spec{{Type: "rsa", Bits: 2048}, {Type: "ecdsa", Curve: "P-256"}} {
		for _, workers := range []int{1, runtime.NumCPU()} {
			for _, stage := range []string{"keys", "key+sign", "key+sign+pfx"} {
				name := fmt.Sprintf("%s/workers=%d/%s", spec, workers, stage)
				b.Run(name, func(b *testing.B) {
					var next atomic.Int64
					var wg sync.WaitGroup
					for w := 0; w < workers; w++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for next.Add(1) <= int64(b.N) {
								key, err := keys.Generate(spec)
								if err != nil {
									b.Error(err)
									return
								}
								if stage == "keys" {
									continue
								}
								cert := floorSign(b, s, caKey, key)
								if stage == "key+sign+pfx" {
									if _, err := bundle.PFX(key, cert, s.bundleChain(), "x", templates.PFXModern, "pc"); err != nil {
										b.Error(err)
										return
									}
								}
							}
						}()
					}
					wg.Wait()
				})
			}
		}
	}
}

func floorSign(b *testing.B, s *Store, caKey crypto.Signer, key crypto.Signer) *x509.Certificate {
	serial, _ := randomSerial()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "pc.acme.local"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames: []string{"pc.acme.local"}, CRLDistributionPoints: []string{"http://pki.example/x.crl"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.Issuing.Cert, key.Public(), caKey)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}
