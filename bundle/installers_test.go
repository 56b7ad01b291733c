package bundle

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestInstallerFiles: each installer writes its file with its mode, and
// brings the files it imports; nothing else is written.
func TestInstallerFiles(t *testing.T) {
	p := newTestPKI(t, "W701")
	for _, tc := range []struct {
		format string
		want   map[string]os.FileMode
	}{
		{"install-windows", map[string]os.FileMode{"W701-install.ps1": 0o644, "W701.pfx": 0o600, "contoso-root-ca.cer": 0o644, "contoso-issuing-ca.cer": 0o644}},
		{"install-macos", map[string]os.FileMode{"W701-install-macos.sh": 0o755, "W701.pfx": 0o600, "contoso-root-ca.cer": 0o644, "contoso-issuing-ca.cer": 0o644}},
		{"install-linux", map[string]os.FileMode{"W701-install-linux.sh": 0o755, "W701.pfx": 0o600}},
		{"mobileconfig", map[string]os.FileMode{"W701.mobileconfig": 0o600}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			dir := t.TempDir()
			files := build(t, p.options(dir, tc.format))
			var got, want []string
			for n := range files {
				got = append(got, n)
			}
			for n := range tc.want {
				want = append(want, n)
			}
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Fatalf("--format %s wrote %v, want %v", tc.format, got, want)
			}
			for n, mode := range tc.want {
				st, err := os.Stat(filepath.Join(dir, n))
				if err != nil {
					t.Fatal(err)
				}
				if runtime.GOOS != "windows" && st.Mode().Perm() != mode {
					t.Errorf("%s: mode %v, want %v", n, st.Mode().Perm(), mode)
				}
			}
			if !NeedsPassword([]templates.Format{formatOf(tc.format)}, false) {
				t.Errorf("NeedsPassword(%s) = false; the .pfx inside needs the bundle password", tc.format)
			}
		})
	}
	// A signed-CSR bundle has no key: no installer can be built.
	o := p.options(t.TempDir(), "install-linux")
	o.Key = nil
	if _, err := Build(o); err == nil {
		t.Error("Build without a key wrote an installer")
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bundle -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test ./bundle -run %s -update and review the diff)\ngot:\n%s", name, path, t.Name(), got)
	}
}

// placeholders replaces the values that change from run to run (the
// certificates' hashes: new keys each time) with stable names.
func (p *testPKI) placeholders(data []byte) []byte {
	return []byte(strings.NewReplacer(
		Thumbprint(p.Leaf.Raw), "<LEAF-THUMBPRINT>",
		Thumbprint(p.Issuing.Raw), "<ISSUING-CA-THUMBPRINT>",
		Thumbprint(p.Root.Raw), "<ROOT-CA-THUMBPRINT>",
	).Replace(string(data)))
}

// TestInstallerGolden: the scripts as written for W701, with the
// thumbprints baked in (checked here, then replaced by placeholders).
func TestInstallerGolden(t *testing.T) {
	for _, tc := range []struct{ cn, format, file, golden string }{
		{"W701", "install-windows", "W701-install.ps1", "install-windows.golden.ps1"},
		{"MAC01.local", "install-macos", "MAC01.local-install-macos.sh", "install-macos.golden.sh"},
		{"ubuntu-01", "install-linux", "ubuntu-01-install-linux.sh", "install-linux.golden.sh"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			p := newTestPKI(t, tc.cn)
			files := build(t, p.options(t.TempDir(), tc.format))
			data := files[tc.file].Data
			hashes := []string{Thumbprint(p.Leaf.Raw), Thumbprint(p.Issuing.Raw), Thumbprint(p.Root.Raw)}
			if tc.format == "install-linux" {
				hashes = nil // it compares bytes, not hashes
			}
			for _, h := range hashes {
				if !bytes.Contains(data, []byte("'"+h+"'")) {
					t.Errorf("%s lacks the thumbprint %s", tc.file, h)
				}
			}
			golden(t, tc.golden, p.placeholders(data))
		})
	}
}

// ps51Cmdlets are the cmdlets the Windows script may call: each exists in
// Windows PowerShell 5.1 (Microsoft.PowerShell.Core, .Management,
// .Utility, .Security, and the PKI module of Windows 8 / Server 2012 and
// later).
var ps51Cmdlets = []string{
	"Get-ChildItem", "Where-Object", "Test-Path", "Join-Path", "New-Object", "Set-StrictMode",
	"Read-Host", "Get-Content", "ConvertTo-SecureString", "Write-Host",
	"Import-Certificate", "Import-PfxCertificate", "Get-PfxData",
}

// ps51Verbs are approved verbs for the script's own functions.
var ps51Verbs = []string{"Get", "Test", "Install", "Import"}

// TestWindowsScriptCmdlets: every Verb-Noun word of the script is an
// allowed Windows PowerShell 5.1 cmdlet or a function the script defines
// with an approved verb; no operator of PowerShell 7 only.
func TestWindowsScriptCmdlets(t *testing.T) {
	p := newTestPKI(t, "W701")
	script := string(build(t, p.options(t.TempDir(), "install-windows"))["W701-install.ps1"].Data)
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^function ([A-Za-z]+)-([A-Za-z]+)`).FindAllStringSubmatch(script, -1) {
		if !slices.Contains(ps51Verbs, m[1]) {
			t.Errorf("function %s-%s: %q is not an approved verb here", m[1], m[2], m[1])
		}
		defined[m[1]+"-"+m[2]] = true
	}
	used := map[string]bool{}
	for _, w := range regexp.MustCompile(`\b[A-Z][A-Za-z]+-[A-Z][A-Za-z]+\b`).FindAllString(script, -1) {
		used[w] = true
		if !slices.Contains(ps51Cmdlets, w) && !defined[w] {
			t.Errorf("the script uses %s, which is not on the list of Windows PowerShell 5.1 cmdlets it may use", w)
		}
	}
	for _, must := range []string{"Import-PfxCertificate", "Import-Certificate", "Get-ChildItem", "Read-Host", "ConvertTo-SecureString"} {
		if !used[must] {
			t.Errorf("the script does not use %s", must)
		}
	}
	// PowerShell 7 only: pipeline chains, null-coalescing and
	// null-conditional operators, ternaries.
	code := regexp.MustCompile(`(?s)<#.*?#>|#[^\n]*|'[^'\n]*'`).ReplaceAllString(script, "")
	for _, op := range []string{"&&", "||", "??", "?.", "?["} {
		if strings.Contains(code, op) {
			t.Errorf("the script uses %q, which Windows PowerShell 5.1 does not have", op)
		}
	}
	for _, want := range []string{"#Requires -RunAsAdministrator", "Read-Host -Prompt", "-AsSecureString", "[string]$PasswordFile",
		"'Cert:\\LocalMachine\\My'", "Store = 'Root'", "Store = 'CA'", "$PSScriptRoot", "Already present: ", "Imported: ",
		"Get-ChildItem -Path ('Cert:\\LocalMachine\\' + $Store)"} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	// The password is never a parameter value of its own.
	if regexp.MustCompile(`(?i)\[(string|securestring)\]\$Password\b`).MatchString(script) {
		t.Error("the script takes the password as a parameter")
	}
}

// psLex reads a PowerShell single-quoted string at the start of s, as
// PowerShell's tokenizer does: any of ' U+2018 U+2019 U+201A U+201B opens
// and closes it, and one of them followed by another stands for the
// second. It returns the value and the rest of s.
func psLex(s string) (value, rest string, ok bool) {
	quote := func(r rune) bool { return strings.ContainsRune("'\u2018\u2019\u201a\u201b", r) }
	rs := []rune(s)
	if len(rs) == 0 || !quote(rs[0]) {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if quote(rs[i]) {
			if i+1 < len(rs) && quote(rs[i+1]) {
				b.WriteRune(rs[i+1])
				i++
				continue
			}
			return b.String(), string(rs[i+1:]), true
		}
		b.WriteRune(rs[i])
	}
	return "", "", false
}

// hostileNames are names a user can give (templates with cn = "any") or a
// CA can have, each trying to end a quoted string or run a command.
var hostileNames = []string{
	`O'Brien "Lab" $(touch CANARY) ` + "`touch CANARY`" + ` ${HOME} $HOME; touch CANARY #`,
	"Zoë’s PC ‘quoted’ ‚low‛ '' \\' \\",
	`x'; touch CANARY; echo '`,
	`$(Remove-Item C:\) @{a=1} {0} ]]> <tag> &amp;`,
}

// TestHostileNamesPowerShell: a name reaches the PowerShell script only as
// a single-quoted literal that reads back as the name, whatever quotes it
// holds, and nowhere in the code.
func TestHostileNamesPowerShell(t *testing.T) {
	for _, cn := range hostileNames {
		t.Run(cn, func(t *testing.T) {
			p := newTestPKINames(t, cn, cn+" Root", cn+" Issuing")
			o := p.options(t.TempDir(), "install-windows")
			o.Base = fsutil.SafeName(cn)
			files := build(t, o)
			data := files[InstallerName(templates.FormatInstallWindows, o.Base)].Data
			if !bytes.HasPrefix(data, []byte("\uFEFF#Requires")) {
				t.Error("the script does not start with a UTF-8 byte order mark and #Requires")
			}
			script := string(data)
			for key, want := range map[string]string{"    Name       = ": cn, "    File       = ": o.Base + ".pfx"} {
				i := strings.Index(script, "\n"+key)
				if i < 0 {
					t.Fatalf("no %q line", key)
				}
				got, rest, ok := psLex(script[i+1+len(key):])
				if !ok || got != want || !strings.HasPrefix(rest, "\n") {
					t.Errorf("%s: PowerShell reads %q (rest %.20q), want %q", strings.TrimSpace(key), got, rest, want)
				}
			}
			// Outside the values block, no name appears.
			body := script[strings.Index(script, "function Test-InStore"):]
			if strings.Contains(body, "CANARY") || strings.Contains(body, "Brien") {
				t.Error("a name appears in the script's code")
			}
			if got := psQuote(cn); !strings.HasPrefix(got, "'") {
				t.Errorf("psQuote(%q) = %q", cn, got)
			}
			if v, rest, ok := psLex(psQuote(cn)); !ok || v != cn || rest != "" {
				t.Errorf("psLex(psQuote(%q)) = %q, %q, %v", cn, v, rest, ok)
			}
		})
	}
}
