package ca

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateBaseURL(t *testing.T) {
	accepted := []struct{ in, want string }{
		{"http://pki.example.com", "http://pki.example.com"},
		{"http://pki.example.com/", "http://pki.example.com"},
		{"http://pki.example.com/pki", "http://pki.example.com/pki"},
		{"http://pki.example.com/pki/", "http://pki.example.com/pki"},
		{"http://pki.example.com/pki//", "http://pki.example.com/pki"},
		{"HTTP://PKI.Example.COM/Pki", "http://pki.example.com/Pki"}, // the path keeps its case
		{"http://pki.example.com:80/pki", "http://pki.example.com/pki"},
		{"http://pki.example.com:080/pki", "http://pki.example.com/pki"},
		{"http://pki.example.com:8080/pki", "http://pki.example.com:8080/pki"},
		{"http://pki.example.com:65535", "http://pki.example.com:65535"},
		{"http://pki.example.com:1", "http://pki.example.com:1"},
		{"http://pki.example.com/a/./b/../c", "http://pki.example.com/a/c"},
		{"http://pki.example.com/../pki", "http://pki.example.com/pki"},
		{"http://pki.example.com//a///b", "http://pki.example.com/a/b"},
		{"http://pki.example.com/%7Epki/%41", "http://pki.example.com/~pki/A"},
		{"http://pki.example.com/crl-v1_2.x~y", "http://pki.example.com/crl-v1_2.x~y"},
		{"http://10.0.0.5", "http://10.0.0.5"},
		{"http://10.0.0.5:8080/pki", "http://10.0.0.5:8080/pki"},
		{"http://[2001:DB8::0:1]:8080/pki", "http://[2001:db8::1]:8080/pki"},
		{"http://[::1]", "http://[::1]"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://pki", "http://pki"},
		{"http://bücher.example/pki", "http://xn--bcher-kva.example/pki"},
		{"http://xn--bcher-kva.example", "http://xn--bcher-kva.example"},
		{"http://pki-1.sub.example.com", "http://pki-1.sub.example.com"},
	}
	for _, tc := range accepted {
		got, err := ValidateBaseURL(tc.in)
		if err != nil {
			t.Errorf("ValidateBaseURL(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ValidateBaseURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// Normalised once is normalised for good.
		if again, err := ValidateBaseURL(got); err != nil || again != got {
			t.Errorf("ValidateBaseURL(%q) = %q, %v; want it unchanged", got, again, err)
		}
	}

	refused := []struct{ in, want string }{
		{"", "is not a URL"},
		{"pki.example.com/pki", "has no scheme: write it as http://pki.example.com/pki"},
		{"//pki.example.com", "has no scheme: write it as http://pki.example.com"},
		{"http:/pki.example.com", "is not a URL"},
		{"https://pki.example.com", "must use http://, not https://"},
		{"ftp://pki.example.com", "must use http://, not ftp://"},
		{"HTTPS://pki.example.com", "must use http://, not HTTPS://"},
		{`http://pki.example.com/"onmouseover`, `contains '"'`},
		{"http://pki.example.com/'x", `contains '\''`},
		{"http://pki.example.com/<script>", `contains '<'`},
		{"http://pki.example.com/a>b", `contains '>'`},
		{"http://pki.example.com/my pki", "contains a space"},
		{" http://pki.example.com", "contains a space"},
		{"http://pki.example.com/\tx", "control character (U+0009)"},
		{"http://pki.example.com/\nx", "control character (U+000A)"},
		{"http://pki.example.com/\x1b[31m", "control character (U+001B)"},
		{"http://pki.example.com/\u202ex", "invisible formatting character (U+202E)"},
		{"http://pki.example.com/\u200bx", "invisible formatting character (U+200B)"},
		{`http://pki.example.com\pki`, `contains '\\'`},
		{"http://pki.example.com/`x`", "contains '`'"},
		{"http://pki.example.com/{x}", "contains '{'"},
		{"http://pki.example.com/a|b", "contains '|'"},
		{"http://pki.example.com/%22x", `%22 in its path, which stands for '"'`},
		{"http://pki.example.com/%3Cscript%3E", `%3C in its path, which stands for '<'`},
		{"http://pki.example.com/%20x", `%20 in its path, which stands for ' '`},
		{"http://pki.example.com/%5Cx", `%5C in its path, which stands for '\\'`},
		{"http://pki.example.com/a%2Fb", `%2F in its path, which stands for '/'`},
		{"http://pki.example.com/%0a", `%0a in its path, which stands for '\n'`},
		{"http://pki.example.com/%zz", "is not a URL"},
		{"http://pki.example.com/é", "characters other than ASCII"},
		{"http://pki.example.com/a;b", `has ';' in its path`},
		{"http://pki.example.com/a=b", `has '=' in its path`},
		{"http://user@pki.example.com", "must not hold a user name or password"},
		{"http://user:secret@pki.example.com", `base URL "http://user:xxxxx@pki.example.com" must not hold a user name or password`},
		{"http://user:secret@pki.example.com/my pki", `base URL "http://user:xxxxx@pki.example.com/my pki" contains a space`},
		{"http://pki.example.com/?x=1", "must not have a query"},
		{"http://pki.example.com?", "must not have a query"},
		{"http://pki.example.com/#top", "must not have a fragment"},
		{"http://pki.example.com#", "must not have a fragment"},
		{"http://pki.example.com:0", "has port 0; a port is a number from 1 to 65535"},
		{"http://pki.example.com:70000", "has port 70000"},
		{"http://pki.example.com:65536/pki", "has port 65536"},
		{"http://pki.example.com:99999999999999999999", "has port 99999999999999999999"},
		{"http://pki.example.com:", "has an empty port"},
		{"http://pki.example.com:-1", "is not a URL"},
		{"http://pki.example.com:8o", "is not a URL"},
		{"http://", "has no host"},
		{"http:///pki", "has no host"},
		{"http://pki.example.com./pki", "ending with a dot"},
		{"http://pki..example.com", "empty label"},
		{"http://-pki.example.com", "starts or ends with '-'"},
		{"http://pki_1.example.com", "holds '_'"},
		{"http://" + strings.Repeat("a", 64) + ".example.com", "label longer than 63"},
		{"http://999.1.1.1", "neither an IP address nor a DNS name"},
		{"http://010.1.1.1", "neither an IP address nor a DNS name"},
		{"http://[pki.example.com]", "is not a URL"},
		{"http://[10.0.0.1]", "is not a URL"},
		{"http://[fe80::1%25eth0]", "IPv6 zone"},
		{"http://xn--zz.example", "not a valid international domain name"},
		{"http://pki.example.com/" + strings.Repeat("a", 200), "at most 200"},
		{"http://pki.example.com/\xff", "not valid UTF-8"},
	}
	for _, tc := range refused {
		got, err := ValidateBaseURL(tc.in)
		if err == nil {
			t.Errorf("ValidateBaseURL(%q) = %q, want an error with %q", tc.in, got, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateBaseURL(%q) = %v\nwant %q", tc.in, err, tc.want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ValidateBaseURL(%q): the message repeats the password: %v", tc.in, err)
		}
		// The message shows the input escaped: no raw control byte.
		for _, r := range err.Error() {
			if r < 0x20 || r == 0x7f || r == '\u202e' || r == '\u200b' {
				t.Errorf("ValidateBaseURL(%q): the message holds a raw %U: %q", tc.in, r, err.Error())
			}
		}
	}
}

// certmint.toml's base_url is checked and normalised on load like init's
// --base-url: one edited by hand cannot put quotes or '<' into every CDP.
func TestLoadConfigBaseURL(t *testing.T) {
	s := newHome(t)
	path := filepath.Join(s.Home, ConfigFile)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set := func(t *testing.T, base string) (*Config, error) {
		t.Helper()
		edited := strings.Replace(string(orig), `base_url = "http://pki.test.example:8080/pki"`, "base_url = '"+base+"'", 1)
		if edited == string(orig) {
			t.Fatal("certmint.toml has no base_url line to edit")
		}
		p := filepath.Join(t.TempDir(), ConfigFile)
		if err := os.WriteFile(p, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(p)
	}
	c, err := set(t, "HTTP://PKI.Test.Example:8080/pki/")
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "http://pki.test.example:8080/pki" || c.CRLURL("x") != "http://pki.test.example:8080/pki/x.crl" {
		t.Errorf("loaded base_url %q, CDP %q; want them normalised", c.BaseURL, c.CRLURL("x"))
	}
	for _, tc := range []struct{ base, want string }{
		{`http://pki.test.example/"><x`, `contains '"'`},
		{"http://pki.test.example/a<b", `contains '<'`},
		{"https://pki.test.example", "must use http://"},
		{"http://u:p@pki.test.example", "user name or password"},
	} {
		_, err := set(t, tc.base)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "fix base_url there") {
			t.Errorf("base_url %q: %v, want %q and a hint", tc.base, err, tc.want)
		}
	}
}
