// Package bundle turns a key, a certificate and its CA chain into the files a
// device needs: BASE.crt, BASE.key, BASE.pfx, BASE-chain.pem and one
// <ca-slug>.cer per CA. It only builds contents; internal/fsutil writes them.
package bundle

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

// CA is one certificate of the chain above the leaf, with the slug that
// names its .cer file.
type CA struct {
	Slug string
	Cert *x509.Certificate
}

// Options describe one bundle.
type Options struct {
	Dir     string
	Base    string // file base name, already filesystem-safe
	Formats []templates.Format

	Key   crypto.Signer
	Leaf  *x509.Certificate
	Chain []CA // issuing CA first, root last; empty for a self-signed leaf

	// Password protects the .pfx and, with EncryptKey, the .key.
	Password     string
	EncryptKey   bool
	PFX          templates.PFXEncryption
	FriendlyName string // PKCS#12 friendlyName; defaults to the CN
	// PFXName replaces BASE.pfx (SafeQ names the file after the friendly name).
	PFXName string
	// WritePassword adds BASE.password (0600) holding Password, for
	// generated passwords that exist nowhere else.
	WritePassword bool
	// Note selects the install note of the "note" format.
	Note templates.NoteKind
	// ProfileSigner, when set, signs the mobileconfig format's profile
	// into BASE.signed.mobileconfig as well.
	ProfileSigner *ProfileSigner
	// ProfilePassword puts Password into the profile's PKCS#12 payload
	// (Apple recommends leaving it out: the device then asks for it).
	ProfilePassword bool
}

// NeedsPassword reports whether the formats need a bundle password: a
// .pfx (asked for or implied by an installer), the profile's PKCS#12, an
// encrypted key.
func NeedsPassword(formats []templates.Format, encryptKey bool) bool {
	for _, f := range templates.WithImplied(formats) {
		if f == templates.FormatPFX || f == templates.FormatMobileconfig || (f == templates.FormatKey && encryptKey) {
			return true
		}
	}
	return false
}

// Build returns the files of the bundle, in the order of templates.AllFormats.
// An installer brings the files it imports (templates.WithImplied).
func Build(o Options) ([]fsutil.File, error) {
	if o.Leaf == nil {
		return nil, errors.New("bundle: no certificate")
	}
	want := map[templates.Format]bool{}
	for _, f := range templates.WithImplied(o.Formats) {
		want[f] = true
	}
	if (want[templates.FormatKey] || want[templates.FormatPFX] || want[templates.FormatMobileconfig]) && o.Key == nil {
		return nil, errors.New("bundle: the key, .pfx and profile formats need the private key")
	}
	if NeedsPassword(o.Formats, o.EncryptKey) && o.Password == "" {
		return nil, errors.New("bundle: a password is needed for the .pfx or the encrypted key")
	}
	path := func(name string) string { return filepath.Join(o.Dir, name) }
	var files []fsutil.File
	for _, f := range templates.AllFormats {
		if !want[f] {
			continue
		}
		switch f {
		case templates.FormatCRT:
			files = append(files, fsutil.File{Path: path(o.Base + ".crt"), Data: CertPEM(o.Leaf), Mode: fsutil.ModePublic})
		case templates.FormatKey:
			pw := ""
			if o.EncryptKey {
				pw = o.Password
			}
			data, err := keys.MarshalPKCS8PEM(o.Key, pw, keys.BundleIterations)
			if err != nil {
				return nil, fmt.Errorf("bundle: encoding key: %w", err)
			}
			files = append(files, fsutil.File{Path: path(o.Base + ".key"), Data: data, Mode: fsutil.ModePrivate})
		case templates.FormatPFX:
			data, err := PFX(o.Key, o.Leaf, o.Chain, o.Password, o.PFX, o.friendlyName())
			if err != nil {
				return nil, err
			}
			files = append(files, fsutil.File{Path: path(o.pfxName()), Data: data, Mode: fsutil.ModePrivate})
		case templates.FormatChain:
			if len(o.Chain) == 0 {
				continue // a self-signed certificate has no chain
			}
			var data []byte
			for _, ca := range o.Chain {
				data = append(data, CertPEM(ca.Cert)...)
			}
			files = append(files, fsutil.File{Path: path(o.Base + "-chain.pem"), Data: data, Mode: fsutil.ModePublic})
		case templates.FormatCER:
			// 002: CA certificates "must be exported individually because when
			// presented with a bundle of certificates the Keychain Access UI
			// only imports the last one it encounters", as base-64 X.509.
			for _, ca := range o.Chain {
				files = append(files, fsutil.File{Path: path(ca.Slug + ".cer"), Data: CertPEM(ca.Cert), Mode: fsutil.ModePublic, Shared: true})
			}
		case templates.FormatNote:
			text, err := note(o.Note, o, o.pfxName())
			if err != nil {
				return nil, err
			}
			files = append(files, fsutil.File{Path: path(noteName(o.Base)), Data: []byte(text), Mode: fsutil.ModePublic})
		default:
			fs, err := installer(f, o, path)
			if err != nil {
				return nil, err
			}
			files = append(files, fs...)
		}
	}
	if o.WritePassword && o.Password != "" {
		files = append(files, fsutil.File{Path: path(o.Base + ".password"), Data: []byte(o.Password + "\n"), Mode: fsutil.ModePrivate})
	}
	return files, nil
}

func (o Options) pfxName() string {
	if o.PFXName != "" {
		return o.PFXName
	}
	return o.Base + ".pfx"
}

func (o Options) friendlyName() string {
	if o.FriendlyName != "" {
		return o.FriendlyName
	}
	return o.Leaf.Subject.CommonName
}

// PFX encodes a PKCS#12 file holding key, leaf and chain, with the
// friendlyName on the key and leaf bags.
func PFX(key crypto.Signer, leaf *x509.Certificate, chain []CA, password string, enc templates.PFXEncryption, friendlyName string) ([]byte, error) {
	var cas []*x509.Certificate
	for _, ca := range chain {
		cas = append(cas, ca.Cert)
	}
	encoder := pkcs12.Modern2023.WithIterations(ModernPFXIterations)
	if enc == templates.PFXLegacy {
		// 3DES + SHA-1 MAC: what macOS `security import` and Windows before
		// 1709 read (002: `security import ... -f pkcs12`).
		encoder = pkcs12.LegacyDES.WithIterations(LegacyPFXIterations)
	}
	data, err := encoder.EncodeWithFriendlyName(key, leaf, cas, password, friendlyName)
	if err != nil {
		return nil, fmt.Errorf("bundle: encoding .pfx: %w", err)
	}
	return data, nil
}

// CertPEM encodes one certificate as PEM.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
