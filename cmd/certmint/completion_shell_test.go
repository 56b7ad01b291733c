package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/templates"
)

// The completion scripts run in real shells here, calling this test binary
// as certmint: a symlink named certmint on PATH, with asCertmintEnv set,
// makes it run certmint's own run() instead of the tests.
const asCertmintEnv = "CERTMINT_TEST_AS_CERTMINT"

// requireShellsEnv makes a missing bash, zsh, fish or groff a failure
// instead of a skip; .ci/run installs them and sets it.
const requireShellsEnv = "CERTMINT_REQUIRE_SHELLS"

func init() {
	if os.Getenv(asCertmintEnv) == "1" {
		os.Exit(run(context.Background(), append([]string{"certmint"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
}

// requireShell returns the path of a shell or tool the tests run, or
// skips (fails with CERTMINT_REQUIRE_SHELLS=1).
func requireShell(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(requireShellsEnv) == "1" {
		t.Fatalf("%s is not in PATH and %s=1: install it (Debian: apt-get install %s)", name, requireShellsEnv, pkg)
	}
	t.Skipf("%s is not in PATH: skipping (Debian: apt-get install %s; %s=1 makes this a failure)", name, pkg, requireShellsEnv)
	return ""
}

// shellEnv is a scratch world for a shell: certmint (this binary) first on
// PATH, HOME and XDG folders of its own, and a work folder holding a
// template file, another file and a folder.
type shellEnv struct {
	env  []string
	work string
}

func newShellEnv(t *testing.T) shellEnv {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	work := filepath.Join(root, "work")
	for _, d := range []string{bin, work, filepath.Join(work, "tpl"), filepath.Join(root, "home")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(exe, filepath.Join(bin, "certmint")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, work, "mine.toml", goodTemplate, 0o644)
	writeFile(t, work, "notes.txt", "x", 0o644)
	home := filepath.Join(root, "home")
	return shellEnv{work: work, env: []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"TERM=dumb", "LANG=C.UTF-8", asCertmintEnv + "=1",
	}}
}

// run runs a shell command in the work folder, with a deadline.
func (e shellEnv) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.work
	cmd.Env = e.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// A shellCase is a command line typed up to the cursor, and what <Tab>
// must offer there: exactly want (in any order), as the shell would
// insert each candidate in place of its current word.
type shellCase struct {
	line string
	want []string
}

// shellCases are the lines every shell is tried on; fish and zsh complete
// whole words, so their wants are the same (bash's differ where it splits
// words at = and :, see TestCompletionBash).
func shellCases() []shellCase {
	builtins := templates.BuiltinNames()
	return []shellCase{
		{"certmint iss", []string{"issue"}},
		{"certmint issue --te", []string{"--template"}},
		{"certmint issue --template ", append(slices.Clone(builtins), "mine.toml", "tpl/")},
		{"certmint issue -t ", append(slices.Clone(builtins), "mine.toml", "tpl/")},
		{"certmint issue -t 1e-client-w", []string{"1e-client-workgroup"}},
		{"certmint issue --template=ser", []string{"--template=server"}},
		{"certmint issue --key rsa:", []string{"rsa:2048", "rsa:3072", "rsa:4096"}},
		{"certmint issue -t defender-sensor --key ", []string{"rsa:2048", "rsa:4096"}},
		{"certmint revoke 5D3F9A1C --reason key", []string{"keyCompromise"}},
		{"certmint templates ", []string{"list", "show"}},
		{"certmint help d", []string{"db", "doctor"}},
		{"certmint inspect ", []string{"mine.toml", "notes.txt", "tpl/"}},
		{"certmint --home ", []string{"tpl/"}},
		{`certmint issue --cn "a b" --te`, []string{"--template"}},
		{"certmint completion z", []string{"zsh"}},
	}
}

// bashCompWords splits a command line as bash does for COMP_WORDS: at
// blanks outside quotes, and a run of COMP_WORDBREAKS characters (= and :
// among them) is a word of its own. It returns the words and COMP_CWORD.
// (Checked against bash 5.2 on a terminal: `--key rsa:20` is --key, rsa,
// :, 20; `--template=` is --template, =.)
func bashCompWords(line string) ([]string, int) {
	const breaks = "=:><;|&("
	var words []string
	var cur strings.Builder
	inWord, inBreak := false, false
	var quote rune
	flush := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord, inBreak = false, false
	}
	for _, r := range line {
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == ' ' || r == '\t':
			flush()
		case strings.ContainsRune(breaks, r):
			if !inBreak {
				flush()
			}
			cur.WriteRune(r)
			inWord, inBreak = true, true
		default:
			if inBreak {
				flush()
			}
			if r == '"' || r == '\'' {
				quote = r
			}
			cur.WriteRune(r)
			inWord = true
		}
	}
	if !inWord {
		words = append(words, "") // the cursor is on a new, empty word
	} else {
		words = append(words, cur.String())
	}
	return words, len(words) - 1
}

func TestBashCompWords(t *testing.T) {
	for line, want := range map[string][]string{
		"certmint iss":                   {"certmint", "iss"},
		"certmint issue ":                {"certmint", "issue", ""},
		"certmint issue --template=":     {"certmint", "issue", "--template", "="},
		"certmint issue --template=ser":  {"certmint", "issue", "--template", "=", "ser"},
		"certmint issue --key rsa:":      {"certmint", "issue", "--key", "rsa", ":"},
		"certmint x a::b":                {"certmint", "x", "a", "::", "b"},
		`certmint issue --cn "a b" --te`: {"certmint", "issue", "--cn", `"a b"`, "--te"},
	} {
		if got, _ := bashCompWords(line); !slices.Equal(got, want) {
			t.Errorf("bashCompWords(%q) = %q, want %q", line, got, want)
		}
	}
}

// bashReplace is what COMPREPLY holds for a candidate: bash replaces only
// its own current word, so a candidate loses what of the whole word lies
// before it ("--template=server" at "--template=ser" is "server").
func bashReplace(line, candidate string) string {
	words, cword := bashCompWords(line)
	whole := words[cword]
	for i := cword - 1; i > 0; i-- {
		if !strings.HasSuffix(line[:len(line)-len(whole)], words[i]) {
			break
		}
		whole = words[i] + whole
	}
	keep := whole[:len(whole)-len(words[cword])]
	return strings.TrimSuffix(strings.TrimPrefix(candidate, keep), "/")
}

// TestCompletionBash sources `certmint completion bash` in bash, sets
// COMP_LINE, COMP_POINT, COMP_WORDS and COMP_CWORD as bash does for a
// <Tab> at the end of each line, calls the function the script registered
// with `complete -F`, and reads COMPREPLY.
func TestCompletionBash(t *testing.T) {
	requireShell(t, "bash", "bash")
	e := newShellEnv(t)
	cases := append(shellCases(),
		shellCase{"certmint issue --template=", prefixed("--template=", append(templates.BuiltinNames(), "mine.toml", "tpl"))},
		shellCase{"certmint issue --key ecdsa:P-3", []string{"ecdsa:P-384"}},
		shellCase{"certmint issue --out=t", []string{"--out=tpl"}},
	)
	var script strings.Builder
	script.WriteString("set -u\nsource <(certmint completion bash) || exit 1\n" +
		"spec=$(complete -p certmint) || exit 1\n" +
		"fn=${spec#*-F }; fn=${fn%% *}\n")
	for i, c := range cases {
		words, cword := bashCompWords(c.line)
		quoted := make([]string, len(words))
		for j, w := range words {
			quoted[j] = shellQuote(w)
		}
		fmt.Fprintf(&script, "COMP_LINE=%s; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(%s); COMP_CWORD=%d; COMPREPLY=()\n",
			shellQuote(c.line), strings.Join(quoted, " "), cword)
		fmt.Fprintf(&script, "\"$fn\" certmint %s %s\necho '--- %d'; printf '%%s\\n' \"${COMPREPLY[@]}\"\n",
			shellQuote(words[cword]), shellQuote(words[max(cword-1, 0)]), i)
	}
	out := e.run(t, "bash", "--norc", "--noprofile", "-c", script.String())
	got := splitCases(t, out, len(cases))
	for i, c := range cases {
		var want []string
		for _, w := range c.want {
			want = append(want, bashReplace(c.line, w))
		}
		if !sameSet(got[i], want) {
			t.Errorf("bash: %s<Tab>: COMPREPLY %q, want %q", c.line, got[i], want)
		}
	}
}

// splitCases splits "--- i" separated output into n lists of lines.
func splitCases(t *testing.T, out string, n int) [][]string {
	t.Helper()
	got := make([][]string, n)
	i := -1
	for _, l := range strings.Split(out, "\n") {
		if _, err := fmt.Sscanf(l, "--- %d", &i); err == nil && strings.HasPrefix(l, "--- ") {
			continue
		}
		if i < 0 || i >= n {
			if strings.TrimSpace(l) != "" {
				t.Errorf("unexpected output: %q", l)
			}
			continue
		}
		if l != "" {
			got[i] = append(got[i], l)
		}
	}
	if i != n-1 {
		t.Fatalf("the shell stopped after case %d of %d:\n%s", i, n, out)
	}
	return got
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestCompletionFish loads `certmint completion fish` and asks fish what
// it would offer (complete --do-complete).
func TestCompletionFish(t *testing.T) {
	requireShell(t, "fish", "fish")
	e := newShellEnv(t)
	cases := append(shellCases(),
		shellCase{"certmint issue --out=t", []string{"--out=tpl/"}},
	)
	var script strings.Builder
	script.WriteString("certmint completion fish | source; or exit 1\n")
	for i, c := range cases {
		fmt.Fprintf(&script, "echo '--- %d'; complete --do-complete %s\n", i, fishQuote(c.line))
	}
	out := e.run(t, "fish", "--no-config", "-c", script.String())
	got := splitCases(t, out, len(cases))
	for i, c := range cases {
		var values []string
		for _, l := range got[i] {
			v, _, _ := strings.Cut(l, "\t")
			values = append(values, v)
		}
		if !sameSet(values, c.want) {
			t.Errorf("fish: %s<Tab>: %q, want %q", c.line, values, c.want)
		}
	}
}

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// zshInit is sourced by an interactive zsh on a pseudo-terminal: it loads
// the completion system and `certmint completion zsh`, wraps compadd to
// print each candidate it is given (CAND:value) before adding it, and
// binds <Tab> to a completion widget that prints END-OF-COMPLETION after.
const zshInit = `PS1='' PROMPT='' RPROMPT=''
autoload -Uz compinit && compinit -u -D
source <(certmint completion zsh) || exit 1
zstyle ':completion:*' insert-tab false
LISTMAX=100000
compadd() {
  if (( ${@[(I)-[OAD]]} )); then
    builtin compadd "$@"
    return
  fi
  local -a __matches
  builtin compadd -O __matches "$@"
  local __m
  for __m in $__matches; do print -r -- "CAND:$__m"; done
  builtin compadd "$@"
}
__certmint_test_complete() { _main_complete; print -r -- "END-OF-COMPLETION" }
zle -C __certmint_test_complete complete-word __certmint_test_complete
bindkey '^I' __certmint_test_complete
print READY
`

// zshDrive starts that zsh through zsh/zpty and types each line given
// and <Tab>, printing "--- i" and what the terminal showed; Ctrl-U then
// clears the line for the next.
const zshDrive = `zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "source ${(q)1}"
zpty -r z line '*READY*'
shift
integer i=0
for l in "$@"; do
  zpty -w -n z "$l"$'\t'
  zpty -r z out '*END-OF-COMPLETION*'
  print -r -- "--- $i"
  print -r -- "$out"
  zpty -w -n z $'\C-u'
  (( i++ ))
done
zpty -d z
`

// zshCandidates reads zshDrive's output: per line typed, the candidates
// the completion added.
func zshCandidates(t *testing.T, out string, n int) [][]string {
	t.Helper()
	got := make([][]string, n)
	i := -1
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r", "\n"), "\n") {
		var k int
		if _, err := fmt.Sscanf(l, "--- %d", &k); err == nil && strings.HasPrefix(l, "--- ") {
			i = k
			continue
		}
		_, v, ok := strings.Cut(l, "CAND:")
		if !ok || i < 0 || i >= n {
			continue
		}
		v, _, _ = strings.Cut(v, "\x1b") // a terminal control sequence after it
		if !slices.Contains(got[i], v) {
			got[i] = append(got[i], v)
		}
	}
	if i != n-1 {
		t.Fatalf("zsh stopped after line %d of %d:\n%q", i, n, out)
	}
	return got
}

// TestCompletionZsh types each line and <Tab> into an interactive zsh
// (on a pseudo-terminal, through zsh/zpty) with `certmint completion zsh`
// loaded, and collects what the completion adds. It also checks the
// script's syntax (zsh -n) and that it loads from $fpath as _certmint.
func TestCompletionZsh(t *testing.T) {
	requireShell(t, "zsh", "zsh")
	e := newShellEnv(t)
	script := filepath.Join(t.TempDir(), "_certmint")
	e.run(t, "zsh", "-f", "-c", "certmint completion zsh > "+shellQuote(script)+" && zsh -n "+shellQuote(script))
	init := writeFile(t, t.TempDir(), "init.zsh", zshInit, 0o644)
	drive := writeFile(t, t.TempDir(), "drive.zsh", zshDrive, 0o644)
	cases := shellCases()
	args := []string{"-f", drive, init}
	for _, c := range cases {
		args = append(args, c.line)
	}
	got := zshCandidates(t, e.run(t, "zsh", args...), len(cases))
	for i, c := range cases {
		var want []string
		for _, w := range c.want {
			want = append(want, strings.TrimSuffix(w, "/")) // zsh adds the slash itself
		}
		if !sameSet(got[i], want) {
			t.Errorf("zsh: %s<Tab>: %q, want %q", c.line, got[i], want)
		}
	}
	// From $fpath, as the README installs it: compinit finds _certmint by
	// its #compdef line.
	fpathInit := strings.Replace(zshInit, "autoload -Uz compinit && compinit -u -D\nsource <(certmint completion zsh) || exit 1",
		"fpath=("+shellQuote(filepath.Dir(script))+" $fpath)\nautoload -Uz compinit && compinit -u -D", 1)
	if fpathInit == zshInit {
		t.Fatal("the fpath variant of zshInit did not change it")
	}
	init = writeFile(t, t.TempDir(), "init-fpath.zsh", fpathInit, 0o644)
	got = zshCandidates(t, e.run(t, "zsh", "-f", drive, init, "certmint iss", "certmint issue -t defender-sensor --key "), 2)
	if !sameSet(got[0], []string{"issue"}) || !sameSet(got[1], []string{"rsa:2048", "rsa:4096"}) {
		t.Errorf("zsh with _certmint on $fpath: %q", got)
	}
}
