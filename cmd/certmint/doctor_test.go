package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/doctor"
)

func TestDoctorCLI(t *testing.T) {
	home := newHome(t)
	out := t.TempDir()
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
	if code, _, stderr := runCLI(t, "issue", "--home", home, "--template", "client", "--cn", "pc1.example.com", "--out", out); code != 0 {
		t.Fatalf("issue: %s", stderr)
	}
	code, stdout, stderr := runCLI(t, "doctor", "--home", home)
	if code != 0 || !strings.Contains(stdout, "Nothing wrong") || stderr != "" {
		t.Fatalf("doctor on a sound home: exit %d\n%s%s", code, stdout, stderr)
	}

	// Three disagreements: a torn leftover, a .crl.pem gone, and a .pfx
	// gone (which doctor cannot repair).
	tmp := writeFile(t, out, ".certmint-tmp-42", "half", 0o600)
	pemPath := filepath.Join(home, "public", "cli-issuing-ca.crl.pem")
	if err := os.Remove(pemPath); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "pc1.example.com.pfx")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "doctor", "--home", home)
	if code != 1 || !strings.Contains(stdout, "FIXABLE  temp-file") || !strings.Contains(stdout, "FIXABLE  crl-pem") ||
		!strings.Contains(stdout, "PROBLEM  bundle-incomplete") || !strings.Contains(stdout, "certmint revoke") {
		t.Errorf("doctor: exit %d, want 1 and the three findings:\n%s", code, stdout)
	}
	if !strings.Contains(stderr, "certmint: error: 3 of 3 findings need attention") || !strings.Contains(stderr, "certmint: hint: run `certmint doctor --repair`") {
		t.Errorf("doctor stderr:\n%s", stderr)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Error("doctor without --repair changed something")
	}

	// --json: stdout is JSON only.
	code, stdout, _ = runCLI(t, "doctor", "--home", home, "--json")
	var rep struct {
		Findings []doctor.Finding `json:"findings"`
		Found    int              `json:"found"`
		OK       bool             `json:"ok"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 || rep.Found != 3 || rep.OK {
		t.Errorf("doctor --json: exit %d, %v\n%s", code, err, stdout)
	}

	// --repair fixes the two it can (the leftover is young: --temp-age 0),
	// and still exits 1 for the .pfx.
	code, stdout, stderr = runCLI(t, "doctor", "--home", home, "--repair", "--temp-age", "0")
	if code != 1 || strings.Count(stdout, "REPAIRED") != 2 || !strings.Contains(stderr, "1 of 3 findings need attention (1 cannot be repaired by doctor)") {
		t.Errorf("doctor --repair: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("the leftover temporary file is still there")
	}
	if _, err := os.Stat(pemPath); err != nil {
		t.Error(".crl.pem was not rewritten")
	}
	code, stdout, _ = runCLI(t, "log", "--home", home, "--action", "repair")
	if code != 0 || strings.Count(stdout, "repair ") < 2 {
		t.Errorf("log --action repair:\n%s", stdout)
	}

	// Revoked, the certificate's missing .pfx no longer matters; the CRL
	// revoke published is current.
	var serial string
	code, stdout, _ = runCLI(t, "list", "--home", home, "--json")
	var list listJSON
	if json.Unmarshal([]byte(stdout), &list) != nil || len(list.Certificates) != 1 {
		t.Fatalf("list: %s", stdout)
	}
	serial = list.Certificates[0].Serial
	if code, _, stderr := runCLI(t, "revoke", "--home", home, "--reason", "cessationOfOperation", serial); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	if code, stdout, stderr := runCLI(t, "doctor", "--home", home); code != 0 {
		t.Errorf("doctor after revoking: exit %d\n%s%s", code, stdout, stderr)
	}

	// A CRL repair needs the CA password; without one doctor says what to run.
	os.Unsetenv("CERTMINT_CA_PASSWORD")
	os.Remove(filepath.Join(home, "public", "cli-root-ca.crl"))
	code, stdout, _ = runCLI(t, "doctor", "--home", home, "--repair")
	if code != 1 || !strings.Contains(stdout, "no CA password given") || !strings.Contains(stdout, "certmint crl") {
		t.Errorf("doctor --repair without the CA password: exit %d\n%s", code, stdout)
	}

	if runtime.GOOS != "windows" {
		os.Chmod(filepath.Join(home, ca.DBFile), 0o644)
		code, stdout, _ = runCLI(t, "doctor", "--home", home, "--json")
		if code != 1 || !strings.Contains(stdout, `"kind":"permissions"`) {
			t.Errorf("database 0644: exit %d\n%s", code, stdout)
		}
	}
}

func TestDoctorCLIUsage(t *testing.T) {
	home := newHome(t)
	for _, args := range [][]string{
		{"doctor", "--home", home, "--warn", "soon"},
		{"doctor", "--home", home, "--crl-warn", "-1d"},
		{"doctor", "--home", home, "--temp-age", "x"},
		{"doctor", "--home", home, "extra"},
		{"doctor", "--home", home, "--no-such-flag"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || !strings.HasPrefix(stderr, "certmint: error: ") {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
	code, _, stderr := runCLI(t, "doctor", "--home", filepath.Join(t.TempDir(), "none"))
	if code != 1 || !strings.Contains(stderr, "no CA in") {
		t.Errorf("doctor on no CA: exit %d\n%s", code, stderr)
	}
}
