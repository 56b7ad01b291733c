package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
)

func renewCommand() *cli.Command {
	return &cli.Command{
		Name:      "renew",
		Usage:     "reissue a certificate with the same template, subject and SANs, and a new key",
		ArgsUsage: "SERIAL | CN | --cert FILE",
		Description: "SERIAL is hexadecimal, as `certmint list` prints it, or its first 8 or more hex digits; CN names\n" +
			"the one valid certificate with that common name; --cert FILE names the certificate in a file.\n" +
			"Writes the new bundle under the same names into the original folder (or --out DIR).\n" +
			"The old files are only replaced with --force. --revoke-old revokes the old certificate as superseded.\n" +
			"A revoked certificate is only renewed with --force: the new one takes its place.",
		Flags: []cli.Flag{
			homeFlag, certTargetFlag,
			&cli.StringFlag{Name: "out", Usage: "write the new bundle into `DIR` instead of the original folder"},
			&cli.BoolFlag{Name: "revoke-old", Usage: "revoke the old certificate (reason superseded) once the new one is written"},
			daysFlag,
			&cli.BoolFlag{Name: forceFlag.Name, Usage: "replace existing files, and renew a certificate that was revoked"},
			jsonFlag, dryRunFlag,
			passwordFileFlag, randomPasswordFlag, passwordFlag,
			caPasswordFileFlag,
			signProfileFlag,
		},
		Action: renewAction,
	}
}

func renewAction(c *cli.Context) error {
	arg, err := targetArg(c)
	if err != nil {
		return err
	}
	days, err := validityDays(c)
	if err != nil {
		return err
	}
	if c.String("out") != "" {
		if err := prepareOut(c, c.String("out")); err != nil {
			return err
		}
	}
	s, err := openCA(c)
	if err != nil {
		return err
	}
	defer s.Close()
	target, err := findTarget(c, s, arg)
	if err != nil {
		return err
	}
	req, old, err := s.RenewalRequest(c.Context, target.Serial, c.String("out"))
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
	if !warning.IsZero() {
		output(c).warnf("%s", namerFor(c).text(warning))
	}
	if warning, err = s.CheckNotRenewed(c.Context, old, req.Force, time.Now()); err != nil {
		return err
	}
	if !warning.IsZero() {
		output(c).warnf("%s", namerFor(c).text(warning))
	}
	if c.Bool(dryRunFlag.Name) {
		return renewDryRun(c, s, req, old)
	}
	unlockEarly(c, s)
	if err := s.CheckRequest(c.Context, req); err != nil {
		return err
	}
	if err := unlockCA(c, s); err != nil {
		return err
	}
	if err := resolveBundlePassword(c, &req); err != nil {
		return err
	}
	res, rv, err := s.Renew(c.Context, req, old, c.Bool("revoke-old"), time.Now())
	if err != nil {
		return err
	}
	if err := printIssuedAs(c, res, newRenewedJSON(res, old.SerialHex(), rv)); err != nil {
		return err
	}
	if rv != nil && !c.Bool(jsonFlag.Name) {
		output(c).infof("Revoked the old certificate %s (superseded); CRL number %d published.", rv.Record.SerialHex(), rv.CRL.Number)
	}
	return nil
}
