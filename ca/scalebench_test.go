package ca

import (
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/testkit"
)

// TestMakeScaleHome writes a CA home of many certificates for `make
// bench`, which times list, status, doctor and crl on it (each must stay
// under 2 s and 200 MiB with 100,000). It runs only when
// CERTMINT_BENCH_SCALE_HOME names the folder to create and
// CERTMINT_BENCH_SCALE_N the number of certificates; the CA password is
// testPassword. The rows are inserted directly, as a CA with a long
// history holds them: 80% valid (expiries spread over a year, so about 8%
// of them end within 30 days), 10% expired, 10% revoked, each with its
// template, its ~1.5 KB PEM and its issuance event.
func TestMakeScaleHome(t *testing.T) {
	dir := os.Getenv("CERTMINT_BENCH_SCALE_HOME")
	if dir == "" {
		t.Skip("set CERTMINT_BENCH_SCALE_HOME and CERTMINT_BENCH_SCALE_N to make a scale benchmark home")
	}
	n, err := strconv.Atoi(os.Getenv("CERTMINT_BENCH_SCALE_N"))
	if err != nil || n < 1 {
		t.Fatal("CERTMINT_BENCH_SCALE_N must be a positive number")
	}
	if err := testkit.CopyDir(fixtureHome, dir); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, testCAPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := rawX(s)
	tx, err := x.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tx.Preparex(`INSERT INTO certificates(serial_number, authority_key_identifier, ca_label, status, reason, expiry, revoked_at, pem,
		issued_at, not_before, metadata, sans, common_name, released_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	event, err := tx.Preparex(`INSERT INTO audit_log(at, action, serial, ca_label, template, subject, detail, os_user, host)
		VALUES(?, ?, ?, ?, ?, ?, ?, 'bench', 'bench')`)
	if err != nil {
		t.Fatal(err)
	}
	aki := fmt.Sprintf("%x", s.Issuing.Cert.SubjectKeyId)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: make([]byte, 1100)}))
	now := time.Now().UTC()
	max := new(big.Int).Lsh(big.NewInt(1), 159)
	templates := []string{"server", "client", "1e-client", "defender-sensor"}
	for i := 0; i < n; i++ {
		serial, _ := rand.Int(rand.Reader, max)
		tmpl := templates[i%len(templates)]
		cn := fmt.Sprintf("host%d.scale.test", i)
		meta, _ := json.Marshal(Metadata{Template: tmpl, Subject: "CN=" + cn})
		sans, _ := json.Marshal([]string{cn})
		issued := now.Add(-time.Duration(i%300) * 24 * time.Hour)
		expiry := now.Add(time.Duration(i%365+1) * 24 * time.Hour)
		status, reason, revokedAt := "good", 0, any(nil)
		switch i % 10 {
		case 8:
			expiry = now.Add(-time.Duration(i%30+1) * 24 * time.Hour)
		case 9:
			status, reason, revokedAt = "revoked", i%6, now.Add(-time.Hour)
		}
		if _, err := cert.Exec(serial.String(), aki, s.Issuing.Slug, status, reason, expiry, revokedAt, pemText,
			issued, issued, string(meta), string(sans), cn, issued); err != nil {
			t.Fatal(err)
		}
		hexSerial := SerialHex(serial)
		if _, err := event.Exec(issued, "issue", hexSerial, s.Issuing.Slug, tmpl, "CN="+cn, "DNS:"+cn); err != nil {
			t.Fatal(err)
		}
		if status == "revoked" {
			if _, err := event.Exec(now, "revoke", hexSerial, s.Issuing.Slug, tmpl, "CN="+cn, "keyCompromise"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The CRL lists the revocations, so doctor finds the home consistent.
	if _, err := s.PublishCRLs(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
}
