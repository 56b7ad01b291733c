package testkit

import "github.com/certmint/certmint/internal/input"

// Dashed writes a message that names inputs the way a command line of the
// same words would (--cn NAME, --subject "O=..."), so that the tests of
// packages below cmd can state a hint as a user reads it. The CLI's own
// names (cmd/certmint's inputFlags) may differ: this is not them.
func Dashed(t input.Text) string {
	return t.Render(func(r input.Ref) string {
		s := "--" + string(r.Name)
		if r.HasValue {
			s += " " + r.ValueText()
		}
		return s
	})
}
