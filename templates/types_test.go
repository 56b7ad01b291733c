package templates

import (
	"crypto/x509"
	"encoding"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "1h", want: time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "7d", want: 7 * day},
		{in: "30d", want: 30 * day},
		{in: "2w", want: 14 * day},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "2w3d", want: 17 * day},
		{in: "1w1d1h1m", want: 8*day + time.Hour + time.Minute},
		{in: "0d", want: 0},
		{in: "106751d", want: 106751 * day},
		{in: "", wantErr: "empty duration"},
		{in: "3x", wantErr: `invalid duration "3x": use forms like 1h, 30m, 7d, 2w`},
		{in: "d", wantErr: "invalid duration"},
		{in: "1.5d", wantErr: "invalid duration"},
		{in: "-1d", wantErr: "invalid duration"},
		{in: "-1h", wantErr: "invalid duration"},
		{in: "3d2w", wantErr: "invalid duration"},
		{in: "1d1d", wantErr: "invalid duration"},
		{in: "1w2w", wantErr: "invalid duration"},
		{in: " 1h", wantErr: "invalid duration"},
		{in: "1y", wantErr: "invalid duration"},
		{in: "106752d", wantErr: "invalid duration"},
		{in: "99999999999999d", wantErr: "invalid duration"},
		{in: "15250w106751d", wantErr: "invalid duration"},
		{in: "106751d9999999h", wantErr: "invalid duration"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{time.Hour, "1h0m0s"},
		{90 * time.Minute, "1h30m0s"},
		{24 * time.Hour, "1d"},
		{30 * 24 * time.Hour, "30d"},
		{14 * 24 * time.Hour, "14d"},
		{36 * time.Hour, "36h0m0s"},
		{1500 * time.Millisecond, "1.5s"},
	} {
		got := FormatDuration(tc.d)
		if got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
		back, err := ParseDuration(got)
		if err != nil || back != tc.d {
			t.Errorf("ParseDuration(FormatDuration(%v) = %q) = %v, %v", tc.d, got, back, err)
		}
		var d Duration
		if err := d.UnmarshalText([]byte(got)); err != nil || time.Duration(d) != tc.d {
			t.Errorf("Duration.UnmarshalText(%q) = %v, %v", got, time.Duration(d), err)
		}
		if b, _ := Duration(tc.d).MarshalText(); string(b) != tc.want {
			t.Errorf("Duration(%v).MarshalText() = %q, want %q", tc.d, b, tc.want)
		}
	}
	d := Duration(time.Hour)
	if err := d.UnmarshalText([]byte("3x")); err == nil || time.Duration(d) != time.Hour {
		t.Errorf("Duration.UnmarshalText(3x) = %v and changed the value to %v", err, time.Duration(d))
	}
}

func TestParseFormats(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []Format
		wantErr string
	}{
		{in: "crt", want: []Format{FormatCRT}},
		{in: "crt,key,chain", want: []Format{FormatCRT, FormatKey, FormatChain}},
		{in: " pfx , cer ,", want: []Format{FormatPFX, FormatCER}},
		{in: "crt,key,pfx,chain,cer,note", want: []Format{FormatCRT, FormatKey, FormatPFX, FormatChain, FormatCER, FormatNote}},
		{in: "crt,key,pfx,chain,cer,note,install-windows,install-macos,install-linux,mobileconfig", want: AllFormats},
		{in: "", wantErr: "no format given"},
		{in: " , ,", wantErr: "no format given"},
		{in: "pem", wantErr: `format unknown value "pem" (valid: cer, chain, crt, install-linux, install-macos, install-windows, key, mobileconfig, note, pfx)`},
		{in: "crt,p12", wantErr: `unknown value "p12"`},
		{in: "chan", wantErr: `(did you mean "chain"?)`},
		{in: "crt,key,crt", wantErr: `format "crt" is listed twice`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFormats(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseFormats(%q) = %q, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || strings.Join(fmtStrings(got), ",") != strings.Join(fmtStrings(tc.want), ",") {
				t.Fatalf("ParseFormats(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func fmtStrings(fs []Format) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// textEnum is every enum type, as a TextUnmarshaler and its value.
type textEnum interface {
	encoding.TextUnmarshaler
}

func TestEnumUnmarshalText(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		new     func() (textEnum, func() string)
		in      string
		want    string // decoded value
		wantErr string
	}{
		{"KeyUsage", newKeyUsage, "digitalSignature", "digitalSignature", ""},
		{"KeyUsage", newKeyUsage, "keyEncipherment", "keyEncipherment", ""},
		{"KeyUsage", newKeyUsage, "nonRepudiation", "contentCommitment", ""},
		{"KeyUsage", newKeyUsage, "cRLSign", "cRLSign", ""},
		{"KeyUsage", newKeyUsage, "digitalSignatur", "", `unknown value "digitalSignatur" (did you mean "digitalSignature"?)`},
		{"KeyUsage", newKeyUsage, "DigitalSignature", "", `did you mean "digitalSignature"`},
		{"KeyUsage", newKeyUsage, "sign", "", `unknown value "sign" (valid: cRLSign, contentCommitment, dataEncipherment, decipherOnly, digitalSignature, encipherOnly, keyAgreement, keyCertSign, keyEncipherment)`},
		{"KeyUsage", newKeyUsage, "", "", `unknown value ""`},
		{"ExtKeyUsage", newEKU, "serverAuth", "serverAuth", ""},
		{"ExtKeyUsage", newEKU, "OCSPSigning", "OCSPSigning", ""},
		{"ExtKeyUsage", newEKU, "clientauth", "", `did you mean "clientAuth"`},
		{"ExtKeyUsage", newEKU, "anyExtendedKeyUsage", "", "unknown value"},
		{"KeyType", newKeyType, "rsa", "rsa", ""},
		{"KeyType", newKeyType, "ecdsa", "ecdsa", ""},
		{"KeyType", newKeyType, "ed25519", "", `unknown value "ed25519" (valid: ecdsa, rsa)`},
		{"KeyType", newKeyType, "RSA", "", `did you mean "rsa"`},
		{"Curve", newCurve, "P-256", "P-256", ""},
		{"Curve", newCurve, "p256", "P-256", ""},
		{"Curve", newCurve, "prime256v1", "P-256", ""},
		{"Curve", newCurve, "secp256r1", "P-256", ""},
		{"Curve", newCurve, "P-384", "P-384", ""},
		{"Curve", newCurve, "secp384r1", "P-384", ""},
		{"Curve", newCurve, "P-521", "", `unknown value "P-521" (valid: P-256, P-384)`},
		{"Curve", newCurve, "curve25519", "", "unknown value"},
		{"Hash", newHash, "sha256", "sha256", ""},
		{"Hash", newHash, "SHA384", "sha384", ""},
		{"Hash", newHash, "sha512", "sha512", ""},
		{"Hash", newHash, "sha1", "", "sha1 is not allowed: it is broken for signatures; use sha256"},
		{"Hash", newHash, "SHA1", "", "SHA1 is not allowed"},
		{"Hash", newHash, "md5", "", "md5 is not allowed"},
		{"Hash", newHash, "sha-256", "", `did you mean "sha256"`},
		{"Hash", newHash, "whirlpool", "", `unknown value "whirlpool" (valid: sha256, sha384, sha512)`},
		{"SubjectField", newField, "OU", "OU", ""},
		{"SubjectField", newField, "ou", "OU", ""},
		{"SubjectField", newField, "st", "ST", ""},
		{"SubjectField", newField, "EMAIL", "", `unknown value "EMAIL" (valid: C, CN, L, O, OU, ST)`},
		{"CNForm", newCNForm, "fqdn", "fqdn", ""},
		{"CNForm", newCNForm, "hostname", "hostname", ""},
		{"CNForm", newCNForm, "FQDN", "", `did you mean "fqdn"`},
		{"CNForm", newCNForm, "ip", "", `(valid: any, dns, fqdn, hostname)`},
		{"Format", newFormat, "chain", "chain", ""},
		{"Format", newFormat, "p12", "", "unknown value"},
		{"PFXEncryption", newPFX, "legacy", "legacy", ""},
		{"PFXEncryption", newPFX, "modern", "modern", ""},
		{"PFXEncryption", newPFX, "3des", "", `unknown value "3des" (valid: legacy, modern)`},
		{"Issuer", newIssuer, "self", "self", ""},
		{"Issuer", newIssuer, "issuing", "issuing", ""},
		{"Issuer", newIssuer, "root", "", `unknown value "root" (valid: issuing, self)`},
	} {
		t.Run(tc.typ+"/"+tc.in, func(t *testing.T) {
			v, get := tc.new()
			err := v.UnmarshalText([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s.UnmarshalText(%q) = %v (value %q), want error %q", tc.typ, tc.in, err, get(), tc.want)
				}
				if get() != "" {
					t.Errorf("%s.UnmarshalText(%q) failed but set the value to %q", tc.typ, tc.in, get())
				}
				return
			}
			if err != nil || get() != tc.want {
				t.Fatalf("%s.UnmarshalText(%q) = %q, %v; want %q", tc.typ, tc.in, get(), err, tc.want)
			}
		})
	}
}

func newKeyUsage() (textEnum, func() string) {
	var v KeyUsage
	return &v, func() string { return string(v) }
}
func newEKU() (textEnum, func() string) {
	var v ExtKeyUsage
	return &v, func() string { return string(v) }
}
func newKeyType() (textEnum, func() string) {
	var v KeyType
	return &v, func() string { return string(v) }
}
func newCurve() (textEnum, func() string) { var v Curve; return &v, func() string { return string(v) } }
func newHash() (textEnum, func() string)  { var v Hash; return &v, func() string { return string(v) } }
func newField() (textEnum, func() string) {
	var v SubjectField
	return &v, func() string { return string(v) }
}
func newCNForm() (textEnum, func() string) {
	var v CNForm
	return &v, func() string { return string(v) }
}
func newFormat() (textEnum, func() string) {
	var v Format
	return &v, func() string { return string(v) }
}
func newPFX() (textEnum, func() string) {
	var v PFXEncryption
	return &v, func() string { return string(v) }
}
func newIssuer() (textEnum, func() string) {
	var v Issuer
	return &v, func() string { return string(v) }
}

func TestX509Names(t *testing.T) {
	for name, bit := range keyUsages {
		if KeyUsage(name).X509() != bit {
			t.Errorf("KeyUsage(%q).X509() = %v, want %v", name, KeyUsage(name).X509(), bit)
		}
		if KeyUsageName(bit) != name {
			t.Errorf("KeyUsageName(%v) = %q, want %q", bit, KeyUsageName(bit), name)
		}
	}
	if got := KeyUsageName(x509.KeyUsage(1 << 12)); got != "bit4096" {
		t.Errorf("KeyUsageName(unknown) = %q", got)
	}
	for name, u := range extKeyUsages {
		if ExtKeyUsage(name).X509() != u || ExtKeyUsageName(u) != name {
			t.Errorf("ExtKeyUsage %q <-> %v does not round-trip", name, u)
		}
	}
	if got := ExtKeyUsageName(x509.ExtKeyUsageAny); got != "" {
		t.Errorf("ExtKeyUsageName(Any) = %q, want \"\"", got)
	}
	for _, tc := range []struct {
		h    Hash
		key  KeyType
		want x509.SignatureAlgorithm
	}{
		{SHA256, RSA, x509.SHA256WithRSA},
		{SHA384, RSA, x509.SHA384WithRSA},
		{SHA512, RSA, x509.SHA512WithRSA},
		{SHA256, ECDSA, x509.ECDSAWithSHA256},
		{SHA384, ECDSA, x509.ECDSAWithSHA384},
		{SHA512, ECDSA, x509.ECDSAWithSHA512},
		{"", RSA, x509.SHA256WithRSA},
	} {
		if got := tc.h.SignatureAlgorithm(tc.key); got != tc.want {
			t.Errorf("%q.SignatureAlgorithm(%s) = %v, want %v", tc.h, tc.key, got, tc.want)
		}
		if tc.h != "" && HashOf(tc.want) != tc.h {
			t.Errorf("HashOf(%v) = %q, want %q", tc.want, HashOf(tc.want), tc.h)
		}
	}
	for alg, want := range map[x509.SignatureAlgorithm]Hash{
		x509.SHA256WithRSAPSS: SHA256, x509.SHA1WithRSA: "", x509.ECDSAWithSHA1: "", x509.PureEd25519: "", x509.MD5WithRSA: "",
	} {
		if got := HashOf(alg); got != want {
			t.Errorf("HashOf(%v) = %q, want %q", alg, got, want)
		}
	}
}
