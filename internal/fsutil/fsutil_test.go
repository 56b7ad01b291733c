package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode"
)

// tempDir is t.TempDir with a check, at cleanup, that no temporary file of
// ours is left behind, whatever the test did.
func tempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { noTemps(t, dir) })
	return dir
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), TempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustWrite(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestWriteFile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, dir string) string // returns the target
		force    bool
		wantErr  string
		exists   bool   // want *ExistsError
		wantData string // content of the target afterwards; "" to skip
	}{
		{name: "new file", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "a.crt") }, wantData: "new"},
		{name: "empty data", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "empty") }},
		{name: "existing refused", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.crt")
			mustWrite(t, p, "old")
			return p
		}, exists: true, wantErr: "a.crt already exists", wantData: "old"},
		{name: "existing identical still refused", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.crt")
			mustWrite(t, p, "new")
			return p
		}, exists: true, wantData: "new"},
		{name: "existing replaced with force", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a.crt")
			mustWrite(t, p, "old")
			return p
		}, force: true, wantData: "new"},
		{name: "dangling symlink refused", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "link")
			if err := os.Symlink(filepath.Join(dir, "nowhere"), p); err != nil {
				t.Skip(err)
			}
			return p
		}, wantErr: "link is a symbolic link; certmint does not write through links"},
		{name: "missing folder", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "no", "a.crt") }, wantErr: "does not exist"},
		{name: "missing folder with force", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "no", "a.crt") }, force: true, wantErr: "does not exist"},
		{name: "parent is a file", setup: func(t *testing.T, dir string) string {
			mustWrite(t, filepath.Join(dir, "file"), "x")
			return filepath.Join(dir, "file", "a.crt")
		}, wantErr: "is not a folder"},
		{name: "target is a folder", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d")
			os.Mkdir(p, 0o755)
			return p
		}, wantErr: "is a folder, not a file"},
		{name: "target is a folder with force", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d")
			os.Mkdir(p, 0o755)
			return p
		}, force: true, wantErr: "is a folder, not a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tempDir(t)
			p := tc.setup(t, dir)
			data := "new"
			if tc.name == "empty data" {
				data = ""
			}
			err := WriteFile(p, []byte(data), ModePublic, tc.force)
			var ee *ExistsError
			if tc.exists != errors.As(err, &ee) {
				t.Fatalf("WriteFile: err = %v, want ExistsError: %v", err, tc.exists)
			}
			if tc.exists && ee.Path != p {
				t.Errorf("ExistsError.Path = %q, want %q", ee.Path, p)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("WriteFile: err = %v, want %q", err, tc.wantErr)
			}
			if !tc.exists && tc.wantErr == "" {
				if err != nil {
					t.Fatalf("WriteFile: %v", err)
				}
				if got := readFile(t, p); got != data {
					t.Errorf("content %q, want %q", got, data)
				}
			}
			if tc.wantData != "" {
				if got := readFile(t, p); got != tc.wantData {
					t.Errorf("content afterwards %q, want %q", got, tc.wantData)
				}
			}
		})
	}
}

func TestStageCommit(t *testing.T) {
	dir := tempDir(t)
	files := []File{
		{Path: filepath.Join(dir, "a.crt"), Data: []byte("cert"), Mode: ModePublic},
		{Path: filepath.Join(dir, "a.key"), Data: []byte("key"), Mode: ModePrivate},
	}
	st, err := Stage(files, false)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing visible before Commit, except temporary files.
	for _, f := range files {
		if exists(f.Path) {
			t.Errorf("%s exists before Commit", f.Path)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("%d entries staged, want 2 temporary files", len(ents))
	}
	for _, e := range ents {
		if !IsTemp(e.Name()) {
			t.Errorf("staged file %q is not recognised by IsTemp", e.Name())
		}
	}
	if got := st.Paths(); len(got) != 2 || got[0] != files[0].Path || got[1] != files[1].Path {
		t.Errorf("Paths() = %q", got)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if got := readFile(t, f.Path); got != string(f.Data) {
			t.Errorf("%s = %q, want %q", f.Path, got, f.Data)
		}
	}
	if err := st.Commit(); err == nil {
		t.Error("a second Commit succeeded")
	}
	st.Abort() // safe after Commit, and removes nothing
	for _, f := range files {
		if !exists(f.Path) {
			t.Errorf("Abort after Commit removed %s", f.Path)
		}
	}
}

func TestStageAllOrNothing(t *testing.T) {
	dir := tempDir(t)
	mustWrite(t, filepath.Join(dir, "b.key"), "old")
	_, err := Stage([]File{
		{Path: filepath.Join(dir, "b.crt"), Data: []byte("cert"), Mode: ModePublic},
		{Path: filepath.Join(dir, "b.key"), Data: []byte("key"), Mode: ModePrivate},
		{Path: filepath.Join(dir, "b.pfx"), Data: []byte("pfx"), Mode: ModePrivate},
	}, false)
	var ee *ExistsError
	if !errors.As(err, &ee) || ee.Path != filepath.Join(dir, "b.key") {
		t.Fatalf("Stage: err = %v, want ExistsError for b.key", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d entries after a refused Stage, want only b.key", len(ents))
	}
	if got := readFile(t, filepath.Join(dir, "b.key")); got != "old" {
		t.Errorf("b.key = %q, want the old content", got)
	}
}

func TestStageErrorInSecondFolderLeavesNoTemps(t *testing.T) {
	dir := tempDir(t)
	_, err := Stage([]File{
		{Path: filepath.Join(dir, "a.crt"), Data: []byte("cert"), Mode: ModePublic},
		{Path: filepath.Join(dir, "missing", "a.key"), Data: []byte("key"), Mode: ModePrivate},
	}, false)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Stage = %v, want a missing-folder error", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("folder not empty after a failed Stage: %v", ents)
	}
}

func TestStageWriteFailureLeavesNoTemps(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a folder the test cannot write in (not as root)")
	}
	dir := tempDir(t)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	_, err := Stage([]File{
		{Path: filepath.Join(dir, "a.crt"), Data: []byte("cert"), Mode: ModePublic},
		{Path: filepath.Join(ro, "a.key"), Data: []byte("key"), Mode: ModePrivate},
	}, false)
	if err == nil || !strings.Contains(err.Error(), "cannot write in") {
		t.Fatalf("Stage = %v, want a cannot-write error", err)
	}
	if exists(filepath.Join(dir, "a.crt")) {
		t.Error("a.crt written")
	}
}

func TestStageDuplicatePaths(t *testing.T) {
	dir := tempDir(t)
	_, err := Stage([]File{
		{Path: filepath.Join(dir, "a.crt"), Data: []byte("1")},
		{Path: dir + "/./a.crt", Data: []byte("2")},
	}, false)
	if err == nil || !strings.Contains(err.Error(), "both named") {
		t.Fatalf("Stage = %v, want a duplicate-name error", err)
	}
}

func TestAbort(t *testing.T) {
	dir := tempDir(t)
	st, err := Stage([]File{
		{Path: filepath.Join(dir, "a.crt"), Data: []byte("cert"), Mode: ModePublic},
		{Path: filepath.Join(dir, "a.key"), Data: []byte("key"), Mode: ModePrivate},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	st.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("folder not empty after Abort: %v", ents)
	}
	st.Abort() // twice is fine
	if err := st.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("Commit after Abort wrote: %v", ents)
	}
}

func TestCommitTargetAppearsMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		appear int // index of the file that appears between Stage and Commit
	}{
		{"first", 0},
		{"middle", 1},
		{"last", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tempDir(t)
			files := []File{
				{Path: filepath.Join(dir, "c.crt"), Data: []byte("cert"), Mode: ModePublic},
				{Path: filepath.Join(dir, "c.key"), Data: []byte("key"), Mode: ModePrivate},
				{Path: filepath.Join(dir, "c.pfx"), Data: []byte("pfx"), Mode: ModePrivate},
			}
			st, err := Stage(files, false)
			if err != nil {
				t.Fatal(err)
			}
			other := files[tc.appear].Path
			mustWrite(t, other, "someone else's")
			err = st.Commit()
			var ee *ExistsError
			if !errors.As(err, &ee) || ee.Path != other {
				t.Fatalf("Commit = %v, want ExistsError for %s", err, other)
			}
			if got := readFile(t, other); got != "someone else's" {
				t.Errorf("the file that appeared was replaced: %q", got)
			}
			for i, f := range files {
				if i != tc.appear && exists(f.Path) {
					t.Errorf("%s left in place after a failed Commit", f.Path)
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("folder holds %d entries, want only the file that appeared", len(ents))
			}
		})
	}
}

func TestCommitForceReplacesMeanwhile(t *testing.T) {
	dir := tempDir(t)
	p := filepath.Join(dir, "a.crt")
	st, err := Stage([]File{{Path: p, Data: []byte("ours"), Mode: ModePublic}}, true)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p, "theirs")
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != "ours" {
		t.Errorf("content %q, want ours", got)
	}
}

func TestShared(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing string // "" for none
		force    bool
		exists   bool // want *ExistsError
		want     string
	}{
		{name: "absent is written", want: "CA"},
		{name: "identical is skipped", existing: "CA", want: "CA"},
		{name: "different is refused", existing: "other CA", exists: true, want: "other CA"},
		{name: "different replaced with force", existing: "other CA", force: true, want: "CA"},
		{name: "same size different content refused", existing: "AC", exists: true, want: "AC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tempDir(t)
			ca := filepath.Join(dir, "issuing-ca.cer")
			var mtime int64
			if tc.existing != "" {
				mustWrite(t, ca, tc.existing)
				st, _ := os.Stat(ca)
				mtime = st.ModTime().UnixNano()
			}
			files := []File{
				{Path: filepath.Join(dir, "a.crt"), Data: []byte("cert"), Mode: ModePublic},
				{Path: ca, Data: []byte("CA"), Mode: ModePublic, Shared: true},
			}
			checkErr := CheckTargets(files, tc.force)
			st, err := Stage(files, tc.force)
			if err == nil {
				err = st.Commit()
			}
			var ee *ExistsError
			if tc.exists != errors.As(err, &ee) {
				t.Fatalf("Stage/Commit = %v, want ExistsError: %v", err, tc.exists)
			}
			if (checkErr == nil) != (err == nil) {
				t.Errorf("CheckTargets = %v but Stage/Commit = %v: they must agree", checkErr, err)
			}
			if got := readFile(t, ca); got != tc.want {
				t.Errorf("%s = %q, want %q", ca, got, tc.want)
			}
			if tc.exists {
				if exists(files[0].Path) {
					t.Error("a.crt written although the set was refused")
				}
				return
			}
			if got := readFile(t, files[0].Path); got != "cert" {
				t.Errorf("a.crt = %q", got)
			}
			if tc.existing == tc.want {
				if s, _ := os.Stat(ca); s.ModTime().UnixNano() != mtime {
					t.Error("an identical shared file was rewritten")
				}
				if paths := st.Paths(); len(paths) != 1 || paths[0] != files[0].Path {
					t.Errorf("Paths() = %q, want only a.crt", paths)
				}
			}
		})
	}
}

func TestCheckTargets(t *testing.T) {
	dir := tempDir(t)
	mustWrite(t, filepath.Join(dir, "old.crt"), "x")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, tc := range []struct {
		name    string
		files   []string
		shared  bool
		force   bool
		wantErr string // "" for none
		exists  bool
	}{
		{name: "all new", files: []string{"a.crt", "a.key"}},
		{name: "one exists", files: []string{"a.crt", "old.crt"}, wantErr: "old.crt already exists", exists: true},
		{name: "one exists with force", files: []string{"a.crt", "old.crt"}, force: true},
		{name: "missing folder", files: []string{"a.crt", "nope/a.key"}, wantErr: "does not exist"},
		{name: "target is a folder", files: []string{"sub"}, force: true, wantErr: "is a folder"},
		{name: "shared identical", files: []string{"old.crt"}, shared: true},
		{name: "shared missing folder", files: []string{"nope/ca.cer"}, shared: true, wantErr: "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var files []File
			for _, f := range tc.files {
				data := "new"
				if tc.shared {
					data = "x"
				}
				files = append(files, File{Path: filepath.Join(dir, f), Data: []byte(data), Shared: tc.shared})
			}
			err := CheckTargets(files, tc.force)
			var ee *ExistsError
			if errors.As(err, &ee) != tc.exists {
				t.Errorf("CheckTargets = %v, want ExistsError: %v", err, tc.exists)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("CheckTargets = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("CheckTargets wrote files: %v", ents)
	}
}

func TestSafeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"www.contoso.com", "www.contoso.com"},
		{"W701.ACME.LOCAL", "W701.ACME.LOCAL"},
		{"YSoft SafeQ", "YSoft SafeQ"},
		{"*.contoso.com", "wildcard.contoso.com"},
		{"a/b\\c", "a_b_c"},
		{`<>:"|?`, "______"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{"a\x00b\nc\x7f", "a_b_c_"},
		{"", "certificate"},
		{" ", "certificate"},
		{"...", "certificate"},
		{"..", "certificate"},
		{"name. . ", "name"},
		{" name", "name"},
		{"Zürich Büro", "Zürich Büro"},
		{"CON", "CON_"},
		{"con", "con_"},
		{"nul.contoso.com", "nul_.contoso.com"},
		{"Aux", "Aux_"},
		{"COM1", "COM1_"},
		{"lpt9.local", "lpt9_.local"},
		{"console", "console"},
		{"com10", "com10"},
		{"prn-server", "prn-server"},
		// Bidi and zero-width characters are dropped, so the name on disk
		// is the one ls and Explorer show.
		{"invoice\u202egnp.exe", "invoicegnp.exe"},
		{"a\u2066b\u2069c\u200e\u200f", "abc"},
		{"pay\u200bpal\u200c\u200d.com", "paypal.com"},
		{"\ufeffserver", "server"},
		{"ad\u00admin\u2060", "admin"},
		{"x\U000e0041y", "xy"},
		{"C\u200bON", "CON_"},
		{"\u200b", "certificate"},
		// Other invisible controls become '_'.
		{"a\u0085b\u009bc", "a_b_c"},
		{"a\u2028b\u2029", "a_b_"},
		{"a\xffb", "a_b"},
		// Never an option to the command that gets the file.
		{"-rf", "_-rf"},
		{"--help", "_--help"},
		{" -x", "_-x"},
		{"\u202e-x", "_-x"},
		{"a-b", "a-b"},
		{"Zoë", "Zoë"},
	} {
		got := SafeName(tc.in)
		if got != tc.want {
			t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if SafeName(got) != got {
			t.Errorf("SafeName is not idempotent on %q: %q", got, SafeName(got))
		}
		if strings.ContainsAny(got, `/\<>:"|?*`) || strings.HasSuffix(got, ".") || strings.HasSuffix(got, " ") || strings.HasPrefix(got, "-") {
			t.Errorf("SafeName(%q) = %q is not a portable file name", tc.in, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Errorf("SafeName(%q) = %q holds %U", tc.in, got, r)
			}
		}
	}
}

func TestIsTemp(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{TempPrefix + "123", true},
		{filepath.Join("some", "dir", TempPrefix+"abc"), true},
		{"a.crt", false},
		{"x" + TempPrefix, false},
		{filepath.Join(TempPrefix+"dir", "a.crt"), false},
		{".certmint", false},
	} {
		if got := IsTemp(tc.name); got != tc.want {
			t.Errorf("IsTemp(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
