package check

import (
	"testing"

	"github.com/certmint/certmint/templates"
)

// Every CN form a template can ask for has its own title and example in
// the subject.cn finding: a form added to templates without one here would
// report as a bare "CN is present".
func TestCNFormsDescribed(t *testing.T) {
	for _, f := range []templates.CNForm{templates.CNAny, templates.CNDNS, templates.CNFQDN, templates.CNHostname} {
		var parsed templates.CNForm
		if err := parsed.UnmarshalText([]byte(f)); err != nil {
			t.Fatalf("%q: %v", f, err)
		}
		d, ok := cnForms[f]
		if !ok || d.title == "" || d.want == "" {
			t.Errorf("CN form %q has no title and example in cnForms", f)
		}
	}
	if err := new(templates.CNForm).UnmarshalText([]byte("ipv6")); err == nil {
		t.Error(`CN form "ipv6" parses: a new form needs its cnForms entry and its case in this test`)
	}
}
