package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/internal/textsafe"
)

// version is stamped by `make release` with -ldflags "-X main.version=...".
var version = "dev"

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "certmint",
		Usage:   "a small certificate authority that issues certificates vendors accept",
		Version: version,
		Description: "certmint runs a root and an issuing CA in one folder (--home, default ./pki), issues\n" +
			"certificates from templates named after the job (1E, YSoft SafeQ, Defender for IoT, generic\n" +
			"server/client/code-signing), writes the files the device needs, and publishes CRLs.\n\n" +
			"Flags may come before or after a command's arguments, and also before the command (--home DIR);\n" +
			"`certmint help CMD` describes a command. Exit status: 0 done, 1 failed or a requirement not met,\n" +
			"2 called wrongly.\n\n" +
			"Start with: certmint init --root-cn \"Contoso Root CA\" --issuing-cn \"Contoso Issuing CA\" --base-url http://pki.contoso.com",
		Writer:               stdout,
		ErrWriter:            stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		Commands: []*cli.Command{
			initCommand(),
			templatesCommand(),
			issueCommand(),
			safeqCommand(),
			batchCommand(),
			csrCommand(),
			signCommand(),
			renewCommand(),
			revokeCommand(),
			crlCommand(),
			serveCommand(),
			listCommand(),
			statusCommand(),
			doctorCommand(),
			dbCommand(),
			checkCommand(),
			logCommand(),
			inspectCommand(),
			convertCommand(),
			exportCACommand(),
			completionCommand(),
			manCommand(),
			completeCommand(),
		},
		// Without it urfave/cli answers a mistyped command with "No help
		// topic for ..." and exit status 1.
		Action: func(c *cli.Context) error {
			if !c.Args().Present() || c.Args().First() == "help" {
				return cli.ShowAppHelp(c)
			}
			return unknownCommand(c, "", c.App.Commands)
		},
		// Exit codes are decided in run, not by urfave/cli.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return flagUsageError(err, nil, "", c.App.Commands)
		},
	}
	ownFlags(app.Commands)
	for _, cmd := range app.Commands {
		setUsageHandler(cmd)
	}
	return app
}

// ownFlags gives the commands their own copy of every flag: urfave/cli v2
// writes a flag's environment value into the flag (StringFlag.Apply sets
// Value and HasBeenSet), so the declarations shared in flags.go would
// carry one run's CERTMINT_HOME into every later run in the process.
func ownFlags(cmds []*cli.Command) {
	for _, c := range cmds {
		c.Flags = slices.Clone(c.Flags)
		for i, f := range c.Flags {
			if v := reflect.ValueOf(f); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
				own := reflect.New(v.Elem().Type())
				own.Elem().Set(v.Elem())
				c.Flags[i] = own.Interface().(cli.Flag)
			}
		}
		ownFlags(c.Subcommands)
	}
}

// setUsageHandler makes flag errors of every command a usage error (exit 2):
// urfave/cli v2 does not pass the app's OnUsageError to subcommands. It also
// makes every command refuse an input file that does not exist (checkInputs).
func setUsageHandler(cmd *cli.Command) {
	cmd.Before = chainBefore(checkInputs, cmd.Before)
	if cmd.OnUsageError == nil {
		cmd.OnUsageError = func(c *cli.Context, err error, isSubcommand bool) error {
			return flagUsageError(err, c.Command, commandName(c), nil)
		}
	}
	for _, sub := range cmd.Subcommands {
		setUsageHandler(sub)
	}
}

// unknownCommand is the usage error for the command or subcommand name
// c's first argument gives. parent is "" for certmint's own commands, else
// the command ("db").
func unknownCommand(c *cli.Context, parent string, commands []*cli.Command) error {
	return unknownCommandError(c.Args().First(), parent, commands)
}

// run executes certmint and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	args, err := arrangeArgs(app, normalizeSafeQArgs(args))
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if err == nil {
		return 0
	}
	removeCreated(app)
	var sig signalError
	if errors.As(context.Cause(ctx), &sig) {
		err = &interruptedError{err: err, status: sig.exitStatus()}
	}
	if jsonRequested(app, args) {
		return reportJSON(stderr, err, commandOf(app, args))
	}
	return report(stderr, err, commandOf(app, args))
}

// out is what commands print with: stdout for results, stderr for
// messages, and the --json switch.
type out struct {
	stdout, stderr io.Writer
}

func output(c *cli.Context) out {
	return out{stdout: c.App.Writer, stderr: c.App.ErrWriter}
}

// warnf and infof escape what they print (textsafe.EscapeLines): values
// from certificates, CSRs, CSV files and URLs should be quoted where the
// message is worded, and this guard keeps one quoted nowhere from driving
// the terminal.
func (o out) warnf(format string, args ...any) {
	fmt.Fprint(o.stderr, textsafe.EscapeLines("certmint: warning: "+fmt.Sprintf(format, args...))+"\n")
}

func (o out) infof(format string, args ...any) {
	fmt.Fprint(o.stdout, textsafe.EscapeLines(fmt.Sprintf(format, args...))+"\n")
}

// json writes v as one line of JSON to stdout. encoding/json escapes
// control characters; textsafe.JSON also escapes the bidi and zero-width
// characters it leaves raw, so a name read from a certificate cannot
// reorder a terminal's view of the document.
func (o out) json(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = o.stdout.Write(append(textsafe.JSON(b), '\n'))
	return err
}
