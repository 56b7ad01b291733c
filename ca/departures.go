package ca

import (
	"fmt"
	"slices"
	"strings"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/templates"
)

// RequirementError is a request that would make a certificate break one of
// its template's requirements: a vendor's own sentence. It is refused
// before anything is generated, signed or written.
type RequirementError struct {
	Template string
	// What the request asked for, in words ("a certificate without a CRL
	// distribution point", "a .pfx encrypted with AES").
	What  input.Text
	Cited templates.Cited
	Hint  input.Text
}

func (e *RequirementError) Error() string { return e.Message().String() }

// Message is the error's text with its inputs as Refs.
func (e *RequirementError) Message() input.Text {
	return input.Textf("template %q cannot issue %s: it would break a requirement of %s", e.Template, e.What, e.Cited)
}

// departures checks what a request changes from its template's defaults:
// a change that breaks a requirement is refused (unless the document
// itself allows the variation, or, for a .pfx flavour, force), one that
// breaks advice is let through with a warning. signing says the key stays
// with a CSR's requester, so the key files are not expected.
func departures(req IssueRequest, formats []templates.Format, days int, signing bool) (warnings []input.Text, err error) {
	t := req.Template
	formats = templates.WithImplied(formats) // an installer brings its .pfx
	depart := func(rule string, what, hint input.Text, forced bool) error {
		c := t.Rule(rule)
		if c.Level == templates.Requirement && !forced {
			return &RequirementError{Template: t.Name, What: what, Cited: c, Hint: hint}
		}
		why := ""
		if c.Level == templates.Requirement {
			why = ", against a requirement of " + c.String()
		} else if s := c.String(); s != "" {
			why = " (advice: " + s + ")"
		}
		warnings = append(warnings, input.Textf("%s departs from template %q%s", what, t.Name, why))
		return nil
	}

	// 004: "If you are not carrying out certificate validation, remove the
	// CRL URL reference in the certificate." Where no document allows it,
	// the CDP is a requirement (000) or advice.
	if req.NoCDP && t.Revocation.CRLDistributionPoint && !t.Revocation.AllowNoCDP {
		if err := depart("revocation.crl_distribution_point", input.Textf("a certificate without a CRL distribution point (%s)", input.Of(input.NoCDP)),
			input.Textf("leave out %s: the devices fetch the CRL from it", input.Of(input.NoCDP)), false); err != nil {
			return nil, err
		}
	}

	var missing []string
	for _, f := range t.Output.Required {
		if signing && (f == templates.FormatKey || f == templates.FormatPFX) {
			continue // the requester holds the key and makes these files
		}
		if !slices.Contains(formats, f) {
			missing = append(missing, string(f))
		}
	}
	if len(missing) > 0 {
		var keep []string
		for _, f := range formats {
			keep = append(keep, string(f))
		}
		keep = append(keep, missing...)
		if err := depart("output.required", input.PlainText(fmt.Sprintf("a bundle without its %s file", strings.Join(missing, " and "))),
			input.Textf("add them to %s: %s", input.Of(input.Format), input.Val(input.Format, strings.Join(keep, ","))), false); err != nil {
			return nil, err
		}
	}

	if req.PFX != "" && req.PFX != t.Output.PFXEncryption && slices.Contains(formats, templates.FormatPFX) {
		what := input.PlainText(fmt.Sprintf("a %s .pfx (the template's platform imports %s ones)", req.PFX, t.Output.PFXEncryption))
		if err := depart("output.pfx_encryption", what,
			input.Textf("leave out %s (the template writes a %s .pfx), or add %s to write it anyway", input.Of(input.PFX), t.Output.PFXEncryption, input.Of(input.Force)), req.Force); err != nil {
			return nil, err
		}
	}

	if t.Validity.MaxDays > 0 && days > t.Validity.MaxDays {
		if err := depart("validity.max_days", input.PlainText(fmt.Sprintf("a certificate valid for %d days (the template allows %d)", days, t.Validity.MaxDays)),
			input.Textf("use %s or fewer", input.Val(input.Days, t.Validity.MaxDays)), false); err != nil {
			return nil, err
		}
	}
	return warnings, nil
}

// selfSignedDeparture is departures for a self-signed certificate of a
// template that asks for one issued by a CA.
func selfSignedDeparture(t *templates.Template) (string, error) {
	if t.AllowSelfSigned {
		return "", nil
	}
	c := t.Rule("allow_self_signed")
	if c.Level == templates.Requirement {
		return "", &RequirementError{Template: t.Name, What: input.PlainText("a self-signed certificate"), Cited: c,
			Hint: input.Textf("issue it from the CA: certmint issue %s", input.Val(input.Template, t.Name))}
	}
	w := fmt.Sprintf("a self-signed certificate departs from template %q", t.Name)
	if s := c.String(); s != "" {
		w += " (advice: " + s + ")"
	}
	return w, nil
}
