package san

import "testing"

// TestFromStored: every kind of name Check accepts comes back with its
// kind from its bare value, as the issuance database stores it.
func TestFromStored(t *testing.T) {
	for _, typed := range []string{
		"DNS:www.example.com", "DNS:*.example.com", "DNS:_sip._tcp.example.com", "DNS:host-1", "DNS:xn--bcher-kva.example",
		"IP:10.0.0.5", "IP:2001:db8::1", "IP:::1",
		"email:ops@example.com", "email:first.last+tag@example.com", "email:a/b=c@example.com",
		"URI:https://example.com/device/1", "URI:https://user@example.com/x", "URI:urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
		"URI:spiffe://example.org/ns/prod", "URI:http://10.0.0.5:8080/x",
	} {
		t.Run(typed, func(t *testing.T) {
			n, err := Parse(typed)
			if err != nil {
				t.Fatalf("not a valid SAN: %v", err)
			}
			got := FromStored([]string{n.Value})
			if len(got) != 1 || got[0] != n {
				t.Errorf("FromStored(%q) = %v, want %v", n.Value, got, n)
			}
		})
	}
	if got := FromStored(nil); got == nil || len(got) != 0 {
		t.Errorf("FromStored(nil) = %#v, want an empty list", got)
	}
}
