package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/certmint/certmint/check"
)

const corpus = "../../check/testdata/corpus/"

// The troubleshooting rows of 004 through the CLI: each validation failure
// prints Defender's message and exits 1; a conforming certificate exits 0.
func TestCheckCLIDefenderMessages(t *testing.T) {
	at := "--at=2026-12-01"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"conforming", []string{"--cert", corpus + "v-good.crt", "--key", corpus + "keys/rsa2048.key", "--chain", corpus + "chain.pem", "--crl", corpus + "issuing.crl.pem"}, 0, "All requirements met."},
		{"expired", []string{"--cert", corpus + "v-expired.crt", "--chain", corpus + "chain.pem"}, 1, check.DefenderExpired},
		{"not yet valid", []string{"--cert", corpus + "v-not-yet-valid.crt", "--chain", corpus + "chain.pem"}, 1, check.DefenderExpired},
		{"wrong key", []string{"--cert", corpus + "v-wrong-key.crt", "--key", corpus + "keys/rsa2048b.key", "--chain", corpus + "chain.pem"}, 1, check.DefenderPassphrase},
		{"wrong passphrase", []string{"--cert", corpus + "v-good.crt", "--key", corpus + "keys/rsa2048-enc.key", "--chain", corpus + "chain.pem"}, 1, check.DefenderPassphrase},
		{"wrong root", []string{"--cert", corpus + "v-wrong-root.crt", "--chain", corpus + "other-chain.pem"}, 1, check.DefenderChain},
		{"revoked", []string{"--cert", corpus + "v-revoked.crt", "--chain", corpus + "chain.pem", "--crl", corpus + "issuing.crl.pem"}, 1, check.DefenderRevoked},
		{"pfx wrong passphrase", []string{"--pfx", corpus + "v-good.pfx"}, 1, check.DefenderPassphrase},
		{"requirement not met", []string{"--cert", corpus + "defender-sensor-no-ou.crt", "--chain", corpus + "chain.pem"}, 1, "FAIL  subject.require"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CERTMINT_HOME", t.TempDir())
			t.Setenv("CERTMINT_PASSWORD", "wrong-pass")
			code, stdout, stderr := runCLI(t, append([]string{"check", "--template", "defender-sensor", at}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("output lacks %q:\n%s%s", tc.want, stdout, stderr)
			}
		})
	}
}

func TestCheckCLIJSON(t *testing.T) {
	t.Setenv("CERTMINT_HOME", t.TempDir())
	code, stdout, stderr := runCLI(t, "check", "--template", "defender-sensor", "--at", "2026-12-01", "--json",
		"--cert", corpus+"defender-sensor-rsa3072.crt", "--chain", corpus+"chain.pem")
	if code != 1 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var r check.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	if r.OK || strings.Join(r.Failed(), ",") != "key.allowed_bits" {
		t.Errorf("report: ok %v, failed %v", r.OK, r.Failed())
	}
}

func TestCheckCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--template", "server"},
		{"check", "--cert", corpus + "v-good.crt"},
		{"check", "--template", "server", "--pfx", "x.pfx", "--cert", "y.crt"},
		{"check", "--template", "server", "--cert", corpus + "v-good.crt", "--at", "tomorrow"},
		{"check", "--template", "server", "--cert", corpus + "nope.crt"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "certmint: error: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
