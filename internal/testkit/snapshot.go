package testkit

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Snapshot is everything a refused command must leave as it was, as text
// two snapshots compare equal on: every folder and file under dirs with
// its mode and the SHA-256 of its whole content, and, when db is not nil,
// every row of every table of the issuance database, every column (the
// database's own files are compared by their rows: SQLite rewrites them
// without changing a row). Tests that claim "nothing changed" compare
// two of these; TestSnapshotSeesChanges proves a last byte or one row
// changed is seen.
func Snapshot(t testing.TB, db *sql.DB, postgres bool, dirs ...string) string {
	t.Helper()
	var lines []string
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				lines = append(lines, p+" "+err.Error())
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			switch {
			case d.IsDir():
				lines = append(lines, fmt.Sprintf("%s/ %v", p, info.Mode()))
			case db != nil && strings.HasPrefix(d.Name(), "certmint.db"):
				lines = append(lines, fmt.Sprintf("%s %v", p, info.Mode().Perm()))
			case info.Mode()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				lines = append(lines, fmt.Sprintf("%s %v -> %s", p, info.Mode(), target))
			default:
				data, err := os.ReadFile(p)
				if err != nil {
					lines = append(lines, p+" "+err.Error())
					return nil
				}
				sum := sha256.Sum256(data)
				lines = append(lines, fmt.Sprintf("%s %v %s", p, info.Mode(), hex.EncodeToString(sum[:])))
			}
			return nil
		})
	}
	if db != nil {
		lines = append(lines, dumpRows(t, db, postgres)...)
	}
	return strings.Join(lines, "\n")
}

// dumpRows is every row of every table, each as "table: col=value ...",
// sorted.
func dumpRows(t testing.TB, db *sql.DB, postgres bool) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var tables []string
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	sort.Strings(tables)
	var out []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString(table + ":")
			for i, c := range cols {
				v := vals[i]
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, " %s=%v", c, v)
			}
			lines = append(lines, b.String())
		}
		rows.Close()
		sort.Strings(lines)
		out = append(out, lines...)
	}
	return out
}
