package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/check"
	"github.com/certmint/certmint/convert"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/inspect"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/internal/secret"
	"github.com/certmint/certmint/internal/suggest"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/store"
	"github.com/certmint/certmint/templates"
)

// Exit statuses (README.md, "Exit status"). Only main exits; run returns
// the status report decides from the error table below.
const (
	exitOK     = 0
	exitFailed = 1 // the operation failed, or a requirement is not met
	exitUsage  = 2 // certmint was called wrongly: see the table
)

// usageError is a mistake in how certmint was called: exit status 2.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func usageHint(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// errorKind is one row of the error table: an error type, the exit status
// it means, and the hint printed under it (nil: none).
type errorKind struct {
	typ  reflect.Type
	code int
	hint func(error, namer) string
}

// kind makes a row for the error type T.
func kind[T error](code int, hint func(T, namer) string) errorKind {
	k := errorKind{typ: reflect.TypeFor[T](), code: code}
	if hint != nil {
		k.hint = func(err error, n namer) string { return hint(err.(T), n) }
	}
	return k
}

// hinter is an error that carries its own hint, written by its package
// from what it knows (which lint, which file) and naming no flag: the
// table says which types may use it.
type hinter interface{ HintText() string }

// own is the hint of an error type that carries its own.
func own[T interface {
	error
	hinter
}](e T, _ namer) string {
	return e.HintText()
}

// messenger is an error whose message names inputs (input.Refs): its
// Error() writes them plainly, report writes them as flags.
type messenger interface {
	error
	Message() input.Text
}

// errorTable decides, in one place, the exit status and the hint of every
// error type certmint's packages return (TestErrorTableComplete checks that
// none is missing). An error is judged by the outermost error of its chain
// whose type is in the table; the hint is the first non-empty one down the
// chain. An error of no listed type (an I/O error, a wrapped message) is a
// failure: exit 1, no hint. The packages name no flag: where a message or
// hint is about an input, it says which one (input.Ref) and namer writes
// it as the running command's flag.
var errorTable = []errorKind{
	// cmd: flags and arguments.
	kind[*usageError](exitUsage, func(e *usageError, _ namer) string { return e.hint }),
	kind[silent](exitFailed, nil),
	kind[*doctorError](exitFailed, own),

	// ca: CA operations.
	kind[*ca.UsageError](exitUsage, func(e *ca.UsageError, n namer) string { return n.text(e.Hint) }),
	kind[*ca.RequirementError](exitUsage, func(e *ca.RequirementError, n namer) string { return n.text(e.Hint) }),
	kind[*ca.CSRError](exitUsage, own),
	kind[*ca.NotFoundSerialError](exitUsage, func(*ca.NotFoundSerialError, namer) string {
		return "`certmint list` shows every serial; serials are hexadecimal, as `openssl x509 -serial` prints them"
	}),
	kind[*ca.AmbiguousError](exitUsage, func(*ca.AmbiguousError, namer) string {
		return fmt.Sprintf("give the serial of the one you mean, or its first %d or more hex digits", ca.MinSerialPrefix)
	}),
	kind[*ca.NoMatchError](exitUsage, func(*ca.NoMatchError, namer) string {
		return "`certmint list` shows the serials and CNs of this CA's certificates; --cert FILE names a certificate by its file"
	}),
	kind[*ca.NotFoundError](exitFailed, func(*ca.NotFoundError, namer) string {
		return "run `certmint init --root-cn ... --issuing-cn ... --base-url http://...` first, or point --home (CERTMINT_HOME) at an existing CA"
	}),
	kind[*ca.ExistsError](exitFailed, func(*ca.ExistsError, namer) string {
		return "use the existing CA, or give another folder with --home"
	}),
	kind[*ca.WrongPasswordError](exitFailed, func(e *ca.WrongPasswordError, _ namer) string {
		if e.Tries > 1 { // typed at the prompt, and retyped
			return "nothing was changed; the CA password is the one set at `certmint init`"
		}
		return "check CERTMINT_CA_PASSWORD or the file given with --ca-password-file"
	}),
	kind[*ca.CAUnusableError](exitFailed, own),
	kind[*ca.CACertificateError](exitFailed, func(*ca.CACertificateError, namer) string {
		return "if that is what you mean (the CA's key is compromised, or the CA is retired), confirm with --issuing-ca"
	}),
	kind[*ca.LintError](exitFailed, own),
	kind[*ca.WouldRefuseError](exitFailed, own),
	kind[*ca.AlreadyRevokedError](exitFailed, func(*ca.AlreadyRevokedError, namer) string {
		return "nothing to do; `certmint crl` republishes the CRLs if they are out of date"
	}),
	kind[*ca.AlreadyRenewedError](exitFailed, func(e *ca.AlreadyRenewedError, _ namer) string {
		return fmt.Sprintf("renew %s instead, or give --force to issue another (it replaces %s's files); nothing was issued", e.By, e.By)
	}),
	kind[*ca.RevokedRenewalError](exitFailed, func(*ca.RevokedRenewalError, namer) string {
		return "if the device should have a certificate again, renew it with --force; nothing was issued"
	}),
	kind[*ca.UnreleasedError](exitFailed, func(*ca.UnreleasedError, namer) string {
		return "fix the cause, then `certmint doctor --repair` finishes the bundle or revokes the certificate"
	}),
	kind[*ca.AlreadyOnPostgresError](exitFailed, own),

	// store: the issuance database.
	kind[*store.URLError](exitUsage, func(e *store.URLError, n namer) string { return n.text(e.Hint) }),
	kind[*store.DatabasePasswordError](exitFailed, func(*store.DatabasePasswordError, namer) string { // in certmint.toml
		return "give the URL without the password, and the password in " + ca.DatabaseURLEnv +
			" (the whole URL, password included), in ~/.pgpass, or in PGPASSWORD"
	}),
	kind[*store.DatabaseConnectError](exitFailed, func(e *store.DatabaseConnectError, _ namer) string {
		if e.AuthFailed() {
			return "the password comes from " + ca.DatabaseURLEnv + " (the whole URL), ~/.pgpass or PGPASSWORD"
		}
		return "check that the server is up and the URL (" + ca.DatabaseURLEnv + " or [database] url in certmint.toml) is right"
	}),
	kind[*store.NoSchemaError](exitFailed, func(*store.NoSchemaError, namer) string {
		return "move an existing CA there with `certmint db migrate --to URL`, or create a new CA with `certmint init --database-url URL`"
	}),
	kind[*store.DatabaseInUseError](exitFailed, own),
	kind[*store.OtherCAError](exitFailed, func(*store.OtherCAError, namer) string {
		return "check " + ca.DatabaseURLEnv + " and [database] url in certmint.toml: each CA needs its own database (or schema)"
	}),
	kind[*store.NewerSchemaError](exitFailed, func(*store.NewerSchemaError, namer) string {
		return "use the certmint that last wrote to this CA (or a newer one): `certmint --version` says which this is"
	}),

	// templates.
	kind[*templates.NotFoundError](exitUsage, func(e *templates.NotFoundError, _ namer) string {
		names := templates.BuiltinNames()
		list := "built-in templates: " + strings.Join(names, ", ")
		if best := suggest.Closest(e.Name, names, max(2, len(e.Name)/3)); best != "" {
			return fmt.Sprintf("did you mean %q? (%s)", best, list)
		}
		return list
	}),
	kind[*templates.RequestError](exitUsage, func(e *templates.RequestError, n namer) string { return n.text(e.Hint) }),
	kind[*templates.Error](exitFailed, templateHint[*templates.Error]),
	kind[templates.ErrorList](exitFailed, templateHint[templates.ErrorList]),

	// san: names given for a certificate.
	kind[*san.Error](exitUsage, own),
	kind[*san.CountError](exitUsage, own),

	// check, convert, crl, inspect, batch.
	kind[*check.PassphraseError](exitFailed, func(*check.PassphraseError, namer) string {
		return "give the passphrase the .pfx was made with (CERTMINT_PASSWORD or --password-file)"
	}),
	kind[*convert.UsageError](exitUsage, func(e *convert.UsageError, n namer) string { return n.text(e.Hint) }),
	kind[*convert.MismatchError](exitFailed, own),
	kind[*convert.NothingError](exitFailed, func(e *convert.NothingError, n namer) string { return n.text(e.Hint) }),
	kind[*crl.StaleError](exitFailed, nil),
	kind[*inspect.FileError](exitFailed, nil),
	kind[*batch.RowError](exitFailed, nil),
	kind[*batch.HeaderError](exitFailed, nil),

	// Files and secrets.
	kind[*fsutil.ExistsError](exitFailed, func(*fsutil.ExistsError, namer) string {
		return "nothing was written; add --force to replace it, or write somewhere else (--out)"
	}),
	kind[*fsutil.LinkError](exitFailed, func(e *fsutil.LinkError, _ namer) string {
		if e.Hint != "" {
			return e.Hint
		}
		return "nothing was written; remove it or choose another --out"
	}),
	kind[*fsutil.TooLargeError](exitFailed, nil),
	kind[*fsutil.FolderError](exitUsage, nil),
	kind[*secret.MissingError](exitFailed, own),
	// Ctrl-C at a prompt is reported (and exits 130) before the table is
	// read; Ctrl-D is a failure whose hint says how to give the password.
	kind[*secret.PromptError](exitFailed, own),
	kind[*pkifile.WrongPasswordError](exitFailed, func(*pkifile.WrongPasswordError, namer) string {
		return "check CERTMINT_PASSWORD or the file given with --password-file (passwords are case-sensitive; a password file's first line is the password)"
	}),
	kind[*pkifile.NoPasswordError](exitFailed, nil),
	kind[*pkifile.KeyError](exitFailed, own),
	kind[*pkifile.PFXError](exitFailed, nil),
	kind[*pkifile.TooLargeError](exitFailed, own),
	kind[*pkifile.UnknownError](exitFailed, own),
}

func templateHint[T error](T, namer) string {
	return "fix the template; `certmint templates show server` prints a complete example"
}

// errorKinds indexes the table by type.
var errorKinds = func() map[reflect.Type]errorKind {
	m := make(map[reflect.Type]errorKind, len(errorTable))
	for _, k := range errorTable {
		if _, dup := m[k.typ]; dup {
			panic("error table: " + k.typ.String() + " twice")
		}
		m[k.typ] = k
	}
	return m
}()

// chain is err and every error it wraps, outermost first (depth first
// through errors.Join's lists).
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			out = append(out, e)
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, inner := range u.Unwrap() {
					walk(inner)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return out
}

// interruptedError is the error of a command a signal stopped (a batch
// after Ctrl-C): it has said what it left undone, and exits 128 + the
// signal's number where it would have exited 1, as shells report it.
type interruptedError struct {
	err    error
	status int
}

func (e *interruptedError) Error() string { return e.err.Error() }
func (e *interruptedError) Unwrap() error { return e.err }

// classify returns err's exit status and hint from the table.
func classify(err error, n namer) (code int, hint string) {
	code = -1
	for _, e := range chain(err) {
		k, ok := errorKinds[reflect.TypeOf(e)]
		if !ok {
			continue
		}
		if code < 0 {
			code = k.code
		}
		if hint == "" && k.hint != nil {
			hint = k.hint(e, n)
		}
	}
	if code < 0 {
		code = exitFailed
	}
	var ie *interruptedError
	if code == exitFailed && errors.As(err, &ie) {
		code = ie.status
	}
	return code, hint
}

// hintFor is the hint the table gives err, for commands that put an
// error's hint into their own message.
func hintFor(c *cli.Context, err error) string {
	_, h := classify(err, namer{c.Command})
	return h
}

// message is err's text with the inputs its errors name written as the
// command's flags: each error with a Message writes it plainly in Error(),
// and that text is replaced, in place, wherever the chain wraps it.
func message(err error, n namer) string {
	msg := err.Error()
	for _, e := range chain(err) {
		if m, ok := e.(messenger); ok {
			t := m.Message()
			if plain := t.String(); plain != "" {
				msg = strings.Replace(msg, plain, n.text(t), 1)
			}
		}
	}
	return msg
}

// report prints err as certmint's error lines and returns the exit status.
// cmd is the command that ran (nil: none was found), whose flags name the
// inputs in the messages.
func report(w io.Writer, err error, cmd *cli.Command) int {
	n := namer{cmd}
	code, hint := classify(err, n)
	if errors.As(err, new(silent)) {
		return code
	}
	if reportInterrupted(w, err) {
		return exitInterrupted
	}
	// Messages quote the names they take from certificates, CSRs and CSV
	// files; escaping each line (textsafe.Escape) is the guard for one
	// quoted nowhere, so an error never drives the terminal and every line
	// starts with "certmint:".
	var tl templates.ErrorList
	if errors.As(err, &tl) {
		for _, e := range tl {
			fmt.Fprintf(w, "certmint: error: %s\n", textsafe.Escape(e.Error()))
		}
	} else {
		for i, line := range strings.Split(message(err, n), "\n") {
			if i == 0 {
				fmt.Fprintf(w, "certmint: error: %s\n", textsafe.Escape(line))
			} else {
				fmt.Fprintf(w, "certmint:   %s\n", textsafe.Escape(line))
			}
		}
	}
	if hint != "" {
		fmt.Fprintf(w, "certmint: hint: %s\n", textsafe.Escape(hint))
	}
	return code
}

// reportJSON is report for a command run with --json: the error, its hint
// and the exit status, decided by the same table, as one JSON document on
// the last line of w (warnings printed before it stay lines of text).
func reportJSON(w io.Writer, err error, cmd *cli.Command) int {
	n := namer{cmd}
	code, hint := classify(err, n)
	if errors.As(err, new(silent)) {
		return code // the document on stdout says it ("ok": false, "alert": true)
	}
	b, jerr := json.Marshal(errorJSON{header: newHeader(), Error: message(err, n), Hint: hint, ExitStatus: code})
	if jerr != nil {
		return report(w, err, cmd)
	}
	w.Write(append(textsafe.JSON(b), '\n'))
	return code
}

// inputFlags writes each input as the command line gives it: a flag, or
// an environment variable. Where commands call one input by different
// flags (issue's --random-password, batch's --random-passwords; init's
// --database-url, db migrate's --to), the first the running command
// defines is used. TestInputFlagsComplete checks every input.Name is here.
var inputFlags = map[input.Name][]string{
	input.Template: {"--template"}, input.CN: {"--cn"}, input.SAN: {"--san"}, input.Subject: {"--subject"},
	input.Days: {"--days"}, input.Key: {"--key"}, input.Format: {"--format"}, input.FileName: {"--name"},
	input.Out: {"--out"}, input.Force: {"--force"}, input.NoCDP: {"--no-cdp"}, input.PFX: {"--pfx"},
	input.SignProfile: {"--sign-profile"}, input.ProfilePassword: {"--profile-password"},
	input.PasswordEnv: {"CERTMINT_PASSWORD"}, input.PasswordFile: {"--password-file"},
	input.RandomPassword: {"--random-password", "--random-passwords"},
	input.Home:           {"--home"}, input.CAPassword: {"--ca-password-file"}, input.CAPasswordEnv: {"CERTMINT_CA_PASSWORD"},
	input.IssuingCA: {"--issuing-ca"}, input.Status: {"--status"},
	input.RootCN: {"--root-cn"}, input.IssuingCN: {"--issuing-cn"}, input.RootDays: {"--root-days"},
	input.IssuingDays: {"--issuing-days"}, input.IssuingKey: {"--issuing-key"},
	input.Country: {"--country"}, input.State: {"--state"}, input.Locality: {"--locality"}, input.Org: {"--org"}, input.OU: {"--ou"},
	input.DatabaseURL: {"--database-url", "--to"}, input.DatabaseEnv: {ca.DatabaseURLEnv},
	input.In: {"--in"}, input.To: {"--to"}, input.NoKeys: {"--nokeys"}, input.NoCerts: {"--nocerts"},
	input.KeyFile: {"--key"}, input.Chain: {"--chain"}, input.Legacy: {"--legacy"}, input.FriendlyName: {"--friendly-name"},
}

// namer writes inputs as the flags of the command that runs.
type namer struct{ cmd *cli.Command }

func namerFor(c *cli.Context) namer { return namer{c.Command} }

// name is the flag (or variable) of input n.
func (n namer) name(in input.Name) string {
	alts := inputFlags[in]
	if len(alts) == 0 {
		return string(in)
	}
	if n.cmd != nil {
		// The flag's own name first: batch's --random-passwords also
		// answers to --random-password, but is written as it is listed.
		for _, a := range alts {
			name := strings.TrimLeft(a, "-")
			if f := findFlag(n.cmd, name); strings.HasPrefix(a, "-") && f != nil && f.Names()[0] == name {
				return a
			}
		}
		for _, a := range alts {
			if strings.HasPrefix(a, "-") && findFlag(n.cmd, strings.TrimLeft(a, "-")) != nil {
				return a
			}
		}
	}
	return alts[0]
}

// ref writes an input with its value as it is typed: --days 825,
// CERTMINT_DATABASE_URL=postgres://...
func (n namer) ref(r input.Ref) string {
	name := n.name(r.Name)
	switch {
	case !r.HasValue:
		return name
	case strings.HasPrefix(name, "-"):
		return name + " " + r.ValueText()
	}
	return name + "=" + r.ValueText()
}

// text writes t with its inputs as flags.
func (n namer) text(t input.Text) string { return t.Render(n.ref) }
