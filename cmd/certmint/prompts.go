package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/secret"
)

// exitInterrupted is the exit status after Ctrl-C (at a prompt, or a batch
// stopped part-way): 128 + SIGINT, what a shell reports for a command that
// Ctrl-C stopped.
const exitInterrupted = 130

// openCA opens the CA home with the CA password from caPassword. A
// password typed at the prompt that does not decrypt the CA key is asked
// again, up to secret.Tries times in all; one from a file or the
// environment is not (it would be the same again).
func openCA(c *cli.Context) (*ca.Store, error) {
	src := caPassword(c, false)
	s, err := openHome(c, src.Resolve)
	if err != nil {
		return nil, err
	}
	askCAAgain(c, s, src)
	return s, nil
}

// askCAAgain lets s ask again for a CA password typed at the prompt.
func askCAAgain(c *cli.Context, s *ca.Store, src secret.Source) {
	o := output(c)
	s.AskAgain = func(_ error, tries int) bool {
		if tries >= secret.Tries || !src.Prompts() {
			return false
		}
		left := secret.Tries - tries
		more := "tries"
		if left == 1 {
			more = "try"
		}
		// Without the key's path: the prompt is about the password.
		fmt.Fprintf(o.stderr, "certmint: the CA password does not decrypt the CA key; type it again (%d more %s)\n", left, more)
		return true
	}
}

// unlockCA decrypts the issuing CA's key now when its password is to be
// typed, so that a command which also needs a bundle password asks for the
// CA password first: a typo in it is retyped at once, not after the bundle
// password was typed twice. A password from a file or the environment
// needs no such order, and the key is unlocked while the new key is made
// (ca.Store.Issue does both at once).
func unlockCA(c *cli.Context, s *ca.Store) error {
	if !caPassword(c, false).Prompts() {
		return nil
	}
	_, err := s.Key(s.Issuing)
	return err
}

// unlockEarly starts decrypting the issuing CA's key in the background
// when its password comes from a file or the environment, for a command
// that will sign: the request is checked meanwhile. A password to be typed
// waits for unlockCA, after the request was found good.
func unlockEarly(c *cli.Context, s *ca.Store) {
	if !caPassword(c, false).Prompts() {
		s.UnlockEarly()
	}
}

// reportInterrupted prints a prompt left with Ctrl-C and says whether err
// was one: it is the user's choice, not an error, and exits 130.
func reportInterrupted(w io.Writer, err error) bool {
	var pe *secret.PromptError
	if !errors.As(err, &pe) || !pe.Interrupted {
		return false
	}
	fmt.Fprintf(w, "certmint: %s\n", pe.Error())
	return true
}
