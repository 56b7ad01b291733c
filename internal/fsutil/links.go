package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Symbolic links. DESIGN.md: "No write, rename, chmod or removal follows a
// symlink out of the folder certmint owns." The folder certmint owns (the
// root) is the one the user named: --out, the CA home. The root itself may
// be a link (the user chose it); below it:
//
//   - a link at the file certmint writes, appends to, renames, chmods or
//     removes is refused, wherever it points, even inside the root:
//     certmint never makes links, so one there was planted;
//   - a link at a folder on the way is followed only when it resolves
//     inside the root; one leading out of it is refused.
//
// The check (Check, which names the link) is made before anything is
// written. The operations then go through an os.Root opened at the
// resolved folder of the file, which confines every open, rename and
// removal to it without races: os.Root opens each path element with
// O_NOFOLLOW (openat) on Unix and without following reparse points on
// Windows, and refuses any link that leaves it. The file itself is checked
// with Lstat first; an open is compared with that Lstat (os.SameFile), so
// a link swapped in between is refused too. os.Root is in the standard
// library since Go 1.24 and needs no cgo.

// LinkError is a symbolic link where certmint would write, rename, chmod
// or remove (Path), or a folder on the way there that leads out of the
// folder certmint owns (Root is then set). Nothing was changed.
type LinkError struct {
	Path string
	Root string
	Hint string // what to do; a default when empty
}

func (e *LinkError) Error() string {
	if e.Root != "" {
		return fmt.Sprintf("%s is a symbolic link leading out of %s; certmint does not write through links", e.Path, e.Root)
	}
	return fmt.Sprintf("%s is a symbolic link; certmint does not write through links", e.Path)
}

// HintText says what to do.
func (e *LinkError) HintText() string {
	if e.Hint != "" {
		return e.Hint
	}
	return "nothing was written; remove it or write somewhere else"
}

// Check reports whether certmint may write each path, a file or folder
// below root: *LinkError when a path is a symbolic link or a folder on the
// way is a link leading out of root. root itself is fine (the user named
// it), and so is a path that does not exist yet, or whose folder does not:
// there is no link to follow. Nothing changes.
func Check(root string, paths ...string) error {
	for _, p := range paths {
		if same(root, p) {
			continue
		}
		if err := check(root, p); err != nil {
			return err
		}
	}
	return nil
}

func check(root, path string) error {
	d, base, err := openParent(root, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = lstatNoLink(d, base, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Owner is the folder certmint owns that holds path, for the functions
// above: home when path is the CA home or below it, else the folder holding
// path (a bundle or batch folder the user named).
func Owner(home, path string) string {
	if _, err := relBelow(home, path); err == nil || same(home, path) {
		return home
	}
	return filepath.Dir(path)
}

// OpenAppend opens path below root for appending, creating it with mode
// (before the umask) when it does not exist. It never opens through a link:
// a link at path or leading out of root is a *LinkError, and so is
// anything but a regular file (a FIFO would block, a device is no file).
func OpenAppend(root, path string, mode fs.FileMode) (*os.File, error) {
	d, base, err := openParent(root, path)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	// Twice at most: a file created between our Lstat and our O_EXCL
	// create is looked at again.
	for range 2 {
		before, err := lstatNoLink(d, base, path)
		if errors.Is(err, fs.ErrNotExist) {
			// O_EXCL never follows a link, not even a dangling one.
			f, err := d.OpenFile(base, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, mode)
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
			}
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		if !before.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		f, err := d.OpenFile(base, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
		}
		// The file opened must be the one Lstat saw: a link swapped in
		// between was followed (inside the folder, os.Root sees to that)
		// and is refused here.
		if after, err := f.Stat(); err != nil || !os.SameFile(before, after) {
			f.Close()
			return nil, &LinkError{Path: path}
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s keeps changing; is another program writing it?", path)
}

// Chmod sets the mode of path below root, or of root itself, never of a
// link's target.
func Chmod(root, path string, mode fs.FileMode) error {
	if same(root, path) {
		r, err := os.OpenRoot(root)
		if err != nil {
			return err
		}
		defer r.Close()
		return r.Chmod(".", mode)
	}
	d, base, err := openParent(root, path)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := lstatNoLink(d, base, path); err != nil {
		return err
	}
	// os.Root.Chmod acts on the file, not on a link swapped in after the
	// Lstat (fchmodat with AT_SYMLINK_NOFOLLOW; see its documentation).
	if err := d.Chmod(base, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, unwrapPathError(err))
	}
	return nil
}

// Remove removes the file or empty folder path below root. A link there
// is refused, not removed: certmint never made it.
func Remove(root, path string) error {
	d, base, err := openParent(root, path)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := lstatNoLink(d, base, path); err != nil {
		return err
	}
	return d.Remove(base)
}

// RemoveAll removes path below root and everything in it. A link at path
// is refused; links inside it are removed, never followed.
func RemoveAll(root, path string) error {
	d, base, err := openParent(root, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := lstatNoLink(d, base, path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return d.RemoveAll(base)
}

// Rename moves oldpath to newpath, both below root. Neither may be a link
// (a link at newpath would be replaced, which certmint does not do to a
// file it did not make); folders on the way must stay inside root.
func Rename(root, oldpath, newpath string) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	var rel [2]string
	for i, p := range []string{oldpath, newpath} {
		d, base, err := openParent(root, p)
		if err != nil {
			return err
		}
		_, err = lstatNoLink(d, base, p)
		d.Close()
		if err != nil && !(i == 1 && errors.Is(err, fs.ErrNotExist)) {
			return err
		}
		if rel[i], err = resolvedRel(root, p); err != nil {
			return err
		}
	}
	if err := r.Rename(rel[0], rel[1]); err != nil {
		return fmt.Errorf("moving %s to %s: %w", oldpath, newpath, escapeError(unwrapPathError(err), newpath, root))
	}
	return nil
}

// WriteFileIn is WriteFile for a path below root that may lie in a
// subfolder: a folder on the way that leads out of root is a *LinkError.
func WriteFileIn(root, path string, data []byte, mode fs.FileMode, force bool) error {
	st, err := stageFiles([]File{{Path: path, Data: data, Mode: mode}}, force, func(p string) (*os.Root, error) {
		d, _, err := openParent(root, p)
		return d, err
	})
	if err != nil {
		return err
	}
	return st.Commit()
}

// openParent opens, as an os.Root, the folder holding path, resolved
// inside root, and returns path's last element. A folder on the way that
// is a link out of root is a *LinkError naming it.
func openParent(root, path string) (*os.Root, string, error) {
	rel, err := relBelow(root, path)
	if err != nil {
		return nil, "", err
	}
	if err := checkFolders(root, rel); err != nil {
		return nil, "", err
	}
	// The folder is opened by its real path, so os.Root meets no link on
	// the way (it refuses absolute ones, even inside) unless one is swapped
	// in now, and then only one that stays inside.
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, "", err
	}
	realDir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return nil, "", err
	}
	if !within(realRoot, realDir) {
		return nil, "", &LinkError{Path: filepath.Dir(path), Root: root}
	}
	dirRel, err := filepath.Rel(realRoot, realDir)
	if err != nil {
		return nil, "", err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, "", err
	}
	if dirRel == "." {
		return r, filepath.Base(path), nil
	}
	d, err := r.OpenRoot(dirRel)
	r.Close()
	if err != nil {
		return nil, "", escapeError(err, filepath.Dir(path), root)
	}
	return d, filepath.Base(path), nil
}

// checkFolders walks the folders between root and rel's last element and
// names the first link leading out of root.
func checkFolders(root, rel string) error {
	dir := filepath.Dir(rel)
	if dir == "." {
		return nil
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	cur := root
	for _, part := range strings.Split(dir, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return err
		}
		if !isLink(fi) {
			continue
		}
		real, err := filepath.EvalSymlinks(cur)
		if err != nil || !within(realRoot, real) {
			return &LinkError{Path: cur, Root: root}
		}
	}
	return nil
}

// resolvedRel is p relative to the real root, with the links of p's
// folder resolved (not p's own); *LinkError when it is not inside.
func resolvedRel(root, p string) (string, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	dir, base := filepath.Dir(p), filepath.Base(p)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	if !within(realRoot, realDir) {
		return "", &LinkError{Path: dir, Root: root}
	}
	rel, err := filepath.Rel(realRoot, filepath.Join(realDir, base))
	if err != nil {
		return "", err
	}
	return rel, nil
}

// lstatNoLink is Lstat of name in d, with a link there a *LinkError.
func lstatNoLink(d *os.Root, name, path string) (fs.FileInfo, error) {
	fi, err := d.Lstat(name)
	if err != nil {
		return nil, err
	}
	if isLink(fi) {
		return nil, &LinkError{Path: path}
	}
	return fi, nil
}

// isLink reports a symbolic link, or on Windows any reparse point that is
// not a plain file: Go reports a junction (mount point) as ModeIrregular,
// not ModeSymlink, and it leads elsewhere just the same.
func isLink(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return true
	}
	return runtime.GOOS == "windows" && fi.Mode()&fs.ModeIrregular != 0
}

// relBelow is path relative to root; an error when path is not strictly
// below root (a caller's mistake, not the user's).
func relBelow(root, path string) (string, error) {
	ar, err1 := filepath.Abs(root)
	ap, err2 := filepath.Abs(path)
	if err := errors.Join(err1, err2); err != nil {
		return "", err
	}
	rel, err := filepath.Rel(ar, ap)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("fsutil: %s is not inside %s", path, root)
	}
	return rel, nil
}

func same(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// within reports whether the real path p is root or below it.
func within(root, p string) bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		// Case-insensitive file systems by default.
		root, p = strings.ToLower(root), strings.ToLower(p)
	}
	return p == root || strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

// escapeError turns os.Root's refusal of a path leaving it (a link swapped
// in after the check) into a *LinkError. os.Root's error value for it is
// not exported; its text is stable ("path escapes from parent").
func escapeError(err error, path, root string) error {
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return &LinkError{Path: path, Root: root}
	}
	return err
}
