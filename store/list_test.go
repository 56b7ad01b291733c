package store

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// listDB holds records of every state, two templates and the issuing CA.
func listDB(t *testing.T, now time.Time) *DB {
	t.Helper()
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "certmint.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	day := 24 * time.Hour
	recs := []struct {
		serial   int64
		template string
		status   string
		end      time.Duration
	}{
		{1, "server", "good", 100 * day},   // valid
		{2, "server", "good", 10 * day},    // valid, expiring within 30 days
		{3, "client", "good", 20 * day},    // valid, expiring
		{4, "client", "good", -day},        // expired
		{5, "server", "revoked", 50 * day}, // revoked
		{100, IssuingCATemplate, "good", 3650 * day},
	}
	for _, r := range recs {
		rec := &Record{Serial: big.NewInt(r.serial), AKI: "aa", CALabel: "issuing", Status: r.status,
			NotBefore: now.Add(-day), NotAfter: now.Add(r.end), IssuedAt: now.Add(-day), CN: fmt.Sprintf("h%d", r.serial),
			Meta: Metadata{Template: r.template}, PEM: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}
		if err := db.Insert(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestList(t *testing.T) {
	now := time.Now()
	db := listDB(t, now)
	tests := []struct {
		name string
		f    ListFilter
		want []int64 // serials, in order
	}{
		{"every end-entity record, soonest expiry first", ListFilter{}, []int64{4, 2, 3, 5, 1}},
		{"with the CA", ListFilter{IncludeCAs: true}, []int64{4, 2, 3, 5, 1, 100}},
		{"valid", ListFilter{State: "valid"}, []int64{2, 3, 1}},
		{"expired", ListFilter{State: "expired"}, []int64{4}},
		{"revoked", ListFilter{State: "revoked"}, []int64{5}},
		{"expiring within 30 days", ListFilter{ExpiringBefore: now.Add(30 * 24 * time.Hour)}, []int64{2, 3}},
		{"template", ListFilter{Template: "client"}, []int64{4, 3}},
		{"limit", ListFilter{Limit: 2}, []int64{4, 2}},
		{"valid server, limit 1", ListFilter{State: "valid", Template: "server", Limit: 1}, []int64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Now = now
			recs, err := db.List(context.Background(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range recs {
				got = append(got, r.Serial.Int64())
				if r.PEM != "" {
					t.Errorf("serial %d: read its PEM though WithPEM is not set", r.Serial)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("serials %v, want %v", got, tc.want)
			}
		})
	}
	recs, err := db.List(context.Background(), ListFilter{WithPEM: true, Limit: 1, Now: now})
	if err != nil || len(recs) != 1 || recs[0].PEM == "" {
		t.Errorf("WithPEM: %v %+v", err, recs)
	}
	if _, err := db.List(context.Background(), ListFilter{State: "lost"}); err == nil {
		t.Error("an unknown state was accepted")
	}
}

func TestCount(t *testing.T) {
	now := time.Now()
	db := listDB(t, now)
	c, err := db.Count(context.Background(), now, now.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Valid: 3, Expiring: 2, Expired: 1, Revoked: 1}); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
}

// Serials are decimal text: 10 sorts after 9 among records that end at
// the same moment.
func TestListSerialOrder(t *testing.T) {
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "certmint.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	end := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	for _, n := range []int64{10, 9, 100} {
		if err := db.Insert(context.Background(), &Record{Serial: big.NewInt(n), AKI: "aa", Status: "good", NotAfter: end, PEM: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := db.List(context.Background(), ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range recs {
		got = append(got, r.Serial.Int64())
	}
	if !slices.Equal(got, []int64{9, 10, 100}) {
		t.Errorf("order %v, want 9, 10, 100", got)
	}
}
