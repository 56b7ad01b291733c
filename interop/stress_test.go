package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/fsutil"
)

// stressIsLong reports whether CERTMINT_STRESS=long asks the stress, crash
// and load harnesses for their long runs (`make stress`).
func stressIsLong() bool { return os.Getenv("CERTMINT_STRESS") == "long" }

// stressTemplate is an ECDSA P-256 server template: fast keys and
// signatures, so the harness measures contention, not RSA.
const stressTemplate = `name = "stress-ecdsa"
description = "interop stress test: ECDSA P-256 TLS server certificates"
source = "interop/stress_test.go"
issuer = "issuing"

[subject]
cn = "any"

[key]
type = "ecdsa"
curve = "P-256"

[signature]
hash = "sha256"

[validity]
days = 30
backdate = "1h"

[usage]
key_usage = ["digitalSignature"]
ext_key_usage = ["serverAuth"]

[san]
require = true
cn_in_san = true
allow_dns = true

[revocation]
crl_distribution_point = true
aia = true

[output]
formats = ["crt", "key", "chain"]
`

// stressIssued is a certificate a command of the harness reported.
type stressIssued struct {
	Serial string
	Files  []string
	By     string // the command, for messages
}

// stressCRLJSON is `certmint crl --json`.
type stressCRLJSON struct {
	CRLs []struct {
		CA     string `json:"ca"`
		Number int64  `json:"number"`
	} `json:"crls"`
}

// stressBatchJSON is `certmint batch --json`.
type stressBatchJSON struct {
	Rows []stressBatchRow `json:"rows"`
}

// stressBatchRow is one row of `certmint batch --json`.
type stressBatchRow struct {
	Line   int      `json:"line"`
	CN     string   `json:"cn"`
	Status string   `json:"status"`
	Serial string   `json:"serial"`
	Files  []string `json:"files"`
	Error  string   `json:"error"`
}

// stressCRLNumberRE reads the number out of a "crl" audit event.
var stressCRLNumberRE = regexp.MustCompile(`^CRL number (\d+),`)

// TestStressConcurrent runs, against one CA home and all at once, 8
// `certmint issue`, a `certmint batch`, two `certmint revoke` (of
// certificates issued before the round: one by serial, one by --cert) and a
// `certmint crl`. Every command must exit 0 with nothing on stderr (no
// "database is locked" reaching the user); afterwards no serial appears
// twice, every certificate is in the database with its files on disk and no
// temporary file is left, each CA's CRL numbers (from the commands' --json
// output and the audit trail of `certmint log --json`) strictly increase
// with none lost, and the published CRL verifies, carries the highest
// number and lists every revoked serial. One round with a batch of 8 rows
// in `make test`; 5 rounds with batches of 100 rows with CERTMINT_STRESS=long.
func TestStressConcurrent(t *testing.T) {
	rounds, rows, jobs := 1, 8, 2
	if stressIsLong() {
		rounds, rows, jobs = 5, 100, 4
	}
	const issuers, revokers = 8, 2
	h, err := initCA("stress", baseURL, "--root-cn", "Stress Root CA", "--issuing-cn", "Stress Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(workDir, "stress-ecdsa.toml")
	if err := os.WriteFile(tmpl, []byte(stressTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(workDir, "stress-out")

	var (
		issued      []stressIssued // every certificate, in the order reported
		revoked     []string       // serials
		reported    = map[string][]int64{}
		processes   int
		concurrent  time.Duration
		start       = time.Now()
		precomputed []stressIssued
	)
	// ok checks one finished command: exit 0, nothing on stderr.
	ok := func(r result) bool {
		t.Helper()
		if r.Code != 0 || r.Stderr != "" {
			t.Errorf("a concurrent command did not finish cleanly:\n%s", r)
			return false
		}
		return true
	}
	issueOne := func(dir, cn string) result {
		return runCertmint(h.Home, "issue", "--template", tmpl, "--cn", cn, "--out", dir, "--name", cn, "--json")
	}
	parseIssue := func(r result) (stressIssued, bool) {
		var j issueJSON
		if err := json.Unmarshal([]byte(r.Stdout), &j); err != nil || j.Serial == "" {
			t.Errorf("certmint issue --json printed no serial: %v\n%s", err, r)
			return stressIssued{}, false
		}
		return stressIssued{Serial: j.Serial, Files: j.Files, By: r.Cmd}, true
	}

	for round := 1; round <= rounds && !t.Failed(); round++ {
		dir := filepath.Join(out, fmt.Sprintf("round%d", round))
		batchOut := filepath.Join(dir, "batch")
		for _, d := range []string{dir, batchOut} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// The certificates the round revokes, issued before it starts.
		var targets []stressIssued
		for i := 0; i < revokers; i++ {
			r := issueOne(dir, fmt.Sprintf("old%d.r%d.stress.test", i, round))
			processes++
			if !ok(r) {
				return
			}
			b, good := parseIssue(r)
			if !good {
				return
			}
			targets = append(targets, b)
			precomputed = append(precomputed, b)
		}
		var csvText strings.Builder
		csvText.WriteString("cn\n")
		for i := 0; i < rows; i++ {
			fmt.Fprintf(&csvText, "b%d.r%d.stress.test\n", i, round)
		}
		csvFile := filepath.Join(dir, "batch.csv")
		if err := os.WriteFile(csvFile, []byte(csvText.String()), 0o600); err != nil {
			t.Fatal(err)
		}

		// Everything at once: the goroutines wait on go, then start.
		cmds := [][]string{}
		for i := 0; i < issuers; i++ {
			cn := fmt.Sprintf("i%d.r%d.stress.test", i, round)
			cmds = append(cmds, []string{"issue", "--template", tmpl, "--cn", cn, "--out", dir, "--name", cn, "--json"})
		}
		cmds = append(cmds,
			[]string{"batch", "--template", tmpl, "--input", csvFile, "--out", batchOut, "--jobs", strconv.Itoa(jobs), "--json"},
			[]string{"revoke", "--json", "--reason", "keyCompromise", targets[0].Serial},
			[]string{"revoke", "--json", "--reason", "superseded", "--cert", crtOf(targets[1].Files)},
			[]string{"crl", "--json"},
		)
		results := make([]result, len(cmds))
		var wg sync.WaitGroup
		goSignal := make(chan struct{})
		for i, args := range cmds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-goSignal
				results[i] = runCertmint(h.Home, args...)
			}()
		}
		began := time.Now()
		close(goSignal)
		wg.Wait()
		took := time.Since(began)
		concurrent += took
		processes += len(cmds)

		roundIssued := 0
		for i, r := range results {
			if strings.Contains(strings.ToLower(r.Stdout+r.Stderr), "locked") {
				t.Errorf("a lock error reached the user:\n%s", r)
			}
			if !ok(r) {
				continue
			}
			switch cmds[i][0] {
			case "issue":
				if b, good := parseIssue(r); good {
					issued = append(issued, b)
					roundIssued++
				}
			case "batch":
				n := 0
				var doc stressBatchJSON
				if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
					t.Errorf("certmint batch --json: %v in %q", err, r.Stdout)
				}
				for _, row := range doc.Rows {
					if row.Status != "issued" || row.Serial == "" {
						t.Errorf("batch line %d (%s): status %q %s", row.Line, row.CN, row.Status, row.Error)
						continue
					}
					issued = append(issued, stressIssued{Serial: row.Serial, Files: row.Files, By: fmt.Sprintf("batch line %d", row.Line)})
					n++
				}
				if n != rows {
					t.Errorf("certmint batch issued %d of %d rows:\n%s", n, rows, r)
				}
				roundIssued += n
			case "revoke":
				var j revokeJSON
				if err := json.Unmarshal([]byte(r.Stdout), &j); err != nil || j.Serial == "" {
					t.Errorf("certmint revoke --json: %v\n%s", err, r)
					continue
				}
				revoked = append(revoked, j.Serial)
				reported[h.Issuing.Slug] = append(reported[h.Issuing.Slug], j.CRLNumber)
			case "crl":
				var doc stressCRLJSON
				if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || len(doc.CRLs) != 2 {
					t.Errorf("certmint crl --json: %v\n%s", err, r)
					continue
				}
				for _, p := range doc.CRLs {
					reported[p.CA] = append(reported[p.CA], p.Number)
				}
			}
		}
		t.Logf("stress: round %d: %d processes at once (%d issue, 1 batch of %d rows on %d jobs, %d revoke, 1 crl): %d certificates in %v",
			round, len(cmds), issuers, rows, jobs, revokers, roundIssued, took.Round(time.Millisecond))
	}
	if t.Failed() {
		return
	}
	all := append(slices.Clone(precomputed), issued...)

	// No serial twice, in what the commands reported or in the database.
	seen := map[string]string{}
	for _, b := range all {
		if by, dup := seen[b.Serial]; dup {
			t.Errorf("serial %s issued twice: by %s and by %s", b.Serial, by, b.By)
		}
		seen[b.Serial] = b.By
	}
	stdout, _, code := runIn(t, h.Home, "list", "--json")
	if code != 0 {
		t.Fatalf("certmint list --json: exit %d", code)
	}
	var listDoc struct {
		Certificates []struct {
			Serial string `json:"serial"`
			Status string `json:"status"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(stdout), &listDoc); err != nil {
		t.Fatalf("certmint list --json: %v", err)
	}
	listed := listDoc.Certificates
	status := map[string]string{}
	for _, r := range listed {
		if _, dup := status[r.Serial]; dup {
			t.Errorf("the database lists serial %s twice", r.Serial)
		}
		status[r.Serial] = r.Status
	}
	if len(listed) != len(all) {
		t.Errorf("the database holds %d certificates, the commands reported %d", len(listed), len(all))
	}
	for _, b := range all {
		st, ok := status[b.Serial]
		switch {
		case !ok:
			t.Errorf("certificate %s (%s) is not in the database", b.Serial, b.By)
		case slices.Contains(revoked, b.Serial) != (st == "revoked"):
			t.Errorf("certificate %s (%s) has status %q", b.Serial, b.By, st)
		}
		// Its files, complete: the certificate file holds this serial.
		if len(b.Files) != 3 {
			t.Errorf("certificate %s (%s): %d files, want .crt, .key, -chain.pem", b.Serial, b.By, len(b.Files))
		}
		for _, f := range b.Files {
			if st, err := os.Stat(f); err != nil || st.Size() == 0 {
				t.Errorf("certificate %s (%s): file %s: %v", b.Serial, b.By, f, err)
			}
		}
		if c, err := readCert(crtOf(b.Files)); err != nil {
			t.Errorf("certificate %s (%s): %v", b.Serial, b.By, err)
		} else if got := serialHexOf(c.SerialNumber); got != b.Serial {
			t.Errorf("%s holds serial %s, want %s", crtOf(b.Files), got, b.Serial)
		}
	}
	// No temporary file left behind, in the outputs or in public/.
	for _, root := range []string{out, filepath.Join(h.Home, "public")} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), fsutil.TempPrefix) {
				t.Errorf("temporary file left behind: %s", p)
			}
			return nil
		})
	}

	// CRL numbers: the audit trail has one publication per init, revoke and
	// crl, numbered 1, 2, 3, ... per CA in the order they committed, and
	// holds every number a command reported.
	stdout, _, code = runIn(t, h.Home, "log", "--json")
	if code != 0 {
		t.Fatalf("certmint log --json: exit %d", code)
	}
	var logDoc struct {
		Events []struct {
			ID     int64  `json:"id"`
			Action string `json:"action"`
			Serial string `json:"serial"`
			CA     string `json:"ca"`
			Detail string `json:"detail"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(stdout), &logDoc); err != nil {
		t.Fatalf("certmint log --json: %v", err)
	}
	events := logDoc.Events
	audited := map[string][]int64{}
	actions := map[string]int{}
	for _, e := range events {
		actions[e.Action]++
		if e.Action != "crl" {
			continue
		}
		m := stressCRLNumberRE.FindStringSubmatch(e.Detail)
		if m == nil {
			t.Errorf("audit event %d: crl without a number: %q", e.ID, e.Detail)
			continue
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		audited[e.CA] = append(audited[e.CA], n)
	}
	wantPubs := map[string]int{h.Root.Slug: 1 + rounds, h.Issuing.Slug: 1 + rounds*(1+revokers)}
	for _, slug := range []string{h.Root.Slug, h.Issuing.Slug} {
		nums := audited[slug]
		for i, n := range nums {
			if n != int64(i+1) {
				t.Errorf("CA %s: CRL numbers in the audit trail %v: publication %d has number %d (not strictly increasing by one)", slug, nums, i+1, n)
				break
			}
		}
		if len(nums) != wantPubs[slug] {
			t.Errorf("CA %s: %d CRL publications in the audit trail, want %d (init, crl, revokes)", slug, len(nums), wantPubs[slug])
		}
		for _, n := range reported[slug] {
			if !slices.Contains(nums, n) {
				t.Errorf("CA %s: a command reported CRL number %d, which the audit trail lacks (%v)", slug, n, nums)
			}
		}
		rep := slices.Clone(reported[slug])
		sort.Slice(rep, func(i, j int) bool { return rep[i] < rep[j] })
		if len(slices.Compact(rep)) != len(reported[slug]) {
			t.Errorf("CA %s: commands reported a CRL number twice: %v", slug, reported[slug])
		}
	}
	if actions["issue"] != len(all) || actions["revoke"] != len(revoked) {
		t.Errorf("audit trail: %d issue and %d revoke events, want %d and %d", actions["issue"], actions["revoke"], len(all), len(revoked))
	}

	// The published CRLs: signed by their CA, the last number, and the
	// issuing CA's lists exactly the revoked serials.
	for _, a := range []caCert{h.Root, h.Issuing} {
		der, pemPath := crl.Paths(filepath.Join(h.Home, "public"), a.Slug)
		rl := parseCRL(t, der)
		if err := rl.CheckSignatureFrom(a.Cert); err != nil {
			t.Errorf("%s: %v", der, err)
		}
		nums := audited[a.Slug]
		if len(nums) > 0 && rl.Number.Int64() != nums[len(nums)-1] {
			t.Errorf("%s carries CRL number %v, the last publication was %d", der, rl.Number, nums[len(nums)-1])
		}
		if p, err := os.ReadFile(pemPath); err != nil || !bytes.Contains(p, []byte("X509 CRL")) {
			t.Errorf("%s: %v", pemPath, err)
		} else if fromPEM, err := crl.Parse(p); err != nil || !bytes.Equal(fromPEM.Raw, rl.Raw) {
			t.Errorf("%s does not hold the same CRL as %s (%v)", pemPath, der, err)
		}
		var listedSerials []string
		for _, e := range rl.RevokedCertificateEntries {
			listedSerials = append(listedSerials, serialHexOf(e.SerialNumber))
		}
		want := []string{}
		if a.Slug == h.Issuing.Slug {
			want = slices.Clone(revoked)
		}
		slices.Sort(listedSerials)
		slices.Sort(want)
		if !slices.Equal(listedSerials, want) && !(len(listedSerials) == 0 && len(want) == 0) {
			t.Errorf("%s lists %v, want the revoked %v", der, listedSerials, want)
		}
	}
	issuingNums := audited[h.Issuing.Slug]
	t.Logf("stress: %d rounds, %d processes (%d at once per round), %d certificates, %d revoked, CRL numbers %s %v and %s %v, %v concurrent, %v in all",
		rounds, processes, issuers+revokers+2, len(all), len(revoked), h.Issuing.Slug, issuingNums, h.Root.Slug, audited[h.Root.Slug],
		concurrent.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// crtOf picks the certificate file of a bundle's files.
func crtOf(files []string) string {
	for _, f := range files {
		if strings.HasSuffix(f, ".crt") {
			return f
		}
	}
	return "(no .crt among the files)"
}

// serialHexOf formats a serial as certmint prints it (upper-case hex, an
// even number of digits).
func serialHexOf(n *big.Int) string {
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}
