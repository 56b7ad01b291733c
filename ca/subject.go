package ca

import (
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// SubjectDefaults is the [subject] table of certmint.toml: the subject
// fields init was given (--country, --state, --locality, --org, --ou). A
// request that lacks a field its template requires gets it from here; a
// field the request gives always wins, and a field the template does not
// require is never added. Empty means no default.
type SubjectDefaults struct {
	C  string `toml:"c,omitempty"`
	ST string `toml:"st,omitempty"`
	L  string `toml:"l,omitempty"`
	O  string `toml:"o,omitempty"`
	OU string `toml:"ou,omitempty"`
}

// subjectDefaultFields ties each default to its attribute, its key in
// [subject] and its input of InitOptions.
var subjectDefaultFields = []struct {
	attr  templates.SubjectField
	key   string // in [subject]
	input input.Name
	get   func(*SubjectDefaults) *string
}{
	{"C", "c", input.Country, func(d *SubjectDefaults) *string { return &d.C }},
	{"ST", "st", input.State, func(d *SubjectDefaults) *string { return &d.ST }},
	{"L", "l", input.Locality, func(d *SubjectDefaults) *string { return &d.L }},
	{"O", "o", input.Org, func(d *SubjectDefaults) *string { return &d.O }},
	{"OU", "ou", input.OU, func(d *SubjectDefaults) *string { return &d.OU }},
}

// value returns the default for attr, or "".
func (d *SubjectDefaults) value(attr templates.SubjectField) string {
	for _, f := range subjectDefaultFields {
		if f.attr == attr {
			return *f.get(d)
		}
	}
	return ""
}

// normalize trims the values and writes the country in capitals, then
// checks them as MergeSubject checks typed ones: a country of two letters,
// at most 64 characters (RFC 5280 appendix A upper bounds), no control
// characters. It returns what is wrong (zero when nothing is); name says
// how to call a field in it (its key in [subject] as a string, or its
// input as an input.Ref).
func (d *SubjectDefaults) normalize(name func(key string, in input.Name) any) input.Text {
	for _, f := range subjectDefaultFields {
		p := f.get(d)
		*p = strings.TrimSpace(*p)
		v := *p
		if v == "" {
			continue
		}
		if f.attr == "C" {
			*p = strings.ToUpper(v)
			if len(v) != 2 || !isASCIILetter(v[0]) || !isASCIILetter(v[1]) {
				return input.Textf("%s: country %q must be a two-letter ISO 3166 code such as US or DE", name(f.key, f.input), v)
			}
		}
		if n := utf8.RuneCountInString(v); n > 64 {
			return input.Textf("%s: %q is %d characters; a subject field has at most 64", name(f.key, f.input), v, n)
		}
		if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return input.Textf("%s: the value contains a control character or invalid UTF-8", name(f.key, f.input))
		}
	}
	return input.Text{}
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// String lists the defaults as C=..,O=.. ("" when there are none).
func (d *SubjectDefaults) String() string {
	var parts []string
	for _, f := range subjectDefaultFields {
		if v := *f.get(d); v != "" {
			parts = append(parts, string(f.attr)+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// FillSubject returns subj with every field t requires and subj lacks
// taken from the home's [subject] defaults. Fields subj gives are kept,
// and fields t does not require are not added. A nil Config (no CA home,
// as for `certmint csr` outside one) fills nothing.
func (c *Config) FillSubject(t *templates.Template, subj pkix.Name) pkix.Name {
	if c == nil {
		return subj
	}
	for _, attr := range t.Subject.Require {
		if attr == "CN" || len(templates.SubjectValues(subj, attr)) > 0 {
			continue
		}
		if v := c.Subject.value(attr); v != "" {
			setSubjectValues(&subj, attr, []string{v})
		}
	}
	return subj
}

// setSubjectValues sets one field of a name. The slices of subj are
// replaced, never appended to, so the caller's name is not changed.
func setSubjectValues(n *pkix.Name, attr templates.SubjectField, v []string) {
	switch attr {
	case "C":
		n.Country = v
	case "ST":
		n.Province = v
	case "L":
		n.Locality = v
	case "O":
		n.Organization = v
	case "OU":
		n.OrganizationalUnit = v
	}
}

// checkRequest is where every request (issue, batch, renew, sign, safeq,
// csr) meets its template: the home's defaults fill the required fields
// the request lacks, then the template's subject and SAN rules are
// checked. sans must already be resolved (Template.ResolveSANs). It
// returns the filled subject, or the first rule broken; a subject field
// still missing gets a hint built from this home.
func (c *Config) checkRequest(t *templates.Template, subj pkix.Name, sans []san.Name) (pkix.Name, error) {
	filled := c.FillSubject(t, subj)
	errs := t.CheckRequest(filled, sans)
	if len(errs) == 0 {
		return filled, nil
	}
	e := *errs[0]
	if e.Rule == "subject.require" {
		e.Hint = c.subjectHint(t, subj, false)
	}
	return filled, &e
}

// subjectHint says how to give the fields t requires that the request
// subj lacks and the home does not fill: a --subject (or, for a batch
// row, the CSV columns) with a placeholder for each, the fields this home
// gave, and where to set defaults once. It never proposes an example
// company: the values are the user's own.
func (c *Config) subjectHint(t *templates.Template, subj pkix.Name, batchRow bool) input.Text {
	filled := c.FillSubject(t, subj)
	var add, cols, keys, given []string
	for _, attr := range t.Subject.Require {
		switch {
		case attr == "CN":
		case len(templates.SubjectValues(filled, attr)) == 0:
			key := strings.ToLower(string(attr))
			add = append(add, string(attr)+"="+templates.SubjectPlaceholder(attr))
			cols = append(cols, key)
			keys = append(keys, fmt.Sprintf("%s = %q", key, templates.SubjectPlaceholder(attr)))
		case len(templates.SubjectValues(subj, attr)) == 0:
			given = append(given, string(attr)+"="+templates.SubjectValues(filled, attr)[0])
		}
	}
	hint := input.Textf("add %s", input.Quoted(input.Subject, strings.Join(add, ",")))
	if batchRow {
		s := "fill the row's " + joinAnd(cols) + " column"
		if len(cols) > 1 {
			s += "s"
		}
		hint = input.PlainText(s)
	}
	if c == nil {
		return hint
	}
	if len(given) > 0 {
		hint = input.Textf("%s (the CA home gives %s)", hint, strings.Join(given, ", "))
	}
	where := ConfigFile
	if c.path != "" {
		where = c.path
	}
	return input.Textf("%s, or set the home's defaults once: add %s under [subject] in %s", hint, joinAnd(keys), where)
}

func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
