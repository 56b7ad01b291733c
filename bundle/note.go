package bundle

import (
	"fmt"
	"strings"

	"github.com/certmint/certmint/templates"
)

// note writes the install note of a bundle: the commands an administrator
// types on the device, filled in with the real file names.
func note(kind templates.NoteKind, o Options, pfxName string) (string, error) {
	switch kind {
	case templates.NoteMacOS1E:
		return macOS1ENote(o, pfxName), nil
	}
	return "", fmt.Errorf("bundle: unknown install note %q", kind)
}

// shq quotes a word for the shell: file names may hold spaces.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// macOS1ENote follows 1E Client for macOS, Client certificates (Key Store method):
// CA certificates one per .cer file, the root trusted with
// `security add-trusted-cert -d -r trustRoot`, the identity imported with
// `security import ... -t agg -f pkcs12 -T '/Library/Application Support/1E/Client/1E.Client'`.
func macOS1ENote(o Options, pfxName string) string {
	cn := o.Leaf.Subject.CommonName
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("1E Client for macOS: installing the certificate of %s", cn)
	w("")
	w("Certificate: CN=%s, serial %X, valid until %s.", cn, o.Leaf.SerialNumber, o.Leaf.NotAfter.UTC().Format("2006-01-02"))
	w("Copy these files to the Mac (for example with scp), into one folder, and run the commands there:")
	w("  %-28s the client certificate, its private key and the CA chain (PKCS#12, 3DES/SHA-1 as `security import` needs)", pfxName)
	var root, intermediates []CA
	for _, ca := range o.Chain {
		if string(ca.Cert.RawIssuer) == string(ca.Cert.RawSubject) {
			root = append(root, ca)
		} else {
			intermediates = append(intermediates, ca)
		}
	}
	for _, ca := range root {
		w("  %-28s root CA: %s", ca.Slug+".cer", ca.Cert.Subject.CommonName)
	}
	for _, ca := range intermediates {
		w("  %-28s issuing CA: %s", ca.Slug+".cer", ca.Cert.Subject.CommonName)
	}
	w("")
	w("1. Trust the root CA in the System keychain:")
	for _, ca := range root {
		w("   sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s", shq(ca.Slug+".cer"))
	}
	if len(intermediates) > 0 {
		w("")
		w("2. Add the issuing CA (trusted through the root). Each CA has its own .cer file because Keychain")
		w("   Access imports only the last certificate of a bundle:")
		for _, ca := range intermediates {
			w("   sudo security add-certificates -k /Library/Keychains/System.keychain %s", shq(ca.Slug+".cer"))
		}
	}
	pw := "'<the .pfx password>'"
	if o.WritePassword {
		pw = fmt.Sprintf(`"$(cat %s)"`, shq(o.Base+".password"))
	}
	w("")
	w("3. Import the certificate and its private key into the System keychain, allowing the 1E Client to use the key:")
	w("   sudo security import %s -k /Library/Keychains/System.keychain -t agg -f pkcs12 -P %s -T '/Library/Application Support/1E/Client/1E.Client'", shq(pfxName), pw)
	w("")
	w("4. Check that the identity is there:")
	w("   security find-identity -v /Library/Keychains/System.keychain | grep -F %s", shq(cn))
	w("")
	w("After upgrading the 1E Client, run step 3 again: the new version is not granted access to the key")
	w("(or import with -A instead of -T, which Apple does not recommend).")
	w("The certificate's subject must be the Mac's host name exactly, case included: System Settings > Sharing")
	w("shows it under \"Computers on your local network can access your computer at\".")
	return b.String()
}

// noteName is the file name of the install note.
func noteName(base string) string { return base + "-install.txt" }
