package check

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/templates"
)

// corpusNow is when the corpus is checked: every date in it is fixed
// (testdata/corpus/make.sh), so the cases never rot.
var corpusNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

type corpusCase struct {
	line     int
	file     string
	template string
	expected []string // failed rules; "passphrase" for a .pfx that does not open
	opts     map[string]string
}

func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open("testdata/corpus/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		c := corpusCase{line: n, file: fields[0], template: fields[1], opts: map[string]string{}}
		if fields[2] != "-" {
			c.expected = strings.Split(fields[2], ",")
		}
		for _, kv := range fields[3:] {
			k, v, _ := strings.Cut(kv, "=")
			c.opts[k] = v // a later chain= replaces the default one
		}
		out = append(out, c)
	}
	return out
}

// corpusFetcher serves the corpus CRL at its CDP, or fails like a network
// that cannot reach it.
func corpusFetcher(mode string) Fetcher {
	return func(ctx context.Context, url string) ([]byte, error) {
		if mode == "unreachable" {
			return nil, errors.New("dial tcp: lookup crl.corpus.test: no such host")
		}
		switch url {
		case "http://crl.corpus.test/issuing.crl":
			return os.ReadFile("testdata/corpus/issuing.crl")
		case "http://crl.corpus.test/root.crl":
			return os.ReadFile("testdata/corpus/root.crl.pem")
		}
		return nil, fmt.Errorf("GET %s: 404 Not Found", url)
	}
}

// TestCorpus: certificates made by OpenSSL, not by certmint. check passes the
// conforming one of every template and names exactly the violated rule of
// each of the others; the validation cases give Defender's messages.
func TestCorpus(t *testing.T) {
	for _, c := range readCorpus(t) {
		name := strings.TrimSuffix(c.file, filepath.Ext(c.file))
		if c.opts["pass"] != "" && strings.HasSuffix(c.file, ".pfx") {
			name += "-" + c.opts["pass"]
		}
		t.Run(name, func(t *testing.T) {
			tm, err := templates.Builtin(c.template)
			if err != nil {
				t.Fatal(err)
			}
			dir := "testdata/corpus/"
			files := Files{Chain: dir + c.opts["chain"]}
			if pfx := c.opts["pfx"]; pfx != "" {
				files = Files{PFX: dir + pfx}
			} else {
				files.Cert = dir + c.file
				files.Key = dir + c.opts["key"]
				if kf := c.opts["keyfile"]; kf != "" {
					files.Key = dir + kf
				}
			}
			if crl := c.opts["crl"]; crl != "" {
				files.CRLs = []string{dir + crl}
			}
			pass := c.opts["pass"]
			files.Password = func() (string, error) { return pass, nil }
			in, err := Load(files)
			if slices.Equal(c.expected, []string{"passphrase"}) {
				var pe *PassphraseError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), DefenderPassphrase) {
					t.Fatalf("Load: %v, want a PassphraseError with Defender's message", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in.Now = corpusNow
			if mode := c.opts["fetch"]; mode != "" {
				in.FetchCRL, in.Fetcher = true, corpusFetcher(mode)
			}
			r := Run(tm, in)
			got := r.Failed()
			slices.Sort(got)
			want := slices.Clone(c.expected)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("cases.txt:%d: failed rules %v, want %v", c.line, got, want)
				for _, f := range r.Findings {
					if f.Status == Fail {
						t.Logf("  %s: got %s; want %s", f.Rule, f.Got, f.Want)
					}
				}
			}
			for _, f := range r.Findings {
				if f.Status == Fail && f.Fix == "" {
					t.Errorf("%s fails without saying how to fix it", f.Rule)
				}
				if f.Status == Fail && len(f.Citations) == 0 {
					t.Errorf("%s fails without its seed rule", f.Rule)
				}
				if want, ok := defenderMessages[f.Rule]; ok && f.Status == Fail && c.template == "defender-sensor" {
					if !slices.Contains(want, f.ApplianceMessage) {
						t.Errorf("%s: Defender message %q, want one of %q", f.Rule, f.ApplianceMessage, want)
					}
				}
			}
		})
	}
}

// defenderMessages: the troubleshooting rows of 004 each validation
// failure must show.
var defenderMessages = map[string][]string{
	"validation.chain":      {DefenderChain},
	"validation.key":        {DefenderPassphrase},
	"validation.expiry":     {DefenderExpired},
	"validation.revocation": {DefenderRevoked, DefenderUnreachable},
}

// TestCorpusCoverage: for every built-in template the corpus holds a
// conforming certificate and, for each requirement check evaluates on it,
// a certificate that breaks that requirement.
func TestCorpusCoverage(t *testing.T) {
	cases := readCorpus(t)
	all, err := templates.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	// Requirements that cannot be broken alone, with the reason.
	implied := map[string]string{
		"san.require_dns": "with cn_in_san the CN counts as a DNS name, and the CN form already demands one: breaking it breaks subject.cn too (see the -space and -apostrophe cases)",
	}
	family := func(rule string) string {
		switch {
		case strings.HasPrefix(rule, "key."):
			return "key"
		case strings.HasPrefix(rule, "san.allow_"):
			return "san.allow"
		}
		return rule
	}
	for _, tm := range all {
		var good *corpusCase
		violated := map[string]bool{}
		for i, c := range cases {
			if c.template != tm.Name {
				continue
			}
			if len(c.expected) == 0 && good == nil && c.opts["pfx"] == "" {
				good = &cases[i]
			}
			for _, r := range c.expected {
				violated[family(r)] = true
			}
		}
		if good == nil {
			t.Errorf("%s: no conforming certificate in the corpus", tm.Name)
			continue
		}
		in, err := Load(Files{Cert: "testdata/corpus/" + good.file, Chain: "testdata/corpus/" + good.opts["chain"]})
		if err != nil {
			t.Fatal(err)
		}
		in.Now = corpusNow
		for _, f := range requirements(tm, in) {
			if _, ok := implied[f.Rule]; ok {
				continue
			}
			if !violated[family(f.Rule)] {
				t.Errorf("%s: no corpus certificate breaks %s", tm.Name, f.Rule)
			}
		}
	}
}
