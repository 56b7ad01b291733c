package store

import "github.com/certmint/certmint/internal/input"

// URLError is a database URL that cannot be used as given: a mistake in how
// certmint was called. Msg and Hint name the inputs (input.DatabaseURL,
// input.DatabaseEnv) as input.Refs, which the command line writes as its
// flag and environment variable.
type URLError struct {
	Msg  input.Text
	Hint input.Text
}

func (e *URLError) Error() string { return e.Msg.String() }

// Message is the error's text with its inputs as Refs.
func (e *URLError) Message() input.Text { return e.Msg }
