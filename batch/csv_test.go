package batch

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

func readAll(t *testing.T, tm *templates.Template, data string) ([]*Row, []*RowError, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(data), tm)
	if err != nil {
		return nil, nil, err
	}
	var rows []*Row
	var bad []*RowError
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, bad, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			return rows, bad, err
		}
		rows = append(rows, row)
	}
}

func TestReader(t *testing.T) {
	server, _ := templates.Builtin("server")
	defender, _ := templates.Builtin("defender-sensor")
	data := "CN, san ,name,days,password\n" +
		"www.example.com,api.example.com;10.0.0.1,web,30,s3cret\n" +
		"\n" +
		"\"db.example.com\",,,,\n" +
		",x.example.com,,,\n" + // line 5: no cn
		"www.example.com,,,,\n" + // line 6: duplicate
		"bad.example.com,IP:10.0.0.999,,,\n" + // line 7: bad SAN
		"days.example.com,,,-3,\n" + // line 8
		"Web Server,,,,\n" + // line 9: server needs a SAN; the CN is no DNS name
		"other.example.com,,web,,\n" + // line 10: folder name taken
		"long.example.com,,,106752,\n" + // line 11: overflows a time.Duration
		"zero.example.com,,,0,\n" + // line 12
		"huge.example.com,,,99999999999999999999,\n" // line 13: not an int
	rows, bad, err := readAll(t, server, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d good rows, want 2", len(rows))
	}
	r := rows[0]
	if r.Line != 2 || r.CN != "www.example.com" || r.Name != "web" || r.Days != 30 || r.Password != "s3cret" ||
		strings.Join(san.Strings(r.SANs), ",") != "DNS:api.example.com,IP:10.0.0.1" {
		t.Errorf("row 1: %+v", r)
	}
	if rows[1].Line != 4 || rows[1].Name != "db.example.com" {
		t.Errorf("row 2: line %d name %q", rows[1].Line, rows[1].Name)
	}
	want := map[int]string{5: "cn is empty", 6: "already appears on line 2", 7: "not an IPv4 or IPv6 address",
		8: "not a positive number", 9: "requires at least one subject alternative name", 10: `folder name "web" is already used by line 2`,
		11: "days 106752 is more than 36500 (100 years)", 12: `days "0" is not a positive number`, 13: "not a positive number"}
	if len(bad) != len(want) {
		t.Errorf("%d bad rows, want %d: %v", len(bad), len(want), bad)
	}
	for _, e := range bad {
		if w, ok := want[e.Line]; !ok || !strings.Contains(e.Error(), w) {
			t.Errorf("line %d: %v, want %q", e.Line, e, w)
		}
	}

	// Subject columns. A required field a row lacks is not the reader's
	// to refuse: the CA home's defaults may give it (ca fills and checks
	// it per row). The template's other rules still refuse the row here.
	rows, bad, err = readAll(t, defender, "cn,c,o,ou\nSensor1.contoso.com,us,Contoso,Labs\nSensor2.contoso.com,US,Contoso,\nsensor 3.contoso.com,US,Contoso,Labs\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Subject.Country[0] != "US" || rows[0].Subject.OrganizationalUnit[0] != "Labs" ||
		rows[1].Subject.OrganizationalUnit != nil {
		t.Errorf("defender rows: %+v", rows)
	}
	if len(bad) != 1 || bad[0].Line != 4 || !strings.Contains(bad[0].Error(), "domain name") {
		t.Errorf("defender bad rows: %v", bad)
	}
}

func TestReaderHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "the CSV is empty"},
		{"san,name\nx,y\n", "no cn column"},
		{"cn,hostname,fqdn\n", `unknown column "hostname", "fqdn"`},
		{"cn,CN\n", `column "cn" appears twice`},
		{"\ufeffcn,san\na.example.com,\n", ""}, // a byte-order mark is fine
	} {
		_, err := NewReader(strings.NewReader(tc.data), nil)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.data, err)
			}
			continue
		}
		var he *HeaderError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.data, err, tc.want)
		}
	}
}

// A 1 MB line is refused without being read whole.
func TestReaderLongLine(t *testing.T) {
	data := "cn\n" + strings.Repeat("a", 1<<20) + "\n"
	_, _, err := readAll(t, nil, data)
	if err == nil || !strings.Contains(err.Error(), "longer than 64 KiB") {
		t.Fatalf("err = %v", err)
	}
	// Quoting errors end the reading with the line.
	_, _, err = readAll(t, nil, "cn\n\"a\"b\n")
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad quoting: %v", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add("cn,san,name\nwww.example.com,a.example.com;10.0.0.1,web\n")
	f.Add("cn,c,o,ou,st,l,days,password\nx.example.com,US,O,OU,ST,L,30,pw\n")
	f.Add("cn\n\"a\nb\",\n")
	f.Add("\ufeffCN;san\n")
	server, _ := templates.Builtin("server")
	f.Fuzz(func(t *testing.T, data string) {
		r, err := NewReader(strings.NewReader(data), server)
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			row, err := r.Next()
			if err != nil {
				var re *RowError
				if errors.As(err, &re) {
					continue
				}
				return
			}
			if row.CN == "" || row.Name == "" {
				t.Fatalf("row without cn or name: %+v", row)
			}
		}
	})
}

func TestReaderKeyColumn(t *testing.T) {
	defender, _ := templates.Builtin("defender-sensor")
	server, _ := templates.Builtin("server")
	for _, tc := range []struct {
		name     string
		template *templates.Template
		cell     string
		want     keys.Spec // zero with wantErr empty: the batch's key
		wantErr  string
	}{
		{name: "empty cell", template: defender, cell: ""},
		{name: "rsa 4096 under defender", template: defender, cell: "rsa:4096", want: keys.Spec{Type: "rsa", Bits: 4096}},
		{name: "spelled loosely", template: defender, cell: " RSA:2048 ", want: keys.Spec{Type: "rsa", Bits: 2048}},
		{name: "rsa 3072 under defender", template: defender, cell: "rsa:3072",
			wantErr: `template "defender-sensor" accepts RSA 2048 or 4096 keys; key rsa:3072 is not one of them`},
		{name: "ecdsa under defender", template: defender, cell: "ecdsa:P-256", wantErr: "accepts RSA 2048 or 4096 keys; key ecdsa:P-256"},
		{name: "ecdsa under server", template: server, cell: "ecdsa:P-384", want: keys.Spec{Type: "ecdsa", Curve: "P-384"}},
		{name: "not a key", template: server, cell: "dsa:1024", wantErr: "use rsa:2048, rsa:3072, rsa:4096, ecdsa:P-256 or ecdsa:P-384"},
		{name: "no template to check against", cell: "rsa:3072", want: keys.Spec{Type: "rsa", Bits: 3072}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, err := readAll(t, tc.template, "cn,c,o,ou,key\nSensor1.contoso.com,US,Contoso,Labs,"+tc.cell+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				if len(bad) != 1 || !strings.Contains(bad[0].Error(), tc.wantErr) || bad[0].Line != 2 {
					t.Fatalf("bad rows %v; want line 2: %q", bad, tc.wantErr)
				}
				return
			}
			if len(bad) != 0 || len(rows) != 1 || rows[0].Key != tc.want {
				t.Fatalf("rows %+v, bad %v; want key %+v", rows, bad, tc.want)
			}
		})
	}
}
