package secret

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// prompts returns a Prompt that answers from a list and records the prompts.
func prompts(answers ...string) (func(string) (string, error), *[]string) {
	var asked []string
	return func(p string) (string, error) {
		asked = append(asked, p)
		if len(answers) == 0 {
			return "", errors.New("no more answers")
		}
		a := answers[0]
		answers = answers[1:]
		switch a {
		case "^C":
			return "", ErrInterrupted
		case "^D":
			return "", io.EOF
		}
		return a, nil
	}, &asked
}

func writeFile(t *testing.T, name, data string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return p
}

func TestResolve(t *testing.T) {
	const env = "CERTMINT_TEST_SECRET"
	for _, tc := range []struct {
		name      string
		value     string
		file      string // file content; "" for no file
		env       string // value of env; "" leaves it unset
		emptyEnv  bool   // set env to ""
		answers   []string
		noPrompt  bool // leave Prompt nil (no terminal in go test)
		confirm   bool
		want      string
		wantErr   string
		missing   bool // want *MissingError
		ctrlC     bool // want a *PromptError, Interrupted
		ctrlD     bool // want a *PromptError, not Interrupted
		wantWarn  string
		wantAsked []string
	}{
		{name: "argv value warns", value: "argv-pw", file: "file-pw\n", env: "env-pw", want: "argv-pw", wantWarn: "on the command line can be read by other users"},
		{name: "argv warning names the variable", value: "argv-pw", want: "argv-pw", wantWarn: "use a password file or " + env},
		{name: "file beats env", file: "file-pw\n", env: "env-pw", want: "file-pw"},
		{name: "env", env: "env-pw", want: "env-pw"},
		{name: "env with spaces kept", env: " pw ", want: " pw "},
		{name: "empty env is not a password", emptyEnv: true, answers: []string{"typed"}, want: "typed", wantAsked: []string{"Bundle password: "}},
		{name: "prompt", answers: []string{"typed"}, want: "typed", wantAsked: []string{"Bundle password: "}},
		{name: "prompt confirmed", confirm: true, answers: []string{"typed", "typed"}, want: "typed", wantAsked: []string{"Bundle password: ", "Bundle password again: "}},
		{name: "prompt mismatch asks again", confirm: true, answers: []string{"typed", "typo", "typed", "typed"}, want: "typed",
			wantWarn:  "the two bundle passwords do not match; type it again (2 more tries)",
			wantAsked: []string{"Bundle password: ", "Bundle password again: ", "Bundle password: ", "Bundle password again: "}},
		{name: "prompt mismatch three times", confirm: true, answers: []string{"a", "b", "a", "b", "a", "b", "a", "a"},
			wantErr: "the two bundle passwords do not match (3 tries); nothing was changed", wantWarn: "type it again (1 more try)"},
		{name: "prompt empty asks again", answers: []string{"", "typed"}, want: "typed", wantWarn: "empty bundle password; type it again (2 more tries)"},
		{name: "prompt empty three times", answers: []string{"", "", "", "typed"}, wantErr: "empty bundle password (3 tries)", wantWarn: "type it again (1 more try)"},
		{name: "prompt empty not confirmed", confirm: true, answers: []string{"", "typed", "typed"}, want: "typed",
			wantWarn: "empty bundle password", wantAsked: []string{"Bundle password: ", "Bundle password: ", "Bundle password again: "}},
		{name: "Ctrl-C at the prompt", answers: []string{"^C"}, wantErr: "interrupted at the bundle password prompt; nothing was changed", ctrlC: true},
		{name: "Ctrl-D at the confirmation", confirm: true, answers: []string{"typed", "^D"}, wantErr: "no bundle password typed (Ctrl-D); nothing was changed", ctrlD: true},
		{name: "prompt error", answers: nil, wantErr: "no more answers"},
		{name: "prompt error on confirm", confirm: true, answers: []string{"typed"}, wantErr: "no more answers"},
		{name: "nothing and no terminal", noPrompt: true, missing: true, wantErr: "no bundle password given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.env != "":
				t.Setenv(env, tc.env)
			case tc.emptyEnv:
				t.Setenv(env, "")
			default:
				t.Setenv(env, "")
				os.Unsetenv(env)
			}
			var warnings []string
			src := Source{What: "bundle password", Value: tc.value, Env: env, Confirm: tc.confirm,
				Alternatives: "--password-file FILE or --random-password",
				Warn:         func(s string) { warnings = append(warnings, s) }}
			if tc.file != "" {
				src.File = writeFile(t, "pw", tc.file, 0o600)
			}
			var asked *[]string
			if !tc.noPrompt {
				src.Prompt, asked = prompts(tc.answers...)
			} else {
				noTerminal(t)
			}
			got, err := src.Resolve()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve() = %q, %v; want error %q", got, err, tc.wantErr)
				}
				var pe *PromptError
				if isPrompt := errors.As(err, &pe); isPrompt != (tc.ctrlC || tc.ctrlD) {
					t.Errorf("error %T is PromptError: %v, want %v", err, isPrompt, tc.ctrlC || tc.ctrlD)
				} else if isPrompt && pe.Interrupted != tc.ctrlC {
					t.Errorf("PromptError.Interrupted = %v, want %v", pe.Interrupted, tc.ctrlC)
				}
				var me *MissingError
				if isMissing := errors.As(err, &me); isMissing != tc.missing {
					t.Errorf("error %T is MissingError: %v, want %v", err, isMissing, tc.missing)
				}
				if tc.missing {
					if !errors.Is(err, ErrNone) {
						t.Error("MissingError does not unwrap to ErrNone")
					}
					hint := me.HintText()
					for _, w := range []string{"set " + env, "use --password-file FILE or --random-password", "run on a terminal"} {
						if !strings.Contains(hint, w) {
							t.Errorf("hint %q does not say %q", hint, w)
						}
					}
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("Resolve() = %q, %v; want %q", got, err, tc.want)
			}
			if tc.wantWarn != "" {
				if !strings.Contains(strings.Join(warnings, "\n"), tc.wantWarn) {
					t.Errorf("warnings = %q, want one containing %q", warnings, tc.wantWarn)
				}
			} else if len(warnings) != 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
			if tc.wantAsked != nil && (asked == nil || strings.Join(*asked, "|") != strings.Join(tc.wantAsked, "|")) {
				t.Errorf("prompts = %q, want %q", *asked, tc.wantAsked)
			}
			if tc.value != "" || tc.file != "" || tc.env != "" {
				if asked != nil && len(*asked) > 0 {
					t.Errorf("prompted although a source gave the password: %q", *asked)
				}
			}
		})
	}
}

// noTerminal makes sure stdin is not a terminal for the test, even when
// go test runs from one, so Resolve cannot block on a real prompt.
func noTerminal(t *testing.T) {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
}

func TestMissingErrorHint(t *testing.T) {
	for _, tc := range []struct {
		src  Source
		want string
	}{
		{Source{What: "CA password", Env: "CERTMINT_CA_PASSWORD", Alternatives: "--ca-password-file FILE"},
			"set CERTMINT_CA_PASSWORD, or use --ca-password-file FILE, or run on a terminal to be asked"},
		{Source{What: "CA password"}, "run on a terminal to be asked"},
	} {
		e := &MissingError{Src: tc.src}
		if got := e.HintText(); got != tc.want {
			t.Errorf("HintText() = %q, want %q", got, tc.want)
		}
		if got := e.Error(); got != "no "+tc.src.What+" given" {
			t.Errorf("Error() = %q", got)
		}
	}
}

func TestPasswordFile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     string
		mode     os.FileMode
		want     string
		wantErr  string
		wantWarn string
	}{
		{name: "newline", data: "s3cret\n", want: "s3cret"},
		{name: "no newline", data: "s3cret", want: "s3cret"},
		{name: "CRLF", data: "s3cret\r\n", want: "s3cret"},
		{name: "UTF-8 byte-order mark (Notepad, PowerShell 5.1)", data: "\xef\xbb\xbfs3cret\r\n", want: "s3cret"},
		{name: "first line only", data: "s3cret\nsecond line\n", want: "s3cret"},
		{name: "first line only CRLF", data: "s3cret\r\nsecond\r\n", want: "s3cret"},
		{name: "spaces kept", data: " s3 cret \n", want: " s3 cret "},
		{name: "lone CR inside kept", data: "a\rb\n", want: "a\rb"},
		{name: "empty", data: "", wantErr: "bundle password file %s is empty"},
		{name: "only newline", data: "\n", wantErr: "is empty"},
		{name: "only CRLF", data: "\r\n", wantErr: "is empty"},
		{name: "empty first line", data: "\nsecond\n", wantErr: "is empty"},
		{name: "64 KiB", data: "pw\n" + strings.Repeat("x", 64<<10-3), want: "pw"},
		{name: "over 64 KiB", data: strings.Repeat("x", 64<<10+1), wantErr: "is larger than 64 KiB"},
		{name: "world-readable warns", data: "pw\n", mode: 0o644, want: "pw", wantWarn: "can be read by other users (mode 0644); run chmod 600"},
		{name: "group-readable warns", data: "pw\n", mode: 0o640, want: "pw", wantWarn: "(mode 0640)"},
		{name: "owner-only silent", data: "pw\n", mode: 0o600, want: "pw"},
		{name: "read-only owner silent", data: "pw\n", mode: 0o400, want: "pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mode := tc.mode
			if mode == 0 {
				mode = 0o600
			}
			p := writeFile(t, "pw.txt", tc.data, mode)
			var warnings []string
			src := Source{What: "bundle password", File: p, Env: "CERTMINT_TEST_UNSET_" + t.Name(),
				Warn: func(s string) { warnings = append(warnings, s) }}
			got, err := src.Resolve()
			if tc.wantErr != "" {
				want := tc.wantErr
				if strings.Contains(want, "%s") {
					want = strings.Replace(want, "%s", p, 1)
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Resolve() = %q, %v; want error %q", got, err, want)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve() = %q, %v; want %q", got, err, tc.want)
			}
			if runtime.GOOS == "windows" {
				return // no Unix permissions to warn about
			}
			if tc.wantWarn == "" {
				if len(warnings) > 0 {
					t.Errorf("unexpected warnings %q", warnings)
				}
			} else if len(warnings) != 1 || !strings.Contains(warnings[0], tc.wantWarn) || !strings.Contains(warnings[0], p) {
				t.Errorf("warnings = %q, want one naming the file and %q", warnings, tc.wantWarn)
			}
		})
	}
}

func TestPasswordFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		path    string
		wantErr string
	}{
		{name: "missing", path: filepath.Join(dir, "absent"), wantErr: "reading CA password file: open "},
		{name: "folder", path: dir, wantErr: "CA password file " + dir + " is a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Source{What: "CA password", File: tc.path}.Resolve()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Resolve() = %q, %v; want error %q", got, err, tc.wantErr)
			}
		})
	}
	// A missing file is an error even when the environment has a password:
	// the user asked for the file.
	t.Setenv("CERTMINT_TEST_SECRET2", "env-pw")
	if _, err := (Source{What: "CA password", File: filepath.Join(dir, "absent"), Env: "CERTMINT_TEST_SECRET2"}).Resolve(); err == nil {
		t.Error("a missing password file fell back to the environment")
	}
	// A nil Warn is fine.
	p := writeFile(t, "loose", "pw\n", 0o644)
	if got, err := (Source{What: "x", File: p}).Resolve(); err != nil || got != "pw" {
		t.Errorf("Resolve() with nil Warn = %q, %v", got, err)
	}
}

func TestReadLine(t *testing.T) {
	prompt := ReadLine(strings.NewReader("first\r\nsecond\nlast"))
	for _, want := range []string{"first", "second", "last"} {
		got, err := prompt("ignored: ")
		if err != nil || got != want {
			t.Fatalf("ReadLine() = %q, %v; want %q", got, err, want)
		}
	}
	if got, err := prompt("x"); err == nil {
		t.Errorf("ReadLine at EOF = %q, nil; want an error", got)
	}
	// ReadLine as Resolve's Prompt, confirming.
	got, err := Source{What: "pw", Confirm: true, Prompt: ReadLine(strings.NewReader("a b\na b\n"))}.Resolve()
	if err != nil || got != "a b" {
		t.Errorf("Resolve with ReadLine = %q, %v", got, err)
	}
}

func TestRandom(t *testing.T) {
	for _, n := range []int{0, 1, 24, 100} {
		pw, err := Random(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != n {
			t.Errorf("Random(%d) has length %d", n, len(pw))
		}
		for _, c := range pw {
			if !strings.ContainsRune(passwordAlphabet, c) {
				t.Errorf("Random(%d) = %q contains %q, outside the alphabet", n, pw, c)
			}
		}
	}
	for _, c := range "0O1lI" {
		if strings.ContainsRune(passwordAlphabet, c) {
			t.Errorf("the alphabet holds the easily confused %q", c)
		}
	}
	a, _ := Random(24)
	b, _ := Random(24)
	if a == b {
		t.Errorf("two calls gave the same password %q", a)
	}
	// Over many characters every symbol shows up: the draw is not biased
	// towards part of the alphabet.
	big, _ := Random(20000)
	for _, c := range passwordAlphabet {
		if !strings.ContainsRune(big, c) {
			t.Errorf("%q never drawn in 20000 characters", c)
		}
	}
}

// MinLength warns about a short password from every source and still
// returns it; the minimum is the caller's.
func TestResolveMinLength(t *testing.T) {
	const env = "CERTMINT_TEST_SHORT"
	for _, tc := range []struct {
		name     string
		src      Source
		env      string
		want     string
		wantWarn []string // every warning, in order; nil for none
	}{
		{name: "short from the environment", src: Source{What: "CA password", Env: env, MinLength: 12}, env: "p",
			want: "p", wantWarn: []string{"the CA password has only 1 character; it is used, but one of at least 12 is much harder to guess"}},
		{name: "eleven characters", src: Source{What: "CA password", Env: env, MinLength: 12}, env: "abcdefghijk",
			want: "abcdefghijk", wantWarn: []string{"has only 11 characters", "at least 12"}},
		{name: "twelve characters", src: Source{What: "CA password", Env: env, MinLength: 12}, env: "abcdefghijkl", want: "abcdefghijkl"},
		{name: "characters, not bytes", src: Source{What: "CA password", Env: env, MinLength: 12}, env: "ééééééééééé",
			want: "ééééééééééé", wantWarn: []string{"has only 11 characters"}},
		{name: "vendor example on argv", src: Source{What: "bundle password", Value: "123456", MinLength: 8}, want: "123456",
			wantWarn: []string{"on the command line", "the bundle password has only 6 characters; it is used, but one of at least 8"}},
		{name: "typed and confirmed", src: Source{What: "bundle password", MinLength: 8, Confirm: true}, want: "1234567",
			wantWarn: []string{"has only 7 characters"}},
		{name: "no minimum", src: Source{What: "bundle password", Env: env}, env: "x", want: "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(env, tc.env)
			var warnings []string
			tc.src.Warn = func(m string) { warnings = append(warnings, m) }
			if tc.src.Value == "" && tc.env == "" {
				tc.src.Prompt, _ = prompts(tc.want, tc.want)
			}
			got, err := tc.src.Resolve()
			if err != nil || got != tc.want {
				t.Fatalf("Resolve() = %q, %v; want %q", got, err, tc.want)
			}
			all := strings.Join(warnings, "\n")
			if tc.wantWarn == nil && len(warnings) != 0 {
				t.Errorf("warnings %q, want none", warnings)
			}
			for _, w := range tc.wantWarn {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", warnings, w)
				}
			}
		})
	}
	if w := ShortWarning("bundle password", "12345678", 8); w != "" {
		t.Errorf("ShortWarning of 8 characters, minimum 8: %q", w)
	}
}
