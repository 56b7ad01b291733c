package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
)

func TestReadLimited(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o644)
	if data, err := ReadLimited(small, 5); err != nil || string(data) != "hello" {
		t.Errorf("at the limit: %q, %v", data, err)
	}
	var tl *TooLargeError
	if _, err := ReadLimited(small, 4); !errors.As(err, &tl) || tl.Size != 5 || tl.Limit != 4 {
		t.Errorf("over the limit: %v", err)
	}
	// A huge sparse file is refused from its size, without being read.
	huge := testkit.SparseFile(t, dir, "huge", 100<<20)
	if _, err := ReadLimited(huge, 1<<20); !errors.As(err, &tl) || tl.Size != 100<<20 {
		t.Errorf("huge file: %v", err)
	}
	// A stream is cut after limit+1 bytes.
	if _, err := ReadLimitedFrom(strings.NewReader(strings.Repeat("x", 10)), "pipe", 9); !errors.As(err, &tl) || tl.Size != -1 {
		t.Errorf("stream: %v", err)
	}
	var fe *FolderError
	if _, err := ReadLimited(dir, 10); !errors.As(err, &fe) {
		t.Errorf("folder: %v", err)
	}
	if _, err := ReadLimited(filepath.Join(dir, "none"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
