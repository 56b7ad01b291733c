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
