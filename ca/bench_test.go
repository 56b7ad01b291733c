package ca

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"testing"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

// BenchmarkIssue is one whole issuance of a client bundle (RSA-2048 key,
// certificate, .pfx, .crt, .key, chain), including the database record and
// the files, with the CA key already unlocked.
func BenchmarkIssue(b *testing.B) {
	s := newHome(b)
	tm := mustTemplate(b, "client")
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
