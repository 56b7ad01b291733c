package store

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// maxSerialHexDigits bounds the serials LookupPrefix searches: RFC 5280
// 4.1.2.2, "Conforming CAs MUST NOT use serialNumber values longer than 20
// octets", and Go's x509.CreateCertificate refuses longer ones, so no
// certificate certmint signed has more than 40 hex digits.
const maxSerialHexDigits = 40

// LookupPrefix returns the records whose serial, written as certmint prints
// it (SerialHex: upper-case hex, a leading 0 to an even length), starts
// with prefix (hex digits, either case), soonest expiry first.
//
// Serials are stored as decimal text (cfssl's certdb schema), so a hex
// prefix is not a text prefix of the column. It is a set of numeric
// ranges, one per printed length: for a length of D digits, the serials
// from P·16^(D-k) to (P+1)·16^(D-k)-1, where P is the prefix's value and k
// its length. Each range becomes decimal-text ranges, split where the
// decimal length changes, because decimal strings of equal length sort as
// their numbers do in both backends (SQLite compares the text bytewise,
// PostgreSQL the bytea bytes). The query is then a few range conditions on
// the indexed serial_number column instead of a scan of every row through
// Go; at most 20 printed lengths, each at most two decimal lengths.
func (db *DB) LookupPrefix(ctx context.Context, prefix string) ([]*Record, error) {
	p, ok := new(big.Int).SetString(prefix, 16)
	if !ok || prefix == "" || strings.ContainsAny(prefix, "+-_") {
		return nil, fmt.Errorf("issuance database: serial prefix %q is not hexadecimal", prefix)
	}
	var conds []string
	var args []any
	for _, r := range prefixRanges(p, len(prefix)) {
		for _, d := range decimalRanges(r[0], r[1]) {
			conds = append(conds, `(LENGTH(serial_number) = ? AND serial_number BETWEEN ? AND ?)`)
			args = append(args, len(d[0]), d[0], d[1])
		}
	}
	if len(conds) == 0 {
		return nil, nil
	}
	return db.selectRecords(ctx, `SELECT `+recordColumns+` FROM certificates WHERE `+strings.Join(conds, " OR "), args...)
}

// FindByCN returns the records whose common name is cn, compared without
// case (DNS names, RFC 4343), soonest expiry first.
func (db *DB) FindByCN(ctx context.Context, cn string) ([]*Record, error) {
	return db.selectRecords(ctx, `SELECT `+recordColumns+` FROM certificates WHERE LOWER(common_name) = LOWER(?)`, cn)
}

func (db *DB) selectRecords(ctx context.Context, query string, args ...any) ([]*Record, error) {
	var rows []recordRow
	if err := db.x.SelectContext(ctx, &rows, db.x.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("issuance database: %w", err)
	}
	out := make([]*Record, 0, len(rows))
	for _, row := range rows {
		r, err := row.record()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NotAfter.Equal(out[j].NotAfter) {
			return out[i].NotAfter.Before(out[j].NotAfter)
		}
		return out[i].Serial.Cmp(out[j].Serial) < 0
	})
	return out, nil
}

// prefixRanges are the inclusive ranges of serials whose SerialHex starts
// with the k-digit prefix p, one per printed length.
func prefixRanges(p *big.Int, k int) [][2]*big.Int {
	sixteen := big.NewInt(16)
	var out [][2]*big.Int
	for d := k + k%2; d <= maxSerialHexDigits; d += 2 {
		if d < 2 {
			continue
		}
		// Serials printed with d digits: from 16^(d-2) (for d = 2, from 0)
		// to 16^d - 1.
		lenLo := new(big.Int)
		if d > 2 {
			lenLo.Exp(sixteen, big.NewInt(int64(d-2)), nil)
		}
		lenHi := new(big.Int).Exp(sixteen, big.NewInt(int64(d)), nil)
		lenHi.Sub(lenHi, big.NewInt(1))
		scale := new(big.Int).Exp(sixteen, big.NewInt(int64(d-k)), nil)
		lo := new(big.Int).Mul(p, scale)
		hi := new(big.Int).Add(p, big.NewInt(1))
		hi.Mul(hi, scale).Sub(hi, big.NewInt(1))
		if lo.Cmp(lenLo) < 0 {
			lo = lenLo
		}
		if hi.Cmp(lenHi) > 0 {
			hi = lenHi
		}
		if lo.Cmp(hi) <= 0 {
			out = append(out, [2]*big.Int{lo, hi})
		}
	}
	return out
}

// decimalRanges splits the inclusive range lo..hi into ranges of decimal
// strings of one length each, the form in which the database compares them.
func decimalRanges(lo, hi *big.Int) [][2]string {
	var out [][2]string
	ten := big.NewInt(10)
	for l := len(lo.String()); l <= len(hi.String()); l++ {
		from := new(big.Int).Exp(ten, big.NewInt(int64(l-1)), nil)
		if l == 1 {
			from.SetInt64(0)
		}
		to := new(big.Int).Exp(ten, big.NewInt(int64(l)), nil)
		to.Sub(to, big.NewInt(1))
		if from.Cmp(lo) < 0 {
			from = lo
		}
		if to.Cmp(hi) > 0 {
			to = hi
		}
		out = append(out, [2]string{from.String(), to.String()})
	}
	return out
}
