package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/ca"
)

func TestCLIExportCA(t *testing.T) {
	home := newHome(t)
	out := t.TempDir()
	t.Setenv("CERTMINT_CA_PASSWORD", "") // no CA password is needed
	s, err := ca.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	root, issuing := s.Root, s.Issuing
	s.Close()

	code, stdout, stderr := runCLI(t, "export-ca", "--home", home, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, a := range []*ca.Authority{root, issuing} {
		// <slug>.cer: one base64 (PEM) certificate, nothing else (002).
		data, err := os.ReadFile(filepath.Join(out, a.Slug+".cer"))
		if err != nil {
			t.Fatal(err)
		}
		block, rest := pem.Decode(data)
		if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 || !bytes.Equal(block.Bytes, a.Cert.Raw) {
			t.Errorf("%s.cer is not exactly the CA certificate in PEM", a.Slug)
		}
		// <slug>.crt: DER.
		der, err := os.ReadFile(filepath.Join(out, a.Slug+".crt"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(der, a.Cert.Raw) {
			t.Errorf("%s.crt is not the DER certificate", a.Slug)
		}
		if !strings.Contains(stdout, a.Slug+".cer") {
			t.Errorf("output does not name %s.cer:\n%s", a.Slug, stdout)
		}
	}
	// ca-chain.pem: issuing CA, then root.
	data, err := os.ReadFile(filepath.Join(out, "ca-chain.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var chain []*x509.Certificate
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) != 2 || !chain[0].Equal(issuing.Cert) || !chain[1].Equal(root.Cert) {
		t.Errorf("ca-chain.pem is not issuing CA then root")
	}

	// Again: identical files are left alone, and that is not an error.
	code, stdout, stderr = runCLI(t, "export-ca", "--home", home, "--out", out, "--json")
	if code != 0 {
		t.Fatalf("second export: exit %d: %s", code, stderr)
	}
	var res struct {
		Files []struct {
			Path    string
			CA      string
			Written bool
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if len(res.Files) != 5 {
		t.Errorf("%d files, want 5", len(res.Files))
	}
	for _, f := range res.Files {
		if f.Written {
			t.Errorf("%s was rewritten although identical", f.Path)
		}
	}

	// A different file of the same name is kept without --force.
	writeFile(t, out, root.Slug+".cer", "mine", 0o644)
	before := snapshot(t, out)
	code, stdout, stderr = runCLI(t, "export-ca", "--home", home, "--out", out)
	if code != 1 || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "certmint: hint:") || stdout != "" {
		t.Errorf("over a different file: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if after := snapshot(t, out); after != before {
		t.Error("the refused export changed files")
	}
	if code, _, stderr := runCLI(t, "export-ca", "--home", home, "--out", out, "--force"); code != 0 {
		t.Errorf("--force: %s", stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(out, root.Slug+".cer")); string(data) == "mine" {
		t.Error("--force did not replace the file")
	}

	// Refusals.
	notDir := writeFile(t, t.TempDir(), "file", "x", 0o644)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"export-ca", "--home", filepath.Join(t.TempDir(), "none"), "--out", out}, 1, "no CA in"},
		{[]string{"export-ca", "--home", home, "--out", notDir}, 2, "is not a folder"},
		{[]string{"export-ca", "--home", home, "extra"}, 2, `unexpected argument "extra"`},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %s", tc.args, code, stderr)
		}
	}
}
