package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

// createdKey is where an app run keeps the folders prepareOut made, so
// that run can remove them again when the command fails: a refused
// command changes nothing on disk.
const createdKey = "certmint.created-dirs"

// prepareOut makes sure dir (the --out of a command that writes into a
// folder) is a folder: it is made when missing, with its missing parents,
// mode 0700 (it will hold private keys and .pfx files); a file there is a
// usage error. A dry run (--dry-run) only checks that the real run could
// make it.
func prepareOut(c *cli.Context, dir string) error {
	if c.Bool(dryRunFlag.Name) {
		return checkOutDryRun(dir)
	}
	st, err := os.Stat(dir)
	switch {
	case err == nil && st.IsDir():
		return nil
	case err == nil:
		return usageHint("give a folder, or leave --out out for the current folder", "--out %s is not a folder", dir)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	// The folders to remove on failure, deepest first: dir and each missing
	// parent.
	var made []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if c.App.Metadata == nil {
		c.App.Metadata = map[string]any{}
	}
	prev, _ := c.App.Metadata[createdKey].([]string)
	c.App.Metadata[createdKey] = append(made, prev...)
	return nil
}

// removeCreated removes the folders prepareOut made for a command that
// failed, when they are still empty.
func removeCreated(app *cli.App) {
	made, _ := app.Metadata[createdKey].([]string)
	for _, d := range made {
		os.Remove(d) // only an empty folder goes
	}
}
