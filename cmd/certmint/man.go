package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
)

// The manual page is written from the command definitions --help shows,
// so it cannot fall behind them. urfave/cli v2's App.ToMan (through
// go-md2man) was tried and not used: it makes every command a top-level
// section (.SH init), writes flags as `--home="": ...` with plain hyphens
// that man renders as typographic ones (a pasted flag then fails), and
// declares section 8.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print certmint's manual page (roff), made from the same definitions as --help",
		Description: "Install it with: certmint man > /usr/local/share/man/man1/certmint.1\n" +
			"or read it at once with: certmint man | man -l -",
		Action: manAction,
	}
}

func manAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	_, err := io.WriteString(output(c).stdout, manPage(c.App))
	return err
}

// manDefaults replaces a flag default that depends on the machine the
// page is written on ("COMMAND --flag": words), so that `make man` writes
// the same page everywhere.
var manDefaults = map[string]string{
	"batch --jobs": "the number of CPUs",
}

// manPage is certmint's manual page in roff (man(7) macros).
func manPage(app *cli.App) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	line(`.\" certmint(1), written by "certmint man" from the command definitions that`)
	line(`.\" --help shows: regenerate it (make man) rather than edit it.`)
	line(".TH CERTMINT 1 \"\" " + roffQuoted("certmint "+app.Version) + " \"certmint manual\"")
	line(".nh") // no hyphenation: flags and names stay whole, so they can be searched for and pasted
	line(".ad l")
	line(".SH NAME")
	line(`certmint \- ` + roffEscape(app.Usage))
	line(".SH SYNOPSIS")
	line(`\fBcertmint\fR [\fB\-\-home\fR \fIDIR\fR] \fICOMMAND\fR [\fIARGUMENTS\fR] [\fIFLAGS\fR]`)
	line(".br")
	line(`\fBcertmint help\fR \fICOMMAND\fR`)
	line(".SH DESCRIPTION")
	roffParagraphs(&b, app.Description)
	line(".PP")
	line(`Every command also takes \fB\-\-help\fR (\fB\-h\fR), which prints its part of this page.`)
	line(".SH COMMANDS")
	for _, cp := range visibleCommands(app.Commands, nil) {
		manCommandSection(&b, cp.path, cp.cmd)
	}
	line(".SH EXIT STATUS")
	for _, s := range []struct {
		code int
		what string
	}{
		{exitOK, "done"},
		{exitFailed, "the operation failed or a requirement is not met: check found a requirement not met, status " +
			"something inside its warning window, a wrong CA password, a file that exists (without --force), a " +
			"template file with a mistake, a failed batch row, a database that cannot be reached"},
		{exitUsage, "certmint was called wrongly: an unknown command, flag or template name, a bad or missing " +
			"value, flags that cannot be combined, a request its template refuses, a file named on the command " +
			"line that does not exist, a serial or CN that names no certificate or several"},
		{exitInterrupted, "interrupted with Ctrl-C: at a password prompt (nothing written), or a batch stopped " +
			"part-way (run the same command again for the rest); SIGTERM gives 143"},
	} {
		line(".TP")
		line(`\fB` + strconv.Itoa(s.code) + `\fR`)
		line(roffEscape(s.what))
	}
	line(".SH ENVIRONMENT")
	for _, e := range manEnvironment(app) {
		line(".TP")
		line(`\fB` + roffEscape(e[0]) + `\fR`)
		line(roffEscape(e[1]))
	}
	line(".SH FILES")
	for _, f := range [][2]string{
		{"pki/", "the CA home (--home, CERTMINT_HOME), made by certmint init, mode 0700"},
		{"pki/certmint.toml", "the CA configuration: names, base URL, subject defaults, validity, CRL lifetimes, database URL"},
		{"pki/<ca>/ca.crt, pki/<ca>/ca.key", "each CA's certificate, and its key, encrypted with the CA password (0600)"},
		{"pki/certmint.db", "the issuance database (SQLite), unless the home uses PostgreSQL"},
		{"pki/public/", "what to publish at the base URL: <ca>.crl and <ca>.crt of every CA (certmint serve serves it)"},
	} {
		line(".TP")
		line(`\fI` + roffEscape(f[0]) + `\fR`)
		line(roffEscape(f[1]))
	}
	line(".SH EXAMPLES")
	line(".nf")
	line(".RS 4")
	for _, ex := range []string{
		"export CERTMINT_CA_PASSWORD=...",
		`certmint init --root-cn "Contoso Root CA" --issuing-cn "Contoso Issuing CA 1" --base-url http://pki.contoso.com`,
		"certmint templates list",
		"certmint issue --template server --cn www.contoso.com --san 10.0.0.5 --random-password",
		"certmint check --template defender-sensor --cert sensor1.crt --key sensor1.key --chain sensor1-chain.pem",
		"certmint revoke 5D3F9A1C --reason keyCompromise",
		"source <(certmint completion bash)",
	} {
		line(roffEscape(ex))
	}
	line(".RE")
	line(".fi")
	line(".SH SEE ALSO")
	line(`\fBopenssl\fR(1), and README.md in certmint's source for the scenario guides (1E, YSoft SafeQ, Defender for IoT).`)
	return b.String()
}

// manCommandSection writes one command: its synopsis, what it does, and
// its flags.
func manCommandSection(b *strings.Builder, path []string, cmd *cli.Command) {
	name := strings.Join(path, " ")
	synopsis := "certmint " + name
	if cmd.ArgsUsage != "" {
		synopsis += " " + cmd.ArgsUsage
	}
	if len(visibleFlags(cmd.Flags)) > 0 {
		synopsis += " [flags]"
	}
	b.WriteString(".SS " + roffQuoted(synopsis) + "\n")
	roffParagraphs(b, cmd.Usage)
	if cmd.Description != "" {
		b.WriteString(".PP\n")
		roffParagraphs(b, cmd.Description)
	}
	for _, f := range visibleFlags(cmd.Flags) {
		placeholder, usage := flagPlaceholder(f)
		if placeholder == "" && flagTakesValue(f) {
			placeholder = "VALUE"
			switch f.(type) {
			case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag:
				placeholder = "N"
			case *cli.DurationFlag:
				placeholder = "DURATION"
			}
		}
		var names []string
		for _, n := range f.Names() {
			names = append(names, `\fB`+roffEscape(dashes(n))+`\fR`)
		}
		tag := strings.Join(names, ", ")
		if placeholder != "" {
			tag += ` \fI` + roffEscape(placeholder) + `\fR`
		}
		if isSliceFlag(f) {
			tag += " ..."
		}
		text := roffEscape(usage)
		if placeholder != "" {
			// The placeholder where the usage names it, in italics as in the tag.
			text = strings.Replace(text, roffEscape(placeholder), `\fI`+roffEscape(placeholder)+`\fR`, 1)
		}
		var notes []string
		if d := manDefault(name, f); d != "" {
			notes = append(notes, "default: "+d)
		}
		if df, ok := f.(cli.DocGenerationFlag); ok && len(df.GetEnvVars()) > 0 {
			notes = append(notes, "or "+strings.Join(df.GetEnvVars(), ", "))
		}
		if len(notes) > 0 {
			text += " (" + roffEscape(strings.Join(notes, "; ")) + ")"
		}
		b.WriteString(".TP\n" + tag + "\n" + text + "\n")
	}
}

// manDefault is the default of flag f of command name as the page shows
// it; "" when it has none worth saying (false, 0, empty).
func manDefault(name string, f cli.Flag) string {
	if d, ok := manDefaults[name+" --"+f.Names()[0]]; ok {
		return d
	}
	df, ok := f.(cli.DocGenerationFlag)
	if !ok || !df.TakesValue() {
		return ""
	}
	d := df.GetDefaultText()
	if u, err := strconv.Unquote(d); err == nil {
		d = u
	}
	switch d {
	case "", "0", "false", "[]":
		return ""
	}
	return d
}

// manEnvironment lists the environment variables certmint reads: those
// of flags (CERTMINT_HOME), and the secrets no flag carries.
func manEnvironment(app *cli.App) [][2]string {
	out := [][2]string{
		{"CERTMINT_CA_PASSWORD", "the CA key password, instead of --ca-password-file or a prompt"},
		{"CERTMINT_PASSWORD", "the .pfx / key password, instead of --password-file, --random-password or a prompt"},
		{ca.DatabaseURLEnv, "the whole PostgreSQL URL of a shared CA's database, password included; certmint.toml keeps it without the password"},
	}
	seen := map[string]bool{}
	for _, cp := range visibleCommands(app.Commands, nil) {
		for _, f := range visibleFlags(cp.cmd.Flags) {
			df, ok := f.(cli.DocGenerationFlag)
			if !ok {
				continue
			}
			for _, env := range df.GetEnvVars() {
				if !seen[env] {
					seen[env] = true
					_, usage := flagPlaceholder(f)
					out = append(out, [2]string{env, usage + " (" + dashes(f.Names()[0]) + ")"})
				}
			}
		}
	}
	return out
}

// manCommandPath is a command and the names that lead to it ("db", "migrate").
type manCommandPath struct {
	path []string
	cmd  *cli.Command
}

// visibleCommands lists cmds and their subcommands, depth first, without
// hidden ones and urfave/cli's "help".
func visibleCommands(cmds []*cli.Command, parent []string) []manCommandPath {
	var out []manCommandPath
	for _, c := range cmds {
		if c.Hidden || c.Name == "help" {
			continue
		}
		p := append(append([]string{}, parent...), c.Name)
		out = append(out, manCommandPath{p, c})
		out = append(out, visibleCommands(c.Subcommands, p)...)
	}
	return out
}

// visibleFlags are the flags --help shows.
func visibleFlags(flags []cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		out = append(out, f)
	}
	return out
}

// roffParagraphs writes text whose paragraphs are separated by blank
// lines. Indented lines (an aligned list, a continued command) are kept
// as they are; the others are filled.
func roffParagraphs(b *strings.Builder, text string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		noFill := false
		for _, l := range strings.Split(para, "\n") {
			indented := strings.HasPrefix(l, " ")
			if indented != noFill {
				if indented {
					b.WriteString(".nf\n")
				} else {
					b.WriteString(".fi\n")
				}
				noFill = indented
			}
			b.WriteString(roffEscape(l) + "\n")
		}
		if noFill {
			b.WriteString(".fi\n")
		}
	}
}

// roffEscape makes s a roff text line that prints as s: backslashes and
// hyphens escaped (\- prints the ASCII hyphen-minus a pasted flag needs),
// `code` in bold, characters beyond ASCII named, and a leading . or '
// (a request) neutralised.
func roffEscape(s string) string {
	var b strings.Builder
	bold := false
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r == '`':
			if bold {
				b.WriteString(`\fR`)
			} else {
				b.WriteString(`\fB`)
			}
			bold = !bold
		case r > 0x7e || r < ' ':
			if r == '\t' {
				b.WriteRune(' ')
			} else {
				fmt.Fprintf(&b, `\[u%04X]`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	if bold {
		b.WriteString(`\fR`)
	}
	out := b.String()
	if strings.HasPrefix(out, ".") || strings.HasPrefix(out, "'") {
		out = `\&` + out
	}
	return out
}

// roffQuoted is s as one quoted macro argument.
func roffQuoted(s string) string {
	return `"` + strings.ReplaceAll(roffEscape(s), `"`, `\(dq`) + `"`
}
