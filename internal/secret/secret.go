// Package secret finds the passwords certmint needs without requiring them
// on the command line: a file, an environment variable, or a terminal prompt.
package secret

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/certmint/certmint/internal/fsutil"
)

// maxFileSize bounds a password file: a password is a line, not a document,
// and a wrong path (a 2 GB log) must not be read whole.
const maxFileSize = 64 << 10

// Source says where one password may come from, in the order Resolve tries.
type Source struct {
	What  string // "CA password", "bundle password": for prompts and errors
	Value string // given on argv (--password): works, but warns
	File  string // --*-password-file
	// Alternatives names the flags that give the password, for the hint
	// when none was given ("--password-file FILE or --random-password").
	Alternatives string
	Env          string // environment variable name
	Confirm      bool   // prompt twice when the password is new
	// MinLength, when above 0, makes Resolve warn (never refuse) about a
	// password of fewer characters. The caller decides it, for a password
	// it is about to set: a CA password, a new bundle's.
	MinLength int
	// Warn receives warnings (argv use, loose file permissions). May be nil.
	Warn func(string)
	// Prompt reads from a terminal. Nil means "use the process terminal".
	Prompt func(prompt string) (string, error)
}

// ErrNone is returned when no source gives a password and no terminal is
// available to ask for one.
var ErrNone = errors.New("no password given")

// MissingError says which sources were tried, so the message can tell the
// user what to set.
type MissingError struct{ Src Source }

func (e *MissingError) Error() string {
	return fmt.Sprintf("no %s given", e.Src.What)
}

// HintText says every way to give the password.
func (e *MissingError) HintText() string {
	var ways []string
	if e.Src.Env != "" {
		ways = append(ways, "set "+e.Src.Env)
	}
	if e.Src.Alternatives != "" {
		ways = append(ways, "use "+e.Src.Alternatives)
	}
	ways = append(ways, "run on a terminal to be asked")
	return strings.Join(ways, ", or ")
}

func (e *MissingError) Unwrap() error { return ErrNone }

// Resolve returns the password from the first source that has one: the
// argv value, then the file, then the environment, then a terminal prompt.
// A file is more specific than the environment, so it wins. A password
// shorter than MinLength is returned with a warning.
func (s Source) Resolve() (string, error) {
	pw, err := s.resolve()
	if err == nil {
		if w := ShortWarning(s.What, pw, s.MinLength); w != "" {
			s.warn(w)
		}
	}
	return pw, err
}

// ShortWarning returns the warning for a password (what names it: "CA
// password") of fewer than min characters, or "" when it is long enough
// or min is 0.
func ShortWarning(what, pw string, min int) string {
	n := utf8.RuneCountInString(pw)
	if min <= 0 || n >= min {
		return ""
	}
	chars := "characters"
	if n == 1 {
		chars = "character"
	}
	return fmt.Sprintf("the %s has only %d %s; it is used, but one of at least %d is much harder to guess", what, n, chars, min)
}

func (s Source) resolve() (string, error) {
	if s.Value != "" {
		s.warn("a password on the command line can be read by other users and stays in shell history; use a password file or " + orDefault(s.Env, "an environment variable"))
		return s.Value, nil
	}
	if s.File != "" {
		return s.readFile()
	}
	if s.Env != "" {
		if v, ok := os.LookupEnv(s.Env); ok && v != "" {
			return v, nil
		}
	}
	prompt := s.Prompt
	if prompt == nil {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return "", &MissingError{Src: s}
		}
		prompt = terminalPrompt
	}
	return s.promptFor(prompt)
}

// Tries is how many times a prompt asks for a password before it gives
// up: an empty answer or two that do not match here, a CA password that
// does not decrypt the key in the caller (Prompts says when to ask again).
const Tries = 3

// promptFor asks for the password, twice when it is new, and asks again
// (up to Tries times) after an empty answer or a confirmation that does
// not match: a typo costs a retype, not the run. Ctrl-C and Ctrl-D leave
// at once with a *PromptError.
func (s Source) promptFor(prompt func(string) (string, error)) (string, error) {
	for try := 1; ; try++ {
		pw, err := s.ask(prompt, capitalize(s.What)+": ")
		if err != nil {
			return "", err
		}
		var problem string
		switch {
		case pw == "":
			problem = fmt.Sprintf("empty %s", s.What)
		case !s.Confirm:
			return pw, nil
		default:
			again, err := s.ask(prompt, capitalize(s.What)+" again: ")
			if err != nil {
				return "", err
			}
			if again == pw {
				return pw, nil
			}
			problem = fmt.Sprintf("the two %ss do not match", s.What)
		}
		if try == Tries {
			return "", fmt.Errorf("%s (%d tries); nothing was changed", problem, Tries)
		}
		s.warn(fmt.Sprintf("%s; type it again (%d more %s)", problem, Tries-try, plural(Tries-try, "try", "tries")))
	}
}

// ask shows one prompt and turns Ctrl-C and Ctrl-D (or the end of the
// input) into a *PromptError that names the password.
func (s Source) ask(prompt func(string) (string, error), text string) (string, error) {
	pw, err := prompt(text)
	switch {
	case errors.Is(err, ErrInterrupted):
		return "", &PromptError{Src: s, Interrupted: true}
	case errors.Is(err, io.EOF):
		return "", &PromptError{Src: s}
	}
	return pw, err
}

// Prompts reports whether Resolve would ask on the terminal: no value,
// file or environment variable gives the password. A password typed
// there that turns out wrong may be asked again; one from a file may not.
func (s Source) Prompts() bool {
	if s.Value != "" || s.File != "" {
		return false
	}
	if v, ok := os.LookupEnv(s.Env); s.Env != "" && ok && v != "" {
		return false
	}
	return s.Prompt != nil || term.IsTerminal(int(os.Stdin.Fd()))
}

func (s Source) readFile() (string, error) {
	if st, err := os.Stat(s.File); err == nil && !st.IsDir() && runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		s.warn(fmt.Sprintf("%s file %s can be read by other users (mode %04o); run chmod 600 %s", s.What, s.File, st.Mode().Perm(), s.File))
	}
	data, err := fsutil.ReadLimited(s.File, maxFileSize)
	var tl *fsutil.TooLargeError
	var fe *fsutil.FolderError
	switch {
	case errors.As(err, &fe):
		return "", fmt.Errorf("%s file %s is a folder", s.What, s.File)
	case errors.As(err, &tl):
		return "", fmt.Errorf("%s file %s is larger than %d KiB: give a file that holds only the password", s.What, s.File, maxFileSize>>10)
	case err != nil:
		return "", fmt.Errorf("reading %s file: %w", s.What, err)
	}
	// The password is the first line; a trailing newline (echo pw > file)
	// or a Windows CRLF is not part of it.
	// Notepad and PowerShell 5.1 write a UTF-8 byte-order mark first.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s file %s is empty", s.What, s.File)
	}
	return line, nil
}

func (s Source) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}

// ReadLine is a Prompt that reads one line from r, for tests and pipes.
func ReadLine(r io.Reader) func(string) (string, error) {
	br := bufio.NewReader(r)
	return func(string) (string, error) {
		line, err := br.ReadString('\n')
		if err != nil && line == "" {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
}

// passwordAlphabet leaves out characters that are easily confused when a
// password is read aloud or typed from paper (0/O, 1/l/I).
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// Random returns a password of n characters from crypto/rand. With the
// 57-character alphabet, 24 characters carry about 140 bits.
func Random(n int) (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := 0; i < n; i++ {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(passwordAlphabet[v.Int64()])
	}
	return b.String(), nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
