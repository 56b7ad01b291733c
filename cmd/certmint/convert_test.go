package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// copyFixtures copies inspect's openssl-made fixtures into a new folder.
func copyFixtures(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		data, err := os.ReadFile(fixturePath(n))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, n, string(data), 0o600)
	}
	return dir
}

func TestCLIConvert(t *testing.T) {
	tests := []struct {
		name   string
		args   []string // "DIR/" is replaced by the folder
		env    map[string]string
		setup  func(t *testing.T, dir string)
		code   int
		stdout string
		stderr string
		hint   bool
		files  map[string]os.FileMode // written, with their modes
	}{
		{name: "pfx to pem (-nodes)", args: []string{"convert", "--in", "DIR/modern.pfx", "--to", "pem"}, env: map[string]string{"CERTMINT_PASSWORD": fixturePW},
			stdout: "modern.pem (3 certificates, private key)", files: map[string]os.FileMode{"modern.pem": 0o600}},
		{name: "openssl spelling", args: []string{"convert", "-in", "DIR/modern.pfx", "-to", "pem", "-nokeys", "-out", "DIR/certs.pem"}, env: map[string]string{"CERTMINT_PASSWORD": fixturePW},
			stdout: "certs.pem (3 certificates)", files: map[string]os.FileMode{"certs.pem": 0o644}},
		{name: "pfx to crt, key and chain", args: []string{"convert", "--in", "DIR/legacy-rc2.pfx", "--to", "crt", "--password-file", "DIR/pw"},
			stdout: "legacy-rc2-chain.pem", files: map[string]os.FileMode{"legacy-rc2.crt": 0o644, "legacy-rc2.key": 0o600, "legacy-rc2-chain.pem": 0o644}},
		{name: "crt key chain to legacy pfx", args: []string{"convert", "--in", "DIR/server.crt", "--key", "DIR/server.key", "--chain", "DIR/ca-chain.pem", "--to", "pfx", "--legacy", "--json"},
			env: map[string]string{"CERTMINT_PASSWORD": "new"}, stdout: `"mode":"-rw-------"`, files: map[string]os.FileMode{"server.pfx": 0o600}},
		{name: "cer to crt", args: []string{"convert", "--in", "DIR/server.cer", "--to", "crt", "--out", "DIR/copy.crt"}, files: map[string]os.FileMode{"copy.crt": 0o644}},
		{name: "a file in folders that do not exist", args: []string{"convert", "--in", "DIR/server.cer", "--to", "crt", "--out", "DIR/new/sub/copy.crt"},
			files: map[string]os.FileMode{"new": 0o700 | os.ModeDir, "new/sub": 0o700 | os.ModeDir, "new/sub/copy.crt": 0o644}},
		{name: "a refused conversion makes no folder", args: []string{"convert", "--in", "DIR/server.key", "--to", "pfx", "--out", "DIR/new/x.pfx"},
			env: map[string]string{"CERTMINT_PASSWORD": "new"}, code: 1, stderr: "holds no certificate", hint: true},
		{name: "missing --in", args: []string{"convert", "--to", "pem"}, code: 2, stderr: "--in is required"},
		{name: "unknown form", args: []string{"convert", "--in", "DIR/server.crt", "--to", "p7b"}, code: 2, stderr: `--to "p7b": unknown form`, hint: true},
		{name: "nokeys and nocerts", args: []string{"convert", "--in", "DIR/modern.pfx", "--to", "pem", "--nokeys", "--nocerts"}, code: 2, stderr: "leave nothing to write"},
		{name: "key without pfx", args: []string{"convert", "--in", "DIR/server.crt", "--to", "pem", "--key", "DIR/server.key"}, code: 2, stderr: "only apply to --to pfx"},
		{name: "existing output", args: []string{"convert", "--in", "DIR/server.crt", "--to", "crt"}, code: 1, stderr: "server.crt already exists", hint: true},
		{name: "key mismatch", args: []string{"convert", "--in", "DIR/client.crt", "--key", "DIR/server.key", "--to", "pfx"}, env: map[string]string{"CERTMINT_PASSWORD": "new"},
			code: 1, stderr: "does not belong to any certificate in", hint: true},
		{name: "wrong password", args: []string{"convert", "--in", "DIR/modern.pfx", "--to", "pem"}, env: map[string]string{"CERTMINT_PASSWORD": "nope"},
			code: 1, stderr: "the password does not open the PKCS#12 file", hint: true},
		{name: "no password", args: []string{"convert", "--in", "DIR/server.crt", "--key", "DIR/server.key", "--to", "pfx"}, code: 1, stderr: "no password for the new .pfx given", hint: true},
		{name: "two DER certificates", args: []string{"convert", "--in", "DIR/ca-chain.pem", "--to", "der"}, code: 1, stderr: "a DER file holds one certificate", hint: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixtures(t, "modern.pfx", "legacy-rc2.pfx", "server.crt", "server.cer", "server.key", "client.crt", "ca-chain.pem")
			writeFile(t, dir, "pw", fixturePW+"\n", 0o600)
			t.Setenv("CERTMINT_PASSWORD", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.Replace(a, "DIR/", dir+string(filepath.Separator), 1)
			}
			before := snapshot(t, dir)
			code, stdout, stderr := runCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout lacks %q or stderr lacks %q:\nstdout: %s\nstderr: %s", tc.stdout, tc.stderr, stdout, stderr)
			}
			if tc.code != 0 {
				if !strings.HasPrefix(stderr, "certmint: error: ") || stdout != "" {
					t.Errorf("want only an error:\nstdout: %s\nstderr: %s", stdout, stderr)
				}
				if tc.hint && !strings.Contains(stderr, "\ncertmint: hint: ") {
					t.Errorf("no hint:\n%s", stderr)
				}
				if after := snapshot(t, dir); after != before {
					t.Errorf("a refused conversion changed files:\n%s\n%s", before, after)
				}
				return
			}
			if strings.Contains(strings.Join(args, " "), "--json") {
				var v map[string]any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("stdout is not JSON: %v\n%s", err, stdout)
				}
			}
			for name, mode := range tc.files {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Error(err)
					continue
				}
				if runtime.GOOS != "windows" && (st.Mode().Perm() != mode.Perm() || st.IsDir() != mode.IsDir()) {
					t.Errorf("%s: mode %v, want %v", name, st.Mode(), mode)
				}
			}
			// Everything convert wrote is readable by inspect.
			for name, mode := range tc.files {
				if mode.IsDir() {
					continue
				}
				t.Setenv("CERTMINT_PASSWORD", "new")
				if code, _, stderr := runCLI(t, "inspect", filepath.Join(dir, name)); code != 0 {
					t.Errorf("inspect %s: %s", name, stderr)
				}
			}
		})
	}
}
