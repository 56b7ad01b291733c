package inspect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/textsafe"
)

// TextEntries is how many CRL entries the text output lists; the JSON has
// all of them.
const TextEntries = 20

// WriteJSON writes the report as one indented JSON object, with bidi and
// other invisible characters of the file's strings escaped (\u202e).
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(textsafe.JSON(b), '\n'))
	return err
}

// label is the width of the field names of the text output.
const label = 22

type textWriter struct {
	w   *bufio.Writer
	err error
}

// line writes one line. Text from the file (names, URLs, attributes) is
// quoted where it is added (textsafe.Quote); escaping the whole line again
// is the guard for a value quoted nowhere: nothing from a file reaches the
// terminal as a control, bidi or zero-width character.
func (t *textWriter) line(format string, args ...any) {
	fmt.Fprint(t.w, textsafe.Escape(fmt.Sprintf(format, args...))+"\n")
}

// field writes "  Name:      value", continuing extra values on their own
// lines under the first.
func (t *textWriter) field(indent, name string, values ...string) {
	var nonEmpty []string
	for _, v := range values {
		if v != "" {
			nonEmpty = append(nonEmpty, v)
		}
	}
	if len(nonEmpty) == 0 {
		return
	}
	pad := strings.Repeat(" ", max(1, label-len(name)-1))
	t.line("%s%s:%s%s", indent, name, pad, nonEmpty[0])
	cont := strings.Repeat(" ", len(indent)+max(len(name)+2, label))
	for _, v := range nonEmpty[1:] {
		t.line("%s%s", cont, v)
	}
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	t := &textWriter{w: bufio.NewWriter(w)}
	if r.File != "" {
		t.field("", "File", textsafe.Quote(r.File))
	}
	t.field("", "Contents", r.summary())
	if p := r.PKCS12; p != nil {
		t.line("")
		t.pkcs12(p, r.File)
	}
	if len(r.Certificates) > 1 {
		t.line("")
		t.tree(r.Certificates)
	}
	for _, c := range r.Certificates {
		t.line("")
		t.certificate(c, len(r.Certificates) > 1)
	}
	for _, k := range r.Keys {
		t.line("")
		t.key(k)
	}
	for _, c := range r.CSRs {
		t.line("")
		t.csr(c)
	}
	for _, c := range r.CRLs {
		t.line("")
		t.crl(c)
	}
	if len(r.Warnings) > 0 {
		t.line("")
		for _, w := range r.Warnings {
			t.line("Warning: %s", w)
		}
	}
	return t.w.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (r *Report) summary() string {
	var parts []string
	if n := len(r.Certificates); n > 0 {
		parts = append(parts, plural(n, "certificate", "certificates"))
	}
	if n := len(r.Keys); n > 0 {
		parts = append(parts, plural(n, "private key", "private keys"))
	}
	if n := len(r.CSRs); n > 0 {
		parts = append(parts, plural(n, "certificate request", "certificate requests"))
	}
	if n := len(r.CRLs); n > 0 {
		parts = append(parts, plural(n, "CRL", "CRLs"))
	}
	what := r.Encoding
	if r.PKCS12 != nil {
		what = "PKCS#12 (" + r.Encoding + ")"
	}
	if len(parts) == 0 {
		return what
	}
	return what + ": " + strings.Join(parts, ", ")
}

func (t *textWriter) tree(certs []Certificate) {
	t.line("Chain (each certificate under the one that signed it):")
	var walk func(i int, prefix string, last, root bool)
	walk = func(i int, prefix string, last, root bool) {
		c := certs[i]
		note := ""
		switch {
		case c.SelfSigned:
			note = " (self-signed)"
		case root && c.cutFrom >= 0:
			note = fmt.Sprintf(" (cross-signed: also signed by [%d] below)", certs[c.cutFrom].Index)
		case root:
			note = " (issuer not in the file: " + name(c.Issuer) + ")"
		}
		branch, next := "", prefix
		if !root {
			if last {
				branch, next = "└── ", prefix+"    "
			} else {
				branch, next = "├── ", prefix+"│   "
			}
		}
		t.line("  %s%s[%d] %s%s", prefix, branch, c.Index, name(c.Subject), note)
		for k, child := range c.children {
			walk(child, next, k == len(c.children)-1, false)
		}
	}
	for i, c := range certs {
		if c.parent < 0 {
			walk(i, "", true, true)
		}
	}
}

// name is a distinguished name from a file, quoted when it holds
// anything but printable characters.
func name(s string) string {
	if s == "" {
		return "(empty)"
	}
	return textsafe.Quote(s)
}

func textTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func validityText(v Validity) string {
	switch v.Status {
	case StatusExpired:
		return "EXPIRED " + strings.TrimPrefix(v.Text, "expired ")
	case StatusNotYet:
		return "NOT YET VALID: " + strings.TrimPrefix(v.Text, "not yet valid: ")
	}
	return v.Text
}

// sanLines is one line per kind of name: "DNS: a, b", "IP: ...", then
// "other: ..." for the kinds crypto/x509 does not read.
func sanLines(names, other []string) []string {
	var out []string
	for _, kind := range []string{"DNS", "IP", "email", "URI"} {
		var values []string
		for _, n := range names {
			if k, v, _ := strings.Cut(n, ":"); k == kind {
				values = append(values, v)
			}
		}
		if len(values) > 0 {
			out = append(out, kind+": "+textsafe.Join(values, ", "))
		}
	}
	if len(other) > 0 {
		out = append(out, "other: "+textsafe.Join(other, ", "))
	}
	return out
}

func critical(c bool) string {
	if c {
		return " (critical)"
	}
	return ""
}

func keyUsageText(ku *KeyUsage) string {
	if ku == nil {
		return ""
	}
	return strings.Join(ku.Names, ", ") + critical(ku.Critical)
}

func extKeyUsageText(eku *ExtKeyUsage) string {
	if eku == nil {
		return ""
	}
	return strings.Join(eku.Names, ", ") + critical(eku.Critical)
}

func basicConstraintsText(bc *BasicConstraints) string {
	if bc == nil {
		return ""
	}
	s := "CA:FALSE"
	if bc.CA {
		s = "CA:TRUE"
		if bc.MaxPathLen != nil {
			s += fmt.Sprintf(", pathlen:%d", *bc.MaxPathLen)
		}
	}
	return s + critical(bc.Critical)
}

func publicKeyText(p PublicKey) string {
	switch {
	case p.Curve != "":
		return fmt.Sprintf("%s %s", p.Type, p.Curve)
	case p.Bits > 0 && p.Type != "Ed25519":
		return fmt.Sprintf("%s %d bits", p.Type, p.Bits)
	}
	return p.Type
}

func extensionsText(exts []Extension) string {
	var parts []string
	for _, e := range exts {
		parts = append(parts, e.Name+critical(e.Critical))
	}
	return strings.Join(parts, ", ")
}

func (t *textWriter) certificate(c Certificate, numbered bool) {
	if numbered {
		t.line("Certificate [%d]", c.Index)
	} else {
		t.line("Certificate")
	}
	const in = "  "
	t.field(in, "Subject", name(c.Subject))
	issuer := name(c.Issuer)
	if c.SelfSigned {
		issuer += " (self-signed)"
	} else if c.IssuerIndex != nil {
		issuer += fmt.Sprintf(" (certificate [%d])", *c.IssuerIndex)
	}
	t.field(in, "Issuer", issuer)
	t.field(in, "Serial", c.Serial)
	t.field(in, "Valid from", textTime(c.NotBefore))
	t.field(in, "Valid until", textTime(c.NotAfter)+" ("+validityText(c.Validity)+")")
	t.field(in, "Subject alt. names", sanLines(c.SANs, c.OtherSANs)...)
	t.field(in, "Key usage", keyUsageText(c.KeyUsage))
	t.field(in, "Extended key usage", extKeyUsageText(c.ExtKeyUsage))
	t.field(in, "Basic constraints", basicConstraintsText(c.BasicConstraints))
	t.field(in, "CRL distribution", quoteAll(c.CRLDistributionPoints)...)
	t.field(in, "CA issuers (AIA)", quoteAll(c.CAIssuers)...)
	t.field(in, "OCSP (AIA)", quoteAll(c.OCSP)...)
	t.field(in, "Policies", strings.Join(c.Policies, ", "))
	t.field(in, "Subject key ID", c.SubjectKeyID)
	t.field(in, "Authority key ID", c.AuthorityKeyID)
	t.field(in, "Public key", publicKeyText(c.PublicKey))
	t.field(in, "Public key SHA-256", c.PublicKey.SPKISHA256)
	t.field(in, "Signature algorithm", c.SignatureAlgorithm)
	t.field(in, "SHA-1 fingerprint", c.SHA1Fingerprint)
	t.field(in, "SHA-256 fingerprint", c.SHA256Fingerprint)
	t.field(in, "Other extensions", extensionsText(c.OtherExtensions))
}

func (t *textWriter) key(k Key) {
	t.line("Private key")
	const in = "  "
	t.field(in, "Format", k.Format)
	if k.Encryption != nil {
		t.field(in, "Encryption", k.Encryption.Text)
	} else if !k.Encrypted {
		t.field(in, "Encryption", "none")
	}
	t.field(in, "Key", publicKeyText(k.PublicKey))
	t.field(in, "Public key SHA-256", k.PublicKey.SPKISHA256)
	if k.MatchesCertificate != nil {
		t.field(in, "Matches", fmt.Sprintf("certificate [%d]", *k.MatchesCertificate))
	}
}

func (t *textWriter) csr(c CSR) {
	t.line("Certificate request")
	const in = "  "
	t.field(in, "Subject", name(c.Subject))
	t.field(in, "Subject alt. names", sanLines(c.SANs, c.OtherSANs)...)
	t.field(in, "Public key", publicKeyText(c.PublicKey))
	t.field(in, "Public key SHA-256", c.PublicKey.SPKISHA256)
	t.field(in, "Signature algorithm", c.SignatureAlgorithm)
	if c.SignatureValid {
		t.field(in, "Signature", "valid (the requester holds the private key)")
	} else {
		t.field(in, "Signature", "INVALID: "+textsafe.Quote(c.SignatureError))
	}
	if len(c.RequestedExtensions) == 0 {
		t.field(in, "Requested extensions", "none")
	} else {
		t.field(in, "Requested extensions", extensionsText(c.RequestedExtensions))
	}
	t.field(in, "Key usage", keyUsageText(c.KeyUsage))
	t.field(in, "Extended key usage", extKeyUsageText(c.ExtKeyUsage))
	t.field(in, "Basic constraints", basicConstraintsText(c.BasicConstraints))
}

func (t *textWriter) crl(c CRL) {
	t.line("CRL")
	const in = "  "
	t.field(in, "Issuer", name(c.Issuer))
	t.field(in, "CRL number", orDash(c.Number))
	t.field(in, "This update", textTime(c.ThisUpdate))
	next := "none"
	if c.NextUpdate != "" {
		next = textTime(c.NextUpdate)
	}
	status := c.StatusText
	if c.Status == StatusExpired {
		status = "EXPIRED " + strings.TrimPrefix(status, "expired ")
	}
	t.field(in, "Next update", next+" ("+status+")")
	t.field(in, "Authority key ID", c.AuthorityKeyID)
	t.field(in, "Signature algorithm", c.SignatureAlgorithm)
	t.field(in, "SHA-256 fingerprint", c.SHA256Fingerprint)
	t.field(in, "Revoked", plural(c.Count, "certificate", "certificates"))
	width := 0
	for i, e := range c.Entries {
		if i < TextEntries {
			width = max(width, len(e.Serial))
		}
	}
	for i, e := range c.Entries {
		if i == TextEntries {
			t.line("    ... and %d more (certmint inspect --json lists them all)", len(c.Entries)-TextEntries)
			break
		}
		reason := e.Reason
		if reason == "" {
			reason = "(no reason code)"
		}
		t.line("    %-*s  %s  %s", width, e.Serial, textTime(e.RevokedAt), reason)
	}
}

func orDash(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func yesNo(v Verdict) string {
	if v.OK {
		return "yes (" + v.Reason + ")"
	}
	return "no: " + v.Reason
}

func (t *textWriter) pkcs12(p *PKCS12, file string) {
	t.line("PKCS#12")
	const in = "  "
	mac := "none (integrity is not protected)"
	if p.MAC != nil {
		mac = p.MAC.Text
	}
	t.field(in, "MAC", mac)
	t.field(in, "Certificate bags", p.CertificateEncryption...)
	t.field(in, "Key bag", p.KeyEncryption...)
	if len(p.Bags) == 0 {
		t.field(in, "Bags", "none readable")
	} else {
		t.line("  Bags:")
	}
	for i, b := range p.Bags {
		var parts []string
		if b.Certificate != nil {
			parts = append(parts, fmt.Sprintf("certificate [%d]", *b.Certificate))
		}
		if b.FriendlyName != "" {
			parts = append(parts, fmt.Sprintf("friendlyName %q", b.FriendlyName))
		}
		if b.LocalKeyID != "" {
			parts = append(parts, "localKeyId "+b.LocalKeyID)
		}
		parts = append(parts, quoteAll(b.OtherAttributes)...)
		desc := b.Type
		if len(parts) > 0 {
			desc += ": " + strings.Join(parts, ", ")
		}
		t.line("    %d. %s", i+1, desc)
	}
	c := p.Compatibility
	t.field(in, "macOS Keychain", yesNo(c.MacOSKeychain))
	t.field(in, "Windows before 1709", yesNo(c.WindowsBefore1709))
	if c.OpenSSL3NeedsLegacy {
		t.field(in, "OpenSSL 3", "needs -legacy (openssl pkcs12 -legacy ...): RC2, RC4 and DES are in its legacy provider")
	} else {
		t.field(in, "OpenSSL 3", "reads it without -legacy")
	}
	t.field(in, "Note", c.Notes...)
	if !c.MacOSKeychain.OK || !c.WindowsBefore1709.OK {
		if file == "" {
			file = "FILE"
		}
		t.field(in, "Make a legacy copy", fmt.Sprintf("certmint convert --in %s --to pfx --legacy --out NEW.pfx", shellQuote(file)))
	}
}

// shellQuote quotes a path for a command line shown to the user. A path
// with characters a terminal would act on is written as bash's $'...',
// whose escapes (\x1b, \n, \u202e) are those of textsafe.Quote, so the
// command still names the file when pasted.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+:@") == "" {
		return s
	}
	if q := textsafe.Quote(s); q != s {
		body := strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
		return "$'" + strings.ReplaceAll(body, "'", `\'`) + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quoteAll quotes each string of list that came from a file.
func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = textsafe.Quote(s)
	}
	return out
}
