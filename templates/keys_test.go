package templates

import (
	"strings"
	"testing"
)

func TestKeyRulesAllows(t *testing.T) {
	for _, tc := range []struct {
		template string
		allowed  string // AllowedKeys
		specs    string // AllowedKeySpecs, joined
		accepts  map[string]bool
	}{
		{"defender-sensor", "RSA 2048 or 4096 keys", "rsa:2048 rsa:4096",
			map[string]bool{"rsa:2048": true, "rsa:3072": false, "rsa:4096": true, "ecdsa:P-256": false, "ecdsa:P-384": false}},
		{"server", "RSA 2048, 3072 or 4096 and ECDSA P-256 or P-384 keys", "rsa:2048 rsa:3072 rsa:4096 ecdsa:P-256 ecdsa:P-384",
			map[string]bool{"rsa:2048": true, "rsa:3072": true, "rsa:4096": true, "ecdsa:P-256": true, "ecdsa:P-384": true}},
		{"1e-client", "RSA 2048, 3072 or 4096 keys", "rsa:2048 rsa:3072 rsa:4096",
			map[string]bool{"rsa:2048": true, "rsa:3072": true, "rsa:4096": true, "ecdsa:P-256": false, "ecdsa:P-384": false}},
	} {
		t.Run(tc.template, func(t *testing.T) {
			tm, err := Builtin(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			if got := tm.Key.AllowedKeys(); got != tc.allowed {
				t.Errorf("AllowedKeys() = %q, want %q", got, tc.allowed)
			}
			if got := strings.Join(tm.Key.AllowedKeySpecs(), " "); got != tc.specs {
				t.Errorf("AllowedKeySpecs() = %q, want %q", got, tc.specs)
			}
			for spec, want := range tc.accepts {
				typ, arg, _ := strings.Cut(spec, ":")
				bits := 0
				if typ == "rsa" {
					bits = map[string]int{"2048": 2048, "3072": 3072, "4096": 4096}[arg]
				}
				if got := tm.Key.Allows(KeyType(typ), bits, Curve(arg)); got != want {
					t.Errorf("Allows(%s) = %v, want %v", spec, got, want)
				}
			}
		})
	}
	if got := (KeyRules{}).AllowedKeys(); got != "no keys" {
		t.Errorf("empty rules: %q", got)
	}
}

func TestOrList(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "a b": "a or b", "a b c": "a, b or c"} {
		if got := OrList(strings.Fields(in)); got != want {
			t.Errorf("OrList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHashName(t *testing.T) {
	for h, want := range map[Hash]string{SHA256: "SHA-256", SHA384: "SHA-384", SHA512: "SHA-512"} {
		if got := h.Name(); got != want {
			t.Errorf("%s.Name() = %q, want %q", h, got, want)
		}
	}
}
