package templates

import (
	"crypto/x509"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/suggest"
)

// Each enum type below decodes from TOML through UnmarshalText, which
// rejects unknown names; BurntSushi/toml then reports the file position of
// the offending key.

// KeyUsage is one X.509 key usage bit, named as in RFC 5280 section 4.2.1.3.
type KeyUsage string

var keyUsages = map[KeyUsage]x509.KeyUsage{
	"digitalSignature":  x509.KeyUsageDigitalSignature,
	"contentCommitment": x509.KeyUsageContentCommitment,
	"keyEncipherment":   x509.KeyUsageKeyEncipherment,
	"dataEncipherment":  x509.KeyUsageDataEncipherment,
	"keyAgreement":      x509.KeyUsageKeyAgreement,
	"keyCertSign":       x509.KeyUsageCertSign,
	"cRLSign":           x509.KeyUsageCRLSign,
	"encipherOnly":      x509.KeyUsageEncipherOnly,
	"decipherOnly":      x509.KeyUsageDecipherOnly,
}

// keyUsageAliases are names other tools print for the same bits.
var keyUsageAliases = map[string]KeyUsage{
	"nonRepudiation": "contentCommitment",
}

func (k *KeyUsage) UnmarshalText(b []byte) error {
	s := string(b)
	if a, ok := keyUsageAliases[s]; ok {
		s = string(a)
	}
	if _, ok := keyUsages[KeyUsage(s)]; !ok {
		return unknownValue(s, keysOf(keyUsages))
	}
	*k = KeyUsage(s)
	return nil
}

// X509 returns the bit for the name.
func (k KeyUsage) X509() x509.KeyUsage { return keyUsages[k] }

// KeyUsageName returns the RFC 5280 name of one key usage bit.
func KeyUsageName(bit x509.KeyUsage) KeyUsage {
	for n, b := range keyUsages {
		if b == bit {
			return n
		}
	}
	return KeyUsage(fmt.Sprintf("bit%d", bit))
}

// ExtKeyUsage is one extended key usage purpose, named as in RFC 5280
// section 4.2.1.12.
type ExtKeyUsage string

var extKeyUsages = map[ExtKeyUsage]x509.ExtKeyUsage{
	"serverAuth":      x509.ExtKeyUsageServerAuth,
	"clientAuth":      x509.ExtKeyUsageClientAuth,
	"codeSigning":     x509.ExtKeyUsageCodeSigning,
	"emailProtection": x509.ExtKeyUsageEmailProtection,
	"timeStamping":    x509.ExtKeyUsageTimeStamping,
	"OCSPSigning":     x509.ExtKeyUsageOCSPSigning,
}

func (e *ExtKeyUsage) UnmarshalText(b []byte) error {
	s := string(b)
	if _, ok := extKeyUsages[ExtKeyUsage(s)]; !ok {
		return unknownValue(s, keysOf(extKeyUsages))
	}
	*e = ExtKeyUsage(s)
	return nil
}

// X509 returns the purpose for the name.
func (e ExtKeyUsage) X509() x509.ExtKeyUsage { return extKeyUsages[e] }

// ExtKeyUsageName returns the RFC 5280 name of a purpose, or "" if certmint
// has no name for it.
func ExtKeyUsageName(u x509.ExtKeyUsage) ExtKeyUsage {
	for n, v := range extKeyUsages {
		if v == u {
			return n
		}
	}
	return ""
}

// KeyType is the public key algorithm.
type KeyType string

const (
	RSA   KeyType = "rsa"
	ECDSA KeyType = "ecdsa"
)

func (t *KeyType) UnmarshalText(b []byte) error {
	switch KeyType(b) {
	case RSA, ECDSA:
		*t = KeyType(b)
		return nil
	}
	return unknownValue(string(b), []string{"ecdsa", "rsa"})
}

// Curve is an ECDSA curve name.
type Curve string

const (
	P256 Curve = "P-256"
	P384 Curve = "P-384"
)

func (c *Curve) UnmarshalText(b []byte) error {
	switch strings.ToUpper(string(b)) {
	case "P-256", "P256", "PRIME256V1", "SECP256R1":
		*c = P256
	case "P-384", "P384", "SECP384R1":
		*c = P384
	default:
		return unknownValue(string(b), []string{"P-256", "P-384"})
	}
	return nil
}

// Hash is the signature hash algorithm.
type Hash string

const (
	SHA256 Hash = "sha256"
	SHA384 Hash = "sha384"
	SHA512 Hash = "sha512"
)

func (h *Hash) UnmarshalText(b []byte) error {
	switch Hash(strings.ToLower(string(b))) {
	case SHA256, SHA384, SHA512:
		*h = Hash(strings.ToLower(string(b)))
		return nil
	case "sha1", "md5":
		return fmt.Errorf("%s is not allowed: it is broken for signatures; use sha256", b)
	}
	return unknownValue(string(b), []string{"sha256", "sha384", "sha512"})
}

// SignatureAlgorithm is the x509 algorithm for a CA key of the given type.
func (h Hash) SignatureAlgorithm(caKey KeyType) x509.SignatureAlgorithm {
	switch caKey {
	case ECDSA:
		switch h {
		case SHA384:
			return x509.ECDSAWithSHA384
		case SHA512:
			return x509.ECDSAWithSHA512
		}
		return x509.ECDSAWithSHA256
	default:
		switch h {
		case SHA384:
			return x509.SHA384WithRSA
		case SHA512:
			return x509.SHA512WithRSA
		}
		return x509.SHA256WithRSA
	}
}

// Name is the hash as people write it: "SHA-384".
func (h Hash) Name() string { return "SHA-" + strings.TrimPrefix(string(h), "sha") }

// HashOf names the hash of a certificate's signature algorithm, or "" when
// it is none certmint allows.
func HashOf(alg x509.SignatureAlgorithm) Hash {
	switch alg {
	case x509.SHA256WithRSA, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		return SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return SHA512
	}
	return ""
}

// SubjectField is a distinguished-name attribute a template can require.
type SubjectField string

var subjectFields = []SubjectField{"CN", "C", "ST", "L", "O", "OU"}

func (f *SubjectField) UnmarshalText(b []byte) error {
	s := strings.ToUpper(string(b))
	for _, k := range subjectFields {
		if string(k) == s {
			*f = k
			return nil
		}
	}
	names := make([]string, len(subjectFields))
	for i, k := range subjectFields {
		names[i] = string(k)
	}
	return unknownValue(string(b), names)
}

// CNForm says what the common name must look like.
type CNForm string

const (
	// CNAny: any text (SafeQ's -Subject "YSoft SafeQ", a code-signing name).
	CNAny CNForm = "any"
	// CNDNS: a DNS name, or a wildcard where the template allows it.
	CNDNS CNForm = "dns"
	// CNFQDN: a DNS name with at least two labels (W701.ACME.LOCAL).
	CNFQDN CNForm = "fqdn"
	// CNHostname: a host name as `hostname` prints it: one label (W701) or
	// dotted (MAC01.local); letters, digits and hyphens; case preserved.
	CNHostname CNForm = "hostname"
)

func (c *CNForm) UnmarshalText(b []byte) error {
	switch CNForm(b) {
	case CNAny, CNDNS, CNFQDN, CNHostname:
		*c = CNForm(b)
		return nil
	}
	return unknownValue(string(b), []string{"any", "dns", "fqdn", "hostname"})
}

// Format is one file of a bundle.
type Format string

const (
	FormatCRT   Format = "crt"   // BASE.crt, PEM leaf
	FormatKey   Format = "key"   // BASE.key, PEM PKCS#8
	FormatPFX   Format = "pfx"   // BASE.pfx, PKCS#12 with key, leaf and chain
	FormatChain Format = "chain" // BASE-chain.pem, issuing CA then root
	FormatCER   Format = "cer"   // <ca-slug>.cer, one base64 CA certificate per file
	FormatNote  Format = "note"  // BASE-install.txt, the install commands for the device
)

// AllFormats lists every format in the order files are written and shown.
var AllFormats = []Format{FormatCRT, FormatKey, FormatPFX, FormatChain, FormatCER, FormatNote,
	FormatInstallWindows, FormatInstallMacOS, FormatInstallLinux, FormatMobileconfig}

func (f *Format) UnmarshalText(b []byte) error {
	for _, k := range AllFormats {
		if string(k) == string(b) {
			*f = k
			return nil
		}
	}
	names := make([]string, len(AllFormats))
	for i, k := range AllFormats {
		names[i] = string(k)
	}
	return unknownValue(string(b), names)
}

// ParseFormats parses a comma-separated --format list.
func ParseFormats(s string) ([]Format, error) {
	var out []Format
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		var f Format
		if err := f.UnmarshalText([]byte(p)); err != nil {
			return nil, fmt.Errorf("format %w", err)
		}
		if slices.Contains(out, f) {
			return nil, fmt.Errorf("format %q is listed twice", f)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no format given")
	}
	return out, nil
}

// PFXEncryption picks the PKCS#12 algorithms.
type PFXEncryption string

const (
	// PFXModern: AES-256-CBC with PBKDF2 and a SHA-256 MAC (OpenSSL 3 default).
	PFXModern PFXEncryption = "modern"
	// PFXLegacy: 3DES with a SHA-1 MAC, which macOS `security import` and
	// Windows before 1709 / Server 2016 need.
	PFXLegacy PFXEncryption = "legacy"
)

func (p *PFXEncryption) UnmarshalText(b []byte) error {
	switch PFXEncryption(b) {
	case PFXModern, PFXLegacy:
		*p = PFXEncryption(b)
		return nil
	}
	return unknownValue(string(b), []string{"legacy", "modern"})
}

// NoteKind selects the install note written with the "note" format.
type NoteKind string

// NoteMacOS1E: the `security add-trusted-cert` and `security import ... -T
// '/Library/Application Support/1E/Client/1E.Client'` commands of 002.
const NoteMacOS1E NoteKind = "macos-1e"

func (n *NoteKind) UnmarshalText(b []byte) error {
	switch NoteKind(b) {
	case NoteMacOS1E:
		*n = NoteKind(b)
		return nil
	}
	return unknownValue(string(b), []string{string(NoteMacOS1E)})
}

// Issuer says who signs.
type Issuer string

const (
	IssuerIssuing Issuer = "issuing" // the issuing CA of the home
	IssuerSelf    Issuer = "self"    // self-signed (SafeQ's script behaviour)
)

func (i *Issuer) UnmarshalText(b []byte) error {
	switch Issuer(b) {
	case IssuerIssuing, IssuerSelf:
		*i = Issuer(b)
		return nil
	}
	return unknownValue(string(b), []string{"issuing", "self"})
}

// Duration is a time span written as Go durations plus days and weeks:
// "1h", "90m", "7d", "2w", "1d12h".
type Duration time.Duration

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// ParseDuration parses "30d", "2w", "1d12h" and every time.ParseDuration form.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	for _, unit := range []struct {
		suffix string
		d      time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}} {
		if i := strings.Index(s, unit.suffix); i > 0 {
			n, err := strconv.Atoi(s[:i])
			// Refuse what overflows: a wrapped, negative backdate would
			// slip past validation and put notBefore in the future.
			if err != nil || n < 0 || n > int(math.MaxInt64/unit.d) || total > math.MaxInt64-time.Duration(n)*unit.d {
				return 0, fmt.Errorf("invalid duration %q: use forms like 1h, 30m, 7d, 2w", orig)
			}
			total += time.Duration(n) * unit.d
			s = s[i+1:]
		}
	}
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || total > math.MaxInt64-d {
			return 0, fmt.Errorf("invalid duration %q: use forms like 1h, 30m, 7d, 2w", orig)
		}
		total += d
	}
	return total, nil
}

// FormatDuration writes d the way ParseDuration reads it, in days when whole.
func FormatDuration(d time.Duration) string {
	if d != 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func unknownValue(got string, valid []string) error {
	sort.Strings(valid)
	if s := closestName(got, valid); s != "" {
		return fmt.Errorf("unknown value %q (did you mean %q?)", got, s)
	}
	return fmt.Errorf("unknown value %q (valid: %s)", got, strings.Join(valid, ", "))
}

func keysOf[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	return out
}

// suggest returns the valid name closest to got when it is a likely typo:
// at most one edit per three characters.
func closestName(got string, valid []string) string {
	return suggest.Closest(got, valid, max(1, len(got)/3))
}

// SignatureAlgorithm is a certificate signature algorithm, named as
// crypto/x509 prints it ("SHA256-RSA", "SHA256-RSAPSS", "ECDSA-SHA384").
type SignatureAlgorithm string

// signatureAlgorithms are the names a template may list: the algorithms
// with a hash certmint allows.
var signatureAlgorithms = map[SignatureAlgorithm]x509.SignatureAlgorithm{
	"SHA256-RSA": x509.SHA256WithRSA, "SHA384-RSA": x509.SHA384WithRSA, "SHA512-RSA": x509.SHA512WithRSA,
	"SHA256-RSAPSS": x509.SHA256WithRSAPSS, "SHA384-RSAPSS": x509.SHA384WithRSAPSS, "SHA512-RSAPSS": x509.SHA512WithRSAPSS,
	"ECDSA-SHA256": x509.ECDSAWithSHA256, "ECDSA-SHA384": x509.ECDSAWithSHA384, "ECDSA-SHA512": x509.ECDSAWithSHA512,
}

func (a *SignatureAlgorithm) UnmarshalText(b []byte) error {
	s := SignatureAlgorithm(strings.ToUpper(string(b)))
	if _, ok := signatureAlgorithms[s]; !ok {
		return unknownValue(string(b), keysOf(signatureAlgorithms))
	}
	*a = s
	return nil
}

// X509 returns the algorithm for the name.
func (a SignatureAlgorithm) X509() x509.SignatureAlgorithm { return signatureAlgorithms[a] }

// KeyType is the type of key that makes such signatures.
func (a SignatureAlgorithm) KeyType() KeyType {
	if strings.HasPrefix(string(a), "ECDSA") {
		return ECDSA
	}
	return RSA
}

// Appliance names a device whose own validation messages check can print.
type Appliance string

// DefenderIoT: Microsoft Defender for IoT sensors and management consoles
// (004, "Troubleshoot CA-Certificate Upload").
const DefenderIoT Appliance = "defender-iot"

// Name is the appliance as its vendor names it.
func (a Appliance) Name() string {
	switch a {
	case DefenderIoT:
		return "Defender for IoT"
	}
	return string(a)
}

func (a *Appliance) UnmarshalText(b []byte) error {
	switch Appliance(b) {
	case DefenderIoT:
		*a = Appliance(b)
		return nil
	}
	return unknownValue(string(b), []string{string(DefenderIoT)})
}
