package jsonout

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, ""},
		{time.Date(2026, 11, 1, 9, 30, 15, 999, time.UTC), "2026-11-01T09:30:15Z"},
		{time.Date(2026, 11, 1, 9, 30, 15, 0, time.FixedZone("CET", 3600)), "2026-11-01T08:30:15Z"},
	} {
		if got := Time(tc.in); got != tc.want {
			t.Errorf("Time(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "[]"},
		{[]string{}, "[]"},
		{[]string{"DNS:a"}, `["DNS:a"]`},
	} {
		b, err := json.Marshal(List(tc.in))
		if err != nil || string(b) != tc.want {
			t.Errorf("List(%#v) encodes as %s (%v), want %s", tc.in, b, err, tc.want)
		}
	}
}
