package ca

import (
	"path/filepath"
	"slices"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/templates"
)

// checkInstallers refuses what the installer formats cannot do with the
// request, before any key is made: formats are the request's, with the
// files the installers imply.
func checkInstallers(req IssueRequest, formats []templates.Format) error {
	profile := slices.Contains(formats, templates.FormatMobileconfig)
	// The script imports BASE.pfx as written, and macOS `security import`
	// reads only a legacy (3DES) one; the profile carries its own legacy
	// copy, so it needs nothing here.
	if slices.Contains(formats, templates.FormatInstallMacOS) && req.pfxEncryption() != templates.PFXLegacy {
		return &UsageError{Msg: input.PlainText("install-macos imports the .pfx with `security import`, which reads only a legacy (3DES) .pfx, and this one is modern"),
			Hint: input.Textf("add %s, or use the 1e-client-macos template", input.Val(input.PFX, templates.PFXLegacy))}
	}
	if req.ProfileSigner != nil && !profile {
		return &UsageError{Msg: input.Textf("%s signs the configuration profile, which this bundle does not have", input.Of(input.SignProfile)),
			Hint: input.Textf("add mobileconfig to %s", input.Of(input.Format))}
	}
	if req.ProfilePassword && !profile {
		return &UsageError{Msg: input.Textf("%s puts the password in the configuration profile, which this bundle does not have", input.Of(input.ProfilePassword)),
			Hint: input.Textf("add mobileconfig to %s", input.Of(input.Format))}
	}
	if req.renewing != nil && profile && req.ProfileSigner == nil && hadSignedProfile(req.renewing) {
		return &UsageError{Msg: input.Textf("the bundle of %s has a signed configuration profile, and a renewal without a signing certificate would leave the old one beside the new certificate", req.renewing.SerialHex()),
			Hint: input.Textf("give %s to sign the renewed profile", input.Val(input.SignProfile, "CERT,KEY"))}
	}
	return nil
}

// hadSignedProfile reports whether a certificate's bundle included
// BASE.signed.mobileconfig.
func hadSignedProfile(r *Record) bool {
	if r.Meta.Base == "" {
		return false
	}
	signed := bundle.SignedProfileName(r.Meta.Base)
	return slices.ContainsFunc(r.Meta.Files, func(f string) bool { return filepath.Base(f) == signed })
}

// installerNames are the files an installer format writes in the plan's
// folder (without it).
func installerNames(p *plan, f templates.Format) []string {
	name := bundle.InstallerName(f, p.base)
	if name == "" {
		return nil
	}
	names := []string{name}
	if f == templates.FormatMobileconfig && p.req.ProfileSigner != nil {
		names = append(names, bundle.SignedProfileName(p.base))
	}
	return names
}
