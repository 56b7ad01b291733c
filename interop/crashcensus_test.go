package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/ca"
	"github.com/certmint/certmint/doctor"
	"github.com/certmint/certmint/internal/certfile"
	"github.com/certmint/certmint/internal/fsutil"
)

// The crash harness's census: every certificate the issuing CA signed that
// is anywhere below the output folders, temporary and staging folders
// included, must be one the database knows (issue 11, record before
// release). Doctor's own check (checkUnrecorded) looks only at bundle
// folders it knows, never inside staging folders, and records what it
// finds, so it would hide the bug this looks for.

// census walks the output folders and returns how many certificates of
// the issuing CA it found whose serial the database does not hold; each
// is an error, with where it is.
func (c *crashHarness) census(what string) int {
	t := c.t
	passwords := c.batchPasswords()
	found := map[string]*x509.Certificate{} // by serial
	where := map[string][]string{}
	err := filepath.WalkDir(c.out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		certs, cut := c.certsIn(what, path, passwords)
		if cut {
			c.fig.cut++
		}
		for _, cert := range certs {
			serial := ca.SerialHex(cert.SerialNumber)
			found[serial] = cert
			where[serial] = append(where[serial], path)
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s: walking %s: %v", what, c.out, err)
	}
	s := c.open()
	defer s.Close()
	unknown := 0
	for _, serial := range slices.Sorted(maps.Keys(found)) {
		cert := found[serial]
		c.seen[serial] = true
		rec, err := s.Lookup(context.Background(), cert.SerialNumber)
		var nf *ca.NotFoundSerialError
		switch {
		case errors.As(err, &nf):
			unknown++
			t.Errorf("%s: certificate %s (CN %q), signed by the issuing CA, is on disk but not in the database: %s",
				what, serial, cert.Subject.CommonName, strings.Join(where[serial], ", "))
		case err != nil:
			t.Fatalf("%s: looking up %s: %v", what, serial, err)
		default:
			if rc, err := rec.Certificate(); err != nil || !rc.Equal(cert) {
				t.Errorf("%s: serial %s is recorded with another certificate than the one in %s", what, serial, strings.Join(where[serial], ", "))
			}
		}
	}
	return unknown
}

// certsIn returns the certificates of the issuing CA (not CA certificates)
// in one file: by its extension, and for a temporary file with no
// extension of its own, by what it parses as. cut reports a temporary
// file in which nothing parses (a write the kill cut short). A file in
// place that does not parse is checkFiles's to report; a .pfx no known
// password opens is an error wherever it is, since its certificate cannot
// be checked (batch writes the passwords before the bundles, issue, renew
// and the harness's batches use passwords it knows).
func (c *crashHarness) certsIn(what, path string, passwords map[string][]string) (certs []*x509.Certificate, cut bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		c.t.Errorf("%s: %v", what, err)
		return nil, false
	}
	sum := sha256.Sum256(data)
	if certs, ok := c.parsed[sum]; ok {
		return certs, false
	}
	rel, _ := filepath.Rel(c.out, path)
	temp := slices.ContainsFunc(strings.Split(rel, string(filepath.Separator)), fsutil.IsTemp)
	name := filepath.Base(path)
	ext := strings.ToLower(filepath.Ext(name))
	if fsutil.IsTemp(name) && !strings.Contains(strings.TrimPrefix(name, fsutil.TempPrefix), ".") {
		ext = "" // fsutil.Stage's own name: .certmint-tmp-RANDOM
	}
	// Candidate passwords: the harness's bundle password, and the batch
	// passwords of the row the file is named after, then of every row.
	candidates := func(all bool) []string {
		pws := append([]string{bundlePassword}, passwords[strings.TrimSuffix(name, filepath.Ext(name))]...)
		if all {
			for _, row := range slices.Sorted(maps.Keys(passwords)) {
				pws = append(pws, passwords[row]...)
			}
		}
		return pws
	}
	var all []*x509.Certificate
	ok := false
	switch ext {
	case ".crt", ".pem", ".cer", ".der":
		all, err = certfile.ParseCertificates(data)
		ok = err == nil
	case ".pfx", ".p12":
		all, ok = c.openPFX(what, path, data, candidates(false), temp)
	case "":
		if !temp {
			return nil, false
		}
		if all, err = certfile.ParseCertificates(data); err == nil {
			ok = true
		} else {
			all, ok = c.openPFX(what, path, data, candidates(true), temp)
		}
	default: // keys, passwords, CSV, install notes: no certificate
		return nil, false
	}
	if !ok {
		return nil, temp
	}
	iss := c.h.Issuing.Cert
	for _, cert := range all {
		if !cert.IsCA && bytes.Equal(cert.RawIssuer, iss.RawSubject) && cert.CheckSignatureFrom(iss) == nil {
			certs = append(certs, cert)
		}
	}
	c.parsed[sum] = certs
	return certs, false
}

// openPFX decodes a PKCS#12 file with the first candidate password that
// opens it. A file that is not whole PKCS#12 (cut short) is not ok; one
// that is, but that no candidate opens, is an error.
func (c *crashHarness) openPFX(what, path string, data []byte, candidates []string, temp bool) ([]*x509.Certificate, bool) {
	for _, pw := range candidates {
		_, leaf, chain, err := pkcs12.DecodeChain(data, pw)
		if err == nil {
			return append([]*x509.Certificate{leaf}, chain...), true
		}
		if !errors.Is(err, pkcs12.ErrIncorrectPassword) && !errors.Is(err, pkcs12.ErrDecryption) {
			if !temp && strings.HasSuffix(strings.ToLower(path), ".pfx") {
				c.t.Errorf("%s: %s: not a whole PKCS#12 file: %v", what, path, err)
			}
			return nil, false
		}
	}
	c.t.Errorf("%s: %s: no known password opens it (%d tried), so its certificate cannot be checked against the database", what, path, len(candidates))
	return nil, false
}

// unreleased returns the records (not CA certificates) that are recorded
// but not released, as a kill left them, and counts them.
func (c *crashHarness) unreleased(what string) map[string]*ca.Record {
	s := c.open()
	defer s.Close()
	recs, err := s.DB.Unreleased(context.Background())
	if err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
	out := map[string]*ca.Record{}
	for _, r := range recs {
		if !r.IsCA() {
			out[r.SerialHex()] = r
		}
	}
	c.fig.unreleased += len(out)
	return out
}

// Resolutions of an unreleased record by doctor --repair.
const (
	resolvedMarked   = "marked released"           // its files were all in place
	resolvedStaged   = "finished from staging"     // its files waited in a staging folder
	resolvedRevoked  = "revoked as never released" // its files were never written
	resolvedLeftover = "leftovers removed"         // never released, and already revoked
)

// checkResolved requires doctor --repair to have resolved every record the
// kill left unreleased, and checks the resolution on disk: a certificate
// kept valid has every file of its bundle in place, its .crt holding it
// (not, say, the certificate it was renewing); one revoked has none of its
// own files left.
func (c *crashHarness) checkResolved(what string, before map[string]*ca.Record, rep doctorJSON) {
	t := c.t
	s := c.open()
	defer s.Close()
	ctx := context.Background()
	left, err := s.DB.Unreleased(ctx)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, r := range left {
		if !r.IsCA() {
			t.Errorf("%s: after doctor --repair, %s (CN %q) is still recorded but not released", what, r.SerialHex(), r.CN)
		}
	}
	for _, serial := range slices.Sorted(maps.Keys(before)) {
		old := before[serial]
		r, err := s.Lookup(ctx, old.Serial)
		if err != nil {
			t.Errorf("%s: unreleased %s is gone from the database after doctor --repair: %v", what, serial, err)
			continue
		}
		if r.ReleasedAt.IsZero() {
			continue // reported above
		}
		staged := slices.ContainsFunc(rep.Findings, func(f doctor.Finding) bool {
			return f.Serial == serial && f.Kind == doctor.KindStagedBundle && f.Repaired
		})
		var how string
		switch {
		case r.Status == "revoked" && old.Status == "revoked":
			how = resolvedLeftover
		case r.Status == "revoked":
			how = resolvedRevoked
		case staged:
			how = resolvedStaged
		default:
			how = resolvedMarked
		}
		c.fig.resolved[how]++
		cert, err := r.Certificate()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, f := range r.Meta.Files {
			certs, err := certfile.ReadCertificates(f)
			own := err == nil && len(certs) > 0 && certs[0].Equal(cert)
			_, serr := os.Lstat(f)
			switch {
			case how == resolvedRevoked || how == resolvedLeftover:
				if own {
					t.Errorf("%s: doctor revoked %s as never released, but %s still holds it", what, serial, f)
				}
			case serr != nil:
				t.Errorf("%s: doctor kept %s (%s) valid, but its file %s is not in place: %v", what, serial, how, f, serr)
			case strings.HasSuffix(f, ".crt") && !own:
				held := "nothing readable"
				if err == nil && len(certs) > 0 {
					held = "certificate " + ca.SerialHex(certs[0].SerialNumber)
				}
				t.Errorf("%s: doctor kept %s (CN %q) valid (%s), but its %s holds %s: the certificate was released without its files, its key is gone",
					what, serial, r.CN, how, f, held)
			}
		}
	}
}

// sortedCounts prints a figure map in a stable order.
func sortedCounts(m map[string]int) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
