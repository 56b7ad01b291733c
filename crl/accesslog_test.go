package crl

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// TestAccessLogForgery is issue 11 item 6: serve's access log printed the
// decoded path, so "GET /x%0a2026-01-01T00:00:00Z GET /ok 200 1" wrote a
// second, forged line and %1b drove the terminal of whoever tailed the
// log. Every request gives one line, with the path as it was sent.
func TestAccessLogForgery(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.crl"), []byte("crl"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(&Handler{Dir: dir, Log: func(r *http.Request, status, size int) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, AccessLine(at, r, status, size))
	}})
	defer srv.Close()

	tests := []struct {
		name   string
		target string // the request-target, sent as is
		want   string // the line: the path as sent, or re-encoded where it held raw bytes
	}{
		{"plain", "/ca.crl", `2027-01-01T00:00:00Z GET /ca.crl 200 3`},
		{"query", "/ca.crl?x=1", `2027-01-01T00:00:00Z GET /ca.crl?x=1 200 3`},
		{"forged line", "/x%0a2027-01-01T00:00:00Z%20GET%20/ok%20200%201.crl", `2027-01-01T00:00:00Z GET /x%0a2027-01-01T00:00:00Z%20GET%20/ok%20200%201.crl 404 19`},
		{"CR", "/a%0d%0ab.crl", `2027-01-01T00:00:00Z GET /a%0d%0ab.crl 404 19`},
		{"escape sequence", "/%1b[2J%1b]0;pwned%07.crl", `2027-01-01T00:00:00Z GET /%1b[2J%1b]0;pwned%07.crl 404 19`},
		{"NUL", "/a%00.crl", `2027-01-01T00:00:00Z GET /a%00.crl 404 19`},
		{"encoded RLO", "/invoice%e2%80%aegnp.crl", `2027-01-01T00:00:00Z GET /invoice%e2%80%aegnp.crl 404 19`},
		{"raw RLO", "/invoice\u202egnp.crl", `2027-01-01T00:00:00Z GET /invoice%E2%80%AEgnp.crl 404 19`},
		{"raw RLO in the query", "/ca.crl?\u202e", `2027-01-01T00:00:00Z GET "/ca.crl?\u202e" 200 3`},
		{"escape in the query", "/ca.crl?a=%1b", `2027-01-01T00:00:00Z GET /ca.crl?a=%1b 200 3`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			lines = nil
			mu.Unlock()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write([]byte("GET " + tc.target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			got := append([]string(nil), lines...)
			mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("%d log lines, want 1: %q", len(got), got)
			}
			if got[0] != tc.want {
				t.Errorf("log line\n%s\nwant\n%s", got[0], tc.want)
			}
			for _, r := range got[0] {
				if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
					t.Errorf("the log line holds a raw %U: %q", r, got[0])
				}
			}
			if strings.Contains(got[0], "\n") {
				t.Errorf("the log line was split: %q", got[0])
			}
		})
	}
}
