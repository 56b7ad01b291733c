package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/input"
)

// parsePackage parses the non-test Go files of a package folder (relative
// to the repository root).
func parsePackage(t *testing.T, dir string) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	root := filepath.Join("..", "..", dir)
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(root, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = f
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", root)
	}
	return fset, files
}

// flagRe finds a command-line flag in text: "--days", "`--force`", not
// the "--" inside a punycode label (xn--bcher) or a PEM line.
var flagRe = regexp.MustCompile(`(^|[^A-Za-z0-9_-])--[a-z][a-z-]*`)

// TestPackagesNameNoFlags is issue 13 item 3: the packages below the
// command line return typed errors and never name a CLI flag or read an
// environment variable; the CLI turns the inputs an error names
// (input.Ref) into flags. Each exception says why.
func TestPackagesNameNoFlags(t *testing.T) {
	type exception struct{ file, why string }
	for _, pkg := range []struct {
		dir        string
		exceptions []exception
	}{
		{"ca", nil},
		{"doctor", []exception{
			{"doctor.go", "each finding's hint is the command line that repairs it (`certmint revoke SERIAL --reason ...`): doctor is the layer just below cmd, and its report is read by people"},
		}},
		{"store", []exception{
			{"audit.go", "the audit trail's user: $USER or $USERNAME when os/user cannot tell, a fact about the process, not a setting"},
		}},
		{"templates", nil},
		{"convert", nil},
	} {
		t.Run(pkg.dir, func(t *testing.T) {
			fset, files := parsePackage(t, pkg.dir)
			for name, f := range files {
				excused := slices.ContainsFunc(pkg.exceptions, func(e exception) bool { return e.file == name })
				ast.Inspect(f, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.SelectorExpr:
						if id, ok := n.X.(*ast.Ident); ok && id.Name == "os" &&
							slices.Contains([]string{"Getenv", "LookupEnv", "Environ", "ExpandEnv"}, n.Sel.Name) && !excused {
							t.Errorf("%s: os.%s: package %s reads the environment; let the CLI pass the value in", fset.Position(n.Pos()), n.Sel.Name, pkg.dir)
						}
					case *ast.BasicLit:
						if n.Kind != token.STRING {
							return true
						}
						s, err := strconv.Unquote(n.Value)
						if err != nil {
							return true
						}
						if m := flagRe.FindString(s); m != "" && !excused {
							t.Errorf("%s: %q names the flag %s; name the input (internal/input) and let the CLI write it", fset.Position(n.Pos()), s, strings.TrimLeft(m, " `(\"'"))
						}
					}
					return true
				})
			}
			for _, e := range pkg.exceptions {
				if _, ok := files[e.file]; !ok {
					t.Logf("exception %s/%s no longer exists (%s): remove it", pkg.dir, e.file, e.why)
				}
			}
		})
	}
}

// TestErrorTableComplete: every exported error type of the packages whose
// errors reach the command line has a row in errorTable, so a new one
// cannot be forgotten (it would get exit 1 and no hint by default).
func TestErrorTableComplete(t *testing.T) {
	inTable := map[string]bool{}
	for _, k := range errorTable {
		typ := k.typ
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		inTable[typ.String()] = true // "ca.UsageError"
	}
	for _, dir := range []string{"ca", "store", "templates", "check", "convert", "crl", "san", "internal/fsutil",
		"internal/secret", "internal/pkifile", "inspect", "batch"} {
		_, files := parsePackage(t, dir)
		var pkgName string
		found := 0
		for _, f := range files {
			pkgName = f.Name.Name
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv == nil || fn.Name.Name != "Error" || fn.Type.Params.NumFields() != 0 {
					continue
				}
				if fn.Type.Results.NumFields() != 1 || types(fn.Type.Results) != "string" {
					continue
				}
				recv := fn.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				id, ok := recv.(*ast.Ident)
				if !ok || !id.IsExported() {
					continue
				}
				found++
				if name := pkgName + "." + id.Name; !inTable[name] {
					t.Errorf("%s (package %s) is not in errorTable (cmd/certmint/errors.go): give it an exit status and a hint", name, dir)
				}
			}
		}
		if found == 0 && dir != "internal/secret" && dir != "batch" {
			t.Logf("%s: no exported error types", dir)
		}
	}
}

// types writes a field list's types, for the one-result check above.
func types(fl *ast.FieldList) string {
	var out []string
	for _, f := range fl.List {
		if id, ok := f.Type.(*ast.Ident); ok {
			out = append(out, id.Name)
		}
	}
	return strings.Join(out, ",")
}

// TestInputFlagsComplete: every input the packages can name is written as
// a flag or variable the command line has, so no hint says "days" where
// the user must type --days.
func TestInputFlagsComplete(t *testing.T) {
	all := map[string]bool{}
	for _, c := range allCommands(newApp(nil, nil)) {
		for _, f := range c.cmd.Flags {
			for _, n := range f.Names() {
				all["--"+n] = true
			}
		}
	}
	for _, in := range input.Names {
		names, ok := inputFlags[in]
		if !ok {
			t.Errorf("input %q has no flag in inputFlags", in)
			continue
		}
		for _, n := range names {
			if strings.HasPrefix(n, "-") && !all[n] {
				t.Errorf("input %q is written %s, which no command defines", in, n)
			}
		}
	}
	// The flag a command has wins among alternatives.
	app := newApp(nil, nil)
	for _, tc := range []struct {
		cmd  []string
		in   input.Name
		want string
	}{
		{[]string{"issue"}, input.RandomPassword, "--random-password"},
		{[]string{"batch"}, input.RandomPassword, "--random-passwords"},
		{[]string{"init"}, input.DatabaseURL, "--database-url"},
		{[]string{"db", "migrate"}, input.DatabaseURL, "--to"},
		{[]string{"convert"}, input.KeyFile, "--key"},
	} {
		cmd := commandOf(app, append([]string{"certmint"}, tc.cmd...))
		if got := (namer{cmd}).name(tc.in); got != tc.want {
			t.Errorf("%v: %s is written %s, want %s", tc.cmd, tc.in, got, tc.want)
		}
	}
}
