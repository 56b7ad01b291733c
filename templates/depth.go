package templates

import "fmt"

// maxNesting bounds how deep a template may nest tables, arrays and dotted
// keys. The schema needs three levels ([[lint.exempt]], a list inside a
// table); BurntSushi/toml's decoder is quadratic in the nesting depth (a
// 40 KB file of 10,000 nested inline tables takes it 12 s and 4 GB), so an
// absurdly nested file is refused before it reaches the decoder.
const maxNesting = 32

// checkNesting scans src once, skipping strings and comments, and refuses
// more than maxNesting levels of brackets, braces and dotted-key parts.
// Hand-written: the decoder has no depth limit to set.
func checkNesting(file string, src []byte) error {
	depth, dots, line := 0, 0, 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '\n':
			line++
			dots = 0
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			i, line = skipString(src, i, line)
		case '[', '{':
			depth++
			dots = 0
		case ']', '}':
			depth--
		case '=', ',':
			dots = 0
		case '.':
			dots++
		}
		if depth+dots > maxNesting {
			return &Error{File: file, Line: line,
				Msg: fmt.Sprintf("nested more than %d levels deep (tables, arrays or dotted keys); a template is a few flat tables", maxNesting)}
		}
	}
	return nil
}

// skipString returns the index of the last byte of the string that starts
// at src[i] (basic or literal, single- or multi-line), and the line it ends
// on. An unterminated string runs to the end of its line (single-line) or
// of the file (multi-line); the decoder reports it.
func skipString(src []byte, i, line int) (int, int) {
	q := src[i]
	multi := i+2 < len(src) && src[i+1] == q && src[i+2] == q
	if multi {
		i += 2
	}
	for i++; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && q == '"':
			if i+1 < len(src) && src[i+1] == '\n' {
				line++
			}
			i++
		case c == '\n':
			if !multi {
				return i - 1, line
			}
			line++
		case c == q && !multi:
			return i, line
		case c == q && i+2 < len(src) && src[i+1] == q && src[i+2] == q:
			// A closing """ may be followed by up to two more quotes
			// that belong to the string.
			i += 2
			for i+1 < len(src) && src[i+1] == q {
				i++
			}
			return i, line
		}
	}
	return i, line
}
