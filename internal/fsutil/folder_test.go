package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func bundleFiles(dir, content string) []File {
	return []File{
		{Path: filepath.Join(dir, "a.crt"), Data: []byte("crt " + content), Mode: ModePublic},
		{Path: filepath.Join(dir, "a.key"), Data: []byte("key " + content), Mode: ModePrivate},
	}
}

func wantBundle(t *testing.T, dir, content string) {
	t.Helper()
	if got := readFile(t, filepath.Join(dir, "a.crt")); got != "crt "+content {
		t.Errorf("a.crt = %q, want %q", got, "crt "+content)
	}
	if got := readFile(t, filepath.Join(dir, "a.key")); got != "key "+content {
		t.Errorf("a.key = %q", got)
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(filepath.Join(dir, "a.key")); st.Mode().Perm() != ModePrivate {
			t.Errorf("a.key mode %v", st.Mode().Perm())
		}
	}
}

func TestStageFolder(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // dir does not exist yet
		force   bool
		wantErr bool   // from StageFolder
		kept    string // a file of another set that must survive
	}{
		{name: "absent folder"},
		{name: "empty folder", prepare: func(t *testing.T, dir string) { os.Mkdir(dir, 0o755) }},
		{name: "torn folder is replaced whole", force: true, prepare: func(t *testing.T, dir string) {
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "a.crt"), []byte("old"), 0o644)
			os.WriteFile(filepath.Join(dir, TempPrefix+"1"), []byte("half"), 0o600)
		}},
		{name: "folder with other files", prepare: func(t *testing.T, dir string) {
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
		}, kept: "notes.txt"},
		{name: "folder with other files, forced", force: true, prepare: func(t *testing.T, dir string) {
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
			os.WriteFile(filepath.Join(dir, "a.key"), []byte("old"), 0o600)
		}, kept: "notes.txt"},
		{name: "existing file without force", wantErr: true, prepare: func(t *testing.T, dir string) {
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "a.key"), []byte("old"), 0o600)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := tempDir(t)
			dir := filepath.Join(parent, "row")
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			st, err := StageFolder(dir, bundleFiles(dir, "new"), tc.force)
			if tc.wantErr {
				var ex *ExistsError
				if !errors.As(err, &ex) {
					t.Fatalf("StageFolder: %v, want ExistsError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Staged beside the folder, under the final names.
			staged, _ := filepath.Glob(filepath.Join(parent, TempNewFolder+"row-*", "a.key"))
			if len(staged) != 1 {
				t.Errorf("staged files: %v", staged)
			}
			if err := st.Commit(); err != nil {
				t.Fatal(err)
			}
			wantBundle(t, dir, "new")
			if tc.kept != "" {
				if got := readFile(t, filepath.Join(dir, tc.kept)); got != "mine" {
					t.Errorf("%s = %q", tc.kept, got)
				}
			}
			st.Abort() // harmless after Commit
		})
	}
}

func TestStageFolderAbort(t *testing.T) {
	parent := tempDir(t)
	dir := filepath.Join(parent, "row")
	st, err := StageFolder(dir, bundleFiles(dir, "x"), false)
	if err != nil {
		t.Fatal(err)
	}
	st.Abort()
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("left after Abort: %v", ents)
	}
	if err := st.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

func TestStageFolderRefusesStrayFiles(t *testing.T) {
	parent := tempDir(t)
	files := append(bundleFiles(filepath.Join(parent, "row"), "x"), File{Path: filepath.Join(parent, "elsewhere.crt")})
	if _, err := StageFolder(filepath.Join(parent, "row"), files, false); err == nil || !strings.Contains(err.Error(), "is not in") {
		t.Errorf("a file outside the folder: %v", err)
	}
	if _, err := StageInFolder(filepath.Join(parent, "row"), files, false); err == nil {
		t.Error("StageInFolder accepted a file outside the folder")
	}
}

func TestStageInFolder(t *testing.T) {
	dir := tempDir(t)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if runtime.GOOS != "windows" {
		os.Chmod(dir, 0o750)
	}
	st, err := StageInFolder(dir, bundleFiles(dir, "one"), false)
	if err != nil {
		t.Fatal(err)
	}
	if staged, _ := filepath.Glob(filepath.Join(dir, TempNewFolder+"a-*", "a.crt")); len(staged) != 1 {
		t.Errorf("not staged inside the folder: %v", staged)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.crt")); err == nil {
		t.Error("a.crt visible before Commit")
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	wantBundle(t, dir, "one")
	if info, _ := os.Stat(dir); runtime.GOOS != "windows" && info.Mode().Perm() != 0o750 {
		t.Errorf("the user's folder changed mode: %v", info.Mode().Perm())
	}
	// An existing target fails at Stage, before anything is recorded.
	var ex *ExistsError
	if _, err := StageInFolder(dir, bundleFiles(dir, "two"), false); !errors.As(err, &ex) {
		t.Errorf("second bundle without force: %v", err)
	}
	st, err = StageInFolder(dir, bundleFiles(dir, "two"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	wantBundle(t, dir, "two")
	if got := readFile(t, filepath.Join(dir, "notes.txt")); got != "mine" {
		t.Errorf("notes.txt = %q", got)
	}
}

// A target created after Stage is never replaced without force: Commit
// undoes what it placed.
func TestStageInFolderTargetAppears(t *testing.T) {
	dir := tempDir(t)
	st, err := StageInFolder(dir, bundleFiles(dir, "one"), false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a.key"), []byte("theirs"), 0o600)
	var ex *ExistsError
	if err := st.Commit(); !errors.As(err, &ex) {
		t.Fatalf("Commit: %v, want ExistsError", err)
	}
	if got := readFile(t, filepath.Join(dir, "a.key")); got != "theirs" {
		t.Errorf("a.key = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.crt")); err == nil {
		t.Error("a.crt left in place after a failed Commit")
	}
}

func TestTempLabel(t *testing.T) {
	long := strings.Repeat("é", 80) // 160 bytes
	got := tempLabel(long)
	if len(got) > 100 || !strings.HasPrefix(long, got) || strings.ToValidUTF8(got, "?") != got {
		t.Errorf("tempLabel cut %q badly: %q", long, got)
	}
}
