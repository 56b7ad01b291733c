package templates

import (
	"fmt"
	"path"
	"strings"

	// The root package registers every zlint lint (its init imports each
	// lints/* package), so that a template's exemptions are checked
	// against the same registry ca lints with. templates may import zlint:
	// zlint imports nothing of certmint, and ca (which imports templates)
	// already does; the reverse, ca checking names at issuance, would
	// report a misspelt exemption without its file and line, and only when
	// a certificate is issued.
	_ "github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/certmint/certmint/internal/suggest"
)

// neverExempt lists the zlint lints no template may exempt, as patterns
// (path.Match: * stands for any run of characters) over lint names. This is
// the one list; TestNeverExemptPatterns checks that each pattern still
// names at least one lint, so a zlint upgrade that renames a family fails
// the tests instead of quietly opening it.
var neverExempt = []struct {
	group    string // said in the error
	patterns []string
}{
	// Validity. certmint computes notBefore and notAfter from validity.days,
	// the request's days and the backdate; these lints are the last guard
	// against a lifetime that overflowed or went negative (issue: "--days
	// 106752 overflows a time.Duration ... only a zlint lint stops it"), a
	// lifetime past the ceilings zlint enforces, and dates encoded so that
	// validators misread them (RFC 5280 4.1.2.5). No vendor document asks
	// for a certificate with wrong dates.
	{"a validity lint (the certificate's dates and lifetime)", []string{
		"e_validity_time_not_positive",
		"e_wrong_time_format_pre2050",
		"e_utc_time_*",
		"e_generalized_time_*",
		"*_valid_time_*",
	}},
	// Encoding. These bytes are written by certmint, cfssl and Go, not
	// typed by the user: a finding means the CA key and the template's hash
	// disagree (an ECDSA P-384 CA signing with SHA-256,
	// e_mp_ecdsa_signature_encoding_correct), a serial number or a string
	// type is wrong, or a library bug. Validators reject such certificates
	// or parse them differently; an exemption would release them.
	{"an encoding lint (DER, ASN.1 string types, serial number, key and signature algorithm encoding)", []string{
		"*_encoding*",
		"*_invalid_der",
		"e_serial_number_*",
		"e_mp_ecdsa_*",
		"e_mp_rsassa-pss_*",
		"*_rsa_encryption_parameter_not_null",
		"e_rsa_exp_negative",
		"e_rsa_no_public_key",
		"e_cert_sig_alg_not_match_tbs_sig_alg",
		"e_signature_algorithm_not_supported",
		"e_sub_cert_or_sub_ca_using_sha1",
		"*ia5*",
		"*_not_printable_string",
		"e_subject_printable_string_badalpha",
		"e_key_usage_incorrect_length",
		"e_ext_duplicate_extension",
		"e_invalid_certificate_version",
		"e_cert_extensions_version_not_3",
	}},
}

// NeverExempt returns why a lint may never be exempted ("a validity lint
// ..."), or "" when a template may exempt it.
func NeverExempt(name string) string {
	for _, g := range neverExempt {
		for _, p := range g.patterns {
			if ok, _ := path.Match(p, name); ok {
				return g.group
			}
		}
	}
	return ""
}

// KnownLint reports whether zlint has a certificate lint by that name.
func KnownLint(name string) bool {
	return lint.GlobalRegistry().CertificateLints().ByName(name) != nil
}

// checkExemption says what is wrong with exempting the lint name, or "".
func checkExemption(name string) string {
	reg := lint.GlobalRegistry()
	if reg.CertificateLints().ByName(name) == nil {
		if reg.RevocationListLints().ByName(name) != nil || reg.OcspResponseLints().ByName(name) != nil {
			return fmt.Sprintf("%q lints CRLs or OCSP responses, not certificates; remove the exemption", name)
		}
		msg := fmt.Sprintf("zlint has no lint %q", name)
		if s := suggest.Closest(name, certificateLintNames(reg), 3); s != "" {
			return msg + fmt.Sprintf(" (did you mean %q?)", s)
		}
		return msg + "; copy the name from the lint error it should silence"
	}
	if g := NeverExempt(name); g != "" {
		return fmt.Sprintf("%q may never be exempted: it is %s; change the template or the request so the certificate passes it", name, g)
	}
	return ""
}

func certificateLintNames(reg lint.Registry) []string {
	lints := reg.CertificateLints().Lints()
	out := make([]string, len(lints))
	for i, l := range lints {
		out[i] = l.Name
	}
	return out
}

// arrayTableLines returns, for each [[table]] element in src in order, the
// line of its header and of each key in it (keyLines keeps only the first
// element's).
func arrayTableLines(src []byte, table string) []map[string]int {
	var out []map[string]int
	var cur map[string]int
	for i, raw := range strings.Split(string(src), "\n") {
		s := strings.TrimSpace(stripComment(raw))
		switch {
		case strings.HasPrefix(s, "["):
			cur = nil
			if strings.HasPrefix(s, "[[") && normKey(strings.TrimSuffix(strings.TrimPrefix(s, "[["), "]]")) == table {
				cur = map[string]int{"": i + 1}
				out = append(out, cur)
			}
		case cur != nil:
			if k, _, ok := strings.Cut(s, "="); ok {
				setFirst(cur, normKey(k), i+1)
			}
		}
	}
	return out
}
