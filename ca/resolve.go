package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/textsafe"
	"github.com/certmint/certmint/store"
)

// MinSerialPrefix is the fewest hex digits Find takes as a serial prefix:
// with certmint's random serials, 8 digits (32 bits) leave a collision
// among a home's certificates unlikely, and Find reports one if it occurs.
const MinSerialPrefix = 8

// AmbiguousError is a name that does not pick one certificate: a serial
// prefix several serials share, or a CN that names no valid certificate or
// several. Candidates are the certificates it matches, soonest expiry first.
type AmbiguousError struct {
	Arg        string
	Candidates []*Record
	// ValidCN is how many valid certificates have Arg as their CN; the
	// name picks one only when that is exactly one.
	ValidCN int
	Now     time.Time
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	if e.ValidCN == 0 && len(e.Candidates) > 0 && !e.anyByPrefix() {
		fmt.Fprintf(&b, "%s names no valid certificate; it names:", strconv.Quote(e.Arg))
	} else {
		fmt.Fprintf(&b, "%s matches %d certificates:", strconv.Quote(e.Arg), len(e.Candidates))
	}
	for _, r := range e.Candidates {
		fmt.Fprintf(&b, "\n%s  %-7s  expires %s  %s", r.SerialHex(), r.State(e.Now), r.NotAfter.UTC().Format("2006-01-02"), textsafe.Quote(r.CN))
	}
	return b.String()
}

// anyByPrefix reports a candidate found by its serial rather than its CN.
func (e *AmbiguousError) anyByPrefix() bool {
	for _, r := range e.Candidates {
		if !strings.EqualFold(r.CN, e.Arg) {
			return true
		}
	}
	return false
}

// NoMatchError is a name that matches no certificate of this CA: no serial,
// serial prefix or CN.
type NoMatchError struct {
	Arg string
	// ShortPrefix says Arg is hexadecimal but shorter than MinSerialPrefix
	// digits, so it was not tried as a serial prefix.
	ShortPrefix bool
}

func (e *NoMatchError) Error() string {
	if e.ShortPrefix {
		return fmt.Sprintf("no certificate of this CA has the serial or the CN %s, and a serial prefix needs at least %d hex digits",
			strconv.Quote(e.Arg), MinSerialPrefix)
	}
	return fmt.Sprintf("no certificate of this CA has the serial, a serial starting with, or the CN %s", strconv.Quote(e.Arg))
}

// Find returns the one certificate arg names, as revoke and renew take it:
//   - its serial in hex (as `certmint list` and `openssl x509 -serial` print
//     it, with or without colons);
//   - the first MinSerialPrefix or more hex digits of its serial, when no
//     other serial starts with them ("5D3F9A1C", or "5D3F9A1C..." as the
//     README writes it);
//   - its CN, compared without case, when exactly one valid certificate has
//     it.
//
// A name that matches several is *AmbiguousError (the candidates, to pick a
// serial from); one that matches none, *NoMatchError.
func (s *Store) Find(ctx context.Context, arg string, now time.Time) (*Record, error) {
	arg = strings.TrimSpace(arg)
	name, prefixOnly := strings.CutSuffix(arg, "...")
	if !prefixOnly {
		name, prefixOnly = strings.CutSuffix(arg, "…")
	}
	digits, isHex := serialDigits(name)
	if prefixOnly && !isHex {
		return nil, &NoMatchError{Arg: arg}
	}
	if isHex && !prefixOnly {
		n, _ := new(big.Int).SetString(digits, 16)
		r, err := s.DB.Lookup(ctx, n)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	var byPrefix []*Record
	if isHex && len(digits) >= MinSerialPrefix {
		var err error
		if byPrefix, err = s.DB.LookupPrefix(ctx, digits); err != nil {
			return nil, err
		}
	}
	var byCN, validCN []*Record
	if !prefixOnly {
		all, err := s.DB.FindByCN(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			if r.IsCA() {
				continue // a CA is named by its serial (revoke --issuing-ca)
			}
			byCN = append(byCN, r)
			if r.State(now) == "valid" {
				validCN = append(validCN, r)
			}
		}
	}
	switch {
	case len(byPrefix) == 1 && (len(validCN) == 0 || sameRecord(validCN[0], byPrefix[0]) && len(validCN) == 1):
		return byPrefix[0], nil
	case len(byPrefix) == 0 && len(validCN) == 1:
		return validCN[0], nil
	case len(byPrefix) == 0 && len(byCN) == 0:
		return nil, &NoMatchError{Arg: arg, ShortPrefix: isHex && len(digits) < MinSerialPrefix}
	}
	cands := byPrefix
	for _, r := range byCN {
		if !containsRecord(cands, r) {
			cands = append(cands, r)
		}
	}
	return nil, &AmbiguousError{Arg: arg, Candidates: cands, ValidCN: len(validCN), Now: now}
}

// FindCert returns the record of a certificate file's certificate, after
// checking that one of this home's CAs issued it.
func (s *Store) FindCert(ctx context.Context, cert *x509.Certificate) (*Record, error) {
	serial, err := s.SerialOfIssued(cert)
	if err != nil {
		return nil, err
	}
	return s.Lookup(ctx, serial)
}

// serialDigits is s without the separators ParseSerial accepts (colons,
// spaces, hyphens, a 0x prefix), and whether what remains is hexadecimal.
func serialDigits(s string) (string, bool) {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(s)
	clean = strings.TrimPrefix(strings.TrimPrefix(clean, "0x"), "0X")
	if clean == "" || len(clean) > 2*20 {
		return "", false
	}
	for _, c := range clean {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", false
		}
	}
	return strings.ToUpper(clean), true
}

func sameRecord(a, b *Record) bool { return a.Serial.Cmp(b.Serial) == 0 && a.AKI == b.AKI }

func containsRecord(list []*Record, r *Record) bool {
	for _, x := range list {
		if sameRecord(x, r) {
			return true
		}
	}
	return false
}
