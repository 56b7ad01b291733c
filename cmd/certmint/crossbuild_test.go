package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestCrossCompile builds certmint for the desktops its users have, with
// CGO disabled, so nothing platform-bound creeps in (the SafeQ and 1E
// administrators work on Windows and macOS).
func TestCrossCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compilation takes a minute on a cold cache; run without -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	targets := []struct{ goos, goarch string }{
		{"windows", "amd64"},
		{"darwin", "arm64"},
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	for _, tg := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, "certmint-"+tg.goos+"-"+tg.goarch)
			cmd := exec.Command(gobin, "build", "-trimpath", "-o", out, ".")
			cmd.Env = append(os.Environ(), "GOOS="+tg.goos, "GOARCH="+tg.goarch, "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s/%s: %v\n%s", tg.goos, tg.goarch, err, msg)
				return
			}
			if st, err := os.Stat(out); err != nil || st.Size() == 0 {
				t.Errorf("%s/%s: no binary (%v)", tg.goos, tg.goarch, err)
			}
		}()
	}
	wg.Wait()
}

// TestVersionStamp: `make release` stamps the version with -ldflags -X, and
// `certmint --version` prints it.
func TestVersionStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; run without -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out := filepath.Join(t.TempDir(), "certmint")
	cmd := exec.Command(gobin, "build", "-ldflags", "-X main.version=v9.8.7-test", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	got, err := exec.Command(out, "--version").Output()
	if err != nil || string(got) != "certmint version v9.8.7-test\n" {
		t.Errorf("--version printed %q (%v)", got, err)
	}
}
