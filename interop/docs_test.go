package interop

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/pgtest"
	"github.com/certmint/certmint/internal/testkit"
)

// A docCommand is one command line of a shell code block in a document,
// its continuation lines joined.
type docCommand struct {
	line int // where it starts in the document
	text string
}

// shellFence opens a code block whose lines are commands to run.
var shellFence = regexp.MustCompile("^```(sh|bash|shell)\\s*$")

// docCommands returns the command lines of a Markdown document's sh, bash
// and shell code blocks, and the untagged or other blocks' lines that look
// like a certmint command (which would then escape the test).
func docCommands(text string) (cmds []docCommand, hidden []docCommand) {
	sc := bufio.NewScanner(strings.NewReader(text))
	inShell, inOther := false, false
	var cur *docCommand
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !inShell && !inOther && strings.HasPrefix(trimmed, "```"):
			if shellFence.MatchString(trimmed) {
				inShell = true
			} else {
				inOther = true
			}
			continue
		case (inShell || inOther) && trimmed == "```":
			inShell, inOther = false, false
			cur = nil
			continue
		}
		switch {
		case inOther:
			if strings.HasPrefix(trimmed, "certmint ") || strings.HasPrefix(trimmed, "$ certmint ") {
				hidden = append(hidden, docCommand{line: n, text: trimmed})
			}
		case inShell:
			if cur != nil {
				cur.text += " " + strings.TrimSpace(strings.TrimSuffix(trimmed, "\\"))
			} else {
				if trimmed == "" || strings.HasPrefix(trimmed, "#") {
					continue
				}
				cmds = append(cmds, docCommand{line: n, text: strings.TrimSpace(strings.TrimSuffix(trimmed, "\\"))})
				cur = &cmds[len(cmds)-1]
			}
			if !strings.HasSuffix(trimmed, "\\") {
				cur = nil
			}
		}
	}
	return cmds, hidden
}

// A docSubst turns a placeholder of a document into something that runs
// here. Every one must still match its document, so that a stale entry
// (the document changed) fails instead of silently doing nothing.
type docSubst struct{ old, new string }

// docRun is how one document's commands run: the substitutions, and
// the commands not run with the reason (each must still be in the
// document).
type docRun struct {
	subst   []docSubst
	notRun  map[string]string // the start of a command's text -> why it is not run
	pg      bool              // the document has PostgreSQL commands: they need the test server
	workdir string            // where the commands start, relative to the scratch folder
	// setup makes, before the document's commands, what the document says
	// the reader already has (a CA made as its first step describes).
	setup string
	env   []string
}

// docRuns lists every document whose commands the test runs: README.md and
// every examples/*/README.md (a document missing here fails the test).
// Substitutions use the variables the prelude sets: $DOCS_BIN (certmint),
// $DOCS_REPO, $DOCS_PORT (a free port), $DOCS_PG_URL and $DOCS_PG_URL2
// (empty PostgreSQL schemas; _NOPW without the password), $DOCS_SCRATCH.
var docRuns = map[string]docRun{
	"README.md": {
		subst: []docSubst{
			{"export CERTMINT_CA_PASSWORD=...", "export CERTMINT_CA_PASSWORD=docs-ca-password"},
			// The first 8 hex digits of the serial of the certificate issued for
			// www.contoso.com a few lines above.
			{"certmint revoke 5D3F9A1C", `certmint revoke "$(docs_serial www.contoso.com | cut -c1-8)"`},
			{"certmint serve --addr :80", "docs_serve --addr 127.0.0.1:$DOCS_PORT"},
			{"'postgres://certmint:PASSWORD@db.contoso.com/certmint?sslmode=verify-full'", `"$DOCS_PG_URL"`},
			// A new CA on an empty database, in a new folder (./pki is the SQLite CA above)...
			{"certmint init --database-url 'postgres://certmint@db.contoso.com/certmint?sslmode=verify-full'",
				`mkdir -p "$DOCS_SCRATCH/pg-new" && cd "$DOCS_SCRATCH/pg-new" && certmint init --database-url "$DOCS_PG_URL_NOPW"`},
			// ... and the SQLite CA above moved onto another.
			{"certmint db migrate --to 'postgres://certmint@db.contoso.com/certmint?sslmode=verify-full'",
				`cd "$DOCS_SCRATCH/work" && export CERTMINT_DATABASE_URL="$DOCS_PG_URL2" && certmint db migrate --to "$DOCS_PG_URL2_NOPW"`},
			{"make demo", `"$DOCS_REPO/scripts/demo.sh" "$DOCS_BIN" "$DOCS_SCRATCH/demo"`},
			// The OCSP queries, against certmint serve on this machine.
			{"openssl ocsp ", "docs_with_serve openssl ocsp "},
			{"ocsptool --ask=http://pki.contoso.com/ocsp", "docs_with_serve ocsptool --ask=http://127.0.0.1:$DOCS_PORT/ocsp"},
			{"-url http://pki.contoso.com/ocsp", "-url http://127.0.0.1:$DOCS_PORT/ocsp"},
			// The man page goes where an administrator installs it system-wide.
			{"/usr/local/share/man/man1", `"$DOCS_SCRATCH/man/man1"`},
		},
		notRun: map[string]string{
			"make test": "it is this test suite",
		},
		pg: true,
	},
	"examples/1e-lab/README.md": {
		subst: []docSubst{
			{"./run.sh path/to/certmint", `"$DOCS_REPO/examples/1e-lab/run.sh" "$DOCS_BIN"`},
		},
	},
	"examples/defender/README.md": {
		// Step 1's CA: the later steps' commands run in its folder.
		setup: `certmint init --root-cn "Contoso Root CA" --issuing-cn "Contoso Issuing CA" --base-url http://pki.contoso.com --org "Contoso Inc." --ou "Contoso Labs" --country US --key rsa:2048`,
		env:   []string{"CERTMINT_CA_PASSWORD=docs-ca-password"},
		subst: []docSubst{
			{"./run.sh path/to/certmint", `"$DOCS_REPO/examples/defender/run.sh" "$DOCS_BIN"`},
			{"certmint serve --addr :80", "docs_serve --addr 127.0.0.1:$DOCS_PORT"},
		},
	},
	"examples/publish/README.md": {
		// The CA whose public/ the document publishes.
		setup: `certmint init --root-cn "Contoso Root CA" --issuing-cn "Contoso Issuing CA" --base-url http://pki.contoso.com --key rsa:2048`,
		env:   []string{"CERTMINT_CA_PASSWORD=docs-ca-password"},
		subst: []docSubst{
			{"certmint serve --addr :80", "docs_serve --addr 127.0.0.1:$DOCS_PORT"},
			{"/etc/certmint/ca.pw", `"$DOCS_SCRATCH/ca.pw"`},
		},
		workdir: "publish",
	},
	"examples/safeq/README.md": {
		// Step 1's CA: the later steps' commands run in its folder.
		setup: `certmint init --root-cn "Company Root CA" --issuing-cn "Company Issuing CA" --base-url http://pki.company.com --key rsa:2048`,
		env:   []string{"CERTMINT_CA_PASSWORD=docs-ca-password"},
		subst: []docSubst{
			{"./run.sh path/to/certmint", `"$DOCS_REPO/examples/safeq/run.sh" "$DOCS_BIN"`},
		},
	},
}

// docsPrelude is sourced before a document's commands: certmint on PATH as
// `certmint`, and the helpers the substitutions call.
const docsPrelude = `
set -uo pipefail
docs_fail() { echo "docs: FAILED with exit status $1: $DOCS_LOC" >&2; exit 1; }
# docs_serial CN: the hex serial of CN's valid certificate.
docs_serial() {
  certmint list --json | python3 -c 'import json,sys
cn=sys.argv[1]; d=json.load(sys.stdin)
rows=d["certificates"] if isinstance(d, dict) else d
print([r["serial"] for r in rows if r.get("cn", r.get("common_name"))==cn][0])' "$1"
}
# docs_up [TRIES]: whether something on $DOCS_PORT answers 200 on /,
# waiting up to TRIES tenths of a second (10 s) for it to listen.
docs_up() {
  local ok=
  for _ in $(seq 1 "${1:-100}"); do
    # The braces keep 2>/dev/null to this attempt: on exec alone it would
    # silence the script's stderr for good.
    if { exec 3<>"/dev/tcp/127.0.0.1/$DOCS_PORT"; } 2>/dev/null; then
      printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
      if head -n 1 <&3 | grep -q ' 200 '; then ok=1; fi
      exec 3>&-
      break
    fi
    sleep 0.1
  done
  [ -n "$ok" ]
}
# docs_serve ARGS: certmint serve in the background until its index page
# answers 200, then stopped.
docs_serve() {
  certmint serve "$@" & local pid=$! rc=0
  docs_up || rc=1
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  [ $rc -eq 0 ] || { echo "docs: certmint serve $* did not answer 200 on /" >&2; return 1; }
  echo "docs: certmint serve answered 200 on http://127.0.0.1:$DOCS_PORT/"
}
# docs_with_serve CMD...: CMD while certmint serve answers on $DOCS_PORT.
docs_with_serve() {
  certmint serve --addr "127.0.0.1:$DOCS_PORT" --quiet & local pid=$! rc=0
  if docs_up; then "$@" || rc=$?; else echo "docs: certmint serve did not start" >&2; rc=1; fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return $rc
}
`

// TestDocsRun runs every command line in the shell code blocks of
// README.md and examples/*/README.md, in order, one shell per document, on
// a scratch folder: an example that no longer works fails the suite.
// Placeholders are substituted as docRuns says.
func TestDocsRun(t *testing.T) {
	testkit.RequireTool(t, "bash")
	testkit.RequireTool(t, "python3")
	testkit.RequireTool(t, "openssl")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join(repo, "examples", "*", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append([]string{filepath.Join(repo, "README.md")}, docs...)
	for _, path := range docs {
		rel, _ := filepath.Rel(repo, path)
		rel = filepath.ToSlash(rel)
		t.Run(strings.ReplaceAll(rel, "/", "_"), func(t *testing.T) {
			dr, ok := docRuns[rel]
			if !ok {
				t.Fatalf("%s has no entry in docRuns: add one (even empty) so its commands run", rel)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			cmds, hidden := docCommands(text)
			for _, h := range hidden {
				t.Errorf("%s:%d: a certmint command outside a ```sh block is never run: %s", rel, h.line, h.text)
			}
			for _, s := range dr.subst {
				if !strings.Contains(text, s.old) {
					t.Errorf("%s: substitution %q matches nothing: the document changed, update docRuns", rel, s.old)
				}
			}
			pgURL, pgURL2 := "", ""
			if dr.pg {
				if os.Getenv(pgtest.URLEnv) != "" || os.Getenv(pgtest.RequireEnv) == "1" {
					pgURL, pgURL2 = pgtest.Schema(t, "certmint_docs"), pgtest.Schema(t, "certmint_docs")
				}
			}
			scratch := t.TempDir()
			for _, d := range []string{"home", "work", "tmp", dr.workdir} {
				if err := os.MkdirAll(filepath.Join(scratch, d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			bin := filepath.Join(scratch, "bin")
			if err := os.MkdirAll(bin, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(certmintBin, filepath.Join(bin, "certmint")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(scratch, "ca.pw"), []byte("docs-ca-password\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var script strings.Builder
			script.WriteString(docsPrelude)
			if dr.setup != "" {
				fmt.Fprintf(&script, "DOCS_LOC='setup: %s'\n%s >/dev/null || docs_fail $?\n", strings.ReplaceAll(dr.setup, "'", ""), dr.setup)
			}
			ran, seenNotRun := 0, map[string]bool{}
			for _, c := range cmds {
				cmd := c.text
				for _, s := range dr.subst {
					cmd = strings.ReplaceAll(cmd, s.old, s.new)
				}
				if key, why := notRunReason(dr.notRun, cmd); why != "" {
					seenNotRun[key] = true
					t.Logf("%s:%d: not run (%s): %s", rel, c.line, why, c.text)
					continue
				}
				if strings.Contains(cmd, "$DOCS_PG_URL") && pgURL == "" {
					t.Logf("%s:%d: not run: %s is not set (.ci/run sets it): %s", rel, c.line, pgtest.URLEnv, c.text)
					continue
				}
				loc := fmt.Sprintf("%s:%d: %s", rel, c.line, c.text)
				script.WriteString(docStep(loc, cmd))
				ran++
			}
			for cmd := range dr.notRun {
				if !seenNotRun[cmd] {
					t.Errorf("%s: notRun entry %q matches no command: update docRuns", rel, cmd)
				}
			}
			if ran == 0 {
				t.Fatalf("%s: no command ran", rel)
			}
			port := freePort(t)
			// The script as it ran, to rerun a failure by hand.
			scriptPath := filepath.Join(scratch, "docs.sh")
			if err := os.WriteFile(scriptPath, []byte(script.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", scriptPath)
			cmd.Dir = filepath.Join(scratch, "work")
			if dr.workdir != "" {
				cmd.Dir = filepath.Join(scratch, dr.workdir)
			}
			cmd.Env = append(cleanEnv(),
				"HOME="+filepath.Join(scratch, "home"), "TMPDIR="+filepath.Join(scratch, "tmp"),
				"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"DOCS_BIN="+certmintBin, "DOCS_REPO="+repo, "DOCS_SCRATCH="+scratch, "DOCS_PORT="+strconv.Itoa(port),
				"DOCS_PG_URL="+pgURL, "DOCS_PG_URL2="+pgURL2, "DOCS_PG_URL_NOPW="+withoutPassword(pgURL), "DOCS_PG_URL2_NOPW="+withoutPassword(pgURL2),
				// What a reader types when asked: the examples' demo bundle password.
				"CERTMINT_PASSWORD=demo-bundle-password")
			cmd.Env = append(cmd.Env, dr.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: the document's commands failed (%v); the script is %s, its output:\n%s", rel, err, scriptPath, out)
			}
			t.Logf("%s: %d commands ran", rel, ran)
		})
	}
}

// withoutPassword is a database URL without its password, as certmint.toml
// records it (the password comes from CERTMINT_DATABASE_URL).
func withoutPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// docStep is the script's text for one command of a document: where it
// is, then the command, then its exit status checked on a line of its own,
// since the command may end in a # comment.
func docStep(loc, cmd string) string {
	return fmt.Sprintf("DOCS_LOC=%s\necho \"+ $DOCS_LOC\"\n%s\ndocs_rc=$?; [ $docs_rc -eq 0 ] || docs_fail $docs_rc\n", shellQuote(loc), cmd)
}

// notRunReason returns the notRun entry that cmd starts with.
func notRunReason(notRun map[string]string, cmd string) (key, why string) {
	for k, w := range notRun {
		if strings.HasPrefix(cmd, k) {
			return k, w
		}
	}
	return "", ""
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestDocCommands checks the parser of the documents' code blocks.
func TestDocCommands(t *testing.T) {
	doc := "text\n```sh\nmake demo   # comment\n\n# a comment line\ncertmint init --a \\\n    --b c\ncertmint list\n```\n" +
		"```\ncertmint: error: shown output\ncertmint issue hidden\n```\n```powershell\nImport-Certificate x\n```\n"
	cmds, hidden := docCommands(doc)
	want := []docCommand{{3, "make demo   # comment"}, {6, "certmint init --a --b c"}, {8, "certmint list"}}
	if fmt.Sprint(cmds) != fmt.Sprint(want) {
		t.Errorf("commands = %v, want %v", cmds, want)
	}
	if len(hidden) != 1 || hidden[0].line != 12 {
		t.Errorf("hidden = %v, want the untagged block's certmint issue at line 12", hidden)
	}
}

// TestDocStepFails: a failing command fails the document's script, also
// when it ends in a comment, and what it says on stderr is kept after a
// server was polled (docs_up) before it.
func TestDocStepFails(t *testing.T) {
	testkit.RequireTool(t, "bash")
	script := docsPrelude + "DOCS_PORT=" + strconv.Itoa(freePort(t)) + "\n" +
		docStep("doc.md:1", "true    # fine") +
		docStep("doc.md:2", "docs_up 3 || echo 'nothing listens'") +
		docStep("doc.md:3", "echo on-stderr >&2; false   # a comment") +
		docStep("doc.md:4", "echo 'not reached'")
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err == nil {
		t.Fatalf("the script succeeded:\n%s", out)
	}
	for _, want := range []string{"nothing listens", "on-stderr", "docs: FAILED with exit status 1: doc.md:3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "not reached") {
		t.Errorf("the script went on after the failure:\n%s", out)
	}
}
