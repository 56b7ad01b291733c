package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/certmint/certmint/batch"
	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// Preview is what an issuance would produce, found without the CA key and
// without changing anything: no key is unlocked, nothing is recorded in
// the database or the audit trail, no file or folder is written.
//
// Cert is built exactly as issuance builds it (the same plan, cfssl
// profile, request, subject, SANs, extensions and validity) and linted as
// issuance lints it, but signed by a stand-in: a throwaway key in the place
// of the issuing CA's, under the issuing CA's own name and key identifier.
// Its serial number and signature are not the ones the real run makes.
type Preview struct {
	Cert     *x509.Certificate
	Template string
	SANs     []san.Name
	// Key is the certificate's key: the kind the real run generates, or
	// the key of the CSR being signed (KeyFromCSR).
	Key        keys.Spec
	KeyFromCSR bool
	// KeyUsage and ExtKeyUsage name the certificate's usages as templates
	// do (digitalSignature, serverAuth).
	KeyUsage    []string
	ExtKeyUsage []string
	Days        int       // validity in days
	StandIn     keys.Spec // the key that signed the preview in the CA's place
	// Findings are zlint's at warning level and above, minus the
	// template's exemptions, as issuance reports them; Refused are those of
	// error level, for which the real run would not release the certificate.
	Findings []Finding
	Refused  []Finding
	// Warnings are the request's departures from the template's advice
	// (or, forced, from a requirement), as issuance reports them.
	Warnings []input.Text
	Out      string // the folder of the files, absolute
	MakesOut bool   // Out does not exist yet: the real run makes it (0700)
	Files    []PlannedFile
	// NeedsPassword: the files need a bundle password (.pfx, encrypted key).
	NeedsPassword bool
}

// PlannedFile is one file the real run would write.
type PlannedFile struct {
	Path   string // absolute
	Mode   fs.FileMode
	Secret bool // a private key, .pfx or password: written 0600
	State  FileState
}

// FileState is what the real run would do with a file.
type FileState string

const (
	FileNew     FileState = "new"
	FileReplace FileState = "replace" // an existing file, replaced (force)
	FileKeep    FileState = "keep"    // an identical CA certificate is already there
)

// Err is the error the real run would end with once it signed: a
// *WouldRefuseError when zlint finds an error, else nil.
func (p *Preview) Err() error {
	if len(p.Refused) > 0 {
		return &WouldRefuseError{Findings: p.Refused}
	}
	return nil
}

// LintLines are the findings in words, as issuance reports them: the
// lines of its refusal (one per mistake, naming every lint that found it)
// and its warnings, one per finding.
func (p *Preview) LintLines() (refusal, warnings []string) {
	for _, f := range p.Findings {
		if f.Status == "warn" {
			warnings = append(warnings, f.Message())
		}
	}
	return lintLines(p.Refused), warnings
}

// WouldRefuseError is a dry run's certificate that the real run would not
// release: zlint finds errors in it (the real run's *LintError).
type WouldRefuseError struct{ Findings []Finding }

func (e *WouldRefuseError) Error() string {
	lines := lintLines(e.Findings)
	if len(lines) == 1 {
		return "the certificate would not be released: " + lines[0]
	}
	return fmt.Sprintf("the certificate would not be released, for %d reasons:\n%s", len(lines), strings.Join(lines, "\n"))
}

// HintText is the real run's hint (LintError.HintText).
func (e *WouldRefuseError) HintText() string { return (&LintError{Findings: e.Findings}).HintText() }

// Preview is Issue without its effects: the same checks, refused with the
// same errors, then the certificate the request would get, its lint
// verdict and the files that would be written. The bundle password is not
// needed (req.Password may be empty).
func (s *Store) Preview(ctx context.Context, req IssueRequest) (*Preview, error) {
	p, err := s.plan(ctx, req, false)
	if err != nil {
		return nil, err
	}
	return s.preview(p, nil)
}

// PreviewCSR is SignCSR without its effects, as Preview is Issue's.
func (s *Store) PreviewCSR(ctx context.Context, req IssueRequest, csr *x509.CertificateRequest) (*Preview, error) {
	req, err := csrRequest(req, csr)
	if err != nil {
		return nil, err
	}
	p, err := s.plan(ctx, req, false)
	if err != nil {
		return nil, err
	}
	return s.preview(p, csr)
}

// RenewalPreview is what a renewal would do.
type RenewalPreview struct {
	*Preview
	Old *Record
	// RevokesOld: the old certificate would be revoked as superseded and
	// the CRLs republished (revoke-old asked, and the old one still valid).
	RevokesOld bool
	OldState   string // "valid", "revoked", "expired"
}

// PreviewRenewal is Renew without its effects. req and old come from
// RenewalRequest; a revoked certificate is refused unless req.Force, as
// Renew refuses it (CheckRenewable).
func (s *Store) PreviewRenewal(ctx context.Context, req IssueRequest, old *Record, revokeOld bool, now time.Time) (*RenewalPreview, error) {
	if _, err := CheckRenewable(old, req.Force); err != nil {
		return nil, err
	}
	if _, err := s.CheckNotRenewed(ctx, old, req.Force, now); err != nil {
		return nil, err
	}
	pv, err := s.Preview(ctx, req)
	if err != nil {
		return nil, err
	}
	state := old.State(now)
	return &RenewalPreview{Preview: pv, Old: old, OldState: state, RevokesOld: revokeOld && state == "valid"}, nil
}

// dryRunPassword stands in for a bundle password nobody gave: the
// preview builds the files in memory to know their names and modes, and
// throws them away.
const dryRunPassword = "certmint-dry-run"

// preview signs the plan's certificate with the stand-in CA, lints it, and
// lists the files. csr is the external request being signed; nil: a new
// key of the plan's kind (a stand-in, too).
func (s *Store) preview(p *plan, csr *x509.CertificateRequest) (*Preview, error) {
	out, err := filepath.Abs(p.req.Out)
	if err != nil {
		return nil, err
	}
	pv := &Preview{Template: p.req.Template.Name, SANs: p.sans, Days: p.days, Warnings: p.warnings, Out: out,
		NeedsPassword: bundle.NeedsPassword(p.formats, p.req.encryptKey())}
	st, err := os.Stat(p.req.Out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		pv.MakesOut = true // nothing can exist in it
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("%s is not a folder", p.req.Out)
	default:
		// The real run's check, before anything is signed.
		if err := precheckFiles(p); err != nil {
			return nil, err
		}
	}
	var leaf crypto.Signer
	var csrPEM []byte
	if csr != nil {
		csrPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.Raw})
		pv.KeyFromCSR = true
		if pv.Key, err = keys.Describe(csr.PublicKey); err != nil {
			return nil, err
		}
	} else {
		pv.Key = p.key
		if leaf, err = standInKey("leaf", p.key); err != nil {
			return nil, err
		}
		if csrPEM, err = keyRequest(p, leaf); err != nil {
			return nil, err
		}
	}
	caCert, caKey, err := s.standInCA()
	if err != nil {
		return nil, err
	}
	if pv.StandIn, err = keys.Describe(caKey); err != nil {
		return nil, err
	}
	if pv.Cert, err = s.signAs(p, csrPEM, caCert, caKey); err != nil {
		return nil, err
	}
	if pv.Findings, err = Lint(pv.Cert.Raw, p.req.Template); err != nil {
		return nil, err
	}
	for _, f := range pv.Findings {
		if f.Status == "error" || f.Status == "fatal" {
			pv.Refused = append(pv.Refused, f)
		}
	}
	pv.KeyUsage, pv.ExtKeyUsage = usageNames(pv.Cert)
	if pv.Files, err = s.plannedFiles(p, leaf, pv.Cert, pv.MakesOut); err != nil {
		return nil, err
	}
	return pv, nil
}

// plannedFiles builds the bundle in memory, as release builds it, for the
// names and modes of its files, and checks them as staging would.
func (s *Store) plannedFiles(p *plan, key crypto.Signer, cert *x509.Certificate, makesOut bool) ([]PlannedFile, error) {
	req := p.req
	pw := req.Password
	if pw == "" {
		pw = dryRunPassword
	}
	files, err := bundle.Build(bundle.Options{
		Dir: req.Out, Base: p.base, Formats: p.formats,
		Key: key, Leaf: cert, Chain: s.bundleChain(),
		Password: pw, EncryptKey: req.encryptKey(),
		PFX: req.pfxEncryption(), FriendlyName: req.FriendlyName, PFXName: req.PFXName,
		WritePassword: req.WritePassword, Note: req.Template.Output.Note,
	})
	if err != nil {
		return nil, err
	}
	if !makesOut {
		// A different CA certificate already there stops the real run
		// when it stages the files.
		if err := fsutil.CheckTargets(files, req.Force); err != nil {
			return nil, err
		}
	}
	var planned []PlannedFile
	for _, f := range files {
		abs, err := filepath.Abs(f.Path)
		if err != nil {
			return nil, err
		}
		pf := PlannedFile{Path: abs, Mode: f.Mode, Secret: f.Mode == fsutil.ModePrivate, State: FileNew}
		if old, err := os.ReadFile(f.Path); err == nil {
			pf.State = FileReplace
			if f.Shared && bytes.Equal(old, f.Data) {
				pf.State = FileKeep
			}
		}
		planned = append(planned, pf)
	}
	return planned, nil
}

// standInCA is the dry run's signer: the issuing CA's certificate with a
// throwaway key in place of its own. cfssl and crypto/x509 take the issuer
// name (RawSubject) and the authority key identifier (SubjectKeyId) from
// that certificate, so the preview carries the real ones; the signature
// algorithm follows the key's type and curve (signatureAlgorithm), so the
// stand-in has the issuing key's. An RSA stand-in has 2048 bits whatever
// the CA key's size: the size changes only the signature's bytes, which no
// lint reads, and a 4096-bit key takes a second or two to make.
func (s *Store) standInCA() (*x509.Certificate, crypto.Signer, error) {
	spec, err := keys.Describe(s.Issuing.Cert.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	if spec.Type == "rsa" {
		spec.Bits = 2048
	}
	key, err := standInKey("ca", spec)
	if err != nil {
		return nil, nil, err
	}
	cert := *s.Issuing.Cert
	cert.PublicKey = key.Public()
	return &cert, key, nil
}

// standInKeys holds the throwaway keys of dry runs, one per role and kind,
// made on first use: a batch preview of a thousand rows would otherwise
// make a thousand keys. They sign nothing that leaves the process.
var standInKeys sync.Map // "role spec" -> *standIn

type standIn struct {
	once sync.Once
	key  crypto.Signer
	err  error
}

func standInKey(role string, spec keys.Spec) (crypto.Signer, error) {
	v, _ := standInKeys.LoadOrStore(role+" "+spec.String(), &standIn{})
	k := v.(*standIn)
	k.once.Do(func() { k.key, k.err = keys.Generate(spec) })
	return k.key, k.err
}

// usageNames names a certificate's key usages and extended key usages as
// templates do; a purpose certmint has no name for is its OID.
func usageNames(c *x509.Certificate) (ku, eku []string) {
	ku, eku = []string{}, []string{}
	for bit := x509.KeyUsageDigitalSignature; bit <= x509.KeyUsageDecipherOnly; bit <<= 1 {
		if c.KeyUsage&bit != 0 {
			ku = append(ku, string(templates.KeyUsageName(bit)))
		}
	}
	for _, u := range c.ExtKeyUsage {
		if n := templates.ExtKeyUsageName(u); n != "" {
			eku = append(eku, string(n))
		} else {
			eku = append(eku, fmt.Sprintf("extKeyUsage(%d)", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		eku = append(eku, oid.String())
	}
	return ku, eku
}

// BatchAction is what a batch would do with a row.
type BatchAction string

const (
	BatchIssue   BatchAction = "issue"
	BatchReissue BatchAction = "reissue" // its bundle is torn
	BatchSkip    BatchAction = "skip"    // its bundle is complete
	BatchFail    BatchAction = "fail"
)

// RowPreview is what a batch would do with one row.
type RowPreview struct {
	Row    *batch.Row
	Action BatchAction
	// Recovered: skipped because an interrupted run's staged bundle, whose
	// certificate is recorded, would be moved into place.
	Recovered bool
	Preview   *Preview // issue and reissue; also a fail refused by zlint
	Err       error    // fail: the error the real run would report for the row
}

// BatchPreview is what a batch would do: PreviewBatch checks the batch as
// a whole, Run judges its rows.
type BatchPreview struct {
	Out      string // absolute
	MakesOut bool
	// PasswordsFile is OUT/passwords.csv, which generated passwords would
	// be appended to (made 0600 if missing); "" without random passwords.
	PasswordsFile string
	// After Run: how many rows would get each action; whether any row's
	// files need a bundle password (FilesNeedPassword), and whether some
	// such row would use the batch's password: no password column, and
	// passwords not generated (NeedsPassword).
	counts            map[BatchAction]int
	FilesNeedPassword bool
	NeedsPassword     bool

	s         *Store
	opts      BatchOptions
	passwords map[string]bool     // rows passwords.csv has a password for
	leftovers map[string][]string // staged folders of interrupted runs
}

// Count returns how many rows Run found would get action a.
func (b *BatchPreview) Count(a BatchAction) int { return b.counts[a] }

// PreviewBatch is IssueBatch without its effects, for the batch as a whole:
// the same refusals before any row is read (a key the template does not
// accept, a passwords.csv that is a link). The batch password is not
// needed. Run then judges the rows.
func (s *Store) PreviewBatch(opts BatchOptions) (*BatchPreview, error) {
	if opts.Jobs < 1 {
		opts.Jobs = 1
	}
	if opts.Formats == nil {
		opts.Formats = opts.Template.Output.Formats
	}
	if err := CheckKey(opts.Template, opts.Key); err != nil {
		return nil, err
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, err
	}
	bp := &BatchPreview{Out: out, counts: map[BatchAction]int{}, s: s, opts: opts, passwords: map[string]bool{}}
	if _, err := os.Stat(opts.Out); errors.Is(err, fs.ErrNotExist) {
		bp.MakesOut = true
	}
	if opts.RandomPasswords {
		path := filepath.Join(opts.Out, PasswordsFile)
		// A link is refused, as openPasswords refuses it.
		if err := fsutil.Check(opts.Out, path); err != nil {
			return nil, err
		}
		if data, err := os.ReadFile(path); err == nil {
			bp.passwords = passwordNames(data)
		}
		bp.PasswordsFile = filepath.Join(out, PasswordsFile)
	}
	bp.leftovers = stagedFolders(opts.Out)
	return bp, nil
}

// Run judges every row read from next as IssueBatch would (skipped when
// its bundle is complete, issued again when torn, its failure as the real
// run would report it), previewing rows on the batch's workers, and calls
// report once per row, in the input's order, from one goroutine. Rows are
// streamed: a batch of any size is previewed in bounded memory. next
// returns io.EOF at the end; a *batch.RowError is a failed row; any other
// error stops the reading and is returned.
func (b *BatchPreview) Run(ctx context.Context, next func() (*batch.Row, error), report func(RowPreview)) error {
	// Each row gets a slot, queued in the input's order before a worker
	// fills it; the queue's length bounds the rows in flight.
	type slot struct {
		rp   RowPreview
		done chan struct{}
	}
	queue := make(chan *slot, b.opts.Jobs*4)
	work := make(chan *slot)
	var wg sync.WaitGroup
	for range b.opts.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sl := range work {
				sl.rp = b.s.previewRow(ctx, b.opts, sl.rp.Row, b.passwords, b.leftovers)
				close(sl.done)
			}
		}()
	}
	var readErr error
	go func() {
		defer close(queue)
		defer close(work)
		for ctx.Err() == nil {
			row, err := next()
			if err != nil {
				var re *batch.RowError
				if errors.As(err, &re) {
					sl := &slot{rp: RowPreview{Row: &batch.Row{Line: re.Line, CN: re.CN}, Action: BatchFail, Err: re.Err}, done: make(chan struct{})}
					close(sl.done)
					queue <- sl
					continue
				}
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
			sl := &slot{rp: RowPreview{Row: row}, done: make(chan struct{})}
			queue <- sl
			work <- sl
		}
	}()
	for sl := range queue {
		<-sl.done
		rp := sl.rp
		b.counts[rp.Action]++
		if pv := rp.Preview; pv != nil && pv.NeedsPassword {
			b.FilesNeedPassword = true
			if rp.Row.Password == "" && !b.opts.RandomPasswords {
				b.NeedsPassword = true
			}
		}
		report(rp)
	}
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// previewRow judges one row as prepareBatchRow does, without its effects.
func (s *Store) previewRow(ctx context.Context, opts BatchOptions, row *batch.Row, passwords map[string]bool, leftovers map[string][]string) RowPreview {
	rp := RowPreview{Row: row, Action: BatchIssue}
	fail := func(err error) RowPreview {
		rp.Action, rp.Err = BatchFail, err
		return rp
	}
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	req := opts.request(row)
	if row.Password != "" {
		req.Password = row.Password
	}
	if err := fsutil.Check(opts.Out, req.Out); err != nil {
		return fail(err)
	}
	state, _ := s.bundleState(req, opts.RandomPasswords && row.Password == "" && !passwords[row.Name])
	switch state {
	case bundleComplete:
		rp.Action = BatchSkip
		return rp
	case bundleTorn:
		req.Force, rp.Action = true, BatchReissue
	case bundleAbsent:
		if dir, _ := s.recoverableStaged(req, leftovers[filepath.Base(req.Out)]); dir != "" {
			rp.Action, rp.Recovered = BatchSkip, true
			return rp
		}
	}
	p, err := s.rowPlan(req, false)
	if err != nil {
		return fail(err)
	}
	pv, err := s.preview(p, nil)
	if err != nil {
		return fail(err)
	}
	rp.Preview = pv
	if err := pv.Err(); err != nil {
		return fail(err)
	}
	return rp
}
