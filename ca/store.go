// Package ca is certmint's certificate authority: the CA home on disk (the
// configuration, the root and issuing CA certificates and their encrypted
// keys, public/), the issuance database, and issuance itself through cfssl's
// local signer with a signing profile compiled from a template.
package ca

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/store"
)

// Layout of a home.
const (
	CertFile  = "ca.crt"
	KeyFile   = "ca.key"
	PublicDir = "public"
)

// Store is an opened CA home.
type Store struct {
	Home    string
	Config  *Config
	DB      *store.DB
	Root    *Authority
	Issuing *Authority

	password func() (string, error)
	pwCache  string
	early    *earlyUnlock // UnlockEarly's background decryption, if started

	// AskAgain, when set, is called after a CA password that does not
	// decrypt the key, with the number of tries so far; true asks the
	// password source once more. The CLI sets it when the password is
	// typed at a prompt, where a typo should cost a retype, not the run.
	AskAgain func(err error, tries int) bool

	caCheck    sync.Once // checkCAsUsable, once per opened home
	caCheckErr error
}

// Authority is one CA of the home.
type Authority struct {
	Slug string
	Cert *x509.Certificate
	dir  string
	key  crypto.Signer
}

// Dir is the CA's folder in the home.
func (a *Authority) Dir() string { return a.dir }

// KeyPath is the encrypted private key of the CA.
func (a *Authority) KeyPath() string { return filepath.Join(a.dir, KeyFile) }

// CertPath is the PEM certificate of the CA.
func (a *Authority) CertPath() string { return filepath.Join(a.dir, CertFile) }

// NotFoundError says the home has not been initialised.
type NotFoundError struct{ Home string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no CA in %s", e.Home)
}

// Open loads the home: configuration, CA certificates, database. Keys stay
// encrypted until a command needs one; password is asked for then, once.
func Open(home string, password func() (string, error), opts ...OpenOption) (*Store, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := OpenConfig(home)
	if err != nil {
		return nil, err
	}
	s := &Store{Home: home, Config: cfg, password: password}
	if s.Root, err = loadAuthority(home, cfg.Root.Slug); err != nil {
		return nil, err
	}
	if s.Issuing, err = loadAuthority(home, cfg.Issuing.Slug); err != nil {
		return nil, err
	}
	if s.DB, err = openHomeDB(home, cfg, s.Issuing.Cert, o.databaseURL); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenConfig reads only the home's certmint.toml, for a command that needs
// its settings but neither its database nor its CAs (`certmint csr` takes
// the subject defaults). It returns *NotFoundError when home has no CA.
func OpenConfig(home string) (*Config, error) {
	cfgPath := filepath.Join(home, ConfigFile)
	if _, err := os.Stat(cfgPath); errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Home: home}
	}
	return LoadConfig(cfgPath)
}

// Close releases the database.
func (s *Store) Close() error {
	if s.DB != nil {
		return s.DB.Close()
	}
	return nil
}

func loadAuthority(home, slug string) (*Authority, error) {
	a := &Authority{Slug: slug, dir: filepath.Join(home, slug)}
	data, err := os.ReadFile(a.CertPath())
	if err != nil {
		return nil, fmt.Errorf("CA %s: %w", slug, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("CA %s: %s holds no PEM certificate", slug, a.CertPath())
	}
	if a.Cert, err = x509.ParseCertificate(block.Bytes); err != nil {
		return nil, fmt.Errorf("CA %s: %w", slug, err)
	}
	return a, nil
}

// Authorities returns the CAs, root first.
func (s *Store) Authorities() []*Authority { return []*Authority{s.Root, s.Issuing} }

// Authority returns the CA with the given slug.
func (s *Store) Authority(slug string) (*Authority, error) {
	for _, a := range s.Authorities() {
		if a.Slug == slug {
			return a, nil
		}
	}
	return nil, fmt.Errorf("no CA %q in %s", slug, s.Home)
}

// WrongPasswordError says the CA password does not open a CA key.
type WrongPasswordError struct {
	Path  string
	Tries int // passwords tried, when more than one was asked for
}

func (e *WrongPasswordError) Error() string {
	if e.Tries > 1 {
		return fmt.Sprintf("the CA password does not decrypt %s (%d tries)", e.Path, e.Tries)
	}
	return fmt.Sprintf("the CA password does not decrypt %s", e.Path)
}

// Key decrypts and returns the CA's private key, asking for the password the
// first time a key is needed, and again while AskAgain allows after one
// that does not decrypt it.
func (s *Store) Key(a *Authority) (crypto.Signer, error) {
	// A background unlock uses the same password cache: wait for it, and
	// take its answer for its own CA (not derived twice when wrong).
	if e := s.early; e != nil {
		<-e.done
		if a == e.a && e.err != nil {
			return nil, e.err
		}
	}
	return s.key(a)
}

// earlyUnlock is the decryption UnlockEarly started.
type earlyUnlock struct {
	a    *Authority
	done chan struct{}
	err  error
}

// UnlockEarly starts decrypting the issuing CA's key in the background,
// for a command that will sign with it and whose CA password comes from a
// file or the environment (a prompt must keep its place): the key
// derivation (PBKDF2, about 100 ms of one core) then runs while the
// command checks its request against the database and makes the new key
// on the other core. Key waits for it.
func (s *Store) UnlockEarly() {
	if s.early != nil || s.Issuing == nil || s.Issuing.key != nil {
		return
	}
	e := &earlyUnlock{a: s.Issuing, done: make(chan struct{})}
	s.early = e
	go func() {
		defer close(e.done)
		_, e.err = s.key(e.a)
	}()
}

// key is Key without waiting for UnlockEarly.
func (s *Store) key(a *Authority) (crypto.Signer, error) {
	if a.key != nil {
		return a.key, nil
	}
	var k crypto.Signer
	var err error
	if s.pwCache != "" {
		k, err = readCAKey(a.KeyPath(), s.pwCache)
	} else {
		if s.password == nil {
			return nil, errors.New("the CA key is needed but no CA password source was given")
		}
		for tries := 1; ; tries++ {
			var pw string
			if pw, err = s.password(); err != nil {
				return nil, err
			}
			k, err = readCAKey(a.KeyPath(), pw)
			// Kept even when wrong, as the one answer: a later key is
			// not asked for again after the last try.
			s.pwCache = pw
			var wrong *WrongPasswordError
			if !errors.As(err, &wrong) {
				break
			}
			if s.AskAgain == nil || !s.AskAgain(err, tries) {
				if tries > 1 {
					wrong.Tries = tries
				}
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if !keys.Match(k, a.Cert.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s", a.KeyPath(), a.CertPath())
	}
	a.key = k
	return k, nil
}

// UnlockAll decrypts every CA key, in parallel: each costs a deliberately
// slow KDF, and a command that signs with both should pay it once in time.
func (s *Store) UnlockAll() error {
	if _, err := s.Key(s.Issuing); err != nil { // asks for the password once
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(s.Authorities()))
	for i, a := range s.Authorities() {
		if a.key != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := readCAKey(a.KeyPath(), s.pwCache)
			if err == nil && !keys.Match(k, a.Cert.PublicKey) {
				err = fmt.Errorf("%s does not belong to %s", a.KeyPath(), a.CertPath())
			}
			a.key, errs[i] = k, err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func readCAKey(path, password string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA key: %w", err)
	}
	k, err := keys.ParsePEM(data, password)
	switch {
	case errors.Is(err, keys.ErrWrongPassword):
		return nil, &WrongPasswordError{Path: path}
	case err != nil:
		return nil, fmt.Errorf("reading CA key %s: %w", path, err)
	}
	return k, nil
}

// Chain returns the certificates above an issued leaf: issuing CA, root.
func (s *Store) Chain() []*x509.Certificate {
	return []*x509.Certificate{s.Issuing.Cert, s.Root.Cert}
}

// PublicDir is the folder of files to be served.
func (s *Store) PublicDir() string { return filepath.Join(s.Home, PublicDir) }
