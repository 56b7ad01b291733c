package batch

import (
	"errors"
	"strings"
	"testing"

	"github.com/certmint/certmint/san"
	"github.com/certmint/certmint/templates"
)

// TestReaderSeparators: a CSV saved by Excel where the decimal mark is a
// comma separates its columns with ';' (and Excel's "Unicode text" with
// tabs); such a file is read like a comma-separated one, not refused as
// one unknown column.
func TestReaderSeparators(t *testing.T) {
	server, _ := templates.Builtin("server")
	for _, tc := range []struct {
		name     string
		data     string
		wantLine int
		wantSANs string
		wantName string
		wantErr  string // a *HeaderError
		wantHint string
	}{
		{name: "commas", data: "cn,san,name\nwww.example.com,api.example.com;10.0.0.1,web\n",
			wantLine: 2, wantSANs: "DNS:api.example.com,IP:10.0.0.1", wantName: "web"},
		{name: "semicolons, SAN cell quoted as Excel does", data: "cn;san;name\r\nwww.example.com;\"api.example.com;10.0.0.1\";web\r\n",
			wantLine: 2, wantSANs: "DNS:api.example.com,IP:10.0.0.1", wantName: "web"},
		{name: "semicolons with a byte-order mark", data: "\ufeffCN;SAN;Name\nwww.example.com;api.example.com;web\n",
			wantLine: 2, wantSANs: "DNS:api.example.com", wantName: "web"},
		{name: "semicolons, a comma inside a cell", data: "cn;o;name\nwww.example.com;Contoso, Inc.;web\n",
			wantLine: 2, wantName: "web"},
		{name: "tabs", data: "cn\tsan\tname\nwww.example.com\tapi.example.com\tweb\n",
			wantLine: 2, wantSANs: "DNS:api.example.com", wantName: "web"},
		{name: "Excel's sep= line", data: "sep=;\ncn;san;name\n\nwww.example.com;api.example.com;web\n",
			wantLine: 4, wantSANs: "DNS:api.example.com", wantName: "web"},
		{name: "a sep= line naming commas", data: "SEP=,\r\ncn,san\r\nwww.example.com,api.example.com\r\n",
			wantLine: 3, wantSANs: "DNS:api.example.com", wantName: "www.example.com"},
		{name: "one column", data: "cn\nwww.example.com\n", wantLine: 2, wantName: "www.example.com"},
		{name: "commas and semicolons mixed", data: "cn;san,name\nwww.example.com;x,web\n",
			wantErr: `unknown column "cn;san"`, wantHint: "semicolons"},
		{name: "an unknown column, no separator hint", data: "cn,sans\nwww.example.com,x\n",
			wantErr: `unknown column "sans"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, err := readAll(t, server, tc.data)
			if tc.wantErr != "" {
				var he *HeaderError
				if !errors.As(err, &he) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a HeaderError %q", err, tc.wantErr)
				}
				if !strings.Contains(he.HintText(), tc.wantHint) || (tc.wantHint == "" && he.HintText() != "") {
					t.Errorf("hint %q, want %q", he.HintText(), tc.wantHint)
				}
				return
			}
			if err != nil || len(bad) != 0 || len(rows) != 1 {
				t.Fatalf("rows %d, bad %v, err %v; want one row", len(rows), bad, err)
			}
			r := rows[0]
			if r.Line != tc.wantLine || r.CN != "www.example.com" || r.Name != tc.wantName || strings.Join(san.Strings(r.SANs), ",") != tc.wantSANs {
				t.Errorf("row: line %d, cn %q, name %q, SANs %q; want line %d, name %q, SANs %q",
					r.Line, r.CN, r.Name, san.Strings(r.SANs), tc.wantLine, tc.wantName, tc.wantSANs)
			}
		})
	}
}

// TestRowHintsNameColumns: a bad row's hint names the CSV column to fix,
// never one of issue's flags.
func TestRowHintsNameColumns(t *testing.T) {
	for _, tc := range []struct {
		template string
		row      string // cn,san
		want     string
	}{
		{"1e-client", "W701,", "use the FQDN in the cn column, e.g. W701.ACME.LOCAL"},
		{"1e-client", "w1.acme.local,*.acme.local", "name each host in the san column, e.g. host1.example.com"},
		{"1e-client", "w1.acme.local,mail@acme.local", "remove that name from the san column"},
		{"1e-client", "w1.acme.local,10.0.0.1", "use a DNS name instead"},
		{"server", "Web Server,", "fill the san column with every name and address clients use"},
		{"server", strings.Repeat("a", 70) + ".example.com,", "put long names in the san column"},
		{"server", "www.example.com,10.9.8.7.1", "invalid SAN"},
		{"defender-sensor", "sensor 1,", "use the computer's FQDN in the cn column, e.g. W701.ACME.LOCAL"},
	} {
		t.Run(tc.template+" "+tc.row, func(t *testing.T) {
			tm, err := templates.Builtin(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			_, bad, err := readAll(t, tm, "cn,san\n"+tc.row+"\n")
			if err != nil || len(bad) != 1 {
				t.Fatalf("bad rows %v, err %v; want one", bad, err)
			}
			msg := bad[0].Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("%s\nwant it to say %q", msg, tc.want)
			}
			if strings.Contains(msg, "--") {
				t.Errorf("%s\nnames a flag", msg)
			}
		})
	}
}

// TestColumnHint: every hint issue writes for a flag the CSV has a column
// for becomes one for that column.
func TestColumnHint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"give --cn NAME", "fill the cn column"},
		{"use a shorter CN and put long names in --san", "use a shorter CN and put long names in the san column"},
		{"remove control, bidi and zero-width characters from --cn", "remove control, bidi and zero-width characters from the cn column"},
		{"use the appliance's domain name, e.g. --cn sensor1.contoso.com", "use the appliance's domain name in the cn column, e.g. sensor1.contoso.com"},
		{"use the computer's FQDN, e.g. --cn W701.ACME.LOCAL", "use the computer's FQDN in the cn column, e.g. W701.ACME.LOCAL"},
		{"remove the --san value", "remove that name from the san column"},
		{"name each host, e.g. --san host1.example.com", "name each host in the san column, e.g. host1.example.com"},
		{"add --san DNS:host.example.com", "add a name such as host.example.com to the san column"},
		{"add --san with every name and address clients use", "fill the san column with every name and address clients use"},
		{"use fewer --days, or renew the issuing CA", "put fewer days in the days column, or renew the issuing CA"},
		{"use --days 825 or fewer", "put 825 or fewer in the days column"},
		{"e.g. --days 365, or leave it out for the template's validity", "e.g. 365 in the days column, or leave it empty for the template's validity"},
		{`add --subject "C=<two-letter country code>,O=<your organization>,OU=<your unit>"`, "fill the row's c, o and ou columns"},
		{`add --subject "O=<your organization>"`, "fill the row's o column"},
		{"use a DNS name instead", "use a DNS name instead"},
		{"", ""},
	} {
		if got := ColumnHint(tc.in); got != tc.want {
			t.Errorf("ColumnHint(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
