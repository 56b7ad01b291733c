package ca

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/templates"
)

// checkDays refuses a validity that is not between 1 and templates.MaxDays
// days. Every path that issues (issue, sign, batch, renew, safeq and the
// self-signed one) plans through planRequest, which calls it before days
// is turned into a time.Duration.
func checkDays(days int) error {
	switch {
	case days < 1:
		return &UsageError{Msg: input.Textf("%s: validity must be positive", input.Val(input.Days, days)),
			Hint: input.Textf("e.g. %s, or leave it out for the template's validity", input.Val(input.Days, 365))}
	case days > templates.MaxDays:
		return &UsageError{Msg: input.Textf("%s: validity is more than %d days (100 years)", input.Val(input.Days, days), templates.MaxDays),
			Hint: input.Textf("e.g. %s, or leave it out for the template's validity", input.Val(input.Days, 365))}
	}
	return nil
}

// checkLifetime refuses a certificate of days that would outlive its
// issuer. It compares whole days left on the issuer with days, so no
// product is computed that could overflow; an issuer with less than a day
// left takes no certificate at all.
func checkLifetime(days int, now time.Time, issuer *x509.Certificate) error {
	left := issuer.NotAfter.Sub(now) // saturates instead of overflowing
	if daysLeft := int64(left / (24 * time.Hour)); left <= 0 || int64(days) > daysLeft {
		return usageErrorf(input.Textf("use fewer %s, or renew the issuing CA", input.Of(input.Days)),
			"a certificate valid for %d days would outlive the issuing CA, which expires on %s (%s)",
			days, issuer.NotAfter.UTC().Format("2006-01-02"), daysLeftText(left))
	}
	return nil
}

func daysLeftText(left time.Duration) string {
	switch d := int64(left / (24 * time.Hour)); {
	case left <= 0:
		return "already expired"
	case d == 1:
		return "1 day from now"
	default:
		return fmt.Sprintf("%d days from now", d)
	}
}
