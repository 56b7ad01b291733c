package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/jsonout"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/san"
)

// dryRunFlag is issue's, sign's, batch's and renew's preview: what would
// be issued and written, with nothing signed, recorded or written.
// openHome gives a dry run no CA password, and prepareOut makes no folder.
var dryRunFlag = &cli.BoolFlag{
	Name: "dry-run",
	Usage: "print what would be issued and written (subject, SANs, key, usages, CRL and AIA URLs, validity, lint verdict, files) " +
		"and sign, record and write nothing; needs neither the CA password nor the bundle password",
}

// errNoCAKeyInDryRun is what a dry run's CA password source answers: a
// preview never unlocks the CA key, so reaching it is a bug, reported
// instead of a prompt.
var errNoCAKeyInDryRun = errors.New("a dry run does not unlock the CA key")

func noCAPassword() (string, error) { return "", errNoCAKeyInDryRun }

// errWouldAsk stands for the bundle password prompt in a dry run: the
// real run would ask; the preview does not need the password.
var errWouldAsk = errors.New("the real run asks for the bundle password")

func wouldAsk(string) (string, error) { return "", errWouldAsk }

// checkOutDryRun refuses an --out the real run could not make, and makes
// nothing: a missing folder is the real run's to make.
func checkOutDryRun(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		switch {
		case err == nil && st.IsDir():
			return nil
		case err == nil && d == filepath.Clean(dir):
			return usageHint("give a folder, or leave --out out for the current folder", "--out %s is not a folder", dir)
		case err == nil:
			return fmt.Errorf("--out %s cannot be made: %s is not a folder", dir, d)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// Where the real run would take each password from, as the preview says it.
const (
	fromNone   = "none"   // not needed
	fromArgv   = "argv"   // --password
	fromFile   = "file"   // --password-file, --ca-password-file
	fromEnv    = "env"    // CERTMINT_PASSWORD, CERTMINT_CA_PASSWORD
	fromPrompt = "prompt" // asked on the terminal
	fromRandom = "random" // generated (--random-password(s))
	fromColumn = "column" // batch: every row's own password column
)

// caPasswordFrom says where the real run would take the CA password from
// (secret.Source's order: a file, then the environment, then a prompt).
func caPasswordFrom(c *cli.Context) (from, words string) {
	src := caPassword(c, false)
	switch {
	case src.File != "":
		return fromFile, "from " + src.File
	case os.Getenv(src.Env) != "":
		return fromEnv, "from " + src.Env
	}
	return fromPrompt, "asked on the terminal"
}

// bundlePasswordFrom says where the real run would take the bundle
// password from, for files that need one.
func bundlePasswordFrom(c *cli.Context, need, random bool, pwFile string) (from, words string) {
	src := bundlePassword(c)
	switch {
	case !need:
		return fromNone, ""
	case random:
		return fromRandom, "generated, into " + pwFile
	case src.Value != "":
		return fromArgv, "from --password"
	case src.File != "":
		return fromFile, "from " + src.File
	case os.Getenv(src.Env) != "":
		return fromEnv, "from " + src.Env
	}
	return fromPrompt, "asked on the terminal"
}

// issueDryRun previews issue (and renew's request) and prints it.
func issueDryRun(c *cli.Context, s *ca.Store, req ca.IssueRequest) error {
	pv, err := s.Preview(c.Context, dryRunRequest(c, req))
	if err != nil {
		return err
	}
	if err := dryRunPasswordCheck(c, req); err != nil {
		return err
	}
	return printPreview(c, "issue", pv, previewPasswords(c, pv), nil)
}

// dryRunRequest is req as the preview needs it: with the BASE.password
// file that --random-password adds, and no password yet (none is needed).
func dryRunRequest(c *cli.Context, req ca.IssueRequest) ca.IssueRequest {
	req.WritePassword = req.NeedsPassword() && c.Bool(randomPasswordFlag.Name)
	return req
}

// dryRunPasswordCheck finds, after the request, what the real run's bundle
// password would be refused for (flags that cannot be combined, a password
// file that cannot be read), without asking for it.
func dryRunPasswordCheck(c *cli.Context, req ca.IssueRequest) error {
	return resolveBundlePassword(c, &req)
}

// renewDryRun previews a renewal and prints it.
func renewDryRun(c *cli.Context, s *ca.Store, req ca.IssueRequest, old *ca.Record) error {
	rv, err := s.PreviewRenewal(c.Context, dryRunRequest(c, req), old, c.Bool("revoke-old"), time.Now())
	if err != nil {
		return err
	}
	if err := dryRunPasswordCheck(c, req); err != nil {
		return err
	}
	return printPreview(c, "renew", rv.Preview, previewPasswords(c, rv.Preview), rv)
}

// previewPasswords is the passwords part of an issue, sign or renew preview.
func previewPasswords(c *cli.Context, pv *ca.Preview) passwordsJSON {
	var p passwordsJSON
	p.CA, p.caWords = caPasswordFrom(c)
	pwFile := ""
	for _, f := range pv.Files {
		if strings.HasSuffix(f.Path, ".password") {
			pwFile = f.Path
		}
	}
	p.Bundle, p.bundleWords = bundlePasswordFrom(c, pv.NeedsPassword, c.Bool(randomPasswordFlag.Name), pwFile)
	return p
}

type passwordsJSON struct {
	CA     string `json:"ca"`     // prompt, env, file
	Bundle string `json:"bundle"` // none, prompt, env, file, argv, random

	caWords, bundleWords string
}

type fileJSON struct {
	Path   string `json:"path"`
	Mode   string `json:"mode"` // "0600"
	Secret bool   `json:"secret"`
	State  string `json:"state"` // new, replace, keep
}

type findingJSON struct {
	Lint    string `json:"lint"`
	Status  string `json:"status"` // warn, error, fatal
	Message string `json:"message"`
}

type lintJSON struct {
	Verdict  string        `json:"verdict"` // pass, warn, refuse
	Findings []findingJSON `json:"findings"`
}

// certificateJSON is one previewed certificate.
type certificateJSON struct {
	Template              string        `json:"template"`
	Subject               string        `json:"subject"`
	SANs                  []string      `json:"sans"`
	Key                   string        `json:"key"`        // rsa:2048, ecdsa:P-256
	KeySource             string        `json:"key_source"` // new, csr
	KeyUsage              []string      `json:"key_usage"`
	ExtKeyUsage           []string      `json:"ext_key_usage"`
	CRLDistributionPoints []string      `json:"crl_distribution_points"`
	CAIssuers             []string      `json:"ca_issuers"`
	OCSPServers           []string      `json:"ocsp_servers"`
	Issuer                string        `json:"issuer"`
	NotBefore             string        `json:"not_before"`
	NotAfter              string        `json:"not_after"`
	ValidityDays          int           `json:"validity_days"`
	SignatureAlgorithm    string        `json:"signature_algorithm"`
	StandInKey            string        `json:"stand_in_key"` // the throwaway key that signed the preview
	Lint                  lintJSON      `json:"lint"`
	Warnings              []string      `json:"warnings"`
	Out                   string        `json:"out"`
	OutCreated            bool          `json:"out_created"`
	Files                 []fileJSON    `json:"files"`
	Passwords             passwordsJSON `json:"passwords"`
}

// previewJSON is the --dry-run --json document of issue, sign and renew.
type previewJSON struct {
	SchemaVersion int    `json:"schema_version"`
	DryRun        bool   `json:"dry_run"`
	Command       string `json:"command"`
	certificateJSON
	Renewal *renewalJSON `json:"renewal"` // renew only; null for the others
}

type renewalJSON struct {
	Serial       string `json:"serial"`
	State        string `json:"state"` // valid, revoked, expired
	RevokeOld    bool   `json:"revoke_old"`
	WouldRevoke  bool   `json:"would_revoke"`
	RevokeReason string `json:"revoke_reason"` // superseded, or "" when nothing is revoked
}

func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func lintVerdict(pv *ca.Preview) string {
	switch {
	case len(pv.Refused) > 0:
		return "refuse"
	case len(pv.Findings) > 0:
		return "warn"
	}
	return "pass"
}

func certJSON(c *cli.Context, pv *ca.Preview, pw passwordsJSON) certificateJSON {
	cert := pv.Cert
	j := certificateJSON{
		Template: pv.Template, Subject: cert.Subject.String(), SANs: orEmpty(san.Strings(san.FromCertificate(cert))),
		Key: pv.Key.String(), KeySource: "new", KeyUsage: orEmpty(pv.KeyUsage), ExtKeyUsage: orEmpty(pv.ExtKeyUsage),
		CRLDistributionPoints: orEmpty(cert.CRLDistributionPoints), CAIssuers: orEmpty(cert.IssuingCertificateURL),
		OCSPServers: orEmpty(cert.OCSPServer), Issuer: cert.Issuer.String(),
		NotBefore: cert.NotBefore.UTC().Format(time.RFC3339), NotAfter: cert.NotAfter.UTC().Format(time.RFC3339),
		ValidityDays: pv.Days, SignatureAlgorithm: cert.SignatureAlgorithm.String(), StandInKey: pv.StandIn.String(),
		Lint:     lintJSON{Verdict: lintVerdict(pv), Findings: []findingJSON{}},
		Warnings: []string{}, Out: pv.Out, OutCreated: pv.MakesOut, Files: []fileJSON{}, Passwords: pw,
	}
	if pv.KeyFromCSR {
		j.KeySource = "csr"
	}
	for _, f := range pv.Findings {
		j.Lint.Findings = append(j.Lint.Findings, findingJSON{Lint: f.Lint, Status: f.Status, Message: f.Message()})
	}
	for _, w := range pv.Warnings {
		j.Warnings = append(j.Warnings, namerFor(c).text(w))
	}
	for _, f := range pv.Files {
		j.Files = append(j.Files, fileJSON{Path: f.Path, Mode: fmt.Sprintf("%04o", f.Mode.Perm()), Secret: f.Secret, State: string(f.State)})
	}
	return j
}

// printPreview prints a preview of issue, sign or renew (rv), then returns
// the error the real run would end with (a lint refusal), so the exit
// status is the real run's.
func printPreview(c *cli.Context, command string, pv *ca.Preview, pw passwordsJSON, rv *ca.RenewalPreview) error {
	o := output(c)
	if c.Bool(jsonFlag.Name) {
		doc := previewJSON{SchemaVersion: jsonout.SchemaVersion, DryRun: true, Command: command, certificateJSON: certJSON(c, pv, pw)}
		if rv != nil {
			doc.Renewal = &renewalJSON{Serial: rv.Old.SerialHex(), State: rv.OldState, RevokeOld: c.Bool("revoke-old"), WouldRevoke: rv.RevokesOld}
			if rv.RevokesOld {
				doc.Renewal.RevokeReason = "superseded"
			}
		}
		if err := o.json(doc); err != nil {
			return err
		}
		return pv.Err()
	}
	o.infof("Dry run: nothing was signed, recorded or written.")
	if rv != nil {
		o.infof("Would renew certificate %s (%s) as a new %s certificate:", rv.Old.SerialHex(), textsafe.Quote(rv.Old.CN), pv.Template)
	} else {
		o.infof("Would %s a %s certificate:", command, pv.Template)
	}
	printCertificate(c, "  ", pv)
	printFiles(c, "", pv)
	o.infof("The real run would also:")
	events := map[string]string{"issue": `an "issue" event`, "sign": `a "sign" event`, "renew": `"issue" and "renew" events`}[command]
	o.infof("  - unlock the issuing CA's key with the CA password (%s), sign, and record the certificate and %s in the database", pw.caWords, events)
	if pw.bundleWords != "" {
		o.infof("  - protect the .pfx or key with the bundle password (%s)", pw.bundleWords)
	}
	if rv != nil {
		switch {
		case rv.RevokesOld:
			o.infof("  - revoke the old certificate %s as superseded and republish the CRLs", rv.Old.SerialHex())
		case c.Bool("revoke-old"):
			o.infof("  - leave the old certificate %s as it is: it is %s, not valid", rv.Old.SerialHex(), rv.OldState)
		default:
			o.infof("  - leave the old certificate %s valid until %s (--revoke-old revokes it)", rv.Old.SerialHex(), rv.Old.NotAfter.UTC().Format("2006-01-02"))
		}
	}
	return pv.Err()
}

// printCertificate prints a previewed certificate, each line after indent.
func printCertificate(c *cli.Context, indent string, pv *ca.Preview) {
	o := output(c)
	cert := pv.Cert
	line := func(name, value string) { o.infof("%s%-15s%s", indent, name, value) }
	list := func(vals []string) string {
		if len(vals) == 0 {
			return "(none)"
		}
		return textsafe.Join(vals, ", ")
	}
	line("subject", cert.Subject.String())
	line("SANs", list(san.Strings(san.FromCertificate(cert))))
	if pv.KeyFromCSR {
		line("key", "the request's "+pv.Key.String()+" key")
	} else {
		line("key", "a new "+pv.Key.String()+" key")
	}
	line("key usage", list(pv.KeyUsage))
	line("ext key usage", list(pv.ExtKeyUsage))
	line("CRL (CDP)", list(cert.CRLDistributionPoints))
	line("CA issuers", list(cert.IssuingCertificateURL))
	if len(cert.OCSPServer) > 0 {
		line("OCSP", list(cert.OCSPServer))
	}
	line("issuer", cert.Issuer.String())
	line("not before", cert.NotBefore.UTC().Format("2006-01-02 15:04:05 MST"))
	line("not after", fmt.Sprintf("%s (%d days)", cert.NotAfter.UTC().Format("2006-01-02 15:04:05 MST"), pv.Days))
	line("serial", "assigned when it is signed")
	line("signature", fmt.Sprintf("%s by the issuing CA; this preview's is a stand-in, made with a throwaway %s key (the CA key stays locked)",
		cert.SignatureAlgorithm, pv.StandIn))
	refusal, warnings := pv.LintLines()
	switch lintVerdict(pv) {
	case "refuse":
		line("lint", "refused: the real run would not release this certificate")
	case "warn":
		line("lint", fmt.Sprintf("passes, with %d warning(s)", len(warnings)))
	default:
		line("lint", "passes: zlint finds nothing to report")
	}
	for _, l := range refusal {
		o.infof("%s  error: %s", indent, l)
	}
	for _, l := range warnings {
		o.infof("%s  warning: %s", indent, l)
	}
	for _, w := range pv.Warnings {
		line("warning", namerFor(c).text(w))
	}
}

// printFiles lists the files a preview would write, with their modes.
func printFiles(c *cli.Context, indent string, pv *ca.Preview) {
	o := output(c)
	where := pv.Out
	if pv.MakesOut {
		where += " (a new folder, 0700)"
	}
	o.infof("%sFiles it would write, in %s:", indent, where)
	width := 0
	for _, f := range pv.Files {
		width = max(width, len(f.Path))
	}
	for _, f := range pv.Files {
		note := ""
		switch {
		case f.State == ca.FileKeep:
			note = " (already there, identical: kept)"
		case f.State == ca.FileReplace:
			note = " (replaces the existing file: --force)"
		}
		if f.Secret {
			note = " secret" + note
		}
		o.infof("%s  %-*s  %04o%s", indent, width, f.Path, f.Mode.Perm(), note)
	}
}

// batchRowJSONDry is one row of a batch preview.
type batchRowJSONDry struct {
	Line        int              `json:"line"`
	CN          string           `json:"cn"`
	Action      string           `json:"action"` // issue, reissue, skip, fail
	Recovered   bool             `json:"recovered"`
	Error       string           `json:"error"`
	Certificate *certificateJSON `json:"certificate"` // null when skipped or failed before signing
}

type batchTotalsJSON struct {
	Rows    int `json:"rows"`
	Issue   int `json:"issue"`
	Reissue int `json:"reissue"`
	Skip    int `json:"skip"`
	Fail    int `json:"fail"`
}

// batchPreviewJSON is batch's --dry-run --json document, written in three
// parts so that its rows stream: this head, "rows", then batchTailJSON.
type batchPreviewJSON struct {
	SchemaVersion int      `json:"schema_version"`
	DryRun        bool     `json:"dry_run"`
	Command       string   `json:"command"`
	Template      string   `json:"template"`
	Out           string   `json:"out"`
	OutCreated    bool     `json:"out_created"`
	Warnings      []string `json:"warnings"`
}

type batchTailJSON struct {
	Totals        batchTotalsJSON `json:"totals"`
	Passwords     passwordsJSON   `json:"passwords"`
	PasswordsFile string          `json:"passwords_file"` // "" unless passwords would be generated
}

// batchRowError writes a failed row's error as the real batch does: the
// row's hint in the CSV's terms after it.
func batchRowError(c *cli.Context, err error) string {
	msg := err.Error()
	// What to change in the row, in the CSV's terms: the reader's own row
	// errors carry their hint already; a required subject field or a
	// validity past the CA's is only found here.
	if h := hintFor(c, err); h != "" {
		msg += " (" + batch.ColumnHint(h) + ")"
	}
	return msg
}

// batchDryRun previews a batch: one block per row as it is judged,
// failures reported as the real run reports them, then the totals. Its
// exit status is the real run's: 1 when any row would fail.
func batchDryRun(c *cli.Context, s *ca.Store, opts ca.BatchOptions, next func() (*batch.Row, error), warnings []input.Text) error {
	bp, err := s.PreviewBatch(opts)
	if err != nil {
		return err
	}
	o := output(c)
	jsonOut := c.Bool(jsonFlag.Name)
	var pw passwordsJSON
	pw.CA, pw.caWords = caPasswordFrom(c)
	var report func(ca.RowPreview)
	if jsonOut {
		head := batchPreviewJSON{SchemaVersion: jsonout.SchemaVersion, DryRun: true, Command: "batch", Template: opts.Template.Name,
			Out: bp.Out, OutCreated: bp.MakesOut, Warnings: []string{}}
		for _, w := range warnings {
			head.Warnings = append(head.Warnings, namerFor(c).text(w))
		}
		// {head..., "rows":[row, ...], tail...}
		h, err := jsonPart(head)
		if err != nil {
			return err
		}
		io.WriteString(o.stdout, strings.TrimSuffix(h, "}")+`,"rows":[`)
		first := true
		report = func(r ca.RowPreview) {
			j := batchRowJSONDry{Line: r.Row.Line, CN: r.Row.CN, Action: string(r.Action), Recovered: r.Recovered}
			if r.Err != nil {
				j.Error = batchRowError(c, r.Err)
			}
			if r.Preview != nil {
				cj := certJSON(c, r.Preview, pw)
				j.Certificate = &cj
			}
			row, err := jsonPart(j)
			if err != nil {
				row = "null" // a row's strings always marshal
			}
			if !first {
				row = "," + row
			}
			first = false
			io.WriteString(o.stdout, row)
		}
	} else {
		o.infof("Dry run: nothing was signed, recorded or written.")
		where := bp.Out
		if bp.MakesOut {
			where += " (a new folder, 0700)"
		}
		o.infof("Batch of %s certificates into %s:", opts.Template.Name, where)
		report = func(r ca.RowPreview) {
			at := fmt.Sprintf("line %d", r.Row.Line)
			if r.Row.CN != "" {
				at += " (" + textsafe.Quote(r.Row.CN) + ")"
			}
			switch r.Action {
			case ca.BatchFail:
				o.infof("%s: would fail", at)
				fmt.Fprintf(o.stderr, "certmint: error: %s: %s\n", at, textsafe.Escape(batchRowError(c, r.Err)))
			case ca.BatchSkip:
				if r.Recovered {
					o.infof("%s: would be skipped: an interrupted run's bundle, recorded and complete, would be moved into place", at)
				} else {
					o.infof("%s: would be skipped: its bundle is complete", at)
				}
			case ca.BatchReissue:
				o.infof("%s: would be issued again: its bundle is torn and would be replaced whole", at)
			default:
				o.infof("%s: would be issued", at)
			}
			if r.Preview != nil {
				printCertificate(c, "    ", r.Preview)
				printFiles(c, "  ", r.Preview)
			}
		}
	}
	if err := bp.Run(c.Context, next, report); err != nil {
		return err
	}
	switch {
	case !bp.FilesNeedPassword:
		pw.Bundle = fromNone
	case opts.RandomPasswords:
		pw.Bundle = fromRandom
	case !bp.NeedsPassword:
		pw.Bundle = fromColumn
	default:
		pw.Bundle, pw.bundleWords = bundlePasswordFrom(c, true, false, "")
		// What the real run's batch password would be refused for, without
		// asking for it.
		src := bundlePassword(c)
		src.Prompt = wouldAsk
		if _, err := src.Resolve(); err != nil && !errors.Is(err, errWouldAsk) {
			return err
		}
	}
	totals := batchTotalsJSON{Rows: bp.Count(ca.BatchIssue) + bp.Count(ca.BatchReissue) + bp.Count(ca.BatchSkip) + bp.Count(ca.BatchFail),
		Issue: bp.Count(ca.BatchIssue), Reissue: bp.Count(ca.BatchReissue), Skip: bp.Count(ca.BatchSkip), Fail: bp.Count(ca.BatchFail)}
	if jsonOut {
		tail := batchTailJSON{Totals: totals, Passwords: pw}
		if pw.Bundle == fromRandom {
			tail.PasswordsFile = bp.PasswordsFile
		}
		t, err := jsonPart(tail)
		if err != nil {
			return err
		}
		io.WriteString(o.stdout, "],"+strings.TrimPrefix(t, "{")+"\n")
	} else {
		o.infof("Totals: %d rows: %d to issue, %d to issue again (torn), %d to skip (complete), %d would fail.",
			totals.Rows, totals.Issue, totals.Reissue, totals.Skip, totals.Fail)
		o.infof("The real run would also:")
		o.infof("  - unlock the issuing CA's key with the CA password (%s), sign, and record each certificate and its \"issue\" event in the database", pw.caWords)
		switch pw.Bundle {
		case fromRandom:
			o.infof("  - generate the bundle password of each row without a password column, into %s (0600)", bp.PasswordsFile)
		case fromNone, fromColumn:
		default:
			o.infof("  - protect the .pfx or key files of rows without a password column with the batch's password (%s)", pw.bundleWords)
		}
	}
	if totals.Fail > 0 {
		return fmt.Errorf("dry run: %d of %d rows would fail; fix them before the real run", totals.Fail, totals.Rows)
	}
	return nil
}

// jsonPart is v as out.json writes it (textsafe.JSON escapes what
// encoding/json leaves raw), for a document written in parts as it streams.
func jsonPart(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(textsafe.JSON(b)), err
}
