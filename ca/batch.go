package ca

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/secret"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/store"
	"github.com/certmint/certmint/templates"
)

// BatchOptions describe one `certmint batch` run.
type BatchOptions struct {
	Template *templates.Template
	Out      string // OUT/<row name>/ per row
	Jobs     int    // workers; each generates keys and signs
	// Password protects every row's .pfx unless the row has its own or
	// RandomPasswords is set.
	Password        string
	RandomPasswords bool // one per row, into OUT/passwords.csv (0600)
	Formats         []templates.Format
	// Key is the leaf key of rows without a key column value (--key);
	// zero: the template's key.
	Key keys.Spec
	// FlushEvery bounds how many certificates share one database
	// transaction; FlushAfter how long a certificate waits for one.
	FlushEvery int
	FlushAfter time.Duration
	Now        time.Time
	// OCSP puts the OCSP responder's URL in every certificate's AIA (--ocsp).
	OCSP bool
}

// BatchResult is the outcome of one row, reported as soon as it is final.
type BatchResult struct {
	Row     *batch.Row
	Issued  *Issued // nil when skipped or failed
	Skipped bool    // the row's bundle was already complete and valid
	Redone  bool    // the row's bundle was torn and was issued again
	Err     error
}

// PasswordsFile is the file of generated passwords in the batch folder.
const PasswordsFile = "passwords.csv"

// batchJob travels from the reader to a worker to the recorder.
type batchJob struct {
	row      *batch.Row
	result   BatchResult
	p        *plan
	cert     *x509.Certificate
	files    []fsutil.File // the bundle, in memory until its record is committed
	findings []Finding     // lint warnings that did not stop the row
	paths    []string
	password string // generated for this row
}

// IssueBatch issues one bundle per row read from next, on opts.Jobs workers
// that share the unlocked issuing CA key. Certificates are recorded in
// short transactions of up to FlushEvery rows, each before its files are
// moved into place; generated passwords reach passwords.csv before the
// bundle does, so a bundle on disk always has its password. A row whose
// bundle is already complete and valid (a rerun after an interruption) is
// skipped; a torn one is issued again. report is called once per row, from
// one goroutine. next returns io.EOF at the end; a *batch.RowError is a bad
// row, reported and skipped; any other error stops the reading.
func (s *Store) IssueBatch(ctx context.Context, opts BatchOptions, next func() (*batch.Row, error), report func(BatchResult)) error {
	if opts.Jobs < 1 {
		opts.Jobs = 1
	}
	if opts.FlushEvery < 1 {
		opts.FlushEvery = 64
	}
	if opts.FlushAfter <= 0 {
		opts.FlushAfter = 200 * time.Millisecond
	}
	if opts.Formats == nil {
		opts.Formats = opts.Template.Output.Formats
	}
	if err := CheckKey(opts.Template, opts.Key); err != nil {
		return err
	}
	if bundle.NeedsPassword(opts.Formats, opts.Template.Key.Encrypt) && !opts.RandomPasswords && opts.Password == "" {
		return usageErrorf(input.Textf("use %s, set %s, or give %s", input.Of(input.RandomPassword), input.Of(input.PasswordEnv), input.Of(input.PasswordFile)),
			"the .pfx files need a password")
	}
	if _, err := s.Key(s.Issuing); err != nil {
		return err
	}
	leftovers := stagedFolders(opts.Out)
	pwFile, err := openPasswords(opts)
	if err != nil {
		return err
	}
	defer pwFile.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *batchJob, opts.Jobs*2)
	// Room for a whole flush: while the recorder writes one transaction's
	// bundles, the workers go on signing the next instead of waiting.
	done := make(chan *batchJob, opts.FlushEvery+opts.Jobs*2)
	var workers sync.WaitGroup
	for i := 0; i < opts.Jobs; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					j.result.Err = ctx.Err()
				} else {
					s.prepareBatchRow(opts, j, pwFile.has, leftovers)
				}
				done <- j
			}
		}()
	}
	recorded := make(chan error, 1)
	// Rows already signed are recorded and written even after an
	// interruption (Ctrl-C): the recorder does not use the cancelled ctx.
	go func() { recorded <- s.recordBatch(context.WithoutCancel(ctx), opts, done, pwFile, report) }()

	var readErr error
	for ctx.Err() == nil {
		row, err := next()
		if err != nil {
			var re *batch.RowError
			if errors.As(err, &re) {
				done <- &batchJob{result: BatchResult{Row: &batch.Row{Line: re.Line, CN: re.CN}, Err: re.Err}}
				continue
			}
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		jobs <- &batchJob{row: row, result: BatchResult{Row: row}}
	}
	close(jobs)
	workers.Wait()
	close(done)
	if err := <-recorded; err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// Warnings checks what the options change from the template for every
// row, before any row is read: a --format that leaves out a file the
// template's document requires is refused; a departure from advice is
// returned as a warning.
func (opts BatchOptions) Warnings() ([]input.Text, error) {
	formats := opts.Formats
	if formats == nil {
		formats = opts.Template.Output.Formats
	}
	return departures(IssueRequest{Template: opts.Template}, formats, 0, false)
}

// request is the issue request of one row.
func (opts BatchOptions) request(row *batch.Row) IssueRequest {
	req := IssueRequest{
		Template: opts.Template, Subject: row.Subject, SANs: row.SANs, Days: row.Days,
		Out: filepath.Join(opts.Out, row.Name), Base: row.Name, Formats: opts.Formats,
		Password: opts.Password, Now: opts.Now, Key: opts.Key, OCSP: opts.OCSP,
	}
	if row.Key != (keys.Spec{}) {
		req.Key = row.Key
	}
	return req
}

// prepareBatchRow does everything but recording: resume check, key,
// signature, lint, bundle files staged beside their targets.
func (s *Store) prepareBatchRow(opts BatchOptions, j *batchJob, hasPassword func(string) bool, leftovers map[string][]string) {
	req := opts.request(j.row)
	if j.row.Password != "" {
		req.Password = j.row.Password
	}
	if opts.RandomPasswords && j.row.Password == "" {
		pw, err := secret.Random(24)
		if err != nil {
			j.result.Err = err
			return
		}
		req.Password, j.password = pw, pw
	}
	// A row's folder that is a link is refused, never judged "torn" and
	// replaced: its files would be read, removed and written wherever it
	// points.
	if err := fsutil.Check(opts.Out, req.Out); err != nil {
		j.result.Err = err
		return
	}
	status := s.bundleStatus(req, opts.RandomPasswords && j.row.Password == "" && !hasPassword(j.row.Name))
	switch status {
	case bundleComplete:
		j.result.Skipped = true
		return
	case bundleTorn:
		req.Force, j.result.Redone = true, true
	case bundleAbsent:
		if s.recoverStaged(req, leftovers[filepath.Base(req.Out)]) {
			j.result.Skipped = true
			return
		}
	}
	// Only OUT is created here: the row's folder appears whole when its
	// staged folder is renamed into place (fsutil.StageFolder).
	if err := os.MkdirAll(opts.Out, fsutil.ModeDir); err != nil {
		j.result.Err = err
		return
	}
	p, err := s.rowPlan(req, true)
	if err != nil {
		j.result.Err = err
		return
	}
	key, err := keys.Generate(p.key)
	if err != nil {
		j.result.Err = err
		return
	}
	caKey, err := s.Key(s.Issuing)
	if err != nil {
		j.result.Err = err
		return
	}
	cert, findings, err := s.signKey(p, key, caKey)
	if err != nil {
		j.result.Err = err
		return
	}
	files, err := bundle.Build(bundle.Options{Dir: req.Out, Base: p.base, Formats: p.formats, Key: key, Leaf: cert,
		Chain: s.bundleChain(), Password: req.Password, EncryptKey: req.encryptKey(), PFX: req.pfxEncryption(),
		FriendlyName: req.FriendlyName, Note: req.Template.Output.Note})
	if err != nil {
		j.result.Err = err
		return
	}
	// Nothing is written yet: the recorder records the certificate first,
	// then stages and places the folder (release). The row's folder was
	// found absent or torn above; StageFolder checks it again.
	j.p, j.cert, j.files, j.findings = p, cert, files, findings
	for _, f := range files {
		abs, _ := filepath.Abs(f.Path)
		j.paths = append(j.paths, abs)
	}
}

// rowPlan plans a row's request; a subject field is given in a column
// here, not with a flag, and the hint says so.
func (s *Store) rowPlan(req IssueRequest, needPassword bool) (*plan, error) {
	p, err := s.plan(context.Background(), req, needPassword)
	var re *templates.RequestError
	if errors.As(err, &re) && re.Rule == "subject.require" {
		re.Hint = s.Config.subjectHint(req.Template, req.Subject, true)
	}
	return p, err
}

// recordBatch records prepared rows in short transactions, then moves
// their files into place and reports them.
func (s *Store) recordBatch(ctx context.Context, opts BatchOptions, done <-chan *batchJob, pw *passwordFile, report func(BatchResult)) error {
	var pending []*batchJob
	var fatal error
	flush := func() {
		if len(pending) == 0 {
			return
		}
		batchJobs := pending
		pending = nil
		// Passwords first, then the records: a recorded certificate whose
		// bundle a kill left in its staging folder has its password, so
		// `certmint doctor --repair` can move the bundle into place. A
		// password line without a record (a kill in between) is harmless:
		// its serial was never issued, and the rerun writes a new line.
		if fatal == nil {
			fatal = pw.append(batchJobs)
		}
		if fatal == nil {
			fatal = s.recordJobs(ctx, batchJobs, opts)
		}
		// Recorded: stage each bundle and move it into place, in parallel
		// (each write, rename and folder sync waits on the disk). The
		// whole folder is renamed into place in one step, so a crash never
		// leaves a row's folder half written: a rerun finds it absent, staged
		// (finished by the rerun or doctor) or complete (skip).
		var wg sync.WaitGroup
		sem := make(chan struct{}, opts.Jobs)
		for _, j := range batchJobs {
			if fatal != nil {
				j.result.Err = fatal
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				staged, err := fsutil.StageFolder(j.p.req.Out, j.files, j.p.req.Force)
				if err != nil {
					s.unrecord(ctx, j.cert, "batch")
					j.result.Err = err
					return
				}
				if err := staged.Commit(); err != nil {
					j.result.Err = &UnreleasedError{Serial: SerialHex(j.cert.SerialNumber), Err: err}
					return
				}
				j.result.Issued = &Issued{Cert: j.cert, Serial: SerialHex(j.cert.SerialNumber), Template: opts.Template.Name, SANs: j.p.sans, Files: j.paths,
					Findings: j.findings, Warnings: j.p.warnings}
			}()
		}
		wg.Wait()
		if fatal == nil {
			fatal = s.markReleased(ctx, batchJobs)
		}
		for _, j := range batchJobs {
			report(j.result)
		}
	}
	timer := time.NewTimer(opts.FlushAfter)
	defer timer.Stop()
	for {
		select {
		case j, ok := <-done:
			if !ok {
				flush()
				return fatal
			}
			if j.files == nil {
				report(j.result) // failed, skipped or a bad row: nothing to record
				continue
			}
			if fatal != nil {
				j.result.Err = fatal
				report(j.result)
				continue
			}
			pending = append(pending, j)
			if len(pending) >= opts.FlushEvery {
				flush()
			}
		case <-timer.C:
			flush()
			timer.Reset(opts.FlushAfter)
		}
	}
}

// recordJobs inserts the certificates and their audit events in one
// transaction.
func (s *Store) recordJobs(ctx context.Context, jobs []*batchJob, opts BatchOptions) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, j := range jobs {
			req := j.p.req
			meta := Metadata{Template: opts.Template.Name, Subject: j.cert.Subject.String(), Files: j.paths, Base: j.p.base, Out: absPath(req.Out),
				Batch: absPath(opts.Out)}
			if !opts.Template.Builtin() {
				meta.TemplateFile = absPath(opts.Template.File())
			}
			for _, f := range j.p.formats {
				meta.Formats = append(meta.Formats, string(f))
			}
			if err := tx.Insert(ctx, store.NewRecord(j.cert, s.Issuing.Slug, meta)); err != nil {
				return err
			}
			if err := tx.Audit(ctx, Event{Action: "issue", Serial: SerialHex(j.cert.SerialNumber), CALabel: s.Issuing.Slug,
				Template: opts.Template.Name, Subject: j.cert.Subject.String(), Detail: "batch line " + fmt.Sprint(j.row.Line) + ": " + strings.Join(san.Strings(j.p.sans), ", ")}); err != nil {
				return err
			}
		}
		return nil
	})
}

// markReleased marks the rows whose bundles are in place released, in one
// transaction.
func (s *Store) markReleased(ctx context.Context, jobs []*batchJob) error {
	now := time.Now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, j := range jobs {
			if j.result.Issued == nil {
				continue
			}
			if err := tx.MarkReleased(ctx, j.cert.SerialNumber, hex.EncodeToString(j.cert.AuthorityKeyId), now); err != nil {
				return err
			}
		}
		return nil
	})
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// stagedFolders lists the staging folders an earlier run left in out, by
// the name of the row folder they were staged for (fsutil.StageFolder
// names them TempNewFolder + name + "-" + random). One read of out, not
// one per row: a batch may have 100,000 rows.
func stagedFolders(out string) map[string][]string {
	ents, err := os.ReadDir(out)
	if err != nil {
		return nil
	}
	m := map[string][]string{}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), fsutil.TempNewFolder)
		if i := strings.LastIndexByte(rest, '-'); ok && e.IsDir() && i > 0 {
			m[rest[:i]] = append(m[rest[:i]], filepath.Join(out, e.Name()))
		}
	}
	return m
}

// recoverStaged moves into place a row's folder that an earlier run staged
// and recorded but was killed before renaming: its certificate is valid and
// in the database, so issuing the row again would orphan it. It reports
// whether the row is now complete.
func (s *Store) recoverStaged(req IssueRequest, candidates []string) bool {
	dir, rec := s.recoverableStaged(req, candidates)
	if dir == "" {
		return false
	}
	fsutil.Remove(filepath.Dir(req.Out), req.Out) // only an empty folder
	if fsutil.Rename(filepath.Dir(req.Out), dir, req.Out) == nil {
		s.released(rec)
		return true
	}
	return false
}

// recoverableStaged finds, without changing anything, the staged folder
// recoverStaged would move into place, and its record; "" when none.
func (s *Store) recoverableStaged(req IssueRequest, candidates []string) (string, *Record) {
	p, err := planRequest(req, s.Config, false)
	if err != nil || !slices.Contains(p.formats, templates.FormatCRT) {
		return "", nil
	}
	for _, dir := range candidates {
		// A folder the kill caught while it was being written may hold a
		// file cut short: the row is issued again instead, and doctor
		// revokes the certificate whose files never landed.
		if !fsutil.StagingComplete(dir) {
			continue
		}
		certs, err := certfile.ReadCertificates(filepath.Join(dir, p.base+".crt"))
		if err != nil {
			continue
		}
		rec, err := s.Lookup(context.Background(), certs[0].SerialNumber)
		if err != nil || rec.Status != "good" || filepath.Clean(rec.Meta.Out) != absPath(req.Out) || !rec.Is(certs[0]) {
			continue
		}
		complete := true
		for _, f := range rec.Meta.Files {
			_, err := os.Stat(filepath.Join(dir, filepath.Base(f)))
			complete = complete && err == nil
		}
		if complete {
			return dir, rec
		}
	}
	return "", nil
}

type bundleState int

const (
	bundleAbsent bundleState = iota
	bundleComplete
	bundleTorn
)

// bundleStatus tells a rerun what to do with a row: nothing on disk
// (issue), a complete bundle whose certificate this CA issued for the row
// and recorded as good (skip), or anything else (torn: issue again).
// needPassword is set when the row's generated password is missing from
// passwords.csv, which makes the bundle useless.
func (s *Store) bundleStatus(req IssueRequest, needPassword bool) bundleState {
	state, placed := s.bundleState(req, needPassword)
	if placed != nil {
		s.released(placed) // placed by a run killed before it marked it
	}
	return state
}

// bundleState is bundleStatus without a change: placed is the record of a
// complete bundle, for bundleStatus to mark released.
func (s *Store) bundleState(req IssueRequest, needPassword bool) (state bundleState, placed *Record) {
	p, err := planRequest(req, s.Config, false)
	if err != nil {
		return bundleAbsent, nil
	}
	files := precheckNames(p)
	present := 0
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Size() > 0 {
			present++
		}
	}
	temps, _ := filepath.Glob(filepath.Join(req.Out, fsutil.TempPrefix+"*"))
	switch {
	case present == 0 && len(temps) == 0:
		return bundleAbsent, nil
	case present < len(files) || needPassword:
		// Partial, or only the leftovers of an interrupted attempt: redo
		// it; the new folder replaces the old one whole, leftovers
		// included (fsutil.StagedFolder.Commit).
		return bundleTorn, nil
	}
	// Every file is there. A temporary file beside them does not make the
	// bundle torn: each file was placed whole by a rename, so a leftover
	// never means a half-written file (`certmint doctor --repair` removes
	// it). Redoing the row would only orphan a valid certificate.
	crt := filepath.Join(req.Out, p.base+".crt")
	if _, err := os.Stat(crt); err != nil {
		// No .crt in the formats: the bundle is complete as far as the
		// files go; trust the rest.
		return bundleComplete, nil
	}
	certs, err := certfile.ReadCertificates(crt)
	if err != nil || certs[0].CheckSignatureFrom(s.Issuing.Cert) != nil || certs[0].Subject.CommonName != req.Subject.CommonName {
		return bundleTorn, nil
	}
	// A plain .key must belong to the .crt: a bundle of two attempts is
	// torn even when every file is there.
	if slices.Contains(p.formats, templates.FormatKey) && !req.encryptKey() {
		data, err := os.ReadFile(filepath.Join(req.Out, p.base+".key"))
		if err != nil {
			return bundleTorn, nil
		}
		if k, err := keys.ParsePEM(data, ""); err != nil || !keys.Match(k, certs[0].PublicKey) {
			return bundleTorn, nil
		}
	}
	rec, err := s.Lookup(context.Background(), certs[0].SerialNumber)
	if err != nil || rec.Status != "good" {
		return bundleTorn, nil
	}
	return bundleComplete, rec
}

// released marks a recorded certificate whose bundle is complete released,
// if it is not yet.
func (s *Store) released(rec *Record) {
	if rec.ReleasedAt.IsZero() {
		s.DB.MarkReleased(context.Background(), rec.Serial, rec.AKI, time.Now())
	}
}

// passwordFile appends generated passwords to OUT/passwords.csv. The file
// is created with the first password to write, so a batch that issues
// nothing (every row bad, every bundle already complete) writes nothing.
type passwordFile struct {
	path  string // "" when the batch generates no passwords
	f     *os.File
	w     *csv.Writer
	names map[string]bool // rows that already have a password line
	mu    sync.Mutex
}

func openPasswords(opts BatchOptions) (*passwordFile, error) {
	pf := &passwordFile{names: map[string]bool{}}
	if !opts.RandomPasswords {
		return pf, nil
	}
	pf.path = filepath.Join(opts.Out, PasswordsFile)
	// A link is refused before anything is read or issued: the passwords
	// would be appended wherever it points.
	if err := fsutil.Check(opts.Out, pf.path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(pf.path)
	if errors.Is(err, fs.ErrNotExist) {
		return pf, nil // created with the first password
	}
	pf.names = passwordNames(data)
	// An existing file (a rerun) is opened now, so a file that cannot be
	// appended to stops the batch before anything is issued.
	if err := pf.open(); err != nil {
		return nil, err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		pf.f.Write([]byte("\n")) // keep a torn last line apart from the next
	}
	return pf, nil
}

// open creates or appends to the file, 0600, with a header when it is new.
func (p *passwordFile) open() error {
	f, err := fsutil.OpenAppend(filepath.Dir(p.path), p.path, 0o600)
	if err != nil {
		return err
	}
	// The mode is set explicitly: the umask must not widen a secret file.
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return err
	}
	// One write per flush (up to 1 MiB), not one per 4 KiB: a kill between
	// two writes would cut a line short (openPasswords skips such a line).
	p.f, p.w = f, csv.NewWriter(bufio.NewWriterSize(f, 1<<20))
	if st, _ := f.Stat(); st != nil && st.Size() == 0 {
		p.w.Write([]string{"name", "cn", "serial", "password"})
	}
	return nil
}

// passwordNames are the rows a passwords.csv holds a password for. Line by
// line, skipping what does not parse: a line torn by a crash (power loss
// mid-append) must not hide every other row's password, which would make
// the rerun reissue every complete bundle.
func passwordNames(data []byte) map[string]bool {
	names := map[string]bool{}
	rd := csv.NewReader(strings.NewReader(string(data)))
	rd.FieldsPerRecord = -1
	for first := true; ; first = false {
		r, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && len(r) == 4 && !first {
			names[textsafe.CSVValue(r[0])] = true
		}
	}
	return names
}

func (p *passwordFile) has(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.names[name]
}

// append writes the generated passwords of jobs and syncs the file, before
// their bundles are moved into place.
func (p *passwordFile) append(jobs []*batchJob) error {
	if p.path == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, j := range jobs {
		if j.password == "" {
			continue
		}
		if p.f == nil {
			if err := p.open(); err != nil {
				return err
			}
		}
		// Names and CNs come from the input CSV: a cell such as
		// "=HYPERLINK(...)" must not become a formula in the spreadsheet the
		// passwords are opened in (textsafe.CSVCell).
		p.w.Write([]string{textsafe.CSVCell(j.row.Name), textsafe.CSVCell(j.row.CN), SerialHex(j.cert.SerialNumber), j.password})
		p.names[j.row.Name] = true
		n++
	}
	if n == 0 {
		return nil
	}
	p.w.Flush()
	if err := p.w.Error(); err != nil {
		return fmt.Errorf("writing %s: %w", PasswordsFile, err)
	}
	return p.f.Sync()
}

func (p *passwordFile) close() {
	if p.f != nil {
		p.w.Flush()
		p.f.Close()
	}
}
