package templates

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .err files in testdata/bad")

func TestBuiltins(t *testing.T) {
	names := BuiltinNames()
	if len(names) == 0 {
		t.Fatal("BuiltinNames() is empty")
	}
	if !slices.IsSorted(names) {
		t.Errorf("BuiltinNames() = %q, not sorted", names)
	}
	all, err := Builtins()
	if err != nil {
		t.Fatalf("Builtins(): %v", err)
	}
	if len(all) != len(names) {
		t.Fatalf("Builtins() returned %d templates, BuiltinNames() %d names", len(all), len(names))
	}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			if all[i].Name != name {
				t.Errorf("Builtins()[%d].Name = %q, want %q (same order as BuiltinNames)", i, all[i].Name, name)
			}
			tp, err := Builtin(name)
			if err != nil {
				t.Fatalf("Builtin(%q): %v", name, err)
			}
			loaded, err := Load(name)
			if err != nil {
				t.Fatalf("Load(%q): %v", name, err)
			}
			for _, got := range []*Template{tp, loaded, all[i]} {
				if got.Name != name {
					t.Errorf("name = %q, want %q (its file name)", got.Name, name)
				}
				if want := "builtin:" + name + ".toml"; got.File() != want {
					t.Errorf("File() = %q, want %q", got.File(), want)
				}
				if !got.Builtin() {
					t.Error("Builtin() = false for a built-in template")
				}
			}
			if len(tp.Cite) > 0 && tp.SourceTitle() == "" {
				t.Error("source is empty: a built-in that cites a document names it")
			}
			if strings.TrimSpace(tp.Description) == "" {
				t.Error("description is empty")
			}
			if !bytes.Contains(tp.Text(), []byte(`name = "`+name+`"`)) {
				t.Error("Text() is not the template as written")
			}
			if tp.Example.CN == "" {
				t.Fatal("no [example] cn")
			}
			subj, sans := tp.ExampleRequest()
			if subj.CommonName != tp.Example.CN {
				t.Errorf("ExampleRequest CN = %q, want %q", subj.CommonName, tp.Example.CN)
			}
			if errs := tp.CheckRequest(subj, tp.ResolveSANs(subj.CommonName, sans)); len(errs) > 0 {
				t.Errorf("CheckRequest refuses the template's own example: %v", errs[0])
			}
			if tp.DefaultValidity() <= 0 {
				t.Errorf("DefaultValidity() = %v", tp.DefaultValidity())
			}
			for _, f := range tp.Output.Formats {
				if !tp.HasFormat(f) {
					t.Errorf("HasFormat(%q) = false", f)
				}
			}
			for rule := range tp.Cite {
				if got := tp.Rule(rule); got.Level != Requirement || len(got.Quotes) == 0 {
					t.Errorf("Rule(%q) = %+v, want a requirement with its quotes", rule, got)
				}
			}
			if got := tp.Rule("usage.no_such_rule"); got.Level != Advice || len(got.Quotes) != 0 {
				t.Errorf("Rule of an uncited rule = %+v, want advice without quotes", got)
			}
			for _, e := range tp.Lint.Exempt {
				if !tp.LintExempt(e.Name) {
					t.Errorf("LintExempt(%q) = false", e.Name)
				}
			}
			if tp.LintExempt("e_no_such_lint") {
				t.Error("LintExempt of an unlisted lint = true")
			}
			if !strings.HasPrefix(tp.Describe(), name) {
				t.Errorf("Describe() = %q, want it to start with the name", tp.Describe())
			}
			// The text re-parses to the same template.
			again, err := Parse(tp.File(), tp.Text())
			if err != nil {
				t.Fatalf("re-parsing Text(): %v", err)
			}
			if !reflect.DeepEqual(again, tp) {
				t.Errorf("re-parsing Text() gives a different template")
			}
		})
	}
}

func TestBuiltinNameMustMatchFile(t *testing.T) {
	src, err := builtinFS.ReadFile("builtin/" + BuiltinNames()[0] + ".toml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("builtin:renamed.toml", src)
	var e *Error
	if !errors.As(err, &e) || e.Key != "name" || !strings.Contains(e.Msg, "must match its file name") {
		t.Fatalf("Parse of a built-in under another file name: err = %v, want a name error", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join("testdata", "good.toml"))
	if err != nil {
		t.Fatal(err)
	}
	upper := filepath.Join(dir, "Mine.TOML")
	if err := os.WriteFile(upper, good, 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.toml")
	if err := os.WriteFile(huge, append(bytes.Repeat([]byte("# padding\n"), 30<<10), good...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		arg      string
		wantName string // "" when an error is expected
		wantErr  string
		notFound bool
	}{
		{name: "user file", arg: "testdata/good.toml", wantName: "good"},
		{name: "suffix case-insensitive", arg: upper, wantName: "good"},
		{name: "builtin", arg: "server", wantName: "server"},
		{name: "unknown name", arg: "nope", notFound: true, wantErr: `templates: no built-in template "nope"`},
		{name: "builtin with .toml is a path", arg: "server.toml", wantErr: "no such file"},
		{name: "path without .toml is a name", arg: "testdata/good", notFound: true},
		{name: "no path traversal", arg: "../builtin/server", notFound: true},
		{name: "missing file", arg: filepath.Join(dir, "absent.toml"), wantErr: "absent.toml: no such file"},
		{name: "folder", arg: func() string { p := filepath.Join(dir, "d.toml"); os.Mkdir(p, 0o755); return p }(), wantErr: "d.toml"},
		{name: "too large", arg: huge, wantErr: "larger than 256 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := Load(tc.arg)
			if tc.wantName != "" {
				if err != nil {
					t.Fatalf("Load(%q): %v", tc.arg, err)
				}
				if tp.Name != tc.wantName {
					t.Errorf("Load(%q).Name = %q, want %q", tc.arg, tp.Name, tc.wantName)
				}
				if tp.Builtin() != !strings.HasSuffix(strings.ToLower(tc.arg), ".toml") {
					t.Errorf("Load(%q).Builtin() = %v", tc.arg, tp.Builtin())
				}
				return
			}
			if err == nil {
				t.Fatalf("Load(%q) succeeded, want an error", tc.arg)
			}
			var nf *NotFoundError
			if got := errors.As(err, &nf); got != tc.notFound {
				t.Errorf("Load(%q) error %T is NotFoundError: %v, want %v", tc.arg, err, got, tc.notFound)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Load(%q) = %q, want it to contain %q", tc.arg, err, tc.wantErr)
			}
		})
	}
}

// TestBadTemplates loads every testdata/bad/NAME.toml, each a valid minimal
// template (testdata/good.toml) with one mistake, and compares the whole
// error text with NAME.err. Regenerate with -update and review the diff.
func TestBadTemplates(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("only %d bad templates in testdata/bad", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			rel := "testdata/bad/" + name + ".toml" // slash form on every OS
			_, err := LoadFile(rel)
			if err == nil {
				t.Fatalf("LoadFile(%s) succeeded", rel)
			}
			var list []*Error
			var one *Error
			var el ErrorList
			switch {
			case errors.As(err, &one):
				list = []*Error{one}
			case errors.As(err, &el):
				list = el
			default:
				t.Fatalf("error is %T, want *Error or ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.File != rel {
					t.Errorf("error names file %q, want %q", e.File, rel)
				}
				// A key that is missing altogether has no line of its own
				// (only its table's, when the table is there).
				if e.Line <= 0 && !strings.HasPrefix(e.Msg, "missing") {
					t.Errorf("error has no line: %v", e)
				}
				if e.Key == "" {
					t.Errorf("error names no key: %v", e)
				}
				if e.Msg == "" || strings.HasSuffix(e.Msg, ".") {
					t.Errorf("message %q is empty or ends with a period", e.Msg)
				}
			}
			got := err.Error() + "\n"
			golden := filepath.Join("testdata", "bad", name+".err")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./templates -run TestBadTemplates -update)", err)
			}
			if got != string(want) {
				t.Errorf("error text differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
	// Every golden file has its template.
	errs, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.err"))
	for _, e := range errs {
		if _, err := os.Stat(strings.TrimSuffix(e, ".err") + ".toml"); err != nil {
			t.Errorf("%s has no template beside it", e)
		}
	}
}
