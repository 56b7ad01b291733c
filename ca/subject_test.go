package ca

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

// requireTemplate is testkit's fast ECDSA client template with a
// [subject] require list.
func requireTemplate(t testing.TB, name string, require ...string) string {
	t.Helper()
	q := make([]string, len(require))
	for i, r := range require {
		q[i] = `"` + r + `"`
	}
	return testkit.ECDSAClientTemplate(name, "crt", "key") + "\n[subject]\nrequire = [" + strings.Join(q, ", ") + "]\n"
}

func parseRequireTemplate(t testing.TB, name string, require ...string) *templates.Template {
	t.Helper()
	tm, err := templates.Parse(name+".toml", []byte(requireTemplate(t, name, require...)))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestFillSubject(t *testing.T) {
	home := &Config{Subject: SubjectDefaults{C: "DE", ST: "Bayern", L: "München", O: "Fabrikam GmbH", OU: "OT"}, path: "pki/certmint.toml"}
	partial := &Config{Subject: SubjectDefaults{O: "Fabrikam GmbH"}, path: "pki/certmint.toml"}
	none := &Config{path: "pki/certmint.toml"}
	cOOU := parseRequireTemplate(t, "c-o-ou", "C", "O", "OU")
	onlyO := parseRequireTemplate(t, "only-o", "O")
	stL := parseRequireTemplate(t, "st-l", "ST", "L")
	nothing := parseRequireTemplate(t, "nothing")

	tests := []struct {
		name    string
		home    *Config
		t       *templates.Template
		subject string // ParseSubject input, CN added
		want    string // the filled subject (pkix.Name.String) when accepted
		// a refusal: its Msg, and what its hint must and must not say
		msg      string
		hint     []string
		noHint   []string
		batchRow bool
	}{
		{name: "all from the home", home: home, t: cOOU, want: "CN=h.example.com,OU=OT,O=Fabrikam GmbH,C=DE"},
		{name: "given wins over the default", home: home, t: cOOU, subject: "O=Contoso,OU=Lab",
			want: "CN=h.example.com,OU=Lab,O=Contoso,C=DE"},
		{name: "all given, nothing from the home", home: home, t: cOOU, subject: "C=US,O=A,OU=B", want: "CN=h.example.com,OU=B,O=A,C=US"},
		{name: "only required fields are filled", home: home, t: onlyO, want: "CN=h.example.com,O=Fabrikam GmbH"},
		{name: "a field given but not required stays", home: home, t: onlyO, subject: "L=Paris", want: "CN=h.example.com,O=Fabrikam GmbH,L=Paris"},
		{name: "nothing required, nothing added", home: home, t: nothing, want: "CN=h.example.com"},
		{name: "state and locality", home: home, t: stL, want: "CN=h.example.com,L=München,ST=Bayern"},
		{name: "partial home: hint names the rest and the home's value", home: partial, t: cOOU,
			msg:    "requires the subject fields CN, C, O and OU; missing C and OU",
			hint:   []string{`add --subject "C=<two-letter country code>,OU=<your unit>"`, "the CA home gives O=Fabrikam GmbH", `c = "<two-letter country code>" and ou = "<your unit>" under [subject] in pki/certmint.toml`},
			noHint: []string{"Contoso", "O=<"}},
		{name: "partial home, given O: the home gave nothing", home: partial, t: cOOU, subject: "O=Given",
			msg: "missing C and OU", noHint: []string{"the CA home gives"}},
		{name: "home without defaults: placeholders", home: none, t: cOOU,
			msg:    "missing C, O and OU",
			hint:   []string{`add --subject "C=<two-letter country code>,O=<your organization>,OU=<your unit>"`, "[subject] in pki/certmint.toml"},
			noHint: []string{"Contoso", "the CA home gives"}},
		{name: "no home (csr outside one): placeholders only", home: nil, t: onlyO,
			msg: "missing O", hint: []string{`add --subject "O=<your organization>"`}, noHint: []string{"[subject]", "Contoso"}},
		{name: "batch row: columns, not --subject", home: partial, t: cOOU, batchRow: true,
			msg: "missing C and OU", hint: []string{"fill the row's c and ou columns (the CA home gives O=Fabrikam GmbH)", "[subject]"}, noHint: []string{"--subject"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subj, err := templates.ParseSubject(tc.subject)
			if err != nil {
				t.Fatal(err)
			}
			subj.CommonName = "h.example.com"
			before := subj.String()
			got, err := tc.home.checkRequest(tc.t, subj, tc.t.ResolveSANs(subj.CommonName, nil))
			if subj.String() != before {
				t.Errorf("the request's own name changed to %s", subj)
			}
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.String() != tc.want {
					t.Errorf("subject %s, want %s", got.String(), tc.want)
				}
				return
			}
			var re *templates.RequestError
			if !errors.As(err, &re) || re.Rule != "subject.require" || !strings.Contains(re.Msg, tc.msg) {
				t.Fatalf("err = %v, want subject.require with %q", err, tc.msg)
			}
			hint := testkit.Dashed(re.Hint)
			if tc.batchRow {
				hint = testkit.Dashed(tc.home.subjectHint(tc.t, subj, true))
			}
			for _, h := range tc.hint {
				if !strings.Contains(hint, h) {
					t.Errorf("hint %q does not say %q", hint, h)
				}
			}
			for _, h := range tc.noHint {
				if strings.Contains(hint, h) {
					t.Errorf("hint %q says %q", hint, h)
				}
			}
		})
	}
}

func TestLoadConfigSubject(t *testing.T) {
	const head = "base_url = \"http://pki.example\"\n[root]\nslug = \"r\"\n[issuing]\nslug = \"i\"\n"
	tests := []struct {
		name  string
		table string
		want  SubjectDefaults
		err   string
	}{
		{name: "no table (a home made before it existed)", table: ""},
		{name: "every key", table: "[subject]\nc = \"de\"\nst = \"Bayern\"\nl = \"München\"\no = \" Fabrikam \"\nou = \"OT\"\n",
			want: SubjectDefaults{C: "DE", ST: "Bayern", L: "München", O: "Fabrikam", OU: "OT"}},
		{name: "empty table", table: "[subject]\n"},
		{name: "three-letter country", table: "[subject]\nc = \"USA\"\n", err: "subject.c: country \"USA\" must be a two-letter"},
		{name: "digit in country", table: "[subject]\nc = \"U1\"\n", err: "subject.c"},
		{name: "65 characters", table: "[subject]\no = \"" + strings.Repeat("x", 65) + "\"\n", err: "subject.o: "},
		{name: "64 characters are fine", table: "[subject]\nou = \"" + strings.Repeat("é", 64) + "\"\n", want: SubjectDefaults{OU: strings.Repeat("é", 64)}},
		{name: "control character", table: "[subject]\nl = \"Paris\\u0007\"\n", err: "subject.l: the value contains a control character"},
		{name: "unknown key", table: "[subject]\ncn = \"x\"\n", err: `unknown key "subject.cn"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ConfigFile)
			if err := os.WriteFile(path, []byte(head+tc.table), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want %q naming %s", err, tc.err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tc.want {
				t.Errorf("subject %+v, want %+v", c.Subject, tc.want)
			}
			// What Encode writes loads back the same.
			data, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if again, err := LoadConfig(path); err != nil || again.Subject != tc.want {
				t.Errorf("encoded and loaded again: %+v, %v\n%s", again, err, data)
			}
		})
	}
}

func TestInitSubjectDefaults(t *testing.T) {
	home := filepath.Join(t.TempDir(), "pki")
	s, err := Init(context.Background(), InitOptions{
		Home: home, RootCN: "Fabrikam Root CA", IssuingCN: "Fabrikam Issuing CA", BaseURL: "http://pki.fabrikam.example",
		Org: "Fabrikam GmbH", OU: "OT", Country: "de", State: "Bayern", Locality: "München",
		RootKey: keys.Spec{Type: "ecdsa", Curve: "P-256"}, Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := SubjectDefaults{C: "DE", ST: "Bayern", L: "München", O: "Fabrikam GmbH", OU: "OT"}
	if s.Config.Subject != want {
		t.Errorf("loaded defaults %+v, want %+v", s.Config.Subject, want)
	}
	var raw struct {
		Subject map[string]string `toml:"subject"`
	}
	if _, err := toml.DecodeFile(filepath.Join(home, ConfigFile), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Subject["c"] != "DE" || raw.Subject["st"] != "Bayern" || raw.Subject["l"] != "München" || raw.Subject["o"] != "Fabrikam GmbH" || raw.Subject["ou"] != "OT" {
		t.Errorf("certmint.toml [subject] = %v", raw.Subject)
	}
	for _, a := range s.Authorities() {
		n := a.Cert.Subject
		if !slices.Equal(n.Country, []string{"DE"}) || !slices.Equal(n.Province, []string{"Bayern"}) || !slices.Equal(n.Locality, []string{"München"}) ||
			!slices.Equal(n.Organization, []string{"Fabrikam GmbH"}) || !slices.Equal(n.OrganizationalUnit, []string{"OT"}) {
			t.Errorf("%s subject %s, want C, ST, L, O and OU", a.Slug, n)
		}
	}
}

// TestIssueSubjectDefaults: issue, batch and renew take the home's
// defaults for the fields the template requires, and keep what the
// request (or the renewed certificate) gives.
func TestIssueSubjectDefaults(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	s.Config.Subject = SubjectDefaults{C: "DE", O: "Fabrikam GmbH", L: "München"}
	tm := parseRequireTemplate(t, "needs-c-o", "C", "O")

	t.Run("issue", func(t *testing.T) {
		for _, tc := range []struct {
			name, subject, want string
		}{
			{"from the home", "", "CN=a.example.com,O=Fabrikam GmbH,C=DE"},
			{"given wins", "O=Contoso", "CN=a.example.com,O=Contoso,C=DE"},
		} {
			subj, _ := templates.ParseSubject(tc.subject)
			subj.CommonName = "a.example.com"
			res, err := s.Issue(ctx, IssueRequest{Template: tm, Subject: subj, Out: t.TempDir()})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := res.Cert.Subject.String(); got != tc.want {
				t.Errorf("%s: subject %s, want %s (L is not required, so not added)", tc.name, got, tc.want)
			}
		}
	})

	t.Run("batch", func(t *testing.T) {
		opts := BatchOptions{Template: parseRequireTemplate(t, "needs-c-o-ou", "C", "O", "OU"), Out: t.TempDir(), Jobs: 2}
		s.Config.Subject.OU = "OT"
		defer func() { s.Config.Subject.OU = "" }()
		run := runBatch(t, ctx, s, opts, "cn,o,c\nrow1.example.com,Contoso,\nrow2.example.com,,US\n", 0)
		if run.err != nil {
			t.Fatal(run.err)
		}
		want := map[string]string{"row1.example.com": "CN=row1.example.com,OU=OT,O=Contoso,C=DE", "row2.example.com": "CN=row2.example.com,OU=OT,O=Fabrikam GmbH,C=US"}
		for _, r := range run.results {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.Row.CN, r.Err)
			}
			if got := r.Issued.Cert.Subject.String(); got != want[r.Row.CN] {
				t.Errorf("%s: subject %s, want %s", r.Row.CN, got, want[r.Row.CN])
			}
		}
		if len(run.results) != 2 {
			t.Fatalf("%d results", len(run.results))
		}
		// A required field neither the row nor the home gives fails the
		// row, with a hint about columns.
		s.Config.Subject.OU = ""
		run = runBatch(t, ctx, s, BatchOptions{Template: opts.Template, Out: t.TempDir(), Jobs: 1}, "cn,ou\nrow3.example.com,\nrow4.example.com,Lab\n", 0)
		var failed, issued int
		for _, r := range run.results {
			var re *templates.RequestError
			switch {
			case r.Err == nil:
				issued++
			case errors.As(r.Err, &re) && re.Rule == "subject.require" && strings.Contains(re.Hint.String(), "fill the row's ou column"):
				failed++
			default:
				t.Errorf("%s: %v", r.Row.CN, r.Err)
			}
		}
		if failed != 1 || issued != 1 {
			t.Errorf("%d failed, %d issued; want row3 failed and row4 issued", failed, issued)
		}
	})

	t.Run("renew", func(t *testing.T) {
		// The template file gains a required field between issue and
		// renewal: the renewal keeps the old certificate's O and takes
		// the new field from the home.
		file := filepath.Join(t.TempDir(), "evolving.toml")
		if err := os.WriteFile(file, []byte(requireTemplate(t, "evolving", "O")), 0o644); err != nil {
			t.Fatal(err)
		}
		first, err := templates.LoadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		old, err := s.Issue(ctx, IssueRequest{Template: first, Subject: pkix.Name{CommonName: "r.example.com", Organization: []string{"Old Org"}}, Out: out})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(requireTemplate(t, "evolving", "O", "C")), 0o644); err != nil {
			t.Fatal(err)
		}
		s.Config.Subject.O = "New Org"
		req, rec, err := s.RenewalRequest(ctx, old.Cert.SerialNumber, "")
		if err != nil {
			t.Fatal(err)
		}
		req.Force = true
		res, _, err := s.Renew(ctx, req, rec, false, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Cert.Subject.String(), "CN=r.example.com,O=Old Org,C=DE"; got != want {
			t.Errorf("renewed subject %s, want %s", got, want)
		}
	})
}

func TestNewCSRSubjectDefaults(t *testing.T) {
	tm := parseRequireTemplate(t, "csr-o", "O")
	home := &Config{Subject: SubjectDefaults{O: "Fabrikam GmbH", C: "DE"}}
	r, err := NewCSR(tm, pkix.Name{CommonName: "c.example.com"}, nil, home, keys.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseCSR(r.PEM())
	if err != nil {
		t.Fatal(err)
	}
	if got := csr.Subject.String(); got != "CN=c.example.com,O=Fabrikam GmbH" || r.Subject.String() != got {
		t.Errorf("CSR subject %s (reported %s), want CN=c.example.com,O=Fabrikam GmbH", got, r.Subject)
	}
	// Outside a home nothing is filled.
	if _, err := NewCSR(tm, pkix.Name{CommonName: "c.example.com"}, nil, nil, keys.Spec{}); err == nil || !strings.Contains(err.Error(), "missing O") {
		t.Errorf("no home: %v, want missing O", err)
	}
}
