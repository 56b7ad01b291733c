package main

import (
	"slices"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/convert"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/doctor"
	"github.com/certmint/certmint/internal/jsonout"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/store"
	"github.com/certmint/certmint/templates"
)

// The documents the commands print with --json, one type per command,
// each built from the command's result by its new* function here: the
// keys of every document are in this file (check.Report and inspect.Report
// are defined in their packages). They follow internal/jsonout's rules:
// "schema_version" first; every key always present, with no omitempty: []
// for an empty list, "" for a string or time that does not apply, null for
// an object or a number that does not apply; SANs "DNS:x", "IP:y",
// "email:z", "URI:u"; times RFC 3339 UTC; serials upper-case hex; paths
// absolute. testdata/json/<command>.json holds an example of each
// (TestJSONGolden).

// header starts every document.
type header struct {
	SchemaVersion int `json:"schema_version"`
}

func newHeader() header { return header{SchemaVersion: jsonout.SchemaVersion} }

// sanStrings writes names as every document does: "DNS:x", "IP:y", ...
func sanStrings(names []san.Name) []string { return jsonout.List(san.Strings(names)) }

// absAll is paths made absolute, [] for none.
func absAll(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, abs(p))
	}
	return out
}

// errorJSON is a failed command run with --json: the last line of stderr.
type errorJSON struct {
	header
	Error      string `json:"error"`
	Hint       string `json:"hint"` // "" when there is none
	ExitStatus int    `json:"exit_status"`
}

// jsonRequested reports whether an arranged command line (arrangeArgs: the
// command's flags before its positional arguments) gives --json to a
// command that has the flag, so that its error is a JSON document too. It
// reads the arguments rather than the parsed flags so that a flag the
// parser refused (an unknown flag, a bad value) is answered in JSON as well.
func jsonRequested(app *cli.App, args []string) bool {
	cmd := commandOf(app, args)
	if cmd == nil || findFlag(cmd, jsonFlag.Name) == nil {
		return false
	}
	on := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !isFlag(a) {
			continue
		}
		name, value, hasValue := splitFlag(a)
		switch {
		case name == jsonFlag.Name && hasValue:
			on, _ = strconv.ParseBool(value)
		case name == jsonFlag.Name:
			on = true
		case !hasValue && takesValue(cmd, name):
			i++ // the flag's value, even one that starts with "-"
		}
	}
	return on
}

// jsonOutput reports --json given to the running command or to the one it
// is a subcommand of: `certmint templates --json list`, where urfave/cli
// gives the flag to templates and runs list.
func jsonOutput(c *cli.Context) bool {
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && findFlag(ctx.Command, jsonFlag.Name) != nil && ctx.Bool(jsonFlag.Name) {
			return true
		}
	}
	return false
}

// initJSON is `certmint init --json`.
type initJSON struct {
	header
	Home     string       `json:"home"`
	CAs      []initCAJSON `json:"cas"` // the root, then the issuing CA
	Public   string       `json:"public"`
	Database string       `json:"database"` // without a password
	OCSPURL  string       `json:"ocsp_url"` // where serve answers OCSP: <base-url>/ocsp
}

type initCAJSON struct {
	Role     string `json:"role"` // "root" or "issuing"
	Slug     string `json:"slug"`
	Subject  string `json:"subject"`
	Cert     string `json:"cert"` // <home>/<slug>/ca.crt
	NotAfter string `json:"not_after"`
	CRLURL   string `json:"crl_url"`
	CertURL  string `json:"cert_url"`
}

func newInitJSON(s *ca.Store) initJSON {
	j := initJSON{header: newHeader(), Home: s.Home, CAs: []initCAJSON{}, Public: s.PublicDir(), Database: s.DB.URL(),
		OCSPURL: s.Config.OCSPURL()}
	for _, a := range s.Authorities() {
		role := "issuing"
		if a == s.Root {
			role = "root"
		}
		j.CAs = append(j.CAs, initCAJSON{Role: role, Slug: a.Slug, Subject: a.Cert.Subject.String(), Cert: a.CertPath(),
			NotAfter: jsonout.Time(a.Cert.NotAfter), CRLURL: s.Config.CRLURL(a.Slug), CertURL: s.Config.CertURL(a.Slug)})
	}
	return j
}

// issuedJSON is a new certificate: `issue`, `sign`, `safeq` and the new
// certificate of `renew`.
type issuedJSON struct {
	header
	Serial       string   `json:"serial"`
	Subject      string   `json:"subject"`
	CN           string   `json:"cn"`
	SANs         []string `json:"sans"`
	Template     string   `json:"template"`
	Issuer       string   `json:"issuer"` // the issuing CA's subject; the certificate's own for a self-signed one
	NotBefore    string   `json:"not_before"`
	NotAfter     string   `json:"not_after"`
	Files        []string `json:"files"`
	PasswordFile string   `json:"password_file"` // BASE.password of --random-password, else ""
}

func newIssuedJSON(res *ca.Issued) issuedJSON {
	pw := res.PasswordFile()
	if pw != "" {
		pw = abs(pw)
	}
	return issuedJSON{header: newHeader(), Serial: res.Serial, Subject: res.Cert.Subject.String(), CN: res.Cert.Subject.CommonName,
		SANs: sanStrings(res.SANs), Template: res.Template, Issuer: res.Cert.Issuer.String(),
		NotBefore: jsonout.Time(res.Cert.NotBefore), NotAfter: jsonout.Time(res.Cert.NotAfter), Files: absAll(res.Files), PasswordFile: pw}
}

// renewedJSON is `certmint renew --json`: the new certificate, the one it
// replaces, and that one's revocation (null without --revoke-old).
type renewedJSON struct {
	issuedJSON
	Renews     string          `json:"renews"`
	RevokedOld *revocationJSON `json:"revoked_old"`
}

func newRenewedJSON(res *ca.Issued, old string, rv *ca.RevokeResult) renewedJSON {
	j := renewedJSON{issuedJSON: newIssuedJSON(res), Renews: old}
	if rv != nil {
		r := newRevocationJSON(rv)
		j.RevokedOld = &r
	}
	return j
}

// revocationJSON is one revocation and the CRL that lists it.
type revocationJSON struct {
	Serial    string `json:"serial"`
	Subject   string `json:"subject"`
	CN        string `json:"cn"`
	Reason    string `json:"reason"` // RFC 5280 name: keyCompromise, superseded, ...
	RevokedAt string `json:"revoked_at"`
	CRL       string `json:"crl"` // the CRL published with it
	CRLNumber int64  `json:"crl_number"`
}

func newRevocationJSON(rv *ca.RevokeResult) revocationJSON {
	return revocationJSON{Serial: rv.Record.SerialHex(), Subject: rv.Record.Meta.Subject, CN: rv.Record.CN,
		Reason: crl.ReasonName(rv.Record.Reason), RevokedAt: jsonout.Time(rv.Record.RevokedAt), CRL: abs(rv.CRL.Path), CRLNumber: rv.CRL.Number}
}

// revokeJSON is `certmint revoke --json`.
type revokeJSON struct {
	header
	revocationJSON
}

// csrJSON is `certmint csr --json`.
type csrJSON struct {
	header
	Subject  string   `json:"subject"`
	SANs     []string `json:"sans"`
	Template string   `json:"template"`
	CSR      string   `json:"csr"` // BASE.csr
	Key      string   `json:"key"` // BASE.key
	Files    []string `json:"files"`
}

func newCSRJSON(r *ca.CSR, t *templates.Template, keyPath, csrPath string) csrJSON {
	return csrJSON{header: newHeader(), Subject: r.Subject.String(), SANs: sanStrings(r.SANs), Template: t.Name,
		CSR: abs(csrPath), Key: abs(keyPath), Files: []string{abs(keyPath), abs(csrPath)}}
}

// batchJSON is `certmint batch --json`: every row of the input, in line
// order (the rows an interruption left as not_started), and the counts of
// the summary.
type batchJSON struct {
	header
	Template       string         `json:"template"`
	Out            string         `json:"out"`
	Rows           []batchRowJSON `json:"rows"`
	Issued         int64          `json:"issued"`
	Reissued       int64          `json:"reissued"`    // torn bundles issued again
	Skipped        int64          `json:"skipped"`     // complete already
	Failed         int64          `json:"failed"`      // rows with an error
	NotStarted     int64          `json:"not_started"` // rows an interruption (Ctrl-C, --fail-fast) left: every row is counted once
	ElapsedSeconds float64        `json:"elapsed_seconds"`
	PasswordsFile  string         `json:"passwords_file"` // OUT/passwords.csv of --random-passwords, else ""
}

// batchRowJSON is one row of a batch.
type batchRowJSON struct {
	Line   int      `json:"line"`
	CN     string   `json:"cn"`
	Status string   `json:"status"` // issued, reissued, skipped, failed, not_started
	Serial string   `json:"serial"` // "" when skipped or failed
	Files  []string `json:"files"`
	Error  string   `json:"error"` // "" unless failed
	// Warnings are the row's own: lint findings that did not stop it and
	// departures from the template's advice that only this row makes (the
	// batch's own are printed once, before the rows).
	Warnings []string `json:"warnings"`
}

// inLineOrder is the document with its rows in the order of the CSV (the
// workers finish them in any order) and their files absolute.
func (j batchJSON) inLineOrder() batchJSON {
	j.Rows = slices.Clone(jsonout.List(j.Rows))
	slices.SortFunc(j.Rows, func(a, b batchRowJSON) int { return a.Line - b.Line })
	for i := range j.Rows {
		j.Rows[i].Files = absAll(j.Rows[i].Files)
		j.Rows[i].Warnings = jsonout.List(j.Rows[i].Warnings)
	}
	return j
}

// crlJSON is `certmint crl --json`.
type crlJSON struct {
	header
	CRLs []publishedCRLJSON `json:"crls"`
}

type publishedCRLJSON struct {
	CA         string `json:"ca"`
	Number     int64  `json:"number"`
	Entries    int    `json:"entries"`
	ThisUpdate string `json:"this_update"`
	NextUpdate string `json:"next_update"`
	Path       string `json:"path"`
}

func newCRLJSON(pub []ca.PublishedCRL) crlJSON {
	j := crlJSON{header: newHeader(), CRLs: []publishedCRLJSON{}}
	for _, p := range pub {
		j.CRLs = append(j.CRLs, publishedCRLJSON{CA: p.Slug, Number: p.Number, Entries: p.Entries,
			ThisUpdate: jsonout.Time(p.ThisUpdate), NextUpdate: jsonout.Time(p.NextUpdate), Path: abs(p.Path)})
	}
	return j
}

// listJSON is `certmint list --json`.
type listJSON struct {
	header
	Certificates []recordJSON `json:"certificates"`
}

// recordJSON is one certificate of the issuance database.
type recordJSON struct {
	Serial    string   `json:"serial"`
	Subject   string   `json:"subject"`
	CN        string   `json:"cn"`
	SANs      []string `json:"sans"`
	Template  string   `json:"template"`
	Status    string   `json:"status"` // valid, expired or revoked
	NotBefore string   `json:"not_before"`
	NotAfter  string   `json:"not_after"`
	RevokedAt string   `json:"revoked_at"` // "" unless revoked
	Reason    string   `json:"reason"`     // "" unless revoked
	Issuer    string   `json:"issuer"`     // the slug of the CA that signed it
	Renews    string   `json:"renews"`     // the serial it replaced, else ""
	Files     []string `json:"files"`
}

func newRecordJSON(r *ca.Record, now time.Time) recordJSON {
	j := recordJSON{Serial: r.SerialHex(), Subject: r.Meta.Subject, CN: r.CN, SANs: sanStrings(san.FromStored(r.SANs)),
		Template: r.Meta.Template, Status: r.State(now), NotBefore: jsonout.Time(r.NotBefore), NotAfter: jsonout.Time(r.NotAfter),
		Issuer: r.CALabel, Renews: r.Meta.Renews, Files: jsonout.List(r.Meta.Files)}
	if r.Status == "revoked" {
		j.RevokedAt = jsonout.Time(r.RevokedAt)
		j.Reason = crl.ReasonName(r.Reason)
	}
	return j
}

func newListJSON(recs []*ca.Record, now time.Time) listJSON {
	j := listJSON{header: newHeader(), Certificates: make([]recordJSON, 0, len(recs))}
	for _, r := range recs {
		j.Certificates = append(j.Certificates, newRecordJSON(r, now))
	}
	return j
}

// statusJSON is `certmint status --json`.
type statusJSON struct {
	header
	Warn         string             `json:"warn"`    // issued certificates' warning window, as --warn takes it: "30d"
	CAWarn       string             `json:"ca_warn"` // CA certificates' window, as --ca-warn takes it: "90d"
	CAs          []caStatusJSON     `json:"cas"`
	CRLs         []crlStatusJSON    `json:"crls"`
	Certificates ca.CertCounts      `json:"certificates"`
	Expiring     []expiringCertJSON `json:"expiring"` // the issued certificates that expire first
	Alert        bool               `json:"alert"`
}

type caStatusJSON struct {
	Slug     string `json:"slug"`
	Subject  string `json:"subject"`
	NotAfter string `json:"not_after"`
	DaysLeft int    `json:"days_left"`
	State    string `json:"state"`
	Problem  string `json:"problem"`
}

type crlStatusJSON struct {
	Slug       string `json:"slug"`
	Path       string `json:"path"`
	Number     *int64 `json:"number"` // null when the CRL cannot be read
	ThisUpdate string `json:"this_update"`
	NextUpdate string `json:"next_update"`
	Revoked    *int   `json:"revoked"` // null when the CRL cannot be read
	State      string `json:"state"`
	Error      string `json:"error"`
}

type expiringCertJSON struct {
	Serial   string `json:"serial"`
	CN       string `json:"cn"`
	Template string `json:"template"`
	NotAfter string `json:"not_after"`
	DaysLeft int    `json:"days_left"`
}

func newStatusJSON(r *ca.StatusReport, opts ca.StatusOptions) statusJSON {
	j := statusJSON{header: newHeader(), Warn: templates.FormatDuration(opts.Warn), CAWarn: templates.FormatDuration(opts.CAWarn),
		CAs: []caStatusJSON{}, CRLs: []crlStatusJSON{},
		Certificates: r.Certs, Expiring: []expiringCertJSON{}, Alert: r.Alert}
	for _, a := range r.CAs {
		j.CAs = append(j.CAs, caStatusJSON{Slug: a.Slug, Subject: a.Subject, NotAfter: jsonout.Time(a.NotAfter), DaysLeft: a.DaysLeft,
			State: a.State, Problem: a.Problem})
	}
	for _, l := range r.CRLs {
		c := crlStatusJSON{Slug: l.Slug, Path: abs(l.Path), ThisUpdate: jsonout.Time(l.ThisUpdate), NextUpdate: jsonout.Time(l.NextUpdate),
			State: l.State, Error: l.Error}
		if l.State != ca.StateMissing {
			number, revoked := l.Number, l.Revoked
			c.Number, c.Revoked = &number, &revoked
		}
		j.CRLs = append(j.CRLs, c)
	}
	for _, rec := range r.Certs.Soonest {
		j.Expiring = append(j.Expiring, expiringCertJSON{Serial: rec.SerialHex(), CN: rec.CN, Template: rec.Meta.Template,
			NotAfter: jsonout.Time(rec.NotAfter), DaysLeft: int(rec.NotAfter.Sub(opts.Now).Hours() / 24)})
	}
	return j
}

// logJSON is `certmint log --json`: every event has the same keys, "" for
// those that do not apply to its action.
type logJSON struct {
	header
	Events []eventJSON `json:"events"`
}

type eventJSON struct {
	ID       int64  `json:"id"`
	At       string `json:"at"`
	Action   string `json:"action"` // one of ca.Actions
	Serial   string `json:"serial"`
	CA       string `json:"ca"`
	Template string `json:"template"`
	Subject  string `json:"subject"`
	Detail   string `json:"detail"`
	User     string `json:"user"`
	Host     string `json:"host"`
}

func newLogJSON(entries []ca.AuditEntry) logJSON {
	j := logJSON{header: newHeader(), Events: make([]eventJSON, 0, len(entries))}
	for _, e := range entries {
		j.Events = append(j.Events, eventJSON{ID: e.ID, At: jsonout.Time(e.At), Action: e.Action, Serial: e.Serial, CA: e.CALabel,
			Template: e.Template, Subject: e.Subject, Detail: e.Detail, User: e.User, Host: e.Host})
	}
	return j
}

// convertJSON is `certmint convert --json`.
type convertJSON struct {
	header
	Files []convertFileJSON `json:"files"`
	Notes []string          `json:"notes"`
}

type convertFileJSON struct {
	Path string `json:"path"`
	What string `json:"what"` // certificate, certificates, chain, private key, pkcs12, csr, crl
	Mode string `json:"mode"` // -rw-------
}

func newConvertJSON(c *cli.Context, res *convert.Result) convertJSON {
	j := convertJSON{header: newHeader(), Files: []convertFileJSON{}, Notes: []string{}}
	for _, f := range res.Files {
		j.Files = append(j.Files, convertFileJSON{Path: abs(f.Path), What: f.What, Mode: f.Mode.String()})
	}
	for _, n := range res.Notes {
		j.Notes = append(j.Notes, namerFor(c).text(n))
	}
	return j
}

// exportCAJSON is `certmint export-ca --json`.
type exportCAJSON struct {
	header
	Files []bundle.ExportedFile `json:"files"`
}

func newExportCAJSON(files []bundle.ExportedFile) exportCAJSON {
	j := exportCAJSON{header: newHeader(), Files: make([]bundle.ExportedFile, 0, len(files))}
	for _, f := range files {
		f.Path = abs(f.Path)
		j.Files = append(j.Files, f)
	}
	return j
}

// templatesJSON is `certmint templates list --json`.
type templatesJSON struct {
	header
	Templates []templateSummaryJSON `json:"templates"`
}

type templateSummaryJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Source      string `json:"source"` // the document it encodes: publisher, title, section
}

func newTemplatesJSON(all []*templates.Template) templatesJSON {
	j := templatesJSON{header: newHeader(), Templates: make([]templateSummaryJSON, 0, len(all))}
	for _, t := range all {
		j.Templates = append(j.Templates, templateSummaryJSON{Name: t.Name, Description: t.Description, Source: t.SourceDocument()})
	}
	return j
}

// templateJSON is `certmint templates show NAME --json`: what issue reads
// from the template, and its TOML as written.
type templateJSON struct {
	header
	templateSummaryJSON
	Builtin      bool            `json:"builtin"`
	File         string          `json:"file"` // a user template's path; "" for a built-in
	Key          string          `json:"key"`  // the key issue makes, as --key takes it: rsa:2048
	AllowedKeys  []string        `json:"allowed_keys"`
	ValidityDays int             `json:"validity_days"`
	KeyUsage     []string        `json:"key_usage"`
	ExtKeyUsage  []string        `json:"ext_key_usage"`
	Formats      []string        `json:"formats"`
	Example      templateExample `json:"example"`
	TOML         string          `json:"toml"`
}

type templateExample struct {
	CN      string   `json:"cn"`
	SANs    []string `json:"sans"`
	Subject string   `json:"subject"`
}

func newTemplateJSON(t *templates.Template) templateJSON {
	j := templateJSON{header: newHeader(),
		templateSummaryJSON: templateSummaryJSON{Name: t.Name, Description: t.Description, Source: t.SourceDocument()},
		Builtin:             t.Builtin(), AllowedKeys: jsonout.List(t.Key.AllowedKeySpecs()), ValidityDays: t.Validity.Days,
		KeyUsage: []string{}, ExtKeyUsage: []string{}, Formats: []string{}, TOML: string(t.Text())}
	if !j.Builtin {
		j.File = abs(t.File())
	}
	switch t.Key.Type {
	case templates.RSA:
		j.Key = "rsa:" + strconv.Itoa(t.Key.Bits)
	case templates.ECDSA:
		j.Key = "ecdsa:" + string(t.Key.Curve)
	default:
		j.Key = string(t.Key.Type)
	}
	for _, u := range t.Usage.KeyUsage {
		j.KeyUsage = append(j.KeyUsage, string(u))
	}
	for _, u := range t.Usage.ExtKeyUsage {
		j.ExtKeyUsage = append(j.ExtKeyUsage, string(u))
	}
	for _, f := range t.Output.Formats {
		j.Formats = append(j.Formats, string(f))
	}
	if t.Example.CN != "" {
		subj, sans := t.ExampleRequest()
		subj.CommonName = ""
		j.Example = templateExample{CN: t.Example.CN, SANs: sanStrings(sans), Subject: subj.String()}
	} else {
		j.Example.SANs = []string{}
	}
	return j
}

// doctorJSON is `certmint doctor --json`.
type doctorJSON struct {
	header
	Home                  string              `json:"home"`
	DatabaseSchemaVersion int                 `json:"database_schema_version"`
	Records               int                 `json:"records"`
	Folders               int                 `json:"folders"`
	Files                 int                 `json:"files"`
	Findings              []doctorFindingJSON `json:"findings"`
	Found                 int                 `json:"found"`
	Repaired              int                 `json:"repaired"`
	Unrepairable          int                 `json:"unrepairable"`
	Unresolved            int                 `json:"unresolved"`
	OK                    bool                `json:"ok"`
}

// doctorFindingJSON is one doctor.Finding.
type doctorFindingJSON struct {
	Kind       string `json:"kind"`
	CA         string `json:"ca"`
	Serial     string `json:"serial"`
	Path       string `json:"path"`
	Problem    string `json:"problem"`
	Repairable bool   `json:"repairable"`
	Repaired   bool   `json:"repaired"`
	Repair     string `json:"repair"`
	Reason     string `json:"reason"`
	Hint       string `json:"hint"`
}

func newDoctorJSON(r *doctor.Report) doctorJSON {
	j := doctorJSON{header: newHeader(), Home: abs(r.Home), DatabaseSchemaVersion: r.SchemaVersion, Records: r.Records,
		Folders: r.Folders, Files: r.Files, Findings: make([]doctorFindingJSON, 0, len(r.Findings)), Found: len(r.Findings),
		Repaired: r.Repaired(), Unrepairable: r.Unrepairable(), Unresolved: r.Unresolved(), OK: r.OK()}
	for _, f := range r.Findings {
		j.Findings = append(j.Findings, doctorFindingJSON{Kind: f.Kind, CA: f.CA, Serial: f.Serial, Path: f.Path, Problem: f.Problem,
			Repairable: f.Repairable, Repaired: f.Repaired, Repair: f.Repair, Reason: f.Reason, Hint: f.Hint})
	}
	return j
}

// dbMigrateJSON is `certmint db migrate --json`.
type dbMigrateJSON struct {
	header
	URL      string             `json:"url"` // the database certmint.toml now names (no password)
	Tables   []store.TableCount `json:"tables"`
	Checksum string             `json:"checksum"`
	Backup   string             `json:"backup"` // certmint.db, left as it was
	Config   string             `json:"config"` // certmint.toml, rewritten
}

func newDBMigrateJSON(res *ca.MoveResult) dbMigrateJSON {
	return dbMigrateJSON{header: newHeader(), URL: res.URL, Tables: jsonout.List(res.Tables), Checksum: res.Checksum,
		Backup: abs(res.Backup), Config: abs(res.Config)}
}
