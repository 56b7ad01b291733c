package san

import "strings"

// FromStored gives kinds back to SANs stored without them: the issuance
// database keeps a certificate's SANs as cfssl's untyped list of values
// (store.NewRecord), and `list --json` writes them "DNS:x", "IP:y",
// "email:z", "URI:u" as every other command does.
//
// Every SAN certmint issues passed Check, so the kind follows from the
// value without doubt: an IP address parses as one (a DNS name whose last
// label is all digits is refused); a URI has a scheme and so a ':', which
// no DNS name or email address may hold (ValidateDNS allows letters,
// digits, '-', '_', '.' and a leading "*"; an email's local part is RFC
// 5322 atext, without ':'); an email address has an '@', which a DNS name
// may not; anything else is a DNS name.
func FromStored(values []string) []Name {
	out := make([]Name, 0, len(values))
	for _, v := range values {
		kind := DNS
		switch {
		case isIP(v):
			kind = IP
		case strings.Contains(v, ":"):
			kind = URI
		case strings.Contains(v, "@"):
			kind = Email
		}
		out = append(out, Name{Kind: kind, Value: v})
	}
	return out
}
