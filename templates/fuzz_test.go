package templates

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// FuzzParse feeds Parse every built-in and every bad template, mutated.
// Parse must never panic, must fail only with *Error or ErrorList, and a
// template it accepts must be accepted again from its Text().
func FuzzParse(f *testing.F) {
	for _, name := range BuiltinNames() {
		src, err := builtinFS.ReadFile("builtin/" + name + ".toml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.toml"))
	files = append(files, filepath.Join("testdata", "good.toml"))
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		tp, err := Parse("fuzz.toml", src)
		if err != nil {
			var e *Error
			var l ErrorList
			if !errors.As(err, &e) && !errors.As(err, &l) {
				t.Fatalf("Parse error is %T, want *Error or ErrorList: %v", err, err)
			}
			if errors.As(err, &l) && len(l) == 0 {
				t.Fatal("Parse returned an empty ErrorList")
			}
			return
		}
		again, err := Parse("fuzz.toml", tp.Text())
		if err != nil {
			t.Fatalf("Parse accepted the template but not its Text(): %v", err)
		}
		if again.Name != tp.Name {
			t.Fatalf("re-parsed name %q, want %q", again.Name, tp.Name)
		}
		// What an accepted template promises callers.
		if tp.Name == "" || tp.Validity.Days <= 0 || len(tp.Output.Formats) == 0 || len(tp.Usage.KeyUsage) == 0 {
			t.Fatalf("accepted an incomplete template: %+v", tp)
		}
		if bd := time.Duration(tp.Validity.Backdate); bd < 0 || bd > 7*24*time.Hour {
			t.Fatalf("accepted a backdate of %v", bd)
		}
		if tp.Validity.Days > maxValidityDays {
			t.Fatalf("accepted %d days", tp.Validity.Days)
		}
		switch tp.Key.Type {
		case RSA:
			if !slices.Contains(rsaSizes, tp.Key.Bits) || tp.Key.Curve != "" {
				t.Fatalf("accepted RSA bits %d, curve %q", tp.Key.Bits, tp.Key.Curve)
			}
		case ECDSA:
			if tp.Key.Bits != 0 || tp.Key.Curve == "" {
				t.Fatalf("accepted ECDSA bits %d, curve %q", tp.Key.Bits, tp.Key.Curve)
			}
		default:
			t.Fatalf("accepted key type %q", tp.Key.Type)
		}
		for _, ku := range tp.Usage.KeyUsage {
			if ku == "keyCertSign" || ku == "cRLSign" {
				t.Fatalf("accepted CA key usage %q", ku)
			}
		}
		if tp.Key.Encrypt && !tp.HasFormat(FormatKey) {
			t.Fatal("accepted key.encrypt without the key file")
		}
		if tp.Issuer == IssuerSelf && (tp.Revocation.CRLDistributionPoint || tp.Revocation.AIA) {
			t.Fatal("accepted a self-signed template with a CDP or AIA")
		}
		if tp.Example.CN != "" {
			subj, sans := tp.ExampleRequest()
			if errs := tp.CheckRequest(subj, tp.ResolveSANs(subj.CommonName, sans)); len(errs) > 0 {
				t.Fatalf("accepted a template whose example it refuses: %v", errs[0])
			}
		}
	})
}
