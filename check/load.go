package check

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/pkifile"
)

// Files are the files to check, as given on the command line.
type Files struct {
	Cert  string // --cert: the certificate (more certificates after it join the chain)
	Key   string // --key
	Chain string // --chain: the CA certificates (Defender's .pem)
	PFX   string // --pfx: key, certificate and chain in one
	CRLs  []string
	// Password returns the passphrase of the .pfx or an encrypted key; it
	// is called only when one is needed.
	Password func() (string, error)
	// MaxIterations bounds the KDF work the .pfx or the key may ask for
	// (0: pkifile.MaxIterations), as inspect.Options.MaxIterations does.
	MaxIterations int
}

// PassphraseError is a .pfx whose passphrase is wrong: nothing in it can
// be read, so no other check can run.
type PassphraseError struct {
	File string
	Err  error
}

func (e *PassphraseError) Error() string {
	return fmt.Sprintf("%s: the passphrase does not open it (%v); Defender for IoT says: %q", e.File, e.Err, DefenderPassphrase)
}

// Load reads the files into an Input. A key that cannot be decrypted is not
// an error: it becomes the validation.key finding.
func Load(f Files) (Input, error) {
	var in Input
	switch {
	case f.PFX != "" && (f.Cert != "" || f.Key != ""):
		return in, errors.New("give either --pfx or --cert/--key, not both")
	case f.PFX == "" && f.Cert == "":
		return in, errors.New("give the certificate: --cert FILE (with --key and --chain) or --pfx FILE")
	}
	if f.PFX != "" {
		if err := loadPFX(&in, f); err != nil {
			return in, err
		}
	} else {
		certs, err := certfile.ReadCertificates(f.Cert)
		if err != nil {
			return in, err
		}
		in.Leaf, in.Chain = certs[0], certs[1:]
	}
	if f.Chain != "" {
		certs, err := certfile.ReadCertificates(f.Chain)
		if err != nil {
			return in, err
		}
		in.Chain = append(in.Chain, certs...)
	}
	if f.Key != "" {
		in.KeyGiven = true
		data, err := certfile.ReadFile(f.Key)
		if err != nil {
			return in, err
		}
		in.Key, in.KeyErr = parseKey(data, f.Password, f.MaxIterations)
	}
	for _, p := range f.CRLs {
		rl, err := crl.ReadFile(p)
		if err != nil {
			return in, fmt.Errorf("--crl %s: %w", p, err)
		}
		in.CRLs = append(in.CRLs, rl)
	}
	return in, nil
}

func parseKey(data []byte, password func() (string, error), maxIterations int) (crypto.Signer, error) {
	k, err := keys.ParsePEM(data, "")
	if !errors.Is(err, keys.ErrNeedPassword) || password == nil {
		return k, err
	}
	if err := encryptedKeyCost(data, maxIterations); err != nil {
		return nil, err
	}
	pw, perr := password()
	if perr != nil {
		return nil, fmt.Errorf("%w: %v", keys.ErrNeedPassword, perr)
	}
	return keys.ParsePEM(data, pw)
}

// encryptedKeyCost refuses an encrypted key whose KDF asks for
// unreasonable work (billions of PBKDF2 iterations, a huge scrypt N)
// before any password is tried on it, as inspect does: the file would keep
// check busy for hours.
func encryptedKeyCost(data []byte, maxIterations int) error {
	f, err := pkifile.Parse(data)
	if err != nil {
		return nil // keys.ParsePEM says what is wrong with it
	}
	for _, o := range f.Objects {
		if o.Kind != pkifile.KindKey || pkifile.KeyFormat(o) != pkifile.FormatEncryptedPKCS8 {
			continue
		}
		_, err := pkifile.DecodeKey(o, nil, maxIterations) // checks the cost, then wants a password
		var np *pkifile.NoPasswordError
		if errors.As(err, &np) {
			return nil
		}
		return err
	}
	return nil
}

func loadPFX(in *Input, f Files) error {
	data, err := certfile.ReadFile(f.PFX)
	if err != nil {
		return err
	}
	// A file whose KDFs ask for hours of work is refused before any
	// password is tried, as inspect refuses it; one that inspect cannot
	// read is refused too.
	st, err := pkifile.ParsePFX(data)
	if err != nil {
		return fmt.Errorf("%s: not a PKCS#12 file certmint can read: %w", f.PFX, err)
	}
	if err := st.CheckCost(f.MaxIterations); err != nil {
		return fmt.Errorf("%s: %w", f.PFX, err)
	}
	pw := ""
	if f.Password != nil {
		if pw, err = f.Password(); err != nil {
			return err
		}
	}
	key, leaf, cas, err := decodePFX(data, pw)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || strings.Contains(err.Error(), "password") {
			return &PassphraseError{File: f.PFX, Err: err}
		}
		return fmt.Errorf("%s: not a PKCS#12 file certmint can read: %w", f.PFX, err)
	}
	in.Leaf, in.Chain, in.KeyGiven, in.PFX, in.PFXChain = leaf, cas, true, st, cas
	if s, ok := key.(crypto.Signer); ok {
		in.Key = s
	} else {
		in.KeyErr = fmt.Errorf("unsupported key type %T in the .pfx", key)
	}
	return nil
}

// AddRoots adds trust anchors (the CA home's root) and more
// intermediates, skipping duplicates.
func (in *Input) AddRoots(roots, intermediates []*x509.Certificate) {
	in.Roots = append(in.Roots, roots...)
	for _, c := range intermediates {
		dup := false
		for _, have := range in.Chain {
			if have.Equal(c) {
				dup = true
			}
		}
		if !dup {
			in.Chain = append(in.Chain, c)
		}
	}
}

// decodePFX is pkcs12.DecodeChain, with a panic on malformed input
// (crypto/cipher panics on a ciphertext that is not whole blocks) turned
// into an error: input never panics.
func decodePFX(data []byte, pw string) (key any, leaf *x509.Certificate, cas []*x509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			key, leaf, cas, err = nil, nil, nil, fmt.Errorf("malformed file: %v", r)
		}
	}()
	return pkcs12.DecodeChain(data, pw)
}
