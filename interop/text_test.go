package interop

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/certmint/certmint/templates"
)

// Names OpenSSL 3 prints in `openssl x509 -text` for what templates name
// after RFC 5280.
var (
	opensslKeyUsage = map[templates.KeyUsage]string{
		"digitalSignature":  "Digital Signature",
		"contentCommitment": "Non Repudiation",
		"keyEncipherment":   "Key Encipherment",
		"dataEncipherment":  "Data Encipherment",
		"keyAgreement":      "Key Agreement",
		"keyCertSign":       "Certificate Sign",
		"cRLSign":           "CRL Sign",
		"encipherOnly":      "Encipher Only",
		"decipherOnly":      "Decipher Only",
	}
	opensslExtKeyUsage = map[templates.ExtKeyUsage]string{
		"serverAuth":      "TLS Web Server Authentication",
		"clientAuth":      "TLS Web Client Authentication",
		"codeSigning":     "Code Signing",
		"emailProtection": "E-mail Protection",
		"timeStamping":    "Time Stamping",
		"OCSPSigning":     "OCSP Signing",
	}
	// opensslSigAlg maps the issuing CA's key type and the template's hash
	// to OpenSSL's "Signature Algorithm:" name.
	opensslSigAlg = map[templates.KeyType]map[templates.Hash]string{
		templates.RSA: {
			templates.SHA256: "sha256WithRSAEncryption",
			templates.SHA384: "sha384WithRSAEncryption",
			templates.SHA512: "sha512WithRSAEncryption",
		},
		templates.ECDSA: {
			templates.SHA256: "ecdsa-with-SHA256",
			templates.SHA384: "ecdsa-with-SHA384",
			templates.SHA512: "ecdsa-with-SHA512",
		},
	}
	// opensslCurve is the "NIST CURVE:" line of an EC public key.
	opensslCurve = map[templates.Curve]string{
		templates.P256: "P-256",
		templates.P384: "P-384",
	}
)

// opensslSAN turns a SAN as certmint prints it ("DNS:x", "IP:x", "email:x",
// "URI:x") into the form OpenSSL 3.0 prints ("DNS:x", "IP Address:x", ...).
// OpenSSL 3.0 writes IPv6 addresses as eight uncompressed groups in
// uppercase hex ("0:0:0:0:0:0:0:1").
func opensslSAN(s string) (string, error) {
	kind, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("SAN %q has no kind prefix", s)
	}
	switch kind {
	case "DNS", "URI":
		return kind + ":" + value, nil
	case "email":
		return "email:" + value, nil
	case "IP":
		a, err := netip.ParseAddr(value)
		if err != nil {
			return "", fmt.Errorf("SAN %q: %v", s, err)
		}
		if a.Is4() {
			return "IP Address:" + a.String(), nil
		}
		b := a.As16()
		groups := make([]string, 8)
		for i := range groups {
			groups[i] = fmt.Sprintf("%X", uint16(b[2*i])<<8|uint16(b[2*i+1]))
		}
		return "IP Address:" + strings.Join(groups, ":"), nil
	}
	return "", fmt.Errorf("SAN %q has an unknown kind %q", s, kind)
}

// extension is one X509v3 extension (or any indented block) of openssl's
// -text output.
type extension struct {
	Found    bool
	Critical bool
	Lines    []string // the value lines, trimmed
}

// Value is the value on one line.
func (e extension) Value() string { return strings.Join(e.Lines, "\n") }

// findBlock returns the block headed by the line whose trimmed text starts
// with header (e.g. "X509v3 Key Usage:"): whether it is marked critical and
// the more indented lines under it.
func findBlock(text, header string) extension {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		if !strings.HasPrefix(trimmed, header) {
			continue
		}
		e := extension{Found: true, Critical: strings.HasSuffix(trimmed, "critical")}
		indent := len(l) - len(strings.TrimLeft(l, " \t"))
		for _, v := range lines[i+1:] {
			vi := len(v) - len(strings.TrimLeft(v, " \t"))
			if strings.TrimSpace(v) == "" || vi <= indent {
				break
			}
			e.Lines = append(e.Lines, strings.TrimSpace(v))
		}
		return e
	}
	return extension{}
}

// field returns the rest of the first line whose trimmed text starts with
// prefix, e.g. field(text, "Signature Algorithm:").
func field(text, prefix string) (string, bool) {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// splitList splits "a, b, c" (one line or several) into sorted items.
func splitList(lines ...string) []string {
	var out []string
	for _, l := range lines {
		for _, p := range strings.Split(l, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// opensslTime parses a date as openssl prints it: "Nov 25 13:42:00 2026 GMT".
func opensslTime(s string) (time.Time, error) {
	return time.Parse("Jan _2 15:04:05 2006 MST", strings.Join(strings.Fields(s), " "))
}

// sortedCopy returns a sorted copy of s.
func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// keyID normalises a key identifier as openssl prints it
// ("keyid:AB:CD..." in 1.1, "AB:CD..." in 3.0).
func keyID(s string) string {
	return strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(s), "keyid:"))
}
