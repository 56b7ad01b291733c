package main

import (
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/inspect"
	"github.com/certmint/certmint/internal/secret"
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
	args := c.Args().Slice()
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
