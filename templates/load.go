package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/certmint/certmint/internal/fsutil"
)

//go:embed builtin/*.toml
var builtinFS embed.FS

// maxTemplateSize bounds a template file; real ones are a few KiB.
const maxTemplateSize = 256 << 10

// Error is a problem in a template, with where it is.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted key, "" when not tied to one
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("templates: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one template, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// NotFoundError is a template name that is neither built in nor a file.
type NotFoundError struct{ Name string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("templates: no built-in template %q (run `certmint templates list`; a file must end in .toml)", e.Name)
}

// Load returns a built-in template by name, or reads a user template when
// nameOrPath ends in .toml.
func Load(nameOrPath string) (*Template, error) {
	if strings.HasSuffix(strings.ToLower(nameOrPath), ".toml") {
		return LoadFile(nameOrPath)
	}
	return Builtin(nameOrPath)
}

// LoadFile reads and validates a user template.
func LoadFile(p string) (*Template, error) {
	src, err := fsutil.ReadLimited(p, maxTemplateSize)
	var tl *fsutil.TooLargeError
	if errors.As(err, &tl) {
		return nil, &Error{File: p, Msg: fmt.Sprintf("larger than %d KiB; a template is a short TOML file", maxTemplateSize>>10)}
	}
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return Parse(p, src)
}

// Builtin returns the built-in template with that name.
func Builtin(name string) (*Template, error) {
	src, err := builtinFS.ReadFile("builtin/" + name + ".toml")
	if err != nil || strings.ContainsAny(name, "/\\") {
		return nil, &NotFoundError{Name: name}
	}
	return Parse("builtin:"+name+".toml", src)
}

// Builtins returns every built-in template, sorted by name.
func Builtins() ([]*Template, error) {
	ents, err := builtinFS.ReadDir("builtin")
	if err != nil {
		return nil, err
	}
	var out []*Template
	for _, e := range ents {
		t, err := Builtin(strings.TrimSuffix(e.Name(), ".toml"))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// BuiltinNames lists the names of the built-in templates.
func BuiltinNames() []string {
	ents, _ := builtinFS.ReadDir("builtin")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(out)
	return out
}

// typeErrRe matches BurntSushi/toml's type-mismatch errors, which are not
// ParseErrors and carry their line only in the text.
var typeErrRe = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Parse decodes src strictly and validates it. file names the source in
// messages. The error is *Error or ErrorList.
func Parse(file string, src []byte) (*Template, error) {
	if !bytes.HasSuffix(src, []byte("\n")) {
		src = append(src[:len(src):len(src)], '\n')
	}
	if err := checkNesting(file, src); err != nil {
		return nil, err
	}
	t := &Template{file: file, src: src, lines: keyLines(src)}
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(t)
	if err != nil {
		return nil, decodeError(file, src, err)
	}
	var errs ErrorList
	for _, k := range md.Undecoded() {
		key := k.String()
		if strings.HasPrefix(key, "cite.") || strings.HasPrefix(key, "advice.") {
			// Decoded by Citations.UnmarshalTOML, which refuses unknown
			// keys itself; BurntSushi/toml still lists the keys of arrays
			// of inline tables it handed over.
			continue
		}
		msg := "unknown key"
		if s := suggestKey(key); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		errs = append(errs, &Error{File: file, Line: t.line(key), Key: key, Msg: msg})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	t.applyDefaults()
	if errs := t.validate(); len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	if t.Builtin() && strings.TrimPrefix(file, "builtin:") != t.Name+".toml" {
		return nil, &Error{File: file, Key: "name", Msg: "a built-in template's name must match its file name"}
	}
	return t, nil
}

func decodeError(file string, src []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line := pe.Position.Line
		// The parser counts a newline it trips over as the next line; the
		// byte offset says where the mistake really is.
		if st := pe.Position.Start; st > 0 && st <= len(src) {
			line = 1 + bytes.Count(src[:st], []byte("\n"))
		}
		msg := strings.TrimSuffix(lowerFirst(pe.Message), ".")
		if pe.Usage != "" {
			msg += " (" + strings.TrimSpace(pe.Usage) + ")"
		}
		key := pe.LastKey
		// On a table header ("[signature" unterminated, "[san]" twice) the
		// parser's last key is the table before; name the header instead.
		if lines := strings.Split(string(src), "\n"); line >= 1 && line <= len(lines) {
			if h := strings.TrimSpace(stripComment(lines[line-1])); strings.HasPrefix(h, "[") {
				key = normKey(strings.Trim(h, "[]"))
			}
		}
		return &Error{File: file, Line: line, Key: key, Msg: msg}
	}
	if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		msg := strings.TrimPrefix(m[3], "incompatible types: ")
		return &Error{File: file, Line: line, Key: m[2], Msg: "wrong type: " + msg}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

func lowerFirst(s string) string {
	if len(s) > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z') {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

// line returns the line of a dotted key, or of its closest parent table.
func (t *Template) line(key string) int {
	for k := key; k != ""; {
		if l, ok := t.lines[k]; ok {
			return l
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// keyLines finds the line of every key and table header in a TOML text.
// Hand-written because BurntSushi/toml exposes no positions for decoded or
// undecoded keys; it is best-effort (one key per line, as templates are
// written) and only used for messages.
func keyLines(src []byte) map[string]int {
	lines := map[string]int{}
	table := ""
	for i, raw := range strings.Split(string(src), "\n") {
		n := i + 1
		s := strings.TrimSpace(stripComment(raw))
		switch {
		case s == "":
		case strings.HasPrefix(s, "[["):
			table = normKey(strings.TrimSuffix(strings.TrimPrefix(s, "[["), "]]"))
			setFirst(lines, table, n)
		case strings.HasPrefix(s, "["):
			table = normKey(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
			setFirst(lines, table, n)
		default:
			k, _, ok := strings.Cut(s, "=")
			if !ok {
				continue
			}
			full := normKey(k)
			if table != "" {
				full = table + "." + full
			}
			setFirst(lines, full, n)
		}
	}
	return lines
}

func setFirst(m map[string]int, k string, line int) {
	if _, ok := m[k]; !ok {
		m[k] = line
	}
}

func normKey(k string) string {
	parts := strings.Split(strings.TrimSpace(k), ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// stripComment drops a # comment that is not inside a string.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\' && quote == '"':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == '#':
			return s[:i]
		}
	}
	return s
}

// suggestKey proposes a known key with the same parent whose last part is
// a likely typo of key's.
func suggestKey(key string) string {
	parent, last := "", key
	if i := strings.LastIndex(key, "."); i >= 0 {
		parent, last = key[:i], key[i+1:]
	}
	var lasts []string
	for _, k := range knownKeys() {
		kp, kl := "", k
		if i := strings.LastIndex(k, "."); i >= 0 {
			kp, kl = k[:i], k[i+1:]
		}
		if kp == parent {
			lasts = append(lasts, kl)
		}
	}
	if s := closestName(last, lasts); s != "" {
		if parent == "" {
			return s
		}
		return parent + "." + s
	}
	return ""
}

// knownKeys lists every dotted key of the schema, for "did you mean".
func knownKeys() []string {
	return []string{
		"name", "description", "source", "issuer", "allow_self_signed", "unique_cn",
		"subject.require", "subject.cn", "subject.cn_or_san",
		"key.type", "key.bits", "key.curve", "key.allowed_types", "key.allowed_bits", "key.allowed_curves", "key.encrypt",
		"signature.hash", "signature.allowed", "signature.issuer_key_types", "signature.algorithms",
		"validity.days", "validity.max_days", "validity.backdate",
		"usage.key_usage", "usage.ext_key_usage", "usage.ext_key_usage_only",
		"san.require", "san.require_dns", "san.cn_in_san", "san.allow_dns", "san.allow_wildcard", "san.allow_ip", "san.allow_email", "san.allow_uri",
		"revocation.crl_distribution_point", "revocation.aia", "revocation.cdp_allow_https", "revocation.cdp_crl_file", "revocation.allow_no_cdp",
		"revocation.ocsp",
		"output.formats", "output.required", "output.optional", "output.pfx_encryption", "output.note",
		"validation.messages",
		"lint.exempt", "lint.exempt.name", "lint.exempt.reason",
		"example.cn", "example.san", "example.subject",
		"cite", "advice",
	}
}

// Describe is one line per template for `certmint templates list`.
func (t *Template) Describe() string {
	return fmt.Sprintf("%-22s %s", t.Name, t.Description)
}
