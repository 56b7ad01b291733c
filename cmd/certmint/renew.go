package main

import (
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/urfave/cli/v2"
)

func renewCommand() *cli.Command {
	return &cli.Command{
		Name:      "renew",
		Usage:     "reissue a certificate with the same template, subject and SANs, and a new key",
		ArgsUsage: "SERIAL",
		Description: "Writes the new bundle under the same names into the original folder (or --out DIR).\n" +
			"The old files are only replaced with --force. --revoke-old revokes the old certificate as superseded.\n" +
			"A revoked certificate is only renewed with --force: the new one takes its place.",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "out", Usage: "write the new bundle into `DIR` instead of the original folder"},
			&cli.BoolFlag{Name: "revoke-old", Usage: "revoke the old certificate (reason superseded) once the new one is written"},
			daysFlag,
			&cli.BoolFlag{Name: forceFlag.Name, Usage: "replace existing files, and renew a certificate that was revoked"},
			jsonFlag,
			passwordFileFlag, randomPasswordFlag, passwordFlag,
			caPasswordFileFlag,
			signProfileFlag,
		},
		Action: renewAction,
	}
}

func renewAction(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usageHint("certmint renew 5D3F... (see `certmint list`); put flags before the serial", "renew takes one serial")
	}
	serial, err := ca.ParseSerial(c.Args().First())
	if err != nil {
		return usageErrorf("%v", err)
	}
	days, err := validityDays(c)
	if err != nil {
		return err
	}
	s, err := ca.Open(c.String(homeFlag.Name), caPassword(c, false).Resolve)
	if err != nil {
		return err
	}
	defer s.Close()
	req, old, err := s.RenewalRequest(c.Context, serial, c.String("out"))
	if err != nil {
		return err
	}
	req.Force, req.Days = c.Bool(forceFlag.Name), days
	if err := installerOptions(c, &req); err != nil {
		return err
	}
	// Refused before any password is asked.
	warning, err := ca.CheckRenewable(old, req.Force)
	if err != nil {
		return err
	}
	if warning != "" {
		output(c).warnf("%s", warning)
	}
	if err := s.CheckRequest(c.Context, req); err != nil {
		return err
	}
	if err := resolveBundlePassword(c, &req); err != nil {
		return err
	}
	res, rv, err := s.Renew(c.Context, req, old, c.Bool("revoke-old"), time.Now())
	if err != nil {
		return err
	}
	if err := printIssued(c, res); err != nil {
		return err
	}
	if rv != nil && !c.Bool(jsonFlag.Name) {
		output(c).infof("Revoked the old certificate %s (superseded); CRL number %d published.", rv.Record.SerialHex(), rv.CRL.Number)
	}
	return nil
}
