package main

import (
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/store"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create the root CA, the issuing CA, the database and the first CRLs",
		Description: "The root CA is self-signed (CA:TRUE, pathlen:1); the issuing CA is signed by it (pathlen:0,\n" +
			"CDP and AIA pointing at the root's files under --base-url). Both keys are encrypted with the\n" +
			"CA password (CERTMINT_CA_PASSWORD, --ca-password-file, or asked on the terminal).\n\n" +
			"The issuance database is the SQLite file certmint.db in the home, or, with --database-url (or\n" +
			ca.DatabaseURLEnv + "), an empty PostgreSQL database that several hosts share. certmint.toml\n" +
			"records the URL without a password: the password goes in ~/.pgpass, PGPASSWORD, or the whole\n" +
			"URL in " + ca.DatabaseURLEnv + ".\n\n" +
			"--country, --state, --locality, --org and --ou are also the home's subject defaults ([subject] in\n" +
			"certmint.toml): a request that lacks a field its template requires (defender-sensor: C, O, OU)\n" +
			"gets it from there; a field given with --subject wins.",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "root-cn", Usage: "common name of the root CA, e.g. \"Contoso Root CA\""},
			&cli.StringFlag{Name: "issuing-cn", Usage: "common name of the issuing CA, e.g. \"Contoso Issuing CA 1\""},
			&cli.StringFlag{Name: "base-url", Usage: "http:// `URL` where public/ will be served; CDP and AIA URLs start with it"},
			&cli.StringFlag{Name: "org", Usage: "organization (O) of both CAs, and of requests whose template requires O"},
			&cli.StringFlag{Name: "ou", Usage: "organizational unit (OU) of both CAs, and of requests whose template requires OU"},
			&cli.StringFlag{Name: "country", Usage: "two-letter country (C) of both CAs, and of requests whose template requires C"},
			&cli.StringFlag{Name: "state", Usage: "state or province (ST) of both CAs, and of requests whose template requires ST"},
			&cli.StringFlag{Name: "locality", Usage: "locality, the city (L), of both CAs, and of requests whose template requires L"},
			&cli.StringFlag{Name: "key", Value: "rsa:4096", Usage: "CA key type: rsa:2048, rsa:3072, rsa:4096, ecdsa:P-256, ecdsa:P-384"},
			&cli.StringFlag{Name: "issuing-key", Usage: "issuing CA key type, if different from --key (ecdsa:P-256 signs much faster)"},
			&cli.IntFlag{Name: "root-days", Value: ca.DefaultRootDays, Usage: "root CA validity in days"},
			&cli.IntFlag{Name: "issuing-days", Value: ca.DefaultIssuingDays, Usage: "issuing CA validity in days"},
			&cli.StringFlag{Name: "database-url", Usage: "keep the issuance database in PostgreSQL: postgres://USER@HOST:PORT/DB `URL` of an empty database, without a password"},
			caPasswordFileFlag,
			jsonFlag,
		},
		Action: initAction,
	}
}

func initAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := requireFlags(c, "root-cn", "issuing-cn", "base-url"); err != nil {
		return err
	}
	rootKey, err := keys.ParseSpec(c.String("key"))
	if err != nil {
		return usageErrorf("--key: %v", err)
	}
	issKey := rootKey
	if c.IsSet("issuing-key") {
		if issKey, err = keys.ParseSpec(c.String("issuing-key")); err != nil {
			return usageErrorf("--issuing-key: %v", err)
		}
	}
	if _, err := ca.ValidateBaseURL(c.String("base-url")); err != nil {
		return usageHint("e.g. --base-url http://pki.contoso.com/pki (any port: http://pki.contoso.com:8080)", "--base-url: %v", err)
	}
	var dbURL string
	if c.IsSet("database-url") || os.Getenv(ca.DatabaseURLEnv) != "" {
		if dbURL, _, err = store.NewDatabaseURL(c.String("database-url"), os.Getenv(ca.DatabaseURLEnv)); err != nil {
			return err
		}
	}
	home := c.String(homeFlag.Name)
	if err := ca.CheckHomeFree(home); err != nil {
		return err
	}
	pw, err := caPassword(c, true).Resolve()
	if err != nil {
		return err
	}
	s, err := ca.Init(c.Context, ca.InitOptions{
		Home: home, RootCN: c.String("root-cn"), IssuingCN: c.String("issuing-cn"),
		BaseURL: c.String("base-url"), Org: c.String("org"), OU: c.String("ou"), Country: c.String("country"),
		State: c.String("state"), Locality: c.String("locality"),
		RootKey: rootKey, IssuingKey: issKey,
		RootDays: c.Int("root-days"), IssuingDays: c.Int("issuing-days"),
		Password: pw, DatabaseURL: dbURL,
	})
	if err != nil {
		return err
	}
	defer s.Close()

	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(newInitJSON(s))
	}
	o.infof("Created a CA in %s", s.Home)
	for _, a := range s.Authorities() {
		role := "issuing CA"
		if a == s.Root {
			role = "root CA   "
		}
		o.infof("  %s %s  (%s, expires %s)", role, a.Cert.Subject.CommonName, a.CertPath(), a.Cert.NotAfter.Format("2006-01-02"))
	}
	o.infof("  public/     %s: serve it at %s", s.PublicDir(), s.Config.BaseURL)
	if s.DB.Postgres() {
		o.infof("  database    %s (PostgreSQL; the password stays out of certmint.toml)", s.DB.URL())
	} else {
		o.infof("  database    %s", s.DB.URL())
	}
	o.infof("              (CRLs: %s, %s)", s.Config.CRLURL(s.Root.Slug), s.Config.CRLURL(s.Issuing.Slug))
	o.infof("  OCSP        %s: answered by `certmint serve` with the CA password, named in certificates", s.Config.OCSPURL())
	o.infof("              whose template sets [revocation] ocsp = true, or issued with --ocsp")
	if d := s.Config.Subject.String(); d != "" {
		o.infof("  subject     %s: given to requests whose template requires them (edit [subject] in %s)", d, filepath.Join(s.Home, ca.ConfigFile))
	}
	o.infof("The CA keys are encrypted with the CA password; keep it safe, nothing can recover it.")
	o.infof("Next: certmint issue --home %s --template server --cn www.example.com", filepath.Clean(home))
	return nil
}
