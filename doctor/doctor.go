// Package doctor finds, and where it is safe repairs, disagreements between
// a CA home's issuance database, the bundle files it knows of and public/:
// what an interrupted command, a restored backup or a hand edit left.
package doctor

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/store"
)

// Kinds of doctor findings.
const (
	KindUnrecorded       = "unrecorded-certificate" // a certificate of this CA on disk that the database does not know
	KindBundleMissing    = "bundle-missing"         // a valid certificate none of whose files is on disk
	KindBundleIncomplete = "bundle-incomplete"      // some of a valid certificate's files are missing
	KindBundleReplaced   = "bundle-replaced"        // a valid certificate's files now hold another certificate
	KindTempFile         = "temp-file"              // a leftover .certmint-tmp-* file or folder
	KindStagedBundle     = "staged-bundle"          // a recorded bundle left in its staging folder
	KindPublicCert       = "public-cert"            // public/<slug>.crt missing or not the CA certificate
	KindCRLMissing       = "crl-missing"
	KindCRLInvalid       = "crl-invalid"   // unreadable, or not signed by its CA
	KindCRLStale         = "crl-stale"     // misses a revocation, or the database has gone past its number
	KindCRLExpired       = "crl-expired"   // past nextUpdate
	KindCRLDue           = "crl-due"       // inside half its lifetime or the warning window
	KindCRLPEM           = "crl-pem"       // <slug>.crl.pem missing or not the same CRL as <slug>.crl
	KindPermissions      = "permissions"   // a secret, the home or the database readable by group or others
	KindCAExpiry         = "ca-expiry"     // a CA certificate near or past its end
	KindAuditMissing     = "audit-missing" // a recorded issuance or revocation the audit trail lacks
	KindUnreleased       = "unreleased"    // recorded before its files were written, and never marked released
	KindCAUnusable       = "ca-unusable"   // a CA revoked or not yet valid: nothing can be issued from it
)

// DefaultWarn is how long before its end a CA certificate is reported.
const DefaultWarn = 90 * 24 * time.Hour

// DefaultTempAge is how old a temporary file must be before doctor removes
// it: a younger one may belong to a certmint that is still running.
const DefaultTempAge = 10 * time.Minute

// Options say what Doctor checks against and whether it repairs.
type Options struct {
	Repair bool
	// Warn: CA certificates ending within it are reported (0: 90 days).
	Warn time.Duration
	// CRLWarn: a CRL whose nextUpdate is this close is due. 0: a CRL is due
	// once half its lifetime has passed, when `certmint serve` re-signs it.
	CRLWarn time.Duration
	// TempAge: temporary files younger than this are reported but left
	// alone (0: DefaultTempAge; negative: any age, for when no certmint
	// can be running).
	TempAge time.Duration
	Now     time.Time
}

// Finding is one disagreement between the database, the files and
// public/, and what was (or can be) done about it.
type Finding struct {
	Kind    string `json:"kind"`
	CA      string `json:"ca,omitempty"`
	Serial  string `json:"serial,omitempty"`
	Path    string `json:"path,omitempty"`
	Problem string `json:"problem"`
	// Repairable: doctor --repair knows a safe repair (it may still have
	// been unable to do it now: see Reason).
	Repairable bool `json:"repairable"`
	Repaired   bool `json:"repaired"`
	// Repair is what the repair did, or what --repair would do.
	Repair string `json:"repair,omitempty"`
	// Reason says why the finding is not repaired.
	Reason string `json:"reason,omitempty"`
	// Hint is what to run instead.
	Hint string `json:"hint,omitempty"`
}

// Report is what Doctor found.
type Report struct {
	Home     string    `json:"home"`
	Findings []Finding `json:"findings"`
	// SchemaVersion is the issuance database's schema version (migrated to
	// this certmint's when the home was opened).
	SchemaVersion int `json:"schema_version"`
	// What was looked at.
	Records int `json:"records"`
	Folders int `json:"folders"`
	Files   int `json:"files"`
}

// Repaired counts the findings repaired.
func (r *Report) Repaired() int {
	n := 0
	for _, f := range r.Findings {
		if f.Repaired {
			n++
		}
	}
	return n
}

// Unrepairable counts the findings doctor cannot repair.
func (r *Report) Unrepairable() int {
	n := 0
	for _, f := range r.Findings {
		if !f.Repaired && !f.Repairable {
			n++
		}
	}
	return n
}

// Unresolved counts the findings not repaired.
func (r *Report) Unresolved() int { return len(r.Findings) - r.Repaired() }

// OK reports whether nothing is wrong, or everything was repaired.
func (r *Report) OK() bool { return r.Unresolved() == 0 }

// doctor is one run of Doctor.
type doctor struct {
	s   *ca.Store
	ctx context.Context
	o   Options
	r   *Report

	records  []*ca.Record            // every record, CA records included
	bySerial map[string]*ca.Record   // by ca.SerialHex
	folders  []string                // bundle folders the database knows
	batches  []string                // OUT folders of batches
	byFolder map[string][]*ca.Record // by the folder of their files, and by batch folder
	staged   map[string]bool         // serials whose bundle waits in a staging folder
	handled  map[string]bool         // temporary paths already reported
	released map[string]bool         // unreleased serials checkUnreleased handled
}

// Doctor compares the database, the files of every bundle folder the
// database knows and public/, reports every disagreement and, with
// o.Repair, repairs what is safe to repair: leftover temporary files are
// removed, a bundle left in its staging folder is moved into place, a
// certificate of this CA found on disk is recorded, public/ is rewritten,
// a stale, missing or due CRL is published again (this needs the CA
// password), loose permissions are tightened. A certificate whose files
// are gone is only reported: its key is not in the database. Every repair
// is appended to the audit trail (action "repair"). Doctor returns an
// error only when it cannot look (the database cannot be read) or cannot
// record a repair.
func Run(ctx context.Context, s *ca.Store, o Options) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Warn == 0 {
		o.Warn = DefaultWarn
	}
	switch {
	case o.TempAge == 0:
		o.TempAge = DefaultTempAge
	case o.TempAge < 0:
		o.TempAge = 0
	}
	d := &doctor{s: s, ctx: ctx, o: o, r: &Report{Home: absolute(s.Home)}, bySerial: map[string]*ca.Record{},
		byFolder: map[string][]*ca.Record{}, staged: map[string]bool{}, handled: map[string]bool{}, released: map[string]bool{}}
	var err error
	if d.r.SchemaVersion, err = s.DB.SchemaVersion(ctx); err != nil {
		return nil, err
	}
	recs, err := s.List(ctx, ca.ListOptions{CAs: true, WithoutSANs: true, Now: o.Now})
	if err != nil {
		return nil, err
	}
	d.records = recs
	folders, batches := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		d.bySerial[r.SerialHex()] = r
		if r.IsCA() {
			continue
		}
		d.r.Records++
		if r.Meta.Out != "" {
			folders[filepath.Clean(r.Meta.Out)] = true
		}
		dirs := map[string]bool{}
		for _, f := range r.Meta.Files {
			dirs[filepath.Dir(filepath.Clean(f))] = true
		}
		if r.Meta.Batch != "" {
			batches[filepath.Clean(r.Meta.Batch)] = true
			dirs[filepath.Clean(r.Meta.Batch)] = true
		}
		for dir := range dirs {
			folders[dir] = true
			d.byFolder[dir] = append(d.byFolder[dir], r)
		}
	}
	d.folders, d.batches = sortedKeys(folders), sortedKeys(batches)
	d.r.Folders = len(d.folders)

	steps := []func() error{
		d.checkHome,        // modes of the home, the database, the CA keys; leftovers there
		d.checkPublicCerts, // public/<slug>.crt
		d.checkStaged,      // bundles recorded but left in their staging folder
		d.checkUnreleased,  // certificates recorded before their files, never released
		d.checkRecords,     // the files of every valid record
		d.checkTemps,       // leftovers in bundle and batch folders
		d.checkUnrecorded,  // certificates on disk the database does not know
		d.checkSecretModes, // .key, .pfx, .password, passwords.csv
		d.checkAudit,       // after the repairs that record certificates
		d.checkCRLs,        // against the records, as repaired above
		d.checkCAUsable,    // the issuing CA revoked, a CA not yet valid
		d.checkCAExpiry,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return d.r, err
		}
	}
	return d.r, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// add appends a finding; with --repair and a repair function, it runs the
// repair and records it in the audit trail.
func (d *doctor) add(f Finding, repair func() error) error {
	if repair == nil || !f.Repairable || !d.o.Repair {
		if f.Repairable && !d.o.Repair && f.Reason == "" {
			f.Reason = "not asked to repair (run with --repair)"
		}
		d.r.Findings = append(d.r.Findings, f)
		return nil
	}
	if err := repair(); err != nil {
		f.Reason = "the repair failed: " + err.Error()
		d.r.Findings = append(d.r.Findings, f)
		return nil
	}
	f.Repaired = true
	d.r.Findings = append(d.r.Findings, f)
	return d.audit(f)
}

func (d *doctor) audit(f Finding) error {
	detail := f.Kind
	if f.Path != "" {
		detail += " " + f.Path
	}
	detail += ": " + f.Problem + "; repair: " + f.Repair
	return d.s.DB.Audit(d.ctx, ca.Event{Action: "repair", Serial: f.Serial, CALabel: f.CA, Detail: detail})
}

// checkMode reports a file or folder with group or other permission bits
// and tightens it to want. Windows has no such bits.
func (d *doctor) checkMode(path, what string, want fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return d.add(Finding{Kind: KindPermissions, Path: path,
		Problem:    fmt.Sprintf("%s is %04o: group or others have access to it", what, st.Mode().Perm()),
		Repairable: true, Repair: fmt.Sprintf("chmod %04o", want),
	}, func() error { return fsutil.Chmod(fsutil.Owner(d.s.Home, path), path, want) })
}

func (d *doctor) checkHome() error {
	s := d.s
	if err := d.checkMode(s.Home, "the CA home", fsutil.ModeHome); err != nil {
		return err
	}
	for _, f := range s.DB.Files() {
		if err := d.checkMode(f, "the issuance database", fsutil.ModePrivate); err != nil {
			return err
		}
	}
	dirs := []string{s.Home, s.PublicDir()}
	for _, a := range s.Authorities() {
		if err := d.checkMode(a.Dir(), "the folder of CA "+a.Slug, fsutil.ModeHome); err != nil {
			return err
		}
		if err := d.checkMode(a.KeyPath(), "the key of CA "+a.Slug, fsutil.ModePrivate); err != nil {
			return err
		}
		dirs = append(dirs, a.Dir())
	}
	for _, dir := range dirs {
		if err := d.tempsIn(dir); err != nil {
			return err
		}
	}
	return nil
}

func (d *doctor) checkPublicCerts() error {
	for _, a := range d.s.Authorities() {
		path := filepath.Join(d.s.PublicDir(), a.Slug+".crt")
		data, err := os.ReadFile(path)
		var problem string
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problem = "missing: validators cannot fetch the CA certificate (AIA caIssuers)"
		case err != nil:
			problem = err.Error()
		case !bytes.Equal(data, a.Cert.Raw):
			problem = fmt.Sprintf("is not the DER certificate of CA %s (%s)", a.Slug, a.CertPath())
		default:
			continue
		}
		if err := d.add(Finding{Kind: KindPublicCert, CA: a.Slug, Path: path, Problem: problem,
			Repairable: true, Repair: "rewrite it from " + a.CertPath(),
		}, func() error {
			return fsutil.WriteFileIn(d.s.Home, path, a.Cert.Raw, fsutil.ModePublic, true)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (d *doctor) checkTemps() error {
	for _, dir := range append(slices.Clone(d.batches), d.folders...) {
		if err := d.tempsIn(dir); err != nil {
			return err
		}
	}
	return nil
}

// tempsIn reports the temporary files and folders left in dir and, once
// old enough, removes them. Staging folders that checkStaged finished or
// reported are left to it.
func (d *doctor) tempsIn(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		if !fsutil.IsTemp(e.Name()) || d.handled[path] {
			continue
		}
		d.handled[path] = true
		info, err := os.Lstat(path)
		if err != nil {
			continue
		}
		age := d.o.Now.Sub(info.ModTime())
		what := "temporary file"
		if info.IsDir() {
			what = "temporary folder"
		}
		f := Finding{Kind: KindTempFile, Path: path,
			Problem:    fmt.Sprintf("%s left by an interrupted certmint (%s old)", what, roundAge(age)),
			Repairable: true, Repair: "remove it"}
		repair := func() error { return fsutil.RemoveAll(fsutil.Owner(d.s.Home, path), path) }
		if d.young(&f, age) {
			repair = nil
		}
		if err := d.add(f, repair); err != nil {
			return err
		}
	}
	return nil
}

// young marks a finding about a temporary file younger than TempAge: a
// running certmint may still own it.
func (d *doctor) young(f *Finding, age time.Duration) bool {
	if age >= d.o.TempAge {
		return false
	}
	f.Reason = fmt.Sprintf("younger than %s: a running certmint may still own it", roundAge(d.o.TempAge))
	f.Hint = "run `certmint doctor --repair` again later (or with --temp-age 0 when no certmint is running)"
	return true
}

func roundAge(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// checkStaged finishes interrupted bundle writes. issue stages a bundle in
// a folder inside --out and batch beside the row's folder
// (fsutil.StageInFolder, StageFolder); the certificate is recorded, then
// the files are moved into place. A kill in between leaves a recorded
// certificate whose missing files wait, complete and synced, in the
// staging folder: moving them into place is the repair.
func (d *doctor) checkStaged() error {
	for _, dir := range append(slices.Clone(d.batches), d.folders...) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		// Every staging folder of dir first: a record two folders could
		// complete gets the one that proves it is its own, or none.
		type claim struct {
			path    string
			rec     *ca.Record
			missing []string
			strong  bool
		}
		var claims []claim
		for _, e := range ents {
			path := filepath.Join(dir, e.Name())
			if !e.IsDir() || !strings.HasPrefix(e.Name(), fsutil.TempNewFolder) || d.handled[path] {
				continue
			}
			// A staging folder a kill interrupted may hold a file cut
			// short: never moved into place. tempsIn removes it, and
			// checkUnreleased revokes the certificate it was for.
			if !fsutil.StagingComplete(path) {
				continue
			}
			if rec, missing, strong := d.stagedOwner(path, dir); rec != nil {
				claims = append(claims, claim{path, rec, missing, strong})
			}
		}
		for _, c := range claims {
			rival := false
			for _, o := range claims {
				if o.path != c.path && o.rec == c.rec && (o.strong || !c.strong) {
					rival = true
				}
			}
			if rival {
				continue // a set never moved: tempsIn removes it, checkRecords reports the record
			}
			if err := d.finish(c.path, c.rec, c.missing); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish reports (and repairs) one recorded bundle left in its staging
// folder.
func (d *doctor) finish(path string, rec *ca.Record, missing []string) error {
	d.handled[path] = true
	d.staged[rec.SerialHex()] = true
	info, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	age := d.o.Now.Sub(info.ModTime())
	target := filepath.Dir(filepath.Clean(rec.Meta.Files[0]))
	f := Finding{Kind: KindStagedBundle, CA: rec.CALabel, Serial: rec.SerialHex(), Path: path,
		Problem: fmt.Sprintf("%s: recorded, but %d of its files were left in this staging folder (%s old): %s",
			rec.CN, len(missing), roundAge(age), baseNames(missing)),
		Repairable: true, Repair: "move them into place in " + target}
	repair := func() error {
		if err := finishStaged(path, target, missing); err != nil {
			return err
		}
		return d.s.DB.MarkReleased(d.ctx, rec.Serial, rec.AKI, d.o.Now)
	}
	if d.young(&f, age) {
		repair = nil
	}
	return d.add(f, repair)
}

// finishStaged moves the missing files from the staging folder into
// target and removes the staging folder. A missing file that is in place
// is one a forced commit (renew, --force) was replacing: stagedOwner
// proved the staged set the record's, so it is replaced, and the bundle
// is never left a mix of two certificates. Any other file is never moved
// over an existing one. When target is gone and the staging folder is
// beside it (batch), the whole folder is renamed into place.
func finishStaged(staging, target string, missing []string) error {
	if err := fsutil.Check(filepath.Dir(staging), append([]string{target}, missing...)...); err != nil {
		return err // nothing is moved through a link
	}
	if filepath.Dir(staging) == filepath.Dir(target) { // batch: beside the row's folder
		os.Remove(target) // succeeds only on an empty folder
		if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			return os.Rename(staging, target)
		}
	}
	for _, m := range missing {
		src := filepath.Join(staging, filepath.Base(m))
		if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() {
			if err := os.Rename(src, m); err != nil { // replaces m in one step
				return err
			}
			continue
		}
		if err := os.Link(src, m); err != nil {
			if _, serr := os.Lstat(m); serr == nil {
				return fmt.Errorf("%s appeared meanwhile", m)
			}
			if err := os.Rename(src, m); err != nil { // no hard links here
				return err
			}
		}
	}
	return os.RemoveAll(staging)
}

// stagedOwner returns the valid record whose missing files the staging
// folder holds, with those files, or nil. A staging folder holds one
// staged set, so one file that only that record's bundle can hold proves
// the whole folder is its own (strong): its .crt, its key (plain, or
// opened with the bundle's password), its .pfx. Without such a file the
// folder is the record's when the record's .crt is already in place (the
// .crt is moved first, and a second attempt at the same names would have
// staged its own .crt, or replaced this one), or when it holds only
// CA-wide files (chain, .cer, install note).
//
// A file that is in place but of which the staging folder holds another
// version is missing too: a forced commit (renew in place, --force) was
// replacing the old bundle when it stopped, and the old files at the
// record's names are not its files. Such a set is only claimed on strong
// proof, and finishing it replaces every one of them, so the bundle in
// place is never a mix of two.
func (d *doctor) stagedOwner(staging, dir string) (*ca.Record, []string, bool) {
	ents, err := os.ReadDir(staging)
	if err != nil {
		return nil, nil, false
	}
	names := map[string]bool{}
	for _, e := range ents {
		if e.Type().IsRegular() {
			names[e.Name()] = true
		}
	}
	if len(names) == 0 {
		return nil, nil, false
	}
	var owner *ca.Record
	var ownerMissing []string
	ownerStrong := false
	for _, r := range d.byFolder[dir] {
		if r.State(d.o.Now) != "valid" {
			continue
		}
		own := map[string]bool{}
		for _, f := range r.Meta.Files {
			own[filepath.Base(f)] = true
		}
		fits := true
		for n := range names {
			fits = fits && own[n]
		}
		if !fits {
			continue
		}
		var missing []string
		crtInPlace, replace := false, false
		for _, f := range r.Meta.Files {
			_, err := os.Lstat(f)
			staged := names[filepath.Base(f)]
			switch {
			case errors.Is(err, fs.ErrNotExist):
				fits = fits && staged
				missing = append(missing, f)
			case err == nil && staged && !sameContent(f, filepath.Join(staging, filepath.Base(f))):
				missing, replace = append(missing, f), true
			case err == nil && strings.HasSuffix(f, ".crt"):
				certs, err := certfile.ReadCertificates(f)
				if err != nil || !r.Is(certs[0]) {
					fits = false // the files now belong to another certificate
				}
				crtInPlace = true
			}
		}
		if !fits || len(missing) == 0 {
			continue
		}
		strong, ok := d.provesOwner(staging, names, r, crtInPlace)
		if !ok || (replace && !strong) {
			continue
		}
		if owner != nil {
			return nil, nil, false // two records fit: leave it to a person
		}
		owner, ownerMissing, ownerStrong = r, missing, strong
	}
	return owner, ownerMissing, ownerStrong
}

// sameContent reports whether two files hold the same bytes.
func sameContent(a, b string) bool {
	x, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	y, err := os.ReadFile(b)
	return err == nil && bytes.Equal(x, y)
}

// provesOwner tells whether the staged files are r's: proven by one of
// them (strong), or allowed (see stagedOwner).
func (d *doctor) provesOwner(staging string, names map[string]bool, r *ca.Record, crtInPlace bool) (strong, ok bool) {
	if r.PEM == "" { // read without certificates (Run): this one is needed
		full, err := d.s.Lookup(d.ctx, r.Serial)
		if err != nil {
			return false, false
		}
		r = full
	}
	cert, err := r.Certificate()
	if err != nil {
		return false, false
	}
	passwords := d.bundlePasswords(staging, r)
	caWide := true
	for n := range names {
		data, err := os.ReadFile(filepath.Join(staging, n))
		if err != nil {
			return false, false
		}
		switch ext := strings.ToLower(filepath.Ext(n)); {
		case ext == ".crt":
			certs, err := certfile.ParseCertificates(data)
			if err != nil || !certs[0].Equal(cert) {
				return false, false // another bundle's certificate
			}
			strong = true
		case ext == ".key":
			caWide = false
			for _, pw := range append([]string{""}, passwords...) {
				if k, err := keys.ParsePEM(data, pw); err == nil {
					if !keys.Match(k, cert.PublicKey) {
						return false, false
					}
					strong = true
					break
				}
			}
		case ext == ".pfx" || ext == ".p12":
			caWide = false
			for _, pw := range passwords {
				if _, leaf, _, err := pkcs12.DecodeChain(data, pw); err == nil {
					if !leaf.Equal(cert) {
						return false, false
					}
					strong = true
					break
				}
			}
		case ext == ".cer", strings.HasSuffix(n, "-chain.pem"), strings.HasSuffix(n, "-install.txt"):
		default:
			caWide = false
		}
	}
	return strong, strong || crtInPlace || caWide
}

// bundlePasswords lists the passwords r's .pfx or key may have: its
// BASE.password (staged or in place) and its line of the batch's
// passwords.csv.
func (d *doctor) bundlePasswords(staging string, r *ca.Record) []string {
	var out []string
	for _, f := range r.Meta.Files {
		if !strings.HasSuffix(f, ".password") {
			continue
		}
		for _, p := range []string{filepath.Join(staging, filepath.Base(f)), f} {
			if data, err := os.ReadFile(p); err == nil {
				out = append(out, strings.TrimRight(string(data), "\r\n"))
			}
		}
	}
	if r.Meta.Batch != "" {
		if data, err := os.ReadFile(filepath.Join(r.Meta.Batch, ca.PasswordsFile)); err == nil {
			recs, _ := csv.NewReader(bytes.NewReader(data)).ReadAll()
			for _, rec := range recs {
				if len(rec) >= 4 && rec[2] == r.SerialHex() {
					out = append(out, rec[3])
				}
			}
		}
	}
	return out
}

// checkRecords looks for the files of every valid certificate. Revoked and
// expired ones are no longer deployed, and their files may well be gone.
func (d *doctor) checkRecords() error {
	for _, r := range d.records {
		if r.IsCA() || r.State(d.o.Now) != "valid" || len(r.Meta.Files) == 0 || d.staged[r.SerialHex()] || d.released[r.SerialHex()] {
			continue
		}
		serial := r.SerialHex()
		var missing []string
		crtPath := ""
		for _, f := range r.Meta.Files {
			if strings.HasSuffix(f, ".crt") && crtPath == "" {
				crtPath = f
			}
			if _, err := os.Lstat(f); errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, f)
			}
		}
		gone := "cannot repair: the private key is not kept by the CA, and may be gone with the files"
		hint := fmt.Sprintf("if the certificate is not in use: `certmint revoke %s --reason cessationOfOperation`; if it is needed: `certmint renew %s --revoke-old`", serial, serial)
		if crtPath != "" && !slices.Contains(missing, crtPath) {
			certs, err := certfile.ReadCertificates(crtPath)
			if err == nil && certs[0].SerialNumber.Cmp(r.Serial) != 0 {
				other := d.bySerial[ca.SerialHex(certs[0].SerialNumber)]
				if other != nil && other.Meta.Renews == serial {
					continue // renewed in place; the old one may still be deployed until it expires
				}
				if err := d.add(Finding{Kind: KindBundleReplaced, CA: r.CALabel, Serial: serial, Path: crtPath,
					Problem: fmt.Sprintf("%s: valid, but its files now hold certificate %s, so its own key is gone", r.CN, ca.SerialHex(certs[0].SerialNumber)),
					Reason:  gone,
					Hint:    fmt.Sprintf("if it is not deployed anywhere: `certmint revoke %s --reason superseded`", serial),
				}, nil); err != nil {
					return err
				}
				continue
			}
		}
		var f Finding
		switch {
		case len(missing) == 0:
			continue
		case len(missing) == len(r.Meta.Files):
			f = Finding{Kind: KindBundleMissing, Path: r.Meta.Files[0],
				Problem: fmt.Sprintf("%s: valid and recorded, but none of its %d files is on disk", r.CN, len(r.Meta.Files))}
		default:
			f = Finding{Kind: KindBundleIncomplete, Path: missing[0],
				Problem: fmt.Sprintf("%s: %d of its %d files are missing: %s", r.CN, len(missing), len(r.Meta.Files), baseNames(missing))}
		}
		f.CA, f.Serial, f.Reason, f.Hint = r.CALabel, serial, gone, hint
		if err := d.add(f, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkUnreleased finds the certificates that were recorded (issuance
// records a certificate before any file holds it) but never marked
// released: the command was killed, or failed, between the two. One whose
// files are all in place only lacks the mark. One whose bundle waits in a
// staging folder is checkStaged's. One whose files were never written had
// its private key only in the killed process's memory: it is revoked
// (cessationOfOperation: it never reached a device) and whatever of its
// bundle was placed is removed. Young ones may belong to a running
// command and are left alone.
func (d *doctor) checkUnreleased() error {
	recs, err := d.s.DB.Unreleased(d.ctx)
	if err != nil {
		return err
	}
	for _, r := range recs {
		serial := r.SerialHex()
		if r.IsCA() || d.staged[serial] {
			continue
		}
		d.released[serial] = true
		var missing, present []string
		held, crtPath := "", "" // what the bundle's .crt in place holds when it is not this certificate
		for _, f := range r.Meta.Files {
			if _, err := os.Lstat(f); errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, f)
				continue
			}
			present = append(present, f)
			if strings.HasSuffix(f, ".crt") {
				crtPath = f
				certs, err := certfile.ReadCertificates(f)
				switch {
				case err != nil:
					held = "an unreadable file"
				case !r.Is(certs[0]):
					held = "certificate " + ca.SerialHex(certs[0].SerialNumber)
				}
			}
		}
		// A renewal in place (or issue --force) stages the new bundle
		// while the old one is still in place under the same names: files
		// there are not this certificate's files unless its .crt is.
		if held != "" {
			present = nil // another certificate's: left to it
		}
		age := d.o.Now.Sub(r.IssuedAt)
		f := Finding{Kind: KindUnreleased, CA: r.CALabel, Serial: serial, Repairable: true}
		var repair func() error
		if len(missing) == 0 && held == "" && len(r.Meta.Files) > 0 {
			f.Path = r.Meta.Files[0]
			f.Problem = fmt.Sprintf("%s: recorded and its files are in place, but it was never marked released (%s ago)", r.CN, roundAge(age))
			f.Repair = "mark it released"
			repair = func() error { return d.s.DB.MarkReleased(d.ctx, r.Serial, r.AKI, d.o.Now) }
		} else {
			if len(r.Meta.Files) > 0 {
				f.Path = r.Meta.Files[0]
			}
			f.Problem = fmt.Sprintf("%s: signed and recorded %s ago, but its files were never written: the command stopped before it released them, and its private key is gone", r.CN, roundAge(age))
			f.Repair = "revoke it (cessationOfOperation: it never reached a device) and remove what of its bundle was placed"
			if held != "" {
				f.Problem = fmt.Sprintf("%s: signed and recorded %s ago to replace the bundle in place, but its files were never placed (%s holds %s): the command stopped before it released them, and its private key is gone",
					r.CN, roundAge(age), filepath.Base(crtPath), held)
				f.Repair = "revoke it (cessationOfOperation: it never reached a device); the files in place are left to the certificate they hold"
			}
			if r.Status == "revoked" {
				f.Repair = "remove what of its bundle was placed"
			}
			repair = func() error { return d.abandon(r, present) }
		}
		if d.young(&f, age) {
			repair = nil
		}
		if err := d.add(f, repair); err != nil {
			return err
		}
	}
	return nil
}

// abandon revokes a recorded certificate whose bundle was never released,
// removes the files of its bundle that were placed (a CA's .cer, shared
// by every bundle of the folder, stays), and marks it handled.
func (d *doctor) abandon(r *ca.Record, present []string) error {
	if r.Status != "revoked" {
		reason := crl.Reasons["cessationOfOperation"]
		if _, err := d.s.DB.Revoke(d.ctx, r.Serial, r.AKI, reason, d.o.Now.Truncate(time.Second)); err != nil {
			return err
		}
		if err := d.s.DB.Audit(d.ctx, ca.Event{Action: "revoke", Serial: r.SerialHex(), CALabel: r.CALabel, Template: r.Meta.Template,
			Subject: r.Subject(), Detail: "cessationOfOperation (doctor: recorded, never released)"}); err != nil {
			return err
		}
		for _, rec := range []*ca.Record{r, d.bySerial[r.SerialHex()]} {
			if rec != nil { // checkCRLs reads d.records: it must see the revocation
				rec.Status, rec.Reason, rec.RevokedAt = "revoked", reason, d.o.Now.Truncate(time.Second)
			}
		}
	}
	for _, p := range present {
		if strings.HasSuffix(p, ".cer") {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return d.s.DB.MarkReleased(d.ctx, r.Serial, r.AKI, d.o.Now)
}

func baseNames(paths []string) string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return strings.Join(out, ", ")
}

// certExt are the certificate files doctor reads in bundle folders.
var certExt = []string{".crt", ".pem", ".cer", ".der"}

// checkUnrecorded reads every certificate file in the bundle folders and
// records the certificates this CA signed that the database does not know
// (a database restored from an older backup, a copied home): the CA must
// be able to list and revoke everything it signed.
func (d *doctor) checkUnrecorded() error {
	seen := map[string]bool{}
	iss := d.s.Issuing.Cert
	for _, dir := range d.folders {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.Type().IsRegular() || fsutil.IsTemp(e.Name()) || !slices.Contains(certExt, ext) {
				continue
			}
			d.r.Files++
			path := filepath.Join(dir, e.Name())
			certs, err := certfile.ReadCertificates(path)
			if err != nil {
				continue
			}
			for _, c := range certs {
				serial := ca.SerialHex(c.SerialNumber)
				if c.IsCA || seen[serial] || d.bySerial[serial] != nil ||
					!bytes.Equal(c.RawIssuer, iss.RawSubject) || c.CheckSignatureFrom(iss) != nil {
					continue
				}
				seen[serial] = true
				if err := d.add(Finding{Kind: KindUnrecorded, CA: d.s.Issuing.Slug, Serial: serial, Path: path,
					Problem:    fmt.Sprintf("%s: signed by %s, but not in the database", c.Subject.CommonName, d.s.Issuing.Slug),
					Repairable: true, Repair: "record it (template unknown), so it can be listed and revoked",
				}, func() error {
					if err := d.s.DB.Insert(d.ctx, store.NewRecord(c, d.s.Issuing.Slug,
						ca.Metadata{Subject: c.Subject.String(), Files: []string{path}, Out: dir})); err != nil {
						return err
					}
					return d.s.DB.MarkReleased(d.ctx, c.SerialNumber, hex.EncodeToString(c.AuthorityKeyId), d.o.Now)
				}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// secretExt are the bundle files that hold a key or a password (a
// .mobileconfig holds the encrypted .pfx).
var secretExt = []string{".key", ".pfx", ".p12", ".password", ".mobileconfig"}

func (d *doctor) checkSecretModes() error {
	for _, dir := range d.folders {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.Type().IsRegular() && !fsutil.IsTemp(e.Name()) && slices.Contains(secretExt, strings.ToLower(filepath.Ext(e.Name()))) {
				if err := d.checkMode(filepath.Join(dir, e.Name()), "a private key or password file", fsutil.ModePrivate); err != nil {
					return err
				}
			}
		}
	}
	for _, dir := range d.batches {
		if err := d.checkMode(filepath.Join(dir, ca.PasswordsFile), "the batch password file", fsutil.ModePrivate); err != nil {
			return err
		}
	}
	return nil
}

// Problems of KindAuditMissing; checkAudit finds its own repairs by them.
const (
	noIssueEvent  = "no issuance event"
	noRevokeEvent = "no revocation event"
)

// checkAudit requires an audit event for every recorded issuance and
// revocation. A command killed between recording a certificate (or its
// revocation) and writing its event leaves the event out; the trail is
// append-only, so the repair is a "repair" event that records it late.
func (d *doctor) checkAudit() error {
	// One flag byte per serial: the trail of a large home holds more
	// events than certificates.
	const issuedEvent, revokedEvent = 1, 2
	seen := map[string]uint8{}
	err := d.s.DB.EachAuditedSerial(d.ctx, func(e store.AuditedSerial) {
		serial := strings.ToUpper(e.Serial)
		switch {
		case e.Action == "issue", e.Action == "sign", e.Action == "issue-self-signed", e.Action == "renew":
			seen[serial] |= issuedEvent
		case e.Action == "revoke":
			seen[serial] |= revokedEvent
		case e.Action == "repair" && strings.HasPrefix(e.Detail, KindUnrecorded):
			seen[serial] |= issuedEvent
		case e.Action == "repair" && strings.HasPrefix(e.Detail, KindAuditMissing):
			if strings.Contains(e.Detail, noIssueEvent) {
				seen[serial] |= issuedEvent
			}
			if strings.Contains(e.Detail, noRevokeEvent) {
				seen[serial] |= revokedEvent
			}
		}
	})
	if err != nil {
		return err
	}
	issued := func(serial string) bool { return seen[serial]&issuedEvent != 0 }
	revoked := func(serial string) bool { return seen[serial]&revokedEvent != 0 }
	for _, r := range d.records {
		if r.IsCA() {
			continue
		}
		serial := r.SerialHex()
		var missing []string
		if !issued(serial) {
			missing = append(missing, fmt.Sprintf("%s (issued %s)", noIssueEvent, r.IssuedAt.UTC().Format(time.RFC3339)))
		}
		if r.Status == "revoked" && !revoked(serial) {
			missing = append(missing, fmt.Sprintf("%s (revoked %s, %s)", noRevokeEvent, r.RevokedAt.UTC().Format(time.RFC3339), crl.ReasonName(r.Reason)))
		}
		if len(missing) == 0 {
			continue
		}
		// The repair is the "repair" event that add writes.
		if err := d.add(Finding{Kind: KindAuditMissing, CA: r.CALabel, Serial: serial,
			Problem:    r.CN + ": the audit trail has " + strings.Join(missing, " and ") + ": the command was interrupted before it wrote one",
			Repairable: true, Repair: "append an event that records it",
		}, func() error { return nil }); err != nil {
			return err
		}
	}
	return nil
}

// checkCRLs checks each CA's published CRL against the database, and
// publishes a fresh one where anything is wrong.
func (d *doctor) checkCRLs() error {
	numbers, err := d.s.DB.CRLNumbers(d.ctx)
	if err != nil {
		return err
	}
	for _, a := range d.s.Authorities() {
		if err := d.checkCRL(a, numbers[a.Slug]); err != nil {
			return err
		}
	}
	return nil
}

func (d *doctor) checkCRL(a *ca.Authority, dbNumber int64) error {
	now := d.o.Now
	derPath, pemPath := crl.Paths(d.s.PublicDir(), a.Slug)
	var found []Finding
	add := func(kind, path, problem string) {
		found = append(found, Finding{Kind: kind, CA: a.Slug, Path: path, Problem: problem})
	}
	rl, err := crl.ReadFile(derPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(KindCRLMissing, derPath, "missing: validators of "+a.Slug+"'s certificates cannot check revocation")
	case err != nil:
		add(KindCRLInvalid, derPath, "unreadable: "+err.Error())
	case rl.CheckSignatureFrom(a.Cert) != nil:
		add(KindCRLInvalid, derPath, "not signed by "+a.Slug)
	}
	if len(found) == 0 {
		listed := map[string]bool{}
		for _, e := range rl.RevokedCertificateEntries {
			listed[ca.SerialHex(e.SerialNumber)] = true
		}
		signed := rl.ThisUpdate.Add(crl.Skew) // thisUpdate is backdated by crl.Skew
		var missing []string
		var newest *ca.Record
		for _, r := range d.records {
			if r.CALabel != a.Slug || r.Status != "revoked" || !now.Before(r.NotAfter) {
				continue
			}
			if !listed[r.SerialHex()] {
				missing = append(missing, r.SerialHex())
			}
			if newest == nil || r.RevokedAt.After(newest.RevokedAt) {
				newest = r
			}
		}
		number := int64(0)
		if rl.Number != nil && rl.Number.IsInt64() {
			number = rl.Number.Int64()
		}
		switch {
		case len(missing) > 0:
			add(KindCRLStale, derPath, fmt.Sprintf("CRL number %d does not list %d revoked certificate(s): %s", number, len(missing), strings.Join(missing, ", ")))
		case newest != nil && signed.Before(newest.RevokedAt.Truncate(time.Second)):
			add(KindCRLStale, derPath, fmt.Sprintf("CRL number %d was signed %s, before the revocation of %s (%s)",
				number, signed.UTC().Format(time.RFC3339), newest.SerialHex(), newest.RevokedAt.UTC().Format(time.RFC3339)))
		case dbNumber > number:
			add(KindCRLStale, derPath, fmt.Sprintf("is CRL number %d, but the database has published up to number %d", number, dbNumber))
		}
		due := !now.Before(rl.ThisUpdate.Add(rl.NextUpdate.Sub(rl.ThisUpdate) / 2))
		if d.o.CRLWarn > 0 {
			due = rl.NextUpdate.Sub(now) <= d.o.CRLWarn
		}
		switch {
		case !now.Before(rl.NextUpdate):
			add(KindCRLExpired, derPath, fmt.Sprintf("expired at %s (nextUpdate): validators reject every certificate of %s", rl.NextUpdate.UTC().Format(time.RFC3339), a.Slug))
		case due:
			add(KindCRLDue, derPath, fmt.Sprintf("due for re-signing: nextUpdate %s is in %s", rl.NextUpdate.UTC().Format(time.RFC3339), roundAge(rl.NextUpdate.Sub(now))))
		}
		if len(found) == 0 {
			pemData, err := os.ReadFile(pemPath)
			block, _ := pem.Decode(pemData)
			if err != nil || block == nil || block.Type != "X509 CRL" || !bytes.Equal(block.Bytes, rl.Raw) {
				problem := "is not the same CRL as " + filepath.Base(derPath)
				if errors.Is(err, fs.ErrNotExist) {
					problem = "missing beside " + filepath.Base(derPath)
				}
				der := rl.Raw
				return d.add(Finding{Kind: KindCRLPEM, CA: a.Slug, Path: pemPath, Problem: problem,
					Repairable: true, Repair: "rewrite it from " + filepath.Base(derPath),
				}, func() error {
					return fsutil.WriteFileIn(d.s.Home, pemPath, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), fsutil.ModePublic, true)
				})
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	// One fresh CRL repairs every finding of this CA; it needs the CA key.
	var published *ca.PublishedCRL
	var pubErr error
	if d.o.Repair {
		published, pubErr = d.s.PublishCRL(d.ctx, a, now)
	}
	for _, f := range found {
		f.Repairable = true
		f.Repair = "publish a fresh CRL"
		switch {
		case !d.o.Repair:
			f.Reason = "not asked to repair (run with --repair; it needs the CA password)"
		case pubErr != nil:
			f.Reason = "publishing a fresh CRL failed: " + pubErr.Error()
			f.Hint = "run `certmint crl` with the CA password (CERTMINT_CA_PASSWORD or --ca-password-file)"
		default:
			f.Repaired = true
			f.Repair = fmt.Sprintf("publish a fresh CRL: number %d, %d entries, next update %s", published.Number, published.Entries, published.NextUpdate.Format(time.RFC3339))
		}
		d.r.Findings = append(d.r.Findings, f)
		if f.Repaired {
			if err := d.audit(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCAUsable reports a CA that cannot vouch for anything now: the
// issuing CA revoked, or a CA not yet valid (a clock set wrong). Expiry is
// checkCAExpiry's. Nothing here is doctor's to repair.
func (d *doctor) checkCAUsable() error {
	problems, err := d.s.CAProblems(d.ctx, d.o.Now)
	if err != nil {
		return err
	}
	for _, p := range problems {
		if p.State == ca.StateExpired {
			continue
		}
		f := Finding{Kind: KindCAUnusable, CA: p.Slug, Problem: "CA " + p.Slug + " cannot issue: " + p.Why,
			Reason: "not a disagreement doctor can repair"}
		f.Hint = (&ca.CAUnusableError{Problems: []ca.CAProblem{p}}).HintText()
		if err := d.add(f, nil); err != nil {
			return err
		}
	}
	return nil
}

func (d *doctor) checkCAExpiry() error {
	for _, a := range d.s.Authorities() {
		left := a.Cert.NotAfter.Sub(d.o.Now)
		if left > d.o.Warn {
			continue
		}
		problem := fmt.Sprintf("the certificate of CA %s expires on %s (in %d days)", a.Slug, a.Cert.NotAfter.UTC().Format("2006-01-02"), int(left.Hours()/24))
		if left <= 0 {
			problem = fmt.Sprintf("the certificate of CA %s expired on %s: nothing it issued validates", a.Slug, a.Cert.NotAfter.UTC().Format("2006-01-02"))
		}
		if err := d.add(Finding{Kind: KindCAExpiry, CA: a.Slug, Path: a.CertPath(), Problem: problem,
			Reason: "cannot repair: a CA certificate is not renewed in place",
			Hint:   "plan the replacement: a new CA (`certmint init --home NEW ...`), its root distributed and the certificates reissued before that date",
		}, nil); err != nil {
			return err
		}
	}
	return nil
}

// absolute is p made absolute, or p when that fails.
func absolute(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
