package main

import (
	"errors"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/secret"
)

// Flags of the installer formats (issue, renew).
var (
	signProfileFlag = &cli.StringFlag{
		Name: "sign-profile",
		Usage: "sign the mobileconfig format's profile with a certificate and its key, `CERT,KEY` (PEM; the certificates after " +
			"the first in CERT are its chain), into BASE.signed.mobileconfig as well; an encrypted key's password comes from " +
			"CERTMINT_SIGN_PROFILE_PASSWORD or a prompt",
	}
	profilePasswordFlag = &cli.BoolFlag{
		Name: "profile-password",
		Usage: "put the .pfx password in the mobileconfig profile, for an MDM that installs it without asking " +
			"(default: left out, as Apple recommends; the device asks for it)",
	}
)

// installerOptions reads --sign-profile and --profile-password into req,
// before the CA is opened: a bad signing certificate is refused before
// any other password is asked for.
func installerOptions(c *cli.Context, req *ca.IssueRequest) error {
	if c.IsSet(profilePasswordFlag.Name) {
		req.ProfilePassword = c.Bool(profilePasswordFlag.Name)
	}
	if !c.IsSet(signProfileFlag.Name) {
		return nil
	}
	certPath, keyPath, ok := strings.Cut(c.String(signProfileFlag.Name), ",")
	if !ok || certPath == "" || keyPath == "" || strings.Contains(keyPath, ",") {
		return usageHint("--sign-profile signer.crt,signer.key (paths without commas)", "--sign-profile takes the certificate and the key, separated by a comma")
	}
	for _, p := range []string{certPath, keyPath} {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			return usageHint("--sign-profile signer.crt,signer.key", "--sign-profile: %s is not a file", p)
		}
	}
	o := output(c)
	pw := secret.Source{
		What: "password of the profile signing key",
		Env:  "CERTMINT_SIGN_PROFILE_PASSWORD",
		Warn: func(m string) { o.warnf("%s", m) },
	}
	s, err := bundle.LoadProfileSigner(certPath, keyPath, pw.Resolve, time.Now())
	if err != nil {
		var se *bundle.SignerError
		if errors.As(err, &se) {
			return usageHint(se.Hint, "--sign-profile: %s", se.Msg)
		}
		var me *secret.MissingError
		if errors.As(err, &me) {
			return err
		}
		return usageHint("give a PEM certificate and its PEM private key: --sign-profile signer.crt,signer.key", "--sign-profile: %v", err)
	}
	req.ProfileSigner = s
	return nil
}
