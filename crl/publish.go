package crl

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

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
// serves a torn file. It never replaces a CRL with a higher number. dir
// belongs to the folder holding it (the CA home): a link at a CRL, or a dir
// that is a link leading out of that folder, is a *fsutil.LinkError and
// nothing is written.
func Publish(dir, slug string, der []byte) error {
	ours, err := Number(der)
	if err != nil {
		return fmt.Errorf("crl: refusing to publish: %w", err)
	}
	if err := CheckPublish(dir, slug); err != nil {
		return err
	}
	root := filepath.Dir(filepath.Clean(dir))
	derPath, pemPath := Paths(dir, slug)
	if cur, err := os.ReadFile(derPath); err == nil {
		if n, err := Number(cur); err == nil && n.Cmp(ours) >= 0 {
			return &StaleError{Slug: slug, Published: n.Int64(), Ours: ours.Int64()}
		}
	}
	if err := fsutil.WriteFileIn(root, derPath, der, fsutil.ModePublic, true); err != nil {
		return linkHint(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	return linkHint(fsutil.WriteFileIn(root, pemPath, p, fsutil.ModePublic, true))
}

// CheckPublish is Publish's check of its targets, without writing: a link
// at a CRL, or a dir that is a link leading out of the folder holding it,
// is a *fsutil.LinkError.
func CheckPublish(dir, slug string) error {
	derPath, pemPath := Paths(dir, slug)
	return linkHint(fsutil.Check(filepath.Dir(filepath.Clean(dir)), derPath, pemPath))
}

// linkHint says what to do about a link in public/: a web server can serve
// the folder where it is, or `certmint serve` can.
func linkHint(err error) error {
	var le *fsutil.LinkError
	if errors.As(err, &le) {
		le.Hint = "nothing was published; replace the link with the file or folder itself, and point the web server at the CA home's public/ folder (or run `certmint serve`)"
	}
	return err
}

// maxCRLSize bounds what ReadFile accepts; 100,000 entries are about 4 MB.
const maxCRLSize = 64 << 20

// ReadFile parses a CRL in DER or PEM. A regular file over the limit is
// refused from its size; a stream (a pipe, a device) after the limit.
func ReadFile(path string) (*x509.RevocationList, error) {
	data, err := fsutil.ReadLimited(path, maxCRLSize)
	var tl *fsutil.TooLargeError
	if errors.As(err, &tl) {
		return nil, fmt.Errorf("crl: %s is larger than %d MiB", path, maxCRLSize>>20)
	}
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

// Number returns the CRL Number extension of a DER CRL without parsing its
// entries. Hand-written with cryptobyte because x509.ParseRevocationList
// decodes every entry, which for 100,000 entries costs more than signing.
func Number(der []byte) (*big.Int, error) {
	input := cryptobyte.String(der)
	var list, tbs cryptobyte.String
	if !input.ReadASN1(&list, asn1.SEQUENCE) || !list.ReadASN1(&tbs, asn1.SEQUENCE) {
		return nil, errors.New("not a DER CRL")
	}
	// TBSCertList: version (optional INTEGER), signature, issuer, thisUpdate,
	// nextUpdate (optional), revokedCertificates (optional), [0] extensions.
	if tbs.PeekASN1Tag(asn1.INTEGER) {
		tbs.SkipASN1(asn1.INTEGER)
	}
	if !tbs.SkipASN1(asn1.SEQUENCE) || !tbs.SkipASN1(asn1.SEQUENCE) {
		return nil, errors.New("malformed CRL")
	}
	for _, tag := range []asn1.Tag{asn1.UTCTime, asn1.GeneralizedTime} {
		tbs.SkipOptionalASN1(tag)
	}
	for _, tag := range []asn1.Tag{asn1.UTCTime, asn1.GeneralizedTime} {
		tbs.SkipOptionalASN1(tag)
	}
	tbs.SkipOptionalASN1(asn1.SEQUENCE) // revokedCertificates
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, asn1.Tag(0).Constructed().ContextSpecific()) || !present {
		return nil, errors.New("CRL has no extensions, so no CRL Number")
	}
	if !exts.ReadASN1(&exts, asn1.SEQUENCE) {
		return nil, errors.New("malformed CRL extensions")
	}
	for !exts.Empty() {
		var ext, oid cryptobyte.String
		if !exts.ReadASN1(&ext, asn1.SEQUENCE) || !ext.ReadASN1(&oid, asn1.OBJECT_IDENTIFIER) {
			return nil, errors.New("malformed CRL extension")
		}
		if !bytes.Equal(oid, oidCRLNumber) {
			continue
		}
		ext.SkipOptionalASN1(asn1.BOOLEAN) // critical
		var val cryptobyte.String
		n := new(big.Int)
		if !ext.ReadASN1(&val, asn1.OCTET_STRING) || !val.ReadASN1Integer(n) {
			return nil, errors.New("malformed CRL Number")
		}
		return n, nil
	}
	return nil, errors.New("CRL has no CRL Number")
}

// oidCRLNumber is 2.5.29.20, DER-encoded without tag and length.
var oidCRLNumber = []byte{0x55, 0x1d, 0x14}
