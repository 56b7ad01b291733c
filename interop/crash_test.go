package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/doctor"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/testkit"
)

// stressEnv=long makes the crash harness kill 50 times instead of a few
// (`make stress`); crashSeedEnv replays a run.
const (
	stressEnv    = "CERTMINT_STRESS"
	crashSeedEnv = "CERTMINT_CRASH_SEED"
)

// crashOps are the commands the harness kills; crashIssuing are those of
// them that sign a certificate, which record-before-release is about.
var (
	crashOps     = []string{"issue", "batch", "sign", "renew", "revoke", "crl"}
	crashIssuing = []string{"issue", "batch", "sign", "renew"}
)

// crashLongIssuingKills is how many kills of crashIssuing a long run
// makes at least (issue 11: "at least 50 SIGKILLs across issue, batch,
// sign and renew").
const crashLongIssuingKills = 50

// crashRowsPerBatch is the size of each batch the harness starts.
const crashRowsPerBatch = 8

// crashFigures is what the harness reports.
type crashFigures struct {
	runs, kills, found, repaired, unrepairable, batchReruns int
	killsByOp, foundKinds, repairedKinds, unrepairableKinds map[string]int
	// unreleased counts the records found recorded but not released after
	// a kill (before doctor), resolved by how doctor --repair resolved them.
	unreleased int
	resolved   map[string]int
	// unrecordedBefore and unrecordedAfter count the certificates of the
	// issuing CA found on disk (temporary and staging folders included)
	// whose serial the database does not hold, before doctor runs and after
	// doctor --repair; both must stay 0. cut counts the temporary files a
	// kill cut short (nothing in them parses).
	unrecordedBefore, unrecordedAfter, cut int
}

// crashHarness is one CA home under fire.
type crashHarness struct {
	t        *testing.T
	h        *caHome
	template string // an ECDSA user template: fast keys and signatures
	out      string // every bundle goes below here
	csrs     string // the requests sign is given, and their keys (not an output folder)
	rng      *rand.Rand
	next     int // names of issued bundles and batches
	lifetime map[string]time.Duration
	fig      crashFigures
	parsed   map[[32]byte][]*x509.Certificate // certificates of the CA by file content (census)
	seen     map[string]bool                  // every serial of the CA the census found
	fileOK   map[[32]byte]bool                // files checkFile passed, by path and content
	pfxLeaf  map[[32]byte]*x509.Certificate   // the leaf of each .pfx opened, by content
}

// crashRun is one command the harness starts: op is what it runs (renew
// and revoke fall back to issue and crl when no certificate is valid).
type crashRun struct {
	op       string
	args     []string
	batchOut string // a batch's OUT, which the harness reruns
}

// TestCrashKill kills `certmint issue`, `batch`, `sign`, `renew`,
// `revoke` and `crl` with SIGKILL at random moments, and after each kill
// checks that no file in an output folder or in public/ is torn, that no
// certificate the issuing CA signed is on disk (staging and temporary
// folders included) without the database knowing it, before doctor runs
// and after (record before release, issue 11), that `certmint doctor
// --repair` reconciles the database and the files (or says what it cannot
// repair) and resolves every record left unreleased, and that a rerun of
// an interrupted batch completes it. At the end the database must hold no
// duplicate serial and each CA's CRL must carry the highest CRL number and
// list every revoked certificate. A handful of kills in `make test`; with
// CERTMINT_STRESS=long, at least 50 of issue, batch, sign and renew.
func TestCrashKill(t *testing.T) {
	kills, issuingKills, calibrations := 8, 0, 1
	if os.Getenv(stressEnv) == "long" {
		kills, issuingKills, calibrations = 50, crashLongIssuingKills, 3
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashSeedEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not a number", crashSeedEnv, v)
		}
		seed = n
	}
	t.Logf("crash harness: seed %d (replay with %s=%d), %d kills", seed, crashSeedEnv, seed, kills)

	h, err := initCA("crash", baseURL, "--root-cn", "Crash Root CA", "--issuing-cn", "Crash Issuing CA", "--key", "ecdsa:P-256")
	if err != nil {
		t.Fatal(err)
	}
	c := &crashHarness{t: t, h: h, out: filepath.Join(workDir, "crash-out"), csrs: filepath.Join(workDir, "crash-csr"),
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), lifetime: map[string]time.Duration{},
		fig: crashFigures{killsByOp: map[string]int{}, foundKinds: map[string]int{}, repairedKinds: map[string]int{},
			unrepairableKinds: map[string]int{}, resolved: map[string]int{}},
		parsed: map[[32]byte][]*x509.Certificate{}, seen: map[string]bool{}, fileOK: map[[32]byte]bool{}, pfxLeaf: map[[32]byte]*x509.Certificate{}}
	c.template = c.writeTemplate()
	for _, dir := range []string{filepath.Join(c.out, "issue"), filepath.Join(c.out, "sign"), filepath.Join(c.out, "renew"), c.csrs} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	// Uninterrupted runs of each command measure its lifetime, over which
	// the kills are then spread; runs that end before their kill keep the
	// figure current (the cores are shared, timings drift).
	// In crashOps order: issue and batch leave certificates for renew and
	// revoke to pick.
	var lifetimes []string
	for _, op := range crashOps {
		var times []time.Duration
		for range calibrations {
			run := c.command(op)
			began := time.Now()
			r := c.runToEnd(run.args)
			if r.Code != 0 {
				t.Fatalf("calibration run of %s failed:\n%s", op, r)
			}
			times = append(times, time.Since(began))
		}
		slices.Sort(times)
		c.lifetime[op] = times[len(times)/2]
		lifetimes = append(lifetimes, fmt.Sprintf("%s %v", op, c.lifetime[op].Round(time.Millisecond)))
	}
	t.Logf("crash harness: lifetimes %s", strings.Join(lifetimes, ", "))

	// Every command in turn, in a random order per turn, so even the short
	// mode kills each of them.
	var turn []string
	for (c.fig.kills < kills || c.issuingKills() < issuingKills) && c.fig.runs < 4*max(kills, issuingKills*len(crashOps)/len(crashIssuing)) {
		if len(turn) == 0 {
			turn = slices.Clone(crashOps)
			c.rng.Shuffle(len(turn), func(i, j int) { turn[i], turn[j] = turn[j], turn[i] })
		}
		c.round(turn[0])
		turn = turn[1:]
		if t.Failed() {
			break
		}
	}
	c.checkDatabase()
	// The next CRL lists every revocation too.
	if r := c.runToEnd([]string{"crl"}); r.Code != 0 {
		t.Errorf("certmint crl after the kills:\n%s", r)
	}
	c.checkDatabase()
	f := c.fig
	var byOp []string
	for _, op := range crashOps {
		byOp = append(byOp, fmt.Sprintf("%s %d", op, f.killsByOp[op]))
	}
	t.Logf("crash harness: %d runs, %d kills (%s; %d of issue, batch, sign and renew), %d batch reruns, in %v",
		f.runs, f.kills, strings.Join(byOp, ", "), c.issuingKills(), f.batchReruns, time.Since(start).Round(time.Millisecond))
	t.Logf("crash harness: disagreements found %d (%s), repaired %d (%s), not repairable %d (%s)",
		f.found, sortedCounts(f.foundKinds), f.repaired, sortedCounts(f.repairedKinds), f.unrepairable, sortedCounts(f.unrepairableKinds))
	t.Logf("crash harness: recorded but unreleased after a kill: %d; doctor --repair: %s", f.unreleased, sortedCounts(f.resolved))
	t.Logf("crash harness: signed by the issuing CA but not in the database: %d before doctor, %d after doctor --repair "+
		"(%d certificates of the CA found on disk, %d temporary files cut short)", f.unrecordedBefore, f.unrecordedAfter, len(c.seen), f.cut)
	if f.kills == 0 {
		t.Errorf("no run was killed in %d runs: the delays miss the commands' lifetimes", f.runs)
	}
	if n := c.issuingKills(); n < issuingKills {
		t.Errorf("only %d kills of issue, batch, sign and renew in %d runs; want at least %d", n, f.runs, issuingKills)
	}
}

// issuingKills counts the kills of the commands that sign certificates.
func (c *crashHarness) issuingKills() int {
	n := 0
	for _, op := range crashIssuing {
		n += c.fig.killsByOp[op]
	}
	return n
}

// writeTemplate writes an ECDSA P-256 client template (fast keys).
func (c *crashHarness) writeTemplate() string {
	src := testkit.ECDSAClientTemplate("crash-ecdsa", "crt", "key", "pfx", "chain")
	file := filepath.Join(workDir, "crash-ecdsa.toml")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return file
}

// command builds the next run of op.
func (c *crashHarness) command(op string) crashRun {
	c.next++
	switch op {
	case "issue":
		name := fmt.Sprintf("host%d", c.next)
		return crashRun{op: op, args: []string{"issue", "--template", c.template, "--cn", name + ".crash.test", "--out", filepath.Join(c.out, "issue"),
			"--name", name, "--format", "crt,key,pfx,chain"}}
	case "batch":
		dir := filepath.Join(c.out, fmt.Sprintf("batch%d", c.next))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			c.t.Fatal(err)
		}
		input := dir + ".csv"
		var b strings.Builder
		b.WriteString("cn\n")
		for i := 1; i <= crashRowsPerBatch; i++ {
			fmt.Fprintf(&b, "b%d-r%d.crash.test\n", c.next, i)
		}
		if err := os.WriteFile(input, []byte(b.String()), 0o600); err != nil {
			c.t.Fatal(err)
		}
		return crashRun{op: op, args: []string{"batch", "--template", c.template, "--input", input, "--out", dir, "--jobs", "2", "--random-passwords"}, batchOut: dir}
	case "sign":
		// A request made for this run, as a requester's tool would
		// (certmint csr: the key stays in c.csrs, never in an output folder).
		name := fmt.Sprintf("csr%d", c.next)
		if r := c.runToEnd([]string{"csr", "--template", c.template, "--cn", name + ".crash.test", "--out", c.csrs, "--name", name}); r.Code != 0 {
			c.t.Fatalf("certmint csr for the sign run failed:\n%s", r)
		}
		return crashRun{op: op, args: []string{"sign", "--template", c.template, "--csr", filepath.Join(c.csrs, name+".csr"),
			"--out", filepath.Join(c.out, "sign"), "--name", name}}
	case "renew":
		serial := c.validSerial(true)
		if serial == "" {
			return c.command("issue")
		}
		// In place over the old bundle (--force, as an administrator renews
		// a deployed certificate), or into a new folder; with and without
		// --revoke-old.
		args := []string{"renew"}
		if c.rng.IntN(2) == 0 {
			args = append(args, "--force")
		} else {
			dir := filepath.Join(c.out, "renew", fmt.Sprintf("r%d", c.next))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				c.t.Fatal(err)
			}
			args = append(args, "--out", dir)
		}
		if c.rng.IntN(2) == 0 {
			args = append(args, "--revoke-old")
		}
		return crashRun{op: op, args: append(args, serial)}
	case "revoke":
		serial := c.validSerial(false)
		if serial == "" {
			return crashRun{op: "crl", args: []string{"crl"}}
		}
		return crashRun{op: op, args: []string{"revoke", "--reason", "keyCompromise", serial}}
	}
	return crashRun{op: "crl", args: []string{"crl"}}
}

// validSerial picks a valid certificate, "" when there is none. renewable
// keeps to the bundles of issue and renew: renewing a signed request's
// certificate would make a key no file keeps.
func (c *crashHarness) validSerial(renewable bool) string {
	s := c.open()
	defer s.Close()
	all, err := s.List(context.Background(), ca.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	renewed := map[string]bool{}
	for _, r := range all {
		renewed[r.Meta.Renews] = true
	}
	recs := slices.DeleteFunc(all, func(r *ca.Record) bool {
		if r.State(time.Now()) != "valid" {
			return true
		}
		if !renewable {
			return false
		}
		// The current certificate of an issue or renew bundle: renewing
		// one already renewed in place would overwrite its successor's
		// files. Not a batch row: a row's folder is written whole
		// (checkFiles requires it), a renewal in place replaces files one
		// by one.
		dir, _ := filepath.Rel(c.out, r.Meta.Out)
		return renewed[r.SerialHex()] || !slices.Contains(r.Meta.Formats, "key") ||
			(dir != "issue" && !strings.HasPrefix(dir, "renew"+string(filepath.Separator)))
	})
	if len(recs) == 0 {
		return ""
	}
	return recs[c.rng.IntN(len(recs))].SerialHex()
}

func (c *crashHarness) open() *ca.Store {
	s, err := ca.Open(c.h.Home, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

func (c *crashHarness) runToEnd(args []string) result {
	return runCertmint(c.h.Home, args...)
}

// round runs op, kills it at a random moment of its lifetime, and checks
// what it left.
func (c *crashHarness) round(op string) {
	t := c.t
	run := c.command(op)
	op = run.op
	// Spread over the whole lifetime, a third of the kills anywhere, a
	// third in its last 40% and a third around its very end: the first
	// part is mostly process start and the CA key's KDF, the end is
	// signing, recording and writing, where a kill can tear something.
	u := c.rng.Float64()
	switch c.rng.IntN(3) {
	case 1:
		u = 0.6 + 0.4*u
	case 2:
		u = 0.85 + 0.2*u
	}
	delay := time.Duration(u * float64(c.lifetime[op]))
	cmd := exec.Command(certmintBin, run.args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTMINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, certmintEnv(c.h.Home)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		// Finished first: its duration updates the lifetime.
		c.lifetime[op] = (3*c.lifetime[op] + time.Since(began)) / 4
	case <-time.After(delay):
		cmd.Process.Kill() // SIGKILL
		<-done
	}
	c.fig.runs++
	killed := cmd.ProcessState.ExitCode() == -1
	if killed {
		c.fig.kills++
		c.fig.killsByOp[op]++
	} else if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s (not killed, %v) failed with status %d:\n%s", commandLine(certmintBin, run.args), delay, code, stderr.String())
	}
	what := fmt.Sprintf("run %d: %s killed after %v", c.fig.runs, commandLine("certmint", run.args), delay.Round(time.Millisecond))
	if !killed {
		what = fmt.Sprintf("run %d: %s finished before the kill at %v", c.fig.runs, commandLine("certmint", run.args), delay.Round(time.Millisecond))
	}
	c.checkFiles(what)
	c.checkAll(what)
	if run.batchOut != "" {
		// A rerun of the interrupted batch completes it; the files are
		// whole again, and doctor now knows the batch's folder.
		c.fig.batchReruns++
		if r := c.runToEnd(run.args); r.Code != 0 {
			t.Errorf("%s: rerunning the batch failed:\n%s", what, r)
		}
		c.checkBatchComplete(what, run.batchOut)
		c.checkFiles(what + ", batch rerun")
		c.checkAll(what + ", batch rerun")
	}
	c.checkNoTemps(what)
}

// checkAll looks for certificates the database does not know and records
// left unreleased, has doctor --repair reconcile, and looks again: record
// before release means the first look finds no unknown certificate, not
// merely that doctor (which records the ones it finds) leaves none.
func (c *crashHarness) checkAll(what string) {
	c.fig.unrecordedBefore += c.census(what + ", before doctor")
	unreleased := c.unreleased(what)
	rep := c.doctor(what)
	c.checkResolved(what, unreleased, rep)
	after := what + ", after doctor --repair"
	c.fig.unrecordedAfter += c.census(after)
	c.checkFiles(after) // doctor moved files into place: none is torn
	c.checkBundlesWhole(after)
}

// checkFiles parses every file below the output folder and in public/:
// nothing may be torn. Temporary files (.certmint-tmp-*) may remain;
// their content is not looked at.
func (c *crashHarness) checkFiles(what string) {
	t := c.t
	passwords := c.batchPasswords()
	check := func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fsutil.IsTemp(path) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if err := c.checkFileCached(path, passwords); err != nil {
			t.Errorf("%s: %s: %v", what, path, err)
		}
		return nil
	}
	for _, dir := range []string{c.out, filepath.Join(c.h.Home, "public")} {
		if err := filepath.WalkDir(dir, check); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	// A batch row's folder appears whole or not at all.
	rows, _ := filepath.Glob(filepath.Join(c.out, "batch*", "*.crash.test"))
	for _, row := range rows {
		c.checkBundle(what, row, filepath.Base(row))
	}
}

// checkFileCached is checkFile, remembering the files (by name and
// content) that passed: most files stay the same from one round to the
// next, and opening a .pfx costs its KDF.
func (c *crashHarness) checkFileCached(path string, passwords map[string][]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	key := sha256.Sum256(append([]byte(path+"\x00"), data...))
	if c.fileOK[key] {
		return nil
	}
	if err := c.checkFile(path, passwords); err != nil {
		return err
	}
	c.fileOK[key] = true
	return nil
}

// checkBundlesWhole requires, after doctor --repair, every bundle in place
// to be one certificate's: its .key opens to the .crt's key, its .pfx
// holds the .crt, its chain is the CA chain. A kill in the middle of a
// renewal in place (--force) leaves old and new files side by side;
// doctor must finish or undo that, never leave the mix.
func (c *crashHarness) checkBundlesWhole(what string) {
	t := c.t
	passwords := c.batchPasswords()
	filepath.WalkDir(c.out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || fsutil.IsTemp(path) {
			if err == nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(path, ".crt") {
			return nil
		}
		certs, err := certfile.ReadCertificates(path)
		if err != nil {
			return nil // checkFiles reports it
		}
		cert, base := certs[0], strings.TrimSuffix(path, ".crt")
		if data, err := os.ReadFile(base + ".key"); err == nil {
			if k, err := keys.ParsePEM(data, ""); err != nil || !keys.Match(k, cert.PublicKey) {
				t.Errorf("%s: %s.key is not the key of %s.crt (%s): the bundle mixes two certificates", what, base, base, ca.SerialHex(cert.SerialNumber))
			}
		}
		if data, err := os.ReadFile(base + ".pfx"); err == nil {
			sum := sha256.Sum256(data)
			leaf := c.pfxLeaf[sum]
			for _, pw := range append([]string{bundlePassword}, passwords[filepath.Base(base)]...) {
				if leaf != nil {
					break
				}
				if _, l, _, err := pkcs12.DecodeChain(data, pw); err == nil {
					leaf, c.pfxLeaf[sum] = l, l
				}
			}
			if leaf != nil && !leaf.Equal(cert) {
				t.Errorf("%s: %s.pfx holds %s, %s.crt holds %s: the bundle mixes two certificates", what, base,
					ca.SerialHex(leaf.SerialNumber), base, ca.SerialHex(cert.SerialNumber))
			}
		}
		if chain, err := certfile.ReadCertificates(base + "-chain.pem"); err == nil &&
			(len(chain) != 2 || !chain[0].Equal(c.h.Issuing.Cert) || !chain[1].Equal(c.h.Root.Cert)) {
			t.Errorf("%s: %s-chain.pem is not the issuing CA and the root", what, base)
		}
		return nil
	})
}

// checkBundle requires the four files of the template in dir.
func (c *crashHarness) checkBundle(what, dir, name string) {
	for _, suffix := range []string{".crt", ".key", ".pfx", "-chain.pem"} {
		if _, err := os.Stat(filepath.Join(dir, name+suffix)); err != nil {
			c.t.Errorf("%s: bundle %s is incomplete: %v", what, dir, err)
		}
	}
}

// batchPasswords reads the passwords.csv of every batch, by row name.
func (c *crashHarness) batchPasswords() map[string][]string {
	out := map[string][]string{}
	files, _ := filepath.Glob(filepath.Join(c.out, "batch*", ca.PasswordsFile))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		recs, _ := csv.NewReader(bytes.NewReader(data)).ReadAll()
		for _, r := range recs {
			if len(r) == 4 {
				out[r[0]] = append(out[r[0]], r[3])
			}
		}
	}
	return out
}

// checkFile parses one file by its kind.
func (c *crashHarness) checkFile(path string, passwords map[string][]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	name := filepath.Base(path)
	public := filepath.Dir(path) == filepath.Join(c.h.Home, "public")
	switch {
	case name == ca.PasswordsFile:
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			return err
		}
		for _, r := range recs {
			if len(r) != 4 {
				return fmt.Errorf("a line of %d fields: %q", len(r), r)
			}
		}
	case strings.HasSuffix(name, ".csv"): // the harness's own inputs
	case public && strings.HasSuffix(name, ".crt"):
		cert, err := x509.ParseCertificate(data)
		if err != nil {
			return err
		}
		if !cert.Equal(c.h.Root.Cert) && !cert.Equal(c.h.Issuing.Cert) {
			return fmt.Errorf("not a CA certificate of this home")
		}
	case strings.HasSuffix(name, ".crl"), strings.HasSuffix(name, ".crl.pem"):
		rl, err := crl.Parse(data)
		if err != nil {
			return err
		}
		issuer := c.h.Issuing.Cert
		if strings.HasPrefix(name, c.h.Root.Slug+".") {
			issuer = c.h.Root.Cert
		}
		if err := rl.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("CRL not signed by its CA: %v", err)
		}
	case strings.HasSuffix(name, ".crt"), strings.HasSuffix(name, ".pem"), strings.HasSuffix(name, ".cer"):
		if _, err := readCerts(path); err != nil {
			return err
		}
	case strings.HasSuffix(name, ".key"):
		if _, err := keys.ParsePEM(data, ""); err != nil {
			return err
		}
	case strings.HasSuffix(name, ".pfx"):
		row := filepath.Base(filepath.Dir(path))
		candidates := append([]string{bundlePassword}, passwords[row]...)
		for _, pw := range candidates {
			if _, _, _, err := pkcs12.DecodeChain(data, pw); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no known password opens it (%d tried): torn, or its password never reached passwords.csv", len(candidates))
	default:
		return fmt.Errorf("unexpected file")
	}
	return nil
}

// doctorJSON is `certmint doctor --json`.
type doctorJSON struct {
	Findings     []doctor.Finding `json:"findings"`
	Found        int              `json:"found"`
	Repaired     int              `json:"repaired"`
	Unrepairable int              `json:"unrepairable"`
	Unresolved   int              `json:"unresolved"`
	OK           bool             `json:"ok"`
}

func (c *crashHarness) runDoctor(what string, args ...string) doctorJSON {
	r := c.runToEnd(append([]string{"doctor", "--json", "--temp-age", "0"}, args...))
	var d doctorJSON
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil || (r.Code != 0) == d.OK || (r.Code != 0 && r.Code != 1) {
		c.t.Fatalf("%s: certmint doctor printed no report or a wrong status (%v):\n%s", what, err, r)
	}
	return d
}

// doctor repairs what the kill left, then requires a clean report but for
// what doctor said it cannot repair. It returns the repair's report.
func (c *crashHarness) doctor(what string) doctorJSON {
	rep := c.runDoctor(what, "--repair")
	c.fig.found += rep.Found
	c.fig.repaired += rep.Repaired
	for _, f := range rep.Findings {
		c.fig.foundKinds[f.Kind]++
		switch {
		case f.Repaired:
			c.fig.repairedKinds[f.Kind]++
			c.t.Logf("%s: repaired %s %s %s: %s", what, f.Kind, f.Serial, f.Path, f.Problem)
		case f.Repairable:
			c.t.Errorf("%s: doctor --repair could not repair %s %s: %s (%s)", what, f.Kind, f.Path, f.Problem, f.Reason)
		default:
			c.fig.unrepairable++
			c.fig.unrepairableKinds[f.Kind]++
			c.t.Logf("%s: not repairable %s %s: %s (%s)", what, f.Kind, f.Serial, f.Problem, f.Reason)
		}
	}
	after := c.runDoctor(what + ", after repair")
	for _, f := range after.Findings {
		if f.Repairable {
			c.t.Errorf("%s: after doctor --repair, doctor still reports %s %s: %s", what, f.Kind, f.Path, f.Problem)
		} else if !slices.ContainsFunc(rep.Findings, func(g doctor.Finding) bool { return g.Kind == f.Kind && g.Serial == f.Serial && g.Path == f.Path }) {
			c.t.Errorf("%s: a new finding after the repair: %s %s: %s", what, f.Kind, f.Path, f.Problem)
		}
	}
	return rep
}

// checkBatchComplete requires every row of the batch in out, each .pfx
// opened by its line of passwords.csv.
func (c *crashHarness) checkBatchComplete(what, out string) {
	n := strings.TrimPrefix(filepath.Base(out), "batch")
	for i := 1; i <= crashRowsPerBatch; i++ {
		name := fmt.Sprintf("b%s-r%d.crash.test", n, i)
		c.checkBundle(what+", batch rerun", filepath.Join(out, name), name)
	}
}

// checkNoTemps requires that doctor --repair removed every temporary file.
func (c *crashHarness) checkNoTemps(what string) {
	for _, dir := range []string{c.out, c.h.Home} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && fsutil.IsTemp(path) {
				c.t.Errorf("%s: temporary file left after doctor --repair: %s", what, path)
				if d.IsDir() {
					return filepath.SkipDir
				}
			}
			return nil
		})
	}
}

var crlNumberRE = regexp.MustCompile(`CRL number (\d+)`)

// checkDatabase: no serial twice, and each CA's CRL on disk has the highest
// number ever published and lists every revoked, unexpired certificate.
func (c *crashHarness) checkDatabase() {
	t := c.t
	s := c.open()
	defer s.Close()
	ctx := context.Background()
	x := sqlx.NewDb(s.DB.RawSQL(), "sqlite")
	var dups []string
	if err := x.SelectContext(ctx, &dups, `SELECT serial_number FROM certificates GROUP BY serial_number HAVING count(*) > 1`); err != nil {
		t.Fatal(err)
	}
	if len(dups) > 0 {
		t.Errorf("duplicate serials in the database: %v", dups)
	}
	recs, err := s.List(ctx, ca.ListOptions{CAs: true})
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Log(ctx, ca.LogOptions{Action: "crl"})
	if err != nil {
		t.Fatal(err)
	}
	revoked := 0
	for _, a := range s.Authorities() {
		path, _ := crl.Paths(s.PublicDir(), a.Slug)
		rl, err := crl.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", a.Slug, err)
			continue
		}
		var number int64
		if err := x.GetContext(ctx, &number, x.Rebind(`SELECT number FROM crl_numbers WHERE ca_label = ?`), a.Slug); err != nil {
			t.Fatal(err)
		}
		highest := number
		for _, e := range events {
			if e.CALabel != a.Slug {
				continue
			}
			if m := crlNumberRE.FindStringSubmatch(e.Detail); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				highest = max(highest, n)
			}
		}
		if rl.Number == nil || rl.Number.Cmp(big.NewInt(highest)) < 0 {
			t.Errorf("%s: the CRL on disk is number %v, but number %d was published", a.Slug, rl.Number, highest)
		}
		listed := map[string]bool{}
		for _, e := range rl.RevokedCertificateEntries {
			listed[ca.SerialHex(e.SerialNumber)] = true
		}
		for _, r := range recs {
			if r.CALabel == a.Slug && r.Status == "revoked" && time.Now().Before(r.NotAfter) {
				revoked++
				if !listed[r.SerialHex()] {
					t.Errorf("%s: revoked certificate %s is not on CRL number %v", a.Slug, r.SerialHex(), rl.Number)
				}
			}
		}
	}
	t.Logf("crash harness: database: %d certificates, %d revoked, no duplicate serial", len(recs), revoked)
}
