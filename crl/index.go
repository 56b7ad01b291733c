package crl

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/textsafe"
)

// CRLState is how a published CRL stands at a given time: the mark the
// index page shows beside it.
type CRLState string

const (
	// CRLFresh: less than half its lifetime has passed.
	CRLFresh CRLState = "fresh"
	// CRLDue: past half its lifetime, the point at which `certmint serve`
	// re-signs it (ca.Store.CRLDue), but validators still accept it.
	CRLDue CRLState = "due"
	// CRLStale: past nextUpdate; validators refuse it, and with it every
	// certificate the CA issued.
	CRLStale CRLState = "stale"
	// CRLMissing: no CRL file, or one that does not parse.
	CRLMissing CRLState = "missing"
	// CRLInvalid: a CRL that this CA did not sign.
	CRLInvalid CRLState = "invalid"
)

// StateOf is the state at now of a CRL valid from thisUpdate to
// nextUpdate: due from half its lifetime, stale from nextUpdate.
func StateOf(thisUpdate, nextUpdate, now time.Time) CRLState {
	switch half := thisUpdate.Add(nextUpdate.Sub(thisUpdate) / 2); {
	case !now.Before(nextUpdate):
		return CRLStale
	case !now.Before(half):
		return CRLDue
	}
	return CRLFresh
}

// CAInfo is one certificate of a public folder (<slug>.crt) as the index
// page shows it, with its place in the hierarchy of the folder.
type CAInfo struct {
	Slug     string // the file is <Slug>.crt
	Cert     *x509.Certificate
	Kind     string // "Root CA", "Issuing CA", "Intermediate CA", "CA", "Certificate"
	Depth    int    // 0 for a root (or a certificate whose issuer is not in the folder)
	Parent   *CAInfo
	Children []*CAInfo

	Subject string // RFC 4514, with non-printable characters escaped
	Issuer  string
	SHA1    string // uppercase hex without separators, as Windows shows a thumbprint
	SHA256  string // uppercase hex pairs joined by colons, as openssl x509 -fingerprint prints it
	// Validity is notAfter as words relative to the scan ("in 3,650 days",
	// "expired 2 days ago"), or when the certificate is not valid yet.
	Validity string
	Expired  bool

	CRL CRLInfo
}

// CRLInfo is the published CRL of a CA.
type CRLInfo struct {
	State      CRLState
	Problem    string // why the State is missing or invalid
	Number     string
	ThisUpdate time.Time
	NextUpdate time.Time
	DueAt      time.Time // thisUpdate + half the lifetime
	Revoked    int
	// Note says what the State means at the scan time, in words.
	Note string
}

// Chain is the CA and its issuers up to the root (or the last one the
// folder holds), the content of <slug>-chain.pem.
func (c *CAInfo) Chain() []*x509.Certificate {
	var out []*x509.Certificate
	for p := c; p != nil; p = p.Parent {
		out = append(out, p.Cert)
	}
	return out
}

// IsRoot reports whether the certificate is a self-signed CA.
func (c *CAInfo) IsRoot() bool { return c.Kind == kindRoot }

const (
	kindRoot         = "Root CA"
	kindIssuing      = "Issuing CA"
	kindIntermediate = "Intermediate CA"
	kindOrphanCA     = "CA"
	kindCert         = "Certificate"
)

// Scan reads the certificates (<slug>.crt, DER or PEM) of a public folder
// and their CRLs (<slug>.crl), and orders them as a tree: each root, then
// the CAs it issued under it (depth first), then any certificate whose
// issuer the folder lacks. now decides the CRL states and the words of
// the validity.
func Scan(dir string, now time.Time) ([]*CAInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	all, err := scanCerts(root)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		c.CRL = readCRLInfo(root, c, now)
		c.Validity, c.Expired = validityWords(c.Cert, now)
	}
	return all, nil
}

// scanCerts parses every <slug>.crt of the folder and links each to its
// issuer among them, returned in page order (see Scan).
func scanCerts(root *os.Root) ([]*CAInfo, error) {
	ents, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, err
	}
	var all []*CAInfo
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || filepath.Ext(name) != ".crt" || !fileNameRe.MatchString(name) {
			continue
		}
		data, _, err := readServed(root, name)
		if err != nil {
			continue
		}
		cert, err := parseCert(data)
		if err != nil {
			continue
		}
		s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
		all = append(all, &CAInfo{
			Slug: strings.TrimSuffix(name, ".crt"), Cert: cert,
			Subject: textsafe.Escape(cert.Subject.String()), Issuer: textsafe.Escape(cert.Issuer.String()),
			SHA1: strings.ToUpper(hex.EncodeToString(s1[:])), SHA256: colonHex(s256[:]),
		})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Slug < all[j].Slug })
	for _, c := range all {
		if selfSigned(c.Cert) {
			continue
		}
		for _, p := range all {
			if p != c && bytes.Equal(c.Cert.RawIssuer, p.Cert.RawSubject) && c.Cert.CheckSignatureFrom(p.Cert) == nil {
				c.Parent = p
				break
			}
		}
	}
	// Two CAs that certify each other (cross-certificates) would make a
	// loop: cut it where it is found.
	for _, c := range all {
		seen := map[*CAInfo]bool{c: true}
		for p := c.Parent; p != nil; p = p.Parent {
			if seen[p] {
				c.Parent = nil
				break
			}
			seen[p] = true
		}
	}
	for _, c := range all {
		if c.Parent != nil {
			c.Parent.Children = append(c.Parent.Children, c)
		}
	}
	for _, c := range all {
		c.Kind = kindOf(c)
	}
	// Roots first, then CAs whose issuer is not here, then the rest.
	rank := func(c *CAInfo) int {
		switch {
		case c.Kind == kindRoot:
			return 0
		case c.Cert.IsCA:
			return 1
		}
		return 2
	}
	var tops []*CAInfo
	for _, c := range all {
		if c.Parent == nil {
			tops = append(tops, c)
		}
	}
	sort.SliceStable(tops, func(i, j int) bool { return rank(tops[i]) < rank(tops[j]) })
	var out []*CAInfo
	var walk func(c *CAInfo, depth int)
	walk = func(c *CAInfo, depth int) {
		c.Depth = depth
		out = append(out, c)
		for _, k := range c.Children {
			walk(k, depth+1)
		}
	}
	for _, c := range tops {
		walk(c, 0)
	}
	return out, nil
}

func kindOf(c *CAInfo) string {
	switch {
	case !c.Cert.IsCA:
		return kindCert
	case c.Parent == nil && selfSigned(c.Cert):
		return kindRoot
	case c.Parent == nil:
		return kindOrphanCA
	}
	for _, k := range c.Children {
		if k.Cert.IsCA {
			return kindIntermediate
		}
	}
	return kindIssuing
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// parseCert reads one certificate in DER or PEM.
func parseCert(data []byte) (*x509.Certificate, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, errors.New("not a certificate")
		}
		data = block.Bytes
	}
	return x509.ParseCertificate(data)
}

func readCRLInfo(root *os.Root, c *CAInfo, now time.Time) CRLInfo {
	data, _, err := readServed(root, c.Slug+".crl")
	const missing = "validators that check revocation refuse the certificates of this CA until `certmint crl` publishes its CRL"
	if err != nil {
		return CRLInfo{State: CRLMissing, Problem: "no CRL published (" + c.Slug + ".crl)", Note: missing}
	}
	rl, err := Parse(data)
	if err != nil {
		return CRLInfo{State: CRLMissing, Problem: c.Slug + ".crl is not a CRL", Note: missing}
	}
	info := CRLInfo{ThisUpdate: rl.ThisUpdate.UTC(), NextUpdate: rl.NextUpdate.UTC(), Revoked: len(rl.RevokedCertificateEntries)}
	if rl.Number != nil {
		info.Number = rl.Number.String()
	}
	if err := rl.CheckSignatureFrom(c.Cert); err != nil {
		info.State, info.Problem = CRLInvalid, "the CRL is not signed by this CA"
		info.Note = "validators refuse it; `certmint crl` publishes one this CA signs"
		return info
	}
	info.DueAt = info.ThisUpdate.Add(info.NextUpdate.Sub(info.ThisUpdate) / 2)
	info.State = StateOf(info.ThisUpdate, info.NextUpdate, now)
	switch info.State {
	case CRLFresh:
		info.Note = "re-signing due " + Rel(info.DueAt, now) + ", at half its lifetime"
	case CRLDue:
		info.Note = "past half its lifetime: `certmint serve` with the CA password re-signs it, or run `certmint crl`; it expires " + Rel(info.NextUpdate, now)
	case CRLStale:
		info.Note = "expired " + Rel(info.NextUpdate, now) + ": validators refuse every certificate of this CA until `certmint crl` publishes a new one"
	}
	return info
}

// validityWords says how long a certificate has left: "in 3,650 days",
// "expired 2 days ago", or "not valid until ...".
func validityWords(c *x509.Certificate, now time.Time) (string, bool) {
	switch {
	case now.Before(c.NotBefore):
		return "not valid yet: starts " + Rel(c.NotBefore, now), false
	case !now.Before(c.NotAfter):
		return "expired " + Rel(c.NotAfter, now), true
	}
	return "expires " + Rel(c.NotAfter, now), false
}

// Rel says when t is from now, in whole units: "in 3 days", "5 hours
// ago", "in 2 minutes", "now".
func Rel(t, now time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var n int64
	var unit string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		n, unit = int64(d/time.Minute), "minute"
	case d < 48*time.Hour:
		n, unit = int64(d/time.Hour), "hour"
	default:
		n, unit = int64(d/(24*time.Hour)), "day"
	}
	s := thousands(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

// thousands writes n with commas: 7,300.
func thousands(n int64) string {
	digits := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

func colonHex(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	parts := make([]string, 0, len(b))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// Files made from the certificates and CRLs of the folder when it lacks
// them, so that every link of the index page answers, in a CA home made
// before they were listed and in a folder given with --dir:
//
//	<slug>.cer        the certificate in base64 (PEM)
//	<slug>-chain.pem  the certificate and its issuers up to the root (PEM)
//	<slug>.crl.pem    the CRL in base64 (PEM)
//
// A file of that name in the folder always wins.
func derived(root *os.Root, name string) ([]byte, fs.FileInfo, bool) {
	switch {
	case strings.HasSuffix(name, ".crl.pem"):
		slug := strings.TrimSuffix(name, ".crl.pem")
		data, st, err := readServed(root, slug+".crl")
		if err != nil {
			return nil, nil, false
		}
		rl, err := Parse(data)
		if err != nil {
			return nil, nil, false
		}
		return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: rl.Raw}), st, true
	case strings.HasSuffix(name, "-chain.pem"), strings.HasSuffix(name, ".cer"):
		chain := strings.HasSuffix(name, "-chain.pem")
		slug := strings.TrimSuffix(strings.TrimSuffix(name, "-chain.pem"), ".cer")
		st, err := root.Stat(slug + ".crt")
		if err != nil {
			return nil, nil, false
		}
		all, err := scanCerts(root)
		if err != nil {
			return nil, nil, false
		}
		for _, c := range all {
			if c.Slug != slug {
				continue
			}
			if !chain {
				return certPEM(c.Cert), st, true
			}
			var out []byte
			for _, x := range c.Chain() {
				out = append(out, certPEM(x)...)
			}
			return out, st, true
		}
	}
	return nil, nil, false
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
