package fsutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStagingComplete: a staging folder counts as complete only once
// stage has written every file and given it its final mode; one a crash
// interrupted (still 0700) does not, nor does anything that is not a
// folder. doctor and batch never move an incomplete one into place.
func TestStagingComplete(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no modes: every staging folder counts as complete")
	}
	tests := []struct {
		name string
		make func(t *testing.T, parent string) string // returns the staging folder
		want bool
	}{
		{"StageInFolder", func(t *testing.T, parent string) string {
			sf, err := StageInFolder(parent, bundleFiles(parent, "x"), false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sf.Abort)
			return sf.tmp
		}, true},
		{"StageFolder", func(t *testing.T, parent string) string {
			dir := filepath.Join(parent, "row")
			sf, err := StageFolder(dir, bundleFiles(dir, "x"), false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sf.Abort)
			return sf.tmp
		}, true},
		{"interrupted: still 0700", func(t *testing.T, parent string) string {
			dir := filepath.Join(parent, TempNewFolder+"row-1")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dir, 0o700)
			return dir
		}, false},
		{"a file", func(t *testing.T, parent string) string {
			f := filepath.Join(parent, TempNewFolder+"row-2")
			os.WriteFile(f, nil, 0o644)
			return f
		}, false},
		{"absent", func(t *testing.T, parent string) string { return filepath.Join(parent, TempNewFolder+"row-3") }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.make(t, t.TempDir())
			if got := StagingComplete(dir); got != tc.want {
				t.Errorf("StagingComplete(%s) = %v, want %v", filepath.Base(dir), got, tc.want)
			}
		})
	}
}
