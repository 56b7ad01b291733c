package main

import (
	"errors"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
)

func csrCommand() *cli.Command {
	return &cli.Command{
		Name:  "csr",
		Usage: "make a new key and a certificate request that meets a template, for an enterprise CA",
		Description: "Writes BASE.key and BASE.csr (PEM). The request carries the SANs and, as requested\n" +
			"extensions, the template's key usage and extended key usage. No CA home is needed; when there\n" +
			"is one (--home), its subject defaults fill the fields the template requires and --subject lacks.\n" +
			"Check it with: openssl req -text -noout -verify -in BASE.csr",
		Flags: []cli.Flag{
			homeFlag, templateFlag, cnFlag, sanFlag, subjectFlag, keyFlag, outFlag, nameFlag, exampleFlag,
			&cli.BoolFlag{Name: "encrypt-key", Usage: "encrypt BASE.key with the bundle password (CERTMINT_PASSWORD, --password-file or a prompt)"},
			passwordFileFlag, passwordFlag,
			forceFlag, jsonFlag,
		},
		Action: csrAction,
	}
}

func csrAction(c *cli.Context) error {
	req, err := issueRequest(c)
	if err != nil {
		return err
	}
	base := req.Base
	if base == "" {
		base = fsutil.SafeName(req.Subject.CommonName)
	}
	keyPath, csrPath := filepath.Join(req.Out, base+".key"), filepath.Join(req.Out, base+".csr")
	if err := fsutil.CheckTargets([]fsutil.File{{Path: keyPath}, {Path: csrPath}}, req.Force); err != nil {
		return err
	}
	// A CSR needs no CA home; one that exists gives its subject defaults.
	home, err := ca.OpenConfig(c.String(homeFlag.Name))
	var nf *ca.NotFoundError
	if errors.As(err, &nf) {
		home, err = nil, nil
	}
	if err != nil {
		return err
	}
	// The request is checked (and its key made) before a password is asked.
	r, err := ca.NewCSR(req.Template, req.Subject, req.SANs, home, req.Key)
	if err != nil {
		return err
	}
	password := ""
	if c.Bool("encrypt-key") || req.Template.Key.Encrypt {
		if password, err = bundlePassword(c).Resolve(); err != nil {
			return err
		}
	}
	keyPEM, err := keys.MarshalPKCS8PEM(r.Key, password, keys.BundleIterations)
	if err != nil {
		return err
	}
	st, err := fsutil.Stage([]fsutil.File{
		{Path: keyPath, Data: keyPEM, Mode: fsutil.ModePrivate},
		{Path: csrPath, Data: r.PEM(), Mode: fsutil.ModePublic},
	}, req.Force)
	if err != nil {
		return err
	}
	if err := st.Commit(); err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(newCSRJSON(r, req.Template, keyPath, csrPath))
	}
	o.infof("Wrote a %s request for %q:", req.Template.Name, req.Subject.CommonName)
	o.infof("  %s", abs(csrPath))
	o.infof("  %s (the private key: keep it; it never leaves this folder)", abs(keyPath))
	o.infof("Check it: openssl req -text -noout -verify -in %q", csrPath)
	return nil
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
