package fsutil

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"
)

// Names of the temporary folders of StageFolder, beside the target folder:
// TempPrefix + "new-" + label + "-" + random holds a staged set, and
// TempPrefix + "old-" + label + "-" + random a replaced folder on its way
// out. `certmint doctor` tells them apart by these prefixes.
const (
	TempNewFolder = TempPrefix + "new-"
	TempOldFolder = TempPrefix + "old-"
)

// StagedFolder is a set of files staged in a temporary folder, waiting for
// Commit (moved into place) or Abort (removed). Until Commit has finished,
// the staging folder holds every file of the set that is not in place yet,
// under its final name, so `certmint doctor` can finish an interrupted
// Commit.
type StagedFolder struct {
	dir    string // the target folder
	tmp    string // the staging folder
	files  []File
	force  bool
	inside bool // tmp is inside dir, and dir is never replaced
	done   bool
	// base is the folder holding tmp (dir when inside, else dir's parent),
	// opened once: every rename and removal goes through it, so a folder
	// swapped for a link meanwhile is never written through. tmpName and
	// dirName are tmp and dir relative to it ("." for dir when inside).
	base             *os.Root
	tmpName, dirName string
}

// StageInFolder stages files that all belong in the existing folder dir
// into a new temporary folder inside it. Commit moves them in one at a
// time and never replaces dir itself: it is the user's folder (--out),
// with its own mode and other files. Targets are checked first, as Stage
// does.
func StageInFolder(dir string, files []File, force bool) (*StagedFolder, error) {
	dir = filepath.Clean(dir)
	if err := checkSet(dir, files); err != nil {
		return nil, err
	}
	if err := CheckTargets(files, force); err != nil {
		return nil, err
	}
	label := "files"
	if len(files) > 0 {
		label = strings.TrimSuffix(filepath.Base(files[0].Path), filepath.Ext(files[0].Path))
	}
	return stage(dir, dir, label, files, force, true)
}

// checkSet refuses a set with a file outside dir or two files of one name.
func checkSet(dir string, files []File) error {
	seen := map[string]bool{}
	for _, f := range files {
		if filepath.Dir(filepath.Clean(f.Path)) != dir {
			return fmt.Errorf("fsutil: %s is not in %s", f.Path, dir)
		}
		base := filepath.Base(f.Path)
		if seen[base] {
			return fmt.Errorf("two files of one set are both named %s", f.Path)
		}
		seen[base] = true
	}
	return nil
}

func stage(dir, parent, label string, files []File, force, inside bool) (*StagedFolder, error) {
	base, err := os.OpenRoot(parent)
	if err != nil {
		return nil, fmt.Errorf("cannot write in %s: %w", parent, unwrapPathError(err))
	}
	sf := &StagedFolder{dir: dir, files: files, force: force, inside: inside, base: base, dirName: "."}
	if !inside {
		sf.dirName = filepath.Base(dir)
	}
	// Created 0700 and opened through base: until it is complete nobody
	// else reads it, and it cannot be swapped for a link. Its final mode,
	// set once every file is synced, is what says it is complete
	// (StagingComplete).
	for range 10 {
		name := TempNewFolder + tempLabel(label) + "-" + randomSuffix()
		err = base.Mkdir(name, 0o700)
		if err == nil {
			sf.tmpName, sf.tmp = name, filepath.Join(parent, name)
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			base.Close()
			return nil, fmt.Errorf("cannot write in %s: %w", parent, unwrapPathError(err))
		}
	}
	if sf.tmp == "" {
		base.Close()
		return nil, fmt.Errorf("cannot write in %s: no free temporary name", parent)
	}
	td, err := base.OpenRoot(sf.tmpName)
	if err != nil {
		sf.Abort()
		return nil, err
	}
	defer td.Close()
	for _, f := range files {
		if err := writeNew(td, filepath.Base(f.Path), f); err != nil {
			sf.Abort()
			return nil, err
		}
	}
	if runtime.GOOS != "windows" {
		if err := td.Chmod(".", ModeDir); err != nil {
			sf.Abort()
			return nil, err
		}
	}
	syncDir(sf.tmp)
	syncDir(parent)
	return sf, nil
}

// StageFolder writes a set of files that all belong in the folder dir into
// a new temporary folder beside it, each file synced and given its mode,
// and the folder synced. Nothing visible changes until Commit, and a crash
// at any moment leaves dir either as it was or complete: a bundle folder is
// never half there. dir's parent must exist; dir itself need not.
func StageFolder(dir string, files []File, force bool) (*StagedFolder, error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := checkSet(dir, files); err != nil {
		return nil, err
	}
	if st, err := os.Stat(parent); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("folder %s does not exist", parent)
		}
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", parent)
	}
	if st, err := os.Lstat(dir); err == nil {
		if isLink(st) {
			// A row's folder that is a link would have its files written,
			// or replaced, wherever it points.
			return nil, &LinkError{Path: dir}
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s is a file, not a folder", dir)
		}
		// An existing folder: its files are checked now, so an existing
		// target fails before anything is recorded.
		if err := CheckTargets(files, force); err != nil {
			return nil, err
		}
	}
	return stage(dir, parent, filepath.Base(dir), files, force, false)
}

// tempLabel keeps temporary names well inside the 255-byte limit of a name.
func tempLabel(name string) string {
	if len(name) <= 100 {
		return name
	}
	i := 100
	for i > 0 && !utf8.RuneStart(name[i]) {
		i--
	}
	return name[:i]
}

// writeNew writes f's data to name in d, which must not exist (O_EXCL,
// which never follows a link): synced, with f's mode set explicitly on the
// open file (created 0600, so a secret is never readable by others, not
// even for a moment, and the umask does not widen it).
func writeNew(d *os.Root, name string, f File) error {
	out, err := d.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("writing %s: %w", f.Path, unwrapPathError(err))
	}
	_, err = out.Write(f.Data)
	if err == nil {
		err = out.Sync()
	}
	if err == nil && runtime.GOOS != "windows" {
		err = out.Chmod(f.Mode)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.Remove(name)
		return fmt.Errorf("writing %s: %w", f.Path, err)
	}
	return nil
}

// Paths lists the final paths of the staged files.
func (s *StagedFolder) Paths() []string { return paths(s.files) }

// Commit moves the staged files into place:
//   - dir absent or empty: the staging folder is renamed to dir, one atomic
//     step;
//   - with force, dir holding only files of the set and temporary files (a
//     torn earlier attempt): dir is moved aside, the staging folder renamed
//     in, the old folder removed. A crash between the two renames leaves
//     dir absent, which a rerun treats as not yet written;
//   - otherwise (dir holds other files too) the files are moved in one at a
//     time as Staged.Commit does: without force never over an existing
//     file; with force the set's old files are removed first, so a crash
//     leaves a bundle that is visibly incomplete, never a mix of two.
func (s *StagedFolder) Commit() error {
	if s.done {
		return errors.New("fsutil: staged files already committed or aborted")
	}
	s.done = true
	defer s.base.Close()
	if s.inside {
		return s.commitFiles()
	}
	parent := filepath.Dir(s.dir)
	b := s.base
	fi, err := b.Lstat(s.dirName)
	switch {
	case err == nil && isLink(fi):
		b.RemoveAll(s.tmpName)
		return &LinkError{Path: s.dir}
	case errors.Is(err, fs.ErrNotExist):
		if err := b.Rename(s.tmpName, s.dirName); err == nil {
			syncDir(parent)
			return nil
		}
		// dir appeared meanwhile: place the files one by one below.
		if fi, err = b.Lstat(s.dirName); err != nil {
			b.RemoveAll(s.tmpName)
			return fmt.Errorf("writing %s: %w", s.dir, unwrapPathError(err))
		}
		if isLink(fi) {
			b.RemoveAll(s.tmpName)
			return &LinkError{Path: s.dir}
		}
	case err != nil:
		b.RemoveAll(s.tmpName)
		return err
	}
	ents, err := readDir(b, s.dirName)
	if err != nil {
		b.RemoveAll(s.tmpName)
		return err
	}
	if len(ents) == 0 {
		// An empty folder: replace it in one step (Windows cannot rename
		// onto an existing folder, empty or not).
		if b.Remove(s.dirName) == nil {
			if err := b.Rename(s.tmpName, s.dirName); err == nil {
				syncDir(parent)
				return nil
			}
		}
	} else if s.force && s.onlyOwnFiles(ents) {
		old := TempOldFolder + tempLabel(filepath.Base(s.dir)) + "-" + randomSuffix()
		if err := b.Rename(s.dirName, old); err == nil {
			if err := b.Rename(s.tmpName, s.dirName); err != nil {
				b.Rename(old, s.dirName) // put the old one back
				b.RemoveAll(s.tmpName)
				return fmt.Errorf("writing %s: %w", s.dir, unwrapPathError(err))
			}
			syncDir(parent)
			b.RemoveAll(old)
			return nil
		}
	}
	return s.commitFiles()
}

// readDir lists the folder name in b.
func readDir(b *os.Root, name string) ([]fs.DirEntry, error) {
	f, err := b.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// onlyOwnFiles reports whether every entry of dir is a regular file of the
// set or a temporary file.
func (s *StagedFolder) onlyOwnFiles(ents []fs.DirEntry) bool {
	own := map[string]bool{}
	for _, f := range s.files {
		own[filepath.Base(f.Path)] = true
	}
	for _, e := range ents {
		if IsTemp(e.Name()) {
			continue
		}
		if !own[e.Name()] || !e.Type().IsRegular() {
			return false
		}
	}
	return true
}

func (s *StagedFolder) commitFiles() error {
	b := s.base
	defer b.RemoveAll(s.tmpName)
	var todo []File
	for _, f := range s.files {
		if f.Shared && sameContent(f.Path, f.Data) {
			continue
		}
		if err := checkTarget(f.Path, s.force); err != nil {
			return err
		}
		todo = append(todo, f)
	}
	name := func(f File) string { return filepath.Join(s.dirName, filepath.Base(f.Path)) }
	if s.force {
		for _, f := range todo {
			if fi, err := b.Lstat(name(f)); err == nil && !isLink(fi) {
				b.Remove(name(f))
			}
		}
		syncDir(s.dir)
	}
	var placed []string
	for _, f := range todo {
		if err := place(b, filepath.Join(s.tmpName, filepath.Base(f.Path)), name(f), f.Path, false); err != nil {
			for _, p := range placed {
				b.Remove(p)
			}
			return err
		}
		placed = append(placed, name(f))
	}
	syncDir(s.dir)
	return nil
}

// StagingComplete reports whether dir, a staging folder of StageFolder or
// StageInFolder, was written whole: it is created 0700 and given its final
// mode (ModeDir) only once every file in it is written and synced, so one
// a crash left 0700 may hold a file cut short and must never be moved into
// place. Windows has no such modes: there every staging folder counts as
// complete.
func StagingComplete(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o077 != 0
}

// Abort removes the staging folder. It is safe to call after Commit.
func (s *StagedFolder) Abort() {
	if s.done {
		return
	}
	s.done = true
	if s.tmpName != "" {
		s.base.RemoveAll(s.tmpName)
	}
	s.base.Close()
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
