package fsutil

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// linkFixture is a root folder certmint owns and, beside it, a folder it
// does not own holding a victim file (standing in for the CA key or
// /etc/passwd) that no operation may change.
type linkFixture struct {
	base, root, outside, victim string
}

func newLinkFixture(t *testing.T) linkFixture {
	t.Helper()
	base := t.TempDir()
	fx := linkFixture{base: base, root: filepath.Join(base, "root"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{fx.root, filepath.Join(fx.root, "real"), fx.outside, filepath.Join(fx.outside, "dir")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fx.victim = filepath.Join(fx.outside, "victim")
	if err := os.WriteFile(fx.victim, []byte("the CA key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fx.outside, "dir", "f"), []byte("outside f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}

// state is every entry below dir with its type, mode and content hash.
func state(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			lines = append(lines, p+" "+err.Error())
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		line := fmt.Sprintf("%s %v", p, info.Mode())
		if info.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			sum := sha256.Sum256(data)
			line += " " + hex.EncodeToString(sum[:8])
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make symbolic links here: %v", err)
	}
}

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLinks runs every primitive against every kind of link. The decision
// it pins down: a link at the file itself is refused wherever it points,
// inside the root too (certmint never makes links, so one there was
// planted); a link at a folder on the way is followed when it resolves
// inside the root, relative or absolute, and refused when it leads out.
func TestLinks(t *testing.T) {
	situations := []struct {
		name string
		// setup prepares the fixture and returns the root to use and the
		// path operated on, which holds "old" unless it is refused.
		setup func(t *testing.T, fx linkFixture) (root, path string)
		link  string // the link the error names, relative to fx.base; "" when allowed
		out   bool   // the link is a folder leading out of the root
	}{
		{name: "no link", setup: func(t *testing.T, fx linkFixture) (string, string) {
			os.Mkdir(filepath.Join(fx.root, "sub"), 0o755)
			write(t, filepath.Join(fx.root, "sub", "f"), "old")
			return fx.root, filepath.Join(fx.root, "sub", "f")
		}},
		{name: "link at the file, out of the root", setup: func(t *testing.T, fx linkFixture) (string, string) {
			symlink(t, fx.victim, filepath.Join(fx.root, "f"))
			return fx.root, filepath.Join(fx.root, "f")
		}, link: "root/f"},
		{name: "relative link at the file, out of the root", setup: func(t *testing.T, fx linkFixture) (string, string) {
			symlink(t, filepath.Join("..", "outside", "victim"), filepath.Join(fx.root, "f"))
			return fx.root, filepath.Join(fx.root, "f")
		}, link: "root/f"},
		{name: "link at the file, inside the root", setup: func(t *testing.T, fx linkFixture) (string, string) {
			write(t, filepath.Join(fx.root, "real", "g"), "old")
			symlink(t, filepath.Join("real", "g"), filepath.Join(fx.root, "f"))
			return fx.root, filepath.Join(fx.root, "f")
		}, link: "root/f"},
		{name: "dangling link at the file", setup: func(t *testing.T, fx linkFixture) (string, string) {
			symlink(t, filepath.Join(fx.outside, "created"), filepath.Join(fx.root, "f"))
			return fx.root, filepath.Join(fx.root, "f")
		}, link: "root/f"},
		{name: "folder on the way links out of the root", setup: func(t *testing.T, fx linkFixture) (string, string) {
			symlink(t, filepath.Join(fx.outside, "dir"), filepath.Join(fx.root, "sub"))
			return fx.root, filepath.Join(fx.root, "sub", "f")
		}, link: "root/sub", out: true},
		{name: "folder on the way links out through a second link", setup: func(t *testing.T, fx linkFixture) (string, string) {
			symlink(t, filepath.Join(fx.outside, "dir"), filepath.Join(fx.root, "hop"))
			symlink(t, "hop", filepath.Join(fx.root, "sub"))
			return fx.root, filepath.Join(fx.root, "sub", "f")
		}, link: "root/sub", out: true},
		{name: "folder deeper on the way links out", setup: func(t *testing.T, fx linkFixture) (string, string) {
			symlink(t, filepath.Join("..", "..", "outside"), filepath.Join(fx.root, "real", "up"))
			return fx.root, filepath.Join(fx.root, "real", "up", "dir", "f")
		}, link: "root/real/up", out: true},
		{name: "folder on the way links inside the root (relative)", setup: func(t *testing.T, fx linkFixture) (string, string) {
			write(t, filepath.Join(fx.root, "real", "f"), "old")
			symlink(t, "real", filepath.Join(fx.root, "sub"))
			return fx.root, filepath.Join(fx.root, "sub", "f")
		}},
		{name: "folder on the way links inside the root (absolute)", setup: func(t *testing.T, fx linkFixture) (string, string) {
			write(t, filepath.Join(fx.root, "real", "f"), "old")
			symlink(t, filepath.Join(fx.root, "real"), filepath.Join(fx.root, "sub"))
			return fx.root, filepath.Join(fx.root, "sub", "f")
		}},
		{name: "the root itself is a link (the user chose it)", setup: func(t *testing.T, fx linkFixture) (string, string) {
			write(t, filepath.Join(fx.root, "f"), "old")
			symlink(t, fx.root, filepath.Join(fx.base, "rootlink"))
			return filepath.Join(fx.base, "rootlink"), filepath.Join(fx.base, "rootlink", "f")
		}},
	}
	ops := []struct {
		name string
		do   func(root, path string) error
		// after checks an allowed operation's effect on path.
		after func(t *testing.T, root, path string)
	}{
		{name: "Check", do: func(root, path string) error { return Check(root, path) },
			after: func(t *testing.T, root, path string) { wantContent(t, path, "old") }},
		{name: "WriteFileIn --force", do: func(root, path string) error {
			return WriteFileIn(root, path, []byte("new"), ModePrivate, true)
		}, after: func(t *testing.T, root, path string) { wantContent(t, path, "new") }},
		{name: "OpenAppend", do: func(root, path string) error {
			f, err := OpenAppend(root, path, 0o600)
			if err != nil {
				return err
			}
			_, err = f.WriteString("+more")
			return errors.Join(err, f.Close())
		}, after: func(t *testing.T, root, path string) { wantContent(t, path, "old+more") }},
		{name: "Chmod", do: func(root, path string) error { return Chmod(root, path, 0o600) },
			after: func(t *testing.T, root, path string) {
				if st, err := os.Stat(path); runtime.GOOS != "windows" && (err != nil || st.Mode().Perm() != 0o600) {
					t.Errorf("mode after Chmod: %v, %v", st, err)
				}
			}},
		{name: "Remove", do: func(root, path string) error { return Remove(root, path) },
			after: func(t *testing.T, root, path string) { wantGone(t, path) }},
		{name: "RemoveAll", do: func(root, path string) error { return RemoveAll(root, path) },
			after: func(t *testing.T, root, path string) { wantGone(t, path) }},
		{name: "Rename from", do: func(root, path string) error { return Rename(root, path, filepath.Join(root, "moved")) },
			after: func(t *testing.T, root, path string) {
				wantGone(t, path)
				wantContent(t, filepath.Join(root, "moved"), "old")
			}},
		{name: "Rename onto", do: func(root, path string) error {
			src := filepath.Join(root, "src")
			if err := os.WriteFile(src, []byte("renamed"), 0o644); err != nil {
				return err
			}
			return Rename(root, src, path)
		}, after: func(t *testing.T, root, path string) { wantContent(t, path, "renamed") }},
	}
	for _, sit := range situations {
		for _, op := range ops {
			t.Run(sit.name+"/"+op.name, func(t *testing.T) {
				fx := newLinkFixture(t)
				root, path := sit.setup(t, fx)
				before := state(t, fx.outside)
				err := op.do(root, path)
				if after := state(t, fx.outside); after != before {
					t.Errorf("the folder outside the root changed:\nbefore:\n%s\nafter:\n%s", before, after)
				}
				if sit.link == "" {
					if err != nil {
						t.Fatalf("%s: %v", op.name, err)
					}
					op.after(t, root, path)
					return
				}
				var le *LinkError
				if !errors.As(err, &le) {
					t.Fatalf("%s: err = %v, want *LinkError", op.name, err)
				}
				if want := filepath.Join(fx.base, sit.link); le.Path != want {
					t.Errorf("LinkError.Path = %s, want %s", le.Path, want)
				}
				if (le.Root != "") != sit.out {
					t.Errorf("LinkError.Root = %q; a folder leading out: %v", le.Root, sit.out)
				}
				for _, want := range []string{le.Path, "is a symbolic link", "certmint does not write through links"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("message %q lacks %q", err, want)
					}
				}
				if sit.out && !strings.Contains(err.Error(), "leading out of "+root) {
					t.Errorf("message %q does not say it leads out of %s", err, root)
				}
				if le.HintText() == "" {
					t.Error("no hint")
				}
				// The link is still there, untouched.
				if fi, err := os.Lstat(le.Path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
					t.Errorf("the link %s was removed or replaced: %v %v", le.Path, fi, err)
				}
			})
		}
	}
}

func wantContent(t *testing.T, p, want string) {
	t.Helper()
	if got, err := os.ReadFile(p); err != nil || string(got) != want {
		t.Errorf("%s holds %q (%v), want %q", p, got, err, want)
	}
}

func wantGone(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s is still there (%v)", p, err)
	}
}

// TestLinksAtomicWrites: the bundle writers refuse a link at a target, with
// or without force, and a row folder that is a link; nothing outside
// changes and no temporary file is left.
func TestLinksAtomicWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, fx linkFixture) string // returns the link
		write func(fx linkFixture) error
	}{
		{name: "WriteFile over a link", setup: linkAt("a.key"),
			write: func(fx linkFixture) error {
				return WriteFile(filepath.Join(fx.root, "a.key"), []byte("key"), ModePrivate, false)
			}},
		{name: "WriteFile --force over a link", setup: linkAt("a.key"),
			write: func(fx linkFixture) error {
				return WriteFile(filepath.Join(fx.root, "a.key"), []byte("key"), ModePrivate, true)
			}},
		{name: "CheckTargets with a link", setup: linkAt("a.crt"),
			write: func(fx linkFixture) error {
				return CheckTargets([]File{{Path: filepath.Join(fx.root, "a.key")}, {Path: filepath.Join(fx.root, "a.crt")}}, true)
			}},
		{name: "Stage of a shared file over a link with the same content", setup: func(t *testing.T, fx linkFixture) string {
			write(t, filepath.Join(fx.outside, "ca.crt"), "ca")
			symlink(t, filepath.Join(fx.outside, "ca.crt"), filepath.Join(fx.root, "ca.crt"))
			return filepath.Join(fx.root, "ca.crt")
		}, write: func(fx linkFixture) error {
			_, err := Stage([]File{{Path: filepath.Join(fx.root, "ca.crt"), Data: []byte("ca"), Shared: true}}, false)
			return err
		}},
		{name: "StageInFolder --force with a link", setup: linkAt("a.pfx"),
			write: func(fx linkFixture) error {
				_, err := StageInFolder(fx.root, []File{{Path: filepath.Join(fx.root, "a.crt")}, {Path: filepath.Join(fx.root, "a.pfx")}}, true)
				return err
			}},
		{name: "StageFolder into a linked row folder", setup: func(t *testing.T, fx linkFixture) string {
			symlink(t, filepath.Join(fx.outside, "dir"), filepath.Join(fx.root, "row"))
			return filepath.Join(fx.root, "row")
		}, write: func(fx linkFixture) error {
			// "f" is the only file there: a --force rerun would take the
			// folder for a torn attempt and replace it.
			_, err := StageFolder(filepath.Join(fx.root, "row"), []File{{Path: filepath.Join(fx.root, "row", "f"), Data: []byte("new")}}, true)
			return err
		}},
		{name: "StageFolder into a dangling linked row folder", setup: func(t *testing.T, fx linkFixture) string {
			symlink(t, filepath.Join(fx.outside, "nothing"), filepath.Join(fx.root, "row"))
			return filepath.Join(fx.root, "row")
		}, write: func(fx linkFixture) error {
			_, err := StageFolder(filepath.Join(fx.root, "row"), []File{{Path: filepath.Join(fx.root, "row", "f"), Data: []byte("new")}}, false)
			return err
		}},
		{name: "Commit after a link appeared at a target", setup: func(t *testing.T, fx linkFixture) string { return filepath.Join(fx.root, "a.key") },
			write: func(fx linkFixture) error {
				st, err := Stage([]File{{Path: filepath.Join(fx.root, "a.crt"), Data: []byte("crt")}, {Path: filepath.Join(fx.root, "a.key"), Data: []byte("key")}}, true)
				if err != nil {
					return err
				}
				if err := os.Symlink(fx.victim, filepath.Join(fx.root, "a.key")); err != nil {
					st.Abort()
					return err
				}
				return st.Commit()
			}},
		{name: "folder Commit after the row folder became a link", setup: func(t *testing.T, fx linkFixture) string { return filepath.Join(fx.root, "row") },
			write: func(fx linkFixture) error {
				sf, err := StageFolder(filepath.Join(fx.root, "row"), []File{{Path: filepath.Join(fx.root, "row", "f"), Data: []byte("new")}}, true)
				if err != nil {
					return err
				}
				if err := os.Symlink(filepath.Join(fx.outside, "dir"), filepath.Join(fx.root, "row")); err != nil {
					sf.Abort()
					return err
				}
				return sf.Commit()
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newLinkFixture(t)
			t.Cleanup(func() { noTemps(t, fx.base) })
			link := tc.setup(t, fx)
			before := state(t, fx.outside)
			err := tc.write(fx)
			var le *LinkError
			if !errors.As(err, &le) || le.Path != link {
				t.Fatalf("err = %v, want a *LinkError naming %s", err, link)
			}
			if after := state(t, fx.outside); after != before {
				t.Errorf("the folder outside the root changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("the link %s was removed or replaced", link)
			}
		})
	}
}

func linkAt(name string) func(t *testing.T, fx linkFixture) string {
	return func(t *testing.T, fx linkFixture) string {
		p := filepath.Join(fx.root, name)
		symlink(t, fx.victim, p)
		return p
	}
}

// TestOpenAppendNewFile: a missing file is created with the mode given and
// only regular files are opened.
func TestOpenAppendNewFile(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "passwords.csv")
	f, err := OpenAppend(root, p, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("a")
	f.Close()
	if f, err = OpenAppend(root, p, 0o600); err != nil {
		t.Fatal(err)
	}
	f.WriteString("b")
	f.Close()
	wantContent(t, p, "ab")
	if st, _ := os.Stat(p); runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		t.Errorf("mode %v: others can read it", st.Mode())
	}
	if _, err := OpenAppend(root, root, 0o600); err == nil || !strings.Contains(err.Error(), "is not inside") {
		t.Errorf("OpenAppend of the root itself: %v", err)
	}
	os.Mkdir(filepath.Join(root, "d"), 0o755)
	if _, err := OpenAppend(root, filepath.Join(root, "d"), 0o600); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("OpenAppend of a folder: %v", err)
	}
	if _, err := OpenAppend(root, filepath.Join(root, "..", "escape"), 0o600); err == nil {
		t.Error("OpenAppend of a path outside the root succeeded")
	}
}

// TestChmodRoot: the root itself may be chmodded, also through the link
// the user named it by (the CA home).
func TestChmodRoot(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits on Windows")
	}
	base := t.TempDir()
	home := filepath.Join(base, "home")
	os.Mkdir(home, 0o755)
	symlink(t, home, filepath.Join(base, "link"))
	if err := Chmod(filepath.Join(base, "link"), filepath.Join(base, "link"), 0o700); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(home); st.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", st.Mode().Perm())
	}
}

// fakeInfo is a FileInfo with a chosen mode, for the Windows branches.
type fakeInfo struct{ mode fs.FileMode }

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

// TestPlatformBranches pins the branches that differ by GOOS; built for
// windows and darwin too (GOOS=windows go vet ./internal/fsutil/).
func TestPlatformBranches(t *testing.T) {
	win := runtime.GOOS == "windows"
	caseless := win || runtime.GOOS == "darwin"
	for _, tc := range []struct {
		mode fs.FileMode
		want bool
	}{
		{fs.ModeSymlink, true},
		{0o644, false},
		{fs.ModeDir | 0o755, false},
		// A junction: Go reports reparse points other than symlinks as
		// ModeIrregular on Windows.
		{fs.ModeDir | fs.ModeIrregular, win},
		{fs.ModeIrregular, win},
	} {
		if got := isLink(fakeInfo{tc.mode}); got != tc.want {
			t.Errorf("isLink(%v) = %v, want %v", tc.mode, got, tc.want)
		}
	}
	sep := string(filepath.Separator)
	root := sep + "home" + sep + "pki"
	for _, tc := range []struct {
		p    string
		want bool
	}{
		{root, true},
		{root + sep + "public", true},
		{root + "2", false},
		{sep + "home", false},
		{sep + "Home" + sep + "PKI" + sep + "public", caseless},
	} {
		if got := within(root, tc.p); got != tc.want {
			t.Errorf("within(%s, %s) = %v, want %v", root, tc.p, got, tc.want)
		}
	}
}

// TestCheckPaths: Check looks at every path given, and the root itself is
// never refused (the user named it, link or not).
func TestCheckPaths(t *testing.T) {
	fx := newLinkFixture(t)
	symlink(t, fx.victim, filepath.Join(fx.root, "b"))
	symlink(t, fx.root, filepath.Join(fx.base, "rootlink"))
	rootLink := filepath.Join(fx.base, "rootlink")
	for _, tc := range []struct {
		name  string
		root  string
		paths []string
		link  string // named by the error; "" for none
	}{
		{"the root itself", fx.root, []string{fx.root}, ""},
		{"the root through its link", rootLink, []string{rootLink, filepath.Join(rootLink, "a")}, ""},
		{"nothing there yet", fx.root, []string{filepath.Join(fx.root, "a"), filepath.Join(fx.root, "new", "a")}, ""},
		{"the second of three", fx.root, []string{filepath.Join(fx.root, "a"), filepath.Join(fx.root, "b"), filepath.Join(fx.root, "c")}, filepath.Join(fx.root, "b")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.root, tc.paths...)
			var le *LinkError
			switch {
			case tc.link == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tc.link != "" && (!errors.As(err, &le) || le.Path != tc.link):
				t.Errorf("Check: %v, want a *LinkError naming %s", err, tc.link)
			}
		})
	}
	if err := Check(fx.root, fx.victim); err == nil || !strings.Contains(err.Error(), "is not inside") {
		t.Errorf("Check of a path outside the root: %v", err)
	}
}

func TestOwner(t *testing.T) {
	home := filepath.Join(string(filepath.Separator)+"srv", "pki")
	for _, tc := range []struct{ path, want string }{
		{home, home},
		{filepath.Join(home, "public", "ca.crl"), home},
		{filepath.Join(home, "issuing", "ca.key"), home},
		{filepath.Join(home+"2", "out", "a.key"), filepath.Join(home+"2", "out")},
		{filepath.Join(string(filepath.Separator)+"out", "batch", "passwords.csv"), filepath.Join(string(filepath.Separator)+"out", "batch")},
	} {
		if got := Owner(home, tc.path); got != tc.want {
			t.Errorf("Owner(%s, %s) = %s, want %s", home, tc.path, got, tc.want)
		}
	}
}
