package crl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/textsafe"
)

// ContentTypes of the files public/ holds. RFC 2585 section 4 names
// application/pkix-crl and application/pkix-cert (both DER), which Windows
// and OpenSSL validators expect when they fetch a CDP or AIA URL. A .cer
// here is base64 (PEM), which pkix-cert does not describe: it goes as
// application/x-x509-ca-cert, the type browsers and both systems know for
// "a CA certificate to install", in either encoding (Firefox offers to
// import it, Safari hands it to Keychain Access). What opens it after the
// download is its extension, kept by Content-Disposition: a double click
// opens the Windows certificate dialog or Keychain Access, both of which
// read base64 as well as DER.
var ContentTypes = map[string]string{
	".crl": "application/pkix-crl",
	".crt": "application/pkix-cert",
	".cer": "application/x-x509-ca-cert",
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

	// BaseURL is the base URL issued certificates name (certmint.toml
	// base_url), shown on the index page; "" when unknown.
	BaseURL string
	// Listen is the HOST:PORT the server listens on, compared with
	// BaseURL on the index page.
	Listen string
	// Now is the clock of the index page; nil means time.Now.
	Now func() time.Time
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
		if errors.As(err, &le) {
			if h.Refused != nil {
				h.Refused(name, le.Error())
			}
			http.NotFound(w, r)
			return
		}
		var ok bool
		if data, st, ok = derived(root, name); !ok {
			http.NotFound(w, r)
			return
		}
	}
	sum := sha256.Sum256(data)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	// Short: a revocation should reach validators that honour HTTP caching
	// within minutes, while CRL nextUpdate governs their own cache.
	w.Header().Set("Cache-Control", "public, max-age=300")
	// A browser saves the file under its own name, so a double click
	// opens what its extension says (see ContentTypes).
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
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
