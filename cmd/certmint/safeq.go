package main

import (
	"errors"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// safeqCommand replaces YSoft SafeQ's generateCertificate.ps1 (003): the
// script's arguments work as written, including the PowerShell list form
// of -SubjectAlternativeNames, which reaches a POSIX shell as
// `"*.company.com,"` `"1.2.3.4"` (see normalizeSafeQArgs).
func safeqCommand() *cli.Command {
	return &cli.Command{
		Name:  "safeq",
		Usage: "YSoft SafeQ signing or SSL certificate, a drop-in for generateCertificate.ps1",
		Description: "certmint safeq -Subject \"YSoft SafeQ\" -FriendlyName \"YSoft SafeQ Signing Certificate\" \\\n" +
			"    -Password \"123456\" -SubjectAlternativeNames \"*.company.com\", \"1.2.3.4\"\n" +
			"writes \"YSoft SafeQ Signing Certificate.pfx\" (friendlyName set) issued by the CA, with the CA\n" +
			"certificates beside it. --self-signed makes a self-signed certificate as the script does (no CA\n" +
			"needed). --ssl makes the SSL server certificate instead of the access-token signing certificate.",
		Flags: []cli.Flag{
			homeFlag,
			&cli.StringFlag{Name: "subject", Aliases: []string{"Subject"}, Usage: "the CN (FQDN preferred), or a DN such as \"CN=safeq.company.com,O=Company\""},
			&cli.StringFlag{Name: "friendly-name", Aliases: []string{"FriendlyName"}, Usage: "the name Windows shows; the .pfx is named after it"},
			&cli.StringFlag{Name: "password", Aliases: []string{"Password"}, Usage: "the .pfx password on the command line (works, but warns; prefer --password-file or CERTMINT_PASSWORD)"},
			passwordFileFlag, randomPasswordFlag,
			&cli.StringSliceFlag{Name: "san", Aliases: []string{"SubjectAlternativeNames"}, Usage: "every address and name clients use: DNS names, wildcards (*.company.com), IPs (1.2.3.4); commas separate several"},
			&cli.BoolFlag{Name: "ssl", Usage: "the SSL server certificate (template safeq-ssl) instead of the signing certificate (safeq-signing)"},
			&cli.StringFlag{Name: "template", Usage: "another template `NAME` or FILE.toml"},
			&cli.BoolFlag{Name: "self-signed", Usage: "self-signed, as generateCertificate.ps1 makes it (needs no CA)"},
			outFlag,
			daysFlag,
			forceFlag, jsonFlag, caPasswordFileFlag,
		},
		Action: safeqAction,
	}
}

func safeqAction(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	if err := requireFlags(c, "subject", "friendly-name"); err != nil {
		return err
	}
	name := "safeq-signing"
	switch {
	case c.IsSet("template") && c.Bool("ssl"):
		return usageErrorf("--ssl and --template cannot be combined")
	case c.IsSet("template"):
		name = c.String("template")
	case c.Bool("ssl"):
		name = "safeq-ssl"
	}
	t, err := templates.Load(name)
	if err != nil {
		return err
	}
	req := ca.IssueRequest{Template: t, Out: c.String("out"), Force: c.Bool(forceFlag.Name)}
	if req.Days, err = validityDays(c); err != nil {
		return err
	}
	subject := c.String("subject")
	if strings.Contains(subject, "=") {
		if req.Subject, err = templates.ParseSubject(subject); err != nil {
			return usageHint(`-Subject "safeq.company.com" or -Subject "CN=safeq.company.com,O=Company"`, "-Subject: %v", err)
		}
	} else {
		req.Subject.CommonName = strings.TrimSpace(subject)
	}
	if req.SANs, err = san.ParseList(c.StringSlice("san")); err != nil {
		return usageHint(`-SubjectAlternativeNames "*.company.com", "1.2.3.4"`, "-SubjectAlternativeNames: %v", err)
	}
	// 003: "The certificate will be stored in a file named after FriendlyName
	// (e.g. "YSoft SafeQ Signing Certificate.pfx")."
	friendly := strings.TrimSpace(c.String("friendly-name"))
	req.FriendlyName = friendly
	req.Base = fsutil.SafeName(friendly)
	req.PFXName = req.Base + ".pfx"
	if err := prepareOut(c, req.Out); err != nil {
		return err
	}

	var store *ca.Store
	if c.Bool("self-signed") {
		// The script needs no CA; record the certificate when there is one.
		if s, err := openHome(c, nil); err == nil {
			store = s
			defer s.Close()
		} else {
			var nf *ca.NotFoundError
			if !errors.As(err, &nf) {
				return err
			}
		}
		if err := resolveBundlePassword(c, &req); err != nil {
			return err
		}
		res, err := ca.IssueSelfSigned(c.Context, store, req)
		if err != nil {
			return err
		}
		if store == nil && !c.Bool(jsonFlag.Name) {
			output(c).warnf("self-signed and not recorded (no CA home at %s); SafeQ clients must have certificate validation turned off for it (003)", c.String(homeFlag.Name))
		}
		return printIssued(c, res)
	}
	return issueFromCA(c, req)
}

// safeqFlagNames are the flags whose PowerShell spellings normalizeSafeQArgs
// understands.
var safeqSANFlags = map[string]bool{
	"-SubjectAlternativeNames": true, "--SubjectAlternativeNames": true, "-san": true, "--san": true,
}

// normalizeSafeQArgs rewrites the arguments of `certmint safeq` written the
// PowerShell way so urfave/cli can parse them:
//   - `-Subject:value` (PowerShell's colon form) becomes `-Subject value`;
//   - a list after -SubjectAlternativeNames, which PowerShell writes as
//     `"*.company.com", "1.2.3.4"` and a POSIX shell passes as the words
//     `*.company.com,` and `1.2.3.4`, becomes one --san per word, up to the
//     next flag.
func normalizeSafeQArgs(args []string) []string {
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		i++ // flags before the command
	}
	if i >= len(args) || args[i] != "safeq" {
		return args
	}
	out := append([]string{}, args[:i+1]...)
	rest := append([]string{}, args[i+1:]...)
	for j := range rest {
		rest[j] = canonicalPowerShellName(rest[j])
	}
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if strings.HasPrefix(a, "-") {
			if name, val, ok := strings.Cut(a, ":"); ok && !strings.Contains(name, "=") && len(name) > 1 {
				out = append(out, name, val)
				if safeqSANFlags[name] {
					j = appendSANWords(&out, rest, j)
				}
				continue
			}
		}
		if safeqSANFlags[a] {
			n := len(out)
			j = appendSANWords(&out, rest, j)
			if len(out) == n {
				out = append(out, a) // no value: let the parser report it
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// appendSANWords adds one --san per word after rest[j] that is not a flag,
// and returns the index of the last word consumed.
func appendSANWords(out *[]string, rest []string, j int) int {
	for j+1 < len(rest) && !strings.HasPrefix(rest[j+1], "-") {
		j++
		*out = append(*out, "--san", rest[j])
	}
	return j
}

// powerShellNames are the script's parameters; PowerShell matches them
// case-insensitively, so -friendlyname works there and must work here.
var powerShellNames = []string{"Subject", "FriendlyName", "Password", "SubjectAlternativeNames"}

// canonicalPowerShellName gives a -Name or -Name:value argument the
// script's spelling.
func canonicalPowerShellName(a string) string {
	if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
		return a
	}
	name, val, hasVal := strings.Cut(a[1:], ":")
	for _, n := range powerShellNames {
		if strings.EqualFold(name, n) {
			if hasVal {
				return "-" + n + ":" + val
			}
			return "-" + n
		}
	}
	return a
}
