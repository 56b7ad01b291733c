package doctor

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
)

// TestDoctorOCSPResponders: serve's responder certificates (recorded, no
// bundle files) leave doctor with nothing to say, also once one has been
// replaced; one whose key never reached the CA folder (serve killed after
// recording it) is revoked by --repair, as any certificate that was never
// released.
func TestDoctorOCSPResponders(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	rs, err := s.OCSPResponders(ctx, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Replaced: a third of its life left.
	if _, issued, err := s.OCSPResponder(ctx, s.Issuing, time.Now().Add(ca.OCSPResponderValidity*3/4)); err != nil || !issued {
		t.Fatalf("not replaced: %v", err)
	}
	if r := runDoctor(t, s, Options{}); len(r.Findings) != 0 {
		t.Fatalf("a home with OCSP responder certificates: %s", describe(r))
	}
	// The record of a responder whose files were never written.
	c := rs[0].Cert
	if _, err := s.DB.RawSQL().Exec(`UPDATE certificates SET released_at = NULL, issued_at = ? WHERE serial_number = ?`,
		time.Now().Add(-time.Hour).UTC(), c.SerialNumber.String()); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(s.Root.Dir(), ca.OCSPResponderKeyFile))
	r := runDoctor(t, s, Options{Repair: true})
	if f := findingsOf(r, KindUnreleased); len(f) != 1 || !f[0].Repaired {
		t.Fatalf("findings: %s", describe(r))
	}
	rec, err := s.DB.Lookup(ctx, c.SerialNumber)
	if err != nil || rec.Status != "revoked" || rec.AKI != hex.EncodeToString(c.AuthorityKeyId) {
		t.Errorf("after --repair: %+v, %v", rec, err)
	}
}
