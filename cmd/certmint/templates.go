package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

func templatesCommand() *cli.Command {
	return &cli.Command{
		Name:  "templates",
		Usage: "list the built-in templates, or print one as TOML",
		Subcommands: []*cli.Command{
			{
				Name:   "list",
				Usage:  "list the built-in templates",
				Flags:  []cli.Flag{jsonFlag},
				Action: templatesListAction,
			},
			{
				Name:      "show",
				Usage:     "print a template as TOML (a starting point for your own)",
				ArgsUsage: "NAME|FILE.toml",
				Flags:     []cli.Flag{jsonFlag},
				Action:    templatesShowAction,
			},
		},
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c, c.Command.Name, c.Command.Subcommands)
			}
			return templatesListAction(c)
		},
	}
}

func templatesListAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	all, err := templates.Builtins()
	if err != nil {
		return err
	}
	o := output(c)
	if jsonOutput(c) {
		return o.json(newTemplatesJSON(all))
	}
	for _, t := range all {
		o.infof("%s", t.Describe())
	}
	return nil
}

func templatesShowAction(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usageHint("certmint templates show server", "templates show takes one template name or .toml file")
	}
	t, err := templates.Load(c.Args().First())
	if err != nil {
		return err
	}
	if jsonOutput(c) {
		return output(c).json(newTemplateJSON(t))
	}
	// A template file is text from outside: TOML forbids C0 controls but
	// not C1 ones, bidi controls or zero-width characters, which could make
	// the file read differently on a terminal than it loads. Built-ins
	// hold none of them and print unchanged.
	_, err = io.WriteString(output(c).stdout, textsafe.EscapeLines(string(t.Text())))
	return err
}
