package fsutil

import (
	"fmt"
	"io"
	"os"
)

// TooLargeError is a file over the size a reader accepts.
type TooLargeError struct {
	Path  string
	Size  int64 // -1 when unknown (a pipe, a device)
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s is larger than %d bytes", e.Path, e.Limit)
	}
	return fmt.Sprintf("%s is %d bytes; at most %d are read", e.Path, e.Size, e.Limit)
}

// FolderError is a folder given where a file is expected.
type FolderError struct{ Path string }

func (e *FolderError) Error() string { return e.Path + " is a folder, not a file" }

// ReadLimited reads a file of at most limit bytes: a larger regular file is
// refused from its size before a byte is read, a larger stream (a pipe,
// /dev/zero) after limit+1 bytes, so a wrong path never fills memory.
func ReadLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &FolderError{Path: path}
	}
	if st.Mode().IsRegular() && st.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: st.Size(), Limit: limit}
	}
	return ReadLimitedFrom(f, path, limit)
}

// ReadLimitedFrom reads at most limit bytes from r (named path in errors).
func ReadLimitedFrom(r io.Reader, path string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: path, Size: -1, Limit: limit}
	}
	return data, nil
}
