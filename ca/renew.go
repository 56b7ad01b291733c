package ca

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"time"

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
		return IssueRequest{}, nil, &UsageError{Msg: fmt.Sprintf("%s is the issuing CA's certificate; renew issues end-entity certificates", old.SerialHex())}
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
	if out != "" {
		req.Out = out
	}
	if req.Out == "" {
		req.Out = "."
	}
	if st, err := os.Stat(req.Out); err != nil || !st.IsDir() {
		return IssueRequest{}, nil, &UsageError{Msg: fmt.Sprintf("the original folder %s of %s is gone", req.Out, old.SerialHex()), Hint: "give --out DIR"}
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

// Renew issues the renewal and, with revokeOld, revokes the old certificate
// as superseded (RFC 5280 reason 4).
func (s *Store) Renew(ctx context.Context, req IssueRequest, old *Record, revokeOld bool, now time.Time) (*Issued, *RevokeResult, error) {
	res, err := s.Issue(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if err := s.DB.Audit(ctx, Event{Action: "renew", Serial: res.Serial, CALabel: s.Issuing.Slug, Template: res.Template,
		Subject: res.Cert.Subject.String(), Detail: "renews " + old.SerialHex()}); err != nil {
		return res, nil, err
	}
	if !revokeOld || old.State(now) != "valid" {
		return res, nil, nil
	}
	rv, err := s.Revoke(ctx, old.Serial, 4, now)
	return res, rv, err
}
