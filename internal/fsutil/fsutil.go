// Package fsutil writes files the way a CA must: atomically (temp file in the
// same folder, fsync, explicit chmod, rename), never over an existing file
// unless asked, and for a bundle all or nothing.
package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Modes used across certmint. Private material is 0600 whatever the umask:
// the mode is set with Chmod after creation, which the umask does not touch.
const (
	ModePrivate fs.FileMode = 0o600 // keys, .pfx, password files
	ModePublic  fs.FileMode = 0o644 // certificates, CRLs, chains
	ModeDir     fs.FileMode = 0o755 // output folders
	ModeHome    fs.FileMode = 0o700 // the CA home
)

// TempPrefix starts the name of every temporary file certmint writes, so a
// crash leaves only files that doctor can recognise and remove.
const TempPrefix = ".certmint-tmp-"

// ExistsError reports a target that is already there and --force was not given.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists", e.Path)
}

// File is one file of a set to be written.
type File struct {
	Path string
	Data []byte
	Mode fs.FileMode
	// Shared marks a file several sets write with the same content (a CA
	// certificate beside each bundle): an identical existing file is kept
	// and not an error.
	Shared bool
}

// WriteFile writes data to path atomically with the given mode. Without
// force it fails with *ExistsError when path exists, and never replaces a
// file that appears meanwhile.
func WriteFile(path string, data []byte, mode fs.FileMode, force bool) error {
	st, err := Stage([]File{{Path: path, Data: data, Mode: mode}}, force)
	if err != nil {
		return err
	}
	return st.Commit()
}

// Staged is a set of files written to temporary names beside their targets,
// waiting for Commit (rename into place) or Abort (remove).
type Staged struct {
	files  []File
	dirs   []*os.Root // each file's folder, opened once at Stage
	temps  []string   // the temporary name of each file in its folder
	opened map[string]*os.Root
	force  bool
	done   bool
}

// Stage checks every target first (folder writable, target absent unless
// force, not a symbolic link) and then writes each file to a temporary name
// beside it. Nothing visible changes until Commit. On error no temporary
// file is left. Each folder is opened once (os.Root), and the temporary
// file and the rename into place both go through that handle, so a folder
// swapped for a link meanwhile is never written through.
func Stage(files []File, force bool) (*Staged, error) {
	return stageFiles(files, force, func(p string) (*os.Root, error) { return os.OpenRoot(filepath.Dir(p)) })
}

// stageFiles is Stage with open giving the folder of each file.
func stageFiles(files []File, force bool, open func(path string) (*os.Root, error)) (*Staged, error) {
	seen := map[string]bool{}
	var todo []File
	for _, f := range files {
		clean := filepath.Clean(f.Path)
		if seen[clean] {
			return nil, fmt.Errorf("two files of one set are both named %s", f.Path)
		}
		seen[clean] = true
		if f.Shared && sameContent(f.Path, f.Data) {
			continue
		}
		if err := checkTarget(f.Path, force); err != nil {
			return nil, err
		}
		todo = append(todo, f)
	}
	st := &Staged{files: todo, force: force, opened: map[string]*os.Root{}}
	for _, f := range todo {
		dir := filepath.Dir(filepath.Clean(f.Path))
		d := st.opened[dir]
		if d == nil {
			var err error
			if d, err = open(f.Path); err != nil {
				st.Abort()
				return nil, fmt.Errorf("cannot write in %s: %w", dir, unwrapPathError(err))
			}
			st.opened[dir] = d
		}
		st.dirs = append(st.dirs, d)
		tmp, err := writeTemp(d, f)
		if err != nil {
			st.Abort()
			return nil, err
		}
		st.temps = append(st.temps, tmp)
	}
	return st, nil
}

// CheckTargets runs Stage's checks without writing: every folder exists and
// no target exists unless force (identical shared files excepted).
func CheckTargets(files []File, force bool) error {
	for _, f := range files {
		if f.Shared && sameContent(f.Path, f.Data) {
			continue
		}
		if err := checkTarget(f.Path, force); err != nil {
			return err
		}
	}
	return nil
}

// Paths lists the final paths of the staged files.
func (s *Staged) Paths() []string { return paths(s.files) }

func paths(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

// Commit moves every staged file into place. Without force, a target that
// appeared since Stage is not replaced: Commit undoes the files it already
// placed and returns *ExistsError. A link that appeared at a target is
// never replaced: *LinkError.
func (s *Staged) Commit() error {
	if s.done {
		return errors.New("fsutil: staged files already committed or aborted")
	}
	s.done = true
	defer s.close()
	for i, f := range s.files {
		if err := place(s.dirs[i], s.temps[i], filepath.Base(f.Path), f.Path, s.force); err != nil {
			for j := range i {
				s.dirs[j].Remove(filepath.Base(s.files[j].Path))
			}
			for j := i; j < len(s.files); j++ {
				s.dirs[j].Remove(s.temps[j])
			}
			return err
		}
	}
	synced := map[string]bool{}
	for _, f := range s.files {
		if dir := filepath.Dir(f.Path); !synced[dir] {
			syncDir(dir)
			synced[dir] = true
		}
	}
	return nil
}

// Abort removes the temporary files. It is safe to call after Commit.
func (s *Staged) Abort() {
	if s.done {
		return
	}
	s.done = true
	for i, t := range s.temps {
		s.dirs[i].Remove(t)
	}
	s.close()
}

func (s *Staged) close() {
	for _, d := range s.opened {
		d.Close()
	}
}

func sameContent(path string, data []byte) bool {
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() != int64(len(data)) {
		return false
	}
	old, err := os.ReadFile(path)
	return err == nil && bytes.Equal(old, data)
}

func checkTarget(path string, force bool) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("folder %s does not exist", dir)
		}
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil && isLink(fi):
		// Even with force: replacing a link certmint did not make, or
		// writing through it, is not ours to do.
		return &LinkError{Path: path}
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a folder, not a file", path)
	case err == nil && !force:
		return &ExistsError{Path: path}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

// writeTemp writes f's data to a new temporary file in d and returns its
// name.
func writeTemp(d *os.Root, f File) (string, error) {
	for range 10 {
		name := TempPrefix + randomSuffix()
		err := writeNew(d, name, f)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, err
	}
	return "", fmt.Errorf("cannot write in %s: no free temporary name", filepath.Dir(f.Path))
}

// place moves tmp to name, both in d (path is name's full path, for
// errors). Without force it uses a hard link, which fails if name exists,
// so a file created by someone else meanwhile survives. Link and rename
// act on name itself, never on a link's target; a link at name is refused
// all the same.
func place(d *os.Root, tmp, name, path string, force bool) error {
	if fi, err := d.Lstat(name); err == nil && isLink(fi) {
		d.Remove(tmp)
		return &LinkError{Path: path}
	}
	if force {
		if err := d.Rename(tmp, name); err != nil {
			d.Remove(tmp)
			return fmt.Errorf("writing %s: %w", path, unwrapPathError(err))
		}
		return nil
	}
	if err := d.Link(tmp, name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			d.Remove(tmp)
			return &ExistsError{Path: path}
		}
		// Filesystems without hard links (some network shares, FAT): fall
		// back to a checked rename.
		if _, serr := d.Lstat(name); serr == nil {
			d.Remove(tmp)
			return &ExistsError{Path: path}
		}
		if err := d.Rename(tmp, name); err != nil {
			d.Remove(tmp)
			return fmt.Errorf("writing %s: %w", path, unwrapPathError(err))
		}
		return nil
	}
	return d.Remove(tmp)
}

func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// IsTemp reports whether a file name is one of certmint's temporary files.
func IsTemp(name string) bool { return strings.HasPrefix(filepath.Base(name), TempPrefix) }

// SafeName turns a common name into a file base name that is valid on
// Windows, macOS and Linux and shows what the user typed: path separators,
// reserved characters, control characters (C0, DEL, C1), line separators
// and invalid UTF-8 become '_', format characters (Unicode category Cf:
// bidi controls such as U+202E, zero-width spaces, U+FEFF) are dropped, a
// wildcard becomes "wildcard", and a name never starts with '-' (it gets a
// '_' in front), so no shell command given the file reads it as an option.
// SafeName(SafeName(s)) == SafeName(s).
func SafeName(s string) string {
	s = strings.ReplaceAll(s, "*", "wildcard")
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
			// "invoice\u202egnp.exe" would be listed by ls and Explorer as
			// "invoiceexe.png"; a zero-width space makes two names that look
			// the same.
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError:
			b.WriteRune('_')
		case strings.ContainsRune(`<>:"/\|?`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.Trim(b.String(), " .")
	if out == "" {
		return "certificate"
	}
	if strings.HasPrefix(out, "-") {
		out = "_" + out
	}
	// Windows reserves device names, also before an extension: "CON.crt"
	// and "aux.contoso.com.crt" cannot be created.
	if first, rest, dot := strings.Cut(out, "."); isReservedWindowsName(strings.TrimRight(first, " ")) {
		out = first + "_"
		if dot {
			out += "." + rest
		}
	}
	return out
}

func isReservedWindowsName(s string) bool {
	switch strings.ToUpper(s) {
	case "CON", "PRN", "AUX", "NUL",
		"COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return true
	}
	return false
}
