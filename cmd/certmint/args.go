package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/internal/suggest"
)

// arrangeArgs puts a command line into the order urfave/cli v2 parses, so
// that flags may come before or after positional arguments on every command
// (DESIGN.md): urfave/cli stops parsing flags at the first positional
// argument, and `certmint revoke 5D3F9A1C --reason keyCompromise` would
// otherwise see "--reason" as a second serial. It also
//   - moves flags given before the command (`certmint --home pki list`,
//     `certmint --json status`) after it, where the command parses them:
//     only --help and --version belong to certmint itself;
//   - turns `certmint help CMD [SUB]` into `certmint CMD [SUB] --help`.
//
// "--" ends the flags: what follows stays positional, in order. A flag the
// command does not define is left among the flags, for the parser to report
// (flagUsageError adds the "did you mean").
func arrangeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	prog, rest := args[0], args[1:]
	// global: certmint's own flags; lead: a command's flags given before
	// the command, each with its value, as one entry.
	var global []string
	var lead [][]string
	for len(rest) > 0 && isFlag(rest[0]) && rest[0] != "--" {
		name, _, hasValue := splitFlag(rest[0])
		if appFlag(name) {
			global = append(global, rest[0])
			rest = rest[1:]
			continue
		}
		if !definedAnywhere(app.Commands, name) {
			// Not a flag of any command: its value, if it has one, cannot be
			// told from the command, so it is reported here.
			return nil, flagUsageError(fmt.Errorf("flag provided but not defined: -%s", name), nil, "", app.Commands)
		}
		flag := []string{rest[0]}
		rest = rest[1:]
		if !hasValue && takesValueAnywhere(app.Commands, name) && len(rest) > 0 {
			flag = append(flag, rest[0])
			rest = rest[1:]
		}
		lead = append(lead, flag)
	}
	if len(rest) == 0 {
		if len(lead) > 0 {
			return nil, noCommandError(app.Commands, lead)
		}
		return append([]string{prog}, global...), nil
	}
	helpMode := false
	if rest[0] == "help" && len(global) == 0 {
		if len(rest) == 1 {
			return []string{prog, "--help"}, nil
		}
		helpMode, rest = true, rest[1:]
	}
	cmd := findCommand(app.Commands, rest[0])
	if cmd == nil {
		if helpMode {
			return nil, unknownCommandError(rest[0], "", app.Commands)
		}
		// The app's Action reports the unknown command, with its suggestion.
		out := append(append([]string{prog}, global...), rest[0])
		return append(append(out, slices.Concat(lead...)...), rest[1:]...), nil
	}
	path := []string{rest[0]}
	rest = rest[1:]
	for len(cmd.Subcommands) > 0 && len(rest) > 0 && !isFlag(rest[0]) {
		sub := findCommand(cmd.Subcommands, rest[0])
		if sub == nil {
			if helpMode {
				return nil, unknownCommandError(rest[0], strings.Join(path, " "), cmd.Subcommands)
			}
			break
		}
		cmd, path, rest = sub, append(path, rest[0]), rest[1:]
	}
	out := append(append([]string{prog}, global...), path...)
	if helpMode {
		return append(out, "--help"), nil
	}
	// A leading flag the command does not define is the command's to
	// report, with the command's own "did you mean".
	out = append(out, slices.Concat(lead...)...)
	if cmd.SkipFlagParsing {
		return append(out, rest...), nil
	}
	flags, positional, ended := splitArgs(cmd, rest)
	out = append(out, flags...)
	if ended {
		out = append(out, "--")
	}
	return append(out, positional...), nil
}

// commandOf is the command an arranged command line runs (nil: none), for
// report to write inputs as that command's flags.
func commandOf(app *cli.App, args []string) *cli.Command {
	rest := args[min(1, len(args)):]
	for len(rest) > 0 && isFlag(rest[0]) {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return nil
	}
	cmd := findCommand(app.Commands, rest[0])
	for rest = rest[1:]; cmd != nil && len(cmd.Subcommands) > 0 && len(rest) > 0; rest = rest[1:] {
		sub := findCommand(cmd.Subcommands, rest[0])
		if sub == nil {
			break
		}
		cmd = sub
	}
	return cmd
}

// splitArgs separates a command's flags (with their values) from its
// positional arguments, keeping the order of each. ended says "--" was
// given: what follows it is positional even when it starts with "-".
func splitArgs(cmd *cli.Command, args []string) (flags, positional []string, ended bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(positional, args[i+1:]...), true
		case isFlag(a):
			flags = append(flags, a)
			name, _, hasValue := splitFlag(a)
			if !hasValue && takesValue(cmd, name) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			positional = append(positional, a)
		}
	}
	return flags, positional, false
}

// isFlag reports an argument that Go's flag package parses as a flag: "-"
// alone is a positional argument (standard input).
func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// splitFlag is "--name=value" as name, value and whether "=" was given.
func splitFlag(a string) (name, value string, hasValue bool) {
	return strings.Cut(strings.TrimLeft(a, "-"), "=")
}

// takesValue reports whether the command's flag name needs a value. A flag
// the command does not define takes none: the parser refuses it anyway.
func takesValue(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			if df, ok := f.(cli.DocGenerationFlag); ok {
				return df.TakesValue()
			}
			_, isBool := f.(*cli.BoolFlag)
			return !isBool
		}
	}
	return false
}

// appFlag reports a flag of certmint itself rather than of a command.
func appFlag(name string) bool {
	return slices.Contains(cli.HelpFlag.Names(), name) || slices.Contains(cli.VersionFlag.Names(), name)
}

// noCommandError is the usage error for flags given with no command after
// them, with an example that works: a command that has the first flag, and
// a placeholder where the flag's value is missing.
func noCommandError(cmds []*cli.Command, lead [][]string) error {
	them := "them"
	if len(lead) == 1 {
		them = "it"
	}
	example := slices.Clone(lead[0])
	name, _, hasValue := splitFlag(example[0])
	if len(example) == 1 && !hasValue && takesValueAnywhere(cmds, name) {
		example = append(example, "VALUE")
	}
	cmd := "list"
	if c := findCommand(cmds, cmd); c == nil || !defines(c, name) {
		cmd = commandWith(cmds, name)
	}
	return usageHint(fmt.Sprintf("put a command after %s, e.g. `certmint %s %s`; `certmint --help` lists the commands", them, strings.Join(example, " "), cmd),
		"%s given without a command", strings.Join(slices.Concat(lead...), " "))
}

// commandWith is the first command (with its parent: "db migrate") that
// has a flag of that name.
func commandWith(cmds []*cli.Command, name string) string {
	for _, c := range cmds {
		if len(c.Subcommands) == 0 && defines(c, name) {
			return c.Name
		}
		if sub := commandWith(c.Subcommands, name); sub != "" {
			return c.Name + " " + sub
		}
	}
	return ""
}

// defines reports whether the command has a flag of that name.
func defines(cmd *cli.Command, name string) bool {
	return slices.ContainsFunc(cmd.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
}

// definedAnywhere reports whether some command has a flag of that name.
func definedAnywhere(cmds []*cli.Command, name string) bool {
	found := false
	walk(cmds, func(c *cli.Command) { found = found || defines(c, name) })
	return found
}

// walk calls fn for every command and subcommand.
func walk(cmds []*cli.Command, fn func(*cli.Command)) {
	for _, c := range cmds {
		fn(c)
		walk(c.Subcommands, fn)
	}
}

// takesValueAnywhere reports whether some command's flag of that name
// needs a value: before the command is known, `certmint --home pki list`
// must take "pki" as --home's value, not as the command.
func takesValueAnywhere(cmds []*cli.Command, name string) bool {
	takes := false
	walk(cmds, func(c *cli.Command) { takes = takes || takesValue(c, name) })
	return takes
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// notDefinedRe matches the flag package's error for an unknown flag.
var notDefinedRe = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)

// flagUsageError is the usage error for a flag error of a command (cmd nil:
// before the command, where appCmds' flags are the candidates): an unknown
// flag gets the flag it most likely meant.
func flagUsageError(err error, cmd *cli.Command, commandLine string, appCmds []*cli.Command) error {
	see := "certmint --help"
	if commandLine != "" {
		see = "certmint " + commandLine + " --help"
	}
	m := notDefinedRe.FindStringSubmatch(err.Error())
	if m == nil {
		return usageErrorf("%v (see `%s`)", err, see)
	}
	name := m[1]
	var names []string
	if cmd != nil {
		for _, f := range cmd.Flags {
			for _, n := range f.Names() {
				if len(n) > 1 && !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	} else {
		names = []string{"help", "version"}
		walk(appCmds, func(c *cli.Command) {
			for _, f := range c.Flags {
				for _, n := range f.Names() {
					if len(n) > 1 && !slices.Contains(names, n) {
						names = append(names, n)
					}
				}
			}
		})
	}
	hint := fmt.Sprintf("`%s` lists the flags", see)
	if best := suggest.Closest(name, names, max(2, len(name)/3)); best != "" {
		hint = fmt.Sprintf("did you mean --%s? (`%s` lists the flags)", best, see)
	}
	return usageHint(hint, "unknown flag %s", dashes(name))
}

// dashes writes a flag name as it is usually typed: -t, --template.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// unknownCommandError is the usage error for a command or subcommand name
// that does not exist, with the likely one when it is a typo. parent is ""
// for certmint's own commands, else the command ("db").
func unknownCommandError(name, parent string, commands []*cli.Command) error {
	full, prefix := name, "certmint "
	if parent != "" {
		full, prefix = parent+" "+name, prefix+parent+" "
	}
	var names []string
	for _, cmd := range commands {
		if !cmd.Hidden && cmd.Name != "help" {
			names = append(names, cmd.Name)
		}
	}
	best := suggest.Closest(name, names, max(2, len(name)/3))
	hint := "commands: " + strings.Join(names, ", ")
	if best != "" {
		hint = fmt.Sprintf("did you mean `%s%s`? (%s)", prefix, best, hint)
	}
	return usageHint(hint, "unknown command %q", full)
}
