// Package pkifile recognises the files administrators hand around (.crt,
// .pem, .cer, .der, .csr, .crl, .key, .pfx, .p12) by their content, never by
// their extension, and decodes them: certificates, certificate requests,
// CRLs, private keys (PKCS#8 plain or encrypted, PKCS#1, SEC 1) and PKCS#12.
// inspect describes what it finds; convert writes it out in another form.
package pkifile

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certmint/certmint/internal/fsutil"
)

// Kind is what an object is.
type Kind string

const (
	KindCertificate Kind = "certificate"
	KindCSR         Kind = "csr"
	KindCRL         Kind = "crl"
	KindKey         Kind = "key"
	KindPKCS12      Kind = "pkcs12"
)

// Encoding is how a file is written.
type Encoding string

const (
	PEM Encoding = "PEM"
	DER Encoding = "DER"
)

// Object is one item of a file: a certificate, a request, a CRL, a key or a
// whole PKCS#12 file.
type Object struct {
	Kind    Kind
	PEMType string            // the PEM label, "" for DER
	Headers map[string]string // PEM headers (Proc-Type, DEK-Info)
	DER     []byte
}

// File is what a file holds, in order.
type File struct {
	Encoding Encoding
	Objects  []Object
	// Skipped lists PEM blocks that are none of the above ("PUBLIC KEY").
	Skipped []string
}

// Count returns how many objects of kind the file holds.
func (f *File) Count(k Kind) int {
	n := 0
	for _, o := range f.Objects {
		if o.Kind == k {
			n++
		}
	}
	return n
}

// MaxSize bounds what ReadFile accepts: the largest CRL crl.ReadFile reads.
// Every other kind of file is a few KiB; a 100 MB file given by mistake is
// refused from its size without being read.
const MaxSize = 64 << 20

// TooLargeError says a file is over the size limit.
type TooLargeError struct {
	Path  string
	Size  int64 // -1 when unknown (a pipe)
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s is larger than %d MiB, the most a certificate, key, CRL or PKCS#12 file can reasonably be", e.Path, e.Limit>>20)
	}
	return fmt.Sprintf("%s is %d MiB; a certificate, key, CRL or PKCS#12 file is at most %d MiB", e.Path, e.Size>>20, e.Limit>>20)
}

// HintText implements the CLI's hint interface.
func (e *TooLargeError) HintText() string {
	return "check the file name: this is not a certificate file"
}

// ReadFile reads at most limit bytes of path ("-" is standard input). A
// larger regular file is refused from its size before reading; a larger
// stream is refused after limit+1 bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = fsutil.ReadLimitedFrom(os.Stdin, path, limit)
	} else {
		data, err = fsutil.ReadLimited(path, limit)
	}
	var tl *fsutil.TooLargeError
	if errors.As(err, &tl) {
		return nil, &TooLargeError{Path: tl.Path, Size: tl.Size, Limit: tl.Limit}
	}
	return data, err
}

// UnknownError says the content is none of the kinds this package knows.
type UnknownError struct {
	Reason string
	Hint   string
}

func (e *UnknownError) Error() string    { return e.Reason }
func (e *UnknownError) HintText() string { return e.Hint }

const unknownHint = "inspect reads certificates (PEM or DER), certificate requests, CRLs, private keys (PKCS#8, PKCS#1, SEC 1) and PKCS#12 (.pfx/.p12)"

// pemKinds maps PEM labels to kinds.
var pemKinds = map[string]Kind{
	"CERTIFICATE":             KindCertificate,
	"X509 CERTIFICATE":        KindCertificate,
	"TRUSTED CERTIFICATE":     KindCertificate,
	"CERTIFICATE REQUEST":     KindCSR,
	"NEW CERTIFICATE REQUEST": KindCSR,
	"X509 CRL":                KindCRL,
	"PRIVATE KEY":             KindKey,
	"ENCRYPTED PRIVATE KEY":   KindKey,
	"RSA PRIVATE KEY":         KindKey,
	"EC PRIVATE KEY":          KindKey,
}

// Parse finds the objects of a file: every known PEM block in order, or,
// when the data is not PEM, the one DER object it is.
func Parse(data []byte) (*File, error) {
	if len(data) == 0 {
		return nil, &UnknownError{Reason: "the file is empty", Hint: unknownHint}
	}
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return nil, &UnknownError{
			Reason: "the file is UTF-16 text",
			Hint:   "save it as ASCII or UTF-8 (PowerShell 5: Out-File -Encoding ascii), or export it again as Base-64",
		}
	}
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return parsePEM(data)
	}
	kind, err := sniffDER(data)
	if err != nil {
		return nil, err
	}
	return &File{Encoding: DER, Objects: []Object{{Kind: kind, DER: data}}}, nil
}

func parsePEM(data []byte) (*File, error) {
	f := &File{Encoding: PEM}
	rest := data
	blocks := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		blocks++
		kind, ok := pemKinds[block.Type]
		if !ok {
			if block.Type != "EC PARAMETERS" { // openssl ecparam -genkey writes it before the key
				f.Skipped = append(f.Skipped, block.Type)
			}
			continue
		}
		der := block.Bytes
		if block.Type == "TRUSTED CERTIFICATE" {
			// OpenSSL's trusted form: the certificate followed by its trust
			// settings. Keep the certificate.
			s := cryptobyte.String(der)
			var cert cryptobyte.String
			if s.ReadASN1Element(&cert, cbasn1.SEQUENCE) {
				der = cert
			}
		}
		f.Objects = append(f.Objects, Object{Kind: kind, PEMType: block.Type, Headers: block.Headers, DER: der})
	}
	if len(f.Objects) > 0 {
		return f, nil
	}
	if blocks == 0 {
		return nil, &UnknownError{
			Reason: "the file has a -----BEGIN line but no complete PEM block",
			Hint:   "the file is damaged or cut short: check its -----END line and that the base64 lines were not altered",
		}
	}
	for _, t := range f.Skipped {
		if t == "PKCS7" || t == "CERTIFICATE CHAIN" {
			return nil, pkcs7Error()
		}
	}
	return nil, &UnknownError{
		Reason: fmt.Sprintf("no certificate, request, CRL or private key among the PEM blocks (found %s)", strings.Join(f.Skipped, ", ")),
		Hint:   unknownHint,
	}
}

func pkcs7Error() error {
	return &UnknownError{
		Reason: "PKCS#7 (.p7b) certificate bundles are not supported",
		Hint:   "extract the certificates with: openssl pkcs7 -print_certs -in FILE -out FILE.pem",
	}
}

// sniffDER decides what a DER object is from the shape of its ASN.1, so a
// damaged file gets the parse error of its kind rather than "unknown".
//
//	Certificate    SEQ { SEQ tbs { [0] version | INTEGER serial, SEQ, SEQ, SEQ validity, ... }, SEQ, BIT STRING }
//	CRL            SEQ { SEQ tbs { INTEGER 1?, SEQ alg, SEQ issuer, Time, ... }, SEQ, BIT STRING }
//	CSR            SEQ { SEQ info { INTEGER 0, SEQ subject, SEQ spki, [0] attributes }, SEQ, BIT STRING }
//	PKCS#12        SEQ { INTEGER 3, SEQ contentInfo { OID, ... }, SEQ mac? }
//	PKCS#8         SEQ { INTEGER 0|1, SEQ alg, OCTET STRING, ... }
//	encr. PKCS#8   SEQ { SEQ alg, OCTET STRING }
//	PKCS#1         SEQ { INTEGER 0|1, INTEGER n, ... }
//	SEC 1          SEQ { INTEGER 1, OCTET STRING, ... }
//	PKCS#7         SEQ { OID, [0] ... }
func sniffDER(der []byte) (Kind, error) {
	unknown := &UnknownError{
		Reason: "not a certificate, certificate request, CRL, private key or PKCS#12 file (neither PEM nor a DER structure certmint knows)",
		Hint:   unknownHint,
	}
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		if n, ok := declaredLength(der); ok && n > len(der) {
			return "", &UnknownError{
				Reason: fmt.Sprintf("the file is cut short: its DER structure declares %d bytes but the file has %d", n, len(der)),
				Hint:   "copy the file again (in binary mode: an FTP text transfer or an e-mail gateway damages DER files)",
			}
		}
		return "", unknown
	}
	switch {
	case seq.PeekASN1Tag(cbasn1.INTEGER):
		var version cryptobyte.String
		seq.ReadASN1(&version, cbasn1.INTEGER)
		v := -1
		if len(version) == 1 {
			v = int(version[0])
		}
		switch {
		case v == 3 && seq.PeekASN1Tag(cbasn1.SEQUENCE):
			return KindPKCS12, nil
		case (v == 0 || v == 1) && seq.PeekASN1Tag(cbasn1.SEQUENCE):
			return KindKey, nil // PKCS#8
		case (v == 0 || v == 1) && seq.PeekASN1Tag(cbasn1.INTEGER):
			return KindKey, nil // PKCS#1
		case v == 1 && seq.PeekASN1Tag(cbasn1.OCTET_STRING):
			return KindKey, nil // SEC 1
		}
		return "", unknown
	case seq.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		var oid cryptobyte.String
		seq.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER)
		// 1.2.840.113549.1.7.2: PKCS#7 signedData, the .p7b bundle.
		if bytes.Equal(oid, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}) {
			return "", pkcs7Error()
		}
		return "", unknown
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		var first cryptobyte.String
		seq.ReadASN1(&first, cbasn1.SEQUENCE)
		if seq.PeekASN1Tag(cbasn1.OCTET_STRING) {
			return KindKey, nil // EncryptedPrivateKeyInfo
		}
		if !seq.PeekASN1Tag(cbasn1.SEQUENCE) {
			return "", unknown
		}
		return sniffTBS(first, unknown)
	}
	return "", unknown
}

// declaredLength reads the total length a DER SEQUENCE header announces.
func declaredLength(der []byte) (int, bool) {
	if len(der) < 2 || der[0] != 0x30 {
		return 0, false
	}
	if der[1] < 0x80 {
		return 2 + int(der[1]), true
	}
	n := int(der[1] & 0x7f)
	if n == 0 || n > 4 || len(der) < 2+n {
		return 0, false
	}
	l := 0
	for _, b := range der[2 : 2+n] {
		l = l<<8 | int(b)
	}
	return 2 + n + l, true
}

// sniffTBS tells a certificate, a CRL and a CSR apart by their signed part.
func sniffTBS(tbs cryptobyte.String, unknown error) (Kind, error) {
	if tbs.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return KindCertificate, nil // [0] EXPLICIT version: v2 or v3
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		tbs.SkipASN1(cbasn1.INTEGER)
	}
	// Now: certificate v1 SEQ alg, SEQ issuer, SEQ validity; CRL SEQ alg,
	// SEQ issuer, Time; CSR SEQ subject, SEQ spki, [0] attributes.
	if !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return "", unknown
	}
	switch {
	case tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime):
		return KindCRL, nil
	case tbs.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()):
		return KindCSR, nil
	case tbs.PeekASN1Tag(cbasn1.SEQUENCE):
		return KindCertificate, nil // v1 certificate: the validity
	}
	return "", unknown
}
