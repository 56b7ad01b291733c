package batch

import (
	"regexp"
	"strings"

	"github.com/certmint/certmint/internal/input"
)

// columnHints rewrite the hints that issue writes for its flags (--cn,
// --san, --days) into the CSV columns that give the same values, in order:
// a bad row is fixed in the file, and a hint to type --san there would
// send the user to a flag batch does not take.
var columnHints = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\bgive --cn NAME\b`), "fill the cn column"},
	{regexp.MustCompile(`\bremove the --san value\b`), "remove that name from the san column"},
	{regexp.MustCompile(`\badd --san with\b`), "fill the san column with"},
	{regexp.MustCompile(`\badd --san (?:DNS:)?(\S+)`), "add a name such as $1 to the san column"},
	{regexp.MustCompile(`\buse fewer --days\b`), "put fewer days in the days column"},
	{regexp.MustCompile(`\buse --days (\d+) or fewer\b`), "put $1 or fewer in the days column"},
	{regexp.MustCompile(`^e\.g\. --days (\d+), or leave it out\b`), "e.g. $1 in the days column, or leave it empty"},
	// "use the FQDN, e.g. --cn W701.ACME.LOCAL" and the like.
	{regexp.MustCompile(`,? e\.g\. --(cn|san) `), " in the $1 column, e.g. "},
	{regexp.MustCompile(`\b(from|in) --(cn|san)\b`), "$1 the $2 column"},
	{regexp.MustCompile(`--(cn|san|days)\b`), "the $1 column"},
}

// subjectHint is issue's hint for missing subject fields, `add --subject
// "C=<two-letter country code>,O=<your organization>"`; its fields are
// the row's c, o, ou, st and l columns.
var subjectHint = regexp.MustCompile(`\badd --subject "([^"]*)"`)

// flagStyle writes an input the way issue's flags are written (--cn X),
// which ColumnHint then rewrites into the CSV's columns.
func flagStyle(r input.Ref) string {
	if !r.HasValue {
		return "--" + string(r.Name)
	}
	return "--" + string(r.Name) + " " + r.ValueText()
}

// ColumnHint turns a hint written for issue's flags into one for a batch
// CSV row: "use the FQDN, e.g. --cn W701.ACME.LOCAL" becomes "use the FQDN
// in the cn column, e.g. W701.ACME.LOCAL". Hints that name no such flag
// come back as they are.
func ColumnHint(hint string) string {
	if !strings.Contains(hint, "--") {
		return hint
	}
	hint = subjectHint.ReplaceAllStringFunc(hint, func(m string) string {
		var cols []string
		for _, f := range strings.Split(subjectHint.FindStringSubmatch(m)[1], ",") {
			if k, _, ok := strings.Cut(f, "="); ok {
				cols = append(cols, strings.ToLower(strings.TrimSpace(k)))
			}
		}
		switch len(cols) {
		case 0:
			return "fill the row's subject columns (c, o, ou, st, l)"
		case 1:
			return "fill the row's " + cols[0] + " column"
		}
		return "fill the row's " + strings.Join(cols[:len(cols)-1], ", ") + " and " + cols[len(cols)-1] + " columns"
	})
	for _, h := range columnHints {
		hint = h.re.ReplaceAllString(hint, h.repl)
	}
	return hint
}
