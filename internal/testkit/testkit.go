// Package testkit holds what the tests of several packages share: copying
// a CA home, a fast user template, finding an external tool, and a huge
// sparse file. It is imported by tests only.
package testkit

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireInteropEnv makes a missing external tool a failure instead of a
// skip; .ci/run sets it to 1.
const RequireInteropEnv = "CERTMINT_REQUIRE_INTEROP"

// toolPackages names the Debian package of each external tool, for the hint.
var toolPackages = map[string]string{"openssl": "openssl", "keytool": "default-jre-headless", "bash": "bash", "ocsptool": "gnutls-bin"}

// RequireTool returns the path of an external tool such as openssl, or
// skips the test (fails it when CERTMINT_REQUIRE_INTEROP=1).
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	pkg := toolPackages[name]
	if pkg == "" {
		pkg = name
	}
	if os.Getenv(RequireInteropEnv) == "1" {
		t.Fatalf("%s is not in PATH and %s=1: install it (Debian: apt-get install %s)", name, RequireInteropEnv, pkg)
	}
	t.Skipf("%s is not in PATH: skipping this interop test (Debian: apt-get install %s; set %s=1 to make this a failure)", name, pkg, RequireInteropEnv)
	return ""
}

// SparseFile creates dir/name of size bytes that takes no room on disk: a
// file too large to read, which must be refused from its size alone.
func SparseFile(t testing.TB, dir, name string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}

// CopyDir copies the tree at src to dst (which must not exist), keeping
// file and folder modes: a copy of a CA home, or another host's copy.
func CopyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

// ECDSAClientTemplate is the TOML of a user template like the built-in
// client one (clientAuth, digitalSignature, HTTP CDP and AIA, the CN copied
// into the SAN) but with ECDSA P-256 keys, which cost a fraction of a
// millisecond: tests that issue many certificates measure certmint, not RSA
// key generation. formats are the files it writes.
func ECDSAClientTemplate(name string, formats ...string) string {
	quoted := make([]string, len(formats))
	for i, f := range formats {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	return `name = "` + name + `"
description = "client certificates with ECDSA P-256 keys, for tests"

[key]
type = "ecdsa"
curve = "P-256"

[validity]
days = 30
backdate = "1h"

[usage]
key_usage = ["digitalSignature"]
ext_key_usage = ["clientAuth"]

[san]
allow_dns = true
allow_ip = true
cn_in_san = true

[revocation]
crl_distribution_point = true
aia = true

[output]
formats = [` + strings.Join(quoted, ", ") + `]
`
}
