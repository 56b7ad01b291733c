package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// goDuration is how Go prints a time.Duration ("84h3m0s", "5m0s"): status
// must never show one.
var goDuration = regexp.MustCompile(`\b\d+h\d+m|\b\d+m\d+s\b|\b\d+\.\d+s\b`)

// TestStatusCLI: status speaks in words, warns 30 days ahead for issued
// certificates and 90 for CA certificates, and exits 1 when an issued
// certificate is inside its window, so cron and monitoring page on it.
func TestStatusCLI(t *testing.T) {
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw-1234")
	for _, tc := range []struct {
		name   string
		days   []string // --days of the certificates issued first
		args   []string
		code   int
		want   []*regexp.Regexp
		absent []string
	}{
		{name: "nothing issued", args: []string{"status"}, code: 0, want: rx(
			`CA certificates \(warning 90 days before they expire\):`,
			`expires \d{4}-\d\d-\d\d \(in \d+ days\)`,
			`next update .* \(in \d+ days; warning 3 days 12 hours before\)`,
			`Issued certificates: 0 valid, 0 expiring within 30 days, 0 expired, 0 revoked\.`)},
		{name: "a year left", days: []string{"365"}, args: []string{"status"}, code: 0, want: rx(
			`1 valid, 0 expiring within 30 days`), absent: []string{"WARN", "certmint renew"}},
		{name: "ten days left pages", days: []string{"365", "10"}, args: []string{"status"}, code: 1, want: rx(
			`2 valid, 1 expiring within 30 days`,
			`WARN +[0-9A-F]+ d10\.status\.test expires \d{4}-\d\d-\d\d \(in 9 days\)`,
			"Renew each expiring certificate with `certmint renew SERIAL`"), absent: []string{"certmint crl"}},
		{name: "a day left, in hours", days: []string{"1"}, args: []string{"status"}, code: 1, want: rx(
			`\(in 2[0-4] hours\)`)},
		{name: "outside a shorter --warn", days: []string{"10"}, args: []string{"status", "--warn", "7d"}, code: 0, want: rx(
			`0 expiring within 7 days`)},
		{name: "a CA window longer than the CA", args: []string{"status", "--ca-warn", "7300d"}, code: 1, want: rx(
			`CA certificates \(warning 7300 days before they expire\):`, `WARN +cli-issuing-ca`,
			`plan its replacement`)},
		{name: "a CRL window in hours", args: []string{"status", "--crl-warn", "36h"}, code: 0, want: rx(
			`warning 1 day 12 hours before\)`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := newHome(t)
			out := t.TempDir()
			for i, d := range tc.days {
				cn := "d" + d + ".status.test"
				if code, _, stderr := runCLI(t, "issue", "--home", home, "-t", "client", "--cn", cn, "--days", d, "--name", cn+string(rune('a'+i)), "--out", out); code != 0 {
					t.Fatalf("issue --days %s: exit %d: %s", d, code, stderr)
				}
			}
			code, stdout, stderr := runCLI(t, append(tc.args, "--home", home)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !w.MatchString(stdout) {
					t.Errorf("the report lacks %s:\n%s", w, stdout)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(stdout, a) {
					t.Errorf("the report says %q:\n%s", a, stdout)
				}
			}
			if m := goDuration.FindString(stdout); m != "" {
				t.Errorf("the report shows the Go duration %q:\n%s", m, stdout)
			}
			if stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			// --json pages the same way, and says why.
			code, stdout, _ = runCLI(t, append(tc.args, "--home", home, "--json")...)
			var j struct {
				Alert    bool              `json:"alert"`
				Warn     string            `json:"warn"`
				CAWarn   string            `json:"ca_warn"`
				Expiring []json.RawMessage `json:"expiring"`
			}
			if err := json.Unmarshal([]byte(stdout), &j); err != nil {
				t.Fatalf("--json: %v\n%s", err, stdout)
			}
			if code != tc.code || j.Alert != (tc.code == 1) || j.Expiring == nil {
				t.Errorf("--json: exit %d, alert %v, expiring %s; want exit %d", code, j.Alert, j.Expiring, tc.code)
			}
		})
	}
}

func rx(exprs ...string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, e := range exprs {
		out = append(out, regexp.MustCompile(e))
	}
	return out
}

// TestStatusHelp: `status --help` says when it exits 1 and how cron uses it.
func TestStatusHelp(t *testing.T) {
	code, stdout, _ := runCLI(t, "status", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Exit status 1 when anything is inside its warning window", "--warn (30 days)", "--ca-warn (90 days)",
		"certmint status --home /srv/certmint/pki >/dev/null || certmint status", `"alert": true`, "(default: \"30d\")", "(default: \"90d\")"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status --help lacks %q:\n%s", want, stdout)
		}
	}
}

func TestInWords(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		when string
		span string
	}{
		{3*24*time.Hour + 5*time.Hour, "in 3 days", "3 days 5 hours"},
		{84*time.Hour + 3*time.Minute, "in 3 days", "3 days 12 hours"},
		{48 * time.Hour, "in 2 days", "2 days"},
		{47 * time.Hour, "in 47 hours", "1 day 23 hours"},
		{24 * time.Hour, "in 24 hours", "1 day"},
		{5*time.Hour + 59*time.Minute, "in 5 hours", "5 hours"},
		{2 * time.Hour, "in 2 hours", "2 hours"},
		{119 * time.Minute, "in 119 minutes", "1 hour"},
		{time.Minute, "in 1 minute", "1 minute"},
		{30 * time.Second, "now", "0 minutes"},
		{-30 * time.Second, "now", "0 minutes"},
		{-5 * time.Minute, "5 minutes ago", "0 minutes"},
		{-2*24*time.Hour - time.Hour, "2 days ago", "0 minutes"},
		{30 * 24 * time.Hour, "in 30 days", "30 days"},
	} {
		if got := whenWords(now.Add(tc.d), now); got != tc.when {
			t.Errorf("whenWords(%v) = %q, want %q", tc.d, got, tc.when)
		}
		if got := spanWords(tc.d); got != tc.span {
			t.Errorf("spanWords(%v) = %q, want %q", tc.d, got, tc.span)
		}
	}
}
