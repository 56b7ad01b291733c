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
	"path/filepath"
	"slices"
	"time"

	"github.com/cloudflare/cfssl/config"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/store"
)

// OCSPURL is the URL of the OCSP responder that `certmint serve` runs, as
// the AIA of certificates issued with OCSP names it: the base URL + /ocsp.
func (c *Config) OCSPURL() string { return c.BaseURL + "/ocsp" }

// OCSP responder certificates: each CA delegates signing its OCSP responses
// (RFC 6960 section 4.2.2.2) to a short-lived certificate of its own, so
// the CA key signs one certificate a week or two instead of every
// response, and the responder signs with a fast ECDSA P-256 key whatever
// the CA's key is.
const (
	// OCSPResponderTemplate is the template name recorded for responder
	// certificates: `list` shows them under it, and `status` counts them
	// apart from the certificates users asked for.
	OCSPResponderTemplate = store.OCSPResponderTemplate
	// OCSPResponderValidity is a responder certificate's lifetime. It
	// carries id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1: clients do not
	// check its revocation), so it is kept short.
	OCSPResponderValidity = 14 * 24 * time.Hour
	// Where serve keeps a CA's responder certificate and its key, in the
	// CA's folder; the key is encrypted with the CA password.
	OCSPResponderCertFile = "ocsp-responder.crt"
	OCSPResponderKeyFile  = "ocsp-responder.key"
)

// OCSPResponder is the delegated OCSP signer of one CA.
type OCSPResponder struct {
	CA   *Authority
	Cert *x509.Certificate
	Key  crypto.Signer
}

// OCSPResponderDue reports whether a responder certificate must be
// replaced: less than a third of its lifetime is left (or it is not yet
// valid), so a replacement is in place well before clients would reject
// responses it signed.
func OCSPResponderDue(c *x509.Certificate, now time.Time) bool {
	life := c.NotAfter.Sub(c.NotBefore)
	return now.Before(c.NotBefore) || c.NotAfter.Sub(now) < life/3
}

// OCSPResponder returns the responder of CA a: the one kept in the CA's
// folder while it is good (signed by a, recorded and not revoked, more than
// a third of its lifetime left, its key at hand), else a new one issued
// now, recorded and written there. issued says which. It needs the CA
// password: to decrypt the kept key, or to have the CA sign a new one.
func (s *Store) OCSPResponder(ctx context.Context, a *Authority, now time.Time) (r *OCSPResponder, issued bool, err error) {
	caKey, err := s.Key(a) // asks for the password; a wrong one stops here
	if err != nil {
		return nil, false, err
	}
	if r, ok := s.keptResponder(ctx, a, now); ok {
		return r, false, nil
	}
	r, err = s.issueResponder(ctx, a, caKey, now)
	return r, err == nil, err
}

func (a *Authority) responderPaths() (crt, key string) {
	return filepath.Join(a.dir, OCSPResponderCertFile), filepath.Join(a.dir, OCSPResponderKeyFile)
}

// keptResponder reads the responder kept in the CA's folder, if it is
// still good to use.
func (s *Store) keptResponder(ctx context.Context, a *Authority, now time.Time) (*OCSPResponder, bool) {
	crtPath, keyPath := a.responderPaths()
	data, err := fsutil.ReadLimited(crtPath, 1<<20)
	if err != nil {
		return nil, false
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.CheckSignatureFrom(a.Cert) != nil || OCSPResponderDue(cert, now) ||
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return nil, false
	}
	rec, err := s.DB.Lookup(ctx, cert.SerialNumber)
	if err != nil || rec.Status != "good" || rec.CALabel != a.Slug || !rec.Is(cert) {
		return nil, false
	}
	key, err := readCAKey(keyPath, s.pwCache)
	if err != nil || !keys.Match(key, cert.PublicKey) {
		return nil, false
	}
	return &OCSPResponder{CA: a, Cert: cert, Key: key}, true
}

// issueResponder has the CA sign a new responder certificate through
// cfssl's signer, like every certificate certmint issues, records it,
// then writes it and its encrypted key into the CA's folder (record
// before release: a kill in between leaves a recorded certificate whose
// key is gone, which `certmint doctor --repair` revokes).
func (s *Store) issueResponder(ctx context.Context, a *Authority, caKey crypto.Signer, now time.Time) (*OCSPResponder, error) {
	validity := OCSPResponderValidity
	if left := a.Cert.NotAfter.Sub(now); left < validity {
		validity = left
	}
	if validity < time.Hour {
		return nil, fmt.Errorf("CA %s expires on %s: it cannot delegate OCSP signing any more", a.Slug, a.Cert.NotAfter.Format("2006-01-02 15:04 MST"))
	}
	key, err := keys.Generate(keys.Spec{Type: "ecdsa", Curve: "P-256"})
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{
		CommonName:         a.Cert.Subject.CommonName + " OCSP Responder",
		Country:            a.Cert.Subject.Country,
		Organization:       a.Cert.Subject.Organization,
		OrganizationalUnit: a.Cert.Subject.OrganizationalUnit,
	}
	if len(subject.CommonName) > 64 { // ub-common-name, RFC 5280
		subject.CommonName = "OCSP Responder"
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, err
	}
	// RFC 6960 4.2.2.2: the delegated responder's certificate carries
	// id-kp-OCSPSigning and is issued directly by the CA it answers for;
	// 4.2.2.2.1: id-pkix-ocsp-nocheck tells clients not to check its own
	// status. Backdated an hour like the CA certificates, for clocks
	// behind.
	prof := &config.SigningProfile{
		Usage:        []string{"digital signature", "ocsp signing"},
		Expiry:       validity,
		Backdate:     time.Hour,
		OCSPNoCheck:  true,
		IssuerURL:    []string{s.Config.CertURL(a.Slug)},
		CSRWhitelist: &config.CSRWhitelist{PublicKey: true, PublicKeyAlgorithm: true, SignatureAlgorithm: true},
	}
	sg, err := newSigner(a.Cert, caKey, nil, prof)
	if err != nil {
		return nil, err
	}
	sr := signRequest(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), nil, a.Slug)
	sr.Subject = cfsslSubject(subject)
	out, err := sg.Sign(sr)
	if err != nil {
		return nil, fmt.Errorf("signing the OCSP responder certificate of %s: %w", a.Slug, err)
	}
	block, _ := pem.Decode(out)
	if block == nil {
		return nil, errors.New("signing: the signer returned no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	if _, err := lintGate(cert.Raw, nil); err != nil {
		return nil, err
	}
	keyPEM, err := keys.MarshalPKCS8PEM(key, s.pwCache, keys.CAIterations)
	if err != nil {
		return nil, err
	}
	crtPath, keyPath := a.responderPaths()
	old, _ := s.keptSerial(a)
	meta := Metadata{Template: OCSPResponderTemplate, Subject: cert.Subject.String(), Renews: old}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Insert(ctx, store.NewRecord(cert, a.Slug, meta)); err != nil {
			return err
		}
		return tx.Audit(ctx, Event{Action: "issue", Serial: SerialHex(cert.SerialNumber), CALabel: a.Slug,
			Template: OCSPResponderTemplate, Subject: cert.Subject.String(),
			Detail: "OCSP responder certificate of " + a.Slug + ", until " + cert.NotAfter.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return nil, err
	}
	// The key first: a responder certificate beside an older key is not
	// used (keptResponder matches them), and is replaced at the next start.
	if err := fsutil.WriteFileIn(s.Home, keyPath, keyPEM, fsutil.ModePrivate, true); err != nil {
		return nil, &UnreleasedError{Serial: SerialHex(cert.SerialNumber), Err: err}
	}
	if err := fsutil.WriteFileIn(s.Home, crtPath, out, fsutil.ModePublic, true); err != nil {
		return nil, &UnreleasedError{Serial: SerialHex(cert.SerialNumber), Err: err}
	}
	if err := s.DB.MarkReleased(ctx, cert.SerialNumber, hex.EncodeToString(cert.AuthorityKeyId), time.Now()); err != nil {
		return nil, &UnreleasedError{Serial: SerialHex(cert.SerialNumber), Err: err}
	}
	return &OCSPResponder{CA: a, Cert: cert, Key: key}, nil
}

// keptSerial is the serial of the responder certificate in the CA's
// folder, which a new one replaces.
func (s *Store) keptSerial(a *Authority) (string, error) {
	crtPath, _ := a.responderPaths()
	data, err := fsutil.ReadLimited(crtPath, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return "", nil
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", nil
	}
	return SerialHex(c.SerialNumber), nil
}

// OCSPResponders returns the responder of every CA, root first, issuing
// those that are due (see OCSPResponder). logf reports each one issued.
func (s *Store) OCSPResponders(ctx context.Context, now time.Time, logf func(format string, args ...any)) ([]*OCSPResponder, error) {
	if err := s.UnlockAll(); err != nil {
		return nil, err
	}
	var out []*OCSPResponder
	for _, a := range s.Authorities() {
		r, issued, err := s.OCSPResponder(ctx, a, now)
		if err != nil {
			return nil, err
		}
		if issued && logf != nil {
			logf("issued the OCSP responder certificate of %s (serial %s, until %s)", a.Slug, SerialHex(r.Cert.SerialNumber), r.Cert.NotAfter.Format(time.RFC3339))
		}
		out = append(out, r)
	}
	return out, nil
}

// KeepOCSPRespondersFresh checks every interval, until ctx ends, whether a
// responder certificate of rs is due (OCSPResponderDue) and replaces it:
// use is called with the new responder, before the old one's responses
// run out. logf reports each replacement and error.
func (s *Store) KeepOCSPRespondersFresh(ctx context.Context, rs []*OCSPResponder, interval time.Duration, use func(*OCSPResponder), logf func(format string, args ...any)) {
	cur := slices.Clone(rs)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for i, r := range cur {
			now := time.Now()
			if !OCSPResponderDue(r.Cert, now) {
				continue
			}
			n, err := s.issueResponder(ctx, r.CA, r.CA.key, now)
			if err != nil {
				logf("replacing the OCSP responder certificate of %s failed: %v", r.CA.Slug, err)
				continue
			}
			cur[i] = n
			use(n)
			logf("replaced the OCSP responder certificate of %s (serial %s, until %s)", r.CA.Slug, SerialHex(n.Cert.SerialNumber), n.Cert.NotAfter.Format(time.RFC3339))
		}
	}
}
