package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/certmint/certmint/inspect"
	"github.com/certmint/certmint/internal/secret"
	"github.com/urfave/cli/v2"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe a certificate, chain, request, CRL, private key or .pfx file",
		ArgsUsage: "FILE",
		Description: "Reads .crt, .pem, .cer, .der, .csr, .crl, .key, .pfx and .p12 files, PEM or DER, recognised by\n" +
			"their content. Shows subject, issuer, validity (days left), SANs, key usage, CDP and AIA,\n" +
			"fingerprints and the key; a chain as a tree; a CRL's entries; for a .pfx its encryption, MAC,\n" +
			"friendlyName, and whether macOS Keychain and Windows before 1709 can import it.\n" +
			"The password of an encrypted key or .pfx comes from CERTMINT_PASSWORD, --password-file or a\n" +
			"prompt, and is only asked for when the file needs one. FILE - reads standard input.",
		Flags:  []cli.Flag{jsonFlag, passwordFileFlag},
		Action: inspectAction,
	}
}

func inspectAction(c *cli.Context) error {
	c, args, err := withTrailingFlags(c)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usageHint("certmint inspect FILE [--json]", "inspect takes one file, got %d arguments", len(args))
	}
	path := args[0]
	r, err := inspect.File(path, inspect.Options{Password: filePassword(c, path).Resolve})
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return r.WriteJSON(o.stdout)
	}
	return r.WriteText(o.stdout)
}

// filePassword is the source of the password that opens an encrypted input
// file: asked for once, and only when the file needs it.
func filePassword(c *cli.Context, path string) secret.Source {
	o := output(c)
	name := filepath.Base(path)
	if path == "-" {
		name = "standard input"
	}
	return secret.Source{
		What:         "password for " + name,
		Value:        stringFlag(c, passwordFlag.Name),
		File:         c.String(passwordFileFlag.Name),
		Env:          "CERTMINT_PASSWORD",
		Alternatives: "--password-file FILE",
		Warn:         func(m string) { o.warnf("%s", m) },
	}
}

// stringFlag is c.String for a flag the command may not define.
func stringFlag(c *cli.Context, name string) string {
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			if n == name {
				return c.String(name)
			}
		}
	}
	return ""
}

// withTrailingFlags lets flags follow the positional argument, as in
// `certmint inspect FILE --json` (DESIGN.md): urfave/cli v2 stops parsing
// flags at the first argument, so the rest are parsed here with the
// command's own flag definitions. It returns a context that sees both the
// flags given before and after the argument, and the positional arguments.
func withTrailingFlags(c *cli.Context) (*cli.Context, []string, error) {
	args := c.Args().Slice()
	var positional, flags []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !hasValue && takesValue(c.Command, name) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			positional = append(positional, a)
		}
	}
	if len(flags) == 0 {
		return c, positional, nil
	}
	set := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(set); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range c.FlagNames() { // given before the argument
		if set.Lookup(name) != nil {
			set.Set(name, fmt.Sprint(c.Value(name)))
		}
	}
	if err := set.Parse(flags); err != nil {
		return nil, nil, usageErrorf("%v (see `certmint %s --help`)", err, c.Command.FullName())
	}
	if set.NArg() > 0 {
		positional = append(positional, set.Args()...)
	}
	nc := cli.NewContext(c.App, set, c)
	nc.Command = c.Command
	return nc, positional, nil
}

// takesValue reports whether the command's flag name needs a value.
func takesValue(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
