package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

func logCommand() *cli.Command {
	return &cli.Command{
		Name:  "log",
		Usage: "the audit trail: every init, issuance, revocation, renewal, CRL publication and repair",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "since", Usage: "only events of the last `SPAN` (7d, 24h) or since a DATE (2026-11-01)"},
			&cli.StringFlag{Name: "serial", Usage: "only events about the certificate with this serial (hex)"},
			&cli.StringFlag{Name: "action", Usage: "only events of this kind: init, issue, sign, renew, revoke, crl, migrate, repair"},
			jsonFlag,
		},
		Action: logAction,
	}
}

func logAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	var o ca.LogOptions
	if v := c.String("since"); v != "" {
		if d, err := templates.ParseDuration(v); err == nil {
			o.Since = time.Now().Add(-d)
		} else if t, err := parseDate(v); err == nil {
			o.Since = t
		} else {
			return usageHint("e.g. --since 7d or --since 2026-11-01", "--since %q is neither a time span nor a date", v)
		}
	}
	if v := c.String("serial"); v != "" {
		n, err := ca.ParseSerial(v)
		if err != nil {
			return usageErrorf("--serial: %v", err)
		}
		o.Serial = ca.SerialHex(n)
	}
	o.Action = c.String("action")
	if o.Action != "" && !slices.Contains(ca.Actions, o.Action) {
		return usageHint("one of: "+strings.Join(ca.Actions, ", "), "--action %q is not a kind of event certmint records", o.Action)
	}
	s, err := openHome(c, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	entries, err := s.Log(c.Context, o)
	if err != nil {
		return err
	}
	out := output(c)
	if c.Bool(jsonFlag.Name) {
		return out.json(newLogJSON(entries))
	}
	if len(entries) == 0 {
		out.infof("No events match.")
		return nil
	}
	// The trail stores names as they were (a subject from a signed CSR, a
	// CN from a batch CSV): they are escaped here, at print, so a CN with
	// ESC[2J or U+202E cannot clear the terminal or reorder the table, and
	// a newline cannot forge an event.
	tw := tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTION\tSERIAL\tTEMPLATE\tSUBJECT\tBY\tDETAIL")
	for _, e := range entries {
		by := e.User
		if e.Host != "" {
			by += "@" + e.Host
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05"), textsafe.Quote(e.Action),
			textsafe.Quote(e.Serial), textsafe.Quote(e.Template), textsafe.Quote(e.Subject), textsafe.Quote(by),
			textsafe.Escape(strings.ReplaceAll(e.Detail, "\n", " ")))
	}
	return tw.Flush()
}
