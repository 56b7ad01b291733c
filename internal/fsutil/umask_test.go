//go:build unix

package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileModes: the mode asked for is the mode on disk, whatever the
// umask (keys 0600 even under umask 000, certificates 0644 even under 077).
func TestWriteFileModes(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o077, 0o777} {
		for _, mode := range []fs.FileMode{ModePrivate, ModePublic, 0o640} {
			t.Run(fs.FileMode(umask).String()+"/"+mode.String(), func(t *testing.T) {
				dir := tempDir(t)
				old := syscall.Umask(umask)
				defer syscall.Umask(old)
				p := filepath.Join(dir, "f")
				if err := WriteFile(p, []byte("data"), mode, false); err != nil {
					t.Fatal(err)
				}
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != mode {
					t.Errorf("mode %v with umask %03o, want %v", st.Mode().Perm(), umask, mode)
				}
				// force replaces with the new mode too
				if err := WriteFile(p, []byte("new"), ModePrivate, true); err != nil {
					t.Fatal(err)
				}
				if st, _ := os.Stat(p); st.Mode().Perm() != ModePrivate {
					t.Errorf("after force: mode %v, want %v", st.Mode().Perm(), ModePrivate)
				}
			})
		}
	}
}
