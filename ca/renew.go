package ca

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// RenewalRequest builds the request that reissues a certificate: the same
// template, subject, SANs, file names and formats, a new key. out replaces
// the original folder when not empty.
func (s *Store) RenewalRequest(ctx context.Context, serial *big.Int, out string) (IssueRequest, *Record, error) {
	old, err := s.Lookup(ctx, serial)
	if err != nil {
		return IssueRequest{}, nil, err
	}
	if old.IsCA() {
		return IssueRequest{}, nil, usageErrorf(input.Text{}, "%s is the issuing CA's certificate; renew issues end-entity certificates", old.SerialHex())
	}
	if old.Meta.Template == "" {
		return IssueRequest{}, nil, fmt.Errorf("certificate %s has no template recorded, so certmint cannot renew it the same way", old.SerialHex())
	}
	var t *templates.Template
	if old.Meta.TemplateFile != "" {
		t, err = templates.LoadFile(old.Meta.TemplateFile)
	} else {
		t, err = templates.Builtin(old.Meta.Template)
	}
	if err != nil {
		return IssueRequest{}, nil, fmt.Errorf("renewing %s: its template %q: %w", old.SerialHex(), old.Meta.Template, err)
	}
	cert, err := old.Certificate()
	if err != nil {
		return IssueRequest{}, nil, err
	}
	subject := pkix.Name{
		CommonName: cert.Subject.CommonName, Country: cert.Subject.Country, Province: cert.Subject.Province,
		Locality: cert.Subject.Locality, Organization: cert.Subject.Organization, OrganizationalUnit: cert.Subject.OrganizationalUnit,
	}
	names := san.FromCertificate(cert)
	req := IssueRequest{
		Template: t, Subject: subject, SANs: names,
		Out: old.Meta.Out, Base: old.Meta.Base, FriendlyName: old.Meta.FriendlyName, PFXName: old.Meta.PFXName,
		Renews: old.SerialHex(), PFX: templates.PFXEncryption(old.Meta.PFX), NoCDP: old.Meta.NoCDP, EncryptKey: old.Meta.EncryptKey,
		ProfilePassword: old.Meta.ProfilePassword, OCSP: old.Meta.OCSP,
	}
	// The new key is of the old one's type and size (an administrator who
	// chose --key rsa:4096 keeps it), unless the template no longer accepts
	// it; then the template's own key.
	if spec, err := keys.Describe(cert.PublicKey); err == nil && t.Key.Allows(templates.KeyType(spec.Type), spec.Bits, templates.Curve(spec.Curve)) {
		req.Key = spec
	}
	// A certificate issued without a CDP (004, validation off) is renewed
	// without one; cert.CRLDistributionPoints is the record of that.
	if len(cert.CRLDistributionPoints) == 0 && t.Revocation.CRLDistributionPoint {
		req.NoCDP = true
	}
	// One that named the OCSP responder (--ocsp) names it again.
	if len(cert.OCSPServer) > 0 {
		req.OCSP = true
	}
	if req.Out == "" {
		req.Out = "."
	}
	// A folder given instead is the caller's to make (or, for a dry run, to
	// report as one the real run makes); the original one must be there.
	if out != "" {
		req.Out = out
	} else if st, err := os.Stat(req.Out); err != nil || !st.IsDir() {
		return IssueRequest{}, nil, usageErrorf(input.Textf("give %s", input.Val(input.Out, "DIR")), "the original folder %s of %s is gone", req.Out, old.SerialHex())
	}
	for _, f := range old.Meta.Formats {
		var ft templates.Format
		if err := ft.UnmarshalText([]byte(f)); err == nil {
			req.Formats = append(req.Formats, ft)
		}
	}
	// The unique-CN rule must not refuse the renewal of the certificate it
	// would find.
	req.renewing = old
	return req, old, nil
}

// RevokedRenewalError refuses to renew a revoked certificate: the renewal
// would put a new certificate, with the same subject and SANs, in the
// place of one that was taken out of service, perhaps because its key or
// its device was lost.
type RevokedRenewalError struct {
	Serial string
	At     time.Time
	Reason string
}

func (e *RevokedRenewalError) Error() string {
	return fmt.Sprintf("certificate %s was revoked on %s (%s); renewing it would put a new certificate with its subject and SANs in its place",
		e.Serial, e.At.UTC().Format("2006-01-02 15:04 MST"), e.Reason)
}

// CheckRenewable refuses the renewal of a revoked certificate unless force
// is set; forced, it returns the warning to show.
func CheckRenewable(old *Record, force bool) (warning input.Text, err error) {
	if old.Status != "revoked" {
		return input.Text{}, nil
	}
	e := &RevokedRenewalError{Serial: old.SerialHex(), At: old.RevokedAt, Reason: crl.ReasonName(old.Reason)}
	if !force {
		return input.Text{}, e
	}
	return input.Textf("certificate %s was revoked on %s (%s); renewing it anyway (%s): the new certificate takes its place",
		e.Serial, e.At.UTC().Format("2006-01-02 15:04 MST"), e.Reason, input.Of(input.Force)), nil
}

// AlreadyRenewedError refuses to renew a certificate that a valid one
// already renews: its bundle folder holds the successor now, which the
// second renewal would overwrite while it is still valid and deployed.
type AlreadyRenewedError struct {
	Serial, By string
	ByUntil    time.Time
}

func (e *AlreadyRenewedError) Error() string {
	return fmt.Sprintf("certificate %s was already renewed by %s (valid until %s)", e.Serial, e.By, e.ByUntil.UTC().Format("2006-01-02"))
}

// CheckNotRenewed refuses the renewal of a certificate that a valid one
// already renews, unless force is set; forced, it returns the warning to
// show.
func (s *Store) CheckNotRenewed(ctx context.Context, old *Record, force bool, now time.Time) (warning input.Text, err error) {
	succ, err := s.DB.Successor(ctx, old.SerialHex(), now)
	if err != nil || succ == nil {
		return input.Text{}, err
	}
	e := &AlreadyRenewedError{Serial: old.SerialHex(), By: succ.SerialHex(), ByUntil: succ.NotAfter}
	if !force {
		return input.Text{}, e
	}
	return input.Textf("%s; renewing it again anyway (%s): the new certificate replaces %s's files", e.Error(), input.Of(input.Force), e.By), nil
}

// Renew issues the renewal and, with revokeOld, revokes the old certificate
// as superseded (RFC 5280 reason 4). A revoked certificate is renewed only
// with req.Force (CheckRenewable).
func (s *Store) Renew(ctx context.Context, req IssueRequest, old *Record, revokeOld bool, now time.Time) (*Issued, *RevokeResult, error) {
	warning, err := CheckRenewable(old, req.Force)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.CheckNotRenewed(ctx, old, req.Force, now); err != nil {
		return nil, nil, err
	}
	res, err := s.Issue(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	detail := "renews " + old.SerialHex()
	if !warning.IsZero() {
		detail += " (revoked, " + crl.ReasonName(old.Reason) + "; forced)"
	}
	if err := s.DB.Audit(ctx, Event{Action: "renew", Serial: res.Serial, CALabel: s.Issuing.Slug, Template: res.Template,
		Subject: res.Cert.Subject.String(), Detail: detail}); err != nil {
		return res, nil, err
	}
	if !revokeOld || old.State(now) != "valid" {
		return res, nil, nil
	}
	rv, err := s.Revoke(ctx, old.Serial, 4, now)
	return res, rv, err
}
