// Package testkit holds what the tests of several packages share: copying
// a CA home, and a fast user template. It is imported by tests only.
package testkit

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

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
