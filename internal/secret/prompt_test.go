package secret

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// TestReadKeys: what a terminal in raw mode sends for each key, and the
// password (or the way out) the prompt makes of it.
func TestReadKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typed string
		want  []string // the lines read, in order
		err   error    // after them
	}{
		{name: "Enter is CR", typed: "secret\r", want: []string{"secret"}, err: io.EOF},
		{name: "Enter is LF", typed: "secret\n", want: []string{"secret"}, err: io.EOF},
		{name: "CR LF is one Enter", typed: "one\r\ntwo\r\n", want: []string{"one", "two"}, err: io.EOF},
		{name: "an empty line after CR LF", typed: "one\r\n\r", want: []string{"one", ""}, err: io.EOF},
		{name: "Ctrl-C", typed: "sec\x03ret\r", err: ErrInterrupted},
		{name: "Ctrl-C alone", typed: "\x03", err: ErrInterrupted},
		{name: "Ctrl-D", typed: "\x04", err: io.EOF},
		{name: "Ctrl-D after some characters", typed: "sec\x04", err: io.EOF},
		{name: "end of input", typed: "sec", err: io.EOF},
		{name: "Backspace (DEL)", typed: "secrex\x7ft\r", want: []string{"secret"}, err: io.EOF},
		{name: "Backspace (BS)", typed: "secrex\bt\r", want: []string{"secret"}, err: io.EOF},
		{name: "Backspace on an empty line", typed: "\x7f\x7fok\r", want: []string{"ok"}, err: io.EOF},
		{name: "Backspace removes a whole character", typed: "mot de passé\x7fe\r", want: []string{"mot de passe"}, err: io.EOF},
		{name: "Ctrl-U erases the line", typed: "wrong\x15right\r", want: []string{"right"}, err: io.EOF},
		{name: "cursor keys are skipped", typed: "ab\x1b[Dc\x1bOA\x1b[3~d\r", want: []string{"abcd"}, err: io.EOF},
		{name: "other control keys are ignored", typed: "a\tb\x01c\r", want: []string{"abc"}, err: io.EOF},
		{name: "spaces and UTF-8 are kept", typed: " pâss wörd \r", want: []string{" pâss wörd "}, err: io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &keyReader{r: strings.NewReader(tc.typed)}
			var got []string
			var err error
			for {
				var line string
				if line, err = k.readLine(); err != nil {
					break
				}
				got = append(got, line)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || !errors.Is(err, tc.err) {
				t.Errorf("read %q then %v; want %q then %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// A read error other than the end is reported as it is.
func TestReadKeysError(t *testing.T) {
	boom := errors.New("boom")
	k := &keyReader{r: io.MultiReader(strings.NewReader("ab"), errReader{boom})}
	if _, err := k.readLine(); !errors.Is(err, boom) {
		t.Errorf("readLine() = %v, want %v", err, boom)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestPromptErrorHint: Ctrl-D says how to give the password without a
// prompt; Ctrl-C, which the user chose, has no hint.
func TestPromptErrorHint(t *testing.T) {
	src := Source{What: "bundle password", Env: "CERTMINT_PASSWORD", Alternatives: "--password-file FILE or --random-password"}
	if h := (&PromptError{Src: src, Interrupted: true}).HintText(); h != "" {
		t.Errorf("Ctrl-C hint %q, want none", h)
	}
	want := "run the command again and type the bundle password; to give it without a prompt, set CERTMINT_PASSWORD, or use --password-file FILE or --random-password"
	if h := (&PromptError{Src: src}).HintText(); h != want {
		t.Errorf("Ctrl-D hint %q,\nwant %q", h, want)
	}
	if h := (&PromptError{Src: Source{What: "x"}}).HintText(); h != "run the command again and type the x" {
		t.Errorf("Ctrl-D hint without other sources: %q", h)
	}
}

// TestPrompts: only a password that no value, file or variable gives is
// typed, and so may be asked for again.
func TestPrompts(t *testing.T) {
	const env = "CERTMINT_TEST_PROMPTS"
	ask := func(string) (string, error) { return "typed", nil }
	for _, tc := range []struct {
		name string
		src  Source
		env  *string
		want bool
	}{
		{name: "prompt", src: Source{Env: env, Prompt: ask}, want: true},
		{name: "value", src: Source{Value: "v", Env: env, Prompt: ask}},
		{name: "file", src: Source{File: "pw.txt", Env: env, Prompt: ask}},
		{name: "environment", src: Source{Env: env, Prompt: ask}, env: ptr("from-env")},
		{name: "empty environment", src: Source{Env: env, Prompt: ask}, env: ptr(""), want: true},
		{name: "no terminal", src: Source{Env: env}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(env, "")
			if tc.env == nil {
				os.Unsetenv(env)
			} else {
				os.Setenv(env, *tc.env)
			}
			if tc.src.Prompt == nil {
				noTerminal(t)
			}
			if got := tc.src.Prompts(); got != tc.want {
				t.Errorf("Prompts() = %v, want %v", got, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }
