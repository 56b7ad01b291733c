package check

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/templates"
)

// Fetcher gets the CRL at a URL.
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// FetchTimeout bounds one CRL download: an appliance gives up quickly too,
// and a check must not hang on a firewall that drops packets.
const FetchTimeout = 5 * time.Second

// maxCRLBytes bounds a downloaded CRL.
const maxCRLBytes = 64 << 20

// HTTPFetcher fetches over plain HTTP with FetchTimeout, as validators do
// (004: "The URL should be defined as http:// rather than https://").
func HTTPFetcher(client *http.Client) Fetcher {
	if client == nil {
		client = &http.Client{Timeout: FetchTimeout}
	}
	return func(ctx context.Context, url string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxCRLBytes+1))
		if err != nil {
			return nil, err
		}
		if len(data) > maxCRLBytes {
			return nil, fmt.Errorf("GET %s: larger than %d MiB", url, maxCRLBytes>>20)
		}
		return data, nil
	}
}

// validation is what a validator does with the certificate: the chain of
// trust, the key match of an upload, expiry and revocation (004, "About
// certificate validation": "Validation is evaluated against: A Certificate
// Revocation List (CRL), The certificate expiration date, The certificate
// trust chain"; 000: "1E Client and 1E Switches use OpenSSL and its
// validation process to verify certificates"). These steps are
// requirements of every template; each cites the template's sentence for
// it, or RFC 5280's path validation.
func validation(t *templates.Template, in Input) []Finding {
	var out []Finding
	c := in.Leaf
	step := func(rule, title string) Finding {
		cited := t.Rule(rule)
		return Finding{Rule: rule, Level: cited.Level, Title: title, Citations: cited.Quotes, Reason: cited.Reason, Status: Pass}
	}
	// The appliance's own words for a failure, where its document lists
	// them (Defender for IoT's troubleshooting table).
	message := func(m string) string {
		if t.Validation.Messages == templates.DefenderIoT {
			return m
		}
		return ""
	}

	// Chain of trust. A self-signed certificate that the template allows
	// (SafeQ's signing certificate, as generateCertificate.ps1 makes it) is
	// its own root: whoever uses it trusts it directly.
	chainF := step("validation.chain", "chains to a trusted root")
	var chain []*x509.Certificate
	var err error
	if t.AllowSelfSigned && isSelfSigned(c) {
		chain = []*x509.Certificate{c}
		chainF.Title, chainF.Got = "self-signed, which the template allows: trusted as its own root", textsafe.Quote(c.Subject.CommonName)
	} else if chain, err = buildChain(in); err != nil {
		chainF.Status, chainF.Got, chainF.Want = Fail, err.Error(), "a path to a root given with --chain or in the CA home"
		chainF.Fix = "give the root and issuing CA certificates with --chain (the .pem of all CAs), or reissue from the CA you trust"
		chainF.ApplianceMessage = message(DefenderChain)
	} else {
		var names []string
		for _, x := range chain[1:] {
			names = append(names, textsafe.Quote(x.Subject.CommonName))
		}
		chainF.Got = strings.Join(names, " <- ")
	}
	out = append(out, chainF)

	// Key.
	keyF := step("validation.key", "the private key belongs to the certificate")
	switch {
	case !in.KeyGiven:
		keyF.Status, keyF.Got = Skip, "no key given (--key or --pfx)"
	case in.KeyErr != nil:
		keyF.Status, keyF.Got, keyF.ApplianceMessage = Fail, in.KeyErr.Error(), message(DefenderPassphrase)
		if errors.Is(in.KeyErr, keys.ErrWrongPassword) || errors.Is(in.KeyErr, keys.ErrNeedPassword) {
			keyF.Fix = "give the passphrase the key was encrypted with (CERTMINT_PASSWORD or --password-file)"
		} else {
			keyF.Fix = "give the key file that was made with this certificate"
		}
	case in.Key == nil:
		keyF.Status, keyF.Got = Skip, "no key in the file"
	case !keys.Match(in.Key, c.PublicKey):
		keyF.Status, keyF.Got, keyF.Want, keyF.ApplianceMessage = Fail, "the key is for another certificate", "the key of this certificate", message(DefenderPassphrase)
		keyF.Fix = "give the key file that was made with this certificate, or reissue the pair"
	}
	out = append(out, keyF)

	// Expiry.
	expF := step("validation.expiry", "valid now")
	expF.Got = fmt.Sprintf("%s to %s", c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))
	switch {
	case in.Now.Before(c.NotBefore):
		expF.Status, expF.Want, expF.ApplianceMessage = Fail, "notBefore in the past", message(DefenderExpired)
		expF.Got = "not valid until " + c.NotBefore.UTC().Format(time.RFC3339)
		expF.Fix = "wait until it is valid, check the clocks, or reissue with a notBefore in the past"
	case !in.Now.Before(c.NotAfter):
		expF.Status, expF.Want, expF.ApplianceMessage = Fail, "notAfter in the future", message(DefenderExpired)
		expF.Got = "expired on " + c.NotAfter.UTC().Format(time.RFC3339)
		expF.Fix = "create a new certificate with valid dates (certmint renew, or issue)"
	}
	out = append(out, expF)

	out = append(out, revocation(step("validation.revocation", "not revoked (CRL)"), in, chain, message))
	return out
}

// buildChain verifies the leaf to a root. Intermediates come from the
// chain given; roots from Input.Roots and the self-signed certificates of
// the chain. Time and key usage are not judged here (validation.expiry and
// usage.ext_key_usage are).
func buildChain(in Input) ([]*x509.Certificate, error) {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	n := 0
	for _, r := range in.Roots {
		roots.AddCert(r)
		n++
	}
	for _, c := range in.Chain {
		if isSelfSigned(c) {
			roots.AddCert(c)
			n++
		} else {
			inter.AddCert(c)
		}
	}
	if n == 0 {
		return nil, errors.New("no root CA certificate given")
	}
	// Verify at a time inside the leaf's validity, so an expired leaf is
	// reported by validation.expiry and not as a broken chain.
	at := in.Now
	if at.Before(in.Leaf.NotBefore) || !at.Before(in.Leaf.NotAfter) {
		at = in.Leaf.NotBefore.Add(in.Leaf.NotAfter.Sub(in.Leaf.NotBefore) / 2)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	chains, err := in.Leaf.Verify(opts)
	if err != nil && unknownPSS(in.Leaf) != nil {
		// A PSS signature crypto/x509 does not verify (a salt longer than
		// the hash): verify it against each candidate issuer, then the
		// issuer's own path.
		candidates := append(append([]*x509.Certificate{}, in.Chain...), in.Roots...)
		for _, issuer := range candidates {
			if string(issuer.RawSubject) != string(in.Leaf.RawIssuer) || checkPSSFrom(in.Leaf, issuer) != nil {
				continue
			}
			if isSelfSigned(issuer) { // a root: given in Roots, or self-signed in Chain
				return []*x509.Certificate{in.Leaf, issuer}, nil
			}
			opts.CurrentTime = issuer.NotBefore.Add(issuer.NotAfter.Sub(issuer.NotBefore) / 2)
			if at.After(issuer.NotBefore) && at.Before(issuer.NotAfter) {
				opts.CurrentTime = at
			}
			if up, uerr := issuer.Verify(opts); uerr == nil {
				return append([]*x509.Certificate{in.Leaf}, up[0]...), nil
			}
		}
	}
	if err != nil {
		if strings.Contains(err.Error(), "insecure algorithm") {
			return nil, fmt.Errorf("the chain is signed with %s, which validators no longer accept", in.Leaf.SignatureAlgorithm)
		}
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			return nil, fmt.Errorf("the certificate and the root CA do not match: issued by %q, which no given root vouches for", in.Leaf.Issuer.CommonName)
		}
		return nil, err
	}
	return chains[0], nil
}

// revocation checks the leaf (and each CA below the root) against its CRL:
// CRLs given as files first, else the CRL fetched from the CDP.
func revocation(f Finding, in Input, chain []*x509.Certificate, message func(string) string) Finding {
	switch {
	case in.NoCDP && len(in.Leaf.CRLDistributionPoints) == 0:
		f.Status, f.Got = Skip, "the certificate has no CDP and --no-cdp says the site does not validate revocation"
		return f
	case len(in.CRLs) == 0 && !in.FetchCRL:
		f.Status, f.Got = Skip, "no CRL given (use --crl FILE, or --crl-check to fetch the CDP)"
		return f
	case chain == nil:
		f.Status, f.Got = Skip, "no chain to verify the CRL's signature with"
		return f
	}
	fetch := in.Fetcher
	if fetch == nil {
		fetch = HTTPFetcher(nil)
	}
	var checked []string
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		rl, src, err := findCRL(in, cert, issuer, fetch)
		if err != nil {
			var ue *unreachableError
			if errors.As(err, &ue) {
				f.Status, f.Got, f.ApplianceMessage = Fail, err.Error(), message(DefenderUnreachable)
				f.Want = "the CRL at " + textsafe.Quote(ue.url) + " reachable over HTTP"
				f.Fix = "make sure the appliance can reach the CRL server in the certificate (port 80 unless another is given); `certmint serve` or any web server can publish public/"
			} else {
				f.Status, f.Got = Fail, err.Error()
				f.Want = "a current CRL signed by " + textsafe.Quote(issuer.Subject.CommonName)
				f.Fix = "publish a fresh CRL (certmint crl) where the CDP points"
			}
			return f
		}
		if rl == nil {
			continue // a CA certificate without CDP (no CRL for it)
		}
		for _, e := range rl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				f.Status, f.ApplianceMessage = Fail, message(DefenderRevoked)
				f.Got = fmt.Sprintf("%s is revoked since %s (%s), per %s", textsafe.Quote(cert.Subject.CommonName),
					e.RevocationTime.UTC().Format("2006-01-02"), crl.ReasonName(e.ReasonCode), src)
				f.Want = "not on the CRL"
				f.Fix = "create a new unrevoked certificate"
				return f
			}
		}
		checked = append(checked, fmt.Sprintf("%s (CRL %s)", textsafe.Quote(cert.Subject.CommonName), src))
	}
	f.Got = "checked " + strings.Join(checked, "; ")
	return f
}

type unreachableError struct {
	url string
	err error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("the CRL location %s is not reachable: %v", textsafe.Quote(e.url), e.err)
}

// findCRL returns the CRL for cert: a given CRL issued by its issuer, or
// the one at its http:// CDP. It checks the CRL's signature and freshness.
func findCRL(in Input, cert, issuer *x509.Certificate, fetch Fetcher) (*x509.RevocationList, string, error) {
	for _, rl := range in.CRLs {
		if rl.CheckSignatureFrom(issuer) == nil {
			if !in.Now.Before(rl.NextUpdate) && !rl.NextUpdate.IsZero() {
				return nil, "", fmt.Errorf("the CRL of %s expired on %s", textsafe.Quote(issuer.Subject.CommonName), rl.NextUpdate.UTC().Format(time.RFC3339))
			}
			return rl, "given file", nil
		}
	}
	if !in.FetchCRL {
		if cert == in.Leaf {
			return nil, "", fmt.Errorf("no given CRL is signed by %s", textsafe.Quote(issuer.Subject.CommonName))
		}
		return nil, "", nil
	}
	// Validators fetch over plain HTTP first; an https:// CDP (which 1E
	// allows: "uses HTTP/S") is fetched when there is no http:// one.
	var url string
	for _, scheme := range []string{"http://", "https://"} {
		for _, u := range cert.CRLDistributionPoints {
			if url == "" && strings.HasPrefix(strings.ToLower(u), scheme) {
				url = u
			}
		}
	}
	if url == "" {
		if cert == in.Leaf {
			return nil, "", errors.New("the certificate names no http:// or https:// CRL distribution point")
		}
		return nil, "", nil
	}
	data, err := fetch(context.Background(), url)
	if err != nil {
		return nil, "", &unreachableError{url: url, err: err}
	}
	// The URL is the certificate's: shown quoted when it holds anything
	// but printable characters, as every name in a finding is.
	shown := textsafe.Quote(url)
	rl, err := crl.Parse(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", shown, err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, "", fmt.Errorf("the CRL at %s is not signed by %s: %w", shown, textsafe.Quote(issuer.Subject.CommonName), err)
	}
	if !rl.NextUpdate.IsZero() && !in.Now.Before(rl.NextUpdate) {
		return nil, "", fmt.Errorf("the CRL at %s expired on %s", shown, rl.NextUpdate.UTC().Format(time.RFC3339))
	}
	return rl, shown, nil
}
