package main

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/check"
	"github.com/certmint/certmint/convert"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/inspect"
	"github.com/certmint/certmint/internal/fsutil"
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
	hint func(error) string
}

// kind makes a row for the error type T.
func kind[T error](code int, hint func(T) string) errorKind {
	k := errorKind{typ: reflect.TypeFor[T](), code: code}
	if hint != nil {
		k.hint = func(err error) string { return hint(err.(T)) }
	}
	return k
}

// hinter is an error that carries its own hint, written by its package
// from what it knows (which rule, which file): the table says which types
// may use it.
type hinter interface{ HintText() string }

// own is the hint of an error type that carries its own.
func own[T interface {
	error
	hinter
}](e T) string {
	return e.HintText()
}

// errorTable decides, in one place, the exit status and the hint of every
// error type certmint's packages return (TestErrorTableComplete checks that
// none is missing). An error is judged by the outermost error of its chain
// whose type is in the table; the hint is the first non-empty one down the
// chain. An error of no listed type (an I/O error, a wrapped message) is a
// failure: exit 1, no hint.
var errorTable = []errorKind{
	// cmd: flags and arguments.
	kind[*usageError](exitUsage, func(e *usageError) string { return e.hint }),
	kind[silent](exitFailed, nil),
	kind[*doctorError](exitFailed, own),

	// ca: CA operations.
	kind[*ca.UsageError](exitUsage, own),
	kind[*ca.RequirementError](exitUsage, own),
	kind[*ca.CSRError](exitUsage, own),
	kind[*ca.NotFoundSerialError](exitUsage, func(*ca.NotFoundSerialError) string {
		return "`certmint list` shows every serial; serials are hexadecimal, as `openssl x509 -serial` prints them"
	}),
	kind[*ca.AmbiguousError](exitUsage, func(e *ca.AmbiguousError) string {
		return fmt.Sprintf("give the serial of the one you mean, or its first %d or more hex digits", ca.MinSerialPrefix)
	}),
	kind[*ca.NoMatchError](exitUsage, func(e *ca.NoMatchError) string {
		return "`certmint list` shows the serials and CNs of this CA's certificates; --cert FILE names a certificate by its file"
	}),
	kind[*ca.NotFoundError](exitFailed, func(*ca.NotFoundError) string {
		return "run `certmint init --root-cn ... --issuing-cn ... --base-url http://...` first, or point --home (CERTMINT_HOME) at an existing CA"
	}),
	kind[*ca.ExistsError](exitFailed, func(*ca.ExistsError) string {
		return "use the existing CA, or give another folder with --home"
	}),
	kind[*ca.WrongPasswordError](exitFailed, func(*ca.WrongPasswordError) string {
		return "check CERTMINT_CA_PASSWORD or the file given with --ca-password-file"
	}),
	kind[*ca.CAUnusableError](exitFailed, own),
	kind[*ca.CACertificateError](exitFailed, func(*ca.CACertificateError) string {
		return "if that is what you mean (the CA's key is compromised, or the CA is retired), confirm with --issuing-ca"
	}),
	kind[*ca.LintError](exitFailed, own),
	kind[*ca.AlreadyRevokedError](exitFailed, func(*ca.AlreadyRevokedError) string {
		return "nothing to do; `certmint crl` republishes the CRLs if they are out of date"
	}),
	kind[*ca.RevokedRenewalError](exitFailed, func(*ca.RevokedRenewalError) string {
		return "if the device should have a certificate again, renew it with --force; nothing was issued"
	}),
	kind[*ca.UnreleasedError](exitFailed, func(*ca.UnreleasedError) string {
		return "fix the cause, then `certmint doctor --repair` finishes the bundle or revokes the certificate"
	}),
	kind[*ca.AlreadyOnPostgresError](exitFailed, own),

	// store: the issuance database.
	kind[*store.URLError](exitUsage, own),
	kind[*store.DatabasePasswordError](exitFailed, own), // in certmint.toml; on the command line it is a URLError
	kind[*store.DatabaseConnectError](exitFailed, own),
	kind[*store.NoSchemaError](exitFailed, own),
	kind[*store.DatabaseInUseError](exitFailed, own),
	kind[*store.OtherCAError](exitFailed, own),
	kind[*store.NewerSchemaError](exitFailed, own),

	// templates.
	kind[*templates.NotFoundError](exitUsage, func(e *templates.NotFoundError) string {
		names := templates.BuiltinNames()
		list := "built-in templates: " + strings.Join(names, ", ")
		if best := suggest.Closest(e.Name, names, max(2, len(e.Name)/3)); best != "" {
			return fmt.Sprintf("did you mean %q? (%s)", best, list)
		}
		return list
	}),
	kind[*templates.RequestError](exitUsage, own),
	kind[*templates.Error](exitFailed, templateHint[*templates.Error]),
	kind[templates.ErrorList](exitFailed, templateHint[templates.ErrorList]),

	// san: names given for a certificate.
	kind[*san.Error](exitUsage, own),
	kind[*san.CountError](exitUsage, own),

	// check, convert, crl, inspect, batch.
	kind[*check.PassphraseError](exitFailed, own),
	kind[*convert.UsageError](exitUsage, own),
	kind[*convert.MismatchError](exitFailed, own),
	kind[*convert.NothingError](exitFailed, own),
	kind[*crl.StaleError](exitFailed, nil),
	kind[*inspect.FileError](exitFailed, nil),
	kind[*batch.RowError](exitFailed, nil),
	kind[*batch.HeaderError](exitFailed, nil),

	// Files and secrets.
	kind[*fsutil.ExistsError](exitFailed, func(*fsutil.ExistsError) string {
		return "nothing was written; add --force to replace it, or write somewhere else (--out)"
	}),
	kind[*fsutil.LinkError](exitFailed, own),
	kind[*fsutil.TooLargeError](exitFailed, nil),
	kind[*fsutil.FolderError](exitUsage, nil),
	kind[*secret.MissingError](exitFailed, own),
	kind[*pkifile.WrongPasswordError](exitFailed, own),
	kind[*pkifile.NoPasswordError](exitFailed, nil),
	kind[*pkifile.KeyError](exitFailed, own),
	kind[*pkifile.PFXError](exitFailed, nil),
	kind[*pkifile.TooLargeError](exitFailed, own),
	kind[*pkifile.UnknownError](exitFailed, own),
}

func templateHint[T error](T) string {
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

// classify returns err's exit status and hint from the table.
func classify(err error) (code int, hint string) {
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
			hint = k.hint(e)
		}
	}
	if code < 0 {
		code = exitFailed
	}
	return code, hint
}

// hintFor is the hint the table gives err, for commands that put an
// error's hint into their own message.
func hintFor(err error) string {
	_, h := classify(err)
	return h
}

// report prints err as certmint's error lines and returns the exit status.
func report(w io.Writer, err error) int {
	code, hint := classify(err)
	if errors.As(err, new(silent)) {
		return code
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
		for i, line := range strings.Split(err.Error(), "\n") {
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
