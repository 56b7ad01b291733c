package templates

import (
	"fmt"
	"slices"
	"strings"
)

// Allows reports whether a key of this type and size (RSA) or curve
// (ECDSA) is one the template accepts: key.allowed_types, allowed_bits and
// allowed_curves. issue --key, the batch key column and check read it.
func (k KeyRules) Allows(typ KeyType, bits int, curve Curve) bool {
	if !slices.Contains(k.AllowedTypes, typ) {
		return false
	}
	switch typ {
	case RSA:
		return slices.Contains(k.AllowedBits, bits)
	case ECDSA:
		return slices.Contains(k.AllowedCurves, curve)
	}
	return false
}

// AllowedKeys says in words which keys the template accepts, for messages:
// "RSA 2048 or 4096 keys", "RSA 2048, 3072 or 4096 and ECDSA P-256 or
// P-384 keys".
func (k KeyRules) AllowedKeys() string {
	var parts []string
	for _, typ := range k.AllowedTypes {
		var sizes []string
		switch typ {
		case RSA:
			for _, b := range k.AllowedBits {
				sizes = append(sizes, fmt.Sprint(b))
			}
		case ECDSA:
			for _, c := range k.AllowedCurves {
				sizes = append(sizes, string(c))
			}
		}
		if len(sizes) > 0 {
			parts = append(parts, strings.ToUpper(string(typ))+" "+OrList(sizes))
		}
	}
	if len(parts) == 0 {
		return "no keys"
	}
	return strings.Join(parts, " and ") + " keys"
}

// AllowedKeySpecs lists the accepted keys as `--key` takes them:
// "rsa:2048", "ecdsa:P-256".
func (k KeyRules) AllowedKeySpecs() []string {
	var out []string
	for _, typ := range k.AllowedTypes {
		switch typ {
		case RSA:
			for _, b := range k.AllowedBits {
				out = append(out, fmt.Sprintf("rsa:%d", b))
			}
		case ECDSA:
			for _, c := range k.AllowedCurves {
				out = append(out, "ecdsa:"+string(c))
			}
		}
	}
	return out
}

// OrList joins items for a message: "a, b or c".
func OrList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
