package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/check"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "does a certificate (from any CA) meet a template and pass validation?",
		Description: "Evaluates every rule of the template (subject, CN form, SANs, key, signature, validity, key usage,\n" +
			"extended key usage, CDP, AIA, not self-signed), then what a validator does: chain of trust (to the\n" +
			"roots in --chain, the .pfx, or the CA home), key match, expiry and revocation (--crl FILE, or\n" +
			"--crl-check to fetch the CDP).\n\n" +
			"A requirement is a rule the vendor's document demands: each line names the document and section,\n" +
			"and a failure quotes the sentence, says how to fix it and, where the appliance has one (Defender\n" +
			"for IoT), gives its own message. Advice is certmint's good practice or what a document only\n" +
			"recommends: printed apart as WARN, it never changes the result. Exit status 1 when a requirement\n" +
			"is not met.",
		Flags: []cli.Flag{
			homeFlag, templateFlag,
			&cli.StringFlag{Name: "cert", Usage: "the certificate `FILE` (PEM or DER; further certificates in it join the chain)"},
			&cli.StringFlag{Name: "key", Usage: "its private key `FILE` (checked to match; passphrase from CERTMINT_PASSWORD or --password-file)"},
			&cli.StringFlag{Name: "chain", Usage: "the CA certificates `FILE` (.pem with the issuing CA and the root)"},
			&cli.StringFlag{Name: "pfx", Usage: "a PKCS#12 `FILE` holding key, certificate and chain"},
			&cli.StringSliceFlag{Name: "crl", Usage: "check revocation against this CRL `FILE` (DER or PEM), repeatable"},
			&cli.BoolFlag{Name: "crl-check", Usage: "fetch the CRL from each certificate's http:// CDP (5 s timeout)"},
			&cli.BoolFlag{Name: "no-cdp", Usage: "the site does not validate certificates, so no CRL distribution point is expected (only where the template's document allows it, e.g. defender-sensor)"},
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
		if s, err := openHome(c, nil); err == nil {
			in.AddRoots([]*x509.Certificate{s.Root.Cert}, []*x509.Certificate{s.Issuing.Cert})
			s.Close()
		}
	}
	in.FetchCRL = c.Bool("crl-check")
	if c.Bool("no-cdp") {
		if !check.NoCDPAllowed(t) {
			return usageHint("leave out --no-cdp", "template %q does not allow a certificate without a CRL distribution point: %s",
				t.Name, t.Rule("revocation.crl_distribution_point"))
		}
		if in.FetchCRL {
			return usageErrorf("--no-cdp says the site does not validate revocation; it cannot be combined with --crl-check")
		}
		in.NoCDP = true
	}
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
		if err := o.json(r); err != nil {
			return err
		}
	} else {
		printReport(o, r, t)
	}
	if !r.OK {
		return silent{errors.New("requirements not met")}
	}
	return nil
}

func printReport(o out, r *check.Report, t *templates.Template) {
	home := t.SourceTitle()
	o.infof("Checking %s (serial %s) against template %s:", textsafe.Quote(r.Subject), r.Serial, r.Template)
	var reqs, valid, advice []check.Finding
	for _, f := range r.Findings {
		switch {
		case strings.HasPrefix(f.Rule, "validation."):
			valid = append(valid, f)
		case f.Level == templates.Advice:
			advice = append(advice, f)
		default:
			reqs = append(reqs, f)
		}
	}
	section := func(title string, fs []check.Finding) {
		if len(fs) == 0 {
			return
		}
		o.infof("%s", title)
		for _, f := range fs {
			printFinding(o, f, home, t.Validation.Messages.Name())
		}
	}
	if home != "" {
		section("Requirements, from "+home+":", reqs)
	} else {
		section("Requirements:", reqs)
	}
	section("Validation:", valid)
	section("Advice (certmint's good practice and what documents recommend; does not change the result):", advice)
	failed, warned := len(r.Failed()), len(r.Warned())
	switch {
	case failed == 0 && warned == 0:
		o.infof("All requirements met.")
	case failed == 0:
		o.infof("All requirements met; %d piece(s) of advice not followed.", warned)
	default:
		o.infof("%d requirement(s) not met.", failed)
	}
}

func printFinding(o out, f check.Finding, home, appliance string) {
	mark := map[check.Status]string{check.Pass: "PASS", check.Fail: "FAIL", check.Warn: "WARN", check.Skip: "SKIP"}[f.Status]
	line := fmt.Sprintf("  %s  %-34s %s", mark, f.Rule, f.Title)
	cited := f.Cited()
	if docs := cited.Documents(home); docs != "" && f.Status == check.Pass {
		line += "  [" + docs + "]"
	}
	o.infof("%s", textsafe.Escape(line))
	switch f.Status {
	case check.Fail, check.Warn:
		// Got may hold a certificate's names as a template's message
		// words them: escaped, it stays on its line and cannot drive the
		// terminal (check quotes the names it words itself).
		if f.Want != "" {
			o.infof("        got: %s; want: %s", textsafe.Escape(f.Got), textsafe.Escape(f.Want))
		} else {
			o.infof("        got: %s", textsafe.Escape(f.Got))
		}
		for _, q := range cited.Quotes {
			switch {
			case q.Source != nil && q.Text != "":
				o.infof("        source: %s: %q", q.Source, q.Text)
			case q.Source != nil:
				o.infof("        source: %s", q.Source)
			}
		}
		if f.Reason != "" {
			o.infof("        why: %s", f.Reason)
		}
		if f.Fix != "" {
			o.infof("        fix: %s", textsafe.Escape(f.Fix))
		}
		if f.ApplianceMessage != "" {
			o.infof("        %s reports: %q", appliance, f.ApplianceMessage)
		}
	case check.Skip:
		o.infof("        %s", textsafe.Escape(f.Got))
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
