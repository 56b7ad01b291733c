package crl

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/textsafe"
)

// The index page carries its style and script inline and loads nothing
// else; the Content-Security-Policy allows exactly these two by hash, so a
// subject or file name that slipped past html/template's escaping could
// still run nothing.
const pageCSS = `:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--card:#f6f8fa;--ok:#1a7f37;--due:#9a6700;--bad:#d1242f;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--bg:#0d1117;--card:#151b23;--ok:#3fb950;--due:#d29922;--bad:#f85149;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main,footer{max-width:64rem;margin:0 auto;padding:0 1.25rem}
h1{font-size:1.6rem;margin:1.25rem 0 .25rem}
h2{font-size:1.15rem;margin:0 0 .6rem;overflow-wrap:anywhere}
h3{font-size:1rem;margin:1.25rem 0 .4rem}
p{margin:.4rem 0}
a{color:var(--link)}
.warn code,.note code{white-space:nowrap}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.88em}
.muted{color:var(--muted)}
.box{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin:1rem 0;background:var(--card)}
.warn{border-left:6px solid var(--due)}
.warn ul{margin:.25rem 0 0;padding-left:1.25rem}
section.ca{border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin:1rem 0;background:var(--bg)}
section.ca section.ca{margin:1.25rem 0 0;border-left:6px solid var(--line)}
.kind{display:inline-block;font-size:.72rem;font-weight:600;text-transform:uppercase;letter-spacing:.05em;border:1px solid var(--line);border-radius:999px;padding:0 .55rem;margin-right:.5rem;vertical-align:.2em;color:var(--muted)}
dl{display:grid;grid-template-columns:9.5rem minmax(0,1fr);gap:.4rem 1rem;margin:0}
dt{color:var(--muted)}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
.fp{display:flex;gap:.5rem;align-items:baseline}
.fp code{min-width:0;user-select:all;-webkit-user-select:all}
.fp code.sha256{max-width:48.5ch}
button.copy{font:inherit;font-size:.78rem;line-height:1.4;padding:0 .5rem;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg);cursor:pointer;flex:none}
.badge{display:inline-block;font-weight:600;font-size:.78rem;padding:0 .55rem;border-radius:999px;color:#fff;margin-right:.35rem}
.fresh{background:var(--ok)}.due{background:var(--due)}.stale,.missing,.invalid{background:var(--bad)}
.expired{color:var(--bad);font-weight:600}
ul.files{list-style:none;margin:0;padding:0}
ul.files li{margin:.1rem 0}
ul.files a{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.88em;margin-right:.5rem}
footer{color:var(--muted);font-size:.85rem;margin-bottom:2rem}
@media (max-width:40rem){dl{grid-template-columns:minmax(0,1fr)}dt{margin-top:.4rem}}`

const pageJS = `(function(){
function select(el){var r=document.createRange();r.selectNodeContents(el);var s=window.getSelection();s.removeAllRanges();s.addRange(r);try{return document.execCommand("copy")}catch(e){return false}}
function done(b,ok){b.textContent=ok?"copied":"selected: press Ctrl+C";setTimeout(function(){b.textContent="copy"},2500)}
document.querySelectorAll("button[data-copy]").forEach(function(b){
b.hidden=false;
b.addEventListener("click",function(){var el=document.getElementById(b.getAttribute("data-copy"));var t=el.textContent;
if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(t).then(function(){done(b,true)},function(){done(b,select(el))})}else{done(b,select(el))}});
});
})();`

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// pageCSP allows the page's own style and script and nothing else: no
// other origin, no image, no form, no frame.
var pageCSP = "default-src 'none'; style-src " + cspHash(pageCSS) + "; script-src " + cspHash(pageJS) +
	"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// spans cuts a message at its backquotes: the parts between them
	// are commands, shown as code.
	"spans": func(s string) []span {
		var out []span
		for i, part := range strings.Split(s, "`") {
			if part != "" {
				out = append(out, span{Text: part, Code: i%2 == 1})
			}
		}
		return out
	},
	// chunks cuts a fingerprint into pieces between which the browser
	// may break the line (<wbr>): copied, it is one piece again.
	"chunks": func(s string, n int) []string {
		var out []string
		for len(s) > n {
			out = append(out, s[:n])
			s = s[n:]
		}
		return append(out, s)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>certmint: certificate authorities</title>
<style>` + pageCSS + `</style>
</head><body>
<header>
<h1>Certificate authorities</h1>
<p class="muted">CA certificates and certificate revocation lists (CRLs) published by certmint. Install the root CA to trust the certificates it issues; validators fetch the CRLs themselves.</p>
<div class="box"><dl>
<dt>Base URL</dt><dd>{{if .BaseURL}}<code id="base-url">{{.BaseURL}}/</code><br><span class="muted">issued certificates point here: the CRL distribution point <code>{{.BaseURL}}/&lt;ca&gt;.crl</code> and the CA issuers URL <code>{{.BaseURL}}/&lt;ca&gt;.crt</code> of the CA that signed them</span>{{else}}<span class="muted">not known: this server was given a folder (--dir) without a CA home (--home)</span>{{end}}</dd>
<dt>This server</dt><dd>{{if .Listen}}listens on <code>{{.Listen}}</code>, {{end}}files at <code>/</code>{{if .Prefix}} and <code>{{.Prefix}}/</code>{{end}}</dd>
<dt>Shown at</dt><dd>{{date .Now}}</dd>
</dl></div>
{{if .Warnings}}<div class="box warn" role="alert" id="warnings"><strong>Validators may not reach this server</strong><ul>{{range .Warnings}}<li>{{template "spans" .}}</li>{{end}}</ul></div>{{end}}
</header>
<main>
{{range .Tops}}{{template "ca" .}}{{else}}<p>No certificates (<code>&lt;ca&gt;.crt</code>) in this folder.</p>{{end}}
{{if .Roots}}<section class="box" id="install"><h2>Installing the CA certificates</h2>
<p>Windows, as administrator:
{{range .Roots}}<br><code>certutil -addstore Root {{.}}.crt</code>{{end}}{{range .Issuing}}<br><code>certutil -addstore CA {{.}}.crt</code>{{end}}</p>
<p>macOS (each CA in its own .cer, as Keychain imports one certificate per file):
{{range .Roots}}<br><code>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {{.}}.cer</code>{{end}}{{range .Issuing}}<br><code>sudo security add-certificates -k /Library/Keychains/System.keychain {{.}}.cer</code>{{end}}</p>
<p>Debian and Ubuntu:
{{range .Roots}}<br><code>sudo cp {{.}}.cer /usr/local/share/ca-certificates/{{.}}.crt &amp;&amp; sudo update-ca-certificates</code>{{end}}</p>
</section>{{end}}
</main>
<footer>Times are UTC. Thumbprints are of the DER certificate; click one to select it whole.</footer>
<script>` + pageJS + `</script>
</body></html>
{{define "spans"}}{{range spans .}}{{if .Code}}<code>{{.Text}}</code>{{else}}{{.Text}}{{end}}{{end}}{{end}}
{{define "ca"}}<section class="ca" id="ca-{{.Slug}}" data-slug="{{.Slug}}" data-kind="{{.KindClass}}">
<h2><span class="kind">{{.Kind}}</span>{{.CN}}</h2>
<dl>
<dt>Subject</dt><dd>{{.Subject}}</dd>
{{if .Parent}}<dt>Issued by</dt><dd>{{.Parent.Subject}}</dd>{{else if not .IsRoot}}<dt>Issued by</dt><dd>{{.Issuer}} <span class="muted">(not in this folder)</span></dd>{{end}}
<dt>Valid</dt><dd>{{date .Cert.NotBefore}} to {{date .Cert.NotAfter}}<br><span{{if .Expired}} class="expired"{{end}}>{{.Validity}}</span></dd>
<dt>SHA-1 thumbprint</dt><dd class="fp"><code id="sha1-{{.Slug}}" title="{{.SHA1}}">{{range $i, $c := chunks .SHA1 8}}{{if $i}}<wbr>{{end}}{{$c}}{{end}}</code><button class="copy" type="button" data-copy="sha1-{{.Slug}}" title="copy the SHA-1 thumbprint" hidden>copy</button></dd>
<dt>SHA-256</dt><dd class="fp"><code class="sha256" id="sha256-{{.Slug}}" title="{{.SHA256}}">{{range $i, $c := chunks .SHA256 24}}{{if $i}}<wbr>{{end}}{{$c}}{{end}}</code><button class="copy" type="button" data-copy="sha256-{{.Slug}}" title="copy the SHA-256 fingerprint" hidden>copy</button></dd>
{{if .Cert.IsCA}}<dt>CRL</dt><dd>{{with .CRL}}<span class="badge {{.State}}">{{.State}}</span>{{if .Problem}}{{.Problem}}{{end}}{{if .Number}}number {{.Number}}, {{.Revoked}} revoked{{end}}
{{if not .ThisUpdate.IsZero}}<br>this update {{date .ThisUpdate}}, next update {{date .NextUpdate}}{{end}}
{{if .Note}}<br><span class="muted note">{{template "spans" .Note}}</span>{{end}}{{end}}</dd>{{end}}
{{if and .Cert.IsCA $.Base}}<dt>It signs</dt><dd><span class="muted">certificates whose CRL distribution point is</span> <code>{{.CRLURL}}</code> <span class="muted">and CA issuers URL</span> <code>{{.CertURL}}</code></dd>{{end}}
<dt>Files</dt><dd><ul class="files">
<li><a href="{{.Slug}}.crt">{{.Slug}}.crt</a><span class="muted">certificate, DER: Windows opens it; the CA issuers (AIA) URL</span></li>
<li><a href="{{.Slug}}.cer">{{.Slug}}.cer</a><span class="muted">certificate, base64: macOS Keychain and Windows</span></li>
<li><a href="{{.Slug}}-chain.pem">{{.Slug}}-chain.pem</a><span class="muted">{{if .Parent}}this CA, then its issuers up to the root (PEM){{else}}this certificate alone, the top of its chain (PEM){{end}}</span></li>
{{if .HasCRL}}<li><a href="{{.Slug}}.crl">{{.Slug}}.crl</a><span class="muted">CRL, DER: the CRL distribution point</span></li>
<li><a href="{{.Slug}}.crl.pem">{{.Slug}}.crl.pem</a><span class="muted">CRL, base64</span></li>{{end}}
</ul></dd>
</dl>
{{range .Kids}}{{template "ca" .}}{{end}}
</section>
{{end}}`))

// span is a piece of a message: text, or a command shown as code.
type span struct {
	Text string
	Code bool
}

// caView is one CA as the template reads it.
type caView struct {
	*CAInfo
	Base    string // the base URL, "" when unknown
	CRLURL  string
	CertURL string
	Kids    []caView
}

func (v caView) CN() string {
	if cn := v.Cert.Subject.CommonName; cn != "" {
		return textsafe.Escape(cn)
	}
	return v.Subject
}

// KindClass is the kind as one word, for the page's data-kind attribute.
func (v caView) KindClass() string {
	return strings.ToLower(strings.ReplaceAll(v.Kind, " ", "-"))
}

// HasCRL: a CRL file that parses is there to link to.
func (v caView) HasCRL() bool { return v.CRL.State != CRLMissing }

type indexPage struct {
	Now      time.Time
	BaseURL  string
	Listen   string
	Prefix   string
	Warnings []string
	Tops     []caView
	Roots    []string // slugs of the root CAs, for the install commands
	Issuing  []string // slugs of the CAs under them
}

func (h *Handler) page(now time.Time) (*indexPage, error) {
	cas, err := Scan(h.Dir, now)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(h.BaseURL, "/")
	p := &indexPage{Now: now, BaseURL: base, Prefix: normPrefix(h.Prefix),
		Warnings: ListenWarnings(base, h.Listen, h.Prefix)}
	if h.Listen != "" {
		p.Listen = "http://" + h.Listen
	}
	var view func(c *CAInfo) caView
	view = func(c *CAInfo) caView {
		v := caView{CAInfo: c, Base: base}
		if base != "" {
			v.CRLURL, v.CertURL = base+"/"+c.Slug+".crl", base+"/"+c.Slug+".crt"
		}
		for _, k := range c.Children {
			v.Kids = append(v.Kids, view(k))
		}
		return v
	}
	for _, c := range cas {
		if c.Parent == nil {
			p.Tops = append(p.Tops, view(c))
		}
		switch {
		case c.IsRoot():
			p.Roots = append(p.Roots, c.Slug)
		case c.Cert.IsCA && c.Depth > 0:
			p.Issuing = append(p.Issuing, c.Slug)
		}
	}
	return p, nil
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	p, err := h.page(now.UTC())
	if err != nil {
		http.Error(w, "cannot read the public folder", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, p); err != nil {
		http.Error(w, "index error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(b.Bytes())
}
