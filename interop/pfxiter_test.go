package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	certbundle "github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// TestConvertPFXIterations: `certmint convert --to pfx` writes both flavours
// with the counts of bundle/iterations.go, and OpenSSL 3 (-info, and
// -legacy -info for the legacy file) and keytool open each; `certmint
// inspect` shows the MAC and KDF counts.
func TestConvertPFXIterations(t *testing.T) {
	testkit.RequireTool(t, "openssl")
	testkit.RequireTool(t, "keytool")
	b := ready(t, clientEverySAN, "client with a SAN of every kind")
	if !b.has(templates.FormatKey) || !b.has(templates.FormatCRT) || !b.has(templates.FormatChain) {
		t.Fatalf("%s: no .crt and .key to convert", b.Name)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		iterations int
		info       []string // lines of openssl pkcs12 -info
	}{
		{"modern", nil, certbundle.ModernPFXIterations,
			[]string{"MAC: sha256, Iteration %d", "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration %d", "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration %d"}},
		{"legacy", []string{"--legacy"}, certbundle.LegacyPFXIterations,
			[]string{"MAC: sha1, Iteration %d", "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration %d", "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration %d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pfx := filepath.Join(t.TempDir(), tc.name+".pfx")
			args := append([]string{"convert", "--in", b.crt(), "--key", b.key(), "--chain", b.chain(), "--to", "pfx", "--out", pfx}, tc.args...)
			if r := runCertmint(mainCA.Home, args...); r.Code != 0 {
				t.Fatalf("certmint convert failed:\n%s", r)
			}
			pass := "pass:" + bundlePassword
			variants := [][]string{{"pkcs12", "-info", "-in", pfx, "-passin", pass, "-noout"}}
			if tc.name == "legacy" {
				variants = append(variants, []string{"pkcs12", "-legacy", "-info", "-in", pfx, "-passin", pass, "-noout"})
			}
			for _, v := range variants {
				r := mustTool(t, tc.name, "openssl", v...)
				info := r.Stdout + r.Stderr
				for _, w := range tc.info {
					if w := fmt.Sprintf(w, tc.iterations); !strings.Contains(info, w) {
						t.Errorf("openssl %s does not show %q:\n%s", strings.Join(v[:2], " "), w, r)
					}
				}
			}
			r := mustTool(t, tc.name, "keytool", "-list", "-storetype", "PKCS12", "-keystore", pfx, "-storepass", bundlePassword)
			if !strings.Contains(r.Stdout, "Your keystore contains 1 entry") || !strings.Contains(r.Stdout, "PrivateKeyEntry") {
				t.Errorf("keytool -list does not show one private-key entry:\n%s", r)
			}
			r = runCertmint(mainCA.Home, "inspect", pfx)
			if r.Code != 0 {
				t.Fatalf("certmint inspect failed:\n%s", r)
			}
			for _, w := range []string{fmt.Sprintf("MAC:                  %s, %d iterations", map[string]string{"modern": "SHA-256", "legacy": "SHA-1"}[tc.name], tc.iterations),
				fmt.Sprintf("Key bag:              %s, %d iterations", map[string]string{"modern": "PBES2 (PBKDF2, hmacWithSHA256, AES-256-CBC)", "legacy": "pbeWithSHA1And3-KeyTripleDES-CBC"}[tc.name], tc.iterations)} {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("certmint inspect does not show %q:\n%s", w, r)
				}
			}
		})
	}
}
