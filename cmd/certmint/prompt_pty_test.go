//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"software.sslmate.com/src/go-pkcs12"
)

// TestPromptsOnTerminal runs the built certmint on a pseudo-terminal, as a
// person at a keyboard would: Ctrl-C and Ctrl-D leave a password prompt at
// once (exit 130, or 1 with a message) with nothing written; the CA
// password is asked before the bundle password, and a typo in either is
// retyped instead of ending the run.
func TestPromptsOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; run without -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "certmint")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}

	const (
		ctrlC     = "\x03"
		ctrlD     = "\x04"
		enter     = "\r"
		bundlePW  = "bundle-pw-1234"
		caPrompt  = "CA password: "
		bpPrompt  = "Bundle password: "
		bpAgain   = "Bundle password again: "
		nothing   = "nothing was changed"
		wrongOnce = "does not decrypt"
	)
	type step struct{ expect, send string }
	issue := []string{"issue", "-t", "server", "--cn", "www.pty.test", "--out", "OUT", "--home", "HOME"}
	for _, tc := range []struct {
		name    string
		args    []string // OUT, HOME and CSV are replaced
		steps   []step
		code    int
		want    []string // in the terminal's output
		notWant []string
		issued  bool // the bundle is written, with bundlePW
	}{
		{name: "issue: Ctrl-C at the CA password", args: issue,
			steps: []step{{caPrompt, ctrlC}}, code: 130,
			want: []string{"certmint: interrupted at the CA password prompt; nothing was changed"}, notWant: []string{bpPrompt, "error"}},
		{name: "issue: Ctrl-C after typing part of it", args: issue,
			steps: []step{{caPrompt, "cli-test" + ctrlC}}, code: 130,
			want: []string{"interrupted at the CA password prompt"}},
		{name: "issue: Ctrl-D at the CA password", args: issue,
			steps: []step{{caPrompt, ctrlD}}, code: 1,
			want:    []string{"certmint: error: no CA password typed (Ctrl-D); nothing was changed", "hint: run the command again and type the CA password; to give it without a prompt, set CERTMINT_CA_PASSWORD, or use --ca-password-file FILE"},
			notWant: []string{bpPrompt}},
		{name: "issue: a wrong CA password is asked again, then Ctrl-C", args: issue,
			steps: []step{{caPrompt, "wrong" + enter}, {wrongOnce, ""}, {"type it again (2 more tries)", ""}, {caPrompt, ctrlC}}, code: 130,
			want: []string{"interrupted at the CA password prompt"}, notWant: []string{bpPrompt}},
		{name: "issue: three wrong CA passwords", args: issue,
			steps: []step{{caPrompt, "wrong1" + enter}, {caPrompt, "wrong2" + enter}, {"(1 more try)", ""}, {caPrompt, "wrong3" + enter}}, code: 1,
			want: []string{"(3 tries)", "hint: nothing was changed"}, notWant: []string{bpPrompt}},
		{name: "issue: the CA password first, then Ctrl-C at the bundle password", args: issue,
			steps: []step{{caPrompt, "wrong" + enter}, {caPrompt, caPW + enter}, {bpPrompt, ctrlC}}, code: 130,
			want: []string{"certmint: interrupted at the bundle password prompt; nothing was changed"}},
		{name: "issue: Ctrl-D at the bundle password confirmation", args: issue,
			steps: []step{{caPrompt, caPW + enter}, {bpPrompt, bundlePW + enter}, {bpAgain, ctrlD}}, code: 1,
			want: []string{"no bundle password typed (Ctrl-D)", "--password-file FILE or --random-password"}},
		{name: "issue: typos retyped, backspace and cursor keys", args: issue,
			steps: []step{
				{caPrompt, "typo" + enter},
				{caPrompt, caPW + "x\x7f" + enter},
				{bpPrompt, bundlePW + enter},
				{bpAgain, "bundle-pw-12" + enter},
				{"the two bundle passwords do not match; type it again (2 more tries)", ""},
				{bpPrompt, "wrong\x15" + bundlePW + enter}, // Ctrl-U erases "wrong"
				{bpAgain, bundlePW + "\x1b[D" + enter},     // a Left key is ignored
			},
			code: 0, issued: true, want: []string{"Issued server certificate \"www.pty.test\""}},
		{name: "init: Ctrl-C at the new CA password", args: []string{"init", "--home", "NEWHOME", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://pki.pty.test"},
			steps: []step{{caPrompt, ctrlC}}, code: 130,
			want: []string{"interrupted at the CA password prompt"}},
		{name: "init: Ctrl-D at the confirmation", args: []string{"init", "--home", "NEWHOME", "--root-cn", "R", "--issuing-cn", "I", "--base-url", "http://pki.pty.test"},
			steps: []step{{caPrompt, "a-new-ca-password" + enter}, {"CA password again: ", ctrlD}}, code: 1,
			want: []string{"no CA password typed (Ctrl-D)"}},
		{name: "batch: Ctrl-C at the CA password", args: []string{"batch", "-t", "server", "--input", "CSV", "--out", "OUT", "--home", "HOME"},
			steps: []step{{caPrompt, ctrlC}}, code: 130,
			want: []string{"interrupted at the CA password prompt"}, notWant: []string{bpPrompt}},
		{name: "batch: the CA password first, then Ctrl-D at the bundle password", args: []string{"batch", "-t", "server", "--input", "CSV", "--out", "OUT", "--home", "HOME"},
			steps: []step{{caPrompt, caPW + enter}, {bpPrompt, ctrlD}}, code: 1,
			want: []string{"no bundle password typed (Ctrl-D)", "--random-passwords"}},
		{name: "crl: Ctrl-C at the CA password", args: []string{"crl", "--home", "HOME"},
			steps: []step{{caPrompt, ctrlC}}, code: 130,
			want: []string{"interrupted at the CA password prompt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := newHome(t)
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if err := os.Mkdir(out, 0o700); err != nil {
				t.Fatal(err)
			}
			csv := writeFile(t, dir, "hosts.csv", "cn\nhost1.pty.test\nhost2.pty.test\n", 0o600)
			newHomeDir := filepath.Join(dir, "new-pki")
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = map[string]string{"OUT": out, "HOME": home, "CSV": csv, "NEWHOME": newHomeDir}[a]
				if args[i] == "" {
					args[i] = a
				}
			}
			before := homeState(t, home)

			term := startOnPTY(t, bin, args...)
			for _, s := range tc.steps {
				term.expect(s.expect)
				if s.send != "" {
					term.send(s.send)
				}
			}
			code := term.wait()
			shown := term.output()
			if code != tc.code {
				t.Fatalf("exit status %d, want %d; the terminal shows:\n%s", code, tc.code, shown)
			}
			for _, w := range tc.want {
				if !strings.Contains(shown, w) {
					t.Errorf("the terminal does not show %q:\n%s", w, shown)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(shown, w) {
					t.Errorf("the terminal shows %q:\n%s", w, shown)
				}
			}
			for _, secret := range []string{caPW, bundlePW} {
				if strings.Contains(shown, secret) {
					t.Errorf("a typed password was echoed:\n%s", shown)
				}
			}
			written, _ := os.ReadDir(out)
			if !tc.issued {
				if len(written) != 0 {
					t.Errorf("wrote %d files into --out after leaving the prompt", len(written))
				}
				if after := homeState(t, home); after != before {
					t.Errorf("the CA home changed after leaving the prompt:\nbefore %s\nafter  %s", before, after)
				}
				if _, err := os.Stat(newHomeDir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("init created %s after leaving the prompt (%v)", newHomeDir, err)
				}
				return
			}
			data, err := os.ReadFile(filepath.Join(out, "www.pty.test.pfx"))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := pkcs12.DecodeChain(data, bundlePW); err != nil {
				t.Errorf("the .pfx does not open with the password typed: %v", err)
			}
		})
	}
}

// homeState is what a command that changed nothing leaves as it was: the
// issued certificates and the audit trail, as the CLI lists them, and the
// files in public/.
func homeState(t *testing.T, home string) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"list", "--home", home, "--json"}, {"log", "--home", home, "--json"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		b.WriteString(stdout)
	}
	ents, err := os.ReadDir(filepath.Join(home, "public"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(e.Name() + " " + info.ModTime().String() + "\n")
	}
	return b.String()
}

// ptyProcess is certmint running on a pseudo-terminal.
type ptyProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // the output up to here has been matched
	done chan struct{}
}

// startOnPTY starts bin with args on a new pseudo-terminal (its stdin,
// stdout and stderr), without any CERTMINT_ variable from the test's
// environment, so every password is asked for.
func startOnPTY(t *testing.T, bin string, args ...string) *ptyProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TERM=dumb")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatalf("starting on a pseudo-terminal: %v", err)
	}
	p := &ptyProcess{t: t, cmd: cmd, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		chunk := make([]byte, 4096)
		for {
			n, err := tty.Read(chunk)
			p.mu.Lock()
			p.buf.Write(chunk[:n])
			p.mu.Unlock()
			if err != nil { // EIO once the process has exited
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		tty.Close()
	})
	return p
}

func (p *ptyProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// expect waits until the terminal shows want after what was matched before.
func (p *ptyProcess) expect(want string) {
	p.t.Helper()
	deadline := time.After(time.Minute)
	for {
		p.mu.Lock()
		i := strings.Index(p.buf.String()[p.seen:], want)
		if i >= 0 {
			p.seen += i + len(want)
		}
		p.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-p.done:
			if strings.Contains(p.output()[p.seen:], want) {
				continue
			}
			p.t.Fatalf("certmint ended before showing %q; the terminal shows:\n%s", want, p.output())
		case <-deadline:
			p.t.Fatalf("waited a minute for %q; the terminal shows:\n%s", want, p.output())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// send types keys.
func (p *ptyProcess) send(keys string) {
	p.t.Helper()
	if _, err := io.WriteString(p.tty, keys); err != nil {
		p.t.Fatalf("typing %q: %v", keys, err)
	}
}

// wait returns the exit status once the process has ended and its output
// has been read.
func (p *ptyProcess) wait() int {
	p.t.Helper()
	err := p.cmd.Wait()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("the terminal's output did not end")
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		p.t.Fatalf("waiting for certmint: %v", err)
	}
	return p.cmd.ProcessState.ExitCode()
}
