package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "what was issued, its status and expiry",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "status", Usage: "only valid, revoked or expired certificates"},
			&cli.StringFlag{Name: "expiring", Usage: "only valid certificates expiring within `SPAN` (30d, 2w, 12h)"},
			&cli.StringFlag{Name: "template", Usage: "only certificates issued from template `NAME`"},
			&cli.IntFlag{Name: "limit", Usage: "at most `N` certificates, soonest expiry first (0: all)"},
			&cli.BoolFlag{Name: "all", Usage: "include the issuing CA's own certificate"},
			jsonFlag,
		},
		Action: listAction,
	}
}

func listAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	var expiring time.Duration
	if c.IsSet("expiring") {
		d, err := templates.ParseDuration(c.String("expiring"))
		if err != nil || d <= 0 {
			return usageHint("e.g. --expiring 30d", "--expiring: %q is not a time span", c.String("expiring"))
		}
		expiring = d
	}
	if c.Int("limit") < 0 {
		return usageHint("e.g. --limit 50", "--limit must be 0 (all) or more, not %d", c.Int("limit"))
	}
	s, err := openHome(c, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	recs, err := s.List(c.Context, ca.ListOptions{State: c.String("status"), Expiring: expiring, CAs: c.Bool("all"), Now: now,
		Template: c.String("template"), Limit: c.Int("limit")})
	if err != nil {
		return err
	}
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		return o.json(newListJSON(recs, now))
	}
	if len(recs) == 0 {
		o.infof("No certificates match.")
		return nil
	}
	tw := tabwriter.NewWriter(o.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tSTATUS\tEXPIRES\tDAYS\tTEMPLATE\tCN")
	for _, r := range recs {
		st := r.State(now)
		if st == "revoked" {
			st += " (" + crl.ReasonName(r.Reason) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.SerialHex(), st, r.NotAfter.Format("2006-01-02"),
			int(r.NotAfter.Sub(now).Hours()/24), textsafe.Quote(r.Meta.Template), textsafe.Quote(r.CN))
	}
	return tw.Flush()
}
