package main

import (
	"errors"

	"fmt"
	"io"
	"strings"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/store"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

// usageError is a mistake in how certmint was called: exit status 2.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string    { return e.msg }
func (e *usageError) HintText() string { return e.hint }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func usageHint(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// hinter is implemented by errors that know what the user should type.
type hinter interface{ HintText() string }

// failure is an operation that failed or a requirement not met: exit 1.
// It is the default for any error that is not a usage error.

// report prints err as certmint's error lines and returns the exit status.
func report(w io.Writer, err error) int {
	var quiet silent
	if errors.As(err, &quiet) {
		return 1
	}
	if reportInterrupted(w, err) {
		return exitInterrupted
	}
	code := 1
	var ue *usageError
	var cue *ca.UsageError
	var re *templates.RequestError
	var rq *ca.RequirementError
	var se *store.URLError
	if errors.As(err, &ue) || errors.As(err, &cue) || errors.As(err, &re) || errors.As(err, &rq) || errors.As(err, &se) {
		code = 2
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
		msg := err.Error()
		for i, line := range strings.Split(msg, "\n") {
			if i == 0 {
				fmt.Fprintf(w, "certmint: error: %s\n", textsafe.Escape(line))
			} else {
				fmt.Fprintf(w, "certmint:   %s\n", textsafe.Escape(line))
			}
		}
	}
	if h := hintFor(err); h != "" {
		fmt.Fprintf(w, "certmint: hint: %s\n", textsafe.Escape(h))
	}
	return code
}

func hintFor(err error) string {
	var h hinter
	if errors.As(err, &h) && h.HintText() != "" {
		return h.HintText()
	}
	var ex *fsutil.ExistsError
	if errors.As(err, &ex) {
		return "nothing was written; add --force to replace it, or write somewhere else (--out)"
	}
	var te *templates.Error
	var tl templates.ErrorList
	if errors.As(err, &te) || errors.As(err, &tl) {
		return "fix the template; `certmint templates show server` prints a complete example"
	}
	var nf *templates.NotFoundError
	if errors.As(err, &nf) {
		return "built-in templates: " + strings.Join(templates.BuiltinNames(), ", ")
	}
	return ""
}
