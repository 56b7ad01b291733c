package store

import (
	"context"
	"maps"
	"math/big"
	"testing"
	"time"
)

// TestCountByTemplate: the per-template counts, which add up to Count's;
// the issuing CA's own record is in neither.
func TestCountByTemplate(t *testing.T) {
	now := time.Now()
	db := listDB(t, now)
	warn := now.Add(30 * 24 * time.Hour)
	got, err := db.CountByTemplate(context.Background(), now, warn)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{
		"server": {Valid: 2, Expiring: 1, Revoked: 1},
		"client": {Valid: 1, Expiring: 1, Expired: 1},
	}
	if !maps.Equal(got, want) {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

// TestCountByTemplateAddsUpToCount: whatever records Count leaves out
// (the CA's own certificates), CountByTemplate leaves out too. The record
// of template "ocsp-responder" is there for the day Count leaves out the
// OCSP responder certificates serve issues itself: this test then fails
// until CountByTemplate does the same.
func TestCountByTemplateAddsUpToCount(t *testing.T) {
	now := time.Now()
	db := listDB(t, now)
	rec := &Record{Serial: big.NewInt(200), AKI: "aa", CALabel: "issuing", Status: "good", NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(14 * 24 * time.Hour), IssuedAt: now, CN: "Issuing OCSP Responder", Meta: Metadata{Template: "ocsp-responder"},
		PEM: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}
	if err := db.Insert(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	warn := now.Add(30 * 24 * time.Hour)
	byTemplate, err := db.CountByTemplate(context.Background(), now, warn)
	if err != nil {
		t.Fatal(err)
	}
	total, err := db.Count(context.Background(), now, warn)
	if err != nil {
		t.Fatal(err)
	}
	var sum Counts
	for _, c := range byTemplate {
		sum.Valid, sum.Expiring, sum.Expired, sum.Revoked = sum.Valid+c.Valid, sum.Expiring+c.Expiring, sum.Expired+c.Expired, sum.Revoked+c.Revoked
	}
	if sum != total {
		t.Errorf("per-template counts %+v add up to %+v; Count says %+v: they must leave out the same records", byTemplate, sum, total)
	}
}
