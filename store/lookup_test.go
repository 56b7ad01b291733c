package store

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/pgtest"
)

// lookupSerials are the serials the lookup tests record: the edges of every
// printed length (where SerialHex gains a leading 0 or a digit, where the
// decimal text gains a digit), certmint's own 127- and 159-bit serials, and
// random ones of every bit length up to RFC 5280's 20 octets.
func lookupSerials() []*big.Int {
	var out []*big.Int
	add := func(n *big.Int) {
		if !slices.ContainsFunc(out, func(m *big.Int) bool { return m.Cmp(n) == 0 }) {
			out = append(out, n)
		}
	}
	for _, v := range []int64{0, 1, 9, 10, 15, 16, 99, 100, 255, 256, 999, 1000, 4095, 4096, 65535, 65536} {
		add(big.NewInt(v))
	}
	for bits := 1; bits <= 160; bits++ {
		p := new(big.Int).Lsh(big.NewInt(1), uint(bits))
		add(new(big.Int).Sub(p, big.NewInt(1))) // all ones: the top of a length
		add(new(big.Int).Rsh(p, 1))             // the bottom of a length
	}
	for d := 1; d <= 48; d++ { // decimal lengths
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)
		if p.BitLen() <= 160 {
			add(p)
			add(new(big.Int).Sub(p, big.NewInt(1)))
		}
	}
	rng := rand.New(rand.NewPCG(12, 5))
	for i := 0; i < 200; i++ {
		bits := 1 + rng.IntN(160)
		if i%4 == 0 {
			bits = []int{127, 159}[i%8/4]
		}
		n := new(big.Int)
		for j := 0; j < bits; j++ {
			n.Lsh(n, 1)
			if j == 0 || rng.IntN(2) == 1 {
				n.SetBit(n, 0, 1)
			}
		}
		add(n)
	}
	// Serials that share an 8-digit prefix, as the CLI must report as
	// ambiguous.
	twin, _ := new(big.Int).SetString("5D3F9A1C00000000000000000000000000000001", 16)
	add(twin)
	twin2, _ := new(big.Int).SetString("5D3F9A1CFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 16)
	add(twin2)
	return out
}

func recordSerials(t *testing.T, db *DB, serials []*big.Int) {
	t.Helper()
	ctx := context.Background()
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	err := db.InTx(ctx, func(tx *Tx) error {
		for i, n := range serials {
			r := &Record{Serial: n, AKI: "a1b2", CALabel: "issuing", Status: "good", NotBefore: exp.Add(-48 * time.Hour),
				NotAfter: exp.Add(time.Duration(i) * time.Second), IssuedAt: exp.Add(-48 * time.Hour),
				CN: fmt.Sprintf("host%d.example.com", i%50), PEM: "-", Meta: Metadata{Template: "server"}}
			if err := tx.Insert(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testLookups checks LookupPrefix against the definition (SerialHex starts
// with the prefix) for prefixes of every length of every recorded serial,
// in both cases, and for prefixes no serial has; and FindByCN.
func testLookups(t *testing.T, db *DB) {
	ctx := context.Background()
	serials := lookupSerials()
	recordSerials(t, db, serials)
	want := func(prefix string) []string {
		var out []string
		for _, n := range serials {
			if strings.HasPrefix(SerialHex(n), strings.ToUpper(prefix)) {
				out = append(out, SerialHex(n))
			}
		}
		slices.Sort(out)
		return out
	}
	check := func(prefix string) {
		t.Helper()
		recs, err := db.LookupPrefix(ctx, prefix)
		if err != nil {
			t.Fatalf("LookupPrefix(%q): %v", prefix, err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, SerialHex(r.Serial))
		}
		slices.Sort(got)
		if w := want(prefix); !slices.Equal(got, w) {
			t.Errorf("LookupPrefix(%q) = %v, want %v", prefix, got, w)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range serials {
		h := SerialHex(n)
		check(h[:1+rng.IntN(len(h))])
		check(strings.ToLower(h))
		if rng.IntN(4) == 0 {
			check(h + "0") // longer than any serial of that value
		}
	}
	for _, p := range []string{"0", "00", "000", "0000000F", "5D3F9A1C", "5d3f9a1c0", "FFFFFFFF", "12345678", "ABCDEF0123"} {
		check(p)
	}
	if recs, _ := db.LookupPrefix(ctx, "5D3F9A1C"); len(recs) != 2 {
		t.Errorf("the two serials starting 5D3F9A1C: got %d records", len(recs))
	}
	for _, bad := range []string{"", "xyz", "-1", "+1", "1_0"} {
		if _, err := db.LookupPrefix(ctx, bad); err == nil {
			t.Errorf("LookupPrefix(%q): no error", bad)
		}
	}

	recs, err := db.FindByCN(ctx, "HOST7.Example.COM")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range serials {
		if i%50 == 7 {
			n++
		}
	}
	if len(recs) != n {
		t.Errorf("FindByCN: %d records, want %d", len(recs), n)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].NotAfter.Before(recs[i-1].NotAfter) {
			t.Errorf("FindByCN: not soonest expiry first")
		}
	}
	if recs, err := db.FindByCN(ctx, "nobody.example.com"); err != nil || len(recs) != 0 {
		t.Errorf("FindByCN of an unknown name: %v, %v", recs, err)
	}
}

func TestLookupSQLite(t *testing.T) {
	db, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "certmint.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testLookups(t, db)
}

func TestLookupPostgres(t *testing.T) {
	url := pgtest.Schema(t, "certmint_lookup")
	ctx := context.Background()
	db, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	testLookups(t, db)
}

func TestPrefixRanges(t *testing.T) {
	// "0A" is 0x0A printed with its leading zero; "A" is every serial
	// printed starting with A (0xA0-0xAF, 0xA000-0xAFFF, ...), never 0x0A.
	for _, tc := range []struct {
		prefix string
		first  [2]string // the first range, in hex
	}{
		{"0A", [2]string{"A", "A"}},
		{"A", [2]string{"A0", "AF"}},
		{"00", [2]string{"0", "0"}},
		{"5D3F9A1C", [2]string{"5D3F9A1C", "5D3F9A1C"}},
		{"5D3F9A1", [2]string{"5D3F9A10", "5D3F9A1F"}},
	} {
		p, _ := new(big.Int).SetString(tc.prefix, 16)
		r := prefixRanges(p, len(tc.prefix))
		if len(r) == 0 {
			t.Fatalf("%s: no ranges", tc.prefix)
		}
		if got := [2]string{strings.ToUpper(r[0][0].Text(16)), strings.ToUpper(r[0][1].Text(16))}; got != tc.first {
			t.Errorf("%s: first range %v, want %v", tc.prefix, got, tc.first)
		}
	}
	// Decimal ranges never mix lengths.
	for _, d := range decimalRanges(big.NewInt(5), big.NewInt(12345)) {
		if len(d[0]) != len(d[1]) {
			t.Errorf("decimal range %v mixes lengths", d)
		}
	}
}
