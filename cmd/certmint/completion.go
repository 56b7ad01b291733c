package main

import (
	"embed"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/convert"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/suggest"
	"github.com/certmint/certmint/templates"
)

// Shell completion. `certmint completion SHELL` prints a short script that
// asks certmint itself what to offer: on every <Tab> it runs
//
//	certmint __complete CWORD WORD...
//
// with the words after "certmint" and the index of the one being completed,
// and certmint answers from the same command definitions that --help and
// the parser use: commands, flags, and flag values (template names, key
// types, formats, revocation reasons). One engine, tested in Go, serves
// bash, zsh, fish and PowerShell; the scripts only move words in and
// candidates out.
//
// urfave/cli v2's own protocol (EnableBashCompletion, a trailing
// --generate-bash-completion) is not used: it completes no flag values
// (`--template <Tab>` offers nothing) and reads os.Args instead of the
// arguments it is given; its ToFishCompletion writes static rules (no
// template names), and its PowerShell script runs the word being typed
// rather than the command line.
//
// The answer is one candidate a line, "value<TAB>description" (the
// description may be empty), then a last line ":DIRECTIVE" saying what the
// shell should add from the file system.
const completeCommandName = "__complete"

// Completion directives, the last line of __complete's answer.
const (
	directiveNone = "none" // nothing from the file system
	directiveFile = "file" // file and folder names
	directiveTOML = "toml" // files ending in .toml, and folders
	directiveDir  = "dir"  // folder names
)

// completionDirectives lists them, for the test that every script handles
// each one.
var completionDirectives = []string{directiveNone, directiveFile, directiveTOML, directiveDir}

// completionShells are the shells `certmint completion` writes a script
// for, each script a file under completion/.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

var completionFiles = map[string]string{
	"bash":       "completion/certmint.bash",
	"zsh":        "completion/certmint.zsh",
	"fish":       "completion/certmint.fish",
	"powershell": "completion/certmint.ps1",
}

//go:embed completion/certmint.bash completion/certmint.zsh completion/certmint.fish completion/certmint.ps1
var completionScripts embed.FS

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh, fish or powershell",
		ArgsUsage: strings.Join(completionShells, "|"),
		Description: "The script completes commands, flags, template names and flag values by asking certmint\n" +
			"(the one first on PATH) each time. Install it (README.md, \"Shell completion and man page\"):\n" +
			"  bash:        source <(certmint completion bash), or save it as\n" +
			"               ~/.local/share/bash-completion/completions/certmint\n" +
			"  zsh:         certmint completion zsh > ~/.zfunc/_certmint, with fpath=(~/.zfunc $fpath)\n" +
			"               before compinit in ~/.zshrc\n" +
			"  fish:        certmint completion fish > ~/.config/fish/completions/certmint.fish\n" +
			"  PowerShell:  Invoke-Expression (& certmint completion powershell | Out-String) in $PROFILE",
		Action: completionAction,
	}
}

func completionAction(c *cli.Context) error {
	hint := "e.g. source <(certmint completion bash); `certmint completion --help` says how to install each"
	if c.Args().Len() != 1 {
		return usageHint(hint, "completion takes one shell: %s", templates.OrList(completionShells))
	}
	shell := strings.ToLower(c.Args().First())
	if shell == "pwsh" {
		shell = "powershell"
	}
	file, ok := completionFiles[shell]
	if !ok {
		if best := suggest.Closest(shell, completionShells, max(2, len(shell)/3)); best != "" {
			hint = fmt.Sprintf("did you mean `certmint completion %s`?", best)
		}
		return usageHint(hint, "no completion for shell %q: certmint writes it for %s", c.Args().First(), templates.OrList(completionShells))
	}
	script, err := completionScripts.ReadFile(file)
	if err != nil {
		return err // embedded: cannot happen
	}
	_, err = output(c).stdout.Write(script)
	return err
}

// completeCommand is the hidden command the scripts call. It never reads
// the CA home or writes anything, so a <Tab> cannot change a CA.
func completeCommand() *cli.Command {
	return &cli.Command{
		Name:            completeCommandName,
		Usage:           "answer a completion script (certmint __complete CWORD WORD...)",
		Hidden:          true,
		HideHelp:        true,
		SkipFlagParsing: true, // the words are the command line being typed, flags included
		Action:          completeAction,
	}
}

// maxCompleteWords bounds what __complete reads: a command line, not data.
const maxCompleteWords = 4096

func completeAction(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usageErrorf("%s takes the index of the word to complete, then the words", completeCommandName)
	}
	cword, err := strconv.Atoi(args[0])
	if err != nil || cword < 0 || cword >= maxCompleteWords {
		return usageErrorf("%s: word index %q is not a number from 0 to %d", completeCommandName, args[0], maxCompleteWords-1)
	}
	words := args[1:]
	// PowerShell before 7.3 drops empty arguments: the word being completed
	// is then missing, and is empty.
	for len(words) <= cword {
		words = append(words, "")
	}
	res := complete(c.App, words[:cword], words[cword])
	return res.write(output(c).stdout)
}

// candidate is one completion: the word, and what it is.
type candidate struct{ value, desc string }

// completion is the answer to one <Tab>.
type completion struct {
	candidates []candidate
	directive  string
}

func (r completion) write(w io.Writer) error {
	var b strings.Builder
	for _, c := range r.candidates {
		b.WriteString(oneLine(c.value))
		if c.desc != "" {
			b.WriteString("\t" + shorten(oneLine(c.desc), 80))
		}
		b.WriteString("\n")
	}
	d := r.directive
	if d == "" {
		d = directiveNone
	}
	b.WriteString(":" + d + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine keeps a value or description on its line of the answer.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)), " ")
}

// shorten cuts s to n characters, at a word where it can.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	if i := strings.LastIndexByte(string(r), ' '); i > n/2 {
		return strings.TrimRight(string(r)[:i], " ,;:(") + "…"
	}
	return string(r) + "…"
}

// completeScope is where the words typed so far lead: the command (nil for
// certmint itself), its flags and subcommands, what was given.
type completeScope struct {
	app    *cli.App
	cmd    *cli.Command
	path   string // "db migrate"; "" for certmint itself
	flags  []cli.Flag
	subs   []*cli.Command
	help   bool                // after `certmint help`: the words name commands
	given  map[cli.Flag]string // flags given, with their values
	args   []string            // positional arguments given
	ended  bool                // "--" was given: everything after is positional
	hasArg bool                // a flag or argument follows the command: no subcommand any more
}

// complete answers a <Tab> on the command line `certmint WORDS... CUR`.
func complete(app *cli.App, words []string, cur string) completion {
	s := &completeScope{app: app, flags: []cli.Flag{homeFlag, cli.HelpFlag, cli.VersionFlag},
		subs: app.Commands, given: map[cli.Flag]string{}}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !s.ended && !s.help && w == "--" {
			s.ended, s.hasArg = true, true
			continue
		}
		if !s.ended && !s.help && isFlag(w) {
			s.hasArg = s.cmd != nil // --home before the command still lets one follow
			name, value, hasValue := splitFlag(w)
			f := flagNamed(s.flags, name)
			if f == nil {
				continue
			}
			if !hasValue && flagTakesValue(f) {
				if i+1 == len(words) {
					return s.flagValues(f, cur, "")
				}
				value = words[i+1]
				i++
			}
			s.given[f] = value
			continue
		}
		if !s.hasArg {
			if s.cmd == nil && !s.help && w == "help" {
				s.help = true
				continue
			}
			if sub := findCommand(s.subs, w); sub != nil && !sub.Hidden {
				s.enter(sub)
				continue
			}
		}
		s.hasArg = true
		s.args = append(s.args, w)
	}
	if !s.ended && !s.help && strings.HasPrefix(cur, "-") {
		if name, value, ok := strings.Cut(cur, "="); ok {
			if f := flagNamed(s.flags, strings.TrimLeft(name, "-")); f != nil && flagTakesValue(f) {
				return s.flagValues(f, value, name+"=")
			}
			return completion{directive: directiveNone}
		}
		return s.flagNames(cur)
	}
	return s.positional(cur)
}

// enter moves the scope into a command or subcommand.
func (s *completeScope) enter(cmd *cli.Command) {
	s.cmd = cmd
	s.path = strings.TrimSpace(s.path + " " + cmd.Name)
	s.subs = cmd.Subcommands
	if s.help {
		return
	}
	s.flags = slices.Clone(cmd.Flags)
	if !cmd.HideHelp {
		s.flags = append(s.flags, cli.HelpFlag)
	}
}

// commandCandidates are the visible commands among cmds that start with
// cur ("help" is not one: certmint's help is `certmint help CMD`).
func commandCandidates(cmds []*cli.Command, cur string) []candidate {
	var out []candidate
	for _, c := range cmds {
		if !c.Hidden && c.Name != "help" && strings.HasPrefix(c.Name, cur) {
			out = append(out, candidate{c.Name, c.Usage})
		}
	}
	return out
}

// positional completes a word that is not a flag: a command, a subcommand,
// or the command's own arguments.
func (s *completeScope) positional(cur string) completion {
	if s.help {
		return completion{candidates: commandCandidates(s.subs, cur), directive: directiveNone}
	}
	if !s.hasArg && len(s.subs) > 0 {
		c := commandCandidates(s.subs, cur)
		if s.cmd == nil && strings.HasPrefix("help", cur) {
			c = append(c, candidate{"help", "describe a command: certmint help COMMAND"})
		}
		return completion{candidates: c, directive: directiveNone}
	}
	if s.cmd == nil {
		return completion{directive: directiveNone}
	}
	if f := positionalCompleters[s.path]; f != nil {
		return f(s, cur)
	}
	// A command that takes no arguments: offer its flags on an empty word,
	// `certmint issue <Tab>` being a question about what issue takes.
	if s.cmd.ArgsUsage == "" && cur == "" && len(s.subs) == 0 {
		return s.flagNames(cur)
	}
	return completion{directive: directiveNone}
}

// positionalCompleters complete the arguments of the commands that take
// some, by command. The serial or CN of revoke and renew is not completed:
// that would mean opening the CA's database on every <Tab>.
var positionalCompleters = map[string]func(*completeScope, string) completion{
	"inspect": func(*completeScope, string) completion { return completion{directive: directiveFile} },
	"templates show": func(s *completeScope, cur string) completion {
		if len(s.args) > 0 {
			return completion{directive: directiveNone}
		}
		return templateCandidates(cur, true)
	},
	"completion": func(s *completeScope, cur string) completion {
		if len(s.args) > 0 {
			return completion{directive: directiveNone}
		}
		return fixedValues(completionShells, cur, "")
	},
}

// flagNames completes a flag name: the command's visible flags not given
// yet (repeatable ones always), long names only once "--" is typed.
func (s *completeScope) flagNames(cur string) completion {
	var out []candidate
	for _, f := range s.flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		if _, given := s.given[f]; given && !isSliceFlag(f) {
			continue
		}
		_, usage := flagPlaceholder(f)
		for i, n := range f.Names() {
			// Long aliases (safeq's -Subject, -FriendlyName) are the vendor
			// script's spelling, accepted but not offered.
			if i > 0 && len(n) > 1 {
				continue
			}
			// A short name only once "-" is typed: on an empty word it would
			// list each of those flags twice.
			d := dashes(n)
			if len(n) == 1 && (cur == "" || strings.HasPrefix(cur, "--")) {
				continue
			}
			if strings.HasPrefix(d, cur) {
				out = append(out, candidate{d, usage})
			}
		}
	}
	return completion{candidates: out, directive: directiveNone}
}

// flagValues completes the value of flag f of the scope's command; prefix
// ("--template=") is put back before each candidate.
func (s *completeScope) flagValues(f cli.Flag, cur, prefix string) completion {
	placeholder, _ := flagPlaceholder(f)
	name := f.Names()[0]
	var res completion
	switch fn := valueCompleters[s.path+" --"+name]; {
	case fn != nil:
		res = fn(s, cur)
	case placeholder == "FILE":
		res = completion{directive: directiveFile}
	case placeholder == "DIR":
		res = completion{directive: directiveDir}
	case valueCompleters["--"+name] != nil:
		res = valueCompleters["--"+name](s, cur)
	default:
		res = completion{directive: directiveNone}
	}
	for i := range res.candidates {
		res.candidates[i].value = prefix + res.candidates[i].value
	}
	return res
}

// valueCompleters complete flag values: "COMMAND --flag" for one command,
// "--flag" for every command whose flag of that name does not take a FILE
// or DIR (check's and convert's --key take a file, not a key type). Flags
// whose placeholder is FILE or DIR complete file or folder names without
// an entry here. TestValueCompletersMatchFlags keeps the keys in step with
// the commands.
var valueCompleters = map[string]func(*completeScope, string) completion{
	"--template":      func(_ *completeScope, cur string) completion { return templateCandidates(cur, true) },
	"list --template": func(_ *completeScope, cur string) completion { return templateCandidates(cur, false) },
	"--key":           keyCandidates,
	"init --issuing-key": func(_ *completeScope, cur string) completion {
		return fixedValues(keySpecs, cur, "")
	},
	"--format":      func(_ *completeScope, cur string) completion { return listValues(formatNames(nil), cur) },
	"sign --format": func(_ *completeScope, cur string) completion { return listValues(formatNames(signFormatExcluded), cur) },
	"issue --pfx": func(_ *completeScope, cur string) completion {
		return fixedValues([]string{string(templates.PFXLegacy), string(templates.PFXModern)}, cur, "")
	},
	"revoke --reason": func(_ *completeScope, cur string) completion { return fixedValues(reasonNames(), cur, "") },
	"convert --to": func(_ *completeScope, cur string) completion {
		var names []string
		for _, f := range convert.Formats {
			names = append(names, string(f))
		}
		return fixedValues(names, cur, "")
	},
	"list --status": func(_ *completeScope, cur string) completion { return fixedValues(listStatuses, cur, "") },
	"log --action":  func(_ *completeScope, cur string) completion { return fixedValues(ca.Actions, cur, "") },
}

// keySpecs are the key types --key takes (keys.ParseSpec), as it writes them.
var keySpecs = []string{"rsa:2048", "rsa:3072", "rsa:4096", "ecdsa:P-256", "ecdsa:P-384"}

// listStatuses are what `list --status` filters on (ca.ListOptions.State).
var listStatuses = []string{"valid", "revoked", "expired"}

// signFormatExcluded are the files sign cannot write: the key stays with
// the requester, so neither it nor anything that carries it (the .pfx,
// the installers that import one, the configuration profile).
var signFormatExcluded = func() []templates.Format {
	var out []templates.Format
	for _, f := range templates.AllFormats {
		if f.NeedsKey() {
			out = append(out, f)
		}
	}
	return out
}()

// keyCandidates completes --key: the key types the template given with
// --template accepts, or every key type before a template is given (or
// when it does not load).
func keyCandidates(s *completeScope, cur string) completion {
	specs := keySpecs
	for f, v := range s.given {
		if f.Names()[0] != templateFlag.Name || v == "" {
			continue
		}
		if t, err := templates.Load(v); err == nil {
			if allowed := t.Key.AllowedKeySpecs(); len(allowed) > 0 {
				specs = allowed
			}
		}
	}
	return fixedValues(specs, cur, "")
}

// templateCandidates completes a template: the built-in names, with their
// descriptions, and (files) the .toml files of the folder being typed.
func templateCandidates(cur string, files bool) completion {
	res := completion{directive: directiveNone}
	if files {
		res.directive = directiveTOML
	}
	all, err := templates.Builtins()
	if err != nil { // a broken build: the names without descriptions
		return fixedValues(templates.BuiltinNames(), cur, res.directive)
	}
	for _, t := range all {
		if strings.HasPrefix(t.Name, cur) {
			res.candidates = append(res.candidates, candidate{t.Name, t.Description})
		}
	}
	return res
}

// fixedValues completes from a list of values.
func fixedValues(values []string, cur, directive string) completion {
	res := completion{directive: directive}
	for _, v := range values {
		if strings.HasPrefix(v, cur) {
			res.candidates = append(res.candidates, candidate{value: v})
		}
	}
	return res
}

// listValues completes a comma-separated list (--format crt,key): the
// last item, after the ones already given, none of them twice.
func listValues(values []string, cur string) completion {
	done, last := "", cur
	if i := strings.LastIndexByte(cur, ','); i >= 0 {
		done, last = cur[:i+1], cur[i+1:]
	}
	given := strings.Split(done, ",")
	res := completion{directive: directiveNone}
	for _, v := range values {
		if strings.HasPrefix(v, last) && !slices.Contains(given, v) {
			res.candidates = append(res.candidates, candidate{value: done + v})
		}
	}
	return res
}

// formatNames are the bundle formats, less the excluded ones.
func formatNames(excluded []templates.Format) []string {
	var out []string
	for _, f := range templates.AllFormats {
		if !slices.Contains(excluded, f) {
			out = append(out, string(f))
		}
	}
	return out
}

// reasonNames are the RFC 5280 reasons revoke accepts, in code order.
func reasonNames() []string {
	var out []string
	for name := range crl.Reasons {
		if _, err := ca.ParseReason(name); err == nil {
			out = append(out, name)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return crl.Reasons[a] - crl.Reasons[b] })
	return out
}

// flagNamed is the flag among flags that has name, or nil.
func flagNamed(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// flagTakesValue reports a flag that needs a value (not a switch).
func flagTakesValue(f cli.Flag) bool {
	if df, ok := f.(cli.DocGenerationFlag); ok {
		return df.TakesValue()
	}
	_, isBool := f.(*cli.BoolFlag)
	return !isBool
}

// isSliceFlag reports a flag that may be given more than once (--san).
func isSliceFlag(f cli.Flag) bool {
	sf, ok := f.(cli.DocGenerationSliceFlag)
	return ok && sf.IsSliceFlag()
}

// flagPlaceholder is the flag's value placeholder, the word in backquotes
// in its usage ("the CA home `DIR`": DIR), and the usage without the
// backquotes, as urfave/cli's help shows them.
func flagPlaceholder(f cli.Flag) (placeholder, usage string) {
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return "", ""
	}
	usage = df.GetUsage()
	if i := strings.IndexByte(usage, '`'); i >= 0 {
		if j := strings.IndexByte(usage[i+1:], '`'); j >= 0 {
			placeholder = usage[i+1 : i+1+j]
			usage = usage[:i] + placeholder + usage[i+2+j:]
		}
	}
	return placeholder, usage
}
