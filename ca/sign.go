package ca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// SignCSR signs an external request under the template's rules: the
// template's key usage, extended key usage, CDP, AIA and validity win; the
// request's subject fields and SANs are checked against the template as if
// they had been typed; its key must be one the template accepts. Only the
// certificate files can be written (crt, chain, cer): the key stays with
// whoever made the request.
func (s *Store) SignCSR(ctx context.Context, req IssueRequest, csr *x509.CertificateRequest) (*Issued, error) {
	req, err := csrRequest(req, csr)
	if err != nil {
		return nil, err
	}
	p, caKey, err := s.ready(ctx, req, false)
	if err != nil {
		return nil, err
	}
	cert, findings, err := s.signCSR(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.Raw}), caKey)
	if err != nil {
		return nil, err
	}
	return s.release(ctx, p, nil, cert, findings, "sign")
}

// csrRequest completes req with what an external request proposes (its
// subject fields, SANs and key, to be checked like typed ones) and the
// files signing can write; SignCSR and PreviewCSR share it.
func csrRequest(req IssueRequest, csr *x509.CertificateRequest) (IssueRequest, error) {
	t := req.Template
	req.Subject = pkix.Name{
		CommonName: csr.Subject.CommonName, Country: csr.Subject.Country, Province: csr.Subject.Province,
		Locality: csr.Subject.Locality, Organization: csr.Subject.Organization, OrganizationalUnit: csr.Subject.OrganizationalUnit,
	}
	req.SANs = san.FromRequest(csr)
	req.fromCSR = true
	if req.Formats == nil {
		for _, f := range t.Output.Formats {
			if f == templates.FormatCRT || f == templates.FormatChain || f == templates.FormatCER {
				req.Formats = append(req.Formats, f)
			}
		}
		if len(req.Formats) == 0 {
			req.Formats = []templates.Format{templates.FormatCRT, templates.FormatChain}
		}
	}
	for _, f := range req.Formats {
		if f.NeedsKey() {
			return req, &UsageError{Msg: input.Textf("%s needs the private key, which stays with the requester", input.Val(input.Format, f)),
				Hint: input.Textf("use %s", input.Val(input.Format, "crt,chain,cer"))}
		}
	}
	return req, checkKeyAllowed(t, csr.PublicKey)
}
