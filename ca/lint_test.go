package ca

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/certmint/certmint/templates"
)

func TestLintNamesExist(t *testing.T) {
	for name := range privateCAExclusions {
		if !KnownLint(name) {
			t.Errorf("privateCAExclusions: zlint has no lint %q", name)
		}
		if privateCAExclusions[name] == "" {
			t.Errorf("privateCAExclusions: %q has no reason", name)
		}
	}
	all, err := templates.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range all {
		for _, e := range tm.Lint.Exempt {
			if !KnownLint(e.Name) {
				t.Errorf("template %s exempts unknown lint %q", tm.Name, e.Name)
			}
			if !strings.Contains(e.Reason, "\"") || !tm.Builtin() {
				t.Errorf("template %s: exemption of %s does not quote the vendor's sentence that forces it: %q", tm.Name, e.Name, e.Reason)
			}
		}
	}
}

// The 1e-client template's exemption is needed: without it zlint's RFC 5280
// KU/EKU consistency lint stops the issuance (000 asks for keyEncipherment
// beside clientAuth).
func TestLintGateRefusesWithoutExemption(t *testing.T) {
	s := newHome(t)
	src := string(mustTemplate(t, "1e-client").Text())
	start := strings.Index(src, "[[lint.exempt]]")
	end := strings.Index(src, "[example]")
	src = src[:start] + src[end:]
	tm, err := templates.Parse("1e-client-noexempt.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	before := countCerts(t, s)
	out := t.TempDir()
	_, err = s.Issue(context.Background(), IssueRequest{Template: tm, Subject: subj("W701.ACME.LOCAL"), Out: out, Password: "x"})
	var le *LintError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "e_key_usage_and_extended_key_usage_inconsistent") {
		t.Fatalf("err = %v, want a LintError naming the KU/EKU lint", err)
	}
	if countCerts(t, s) != before || !emptyDir(t, out) {
		t.Error("a certificate refused by lint was recorded or written")
	}
}

func TestIssueConcurrent(t *testing.T) {
	s := newHome(t)
	tm := mustTemplate(t, "server")
	const workers, each = 4, 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	serials := map[string]bool{}
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			st, err := reopen(s.Home, testCAPassword)
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			for i := 0; i < each; i++ {
				out := t.TempDir()
				res, err := st.Issue(context.Background(), IssueRequest{Template: tm, Subject: subj("www.example.com"), Out: out, Password: "x"})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				serials[res.Serial] = true
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(serials) != workers*each {
		t.Errorf("%d distinct serials for %d issuances", len(serials), workers*each)
	}
	if n := countCerts(t, s); n != workers*each+1 {
		t.Errorf("database holds %d certificates, want %d", n, workers*each+1)
	}
}
