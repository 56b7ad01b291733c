package ca

import (
	"github.com/certmint/certmint/internal/input"
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
	var uses []input.Text
	for _, s := range t.Key.AllowedKeySpecs() {
		uses = append(uses, input.Textf("%s", input.Val(input.Key, s)))
	}
	return &UsageError{
		Msg:  input.Textf("template %q accepts %s; %s is not one of them", t.Name, t.Key.AllowedKeys(), input.Val(input.Key, k)),
		Hint: input.Textf("use %s, or leave %s out for the template's %s", input.OrList(uses), input.Of(input.Key), leafKeySpec(t)),
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
