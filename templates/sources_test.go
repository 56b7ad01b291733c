package templates

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sourceFiles maps each document of the table of sources to its copy in
// testdata/sources, and to the vendor file it was copied from (in
// ../shared/seeds, beside the repository, when that is present). 1E's
// page exists in two captures; a 1E quote must be in both.
var sourceFiles = map[string]struct {
	copies []string
	seeds  []string
}{
	title1E:       {[]string{"1e-certificate-requirements.txt", "1e-certificate-requirements-copy.txt"}, []string{"000_c69ba679cf60fb8d.txt", "001_eb67de2e005c8f04.txt"}},
	title1EMac:    {[]string{"1e-client-macos.txt"}, []string{"002_f13c679b5db039e5.txt"}},
	titleSafeQ:    {[]string{"ysoft-safeq-certificates.txt"}, []string{"003_90fdeedbb106b03d.txt"}},
	titleDefender: {[]string{"defender-iot-certificates.txt"}, []string{"004_0eebd9b6bc772684.txt"}},
}

func readSource(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sources", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(data)), " ")
}

// quoted reports whether text contains the quote's fragments (" ... "
// separated) in this order, whitespace collapsed.
func quoted(text, quote string) bool {
	for _, frag := range strings.Split(quote, " ... ") {
		frag = strings.Join(strings.Fields(frag), " ")
		i := strings.Index(text, frag)
		if frag == "" || i < 0 {
			return false
		}
		text = text[i+len(frag):]
	}
	return true
}

// TestBuiltinQuotes: every sentence a built-in template quotes, as a
// requirement or as advice, is word for word in the document its source
// names, so no rule can cite words the vendor never wrote.
func TestBuiltinQuotes(t *testing.T) {
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tm := range all {
		for _, rule := range RuleKeys {
			c := tm.Rule(rule)
			for _, q := range c.Quotes {
				if q.Text == "" {
					continue
				}
				if q.Source == nil {
					t.Errorf("%s: %s quotes %q without a source", tm.Name, rule, q.Text)
					continue
				}
				files, ok := sourceFiles[q.Source.Title]
				if !ok {
					t.Errorf("%s: %s quotes %q from %q, a document with no copy in testdata/sources", tm.Name, rule, q.Text, q.Source.Title)
					continue
				}
				for _, f := range files.copies {
					if !quoted(readSource(t, f), q.Text) {
						t.Errorf("%s: %s: %s does not contain %q", tm.Name, rule, f, q.Text)
					}
				}
				n++
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d quotes checked; the built-in templates cite more", n)
	}
}

// TestBuiltinRequirementsCite: a built-in requirement names a row of the
// table of sources and quotes it; advice says why.
func TestBuiltinRequirementsCite(t *testing.T) {
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range all {
		for rule := range tm.Cite {
			c := tm.Rule(rule)
			if c.Level != Requirement {
				t.Errorf("%s: [cite] %s is %s", tm.Name, rule, c.Level)
			}
			for _, q := range c.Quotes {
				if q.Source == nil || q.Source.ID == "" || q.Text == "" {
					t.Errorf("%s: %s: citation %+v lacks a source from the table or its quote", tm.Name, rule, q)
				}
			}
		}
		for rule := range tm.Advice {
			if c := tm.Rule(rule); c.Level != Advice || (c.Reason == "" && len(c.Quotes) == 0) {
				t.Errorf("%s: [advice] %s = %+v: advice says why", tm.Name, rule, c)
			}
		}
	}
}

// TestNoSeedFileNames: users see documents by title; the seed file names
// stay in comments and tests. The text a template prints (templates show)
// keeps its comments, so only its values are checked.
func TestNoSeedFileNames(t *testing.T) {
	seedName := regexp.MustCompile(`[0-9]{3}_[0-9a-f]{16}\.txt`)
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range all {
		for _, line := range strings.Split(string(tm.Text()), "\n") {
			if v := stripComment(line); seedName.MatchString(v) {
				t.Errorf("%s: a value names a seed file: %s", tm.Name, strings.TrimSpace(line))
			}
		}
		for _, rule := range RuleKeys {
			if s := tm.Rule(rule).String(); seedName.MatchString(s) {
				t.Errorf("%s: %s cites %s", tm.Name, rule, s)
			}
		}
		seedNumber := regexp.MustCompile(`\b00[0-4]\b`)
		for _, rule := range RuleKeys {
			if c := tm.Rule(rule); seedNumber.MatchString(c.Reason) {
				t.Errorf("%s: the reason for %s names a seed by number: %q", tm.Name, rule, c.Reason)
			}
		}
		if seedName.MatchString(tm.SourceDocument() + tm.Description) {
			t.Errorf("%s: source or description names a seed file", tm.Name)
		}
	}
}

// TestSourceCopies: the copies in testdata/sources are the vendor files,
// byte for byte, when those are present beside the repository.
func TestSourceCopies(t *testing.T) {
	const seeds = "../../shared/seeds"
	if _, err := os.Stat(seeds); errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CERTMINT_REQUIRE_SEEDS") != "" {
			t.Fatalf("%s is absent and CERTMINT_REQUIRE_SEEDS is set", seeds)
		}
		t.Skipf("%s is absent: the copies were checked where it exists", seeds)
	}
	for title, f := range sourceFiles {
		for i, c := range f.copies {
			got, err := os.ReadFile(filepath.Join("testdata", "sources", c))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(seeds, f.seeds[i]))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: testdata/sources/%s differs from the vendor file it copies", title, c)
			}
		}
	}
}

// TestQuoted: the matcher itself.
func TestQuoted(t *testing.T) {
	text := "Has at least the following Key Usage: • Digital Signature. • Key encipherment."
	for _, tc := range []struct {
		quote string
		want  bool
	}{
		{"Has at least the following Key Usage:", true},
		{"Has at least the following Key Usage: ... Digital Signature. ... Key encipherment.", true},
		{"Key encipherment. ... Digital Signature.", false},
		{"Has at least the following Key Usage: Digital Signature.", false},
		{"Has at least ... ", false},
	} {
		if got := quoted(text, tc.quote); got != tc.want {
			t.Errorf("quoted(%q) = %v, want %v", tc.quote, got, tc.want)
		}
	}
}

// TestGenericTemplatesFollowRFC5280: the generic templates carry no
// vendor's exception: no lint exemption, no requirement (no document
// stands behind them), and the client pairs clientAuth with
// digitalSignature only (RFC 5280 4.2.1.12).
func TestGenericTemplatesFollowRFC5280(t *testing.T) {
	for _, name := range []string{"server", "client", "code-signing"} {
		tm, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(tm.Lint.Exempt) > 0 {
			t.Errorf("%s exempts %v; a generic template follows zlint", name, tm.Lint.Exempt)
		}
		if len(tm.Cite) > 0 {
			t.Errorf("%s cites %v; only vendor templates have requirements", name, tm.Cite)
		}
	}
	client, _ := Builtin("client")
	if len(client.Usage.KeyUsage) != 1 || client.Usage.KeyUsage[0] != "digitalSignature" {
		t.Errorf("client key usage %v, want digitalSignature only", client.Usage.KeyUsage)
	}
}
