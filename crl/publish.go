package crl

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/certmint/certmint/internal/fsutil"
)

// Paths of the published files of the CA with slug in dir.
func Paths(dir, slug string) (der, pemPath string) {
	return filepath.Join(dir, slug+".crl"), filepath.Join(dir, slug+".crl.pem")
}

// StaleError says a CRL with an equal or higher number is already published:
// another process published after this one allocated its number.
type StaleError struct {
	Slug            string
	Published, Ours int64
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("crl: %s already has CRL number %d, not replacing it with %d", e.Slug, e.Published, e.Ours)
}

// Publish writes <slug>.crl (DER, the file the CDP names) and <slug>.crl.pem
// into dir, each atomically (temp file + rename), so a web server never
// serves a torn file. It never replaces a CRL with a higher number.
func Publish(dir, slug string, der []byte) error {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("crl: refusing to publish an unparsable CRL: %w", err)
	}
	derPath, pemPath := Paths(dir, slug)
	if cur, err := ReadFile(derPath); err == nil && cur.Number != nil && rl.Number != nil && cur.Number.Cmp(rl.Number) >= 0 {
		return &StaleError{Slug: slug, Published: cur.Number.Int64(), Ours: rl.Number.Int64()}
	}
	if err := fsutil.WriteFile(derPath, der, fsutil.ModePublic, true); err != nil {
		return err
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	return fsutil.WriteFile(pemPath, p, fsutil.ModePublic, true)
}

// maxCRLSize bounds what ReadFile accepts; 100,000 entries are about 4 MB.
const maxCRLSize = 64 << 20

// ReadFile parses a CRL in DER or PEM.
func ReadFile(path string) (*x509.RevocationList, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxCRLSize {
		return nil, fmt.Errorf("crl: %s is larger than %d MiB", path, maxCRLSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse reads a CRL in DER or PEM.
func Parse(data []byte) (*x509.RevocationList, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "X509 CRL" {
			return nil, fmt.Errorf("crl: PEM block is %q, not \"X509 CRL\"", block.Type)
		}
		data = block.Bytes
	}
	rl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	return rl, nil
}
