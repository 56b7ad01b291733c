package ca

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"html"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	zrsa "github.com/zmap/zcrypto/rsa"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3/lint"
	"github.com/zmap/zlint/v3/util"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/certmint/certmint/templates"
)

// lintText says what one zlint lint means for a certmint user: which
// value of the certificate is wrong, what is wrong with it, and what to
// change. zlint's own Details rarely name the value (e_dnsname_underscore_in_sld
// says nothing), so find reads it from the certificate.
type lintText struct {
	// find returns the offending values, as the user would type them;
	// nil for a lint about the certificate as a whole.
	find func(c *zx509.Certificate) []string
	// problem is what is wrong, a sentence without the value.
	problem string
	// use returns the value to type instead, or "" when none can be
	// guessed (then fix says what to do).
	use func(v string) string
	// fix says what to change in the request or the template. v is the
	// offending value, "" when find found none.
	fix func(v string, c *zx509.Certificate) string
	// generic marks a text that also fires beside a more precise one for
	// the same value (a bad character for an empty label): when two
	// findings are merged into one line, the precise problem is said.
	generic bool
}

// lintTexts is the one table of lints explained in words: every lint a
// certmint user can trigger through a CN, a SAN, a subject field, the
// number of days, the key or a template. Several lints that fire for the
// same mistake share a text, so the user reads one line for it. A lint
// without a row is explained from zlint's own description (explain).
// TestLintTexts builds, for every row, a certificate that triggers it.
var lintTexts = map[string]lintText{
	// DNS names, from the CN (zlint reads a CN that is not an IP address
	// as a DNS name) and the DNS SANs.
	"e_dnsname_underscore_in_sld":             underscore,
	"e_rfc_dnsname_underscore_in_sld":         underscore,
	"e_underscore_not_permissible_in_dnsname": underscore,
	"w_dnsname_underscore_in_trd":             underscore,
	"w_rfc_dnsname_underscore_in_trd":         underscore,
	"e_dnsname_bad_character_in_label": {
		find:    dnsWhere(func(n string) bool { return !badCharRe(n) }),
		problem: "a DNS name may contain only letters, digits, hyphens and underscores, in labels separated by single dots",
		use:     cleanDNS,
		fix: func(v string, _ *zx509.Certificate) string {
			if strings.TrimSpace(v) == "" {
				return blankFix(v)
			}
			return "use a DNS name, or a template that does not read the CN as one"
		},
		generic: true,
	},
	"e_dnsname_label_too_long":     labelTooLong,
	"e_rfc_dnsname_label_too_long": labelTooLong,
	"e_ext_san_dns_name_too_long": {
		find:    dnsWhere(func(n string) bool { return len(n) > 253 }),
		problem: "a DNS name may be at most 253 characters",
		fix: func(v string, _ *zx509.Certificate) string {
			return fmt.Sprintf("use a shorter name (this one has %d)", len(v))
		},
	},
	"e_dnsname_empty_label":     emptyLabel,
	"e_rfc_dnsname_empty_label": emptyLabel,
	"e_ext_san_empty_name": {
		find:    func(c *zx509.Certificate) []string { return sanWhere(c, func(n string) bool { return n == "" }) },
		problem: "a SAN may not be empty",
		fix:     func(v string, _ *zx509.Certificate) string { return blankFix(v) },
	},
	"e_ext_san_space_dns_name": {
		find:    func(c *zx509.Certificate) []string { return sanWhere(c, func(n string) bool { return n == " " }) },
		problem: "a DNS name may not be a single space",
		fix:     func(v string, _ *zx509.Certificate) string { return blankFix(v) },
	},
	"e_san_dns_name_starts_with_period": {
		find: func(c *zx509.Certificate) []string {
			return sanWhere(c, func(n string) bool { return strings.HasPrefix(n, ".") })
		},
		problem: "a DNS name may not start with a dot",
		use:     func(v string) string { return strings.TrimLeft(v, ".") },
	},
	"e_san_dns_name_includes_null_char": {
		find:    dnsWhere(func(n string) bool { return strings.ContainsRune(n, 0) }),
		problem: "a DNS name may not contain a NUL character",
		use:     func(v string) string { return strings.ReplaceAll(v, "\x00", "") },
	},
	"e_san_bare_wildcard": {
		find:    func(c *zx509.Certificate) []string { return sanWhere(c, func(n string) bool { return n == "*" }) },
		problem: "a wildcard needs a domain after it",
		fix:     fixed("write it as *.example.com with your domain, or name each host"),
	},
	"e_san_wildcard_not_first":              wildcardPlace,
	"e_dnsname_wildcard_only_in_left_label": wildcardPlace,
	"e_dnsname_left_label_wildcard_correct": wildcardPlace,
	"e_dnsname_hyphen_in_sld":               hyphenEdge,
	"e_rfc_dnsname_hyphen_in_sld":           hyphenEdge,
	"e_dnsname_contains_prohibited_reserved_label": {
		find: dnsWhere(func(n string) bool {
			return slices.ContainsFunc(strings.Split(n, "."), func(l string) bool {
				return util.HasReservedLabelPrefix(l) && !util.HasXNLabelPrefix(l)
			})
		}),
		problem: `a label with "--" as its third and fourth characters is reserved for encodings such as punycode (xn--)`,
		use:     cleanDNS,
	},
	"e_international_dns_name_not_unicode": {
		find:    dnsWhere(func(n string) bool { _, ok := idnUnicode(n); return !ok }),
		problem: "a label starting with xn-- must be valid punycode",
		fix:     fixed("write the name in Unicode and let it be encoded, or copy its xn-- form from a tool that encodes IDNs"),
	},
	"e_international_dns_name_not_nfc": {
		find: dnsWhere(func(n string) bool {
			u, ok := idnUnicode(n)
			return ok && !norm.NFC.IsNormalString(u)
		}),
		problem: "an international name must be encoded from its composed (NFC) Unicode form",
		use: func(v string) string {
			u, _ := idnUnicode(v)
			a, err := idna.ToASCII(norm.NFC.String(u))
			if err != nil {
				return ""
			}
			return a
		},
		fix: fixed("encode the name from its NFC form"),
	},
	"e_dnsname_contains_bare_iana_suffix": {
		find:    dnsWhere(util.IsInTLDMap),
		problem: "a DNS name may not be a bare top-level domain",
		fix:     func(v string, _ *zx509.Certificate) string { return "name a host inside it, e.g. host." + v },
	},
	"e_arpa_domain_not_allowed":           arpa,
	"e_subject_contains_reserved_arpa_ip": arpa,
	"e_san_dns_name_onion_invalid": {
		find:    dnsWhere(func(n string) bool { return strings.HasSuffix(strings.ToLower(n), ".onion") }),
		problem: "a .onion name must be a valid Tor onion service address",
		fix:     fixed("remove it; .onion names are for Tor onion services"),
	},

	// The common name.
	"e_subject_common_name_not_exactly_from_san": {
		find:    func(c *zx509.Certificate) []string { return []string{c.Subject.CommonName} },
		problem: "the common name must also be one of the certificate's SANs, written exactly the same",
		fix: func(v string, c *zx509.Certificate) string {
			for _, n := range append(slices.Clone(c.DNSNames), c.EmailAddresses...) {
				if strings.EqualFold(n, v) {
					return fmt.Sprintf("write the CN as %s, as in the SAN", show(n))
				}
			}
			return "add it as a SAN, or use a template that copies the CN into the SAN (san.cn_in_san)"
		},
	},
	"e_subject_common_name_max_length": {
		find:    func(c *zx509.Certificate) []string { return fieldsWhere(c, "CN", tooLong(64)) },
		problem: "a common name may be at most 64 characters",
		fix: func(v string, _ *zx509.Certificate) string {
			return fmt.Sprintf("use a shorter CN (this one has %d) and put long names in the SAN", utf8.RuneCountInString(fieldValue(v)))
		},
	},

	// Other subject fields.
	"e_subject_organization_name_max_length":        fieldTooLong("O", "an organization (O)", 64),
	"e_subject_organizational_unit_name_max_length": fieldTooLong("OU", "an organizational unit (OU)", 64),
	"e_subject_locality_name_max_length":            fieldTooLong("L", "a locality (L)", 128),
	"e_subject_state_name_max_length":               fieldTooLong("ST", "a state or province (ST)", 128),
	"e_subject_country_not_iso": {
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "C", func(v string) bool { return !util.IsISOCountryCode(v) })
		},
		problem: "the country must be a two-letter ISO 3166 code",
		use: func(v string) string {
			// Common mistakes: the United Kingdom is GB in ISO 3166 (UK is
			// only "exceptionally reserved"); EL is the EU's code for Greece.
			switch strings.ToUpper(fieldValue(v)) {
			case "UK":
				return "C=GB"
			case "EL":
				return "C=GR"
			}
			return ""
		},
		fix: fixed("use the country's ISO 3166 alpha-2 code, e.g. US, DE or GB"),
	},
	"e_subj_country_not_uppercase": {
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "C", func(v string) bool { return v != strings.ToUpper(v) })
		},
		problem: "the country code must be in capital letters",
		use:     func(v string) string { return "C=" + strings.ToUpper(fieldValue(v)) },
	},
	"e_subject_contains_noninformational_value": {
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "", func(v string) bool {
				return !strings.ContainsFunc(v, func(r rune) bool { return r > 127 || unicode.IsLetter(r) || unicode.IsDigit(r) })
			})
		},
		problem: `a subject field may not be a placeholder such as "-" or "."`,
		fix:     fixed("give the real value or leave the field out"),
	},
	"e_subject_contains_organizational_unit_name_and_no_organization_name": needsOrg("OU", "an organizational unit (OU)"),
	"e_sub_cert_locality_name_must_not_appear":                             needsOrg("L", "a locality (L)"),
	"e_sub_cert_province_must_not_appear":                                  needsOrg("ST", "a state or province (ST)"),
	"e_sub_cert_street_address_should_not_exist":                           needsOrg("street", "a street address"),
	"e_duplicate_subject_attribs": {
		find: func(c *zx509.Certificate) []string {
			var out []string
			for _, f := range subjectFieldNames {
				if vs := subjectValues(c, f); len(vs) > 1 {
					var parts []string
					for _, v := range vs {
						parts = append(parts, f+"="+v)
					}
					out = append(out, strings.Join(parts, ", "))
				}
			}
			return out
		},
		problem: "each subject field may appear only once",
		fix: func(v string, _ *zx509.Certificate) string {
			f, _, _ := strings.Cut(v, "=")
			return "keep one " + f
		},
	},
	"e_subj_contains_html_entities": {
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "", func(v string) bool { return html.UnescapeString(v) != v })
		},
		problem: "a subject field contains an HTML entity",
		use:     func(v string) string { return html.UnescapeString(v) },
		fix:     fixed("write the character itself"),
	},
	"e_utf8_latin1_mixup": {
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "", func(v string) bool { return unmangle(v) != "" })
		},
		problem: "the text was UTF-8 read as Latin-1 somewhere along the way",
		use:     func(v string) string { f, _, _ := strings.Cut(v, "="); return f + "=" + unmangle(fieldValue(v)) },
		fix:     fixed("retype the value with its accented letters"),
	},
	"e_utf8_replacement_char_in_subject": {
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "", func(v string) bool { return strings.ContainsRune(v, utf8.RuneError) })
		},
		problem: "a subject field holds the replacement character (U+FFFD), the mark of a letter lost in a conversion",
		fix:     fixed("retype the value with the intended letter"),
	},
	"e_subject_dn_not_printable_characters": {
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "", func(v string) bool { return strings.ContainsFunc(v, unicode.IsControl) })
		},
		problem: "a subject field may not contain control characters",
		use: func(v string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsControl(r) {
					return -1
				}
				return r
			}, v)
		},
	},
	"w_subject_dn_leading_whitespace":  whitespace,
	"w_subject_dn_trailing_whitespace": whitespace,

	// Validity, from the number of days asked for or the template's
	// validity.days and backdate.
	"e_validity_time_not_positive": {
		find:    func(c *zx509.Certificate) []string { return []string{lifetime(c)} },
		problem: "the certificate would expire before it becomes valid",
		fix:     fixed("ask for a positive number of days that the issuing CA's own lifetime covers"),
	},
	"e_sub_cert_valid_time_longer_than_39_months": {
		find:    func(c *zx509.Certificate) []string { return []string{lifetime(c)} },
		problem: "a certificate may be valid for at most 39 months",
		fix: func(_ string, c *zx509.Certificate) string {
			// The request's days count from now, notBefore is backdated:
			// one day less keeps any backdate inside the limit.
			limit := c.NotBefore.AddDate(0, 39, 0).Sub(c.NotBefore)
			return fmt.Sprintf("ask for at most %d days (the request's days or validity.days in the template)", int(limit/(24*time.Hour))-1)
		},
	},

	// Keys, from a CSR being signed or the template's key.
	"e_mp_modulus_must_be_2048_bits_or_more": rsaSmall,
	"e_rsa_mod_less_than_2048_bits":          rsaSmall,
	"e_mp_modulus_must_be_divisible_by_8": {
		find:    keyIf(func(k *zrsa.PublicKey) bool { return k.N.BitLen()%8 != 0 }),
		problem: "an RSA key's size must be a multiple of 8 bits",
		fix:     fixed("make a new key of 2048, 3072 or 4096 bits"),
	},
	"e_rsa_public_exponent_too_small":    rsaExponent,
	"e_mp_exponent_cannot_be_one":        rsaExponent,
	"e_rsa_public_exponent_not_odd":      rsaExponent,
	"w_rsa_public_exponent_not_in_range": rsaExponent,
	"e_rsa_fermat_factorization": {
		find:    func(c *zx509.Certificate) []string { return []string{keyName(c)} },
		problem: "the key's two primes are so close that anyone can factor it (a broken key generator)",
		fix:     fixed("make a new key with another tool and never use this one"),
	},
	"e_ecdsa_small_private_key": {
		find:    func(c *zx509.Certificate) []string { return []string{keyName(c)} },
		problem: "the private key is trivially small, so anyone can recover it from the public key",
		fix:     fixed("make a new key with another tool and never use this one"),
	},
	"e_algorithm_identifier_improper_encoding": keyType,
	"e_ec_improper_curves":                     keyType,
	"e_mp_ecdsa_pub_key_encoding_correct":      keyType,

	// Signatures, from the issuing CA's key and the template's hash.
	"e_mp_ecdsa_signature_encoding_correct": {
		find: func(c *zx509.Certificate) []string {
			return []string{fmt.Sprintf("%s signature by a %s issuing CA key", sigName(c), sigCurve(c))}
		},
		problem: "an ECDSA key must sign with its own hash: P-256 with SHA-256, P-384 with SHA-384",
		fix: func(_ string, c *zx509.Certificate) string {
			h := map[string]string{"P-256": "sha256", "P-384": "sha384", "P-521": "sha512"}[sigCurve(c)]
			if h == "" {
				return "set signature.hash in the template to the hash of the issuing CA's curve"
			}
			return fmt.Sprintf("set signature.hash = %q in the template (and list it in signature.allowed)", h)
		},
	},
	"e_sub_cert_or_sub_ca_using_sha1": {
		find:    func(c *zx509.Certificate) []string { return []string{sigName(c)} },
		problem: "SHA-1 signatures can be forged and are refused",
		fix:     fixed(`set signature.hash = "sha256" (or stronger) in the template`),
	},

	// Key usage, from the template's usage and the key type.
	"e_key_usage_and_extended_key_usage_inconsistent": {
		find: func(c *zx509.Certificate) []string {
			return []string{fmt.Sprintf("key usage %s with extended key usage %s", strings.Join(kuNames(c.KeyUsage), ", "), strings.Join(ekuNames(c), ", "))}
		},
		problem: "the key usage does not fit the extended key usage (RFC 5280 4.2.1.12)",
		fix: func(_ string, c *zx509.Certificate) string {
			var fits []string
			for _, e := range c.ExtKeyUsage {
				if f, ok := kuForEKU[e]; ok {
					fits = append(fits, fmt.Sprintf("%s allows %s", ekuName(e), f))
				}
			}
			return "change usage.key_usage in the template (" + strings.Join(fits, "; ") +
				"), or exempt this lint there citing the vendor sentence that asks for this mix"
		},
	},
	"e_ecdsa_allowed_ku":            ecdsaKU,
	"e_cabf_ecc_allowed_key_usages": ecdsaKU,
	"e_rsa_allowed_ku_ee": {
		find: func(c *zx509.Certificate) []string {
			bad := c.KeyUsage & (zx509.KeyUsageKeyAgreement | zx509.KeyUsageEncipherOnly | zx509.KeyUsageDecipherOnly | zx509.KeyUsageCertSign | zx509.KeyUsageCRLSign)
			return []string{"key usage " + strings.Join(kuNames(bad), ", ") + " with an RSA key"}
		},
		problem: "an RSA end-entity key can only sign and encipher (digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment)",
		fix:     fixed("remove the other usages from usage.key_usage in the template, or use an ECDSA key for keyAgreement"),
	},

	// URLs, from the CA home's base URL.
	"e_crl_distrib_points_not_http": {
		find:    func(c *zx509.Certificate) []string { return notHTTP(c.CRLDistributionPoints) },
		problem: "the CRL distribution point must be an http:// URL (validators fetch it without TLS)",
		fix:     fixed("give the CA home an http:// base URL"),
	},
	"e_sub_cert_crl_distribution_points_does_not_contain_url": {
		find:    func(c *zx509.Certificate) []string { return notHTTP(c.CRLDistributionPoints) },
		problem: "the CRL distribution point must be an http:// URL (validators fetch it without TLS)",
		fix:     fixed("give the CA home an http:// base URL"),
	},
	"e_aia_ca_issuers_must_have_http_only": {
		find:    func(c *zx509.Certificate) []string { return notHTTP(c.IssuingCertificateURL) },
		problem: "the CA certificate URL (AIA caIssuers) must be an http:// URL",
		fix:     fixed("give the CA home an http:// base URL"),
	},

	// Other SANs.
	"e_ext_san_rfc822_format_invalid": {
		find: func(c *zx509.Certificate) []string {
			return slices.DeleteFunc(slices.Clone(c.EmailAddresses), func(e string) bool { return !strings.ContainsAny(e, "<>()") })
		},
		problem: "an email SAN must be the bare address, without <> or a comment",
		use: func(v string) string {
			if i := strings.IndexByte(v, '('); i >= 0 {
				v = v[:i]
			}
			return strings.TrimSpace(strings.Trim(strings.TrimSpace(v), "<>"))
		},
	},
	"e_ext_san_rfc822_name_present":                 serverSANKinds,
	"e_ext_san_uniform_resource_identifier_present": serverSANKinds,
}

// Texts shared by several lints.
var (
	underscore = lintText{
		find:    dnsWhere(func(n string) bool { return strings.Contains(n, "_") }),
		problem: "DNS names may not contain an underscore",
		use:     cleanDNS,
	}
	labelTooLong = lintText{
		find: dnsWhere(func(n string) bool {
			return slices.ContainsFunc(strings.Split(n, "."), func(l string) bool { return len(l) > 63 })
		}),
		problem: "each dot-separated label of a DNS name may be at most 63 characters",
		fix: func(v string, _ *zx509.Certificate) string {
			for _, l := range strings.Split(v, ".") {
				if len(l) > 63 {
					return fmt.Sprintf("shorten the label %s (%d characters)", show(l), len(l))
				}
			}
			return "shorten the long label"
		},
	}
	emptyLabel = lintText{
		find: dnsWhere(func(n string) bool {
			return n == "" || strings.Contains(n, "..") || strings.HasPrefix(n, ".") || strings.HasSuffix(n, "..")
		}),
		problem: "a DNS name may not have an empty label (two dots in a row, or a dot at the start)",
		use:     cleanDNS,
		fix:     func(v string, _ *zx509.Certificate) string { return blankFix(v) },
	}
	wildcardPlace = lintText{
		find: dnsWhere(func(n string) bool {
			labels := strings.Split(n, ".")
			return n != "*" && strings.Contains(n, "*") && (labels[0] != "*" || strings.Contains(strings.Join(labels[1:], "."), "*"))
		}),
		problem: `a wildcard may only be the whole left-most label, as in *.example.com`,
		use: func(v string) string {
			labels := strings.Split(v, ".")
			last := 0
			for i, l := range labels {
				if strings.Contains(l, "*") {
					last = i
				}
			}
			rest := labels[last+1:]
			if len(rest) < 2 {
				return ""
			}
			return "*." + strings.Join(rest, ".")
		},
		fix: fixed("name each host, or put the wildcard alone in the first label"),
	}
	hyphenEdge = lintText{
		find: dnsWhere(func(n string) bool {
			return slices.ContainsFunc(strings.Split(n, "."), func(l string) bool { return strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") })
		}),
		problem: "a DNS label may not start or end with a hyphen",
		use:     cleanDNS,
	}
	arpa = lintText{
		find:    dnsWhere(func(n string) bool { return strings.HasSuffix(strings.ToLower(strings.TrimSuffix(n, ".")), ".arpa") }),
		problem: "a certificate may not name a reverse-DNS (.arpa) domain",
		fix: func(v string, _ *zx509.Certificate) string {
			if a, ok := arpaAddr(v); ok {
				return fmt.Sprintf("name the host by its DNS name, or by its address %s as an IP SAN", a)
			}
			return "name the host by its DNS name or its IP address"
		},
	}
	whitespace = lintText{
		find: func(c *zx509.Certificate) []string {
			return fieldsWhere(c, "", func(v string) bool { return strings.TrimSpace(v) != v })
		},
		problem: "a subject field should not start or end with a space",
		use: func(v string) string {
			f, _, _ := strings.Cut(v, "=")
			return f + "=" + strings.TrimSpace(fieldValue(v))
		},
	}
	rsaSmall = lintText{
		find:    keyIf(func(k *zrsa.PublicKey) bool { return k.N.BitLen() < 2048 }),
		problem: "an RSA key must have at least 2048 bits",
		fix:     fixed("make a new key of 2048, 3072 or 4096 bits"),
	}
	rsaExponent = lintText{
		find: func(c *zx509.Certificate) []string {
			if k, ok := c.PublicKey.(*zrsa.PublicKey); ok {
				return []string{"RSA public exponent " + k.E.String()}
			}
			return nil
		},
		problem: "the RSA public exponent must be an odd number from 65537 up (65537 is what every tool uses)",
		fix:     fixed("make a new key with exponent 65537"),
	}
	keyType = lintText{
		find:    func(c *zx509.Certificate) []string { return []string{keyName(c)} },
		problem: "the key must be RSA (2048 bits or more) or ECDSA on P-256 or P-384",
		fix:     fixed("make a new key of one of those types"),
	}
	ecdsaKU = lintText{
		find: func(c *zx509.Certificate) []string {
			if _, ok := ecKey(c); !ok {
				return nil
			}
			return []string{"key usage " + strings.Join(kuNames(c.KeyUsage), ", ") + " with an ECDSA key"}
		},
		problem: "an ECDSA key can only sign (digitalSignature) or agree keys (keyAgreement), and must sign",
		fix: func(_ string, c *zx509.Certificate) string {
			var do []string
			if bad := c.KeyUsage &^ (zx509.KeyUsageDigitalSignature | zx509.KeyUsageKeyAgreement); bad != 0 {
				do = append(do, "remove "+strings.Join(kuNames(bad), ", "))
			}
			if c.KeyUsage&zx509.KeyUsageDigitalSignature == 0 {
				do = append(do, "add digitalSignature")
			}
			return "change usage.key_usage in the template (" + strings.Join(do, ", ") + "), or use an RSA key"
		},
	}
	serverSANKinds = lintText{
		find: func(c *zx509.Certificate) []string {
			var out []string
			for _, e := range c.EmailAddresses {
				out = append(out, "email:"+e)
			}
			for _, u := range c.URIs {
				out = append(out, "URI:"+u)
			}
			return out
		},
		problem: "a TLS server certificate's SAN may hold only DNS names and IP addresses",
		fix:     fixed("remove the name, or use a template without serverAuth for it"),
	}
)

// blankFix is the fix for an empty or blank name, the same from every
// lint so their findings merge into one line.
func blankFix(string) string { return "remove the empty or blank name" }

func fixed(s string) func(string, *zx509.Certificate) string {
	return func(string, *zx509.Certificate) string { return s }
}

func fieldTooLong(field, what string, max int) lintText {
	return lintText{
		find:    func(c *zx509.Certificate) []string { return fieldsWhere(c, field, tooLong(max)) },
		problem: fmt.Sprintf("%s may be at most %d characters", what, max),
		fix: func(v string, _ *zx509.Certificate) string {
			return fmt.Sprintf("shorten it (it has %d)", utf8.RuneCountInString(fieldValue(v)))
		},
	}
}

func needsOrg(field, what string) lintText {
	return lintText{
		find:    func(c *zx509.Certificate) []string { return fieldsWhere(c, field, func(string) bool { return true }) },
		problem: what + " may only appear beside an organization (O)",
		fix:     fixed("add O= with your organization to the subject, or leave " + field + " out"),
	}
}

func tooLong(max int) func(string) bool {
	return func(v string) bool { return utf8.RuneCountInString(v) > max }
}

// badCharRe is the test of zlint's e_dnsname_bad_character_in_label.
func badCharRe(n string) bool {
	labels := strings.Split(n, ".")
	for i, l := range labels {
		if l == "" && i == len(labels)-1 && i > 0 {
			continue // a trailing dot
		}
		if l == "" {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '*') {
				return false
			}
		}
	}
	return true
}

// cleanDNS guesses the DNS name meant: characters a DNS label cannot
// hold (an underscore, a space) become hyphens; empty labels, edge
// hyphens and a reserved "--" go.
func cleanDNS(v string) string {
	var labels []string
	for i, l := range strings.Split(v, ".") {
		if l == "*" && i == 0 {
			labels = append(labels, l)
			continue
		}
		l = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			if r == 0 {
				return -1
			}
			return '-'
		}, l)
		// "ab--cd" is reserved (RFC 5890 2.3.1); "xn--" is punycode.
		for util.HasReservedLabelPrefix(l) && !util.HasXNLabelPrefix(l) {
			l = l[:2] + l[3:]
		}
		if l = strings.Trim(l, "-"); l != "" {
			labels = append(labels, l)
		}
	}
	return strings.Join(labels, ".")
}

// dnsNames are the names zlint's DNS lints read: the CN unless it is an IP
// address, then the DNS SANs.
func dnsNames(c *zx509.Certificate) []string {
	var out []string
	if cn := c.Subject.CommonName; cn != "" {
		if _, err := netip.ParseAddr(cn); err != nil {
			out = append(out, cn)
		}
	}
	for _, n := range c.DNSNames {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func dnsWhere(pred func(string) bool) func(*zx509.Certificate) []string {
	return func(c *zx509.Certificate) []string {
		return slices.DeleteFunc(dnsNames(c), func(n string) bool { return !pred(n) })
	}
}

func sanWhere(c *zx509.Certificate, pred func(string) bool) []string {
	return slices.DeleteFunc(slices.Clone(c.DNSNames), func(n string) bool { return !pred(n) })
}

// idnUnicode decodes the xn-- labels of a name; ok is false when one is
// not valid punycode.
func idnUnicode(n string) (string, bool) {
	labels := strings.Split(n, ".")
	for i, l := range labels {
		if util.HasXNLabelPrefix(l) {
			u, err := util.IdnaToUnicode(l)
			if err != nil {
				return "", false
			}
			labels[i] = u
		}
	}
	return strings.Join(labels, "."), true
}

// arpaAddr reads the address a reverse-DNS name stands for.
func arpaAddr(n string) (netip.Addr, bool) {
	n = strings.ToLower(strings.TrimSuffix(n, "."))
	if rest, ok := strings.CutSuffix(n, ".in-addr.arpa"); ok {
		p := strings.Split(rest, ".")
		if len(p) == 4 {
			slices.Reverse(p)
			a, err := netip.ParseAddr(strings.Join(p, "."))
			return a, err == nil
		}
	}
	if rest, ok := strings.CutSuffix(n, ".ip6.arpa"); ok {
		p := strings.Split(rest, ".")
		if len(p) == 32 {
			slices.Reverse(p)
			var b strings.Builder
			for i, x := range p {
				if i > 0 && i%4 == 0 {
					b.WriteByte(':')
				}
				b.WriteString(x)
			}
			a, err := netip.ParseAddr(b.String())
			return a, err == nil
		}
	}
	return netip.Addr{}, false
}

// subjectFieldNames are the subject fields read for values, in the order
// certmint's --subject names them.
var subjectFieldNames = []string{"CN", "C", "ST", "L", "street", "O", "OU"}

func subjectValues(c *zx509.Certificate, field string) []string {
	s := c.Subject
	switch field {
	case "CN":
		if len(s.CommonNames) > 0 {
			return s.CommonNames
		}
		if s.CommonName != "" {
			return []string{s.CommonName}
		}
	case "C":
		return s.Country
	case "ST":
		return s.Province
	case "L":
		return s.Locality
	case "street":
		return s.StreetAddress
	case "O":
		return s.Organization
	case "OU":
		return s.OrganizationalUnit
	}
	return nil
}

// fieldsWhere returns FIELD=value for each value of field (every field
// when field is "") that pred selects.
func fieldsWhere(c *zx509.Certificate, field string, pred func(string) bool) []string {
	var out []string
	for _, f := range subjectFieldNames {
		if field != "" && f != field {
			continue
		}
		for _, v := range subjectValues(c, f) {
			if pred(v) {
				if v == "" || strings.TrimSpace(v) != v {
					v = strconv.Quote(v) // O=" Contoso" shows its space
				}
				out = append(out, f+"="+v)
			}
		}
	}
	return out
}

// fieldValue strips the FIELD= (and quotes) of a value from fieldsWhere.
func fieldValue(v string) string {
	if _, val, ok := strings.Cut(v, "="); ok {
		v = val
	}
	if u, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
		return u
	}
	return v
}

// unmangle returns s decoded once more as UTF-8 when s is UTF-8 text that
// was read as Latin-1 ("MÃ¼ller" for "Müller"), else "".
func unmangle(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return ""
		}
		b = append(b, byte(r))
	}
	if !utf8.Valid(b) || string(b) == s {
		return ""
	}
	return string(b)
}

func lifetime(c *zx509.Certificate) string {
	const day = "2006-01-02 15:04 UTC"
	nb, na := c.NotBefore.UTC().Format(day), c.NotAfter.UTC().Format(day)
	if !c.NotAfter.After(c.NotBefore) {
		return fmt.Sprintf("notBefore %s, notAfter %s", nb, na)
	}
	return fmt.Sprintf("valid from %s to %s (%d days)", nb[:10], na[:10], int(c.NotAfter.Sub(c.NotBefore).Round(24*time.Hour)/(24*time.Hour)))
}

func ecKey(c *zx509.Certificate) (*ecdsa.PublicKey, bool) {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return k, true
	case *zx509.AugmentedECDSA:
		return k.Pub, k.Pub != nil
	}
	return nil, false
}

func keyIf(pred func(*zrsa.PublicKey) bool) func(*zx509.Certificate) []string {
	return func(c *zx509.Certificate) []string {
		if k, ok := c.PublicKey.(*zrsa.PublicKey); ok && pred(k) {
			return []string{keyName(c)}
		}
		return nil
	}
}

// keyName names the certificate's key as a user would: "RSA 1024-bit key".
func keyName(c *zx509.Certificate) string {
	if k, ok := ecKey(c); ok && k.Curve != nil {
		return "ECDSA " + k.Curve.Params().Name + " key"
	}
	switch k := c.PublicKey.(type) {
	case *zrsa.PublicKey:
		return fmt.Sprintf("RSA %d-bit key", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519 key"
	}
	if c.PublicKeyAlgorithmOID != nil {
		return "key of algorithm " + c.PublicKeyAlgorithmOID.String()
	}
	return "the certificate's key"
}

// sigName names the signature algorithm as OpenSSL prints it.
func sigName(c *zx509.Certificate) string {
	switch c.SignatureAlgorithm {
	case zx509.ECDSAWithSHA1:
		return "ecdsa-with-SHA1"
	case zx509.ECDSAWithSHA256:
		return "ecdsa-with-SHA256"
	case zx509.ECDSAWithSHA384:
		return "ecdsa-with-SHA384"
	case zx509.ECDSAWithSHA512:
		return "ecdsa-with-SHA512"
	case zx509.SHA1WithRSA:
		return "sha1WithRSAEncryption"
	}
	return c.SignatureAlgorithm.String()
}

// sigCurve infers the issuing CA's curve from the signature's length, as
// e_mp_ecdsa_signature_encoding_correct does (the certificate does not
// carry the issuer's key).
func sigCurve(c *zx509.Certificate) string {
	switch n := len(c.Signature); {
	case n <= 72:
		return "P-256"
	case n <= 104:
		return "P-384"
	case n <= 140:
		return "P-521"
	}
	return "non-standard"
}

var kuBits = []struct {
	bit  zx509.KeyUsage
	name string
}{
	{zx509.KeyUsageDigitalSignature, "digitalSignature"},
	{zx509.KeyUsageContentCommitment, "nonRepudiation"},
	{zx509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{zx509.KeyUsageDataEncipherment, "dataEncipherment"},
	{zx509.KeyUsageKeyAgreement, "keyAgreement"},
	{zx509.KeyUsageCertSign, "keyCertSign"},
	{zx509.KeyUsageCRLSign, "cRLSign"},
	{zx509.KeyUsageEncipherOnly, "encipherOnly"},
	{zx509.KeyUsageDecipherOnly, "decipherOnly"},
}

func kuNames(ku zx509.KeyUsage) []string {
	var out []string
	for _, b := range kuBits {
		if ku&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

func ekuName(e zx509.ExtKeyUsage) string {
	switch e {
	case zx509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case zx509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case zx509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case zx509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case zx509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case zx509.ExtKeyUsageOcspSigning:
		return "OCSPSigning"
	case zx509.ExtKeyUsageAny:
		return "anyExtendedKeyUsage"
	}
	return fmt.Sprintf("EKU %d", int(e))
}

func ekuNames(c *zx509.Certificate) []string {
	var out []string
	for _, e := range c.ExtKeyUsage {
		out = append(out, ekuName(e))
	}
	return out
}

// kuForEKU is RFC 5280 4.2.1.12's "key usage bits that may be consistent",
// as e_key_usage_and_extended_key_usage_inconsistent applies them.
var kuForEKU = map[zx509.ExtKeyUsage]string{
	zx509.ExtKeyUsageServerAuth:      "digitalSignature with keyEncipherment or keyAgreement",
	zx509.ExtKeyUsageClientAuth:      "digitalSignature and/or keyAgreement",
	zx509.ExtKeyUsageCodeSigning:     "digitalSignature only",
	zx509.ExtKeyUsageEmailProtection: "digitalSignature, nonRepudiation, and keyEncipherment or keyAgreement",
	zx509.ExtKeyUsageTimeStamping:    "digitalSignature and/or nonRepudiation",
	zx509.ExtKeyUsageOcspSigning:     "digitalSignature and/or nonRepudiation",
}

func notHTTP(urls []string) []string {
	return slices.DeleteFunc(slices.Clone(urls), func(u string) bool { return strings.HasPrefix(strings.ToLower(u), "http://") })
}

// sourceNames say where a lint's rule comes from, for lints without a row.
var sourceNames = map[lint.LintSource]string{
	lint.RFC5280:                  "RFC 5280",
	lint.RFC3279:                  "RFC 3279",
	lint.RFC5480:                  "RFC 5480",
	lint.RFC5891:                  "RFC 5891",
	lint.RFC8813:                  "RFC 8813",
	lint.CABFBaselineRequirements: "the CA/Browser Forum Baseline Requirements",
	lint.MozillaRootStorePolicy:   "Mozilla's root store policy",
	lint.AppleRootStorePolicy:     "Apple's root certificate program",
	lint.ChromeRootStorePolicy:    "Chrome's root program",
	lint.Community:                "zlint's community checks",
}

// explain fills f's Value, Problem and Fix from the table, or from zlint's
// description of the lint when the table has no row for it.
func explain(f *Finding, c *zx509.Certificate, reg lint.Registry) {
	text, ok := lintTexts[f.Lint]
	if !ok {
		src := sourceNames[lint.LintSource(f.Source)]
		if src == "" {
			src = "zlint (" + f.Source + ")"
		}
		desc := f.Lint
		if l := reg.CertificateLints().ByName(f.Lint); l != nil && l.Description != "" {
			desc = l.Description
		}
		f.Problem = fmt.Sprintf("the certificate breaks this rule of %s: %q", src, strings.TrimSuffix(desc, "."))
		if f.Details != "" {
			f.Problem += " (" + show(f.Details) + ")"
		}
		f.Fix = "change the request or the template so the certificate meets it"
		return
	}
	f.Problem = text.problem
	var values []string
	if text.find != nil && c != nil {
		values = text.find(c)
	}
	if len(values) == 0 {
		// The value could not be found: say what zlint said instead.
		if f.Details != "" {
			f.Problem += " (" + show(f.Details) + ")"
		}
		if text.fix != nil {
			f.Fix = text.fix("", c)
		} else {
			f.Fix = "change the request or the template so the certificate passes"
		}
		return
	}
	var shown, uses, fixes []string
	for _, v := range values {
		shown = append(shown, show(v))
		if text.use != nil {
			if u := text.use(v); u != "" && u != v {
				uses = append(uses, show(u))
				continue
			}
		}
		if text.fix != nil {
			if fx := text.fix(v, c); !slices.Contains(fixes, fx) {
				fixes = append(fixes, fx)
			}
		}
	}
	f.Value = strings.Join(shown, ", ")
	if len(uses) > 0 {
		fixes = append([]string{"use " + strings.Join(uses, ", ")}, fixes...)
	}
	if len(fixes) == 0 {
		fixes = []string{"change the request or the template so the certificate passes"}
	}
	f.Fix = strings.Join(fixes, "; ")
}

// maxShown bounds a value in a message; a 250-character DNS name is
// recognisable from its ends.
const maxShown = 80

// show makes a value from a certificate safe and short enough to print:
// control, format (bidi, zero-width) and invalid characters are escaped
// as Go does in %q, and a long value keeps its ends.
func show(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r), !unicode.IsPrint(r) && r != ' ':
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	if r := []rune(s); len(r) > maxShown {
		s = string(r[:maxShown/2]) + "…" + string(r[len(r)-maxShown/4:])
	}
	return s
}

// Message is the finding in words: the value, what is wrong with it and
// what to change, then the lint's name.
func (f Finding) Message() string {
	var b strings.Builder
	if f.Value != "" {
		b.WriteString(f.Value)
		b.WriteString(": ")
	}
	b.WriteString(f.Problem)
	if f.Fix != "" {
		b.WriteString("; ")
		b.WriteString(f.Fix)
	}
	fmt.Fprintf(&b, " (%s)", f.Lint)
	return b.String()
}

// lintLines merges findings that say the same thing about the same value
// (zlint has several lints for one underscore) into one line naming every
// lint, in the order of the findings.
func lintLines(findings []Finding) []string {
	type line struct {
		f       Finding
		lints   []string
		generic bool // f.Problem is a generic text
	}
	var lines []*line
	for _, f := range findings {
		i := slices.IndexFunc(lines, func(l *line) bool {
			return l.f.Value == f.Value && l.f.Fix == f.Fix && (l.f.Value != "" || l.f.Problem == f.Problem)
		})
		if i < 0 {
			lines = append(lines, &line{f: f, lints: []string{f.Lint}, generic: lintTexts[f.Lint].generic})
			continue
		}
		if lines[i].generic && !lintTexts[f.Lint].generic {
			lines[i].f.Problem, lines[i].generic = f.Problem, false
		}
		lines[i].lints = append(lines[i].lints, f.Lint)
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		f := l.f
		f.Lint = strings.Join(l.lints, ", ")
		out[i] = f.Message()
	}
	return out
}

// allNeverExempt reports whether no finding could be exempted by a template.
func allNeverExempt(findings []Finding) bool {
	for _, f := range findings {
		if templates.NeverExempt(f.Lint) == "" {
			return false
		}
	}
	return true
}
