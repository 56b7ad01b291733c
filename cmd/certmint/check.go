package main

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/check"
	"github.com/certmint/certmint/templates"
	"github.com/urfave/cli/v2"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "does a certificate (from any CA) meet a template and pass validation?",
		Description: "Evaluates every requirement of the template (subject, CN form, SANs, key, signature, validity,\n" +
			"key usage, extended key usage, HTTP CDP, not self-signed where forbidden), then what an appliance\n" +
			"does: chain of trust (to the roots in --chain, the .pfx, or the CA home), key match, expiry and\n" +
			"revocation (--crl FILE, or --crl-check to fetch the CDP). One line per requirement, with the seed\n" +
			"rule it comes from; failures say how to fix them and, where Defender for IoT has one, its message.\n" +
			"Exit status 1 when anything fails.",
		Flags: []cli.Flag{
			homeFlag, templateFlag,
			&cli.StringFlag{Name: "cert", Usage: "the certificate `FILE` (PEM or DER; further certificates in it join the chain)"},
			&cli.StringFlag{Name: "key", Usage: "its private key `FILE` (checked to match; passphrase from CERTMINT_PASSWORD or --password-file)"},
			&cli.StringFlag{Name: "chain", Usage: "the CA certificates `FILE` (.pem with the issuing CA and the root)"},
			&cli.StringFlag{Name: "pfx", Usage: "a PKCS#12 `FILE` holding key, certificate and chain"},
			&cli.StringSliceFlag{Name: "crl", Usage: "check revocation against this CRL `FILE` (DER or PEM), repeatable"},
			&cli.BoolFlag{Name: "crl-check", Usage: "fetch the CRL from each certificate's http:// CDP (5 s timeout)"},
			&cli.StringFlag{Name: "at", Usage: "judge validity as of `DATE` (2027-01-31 or RFC 3339) instead of now: will it still pass then?"},
			passwordFileFlag,
			jsonFlag,
		},
		Action: checkAction,
	}
}

func checkAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := requireFlags(c, "template"); err != nil {
		return err
	}
	if !c.IsSet("cert") && !c.IsSet("pfx") {
		return usageHint("certmint check --template defender-sensor --cert sensor.crt --key sensor.key --chain ca.pem", "give --cert FILE or --pfx FILE")
	}
	if c.IsSet("pfx") && (c.IsSet("cert") || c.IsSet("key")) {
		return usageErrorf("give either --pfx or --cert/--key, not both")
	}
	t, err := templates.Load(c.String("template"))
	if err != nil {
		return err
	}
	pw := bundlePassword(c)
	pw.What, pw.Confirm = "passphrase", false
	in, err := check.Load(check.Files{
		Cert: c.String("cert"), Key: c.String("key"), Chain: c.String("chain"), PFX: c.String("pfx"),
		CRLs: c.StringSlice("crl"), Password: pw.Resolve,
	})
	if err != nil {
		var pe *check.PassphraseError
		if errors.As(err, &pe) {
			return err
		}
		return usageErrorf("%v", err)
	}
	// Without a chain of its own, the certificate is judged against the CA
	// home, if there is one.
	if len(in.Chain) == 0 {
		if s, err := ca.Open(c.String(homeFlag.Name), nil); err == nil {
			in.AddRoots([]*x509.Certificate{s.Root.Cert}, []*x509.Certificate{s.Issuing.Cert})
			s.Close()
		}
	}
	in.FetchCRL = c.Bool("crl-check")
	in.Now = time.Now()
	if c.IsSet("at") {
		at, err := parseDate(c.String("at"))
		if err != nil {
			return usageHint("e.g. --at 2027-01-31 or --at 2027-01-31T12:00:00Z", "--at: %v", err)
		}
		in.Now = at
	}
	r := check.Run(t, in)
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		if err := json.NewEncoder(o.stdout).Encode(r); err != nil {
			return err
		}
	} else {
		printReport(o, r)
	}
	if !r.OK {
		return silent{errors.New("requirements not met")}
	}
	return nil
}

func printReport(o out, r *check.Report) {
	o.infof("Checking %s (serial %s) against template %s:", r.Subject, r.Serial, r.Template)
	failed := 0
	for _, f := range r.Findings {
		mark := map[check.Status]string{check.Pass: "PASS", check.Fail: "FAIL", check.Skip: "SKIP"}[f.Status]
		line := fmt.Sprintf("  %s  %-34s %s", mark, f.Rule, f.Title)
		if f.Seed != "" {
			line += "  [" + f.Seed + "]"
		}
		o.infof("%s", line)
		switch f.Status {
		case check.Fail:
			failed++
			if f.Want != "" {
				o.infof("        got: %s; want: %s", f.Got, f.Want)
			} else {
				o.infof("        got: %s", f.Got)
			}
			if f.Fix != "" {
				o.infof("        fix: %s", f.Fix)
			}
			if f.Defender != "" {
				o.infof("        Defender for IoT reports: %q", f.Defender)
			}
		case check.Skip:
			o.infof("        %s", f.Got)
		}
	}
	if failed == 0 {
		o.infof("All requirements met.")
	} else {
		o.infof("%d requirement(s) not met.", failed)
	}
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", s)
}
