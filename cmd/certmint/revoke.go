package main

import (
	"math/big"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/urfave/cli/v2"
)

func revokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "mark a certificate revoked and republish the CRL",
		ArgsUsage: "SERIAL | --cert FILE",
		Description: "SERIAL is hexadecimal, as `certmint list` and `openssl x509 -serial` print it.\n" +
			"Reasons (RFC 5280): unspecified, keyCompromise, caCompromise, affiliationChanged, superseded,\n" +
			"cessationOfOperation, certificateHold, privilegeWithdrawn.",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "cert", Usage: "revoke the certificate in `FILE` (.crt, .pem, .cer) instead of naming its serial"},
			&cli.StringFlag{Name: "reason", Value: "unspecified", Usage: "RFC 5280 revocation reason"},
			&cli.BoolFlag{Name: "issuing-ca", Usage: "confirm that SERIAL is the issuing CA's own certificate: revoking it invalidates everything the CA issued, and the home issues nothing more"},
			caPasswordFileFlag,
			jsonFlag,
		},
		Action: revokeAction,
	}
}

func revokeAction(c *cli.Context) error {
	reason, err := ca.ParseReason(c.String("reason"))
	if err != nil {
		return err
	}
	var serial *big.Int
	switch {
	case c.IsSet("cert") && c.Args().Len() > 0:
		return usageErrorf("give either SERIAL or --cert FILE, not both")
	case c.Args().Len() > 1:
		return usageHint("revoke one certificate per command, or put flags before the serial", "revoke takes one serial, got %d arguments", c.Args().Len())
	case c.Args().Len() == 1:
		if serial, err = ca.ParseSerial(c.Args().First()); err != nil {
			return usageErrorf("%v", err)
		}
	case !c.IsSet("cert"):
		return usageHint("certmint revoke 5D3F...   or   certmint revoke --cert host.crt", "which certificate? give its serial or --cert FILE")
	}
	s, err := openCA(c)
	if err != nil {
		return err
	}
	defer s.Close()
	if c.IsSet("cert") {
		certs, err := certfile.ReadCertificates(c.String("cert"))
		if err != nil {
			return err
		}
		if serial, err = s.SerialOfIssued(certs[0]); err != nil {
			return err
		}
	}
	revoke := s.Revoke
	if c.Bool("issuing-ca") {
		revoke = s.RevokeCA
	}
	res, err := revoke(c.Context, serial, reason, time.Now())
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(map[string]any{
			"serial": res.Record.SerialHex(), "subject": res.Record.Meta.Subject, "reason": crl.ReasonName(reason),
			"revoked_at": res.Record.RevokedAt.Format(time.RFC3339), "crl": res.CRL.Path, "crl_number": res.CRL.Number,
		})
	}
	o.infof("Revoked %s (%s), reason %s.", res.Record.SerialHex(), textsafe.Quote(res.Record.CN), crl.ReasonName(reason))
	o.infof("Published %s: CRL number %d, %d revoked, next update %s.", res.CRL.Path, res.CRL.Number, res.CRL.Entries, res.CRL.NextUpdate.Format("2006-01-02 15:04 MST"))
	return nil
}
