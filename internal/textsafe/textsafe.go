// Package textsafe makes text that came from outside certmint safe to show:
// names and strings read from certificates, certificate requests, CRLs,
// CSV files, URLs and templates reach a terminal, a log or a spreadsheet
// only in a form that cannot move the cursor, recolour or clear the screen,
// forge a line, reorder what follows (bidi controls such as U+202E) or
// hide characters (zero-width ones such as U+200B).
//
// Quote is for one value; Escape and EscapeLines are a last guard over a
// line or a message that certmint composed; JSON finishes encoding/json output; CSVCell and
// CSVValue write and read spreadsheet cells. Hand-written: the standard
// library has the pieces (strconv.IsPrint, strconv.Quote) but no function
// that leaves ordinary names such as "Zoë" alone and escapes the rest.
package textsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// printable reports whether r can be shown as itself: strconv.IsPrint is
// true for letters, marks, numbers, punctuation, symbols and the ASCII
// space, and false for control characters (C0, DEL, C1), format
// characters (category Cf: the bidi controls U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069, the zero-width U+200B-U+200D, U+2060 and U+FEFF, the soft
// hyphen), line and paragraph separators, other spaces (U+00A0 looks like a
// space but is not one), private-use and unassigned code points.
func printable(r rune) bool {
	return r != utf8.RuneError && strconv.IsPrint(r)
}

// Safe reports whether s is shown unchanged by Quote: valid UTF-8 whose
// every character is printable, not starting with a double quote (so a
// value shown in quotes is always an escaped one, never a look-alike).
func Safe(s string) bool {
	if strings.HasPrefix(s, `"`) {
		return false
	}
	for _, r := range s {
		if !printable(r) {
			return false
		}
	}
	return true
}

// Quote returns s unchanged when it is Safe, and otherwise its Go-quoted
// form (strconv.Quote), in which every non-printable character is an
// escape: ESC is \x1b, a newline \n, U+202E \u202e, an invalid byte \xff.
// The result never holds a control, format or separator character.
func Quote(s string) string {
	if Safe(s) {
		return s
	}
	return strconv.Quote(s)
}

// Join quotes each of list and joins them with sep.
func Join(list []string, sep string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Quote(s)
	}
	return strings.Join(out, sep)
}

// Escape replaces every non-printable character of s, newline and tab
// included, by its escape (as Quote writes it, without quotes), leaving
// the rest as it is. It is for one line certmint composed whose outside
// values should already be quoted: a second guard, so that a value quoted
// nowhere still cannot drive the terminal or start a line of its own.
func Escape(s string) string { return escape(s, false) }

// EscapeLines is Escape for a message of several lines: newlines and tabs
// stay (the caller prefixes each line), everything else is escaped.
func EscapeLines(s string) string { return escape(s, true) }

func escape(s string, lines bool) string {
	keep := func(r rune) bool { return printable(r) || lines && (r == '\n' || r == '\t') }
	clean := true
	for _, r := range s {
		if !keep(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			const hex = "0123456789abcdef"
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		case keep(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// JSON rewrites encoding/json output so that it holds no raw non-printable
// character. encoding/json escapes C0 controls, U+2028 and U+2029 but
// writes DEL, C1 controls and format characters (bidi controls, zero-width
// spaces) as they are; inside a JSON string \uXXXX means the same
// character, so the document decodes to the same values. Outside strings
// JSON text is ASCII, so only string contents change.
func JSON(b []byte) []byte {
	var out []byte // nil until the first character to escape
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		keep := r < utf8.RuneSelf && r != 0x7f || size > 1 && printable(r)
		if keep {
			if out != nil {
				out = append(out, b[i:i+size]...)
			}
			i += size
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r > 0xffff:
			r1, r2 := surrogates(r)
			out = appendU(appendU(out, r1), r2)
		default:
			out = appendU(out, r)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// surrogates splits a rune above U+FFFF into its UTF-16 pair, the only
// way JSON can escape it.
func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// formulaStart reports whether a spreadsheet would read a cell starting
// with c as a formula. OWASP's CSV Injection page: "Ensure that no cells
// begin with any of the following characters: Equals to (=), Plus (+),
// Minus (-), At (@), Tab (0x09), Carriage return (0x0D)"; ASVS 5.0 1.2.10
// adds the NUL character, and some readers treat a leading line feed like
// a carriage return.
func formulaStart(c byte) bool {
	return strings.IndexByte("=+-@\t\r\n\x00", c) >= 0
}

// needsPrefix reports whether s would be read as a formula, or looks like
// a cell CSVCell prefixed ("'" then such a value), so that CSVValue can
// tell the two apart.
func needsPrefix(s string) bool {
	for len(s) > 0 && s[0] == '\'' {
		s = s[1:]
	}
	return len(s) > 0 && formulaStart(s[0])
}

// CSVCell is s as a CSV cell that no spreadsheet evaluates: a value
// starting with =, +, -, @, tab, CR, LF or NUL gets a single quote in
// front, as OWASP advises ("prepend each cell field with a single
// quote"). A value that starts with quotes followed by such a character
// gets one more quote, so that CSVValue undoes exactly what CSVCell did;
// every other value is unchanged. Quoting for the CSV syntax itself is
// encoding/csv's job.
func CSVCell(s string) string {
	if needsPrefix(s) {
		return "'" + s
	}
	return s
}

// CSVValue is the value of a cell CSVCell wrote: CSVValue(CSVCell(s)) == s
// for every s, and a cell written without CSVCell reads back unchanged
// unless it is a quote followed by a formula.
func CSVValue(cell string) string {
	if strings.HasPrefix(cell, "'") && needsPrefix(cell[1:]) {
		return cell[1:]
	}
	return cell
}
