package secret

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// ErrInterrupted is what a Prompt returns when the user pressed Ctrl-C.
// A Prompt returns io.EOF for Ctrl-D or the end of its input.
var ErrInterrupted = errors.New("interrupted")

// PromptError is a password prompt the user left with Ctrl-C
// (Interrupted) or Ctrl-D: the command stops there, before it has changed
// anything.
type PromptError struct {
	Src         Source
	Interrupted bool
}

func (e *PromptError) Error() string {
	if e.Interrupted {
		return fmt.Sprintf("interrupted at the %s prompt; nothing was changed", e.Src.What)
	}
	return fmt.Sprintf("no %s typed (Ctrl-D); nothing was changed", e.Src.What)
}

// HintText says how to give the password without a prompt; there is none
// for Ctrl-C, which the user pressed to stop.
func (e *PromptError) HintText() string {
	if e.Interrupted {
		return ""
	}
	var ways []string
	if e.Src.Env != "" {
		ways = append(ways, "set "+e.Src.Env)
	}
	if e.Src.Alternatives != "" {
		ways = append(ways, "use "+e.Src.Alternatives)
	}
	hint := "run the command again and type the " + e.Src.What
	if len(ways) > 0 {
		hint += "; to give it without a prompt, " + strings.Join(ways, ", or ")
	}
	return hint
}

// stdinKeys reads the terminal on standard input for every prompt of the
// process, so a CR LF split over two prompts is one Enter.
var stdinKeys = &keyReader{r: os.Stdin}

// terminalPrompt shows prompt on stderr (stdout stays clean for --json)
// and reads a password from the terminal on stdin, without echo.
//
// Hand-written, because golang.org/x/term's ReadPassword keeps the
// terminal's signal keys: Ctrl-C becomes a SIGINT that certmint's handler
// (there so a batch can finish the rows it signed) swallows, and the empty
// read of a Ctrl-D is read again, so only Enter left the prompt. Its
// Terminal.ReadPassword returns io.EOF for both keys, and Ctrl-C must exit
// 130. So the terminal is put in raw mode (x/term's MakeRaw, which leaves
// type-ahead in place) and the keys are read here, one byte at a time.
func terminalPrompt(prompt string) (string, error) {
	fd := int(os.Stdin.Fd())
	// Echo goes off before the prompt shows: what is typed as soon as it
	// appears must not be echoed by a terminal still in cooked mode.
	state, err := term.MakeRaw(fd)
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	fmt.Fprint(os.Stderr, prompt)
	pw, err := stdinKeys.readLine()
	// Raw mode also turns off the terminal's output processing: restore it
	// before printing the end of the line.
	term.Restore(fd, state)
	if errors.Is(err, ErrInterrupted) {
		fmt.Fprint(os.Stderr, "^C")
	}
	fmt.Fprintln(os.Stderr)
	switch {
	case err == nil, errors.Is(err, ErrInterrupted), errors.Is(err, io.EOF):
		return pw, err
	}
	return "", fmt.Errorf("reading password: %w", err)
}

// Keys a password prompt acts on; every other control key is ignored.
const (
	keyCtrlC     = 0x03
	keyCtrlD     = 0x04
	keyBackspace = 0x08
	keyCtrlU     = 0x15 // erase the line, as a terminal does
	keyEscape    = 0x1b
	keyDelete    = 0x7f // what Backspace sends on most terminals
)

// keyReader reads password lines from a terminal in raw mode.
type keyReader struct {
	r      io.Reader
	skipLF bool // the last line ended with CR: an LF right after it is the same Enter
}

// readLine returns the characters typed up to Enter (CR or LF). Ctrl-C
// returns ErrInterrupted; Ctrl-D and the end of the input return io.EOF.
// Backspace deletes the last character (a whole UTF-8 sequence) and
// Ctrl-U the whole line; an escape sequence (a cursor key) is skipped.
func (k *keyReader) readLine() (string, error) {
	var line []byte
	var buf [1]byte
	esc := 0 // 1 after ESC; 2 inside a CSI or SS3 sequence, up to its final byte
	for {
		n, err := k.r.Read(buf[:])
		if n == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				return "", io.EOF
			}
			return "", err
		}
		b := buf[0]
		skipLF := k.skipLF
		k.skipLF = false
		switch {
		case esc == 1:
			esc = 0
			if b == '[' || b == 'O' {
				esc = 2
			}
			continue
		case esc == 2:
			if b >= 0x40 && b <= 0x7e {
				esc = 0
			}
			continue
		}
		switch b {
		case '\n':
			if skipLF && len(line) == 0 {
				continue
			}
			return string(line), nil
		case '\r':
			k.skipLF = true
			return string(line), nil
		case keyCtrlC:
			return "", ErrInterrupted
		case keyCtrlD:
			return "", io.EOF
		case keyCtrlU:
			line = line[:0]
		case keyBackspace, keyDelete:
			_, size := utf8.DecodeLastRune(line)
			line = line[:len(line)-size]
		case keyEscape:
			esc = 1
		default:
			if b >= 0x20 {
				line = append(line, b)
			}
		}
	}
}
