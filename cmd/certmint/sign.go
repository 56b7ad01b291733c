package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

func signCommand() *cli.Command {
	return &cli.Command{
		Name:  "sign",
		Usage: "sign an external certificate request under a template's rules",
		Description: "The template's key usage, extended key usage, CDP, AIA and validity are what the certificate\n" +
			"gets, whatever the request asks; its subject and SANs must satisfy the template. Each SAN keeps\n" +
			"its type and is checked as an `issue --san` value is (a DNS SAN holding an IP address is refused,\n" +
			"never retyped); at most 100 SANs. The signature is verified; MD5 and SHA-1 signatures, weak keys\n" +
			"and RSA exponents other than 65537 are refused. Writes BASE.crt and BASE-chain.pem (name: the CN\n" +
			"or --name).",
		Flags: []cli.Flag{
			homeFlag, templateFlag,
			&cli.StringFlag{Name: "csr", Usage: "the request `FILE` (PEM or DER)"},
			outFlag, nameFlag,
			&cli.StringFlag{Name: "format", Usage: "files to write: crt,chain,cer"},
			daysFlag, ocspFlag,
			forceFlag, jsonFlag, caPasswordFileFlag, dryRunFlag,
		},
		Action: signAction,
	}
}

func signAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := requireFlags(c, "template", "csr"); err != nil {
		return err
	}
	t, err := templates.Load(c.String("template"))
	if err != nil {
		return err
	}
	data, err := certfile.ReadFile(c.String("csr"))
	if err != nil {
		return err
	}
	csr, err := ca.ParseCSR(data)
	if err != nil {
		return usageHint(hintFor(c, err), "--csr %s: %v", c.String("csr"), err)
	}
	req := ca.IssueRequest{Template: t, Out: c.String("out"), Base: c.String("name"), Force: c.Bool(forceFlag.Name), OCSP: c.Bool(ocspFlag.Name)}
	if req.Days, err = validityDays(c); err != nil {
		return err
	}
	if c.IsSet("format") {
		if req.Formats, err = templates.ParseFormats(c.String("format")); err != nil {
			return usageErrorf("--format: %v", err)
		}
	}
	if err := prepareOut(c, req.Out); err != nil {
		return err
	}
	s, err := openCA(c)
	if err != nil {
		return err
	}
	defer s.Close()
	var res *ca.Issued
	var pv *ca.Preview
	if c.Bool(dryRunFlag.Name) {
		pv, err = s.PreviewCSR(c.Context, req, csr)
	} else {
		unlockEarly(c, s)
		res, err = s.SignCSR(c.Context, req, csr)
	}
	var re *templates.RequestError
	var se *san.Error
	var ce *san.CountError
	if errors.As(err, &se) || errors.As(err, &ce) {
		// A SAN of the request breaks the rules of `issue --san`: the
		// message quotes it escaped (%q); the fix is a new request.
		hint := "make the request again with valid names"
		if h := hintFor(c, err); h != "" {
			hint = "make the request again (" + h + ")"
		}
		return usageHint(fmt.Sprintf("%s; `certmint csr --template %s --cn ... --san ...` makes one", hint, t.Name),
			"--csr %s: %v", c.String("csr"), err)
	}
	if errors.As(err, &re) {
		// The subject, SANs and key come from the request, not from flags
		// (a request error's hint names issue's --san and --subject): the
		// fix is a new request.
		return usageHint(fmt.Sprintf("the request must be made again to meet the template; `certmint csr --template %s --cn ...` makes one", t.Name),
			"--csr %s: %v", c.String("csr"), err)
	}
	if err != nil {
		return err
	}
	if pv != nil {
		return printPreview(c, "sign", pv, previewPasswords(c, pv), nil)
	}
	return printIssued(c, res)
}
