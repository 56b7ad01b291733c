package templates

import (
	"slices"
	"testing"
)

// TestWithImplied: a script brings the files it imports, once each, after
// what was asked; the profile is self-contained.
func TestWithImplied(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Format
		want []Format
	}{
		{"plain formats unchanged", []Format{FormatCRT, FormatKey}, []Format{FormatCRT, FormatKey}},
		{"windows brings pfx and cer", []Format{FormatInstallWindows}, []Format{FormatInstallWindows, FormatPFX, FormatCER}},
		{"macos brings pfx and cer", []Format{FormatInstallMacOS}, []Format{FormatInstallMacOS, FormatPFX, FormatCER}},
		{"linux brings the pfx only", []Format{FormatInstallLinux}, []Format{FormatInstallLinux, FormatPFX}},
		{"profile brings nothing", []Format{FormatMobileconfig}, []Format{FormatMobileconfig}},
		{"already listed once", []Format{FormatPFX, FormatInstallWindows, FormatInstallLinux}, []Format{FormatPFX, FormatInstallWindows, FormatInstallLinux, FormatCER}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := WithImplied(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("WithImplied(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// TestNeedsKey: what holds the private key, itself or through a file it
// implies, cannot be written for a CSR.
func TestNeedsKey(t *testing.T) {
	want := map[Format]bool{
		FormatCRT: false, FormatKey: true, FormatPFX: true, FormatChain: false, FormatCER: false, FormatNote: false,
		FormatInstallWindows: true, FormatInstallMacOS: true, FormatInstallLinux: true, FormatMobileconfig: true,
	}
	for _, f := range AllFormats {
		if got := f.NeedsKey(); got != want[f] {
			t.Errorf("%s.NeedsKey() = %v, want %v", f, got, want[f])
		}
		if got := f.Installer(); got != (f == FormatInstallWindows || f == FormatInstallMacOS || f == FormatInstallLinux || f == FormatMobileconfig) {
			t.Errorf("%s.Installer() = %v", f, got)
		}
	}
}

// TestBuiltinOptional: the 1E client templates offer the installers that
// fit their devices, none by default, and each offer is explained.
func TestBuiltinOptional(t *testing.T) {
	for name, want := range map[string][]Format{
		"1e-client":           {FormatInstallWindows},
		"1e-client-workgroup": {FormatInstallWindows, FormatInstallLinux},
		"1e-client-macos":     {FormatInstallMacOS, FormatMobileconfig},
	} {
		tm, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tm.Output.Optional, want) {
			t.Errorf("%s: output.optional = %v, want %v", name, tm.Output.Optional, want)
		}
		for _, f := range tm.Output.Formats {
			if f.Installer() {
				t.Errorf("%s writes %s by default; installers are offered, not written", name, f)
			}
		}
		if c := tm.Rule("output.optional"); c.Level != Advice || len(c.Quotes) == 0 {
			t.Errorf("%s: output.optional is %s with %d quotes; want advice quoting where the files go", name, c.Level, len(c.Quotes))
		}
	}
}
