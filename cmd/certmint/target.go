package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/certfile"
)

// certTargetFlag is how revoke and renew take the certificate as a file.
var certTargetFlag = &cli.StringFlag{Name: "cert", Usage: "the certificate in `FILE` (.crt, .pem, .cer) instead of its serial or CN"}

// targetArg checks how revoke and renew were told which certificate, before
// the home is opened: one SERIAL, serial prefix or CN, or --cert FILE. It
// returns the argument ("" with --cert).
func targetArg(c *cli.Context) (string, error) {
	name := c.Command.Name
	switch {
	case c.IsSet(certTargetFlag.Name) && c.Args().Len() > 0:
		return "", usageErrorf("give either SERIAL (or CN) or --cert FILE, not both")
	case c.Args().Len() > 1:
		return "", usageHint("quote a CN that contains spaces: certmint "+name+" \"Printer 3\"",
			"%s takes one certificate (a serial, a serial prefix or a CN), got %d arguments", name, c.Args().Len())
	case c.Args().Len() == 0 && !c.IsSet(certTargetFlag.Name):
		return "", usageHint("certmint "+name+" 5D3F9A1C   or   certmint "+name+" www.contoso.com   or   certmint "+name+" --cert host.crt (`certmint list` shows the serials)",
			"which certificate? give its serial (or its first %d hex digits), its CN, or --cert FILE", ca.MinSerialPrefix)
	}
	return c.Args().First(), nil
}

// findTarget is the certificate targetArg's answer names in the home.
func findTarget(c *cli.Context, s *ca.Store, arg string) (*ca.Record, error) {
	if c.IsSet(certTargetFlag.Name) {
		certs, err := certfile.ReadCertificates(c.String(certTargetFlag.Name))
		if err != nil {
			return nil, err
		}
		return s.FindCert(c.Context, certs[0])
	}
	return s.Find(c.Context, arg, time.Now())
}
