package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// manPageFresh is the output of `certmint man` run in a process of its
// own (this test binary as certmint), as a user runs it. In this process
// an earlier test may have changed the defaults the page shows: urfave/cli
// keeps a value read from the environment (CERTMINT_HOME) in the shared
// flag, where the next run takes it for the default.
func manPageFresh(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "man")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, asCertmintEnv+"=1")
	var errs strings.Builder
	cmd.Stderr = &errs
	out, err := cmd.Output()
	if err != nil || errs.Len() > 0 {
		t.Fatalf("certmint man: %v\n%s", err, errs.String())
	}
	return string(out)
}

// manSections splits the page into its command sections, by the command
// line each .SS starts with ("certmint db migrate").
func manSections(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	parts := strings.Split(page, "\n.SS ")
	for _, p := range parts[1:] {
		head, body, _ := strings.Cut(p, "\n")
		if i := strings.Index(body, "\n.SH "); i >= 0 {
			body = body[:i] // the last command's section ends at EXIT STATUS
		}
		out[manHeadCommand(head)] = body
	}
	return out
}

// manHeadCommand is the command a .SS line names: its leading words up to
// the arguments, flags or end.
func manHeadCommand(head string) string {
	head = strings.Trim(head, `"`)
	var words []string
	for _, w := range strings.Fields(head) {
		if !regexp.MustCompile(`^[a-z][a-z\\-]*$`).MatchString(w) {
			break
		}
		words = append(words, strings.ReplaceAll(w, `\-`, "-"))
	}
	return strings.Join(words, " ")
}

// TestManNamesEverything walks the app's command tree: every visible
// command and subcommand has its section, and every visible flag of it is
// in that section, with its short names and placeholder.
func TestManNamesEverything(t *testing.T) {
	page := manPageFresh(t)
	sections := manSections(t, page)
	n := 0
	for _, cp := range allCommands(newApp(nil, nil)) {
		if cp.cmd.Hidden || cp.cmd.Name == "help" {
			if _, ok := sections["certmint "+commandLine(cp)]; ok {
				t.Errorf("the hidden command %q has a section", commandLine(cp))
			}
			continue
		}
		n++
		name := "certmint " + commandLine(cp)
		body, ok := sections[name]
		if !ok {
			t.Errorf("no section for `%s` (sections: %v)", name, mapKeys(sections))
			continue
		}
		for _, f := range cp.cmd.Flags {
			if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
				if strings.Contains(body, `\fB`+roffEscape(dashes(f.Names()[0]))+`\fR`) {
					t.Errorf("%s: the hidden flag --%s is on the page", name, f.Names()[0])
				}
				continue
			}
			for _, fn := range f.Names() {
				if want := `\fB` + roffEscape(dashes(fn)) + `\fR`; !strings.Contains(body, "\n"+want) && !strings.Contains(body, ", "+want) {
					t.Errorf("%s: flag %s is not in its section", name, dashes(fn))
				}
			}
			if p, _ := flagPlaceholder(f); p != "" && !strings.Contains(body, `\fI`+roffEscape(p)+`\fR`) {
				t.Errorf("%s --%s: placeholder %s missing", name, f.Names()[0], p)
			}
		}
	}
	if n < 20 || len(sections) != n {
		t.Errorf("%d commands, %d sections: %v", n, len(sections), mapKeys(sections))
	}
	for _, want := range []string{".TH CERTMINT 1 ", ".SH NAME\ncertmint \\- ", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH EXIT STATUS",
		".SH ENVIRONMENT", "\\fBCERTMINT_HOME\\fR", "\\fBCERTMINT_CA_PASSWORD\\fR", ".SH FILES", ".SH EXAMPLES",
		`(default: the number of CPUs)`, `(default: pki; or CERTMINT_HOME)`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if code, stdout, stderr := runCLI(t, "man", "extra"); code != exitUsage || stdout != "" || !strings.Contains(stderr, `unexpected argument "extra"`) {
		t.Errorf("man extra: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestManDefaultsMatchFlags: every default the page words itself names a
// flag that exists.
func TestManDefaultsMatchFlags(t *testing.T) {
	cmds := map[string]*cli.Command{}
	for _, cp := range allCommands(newApp(nil, nil)) {
		cmds[commandLine(cp)] = cp.cmd
	}
	for key := range manDefaults {
		name, flagName, _ := strings.Cut(key, " --")
		if cmds[name] == nil || findFlag(cmds[name], flagName) == nil {
			t.Errorf("manDefaults[%q]: no command %q with --%s", key, name, flagName)
		}
	}
}

func mapKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestManRenders renders the page with groff as man does, warnings on
// (-ww): it must render without one, and the text must read as written
// (flags with ASCII hyphens, the placeholders, the sections).
func TestManRenders(t *testing.T) {
	requireShell(t, "groff", "groff-base")
	page := manPageFresh(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "groff", "-man", "-Tutf8", "-ww", "-rLL=80n")
	cmd.Stdin = strings.NewReader(page)
	var out, errs strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil || errs.Len() > 0 {
		t.Fatalf("groff -man -ww: %v\n%s", err, errs.String())
	}
	// Strip overstriking (bold, underline) to plain text.
	text := regexp.MustCompile(".\b").ReplaceAllString(out.String(), "")
	text = regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(text, "")
	for _, want := range []string{
		"NAME\n       certmint - a small certificate authority",
		"certmint issue [flags]",
		"certmint db migrate [flags]",
		"certmint revoke SERIAL | CN | --cert FILE [flags]",
		"--template, -t NAME",
		"--ca-password-file FILE",
		"--home DIR",
		"EXIT STATUS",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if strings.ContainsAny(text, "\u2010\u2212") {
		t.Errorf("the rendered page has typographic hyphens or minus signs, which break pasted flags")
	}
	// man itself, where installed, reads it too.
	if _, err := exec.LookPath("man"); err == nil {
		file := writeFile(t, t.TempDir(), "certmint.1", page, 0o644)
		cmd := exec.CommandContext(ctx, "man", "--warnings", "-l", file)
		cmd.Env = append(cmd.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80")
		var out, errs strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errs
		if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "certmint") || errs.Len() > 0 {
			t.Errorf("man --warnings -l %s: %v\n%s", filepath.Base(file), err, errs.String())
		}
	}
}

func TestRoffEscape(t *testing.T) {
	for in, want := range map[string]string{
		"--home DIR":           `\-\-home DIR`,
		`C:\pki`:               `C:\epki`,
		".starts with a dot":   `\&.starts with a dot`,
		"'quote":               `\&'quote`,
		"see `certmint help`":  `see \fBcertmint help\fR`,
		"open `code":           `open \fBcode\fR`,
		"café…":                `caf\[u00E9]\[u2026]`,
		"tab\there":            "tab here",
		"plain text, (a) [b]!": "plain text, (a) [b]!",
	} {
		if got := roffEscape(in); got != want {
			t.Errorf("roffEscape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := roffQuoted(`say "hi"`); got != `"say \(dqhi\(dq"` {
		t.Errorf("roffQuoted = %q", got)
	}
}
