package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/convert"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

var updateCompletion = flag.Bool("update-completion", false, "rewrite testdata/completion-powershell.golden")

// completeAnswer runs `certmint __complete` on the words of a command line
// after "certmint", the last one being completed, and returns the
// candidates (without descriptions) and the directive.
func completeAnswer(t *testing.T, words ...string) ([]string, string) {
	t.Helper()
	args := append([]string{completeCommandName, strconv.Itoa(len(words) - 1)}, words...)
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("certmint %q: exit %d\n%s", args, code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, ":") {
		t.Fatalf("certmint %q: the answer does not end with a directive:\n%s", args, stdout)
	}
	var values []string
	for _, l := range lines[:len(lines)-1] {
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
	}
	return values, strings.TrimPrefix(last, ":")
}

func prefixed(prefix string, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = prefix + v
	}
	return out
}

// TestComplete: what a <Tab> offers, for every kind of word.
func TestComplete(t *testing.T) {
	builtins := templates.BuiltinNames()
	if len(builtins) < 5 {
		t.Fatalf("built-in templates: %v", builtins)
	}
	var commands []string
	for _, c := range newApp(nil, nil).Commands {
		if !c.Hidden {
			commands = append(commands, c.Name)
		}
	}
	tests := []struct {
		name      string
		words     []string // after "certmint"; the last is completed
		want      []string // exactly these candidates, in any order
		contains  []string // or at least these
		excludes  []string // and none of these
		directive string
	}{
		{name: "command", words: []string{"iss"}, want: []string{"issue"}, directive: directiveNone},
		{name: "every command", words: []string{""}, want: append(slices.Clone(commands), "help"), excludes: []string{completeCommandName}, directive: directiveNone},
		{name: "commands starting with c", words: []string{"c"}, want: []string{"csr", "crl", "check", "convert", "completion"}},
		{name: "flag name", words: []string{"issue", "--te"}, want: []string{"--template"}},
		{name: "flag name after --home before the command", words: []string{"--home", "pki", "issue", "--te"}, want: []string{"--template"}},
		{name: "flag name after a quoted value", words: []string{"issue", "--cn", "a b", "--te"}, want: []string{"--template"}},
		{name: "flags not given yet", words: []string{"issue", "--force", "--f"}, want: []string{"--format", "--friendly-name"}},
		{name: "repeatable flag again", words: []string{"issue", "--san", "a.example", "--s"}, want: []string{"--san", "--subject", "--sign-profile"}},
		{name: "short names once - is typed", words: []string{"issue", "-"}, contains: []string{"-t", "--template", "-h", "--help"}},
		{name: "flags of a command without arguments", words: []string{"issue", ""}, contains: []string{"--template", "--cn", "--json"}, excludes: []string{"-t", "-h"}},
		{name: "hidden flag not offered", words: []string{"convert", "--no"}, want: []string{"--nokeys", "--nocerts"}},
		{name: "flags before the command", words: []string{"--"}, want: []string{"--home", "--help", "--version"}},
		{name: "template", words: []string{"issue", "--template", ""}, want: builtins, directive: directiveTOML},
		{name: "template by -t", words: []string{"issue", "-t", ""}, want: builtins, directive: directiveTOML},
		{name: "template prefix", words: []string{"issue", "-t", "defender"}, want: []string{"defender-sensor"}, directive: directiveTOML},
		{name: "template in --template=", words: []string{"issue", "--template="}, want: prefixed("--template=", builtins), directive: directiveTOML},
		{name: "template of csr", words: []string{"csr", "--template", "1e-c"}, want: []string{"1e-client", "1e-client-macos", "1e-client-workgroup", "1e-code-signing"}},
		{name: "template of check", words: []string{"check", "--template", "serv"}, want: []string{"server"}, directive: directiveTOML},
		{name: "list filters by built-in name only", words: []string{"list", "--template", ""}, want: builtins, directive: directiveNone},
		{name: "templates show", words: []string{"templates", "show", ""}, want: builtins, directive: directiveTOML},
		{name: "templates show takes one", words: []string{"templates", "show", "server", ""}, want: nil, directive: directiveNone},
		{name: "subcommands", words: []string{"templates", ""}, want: []string{"list", "show"}},
		{name: "db subcommand", words: []string{"db", ""}, want: []string{"migrate"}},
		{name: "db migrate flags", words: []string{"db", "migrate", "--t"}, want: []string{"--to"}},
		{name: "no subcommand after a flag", words: []string{"templates", "--help", ""}, want: nil},
		{name: "help", words: []string{"help", "is"}, want: []string{"issue"}},
		{name: "help subcommand", words: []string{"help", "db", ""}, want: []string{"migrate"}},
		{name: "key types", words: []string{"issue", "--key", ""}, want: keySpecs},
		{name: "key types the template accepts", words: []string{"issue", "-t", "defender-sensor", "--key", ""}, want: []string{"rsa:2048", "rsa:4096"}},
		{name: "key types of a template given after", words: []string{"issue", "--template=defender-sensor", "--key", "rsa:"}, want: []string{"rsa:2048", "rsa:4096"}},
		{name: "key type prefix", words: []string{"issue", "--key", "ecdsa:"}, want: []string{"ecdsa:P-256", "ecdsa:P-384"}},
		{name: "CA key types", words: []string{"init", "--key", ""}, want: keySpecs},
		{name: "issuing CA key types", words: []string{"init", "--issuing-key", "rsa"}, want: []string{"rsa:2048", "rsa:3072", "rsa:4096"}},
		{name: "formats", words: []string{"issue", "--format", ""}, want: formatNames(nil)},
		{name: "formats list", words: []string{"issue", "--format", "crt,k"}, want: []string{"crt,key"}},
		{name: "formats not twice", words: []string{"batch", "--format", "crt,key,"}, want: []string{"crt,key,pfx", "crt,key,chain", "crt,key,cer", "crt,key,note",
			"crt,key,install-windows", "crt,key,install-macos", "crt,key,install-linux", "crt,key,mobileconfig"}},
		{name: "sign formats", words: []string{"sign", "--format", ""}, want: []string{"crt", "chain", "cer", "note"}},
		{name: "pfx flavours", words: []string{"issue", "--pfx", ""}, want: []string{"legacy", "modern"}},
		{name: "check's --pfx is a file", words: []string{"check", "--pfx", ""}, want: nil, directive: directiveFile},
		{name: "check's --key is a file", words: []string{"check", "--key", ""}, want: nil, directive: directiveFile},
		{name: "convert's --key is a file", words: []string{"convert", "--key", ""}, want: nil, directive: directiveFile},
		{name: "reasons", words: []string{"revoke", "--reason", ""}, want: reasonNames()},
		{name: "reason after the serial", words: []string{"revoke", "5D3F9A1C", "--reason", "key"}, want: []string{"keyCompromise"}},
		{name: "reason=", words: []string{"revoke", "--reason=c"}, want: []string{"--reason=caCompromise", "--reason=cessationOfOperation", "--reason=certificateHold"}},
		{name: "convert forms", words: []string{"convert", "--to", ""}, want: []string{"pem", "der", "crt", "cer", "pfx", "key"}},
		{name: "db migrate --to is a URL", words: []string{"db", "migrate", "--to", ""}, want: nil, directive: directiveNone},
		{name: "list statuses", words: []string{"list", "--status", ""}, want: listStatuses},
		{name: "log actions", words: []string{"log", "--action", "re"}, want: []string{"renew", "revoke", "repair"}},
		{name: "home is a folder", words: []string{"--home", ""}, want: nil, directive: directiveDir},
		{name: "--home= is a folder", words: []string{"list", "--home=p"}, want: nil, directive: directiveDir},
		{name: "out is a folder", words: []string{"issue", "--out", ""}, want: nil, directive: directiveDir},
		{name: "input is a file", words: []string{"batch", "-i", ""}, want: nil, directive: directiveFile},
		{name: "csr is a file", words: []string{"sign", "--csr", "x"}, want: nil, directive: directiveFile},
		{name: "password file", words: []string{"issue", "--password-file", ""}, want: nil, directive: directiveFile},
		{name: "inspect takes a file", words: []string{"inspect", ""}, want: nil, directive: directiveFile},
		{name: "shells", words: []string{"completion", ""}, want: completionShells},
		{name: "a value with nothing to offer", words: []string{"issue", "--cn", ""}, want: nil, directive: directiveNone},
		{name: "a serial is not completed", words: []string{"revoke", ""}, want: nil, directive: directiveNone},
		{name: "after --", words: []string{"revoke", "--", "--re"}, want: nil, directive: directiveNone},
		{name: "unknown command", words: []string{"frobnicate", ""}, want: nil, directive: directiveNone},
		{name: "unknown flag's value", words: []string{"issue", "--nope=x"}, want: nil, directive: directiveNone},
		{name: "a switch takes no value", words: []string{"issue", "--force", ""}, contains: []string{"--template"}, excludes: []string{"--force"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := completeAnswer(t, tt.words...)
			if tt.want != nil || (tt.contains == nil && tt.excludes == nil) {
				if !sameSet(got, tt.want) {
					t.Errorf("certmint %s<Tab>: got %q, want %q", strings.Join(tt.words, " "), got, tt.want)
				}
			}
			for _, w := range tt.contains {
				if !slices.Contains(got, w) {
					t.Errorf("certmint %s<Tab>: %q lacks %q", strings.Join(tt.words, " "), got, w)
				}
			}
			for _, w := range tt.excludes {
				if slices.Contains(got, w) {
					t.Errorf("certmint %s<Tab>: %q has %q", strings.Join(tt.words, " "), got, w)
				}
			}
			if tt.directive != "" && directive != tt.directive {
				t.Errorf("certmint %s<Tab>: directive %q, want %q", strings.Join(tt.words, " "), directive, tt.directive)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestCompleteAnswerFormat: one candidate a line with its description
// after a tab, then the directive; PowerShell's dropped empty last word
// is restored from the index.
func TestCompleteAnswerFormat(t *testing.T) {
	code, stdout, stderr := runCLI(t, completeCommandName, "1", "issue", "--te")
	if code != 0 || stdout != "--template\tbuilt-in template NAME or FILE.toml (see `certmint templates`)\n:none\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// `certmint issue <Tab>` from PowerShell 7.2: the empty word is missing.
	got, _ := completeAnswer(t, "issue", "")
	code, stdout, _ = runCLI(t, completeCommandName, "1", "issue")
	if code != 0 || !strings.Contains(stdout, "--template\t") || len(got) == 0 {
		t.Errorf("a missing last word: exit %d\n%s", code, stdout)
	}
	for _, bad := range [][]string{{}, {"x"}, {"-1"}, {"99999", "a"}} {
		code, stdout, stderr := runCLI(t, append([]string{completeCommandName}, bad...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "certmint: error: __complete") {
			t.Errorf("certmint __complete %q: exit %d, stdout %q, stderr %q", bad, code, stdout, stderr)
		}
	}
	// Descriptions stay on their line and are cut short.
	if s := oneLine("a\tb\nc\x1b[31m"); s != "a b c [31m" {
		t.Errorf("oneLine = %q", s)
	}
	if s := shorten(strings.Repeat("word ", 30), 80); len([]rune(s)) > 80 || !strings.HasSuffix(s, "…") {
		t.Errorf("shorten = %q", s)
	}
}

// TestCompleteWritesNothing: a <Tab> never opens the CA home, let alone
// creates one.
func TestCompleteWritesNothing(t *testing.T) {
	home := filepath.Join(t.TempDir(), "pki")
	for _, words := range [][]string{{"--home", home, "list", "--status", ""}, {"issue", "--home", home, "-t", ""}, {"revoke", "--home", home, ""}} {
		completeAnswer(t, words...)
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("completion made the home: %v", err)
	}
}

// TestCompletionValuesAccepted: every value completion offers is one the
// command accepts, and every one it accepts (in its written form) is
// offered.
func TestCompletionValuesAccepted(t *testing.T) {
	for _, k := range keySpecs {
		spec, err := keys.ParseSpec(k)
		if err != nil || spec.String() != k {
			t.Errorf("--key %s: %v, %v", k, spec, err)
		}
	}
	for _, f := range formatNames(nil) {
		if _, err := templates.ParseFormats(f); err != nil {
			t.Errorf("--format %s: %v", f, err)
		}
	}
	var reasons []string
	for name := range crl.Reasons {
		if _, err := ca.ParseReason(name); err == nil {
			reasons = append(reasons, name)
		}
	}
	if got := reasonNames(); !sameSet(got, reasons) || len(got) != 8 {
		t.Errorf("reasons %v, want %v", got, reasons)
	}
	for _, f := range convert.Formats {
		if _, err := convert.ParseFormat(string(f)); err != nil {
			t.Errorf("--to %s: %v", f, err)
		}
	}
	for _, p := range []string{"legacy", "modern"} {
		var e templates.PFXEncryption
		if err := e.UnmarshalText([]byte(p)); err != nil {
			t.Errorf("--pfx %s: %v", p, err)
		}
	}
	for _, s := range listStatuses {
		if code, _, stderr := runCLI(t, "list", "--home", fixtureHome, "--status", s); code != 0 {
			t.Errorf("list --status %s: exit %d: %s", s, code, stderr)
		}
	}
	if code, _, _ := runCLI(t, "list", "--home", fixtureHome, "--status", "nonsense"); code != exitUsage {
		t.Errorf("list --status nonsense: exit %d, want 2 (is the list of statuses still right?)", code)
	}
}

// TestValueCompletersMatchFlags: every entry of the completion tables
// names a command and flag that exist, so a renamed flag fails here
// rather than losing its completion.
func TestValueCompletersMatchFlags(t *testing.T) {
	cmds := map[string]*cli.Command{}
	for _, cp := range allCommands(newApp(nil, nil)) {
		cmds[commandLine(cp)] = cp.cmd
	}
	for key := range valueCompleters {
		name, flagName, _ := strings.Cut(key, "--")
		name = strings.TrimSpace(name)
		if name != "" {
			if cmds[name] == nil || findFlag(cmds[name], flagName) == nil {
				t.Errorf("valueCompleters[%q]: no command %q with --%s", key, name, flagName)
			}
			continue
		}
		used := false
		for _, cmd := range cmds {
			if f := findFlag(cmd, flagName); f != nil {
				if p, _ := flagPlaceholder(f); p != "FILE" && p != "DIR" {
					used = true
				}
			}
		}
		if !used {
			t.Errorf("valueCompleters[%q]: no command has a --%s that is not a file", key, flagName)
		}
	}
	for name := range positionalCompleters {
		if cmds[name] == nil {
			t.Errorf("positionalCompleters[%q]: no such command", name)
		}
	}
}

// TestCompletionCommand: `certmint completion SHELL` prints its script;
// anything else is a wrong call.
func TestCompletionCommand(t *testing.T) {
	for _, shell := range append(slices.Clone(completionShells), "pwsh", "BASH") {
		code, stdout, stderr := runCLI(t, "completion", shell)
		if code != 0 || stderr != "" {
			t.Errorf("completion %s: exit %d: %s", shell, code, stderr)
			continue
		}
		if !strings.Contains(stdout, completeCommandName) || !strings.Contains(stdout, "certmint completion ") {
			t.Errorf("completion %s: not a script that calls certmint %s:\n%s", shell, completeCommandName, stdout)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "completion takes one shell: bash, zsh, fish or powershell"},
		{[]string{"bash", "zsh"}, "completion takes one shell"},
		{[]string{"tcsh"}, `no completion for shell "tcsh"`},
		{[]string{"bsh"}, "did you mean `certmint completion bash`?"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"completion"}, tt.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("completion %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

// TestCompletionScriptsHandleDirectives: each script acts on every
// directive certmint answers (none needs no action).
func TestCompletionScriptsHandleDirectives(t *testing.T) {
	cases := map[string]func(d string) string{
		"bash":       func(d string) string { return "    " + d + ")" },
		"zsh":        func(d string) string { return "      " + d + ")" },
		"fish":       func(d string) string { return "        case " + d + "\n" },
		"powershell": func(d string) string { return "'" + d + "'" },
	}
	for _, shell := range completionShells {
		script, err := completionScripts.ReadFile(completionFiles[shell])
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range completionDirectives {
			if d == directiveNone && shell != "powershell" {
				continue
			}
			if !strings.Contains(string(script), cases[shell](d)) {
				t.Errorf("the %s script does not handle the directive %q (looked for %q)", shell, d, cases[shell](d))
			}
		}
	}
}

// TestCompletionPowerShell: there is no PowerShell on Debian to run the
// script in, so it is pinned by a golden file (go test -run
// TestCompletionPowerShell -update-completion rewrites it: change the
// script only when you can try it in pwsh), and its brackets and quotes
// must balance.
func TestCompletionPowerShell(t *testing.T) {
	code, stdout, stderr := runCLI(t, "completion", "powershell")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden := filepath.Join("testdata", "completion-powershell.golden")
	if *updateCompletion {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Errorf("`certmint completion powershell` differs from %s (rerun with -update-completion if the change is meant)", golden)
	}
	for _, s := range []string{
		"Register-ArgumentCompleter -Native -CommandName 'certmint', 'certmint.exe'",
		"param($wordToComplete, $commandAst, $cursorPosition)",
		"& $prog __complete $cword @words",
		"[System.Management.Automation.CompletionResult]::new(",
	} {
		if !strings.Contains(stdout, s) {
			t.Errorf("the PowerShell script lacks %q", s)
		}
	}
	if err := powerShellBalanced(stdout); err != "" {
		t.Error(err)
	}
}

// powerShellBalanced checks that (), {} and [] nest and that strings
// close, outside comments: a crude syntax check where pwsh is missing.
func powerShellBalanced(src string) string {
	var stack []rune
	pairs := map[rune]rune{')': '(', '}': '{', ']': '['}
	line := 1
	rs := []rune(src)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r {
		case '\n':
			line++
		case '#':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			line++
		case '`':
			i++ // escapes the next character
		case '\'', '"':
			q, start := r, line
			for i++; ; i++ {
				if i >= len(rs) {
					return "line " + strconv.Itoa(start) + ": unterminated string"
				}
				if rs[i] == '\n' {
					line++
				}
				if q == '"' && rs[i] == '`' {
					i++
					continue
				}
				if rs[i] == q {
					if i+1 < len(rs) && rs[i+1] == q { // '' or "" inside
						i++
						continue
					}
					break
				}
			}
		case '(', '{', '[':
			stack = append(stack, r)
		case ')', '}', ']':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return "line " + strconv.Itoa(line) + ": unbalanced " + string(r)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return "unclosed " + string(stack)
	}
	return ""
}

func TestPowerShellBalanced(t *testing.T) {
	for src, ok := range map[string]bool{
		"{ (a) [b] }":           true,
		"'it''s' \"a`\"b\" {}":  true,
		"# { not code\n()":      true,
		"{ (a }":                false,
		"'open":                 false,
		"\"$x -split \"`t\", 2": false,
	} {
		if got := powerShellBalanced(src) == ""; got != ok {
			t.Errorf("powerShellBalanced(%q) ok = %v, want %v", src, got, ok)
		}
	}
}
