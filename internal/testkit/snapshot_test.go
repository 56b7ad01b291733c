package testkit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/store"
)

// TestSnapshotSeesChanges: a snapshot differs when a file's last byte, a
// file's mode, or one column of one database row changes, and not when
// nothing did.
func TestSnapshotSeesChanges(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "leaf.crt")
	if err := os.WriteFile(file, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "certmint.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := db.RawSQL()
	if _, err := raw.Exec(`INSERT INTO crl_numbers(ca_label, number) VALUES('issuing', 7)`); err != nil {
		t.Fatal(err)
	}
	snap := func() string { return testkit.Snapshot(t, raw, false, dir) }
	before := snap()
	if snap() != before {
		t.Fatal("two snapshots of an unchanged folder differ")
	}
	for _, tc := range []struct {
		name         string
		change, undo func()
	}{
		{"last byte of a file", func() {
			os.WriteFile(file, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\r"), 0o644)
		},
			func() {
				os.WriteFile(file, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
			}},
		{"mode of a file", func() { os.Chmod(file, 0o600) }, func() { os.Chmod(file, 0o644) }},
		{"one database row", func() { raw.Exec(`UPDATE crl_numbers SET number = 8`) }, func() { raw.Exec(`UPDATE crl_numbers SET number = 7`) }},
		{"a new file", func() { os.WriteFile(filepath.Join(dir, "x"), nil, 0o644) }, func() { os.Remove(filepath.Join(dir, "x")) }},
	} {
		tc.change()
		if snap() == before {
			t.Errorf("%s changed, and the snapshot did not see it", tc.name)
		}
		tc.undo()
		if snap() != before {
			t.Fatalf("after undoing %s the snapshot still differs", tc.name)
		}
	}
}
