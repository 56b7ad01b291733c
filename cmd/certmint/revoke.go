package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/textsafe"
)

func revokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "mark a certificate revoked and republish the CRL",
		ArgsUsage: "SERIAL | CN | --cert FILE",
		Description: "SERIAL is hexadecimal, as `certmint list` and `openssl x509 -serial` print it, or its first 8 or\n" +
			"more hex digits when no other serial starts with them; CN names the one valid certificate with that\n" +
			"common name (when several match, they are listed with their serials).\n" +
			"Reasons (RFC 5280): unspecified, keyCompromise, caCompromise, affiliationChanged, superseded,\n" +
			"cessationOfOperation, certificateHold, privilegeWithdrawn.",
		Flags: []cli.Flag{
			homeFlag,
			certTargetFlag,
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
	arg, err := targetArg(c)
	if err != nil {
		return err
	}
	s, err := openCA(c)
	if err != nil {
		return err
	}
	defer s.Close()
	rec, err := findTarget(c, s, arg)
	if err != nil {
		return err
	}
	revoke := s.Revoke
	if c.Bool("issuing-ca") {
		revoke = s.RevokeCA
	}
	res, err := revoke(c.Context, rec.Serial, reason, time.Now())
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(revokeJSON{header: newHeader(), revocationJSON: newRevocationJSON(res)})
	}
	o.infof("Revoked %s (%s), reason %s.", res.Record.SerialHex(), textsafe.Quote(res.Record.CN), crl.ReasonName(reason))
	o.infof("Published %s: CRL number %d, %d revoked, next update %s.", res.CRL.Path, res.CRL.Number, res.CRL.Entries, res.CRL.NextUpdate.Format("2006-01-02 15:04 MST"))
	return nil
}
