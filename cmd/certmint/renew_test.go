package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// renew --force renews a revoked certificate and says so; the refusal
// without --force is a row of TestCLIBadInputAllCommands.
func TestCLIRenewRevokedForce(t *testing.T) {
	sd := seedHome(t)
	t.Setenv("CERTMINT_HOME", sd.home)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	code, stdout, stderr := runCLI(t, "renew", "--force", "--out", t.TempDir(), "--json", sd.revoked)
	if code != 0 {
		t.Fatalf("renew --force of a revoked certificate: exit %d\n%s", code, stderr)
	}
	want := "certmint: warning: certificate " + sd.revoked + " was revoked on "
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "(superseded); renewing it anyway (--force): the new certificate takes its place") {
		t.Errorf("stderr lacks the warning %q...:\n%s", want, stderr)
	}
	var j issuedJSON
	if err := json.Unmarshal([]byte(stdout), &j); err != nil || j.Serial == "" || j.Serial == sd.revoked {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	code, stdout, _ = runCLI(t, "log", "--serial", j.Serial, "--action", "renew")
	if code != 0 || !strings.Contains(stdout, "renews "+sd.revoked+" (revoked, superseded; forced)") {
		t.Errorf("the audit trail does not record the forced renewal:\n%s", stdout)
	}
	// A valid certificate renews without a warning.
	code, _, stderr = runCLI(t, "renew", "--out", t.TempDir(), sd.valid)
	if code != 0 || strings.Contains(stderr, "warning") {
		t.Errorf("renew of a valid certificate: exit %d\n%s", code, stderr)
	}
}

// A certificate that a valid one already renews is not renewed again: its
// folder holds the successor, which a second renewal in place would
// overwrite while it is deployed. --force does it, with a warning.
func TestCLIRenewAlreadyRenewed(t *testing.T) {
	sd := seedHome(t)
	t.Setenv("CERTMINT_HOME", sd.home)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "renew", "--out", out, "--json", sd.valid)
	var first issuedJSON
	if code != 0 || json.Unmarshal([]byte(stdout), &first) != nil {
		t.Fatalf("first renewal: exit %d\n%s%s", code, stdout, stderr)
	}
	before := snapshot(t, sd.home, out)
	code, stdout, stderr = runCLI(t, "renew", "--out", out, sd.valid)
	if code != 1 || stdout != "" {
		t.Fatalf("second renewal: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"certificate " + sd.valid + " was already renewed by " + first.Serial,
		"hint: renew " + first.Serial + " instead, or give --force"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if after := snapshot(t, sd.home, out); after != before {
		t.Errorf("the refused renewal changed files or the database")
	}
	code, _, stderr = runCLI(t, "renew", "--out", t.TempDir(), "--dry-run", sd.valid)
	if code != 1 || !strings.Contains(stderr, "already renewed by "+first.Serial) {
		t.Errorf("--dry-run of the second renewal: exit %d, want 1 and the same refusal\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "renew", "--force", "--out", t.TempDir(), sd.valid)
	if code != 0 || !strings.Contains(stderr, "warning: certificate "+sd.valid+" was already renewed by "+first.Serial) {
		t.Errorf("renew --force: exit %d, want 0 with a warning\n%s", code, stderr)
	}
	// The successor renews as usual.
	if code, _, stderr = runCLI(t, "renew", "--out", t.TempDir(), first.Serial); code != 0 {
		t.Errorf("renew of the successor: exit %d\n%s", code, stderr)
	}
}
