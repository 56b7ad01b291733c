package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
)

// openHome opens the CA home of --home. The URL of a shared CA's
// PostgreSQL database, password included, comes from CERTMINT_DATABASE_URL:
// the command line reads the environment, package ca does not. A dry run
// (--dry-run) gets no CA password: a preview never unlocks the CA key.
func openHome(c *cli.Context, password func() (string, error)) (*ca.Store, error) {
	if c.Bool(dryRunFlag.Name) {
		password = noCAPassword
	}
	return ca.Open(c.String(homeFlag.Name), password, ca.WithDatabaseURL(os.Getenv(ca.DatabaseURLEnv)))
}
