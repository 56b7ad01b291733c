package ca

import (
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// maxBaseURL bounds a base URL: it is written into every certificate twice
// (CDP and AIA), and a folder URL longer than this is a mistake.
const maxBaseURL = 200

const baseURLExample = "give the http:// folder where public/ will be served, e.g. http://pki.example.com/pki"

// ValidateBaseURL checks a base URL and returns it normalised: scheme and
// host in lower case, an international host name in its ASCII (xn--) form,
// an IPv6 address in its canonical form, no default :80, the path cleaned
// (no dot segments, no doubled or trailing slash, escapes of plain
// characters decoded). It accepts http only, a host (DNS name or IP
// address), an optional port from 1 to 65535 and an optional path of
// letters, digits, '-', '.', '_', '~' and '/'; it refuses user info, a
// query, a fragment, and any character that would need quoting where the
// URL is shown or used (quotes, <, >, spaces, backslashes, controls).
//
// The documents require a CDP that validators fetch over plain HTTP:
// 004: "The URL should be defined as http:// rather than https://";
// 000: "References at least one CRL Distribution point that uses HTTP".
// Hand-written: net/url parses far more than a CDP may hold (and keeps it).
func ValidateBaseURL(s string) (string, error) {
	shown := redactPassword(s) // a message never repeats a password
	bad := func(format string, args ...any) error {
		return fmt.Errorf("base URL %q "+format, append([]any{shown}, args...)...)
	}
	if s == "" {
		return "", bad("is not a URL: %s", baseURLExample)
	}
	if len(s) > maxBaseURL {
		return "", fmt.Errorf("the base URL is %d bytes long; certmint accepts at most %d: %s", len(s), maxBaseURL, baseURLExample)
	}
	if !utf8.ValidString(s) {
		return "", bad("is not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return "", bad("contains a control character (%U)", r)
		case unicode.Is(unicode.Cf, r):
			return "", bad("contains an invisible formatting character (%U)", r)
		case unicode.IsSpace(r):
			return "", bad("contains a space, which a URL may not hold: serve public/ from a folder whose name has none")
		case strings.ContainsRune("\"'<>\\`{}|^", r):
			return "", bad("contains %q, which a URL may not hold", r)
		}
	}
	scheme, _, ok := strings.Cut(s, "://")
	switch {
	case !ok && strings.Contains(s, ":/"):
		return "", bad("is not a URL: %s", baseURLExample)
	case !ok:
		return "", bad("has no scheme: write it as http://%s", strings.TrimPrefix(s, "//"))
	}
	if !strings.EqualFold(scheme, "http") {
		return "", bad("must use http://, not %s://: validators fetch CRLs without TLS (Microsoft Defender for IoT asks for http:// rather than https://, and 1E for a CRL distribution point that uses HTTP)", scheme)
	}
	if strings.Contains(s, "?") {
		return "", bad("must not have a query (?...): it is a folder where public/ is served")
	}
	if strings.Contains(s, "#") {
		return "", bad("must not have a fragment (#...): it is a folder where public/ is served")
	}
	u, err := url.Parse(s)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // without the URL again
		}
		return "", bad("is not a URL (%v): %s", err, baseURLExample)
	}
	if u.User != nil {
		return "", bad("must not hold a user name or password (the part before @): CRL clients fetch it anonymously")
	}
	if u.Host == "" {
		return "", bad("has no host: %s", baseURLExample)
	}
	host, err := normalizeHost(u)
	if err != nil {
		return "", bad("%v", err)
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", bad("has an empty port: drop the ':' or give a port from 1 to 65535")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", bad("has port %s; a port is a number from 1 to 65535", p)
		}
		if n != 80 { // the default for http
			host += ":" + strconv.Itoa(n)
		}
	}
	if !isASCII(u.Path) {
		return "", bad("has a path with characters other than ASCII: a path may hold only letters, digits, '-', '.', '_', '~' and '/'")
	}
	p, err := cleanURLPath(u.EscapedPath())
	if err != nil {
		return "", bad("%v", err)
	}
	out := "http://" + host + p
	if len(out) > maxBaseURL {
		return "", fmt.Errorf("the base URL is %d bytes long; certmint accepts at most %d: %s", len(out), maxBaseURL, baseURLExample)
	}
	return out, nil
}

// normalizeHost returns the URL's host as it goes into certificates: an IP
// address in canonical form (IPv6 in brackets), or a DNS name in lower
// case, international names in their ASCII form.
func normalizeHost(u *url.URL) (string, error) {
	h := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is6() {
			return "", fmt.Errorf("has %q in brackets, which is not an IPv6 address", h)
		}
		if a.Zone() != "" {
			return "", fmt.Errorf("has an IPv6 zone (%%%s), which means nothing to other hosts", a.Zone())
		}
		return "[" + a.String() + "]", nil
	}
	if a, err := netip.ParseAddr(h); err == nil && a.Is4() {
		return a.String(), nil
	}
	name := h
	if !isASCII(name) {
		// RFC 5280 7.2: an IDN in a URI is written in its ASCII form.
		ascii, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return "", fmt.Errorf("has host %q, which is not a valid international domain name: %v", h, err)
		}
		name = ascii
	}
	name = strings.ToLower(name)
	if strings.HasSuffix(name, ".") {
		return "", fmt.Errorf("has host %q ending with a dot: drop the final dot", h)
	}
	if len(name) > 253 {
		return "", fmt.Errorf("has a host name longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return "", fmt.Errorf("has host %q with an empty label (two dots in a row)", h)
		}
		if len(l) > 63 {
			return "", fmt.Errorf("has host %q with a label longer than 63 characters", h)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("has host %q with a label that starts or ends with '-'", h)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("has host %q, which holds %q: a host name has only letters, digits, '-' and dots", h, c)
			}
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return "", fmt.Errorf("has host %q, which is neither an IP address nor a DNS name (its last label is a number)", h)
	}
	// An xn-- label must decode to a valid international name.
	if _, err := idna.Lookup.ToUnicode(name); err != nil {
		return "", fmt.Errorf("has host %q, which is not a valid international domain name: %v", h, err)
	}
	return name, nil
}

// cleanURLPath checks an escaped URL path and returns it cleaned: escapes
// of unreserved characters decoded (RFC 3986 6.2.2.2), dot segments
// removed, no trailing slash; "" for the root.
func cleanURLPath(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", fmt.Errorf("has a broken %%-escape in its path")
			}
			v, _ := strconv.ParseUint(p[i+1:i+3], 16, 8)
			d := byte(v)
			if !isUnreserved(d) { // %2F too: an escaped '/' is not a folder separator
				return "", fmt.Errorf("has %s in its path, which stands for %q: a path may hold only letters, digits, '-', '.', '_', '~' and '/'", p[i:i+3], rune(d))
			}
			b.WriteByte(d)
			i += 2
			continue
		}
		if c != '/' && !isUnreserved(c) {
			r, _ := utf8.DecodeRuneInString(p[i:])
			return "", fmt.Errorf("has %q in its path: a path may hold only letters, digits, '-', '.', '_', '~' and '/'", r)
		}
		b.WriteByte(c)
	}
	clean := path.Clean("/" + b.String())
	if clean == "/" {
		return "", nil
	}
	return clean, nil
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// redactPassword replaces the password of a URL's user info with xxxxx,
// as url.URL.Redacted does, for text that may not parse.
func redactPassword(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return s
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
