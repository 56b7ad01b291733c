package templates

import (
	"path"
	"strings"
	"testing"

	"github.com/zmap/zlint/v3/lint"
)

// Every pattern of the never-exempt list names at least one certificate
// lint zlint has: a zlint upgrade that renames a family fails here.
func TestNeverExemptPatterns(t *testing.T) {
	names := certificateLintNames(lint.GlobalRegistry())
	if len(names) < 100 {
		t.Fatalf("the zlint registry has %d certificate lints; is zlint linked in?", len(names))
	}
	for _, g := range neverExempt {
		for _, p := range g.patterns {
			if _, err := path.Match(p, ""); err != nil {
				t.Errorf("pattern %q: %v", p, err)
			}
			n := 0
			for _, name := range names {
				if ok, _ := path.Match(p, name); ok {
					n++
				}
			}
			if n == 0 {
				t.Errorf("pattern %q (%s) matches no zlint lint", p, g.group)
			}
		}
	}
}

func TestCheckExemption(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // "" when the exemption is allowed
	}{
		// The built-in templates' exemptions (grep lint.exempt builtin).
		{"e_key_usage_and_extended_key_usage_inconsistent", ""},
		{"e_subject_common_name_not_exactly_from_san", ""},
		{"e_dnsname_bad_character_in_label", ""},
		{"e_dnsname_underscore_in_sld", ""},
		// Validity.
		{"e_validity_time_not_positive", "may never be exempted: it is a validity lint"},
		{"e_wrong_time_format_pre2050", "a validity lint"},
		{"e_utc_time_not_in_zulu", "a validity lint"},
		{"e_utc_time_does_not_include_seconds", "a validity lint"},
		{"e_generalized_time_includes_fraction_seconds", "a validity lint"},
		{"e_sub_cert_valid_time_longer_than_39_months", "a validity lint"},
		{"w_tls_server_cert_valid_time_longer_than_397_days", "a validity lint"},
		// Encoding.
		{"e_mp_ecdsa_signature_encoding_correct", "may never be exempted: it is an encoding lint"},
		{"e_mp_ecdsa_pub_key_encoding_correct", "an encoding lint"},
		{"e_serial_number_not_positive", "an encoding lint"},
		{"e_serial_number_longer_than_20_octets", "an encoding lint"},
		{"e_tbs_signature_rsa_encryption_parameter_not_null", "an encoding lint"},
		{"e_spki_rsa_encryption_parameter_not_null", "an encoding lint"},
		{"e_algorithm_identifier_improper_encoding", "an encoding lint"},
		{"e_basic_constr_invalid_der", "an encoding lint"},
		{"e_incorrect_ku_encoding", "an encoding lint"},
		{"e_ext_san_dns_not_ia5_string", "an encoding lint"},
		{"e_subject_dn_country_not_printable_string", "an encoding lint"},
		{"e_cert_sig_alg_not_match_tbs_sig_alg", "an encoding lint"},
		{"e_rsa_exp_negative", "an encoding lint"},
		// Names zlint does not have.
		{"e_key_usage_and_extended_key_usage_inconsistant", `did you mean "e_key_usage_and_extended_key_usage_inconsistent"`},
		{"key_usage_and_extended_key_usage_inconsistent", `did you mean "e_key_usage_and_extended_key_usage_inconsistent"`},
		{"e_dnsname_underscore_in_sId", `did you mean "e_dnsname_underscore_in_sld"`},
		{"e_no_such_lint", `zlint has no lint "e_no_such_lint"; copy the name`},
		{"E_VALIDITY_TIME_NOT_POSITIVE", `did you mean "e_validity_time_not_positive"`},
		// Not a certificate lint.
		{"e_crl_has_next_update", "lints CRLs or OCSP responses"},
		{"e_ocsp_rsa_signature_encoding_correct", "lints CRLs or OCSP responses"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkExemption(tc.name)
			if tc.want == "" {
				if got != "" {
					t.Fatalf("checkExemption = %q, want the exemption allowed", got)
				}
				if !KnownLint(tc.name) || NeverExempt(tc.name) != "" {
					t.Errorf("KnownLint = %v, NeverExempt = %q", KnownLint(tc.name), NeverExempt(tc.name))
				}
				return
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("checkExemption = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

// The built-in templates' exemptions all pass validation (Builtins would
// fail otherwise); this names the ones they use so a change that forbids
// one is seen here first.
func TestBuiltinExemptionsAllowed(t *testing.T) {
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tp := range all {
		for _, e := range tp.Lint.Exempt {
			n++
			if msg := checkExemption(e.Name); msg != "" {
				t.Errorf("%s: %s", tp.Name, msg)
			}
		}
	}
	if n == 0 {
		t.Error("no built-in template exempts a lint; TestCheckExemption's first rows are stale")
	}
}

func TestArrayTableLines(t *testing.T) {
	src := []byte("name = \"x\"\n[[lint.exempt]]\nname = \"a\" # one\nreason = \"r\"\n\n[[ lint.exempt ]]\nreason = \"s\"\n[example]\nname = \"no\"\n")
	got := arrayTableLines(src, "lint.exempt")
	if len(got) != 2 {
		t.Fatalf("%d elements, want 2: %v", len(got), got)
	}
	if got[0][""] != 2 || got[0]["name"] != 3 || got[0]["reason"] != 4 {
		t.Errorf("first element = %v", got[0])
	}
	if got[1][""] != 6 || got[1]["reason"] != 7 || got[1]["name"] != 0 {
		t.Errorf("second element = %v (a key of [example] must not count)", got[1])
	}
}
