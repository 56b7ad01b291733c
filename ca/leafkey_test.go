package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
	"github.com/certmint/certmint/templates"
)

func mustSpec(t testing.TB, s string) keys.Spec {
	t.Helper()
	k, err := keys.ParseSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCheckKey: --key is accepted within key.allowed_* and refused, naming
// the accepted keys, outside them.
func TestCheckKey(t *testing.T) {
	all := []string{"rsa:2048", "rsa:3072", "rsa:4096", "ecdsa:P-256", "ecdsa:P-384"}
	for _, tc := range []struct {
		template string
		accepts  []string // of all
		refusal  string   // the message for the first refused key
		hint     string
	}{
		{"defender-sensor", []string{"rsa:2048", "rsa:4096"},
			`template "defender-sensor" accepts RSA 2048 or 4096 keys; --key rsa:3072 is not one of them`,
			"use --key rsa:2048 or --key rsa:4096, or leave --key out for the template's rsa:2048"},
		{"server", all, "", ""},
		{"1e-client", []string{"rsa:2048", "rsa:3072", "rsa:4096"},
			`template "1e-client" accepts RSA 2048, 3072 or 4096 keys; --key ecdsa:P-256 is not one of them`,
			"use --key rsa:2048, --key rsa:3072 or --key rsa:4096"},
		{"1e-code-signing", []string{"rsa:2048", "rsa:3072", "rsa:4096"},
			`template "1e-code-signing" accepts RSA 2048, 3072 or 4096 keys; --key ecdsa:P-256 is not one of them`,
			"leave --key out for the template's rsa:3072"},
	} {
		t.Run(tc.template, func(t *testing.T) {
			tm := mustTemplate(t, tc.template)
			if err := CheckKey(tm, keys.Spec{}); err != nil {
				t.Errorf("the zero spec (the template's key) is refused: %v", err)
			}
			first := true
			for _, s := range all {
				err := CheckKey(tm, mustSpec(t, s))
				accepted := strings.Contains(" "+strings.Join(tc.accepts, " ")+" ", " "+s+" ")
				if accepted {
					if err != nil {
						t.Errorf("%s refused: %v", s, err)
					}
					continue
				}
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Errorf("%s: %v (%T), want a *UsageError", s, err, err)
					continue
				}
				if first {
					first = false
					if msg, hint := testkit.Dashed(ue.Msg), testkit.Dashed(ue.Hint); msg != tc.refusal || !strings.Contains(hint, tc.hint) {
						t.Errorf("%s: %q / hint %q; want %q / %q", s, msg, hint, tc.refusal, tc.hint)
					}
				}
			}
		})
	}
}

// TestIssueKeyChoice issues with --key within the template's keys, and
// refuses one outside them before anything is generated or written.
func TestIssueKeyChoice(t *testing.T) {
	s := newHome(t)
	server, defender := mustTemplate(t, "server"), mustTemplate(t, "defender-sensor")
	for _, tc := range []struct {
		name    string
		t       *templates.Template
		key     string // "" the template's
		want    string // the certificate's key; "" refused
		wantErr string
	}{
		{name: "defender default", t: defender, want: "rsa:2048"},
		{name: "defender rsa:4096", t: defender, key: "rsa:4096", want: "rsa:4096"},
		{name: "defender rsa:3072", t: defender, key: "rsa:3072", wantErr: "accepts RSA 2048 or 4096 keys; --key rsa:3072 is not one of them"},
		{name: "defender ecdsa", t: defender, key: "ecdsa:P-256", wantErr: "accepts RSA 2048 or 4096 keys; --key ecdsa:P-256"},
		{name: "server ecdsa:P-256", t: server, key: "ecdsa:P-256", want: "ecdsa:P-256"},
		{name: "server ecdsa:P-384", t: server, key: "ecdsa:P-384", want: "ecdsa:P-384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := IssueRequest{Template: tc.t, Out: t.TempDir(), Password: "pfx-pw", Force: true}
			req.Subject, req.SANs = tc.t.ExampleRequest()
			req.Subject.CommonName = strings.NewReplacer(" ", "-", ":", "-").Replace(tc.name) + ".contoso.com"
			req.SANs = nil
			if tc.key != "" {
				req.Key = mustSpec(t, tc.key)
			}
			before := countCerts(t, s)
			if tc.wantErr != "" {
				for what, err := range map[string]error{"CheckRequest": s.CheckRequest(context.Background(), req), "Issue": func() error { _, err := s.Issue(context.Background(), req); return err }()} {
					var ue *UsageError
					if !errors.As(err, &ue) || !strings.Contains(errText(err), tc.wantErr) {
						t.Errorf("%s: %v; want a *UsageError %q", what, errText(err), tc.wantErr)
					}
				}
				if ents, _ := os.ReadDir(req.Out); len(ents) > 0 || countCerts(t, s) != before {
					t.Errorf("a refused key wrote %d files or recorded a certificate", len(ents))
				}
				return
			}
			res, err := s.Issue(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := keys.Describe(res.Cert.PublicKey)
			if err != nil || got.String() != tc.want {
				t.Errorf("issued a %v key (%v), want %s", got, err, tc.want)
			}
			// An ECDSA key cannot encipher (RFC 5480 section 3): the
			// template's keyEncipherment is left out for it.
			_, isEC := res.Cert.PublicKey.(*ecdsa.PublicKey)
			if hasKE := res.Cert.KeyUsage&x509.KeyUsageKeyEncipherment != 0; hasKE == isEC {
				t.Errorf("%s key with keyEncipherment %v", got, hasKE)
			}
		})
	}
}

// TestNewCSRKey: csr --key makes the request's key and drops the
// encipherment usages it asks for when the key is ECDSA.
func TestNewCSRKey(t *testing.T) {
	server, defender := mustTemplate(t, "server"), mustTemplate(t, "defender-sensor")
	sub, sans := server.ExampleRequest()
	r, err := NewCSR(server, sub, sans, nil, mustSpec(t, "ecdsa:P-384"))
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(r.DER)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := keys.Describe(csr.PublicKey); got.String() != "ecdsa:P-384" || !keys.Match(r.Key, csr.PublicKey) {
		t.Errorf("request key %s, want ecdsa:P-384 matching the returned key", got)
	}
	exts, _ := usageExtensions(server, false)
	ecExts, _ := usageExtensions(server, true)
	for _, e := range csr.Extensions {
		if e.Id.Equal(oidKeyUsage) && (string(e.Value) != string(ecExts[0].Value) || string(e.Value) == string(exts[0].Value)) {
			t.Errorf("an ECDSA request asks for the RSA key usage (keyEncipherment)")
		}
	}
	sub, sans = defender.ExampleRequest()
	r, err = NewCSR(defender, sub, sans, nil, mustSpec(t, "rsa:3072"))
	if err == nil || !strings.Contains(errText(err), "accepts RSA 2048 or 4096 keys; --key rsa:3072 is not one of them") {
		t.Errorf("defender-sensor with rsa:3072: %v", err)
	}
}

// TestRenewKeepsKey: a renewal gets a key of the old certificate's type
// and size, unless its template no longer accepts that key.
func TestRenewKeepsKey(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "renew-key.toml")
	both := strings.Replace(testkit.ECDSAClientTemplate("renew-key", "crt", "key"), `curve = "P-256"`, `curve = "P-256"`+"\nallowed_curves = [\"P-256\", \"P-384\"]", 1)
	if err := os.WriteFile(file, []byte(both), 0o644); err != nil {
		t.Fatal(err)
	}
	tm, err := templates.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	old, err := s.Issue(ctx, IssueRequest{Template: tm, Subject: subj("renew-key.example.com"), Out: t.TempDir(), Key: mustSpec(t, "ecdsa:P-384")})
	if err != nil {
		t.Fatal(err)
	}
	renew := func(out string) string {
		t.Helper()
		req, rec, err := s.RenewalRequest(ctx, old.Cert.SerialNumber, out)
		if err != nil {
			t.Fatal(err)
		}
		req.Force = true // the same certificate renewed twice: the second is refused without it
		res, _, err := s.Renew(ctx, req, rec, false, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		got, _ := keys.Describe(res.Cert.PublicKey)
		return got.String()
	}
	if got := renew(t.TempDir()); got != "ecdsa:P-384" {
		t.Errorf("renewed with %s, want the old ecdsa:P-384", got)
	}
	// The template now accepts P-256 only: the renewal gets its key.
	if err := os.WriteFile(file, []byte(testkit.ECDSAClientTemplate("renew-key", "crt", "key")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := renew(t.TempDir()); got != "ecdsa:P-256" {
		t.Errorf("renewed with %s under a template that accepts P-256 only", got)
	}
}

// TestIssueBatchKeys: a row's key column wins over the batch's --key,
// which wins over the template's key; a --key the template refuses stops
// the batch before any row.
func TestIssueBatchKeys(t *testing.T) {
	s := newHome(t)
	opts := BatchOptions{Template: mustTemplate(t, "server"), Out: t.TempDir(), Jobs: 2, Formats: []templates.Format{templates.FormatCRT}, Key: mustSpec(t, "ecdsa:P-256")}
	run := runBatch(t, context.Background(), s, opts, "cn,key\na.example.com,\nb.example.com,ecdsa:P-384\n", 0)
	if run.err != nil {
		t.Fatal(run.err)
	}
	got := map[string]string{}
	for _, r := range run.results {
		if r.Err != nil {
			t.Fatalf("line %d: %v", r.Row.Line, r.Err)
		}
		spec, _ := keys.Describe(r.Issued.Cert.PublicKey)
		got[r.Row.CN] = spec.String()
	}
	if got["a.example.com"] != "ecdsa:P-256" || got["b.example.com"] != "ecdsa:P-384" {
		t.Errorf("keys %v; want a: the batch's ecdsa:P-256, b: its column's ecdsa:P-384", got)
	}
	opts = BatchOptions{Template: mustTemplate(t, "defender-sensor"), Out: t.TempDir(), Formats: []templates.Format{templates.FormatCRT}, Key: mustSpec(t, "rsa:3072")}
	before := countCerts(t, s)
	run = runBatch(t, context.Background(), s, opts, "cn,c,o,ou\nSensor1.contoso.com,US,Contoso,Labs\n", 0)
	var ue *UsageError
	if !errors.As(run.err, &ue) || !strings.Contains(testkit.Dashed(ue.Msg), "accepts RSA 2048 or 4096 keys; --key rsa:3072") || len(run.results) != 0 || countCerts(t, s) != before {
		t.Errorf("batch with a refused --key: %v, %d rows reported", run.err, len(run.results))
	}
}
