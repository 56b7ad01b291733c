package bundle

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// RequireShellcheckEnv makes a missing shellcheck a failure; .ci/run sets
// it after installing Debian's shellcheck.
const RequireShellcheckEnv = "CERTMINT_REQUIRE_SHELLCHECK"

func requireShellcheck(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("shellcheck")
	if err == nil {
		return p
	}
	if os.Getenv(RequireShellcheckEnv) == "1" {
		t.Fatalf("shellcheck is not in PATH and %s=1: install it (Debian: apt-get install shellcheck)", RequireShellcheckEnv)
	}
	t.Skipf("shellcheck is not in PATH: skipping (Debian: apt-get install shellcheck; set %s=1 to make this a failure)", RequireShellcheckEnv)
	return ""
}

// TestShellScriptsLint: the macOS and Linux scripts pass shellcheck (as
// the shells their first line names) and bash -n, for an ordinary name
// and for hostile ones.
func TestShellScriptsLint(t *testing.T) {
	testkit.RequireTool(t, "bash")
	sc := requireShellcheck(t)
	for _, cn := range append([]string{"MAC01.local"}, hostileNames...) {
		p := newTestPKINames(t, cn, cn+" Root", cn+" Issuing")
		o := p.options(t.TempDir(), "install-macos", "install-linux")
		o.Base = fsutil.SafeName(cn)
		files := build(t, o)
		for _, f := range []templates.Format{templates.FormatInstallMacOS, templates.FormatInstallLinux} {
			path := filepath.Join(o.Dir, InstallerName(f, o.Base))
			if out, err := exec.Command(sc, "--norc", "--severity=style", path).CombinedOutput(); err != nil {
				t.Errorf("%s: shellcheck %s: %v\n%s", cn, f, err, out)
			}
			if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
				t.Errorf("%s: bash -n %s: %v\n%s", cn, f, err, out)
			}
			if _, ok := files[filepath.Base(path)]; !ok {
				t.Errorf("%s not written", path)
			}
		}
	}
}

// run runs a script with env added to the test's environment and returns
// its exit status and output.
func run(t *testing.T, stdin string, env []string, name string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return code, stdout.String(), stderr.String()
}

// TestLinuxScriptRuns: the Linux script copies the .pfx into the folder
// it is given, 0600; run again it finds it there; a different file is
// replaced; wrong calls are refused with a message.
func TestLinuxScriptRuns(t *testing.T) {
	testkit.RequireTool(t, "sh")
	if runtime.GOOS == "windows" {
		t.Skip("a POSIX shell script")
	}
	for _, cn := range append([]string{"ubuntu-01"}, hostileNames...) {
		t.Run(cn, func(t *testing.T) {
			p := newTestPKI(t, cn)
			bundleDir := t.TempDir()
			o := p.options(bundleDir, "install-linux")
			o.Base = fsutil.SafeName(cn)
			files := build(t, o)
			script := filepath.Join(bundleDir, InstallerName(templates.FormatInstallLinux, o.Base))
			pfx := files[o.Base+".pfx"]
			client := t.TempDir()
			dest := filepath.Join(client, o.Base+".pfx")
			canary := filepath.Join(client, "CANARY")

			code, stdout, stderr := run(t, "", nil, "sh", script, client)
			if code != 0 || !strings.Contains(stdout, "Installed: certificate '"+cn+"' as "+dest+" (mode 0600)") {
				t.Fatalf("first run: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if got, _ := os.ReadFile(dest); !bytes.Equal(got, pfx.Data) {
				t.Error("the copied .pfx differs from the bundle's")
			}
			if st, _ := os.Stat(dest); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
			code, stdout, _ = run(t, "", nil, "sh", script, client)
			if code != 0 || !strings.Contains(stdout, "Already present: certificate '"+cn+"' in "+dest) {
				t.Errorf("second run: exit %d, %s", code, stdout)
			}
			os.WriteFile(dest, []byte("an older certificate"), 0o644)
			code, stdout, _ = run(t, "", nil, "sh", script, client)
			if got, _ := os.ReadFile(dest); code != 0 || !strings.Contains(stdout, "Replaced: ") || !bytes.Equal(got, pfx.Data) {
				t.Errorf("over another file: exit %d, %s", code, stdout)
			}
			if st, _ := os.Stat(dest); st.Mode().Perm() != 0o600 {
				t.Errorf("replaced: mode %v, want 0600", st.Mode().Perm())
			}
			ents, _ := os.ReadDir(client)
			if len(ents) != 1 {
				t.Errorf("the client folder holds %d files, want the .pfx only", len(ents))
			}
			for _, c := range []string{canary, filepath.Join(bundleDir, "CANARY")} {
				if _, err := os.Stat(c); err == nil {
					t.Fatal("a name ran a command")
				}
			}
		})
	}
	p := newTestPKI(t, "ubuntu-01")
	dir := t.TempDir()
	build(t, p.options(dir, "install-linux"))
	script := filepath.Join(dir, "ubuntu-01-install-linux.sh")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no folder given", nil, 2, "error: give the 1E Client's folder"},
		{"two folders", []string{dir, dir}, 2, "usage: sh "},
		{"a folder that does not exist", []string{filepath.Join(dir, "nope")}, 1, "is not a folder; give the folder of the 1E Client's installation"},
	} {
		code, _, stderr := run(t, "", nil, "sh", append([]string{script}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tc.name, code, stderr, tc.code, tc.stderr)
		}
	}
	os.Remove(filepath.Join(dir, "ubuntu-01.pfx"))
	if code, _, stderr := run(t, "", nil, "sh", script, t.TempDir()); code != 1 || !strings.Contains(stderr, "ubuntu-01.pfx is not next to this script") {
		t.Errorf("without the .pfx: exit %d, %s", code, stderr)
	}
}

// fakeSecurity stands in for macOS's security(1): it logs every call (the
// arguments separated by \x1f), keeps the keychain as two files, and reads
// what it imports with openssl, so a wrong file or password fails as on a
// Mac.
const fakeSecurity = `#!/bin/bash
state=$FAKE_STATE
{ printf 'security'; for a in "$@"; do printf '\x1f%s' "$a"; done; printf '\n'; } >>"$state/log"
touch "$state/certs" "$state/identities"
case $1 in
find-certificate) cat "$state/certs" ;;
find-identity) cat "$state/identities"; echo "     $(wc -l <"$state/identities" | tr -d ' ') identities found" ;;
add-trusted-cert | add-certificates)
  file=${!#}
  fp=$(openssl x509 -in "$file" -noout -fingerprint -sha1) || exit 1
  fp=${fp#*=}
  echo "SHA-1 hash: ${fp//:/}" >>"$state/certs"
  ;;
import)
  file=$2
  pw=
  shift 2
  while [ $# -gt 0 ]; do
    if [ "$1" = -P ]; then pw=$2; shift; fi
    shift
  done
  pem=$(FAKE_PW=$pw openssl pkcs12 -legacy -in "$file" -passin env:FAKE_PW -nokeys -clcerts 2>/dev/null) ||
    { echo "security: SecKeychainItemImport: MAC verification failed during PKCS12 import (wrong password?)" >&2; exit 1; }
  fp=$(printf '%s\n' "$pem" | openssl x509 -noout -fingerprint -sha1)
  fp=${fp#*=}
  echo "  1) ${fp//:/} \"imported\"" >>"$state/identities"
  echo "SHA-1 hash: ${fp//:/}" >>"$state/certs"
  ;;
*) echo "fake security: unexpected command $1" >&2; exit 1 ;;
esac
`

// macFakes puts security, scutil, hostname and id on a PATH of their own.
func macFakes(t *testing.T) (bin, state string) {
	t.Helper()
	bin, state = t.TempDir(), t.TempDir()
	for name, body := range map[string]string{
		"security": fakeSecurity,
		"scutil":   "#!/bin/sh\n{ printf 'scutil'; for a in \"$@\"; do printf '\\037%s' \"$a\"; done; printf '\\n'; } >>\"$FAKE_STATE/log\"\n[ \"$1 $2\" = '--get LocalHostName' ] && printf '%s\\n' \"$FAKE_LOCALHOSTNAME\"\n",
		"hostname": "#!/bin/sh\nprintf '%s\\n' \"$FAKE_HOSTNAME\"\n",
		"id":       "#!/bin/sh\n[ \"$1\" = -u ] && echo \"${FAKE_UID:-0}\"\n",
	} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin, state
}

// securityCalls reads the fake's log: one argv per call, without the
// look-ups (find-certificate, find-identity) when changes is set.
func securityCalls(t *testing.T, state string, changes bool) [][]string {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(state, "log"))
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		argv := strings.Split(line, "\x1f")
		if argv[0] != "security" {
			continue
		}
		if changes && (argv[1] == "find-certificate" || argv[1] == "find-identity") {
			continue
		}
		out = append(out, argv)
	}
	return out
}

// documentCommand returns a command of 1E Client for macOS (the copy in
// templates/testdata/sources) as argv, without sudo, placeholders filled:
// the test checks the script against the document, not against itself.
func documentCommand(t *testing.T, prefix string, fill map[string]string) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "templates", "testdata", "sources", "1e-client-macos.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, prefix) {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatalf("the document has no line starting %q", prefix)
	}
	// Placeholders become markers without spaces ("<download location>"
	// has one); the line is split as the shell would (words, '...'
	// quoting); then each marker becomes its value.
	markers := map[string]string{}
	for k, v := range fill {
		m := fmt.Sprintf("@@%d@@", len(markers))
		line = strings.ReplaceAll(line, k, m)
		markers[m] = v
	}
	var argv []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				argv = append(argv, word.String())
				word.Reset()
			}
			inWord = false
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		argv = append(argv, word.String())
	}
	for i := range argv {
		for m, v := range markers {
			argv[i] = strings.ReplaceAll(argv[i], m, v)
		}
	}
	if argv[0] != "sudo" {
		t.Fatalf("%q does not start with sudo", line)
	}
	return argv[1:]
}

// TestMacOSScriptRuns: against a fake security(1), the script runs the
// document's commands for the root and the .pfx, adds the issuing CA,
// does nothing the second time, and refuses a Mac whose host name is not
// the certificate's (case included) unless told to go on.
func TestMacOSScriptRuns(t *testing.T) {
	testkit.RequireTool(t, "bash")
	testkit.RequireTool(t, "openssl")
	for _, cn := range append([]string{"MAC01.local"}, hostileNames...) {
		t.Run(cn, func(t *testing.T) {
			p := newTestPKINames(t, cn, cn+" Root", cn+" Issuing")
			dir := t.TempDir()
			o := p.options(dir, "install-macos")
			o.Base = fsutil.SafeName(cn)
			o.PFX = templates.PFXLegacy
			build(t, o)
			script := filepath.Join(dir, InstallerName(templates.FormatInstallMacOS, o.Base))
			pwFile := filepath.Join(t.TempDir(), "pw")
			os.WriteFile(pwFile, []byte(o.Password+"\r\n"), 0o600) // written on Windows, say
			bin, state := macFakes(t)
			env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_STATE=" + state,
				"FAKE_HOSTNAME=" + cn, "FAKE_LOCALHOSTNAME=other"}

			code, stdout, stderr := run(t, "", env, "bash", script, "--password-file", pwFile)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			root := documentCommand(t, "sudo security add-trusted-cert", map[string]string{"<certificate.cer>": filepath.Join(dir, "contoso-root-ca.cer")})
			imp := documentCommand(t, "sudo security import", map[string]string{
				"<download location>/<macOSpfx>.pfx": filepath.Join(dir, o.Base+".pfx"), "<password>": o.Password})
			want := [][]string{
				root,
				{"security", "add-certificates", "-k", "/Library/Keychains/System.keychain", filepath.Join(dir, "contoso-issuing-ca.cer")},
				imp,
			}
			if got := securityCalls(t, state, true); !equalCalls(got, want) {
				t.Errorf("security was run as\n%q\nwant (the document's commands)\n%q", got, want)
			}
			for _, line := range []string{
				"Imported: root CA '" + cn + " Root' (SHA-1 " + Thumbprint(p.Root.Raw) + ") into /Library/Keychains/System.keychain, trusted as a root",
				"Imported: issuing CA '" + cn + " Issuing' (SHA-1 " + Thumbprint(p.Issuing.Raw) + ") into /Library/Keychains/System.keychain",
				"Imported: certificate '" + cn + "' with its private key (SHA-1 " + Thumbprint(p.Leaf.Raw) + ") into /Library/Keychains/System.keychain, usable by /Library/Application Support/1E/Client/1E.Client",
			} {
				if !strings.Contains(stdout, line+"\n") {
					t.Errorf("the output lacks %q:\n%s", line, stdout)
				}
			}
			// Again: everything is there, nothing is changed, no password is asked.
			os.Remove(filepath.Join(state, "log"))
			code, stdout, stderr = run(t, "", env, "bash", script)
			if code != 0 || strings.Count(stdout, "Already present: ") != 3 || strings.Contains(stdout, "Imported") {
				t.Errorf("second run: exit %d\n%s%s", code, stdout, stderr)
			}
			if got := securityCalls(t, state, true); len(got) != 0 {
				t.Errorf("the second run changed the keychain: %q", got)
			}
			if _, err := os.Stat(filepath.Join(dir, "CANARY")); err == nil {
				t.Fatal("a name ran a command")
			}
		})
	}
}

func equalCalls(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

// TestMacOSScriptRefuses: the host name check (case-sensitive), root,
// the files and the password, each refused before the keychain changes.
func TestMacOSScriptRefuses(t *testing.T) {
	testkit.RequireTool(t, "bash")
	testkit.RequireTool(t, "openssl")
	p := newTestPKI(t, "MAC01.local")
	dir := t.TempDir()
	o := p.options(dir, "install-macos")
	o.PFX = templates.PFXLegacy
	build(t, o)
	script := filepath.Join(dir, "MAC01.local-install-macos.sh")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(o.Password), 0o600)
	wrongPW := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongPW, []byte("not-the-password\n"), 0o600)
	for _, tc := range []struct {
		name        string
		env         []string
		args        []string
		stdin       string
		prepare     func(t *testing.T)
		code        int
		stderr      string
		changed     int // security calls that change the keychain
		stdoutMatch string
	}{
		{name: "host name differs in case", env: []string{"FAKE_HOSTNAME=mac01.local", "FAKE_LOCALHOSTNAME=mac01"}, args: []string{"--password-file", pwFile},
			code: 1, stderr: "error: this certificate is for 'MAC01.local', but this Mac is 'mac01.local' (hostname) and 'mac01.local' (System Settings > Sharing); 1E Client for macOS: the subject \"must be typed exactly as displayed in the certificate request (case-sensitive and including any special characters)\". Issue a certificate for this Mac's name, or run again with --ignore-host-name to install it anyway"},
		{name: "another Mac", env: []string{"FAKE_HOSTNAME=MAC02.local", "FAKE_LOCALHOSTNAME=MAC02"}, args: []string{"--password-file", pwFile},
			code: 1, stderr: "but this Mac is 'MAC02.local'"},
		{name: "the Sharing name matches", env: []string{"FAKE_HOSTNAME=mac01.lan", "FAKE_LOCALHOSTNAME=MAC01"}, args: []string{"--password-file", pwFile},
			code: 0, changed: 3, stdoutMatch: "Done."},
		{name: "mismatch overridden", env: []string{"FAKE_HOSTNAME=mac01.local", "FAKE_LOCALHOSTNAME=mac01"}, args: []string{"--ignore-host-name", "--password-file", pwFile},
			code: 0, stderr: "warning: this certificate is for 'MAC01.local', not for this Mac", changed: 3},
		{name: "password typed", env: []string{"FAKE_HOSTNAME=MAC01.local"}, stdin: o.Password + "\n",
			code: 0, stderr: "Password of MAC01.local.pfx: ", changed: 3},
		{name: "wrong password", env: []string{"FAKE_HOSTNAME=MAC01.local"}, args: []string{"--password-file", wrongPW},
			code: 1, stderr: "MAC verification failed", changed: 3},
		{name: "empty password", env: []string{"FAKE_HOSTNAME=MAC01.local"}, stdin: "\n",
			code: 1, stderr: "error: no password for MAC01.local.pfx", changed: 2},
		{name: "not root", env: []string{"FAKE_HOSTNAME=MAC01.local", "FAKE_UID=501"}, args: []string{"--password-file", pwFile},
			code: 1, stderr: "run sudo bash "},
		{name: "unknown argument", env: []string{"FAKE_HOSTNAME=MAC01.local"}, args: []string{"--password", "x"},
			code: 2, stderr: "error: unknown argument: --password"},
		{name: "a CA file swapped", env: []string{"FAKE_HOSTNAME=MAC01.local"}, args: []string{"--password-file", pwFile},
			code: 1, stderr: "contoso-root-ca.cer is not the root CA this script was written for",
			prepare: func(t *testing.T) {
				other := newTestPKI(t, "x")
				os.WriteFile(filepath.Join(dir, "contoso-root-ca.cer"), CertPEM(other.Root), 0o644)
			}},
		{name: "a file missing", env: []string{"FAKE_HOSTNAME=MAC01.local"}, args: []string{"--password-file", pwFile},
			code: 1, stderr: "these files of the bundle are not next to this script in " + dir + ": MAC01.local.pfx",
			prepare: func(t *testing.T) { os.Remove(filepath.Join(dir, "MAC01.local.pfx")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build(t, o) // the bundle as written, whatever the last case did
			if tc.prepare != nil {
				tc.prepare(t)
			}
			bin, state := macFakes(t)
			env := append([]string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_STATE=" + state}, tc.env...)
			code, stdout, stderr := run(t, tc.stdin, env, "bash", append([]string{script}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) || !strings.Contains(stdout, tc.stdoutMatch) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stderr to contain %q", code, tc.code, stdout, stderr, tc.stderr)
			}
			if got := securityCalls(t, state, true); len(got) != tc.changed {
				t.Errorf("%d calls changed the keychain, want %d: %q", len(got), tc.changed, got)
			}
		})
	}
}
