package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/secret"
	"github.com/certmint/certmint/templates"
)

// Flags shared by several commands, declared once.
var (
	homeFlag = &cli.StringFlag{
		Name: "home", Value: "pki", EnvVars: []string{"CERTMINT_HOME"},
		Usage: "the CA home `DIR`",
	}
	caPasswordFileFlag = &cli.StringFlag{
		Name:  "ca-password-file",
		Usage: "read the CA key password from `FILE` (or set CERTMINT_CA_PASSWORD, or type it when asked)",
	}
	passwordFileFlag = &cli.StringFlag{
		Name:  "password-file",
		Usage: "read the .pfx / key password from `FILE` (or set CERTMINT_PASSWORD, or type it when asked)",
	}
	passwordFlag = &cli.StringFlag{
		Name:  "password",
		Usage: "the .pfx / key password on the command line (visible to other users; prefer --password-file)",
	}
	randomPasswordFlag = &cli.BoolFlag{
		Name:    "random-password",
		Aliases: []string{"random-passwords"}, // batch's name for it
		Usage:   "generate the .pfx / key password and write it to BASE.password (0600)",
	}
	forceFlag = &cli.BoolFlag{
		Name:  "force",
		Usage: "replace existing files",
	}
	templateFlag = &cli.StringFlag{Name: "template", Aliases: []string{"t"}, Usage: "built-in template `NAME` or FILE.toml (see `certmint templates`)"}
	cnFlag       = &cli.StringFlag{Name: "cn", Usage: "common name"}
	sanFlag      = &cli.StringSliceFlag{Name: "san", Usage: "subject alternative name, repeatable: DNS:name, IP:1.2.3.4, email:a@b, URI:https://x, or a bare name or address"}
	subjectFlag  = &cli.StringFlag{Name: "subject", Usage: "other subject fields, e.g. \"C=US,O=Contoso Inc.,OU=Contoso Labs\""}
	outFlag      = &cli.StringFlag{Name: "out", Value: ".", Usage: "output `DIR`"}
	daysFlag     = &cli.IntFlag{Name: "days", Usage: "validity in days (default: the template's)"}
	nameFlag     = &cli.StringFlag{Name: "name", Usage: "file base `NAME` (default: the CN)"}
	exampleFlag  = &cli.BoolFlag{Name: "example", Usage: "fill in the template's example CN, SANs and subject (its [example] table) instead of --cn, --san and --subject"}
	keyFlag      = &cli.StringFlag{Name: "key", Usage: "the new key `TYPE`, one the template accepts: rsa:2048, rsa:3072, rsa:4096, ecdsa:P-256 or ecdsa:P-384 (default: the template's)"}
	jsonFlag     = &cli.BoolFlag{
		Name:  "json",
		Usage: "print the result as JSON on stdout",
	}
)

// Password lengths below which a password being set draws a warning,
// never a refusal: the vendor's own example is -Password "123456" (003).
const (
	// The CA password encrypts both CA keys for the CA's whole life.
	minCAPassword = 12
	// NIST SP 800-63B 5.1.1.1: a memorized secret has at least 8 characters.
	minBundlePassword = 8
)

// caPassword is the source of the CA key password; confirm says it is a
// new one (init), which is asked twice and checked for length.
func caPassword(c *cli.Context, confirm bool) secret.Source {
	o := output(c)
	src := secret.Source{
		What:         "CA password",
		File:         c.String(caPasswordFileFlag.Name),
		Env:          "CERTMINT_CA_PASSWORD",
		Alternatives: "--ca-password-file FILE",
		Confirm:      confirm,
		Warn:         func(m string) { o.warnf("%s", m) },
	}
	if confirm {
		src.MinLength = minCAPassword
	}
	return src
}

// bundlePassword is the source of the .pfx / key password.
func bundlePassword(c *cli.Context) secret.Source {
	o := output(c)
	return secret.Source{
		What:         "bundle password",
		Value:        c.String(passwordFlag.Name),
		File:         c.String(passwordFileFlag.Name),
		Env:          "CERTMINT_PASSWORD",
		Alternatives: "--password-file FILE or --random-password",
		Confirm:      true,
		MinLength:    minBundlePassword,
		Warn:         func(m string) { o.warnf("%s", m) },
	}
}

// requireFlags reports missing required flags as a usage error; urfave/cli's
// own required-flag error is unexported and cannot be mapped to exit 2.
func requireFlags(c *cli.Context, names ...string) error {
	var missing []string
	for _, n := range names {
		if !c.IsSet(n) || c.String(n) == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	what := missing[0] + " is required"
	if n := len(missing); n > 1 {
		what = strings.Join(missing[:n-1], ", ") + " and " + missing[n-1] + " are required"
	}
	if ex, ok := requiredExamples[commandName(c)]; ok {
		return usageHint(fmt.Sprintf("e.g. `%s`; `certmint %s --help` says more", ex, commandName(c)), "%s", what)
	}
	return usageErrorf("%s (see `certmint %s --help`)", what, commandName(c))
}

// requiredExamples are whole command lines for the commands a newcomer
// types first, shown when their required flags are missing.
var requiredExamples = map[string]string{
	"init":  `certmint init --root-cn "Contoso Root CA" --issuing-cn "Contoso Issuing CA 1" --base-url http://pki.contoso.com`,
	"issue": "certmint issue --template server --cn www.contoso.com",
	"batch": "certmint batch --template client --input hosts.csv --out bundles",
	"sign":  "certmint sign --template server --csr www.contoso.com.csr",
}

// commandName is the command as typed, "db migrate": urfave/cli's FullName
// of a subcommand is only its own name ("migrate").
func commandName(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil {
			names = append([]string{ctx.Command.Name}, names...)
		}
	}
	if len(names) > 1 {
		names = names[1:] // the app's root command, "certmint"
	}
	return strings.Join(names, " ")
}

// noArgs refuses stray positional arguments, which usually mean a flag
// value with a space was not quoted.
func noArgs(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageHint("quote values that contain spaces, e.g. --cn \"My Server\"",
			"unexpected argument %q", c.Args().First())
	}
	return nil
}

// validityDays is --days: 0 when not given (the template's validity), an
// error when given as zero or less, or as more than templates.MaxDays.
func validityDays(c *cli.Context) (int, error) {
	if c.IsSet(daysFlag.Name) && c.Int(daysFlag.Name) <= 0 {
		return 0, usageHint("e.g. --days 365, or leave it out for the template's validity", "--days must be positive, not %d", c.Int(daysFlag.Name))
	}
	if d := c.Int(daysFlag.Name); d > templates.MaxDays {
		return 0, usageHint("e.g. --days 365, or leave it out for the template's validity", "--days %d is more than %d (100 years)", d, templates.MaxDays)
	}
	return c.Int(daysFlag.Name), nil
}

// leafKey is --key: the zero spec (the template's key) when not given, a
// usage error when it is not a key type or not one the template accepts.
func leafKey(c *cli.Context, t *templates.Template) (keys.Spec, error) {
	if !c.IsSet(keyFlag.Name) {
		return keys.Spec{}, nil
	}
	spec, err := keys.ParseSpec(c.String(keyFlag.Name))
	if err != nil {
		return keys.Spec{}, usageHint("e.g. --key rsa:4096 or --key ecdsa:P-256; `certmint templates show "+t.Name+"` lists the template's keys", "--key: %v", err)
	}
	if err := ca.CheckKey(t, spec); err != nil {
		return keys.Spec{}, err
	}
	return spec, nil
}
