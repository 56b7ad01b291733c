package crl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// issuedCert is a certificate for a new P-256 key, signed by parent.
func issuedCert(t *testing.T, parent *x509.Certificate, parentKey crypto.Signer, cn string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour * 365),
		IsCA: isCA, BasicConstraintsValid: true}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStateOf(t *testing.T) {
	this := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	next := this.Add(8 * 24 * time.Hour)
	tests := []struct {
		name string
		now  time.Time
		want CRLState
	}{
		{"just signed", this, CRLFresh},
		{"before half", this.Add(4*24*time.Hour - time.Second), CRLFresh},
		{"at half: serve re-signs", this.Add(4 * 24 * time.Hour), CRLDue},
		{"a second before nextUpdate", next.Add(-time.Second), CRLDue},
		{"at nextUpdate", next, CRLStale},
		{"long after", next.Add(30 * 24 * time.Hour), CRLStale},
	}
	for _, tc := range tests {
		if got := StateOf(this, next, tc.now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestRel(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{30 * time.Second, "now"},
		{5 * time.Minute, "in 5 minutes"},
		{-time.Minute, "1 minute ago"},
		{3 * time.Hour, "in 3 hours"},
		{47 * time.Hour, "in 47 hours"},
		{3 * 24 * time.Hour, "in 3 days"},
		{-2 * 24 * time.Hour, "2 days ago"},
		{7300 * 24 * time.Hour, "in 7,300 days"},
		{100000 * 24 * time.Hour, "in 100,000 days"},
	}
	for _, tc := range tests {
		if got := Rel(now.Add(tc.d), now); got != tc.want {
			t.Errorf("Rel(%v): %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestListenWarnings(t *testing.T) {
	tests := []struct {
		name, base, listen, prefix string
		want                       []string // a part of each warning, in order
	}{
		{"every interface, port 80", "http://pki.contoso.com", "[::]:80", "", nil},
		{"0.0.0.0, port 80", "http://pki.contoso.com", "0.0.0.0:80", "", nil},
		{"explicit port that matches", "http://pki.contoso.com:8080/pki", "0.0.0.0:8080", "/pki", nil},
		{"another port", "http://pki.contoso.com", "[::]:8080", "", []string{"port 80"}},
		{"loopback for a public name", "http://pki.contoso.com", "127.0.0.1:80", "", []string{"loopback"}},
		{"loopback and another port", "http://pki.contoso.com", "127.0.0.1:8080", "", []string{"port 80", "loopback"}},
		{"loopback base URL", "http://localhost:8080", "127.0.0.1:8080", "", nil},
		{"loopback IPv6 for 127.0.0.1", "http://127.0.0.1:8080", "[::1]:8080", "", nil},
		{"another address", "http://10.0.0.5", "10.0.0.6:80", "", []string{"10.0.0.5"}},
		{"a name and one address: cannot tell", "http://pki.contoso.com", "10.0.0.6:80", "", nil},
		{"another path", "http://pki.contoso.com/pki", "[::]:80", "/other", []string{"path /pki/"}},
		{"path given without slash", "http://pki.contoso.com/pki", "[::]:80", "pki/", nil},
		{"no base URL (--dir)", "", "127.0.0.1:8080", "", nil},
	}
	for _, tc := range tests {
		got := ListenWarnings(tc.base, tc.listen, tc.prefix)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %q, want %d warnings", tc.name, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: warning %q lacks %q", tc.name, got[i], w)
			}
		}
	}
}

// hierarchy writes a folder whose file names sort the issuing CAs before
// their root, with a certificate under them, a CA whose issuer is
// missing, and two CAs that certify each other.
func hierarchy(t *testing.T) (dir string, certs map[string]*x509.Certificate, keys map[string]crypto.Signer) {
	t.Helper()
	dir = t.TempDir()
	certs, keys = map[string]*x509.Certificate{}, map[string]crypto.Signer{}
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := selfSignedCA(t, rootKey, 1, pkix.Name{CommonName: "Z Root"})
	certs["z-root"], keys["z-root"] = root, rootKey
	add := func(slug, cn, parent string, isCA bool) {
		c, k := issuedCert(t, certs[parent], keys[parent], cn, isCA)
		certs[slug], keys[slug] = c, k
	}
	add("a-issuing", "A Issuing", "z-root", true)
	add("b-sub", "B Sub", "a-issuing", true)
	add("c-leaf", "c.example.com", "a-issuing", false)
	strayKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stray := selfSignedCA(t, strayKey, 9, pkix.Name{CommonName: "Stray Root"})
	certs["stray"], keys["stray"] = stray, strayKey
	add("m-orphan", "M Orphan", "stray", true)
	for slug, c := range certs {
		if slug == "stray" {
			continue
		}
		data := c.Raw
		if slug == "b-sub" { // a PEM .crt is read too
			data = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		writeFile(t, dir, slug+".crt", data)
	}
	writeFile(t, dir, "notes.txt", []byte("x"))
	writeFile(t, dir, "broken.crt", []byte("not a certificate"))
	return dir, certs, keys
}

func TestScanOrder(t *testing.T) {
	dir, _, _ := hierarchy(t)
	cas, err := Scan(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		slug, kind string
		depth      int
	}
	var got []row
	for _, c := range cas {
		got = append(got, row{c.Slug, c.Kind, c.Depth})
	}
	want := []row{
		{"z-root", "Root CA", 0},
		{"a-issuing", "Intermediate CA", 1},
		{"b-sub", "Issuing CA", 2},
		{"c-leaf", "Certificate", 2},
		{"m-orphan", "CA", 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Scan order:\n got %v\nwant %v", got, want)
	}
	chain := cas[2].Chain()
	var names []string
	for _, c := range chain {
		names = append(names, c.Subject.CommonName)
	}
	if strings.Join(names, ",") != "B Sub,A Issuing,Z Root" {
		t.Errorf("chain of b-sub: %v", names)
	}
}

// Two CAs that certify each other must not hang the scan or the chain.
func TestScanCrossCertified(t *testing.T) {
	dir := t.TempDir()
	kx, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ky, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mk := func(subject, issuer string, pub, signer crypto.Signer) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: subject},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}
		parent := &x509.Certificate{Subject: pkix.Name{CommonName: issuer}, PublicKey: signer.Public()}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub.Public(), signer)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	writeFile(t, dir, "x.crt", mk("X", "Y", kx, ky).Raw)
	writeFile(t, dir, "y.crt", mk("Y", "X", ky, kx).Raw)
	done := make(chan []*CAInfo, 1)
	go func() {
		cas, _ := Scan(dir, time.Now())
		done <- cas
	}()
	select {
	case cas := <-done:
		if len(cas) != 2 {
			t.Fatalf("%d certificates, want 2", len(cas))
		}
		for _, c := range cas {
			if n := len(c.Chain()); n > 2 {
				t.Errorf("chain of %s has %d certificates", c.Slug, n)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Scan loops on cross-certified CAs")
	}
}

// TestDerivedFiles: the .cer, chain and .crl.pem the index links are
// served from the .crt and .crl when the folder lacks them; a file of
// that name in the folder wins, and a link out of it is refused, not
// replaced.
func TestDerivedFiles(t *testing.T) {
	dir, certs, keys := hierarchy(t)
	der, err := Build(certs["a-issuing"], keys["a-issuing"], 3, time.Now(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "a-issuing.crl", der) // no .crl.pem beside it
	mine := []byte("-----BEGIN CERTIFICATE-----\nmine\n-----END CERTIFICATE-----\n")
	writeFile(t, dir, "z-root.cer", mine)
	outside := filepath.Join(t.TempDir(), "outside.cer")
	writeFile(t, filepath.Dir(outside), "outside.cer", []byte("outside"))
	if err := os.Symlink(outside, filepath.Join(dir, "b-sub.cer")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&Handler{Dir: dir})
	defer srv.Close()

	pemOf := func(cs ...string) []byte {
		var out []byte
		for _, c := range cs {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[c].Raw})...)
		}
		return out
	}
	tests := []struct {
		path   string
		status int
		ctype  string
		body   []byte
	}{
		{"/a-issuing.cer", 200, "application/x-x509-ca-cert", pemOf("a-issuing")},
		{"/z-root.cer", 200, "application/x-x509-ca-cert", mine},
		{"/b-sub.cer", 404, "", nil},
		{"/b-sub-chain.pem", 200, "application/x-pem-file", pemOf("b-sub", "a-issuing", "z-root")},
		{"/z-root-chain.pem", 200, "application/x-pem-file", pemOf("z-root")},
		{"/m-orphan-chain.pem", 200, "application/x-pem-file", pemOf("m-orphan")},
		{"/a-issuing.crl.pem", 200, "application/x-pem-file", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})},
		{"/z-root.crl.pem", 404, "", nil}, // no CRL to make it from
		{"/nobody.cer", 404, "", nil},
		{"/nobody-chain.pem", 404, "", nil},
		{"/broken.cer", 404, "", nil},
	}
	for _, tc := range tests {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if want := `attachment; filename="` + strings.TrimPrefix(tc.path, "/") + `"`; resp.Header.Get("Content-Disposition") != want {
			t.Errorf("%s: Content-Disposition %q, want %q", tc.path, resp.Header.Get("Content-Disposition"), want)
		}
		if string(body) != string(tc.body) {
			t.Errorf("%s: body\n%s\nwant\n%s", tc.path, body, tc.body)
		}
	}
}

// TestIndexPage: the CRL marks at each point of a CRL's life, the links,
// escaping of what certificates say, and a Content-Security-Policy that
// allows the page's own style and script and nothing else.
func TestIndexPage(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	hostile := "Evil <script>alert(1)</script> \u202eAC toor"
	root := selfSignedCA(t, key, 1, pkix.Name{CommonName: hostile, Organization: []string{`"><img src=x>`}})
	dir := t.TempDir()
	writeFile(t, dir, "root.crt", root.Raw)
	signed := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
	der, err := Build(root, key, 12, signed, 8*24*time.Hour, []Entry{{Serial: big.NewInt(7), RevokedAt: signed}, {Serial: big.NewInt(8), RevokedAt: signed}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "root.crl", der)

	tests := []struct {
		name  string
		now   time.Time
		state string
		note  string
	}{
		{"fresh", signed.Add(time.Hour), "fresh", "re-signing due in 3 days"},
		{"due", signed.Add(5 * 24 * time.Hour), "due", "past half its lifetime"},
		{"stale", signed.Add(10 * 24 * time.Hour), "stale", "expired 2 days ago"},
	}
	for _, tc := range tests {
		h := &Handler{Dir: dir, BaseURL: "http://pki.example.test", Listen: "127.0.0.1:8080", Now: func() time.Time { return tc.now }}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		page := rec.Body.String()
		for _, want := range []string{
			`<span class="badge ` + tc.state + `">` + tc.state + `</span>`, tc.note,
			"number 12, 2 revoked", "this update 2027-01-01 11:55 UTC, next update 2027-01-09 12:00 UTC",
			`href="root.crt"`, `href="root.cer"`, `href="root-chain.pem"`, `href="root.crl"`, `href="root.crl.pem"`,
			"http://pki.example.test/root.crl", `id="warnings"`,
			"Evil &lt;script&gt;alert(1)&lt;/script&gt;", `\u202e`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q", tc.name, want)
			}
		}
		for _, bad := range []string{"<script>alert", "\u202e", "<img src=x>"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: the page holds %q unescaped", tc.name, bad)
			}
		}
		// The policy's hashes are those of the page's one style and one
		// script, and it allows nothing else.
		csp := rec.Header().Get("Content-Security-Policy")
		for _, el := range []string{"style", "script"} {
			m := regexp.MustCompile(`(?s)<`+el+`>(.*?)</`+el+`>`).FindAllStringSubmatch(page, -1)
			if len(m) != 1 {
				t.Fatalf("%d <%s> elements, want 1", len(m), el)
			}
			sum := sha256.Sum256([]byte(m[0][1]))
			if want := el + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP %q does not refuse everything else", csp)
		}
		// Nothing to fetch: no source, stylesheet, font or image.
		for _, fetch := range []string{"<img", "<script src", "<link", "<iframe", "url(", "@import"} {
			if strings.Contains(page, fetch) {
				t.Errorf("%s: the page loads something (%q)", tc.name, fetch)
			}
		}
	}
}

// A CRL that is missing, broken or signed by another CA is said so, and
// not linked when it is not a CRL.
func TestIndexPageCRLProblems(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, otherKey := testCA(t)
	ca := selfSignedCA(t, key, 1, pkix.Name{CommonName: "Problem CA"})
	wrong, err := Build(other, otherKey, 1, time.Now(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		crl  []byte // nil: no file
		want []string
		link bool
	}{
		{"missing", nil, []string{`badge missing`, "no CRL published (ca.crl)"}, false},
		{"broken", []byte("garbage"), []string{`badge missing`, "ca.crl is not a CRL"}, false},
		{"another CA's", wrong, []string{`badge invalid`, "not signed by this CA"}, true},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		writeFile(t, dir, "ca.crt", ca.Raw)
		if tc.crl != nil {
			writeFile(t, dir, "ca.crl", tc.crl)
		}
		rec := httptest.NewRecorder()
		(&Handler{Dir: dir}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		page := rec.Body.String()
		for _, want := range tc.want {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q", tc.name, want)
			}
		}
		if got := strings.Contains(page, `href="ca.crl"`); got != tc.link {
			t.Errorf("%s: links ca.crl: %v, want %v", tc.name, got, tc.link)
		}
	}
}
