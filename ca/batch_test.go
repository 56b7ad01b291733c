package ca

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/templates"
)

func batchCSV(n int, extra ...string) string {
	var b strings.Builder
	b.WriteString("cn,san\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "pc%d.acme.local,\n", i)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

type batchRun struct {
	results []BatchResult
	err     error
}

func (r batchRun) count(f func(BatchResult) bool) int {
	n := 0
	for _, x := range r.results {
		if f(x) {
			n++
		}
	}
	return n
}

func runBatch(t *testing.T, ctx context.Context, s *Store, opts BatchOptions, data string, stopAfter int) batchRun {
	t.Helper()
	rd, err := batch.NewReader(strings.NewReader(data), opts.Template)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var run batchRun
	run.err = s.IssueBatch(ctx, opts, rd.Next, func(r BatchResult) {
		mu.Lock()
		defer mu.Unlock()
		run.results = append(run.results, r)
		if stopAfter > 0 && len(run.results) == stopAfter {
			cancel() // as Ctrl-C would
		}
	})
	return run
}

func TestIssueBatch(t *testing.T) {
	s := newHome(t)
	out := t.TempDir()
	opts := BatchOptions{Template: mustTemplate(t, "client"), Out: out, Jobs: 2, RandomPasswords: true, FlushEvery: 4}
	data := batchCSV(10, "pc3.acme.local,", "bad.acme.local,IP:999.1.1.1", ",no-cn.acme.local")
	run := runBatch(t, context.Background(), s, opts, data, 0)
	if run.err != nil {
		t.Fatal(run.err)
	}
	issued := run.count(func(r BatchResult) bool { return r.Issued != nil })
	failed := map[int]string{}
	for _, r := range run.results {
		if r.Err != nil {
			failed[r.Row.Line] = r.Err.Error()
		}
	}
	if issued != 10 || len(failed) != 3 {
		t.Fatalf("%d issued, failures %v; want 10 and 3", issued, failed)
	}
	for line, want := range map[int]string{12: "already appears on line 4", 13: "not an IPv4", 14: "cn is empty"} {
		if !strings.Contains(failed[line], want) {
			t.Errorf("line %d: %q, want %q", line, failed[line], want)
		}
	}
	// Every bundle has its password in passwords.csv, and it opens the .pfx.
	pwPath := filepath.Join(out, PasswordsFile)
	st, err := os.Stat(pwPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("passwords.csv: %v %v", st, err)
	}
	f, _ := os.Open(pwPath)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 11 {
		t.Fatalf("passwords.csv has %d lines (%v), want header + 10", len(recs), err)
	}
	for _, rec := range recs[1:] {
		data, err := os.ReadFile(filepath.Join(out, rec[0], rec[0]+".pfx"))
		if err != nil {
			t.Fatal(err)
		}
		if _, leaf, _, err := pkcs12.DecodeChain(data, rec[3]); err != nil || SerialHex(leaf.SerialNumber) != rec[2] {
			t.Errorf("%s: the password of passwords.csv does not open its .pfx (%v)", rec[0], err)
		}
	}
	if n := countCerts(t, s); n != 11 {
		t.Errorf("database holds %d certificates, want 11", n)
	}

	// A rerun skips complete bundles, redoes torn ones, issues missing ones.
	// A leftover temporary file beside a complete bundle (pc9) does not make
	// it torn: every file is placed whole, and redoing the row would only
	// orphan a valid certificate. A folder of leftovers only (pc4) is torn.
	os.Remove(filepath.Join(out, "pc2.acme.local", "pc2.acme.local.pfx"))
	os.RemoveAll(filepath.Join(out, "pc7.acme.local"))
	os.WriteFile(filepath.Join(out, "pc9.acme.local", ".certmint-tmp-123"), []byte("half"), 0o600)
	os.RemoveAll(filepath.Join(out, "pc4.acme.local"))
	os.MkdirAll(filepath.Join(out, "pc4.acme.local"), 0o755)
	os.WriteFile(filepath.Join(out, "pc4.acme.local", ".certmint-tmp-456"), []byte("half"), 0o600)
	run = runBatch(t, context.Background(), s, opts, data, 0)
	skipped := run.count(func(r BatchResult) bool { return r.Skipped })
	redone := run.count(func(r BatchResult) bool { return r.Redone })
	fresh := run.count(func(r BatchResult) bool { return r.Issued != nil && !r.Redone })
	if skipped != 7 || redone != 2 || fresh != 1 {
		t.Errorf("rerun: %d skipped, %d redone, %d issued; want 7, 2, 1", skipped, redone, fresh)
	}
	if ents, _ := filepath.Glob(filepath.Join(out, "pc4.acme.local", "*")); len(ents) != 4 {
		t.Errorf("pc4 was redone into %v, want its 4 files and no leftover", ents)
	}
}

// An interrupted batch (Ctrl-C) leaves only complete bundles and torn
// ones that a rerun redoes; no finished row is issued twice.
func TestIssueBatchInterrupted(t *testing.T) {
	s := newHome(t)
	out := t.TempDir()
	opts := BatchOptions{Template: mustTemplate(t, "client"), Out: out, Jobs: 2, Password: "pw", FlushEvery: 2}
	data := batchCSV(16)
	first := runBatch(t, context.Background(), s, opts, data, 5)
	if !errors.Is(first.err, context.Canceled) {
		t.Fatalf("interrupted batch: %v", first.err)
	}
	done := first.count(func(r BatchResult) bool { return r.Issued != nil })
	second := runBatch(t, context.Background(), s, opts, data, 0)
	if second.err != nil {
		t.Fatal(second.err)
	}
	skipped := second.count(func(r BatchResult) bool { return r.Skipped })
	issued := second.count(func(r BatchResult) bool { return r.Issued != nil })
	if skipped != done || skipped+issued != 16 {
		t.Errorf("first run finished %d; rerun skipped %d and issued %d (want %d and %d)", done, skipped, issued, done, 16-done)
	}
	if n := countCerts(t, s); n != 17 {
		t.Errorf("database holds %d certificates, want 16 + the issuing CA", n)
	}
	ents, _ := filepath.Glob(filepath.Join(out, "*", ".certmint-tmp-*"))
	if len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// BenchmarkIssueBatch: a batch of ECDSA P-256 client bundles (crt, key,
// pfx) on all cores, disk and database included; the issuing CA's
// signature dominates.
//
// CERTMINT_BENCH_FLOOR_HOME names a home to copy and sign with, as for
// BenchmarkFloor, so the batch and its floor pay for the same CA key.
func BenchmarkIssueBatch(b *testing.B) {
	s := benchHome(b)
	tm := ecdsaTemplate(b, "bench-ecdsa", "crt", "key", "pfx")
	rd, err := batch.NewReader(strings.NewReader(batchCSV(b.N)), tm)
	if err != nil {
		b.Fatal(err)
	}
	opts := BatchOptions{Template: tm, Out: b.TempDir(), Jobs: runtime.NumCPU(), Password: "pw",
		Formats: []templates.Format{templates.FormatCRT, templates.FormatKey, templates.FormatPFX}}
	b.ResetTimer()
	err = s.IssueBatch(context.Background(), opts, rd.Next, func(r BatchResult) {
		if r.Err != nil {
			b.Error(r.Err)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}
