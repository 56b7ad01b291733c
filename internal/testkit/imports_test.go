package testkit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// module is the path of certmint's own packages.
const module = "github.com/certmint/certmint"

// importGroup is where an import belongs: the standard library, other
// modules, then certmint's own, as `goimports -local github.com/certmint/certmint`
// arranges them.
func importGroup(path string) int {
	switch {
	case path == module || strings.HasPrefix(path, module+"/"):
		return 2
	case strings.Contains(strings.Split(path, "/")[0], "."):
		return 1
	}
	return 0
}

// repoRoot is the repository, from this package's folder.
var repoRoot = filepath.Join("..", "..")

// eachGoFile parses the imports of every Go file of the repository (the
// vendored third_party/ and testdata aside) and calls fn with its path
// relative to the root; it returns how many files it read.
func eachGoFile(t *testing.T, fn func(rel string, fset *token.FileSet, f *ast.File)) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != repoRoot && (name == "third_party" || name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		rel, _ := filepath.Rel(repoRoot, path)
		fn(rel, fset, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportGroups: in every Go file of the repository (the vendored
// third_party/ aside), imports come in up to three blank-line separated
// groups, standard library, other modules, certmint's own, each sorted.
func TestImportGroups(t *testing.T) {
	checked := eachGoFile(t, func(path string, fset *token.FileSet, f *ast.File) {
		type spec struct {
			path  string
			line  int
			group int
		}
		var specs []spec
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			specs = append(specs, spec{p, fset.Position(is.Pos()).Line, importGroup(p)})
		}
		// Specs of one group sit on consecutive lines (comments aside);
		// a blank line separates groups, and groups come in order.
		for i := 1; i < len(specs); i++ {
			a, b := specs[i-1], specs[i]
			switch {
			case b.group < a.group:
				t.Errorf("%s:%d: %q comes after %q, of a later group (standard library, other modules, certmint)", path, b.line, b.path, a.path)
			case b.group > a.group && b.line == a.line+1:
				t.Errorf("%s:%d: %q starts a new group without a blank line before it", path, b.line, b.path)
			case b.group == a.group && b.line > a.line+1 && !commentsBetween(filepath.Join(repoRoot, path), a.line, b.line):
				t.Errorf("%s:%d: %q is split from %q, of the same group, by a blank line", path, b.line, b.path, a.path)
			case b.group == a.group && !sort.StringsAreSorted([]string{a.path, b.path}):
				t.Errorf("%s:%d: %q is not sorted after %q", path, b.line, b.path, a.path)
			}
		}
	})
	if checked < 100 {
		t.Fatalf("only %d Go files checked: is the repository root %s?", checked, repoRoot)
	}
}

// commentsBetween reports whether the lines strictly between from and to
// hold only comments (a comment above an import belongs to it).
func commentsBetween(path string, from, to int) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	lines := strings.Split(string(data), "\n")
	for n := from + 1; n < to; n++ {
		if !strings.HasPrefix(strings.TrimSpace(lines[n-1]), "//") {
			return false
		}
	}
	return true
}

// TestImportGroupRules checks importGroup itself.
func TestImportGroupRules(t *testing.T) {
	for path, want := range map[string]int{
		"fmt": 0, "crypto/x509": 0, "golang.org/x/crypto/ocsp": 1, "github.com/urfave/cli/v2": 1,
		"github.com/certmint/certmint/ca": 2, "github.com/certmint/certmint": 2, "github.com/certmint/certmintx": 1,
	} {
		if got := importGroup(path); got != want {
			t.Errorf("importGroup(%q) = %d, want %d", path, got, want)
		}
	}
}

// TestOnlyStoreSeesSQLx: the storage package owns every SQL statement, so
// no other package's code imports sqlx (tests may, to reach past the store
// and break a row on purpose).
func TestOnlyStoreSeesSQLx(t *testing.T) {
	seen := 0
	eachGoFile(t, func(path string, _ *token.FileSet, f *ast.File) {
		if strings.HasSuffix(path, "_test.go") {
			return
		}
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			if !strings.HasPrefix(p, "github.com/jmoiron/sqlx") {
				continue
			}
			seen++
			if filepath.Dir(path) != "store" {
				t.Errorf("%s imports %s: only store/ may; add a method to store.DB instead", path, p)
			}
		}
	})
	if seen == 0 {
		t.Error("no file imports sqlx: the check looks in the wrong place")
	}
}
