package bundle

import (
	"fmt"
	"path/filepath"

	"github.com/certmint/certmint/internal/fsutil"
)

// ChainFile is the name of the CA chain `certmint export-ca` writes.
const ChainFile = "ca-chain.pem"

// ExportedFile is one file of a CA export.
type ExportedFile struct {
	Path    string `json:"path"`
	CA      string `json:"ca"`      // the slug, "" for the chain
	Format  string `json:"format"`  // "cer (PEM)", "crt (DER)", "chain (PEM)"
	Written bool   `json:"written"` // false: an identical file was already there
}

// CAFiles returns the files of a CA export into dir, for chain (issuing CA
// first, root last): <slug>.cer, one base64 (PEM) certificate per CA, as
// macOS Keychain imports them one at a time (002: "They must be exported
// individually ... using base-64 encoded X.509 format"); <slug>.crt, DER, as
// public/ serves them and Windows opens them; and ca-chain.pem, issuing CA
// then root. Identical existing files count as written (Shared).
func CAFiles(dir string, chain []CA) ([]fsutil.File, []ExportedFile) {
	var files []fsutil.File
	var info []ExportedFile
	add := func(name, slug, format string, data []byte) {
		p := filepath.Join(dir, name)
		files = append(files, fsutil.File{Path: p, Data: data, Mode: fsutil.ModePublic, Shared: true})
		info = append(info, ExportedFile{Path: p, CA: slug, Format: format})
	}
	var all []byte
	for _, ca := range chain {
		add(ca.Slug+".cer", ca.Slug, "cer (PEM)", CertPEM(ca.Cert))
		add(ca.Slug+".crt", ca.Slug, "crt (DER)", ca.Cert.Raw)
		all = append(all, CertPEM(ca.Cert)...)
	}
	add(ChainFile, "", "chain (PEM)", all)
	return files, info
}

// ExportCA writes CAFiles into dir, all or none. Without force an existing
// file with other content is an error; an identical one is left as it is.
func ExportCA(dir string, chain []CA, force bool) ([]ExportedFile, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("bundle: no CA certificate to export")
	}
	files, info := CAFiles(dir, chain)
	st, err := fsutil.Stage(files, force)
	if err != nil {
		return nil, err
	}
	if err := st.Commit(); err != nil {
		return nil, err
	}
	written := map[string]bool{}
	for _, p := range st.Paths() {
		written[p] = true
	}
	for i := range info {
		info[i].Written = written[info[i].Path]
	}
	return info, nil
}
