package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/keys"
)

// keyOf reads a PEM private key (unencrypted) and describes it.
func keyOf(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePEM(data, "")
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	spec, err := keys.Describe(k)
	if err != nil {
		t.Fatal(err)
	}
	return spec.String()
}

func TestCLIKeyChoice(t *testing.T) {
	home := newHome(t)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-pw")
	defender := []string{"--home", home, "-t", "defender-sensor", "--example"}
	for _, tc := range []struct {
		name    string
		args    []string
		key     string // the key file written
		want    string // its type; "" the command is refused with exit 2
		wantErr []string
	}{
		{name: "issue defender rsa:4096", args: append([]string{"issue", "--key", "rsa:4096"}, defender...), key: "Sensor.contoso.com.key", want: "rsa:4096"},
		{name: "issue defender rsa:3072", args: append([]string{"issue", "--key", "rsa:3072"}, defender...),
			wantErr: []string{`certmint: error: template "defender-sensor" accepts RSA 2048 or 4096 keys; --key rsa:3072 is not one of them`,
				"certmint: hint: use --key rsa:2048 or --key rsa:4096, or leave --key out for the template's rsa:2048"}},
		{name: "issue not a key", args: append([]string{"issue", "--key", "rsa:1024"}, defender...),
			wantErr: []string{`--key: key "rsa:1024": RSA size must be 2048, 3072 or 4096`, "certmint: hint:"}},
		{name: "issue server ecdsa:P-384", args: []string{"issue", "--home", home, "-t", "server", "--cn", "www.example.com", "--key", "ecdsa:P-384", "--format", "crt,key"},
			key: "www.example.com.key", want: "ecdsa:P-384"},
		{name: "csr server ecdsa:P-256", args: []string{"csr", "-t", "server", "--cn", "www.example.com", "--key", "ecdsa:P-256"}, key: "www.example.com.key", want: "ecdsa:P-256"},
		{name: "csr defender rsa:3072", args: []string{"csr", "-t", "defender-sensor", "--example", "--key", "rsa:3072"},
			wantErr: []string{"accepts RSA 2048 or 4096 keys; --key rsa:3072 is not one of them"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			before := snapshot(t, home, out)
			code, _, stderr := runCLI(t, append(tc.args, "--out", out)...)
			if tc.want == "" {
				if code != 2 {
					t.Errorf("exit %d, want 2: %s", code, stderr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, stderr)
					}
				}
				if after := snapshot(t, home, out); after != before {
					t.Errorf("a refused --key changed the home or wrote files:\n%s\n---\n%s", before, after)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := keyOf(t, filepath.Join(out, tc.key)); got != tc.want {
				t.Errorf("%s is %s, want %s", tc.key, got, tc.want)
			}
		})
	}
}

func TestCLIBatchKeyColumn(t *testing.T) {
	home := newHome(t)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	out := t.TempDir()
	csv := writeFile(t, t.TempDir(), "sensors.csv", "cn,c,o,ou,key\n"+
		"Sensor1.contoso.com,US,Contoso,Labs,rsa:4096\n"+
		"Sensor2.contoso.com,US,Contoso,Labs,\n"+
		"Sensor3.contoso.com,US,Contoso,Labs,rsa:3072\n", 0o644)
	code, _, stderr := runCLI(t, "batch", "--home", home, "-t", "defender-sensor", "--input", csv, "--out", out)
	if code != 1 || !strings.Contains(stderr, `line 4 (Sensor3.contoso.com): template "defender-sensor" accepts RSA 2048 or 4096 keys; key rsa:3072 is not one of them`) {
		t.Errorf("exit %d, want 1 with line 4 refused: %s", code, stderr)
	}
	for cn, want := range map[string]string{"Sensor1.contoso.com": "rsa:4096", "Sensor2.contoso.com": "rsa:2048"} {
		if got := keyOf(t, filepath.Join(out, cn, cn+".key")); got != want {
			t.Errorf("%s: %s key, want %s", cn, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "Sensor3.contoso.com")); err == nil {
		t.Error("the refused row has a folder")
	}
	// --key the template refuses: exit 2, nothing issued.
	out2 := t.TempDir()
	before := snapshot(t, home, out2)
	code, _, stderr = runCLI(t, "batch", "--home", home, "-t", "defender-sensor", "--input", csv, "--out", out2, "--key", "ecdsa:P-256")
	if code != 2 || !strings.Contains(stderr, "--key ecdsa:P-256 is not one of them") {
		t.Errorf("batch --key ecdsa:P-256: exit %d: %s", code, stderr)
	}
	if snapshot(t, home, out2) != before {
		t.Error("a refused batch --key changed the home or wrote files")
	}
}
