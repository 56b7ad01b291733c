package store

import (
	"context"
	"maps"
	"testing"
	"time"
)

// TestCountByTemplate: the per-template counts add up to Count's, and the
// issuing CA's own record is in neither.
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
	total, err := db.Count(context.Background(), now, warn)
	if err != nil {
		t.Fatal(err)
	}
	var sum Counts
	for _, c := range got {
		sum.Valid, sum.Expiring, sum.Expired, sum.Revoked = sum.Valid+c.Valid, sum.Expiring+c.Expiring, sum.Expired+c.Expired, sum.Revoked+c.Revoked
	}
	if sum != total {
		t.Errorf("per-template counts add up to %+v, Count says %+v", sum, total)
	}
}
