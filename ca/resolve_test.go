package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestFind is how revoke and renew name a certificate: a serial (any case,
// colons), a prefix of at least 8 hex digits, a CN naming one valid
// certificate; everything else is ambiguous (with the candidates) or no
// match.
func TestFind(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	issue := func(cn string) *Record {
		t.Helper()
		res, err := s.Issue(ctx, IssueRequest{Template: ecdsaTemplate(t, "find-ecdsa", "crt"), Subject: subj(cn), Out: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Lookup(ctx, res.Cert.SerialNumber)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	one := issue("one.example.com")
	twinA := issue("twin.example.com")
	twinB := issue("twin.example.com")
	gone := issue("gone.example.com")
	if _, err := s.Revoke(ctx, gone.Serial, 4 /* superseded */, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Two serials sharing their first 8 hex digits, recorded directly:
	// random serials practically never do.
	shared := func(tail string) *Record {
		n, _ := new(big.Int).SetString("5D3F9A1C"+tail, 16)
		r := *one
		r.Serial, r.CN = n, "shared.example.com"
		if err := s.DB.Insert(ctx, &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	sharedA, sharedB := shared("00AA"), shared("00BB")

	hex := one.SerialHex()
	var colons []string
	for i := 0; i < len(hex); i += 2 {
		colons = append(colons, hex[i:i+2])
	}
	now := time.Now()
	for _, tc := range []struct {
		name      string
		arg       string
		want      *Record
		ambiguous []*Record // the candidates of an *AmbiguousError
		noMatch   bool
		short     bool
	}{
		{name: "serial", arg: hex, want: one},
		{name: "serial in lower case with colons", arg: strings.ToLower(strings.Join(colons, ":")), want: one},
		{name: "serial with 0x", arg: "0x" + hex, want: one},
		{name: "8-digit prefix", arg: hex[:8], want: one},
		{name: "prefix written as the README does", arg: hex[:10] + "...", want: one},
		{name: "prefix with an ellipsis character", arg: hex[:9] + "…", want: one},
		{name: "shared prefix", arg: "5D3F9A1C", ambiguous: []*Record{sharedA, sharedB}},
		{name: "one of the shared prefix", arg: "5d3f9a1c00aa", want: sharedA},
		{name: "short prefix", arg: hex[:7], noMatch: true, short: true},
		{name: "short prefix written as the README does", arg: hex[:4] + "...", noMatch: true, short: true},
		{name: "CN", arg: "one.example.com", want: one},
		{name: "CN in another case", arg: "ONE.Example.com", want: one},
		{name: "CN of two valid certificates", arg: "twin.example.com", ambiguous: []*Record{twinA, twinB}},
		{name: "CN of a revoked certificate", arg: "gone.example.com", ambiguous: []*Record{gone}},
		{name: "unknown CN", arg: "nobody.example.com", noMatch: true},
		{name: "unknown serial", arg: "0123456789ABCDEF", noMatch: true},
		{name: "ellipsis after a name", arg: "one.example.com...", noMatch: true},
		{name: "the CA is named by serial only", arg: s.Issuing.Cert.Subject.CommonName, noMatch: true},
		{name: "the CA by serial", arg: SerialHex(s.Issuing.Cert.SerialNumber), want: &Record{Serial: s.Issuing.Cert.SerialNumber}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Find(ctx, tc.arg, now)
			var ae *AmbiguousError
			var ne *NoMatchError
			switch {
			case tc.want != nil:
				if err != nil {
					t.Fatalf("Find(%q): %v", tc.arg, err)
				}
				if got.Serial.Cmp(tc.want.Serial) != 0 {
					t.Errorf("Find(%q) = %s, want %s", tc.arg, got.SerialHex(), tc.want.SerialHex())
				}
			case tc.ambiguous != nil:
				if !errors.As(err, &ae) {
					t.Fatalf("Find(%q): %v, want *AmbiguousError", tc.arg, err)
				}
				if len(ae.Candidates) != len(tc.ambiguous) {
					t.Errorf("%d candidates, want %d: %v", len(ae.Candidates), len(tc.ambiguous), err)
				}
				for _, w := range tc.ambiguous {
					if !strings.Contains(err.Error(), w.SerialHex()) {
						t.Errorf("the message does not list %s:\n%v", w.SerialHex(), err)
					}
				}
			case tc.noMatch:
				if !errors.As(err, &ne) || ne.ShortPrefix != tc.short {
					t.Fatalf("Find(%q): %v, want *NoMatchError (short prefix %v)", tc.arg, err, tc.short)
				}
			}
		})
	}

	// A certificate file names its certificate; one from another CA is refused.
	cert, err := one.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindCert(ctx, cert); err != nil || got.Serial.Cmp(one.Serial) != 0 {
		t.Errorf("FindCert: %v, %v", got, err)
	}
	if _, err := s.FindCert(ctx, &x509.Certificate{SerialNumber: big.NewInt(7), Raw: []byte{0}}); !errors.As(err, new(*UsageError)) {
		t.Errorf("FindCert of a foreign certificate: %v", err)
	}
}
