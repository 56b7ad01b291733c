package ca

import (
	"fmt"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

// CheckKey refuses a leaf key the template does not accept
// (key.allowed_types, allowed_bits, allowed_curves) with a *UsageError
// naming the keys it does accept. A zero spec is the template's own key
// and always passes.
func CheckKey(t *templates.Template, k keys.Spec) error {
	if k == (keys.Spec{}) || t.Key.Allows(templates.KeyType(k.Type), k.Bits, templates.Curve(k.Curve)) {
		return nil
	}
	var uses []string
	for _, s := range t.Key.AllowedKeySpecs() {
		uses = append(uses, "--key "+s)
	}
	return &UsageError{
		Msg:  fmt.Sprintf("template %q accepts %s; --key %s is not one of them", t.Name, t.Key.AllowedKeys(), k),
		Hint: fmt.Sprintf("use %s, or leave --key out for the template's %s", templates.OrList(uses), leafKeySpec(t)),
	}
}

// chooseKey is the key a certificate of the template gets: want when set
// (and accepted), else the template's key.type with its bits or curve.
func chooseKey(t *templates.Template, want keys.Spec) (keys.Spec, error) {
	if want == (keys.Spec{}) {
		return leafKeySpec(t), nil
	}
	if err := CheckKey(t, want); err != nil {
		return keys.Spec{}, err
	}
	return want, nil
}
