package bundle

import (
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/templates"
)

// The installers are a fixed script body (scripts/*, embedded) and a
// block of values certmint writes at issue time. Every value that comes
// from outside (a CN, a CA's name, a file name) appears only there, as one
// quoted literal of the script's language, so no name can add code to a
// script; the bodies never build code from values.
var (
	//go:embed scripts/install-windows.ps1
	windowsBody string
	//go:embed scripts/install-macos.sh
	macOSBody string
	//go:embed scripts/install-linux.sh
	linuxBody string
)

// modeScript: the scripts hold no secret; executable, so ./NAME.sh runs.
const modeScript fs.FileMode = 0o755

// InstallerName returns the file an installer format writes for base, or
// "" for a format that is not an installer.
func InstallerName(f templates.Format, base string) string {
	switch f {
	case templates.FormatInstallWindows:
		return base + "-install.ps1"
	case templates.FormatInstallMacOS:
		return base + "-install-macos.sh"
	case templates.FormatInstallLinux:
		return base + "-install-linux.sh"
	case templates.FormatMobileconfig:
		return base + ".mobileconfig"
	}
	return ""
}

// SignedProfileName is the signed variant of BASE.mobileconfig.
func SignedProfileName(base string) string { return base + ".signed.mobileconfig" }

// Thumbprint is the SHA-1 hash of a certificate in upper-case hex, as
// Windows shows it (Thumbprint) and macOS `security` prints it ("SHA-1
// hash:"). SHA-1 here names a certificate; it protects nothing.
func Thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// installer builds the file of one installer format.
func installer(f templates.Format, o Options, path func(string) string) ([]fsutil.File, error) {
	name := InstallerName(f, o.Base)
	switch f {
	case templates.FormatInstallWindows:
		return []fsutil.File{{Path: path(name), Data: windowsScript(o, name), Mode: fsutil.ModePublic}}, nil
	case templates.FormatInstallMacOS:
		return []fsutil.File{{Path: path(name), Data: macOSScript(o, name), Mode: modeScript}}, nil
	case templates.FormatInstallLinux:
		return []fsutil.File{{Path: path(name), Data: linuxScript(o, name), Mode: modeScript}}, nil
	case templates.FormatMobileconfig:
		return mobileconfigFiles(o, path)
	}
	return nil, fmt.Errorf("bundle: %q is not an installer", f)
}

// caRoles splits the chain into its roots (self-issued) and the CAs
// between them and the leaf, roots first: a device trusts the anchor
// before it is given what chains to it.
func caRoles(chain []CA) (roots, intermediates []CA) {
	for _, ca := range chain {
		if string(ca.Cert.RawIssuer) == string(ca.Cert.RawSubject) {
			roots = append(roots, ca)
		} else {
			intermediates = append(intermediates, ca)
		}
	}
	return roots, intermediates
}

// exampleName is a file name as it may appear in a script's usage comment:
// a name of plain characters, or a placeholder. Names reach comments only
// through here (the values block quotes everything else).
var plainName = regexp.MustCompile(`^[A-Za-z0-9._ -]+$`)

func exampleName(name, placeholder string) string {
	if plainName.MatchString(name) {
		return name
	}
	return placeholder
}

// shExample is exampleName for a shell command line: quoted when it holds
// a space.
func shExample(name, placeholder string) string {
	if n := exampleName(name, placeholder); n != placeholder && strings.Contains(n, " ") {
		return shq(n)
	}
	return exampleName(name, placeholder)
}

// fill puts the values block and the script's own name into a body.
func fill(body, values, script string) string {
	body = strings.Replace(body, "@@VALUES@@", values, 1)
	return strings.ReplaceAll(body, "@@SCRIPT@@", script)
}

// psQuote writes s as a PowerShell single-quoted string, in which nothing
// is expanded. PowerShell also ends such a string at the typographic
// single quotes U+2018, U+2019, U+201A and U+201B, so each of them is
// doubled like the ASCII quote (as its own
// CodeGeneration.EscapeSingleQuotedStringContent does).
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// windowsScript is BASE-install.ps1, written with a UTF-8 byte order mark:
// Windows PowerShell 5.1 reads a script without one in the ANSI code page,
// which would garble a name such as "Zoë".
func windowsScript(o Options, name string) []byte {
	roots, intermediates := caRoles(o.Chain)
	var v strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&v, format+"\n", args...) }
	w("# Written by certmint when the certificate was issued: serial %X, valid until %s.", o.Leaf.SerialNumber, o.Leaf.NotAfter.UTC().Format("2006-01-02"))
	w("# Thumbprints are the SHA-1 hashes of the certificates, as Windows shows them.")
	w("$Pfx = @{")
	w("    Name       = %s", psQuote(o.Leaf.Subject.CommonName))
	w("    File       = %s", psQuote(o.pfxName()))
	w("    Thumbprint = %s", psQuote(Thumbprint(o.Leaf.Raw)))
	w("}")
	w("$CAs = @(")
	for _, ca := range roots {
		w("    @{ Role = 'root CA'; Store = 'Root'; Name = %s; File = %s; Thumbprint = %s }",
			psQuote(ca.Cert.Subject.CommonName), psQuote(ca.Slug+".cer"), psQuote(Thumbprint(ca.Cert.Raw)))
	}
	for _, ca := range intermediates {
		w("    @{ Role = 'issuing CA'; Store = 'CA'; Name = %s; File = %s; Thumbprint = %s }",
			psQuote(ca.Cert.Subject.CommonName), psQuote(ca.Slug+".cer"), psQuote(Thumbprint(ca.Cert.Raw)))
	}
	w(")")
	script := fill(windowsBody, strings.TrimSuffix(v.String(), "\n"), exampleName(name, "<this script>.ps1"))
	return append([]byte("\uFEFF"), script...)
}

// shValuesDirective tells shellcheck that what its quoting lints find in
// a quoted name is meant literally: a "$" or a backquote (SC2016), a
// typographic quote (SC1112), a backslash before a quote (SC1003). It
// covers the values block only: the script's own code is checked in full.
const shValuesDirective = "# shellcheck disable=SC2016,SC1112,SC1003 # names are single-quoted literals: nothing in them is expanded"

// shArray writes a bash array of quoted words.
func shArray(name string, words []string) string {
	q := make([]string, len(words))
	for i, s := range words {
		q[i] = shq(s)
	}
	return name + "=(" + strings.Join(q, " ") + ")"
}

// macOSScript is BASE-install-macos.sh (bash 3.2, as macOS ships it).
func macOSScript(o Options, name string) []byte {
	roots, intermediates := caRoles(o.Chain)
	var roles, names, files, sums, isRoot []string
	for _, ca := range append(roots, intermediates...) {
		role, root := "issuing CA", "0"
		if string(ca.Cert.RawIssuer) == string(ca.Cert.RawSubject) {
			role, root = "root CA", "1"
		}
		roles, isRoot = append(roles, role), append(isRoot, root)
		names = append(names, ca.Cert.Subject.CommonName)
		files = append(files, ca.Slug+".cer")
		sums = append(sums, Thumbprint(ca.Cert.Raw))
	}
	var v strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&v, format+"\n", args...) }
	w("# Written by certmint when the certificate was issued: serial %X, valid until %s.", o.Leaf.SerialNumber, o.Leaf.NotAfter.UTC().Format("2006-01-02"))
	w("%s", shValuesDirective)
	w("{")
	w("  CN=%s", shq(o.Leaf.Subject.CommonName))
	w("  PFX_FILE=%s", shq(o.pfxName()))
	w("  PFX_SHA1=%s", shq(Thumbprint(o.Leaf.Raw)))
	w("  %s", shArray("CA_ROLES", roles))
	w("  %s", shArray("CA_ROOT", isRoot))
	w("  %s", shArray("CA_NAMES", names))
	w("  %s", shArray("CA_FILES", files))
	w("  %s", shArray("CA_SHA1", sums))
	w("}")
	return []byte(fill(macOSBody, strings.TrimSuffix(v.String(), "\n"), shExample(name, "<this script>")))
}

// linuxScript is BASE-install-linux.sh (POSIX sh).
func linuxScript(o Options, name string) []byte {
	var v strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&v, format+"\n", args...) }
	w("# Written by certmint when the certificate was issued: serial %X, valid until %s.", o.Leaf.SerialNumber, o.Leaf.NotAfter.UTC().Format("2006-01-02"))
	w("%s", shValuesDirective)
	w("{")
	w("  CN=%s", shq(o.Leaf.Subject.CommonName))
	w("  PFX_FILE=%s", shq(o.pfxName()))
	w("}")
	body := strings.ReplaceAll(linuxBody, "@@PFX@@", exampleName(o.pfxName(), "the bundle's .pfx"))
	return []byte(fill(body, strings.TrimSuffix(v.String(), "\n"), shExample(name, "<this script>")))
}
