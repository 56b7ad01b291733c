package main

import (
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/store"
)

func dbCommand() *cli.Command {
	return &cli.Command{
		Name:  "db",
		Usage: "manage the issuance database",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c, c.Command.Name, c.Command.Subcommands)
			}
			return cli.ShowSubcommandHelp(c)
		},
		Subcommands: []*cli.Command{
			{
				Name:  "migrate",
				Usage: "move the issuance database from SQLite (certmint.db) to PostgreSQL, for a CA several hosts share",
				Description: "Copies every certificate, OCSP response, CRL number and audit event into an empty\n" +
					"PostgreSQL database in one transaction, checks the row counts and a checksum of the serials,\n" +
					"then points certmint.toml at the database. certmint.db stays as a backup.\n\n" +
					"--to URL is written into certmint.toml and so must not hold a password: give the password in\n" +
					"~/.pgpass, in PGPASSWORD, or as the whole URL in " + ca.DatabaseURLEnv + ".\n" +
					"Stop other certmint commands on this home (certmint serve) while it runs.",
				Flags: []cli.Flag{
					homeFlag,
					&cli.StringFlag{Name: "to", Usage: "postgres://USER@HOST:PORT/DB `URL` of an empty database (no password)"},
					jsonFlag,
				},
				Action: dbMigrateAction,
			},
		},
	}
}

func dbMigrateAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := requireFlags(c, "to"); err != nil {
		return err
	}
	connect, record, err := store.NewDatabaseURL(c.String("to"), os.Getenv(ca.DatabaseURLEnv))
	if err != nil {
		return err
	}
	home := c.String(homeFlag.Name)
	res, err := ca.MoveToPostgres(c.Context, ca.MoveOptions{Home: home, To: connect, Record: record})
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(newDBMigrateJSON(res))
	}
	var counts []string
	for _, t := range res.Tables {
		counts = append(counts, t.Table+" "+strconv.FormatInt(t.Rows, 10))
	}
	o.infof("Moved the issuance database of %s to %s", home, res.URL)
	o.infof("  copied and verified: %s", strings.Join(counts, ", "))
	o.infof("  serial checksum:     %s (the same in SQLite and PostgreSQL)", res.Checksum)
	o.infof("%s now names the PostgreSQL database; every certmint command on this home uses it.", res.Config)
	o.infof("%s is kept, unchanged, as a backup: certmint no longer reads or writes it.", res.Backup)
	o.infof("Other hosts: copy this home (without certmint.db) and give them the password in %s, ~/.pgpass or PGPASSWORD.", ca.DatabaseURLEnv)
	return nil
}
