package main

import (
	"errors"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/secret"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

func issueCommand() *cli.Command {
	return &cli.Command{
		Name:  "issue",
		Usage: "make a new key and certificate from a template and write its bundle files",
		Description: "Writes the template's files into --out (default: the current folder), named after the CN\n" +
			"or --name: BASE.crt, BASE.key, BASE.pfx, BASE-chain.pem and one <ca>.cer per CA.\n" +
			"The .pfx password comes from CERTMINT_PASSWORD, --password-file, --random-password or a prompt.\n" +
			"--dry-run prints what would be issued and written, and signs, records and writes nothing.\n" +
			"--example fills in the template's example names: `--example --dry-run` shows what a template\n" +
			"produces; --example alone issues (and records) a real certificate with those names.",
		Flags: []cli.Flag{
			homeFlag, templateFlag, cnFlag, sanFlag, subjectFlag, keyFlag, outFlag, nameFlag,
			&cli.StringFlag{Name: "format", Usage: "comma-separated files to write instead of the template's: crt,key,pfx,chain,cer,note, or the installers install-windows,install-macos,install-linux,mobileconfig (a script brings the .pfx and .cer files it imports)"},
			&cli.StringFlag{Name: "friendly-name", Usage: "PKCS#12 friendlyName shown by Windows and macOS (default: the CN)"},
			daysFlag,
			exampleFlag, dryRunFlag,
			&cli.BoolFlag{Name: "no-cdp", Usage: "leave out the CRL distribution point, where the template's document allows it (Defender for IoT, for sites that run without certificate validation)"},
			&cli.StringFlag{Name: "pfx", Usage: "PKCS#12 flavour instead of the template's: modern (AES-256, SHA-256 MAC) or legacy (3DES, SHA-1 MAC: macOS, Windows before 1709)"},
			&cli.BoolFlag{Name: "encrypt-key", Usage: "encrypt BASE.key with the bundle password"},
			signProfileFlag, profilePasswordFlag, ocspFlag,
			forceFlag,
			jsonFlag,
			passwordFileFlag, randomPasswordFlag, passwordFlag,
			caPasswordFileFlag,
		},
		Action: issueAction,
	}
}

// issueRequest turns flags into a request; bad values are usage errors.
func issueRequest(c *cli.Context) (ca.IssueRequest, error) {
	var req ca.IssueRequest
	if err := noArgs(c); err != nil {
		return req, err
	}
	if err := requireFlags(c, "template"); err != nil {
		return req, err
	}
	t, err := templates.Load(c.String("template"))
	if err != nil {
		return req, err
	}
	req.Template = t
	if req.Key, err = leafKey(c, t); err != nil {
		return req, err
	}
	if c.Bool("example") {
		if c.IsSet("cn") || c.IsSet("san") || c.IsSet("subject") {
			return req, usageHint("give either --example or your own --cn, --san and --subject",
				"--example fills in the template's example CN, SANs and subject; it cannot be combined with --cn, --san or --subject")
		}
		if t.Example.CN == "" {
			return req, usageErrorf("template %q has no [example]", t.Name)
		}
		req.Subject, req.SANs = t.ExampleRequest()
	} else if err := requireFlags(c, "cn"); err != nil {
		return req, err
	}
	if c.IsSet("subject") {
		if req.Subject, err = templates.ParseSubject(c.String("subject")); err != nil {
			return req, usageHint("e.g. --subject \"C=US,O=Contoso Inc.,OU=Contoso Labs\"", "--subject: %v", err)
		}
	}
	if !c.Bool("example") {
		req.Subject.CommonName = c.String("cn")
		if req.SANs, err = san.ParseList(c.StringSlice("san")); err != nil {
			hint := "e.g. --san www.example.com --san IP:10.0.0.5"
			if h := hintFor(c, err); h != "" {
				hint = h // "write IP:10.9.8.7"
			}
			return req, usageHint(hint, "--san: %v", err)
		}
	}
	if c.IsSet("format") {
		if req.Formats, err = templates.ParseFormats(c.String("format")); err != nil {
			return req, usageErrorf("--format: %v", err)
		}
	}
	if req.Days, err = validityDays(c); err != nil {
		return req, err
	}
	req.Out = c.String("out")
	if err := prepareOut(c, req.Out); err != nil {
		return req, err
	}
	req.Base = c.String("name")
	req.FriendlyName = c.String("friendly-name")
	req.Force = c.Bool(forceFlag.Name)
	req.NoCDP = c.Bool("no-cdp")
	req.EncryptKey = c.Bool("encrypt-key")
	req.OCSP = c.Bool(ocspFlag.Name)
	if c.IsSet("pfx") {
		if err := req.PFX.UnmarshalText([]byte(c.String("pfx"))); err != nil {
			return req, usageErrorf("--pfx: %v", err)
		}
	}
	if err := installerOptions(c, &req); err != nil {
		return req, err
	}
	return req, nil
}

// resolveBundlePassword fills req.Password when the files need one.
func resolveBundlePassword(c *cli.Context, req *ca.IssueRequest) error {
	if !req.NeedsPassword() {
		return nil
	}
	if c.Bool(randomPasswordFlag.Name) {
		if c.IsSet(passwordFlag.Name) || c.IsSet(passwordFileFlag.Name) {
			return usageErrorf("--random-password cannot be combined with --password or --password-file")
		}
		pw, err := secret.Random(24)
		if err != nil {
			return err
		}
		req.Password, req.WritePassword = pw, true
		return nil
	}
	src := bundlePassword(c)
	if c.Bool(dryRunFlag.Name) {
		src.Prompt = wouldAsk // the preview needs no password, and says the real run asks
	}
	pw, err := src.Resolve()
	if errors.Is(err, errWouldAsk) {
		return nil
	}
	if err != nil {
		return err
	}
	req.Password = pw
	return nil
}

func issueAction(c *cli.Context) error {
	req, err := issueRequest(c)
	if err != nil {
		return err
	}
	return issueFromCA(c, req)
}

// issueFromCA opens the home, refuses a bad request before asking for any
// password, then issues and prints.
func issueFromCA(c *cli.Context, req ca.IssueRequest) error {
	s, err := openCA(c)
	if err != nil {
		return err
	}
	defer s.Close()
	if c.Bool(dryRunFlag.Name) {
		return issueDryRun(c, s, req)
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
	res, err := s.Issue(c.Context, req)
	if err != nil {
		return err
	}
	return printIssued(c, res)
}

func printIssued(c *cli.Context, res *ca.Issued) error {
	return printIssuedAs(c, res, newIssuedJSON(res))
}

// printIssuedAs is printIssued with doc as the --json document.
func printIssuedAs(c *cli.Context, res *ca.Issued, doc any) error {
	o := output(c)
	for _, f := range res.Findings {
		o.warnf("%s", f.Message()) // value, problem, fix, then the lint's name
	}
	for _, w := range res.Warnings {
		o.warnf("%s", namerFor(c).text(w))
	}
	if c.Bool(jsonFlag.Name) {
		return o.json(doc)
	}
	o.infof("Issued %s certificate %q (serial %s)", res.Template, res.Cert.Subject.CommonName, res.Serial)
	if len(res.SANs) > 0 {
		o.infof("  SANs: [%s]", textsafe.Join(san.Strings(res.SANs), " "))
	}
	for _, f := range res.Files {
		o.infof("  %s", f)
	}
	days := int(time.Until(res.Cert.NotAfter).Hours() / 24)
	o.infof("It expires on %s (%d days).", res.Cert.NotAfter.Format("2006-01-02"), days)
	if res.PasswordFile() != "" {
		o.infof("The bundle password is in %s.", res.PasswordFile())
	}
	return nil
}
