package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// issuedFiles runs issue (or renew) with --json and returns the base names
// of the files it lists.
func issuedFiles(t *testing.T, args ...string) []string {
	names, _ := issued(t, args...)
	return names
}

// issued is issuedFiles with the serial.
func issued(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{args[0], "--json"}, args[1:]...)...)
	if code != 0 {
		t.Fatalf("certmint %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	var res struct {
		Serial string   `json:"serial"`
		Files  []string `json:"files"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	var names []string
	for _, f := range res.Files {
		names = append(names, filepath.Base(f))
	}
	slices.Sort(names)
	return names, res.Serial
}

// TestCLIInstallers: the installer formats through issue, sign and renew:
// the files each writes (with what it imports), the refusals before
// anything is written, the signed profile.
func TestCLIInstallers(t *testing.T) {
	home := newHome(t)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw-123")
	out := t.TempDir()

	got := issuedFiles(t, "issue", "--home", home, "--template", "1e-client-workgroup", "--cn", "W702", "--format", "install-windows,install-linux", "--out", out)
	want := []string{"W702-install-linux.sh", "W702-install.ps1", "W702.pfx", "cli-issuing-ca.cer", "cli-root-ca.cer"}
	if !slices.Equal(got, want) {
		t.Errorf("install-windows,install-linux wrote %v, want %v", got, want)
	}

	// The signing certificate of the profiles: a code-signing certificate
	// of the same CA, its key written plain.
	signer := t.TempDir()
	issuedFiles(t, "issue", "--home", home, "--template", "code-signing", "--cn", "Profile Signing", "--format", "crt,key", "--out", signer)
	signArg := filepath.Join(signer, "Profile Signing.crt") + "," + filepath.Join(signer, "Profile Signing.key")

	mac := t.TempDir()
	got, serial := issued(t, "issue", "--home", home, "--template", "1e-client-macos", "--cn", "MAC01.local", "--format", "install-macos,mobileconfig",
		"--sign-profile", signArg, "--profile-password", "--out", mac)
	want = []string{"MAC01.local-install-macos.sh", "MAC01.local.mobileconfig", "MAC01.local.pfx", "MAC01.local.signed.mobileconfig", "cli-issuing-ca.cer", "cli-root-ca.cer"}
	if !slices.Equal(got, want) {
		t.Errorf("install-macos,mobileconfig --sign-profile wrote %v, want %v", got, want)
	}
	for _, n := range []string{"MAC01.local.mobileconfig", "MAC01.local.signed.mobileconfig"} {
		if st, err := os.Stat(filepath.Join(mac, n)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", n, err)
		}
	}
	profile, _ := os.ReadFile(filepath.Join(mac, "MAC01.local.mobileconfig"))
	if !strings.Contains(string(profile), "<string>bundle-pw-123</string>") {
		t.Error("--profile-password: the password is not in the profile")
	}

	// Renewing a bundle with a signed profile needs the signer again; with
	// it, the new bundle has a signed profile and still the password.
	code, _, stderr := runCLI(t, "renew", "--home", home, "--force", serial)
	if code != 2 || !strings.Contains(stderr, "has a signed configuration profile") || !strings.Contains(stderr, "hint: give --sign-profile CERT,KEY") {
		t.Errorf("renew without --sign-profile: exit %d, %s", code, stderr)
	}
	got = issuedFiles(t, "renew", "--home", home, "--force", "--sign-profile", signArg, serial)
	if !slices.Contains(got, "MAC01.local.signed.mobileconfig") {
		t.Errorf("renewed files %v lack the signed profile", got)
	}
	if renewed, _ := os.ReadFile(filepath.Join(mac, "MAC01.local.mobileconfig")); string(renewed) == string(profile) || !strings.Contains(string(renewed), "<string>bundle-pw-123</string>") {
		t.Error("the renewal did not rewrite the profile with its password")
	}

	// batch: the installer brings its .pfx, whose password is the bundle
	// password; every row gets both files.
	fleet := t.TempDir()
	hosts := writeFile(t, t.TempDir(), "hosts.csv", "cn\nlx-01\nlx-02\n", 0o644)
	if code, _, stderr := runCLI(t, "batch", "--home", home, "--template", "1e-client-workgroup", "--input", hosts, "--format", "install-linux", "--out", fleet); code != 0 {
		t.Fatalf("batch --format install-linux: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"lx-01/lx-01.pfx", "lx-01/lx-01-install-linux.sh", "lx-02/lx-02.pfx", "lx-02/lx-02-install-linux.sh"} {
		if _, err := os.Stat(filepath.Join(fleet, f)); err != nil {
			t.Errorf("batch: %v", err)
		}
	}

	csr := csrFile(t, t.TempDir(), "w.csr", mustECKey(t), "W709", "W709")
	existing := t.TempDir()
	writeFile(t, existing, "W703-install.ps1", "mine", 0o644)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		dir    string // must stay as it was
	}{
		{"install-macos with a modern .pfx", []string{"issue", "--template", "1e-client-workgroup", "--cn", "W704", "--format", "install-macos"},
			2, "install-macos imports the .pfx with `security import`, which reads only a legacy (3DES) .pfx", ""},
		{"--sign-profile without a profile", []string{"issue", "--template", "1e-client-macos", "--cn", "MAC02.local", "--sign-profile", signArg},
			2, "hint: add mobileconfig to --format", ""},
		{"--profile-password without a profile", []string{"issue", "--template", "1e-client-macos", "--cn", "MAC02.local", "--profile-password"},
			2, "--profile-password puts the password in the configuration profile", ""},
		{"--sign-profile with a missing file", []string{"issue", "--template", "1e-client-macos", "--cn", "MAC02.local", "--format", "mobileconfig", "--sign-profile", "nope.crt,nope.key"},
			2, "--sign-profile: nope.crt is not a file", ""},
		{"--sign-profile without the key", []string{"issue", "--template", "1e-client-macos", "--cn", "MAC02.local", "--format", "mobileconfig", "--sign-profile", filepath.Join(signer, "Profile Signing.crt")},
			2, "--sign-profile takes the certificate and the key", ""},
		{"--sign-profile with another key", []string{"issue", "--template", "1e-client-macos", "--cn", "MAC02.local", "--format", "mobileconfig",
			"--sign-profile", filepath.Join(signer, "Profile Signing.crt") + "," + filepath.Join(out, "W702.pfx")},
			2, "--sign-profile: ", ""},
		{"an installer for a CSR", []string{"sign", "--template", "1e-client-workgroup", "--csr", csr, "--format", "install-windows"},
			2, "--format install-windows needs the private key", ""},
		{"an existing script", []string{"issue", "--template", "1e-client-workgroup", "--cn", "W703", "--format", "install-windows"},
			1, "W703-install.ps1 already exists", existing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
			}
			before, _ := os.ReadDir(dir)
			code, _, stderr := runCLI(t, append(append([]string{}, tc.args...), "--home", home, "--out", dir)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
			if after, _ := os.ReadDir(dir); len(after) != len(before) {
				t.Errorf("a refused command changed %s: %d entries, was %d", dir, len(after), len(before))
			}
		})
	}
}
