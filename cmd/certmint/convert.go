package main

import (
	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/convert"
	"github.com/certmint/certmint/internal/secret"
)

func convertCommand() *cli.Command {
	return &cli.Command{
		Name:  "convert",
		Usage: "convert certificate files: PEM and DER, .crt/.cer/.pem, .pfx to and from separate files",
		Description: "The input is recognised by its content. --to:\n" +
			"  pem   everything in one PEM file: certificates, then the key unencrypted (openssl pkcs12 -nodes);\n" +
			"        --nokeys or --nocerts leave one part out\n" +
			"  crt   certificates as PEM; from a .pfx (or a PEM with a key): BASE.crt, BASE.key and BASE-chain.pem,\n" +
			"        the files Defender for IoT uploads\n" +
			"  cer   one base64 certificate per file, as macOS Keychain imports CA certificates\n" +
			"  der   one object in binary form (from a .pfx: the certificate of its key)\n" +
			"  key   the private key alone (PKCS#8 PEM, unencrypted, 0600)\n" +
			"  pfx   key + certificate (+ --chain) as PKCS#12; --legacy for macOS and Windows before 1709\n" +
			"--out is a file or a folder (made when missing: end it with / for one); by default files go beside\n" +
			"the input, named after it.\n" +
			"Passwords (encrypted input, the new .pfx) come from CERTMINT_PASSWORD, --password-file or a prompt.\n" +
			"Existing files are only replaced with --force; keys and .pfx files are written 0600.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "in", Usage: "the input `FILE`"},
			&cli.StringFlag{Name: "to", Usage: "the output `FORM`: pem, der, crt, cer, pfx or key"},
			&cli.StringFlag{Name: "out", Usage: "output `FILE` or folder (default: beside the input)"},
			&cli.BoolFlag{Name: "nokeys", Usage: "leave out private keys"},
			&cli.BoolFlag{Name: "nocerts", Usage: "leave out certificates"},
			&cli.BoolFlag{Name: "nodes", Hidden: true, Usage: "accepted for openssl's syntax: keys are always written unencrypted"},
			&cli.StringFlag{Name: "key", Usage: "--to pfx: the private key `FILE` (when --in holds only the certificate)"},
			&cli.StringFlag{Name: "chain", Usage: "--to pfx: CA certificates `FILE` to include"},
			&cli.BoolFlag{Name: "legacy", Usage: "--to pfx: 3DES with a SHA-1 MAC, for macOS Keychain and Windows before 1709"},
			&cli.StringFlag{Name: "friendly-name", Usage: "--to pfx: the friendlyName `NAME` (default: the input .pfx's, else the CN)"},
			forceFlag, jsonFlag, passwordFileFlag, passwordFlag,
		},
		Action: convertAction,
	}
}

// convertOptions turns flags into options; bad combinations are usage errors.
func convertOptions(c *cli.Context) (convert.Options, error) {
	var o convert.Options
	if err := noArgs(c); err != nil {
		return o, err
	}
	if err := requireFlags(c, "in", "to"); err != nil {
		return o, err
	}
	to, err := convert.ParseFormat(c.String("to"))
	if err != nil {
		return o, err
	}
	o = convert.Options{
		In: c.String("in"), To: to, Out: c.String("out"),
		NoKeys: c.Bool("nokeys"), NoCerts: c.Bool("nocerts"),
		Key: c.String("key"), Chain: c.String("chain"), Legacy: c.Bool("legacy"), FriendlyName: c.String("friendly-name"),
		Force: c.Bool(forceFlag.Name),
	}
	if err := o.Validate(); err != nil {
		return o, err
	}
	o.MakeDir = func(dir string) error { return prepareOut(c, dir) }
	o.Password = filePassword(c, o.In).Resolve
	o.NewPassword = newPFXPassword(c).Resolve
	return o, nil
}

// newPFXPassword is the source of the password of a .pfx convert writes.
func newPFXPassword(c *cli.Context) secret.Source {
	o := output(c)
	return secret.Source{
		What:         "password for the new .pfx",
		Value:        c.String(passwordFlag.Name),
		File:         c.String(passwordFileFlag.Name),
		Env:          "CERTMINT_PASSWORD",
		Alternatives: "--password-file FILE",
		Confirm:      true,
		MinLength:    minBundlePassword,
		Warn:         func(m string) { o.warnf("%s", m) },
	}
}

func convertAction(c *cli.Context) error {
	opts, err := convertOptions(c)
	if err != nil {
		return err
	}
	res, err := convert.Run(opts)
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(newConvertJSON(c, res))
	}
	o.infof("Wrote:")
	for _, f := range res.Files {
		o.infof("  %s (%s)", abs(f.Path), f.What)
	}
	for _, n := range res.Notes {
		o.infof("Note: %s", namerFor(c).text(n))
	}
	return nil
}
