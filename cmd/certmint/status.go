package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "expiry report for the CA certificates, the CRLs and the issued certificates; exit 1 when anything needs attention",
		Description: "Exit status 1 when anything is inside its warning window, expired or missing: an issued\n" +
			"certificate within --warn (30 days) of its end that was not renewed, a CA certificate within\n" +
			"--ca-warn (90 days), a CRL past half its lifetime (or within --crl-warn). 0 when all is well.\n" +
			"Expired and revoked issued certificates are counted but do not change the exit status.\n\n" +
			"Let cron or a monitoring job page on the exit status, e.g. (mail goes out only on trouble):\n" +
			"  30 2 * * *  certmint status --home /srv/certmint/pki >/dev/null || certmint status --home /srv/certmint/pki\n" +
			"or check `\"alert\": true` in --json.",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "warn", Value: "30d", Usage: "warning window `SPAN` for issued certificates (30d, 2w, 48h)"},
			&cli.StringFlag{Name: "ca-warn", Value: "90d", Usage: "warning window `SPAN` for the CA certificates"},
			&cli.StringFlag{Name: "crl-warn", Usage: "warning window `SPAN` for CRLs (default: the smaller of --warn and half the CRL's lifetime)"},
			jsonFlag,
		},
		Action: statusAction,
	}
}

// errAlert makes status exit 1 without an error line of its own: the
// report already says what is wrong.
var errAlert = errors.New("something needs attention")

// statusWindow reads a warning window flag.
func statusWindow(c *cli.Context, name, example string) (time.Duration, error) {
	d, err := templates.ParseDuration(c.String(name))
	if err != nil {
		return 0, usageHint("e.g. --"+name+" "+example, "--%s: %v", name, err)
	}
	return d, nil
}

func statusAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	var opts ca.StatusOptions
	var err error
	if opts.Warn, err = statusWindow(c, "warn", "30d"); err != nil {
		return err
	}
	if opts.CAWarn, err = statusWindow(c, "ca-warn", "90d"); err != nil {
		return err
	}
	if c.IsSet("crl-warn") {
		if opts.CRLWarn, err = statusWindow(c, "crl-warn", "2d"); err != nil {
			return err
		}
	}
	s, err := openHome(c, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	opts.Now = now
	r, err := s.Status(c.Context, opts)
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		if err := o.json(newStatusJSON(r, opts)); err != nil {
			return err
		}
	} else {
		printStatus(o, r, now)
	}
	if r.Alert {
		return silent{errAlert}
	}
	return nil
}

func printStatus(o out, r *ca.StatusReport, now time.Time) {
	mark := map[string]string{ca.StateOK: "ok     ", ca.StateWarn: "WARN   ", ca.StateExpired: "EXPIRED", ca.StateMissing: "MISSING",
		ca.StateRevoked: "REVOKED", ca.StateNotYetValid: "NOT YET"}
	o.infof("CA certificates (warning %s before they expire):", spanWords(r.CAWarn))
	caTrouble, crlTrouble := false, false
	for _, a := range r.CAs {
		line := fmt.Sprintf("  %s %-28s expires %s (%s)", mark[a.State], a.Slug, a.NotAfter.Format("2006-01-02"), whenWords(a.NotAfter, now))
		if a.Problem != "" {
			line += ": " + a.Problem
		}
		o.infof("%s", line)
		caTrouble = caTrouble || a.State != ca.StateOK
	}
	o.infof("CRLs:")
	for _, l := range r.CRLs {
		crlTrouble = crlTrouble || l.State != ca.StateOK
		if l.State == ca.StateMissing {
			o.infof("  %s %-28s %s", mark[l.State], l.Slug, l.Error)
			continue
		}
		o.infof("  %s %-28s number %d, %d revoked, next update %s (%s; warning %s before)", mark[l.State], l.Slug, l.Number, l.Revoked,
			l.NextUpdate.Format("2006-01-02 15:04 MST"), whenWords(l.NextUpdate, now), spanWords(l.Window))
	}
	renewed := ""
	if r.Certs.Renewed > 0 {
		renewed = fmt.Sprintf(" (and %d already renewed)", r.Certs.Renewed)
	}
	o.infof("Issued certificates: %d valid, %d expiring within %s%s, %d expired, %d revoked.",
		r.Certs.Valid, r.Certs.Expiring, spanWords(r.Warn), renewed, r.Certs.Expired, r.Certs.Revoked)
	for _, rec := range r.Certs.Soonest {
		o.infof("  WARN    %s %s expires %s (%s)", rec.SerialHex(), textsafe.Quote(rec.CN), rec.NotAfter.Format("2006-01-02"), whenWords(rec.NotAfter, now))
	}
	// What to do, for each kind of trouble.
	if r.Certs.Expiring > 0 {
		o.infof("Renew each expiring certificate with `certmint renew SERIAL` (add --revoke-old once the new one is installed).")
	}
	if crlTrouble {
		o.infof("Run `certmint crl` to re-sign the CRLs (or keep `certmint serve` running with the CA password).")
	}
	if caTrouble {
		o.infof("A CA certificate that expires or cannot be used takes every certificate it vouches for with it: plan its replacement now.")
	}
}

// whenWords says when t is, from now, in words: "in 3 days", "in 5 hours",
// "2 days ago". The date is printed beside it; this is the distance.
func whenWords(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= time.Minute:
		return "in " + unitWords(d)
	case d > -time.Minute:
		return "now"
	}
	return unitWords(-d) + " ago"
}

// unitWords is a duration in its largest whole unit: days from 2 days,
// hours from 2 hours, else minutes, rounded down ("47 hours", not "1 day").
func unitWords(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/time.Minute), "minute")
}

// spanWords is a warning window in words, to the hour: "30 days",
// "3 days 12 hours" (half of a 7-day CRL's life), "6 hours".
func spanWords(d time.Duration) string {
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	switch {
	case d <= 0:
		return "0 minutes"
	case days == 0 && hours == 0:
		return plural(int(d/time.Minute), "minute")
	case days == 0:
		return plural(hours, "hour")
	case hours == 0:
		return plural(days, "day")
	}
	return plural(days, "day") + " " + plural(hours, "hour")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// silent is an error whose message was already shown; report prints nothing.
type silent struct{ error }
