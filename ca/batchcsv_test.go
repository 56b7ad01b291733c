package ca

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/internal/textsafe"
)

// TestBatchPasswordsCSVInjection is issue 11 item 6: names taken from the
// input CSV reach passwords.csv as cells no spreadsheet evaluates, and a
// rerun still finds each row's password line.
func TestBatchPasswordsCSVInjection(t *testing.T) {
	s := newHome(t)
	out := t.TempDir()
	opts := BatchOptions{Template: mustTemplate(t, "client"), Out: out, Jobs: 2, RandomPasswords: true}
	names := map[string]string{ // the name column -> the folder it gets
		"=SUM(1+1)":     "=SUM(1+1)",
		"@SUM(A1)":      "@SUM(A1)",
		"+cmd":          "+cmd",
		"-rf":           "_-rf",
		"'=quoted":      "'=quoted",
		"plain-name":    "plain-name",
		"=HYPERLINK(1)": "=HYPERLINK(1)",
	}
	var b strings.Builder
	b.WriteString("cn,name\n")
	i := 0
	for name := range names {
		i++
		w := csv.NewWriter(&b)
		w.Write([]string{"pc" + string(rune('a'+i)) + ".acme.local", name})
		w.Flush()
	}
	data := b.String()
	run := runBatch(t, context.Background(), s, opts, data, 0)
	if run.err != nil {
		t.Fatal(run.err)
	}
	for _, r := range run.results {
		if r.Err != nil {
			t.Fatalf("line %d: %v", r.Row.Line, r.Err)
		}
	}
	pwPath := filepath.Join(out, PasswordsFile)
	raw, err := os.ReadFile(pwPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil || len(recs) != len(names)+1 {
		t.Fatalf("passwords.csv has %d lines (%v), want header + %d:\n%s", len(recs), err, len(names), raw)
	}
	seen := map[string]bool{}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsAny(cell[:1], "=+-@\t\r") {
				t.Errorf("cell %q would be a formula in a spreadsheet", cell)
			}
		}
		name := textsafe.CSVValue(rec[0])
		seen[name] = true
		pfx, err := os.ReadFile(filepath.Join(out, name, name+".pfx"))
		if err != nil {
			t.Fatalf("passwords.csv names %q (%q), which has no bundle: %v", rec[0], name, err)
		}
		if _, _, _, err := pkcs12.DecodeChain(pfx, rec[3]); err != nil {
			t.Errorf("%s: the password of passwords.csv does not open its .pfx (%v)", name, err)
		}
	}
	for in, folder := range names {
		if !seen[folder] {
			t.Errorf("name %q: no line for folder %q in passwords.csv:\n%s", in, folder, raw)
		}
	}

	// The rerun reads the prefixed cells back: every bundle is complete and
	// has its password, so nothing is reissued and no line is added.
	run = runBatch(t, context.Background(), s, opts, data, 0)
	if n := run.count(func(r BatchResult) bool { return r.Skipped }); n != len(names) || run.err != nil {
		t.Errorf("rerun skipped %d of %d rows (%v): a prefixed name was not read back", n, len(names), run.err)
	}
	if again, _ := os.ReadFile(pwPath); string(again) != string(raw) {
		t.Errorf("the rerun changed passwords.csv:\n%s", again)
	}
}
