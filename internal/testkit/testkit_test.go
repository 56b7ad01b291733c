package testkit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certmint/certmint/templates"
)

func TestECDSAClientTemplateParses(t *testing.T) {
	tm, err := templates.Parse("t.toml", []byte(ECDSAClientTemplate("t", "crt", "key", "pfx", "chain")))
	if err != nil {
		t.Fatal(err)
	}
	if tm.Key.Type != templates.ECDSA || len(tm.Output.Formats) != 4 || tm.Usage.ExtKeyUsage[0] != "clientAuth" {
		t.Errorf("template %+v", tm)
	}
}

func TestCopyDir(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "a"), 0o700)
	os.WriteFile(filepath.Join(src, "a", "key"), []byte("k"), 0o600)
	os.WriteFile(filepath.Join(src, "pub"), []byte("p"), 0o644)
	dst := filepath.Join(t.TempDir(), "copy")
	if err := CopyDir(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"a": 0o700, "a/key": 0o600, "pub": 0o644} {
		st, err := os.Stat(filepath.Join(dst, name))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want mode %v", name, st.Mode().Perm(), err, mode)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dst, "a", "key")); string(data) != "k" {
		t.Error("content not copied")
	}
}

func TestSparseFile(t *testing.T) {
	p := SparseFile(t, t.TempDir(), "huge", 100<<20)
	st, err := os.Stat(p)
	if err != nil || st.Size() != 100<<20 {
		t.Fatalf("size %v, err %v", st, err)
	}
}

func TestRequireToolFinds(t *testing.T) {
	// go runs this test, so go is in PATH.
	if p := RequireTool(t, "go"); filepath.Base(p) != "go" && filepath.Base(p) != "go.exe" {
		t.Errorf("RequireTool(go) = %q", p)
	}
}

func TestRSAKeyExponent3(t *testing.T) {
	k, err := RSAKeyExponent3()
	if err != nil {
		t.Fatal(err)
	}
	if k.E != 3 || k.N.BitLen() != 2048 {
		t.Errorf("E %d, %d bits", k.E, k.N.BitLen())
	}
}
