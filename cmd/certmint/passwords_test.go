package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A password being set that is short draws a warning, never a refusal: a
// CA password under 12 characters (init), a bundle password under 8 (issue,
// safeq with the vendor's own -Password "123456", convert --to pfx, a
// batch's password column). A password only read (the CA password of
// issue) draws none.
func TestCLIShortPasswordWarnings(t *testing.T) {
	tmp := t.TempDir()
	shortHome := filepath.Join(tmp, "short-pki")
	out := t.TempDir()
	csv := writeFile(t, tmp, "rows.csv", "cn,password\nrow1.example.com,123\nrow2.example.com,long-enough-pw\nrow3.example.com,\n", 0o644)
	const caWarning = "certmint: warning: the CA password has only "
	const bundleWarning = "certmint: warning: the bundle password has only "
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    []string // warning lines (substrings) stderr must hold
		notWant []string // substrings stderr must not hold
	}{
		{name: "init with a one-character CA password",
			args: []string{"init", "--home", shortHome, "--root-cn", "Short Root", "--issuing-cn", "Short Issuing", "--base-url", "http://pki.short.test", "--key", "ecdsa:P-256"},
			env:  map[string]string{"CERTMINT_CA_PASSWORD": "p"},
			want: []string{caWarning + "1 character; it is used, but one of at least 12 is much harder to guess"}},
		{name: "init with an eleven-character CA password",
			args: []string{"init", "--home", filepath.Join(tmp, "eleven"), "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://pki.short.test", "--key", "ecdsa:P-256"},
			env:  map[string]string{"CERTMINT_CA_PASSWORD": "abcdefghijk"},
			want: []string{caWarning + "11 characters"}},
		{name: "init with a twelve-character CA password",
			args:    []string{"init", "--home", filepath.Join(tmp, "twelve"), "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://pki.short.test", "--key", "ecdsa:P-256"},
			env:     map[string]string{"CERTMINT_CA_PASSWORD": "abcdefghijkl"},
			notWant: []string{"warning"}},
		{name: "issue reads the short CA password without a word, warns about the bundle's",
			args:    []string{"issue", "--home", shortHome, "--template", "client", "--cn", "pc1.example.com", "--out", out},
			env:     map[string]string{"CERTMINT_CA_PASSWORD": "p", "CERTMINT_PASSWORD": "123456"},
			want:    []string{bundleWarning + "6 characters; it is used, but one of at least 8 is much harder to guess"},
			notWant: []string{"CA password"}},
		{name: "issue with an eight-character bundle password",
			args:    []string{"issue", "--home", shortHome, "--template", "client", "--cn", "pc2.example.com", "--out", out},
			env:     map[string]string{"CERTMINT_CA_PASSWORD": "p", "CERTMINT_PASSWORD": "12345678"},
			notWant: []string{"warning"}},
		{name: "issue with a generated password",
			args:    []string{"issue", "--home", shortHome, "--template", "client", "--cn", "pc3.example.com", "--out", out, "--random-password"},
			env:     map[string]string{"CERTMINT_CA_PASSWORD": "p"},
			notWant: []string{"warning"}},
		{name: "safeq with the vendor's example password",
			args: []string{"safeq", "--home", shortHome, "-Subject", "safeq.example.com", "-FriendlyName", "SafeQ", "-Password", "123456",
				"-SubjectAlternativeNames", "safeq.example.com", "--out", out},
			env:  map[string]string{"CERTMINT_CA_PASSWORD": "p"},
			want: []string{"certmint: warning: a password on the command line", bundleWarning + "6 characters"}},
		{name: "convert to a .pfx with a short password",
			args: []string{"convert", "--in", filepath.Join(out, "pc1.example.com.crt"), "--key", filepath.Join(out, "pc1.example.com.key"),
				"--to", "pfx", "--out", filepath.Join(out, "converted.pfx")},
			env:  map[string]string{"CERTMINT_PASSWORD": "1234"},
			want: []string{"certmint: warning: the password for the new .pfx has only 4 characters"}},
		{name: "batch with a short password column",
			args:    []string{"batch", "--home", shortHome, "--template", "client", "--input", csv, "--out", out},
			env:     map[string]string{"CERTMINT_CA_PASSWORD": "p", "CERTMINT_PASSWORD": "batch-password"},
			want:    []string{"certmint: warning: the password column has fewer than 8 characters on line 2; those passwords are used"},
			notWant: []string{"line 3;", "line 4", "the bundle password has only"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CERTMINT_CA_PASSWORD", "")
			t.Setenv("CERTMINT_PASSWORD", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := runCLI(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, want 0 (a short password is a warning, not a refusal):\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr holds %q:\n%s", w, stderr)
				}
			}
		})
	}
}
