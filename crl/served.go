package crl

import (
	"io/fs"
	"os"
)

// ScanCerts is Scan without the CRLs: the certificates of a public folder
// in page order, their Kind set and CRL left empty. The metrics endpoint
// lists the CAs with it and reads their CRLs itself, parsing one again
// only when its file changed (a CRL of 10,000 entries takes ~10 ms to
// parse).
func ScanCerts(dir string) ([]*CAInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return scanCerts(root)
}

// ReadServed reads the file name of the folder root exactly as the
// Handler serves it: a regular file of at most 64 MiB, reached through
// links only while they stay inside the folder. Anything else is an
// error, answered 404 by the Handler.
func ReadServed(root *os.Root, name string) ([]byte, fs.FileInfo, error) {
	if !fileNameRe.MatchString(name) {
		return nil, nil, fs.ErrNotExist
	}
	return readServed(root, name)
}
