package interop

import (
	"fmt"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// TestKeytool: Java's keytool opens every .pfx as a PKCS12 keystore with one
// private-key entry, named after the friendlyName, whose chain reaches the
// root (leaf, issuing CA, root).
func TestKeytool(t *testing.T) {
	testkit.RequireTool(t, "keytool")
	forEachPFX(t, func(t *testing.T, tmpl *templates.Template, b *bundle) {
		ctx := fmt.Sprintf("template %s (pfx_encryption = %q)", tmpl.Name, tmpl.Output.PFXEncryption)
		r := mustTool(t, ctx, "keytool", "-list", "-v", "-storetype", "PKCS12", "-keystore", b.pfx(), "-storepass", bundlePassword)
		out := r.Stdout
		for _, want := range []string{
			"Your keystore contains 1 entry",
			"Entry type: PrivateKeyEntry",
			"Certificate chain length: 3",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: keytool -list -v does not say %q:\n%s", ctx, want, r)
			}
		}
		leaf := mustReadCert(t, b.crt())
		if alias, _ := field(out, "Alias name:"); !strings.EqualFold(alias, leaf.Subject.CommonName) {
			t.Errorf("%s: keytool alias %q, want the friendlyName %q (any case)", ctx, alias, leaf.Subject.CommonName)
		}
		if n := strings.Count(out, "Certificate["); n != 3 {
			t.Errorf("%s: keytool lists %d certificates in the chain, want 3", ctx, n)
		}
		// The chain in order: leaf, issuing CA, root.
		var owners []string
		for _, l := range strings.Split(out, "\n") {
			if o, ok := strings.CutPrefix(strings.TrimSpace(l), "Owner:"); ok {
				owners = append(owners, strings.TrimSpace(o))
			}
		}
		want := []string{leaf.Subject.CommonName, mainCA.Issuing.Cert.Subject.CommonName, mainCA.Root.Cert.Subject.CommonName}
		if len(owners) != len(want) {
			t.Errorf("%s: keytool lists the owners %q, want CN=%q", ctx, owners, want)
		} else {
			for i := range want {
				if !strings.HasPrefix(owners[i], "CN="+want[i]+",") && owners[i] != "CN="+want[i] {
					t.Errorf("%s: keytool's certificate %d is %q, want CN=%s", ctx, i+1, owners[i], want[i])
				}
			}
		}
	})
}
