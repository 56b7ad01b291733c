package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestArrangeArgs is the argument order urfave/cli parses: flags (with
// their values) first, then the positional arguments; "--" keeps what
// follows positional; --home before the command moves after it; `help CMD`
// becomes `CMD --help`.
func TestArrangeArgs(t *testing.T) {
	app := newApp(nil, nil)
	for _, tc := range []struct {
		name string
		in   []string
		want []string
		err  string
	}{
		{"flags after the serial", []string{"revoke", "5D3F9A1C", "--reason", "keyCompromise"},
			[]string{"revoke", "--reason", "keyCompromise", "5D3F9A1C"}, ""},
		{"flag=value and a bool after the argument", []string{"renew", "5D3F9A1C", "--revoke-old", "--days=30"},
			[]string{"renew", "--revoke-old", "--days=30", "5D3F9A1C"}, ""},
		{"flags on both sides", []string{"inspect", "--json", "a.crt", "--password-file", "pw"},
			[]string{"inspect", "--json", "--password-file", "pw", "a.crt"}, ""},
		{"a value that looks like a flag", []string{"issue", "--days", "-5", "--cn", "x"},
			[]string{"issue", "--days", "-5", "--cn", "x"}, ""},
		{"standard input is positional", []string{"inspect", "-", "--json"},
			[]string{"inspect", "--json", "-"}, ""},
		{"-- ends the flags", []string{"inspect", "--json", "--", "-odd.crt", "--not-a-flag"},
			[]string{"inspect", "--json", "--", "-odd.crt", "--not-a-flag"}, ""},
		{"--home before the command", []string{"--home", "pki", "list", "--json"},
			[]string{"list", "--home", "pki", "--json"}, ""},
		{"--home= before the command", []string{"--home=pki", "revoke", "www.contoso.com", "--reason", "superseded"},
			[]string{"revoke", "--home=pki", "--reason", "superseded", "www.contoso.com"}, ""},
		{"a command's flags before it", []string{"--json", "--home", "pki", "status", "--warn", "10d"},
			[]string{"status", "--json", "--home", "pki", "--warn", "10d"}, ""},
		{"a command's flag=value before it", []string{"--limit=5", "list"}, []string{"list", "--limit=5"}, ""},
		{"a flag no command has, before the command", []string{"--jsn", "list"}, nil, "unknown flag --jsn"},
		{"certmint's own flags stay", []string{"--version"}, []string{"--version"}, ""},
		{"flags before a subcommand", []string{"--home", "pki", "db", "migrate", "--to", "postgres://x@h/db"},
			[]string{"db", "migrate", "--home", "pki", "--to", "postgres://x@h/db"}, ""},
		{"flags before an unknown command", []string{"--json", "isue", "x"}, []string{"isue", "--json", "x"}, ""},
		{"flags and no command", []string{"--home", "pki"}, nil, "--home pki given without a command"},
		{"a subcommand", []string{"db", "migrate", "--to", "postgres://x@h/db", "--home", "pki"},
			[]string{"db", "migrate", "--to", "postgres://x@h/db", "--home", "pki"}, ""},
		{"templates show NAME --flag", []string{"templates", "show", "server"},
			[]string{"templates", "show", "server"}, ""},
		{"a short alias", []string{"issue", "--cn", "a", "-t", "server"},
			[]string{"issue", "--cn", "a", "-t", "server"}, ""},
		{"an unknown flag is left for the parser", []string{"issue", "x", "--tempalte", "server"},
			[]string{"issue", "--tempalte", "x", "server"}, ""},
		{"help CMD", []string{"help", "issue"}, []string{"issue", "--help"}, ""},
		{"help CMD SUB", []string{"help", "db", "migrate"}, []string{"db", "migrate", "--help"}, ""},
		{"help alone", []string{"help"}, []string{"--help"}, ""},
		{"help of an unknown command", []string{"help", "isue"}, nil, `unknown command "isue"`},
		{"help of an unknown subcommand", []string{"help", "db", "migrat"}, nil, `unknown command "db migrat"`},
		{"an unknown command is left for the app", []string{"isue", "--cn", "x"}, []string{"isue", "--cn", "x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := arrangeArgs(app, append([]string{"certmint"}, tc.in...))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]string{"certmint"}, tc.want...); !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// TestCLIContract is the command line of issue 12 items 1, 2 and 5, each as
// a user types it: every case failed before (flags after a serial, --home
// before the command, help CMD, serial prefixes and CNs, a missing --out,
// did-you-mean with exit 2).
func TestCLIContract(t *testing.T) {
	home := newHome(t)
	t.Setenv("CERTMINT_HOME", "")
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-password")
	work := t.TempDir()
	t.Chdir(work)
	issue := func(cn, name string) issuedJSON {
		t.Helper()
		code, stdout, stderr := runCLI(t, "issue", "--home", home, "--template", "server", "--cn", cn, "--name", name, "--out", work, "--format", "crt,key", "--json")
		if code != 0 {
			t.Fatalf("issue %s: exit %d\n%s", cn, code, stderr)
		}
		var j issuedJSON
		if err := json.Unmarshal([]byte(stdout), &j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	contoso := issue("www.contoso.com", "contoso")
	twin1 := issue("twin.contoso.com", "twin1")
	twin2 := issue("twin.contoso.com", "twin2")
	byFile := issue("file.contoso.com", "file")
	renewMe := issue("renew.contoso.com", "renew")

	type step struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
		setup  func()
	}
	for _, tc := range []step{
		// --home before the command; help CMD.
		{name: "--home before the command", args: []string{"--home", home, "list"}, stdout: []string{contoso.Serial}},
		{name: "help CMD", args: []string{"help", "issue"}, stdout: []string{"certmint issue - make a new key and certificate"}},
		{name: "help CMD SUB", args: []string{"help", "db", "migrate"}, stdout: []string{"certmint db migrate - move the issuance database"}},
		{name: "help of a typo", args: []string{"help", "isue"}, code: 2, stderr: []string{`unknown command "isue"`, "did you mean `certmint issue`?"}},

		// Did you mean, exit 2.
		{name: "a misspelt flag", args: []string{"issue", "--home", home, "--tempalte", "server", "--cn", "x.contoso.com"}, code: 2,
			stderr: []string{"certmint: error: unknown flag --tempalte", "certmint: hint: did you mean --template?"}},
		{name: "a misspelt flag after an argument", args: []string{"revoke", "--home", home, contoso.Serial, "--reasn", "superseded"}, code: 2,
			stderr: []string{"unknown flag --reasn", "did you mean --reason?"}},
		{name: "a misspelt template", args: []string{"issue", "--home", home, "-t", "sever", "--cn", "x.contoso.com"}, code: 2,
			stderr: []string{`no built-in template "sever"`, `certmint: hint: did you mean "server"?`}},
		{name: "a misspelt command", args: []string{"revok", "x"}, code: 2, stderr: []string{"did you mean `certmint revoke`?"}},

		// revoke and renew: a serial, a prefix of 8+ hex digits, a CN, --cert.
		{name: "a CN that names several certificates", args: []string{"revoke", "--home", home, "twin.contoso.com"}, code: 2,
			stderr: []string{`"twin.contoso.com" matches 2 certificates:`, "certmint:   " + twin1.Serial + "  valid    expires ", "certmint:   " + twin2.Serial,
				"certmint: hint: give the serial of the one you mean"}},
		{name: "a serial prefix too short", args: []string{"revoke", "--home", home, contoso.Serial[:6]}, code: 2,
			stderr: []string{"a serial prefix needs at least 8 hex digits"}},
		{name: "the README's revoke line: prefix, then flags", args: []string{"revoke", "--home", home, contoso.Serial[:8] + "...", "--reason", "keyCompromise"},
			stdout: []string{"Revoked " + contoso.Serial + " (www.contoso.com), reason keyCompromise."}},
		{name: "revoke by CN, then flags", args: []string{"revoke", "--home", home, "TWIN.contoso.com", "--reason", "superseded"}, code: 2,
			stderr: []string{"matches 2 certificates"}},
		{name: "revoke one twin by its serial with colons", args: []string{"revoke", colons(twin1.Serial), "--home", home, "--json"},
			stdout: []string{`"serial":"` + twin1.Serial + `"`}},
		{name: "now the CN names one valid certificate", args: []string{"revoke", "twin.contoso.com", "--home", home, "--reason", "superseded"},
			stdout: []string{"Revoked " + twin2.Serial}},
		{name: "a CN with no valid certificate left", args: []string{"revoke", "--home", home, "twin.contoso.com"}, code: 2,
			stderr: []string{`"twin.contoso.com" names no valid certificate; it names:`, twin1.Serial + "  revoked", twin2.Serial + "  revoked"}},
		{name: "revoke --cert FILE", args: []string{"revoke", "--home", home, "--cert", filepath.Join(work, "file.crt")},
			stdout: []string{"Revoked " + byFile.Serial}},
		{name: "doctor's hint for a lost bundle: renew SERIAL --revoke-old", args: []string{"renew", renewMe.Serial, "--home", home, "--revoke-old"},
			setup: func() {
				for _, f := range []string{"renew.crt", "renew.key"} {
					if err := os.Remove(filepath.Join(work, f)); err != nil {
						t.Fatal(err)
					}
				}
			},
			stdout: []string{"Issued server certificate", "Revoked the old certificate " + renewMe.Serial}},
		{name: "renew by CN", args: []string{"renew", "renew.contoso.com", "--home", home, "--out", filepath.Join(work, "renewed")},
			stdout: []string{"Issued server certificate \"renew.contoso.com\""}},

		// --out is made when missing, 0700.
		{name: "issue into a missing folder", args: []string{"issue", "--home", home, "-t", "server", "--cn", "new.contoso.com", "--out", filepath.Join(work, "new", "deep"), "--format", "crt,key"},
			stdout: []string{filepath.Join(work, "new", "deep", "new.contoso.com.crt")}},
		{name: "export-ca into a missing folder", args: []string{"export-ca", "--home", home, "--out", filepath.Join(work, "cas")},
			stdout: []string{filepath.Join(work, "cas", "ca-chain.pem")}},
		{name: "convert into a missing folder", args: []string{"convert", "--in", filepath.Join(work, "contoso.crt"), "--to", "der", "--out", filepath.Join(work, "der") + string(filepath.Separator)},
			stdout: []string{filepath.Join(work, "der", "contoso.der")}},
		{name: "convert several files into a missing folder", args: []string{"convert", "--in", filepath.Join(work, "cas", "ca-chain.pem"), "--to", "cer", "--out", filepath.Join(work, "cers") + string(filepath.Separator)},
			stdout: []string{filepath.Join(work, "cers") + string(filepath.Separator)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("certmint %q: exit %d, want %d\nstdout: %s\nstderr: %s", tc.args, code, tc.code, stdout, stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	for _, dir := range []string{filepath.Join(work, "new"), filepath.Join(work, "new", "deep"), filepath.Join(work, "cas"), filepath.Join(work, "der"), filepath.Join(work, "cers"), filepath.Join(work, "renewed")} {
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", dir, st.Mode().Perm())
		}
	}

	// A refused command leaves no folder behind.
	missing := filepath.Join(work, "refused", "deeper")
	code, _, stderr := runCLI(t, "issue", "--home", home, "-t", "server", "--cn", "bad_name.contoso.com", "--out", missing)
	if code == 0 {
		t.Fatal("the refused issue succeeded")
	}
	if _, err := os.Stat(filepath.Join(work, "refused")); err == nil {
		t.Errorf("the refused command left %s behind:\n%s", filepath.Join(work, "refused"), stderr)
	}
}

func colons(hex string) string {
	var parts []string
	for i := 0; i < len(hex); i += 2 {
		parts = append(parts, hex[i:i+2])
	}
	return strings.Join(parts, ":")
}

// TestCLIMissingInput is the exit-status table's "a file named by a flag
// that does not exist" (exit 2, nothing changed), one row for every input
// file of every command. TestInputFlagsDeclared keeps the declarations it
// is checked against complete.
func TestCLIMissingInput(t *testing.T) {
	home := newHome(t)
	out := t.TempDir()
	t.Chdir(out)
	t.Setenv("CERTMINT_HOME", home)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-password")
	missing := filepath.Join(t.TempDir(), "none")
	real := writeFile(t, t.TempDir(), "real.crt", "x", 0o644)
	rows := []struct {
		command string // as commandName writes it
		input   string // the flag, or "" for the positional argument
		args    []string
	}{
		{"init", "ca-password-file", []string{"init", "--home", filepath.Join(out, "new"), "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://x", "--ca-password-file", missing}},
		{"issue", "template", []string{"issue", "--template", missing + ".toml", "--cn", "a.example.com", "--out", out}},
		{"issue", "password-file", []string{"issue", "-t", "server", "--cn", "a.example.com", "--out", out, "--password-file", missing}},
		{"issue", "ca-password-file", []string{"issue", "-t", "server", "--cn", "a.example.com", "--out", out, "--ca-password-file", missing}},
		{"safeq", "template", []string{"safeq", "-Subject", "q.example.com", "-FriendlyName", "Q", "--template", missing + ".toml", "--out", out}},
		{"safeq", "password-file", []string{"safeq", "-Subject", "q.example.com", "-FriendlyName", "Q", "--password-file", missing, "--out", out}},
		{"safeq", "ca-password-file", []string{"safeq", "-Subject", "q.example.com", "-FriendlyName", "Q", "--ca-password-file", missing, "--out", out}},
		{"batch", "input", []string{"batch", "-t", "server", "--input", missing, "--out", out}},
		{"batch", "template", []string{"batch", "-t", missing + ".toml", "--input", real, "--out", out}},
		{"batch", "password-file", []string{"batch", "-t", "server", "--input", real, "--password-file", missing, "--out", out}},
		{"batch", "ca-password-file", []string{"batch", "-t", "server", "--input", real, "--ca-password-file", missing, "--out", out}},
		{"csr", "template", []string{"csr", "-t", missing + ".toml", "--cn", "a.example.com", "--out", out}},
		{"csr", "password-file", []string{"csr", "-t", "server", "--cn", "a.example.com", "--encrypt-key", "--password-file", missing, "--out", out}},
		{"sign", "csr", []string{"sign", "-t", "server", "--csr", missing, "--out", out}},
		{"sign", "template", []string{"sign", "-t", missing + ".toml", "--csr", real, "--out", out}},
		{"sign", "ca-password-file", []string{"sign", "-t", "server", "--csr", real, "--ca-password-file", missing, "--out", out}},
		{"renew", "cert", []string{"renew", "--cert", missing, "--out", out}},
		{"renew", "password-file", []string{"renew", "0123456789", "--password-file", missing}},
		{"renew", "ca-password-file", []string{"renew", "0123456789", "--ca-password-file", missing}},
		{"revoke", "cert", []string{"revoke", "--cert", missing}},
		{"revoke", "ca-password-file", []string{"revoke", "0123456789", "--ca-password-file", missing}},
		{"crl", "ca-password-file", []string{"crl", "--ca-password-file", missing}},
		{"serve", "ca-password-file", []string{"serve", "--ca-password-file", missing}},
		{"doctor", "ca-password-file", []string{"doctor", "--repair", "--ca-password-file", missing}},
		{"check", "template", []string{"check", "-t", missing + ".toml", "--cert", real}},
		{"check", "cert", []string{"check", "-t", "server", "--cert", missing}},
		{"check", "key", []string{"check", "-t", "server", "--cert", real, "--key", missing}},
		{"check", "chain", []string{"check", "-t", "server", "--cert", real, "--chain", missing}},
		{"check", "pfx", []string{"check", "-t", "server", "--pfx", missing}},
		{"check", "crl", []string{"check", "-t", "server", "--cert", real, "--crl", real, "--crl", missing}},
		{"check", "password-file", []string{"check", "-t", "server", "--cert", real, "--password-file", missing}},
		{"inspect", "", []string{"inspect", missing}},
		{"inspect", "password-file", []string{"inspect", real, "--password-file", missing}},
		{"convert", "in", []string{"convert", "--in", missing, "--to", "pem", "--out", out}},
		{"convert", "key", []string{"convert", "--in", real, "--key", missing, "--to", "pfx", "--out", out}},
		{"convert", "chain", []string{"convert", "--in", real, "--chain", missing, "--to", "pfx", "--out", out}},
		{"convert", "password-file", []string{"convert", "--in", real, "--to", "pem", "--password-file", missing, "--out", out}},
		{"templates show", "", []string{"templates", "show", missing + ".toml"}},
	}
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.command+" "+r.input] = true
		t.Run(r.command+" "+r.input, func(t *testing.T) {
			before := snapshot(t, home, out)
			code, stdout, stderr := runCLI(t, r.args...)
			if code != exitUsage {
				t.Errorf("certmint %q: exit %d, want 2\n%s", r.args, code, stderr)
			}
			want := "no such file"
			if r.input != "" {
				want = "--" + r.input + ": " + missing
			}
			if !strings.Contains(stderr, want) || !strings.Contains(stderr, "no such file\ncertmint: hint: check the path") {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout on error: %s", stdout)
			}
			if after := snapshot(t, home, out); after != before {
				t.Errorf("the refused command changed files or the database")
			}
		})
	}
	// Every declared input of every command has its row.
	for _, cmd := range allCommands(newApp(nil, nil)) {
		name := commandLine(cmd)
		var inputs []string
		for _, f := range append(slices.Clone(inputFileFlags[name]), commonInputFlags...) {
			if findFlag(cmd.cmd, f) != nil {
				inputs = append(inputs, f)
			}
		}
		// list's --template names a template to filter by, not a file to read.
		if name != "list" && findFlag(cmd.cmd, templateFlag.Name) != nil {
			inputs = append(inputs, templateFlag.Name)
		}
		if inputFileArgs[name] != nil {
			inputs = append(inputs, "")
		}
		for _, in := range inputs {
			if !covered[name+" "+in] {
				t.Errorf("no missing-input row for `certmint %s` %q", name, in)
			}
		}
	}
}

type commandPath struct {
	path []string
	cmd  *cli.Command
}

func commandLine(c commandPath) string { return strings.Join(c.path, " ") }

// allCommands lists every command and subcommand of the app.
func allCommands(app *cli.App) []commandPath {
	var out []commandPath
	var walk func([]string, []*cli.Command)
	walk = func(parent []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(slices.Clone(parent), c.Name)
			out = append(out, commandPath{p, c})
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	return out
}

// placeholderRe finds a flag usage's placeholder, as urfave/cli shows it.
var placeholderRe = regexp.MustCompile("`([A-Z.]+)`")

// TestInputFlagsDeclared: a flag whose placeholder is FILE names a file
// certmint reads, so its missing file must be a usage error; every one is
// declared in inputFileFlags (or commonInputFlags), except the files
// certmint writes.
func TestInputFlagsDeclared(t *testing.T) {
	outputs := map[string]bool{"convert out": true}
	for _, cmd := range allCommands(newApp(nil, nil)) {
		name := commandLine(cmd)
		for _, f := range cmd.cmd.Flags {
			df, ok := f.(cli.DocGenerationFlag)
			if !ok {
				continue
			}
			m := placeholderRe.FindStringSubmatch(df.GetUsage())
			if m == nil || m[1] != "FILE" {
				continue
			}
			fn := f.Names()[0]
			if outputs[name+" "+fn] || slices.Contains(inputFileFlags[name], fn) || slices.Contains(commonInputFlags, fn) {
				continue
			}
			t.Errorf("`certmint %s --%s FILE` is not declared in inputFileFlags", name, fn)
		}
	}
}

// TestNoCommandHint: flags with no command after them get an example that
// runs: a command that has the flag, a placeholder for a missing value.
func TestNoCommandHint(t *testing.T) {
	app := newApp(nil, nil)
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"--home", "pki"}, "`certmint --home pki list`"},
		{[]string{"--home"}, "`certmint --home VALUE list`"},
		{[]string{"--days", "5"}, "`certmint --days 5 issue`"},
		{[]string{"--to", "postgres://x@h/db"}, "`certmint --to postgres://x@h/db db migrate`"},
		{[]string{"--json", "--home", "pki"}, "put a command after them, e.g. `certmint --json list`"},
	} {
		_, err := arrangeArgs(app, append([]string{"certmint"}, tc.args...))
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(ue.hint, tc.hint) {
			t.Errorf("%q: %v, want a usage error with the hint %s", tc.args, err, tc.hint)
		}
	}
}

// TestRequiredExamples: a command missing its required flags names them
// all and, for the commands a newcomer types first, shows a whole command
// line whose every flag the command has.
func TestRequiredExamples(t *testing.T) {
	app := newApp(nil, nil)
	for name, ex := range requiredExamples {
		cmd := findCommand(app.Commands, name)
		if cmd == nil {
			t.Errorf("requiredExamples: no command %q", name)
			continue
		}
		for _, w := range strings.Fields(ex) {
			if flag, _, _ := splitFlag(w); isFlag(w) && !defines(cmd, flag) {
				t.Errorf("%s's example %q: %s has no flag %s", name, ex, name, w)
			}
		}
	}
	code, _, stderr := runCLI(t, "init", "--home", filepath.Join(t.TempDir(), "pki"))
	want := "certmint: error: --root-cn, --issuing-cn and --base-url are required\ncertmint: hint: e.g. `" + requiredExamples["init"] + "`"
	if code != 2 || !strings.HasPrefix(stderr, want) {
		t.Errorf("init without flags: exit %d\n%s\nwant it to start with\n%s", code, stderr, want)
	}
}
