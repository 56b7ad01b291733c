package main

import (
	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/bundle"
)

func exportCACommand() *cli.Command {
	return &cli.Command{
		Name:  "export-ca",
		Usage: "write the CA certificates: one base64 .cer per CA, DER .crt per CA, and a chain .pem",
		Description: "Writes into --out (default: the current folder) <ca>.cer (base64, one CA per file, as macOS\n" +
			"Keychain imports them), <ca>.crt (DER, as Windows opens them) for the issuing and the root CA, and\n" +
			"ca-chain.pem (issuing CA, then root). No CA password is needed. Files with the same content are\n" +
			"left as they are; others are only replaced with --force.",
		Flags:  []cli.Flag{homeFlag, outFlag, forceFlag, jsonFlag},
		Action: exportCAAction,
	}
}

func exportCAAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	out := c.String("out")
	if err := prepareOut(c, out); err != nil {
		return err
	}
	s, err := openHome(c, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	chain := []bundle.CA{{Slug: s.Issuing.Slug, Cert: s.Issuing.Cert}, {Slug: s.Root.Slug, Cert: s.Root.Cert}}
	files, err := bundle.ExportCA(out, chain, c.Bool(forceFlag.Name))
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(newExportCAJSON(files))
	}
	o.infof("CA certificates of %s:", abs(s.Home))
	for _, f := range files {
		state := ""
		if !f.Written {
			state = ", unchanged"
		}
		o.infof("  %s (%s%s)", abs(f.Path), f.Format, state)
	}
	o.infof("Root %q expires on %s; issuing CA %q on %s.", s.Root.Cert.Subject.CommonName, s.Root.Cert.NotAfter.Format("2006-01-02"),
		s.Issuing.Cert.Subject.CommonName, s.Issuing.Cert.NotAfter.Format("2006-01-02"))
	return nil
}
