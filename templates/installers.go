package templates

import "slices"

// The installer formats: a script or a profile that puts a bundle on a
// device. They are conveniences, never a vendor's requirement, so the
// built-in templates offer them in output.optional rather than write them
// by default.
const (
	// FormatInstallWindows: BASE-install.ps1, for Windows PowerShell 5.1
	// and PowerShell 7: the .pfx into Cert:\LocalMachine\My, the root CA
	// into Root and the issuing CA into CA.
	FormatInstallWindows Format = "install-windows"
	// FormatInstallMacOS: BASE-install-macos.sh, the `security
	// add-trusted-cert` and `security import ... -T` commands of 1E Client
	// for macOS.
	FormatInstallMacOS Format = "install-macos"
	// FormatInstallLinux: BASE-install-linux.sh, which puts the .pfx in
	// the folder a non-Windows 1E Client reads it from.
	FormatInstallLinux Format = "install-linux"
	// FormatMobileconfig: BASE.mobileconfig, an Apple configuration
	// profile holding the identity and the CA certificates, for an MDM
	// (and BASE.signed.mobileconfig when a signing certificate is given).
	FormatMobileconfig Format = "mobileconfig"
)

// Installer reports whether f is one of the installer formats.
func (f Format) Installer() bool {
	switch f {
	case FormatInstallWindows, FormatInstallMacOS, FormatInstallLinux, FormatMobileconfig:
		return true
	}
	return false
}

// Implies lists the bundle files an installer refers to: a script imports
// files that lie next to it, so asking for the script writes them too
// (the .pfx, and the CA's .cer files for the scripts that trust the CAs).
// The profile carries everything inside itself and implies nothing.
func (f Format) Implies() []Format {
	switch f {
	case FormatInstallWindows, FormatInstallMacOS:
		return []Format{FormatPFX, FormatCER}
	case FormatInstallLinux:
		return []Format{FormatPFX}
	}
	return nil
}

// NeedsKey reports whether the format holds the private key, or implies
// a file that does: such files cannot be written for a signed CSR, whose
// key stays with the requester.
func (f Format) NeedsKey() bool {
	switch f {
	case FormatKey, FormatPFX, FormatMobileconfig:
		return true
	}
	return slices.Contains(f.Implies(), FormatPFX)
}

// WithImplied returns formats followed by the formats they imply that are
// not already listed, each once, in the order of AllFormats.
func WithImplied(formats []Format) []Format {
	out := slices.Clone(formats)
	for _, f := range AllFormats {
		if slices.Contains(out, f) {
			continue
		}
		for _, g := range formats {
			if slices.Contains(g.Implies(), f) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// validateInstallers checks output.optional and what the installers of
// the template need.
func (t *Template) validateInstallers(bad func(key, format string, args ...any)) {
	o := t.Output
	if d := duplicate(o.Optional); d != "" {
		bad("output.optional", "%q is listed twice", d)
	}
	for _, f := range o.Optional {
		if t.HasFormat(f) {
			bad("output.optional", "%q is already in output.formats; list it in one of the two", f)
		}
	}
	if _, ok := t.Cite["output.optional"]; ok {
		bad("cite.output.optional", "the optional formats are offered, not required; explain them in [advice], or move the format to output.required")
	}
	// macOS `security import` reads only 3DES PKCS#12 (LIBRARIES.md: the
	// AES/PBES2 files OpenSSL 3 makes are refused), and the script imports
	// the bundle's .pfx as written.
	if (t.HasFormat(FormatInstallMacOS) || slices.Contains(o.Optional, FormatInstallMacOS)) && o.PFXEncryption != PFXLegacy {
		bad("output.pfx_encryption", "install-macos imports the .pfx with `security import`, which reads only a legacy (3DES) .pfx; set pfx_encryption = \"legacy\" or drop install-macos")
	}
}
