package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/doctor"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "find (and with --repair, fix where safe) disagreements between the database, the files and public/",
		Description: "Checks every bundle folder the database knows, public/ and the home: certificates on disk\n" +
			"the database does not know and the reverse, incomplete bundles, bundles an interrupted issue or\n" +
			"batch left in their staging folder, leftover .certmint-tmp-* files, public/<ca>.crt, each CRL\n" +
			"(missing, unsigned, missing a revocation, due or past nextUpdate), issuances and revocations\n" +
			"missing from the audit trail, loose permissions on keys, .pfx, passwords, the home and the\n" +
			"database, and CA certificates near expiry. --repair fixes what is safe and records each repair\n" +
			"in the audit trail; publishing a CRL needs the CA password. Exit status 0 when nothing is\n" +
			"wrong (or all was repaired), else 1.",
		Flags: []cli.Flag{
			homeFlag,
			&cli.BoolFlag{Name: "repair", Usage: "repair what is safe to repair"},
			&cli.StringFlag{Name: "warn", Value: "90d", Usage: "report CA certificates that expire within `SPAN`"},
			&cli.StringFlag{Name: "crl-warn", Usage: "a CRL is due when its nextUpdate is within `SPAN` (default: once half its lifetime has passed)"},
			&cli.StringFlag{Name: "temp-age", Value: "10m", Usage: "remove temporary files older than `SPAN` only: a running certmint may own younger ones (0 when none runs)"},
			caPasswordFileFlag,
			jsonFlag,
		},
		Action: doctorAction,
	}
}

func doctorAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	o := doctor.Options{Repair: c.Bool("repair"), Now: time.Now()}
	var err error
	if o.Warn, err = templates.ParseDuration(c.String("warn")); err != nil || o.Warn <= 0 {
		return usageHint("e.g. --warn 90d", "--warn %q is not a positive time span", c.String("warn"))
	}
	if c.IsSet("crl-warn") {
		if o.CRLWarn, err = templates.ParseDuration(c.String("crl-warn")); err != nil || o.CRLWarn <= 0 {
			return usageHint("e.g. --crl-warn 2d", "--crl-warn %q is not a positive time span", c.String("crl-warn"))
		}
	}
	if o.TempAge, err = templates.ParseDuration(c.String("temp-age")); err != nil || o.TempAge < 0 {
		return usageHint("e.g. --temp-age 10m, or 0 when no certmint is running", "--temp-age %q is not a time span", c.String("temp-age"))
	}
	if o.TempAge == 0 {
		o.TempAge = -1 // any age
	}
	// The CA password is only needed to publish a CRL, so only asked for
	// when repairing.
	var password func() (string, error)
	src := caPassword(c, false)
	if o.Repair {
		password = src.Resolve
	}
	s, err := openHome(c, password)
	if err != nil {
		return err
	}
	askCAAgain(c, s, src)
	defer s.Close()
	r, err := doctor.Run(c.Context, s, o)
	if err != nil {
		return err
	}
	out := output(c)
	if c.Bool(jsonFlag.Name) {
		if err := out.json(newDoctorJSON(r)); err != nil {
			return err
		}
	} else {
		printDoctor(out, r)
	}
	if r.OK() {
		return nil
	}
	pending := r.Unresolved() - r.Unrepairable()
	hint := "each problem above says what to run"
	if pending > 0 && !o.Repair {
		hint = "run `certmint doctor --repair` to fix what can be fixed"
	}
	return &doctorError{msg: fmt.Sprintf("%d of %d findings need attention (%d cannot be repaired by doctor)", r.Unresolved(), len(r.Findings), r.Unrepairable()), hint: hint}
}

type doctorError struct{ msg, hint string }

func (e *doctorError) Error() string    { return e.msg }
func (e *doctorError) HintText() string { return e.hint }

func printDoctor(o out, r *doctor.Report) {
	o.infof("Checked %s (database schema version %d): %d certificates, %d certificate files in %d bundle folders, public/ and the CAs.", r.Home, r.SchemaVersion, r.Records, r.Files, r.Folders)
	for _, f := range r.Findings {
		mark := "PROBLEM "
		switch {
		case f.Repaired:
			mark = "REPAIRED"
		case f.Repairable:
			mark = "FIXABLE "
		}
		subject := f.Path
		if f.Serial != "" {
			subject = f.Serial
			if f.Path != "" {
				subject += " " + f.Path
			}
		}
		// Problems name CNs and files as found (textsafe.Escape keeps a
		// newline in a CN from starting a line of its own).
		esc := textsafe.Escape
		o.infof("  %s %s: %s: %s", mark, f.Kind, esc(subject), esc(f.Problem))
		switch {
		case f.Repaired:
			o.infof("           repair: %s (done)", esc(f.Repair))
		case f.Repairable:
			o.infof("           repair: %s (not done: %s)", esc(f.Repair), esc(f.Reason))
		case f.Reason != "":
			o.infof("           %s", esc(f.Reason))
		}
		if f.Hint != "" && !f.Repaired {
			o.infof("           hint: %s", esc(f.Hint))
		}
	}
	switch {
	case len(r.Findings) == 0:
		o.infof("Nothing wrong: the database, the files and public/ agree.")
	default:
		o.infof("%d findings: %d repaired, %d not repaired (%d cannot be repaired by doctor).", len(r.Findings), r.Repaired(), r.Unresolved(), r.Unrepairable())
	}
}
