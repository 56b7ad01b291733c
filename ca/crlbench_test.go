package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/testkit"
)

// addRevoked inserts n revoked certificate records of the issuing CA in one
// transaction, as a CA with a long history would have.
func addRevoked(tb testing.TB, s *Store, n int) {
	tb.Helper()
	tx, err := rawX(s).Beginx()
	if err != nil {
		tb.Fatal(err)
	}
	stmt, err := tx.Preparex(`INSERT INTO certificates(serial_number, authority_key_identifier, ca_label, status, reason, expiry, revoked_at, pem)
		VALUES(?, ?, ?, 'revoked', ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	aki := fmt.Sprintf("%x", s.Issuing.Cert.SubjectKeyId)
	// A real record holds its certificate's PEM (about 1.5 KB): the rows a
	// CRL build scans past are that big.
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: make([]byte, 1100)}))
	expiry, revoked := time.Now().Add(365*24*time.Hour).UTC(), time.Now().Add(-time.Hour).UTC()
	max := new(big.Int).Lsh(big.NewInt(1), 159)
	for i := 0; i < n; i++ {
		serial, _ := rand.Int(rand.Reader, max)
		if _, err := stmt.Exec(serial.String(), aki, s.Issuing.Slug, i%6, expiry, revoked, pemText); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPublishCRL is `certmint crl` for the issuing CA minus process
// start and key unlock: allocate the number, read every revocation from the
// database, sign, write .crl and .crl.pem atomically.
func BenchmarkPublishCRL(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			s := newHome(b)
			addRevoked(b, s, n)
			if _, err := s.Key(s.Issuing); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var p *PublishedCRL
			for i := 0; i < b.N; i++ {
				var err error
				if p, err = s.PublishCRL(context.Background(), s.Issuing, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			rl, err := crl.ReadFile(p.Path)
			if err != nil || len(rl.RevokedCertificateEntries) != n {
				b.Fatalf("published %d entries (%v), want %d", len(rl.RevokedCertificateEntries), err, n)
			}
			b.ReportMetric(float64(len(rl.Raw)), "crl-bytes")
		})
	}
}

// BenchmarkCreateRevocationListBare is the floor: x509.CreateRevocationList
// on entries already in memory, signed by the same CA key.
func BenchmarkCreateRevocationListBare(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			s := newHome(b)
			key, err := s.Key(s.Issuing)
			if err != nil {
				b.Fatal(err)
			}
			entries := make([]x509.RevocationListEntry, n)
			max := new(big.Int).Lsh(big.NewInt(1), 159)
			for i := range entries {
				serial, _ := rand.Int(rand.Reader, max)
				entries[i] = x509.RevocationListEntry{SerialNumber: serial, RevocationTime: time.Now(), ReasonCode: i % 6}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(int64(i + 1)),
					ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour), RevokedCertificateEntries: entries}, s.Issuing.Cert, key)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMakeBenchHome writes a CA home with many revocations for `make
// bench`, which times the whole `certmint crl` process on it. It runs only
// when CERTMINT_BENCH_HOME names the folder to create; the CA password is
// testPassword.
func TestMakeBenchHome(t *testing.T) {
	dir := os.Getenv("CERTMINT_BENCH_HOME")
	if dir == "" {
		t.Skip("set CERTMINT_BENCH_HOME (and CERTMINT_BENCH_REVOKED) to make a benchmark home")
	}
	n, err := strconv.Atoi(os.Getenv("CERTMINT_BENCH_REVOKED"))
	if err != nil {
		t.Fatal("CERTMINT_BENCH_REVOKED must be a number")
	}
	if err := testkit.CopyDir(fixtureHome, dir); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addRevoked(t, s, n)
}
