package crl

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ListenWarnings compares the base URL that issued certificates name in
// their CDP and AIA (baseURL) with where this server listens (listen, the
// HOST:PORT of its listener) and the path prefix it serves, and says what
// keeps a validator from fetching the files: another port, a loopback
// address when the base URL names another host, another IP address,
// another path. It says nothing where it cannot tell without DNS (a host
// name against one specific address), nor for an empty baseURL.
func ListenWarnings(baseURL, listen, prefix string) []string {
	if baseURL == "" || listen == "" {
		return nil
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return nil
	}
	lhost, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return nil
	}
	bhost, bport := u.Hostname(), u.Port()
	if bport == "" {
		bport = "80"
	}
	var out []string
	if bport != lport {
		out = append(out, fmt.Sprintf("certificates point to port %s (%s) but this server listens on port %s: validators reach it only through a proxy or port forward from port %s to %s, or run `certmint serve --addr :%s`",
			bport, baseURL, lport, bport, lport, bport))
	}
	lip := net.ParseIP(lhost)
	if lhost == "localhost" {
		lip = net.IPv6loopback
	}
	bip := net.ParseIP(bhost)
	baseLoopback := bhost == "localhost" || (bip != nil && bip.IsLoopback())
	switch {
	case lhost == "" || (lip != nil && lip.IsUnspecified()):
		// Every interface: whichever address bhost resolves to.
	case lip != nil && lip.IsLoopback() && !baseLoopback:
		out = append(out, fmt.Sprintf("this server listens on %s, a loopback address, so other machines cannot reach %s through it: run it with `--addr :%s` (every interface) unless a proxy on this machine forwards to it",
			lhost, bhost, bport))
	case lip != nil && bip != nil && !lip.Equal(bip) && !(baseLoopback && lip.IsLoopback()):
		out = append(out, fmt.Sprintf("certificates point to %s but this server listens on %s", bhost, lhost))
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if p := normPrefix(prefix); path != "" && path != p {
		served := "/"
		if p != "" {
			served = "/ and " + p + "/"
		}
		out = append(out, fmt.Sprintf("certificates point to the path %s/ but this server serves its files at %s: run it without --prefix, or with `--prefix %s`", path, served, path))
	}
	return out
}

// normPrefix writes a --prefix as the handler matches it: "pki", "/pki"
// and "/pki/" are all "/pki"; "" and "/" are "".
func normPrefix(prefix string) string {
	p := strings.TrimRight(prefix, "/")
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}
