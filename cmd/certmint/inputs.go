package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// inputFileFlags names, per command, the flags that name a file certmint
// reads. A file named on the command line that does not exist is a wrong
// call (exit 2), found before anything is opened; checkInputs does it for
// every command. The password files and a --template FILE.toml are inputs
// of every command that has those flags.
// TestInputFlagsDeclared keeps this list in step with the flags whose
// placeholder is FILE.
var inputFileFlags = map[string][]string{
	"batch":   {"input"},
	"check":   {"cert", "key", "chain", "pfx", "crl"},
	"convert": {"in", "key", "chain"},
	"renew":   {"cert"},
	"revoke":  {"cert"},
	"sign":    {"csr"},
}

// commonInputFlags are input files wherever a command has them.
var commonInputFlags = []string{caPasswordFileFlag.Name, passwordFileFlag.Name}

// inputFileArgs are the commands whose positional arguments name files
// certmint reads, and which of them do ("-" is standard input).
var inputFileArgs = map[string]func(string) bool{
	"inspect":        func(a string) bool { return a != "-" },
	"templates show": isTemplateFile,
}

// isTemplateFile reports a template named by its file, not a built-in name.
func isTemplateFile(v string) bool { return strings.HasSuffix(strings.ToLower(v), ".toml") }

// checkInputs is every command's Before: it refuses a command line that
// names an input file that does not exist.
func checkInputs(c *cli.Context) error {
	name := commandName(c)
	flags := append(slices.Clone(inputFileFlags[name]), commonInputFlags...)
	for _, f := range flags {
		def := findFlag(c.Command, f)
		if def == nil || !c.IsSet(f) {
			continue
		}
		values := []string{c.String(f)}
		if _, slice := def.(*cli.StringSliceFlag); slice {
			values = c.StringSlice(f)
		}
		for _, v := range values {
			if err := inputExists("--"+f, v); err != nil {
				return err
			}
		}
	}
	// list --template names a template to filter by; every other --template may be a file.
	if c.Command.Name != "list" && findFlag(c.Command, templateFlag.Name) != nil && isTemplateFile(c.String(templateFlag.Name)) {
		if err := inputExists("--"+templateFlag.Name, c.String(templateFlag.Name)); err != nil {
			return err
		}
	}
	if isInput := inputFileArgs[name]; isInput != nil {
		for _, a := range c.Args().Slice() {
			if isInput(a) {
				if err := inputExists("", a); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// inputExists is the usage error for an input file that does not exist;
// other problems (permissions, a folder) are left to the command, which
// says what it was doing.
func inputExists(flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		where := path
		if flag != "" {
			where = flag + ": " + path
		}
		hint := "check the path"
		if !filepath.IsAbs(path) {
			hint += " (a relative path starts in " + cwd() + ")"
		}
		return usageHint(hint, "%s: no such file", where)
	}
	return nil
}

func cwd() string {
	if d, err := os.Getwd(); err == nil {
		return d
	}
	return "the current folder"
}

// findFlag is cmd's flag called name, or nil.
func findFlag(cmd *cli.Command, name string) cli.Flag {
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// chainBefore runs check, then the command's own Before, if any.
func chainBefore(check, before cli.BeforeFunc) cli.BeforeFunc {
	if before == nil {
		return check
	}
	return func(c *cli.Context) error {
		if err := check(c); err != nil {
			return err
		}
		return before(c)
	}
}
