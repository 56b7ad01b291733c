package textsafe

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hostile holds, one per entry, the characters an attacker puts in a
// certificate's names: they must never come out of Quote, Escape or JSON
// as they are.
var hostile = []string{
	"\x1b", "\x9b", "\r", "\n", "\x00", "\x7f", "\x07", "\b", "\v", "\f",
	"\u202e", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069",
	"\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad",
	"\u2028", "\u2029", "\u0085", "\u00a0", "\U000e0001", "\ue000",
}

func TestQuote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"host name", "www.example.com", "www.example.com"},
		{"distinguished name", "CN=Contoso Issuing CA,O=Contoso,C=US", "CN=Contoso Issuing CA,O=Contoso,C=US"},
		{"accented name", "Zoë Müller", "Zoë Müller"},
		{"CJK and emoji", "証明書 🔒", "証明書 🔒"},
		{"combining mark", "e\u0301", "e\u0301"},
		{"backslash and quote inside", `a\b"c`, `a\b"c`},
		{"leading double quote", `"quoted"`, `"\"quoted\""`},
		{"ESC", "a\x1bb", `"a\x1bb"`},
		{"CSI colour", "evil\x1b[31mred\x1b[0m", `"evil\x1b[31mred\x1b[0m"`},
		{"OSC title", "\x1b]0;pwned\x07", `"\x1b]0;pwned\a"`},
		{"C1 CSI", "a\u009b2J", `"a\u009b2J"`},
		{"CR", "ok\roverwritten", `"ok\roverwritten"`},
		{"LF forges a line", "a\nFAKE: b", `"a\nFAKE: b"`},
		{"NUL", "a\x00b", `"a\x00b"`},
		{"DEL", "a\x7fb", `"a\x7fb"`},
		{"tab", "a\tb", `"a\tb"`},
		{"RLO", "invoice\u202egnp.exe", `"invoice\u202egnp.exe"`},
		{"LRI to PDI", "a\u2066b\u2069", `"a\u2066b\u2069"`},
		{"FSI and RLI", "\u2068\u2067x", `"\u2068\u2067x"`},
		{"LRM and RLM", "a\u200eb\u200f", `"a\u200eb\u200f"`},
		{"zero-width space", "pay\u200bpal.com", `"pay\u200bpal.com"`},
		{"zero-width joiners", "a\u200c\u200db", `"a\u200c\u200db"`},
		{"byte order mark", "\ufeffadmin", `"\ufeffadmin"`},
		{"word joiner", "a\u2060b", `"a\u2060b"`},
		{"soft hyphen", "ad\u00admin", `"ad\u00admin"`},
		{"line separator", "a\u2028b", `"a\u2028b"`},
		{"no-break space", "a\u00a0b", `"a\u00a0b"`},
		{"tag character", "a\U000e0041", `"a\U000e0041"`},
		{"invalid UTF-8", "a\xffb", `"a\xffb"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Quote(tc.in)
			if got != tc.want {
				t.Errorf("Quote(%+q) = %s, want %s", tc.in, got, tc.want)
			}
			if Safe(tc.in) != (got == tc.in) {
				t.Errorf("Safe(%+q) = %v, but Quote changed it: %v", tc.in, Safe(tc.in), got != tc.in)
			}
			assertShowable(t, got, false)
		})
	}
}

// assertShowable fails when s holds a character a terminal would act on
// (newlines and tabs allowed when lines is set).
func assertShowable(t *testing.T, s string, lines bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%+q is not valid UTF-8", s)
	}
	for _, r := range s {
		if lines && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) || r == '\u00a0' || unicode.Is(unicode.Co, r) {
			t.Errorf("%+q holds %U", s, r)
		}
	}
}

func TestHostileNeverRaw(t *testing.T) {
	for _, h := range hostile {
		s := "x" + h + "y"
		assertShowable(t, Quote(s), false)
		assertShowable(t, Escape(s), false)
		if h != "\n" {
			assertShowable(t, EscapeLines(s), true)
		}
		b, _ := json.Marshal(map[string]string{"v": s})
		assertShowable(t, string(JSON(b)), false)
	}
}

func TestJoin(t *testing.T) {
	got := Join([]string{"a.example.com", "b\x1b.example.com"}, ", ")
	if want := `a.example.com, "b\x1b.example.com"`; got != want {
		t.Errorf("Join = %s, want %s", got, want)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "certmint: error: no such file", "certmint: error: no such file"},
		{"newline and tab", "line 1\n\tline 2", `line 1\n\tline 2`},
		{"accents kept", "Zoë", "Zoë"},
		{"quotes kept", `say "hi"`, `say "hi"`},
		{"ESC", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"CR", "a\rb", `a\rb`},
		{"BEL", "a\x07", `a\a`},
		{"NUL and DEL", "\x00\x7f", `\x00\x7f`},
		{"RLO", "a\u202eb", `a\u202eb`},
		{"zero-width space", "a\u200bb", `a\u200bb`},
		{"BOM", "\ufeffa", `\ufeffa`},
		{"C1", "a\u0085b", `a\u0085b`},
		{"invalid byte", "a\xfeb", `a\xfeb`},
		{"astral tag", "\U000e0041", `\U000e0041`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%+q) = %s, want %s", tc.in, got, tc.want)
			}
			// EscapeLines differs only in keeping newlines and tabs.
			want := strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(tc.want)
			if got := EscapeLines(tc.in); got != want {
				t.Errorf("EscapeLines(%+q) = %s, want %s", tc.in, got, want)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the escaped string as it appears in the JSON
	}{
		{"plain", "www.example.com", `"www.example.com"`},
		{"accents", "Zoë", `"Zoë"`},
		{"ESC (encoding/json)", "a\x1b", `"a\u001b"`},
		{"DEL", "a\x7f", `"a\u007f"`},
		{"C1", "a\u009b", `"a\u009b"`},
		{"RLO", "a\u202eb", `"a\u202eb"`},
		{"LRI", "\u2066x", `"\u2066x"`},
		{"zero-width space", "a\u200b", `"a\u200b"`},
		{"BOM", "\ufeff", `"\ufeff"`},
		{"astral tag", "\U000e0041", `"\udb40\udc41"`},
		{"invalid byte (encoding/json)", "a\xff", `"a\ufffd"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal([]string{tc.in})
			if err != nil {
				t.Fatal(err)
			}
			got := JSON(raw)
			if want := "[" + tc.want + "]"; string(got) != want {
				t.Errorf("JSON(%s) = %s, want %s", raw, got, want)
			}
			var back []string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("the escaped JSON does not parse: %v", err)
			}
			if in := strings.ToValidUTF8(tc.in, "\ufffd"); back[0] != in {
				t.Errorf("decodes to %+q, want %+q", back[0], in)
			}
		})
	}
	// Indented output keeps its layout.
	raw, _ := json.MarshalIndent(map[string]any{"a": []string{"x\u202e"}}, "", "  ")
	if got, want := string(JSON(raw)), "{\n  \"a\": [\n    \"x\\u202e\"\n  ]\n}"; got != want {
		t.Errorf("indented: got\n%s\nwant\n%s", got, want)
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"host1", "host1"},
		{"www.example.com", "www.example.com"},
		{"a=b", "a=b"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"\n=1", "'\n=1"},
		{"\x00x", "'\x00x"},
		{"'plain", "'plain"},
		{"'=1", "''=1"},
		{"''-1", "'''-1"},
		{"Zoë", "Zoë"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := CSVCell(tc.in)
			if got != tc.want {
				t.Errorf("CSVCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got != "" && formulaStart(got[0]) {
				t.Errorf("CSVCell(%q) = %q starts a formula", tc.in, got)
			}
			if back := CSVValue(got); back != tc.in {
				t.Errorf("CSVValue(%q) = %q, want %q", got, back, tc.in)
			}
		})
	}
	// A file written before cells were prefixed reads back unchanged.
	for _, old := range []string{"=old", "-name", "'quoted", "plain"} {
		if got := CSVValue(old); got != old {
			t.Errorf("CSVValue(%q) = %q, want it unchanged", old, got)
		}
	}
}

func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"", "=1", "'=1", "''", "'", "-", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CSVCell(s)
		if c != "" && formulaStart(c[0]) {
			t.Errorf("CSVCell(%q) = %q starts a formula", s, c)
		}
		if back := CSVValue(c); back != s {
			t.Errorf("CSVValue(CSVCell(%q)) = %q", s, back)
		}
	})
}

func FuzzQuote(f *testing.F) {
	for _, s := range append([]string{"", "Zoë", `"x`}, hostile...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		assertShowable(t, q, false)
		assertShowable(t, Escape(s), false)
		assertShowable(t, EscapeLines(s), true)
		b, _ := json.Marshal(s)
		assertShowable(t, string(JSON(b)), false)
	})
}
