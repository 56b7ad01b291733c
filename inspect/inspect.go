// Package inspect describes a certificate file in words an administrator
// can check against a vendor's requirements: certificates (one, or a chain
// drawn as a tree), certificate requests, CRLs, private keys and PKCS#12
// files, including which algorithms protect a .pfx and so whether macOS or
// an older Windows will import it. The kind is found from the content, never
// the extension (internal/pkifile).
//
// Report is both the text output (WriteText) and the JSON (WriteJSON); its
// doc comment is the JSON schema.
package inspect

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/pkifile"
)

// Options control Inspect.
type Options struct {
	// Password is asked for only when the file is encrypted: an encrypted
	// key, or a PKCS#12 file that the empty password does not open. Nil
	// means no password is available.
	Password pkifile.PasswordFunc
	// Now is the time validity is judged against; zero means time.Now().
	// Tests pass a fixed time so "days left" stays the same.
	Now time.Time
	// MaxIterations bounds the KDF work a file may ask for (0:
	// pkifile.MaxIterations).
	MaxIterations int
}

// maxTree bounds the certificates drawn as a tree: finding issuers compares
// every pair, which for a file of thousands of certificates (a trust store
// dump) would take minutes.
const maxTree = 200

// File inspects the file at path ("-" is standard input). Files over
// pkifile.MaxSize are refused without being read.
func File(path string, o Options) (*Report, error) {
	data, err := pkifile.ReadFile(path, pkifile.MaxSize)
	if err != nil {
		return nil, err
	}
	r, err := Data(data, o)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	r.File = path
	return r, nil
}

// FileError is an error about the content of a file.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Data inspects the content of a file.
func Data(data []byte, o Options) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	f, err := pkifile.Parse(data)
	if err != nil {
		return nil, err
	}
	r := &Report{
		SchemaVersion: SchemaVersion,
		Encoding:      string(f.Encoding),
		Certificates:  []Certificate{},
		Keys:          []Key{},
		CSRs:          []CSR{},
		CRLs:          []CRL{},
		Warnings:      []string{},
	}
	for _, t := range f.Skipped {
		r.Warnings = append(r.Warnings, fmt.Sprintf("skipped a PEM block of type %q", t))
	}
	password := pkifile.Once(o.Password)
	var certs []*x509.Certificate
	var signers []*pkifile.Key
	for _, obj := range f.Objects {
		switch obj.Kind {
		case pkifile.KindCertificate:
			c, err := x509.ParseCertificate(obj.DER)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
			}
			certs = append(certs, c)
		case pkifile.KindCSR:
			csr, err := x509.ParseCertificateRequest(obj.DER)
			if err != nil {
				return nil, fmt.Errorf("certificate request: %w", err)
			}
			r.CSRs = append(r.CSRs, describeCSR(csr))
		case pkifile.KindCRL:
			rl, err := x509.ParseRevocationList(obj.DER)
			if err != nil {
				return nil, fmt.Errorf("CRL: %w", err)
			}
			r.CRLs = append(r.CRLs, describeCRL(rl, o.Now))
		case pkifile.KindKey:
			k, err := pkifile.DecodeKey(obj, password, o.MaxIterations)
			if err != nil {
				return nil, err
			}
			signers = append(signers, k)
		case pkifile.KindPKCS12:
			c, err := pkifile.DecodePFX(obj.DER, password, o.MaxIterations)
			if err != nil {
				return nil, err
			}
			certs = c.Certs
			r.PKCS12 = describePFX(c)
			if c.Key != nil {
				k := &pkifile.Key{Signer: c.Key, Format: "PKCS#12 key bag"}
				for _, b := range c.Bags {
					if b.Type == "pkcs8ShroudedKeyBag" || b.Type == "keyBag" || b.Type == "key" {
						k.Format = "PKCS#12 " + b.Type
						k.Encrypted = b.Type != "keyBag" || (b.Safe >= 0 && c.Safes[b.Safe].Encrypted())
						k.Encryption = b.Encryption
						break
					}
				}
				signers = append(signers, k)
			}
			if c.Incomplete != "" {
				r.Warnings = append(r.Warnings, c.Incomplete)
			}
		}
	}
	r.Certificates = describeCerts(certs, o.Now, &r.Warnings)
	for _, k := range signers {
		key := describeKey(k)
		for i, c := range certs {
			if keys.Match(k.Signer, c.PublicKey) {
				key.MatchesCertificate = intp(i + 1)
				break
			}
		}
		if key.MatchesCertificate == nil && len(certs) > 0 {
			r.Warnings = append(r.Warnings, "the private key matches none of the certificates in the file")
		}
		r.Keys = append(r.Keys, key)
	}
	r.Kind = kindOf(f, len(certs))
	return r, nil
}

func kindOf(f *pkifile.File, certs int) string {
	if f.Count(pkifile.KindPKCS12) > 0 {
		return "pkcs12"
	}
	kinds := map[pkifile.Kind]bool{}
	for _, o := range f.Objects {
		kinds[o.Kind] = true
	}
	if len(kinds) > 1 {
		return "mixed"
	}
	switch {
	case kinds[pkifile.KindCertificate] && certs > 1:
		return "chain"
	case kinds[pkifile.KindCertificate]:
		return "certificate"
	case kinds[pkifile.KindCSR]:
		return "csr"
	case kinds[pkifile.KindCRL]:
		return "crl"
	}
	return "key"
}

func intp(i int) *int { return &i }

// IsPasswordError reports whether err is a missing or wrong password.
func IsPasswordError(err error) bool {
	var wp *pkifile.WrongPasswordError
	var np *pkifile.NoPasswordError
	return errors.As(err, &wp) || errors.As(err, &np)
}
