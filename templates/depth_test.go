package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
)

// Absurdly nested or oversized templates are refused quickly, with the
// file and line, before the TOML decoder (quadratic in the nesting depth)
// sees them; wide but flat ones are decoded as usual.
func TestNestedTemplates(t *testing.T) {
	server, err := builtinFS.ReadFile("builtin/server.toml")
	if err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	tests := []struct {
		name string
		src  string
		want string // in the error; "" for no nesting error
	}{
		{"10,000 nested inline tables", "name = \"x\"\nx = " + strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n) + "\n", "x.toml:2: nested more than 32 levels"},
		{"10,000 nested table headers", "name = \"x\"\n\n[" + strings.Repeat("a.", n) + "a]\nb = 1\n", "x.toml:3: nested more than 32 levels"},
		{"10,000 nested arrays of tables", "name = \"x\"\n[[" + strings.Repeat("a.", n) + "a]]\n", "x.toml:2: nested more than 32 levels"},
		{"a dotted key of 10,000 parts", "name = \"x\"\n" + strings.Repeat("a.", n) + "a = 1\n", "x.toml:2: nested more than 32 levels"},
		{"100,000 nested arrays (200 KB)", "x = " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n", "x.toml:1: nested more than 32 levels"},
		{"nesting split over lines", "x = [\n" + strings.Repeat("[\n", 40) + strings.Repeat("]\n", 40) + "]\n", "x.toml:33: nested more than 32 levels"},
		{"a flat array of 200 KB", "x = [" + strings.Repeat("1,", 100_000) + "1]\n", ""},
		{"brackets, braces and dots in strings and comments",
			string(server) + "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ " + strings.Repeat(".", 100) + "\n" +
				"x = \"" + strings.Repeat("[{.", 100) + "\\\"" + strings.Repeat("[", 50) + "\"\n" +
				"y = '" + strings.Repeat("{", 100) + "'\n" +
				"z = \"\"\"\n" + strings.Repeat("[", 100) + "\n\"\"\"\"\n" +
				"w = '''\n" + strings.Repeat("a.", 100) + "'\n'''\n" +
				"v = 1.5\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.toml", []byte(tc.src))
			if err == nil {
				t.Fatal("accepted")
			}
			var e *Error
			var l ErrorList
			if !errors.As(err, &e) && !errors.As(err, &l) {
				t.Fatalf("error %T: %v", err, err)
			}
			if tc.want == "" {
				if strings.Contains(err.Error(), "nested more than") {
					t.Fatalf("refused as nested: %v", err)
				}
				return
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
			if len(err.Error()) > 500 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

// Every built-in and the good test template pass the nesting check.
func TestNestingOfGoodTemplates(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	for _, name := range BuiltinNames() {
		src, err := builtinFS.ReadFile("builtin/" + name + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		if err := checkNesting(name, src); err != nil {
			t.Errorf("built-in %s: %v", name, err)
		}
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkNesting(f, src); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A template file of 100 MB is refused from its first 256 KiB.
func TestOversizedTemplateFile(t *testing.T) {
	p := testkit.SparseFile(t, t.TempDir(), "huge.toml", 100<<20)
	_, err := LoadFile(p)
	if err == nil || !strings.Contains(err.Error(), "larger than 256 KiB") {
		t.Fatalf("error %v", err)
	}
}

// BenchmarkRefuseOversizedTemplate: refusing a 100 MB template costs what
// reading 256 KiB does (make bench prints it; no test asserts a time).
func BenchmarkRefuseOversizedTemplate(b *testing.B) {
	p := testkit.SparseFile(b, b.TempDir(), "huge.toml", 100<<20)
	for b.Loop() {
		if _, err := LoadFile(p); err == nil {
			b.Fatal("accepted")
		}
	}
}
