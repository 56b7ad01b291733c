package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
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

// seedFileName is how the vendor documents are named inside the project;
// users must see their titles instead.
var seedFileName = regexp.MustCompile(`[0-9]{3}_[0-9a-f]{16}\.txt`)

// checkOutputShape asserts what every check report says: no seed file
// name; every FAIL quotes its source, naming the document and section;
// WARN lines come only under the advice heading.
func checkOutputShape(t *testing.T, out string) {
	t.Helper()
	if m := seedFileName.FindString(out); m != "" {
		t.Errorf("the output names the seed file %s:\n%s", m, out)
	}
	lines := strings.Split(out, "\n")
	inAdvice := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "Advice"):
			inAdvice = true
		case strings.HasPrefix(l, "Requirements") || strings.HasPrefix(l, "Validation"):
			inAdvice = false
		case strings.HasPrefix(l, "  FAIL  "):
			if inAdvice {
				t.Errorf("a FAIL among the advice: %q", l)
			}
			sourced := false
			for _, next := range lines[i+1:] {
				if !strings.HasPrefix(next, "        ") {
					break
				}
				if strings.HasPrefix(next, "        source: ") && strings.Contains(next, " — ") {
					sourced = true
				}
			}
			if !sourced && !strings.Contains(l, "validation.") {
				t.Errorf("%q has no source line naming a document and section", l)
			}
		case strings.HasPrefix(l, "  WARN  "):
			if !inAdvice {
				t.Errorf("a WARN outside the advice: %q", l)
			}
		}
	}
}

// TestCheckCLIVendorRules: issue 10's list, through the CLI, on
// certificates OpenSSL made: what a document allows passes (exit 0, advice
// at most warns), what it forbids fails naming the rule, and the output
// names documents, never seed files.
func TestCheckCLIVendorRules(t *testing.T) {
	chain := []string{"--chain", corpus + "chain.pem"}
	tests := []struct {
		name, template string
		args           []string
		code           int
		want, not      []string
	}{
		{"Defender without AIA", "defender-sensor", append([]string{"--cert", corpus + "defender-sensor-no-aia.crt"}, chain...), 0,
			[]string{"WARN  revocation.aia", "All requirements met; 1 piece(s) of advice not followed."}, []string{"FAIL"}},
		{"Defender without EKU", "defender-sensor", append([]string{"--cert", corpus + "defender-sensor-no-eku.crt"}, chain...), 0,
			[]string{"WARN  usage.ext_key_usage"}, []string{"FAIL"}},
		{"1E name only in the SAN", "1e-client", append([]string{"--cert", corpus + "1e-client-san-only-no-cn.crt"}, chain...), 0,
			[]string{"PASS  subject.cn"}, []string{"FAIL", "WARN"}},
		{"1E https CDP", "1e-client", append([]string{"--cert", corpus + "1e-client-https-cdp.crt"}, chain...), 0,
			[]string{"PASS  revocation.crl_distribution_point"}, []string{"FAIL"}},
		{"1E CDP not ending in .crl", "1e-client", append([]string{"--cert", corpus + "1e-client-cdp-not-crl.crt"}, chain...), 0,
			[]string{"PASS  revocation.crl_distribution_point"}, []string{"FAIL"}},
		{"SafeQ signing as the script makes it", "safeq-signing", []string{"--cert", corpus + "safeq-signing-script.crt"}, 0,
			[]string{"self-signed, which the template allows"}, []string{"FAIL", "WARN"}},
		{"Defender without CDP and --no-cdp", "defender-sensor", append([]string{"--cert", corpus + "defender-sensor-no-cdp.crt", "--no-cdp"}, chain...), 0,
			[]string{"PASS  revocation.crl_distribution_point"}, []string{"FAIL"}},
		{"Defender without CDP", "defender-sensor", append([]string{"--cert", corpus + "defender-sensor-no-cdp.crt"}, chain...), 1,
			[]string{"FAIL  revocation.crl_distribution_point", `Microsoft Defender for IoT: Certificate requirements — CRT file requirements: "CRL Distribution Point = URL to .crl file"`}, nil},
		{"macOS clientAuth and serverAuth", "1e-client-macos", append([]string{"--cert", corpus + "1e-client-macos-serverauth.crt"}, chain...), 1,
			[]string{"FAIL  usage.ext_key_usage_only", `"Extensions - Application Policies should contain only Client Authentication."`}, nil},
		{"SafeQ SSL without SAN", "safeq-ssl", append([]string{"--cert", corpus + "safeq-ssl-no-san.crt"}, chain...), 1,
			[]string{"FAIL  san.require", `"The minimal requirement for SSL certificates is to have proper SAN"`}, nil},
		{"Defender RSASSA-PSS", "defender-sensor", append([]string{"--cert", corpus + "defender-sensor-pss-max-salt.crt"}, chain...), 1,
			[]string{"FAIL  signature.algorithms", "RSASSA-PSS", `"Signature Algorithm = SHA256RSA"`}, []string{"FAIL  validation.chain"}},
		{"macOS modern .pfx", "1e-client-macos", []string{"--pfx", corpus + "1e-client-macos-modern.pfx"}, 1,
			[]string{"FAIL  output.pfx_encryption", "1E Client for macOS — Client certificates (Key Store method)"}, nil},
		{"1E validation has no Defender message", "1e-client", append([]string{"--cert", corpus + "v-wrong-root.crt"}, "--chain", corpus+"other-chain.pem"), 1,
			[]string{"FAIL  validation.chain"}, []string{check.DefenderChain, "reports:"}},
		{"--no-cdp where 1E forbids it", "1e-client", append([]string{"--cert", corpus + "1e-client-good.crt", "--no-cdp"}, chain...), 2,
			[]string{"does not allow a certificate without a CRL distribution point"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CERTMINT_HOME", t.TempDir())
			t.Setenv("CERTMINT_PASSWORD", "corpus-pass")
			code, stdout, stderr := runCLI(t, append([]string{"check", "--template", tc.template, "--at", "2026-12-01"}, tc.args...)...)
			out := stdout + stderr
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
			checkOutputShape(t, out)
		})
	}
}

// TestCheckCLIOwnOutput: what certmint's allowed flags make passes check
// through the CLI: `safeq --self-signed` against safeq-signing, and
// `issue -t defender-sensor --no-cdp` with `check --no-cdp`.
func TestCheckCLIOwnOutput(t *testing.T) {
	home := newHome(t)
	out := t.TempDir()
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "own-output-pass")
	steps := [][]string{
		{"safeq", "--home", home, "-Subject", "YSoft SafeQ", "-FriendlyName", "SafeQ Signing", "--self-signed", "--out", out},
		{"check", "--home", home, "--template", "safeq-signing", "--pfx", filepath.Join(out, "SafeQ Signing.pfx")},
		{"issue", "--home", home, "--template", "defender-sensor", "--cn", "sensor7.contoso.com", "--subject", "C=US,O=Contoso,OU=OT", "--no-cdp", "--out", out},
		{"check", "--home", home, "--template", "defender-sensor", "--no-cdp", "--cert", filepath.Join(out, "sensor7.contoso.com.crt"),
			"--key", filepath.Join(out, "sensor7.contoso.com.key"), "--chain", filepath.Join(out, "sensor7.contoso.com-chain.pem")},
	}
	for _, args := range steps {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		if args[0] == "check" {
			checkOutputShape(t, stdout)
			if !strings.Contains(stdout, "All requirements met") || strings.Contains(stdout, "WARN") {
				t.Errorf("%v:\n%s", args, stdout)
			}
		}
	}
}
