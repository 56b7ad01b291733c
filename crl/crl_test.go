package crl

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSignedCA is a CA certificate for key, valid from an hour ago for a
// year, allowed to sign certificates and CRLs.
func selfSignedCA(t testing.TB, key crypto.Signer, serial int64, subject pkix.Name) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour * 365),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testCA is an ECDSA P-256 CA: quick to make.
func testCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return selfSignedCA(t, key, 1, pkix.Name{CommonName: "CRL Test CA"}), key
}

func TestBuild(t *testing.T) {
	ca, key := testCA(t)
	now := time.Now()
	entries := []Entry{
		{Serial: big.NewInt(10), RevokedAt: now.Add(-time.Hour), Reason: Reasons["keyCompromise"]},
		{Serial: big.NewInt(11), RevokedAt: now, Reason: Reasons["unspecified"]},
		{Serial: big.NewInt(12), RevokedAt: now, Reason: Reasons["certificateHold"]},
	}
	der, err := Build(ca, key, 42, now, 7*24*time.Hour, entries)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(ca); err != nil {
		t.Error(err)
	}
	if rl.Number.Int64() != 42 {
		t.Errorf("number %v", rl.Number)
	}
	if string(rl.AuthorityKeyId) != string(ca.SubjectKeyId) {
		t.Errorf("AKI %x, want %x", rl.AuthorityKeyId, ca.SubjectKeyId)
	}
	if !rl.ThisUpdate.Before(now) || rl.NextUpdate.Sub(now) < 7*24*time.Hour-time.Second {
		t.Errorf("thisUpdate %v nextUpdate %v", rl.ThisUpdate, rl.NextUpdate)
	}
	for i, e := range rl.RevokedCertificateEntries {
		if e.ReasonCode != entries[i].Reason {
			t.Errorf("entry %d reason %d, want %d", i, e.ReasonCode, entries[i].Reason)
		}
	}
	if _, err := Build(ca, key, 0, now, time.Hour, nil); err == nil {
		t.Error("CRL number 0 accepted")
	}
}

func TestPublishNeverGoesBackwards(t *testing.T) {
	ca, key := testCA(t)
	dir := t.TempDir()
	for _, n := range []int64{1, 2} {
		der, _ := Build(ca, key, n, time.Now(), time.Hour, nil)
		if err := Publish(dir, "ca", der); err != nil {
			t.Fatal(err)
		}
	}
	old, _ := Build(ca, key, 2, time.Now(), time.Hour, nil)
	var stale *StaleError
	if err := Publish(dir, "ca", old); !errors.As(err, &stale) {
		t.Errorf("publishing number 2 over 2: %v, want StaleError", err)
	}
	rl, _ := ReadFile(filepath.Join(dir, "ca.crl"))
	pemRL, err := ReadFile(filepath.Join(dir, "ca.crl.pem"))
	if err != nil || rl.Number.Int64() != 2 || pemRL.Number.Int64() != 2 {
		t.Errorf("published numbers %v / %v (%v)", rl.Number, pemRL, err)
	}
	if err := Publish(dir, "ca", []byte("garbage")); err == nil {
		t.Error("an unparsable CRL was published")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestHandler(t *testing.T) {
	ca, key := testCA(t)
	dir := t.TempDir()
	der, _ := Build(ca, key, 7, time.Now(), time.Hour, []Entry{{Serial: big.NewInt(5), RevokedAt: time.Now(), Reason: 1}})
	if err := Publish(dir, "test-ca", der); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "test-ca.crt"), ca.Raw, 0o644)
	os.WriteFile(filepath.Join(dir, ".certmint-tmp-123"), []byte("partial"), 0o600)
	os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.crl"), []byte("outside"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)

	srv := httptest.NewServer(&Handler{Dir: dir, Prefix: "/pki"})
	defer srv.Close()
	get := func(method, path string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.URL.Opaque = path // send the path as written, "..", "%2f" and all
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}

	tests := []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/pki/test-ca.crl", 200, "application/pkix-crl"},
		{"GET", "/test-ca.crl", 200, "application/pkix-crl"},
		{"GET", "/pki/test-ca.crt", 200, "application/pkix-cert"},
		{"GET", "/pki/test-ca.crl.pem", 200, "application/x-pem-file"},
		{"HEAD", "/pki/test-ca.crl", 200, "application/pkix-crl"},
		{"GET", "/pki/", 200, "text/html; charset=utf-8"},
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"POST", "/pki/test-ca.crl", 405, ""},
		{"GET", "/pki/../secret.crl", 404, ""},
		{"GET", "/..%2fsecret.crl", 404, ""},
		{"GET", "/pki/%2e%2e/secret.crl", 404, ""},
		{"GET", "/.certmint-tmp-123", 404, ""},
		{"GET", "/notes.txt", 404, ""},
		{"GET", "/pki/missing.crl", 404, ""},
		{"GET", "/pki/sub/test-ca.crl", 404, ""},
	}
	for _, tc := range tests {
		resp, body := get(tc.method, tc.path, nil)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
		if tc.path == "/pki/test-ca.crl" && tc.method == "GET" && string(body) != string(der) {
			t.Error("served CRL differs from the published file")
		}
	}

	resp, _ := get("GET", "/pki/test-ca.crl", nil)
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" {
		t.Fatalf("ETag %q Last-Modified %q", etag, lm)
	}
	if r, _ := get("GET", "/pki/test-ca.crl", map[string]string{"If-None-Match": etag}); r.StatusCode != 304 {
		t.Errorf("If-None-Match: %d, want 304", r.StatusCode)
	}
	if r, _ := get("GET", "/pki/test-ca.crl", map[string]string{"If-Modified-Since": lm}); r.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %d, want 304", r.StatusCode)
	}
	if r, _ := get("GET", "/pki/test-ca.crl", map[string]string{"If-None-Match": `"other"`}); r.StatusCode != 200 {
		t.Errorf("stale ETag: %d, want 200", r.StatusCode)
	}

	// A prefix given without its leading slash (--prefix pki) means /pki.
	bare := httptest.NewServer(&Handler{Dir: dir, Prefix: "pki/"})
	defer bare.Close()
	if resp, err := http.Get(bare.URL + "/pki/test-ca.crl"); err != nil || resp.StatusCode != 200 {
		t.Errorf("prefix without a slash: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	_, body := get("GET", "/pki/", nil)
	for _, want := range []string{"CN=CRL Test CA", "test-ca.crl", "number 7, 1 revoked"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("index lacks %q:\n%s", want, body)
		}
	}
}

func rsaCA(t testing.TB) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return selfSignedCA(t, key, 2, pkix.Name{CommonName: "RSA CRL Test CA", Organization: []string{"Test"}}), key
}

// Build encodes the entries itself (for speed and memory); with an RSA key,
// whose PKCS#1 v1.5 signatures are deterministic, its output must be byte
// for byte what x509.CreateRevocationList makes of the same CRL.
func TestBuildMatchesCreateRevocationList(t *testing.T) {
	ca, key := rsaCA(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	max159 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))
	cases := map[string][]Entry{
		"one": {{Serial: big.NewInt(1), RevokedAt: now, Reason: 0}},
		"every reason and serial shape": {
			{Serial: big.NewInt(0x7f), RevokedAt: now, Reason: 1},
			{Serial: big.NewInt(0x80), RevokedAt: now.Add(time.Second), Reason: 4}, // high bit: a leading 0x00
			{Serial: max159, RevokedAt: now.Add(time.Hour), Reason: 9},
			{Serial: big.NewInt(0xffffff), RevokedAt: now.Add(123456789 * time.Nanosecond), Reason: 6}, // sub-second times
			{Serial: big.NewInt(1 << 40), RevokedAt: now.In(time.FixedZone("CET", 3600)), Reason: 10},
		},
		"GeneralizedTime after 2049": {{Serial: big.NewInt(77), RevokedAt: time.Date(2051, 1, 2, 3, 4, 5, 0, time.UTC), Reason: 5}},
	}
	for _, n := range []int{100, 5000} {
		var many []Entry
		for i := 0; i < n; i++ {
			s, _ := rand.Int(rand.Reader, max159)
			many = append(many, Entry{Serial: s, RevokedAt: now.Add(-time.Duration(i) * time.Minute), Reason: i % 11 % 7})
		}
		cases[fmt.Sprintf("%d random", n)] = many
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Build(ca, key, 42, now, 7*24*time.Hour, entries)
			if err != nil {
				t.Fatal(err)
			}
			list := make([]x509.RevocationListEntry, len(entries))
			for i, e := range entries {
				list[i] = x509.RevocationListEntry{SerialNumber: e.Serial, RevocationTime: e.RevokedAt, ReasonCode: e.Reason}
			}
			want, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(42),
				ThisUpdate: now.Add(-Skew), NextUpdate: now.Add(7 * 24 * time.Hour), RevokedCertificateEntries: list}, ca, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Build differs from x509.CreateRevocationList (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
}

// With an ECDSA key the signatures differ each time: the CRL must parse,
// verify, and carry the entries.
func TestBuildECDSA(t *testing.T) {
	ca, key := testCA(t)
	now := time.Now()
	entries := []Entry{{Serial: big.NewInt(5), RevokedAt: now, Reason: 1}, {Serial: big.NewInt(6), RevokedAt: now, Reason: 0}}
	der, err := Build(ca, key, 3, now, time.Hour, entries)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(ca); err != nil {
		t.Fatal(err)
	}
	if len(rl.RevokedCertificateEntries) != 2 || rl.RevokedCertificateEntries[0].ReasonCode != 1 || rl.Number.Int64() != 3 {
		t.Errorf("parsed %+v", rl.RevokedCertificateEntries)
	}
}

func BenchmarkBuild100k(b *testing.B) {
	ca, key := rsaCA(b)
	max := new(big.Int).Lsh(big.NewInt(1), 159)
	entries := make([]Entry, 100_000)
	for i := range entries {
		s, _ := rand.Int(rand.Reader, max)
		entries[i] = Entry{Serial: s, RevokedAt: time.Now(), Reason: i % 6}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Build(ca, key, int64(i+1), time.Now(), time.Hour, entries); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHandlerLinks: a link in the served folder is served only while it
// stays inside; one to the CA key (outside) answers 404, says why, and
// never sends a byte of the key, nor shows it on the index page.
func TestHandlerLinks(t *testing.T) {
	ca, key := testCA(t)
	home := t.TempDir()
	dir := filepath.Join(home, "public")
	os.Mkdir(dir, 0o755)
	der, _ := Build(ca, key, 1, time.Now(), time.Hour, nil)
	if err := Publish(dir, "test-ca", der); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "test-ca.crt"), ca.Raw, 0o644)
	caKey := filepath.Join(home, "key.pem")
	os.WriteFile(caKey, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nsecret\n"), 0o600)
	other := filepath.Join(home, "other.crt")
	os.WriteFile(other, ca.Raw, 0o644)
	links := map[string]string{
		"key.crt":      caKey,                             // absolute, out
		"key2.pem":     filepath.Join("..", "key.pem"),    // relative, out
		"other.crt":    other,                             // a certificate, but out
		"same.crl":     "test-ca.crl",                     // relative, inside
		"abs.crl":      filepath.Join(dir, "test-ca.crl"), // absolute: os.Root does not follow it
		"dangling.crl": filepath.Join(home, "nothing"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skip(err)
		}
	}
	var refused []string
	srv := httptest.NewServer(&Handler{Dir: dir, Refused: func(name, reason string) {
		refused = append(refused, name+": "+reason)
	}})
	defer srv.Close()
	for _, tc := range []struct {
		path    string
		status  int
		refused bool
	}{
		{"/key.crt", 404, true},
		{"/key2.pem", 404, true},
		{"/other.crt", 404, true},
		{"/same.crl", 200, false},
		{"/abs.crl", 404, true},
		{"/dangling.crl", 404, true},
		{"/test-ca.crl", 200, false},
	} {
		refused = nil
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if bytes.Contains(body, []byte("secret")) {
			t.Errorf("GET %s sent the CA key", tc.path)
		}
		if tc.refused != (len(refused) == 1) {
			t.Errorf("GET %s: refusals logged %q, want one: %v", tc.path, refused, tc.refused)
		}
		if tc.refused && len(refused) == 1 && !strings.Contains(refused[0], "symbolic link that leaves "+dir) {
			t.Errorf("GET %s: reason %q", tc.path, refused[0])
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "other.crt") || strings.Contains(string(body), "key.crt") {
		t.Errorf("the index lists a link leading out of the folder:\n%s", body)
	}
}

// TestPublishLinks: a CRL is never written through a link, nor into a
// public/ folder that is a link leading out of the home.
func TestPublishLinks(t *testing.T) {
	ca, key := testCA(t)
	der, _ := Build(ca, key, 3, time.Now(), time.Hour, nil)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, home, outside string) (dir, link string)
	}{
		{"public/ links out of the home", func(t *testing.T, home, outside string) (string, string) {
			dir := filepath.Join(home, "public")
			if err := os.Symlink(outside, dir); err != nil {
				t.Skip(err)
			}
			return dir, dir
		}},
		{"the CRL is a link", func(t *testing.T, home, outside string) (string, string) {
			dir := filepath.Join(home, "public")
			os.Mkdir(dir, 0o755)
			link := filepath.Join(dir, "ca.crl")
			if err := os.Symlink(filepath.Join(outside, "victim"), link); err != nil {
				t.Skip(err)
			}
			return dir, link
		}},
		{"the PEM CRL is a dangling link", func(t *testing.T, home, outside string) (string, string) {
			dir := filepath.Join(home, "public")
			os.Mkdir(dir, 0o755)
			link := filepath.Join(dir, "ca.crl.pem")
			if err := os.Symlink(filepath.Join(outside, "new"), link); err != nil {
				t.Skip(err)
			}
			return dir, link
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			home, outside := filepath.Join(base, "home"), filepath.Join(base, "outside")
			os.Mkdir(home, 0o700)
			os.Mkdir(outside, 0o755)
			victim := filepath.Join(outside, "victim")
			os.WriteFile(victim, []byte("victim"), 0o644)
			dir, link := tc.setup(t, home, outside)
			err := Publish(dir, "ca", der)
			if err == nil || !strings.Contains(err.Error(), link+" is a symbolic link") {
				t.Fatalf("Publish: %v, want a refusal naming %s", err, link)
			}
			var h interface{ HintText() string }
			if !errors.As(err, &h) || !strings.Contains(h.HintText(), "public/") {
				t.Errorf("hint: %v", err)
			}
			ents, _ := os.ReadDir(outside)
			if len(ents) != 1 {
				t.Errorf("files appeared outside the home: %v", ents)
			}
			if data, _ := os.ReadFile(victim); string(data) != "victim" {
				t.Errorf("the victim holds %q", data)
			}
			ents = nil
			if link != dir {
				ents, _ = os.ReadDir(dir)
			}
			for _, e := range ents {
				if e.Type()&os.ModeSymlink == 0 {
					t.Errorf("written: %s", e.Name())
				}
			}
		})
	}
}
