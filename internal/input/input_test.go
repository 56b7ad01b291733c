package input

import "testing"

func TestText(t *testing.T) {
	dashed := func(r Ref) string {
		if r.HasValue {
			return "--" + string(r.Name) + " " + r.ValueText()
		}
		return "--" + string(r.Name)
	}
	keys := []Text{Textf("%s", Val(Key, "rsa:2048")), Textf("%s", Val(Key, "rsa:3072")), Textf("%s", Val(Key, "rsa:4096"))}
	for _, tc := range []struct {
		name         string
		text         Text
		plain, flags string
		names        []Name
	}{
		{"no input", PlainText("100% done"), "100% done", "100% done", nil},
		{"an input", Textf("leave out %s", Of(NoCDP)), "leave out no-cdp", "leave out --no-cdp", []Name{NoCDP}},
		{"a value", Textf("use %s or fewer", Val(Days, 825)), "use days=825 or fewer", "use --days 825 or fewer", []Name{Days}},
		{"a quoted value", Textf("try %s", Quoted(FileName, "_-rf")), `try name="_-rf"`, `try --name "_-rf"`, []Name{FileName}},
		{"nested", Textf("%s, or set defaults", Textf("add %s", Quoted(Subject, "O=x"))), `add subject="O=x", or set defaults`, `add --subject "O=x", or set defaults`, []Name{Subject}},
		{"or list", Textf("use %s", OrList(keys)), "use key=rsa:2048, key=rsa:3072 or key=rsa:4096", "use --key rsa:2048, --key rsa:3072 or --key rsa:4096", []Name{Key, Key, Key}},
		{"one-item or list", OrList(keys[:1]), "key=rsa:2048", "--key rsa:2048", []Name{Key}},
		{"zero", Text{}, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.text.String(); got != tc.plain {
				t.Errorf("String() = %q, want %q", got, tc.plain)
			}
			if tc.text.IsZero() {
				return
			}
			if got := tc.text.Render(dashed); got != tc.flags {
				t.Errorf("Render = %q, want %q", got, tc.flags)
			}
			refs := tc.text.Refs()
			if len(refs) != len(tc.names) {
				t.Fatalf("Refs = %v, want %v", refs, tc.names)
			}
			for i, r := range refs {
				if r.Name != tc.names[i] || !tc.text.Names(r.Name) {
					t.Errorf("Refs[%d] = %v, want %v", i, r, tc.names[i])
				}
			}
		})
	}
}
