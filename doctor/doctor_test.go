package doctor

import (
	"context"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/templates"
)

// doctorTemplate issues ECDSA bundles of every file kind that needs no
// CA: fast keys, and a .pfx for the password cases.
func doctorTemplate(t testing.TB) *templates.Template {
	t.Helper()
	return ecdsaTemplate(t, "doctor-ecdsa", "crt", "key", "pfx", "chain")
}

// doctorBundle issues one bundle named cn into out.
func doctorBundle(t testing.TB, s *ca.Store, out, cn string, force bool) *ca.Issued {
	t.Helper()
	res, err := s.Issue(context.Background(), ca.IssueRequest{Template: doctorTemplate(t), Subject: pkix.Name{CommonName: cn},
		Out: out, Password: "pfx-pw", Force: force})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// old makes a file look written an hour ago, older than DefaultTempAge.
func old(t testing.TB, path string) {
	t.Helper()
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, past, past); err != nil {
		t.Fatal(err)
	}
}

func write(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func runDoctor(t testing.TB, s *ca.Store, o Options) *Report {
	t.Helper()
	r, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func findingsOf(r *Report, kind string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

func describe(r *Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "\n  %s %s %s: %s (repairable %v, repaired %v, %s)", f.Kind, f.Serial, f.Path, f.Problem, f.Repairable, f.Repaired, f.Reason)
	}
	return b.String()
}

func repairEvents(t testing.TB, s *ca.Store) []ca.AuditEntry {
	t.Helper()
	ev, err := s.Log(context.Background(), ca.LogOptions{Action: "repair"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestDoctorClean(t *testing.T) {
	s := newHome(t)
	doctorBundle(t, s, t.TempDir(), "clean.example.com", false)
	r := runDoctor(t, s, Options{})
	if len(r.Findings) != 0 || !r.OK() {
		t.Fatalf("a fresh home with one bundle: %s", describe(r))
	}
	if r.Records != 1 || r.Folders != 1 || r.Files != 2 {
		t.Errorf("looked at %d records, %d folders, %d certificate files; want 1, 1, 2 (.crt and -chain.pem)", r.Records, r.Folders, r.Files)
	}
	// Repairing nothing writes nothing.
	runDoctor(t, s, Options{Repair: true})
	if ev := repairEvents(t, s); len(ev) != 0 {
		t.Errorf("repair events on a clean home: %v", ev)
	}
}

// TestDoctor makes each disagreement by hand, then checks that doctor
// finds it, that --repair repairs it (or says it cannot), that the repair
// is in the audit trail, and that a second run finds nothing repairable.
func TestDoctor(t *testing.T) {
	type env struct {
		s   *ca.Store
		out string
		iss *ca.Issued // one bundle in out
	}
	file := func(e *env, suffix string) string {
		for _, f := range e.iss.Files {
			if strings.HasSuffix(f, suffix) {
				return f
			}
		}
		t.Fatalf("no %s in %v", suffix, e.iss.Files)
		return ""
	}
	crlPath := func(e *env) string { p, _ := crl.Paths(e.s.PublicDir(), e.s.Issuing.Slug); return p }
	mode := func(t *testing.T, path string, want os.FileMode) {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %04o", path, st.Mode().Perm(), err, want)
		}
	}
	tests := []struct {
		name       string
		posixOnly  bool // permission bits
		opts       Options
		make       func(t *testing.T, e *env)
		kind       string
		repairable bool
		want       string // in the problem
		check      func(t *testing.T, e *env)
	}{
		{name: "leftover temporary file", kind: KindTempFile, repairable: true, want: "temporary file left",
			make: func(t *testing.T, e *env) {
				p := filepath.Join(e.out, fsutil.TempPrefix+"123")
				write(t, p, "half a key", 0o600)
				old(t, p)
			},
			check: func(t *testing.T, e *env) {
				if _, err := os.Stat(filepath.Join(e.out, fsutil.TempPrefix+"123")); err == nil {
					t.Error("the temporary file is still there")
				}
			}},
		{name: "leftover temporary folder in public", kind: KindTempFile, repairable: true, want: "temporary folder left",
			make: func(t *testing.T, e *env) {
				p := filepath.Join(e.s.PublicDir(), fsutil.TempNewFolder+"x-1")
				os.Mkdir(p, 0o755)
				write(t, filepath.Join(p, "a"), "x", 0o644)
				old(t, p)
			}},
		{name: "young temporary file is left alone", kind: KindTempFile, repairable: true, want: "temporary file left",
			make: func(t *testing.T, e *env) { write(t, filepath.Join(e.s.Home, fsutil.TempPrefix+"9"), "x", 0o600) },
			check: func(t *testing.T, e *env) {
				if _, err := os.Stat(filepath.Join(e.s.Home, fsutil.TempPrefix+"9")); err != nil {
					t.Error("a temporary file younger than 10 minutes was removed")
				}
			}},
		{name: "young temporary file with TempAge -1", opts: Options{TempAge: -1}, kind: KindTempFile, repairable: true, want: "temporary file left",
			make: func(t *testing.T, e *env) { write(t, filepath.Join(e.s.Home, fsutil.TempPrefix+"9"), "x", 0o600) }},
		{name: "public CA certificate missing", kind: KindPublicCert, repairable: true, want: "missing",
			make: func(t *testing.T, e *env) { os.Remove(filepath.Join(e.s.PublicDir(), e.s.Issuing.Slug+".crt")) },
			check: func(t *testing.T, e *env) {
				if der, _ := os.ReadFile(filepath.Join(e.s.PublicDir(), e.s.Issuing.Slug+".crt")); string(der) != string(e.s.Issuing.Cert.Raw) {
					t.Error("public/<issuing>.crt was not rewritten")
				}
			}},
		{name: "public CA certificate is another one", kind: KindPublicCert, repairable: true, want: "is not the DER certificate",
			make: func(t *testing.T, e *env) {
				write(t, filepath.Join(e.s.PublicDir(), e.s.Issuing.Slug+".crt"), string(e.s.Root.Cert.Raw), 0o644)
			}},
		{name: "CRL missing", kind: KindCRLMissing, repairable: true, want: "missing",
			make: func(t *testing.T, e *env) { os.Remove(crlPath(e)) },
			check: func(t *testing.T, e *env) {
				if rl, err := crl.ReadFile(crlPath(e)); err != nil || rl.CheckSignatureFrom(e.s.Issuing.Cert) != nil {
					t.Errorf("no fresh CRL: %v", err)
				}
			}},
		{name: "CRL not signed by its CA", kind: KindCRLInvalid, repairable: true, want: "not signed by",
			make: func(t *testing.T, e *env) {
				rootCRL, _ := crl.Paths(e.s.PublicDir(), e.s.Root.Slug)
				data, _ := os.ReadFile(rootCRL)
				write(t, crlPath(e), string(data), 0o644)
			}},
		{name: "CRL torn", kind: KindCRLInvalid, repairable: true, want: "unreadable",
			make: func(t *testing.T, e *env) {
				data, _ := os.ReadFile(crlPath(e))
				write(t, crlPath(e), string(data[:len(data)/2]), 0o644)
			}},
		{name: "CRL misses a revocation", kind: KindCRLStale, repairable: true, want: "does not list 1 revoked",
			make: func(t *testing.T, e *env) {
				// What a revoke killed before it published leaves.
				_, err := rawX(e.s).Exec(`UPDATE certificates SET status = 'revoked', reason = 1, revoked_at = ? WHERE serial_number = ?`,
					time.Now().UTC(), e.iss.Cert.SerialNumber.String())
				if err != nil {
					t.Fatal(err)
				}
				e.s.DB.Audit(context.Background(), ca.Event{Action: "revoke", Serial: e.iss.Serial})
			},
			check: func(t *testing.T, e *env) {
				rl, err := crl.ReadFile(crlPath(e))
				if err != nil || len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].SerialNumber.Cmp(e.iss.Cert.SerialNumber) != 0 {
					t.Errorf("the fresh CRL does not list the revocation (%v)", err)
				}
			}},
		{name: "CRL behind the database", kind: KindCRLStale, repairable: true, want: "the database has published up to number 6",
			make: func(t *testing.T, e *env) {
				if _, err := rawX(e.s).Exec(`UPDATE crl_numbers SET number = number + 5`); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, e *env) {
				if rl, _ := crl.ReadFile(crlPath(e)); rl == nil || rl.Number.Int64() != 7 {
					t.Errorf("fresh CRL number %v, want 7", rl.Number)
				}
			}},
		{name: "CRL past nextUpdate", opts: Options{Now: time.Now().Add(8 * 24 * time.Hour)}, kind: KindCRLExpired, repairable: true, want: "expired at"},
		{name: "CRL past half its lifetime", opts: Options{Now: time.Now().Add(4 * 24 * time.Hour)}, kind: KindCRLDue, repairable: true, want: "due for re-signing"},
		{name: "CRL inside --crl-warn", opts: Options{CRLWarn: 8 * 24 * time.Hour}, kind: KindCRLDue, repairable: true, want: "due for re-signing"},
		{name: "CRL PEM differs", kind: KindCRLPEM, repairable: true, want: "is not the same CRL",
			make: func(t *testing.T, e *env) {
				_, pemPath := crl.Paths(e.s.PublicDir(), e.s.Issuing.Slug)
				rootCRL, _ := crl.Paths(e.s.PublicDir(), e.s.Root.Slug)
				data, _ := os.ReadFile(rootCRL)
				write(t, pemPath, string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: data})), 0o644)
			},
			check: func(t *testing.T, e *env) {
				der, _ := os.ReadFile(crlPath(e))
				_, pemPath := crl.Paths(e.s.PublicDir(), e.s.Issuing.Slug)
				data, _ := os.ReadFile(pemPath)
				if b, _ := pem.Decode(data); b == nil || string(b.Bytes) != string(der) {
					t.Error(".crl.pem was not rewritten from .crl")
				}
			}},
		{name: "bundle key readable by others", posixOnly: true, kind: KindPermissions, repairable: true, want: "is 0644",
			make:  func(t *testing.T, e *env) { os.Chmod(file(e, ".key"), 0o644) },
			check: func(t *testing.T, e *env) { mode(t, file(e, ".key"), 0o600) }},
		{name: "pfx readable by group", posixOnly: true, kind: KindPermissions, repairable: true, want: "is 0640",
			make:  func(t *testing.T, e *env) { os.Chmod(file(e, ".pfx"), 0o640) },
			check: func(t *testing.T, e *env) { mode(t, file(e, ".pfx"), 0o600) }},
		{name: "CA key readable by others", posixOnly: true, kind: KindPermissions, repairable: true, want: "is 0604",
			make:  func(t *testing.T, e *env) { os.Chmod(e.s.Root.KeyPath(), 0o604) },
			check: func(t *testing.T, e *env) { mode(t, e.s.Root.KeyPath(), 0o600) }},
		{name: "home open", posixOnly: true, kind: KindPermissions, repairable: true, want: "the CA home is 0755",
			make:  func(t *testing.T, e *env) { os.Chmod(e.s.Home, 0o755) },
			check: func(t *testing.T, e *env) { mode(t, e.s.Home, 0o700) }},
		{name: "database readable", posixOnly: true, kind: KindPermissions, repairable: true, want: "the issuance database is 0644",
			make:  func(t *testing.T, e *env) { os.Chmod(filepath.Join(e.s.Home, ca.DBFile), 0o644) },
			check: func(t *testing.T, e *env) { mode(t, filepath.Join(e.s.Home, ca.DBFile), 0o600) }},
		{name: "bundle gone", kind: KindBundleMissing, want: "none of its 4 files",
			make: func(t *testing.T, e *env) {
				for _, f := range e.iss.Files {
					os.Remove(f)
				}
			}},
		{name: "bundle incomplete", kind: KindBundleIncomplete, want: "1 of its 4 files are missing",
			make: func(t *testing.T, e *env) { os.Remove(file(e, ".pfx")) }},
		{name: "bundle replaced by a forced reissue", kind: KindBundleReplaced, want: "now hold certificate",
			make: func(t *testing.T, e *env) { doctorBundle(t, e.s, e.out, "doctor.example.com", true) }},
		{name: "certificate on disk, not in the database", kind: KindUnrecorded, repairable: true, want: "not in the database",
			make: func(t *testing.T, e *env) {
				if _, err := rawX(e.s).Exec(`DELETE FROM certificates WHERE serial_number = ?`, e.iss.Cert.SerialNumber.String()); err != nil {
					t.Fatal(err)
				}
				// Another bundle in the folder keeps the folder known.
				doctorBundle(t, e.s, e.out, "other.example.com", false)
			},
			check: func(t *testing.T, e *env) {
				rec, err := e.s.Lookup(context.Background(), e.iss.Cert.SerialNumber)
				if err != nil || rec.Status != "good" || rec.Meta.Files[0] != file(e, ".crt") {
					t.Errorf("not recorded again: %v %+v", err, rec)
				}
			}},
		{name: "issuance missing from the audit trail", kind: KindAuditMissing, repairable: true, want: "no issuance event",
			make: func(t *testing.T, e *env) {
				// What an issue killed between recording and auditing leaves.
				if _, err := rawX(e.s).Exec(`DELETE FROM audit_log WHERE serial = ?`, e.iss.Serial); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, e *env) {
				ev, _ := e.s.Log(context.Background(), ca.LogOptions{Serial: e.iss.Serial})
				if len(ev) != 1 || ev[0].Action != "repair" || !strings.Contains(ev[0].Detail, "no issuance event") {
					t.Errorf("audit trail of %s: %+v", e.iss.Serial, ev)
				}
			}},
		{name: "CA certificates near expiry", opts: Options{Warn: 30 * 365 * 24 * time.Hour}, kind: KindCAExpiry, want: "expires on"},
		{name: "issue killed after recording, nothing moved", kind: KindStagedBundle, repairable: true, want: "4 of its files were left",
			make: func(t *testing.T, e *env) {
				staging := filepath.Join(e.out, fsutil.TempNewFolder+"doctor.example.com-77")
				os.Mkdir(staging, 0o755)
				for _, f := range e.iss.Files {
					os.Rename(f, filepath.Join(staging, filepath.Base(f)))
				}
				old(t, staging)
			},
			check: func(t *testing.T, e *env) {
				for _, f := range e.iss.Files {
					if _, err := os.Stat(f); err != nil {
						t.Errorf("not moved into place: %v", err)
					}
				}
			}},
		{name: "issue killed while moving files", kind: KindStagedBundle, repairable: true, want: "2 of its files were left",
			make: func(t *testing.T, e *env) {
				// The .crt and .key are in place; the rest waits.
				staging := filepath.Join(e.out, fsutil.TempNewFolder+"doctor.example.com-78")
				os.Mkdir(staging, 0o755)
				os.Rename(file(e, ".pfx"), filepath.Join(staging, filepath.Base(file(e, ".pfx"))))
				os.Rename(file(e, "-chain.pem"), filepath.Join(staging, filepath.Base(file(e, "-chain.pem"))))
				old(t, staging)
			},
			check: func(t *testing.T, e *env) {
				if ents, _ := os.ReadDir(e.out); len(ents) != 4 {
					t.Errorf("%d entries in the bundle folder, want the 4 files", len(ents))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.posixOnly && runtime.GOOS == "windows" {
				t.Skip("no permission bits on Windows")
			}
			t.Parallel()
			e := &env{s: newHome(t), out: t.TempDir()}
			e.iss = doctorBundle(t, e.s, e.out, "doctor.example.com", false)
			if tc.make != nil {
				tc.make(t, e)
			}
			before := runDoctor(t, e.s, tc.opts)
			got := findingsOf(before, tc.kind)
			if len(got) == 0 {
				t.Fatalf("no %s finding: %s", tc.kind, describe(before))
			}
			if len(got) != len(before.Findings) && tc.kind != KindCAExpiry {
				t.Errorf("findings beside the %s one: %s", tc.kind, describe(before))
			}
			f := got[0]
			if !strings.Contains(f.Problem, tc.want) || f.Repairable != tc.repairable || f.Repaired || before.OK() {
				t.Errorf("finding %+v: want %q in the problem, repairable %v, not repaired", f, tc.want, tc.repairable)
			}
			if !tc.repairable && (f.Reason == "" || !strings.Contains(f.Reason, "cannot repair")) {
				t.Errorf("an unrepairable finding must say why: %+v", f)
			}
			opts := tc.opts
			opts.Repair = true
			after := runDoctor(t, e.s, opts)
			f = findingsOf(after, tc.kind)[0]
			young := strings.Contains(tc.name, "young") && opts.TempAge == 0
			switch {
			case tc.repairable && !young:
				if !f.Repaired || !after.OK() {
					t.Errorf("not repaired: %s", describe(after))
				}
				ev := repairEvents(t, e.s)
				if len(ev) != len(after.Findings) || !strings.HasPrefix(ev[0].Detail, tc.kind) || ev[0].User == "" {
					t.Errorf("%d findings repaired, audit trail has %d repair events: %+v", len(after.Findings), len(ev), ev)
				}
			default:
				if f.Repaired || after.OK() {
					t.Errorf("repaired what must not be: %s", describe(after))
				}
				if ev := repairEvents(t, e.s); len(ev) != 0 {
					t.Errorf("repair events without a repair: %+v", ev)
				}
				if f.Hint == "" {
					t.Errorf("no hint: %+v", f)
				}
			}
			if tc.check != nil {
				tc.check(t, e)
			}
			// Once repaired, nothing repairable is left.
			if tc.repairable && !young {
				again := runDoctor(t, e.s, tc.opts)
				for _, g := range again.Findings {
					if g.Repairable && !(tc.kind == KindCRLExpired || tc.kind == KindCRLDue) {
						t.Errorf("after the repair: %s", describe(again))
					}
				}
			}
		})
	}
}

// A staging folder that does not prove to be the recorded bundle's (its
// key belongs to another certificate: an attempt killed before it
// recorded anything) is only removed, and the incomplete bundle reported.
func TestDoctorStagedOtherAttempt(t *testing.T) {
	s := newHome(t)
	out := t.TempDir()
	iss := doctorBundle(t, s, out, "doctor.example.com", false)
	other := doctorBundle(t, s, t.TempDir(), "doctor.example.com", true)
	staging := filepath.Join(out, fsutil.TempNewFolder+"doctor.example.com-79")
	os.Mkdir(staging, 0o755)
	for i, f := range iss.Files {
		if strings.HasSuffix(f, ".key") {
			os.Remove(f)
			data, _ := os.ReadFile(other.Files[i])
			write(t, filepath.Join(staging, filepath.Base(f)), string(data), 0o600)
		}
	}
	old(t, staging)
	r := runDoctor(t, s, Options{Repair: true})
	if len(r.Findings) != 2 || len(findingsOf(r, KindTempFile)) != 1 || !findingsOf(r, KindTempFile)[0].Repaired ||
		len(findingsOf(r, KindBundleIncomplete)) != 1 || findingsOf(r, KindBundleIncomplete)[0].Serial != iss.Serial {
		t.Errorf("want the staging folder removed and %s reported incomplete: %s", iss.Serial, describe(r))
	}
}

// A renewal in place replaces the files on purpose: the old certificate is
// not reported.
func TestDoctorRenewalInPlace(t *testing.T) {
	s := newHome(t)
	out := t.TempDir()
	// renew reads a user template from its file.
	file := filepath.Join(t.TempDir(), "doctor-ecdsa.toml")
	write(t, file, string(doctorTemplate(t).Text()), 0o644)
	tm, err := templates.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	old, err := s.Issue(context.Background(), ca.IssueRequest{Template: tm, Subject: pkix.Name{CommonName: "renew.example.com"}, Out: out, Password: "pfx-pw"})
	if err != nil {
		t.Fatal(err)
	}
	req, rec, err := s.RenewalRequest(context.Background(), old.Cert.SerialNumber, "")
	if err != nil {
		t.Fatal(err)
	}
	req.Force, req.Password = true, "pfx-pw"
	if _, _, err := s.Renew(context.Background(), req, rec, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if r := runDoctor(t, s, Options{}); len(r.Findings) != 0 {
		t.Errorf("after a renewal in place: %s", describe(r))
	}
}

// A batch killed between recording its rows and renaming their folders
// leaves staging folders beside them; doctor renames them into place, and
// a rerun of the batch then skips every row.
func TestDoctorBatchStaged(t *testing.T) {
	s := newHome(t)
	out := t.TempDir()
	tm := doctorTemplate(t)
	opts := ca.BatchOptions{Template: tm, Out: out, Jobs: 2, RandomPasswords: true}
	data := "cn\nb1.example.com\nb2.example.com\nb3.example.com\n"
	run := func() batchRun { return runBatch(t, context.Background(), s, opts, data, 0) }
	if r := run(); r.err != nil || r.count(func(b ca.BatchResult) bool { return b.Issued != nil }) != 3 {
		t.Fatalf("batch: %v %+v", r.err, r.results)
	}
	// b1's folder never landed; b2's is empty (made by a user); passwords.csv
	// is readable by others.
	os.Rename(filepath.Join(out, "b1.example.com"), filepath.Join(out, fsutil.TempNewFolder+"b1.example.com-5"))
	old(t, filepath.Join(out, fsutil.TempNewFolder+"b1.example.com-5"))
	os.Rename(filepath.Join(out, "b2.example.com"), filepath.Join(out, fsutil.TempNewFolder+"b2.example.com-6"))
	os.Mkdir(filepath.Join(out, "b2.example.com"), 0o755)
	old(t, filepath.Join(out, fsutil.TempNewFolder+"b2.example.com-6"))
	if runtime.GOOS != "windows" {
		os.Chmod(filepath.Join(out, ca.PasswordsFile), 0o644)
	}
	r := runDoctor(t, s, Options{Repair: true})
	if n := len(findingsOf(r, KindStagedBundle)); n != 2 || !r.OK() {
		t.Fatalf("want 2 staged bundles repaired: %s", describe(r))
	}
	if runtime.GOOS != "windows" && len(findingsOf(r, KindPermissions)) != 1 {
		t.Errorf("passwords.csv 0644 not reported: %s", describe(r))
	}
	if again := runDoctor(t, s, Options{}); len(again.Findings) != 0 {
		t.Errorf("after the repair: %s", describe(again))
	}
	if r := run(); r.err != nil || r.count(func(b ca.BatchResult) bool { return b.Skipped }) != 3 {
		t.Errorf("rerun after the repair: %v, %d skipped, want 3", r.err, r.count(func(b ca.BatchResult) bool { return b.Skipped }))
	}
}

// Without the CA password, a CRL repair is not done and doctor says what
// to run.
func TestDoctorCRLWithoutPassword(t *testing.T) {
	home := newHome(t)
	os.Remove(filepath.Join(home.PublicDir(), home.Issuing.Slug+".crl"))
	s, err := ca.Open(home.Home, nil) // no CA password source
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := runDoctor(t, s, Options{Repair: true})
	f := findingsOf(r, KindCRLMissing)
	if len(f) != 1 || f[0].Repaired || !f[0].Repairable || !strings.Contains(f[0].Reason, "password") || !strings.Contains(f[0].Hint, "certmint crl") {
		t.Errorf("%s", describe(r))
	}
}

// A publisher killed after writing its CRL but before committing leaves a
// file whose number the database rolled back; the next publication must
// go past it instead of failing with crl.StaleError for ever.
func TestPublishCRLAfterKilledPublisher(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	if err := s.UnlockAll(); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := rawX(s).Get(&n, `SELECT number FROM crl_numbers WHERE ca_label = ?`, s.Issuing.Slug); err != nil {
		t.Fatal(err)
	}
	key, _ := s.Key(s.Issuing)
	der, err := crl.Build(s.Issuing.Cert, key, n+1, time.Now(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.Publish(s.PublicDir(), s.Issuing.Slug, der); err != nil {
		t.Fatal(err)
	}
	p, err := s.PublishCRL(ctx, s.Issuing, time.Now())
	if err != nil {
		t.Fatalf("publishing after a killed publisher: %v", err)
	}
	if p.Number != n+2 {
		t.Errorf("CRL number %d, want %d", p.Number, n+2)
	}
	var got int64
	rawX(s).Get(&got, `SELECT number FROM crl_numbers WHERE ca_label = ?`, s.Issuing.Slug)
	if got != n+2 {
		t.Errorf("crl_numbers holds %d, want %d", got, n+2)
	}
}

// A rerun of a batch killed between recording rows and renaming their
// folders moves the staged folders into place instead of issuing the rows
// again, which would orphan valid certificates.
func TestIssueBatchRecoversStaged(t *testing.T) {
	s := newHome(t)
	out := t.TempDir()
	tm := doctorTemplate(t)
	opts := ca.BatchOptions{Template: tm, Out: out, Jobs: 2, RandomPasswords: true}
	data := "cn\nr1.example.com\nr2.example.com\n"
	run := func() batchRun { return runBatch(t, context.Background(), s, opts, data, 0) }
	if r := run(); r.err != nil {
		t.Fatal(r.err)
	}
	n := countCerts(t, s)
	os.Rename(filepath.Join(out, "r1.example.com"), filepath.Join(out, fsutil.TempNewFolder+"r1.example.com-1"))
	// A staging folder of an attempt that recorded nothing is not taken.
	os.Mkdir(filepath.Join(out, fsutil.TempNewFolder+"r2.example.com-2"), 0o755)
	r := run()
	if r.err != nil || r.count(func(b ca.BatchResult) bool { return b.Skipped }) != 2 || countCerts(t, s) != n {
		t.Errorf("rerun: %v, %d skipped (want 2), %d certificates (want %d)", r.err, r.count(func(b ca.BatchResult) bool { return b.Skipped }), countCerts(t, s), n)
	}
	if _, err := os.Stat(filepath.Join(out, "r1.example.com", "r1.example.com.pfx")); err != nil {
		t.Errorf("r1 not moved into place: %v", err)
	}
	if rep := runDoctor(t, s, Options{TempAge: -1, Repair: true}); len(rep.Findings) != 1 || len(findingsOf(rep, KindTempFile)) != 1 {
		t.Errorf("after the rerun: %s", describe(rep))
	}
}

// TestRecordBeforeRelease: issuance records a certificate before any file
// holds it. A kill right after recording (simulated: the record is marked
// unreleased again and its files removed) leaves a certificate the
// database knows; doctor --repair revokes it, republishes the CRL and
// removes what was placed. One whose files are all there only needs the
// mark.
func TestRecordBeforeRelease(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	out := t.TempDir()
	lost := doctorBundle(t, s, out, "lost.example.com", false)
	placed := doctorBundle(t, s, out, "placed.example.com", false)
	for _, res := range []*ca.Issued{lost, placed} {
		rec, err := s.Lookup(ctx, res.Cert.SerialNumber)
		if err != nil {
			t.Fatal(err)
		}
		if rec.ReleasedAt.IsZero() {
			t.Fatalf("%s: issue did not mark it released", res.Serial)
		}
		// As a kill between recording and releasing leaves it, an hour ago.
		if _, err := rawX(s).Exec(rawX(s).Rebind(`UPDATE certificates SET released_at = NULL, issued_at = ? WHERE serial_number = ?`),
			time.Now().Add(-time.Hour).UTC(), res.Cert.SerialNumber.String()); err != nil {
			t.Fatal(err)
		}
	}
	// lost: only its chain file was placed before the kill.
	for _, f := range lost.Files {
		if !strings.HasSuffix(f, "-chain.pem") {
			os.Remove(f)
		}
	}
	r := runDoctor(t, s, Options{})
	kinds := map[string]string{}
	for _, f := range r.Findings {
		if f.Kind == KindUnreleased {
			kinds[f.Serial] = f.Repair
		}
	}
	if !strings.HasPrefix(kinds[lost.Serial], "revoke it") || kinds[placed.Serial] != "mark it released" {
		t.Fatalf("findings %v; want lost revoked and placed marked", kinds)
	}
	runDoctor(t, s, Options{Repair: true})
	rec, err := s.Lookup(ctx, lost.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != "revoked" || rec.Reason != crl.Reasons["cessationOfOperation"] || rec.ReleasedAt.IsZero() {
		t.Errorf("lost after repair: status %s reason %d released %v", rec.Status, rec.Reason, rec.ReleasedAt)
	}
	for _, f := range lost.Files {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s: a leftover of the lost bundle is still there", f)
		}
	}
	path, _ := crl.Paths(s.PublicDir(), s.Issuing.Slug)
	rl, err := crl.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, e := range rl.RevokedCertificateEntries {
		listed = listed || e.SerialNumber.Cmp(lost.Cert.SerialNumber) == 0
	}
	if !listed {
		t.Error("the repaired CRL does not list the lost certificate")
	}
	if rec, _ := s.Lookup(ctx, placed.Cert.SerialNumber); rec.Status != "good" || rec.ReleasedAt.IsZero() {
		t.Errorf("placed after repair: status %s released %v", rec.Status, rec.ReleasedAt)
	}
	if r := runDoctor(t, s, Options{}); len(r.Findings) > 0 {
		t.Errorf("after the repair doctor still finds %+v", r.Findings)
	}
}

// TestUnreleasedYoungLeftAlone: a record a running command may still be
// releasing is reported, not touched.
func TestUnreleasedYoungLeftAlone(t *testing.T) {
	s := newHome(t)
	res := doctorBundle(t, s, t.TempDir(), "busy.example.com", false)
	if _, err := rawX(s).Exec(rawX(s).Rebind(`UPDATE certificates SET released_at = NULL WHERE serial_number = ?`), res.Cert.SerialNumber.String()); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		os.Remove(f)
	}
	runDoctor(t, s, Options{Repair: true})
	rec, err := s.Lookup(context.Background(), res.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != "good" || !rec.ReleasedAt.IsZero() {
		t.Errorf("a young unreleased record was repaired: status %s released %v", rec.Status, rec.ReleasedAt)
	}
}
