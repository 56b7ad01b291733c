package interop

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// requireChromiumEnv makes a missing Chromium a failure instead of a skip;
// .ci/run sets it to 1 after installing Debian's chromium.
const requireChromiumEnv = "CERTMINT_REQUIRE_CHROMIUM"

// artifactsEnv names a folder for test artefacts (the screenshots); without
// it they go to the test's temporary folder.
const artifactsEnv = "CERTMINT_ARTIFACTS"

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireChromiumEnv) == "1" {
		t.Fatalf("chromium is not in PATH and %s=1: install it (Debian: apt-get install chromium)", requireChromiumEnv)
	}
	t.Skipf("chromium is not in PATH: skipping the browser test (Debian: apt-get install chromium; set %s=1 to make this a failure)", requireChromiumEnv)
	return ""
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(artifactsEnv)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%s=%s: %v", artifactsEnv, dir, err)
	}
	return dir
}

// pageFacts is what the test reads off the rendered index page.
type pageFacts struct {
	ScrollWidth int      `json:"scrollWidth"`
	ClientWidth int      `json:"clientWidth"`
	Kinds       []string `json:"kinds"` // data-kind of each CA section, in document order
	Slugs       []string `json:"slugs"`
	Links       []string `json:"links"` // every a[href], resolved
	Warnings    string   `json:"warnings"`
	BaseURL     string   `json:"baseURL"`
	Text        string   `json:"text"`
	Hidden      int      `json:"hidden"`  // copy buttons the script did not show
	Buttons     int      `json:"buttons"` // copy buttons
	Overflowing []string `json:"overflowing"`
	Styled      bool     `json:"styled"` // the page's style applied (its CSP hash is right)
}

const readPage = `(() => {
const sections = [...document.querySelectorAll("section.ca")];
const de = document.documentElement;
return {
  scrollWidth: de.scrollWidth, clientWidth: de.clientWidth,
  kinds: sections.map(s => s.dataset.kind), slugs: sections.map(s => s.dataset.slug),
  links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  warnings: (document.getElementById("warnings") || {innerText: ""}).innerText,
  baseURL: (document.getElementById("base-url") || {textContent: ""}).textContent,
  text: document.body.innerText,
  hidden: document.querySelectorAll("button[data-copy][hidden]").length,
  buttons: document.querySelectorAll("button[data-copy]").length,
  styled: sections.length > 0 && getComputedStyle(sections[0]).borderTopLeftRadius === "8px",
  overflowing: [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > de.clientWidth + 0.5).map(e => e.tagName + (e.id ? "#" + e.id : "") + " " + (e.textContent || "").slice(0, 40)),
};
})()`

// TestIndexPageInChromium is issue 12 item 11: `certmint serve`'s index page
// scrolled sideways at 1,200 px, listed the issuing CA before the root, and
// linked neither the .cer, the chain nor the .crl.pem. In headless Chromium
// at 1,024x768 the page must not scroll sideways, must show the root before
// the CA it issued, warn that the server is not where the base URL points,
// and every link must answer 200 with the right content type and a
// certificate or CRL of the right CA. The screenshots are kept.
func TestIndexPageInChromium(t *testing.T) {
	browser := chromiumPath(t)
	start := time.Now()

	// A home of its own (ECDSA: quick), whose base URL has a path and names
	// port 80, with one revoked certificate.
	const base = "http://pki.index.test/pki"
	h, err := initCA("index", base, "--root-cn", "Index Page Root CA", "--issuing-cn", "Index Page Issuing CA",
		"--org", "Certmint Interop", "--country", "US", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	stdout, stderr, code := runIn(t, h.Home, "issue", "--template", "server", "--cn", "www.index.test", "--out", out, "--random-password", "--json")
	if code != 0 {
		t.Fatalf("issue: exit %d\n%s", code, stderr)
	}
	var issued issueJSON
	if err := json.Unmarshal([]byte(stdout), &issued); err != nil {
		t.Fatalf("issue --json: %v\n%s", err, stdout)
	}
	if _, stderr, code := runIn(t, h.Home, "revoke", "--reason", "keyCompromise", issued.Serial); code != 0 {
		t.Fatalf("revoke: exit %d\n%s", code, stderr)
	}
	// public/ as init writes it has no .cer and no chain: serve makes them.
	for _, f := range []string{h.Root.Slug + ".cer", h.Issuing.Slug + "-chain.pem"} {
		if _, err := os.Stat(filepath.Join(h.Home, "public", f)); err == nil {
			t.Logf("public/ holds %s already; it is served as it is", f)
		}
	}

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	serveErr := serve(t, h, addr)
	pageURL := "http://" + addr + "/pki/"

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		// This machine's network is closed: without these Chromium keeps
		// trying to reach Google's hosts.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	// The first Run starts the browser and must not carry the timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768)); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// The console, read while the page runs: an exception, an error or a
	// Content-Security-Policy refusal fails the test.
	var (
		consoleMu   sync.Mutex
		consoleMsgs []chromedp.ConsoleMessage
		consoleDone = make(chan struct{})
	)
	console := chromedp.Console(ctx) // subscribed from here on
	go func() {
		defer close(consoleDone)
		for m, err := range console {
			if err != nil {
				return
			}
			consoleMu.Lock()
			consoleMsgs = append(consoleMsgs, m)
			consoleMu.Unlock()
		}
	}()
	for _, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS("section.ca")),
	} {
		if err := chromedp.Do(ctx, step); err != nil {
			t.Fatalf("loading %s: %v", pageURL, err)
		}
	}
	facts, err := chromedp.Run(ctx, chromedp.Evaluate[pageFacts](readPage))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	dir := artifactsDir(t)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("full-page screenshot: %v", err)
	}
	for name, png := range map[string][]byte{"index-1024x768.png": shot, "index-full-1024.png": full} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}

	// The copy buttons: shown by the page's script (so its
	// Content-Security-Policy hash is right), and a click answers.
	if facts.Buttons == 0 || facts.Hidden != 0 {
		t.Errorf("copy buttons: %d, %d of them still hidden (the script did not run: check the CSP hash)", facts.Buttons, facts.Hidden)
	} else {
		clickCtx, cancelClick := context.WithTimeout(ctx, 5*time.Second)
		if err := chromedp.Do(clickCtx, chromedp.Click(chromedp.CSS("button[data-copy]"))); err != nil {
			t.Errorf("clicking a copy button: %v", err)
		} else if _, err := chromedp.Run(clickCtx, chromedp.Poll[bool](`document.querySelector("button[data-copy]").textContent !== "copy"`,
			chromedp.WithPollingTimeout(3*time.Second))); err != nil {
			t.Errorf("a copy button did nothing when clicked: %v", err)
		}
		cancelClick()
	}
	// And on a phone: the layout is fluid down to one column.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Errorf("narrow viewport: %v", err)
	} else if narrow, err := chromedp.Run(ctx, chromedp.Evaluate[pageFacts](readPage)); err != nil {
		t.Errorf("reading the page at 390 px: %v", err)
	} else if narrow.ScrollWidth > narrow.ClientWidth {
		t.Errorf("the page scrolls sideways at 390 px: scrollWidth %d > clientWidth %d; too wide: %q", narrow.ScrollWidth, narrow.ClientWidth, narrow.Overflowing)
	}
	time.Sleep(200 * time.Millisecond) // messages on their way
	cancelCtx()
	<-consoleDone
	consoleMu.Lock()
	defer consoleMu.Unlock()
	for _, m := range consoleMsgs {
		// favicon.ico: the page has none, and asking for one is the browser's idea.
		if m.Type == chromedp.ConsoleException || (m.Type == chromedp.ConsoleError && !strings.Contains(m.URL, "favicon.ico")) ||
			strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("browser console: %s (%s)", m, m.URL)
		}
	}
	if !facts.Styled {
		t.Error("the page's style did not apply (check the CSP hash of the style)")
	}

	// Headless Chromium draws overlay scroll bars: clientWidth is the whole
	// 1024. The page has no fixed width, so a classic bar changes nothing.
	t.Logf("at 1024x768: scrollWidth %d, clientWidth %d", facts.ScrollWidth, facts.ClientWidth)
	if facts.ScrollWidth > facts.ClientWidth {
		t.Errorf("the page scrolls sideways at 1024 px: scrollWidth %d > clientWidth %d; too wide: %q", facts.ScrollWidth, facts.ClientWidth, facts.Overflowing)
	}
	if want := []string{"root-ca", "issuing-ca"}; !slices.Equal(facts.Kinds, want) {
		t.Errorf("CA sections in order %q, want %q", facts.Kinds, want)
	}
	if want := []string{h.Root.Slug, h.Issuing.Slug}; !slices.Equal(facts.Slugs, want) {
		t.Errorf("CA sections %q, want the root first: %q", facts.Slugs, want)
	}
	if facts.BaseURL != base+"/" {
		t.Errorf("base URL shown %q, want %q", facts.BaseURL, base+"/")
	}
	// Served on 127.0.0.1:PORT while the certificates name port 80 of another host.
	for _, want := range []string{"port 80", "loopback"} {
		if !strings.Contains(facts.Warnings, want) {
			t.Errorf("the page's warning lacks %q: %q", want, facts.Warnings)
		}
		if !strings.Contains(serveErr.String(), want) {
			t.Errorf("serve's stderr lacks the warning %q:\n%s", want, serveErr)
		}
	}
	for _, c := range []caCert{h.Root, h.Issuing} {
		sum := sha1.Sum(c.Cert.Raw)
		for _, want := range []string{c.Cert.Subject.CommonName, strings.ToUpper(hex.EncodeToString(sum[:]))} {
			// innerText keeps the fingerprint whole: <wbr> adds no character.
			if !strings.Contains(facts.Text, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
	}
	for _, want := range []string{"1 revoked", "fresh", "next update"} {
		if !strings.Contains(facts.Text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	// Every link of the page, fetched as a validator or a browser would.
	cas := map[string]*x509.Certificate{h.Root.Slug: h.Root.Cert, h.Issuing.Slug: h.Issuing.Cert}
	chains := map[string][]*x509.Certificate{h.Root.Slug: {h.Root.Cert}, h.Issuing.Slug: {h.Issuing.Cert, h.Root.Cert}}
	var names []string
	for _, link := range facts.Links {
		u, err := url.Parse(link)
		if err != nil || u.Host != addr {
			t.Errorf("link %q leaves the server", link)
			continue
		}
		name := path.Base(u.Path)
		names = append(names, name)
		checkLink(t, link, name, cas, chains, issued.Serial)
	}
	var want []string
	for _, s := range []string{h.Root.Slug, h.Issuing.Slug} {
		want = append(want, s+".crt", s+".cer", s+"-chain.pem", s+".crl", s+".crl.pem")
	}
	slices.Sort(want)
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("the page links %q, want %q", names, want)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the browser test took %v, want under 20 s", d.Round(time.Millisecond))
	}
}

// checkLink fetches one link of the index page and checks its status, its
// content type and that its content is the certificate, chain or CRL of the
// CA its name says.
func checkLink(t *testing.T, link, name string, cas map[string]*x509.Certificate, chains map[string][]*x509.Certificate, revoked string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Errorf("GET %s: %v", link, err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s %v", link, resp.Status, err)
		return
	}
	var slug, ctype string
	switch {
	case strings.HasSuffix(name, ".crl.pem"):
		slug, ctype = strings.TrimSuffix(name, ".crl.pem"), "application/x-pem-file"
	case strings.HasSuffix(name, "-chain.pem"):
		slug, ctype = strings.TrimSuffix(name, "-chain.pem"), "application/x-pem-file"
	case strings.HasSuffix(name, ".crt"):
		slug, ctype = strings.TrimSuffix(name, ".crt"), "application/pkix-cert"
	case strings.HasSuffix(name, ".cer"):
		slug, ctype = strings.TrimSuffix(name, ".cer"), "application/x-x509-ca-cert"
	case strings.HasSuffix(name, ".crl"):
		slug, ctype = strings.TrimSuffix(name, ".crl"), "application/pkix-crl"
	default:
		t.Errorf("link %s: not a file the index should link", link)
		return
	}
	if got := resp.Header.Get("Content-Type"); got != ctype {
		t.Errorf("GET %s: Content-Type %q, want %q", link, got, ctype)
	}
	ca := cas[slug]
	if ca == nil {
		t.Errorf("link %s: no CA %q in this home", link, slug)
		return
	}
	pemBlocks := func(typ string) [][]byte {
		var out [][]byte
		rest := body
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != typ {
				t.Errorf("GET %s: PEM block %q, want %q", link, b.Type, typ)
			}
			out = append(out, b.Bytes)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			t.Errorf("GET %s: bytes after the last PEM block", link)
		}
		return out
	}
	checkCRL := func(der []byte) {
		rl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Errorf("GET %s: not a CRL: %v", link, err)
			return
		}
		if err := rl.CheckSignatureFrom(ca); err != nil {
			t.Errorf("GET %s: CRL not signed by %s: %v", link, slug, err)
		}
		if len(chains[slug]) > 1 { // the issuing CA revoked the certificate
			found := slices.ContainsFunc(rl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
				return strings.EqualFold(e.SerialNumber.Text(16), strings.TrimLeft(revoked, "0"))
			})
			if !found {
				t.Errorf("GET %s: the revoked serial %s is not on the CRL", link, revoked)
			}
		}
	}
	switch {
	case strings.HasSuffix(name, ".crl.pem"):
		if b := pemBlocks("X509 CRL"); len(b) != 1 {
			t.Errorf("GET %s: %d PEM blocks, want 1", link, len(b))
		} else {
			checkCRL(b[0])
		}
	case strings.HasSuffix(name, ".crl"):
		checkCRL(body)
	case strings.HasSuffix(name, ".crt"):
		if !bytes.Equal(body, ca.Raw) {
			t.Errorf("GET %s: not the DER certificate of %s", link, slug)
		}
	case strings.HasSuffix(name, ".cer"):
		if b := pemBlocks("CERTIFICATE"); len(b) != 1 || !bytes.Equal(b[0], ca.Raw) {
			t.Errorf("GET %s: not the one base64 certificate of %s", link, slug)
		}
	case strings.HasSuffix(name, "-chain.pem"):
		b := pemBlocks("CERTIFICATE")
		want := chains[slug]
		if len(b) != len(want) {
			t.Errorf("GET %s: %d certificates, want %d (the CA, then its issuers to the root)", link, len(b), len(want))
			return
		}
		for i := range b {
			if !bytes.Equal(b[i], want[i].Raw) {
				t.Errorf("GET %s: certificate %d is not %s", link, i+1, want[i].Subject.CommonName)
			}
		}
	}
}
