// Package certfile reads certificates from files the way administrators
// have them: PEM (one or many, with or without bag attributes) or DER, with
// any extension (.crt, .cer, .pem, .der).
package certfile

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/certmint/certmint/internal/fsutil"
)

// MaxSize bounds a certificate file: a chain of a few certificates is a few
// KiB; a 100 MB file given by mistake is refused without reading it whole.
const MaxSize = 4 << 20

// ReadFile reads a bounded file.
func ReadFile(path string) ([]byte, error) {
	data, err := fsutil.ReadLimited(path, MaxSize)
	var tl *fsutil.TooLargeError
	var fe *fsutil.FolderError
	switch {
	case errors.As(err, &tl) && tl.Size >= 0:
		return nil, fmt.Errorf("%s is %d MiB; a certificate file is at most %d MiB", path, tl.Size>>20, MaxSize>>20)
	case errors.As(err, &tl):
		return nil, fmt.Errorf("%s is larger than %d MiB", path, MaxSize>>20)
	case errors.As(err, &fe):
		return nil, fmt.Errorf("%s is a folder", path)
	}
	return data, err
}

// ReadCertificates reads every certificate of a file, in order.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// ParseCertificates parses PEM certificates (other PEM blocks are skipped)
// or, when the data is not PEM, one DER certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var out []*x509.Certificate
		rest := data
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" && block.Type != "X509 CERTIFICATE" && block.Type != "TRUSTED CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, errors.New("no PEM certificate found")
		}
		return out, nil
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("neither PEM nor a DER certificate: %w", err)
	}
	return []*x509.Certificate{c}, nil
}
