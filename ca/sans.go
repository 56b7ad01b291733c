package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"sync"

	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/signer"

	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// oidSubjectAltName is the subjectAltName extension (RFC 5280 4.2.1.6).
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// resolveSANs is the one way a request's SANs become a certificate's, for
// every path (issue, batch, renew, safeq, csr, and sign, whose names come
// typed from the request): each name is checked by san.Check, the rule set
// of `issue --san`, whatever its origin; duplicates are dropped; the
// template adds the CN where it copies it; more than san.MaxNames are
// refused. The template's kind rules are checked afterwards
// (checkRequest).
func resolveSANs(t *templates.Template, cn string, names []san.Name) ([]san.Name, error) {
	checked, err := san.CheckList(names)
	if err != nil {
		return nil, err
	}
	out := t.ResolveSANs(cn, checked)
	if err := san.CheckCount(len(out)); err != nil {
		return nil, fmt.Errorf("%w, counting the CN the template copies into the SAN", err)
	}
	return out, nil
}

// encoderKey signs the throwaway certificates from which sanExtension and
// usageExtensions take crypto/x509's encoding of an extension: made once per
// process, since only the extension's bytes are kept and no one ever sees
// the certificate.
var encoderKey = sync.OnceValues(func() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
})

// sanExtension encodes typed names as the subjectAltName extension for
// cfssl's signer, which gets it as a SignRequest extension and no hosts:
// given strings (SignRequest.Hosts), cfssl guesses each name's type again
// (local.OverrideHosts: an IP-looking DNS name becomes an IP address, one
// with @ an email address). The DER comes from crypto/x509 through a
// throwaway certificate, as usageExtensions does for KU/EKU, so it is
// exactly what x509 would write, including RFC 5280's rule that the
// extension is critical when the subject is empty: subject is the
// certificate's (as cfsslSubject passes it). No names: no extension.
func sanExtension(subject pkix.Name, names []san.Name) ([]signer.Extension, error) {
	if len(names) == 0 {
		return nil, nil
	}
	dns, ips, emails, uris, err := san.Fields(names)
	if err != nil {
		return nil, fmt.Errorf("encoding the SANs: %w", err)
	}
	k, err := encoderKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: cfsslSubject(subject).Name(),
		DNSNames: dns, IPAddresses: ips, EmailAddresses: emails, URIs: uris}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, fmt.Errorf("encoding the SANs: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("encoding the SANs: %w", err)
	}
	for _, e := range c.Extensions {
		if e.Id.Equal(oidSubjectAltName) {
			return []signer.Extension{{ID: config.OID(e.Id), Critical: e.Critical, Value: hex.EncodeToString(e.Value)}}, nil
		}
	}
	return nil, fmt.Errorf("encoding the SANs: crypto/x509 wrote no subjectAltName for %d names", len(names))
}
