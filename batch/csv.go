// Package batch reads the CSV of `certmint batch`: one certificate request
// per row, streamed, each bad row reported with its line number.
package batch

import (
	"bufio"
	"bytes"
	"crypto/x509/pkix"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// Columns a batch CSV may have. Only cn is required.
var Columns = []string{"cn", "san", "name", "c", "o", "ou", "st", "l", "days", "password", "key"}

// MaxLine bounds one CSV line: a row is a host name and a few fields, and
// a 1 MB line is a mistake (a binary file, a missing newline).
const MaxLine = 64 << 10

// Row is one request.
type Row struct {
	Line     int // line number in the file, for messages
	CN       string
	SANs     []san.Name
	Name     string // the bundle folder and file base: "name" or the CN, made filesystem-safe
	Subject  pkix.Name
	Days     int
	Password string // from the "password" column; empty: the batch's password
	// Key is the row's leaf key from the "key" column (rsa:4096,
	// ecdsa:P-256, ...), within what the template accepts; zero: the
	// batch's key.
	Key keys.Spec
}

// RowError is a row that cannot be issued. Reading goes on after it.
type RowError struct {
	Line int
	CN   string
	Err  error
}

func (e *RowError) Error() string {
	if e.CN != "" {
		return fmt.Sprintf("line %d (%s): %v", e.Line, e.CN, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// Reader streams rows from a CSV with a header line.
type Reader struct {
	csv *csv.Reader

	index    map[string]int // column name -> field index
	template *templates.Template
	seenCN   map[string]int // lower-cased CN -> first line
	seenName map[string]int
}

// HeaderError is a header the reader refuses: nothing is issued.
type HeaderError struct {
	Msg  string
	Hint string
}

func (e *HeaderError) Error() string { return "batch: " + e.Msg }

// HintText implements the CLI's hint interface.
func (e *HeaderError) HintText() string { return e.Hint }

// NewReader reads the header. Unknown columns, a missing cn column and
// repeated columns are errors; column names are case-insensitive. The
// columns are separated by commas, or by semicolons (or tabs) when the
// header has no comma: Excel saves "CSV" with ';' where the decimal mark
// is a comma (most of Europe), and "Unicode text" with tabs.
func NewReader(r io.Reader, t *templates.Template) (*Reader, error) {
	head, r := firstLine(r)
	lc := &lineLimit{r: r, line: 1}
	cr := csv.NewReader(lc)
	sep, sepLine := separator(head)
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	if sepLine {
		cr.Read() // "sep=;": read, so that line numbers stay those of the file
	}
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &HeaderError{Msg: "the CSV is empty; its first line must be a header such as: cn,san,name"}
		}
		return nil, &HeaderError{Msg: "reading the header: " + err.Error()}
	}
	rd := &Reader{csv: cr, index: map[string]int{}, template: t, seenCN: map[string]int{}, seenName: map[string]int{}}
	var unknown []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case !slices.Contains(Columns, h):
			unknown = append(unknown, fmt.Sprintf("%q", h))
		case rd.has(h):
			return nil, &HeaderError{Msg: fmt.Sprintf("column %q appears twice in the header", h)}
		default:
			rd.index[h] = i
		}
	}
	if len(unknown) > 0 {
		e := &HeaderError{Msg: fmt.Sprintf("unknown column %s in the header (known: %s)", strings.Join(unknown, ", "), strings.Join(Columns, ", "))}
		if strings.ContainsAny(strings.Join(unknown, ""), ";\t") {
			e.Hint = "separate the columns with commas, or with semicolons (or tabs) throughout: a header with both commas and semicolons is read as comma-separated"
		}
		return nil, e
	}
	if !rd.has("cn") {
		return nil, &HeaderError{Msg: "the header has no cn column (known: " + strings.Join(Columns, ", ") + ")"}
	}
	return rd, nil
}

func (r *Reader) has(col string) bool { _, ok := r.index[col]; return ok }

// Next returns the next row. At the end it returns io.EOF. A bad row comes
// back as *RowError and the next call reads on; a broken file (a line over
// MaxLine, bad quoting) is any other error and ends the reading.
func (r *Reader) Next() (*Row, error) {
	for {
		rec, err := r.csv.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("batch: %w", err)
		}
		line, _ := r.csv.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		row, err := r.parse(rec, line)
		if err != nil {
			return nil, err
		}
		return row, nil
	}
}

func (r *Reader) field(rec []string, col string) string {
	i, ok := r.index[col]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func (r *Reader) parse(rec []string, line int) (*Row, error) {
	row := &Row{Line: line, CN: r.field(rec, "cn")}
	bad := func(format string, args ...any) error {
		return &RowError{Line: line, CN: row.CN, Err: fmt.Errorf(format, args...)}
	}
	if row.CN == "" {
		return nil, bad("cn is empty")
	}
	if first, dup := r.seenCN[strings.ToLower(row.CN)]; dup {
		return nil, bad("cn %q already appears on line %d", row.CN, first)
	}
	r.seenCN[strings.ToLower(row.CN)] = line
	row.Subject.CommonName = row.CN
	for col, dst := range map[string]*[]string{"c": &row.Subject.Country, "o": &row.Subject.Organization,
		"ou": &row.Subject.OrganizationalUnit, "st": &row.Subject.Province, "l": &row.Subject.Locality} {
		if v := r.field(rec, col); v != "" {
			*dst = []string{v}
		}
	}
	if c := row.Subject.Country; len(c) == 1 {
		if err := templates.MergeSubject(&pkix.Name{}, "C="+c[0]); err != nil {
			return nil, bad("%v", err)
		}
		row.Subject.Country = []string{strings.ToUpper(c[0])}
	}
	// Several SANs in one cell are separated by ';' (',' separates cells).
	if v := r.field(rec, "san"); v != "" {
		names, err := san.ParseList(strings.Split(v, ";"))
		if err != nil {
			if h := hintOf(err); h != "" {
				return nil, bad("san: %v (%s)", err, ColumnHint(h))
			}
			return nil, bad("san: %v", err)
		}
		row.SANs = names
	}
	name := r.field(rec, "name")
	if name == "" {
		name = row.CN
	}
	row.Name = fsutil.SafeName(name)
	if first, dup := r.seenName[strings.ToLower(row.Name)]; dup {
		return nil, bad("its folder name %q is already used by line %d; give a different name column", row.Name, first)
	}
	r.seenName[strings.ToLower(row.Name)] = line
	if v := r.field(rec, "days"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d <= 0 {
			return nil, bad("days %q is not a positive number", v)
		}
		if d > templates.MaxDays {
			return nil, bad("days %d is more than %d (100 years)", d, templates.MaxDays)
		}
		row.Days = d
	}
	row.Password = r.field(rec, "password")
	if v := r.field(rec, "key"); v != "" {
		k, err := keys.ParseSpec(v)
		if err != nil {
			return nil, bad("%v", err)
		}
		if t := r.template; t != nil && !t.Key.Allows(templates.KeyType(k.Type), k.Bits, templates.Curve(k.Curve)) {
			return nil, bad("template %q accepts %s; key %s is not one of them", t.Name, t.Key.AllowedKeys(), k)
		}
		row.Key = k
	}
	if r.template != nil {
		names := r.template.ResolveSANs(row.CN, row.SANs)
		for _, e := range r.template.CheckRequest(row.Subject, names) {
			// A required subject field the row lacks may come from the
			// CA home's defaults: the issuing store fills and checks it.
			if e.Rule == "subject.require" {
				continue
			}
			// The hint names the row's columns, never command-line flags:
			// written as issue's flags, then rewritten by ColumnHint.
			msg := e.Msg
			if !e.Hint.IsZero() {
				msg += " (" + ColumnHint(e.Hint.Render(flagStyle)) + ")"
			}
			return nil, bad("%s", msg)
		}
	}
	return row, nil
}

// lineLimit refuses a line longer than MaxLine, so a huge line is not
// buffered whole by the CSV reader.
type lineLimit struct {
	r       io.Reader
	line    int
	current int // bytes since the last newline
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.line++
			l.current = 0
			continue
		}
		l.current++
		if l.current > MaxLine {
			return 0, fmt.Errorf("line %d is longer than %d KiB; is this a CSV file?", l.line, MaxLine>>10)
		}
	}
	return n, err
}

// firstLine reads the header line of r (up to MaxLine bytes) and returns
// it with a reader that yields all of r again, header included.
func firstLine(r io.Reader) (string, io.Reader) {
	br := bufio.NewReaderSize(r, MaxLine)
	line, _ := br.ReadSlice('\n') // a longer line is lineLimit's error
	line = bytes.Clone(line)
	return string(line), io.MultiReader(bytes.NewReader(line), br)
}

// separator is the column separator of a CSV whose first line is head: a
// comma, unless the header has none and has semicolons (or tabs). Excel
// also reads and writes a first line "sep=;" that names it; sepLine says
// head is that line.
func separator(head string) (sep rune, sepLine bool) {
	head = strings.TrimRight(strings.TrimPrefix(head, "\ufeff"), "\r\n")
	if rest, ok := strings.CutPrefix(strings.ToLower(head), "sep="); ok && utf8.RuneCountInString(rest) == 1 {
		if r, _ := utf8.DecodeRuneInString(rest); r == ',' || r == ';' || r == '\t' || r == '|' {
			return r, true
		}
	}
	switch {
	case strings.Contains(head, ","):
		return ',', false
	case strings.Contains(head, ";"):
		return ';', false
	case strings.Contains(head, "\t"):
		return '\t', false
	}
	return ',', false
}

// hintOf is the hint an error carries for the user, if any.
func hintOf(err error) string {
	var h interface{ HintText() string }
	if errors.As(err, &h) {
		return h.HintText()
	}
	return ""
}
