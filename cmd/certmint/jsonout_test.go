package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/internal/jsonout"
	"github.com/certmint/certmint/internal/pgtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/json (go test ./cmd/certmint -run TestJSONGolden -update)")

// jsonGoldens names testdata/json/<name>.json: one per command that takes
// --json (the command line with "-" for " ": "db-migrate"), and "error",
// the document of a failed command. TestJSONGoldenComplete checks that
// every command with a --json flag is here.
var jsonGoldens = []string{
	"init", "templates", "templates-list", "templates-show", "issue", "csr", "sign", "safeq", "batch", "renew",
	"revoke", "crl", "list", "status", "log", "check", "inspect", "convert", "export-ca", "doctor", "db-migrate", "error",
	// --dry-run's documents: what would be issued, and nothing done.
	"issue-dry-run", "sign-dry-run", "batch-dry-run", "renew-dry-run",
}

// jsonRun is one --json run of the scenario: golden names the document it
// is compared with; a variant (the same command in another state: nothing
// to list, no SAN, no finding) is not compared but must have the golden's
// shape.
type jsonRun struct {
	golden  string
	variant string // "" for the run the golden holds
	args    []string
	doc     []byte // stdout, or the last line of stderr for an error
	code    int
}

// TestJSONGolden runs every command with --json in one scratch CA and
// compares each document, with what changes from run to run replaced
// (jsonPlaceholders), with testdata/json/<command>.json. Each document,
// and each variant of it, must also keep the rules of internal/jsonout:
// schema_version first, no null where the golden has a list or a string,
// every key of the golden present in the same order, SANs written
// "DNS:x", "IP:y", "email:z" or "URI:u".
func TestJSONGolden(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "json")) // the scenario changes the working folder
	if err != nil {
		t.Fatal(err)
	}
	runs, tmp := jsonScenario(t)
	goldens := map[string]*jnode{}
	for _, r := range runs {
		if r.variant != "" {
			continue
		}
		t.Run(r.golden, func(t *testing.T) {
			doc, err := parseJSON(r.doc)
			if err != nil {
				t.Fatalf("`certmint %s` printed no single JSON document: %v\n%s", strings.Join(r.args, " "), err, r.doc)
			}
			normalizeJSON(doc, "", tmp)
			var got bytes.Buffer
			doc.write(&got, "")
			got.WriteByte('\n')
			path := filepath.Join(dir, r.golden+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/certmint -run TestJSONGolden -update writes it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("`certmint %s --json` differs from %s (rerun with -update if the change is intended; removing a key or changing its meaning raises jsonout.SchemaVersion):\n%s",
					r.golden, path, lineDiff(string(want), got.String()))
			}
			golden, err := parseJSON(want)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			goldens[r.golden] = golden
			checkJSONRules(t, doc)
			conformJSON(t, r.golden, doc, golden)
		})
	}
	for _, r := range runs {
		if r.variant == "" {
			continue
		}
		t.Run(r.golden+"/"+r.variant, func(t *testing.T) {
			golden := goldens[r.golden]
			if golden == nil {
				t.Skipf("no golden %s to compare with", r.golden)
			}
			doc, err := parseJSON(r.doc)
			if err != nil {
				t.Fatalf("`certmint %s` printed no single JSON document: %v\n%s", strings.Join(r.args, " "), err, r.doc)
			}
			checkJSONRules(t, doc)
			conformJSON(t, r.golden, doc, golden)
		})
	}
}

// TestJSONGoldenComplete: every command with a --json flag has a golden
// file and a run in the scenario, so that a new command cannot be
// forgotten.
func TestJSONGoldenComplete(t *testing.T) {
	var walk func(prefix string, cmds []*cli.Command)
	seen := 0
	walk = func(prefix string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			line := strings.TrimSpace(prefix + " " + cmd.Name)
			name := strings.ReplaceAll(line, " ", "-")
			if findFlag(cmd, jsonFlag.Name) != nil {
				seen++
				if !slices.Contains(jsonGoldens, name) {
					t.Errorf("`certmint %s` takes --json but jsonGoldens has no %q: add a run to jsonScenario", line, name)
				}
				if _, err := os.Stat(filepath.Join("testdata", "json", name+".json")); err != nil {
					t.Errorf("`certmint %s --json` has no golden: %v", line, err)
				}
			}
			walk(line, cmd.Subcommands)
		}
	}
	walk("", newApp(io.Discard, io.Discard).Commands)
	if seen < 20 {
		t.Errorf("only %d commands take --json", seen)
	}
	for _, g := range jsonGoldens {
		if _, err := os.Stat(filepath.Join("testdata", "json", g+".json")); err != nil {
			t.Error(err)
		}
	}
}

// jsonScenario runs every command with --json, in the order an
// administrator would, in a new CA below one temporary folder (returned,
// to be replaced by $TMP). Certificates get different lifetimes so that
// list and status order them the same way on every run.
func jsonScenario(t *testing.T) ([]jsonRun, string) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	home := filepath.Join(tmp, "pki")
	t.Setenv("CERTMINT_HOME", home)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-password")
	t.Setenv(ca.DatabaseURLEnv, "")
	var runs []jsonRun
	run := func(golden, variant string, code int, args ...string) map[string]any {
		t.Helper()
		args = append(args, "--json")
		c, stdout, stderr := runCLI(t, args...)
		if c != code && !(code == -1 && (c == 0 || c == 1)) {
			t.Fatalf("certmint %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), c, code, stdout, stderr)
		}
		doc := []byte(stdout)
		if golden == "error" {
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			doc = []byte(lines[len(lines)-1])
			if stdout != "" {
				t.Errorf("certmint %s failed and printed on stdout: %s", strings.Join(args, " "), stdout)
			}
		}
		runs = append(runs, jsonRun{golden: golden, variant: variant, args: args, doc: doc, code: c})
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatalf("certmint %s: %v\n%s", strings.Join(args, " "), err, doc)
		}
		return m
	}
	out := func(dir string) string { return filepath.Join(tmp, "out", dir) }

	run("init", "", 0, "init", "--root-cn", "JSON Root CA", "--issuing-cn", "JSON Issuing CA", "--base-url", "http://pki.json.test",
		"--org", "JSON Test", "--country", "US", "--key", "ecdsa:P-256")
	run("templates", "", 0, "templates")
	run("templates-list", "", 0, "templates", "list")
	run("templates-show", "", 0, "templates", "show", "server")
	mine := writeFile(t, tmp, "mine.toml", goodTemplate, 0o644)
	run("templates-show", "a user template without an example", 0, "templates", "show", mine)

	// The four kinds of SAN, and a certificate with none.
	issued := run("issue", "", 0, "issue", "--template", "client", "--cn", "device1.json.test", "--san", "IP:10.0.0.5",
		"--san", "email:ops@json.test", "--san", "URI:https://json.test/device/1", "--key", "ecdsa:P-256", "--days", "100", "--out", out("issue"))
	alice := run("issue", "no SAN, a random password", 0, "issue", "--template", "client", "--cn", "Alice Smith", "--key", "ecdsa:P-256",
		"--days", "99", "--random-password", "--out", out("alice"))
	run("csr", "", 0, "csr", "--template", "server", "--cn", "www.json.test", "--san", "api.json.test", "--key", "ecdsa:P-256", "--out", out("csr"))
	signed := run("sign", "", 0, "sign", "--template", "server", "--csr", filepath.Join(out("csr"), "www.json.test.csr"), "--days", "90", "--out", out("sign"))
	run("safeq", "", 0, "safeq", "--subject", "safeq.json.test", "--friendly-name", "SafeQ JSON", "--san", "safeq.json.test,10.0.0.6",
		"--days", "80", "--out", out("safeq"))
	csv := writeFile(t, tmp, "hosts.csv", "cn,san,days,key\nb1.json.test,IP:10.0.0.7,70,ecdsa:P-256\nb2.json.test,,60,ecdsa:P-256\nbad_name-.json.test,,50,ecdsa:P-256\n", 0o644)
	run("batch", "", 1, "batch", "--template", "server", "--input", csv, "--jobs", "1", "--out", out("batch"))
	empty := writeFile(t, tmp, "empty.csv", "cn,san\n", 0o644)
	run("batch", "no rows", 0, "batch", "--template", "server", "--input", empty, "--out", out("batch-empty"))
	run("issue-dry-run", "", 0, "issue", "--dry-run", "--template", "client", "--cn", "preview.json.test", "--san", "IP:10.0.0.9",
		"--key", "ecdsa:P-256", "--days", "30", "--out", out("preview"))
	run("sign-dry-run", "", 0, "sign", "--dry-run", "--template", "server", "--csr", filepath.Join(out("csr"), "www.json.test.csr"),
		"--days", "30", "--out", out("sign-preview"))
	run("batch-dry-run", "", 1, "batch", "--dry-run", "--template", "server", "--input", csv, "--jobs", "1", "--out", out("batch"))
	run("renew-dry-run", "", 0, "renew", "--dry-run", issued["serial"].(string), "--revoke-old", "--days", "50", "--out", out("renew"))
	run("renew", "", 0, "renew", issued["serial"].(string), "--revoke-old", "--days", "50", "--out", out("renew"))
	run("renew", "without --revoke-old", 0, "renew", alice["serial"].(string), "--days", "40", "--random-password", "--out", out("alice-renewed"))
	run("revoke", "", 0, "revoke", signed["serial"].(string), "--reason", "keyCompromise")
	run("crl", "", 0, "crl")
	run("list", "", 0, "list")
	run("list", "nothing matches", 0, "list", "--status", "expired")
	run("status", "", -1, "status", "--warn", "55d")
	run("status", "nothing expiring", -1, "status", "--warn", "1d")
	run("log", "", 0, "log")
	run("log", "no event", 0, "log", "--action", "migrate")
	renewed := filepath.Join(out("renew"), "device1.json.test")
	// Against 1E's template, whose requirements cite their documents and
	// which the generic client certificate does not meet (exit 1).
	run("check", "", 1, "check", "--template", "1e-client", "--cert", renewed+".crt", "--key", renewed+".key")
	run("check", "all requirements met", 0, "check", "--template", "client", "--cert", renewed+".crt", "--key", renewed+".key")
	run("inspect", "", 0, "inspect", renewed+".crt")
	run("inspect", "a request", 0, "inspect", filepath.Join(out("csr"), "www.json.test.csr"))
	run("inspect", "a CRL", 0, "inspect", filepath.Join(home, "public", "json-issuing-ca.crl"))
	run("convert", "", 0, "convert", "--in", renewed+".crt", "--to", "der", "--out", out("convert")+"/")
	run("export-ca", "", 0, "export-ca", "--out", out("ca"))
	run("doctor", "nothing wrong", 0, "doctor")
	if err := os.Remove(filepath.Join(out("safeq"), "SafeQ JSON.pfx")); err != nil {
		t.Fatal(err)
	}
	run("doctor", "", 1, "doctor")
	run("error", "", 2, "issue", "--template", "sever", "--cn", "x.json.test")
	broken := writeFile(t, tmp, "broken.toml", strings.Replace(goodTemplate, "days = 30", "days = 30\nbogus = 1", 1), 0o644)
	run("error", "a template with a mistake", 1, "issue", "--template", broken, "--cn", "x.json.test")
	run("error", "an unknown flag", 2, "list", "--stauts", "valid")
	if dbURL := os.Getenv(pgtest.URLEnv); dbURL != "" || os.Getenv(pgtest.RequireEnv) == "1" {
		full := pgtest.Schema(t, "certmint_json")
		u, err := url.Parse(full)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(u.User.Username())
		t.Setenv(ca.DatabaseURLEnv, full)
		run("db-migrate", "", 0, "db", "migrate", "--to", u.String())
	} else if !*update {
		t.Logf("db migrate --json is not run: %s is not set", pgtest.URLEnv)
	}
	return runs, tmp
}

// jsonPlaceholders replace in every string what changes from run to run.
// Keys whose whole value changes are in jsonVolatileKeys.
var jsonPlaceholders = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`), "$$TIME"},
	{regexp.MustCompile(`\b[0-9A-F]{2}(:[0-9A-F]{2}){7,}\b`), "$$HEX"},         // fingerprints, key identifiers
	{regexp.MustCompile(`\b[0-9A-F]{16,}\b`), "$$SERIAL"},                      // serials
	{regexp.MustCompile(`\b[0-9a-f]{32,}\b`), "$$HEX"},                         // checksums
	{regexp.MustCompile(`\b\d{4}-\d\d-\d\d( \d\d:\d\d( [A-Z]+)?)?`), "$$DATE"}, // dates in words
}

// jsonVolatileKeys are keys whose value changes from run to run.
var jsonVolatileKeys = map[string]string{
	"user": "$USER", "host": "$HOST", "elapsed_seconds": "0", "url": "$DATABASE_URL",
}

// normalizeJSON replaces, in place, what changes from run to run: tmp (the
// scenario's folder) by $TMP, times, serials, fingerprints, and the values
// of jsonVolatileKeys.
func normalizeJSON(n *jnode, key, tmp string) {
	switch n.kind {
	case 'o':
		for i, k := range n.keys {
			normalizeJSON(n.vals[i], k, tmp)
		}
	case 'a':
		for _, v := range n.vals {
			normalizeJSON(v, key, tmp)
		}
	case 's', 'n':
		if with, ok := jsonVolatileKeys[key]; ok && (n.str != "" || n.kind == 'n') {
			n.str = with
			return
		}
		if n.kind == 'n' {
			return
		}
		n.str = strings.ReplaceAll(n.str, tmp, "$TMP")
		for _, p := range jsonPlaceholders {
			n.str = p.re.ReplaceAllString(n.str, p.with)
		}
	}
}

// jsonNullable are the keys whose value may be null: an object or a number
// that does not apply (internal/jsonout). A null anywhere else is a list or
// a string that should have been [] or "".
var jsonNullable = map[string]bool{
	"revoked_old": true, "number": true, "revoked": true, // renew, status
	"source":  true, // check: a citation of certmint's own
	"renewal": true, // --dry-run of issue and sign: no certificate is renewed
	// inspect
	"pkcs12": true, "key_usage": true, "ext_key_usage": true, "basic_constraints": true, "issuer_index": true,
	"max_path_len": true, "matches_certificate": true, "encryption": true, "mac": true, "safe": true, "certificate": true, "leaf": true,
}

var sanRe = regexp.MustCompile(`^(DNS|IP|email|URI):.`)

// checkJSONRules checks the rules every document keeps: schema_version
// first, null only where jsonNullable allows it, SANs with their kind.
func checkJSONRules(t *testing.T, doc *jnode) {
	t.Helper()
	if doc.kind != 'o' || len(doc.keys) == 0 || doc.keys[0] != "schema_version" || doc.vals[0].str != fmt.Sprint(jsonout.SchemaVersion) {
		t.Errorf("the document does not start with \"schema_version\": %d", jsonout.SchemaVersion)
	}
	var walk func(path, key string, n *jnode)
	walk = func(path, key string, n *jnode) {
		switch n.kind {
		case 'z':
			if !jsonNullable[key] {
				t.Errorf("%s is null: a list must be [], a string \"\"", path)
			}
		case 'o':
			for i, k := range n.keys {
				walk(path+"."+k, k, n.vals[i])
			}
		case 'a':
			for i, v := range n.vals {
				if key == "sans" && (v.kind != 's' || !sanRe.MatchString(v.str)) {
					t.Errorf("%s[%d] = %s: SANs are written DNS:x, IP:y, email:z or URI:u", path, i, v.str)
				}
				walk(fmt.Sprintf("%s[%d]", path, i), key, v)
			}
		}
	}
	walk("", "", doc)
}

// conformJSON checks that got has golden's shape: the same keys in the same
// order in every object, a list wherever golden has one (each element
// shaped like golden's first), and values of the same kind (null allowed
// where golden has an object or a number).
func conformJSON(t *testing.T, path string, got, golden *jnode) {
	t.Helper()
	if golden.kind == 'z' {
		return
	}
	if got.kind == 'z' && (golden.kind == 'o' || golden.kind == 'n') {
		return
	}
	if got.kind != golden.kind {
		t.Errorf("%s is %s where the golden has %s", path, kindName(got.kind), kindName(golden.kind))
		return
	}
	switch golden.kind {
	case 'o':
		if !slices.Equal(got.keys, golden.keys) {
			t.Errorf("%s has the keys %v, the golden %v: every key is always present, in the same order", path, got.keys, golden.keys)
			return
		}
		for i, k := range golden.keys {
			conformJSON(t, path+"."+k, got.vals[i], golden.vals[i])
		}
	case 'a':
		if len(golden.vals) == 0 {
			return
		}
		for i, v := range got.vals {
			conformJSON(t, fmt.Sprintf("%s[%d]", path, i), v, golden.vals[0])
		}
	}
}

func kindName(k byte) string {
	return map[byte]string{'o': "an object", 'a': "a list", 's': "a string", 'n': "a number", 'b': "a boolean", 'z': "null"}[k]
}

// jnode is a JSON value that keeps the order of an object's keys, so that
// the goldens show the documents as certmint prints them.
type jnode struct {
	kind byte // 'o' object, 'a' list, 's' string, 'n' number, 'b' boolean, 'z' null
	keys []string
	vals []*jnode // an object's values, a list's elements
	str  string   // a string, a number as written, "true" or "false"
}

// parseJSON reads exactly one JSON value.
func parseJSON(data []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readJSON(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return n, nil
}

func readJSON(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &jnode{kind: 'a'}
		if v == '{' {
			n.kind = 'o'
		}
		for dec.More() {
			if n.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			e, err := readJSON(dec)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, e)
		}
		_, err := dec.Token() // } or ]
		return n, err
	case string:
		return &jnode{kind: 's', str: v}, nil
	case json.Number:
		return &jnode{kind: 'n', str: v.String()}, nil
	case bool:
		return &jnode{kind: 'b', str: fmt.Sprint(v)}, nil
	}
	return &jnode{kind: 'z'}, nil
}

// write writes n indented by two spaces, as json.MarshalIndent does, with
// <, > and & left as they are.
func (n *jnode) write(b *bytes.Buffer, indent string) {
	switch n.kind {
	case 'o', 'a':
		open, close := "[", "]"
		if n.kind == 'o' {
			open, close = "{", "}"
		}
		if len(n.vals) == 0 {
			b.WriteString(open + close)
			return
		}
		b.WriteString(open + "\n")
		for i, v := range n.vals {
			b.WriteString(indent + "  ")
			if n.kind == 'o' {
				writeJSONString(b, n.keys[i])
				b.WriteString(": ")
			}
			v.write(b, indent+"  ")
			if i < len(n.vals)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + close)
	case 's':
		writeJSONString(b, n.str)
	case 'z':
		b.WriteString("null")
	default:
		b.WriteString(n.str)
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// lineDiff shows the lines of want and got that differ, up to 40.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 40; i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out = append(out, fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, a, b))
		}
	}
	return strings.Join(out, "\n")
}

// TestJSONRequested: which command lines get their error as a JSON
// document. --json counts where the command has the flag, as a flag (not
// as the value of another, not after "--"), and as the parser reads it.
func TestJSONRequested(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"list", "--json"}, true},
		{[]string{"list", "-json"}, true},
		{[]string{"list", "--json=true"}, true},
		{[]string{"list", "--json=false"}, false},
		{[]string{"list"}, false},
		{[]string{"revoke", "5D3F9A1C", "--json", "--reason", "keyCompromise"}, true},
		{[]string{"issue", "--cn", "--json", "--template", "server"}, false}, // the CN "--json"
		{[]string{"inspect", "--", "--json"}, false},                         // a file named --json
		{[]string{"--home", "pki", "status", "--json"}, true},
		{[]string{"db", "migrate", "--json", "--to", "postgres://x@h/db"}, true},
		{[]string{"templates", "--json", "list"}, true},
		{[]string{"serve", "--json"}, false}, // serve has no --json: its unknown flag is reported as text
		{[]string{"isue", "--json"}, false},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args, err := arrangeArgs(app, append([]string{"certmint"}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonRequested(app, args); got != tc.want {
				t.Errorf("jsonRequested = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestJSONErrors: with --json, a failed command's error is one JSON
// document, the last line of stderr, with the message, hint and exit
// status the error table gives the same error without --json; stdout
// stays empty. check and status, whose document says it, print none.
func TestJSONErrors(t *testing.T) {
	home := newHome(t)
	tmp := t.TempDir()
	t.Setenv("CERTMINT_HOME", home)
	t.Setenv("CERTMINT_CA_PASSWORD", caPW)
	t.Setenv("CERTMINT_PASSWORD", "bundle-password")
	wrongPW := writeFile(t, tmp, "wrong.pw", "not-the-password\n", 0o600)
	broken := writeFile(t, tmp, "broken.toml", strings.Replace(goodTemplate, "days = 30", "days = 30\nbogus = 1\nmore = 2", 1), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"unknown flag", []string{"list", "--stauts", "valid"}, 2},
		{"unknown template", []string{"issue", "--template", "sever", "--cn", "a.example.com", "--out", tmp}, 2},
		{"missing file", []string{"inspect", filepath.Join(tmp, "none.crt")}, 2},
		{"wrong CA password", []string{"crl", "--ca-password-file", wrongPW}, 1},
		{"template with two mistakes", []string{"issue", "--template", broken, "--cn", "a.example.com", "--out", tmp}, 1},
		{"serial not found", []string{"revoke", "0123456789ABCDEF0123"}, 2},
		{"subcommand flag before the subcommand", []string{"templates", "--json", "show", "nope"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// --json at the end, unless the case places it itself.
			textArgs := slices.DeleteFunc(slices.Clone(tc.args), func(a string) bool { return a == "--json" })
			jsonArgs := tc.args
			if len(textArgs) == len(tc.args) {
				jsonArgs = append(slices.Clone(tc.args), "--json")
			}
			code, stdout, textErr := runCLI(t, textArgs...)
			if code != tc.code {
				t.Fatalf("without --json: exit %d, want %d\n%s", code, tc.code, textErr)
			}
			jcode, jstdout, stderr := runCLI(t, jsonArgs...)
			if jcode != code || stdout != "" || jstdout != "" {
				t.Fatalf("with --json: exit %d (want %d), stdout %q", jcode, code, jstdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			var e errorJSON
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil {
				t.Fatalf("the last line of stderr is not a JSON document: %v\n%s", err, stderr)
			}
			if e.SchemaVersion != jsonout.SchemaVersion || e.ExitStatus != code {
				t.Errorf("schema_version %d, exit_status %d; want %d, %d", e.SchemaVersion, e.ExitStatus, jsonout.SchemaVersion, code)
			}
			// The text report: "certmint: error: " before each line of the
			// message (or "certmint:   " after the first), then the hint.
			var msg []string
			hint := ""
			for _, l := range strings.Split(strings.TrimSuffix(textErr, "\n"), "\n") {
				switch {
				case strings.HasPrefix(l, "certmint: error: "):
					msg = append(msg, strings.TrimPrefix(l, "certmint: error: "))
				case strings.HasPrefix(l, "certmint:   "):
					msg = append(msg, strings.TrimPrefix(l, "certmint:   "))
				case strings.HasPrefix(l, "certmint: hint: "):
					hint = strings.TrimPrefix(l, "certmint: hint: ")
				}
			}
			if want := strings.Join(msg, "\n"); e.Error != want || e.Hint != hint {
				t.Errorf("JSON error %q, hint %q;\nthe text says %q, hint %q", e.Error, e.Hint, want, hint)
			}
		})
	}
	t.Run("check: the report says it", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "check", "--template", "defender-sensor", "--at", "2026-12-01", "--json",
			"--cert", corpus+"defender-sensor-rsa3072.crt", "--chain", corpus+"chain.pem")
		if code != 1 || stderr != "" || !strings.Contains(stdout, `"ok":false`) {
			t.Errorf("exit %d, stderr %q, stdout %s", code, stderr, stdout)
		}
	})
}
