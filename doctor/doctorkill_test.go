package doctor

import (
	"context"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/templates"
)

// TestDoctorKilledWhileStaging: a command killed after it recorded a
// certificate and while it staged or placed its files (the states the
// crash harness's kills reach, rebuilt exactly). A renewal in place
// (--force) stages its bundle inside the folder where the old bundle's
// files still are, under the same names, so "every file is there" does
// not mean "its files are there". A staging folder that is not complete
// (fsutil gives it its final mode only once every file is written and
// synced) may hold a file cut short and is never moved into place.
func TestDoctorKilledWhileStaging(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a staging folder's completeness is its mode, which Windows does not have")
	}
	type layout struct {
		staged      []string // suffixes of the new bundle's files in the staging folder
		cut         string   // suffix of a staged file the kill left empty
		complete    bool     // the staging folder was given its final mode
		oldRemoved  []string // suffixes of the old bundle's files a forced commit removed
		newInPlace  []string // suffixes of the new bundle's files already placed
		renewal     bool     // a renewal in place, else an issue into an empty folder
		wantRevoked bool     // the new certificate is revoked, else finished
	}
	all := []string{".crt", ".key", ".pfx", "-chain.pem"}
	cases := []struct {
		name string
		l    layout
	}{
		{"renewal staged whole, nothing placed", layout{renewal: true, staged: all, complete: true}},
		{"renewal staged whole, old .crt removed", layout{renewal: true, staged: all, complete: true, oldRemoved: []string{".crt"}}},
		{"renewal staged whole, old .crt and .key removed", layout{renewal: true, staged: all, complete: true, oldRemoved: []string{".crt", ".key"}}},
		{"renewal placing, .crt placed", layout{renewal: true, staged: []string{".key", ".pfx", "-chain.pem"}, complete: true,
			oldRemoved: all, newInPlace: []string{".crt"}}},
		{"renewal staged in part", layout{renewal: true, staged: []string{".crt", ".key"}, wantRevoked: true}},
		{"renewal staging its .pfx", layout{renewal: true, staged: []string{".crt", ".key", ".pfx"}, cut: ".pfx", wantRevoked: true}},
		{"issue staging its last file", layout{staged: all, cut: "-chain.pem", wantRevoked: true}},
		{"issue staged whole", layout{staged: all, complete: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.l
			s := newHome(t)
			ctx := context.Background()
			out := t.TempDir()
			// renew reads a user template from its file.
			file := filepath.Join(t.TempDir(), "doctor-ecdsa.toml")
			write(t, file, string(doctorTemplate(t).Text()), 0o644)
			tm, err := templates.LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			oldRes, err := s.Issue(ctx, ca.IssueRequest{Template: tm, Subject: pkix.Name{CommonName: "kill.example.com"}, Out: out, Password: "pfx-pw"})
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join(out, "kill.example.com")
			read := func() map[string][]byte {
				m := map[string][]byte{}
				for _, sfx := range all {
					data, err := os.ReadFile(base + sfx)
					if err != nil {
						t.Fatal(err)
					}
					m[sfx] = data
				}
				return m
			}
			oldFiles := read()
			newRes := oldRes
			if l.renewal {
				req, rec, err := s.RenewalRequest(ctx, oldRes.Cert.SerialNumber, "")
				if err != nil {
					t.Fatal(err)
				}
				req.Force, req.Password = true, "pfx-pw"
				if newRes, _, err = s.Renew(ctx, req, rec, false, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			newFiles := read()
			// Rebuild the moment of the kill: the old bundle in place (or
			// none), less what a forced commit removed, plus what it placed;
			// the rest of the new bundle in its staging folder.
			for _, sfx := range all {
				os.Remove(base + sfx)
				if l.renewal && !contains(l.oldRemoved, sfx) {
					write(t, base+sfx, string(oldFiles[sfx]), modeOf(sfx))
				}
				if contains(l.newInPlace, sfx) {
					write(t, base+sfx, string(newFiles[sfx]), modeOf(sfx))
				}
			}
			staging := filepath.Join(out, fsutil.TempNewFolder+"kill.example.com-5e1f")
			if err := os.Mkdir(staging, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, sfx := range l.staged {
				data := newFiles[sfx]
				if sfx == l.cut {
					data = nil
				}
				write(t, filepath.Join(staging, "kill.example.com"+sfx), string(data), modeOf(sfx))
			}
			if l.complete {
				os.Chmod(staging, fsutil.ModeDir)
			}
			if _, err := rawX(s).Exec(rawX(s).Rebind(`UPDATE certificates SET released_at = NULL, issued_at = ? WHERE serial_number = ?`),
				time.Now().Add(-time.Hour).UTC(), newRes.Cert.SerialNumber.String()); err != nil {
				t.Fatal(err)
			}

			r := runDoctor(t, s, Options{Repair: true, TempAge: -1})
			if !r.OK() {
				t.Fatalf("doctor --repair left findings: %s", describe(r))
			}
			rec, err := s.Lookup(ctx, newRes.Cert.SerialNumber)
			if err != nil {
				t.Fatal(err)
			}
			if rec.ReleasedAt.IsZero() {
				t.Errorf("the new certificate is still unreleased: %s", describe(r))
			}
			// What is in place must be one whole bundle: the new one when it
			// was finished, else the old one (renewal) or nothing (issue).
			want, wantCert := newFiles, newRes
			switch {
			case l.wantRevoked && rec.Status != "revoked":
				t.Errorf("the new certificate is %s, want revoked (cessationOfOperation): %s", rec.Status, describe(r))
			case l.wantRevoked && rec.Reason != crl.Reasons["cessationOfOperation"]:
				t.Errorf("revoked with reason %d, want cessationOfOperation", rec.Reason)
			case !l.wantRevoked && rec.Status != "good":
				t.Errorf("the new certificate is %s, want finished from the staging folder: %s", rec.Status, describe(r))
			}
			if l.wantRevoked {
				want, wantCert = oldFiles, oldRes
				if !l.renewal {
					want, wantCert = nil, nil
				}
			}
			for _, sfx := range all {
				got, err := os.ReadFile(base + sfx)
				switch {
				case want == nil && err == nil:
					t.Errorf("%s is in place after the certificate was revoked as never released", sfx)
				case want != nil && err != nil:
					t.Errorf("%s: %v (want %s's)", sfx, err, wantCert.Serial)
				case want != nil && string(got) != string(want[sfx]):
					t.Errorf("%s in place is not %s's: the bundle in place mixes two certificates or was cut short", sfx, wantCert.Serial)
				}
			}
			if wantCert != nil {
				certs, err := certfile.ReadCertificates(base + ".crt")
				if err != nil || !certs[0].Equal(wantCert.Cert) {
					t.Errorf(".crt in place is not %s", wantCert.Serial)
				}
				data, _ := os.ReadFile(base + ".key")
				if k, err := keys.ParsePEM(data, ""); err != nil || !keys.Match(k, wantCert.Cert.PublicKey) {
					t.Errorf(".key in place does not belong to %s", wantCert.Serial)
				}
			}
			if _, err := os.Lstat(staging); err == nil {
				t.Error("the staging folder is still there")
			}
			if again := runDoctor(t, s, Options{TempAge: -1}); len(again.Findings) > 0 {
				t.Errorf("after the repair: %s", describe(again))
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// modeOf is the mode fsutil gives a bundle file.
func modeOf(suffix string) os.FileMode {
	if strings.HasSuffix(suffix, ".key") || strings.HasSuffix(suffix, ".pfx") {
		return fsutil.ModePrivate
	}
	return fsutil.ModePublic
}

// TestIssueBatchSkipsIncompleteStaging: a batch killed while it staged a
// row's folder leaves it 0700, its last file cut short. The rerun must not
// move it into place as a finished row (it issues the row again), and
// doctor --repair then revokes the certificate that never got its files.
func TestIssueBatchSkipsIncompleteStaging(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a staging folder's completeness is its mode, which Windows does not have")
	}
	s := newHome(t)
	ctx := context.Background()
	out := t.TempDir()
	opts := ca.BatchOptions{Template: doctorTemplate(t), Out: out, Jobs: 2, RandomPasswords: true}
	data := "cn\nr1.example.com\nr2.example.com\n"
	run := func() batchRun { return runBatch(t, ctx, s, opts, data, 0) }
	if r := run(); r.err != nil {
		t.Fatal(r.err)
	}
	row := filepath.Join(out, "r1.example.com")
	certs, err := certfile.ReadCertificates(filepath.Join(row, "r1.example.com.crt"))
	if err != nil {
		t.Fatal(err)
	}
	first := certs[0]
	staging := filepath.Join(out, fsutil.TempNewFolder+"r1.example.com-7")
	if err := os.Rename(row, staging); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(staging, "r1.example.com-chain.pem"), "", fsutil.ModePublic)
	os.Chmod(staging, 0o700)
	if _, err := rawX(s).Exec(rawX(s).Rebind(`UPDATE certificates SET released_at = NULL, issued_at = ? WHERE serial_number = ?`),
		time.Now().Add(-time.Hour).UTC(), first.SerialNumber.String()); err != nil {
		t.Fatal(err)
	}

	r := run()
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, b := range r.results {
		if b.Row.CN == "r1.example.com" && (b.Skipped || b.Issued == nil) {
			t.Errorf("r1: skipped %v, issued %v: the cut staging folder was taken as the finished row", b.Skipped, b.Issued != nil)
		}
	}
	if st, err := os.Stat(filepath.Join(row, "r1.example.com-chain.pem")); err != nil || st.Size() == 0 {
		t.Errorf("r1's chain in place is missing or empty (%v)", err)
	}
	rep := runDoctor(t, s, Options{TempAge: -1, Repair: true})
	if !rep.OK() || len(findingsOf(rep, KindUnreleased)) != 1 {
		t.Errorf("doctor --repair: want the first r1 certificate resolved: %s", describe(rep))
	}
	if rec, err := s.Lookup(ctx, first.SerialNumber); err != nil || rec.Status != "revoked" {
		t.Errorf("the first r1 certificate, whose files were never placed: %v %+v", err, rec)
	}
	if again := runDoctor(t, s, Options{TempAge: -1}); len(again.Findings) > 0 {
		t.Errorf("after the repair: %s", describe(again))
	}
}
