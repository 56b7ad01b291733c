package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/store"
	"github.com/certmint/certmint/templates"
)

// IssueRequest is one certificate to issue from a template.
type IssueRequest struct {
	Template *templates.Template
	Subject  pkix.Name          // CN and the other fields
	SANs     []san.Name         // as asked; the template may add the CN
	Days     int                // 0: the template's validity.days
	Out      string             // folder for the bundle
	Base     string             // file base name; "" derives it from the CN
	Formats  []templates.Format // nil: the template's output.formats
	// Password protects the .pfx and an encrypted .key; required when the
	// formats need it (bundle.NeedsPassword).
	Password     string
	FriendlyName string
	PFXName      string
	// WritePassword stores the password in BASE.password (0600), for a
	// generated password (--random-password).
	WritePassword bool
	Force         bool
	// Overrides of the template's defaults.
	NoCDP      bool                    // no CRL distribution point (004: when validation is off)
	PFX        templates.PFXEncryption // "" = the template's output.pfx_encryption
	EncryptKey bool                    // encrypt BASE.key even if the template does not
	OCSP       bool                    // the OCSP responder's URL in the AIA even if the template does not ask
	// Key is the leaf key to generate, within what the template accepts
	// (key.allowed_*); zero: the template's key.
	Key keys.Spec
	// ProfileSigner signs the mobileconfig format's profile too
	// (BASE.signed.mobileconfig); ProfilePassword puts the bundle password
	// in the profile. See ca/installers.go.
	ProfileSigner   *bundle.ProfileSigner
	ProfilePassword bool
	// Renews is the serial (hex) of the certificate this one replaces.
	Renews   string
	renewing *Record
	// fromCSR: the key stays with a CSR's requester (sign).
	fromCSR bool
	// newKey makes the leaf key; nil is keys.Generate. Tests that issue
	// hundreds of certificates reuse keys through it.
	newKey func(keys.Spec) (crypto.Signer, error)
	Now    time.Time
}

// Issued is the result of an issuance.
type Issued struct {
	Cert     *x509.Certificate
	Serial   string // hex, as openssl and Windows show it
	Template string
	SANs     []san.Name
	Files    []string  // every file of the bundle
	Findings []Finding // lint warnings that did not stop issuance
	// Warnings are the ways the request departs from the template's advice
	// (or, forced, from a requirement), in words.
	Warnings []input.Text
}

// PasswordFile returns the BASE.password file of the bundle, if one was written.
func (i *Issued) PasswordFile() string {
	for _, f := range i.Files {
		if strings.HasSuffix(f, ".password") {
			return f
		}
	}
	return ""
}

// CheckRequest runs every check of Issue that needs no key, so a command can
// refuse bad input before asking for passwords.
func (s *Store) CheckRequest(ctx context.Context, req IssueRequest) error {
	p, err := s.plan(ctx, req, false)
	if err != nil {
		return err
	}
	return precheckFiles(p)
}

// SerialHex formats a serial the way openssl -serial prints it.
func SerialHex(n *big.Int) string { return store.SerialHex(n) }

// ParseSerial reads a serial in hex, with or without colons, spaces or a
// 0x prefix (as openssl, Windows and certmint print it).
func ParseSerial(s string) (*big.Int, error) {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	clean = strings.TrimPrefix(strings.TrimPrefix(clean, "0x"), "0X")
	if clean == "" {
		return nil, errors.New("empty serial number")
	}
	if len(clean) > 40 {
		return nil, fmt.Errorf("serial %q is longer than 20 bytes", s)
	}
	if len(clean)%2 == 1 {
		clean = "0" + clean
	}
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("serial %q is not hexadecimal (as printed by `certmint list` or `openssl x509 -serial`)", s)
	}
	return new(big.Int).SetBytes(b), nil
}

// plan is an issuance checked and ready: everything the user could get wrong
// is found before any key is generated or anything is written.
type plan struct {
	req      IssueRequest
	sans     []san.Name
	validity time.Duration
	days     int // validity in days, 1 to templates.MaxDays
	formats  []templates.Format
	base     string
	warnings []input.Text // departures from the template's advice
	key      keys.Spec    // the leaf key Issue generates
}

// UsageError is a request that cannot be issued as given. Msg says what is
// wrong and Hint what to give instead; both name the request's inputs as
// input.Refs, which the command line writes as its flags.
type UsageError struct {
	Msg  input.Text
	Hint input.Text
}

func (e *UsageError) Error() string { return e.Msg.String() }

// Message is the error's text with its inputs as Refs.
func (e *UsageError) Message() input.Text { return e.Msg }

// usageErrorf is a UsageError whose message names no input.
func usageErrorf(hint input.Text, format string, args ...any) *UsageError {
	return &UsageError{Msg: input.PlainText(fmt.Sprintf(format, args...)), Hint: hint}
}

// NeedsPassword reports whether the request's files need a bundle password.
func (r IssueRequest) NeedsPassword() bool {
	formats := r.Formats
	if formats == nil {
		formats = r.Template.Output.Formats
	}
	return bundle.NeedsPassword(formats, r.encryptKey())
}

func (r IssueRequest) encryptKey() bool { return r.EncryptKey || r.Template.Key.Encrypt }

func (r IssueRequest) pfxEncryption() templates.PFXEncryption {
	if r.PFX != "" {
		return r.PFX
	}
	return r.Template.Output.PFXEncryption
}

// planRequest checks everything about a request that needs no CA: the
// template's rules on subject and SANs, validity, file names, password.
// home is the CA home's configuration (nil without a home): its subject
// defaults fill the fields the template requires and the request lacks.
func planRequest(req IssueRequest, home *Config, needPassword bool) (*plan, error) {
	t := req.Template
	if t == nil {
		return nil, errors.New("no template")
	}
	var err error
	p := &plan{req: req, formats: req.Formats}
	if p.formats == nil {
		p.formats = t.Output.Formats
	}
	// An installer brings the files it imports (the .pfx, the .cer files).
	p.formats = templates.WithImplied(p.formats)
	if err := checkInstallers(req, p.formats); err != nil {
		return nil, err
	}
	if p.sans, err = resolveSANs(t, req.Subject.CommonName, req.SANs); err != nil {
		return nil, err
	}
	subj, err := home.checkRequest(t, req.Subject, p.sans)
	if err != nil {
		return nil, err
	}
	p.req.Subject = subj
	days := req.Days
	if days == 0 {
		days = t.Validity.Days
	}
	if err := checkDays(days); err != nil {
		return nil, err
	}
	if p.warnings, err = departures(req, p.formats, days, req.fromCSR); err != nil {
		return nil, err
	}
	p.days, p.validity = days, time.Duration(days)*24*time.Hour
	p.base = req.Base
	if p.base == "" {
		p.base = fsutil.SafeName(req.Subject.CommonName)
	} else if p.base != fsutil.SafeName(p.base) || strings.ContainsAny(p.base, `/\`) {
		return nil, &UsageError{Msg: input.Textf("%s is not a usable file name", input.Quoted(input.FileName, req.Base)),
			Hint: input.Textf("try %s", input.Quoted(input.FileName, fsutil.SafeName(req.Base)))}
	}
	if p.req.PFXName != "" && (p.req.PFXName != fsutil.SafeName(p.req.PFXName) || strings.ContainsAny(p.req.PFXName, `/\`)) {
		return nil, usageErrorf(input.Text{}, "%q is not a usable file name", req.PFXName)
	}
	if needPassword && bundle.NeedsPassword(p.formats, req.encryptKey()) && req.Password == "" {
		return nil, usageErrorf(input.Textf("set %s, or use %s or %s", input.Of(input.PasswordEnv), input.Val(input.PasswordFile, "FILE"), input.Of(input.RandomPassword)),
			"the .pfx (or encrypted key) needs a password")
	}
	if slices.Contains(p.formats, templates.FormatNote) && t.Output.Note == "" {
		return nil, usageErrorf(input.Textf(`drop "note" from %s`, input.Of(input.Format)), "template %q has no install note (output.note)", t.Name)
	}
	key, err := chooseKey(t, req.Key)
	if err != nil {
		return nil, err
	}
	p.key = key
	return p, nil
}

// plan adds the checks that need the CA: the certificate must not outlive
// the issuing CA, and a unique-CN template must not issue twice.
func (s *Store) plan(ctx context.Context, req IssueRequest, needPassword bool) (*plan, error) {
	t := req.Template
	if t != nil && t.Issuer != templates.IssuerIssuing {
		return nil, usageErrorf(input.Text{}, "template %q is self-signed (issuer = %q); this command issues from the CA", t.Name, t.Issuer)
	}
	p, err := planRequest(req, s.Config, needPassword)
	if err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := s.checkCAsUsable(ctx, now); err != nil {
		return nil, err
	}
	// The issuing CA's key must be able to sign under the template's
	// signature rules; refused here, before anything is signed.
	caSpec, err := keys.Describe(s.Issuing.Cert.PublicKey)
	if err != nil {
		return nil, err
	}
	if _, err := signatureAlgorithm(t, caSpec, issuingCAKey); err != nil {
		return nil, err
	}
	if err := checkLifetime(p.days, now, s.Issuing.Cert); err != nil {
		return nil, err
	}
	if t.UniqueCN && !req.Force && req.renewing == nil {
		if serial, err := s.validSerialForCN(ctx, t.Name, req.Subject.CommonName, now); err != nil {
			return nil, err
		} else if serial != "" {
			return nil, usageErrorf(input.Textf("renew it with `certmint renew %s`, or issue again with %s", serial, input.Of(input.Force)),
				"a valid %s certificate for %q already exists (serial %s); this template issues one certificate per appliance", t.Name, req.Subject.CommonName, serial)
		}
	}
	return p, nil
}

// Issue makes a key and a certificate from the template, records it, and
// writes its bundle. Nothing is written and nothing is recorded when any
// step fails; the certificate is recorded before its files appear, so no
// certificate is ever released that the database does not know.
func (s *Store) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	p, err := s.plan(ctx, req, true)
	if err != nil {
		return nil, err
	}
	if err := precheckFiles(p); err != nil {
		return nil, err
	}
	// Unlocking the CA key (PBKDF2) takes one core for about 100 ms: make
	// the new key, and zlint's one-time tables for it, on the other core
	// meanwhile. An RSA key takes as long as the unlock, so this halves
	// one issue's time; a failed unlock leaves the key to be collected.
	type made struct {
		key crypto.Signer
		err error
	}
	keyc := make(chan made, 1)
	go func() {
		key, err := p.req.generateKey(p.key)
		if err == nil {
			warmLint(key.Public())
		}
		keyc <- made{key, err}
	}()
	caKey, err := s.Key(s.Issuing)
	if err != nil {
		return nil, err
	}
	m := <-keyc
	if m.err != nil {
		return nil, m.err
	}
	key := m.key
	cert, findings, err := s.signKey(p, key, caKey)
	if err != nil {
		return nil, err
	}
	return s.release(ctx, p, key, cert, findings, "issue")
}

// ready plans a request, checks every target file before the expensive
// work (an existing file or an unwritable folder costs nothing), and
// unlocks the issuing CA's key.
func (s *Store) ready(ctx context.Context, req IssueRequest, needPassword bool) (*plan, crypto.Signer, error) {
	p, err := s.plan(ctx, req, needPassword)
	if err != nil {
		return nil, nil, err
	}
	if err := precheckFiles(p); err != nil {
		return nil, nil, err
	}
	caKey, err := s.Key(s.Issuing)
	if err != nil {
		return nil, nil, err
	}
	return p, caKey, nil
}

func (r IssueRequest) generateKey(spec keys.Spec) (crypto.Signer, error) {
	if r.newKey != nil {
		return r.newKey(spec)
	}
	return keys.Generate(spec)
}

// leafKeySpec is the key a template's certificates get.
func leafKeySpec(t *templates.Template) keys.Spec {
	return keys.Spec{Type: string(t.Key.Type), Bits: t.Key.Bits, Curve: string(t.Key.Curve)}
}

// release writes and records a signed certificate: build the bundle, stage
// its files, record the certificate, move the files into place, audit. A
// self-signed certificate has no chain; it is recorded when there is a CA
// home (s != nil), as a certificate of no CA.
func (s *Store) release(ctx context.Context, p *plan, key crypto.Signer, cert *x509.Certificate, findings []Finding, action string) (*Issued, error) {
	req := p.req
	// CheckSignatureFrom would refuse a non-CA parent, so check the
	// signature with the certificate's own key directly.
	selfSigned := string(cert.RawIssuer) == string(cert.RawSubject) &&
		cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
	var chain []bundle.CA
	if !selfSigned {
		chain = s.bundleChain()
	}
	files, err := bundle.Build(bundle.Options{
		Dir: req.Out, Base: p.base, Formats: p.formats,
		Key: key, Leaf: cert, Chain: chain,
		Password: req.Password, EncryptKey: req.encryptKey(),
		PFX: req.pfxEncryption(), FriendlyName: req.FriendlyName, PFXName: req.PFXName,
		WritePassword: req.WritePassword, Note: req.Template.Output.Note,
		ProfileSigner: req.ProfileSigner, ProfilePassword: req.ProfilePassword,
	})
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range files {
		abs, _ := filepath.Abs(f.Path)
		paths = append(paths, abs)
	}
	issued := &Issued{Cert: cert, Serial: SerialHex(cert.SerialNumber), Template: req.Template.Name, SANs: p.sans, Files: paths,
		Findings: findings, Warnings: p.warnings}
	if s == nil { // self-signed, outside any CA home: no database to record in
		staged, err := fsutil.StageInFolder(req.Out, files, req.Force)
		if err != nil {
			return nil, err
		}
		return issued, staged.Commit()
	}
	meta := Metadata{Template: req.Template.Name, Subject: cert.Subject.String(), Files: paths,
		Base: p.base, FriendlyName: req.FriendlyName, PFXName: req.PFXName, Renews: req.Renews,
		PFX: string(req.PFX), NoCDP: req.NoCDP, EncryptKey: req.EncryptKey, ProfilePassword: req.ProfilePassword,
		OCSP: req.OCSP}
	if out, err := filepath.Abs(req.Out); err == nil {
		meta.Out = out
	}
	if !req.Template.Builtin() {
		if f, err := filepath.Abs(req.Template.File()); err == nil {
			meta.TemplateFile = f
		}
	}
	for _, f := range p.formats {
		meta.Formats = append(meta.Formats, string(f))
	}
	label := s.Issuing.Slug
	if selfSigned {
		label = SelfSignedLabel
	}
	// Record before release: the certificate and its audit event are in
	// the database before any file holding it exists, so a kill at any
	// moment leaves no certificate the CA does not know. Until it is marked
	// released, `certmint doctor --repair` finishes or revokes it.
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Insert(ctx, store.NewRecord(cert, label, meta)); err != nil {
			return err
		}
		return tx.Audit(ctx, Event{Action: action, Serial: issued.Serial, CALabel: label,
			Template: req.Template.Name, Subject: cert.Subject.String(), Detail: strings.Join(san.Strings(p.sans), ", ")})
	})
	if err != nil {
		return nil, err
	}
	// Staged in a folder inside req.Out: until every file is in place, the
	// ones that are not wait there under their final names, so a crash
	// between staging and placing the last file leaves a bundle
	// `certmint doctor --repair` can finish.
	staged, err := fsutil.StageInFolder(req.Out, files, req.Force)
	if err != nil {
		// Nothing holding the certificate was written: it existed only in
		// memory, and the record goes with it.
		s.unrecord(ctx, cert, action)
		return nil, err
	}
	if err := staged.Commit(); err != nil {
		return nil, &UnreleasedError{Serial: issued.Serial, Err: err}
	}
	if err := s.DB.MarkReleased(ctx, cert.SerialNumber, hex.EncodeToString(cert.AuthorityKeyId), time.Now()); err != nil {
		return nil, &UnreleasedError{Serial: issued.Serial, Err: err}
	}
	return issued, nil
}

// UnreleasedError is a certificate that was recorded but whose files could
// not all be put in place: the record stays, and doctor finishes or
// revokes it.
type UnreleasedError struct {
	Serial string
	Err    error
}

func (e *UnreleasedError) Error() string {
	return fmt.Sprintf("certificate %s was signed and recorded, but its files could not all be put in place: %v", e.Serial, e.Err)
}

func (e *UnreleasedError) Unwrap() error { return e.Err }

// unrecord forgets a certificate that was recorded but never written
// anywhere, and says so in the audit trail (which only ever grows).
func (s *Store) unrecord(ctx context.Context, cert *x509.Certificate, action string) {
	s.DB.Delete(ctx, cert.SerialNumber, hex.EncodeToString(cert.AuthorityKeyId))
	s.DB.Audit(ctx, Event{Action: "repair", Serial: SerialHex(cert.SerialNumber),
		Detail: action + " abandoned before any file was written: the certificate was never released and is forgotten"})
}

// SelfSignedLabel is the CA label recorded for self-signed certificates:
// no CA of the home issued them and no CRL can list them.
const SelfSignedLabel = "self-signed"

func precheckFiles(p *plan) error {
	var files []fsutil.File
	for _, name := range precheckNames(p) {
		files = append(files, fsutil.File{Path: name})
	}
	return fsutil.CheckTargets(files, p.req.Force)
}

// precheckNames lists the files a plan will write, without building them
// (no key exists yet). The CA's .cer files are left out: identical ones
// are shared between bundles.
func precheckNames(p *plan) []string {
	var names []string
	add := func(name string) { names = append(names, filepath.Join(p.req.Out, name)) }
	for _, f := range p.formats {
		switch f {
		case templates.FormatCRT:
			add(p.base + ".crt")
		case templates.FormatKey:
			add(p.base + ".key")
		case templates.FormatPFX:
			if p.req.PFXName != "" {
				add(p.req.PFXName)
			} else {
				add(p.base + ".pfx")
			}
		case templates.FormatChain:
			add(p.base + "-chain.pem")
		case templates.FormatNote:
			add(p.base + "-install.txt")
		default:
			for _, n := range installerNames(p, f) {
				add(n)
			}
		}
	}
	if p.req.WritePassword {
		add(p.base + ".password")
	}
	return names
}

// signKey has the issuing CA sign a CSR for key under the template's
// profile, and lints the result.
func (s *Store) signKey(p *plan, key crypto.Signer, caKey crypto.Signer) (*x509.Certificate, []Finding, error) {
	csrPEM, err := keyRequest(p, key)
	if err != nil {
		return nil, nil, err
	}
	return s.signCSR(p, csrPEM, caKey)
}

// keyRequest is the CSR issuance makes for a new key: the subject only;
// the profile and the checked SANs supply everything else.
func keyRequest(p *plan, key crypto.Signer) ([]byte, error) {
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: p.req.Subject}, key)
	if err != nil {
		return nil, fmt.Errorf("creating the request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), nil
}

// signCSR has the issuing CA sign a CSR under the plan, and lints the
// result: a *LintError when zlint finds an error.
func (s *Store) signCSR(p *plan, csrPEM []byte, caKey crypto.Signer) (*x509.Certificate, []Finding, error) {
	cert, err := s.signAs(p, csrPEM, s.Issuing.Cert, caKey)
	if err != nil {
		return nil, nil, err
	}
	findings, err := lintGate(cert.Raw, p.req.Template)
	if err != nil {
		return nil, findings, err
	}
	return cert, findings, nil
}

// signAs builds and signs the certificate of a CSR under the plan with
// cfssl's local signer, as caCert with caKey: the issuing CA, or the
// stand-in of a dry run (Preview), which must get the very same
// certificate but for its serial and signature.
func (s *Store) signAs(p *plan, csrPEM []byte, caCert *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	t := p.req.Template
	o := profileOptions{Validity: p.validity, NoCDP: p.req.NoCDP, OCSP: p.req.OCSP}
	if block, _ := pem.Decode(csrPEM); block != nil {
		if csr, err := x509.ParseCertificateRequest(block.Bytes); err == nil {
			_, o.ECDSAKey = csr.PublicKey.(*ecdsa.PublicKey)
		}
	}
	prof, err := s.leafProfile(t, s.Issuing, o)
	if err != nil {
		return nil, err
	}
	sg, err := newSigner(caCert, caKey, t, prof)
	if err != nil {
		return nil, err
	}
	exts, err := sanExtension(p.req.Subject, p.sans)
	if err != nil {
		return nil, err
	}
	sr := signRequest(csrPEM, exts, s.Issuing.Slug)
	sr.Subject = cfsslSubject(p.req.Subject)
	out, err := sg.Sign(sr)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	block, _ := pem.Decode(out)
	if block == nil {
		return nil, errors.New("signing: the signer returned no certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func (s *Store) bundleChain() []bundle.CA {
	return []bundle.CA{{Slug: s.Issuing.Slug, Cert: s.Issuing.Cert}, {Slug: s.Root.Slug, Cert: s.Root.Cert}}
}

// validSerialForCN returns the serial of a good, unexpired certificate of
// the template with that CN (compared without case), or "".
func (s *Store) validSerialForCN(ctx context.Context, template, cn string, now time.Time) (string, error) {
	n, err := s.DB.ValidSerialForCN(ctx, template, cn, now)
	if err != nil || n == nil {
		return "", err
	}
	return SerialHex(n), nil
}
