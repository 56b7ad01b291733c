package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
	"github.com/urfave/cli/v2"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "expiry report for the CA certificates, the CRLs and the issued certificates",
		Description: "Exits with status 1 when a CA certificate or a CRL is inside the warning window, expired or\n" +
			"missing, so a monitoring job can alert: an expired CRL breaks every validator at once.",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "warn", Value: "7d", Usage: "warning window `SPAN` for CA and issued certificates (7d, 2w, 48h)"},
			&cli.StringFlag{Name: "crl-warn", Usage: "warning window `SPAN` for CRLs (default: the smaller of --warn and half the CRL's lifetime)"},
			jsonFlag,
		},
		Action: statusAction,
	}
}

// errAlert makes status exit 1 without an error line of its own: the
// report already says what is wrong.
var errAlert = errors.New("a CA certificate or CRL needs attention")

func statusAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	warn, err := templates.ParseDuration(c.String("warn"))
	if err != nil {
		return usageHint("e.g. --warn 7d", "--warn: %v", err)
	}
	var crlWarn time.Duration
	if c.IsSet("crl-warn") {
		if crlWarn, err = templates.ParseDuration(c.String("crl-warn")); err != nil {
			return usageHint("e.g. --crl-warn 2d", "--crl-warn: %v", err)
		}
	}
	s, err := openHome(c, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	r, err := s.Status(c.Context, warn, crlWarn, now)
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		if err := o.json(newStatusJSON(r, warn)); err != nil {
			return err
		}
	} else {
		mark := map[string]string{ca.StateOK: "ok     ", ca.StateWarn: "WARN   ", ca.StateExpired: "EXPIRED", ca.StateMissing: "MISSING"}
		o.infof("CA certificates (warning window %s):", templates.FormatDuration(warn))
		for _, a := range r.CAs {
			o.infof("  %s %-28s expires %s (%d days)", mark[a.State], a.Slug, a.NotAfter.Format("2006-01-02"), a.DaysLeft)
		}
		o.infof("CRLs:")
		for _, l := range r.CRLs {
			if l.State == ca.StateMissing {
				o.infof("  %s %-28s %s", mark[l.State], l.Slug, l.Error)
				continue
			}
			o.infof("  %s %-28s number %d, %d revoked, next update %s (in %s; warning at %s)", mark[l.State], l.Slug, l.Number, l.Revoked,
				l.NextUpdate.Format("2006-01-02 15:04 MST"), human(l.NextUpdate.Sub(now)), templates.FormatDuration(l.Window.Round(time.Minute)))
		}
		o.infof("Issued certificates: %d valid, %d expiring within %s, %d expired, %d revoked.",
			r.Certs.Valid, r.Certs.Expiring, templates.FormatDuration(warn), r.Certs.Expired, r.Certs.Revoked)
		for _, rec := range r.Certs.Soonest {
			o.infof("  %s %s expires %s", rec.SerialHex(), textsafe.Quote(rec.CN), rec.NotAfter.Format("2006-01-02"))
		}
		if r.Alert {
			o.infof("Run `certmint crl` to re-sign the CRLs (or keep `certmint serve` running with the CA password).")
		}
	}
	if r.Alert {
		return silent{errAlert}
	}
	return nil
}

// silent is an error whose message was already shown; report prints nothing.
type silent struct{ error }

func human(d time.Duration) string {
	if d < 0 {
		return "the past"
	}
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}
