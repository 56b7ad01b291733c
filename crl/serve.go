package crl

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/textsafe"
)

// ContentTypes of the files public/ holds. RFC 2585 section 4 names
// application/pkix-crl and application/pkix-cert, which Windows and OpenSSL
// validators expect when they fetch a CDP or AIA URL.
var ContentTypes = map[string]string{
	".crl": "application/pkix-crl",
	".crt": "application/pkix-cert",
	".cer": "application/pkix-cert",
	".pem": "application/x-pem-file",
}

// fileNameRe is what a served file name may look like: no separators, no
// leading dot (temporary files start with one), no "..".
var fileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// maxServedSize bounds a file read for one response.
const maxServedSize = 64 << 20

// Handler serves a public/ folder: the CRLs and CA certificates named in
// certificates' CDP and AIA URLs, and an index page for people.
type Handler struct {
	Dir string
	// Prefix is the path of the base URL ("/pki" for http://host/pki), so
	// files are found at the exact path a certificate names. Files are also
	// served at the root.
	Prefix string
	// Log, when set, is called once per request (AccessLine words it).
	Log func(r *http.Request, status int, size int)
	// Refused, when set, is told why a file that exists was not served
	// (answered 404): a symbolic link leading out of Dir.
	Refused func(name, reason string)
}

// AccessLine is the access log line of one request: time, method, the
// path and query as sent (percent-encoded: a "%0a" stays "%0a" and never
// becomes a newline that forges a second line), status and size. The
// method and target are escaped besides (textsafe.Quote), for the raw
// bytes a request line may carry (a U+202E in UTF-8), so a line always
// shows what came in and nothing in it drives the terminal of whoever
// tails the log.
func AccessLine(at time.Time, r *http.Request, status, size int) string {
	target := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	return fmt.Sprintf("%s %s %s %d %d", at.Format(time.RFC3339), textsafe.Quote(r.Method), textsafe.Quote(target), status, size)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.serve(rec, r)
	if h.Log != nil {
		h.Log(r, rec.status, rec.size)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	// "pki", "/pki" and "/pki/" all mean the folder /pki.
	prefix := strings.TrimRight(h.Prefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	if prefix != "" && (p == prefix || strings.HasPrefix(p, prefix+"/")) {
		p = strings.TrimPrefix(p, prefix)
	}
	if p == "" || p == "/" || p == "/index.html" {
		h.index(w, r)
		return
	}
	name := strings.TrimPrefix(p, "/")
	ctype, ok := ContentTypes[filepath.Ext(name)]
	if !ok || !fileNameRe.MatchString(name) || strings.Contains(name, "..") {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(h.Dir)
	if err != nil {
		http.Error(w, "cannot read the public folder", http.StatusInternalServerError)
		return
	}
	defer root.Close()
	data, st, err := readServed(root, name)
	if err != nil {
		var le *linkOutError
		if errors.As(err, &le) && h.Refused != nil {
			h.Refused(name, le.Error())
		}
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	// Short: a revocation should reach validators that honour HTTP caching
	// within minutes, while CRL nextUpdate governs their own cache.
	w.Header().Set("Cache-Control", "public, max-age=300")
	// ServeContent answers If-Modified-Since, If-None-Match and ranges.
	http.ServeContent(w, r, name, st.ModTime(), bytes.NewReader(data))
}

// linkOutError is a file of the served folder that is a symbolic link
// leading out of it (or an absolute one, which os.Root does not follow).
type linkOutError struct{ dir string }

func (e *linkOutError) Error() string {
	return "a symbolic link that leaves " + e.dir + " or is absolute; only files inside it are served"
}

// readServed reads the regular file name of the served folder. Every open
// goes through root (os.Root): a link is followed only while it stays
// inside the folder, so a link in public/ to the CA key is never read, not
// even by a race between a check and the open. The whole file is read
// from the open descriptor: a CRL replaced by rename while we read is
// still the complete old file, never a mix.
func readServed(root *os.Root, name string) ([]byte, fs.FileInfo, error) {
	f, err := root.Open(name)
	if err != nil {
		if fi, lerr := root.Lstat(name); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, nil, &linkOutError{dir: root.Name()}
		}
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > maxServedSize {
		return nil, nil, fs.ErrNotExist
	}
	data, err := fsutil.ReadLimitedFrom(f, name, maxServedSize)
	if err != nil {
		return nil, nil, err
	}
	return data, st, nil
}

// CAInfo is one CA as the index page shows it.
type CAInfo struct {
	File        string
	Subject     string
	Fingerprint string // SHA-256, colon-separated
	NotAfter    time.Time
	CRLFile     string
	CRLNumber   string
	ThisUpdate  time.Time
	NextUpdate  time.Time
	Revoked     int
	CRLError    string
}

// Scan reads the CA certificates (<slug>.crt, DER) of a public folder and
// their CRLs.
func Scan(dir string) ([]CAInfo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var out []CAInfo
	for _, e := range ents {
		if e.IsDir() || filepath.Ext(e.Name()) != ".crt" || !fileNameRe.MatchString(e.Name()) {
			continue
		}
		data, _, err := readServed(root, e.Name())
		if err != nil {
			continue
		}
		cert, err := x509.ParseCertificate(data)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(cert.Raw)
		info := CAInfo{File: e.Name(), Subject: cert.Subject.String(), Fingerprint: colonHex(sum[:]), NotAfter: cert.NotAfter.UTC()}
		slug := strings.TrimSuffix(e.Name(), ".crt")
		info.CRLFile = slug + ".crl"
		var rl *x509.RevocationList
		data, _, err = readServed(root, info.CRLFile)
		if err == nil {
			rl, err = Parse(data)
		}
		switch {
		case err != nil:
			info.CRLError = "no CRL"
		case rl.CheckSignatureFrom(cert) != nil:
			info.CRLError = "CRL not signed by this CA"
		default:
			if rl.Number != nil {
				info.CRLNumber = rl.Number.String()
			}
			info.ThisUpdate, info.NextUpdate, info.Revoked = rl.ThisUpdate.UTC(), rl.NextUpdate.UTC(), len(rl.RevokedCertificateEntries)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02 15:04 MST")
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>certmint: certificate authorities</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}code{font-size:.85em}</style>
</head><body>
<h1>Certificate authorities</h1>
<p>CA certificates and certificate revocation lists (CRLs) published by certmint. Install a CA certificate to trust it; validators fetch the CRLs themselves.</p>
<table>
<tr><th>CA</th><th>SHA-256 fingerprint</th><th>expires</th><th>CRL</th><th>CRL number</th><th>next update</th><th>revoked</th></tr>
{{range .}}<tr><td><a href="{{.File}}">{{.Subject}}</a></td><td><code>{{.Fingerprint}}</code></td><td>{{date .NotAfter}}</td>
<td>{{if .CRLError}}{{.CRLError}}{{else}}<a href="{{.CRLFile}}">{{.CRLFile}}</a>{{end}}</td><td>{{.CRLNumber}}</td><td>{{date .NextUpdate}}</td><td>{{if not .CRLError}}{{.Revoked}}{{end}}</td></tr>
{{else}}<tr><td colspan="7">no CA certificates in this folder</td></tr>{{end}}
</table>
</body></html>
`))

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	cas, err := Scan(h.Dir)
	if err != nil {
		http.Error(w, "cannot read the public folder", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, cas); err != nil {
		http.Error(w, "index error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(b.Bytes())
}

type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.size += n
	return n, err
}
