package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zmap/zlint/v3/lint"

	"github.com/certmint/certmint/san"
)

// lintIssuer is a throwaway CA: the tests build certificates that break
// one rule each with crypto/x509, which certmint's own paths would refuse
// earlier or never write.
type lintIssuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var lintKeys struct {
	once     sync.Once
	rsaCA    lintIssuer
	p384CA   lintIssuer
	leaf     *rsa.PrivateKey
	ecLeaf   *ecdsa.PrivateKey
	rsa1024  *rsa.PrivateKey
	fermat   *rsa.PublicKey
	p224     *ecdsa.PrivateKey
	ed25519  ed25519.PublicKey
	smallEC  *ecdsa.PublicKey
	errSetup error
}

func lintFixtures(t *testing.T) {
	t.Helper()
	lintKeys.once.Do(func() {
		must := func(err error) {
			if err != nil && lintKeys.errSetup == nil {
				lintKeys.errSetup = err
			}
		}
		newCA := func(key crypto.Signer) lintIssuer {
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(1000),
				Subject:      pkix.Name{CommonName: "Lint Test Issuing CA", Organization: []string{"Test"}, Country: []string{"US"}},
				NotBefore:    time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(30 * 365 * 24 * time.Hour),
				IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
			must(err)
			c, err := x509.ParseCertificate(der)
			must(err)
			return lintIssuer{c, key}
		}
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		lintKeys.rsaCA = newCA(rk)
		ek, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(err)
		lintKeys.p384CA = newCA(ek)
		lintKeys.leaf, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		lintKeys.ecLeaf, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		lintKeys.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024)
		must(err)
		lintKeys.p224, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
		must(err)
		lintKeys.ed25519, _, err = ed25519.GenerateKey(rand.Reader)
		must(err)
		// Two primes next to each other: n = pq falls to Fermat's method.
		p, err := rand.Prime(rand.Reader, 1024)
		must(err)
		q := new(big.Int).Add(p, big.NewInt(2))
		for !q.ProbablyPrime(20) {
			q.Add(q, big.NewInt(2))
		}
		lintKeys.fermat = &rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537}
		// Private key 1: the public key is the curve's generator.
		g := elliptic.P256().Params()
		lintKeys.smallEC = &ecdsa.PublicKey{Curve: elliptic.P256(), X: g.Gx, Y: g.Gy}
	})
	if lintKeys.errSetup != nil {
		t.Fatal(lintKeys.errSetup)
	}
}

// cleanLeaf is a server certificate zlint finds nothing in (TestLintCleanLeaf).
func cleanLeaf() *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes([]byte{0x31, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}),
		Subject:      pkix.Name{CommonName: "host.example.com", Organization: []string{"Contoso"}, Country: []string{"US"}},
		DNSNames:     []string{"host.example.com"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(300 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          []byte{1, 2, 3, 4},
		CRLDistributionPoints: []string{"http://pki.example.com/issuing.crl"},
		IssuingCertificateURL: []string{"http://pki.example.com/issuing.crt"},
	}
}

func lintFindings(t *testing.T, mod func(*x509.Certificate), pub crypto.PublicKey, issuer lintIssuer) []Finding {
	t.Helper()
	c := cleanLeaf()
	if mod != nil {
		mod(c)
	}
	if pub == nil {
		pub = &lintKeys.leaf.PublicKey
	}
	der, err := x509.CreateCertificate(rand.Reader, c, issuer.cert, pub, issuer.key)
	if err != nil {
		t.Fatalf("building the certificate: %v", err)
	}
	fs, err := Lint(der, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestLintCleanLeaf(t *testing.T) {
	lintFixtures(t)
	if fs := lintFindings(t, nil, nil, lintKeys.rsaCA); len(fs) != 0 {
		t.Fatalf("the clean leaf has findings, so the cases below prove nothing: %+v", fs)
	}
}

func addDNS(names ...string) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.DNSNames = append(c.DNSNames, names...) }
}

func setCN(cn string) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.Subject.CommonName = cn; c.DNSNames = []string{cn} }
}

// lintCases: for each row of lintTexts, a certificate that triggers it,
// the other lints the same mistake triggers (also: nothing else may fire),
// and what the message must say: the value and the fix.
type lintCase struct {
	lint  string
	mod   func(*x509.Certificate)
	pub   func() crypto.PublicKey // nil: an RSA 2048 key
	p384  bool                    // signed by the ECDSA P-384 CA
	also  []string
	value string
	fix   string
}

var lintCases = []lintCase{
	// DNS names.
	{lint: "e_dnsname_underscore_in_sld", mod: setCN("MAC_03.local"),
		also:  []string{"e_rfc_dnsname_underscore_in_sld", "e_underscore_not_permissible_in_dnsname"},
		value: "MAC_03.local", fix: "use MAC-03.local"},
	{lint: "e_rfc_dnsname_underscore_in_sld", mod: setCN("corp_x.com"),
		also:  []string{"e_dnsname_underscore_in_sld", "e_underscore_not_permissible_in_dnsname"},
		value: "corp_x.com", fix: "use corp-x.com"},
	{lint: "e_underscore_not_permissible_in_dnsname", mod: setCN("mac_03.corp.example.com"),
		also:  []string{"w_dnsname_underscore_in_trd", "w_rfc_dnsname_underscore_in_trd"},
		value: "mac_03.corp.example.com", fix: "use mac-03.corp.example.com"},
	{lint: "w_dnsname_underscore_in_trd", mod: addDNS("ws_1.lab.example.com"),
		also:  []string{"e_underscore_not_permissible_in_dnsname", "w_rfc_dnsname_underscore_in_trd"},
		value: "ws_1.lab.example.com", fix: "use ws-1.lab.example.com"},
	{lint: "w_rfc_dnsname_underscore_in_trd", mod: addDNS("_sip.example.com"),
		also:  []string{"e_underscore_not_permissible_in_dnsname", "w_dnsname_underscore_in_trd"},
		value: "_sip.example.com", fix: "use sip.example.com"},
	{lint: "e_dnsname_bad_character_in_label", mod: addDNS("a+b.example.com"),
		value: "a+b.example.com", fix: "use a-b.example.com"},
	{lint: "e_dnsname_label_too_long", mod: addDNS(strings.Repeat("a", 64) + ".example.com"),
		also:  []string{"e_rfc_dnsname_label_too_long"},
		value: strings.Repeat("a", 64) + ".example.com", fix: "shorten the label " + strings.Repeat("a", 64) + " (64 characters)"},
	{lint: "e_rfc_dnsname_label_too_long", mod: addDNS("x." + strings.Repeat("b", 70) + ".example.com"),
		also:  []string{"e_dnsname_label_too_long"},
		value: "x.bbbb", fix: "(70 characters)"},
	{lint: "e_ext_san_dns_name_too_long", mod: addDNS(strings.Repeat("abcdefghi.", 26) + "example.com"),
		value: "abcdefghi.abcdefghi.", fix: "use a shorter name (this one has 271)"},
	{lint: "e_dnsname_empty_label", mod: addDNS("www..example.com"),
		also:  []string{"e_rfc_dnsname_empty_label", "e_dnsname_bad_character_in_label"},
		value: "www..example.com", fix: "use www.example.com"},
	{lint: "e_rfc_dnsname_empty_label", mod: addDNS("a..b.example.com"),
		also:  []string{"e_dnsname_empty_label", "e_dnsname_bad_character_in_label"},
		value: "a..b.example.com", fix: "use a.b.example.com"},
	{lint: "e_ext_san_empty_name", mod: addDNS(""),
		also:  []string{"e_dnsname_empty_label", "e_rfc_dnsname_empty_label"},
		value: `""`, fix: "remove the empty or blank name"},
	{lint: "e_ext_san_space_dns_name", mod: addDNS(" "),
		also:  []string{"e_dnsname_bad_character_in_label"},
		value: `" "`, fix: "remove the empty or blank name"},
	{lint: "e_san_dns_name_starts_with_period", mod: addDNS(".example.com"),
		also:  []string{"e_dnsname_empty_label", "e_rfc_dnsname_empty_label", "e_dnsname_bad_character_in_label"},
		value: ".example.com", fix: "use example.com"},
	{lint: "e_san_dns_name_includes_null_char", mod: addDNS("a\x00b.example.com"),
		also:  []string{"e_dnsname_bad_character_in_label"},
		value: `a\x00b.example.com`, fix: "use ab.example.com"},
	{lint: "e_san_bare_wildcard", mod: addDNS("*"),
		value: "*", fix: "*.example.com with your domain"},
	{lint: "e_san_wildcard_not_first", mod: addDNS("w*.example.com"),
		also:  []string{"e_dnsname_left_label_wildcard_correct"},
		value: "w*.example.com", fix: "use *.example.com"},
	{lint: "e_dnsname_wildcard_only_in_left_label", mod: addDNS("www.*.example.com"),
		also:  []string{"e_san_wildcard_not_first"},
		value: "www.*.example.com", fix: "use *.example.com"},
	{lint: "e_dnsname_left_label_wildcard_correct", mod: addDNS("api*.example.com"),
		also:  []string{"e_san_wildcard_not_first"},
		value: "api*.example.com", fix: "use *.example.com"},
	{lint: "e_dnsname_hyphen_in_sld", mod: addDNS("-contoso.com"),
		also:  []string{"e_rfc_dnsname_hyphen_in_sld"},
		value: "-contoso.com", fix: "use contoso.com"},
	{lint: "e_rfc_dnsname_hyphen_in_sld", mod: addDNS("www.contoso-.com"),
		also:  []string{"e_dnsname_hyphen_in_sld"},
		value: "www.contoso-.com", fix: "use www.contoso.com"},
	{lint: "e_dnsname_contains_prohibited_reserved_label", mod: addDNS("ab--cd.example.com"),
		value: "ab--cd.example.com", fix: "use ab-cd.example.com"},
	{lint: "e_international_dns_name_not_unicode", mod: addDNS("xn--zz-.example.com"),
		value: "xn--zz-.example.com", fix: "write the name in Unicode"},
	// "café" written with a combining accent (e + U+0301) encodes to
	// xn--cafe-yvc; its NFC form (é) is xn--caf-dma.
	{lint: "e_international_dns_name_not_nfc", mod: addDNS("xn--cafe-yvc.example.com"),
		value: "xn--cafe-yvc.example.com", fix: "use xn--caf-dma.example.com"},
	{lint: "e_dnsname_contains_bare_iana_suffix", mod: addDNS("com"),
		value: "com", fix: "host.com"},
	{lint: "e_arpa_domain_not_allowed", mod: addDNS("4.3.2.1.in-addr.arpa"),
		value: "4.3.2.1.in-addr.arpa", fix: "its address 1.2.3.4 as an IP SAN"},
	{lint: "e_subject_contains_reserved_arpa_ip", mod: addDNS("1.0.0.10.in-addr.arpa"),
		also:  []string{"e_arpa_domain_not_allowed"},
		value: "1.0.0.10.in-addr.arpa", fix: "its address 10.0.0.1 as an IP SAN"},
	{lint: "e_san_dns_name_onion_invalid", mod: addDNS("shop.onion"),
		value: "shop.onion", fix: "remove it"},

	// The common name.
	{lint: "e_subject_common_name_not_exactly_from_san", mod: func(c *x509.Certificate) { c.Subject.CommonName = "HOST.example.com" },
		value: "HOST.example.com", fix: "write the CN as host.example.com, as in the SAN"},
	{lint: "e_subject_common_name_max_length", mod: func(c *x509.Certificate) {
		c.Subject.CommonName = "this-common-name-is-longer-than-sixty-four.characters.example.com"
		c.DNSNames = []string{c.Subject.CommonName}
	}, value: "CN=this-common-name-is-longer-than-sixty-four.characters.example.com", fix: "use a shorter CN (this one has 65)"},

	// Subject fields.
	{lint: "e_subject_organization_name_max_length", mod: func(c *x509.Certificate) { c.Subject.Organization = []string{strings.Repeat("O", 65)} },
		value: "O=OOOO", fix: "shorten it (it has 65)"},
	{lint: "e_subject_organizational_unit_name_max_length", mod: func(c *x509.Certificate) { c.Subject.OrganizationalUnit = []string{strings.Repeat("U", 70)} },
		value: "OU=UUUU", fix: "shorten it (it has 70)"},
	{lint: "e_subject_locality_name_max_length", mod: func(c *x509.Certificate) { c.Subject.Locality = []string{strings.Repeat("L", 129)} },
		value: "L=LLLL", fix: "shorten it (it has 129)"},
	{lint: "e_subject_state_name_max_length", mod: func(c *x509.Certificate) { c.Subject.Province = []string{strings.Repeat("S", 130)} },
		value: "ST=SSSS", fix: "shorten it (it has 130)"},
	{lint: "e_subject_country_not_iso", mod: func(c *x509.Certificate) { c.Subject.Country = []string{"UK"} },
		value: "C=UK", fix: "use C=GB"},
	{lint: "e_subj_country_not_uppercase", mod: func(c *x509.Certificate) { c.Subject.Country = []string{"de"} },
		value: "C=de", fix: "use C=DE"},
	{lint: "e_subject_contains_noninformational_value", mod: func(c *x509.Certificate) { c.Subject.OrganizationalUnit = []string{"-"} },
		value: "OU=-", fix: "give the real value or leave the field out"},
	{lint: "e_subject_contains_organizational_unit_name_and_no_organization_name", mod: func(c *x509.Certificate) {
		c.Subject.Organization = nil
		c.Subject.OrganizationalUnit = []string{"OT"}
	}, value: "OU=OT", fix: "add O= with your organization to the subject, or leave OU out"},
	{lint: "e_sub_cert_locality_name_must_not_appear", mod: func(c *x509.Certificate) {
		c.Subject.Organization = nil
		c.Subject.Locality = []string{"Berlin"}
	}, value: "L=Berlin", fix: "leave L out"},
	{lint: "e_sub_cert_province_must_not_appear", mod: func(c *x509.Certificate) {
		c.Subject.Organization = nil
		c.Subject.Province = []string{"Bavaria"}
	}, value: "ST=Bavaria", fix: "leave ST out"},
	{lint: "e_sub_cert_street_address_should_not_exist", mod: func(c *x509.Certificate) {
		c.Subject.Organization = nil
		c.Subject.StreetAddress = []string{"1 Main St"}
	}, value: "street=1 Main St", fix: "leave street out"},
	{lint: "e_duplicate_subject_attribs", mod: func(c *x509.Certificate) { c.Subject.Organization = []string{"Contoso", "Fabrikam"} },
		value: "O=Contoso, O=Fabrikam", fix: "keep one O"},
	{lint: "e_subj_contains_html_entities", mod: func(c *x509.Certificate) { c.Subject.Organization = []string{"AT&amp;T"} },
		value: "O=AT&amp;T", fix: "use O=AT&T"},
	{lint: "e_utf8_latin1_mixup", mod: func(c *x509.Certificate) { c.Subject.Organization = []string{"MÃ¼ller GmbH"} },
		value: "O=MÃ¼ller GmbH", fix: "use O=Müller GmbH"},
	{lint: "e_utf8_replacement_char_in_subject", mod: func(c *x509.Certificate) { c.Subject.Organization = []string{"M\uFFFDller"} },
		value: `O=M\ufffdller`, fix: "retype the value"},
	{lint: "e_subject_dn_not_printable_characters", mod: func(c *x509.Certificate) { c.Subject.Organization = []string{"Con\x1btoso"} },
		value: `O=Con\x1btoso`, fix: "use O=Contoso"},
	{lint: "w_subject_dn_leading_whitespace", mod: func(c *x509.Certificate) { c.Subject.Organization = []string{" Contoso"} },
		value: `O=" Contoso"`, fix: "use O=Contoso"},
	{lint: "w_subject_dn_trailing_whitespace", mod: func(c *x509.Certificate) { c.Subject.OrganizationalUnit = []string{"OT "} },
		value: `OU="OT "`, fix: "use OU=OT"},

	// Validity.
	{lint: "e_validity_time_not_positive", mod: func(c *x509.Certificate) { c.NotAfter = c.NotBefore.Add(-time.Hour) },
		value: "notBefore " + time.Now().Add(-time.Hour).UTC().Format("2006-01-02"), fix: "ask for a positive number of days"},
	{lint: "e_sub_cert_valid_time_longer_than_39_months", mod: func(c *x509.Certificate) { c.NotAfter = c.NotBefore.Add(2000 * 24 * time.Hour) },
		value: "(2000 days)", fix: "ask for at most 11"},

	// Keys.
	{lint: "e_mp_modulus_must_be_2048_bits_or_more", pub: func() crypto.PublicKey { return &lintKeys.rsa1024.PublicKey },
		also:  []string{"e_rsa_mod_less_than_2048_bits"},
		value: "RSA 1024-bit key", fix: "make a new key of 2048, 3072 or 4096 bits"},
	{lint: "e_rsa_mod_less_than_2048_bits", pub: func() crypto.PublicKey { return &lintKeys.rsa1024.PublicKey },
		also:  []string{"e_mp_modulus_must_be_2048_bits_or_more"},
		value: "RSA 1024-bit key", fix: "2048, 3072 or 4096 bits"},
	{lint: "e_mp_modulus_must_be_divisible_by_8", pub: func() crypto.PublicKey {
		return &rsa.PublicKey{N: new(big.Int).Lsh(lintKeys.rsa1024.N, 1028), E: 65537} // 2052 bits, even
	}, also: []string{"w_rsa_mod_factors_smaller_than_752", "w_rsa_mod_not_odd"},
		value: "RSA 2052-bit key", fix: "make a new key of 2048, 3072 or 4096 bits"},
	{lint: "e_rsa_public_exponent_too_small", pub: func() crypto.PublicKey { return &rsa.PublicKey{N: lintKeys.leaf.N, E: 1} },
		also:  []string{"e_mp_exponent_cannot_be_one", "w_rsa_public_exponent_not_in_range"},
		value: "RSA public exponent 1", fix: "make a new key with exponent 65537"},
	{lint: "e_mp_exponent_cannot_be_one", pub: func() crypto.PublicKey { return &rsa.PublicKey{N: lintKeys.leaf.N, E: 1} },
		also:  []string{"e_rsa_public_exponent_too_small", "w_rsa_public_exponent_not_in_range"},
		value: "RSA public exponent 1", fix: "exponent 65537"},
	{lint: "e_rsa_public_exponent_not_odd", pub: func() crypto.PublicKey { return &rsa.PublicKey{N: lintKeys.leaf.N, E: 65536} },
		also:  []string{"w_rsa_public_exponent_not_in_range"},
		value: "RSA public exponent 65536", fix: "exponent 65537"},
	{lint: "w_rsa_public_exponent_not_in_range", pub: func() crypto.PublicKey { return &rsa.PublicKey{N: lintKeys.leaf.N, E: 3} },
		value: "RSA public exponent 3", fix: "exponent 65537"},
	{lint: "e_rsa_fermat_factorization", pub: func() crypto.PublicKey { return lintKeys.fermat },
		value: "RSA 2048-bit key", fix: "make a new key with another tool"},
	{lint: "e_ecdsa_small_private_key", pub: func() crypto.PublicKey { return lintKeys.smallEC },
		value: "ECDSA P-256 key", fix: "make a new key with another tool"},
	{lint: "e_algorithm_identifier_improper_encoding", pub: func() crypto.PublicKey { return lintKeys.ed25519 },
		value: "Ed25519 key", fix: "make a new key of one of those types"},
	{lint: "e_ec_improper_curves", pub: func() crypto.PublicKey { return &lintKeys.p224.PublicKey },
		also:  []string{"e_algorithm_identifier_improper_encoding", "e_mp_ecdsa_pub_key_encoding_correct"},
		value: "ECDSA P-224 key", fix: "make a new key of one of those types"},
	{lint: "e_mp_ecdsa_pub_key_encoding_correct", pub: func() crypto.PublicKey { return &lintKeys.p224.PublicKey },
		also:  []string{"e_algorithm_identifier_improper_encoding", "e_ec_improper_curves"},
		value: "ECDSA P-224 key", fix: "one of those types"},

	// Signatures.
	{lint: "e_mp_ecdsa_signature_encoding_correct", p384: true, mod: func(c *x509.Certificate) { c.SignatureAlgorithm = x509.ECDSAWithSHA256 },
		value: "ecdsa-with-SHA256 signature by a P-384 issuing CA key", fix: `set signature.hash = "sha384" in the template`},
	{lint: "e_sub_cert_or_sub_ca_using_sha1", mod: func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA1WithRSA },
		also:  []string{"w_sub_cert_sha1_expiration_too_long"},
		value: "sha1WithRSAEncryption", fix: `set signature.hash = "sha256"`},

	// Key usage.
	{lint: "e_key_usage_and_extended_key_usage_inconsistent", mod: func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}, value: "key usage digitalSignature, keyEncipherment with extended key usage clientAuth",
		fix: "change usage.key_usage in the template (clientAuth allows digitalSignature and/or keyAgreement)"},
	{lint: "e_ecdsa_allowed_ku", pub: func() crypto.PublicKey { return &lintKeys.ecLeaf.PublicKey }, mod: func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}, also: []string{"e_cabf_ecc_allowed_key_usages"},
		value: "key usage digitalSignature, keyEncipherment with an ECDSA key", fix: "remove keyEncipherment"},
	{lint: "e_cabf_ecc_allowed_key_usages", pub: func() crypto.PublicKey { return &lintKeys.ecLeaf.PublicKey }, mod: func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageKeyAgreement
	}, also: []string{"w_cabf_ecc_ku_keyagreement_present"},
		value: "key usage keyAgreement with an ECDSA key", fix: "add digitalSignature"},
	{lint: "e_rsa_allowed_ku_ee", mod: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement },
		value: "key usage keyAgreement with an RSA key", fix: "remove the other usages from usage.key_usage"},

	// URLs.
	{lint: "e_crl_distrib_points_not_http", mod: func(c *x509.Certificate) { c.CRLDistributionPoints = []string{"https://pki.example.com/issuing.crl"} },
		also:  []string{"e_sub_cert_crl_distribution_points_does_not_contain_url", "w_distribution_point_missing_ldap_or_uri"},
		value: "https://pki.example.com/issuing.crl", fix: "give the CA home an http:// base URL"},
	{lint: "e_sub_cert_crl_distribution_points_does_not_contain_url", mod: func(c *x509.Certificate) { c.CRLDistributionPoints = []string{"ldap://pki.example.com/cn=crl"} },
		also:  []string{"e_crl_distrib_points_not_http"},
		value: "ldap://pki.example.com/cn=crl", fix: "http:// base URL"},
	{lint: "e_aia_ca_issuers_must_have_http_only", mod: func(c *x509.Certificate) { c.IssuingCertificateURL = []string{"https://pki.example.com/issuing.crt"} },
		also:  []string{"w_ext_aia_access_location_missing", "w_sub_cert_aia_does_not_contain_issuing_ca_url"},
		value: "https://pki.example.com/issuing.crt", fix: "http:// base URL"},

	// Other SANs.
	{lint: "e_ext_san_rfc822_format_invalid", mod: func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		c.EmailAddresses = []string{"<admin@contoso.com>"}
	}, value: "<admin@contoso.com>", fix: "use admin@contoso.com"},
	{lint: "e_ext_san_rfc822_name_present", mod: func(c *x509.Certificate) { c.EmailAddresses = []string{"admin@contoso.com"} },
		value: "email:admin@contoso.com", fix: "use a template without serverAuth"},
	{lint: "e_ext_san_uniform_resource_identifier_present", mod: func(c *x509.Certificate) {
		u, _ := url.Parse("https://contoso.com/device/1")
		c.URIs = []*url.URL{u}
	}, value: "URI:https://contoso.com/device/1", fix: "remove the name"},
}

// TestLintTexts: every row of the table, triggered by a certificate made
// for it, says the offending value, the fix and the lint's name.
func TestLintTexts(t *testing.T) {
	lintFixtures(t)
	for _, tc := range lintCases {
		t.Run(tc.lint, func(t *testing.T) {
			var pub crypto.PublicKey
			if tc.pub != nil {
				pub = tc.pub()
			}
			issuer := lintKeys.rsaCA
			if tc.p384 {
				issuer = lintKeys.p384CA
			}
			fs := lintFindings(t, tc.mod, pub, issuer)
			var got []string
			for _, f := range fs {
				got = append(got, f.Lint)
			}
			want := append([]string{tc.lint}, tc.also...)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("the certificate triggers %q, want exactly %q", got, want)
			}
			i := slices.IndexFunc(fs, func(f Finding) bool { return f.Lint == tc.lint })
			f := fs[i]
			msg := f.Message()
			if !strings.Contains(f.Value, tc.value) || !strings.HasPrefix(msg, f.Value+": ") {
				t.Errorf("value: %q, want it to name %q\n%s", f.Value, tc.value, msg)
			}
			if !strings.Contains(f.Fix, tc.fix) {
				t.Errorf("fix: %q, want %q\n%s", f.Fix, tc.fix, msg)
			}
			if f.Problem != lintTexts[tc.lint].problem {
				t.Errorf("problem: %q, want the table's %q", f.Problem, lintTexts[tc.lint].problem)
			}
			if !strings.HasSuffix(msg, " ("+tc.lint+")") {
				t.Errorf("message does not end with the lint name: %s", msg)
			}
			// The error a user sees names the value, the fix and the lint
			// on one line, whatever the other lints of the mistake.
			var bad []Finding
			for _, g := range fs {
				if g.Status == "error" || g.Status == "fatal" {
					bad = append(bad, g)
				}
			}
			if len(bad) == 0 {
				return // a warning: issue prints Message as is
			}
			text := (&LintError{Findings: bad}).Error()
			if slices.ContainsFunc(bad, func(g Finding) bool { return g.Lint == tc.lint }) &&
				!slices.ContainsFunc(strings.Split(text, "\n"), func(l string) bool {
					return strings.Contains(l, tc.value) && strings.Contains(l, tc.fix) && strings.Contains(l, tc.lint)
				}) {
				t.Errorf("no line of the error names %q, %q and %s:\n%s", tc.value, tc.fix, tc.lint, text)
			}
			if strings.ContainsFunc(text, func(r rune) bool { return r < 0x20 && r != '\n' }) {
				t.Errorf("the error holds a raw control character: %q", text)
			}
		})
	}
}

// Every row has a case above, names a lint zlint has, and one the CA
// runs: a zlint upgrade that renames a lint, or a row for a lint the CA
// excludes, fails here.
func TestLintTextsCovered(t *testing.T) {
	reg, err := lintRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range lintTexts {
		if !KnownLint(name) {
			t.Errorf("lintTexts: zlint has no lint %q", name)
			continue
		}
		if reg.CertificateLints().ByName(name) == nil {
			t.Errorf("lintTexts: %q is not run by the CA (privateCAExclusions or lintSources), so its row is never read", name)
		}
		if !slices.ContainsFunc(lintCases, func(c lintCase) bool { return c.lint == name }) {
			t.Errorf("lintTexts: %q has no case in lintCases", name)
		}
		if text.problem == "" || strings.HasSuffix(text.problem, ".") {
			t.Errorf("lintTexts[%q]: problem %q is empty or ends with a period", name, text.problem)
		}
		if text.use == nil && text.fix == nil {
			t.Errorf("lintTexts[%q] says no fix", name)
		}
	}
	for _, c := range lintCases {
		if _, ok := lintTexts[c.lint]; !ok {
			t.Errorf("lintCases: %q has no row in lintTexts", c.lint)
		}
	}
}

// A lint without a row is explained from zlint's description, never by
// its name alone.
func TestLintFallback(t *testing.T) {
	lintFixtures(t)
	fs := lintFindings(t, func(c *x509.Certificate) { c.IsCA = true }, nil, lintKeys.rsaCA)
	i := slices.IndexFunc(fs, func(f Finding) bool { return f.Lint == "e_sub_cert_not_is_ca" })
	if i < 0 {
		t.Fatalf("an end-entity certificate with cA=true: findings %+v, want e_sub_cert_not_is_ca", fs)
	}
	if _, ok := lintTexts["e_sub_cert_not_is_ca"]; ok {
		t.Fatal("e_sub_cert_not_is_ca has a row now; pick another lint for this test")
	}
	for _, f := range fs {
		if _, ok := lintTexts[f.Lint]; ok {
			continue
		}
		l := lint.GlobalRegistry().CertificateLints().ByName(f.Lint)
		want := strings.TrimSuffix(l.Description, ".")
		if msg := f.Message(); !strings.Contains(msg, want) || !strings.Contains(msg, "the CA/Browser Forum Baseline Requirements") ||
			!strings.Contains(msg, "change the request or the template") || !strings.HasSuffix(msg, "("+f.Lint+")") {
			t.Errorf("fallback message %q, want zlint's description %q, its source and a fix", msg, want)
		}
	}
	// A name zlint does not know (a finding from a newer zlint, say).
	f := Finding{Lint: "e_from_the_future", Source: "Community", Details: "bad\x1b[31m"}
	reg, _ := lintRegistry()
	explain(&f, nil, reg)
	if msg := f.Message(); !strings.Contains(msg, "zlint's community checks") || !strings.Contains(msg, `bad\x1b[31m`) || strings.Contains(msg, "\x1b") {
		t.Errorf("unknown lint: %q", msg)
	}
}

func TestLintErrorText(t *testing.T) {
	underscore := []Finding{
		{Lint: "e_dnsname_underscore_in_sld", Status: "error", Value: "MAC_03.local", Problem: "DNS names may not contain an underscore", Fix: "use MAC-03.local"},
		{Lint: "e_rfc_dnsname_underscore_in_sld", Status: "error", Value: "MAC_03.local", Problem: "DNS names may not contain an underscore", Fix: "use MAC-03.local"},
	}
	country := Finding{Lint: "e_subject_country_not_iso", Status: "error", Value: "C=UK", Problem: "the country must be a two-letter ISO 3166 code", Fix: "use C=GB"}
	sig := Finding{Lint: "e_mp_ecdsa_signature_encoding_correct", Status: "error", Value: "ecdsa-with-SHA256 signature by a P-384 issuing CA key", Problem: "p", Fix: "f"}
	for _, tc := range []struct {
		name     string
		findings []Finding
		want     string
		hint     string
	}{
		{"one mistake, two lints, one line", underscore,
			"the certificate was not released: MAC_03.local: DNS names may not contain an underscore; use MAC-03.local (e_dnsname_underscore_in_sld, e_rfc_dnsname_underscore_in_sld)",
			"a template may exempt a lint ([[lint.exempt]]) only where a vendor sentence forces it"},
		{"two mistakes", append(slices.Clone(underscore), country),
			"the certificate was not released, for 2 reasons:\n" +
				"MAC_03.local: DNS names may not contain an underscore; use MAC-03.local (e_dnsname_underscore_in_sld, e_rfc_dnsname_underscore_in_sld)\n" +
				"C=UK: the country must be a two-letter ISO 3166 code; use C=GB (e_subject_country_not_iso)",
			"change the request or the template as said above"},
		{"an encoding lint cannot be exempted", []Finding{sig},
			"the certificate was not released: ecdsa-with-SHA256 signature by a P-384 issuing CA key: p; f (e_mp_ecdsa_signature_encoding_correct)",
			"validity and encoding lints cannot be exempted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &LintError{Findings: tc.findings}
			if got := e.Error(); got != tc.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
			}
			h := e.HintText()
			if !strings.Contains(h, tc.hint) {
				t.Errorf("HintText() = %q, want %q", h, tc.hint)
			}
			// The same error comes from issue, sign, batch, renew and
			// safeq: the hint names no flag.
			if strings.Contains(h, "--") {
				t.Errorf("HintText() names a flag: %q", h)
			}
		})
	}
}

func TestShow(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"MAC_03.local", "MAC_03.local"},
		{"Müller", "Müller"},
		{"a\x00b", `a\x00b`},
		{"evil\x1b[2Jx", `evil\x1b[2Jx`},
		{"abc\u202etxt.exe", `abc\u202etxt.exe`}, // right-to-left override
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"", `""`},
		{" lead", `" lead"`},
		{strings.Repeat("a", 100) + ".com", strings.Repeat("a", 40) + "…" + strings.Repeat("a", 16) + ".com"},
	} {
		if got := show(tc.in); got != tc.want {
			t.Errorf("show(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Through issuance: a CN with an underscore, as 000's MAC01.local would be
// mistyped, is refused in words and nothing is recorded or written.
func TestIssueLintErrorInWords(t *testing.T) {
	s := newHome(t)
	for _, tc := range []struct {
		name string
		req  IssueRequest
		want string
	}{
		{"underscore in the CN", IssueRequest{Template: mustTemplate(t, "server"), Subject: subj("MAC_03.local")},
			"the certificate was not released: MAC_03.local: DNS names may not contain an underscore; use MAC-03.local (e_dnsname_underscore_in_sld, e_rfc_dnsname_underscore_in_sld, e_underscore_not_permissible_in_dnsname)"},
		{"underscore in a SAN", IssueRequest{Template: mustTemplate(t, "server"), Subject: subj("web.contoso.com"),
			SANs: []san.Name{{Kind: san.DNS, Value: "print_srv.contoso.com"}}},
			"print_srv.contoso.com: DNS names may not contain an underscore; use print-srv.contoso.com"},
		{"UK is not an ISO country code", IssueRequest{Template: mustTemplate(t, "server"),
			Subject: pkix.Name{CommonName: "web.contoso.com", Country: []string{"UK"}, Organization: []string{"Contoso"}}},
			"the certificate was not released: C=UK: the country must be a two-letter ISO 3166 code; use C=GB (e_subject_country_not_iso)"},
		// zlint applies the CA/Browser Forum limits to certificates
		// without an EKU too, such as SafeQ's signing certificate.
		{"more days than 39 months", IssueRequest{Template: mustTemplate(t, "safeq-signing"), Subject: subj("YSoft SafeQ"), Days: 1500},
			"a certificate may be valid for at most 39 months; ask for at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := countCerts(t, s)
			out := t.TempDir()
			tc.req.Out, tc.req.Password = out, "x"
			_, err := s.Issue(context.Background(), tc.req)
			var le *LintError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a LintError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err =\n%s\nwant it to contain\n%s", err, tc.want)
			}
			if countCerts(t, s) != before || !emptyDir(t, out) {
				t.Error("a certificate refused by lint was recorded or written")
			}
		})
	}
}

func TestCleanDNS(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"MAC_03.local", "MAC-03.local"},
		{"_sip._tcp.example.com", "sip.tcp.example.com"},
		{"my host.example.com", "my-host.example.com"},
		{"a..b.example.com.", "a.b.example.com"},
		{"-web-.example.com", "web.example.com"},
		{"ab--cd.example.com", "ab-cd.example.com"},
		{"a--b.example.com", "a--b.example.com"}, // "--" elsewhere is allowed
		{"xn--caf-dma.example.com", "xn--caf-dma.example.com"},
		{"*.example.com", "*.example.com"},
		{" ", ""},
	} {
		if got := cleanDNS(tc.in); got != tc.want {
			t.Errorf("cleanDNS(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The CA/Browser Forum's coming validity steps for public TLS (100 days
// from 15 March 2027, 47 from 15 March 2029) are for publicly trusted
// certificates: a private CA's 397-day server certificate issued after
// them still passes (privateCAExclusions).
func TestLintFutureBRValiditySteps(t *testing.T) {
	lintFixtures(t)
	for _, start := range []time.Time{
		time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC),
	} {
		fs := lintFindings(t, func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = start, start.Add(397*24*time.Hour)
		}, nil, lintKeys.rsaCA)
		if len(fs) != 0 {
			t.Errorf("a 397-day server certificate from %s: %+v", start.Format("2006-01-02"), fs)
		}
	}
}
