package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/templates"
)

// TestReport is the error table at work: the exit status and hint of an
// error come from the outermost error of a listed type; the inputs a typed
// error names are written as the running command's flags, also inside a
// wrapping message.
func TestReport(t *testing.T) {
	app := newApp(nil, nil)
	issue := commandOf(app, []string{"certmint", "issue"})
	batch := commandOf(app, []string{"certmint", "batch"})
	days := &ca.UsageError{Msg: input.Textf("%s: validity must be positive", input.Val(input.Days, -1)),
		Hint: input.Textf("e.g. %s", input.Val(input.Days, 365))}
	pw := &ca.UsageError{Msg: input.PlainText("the .pfx files need a password"), Hint: input.Textf("use %s", input.Of(input.RandomPassword))}
	for _, tc := range []struct {
		name string
		err  error
		cmd  *cli.Command
		code int
		want string
	}{
		{"typed error", days, issue, 2, "certmint: error: --days -1: validity must be positive\ncertmint: hint: e.g. --days 365\n"},
		{"wrapped typed error", fmt.Errorf("renewing 0A: %w", days), issue, 2,
			"certmint: error: renewing 0A: --days -1: validity must be positive\ncertmint: hint: e.g. --days 365\n"},
		{"the command's own flag", pw, batch, 2, "certmint: hint: use --random-passwords\n"},
		{"the same error under issue", pw, issue, 2, "certmint: hint: use --random-password\n"},
		{"a template name", &templates.NotFoundError{Name: "sever"}, issue, 2, `certmint: hint: did you mean "server"?`},
		{"an unlisted error", errors.New("disk full"), issue, 1, "certmint: error: disk full\n"},
		{"the outermost listed type decides", &ca.NotFoundError{Home: "x"}, nil, 1, "certmint: hint: run `certmint init"},
		{"silent", silent{errors.New("shown")}, nil, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			if code := report(&w, tc.err, tc.cmd); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !bytes.Contains(w.Bytes(), []byte(tc.want)) || (tc.want == "" && w.Len() > 0) {
				t.Errorf("report wrote:\n%s\nwant it to contain:\n%s", w.String(), tc.want)
			}
		})
	}
}
