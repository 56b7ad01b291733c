package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/store"
	"github.com/certmint/certmint/templates"
)

// InitOptions describe a new CA home. Org, OU, Country, State and
// Locality go into both CA certificates and become the home's subject
// defaults ([subject] in certmint.toml).
type InitOptions struct {
	Home        string
	RootCN      string
	IssuingCN   string
	BaseURL     string
	Org, OU     string
	Country     string
	State       string
	Locality    string
	RootKey     keys.Spec // default rsa:4096
	IssuingKey  keys.Spec // default: RootKey
	RootDays    int
	IssuingDays int
	Password    string // encrypts both CA keys
	// DatabaseURL, when set, is a postgres:// URL: the issuance database
	// goes there (it must be empty) instead of certmint.db, for a CA that
	// several hosts share. It may hold a password (from
	// CERTMINT_DATABASE_URL): certmint.toml records it without one.
	DatabaseURL string
	Now         time.Time
}

// ExistsError says the home already holds something.
type ExistsError struct{ Home string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists and is not empty; init changes nothing", e.Home)
}

func (o *InitOptions) validate() error {
	if o.RootCN == "" || o.IssuingCN == "" {
		return &UsageError{Msg: input.Textf("both %s and %s are required", input.Of(input.RootCN), input.Of(input.IssuingCN))}
	}
	if o.RootCN == o.IssuingCN {
		return &UsageError{Msg: input.Textf("the root and issuing CA need different names (%s, %s)", input.Of(input.RootCN), input.Of(input.IssuingCN))}
	}
	for _, cn := range []string{o.RootCN, o.IssuingCN} {
		if len(cn) > 64 {
			return fmt.Errorf("CA name %q is longer than 64 characters", cn)
		}
		if Slug(cn) == "" {
			return fmt.Errorf("CA name %q needs at least one letter or digit", cn)
		}
	}
	if Slug(o.RootCN) == Slug(o.IssuingCN) {
		return fmt.Errorf("the root and issuing CA names give the same file name %q; make them differ in letters or digits", Slug(o.RootCN))
	}
	u, err := ValidateBaseURL(o.BaseURL)
	if err != nil {
		return err
	}
	o.BaseURL = u
	d := o.subjectDefaults()
	if msg := d.normalize(func(_ string, in input.Name) any { return input.Of(in) }); !msg.IsZero() {
		return &UsageError{Msg: msg}
	}
	o.Country, o.State, o.Locality, o.Org, o.OU = d.C, d.ST, d.L, d.O, d.OU
	if o.RootKey.Type == "" {
		o.RootKey = keys.Spec{Type: "rsa", Bits: 4096}
	}
	if o.IssuingKey.Type == "" {
		o.IssuingKey = o.RootKey
	}
	if o.RootDays == 0 {
		o.RootDays = DefaultRootDays
	}
	if o.IssuingDays == 0 {
		o.IssuingDays = DefaultIssuingDays
	}
	if o.RootDays > templates.MaxDays {
		return &UsageError{Msg: input.Textf("%s is more than %d (100 years)", input.Val(input.RootDays, o.RootDays), templates.MaxDays)}
	}
	if o.RootDays < 2 || o.IssuingDays < 1 || o.IssuingDays >= o.RootDays {
		return fmt.Errorf("the issuing CA (%d days) must expire before the root (%d days)", o.IssuingDays, o.RootDays)
	}
	if o.Password == "" {
		return errors.New("a CA password is required: the CA keys are always encrypted at rest")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.DatabaseURL != "" {
		if _, err := store.ParseDatabaseURL(o.DatabaseURL); err != nil {
			return err
		}
	}
	return nil
}

func (o *InitOptions) subjectDefaults() SubjectDefaults {
	return SubjectDefaults{C: o.Country, ST: o.State, L: o.Locality, O: o.Org, OU: o.OU}
}

// CheckHomeFree returns *ExistsError when home exists and is not empty, so
// a command can refuse before asking for a password.
func CheckHomeFree(home string) error {
	// A link at home would be replaced by the new home (or its target
	// filled): certmint does not write through links.
	if err := fsutil.Check(filepath.Dir(filepath.Clean(home)), home); err != nil {
		var le *fsutil.LinkError
		if errors.As(err, &le) {
			le.Hint = "nothing was written; give the folder the link points to as the CA home, or remove the link"
		}
		return err
	}
	ents, err := os.ReadDir(home)
	switch {
	case err == nil && len(ents) > 0:
		return &ExistsError{Home: filepath.Clean(home)}
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return nil
	}
	if st, serr := os.Stat(home); serr == nil && !st.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", home)
	}
	return err
}

// Init creates a CA home: root CA (self-signed), issuing CA (signed by the
// root through cfssl), encrypted keys, certmint.toml, the issuance database,
// the first CRLs and public/. Everything is built in a temporary folder
// beside the home and renamed into place, so a failure leaves nothing and an
// existing home is never touched.
func Init(ctx context.Context, o InitOptions) (*Store, error) {
	if err := o.validate(); err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, &UsageError{Msg: input.PlainText(err.Error())}
	}
	home := filepath.Clean(o.Home)
	if err := CheckHomeFree(home); err != nil {
		return nil, err
	}
	// A PostgreSQL database is checked and claimed before the slow part
	// (CA keys), and emptied again if anything below fails.
	var pg *store.DB
	if o.DatabaseURL != "" {
		var err error
		if pg, err = store.OpenPostgres(ctx, o.DatabaseURL); err != nil {
			return nil, err
		}
		if err := pg.Claim(ctx); err != nil {
			pg.Close()
			return nil, err
		}
	}
	pgDone := false
	defer func() {
		if pg == nil {
			return
		}
		pg.Close() // the error paths below may have closed it already
		if !pgDone {
			if db, err := store.OpenPostgres(context.Background(), o.DatabaseURL); err == nil {
				db.Wipe()
				db.Close()
			}
		}
	}()
	parent := filepath.Dir(home)
	if err := os.MkdirAll(parent, fsutil.ModeDir); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, ".certmint-init-")
	if err != nil {
		return nil, fmt.Errorf("cannot create the CA home in %s: %w", parent, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, fsutil.ModeHome); err != nil {
		return nil, err
	}

	cfg := &Config{
		BaseURL: o.BaseURL,
		Root:    CAConfig{Slug: Slug(o.RootCN), CN: o.RootCN, Key: o.RootKey.String(), Days: o.RootDays},
		Issuing: CAConfig{Slug: Slug(o.IssuingCN), CN: o.IssuingCN, Key: o.IssuingKey.String(), Days: o.IssuingDays},
		Subject: o.subjectDefaults(),
	}
	if pg != nil {
		cfg.Database.URL = store.RedactDatabaseURL(o.DatabaseURL)
	}
	cfg.applyDefaults()
	s := &Store{Home: tmp, Config: cfg, password: func() (string, error) { return o.Password, nil }}

	name := func(cn string) pkix.Name {
		n := pkix.Name{CommonName: cn}
		if o.Org != "" {
			n.Organization = []string{o.Org}
		}
		if o.OU != "" {
			n.OrganizationalUnit = []string{o.OU}
		}
		if o.Country != "" {
			n.Country = []string{o.Country}
		}
		if o.State != "" {
			n.Province = []string{o.State}
		}
		if o.Locality != "" {
			n.Locality = []string{o.Locality}
		}
		return n
	}

	rootKey, err := keys.Generate(o.RootKey)
	if err != nil {
		return nil, err
	}
	rootCert, err := selfSignedCA(name(o.RootCN), rootKey, o.Now, o.RootDays)
	if err != nil {
		return nil, err
	}
	issKey, err := keys.Generate(o.IssuingKey)
	if err != nil {
		return nil, err
	}
	s.Root = &Authority{Slug: cfg.Root.Slug, Cert: rootCert, dir: filepath.Join(tmp, cfg.Root.Slug), key: rootKey}
	issCert, err := s.signIssuingCA(name(o.IssuingCN), issKey, time.Duration(o.IssuingDays)*24*time.Hour)
	if err != nil {
		return nil, err
	}
	s.Issuing = &Authority{Slug: cfg.Issuing.Slug, Cert: issCert, dir: filepath.Join(tmp, cfg.Issuing.Slug), key: issKey}

	for _, a := range s.Authorities() {
		if err := writeAuthority(a, o.Password); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(filepath.Join(tmp, PublicDir), fsutil.ModeDir); err != nil {
		return nil, err
	}
	for _, a := range s.Authorities() {
		if err := fsutil.WriteFile(filepath.Join(tmp, PublicDir, a.Slug+".crt"), a.Cert.Raw, fsutil.ModePublic, false); err != nil {
			return nil, err
		}
	}
	cfgData, err := cfg.Encode()
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFile(filepath.Join(tmp, ConfigFile), cfgData, fsutil.ModePublic, false); err != nil {
		return nil, err
	}

	if pg != nil {
		s.DB = pg
	} else if s.DB, err = store.OpenSQLite(ctx, filepath.Join(tmp, DBFile), true); err != nil {
		return nil, err
	}
	// The database names its CA, so a home pointed at another CA's
	// database is refused (Open).
	if err := s.DB.SetIdentity(ctx, store.Identity(issCert)); err != nil {
		s.DB.Close()
		return nil, err
	}
	// The issuing CA is a certificate the root issued: recording it lets the
	// root's CRL list it if it is ever revoked.
	if err := s.DB.Insert(ctx, store.NewRecord(issCert, s.Root.Slug, Metadata{Template: issuingCATemplate, Subject: issCert.Subject.String()})); err != nil {
		s.DB.Close()
		return nil, err
	}
	if err := s.DB.MarkReleased(ctx, issCert.SerialNumber, hex.EncodeToString(issCert.AuthorityKeyId), o.Now); err != nil {
		s.DB.Close()
		return nil, err
	}
	if err := s.DB.Audit(ctx, Event{Action: "init", CALabel: cfg.Root.Slug + "," + cfg.Issuing.Slug,
		Subject: rootCert.Subject.String(), Detail: fmt.Sprintf("root %s, issuing %s, base URL %s", o.RootKey, o.IssuingKey, o.BaseURL)}); err != nil {
		s.DB.Close()
		return nil, err
	}
	if _, err := s.PublishCRLs(ctx, o.Now); err != nil {
		s.DB.Close()
		return nil, err
	}
	// Close (checkpointing the WAL) before the folder moves; the
	// PostgreSQL connection is closed on the way out.
	if pg == nil {
		if err := s.DB.Close(); err != nil {
			return nil, err
		}
	}
	s.DB = nil

	// An empty existing home (made by the user beforehand) is replaced.
	fsutil.Remove(parent, home)
	if err := fsutil.Rename(parent, tmp, home); err != nil {
		return nil, fmt.Errorf("moving the new CA into %s: %w", home, err)
	}
	ok, pgDone = true, true
	return Open(home, func() (string, error) { return o.Password, nil }, WithDatabaseURL(o.DatabaseURL))
}

// randomSerial returns a positive serial with 127 bits of entropy
// (RFC 5280 4.1.2.2 allows 20 octets; CA/B BR 7.1 asks for 64 random bits).
func randomSerial() (*big.Int, error) {
	max := new(big.Int).Lsh(big.NewInt(1), 127)
	for {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// selfSignedCA makes the root: CA:TRUE pathlen:1 (one issuing CA below it),
// keyCertSign + cRLSign, both critical; Go adds the SKI.
func selfSignedCA(subject pkix.Name, key crypto.Signer, now time.Time, days int) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	spec, err := keys.Describe(key)
	if err != nil {
		return nil, err
	}
	alg, err := signatureAlgorithm(nil, spec, ownKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(time.Duration(days) * 24 * time.Hour).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
		SignatureAlgorithm:    alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating the root CA certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// signIssuingCA has the root sign the issuing CA through cfssl's signer.
func (s *Store) signIssuingCA(subject pkix.Name, key crypto.Signer, validity time.Duration) (*x509.Certificate, error) {
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, err
	}
	sg, err := newSigner(s.Root.Cert, s.Root.key, nil, s.caProfile(s.Root, validity))
	if err != nil {
		return nil, err
	}
	out, err := sg.Sign(signRequest(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), nil, s.Root.Slug))
	if err != nil {
		return nil, fmt.Errorf("signing the issuing CA: %w", err)
	}
	block, _ := pem.Decode(out)
	return x509.ParseCertificate(block.Bytes)
}

func writeAuthority(a *Authority, password string) error {
	if err := os.Mkdir(a.dir, fsutil.ModeHome); err != nil {
		return err
	}
	keyPEM, err := keys.MarshalPKCS8PEM(a.key, password, keys.CAIterations)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFile(a.KeyPath(), keyPEM, fsutil.ModePrivate, false); err != nil {
		return err
	}
	return fsutil.WriteFile(a.CertPath(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Cert.Raw}), fsutil.ModePublic, false)
}
