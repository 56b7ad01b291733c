// Package convert rewrites certificate files from one form into another:
// the conversions of seed 004's table ("Convert existing files to supported
// files": .crt to .pem, .pem to .crt, .pfx to .pem with the equivalents of
// -nodes, -nokeys and -nocerts, .cer to .crt), DER and PEM both ways, a
// certificate with its key and chain into a .pfx (modern or legacy), and a
// .pfx into the separate .crt, .key and -chain.pem files Defender for IoT
// uploads. Inputs are recognised by content (internal/pkifile); outputs are
// written all or nothing (internal/fsutil).
package convert

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certmint/certmint/bundle"
	"github.com/certmint/certmint/internal/fsutil"
	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/internal/keys"
	"github.com/certmint/certmint/internal/pkifile"
	"github.com/certmint/certmint/templates"
)

// Format is an output form (--to).
type Format string

const (
	// PEM: everything the input holds, as PEM (certificates, then the key,
	// unencrypted: openssl pkcs12 -nodes).
	PEM Format = "pem"
	// DER: one object, binary.
	DER Format = "der"
	// CRT: certificates as PEM, the form Defender for IoT wants. From a file
	// with a private key (a .pfx, a combined PEM): BASE.crt (the
	// certificate of the key), BASE.key and BASE-chain.pem.
	CRT Format = "crt"
	// CER: one base64 (PEM) certificate per file, as Windows exports them
	// and macOS Keychain imports them (002).
	CER Format = "cer"
	// PFX: PKCS#12 with the key, its certificate and the chain.
	PFX Format = "pfx"
	// Key: the private key alone, PKCS#8 PEM.
	Key Format = "key"
)

// Formats lists the output forms.
var Formats = []Format{PEM, DER, CRT, CER, PFX, Key}

// ParseFormat reads --to.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "."))
	switch f {
	case "p12":
		return PFX, nil
	case "cert":
		return CRT, nil
	}
	for _, k := range Formats {
		if f == k {
			return f, nil
		}
	}
	return "", &UsageError{Msg: input.Textf("%s: unknown form", input.Quoted(input.To, s)), Hint: input.PlainText("use one of pem, der, crt, cer, pfx, key")}
}

// Options describe one conversion.
type Options struct {
	In  string // the input file
	To  Format
	Out string // a file, or a folder (an existing one, or one ending in a separator); "" writes beside the input

	NoKeys  bool // leave out private keys (openssl pkcs12 -nokeys)
	NoCerts bool // leave out certificates (openssl pkcs12 -nocerts)

	Key          string // --to pfx: the private key file, when In holds none
	Chain        string // --to pfx: CA certificates to include
	Legacy       bool   // --to pfx: 3DES with a SHA-1 MAC (macOS, Windows before 1709)
	FriendlyName string // --to pfx: the friendlyName (default: kept from a .pfx, else the CN)

	Force bool // replace existing files

	// Password opens encrypted input (a .pfx, an encrypted key); it is
	// asked for only when needed.
	Password pkifile.PasswordFunc
	// NewPassword protects a .pfx written; nil reuses the input .pfx's.
	NewPassword pkifile.PasswordFunc
	// MaxIterations bounds the KDF work of encrypted input (0: the default).
	MaxIterations int
	// MakeDir makes Out when it is a folder that does not exist yet, just
	// before files are written into it; nil makes it with os.MkdirAll, mode
	// 0700 (it may receive private keys).
	MakeDir func(dir string) error
}

// UsageError is a combination of options that cannot work. Msg and Hint
// name the options as input.Refs, which the command line writes as its
// flags.
type UsageError struct{ Msg, Hint input.Text }

func (e *UsageError) Error() string { return e.Msg.String() }

// Message is the error's text with its inputs as Refs.
func (e *UsageError) Message() input.Text { return e.Msg }

// usageLine is the hint of a missing option.
var usageLine = input.Textf("certmint convert %s %s", input.Val(input.In, "FILE"), input.Val(input.To, "pem|der|crt|cer|pfx|key"))

// Validate checks the options before any file is read.
func (o Options) Validate() error {
	switch {
	case o.In == "":
		return &UsageError{Msg: input.Textf("%s is required", input.Of(input.In)), Hint: usageLine}
	case o.To == "":
		return &UsageError{Msg: input.Textf("%s is required", input.Of(input.To)), Hint: usageLine}
	case o.NoKeys && o.NoCerts:
		return &UsageError{Msg: input.Textf("%s and %s together leave nothing to write", input.Of(input.NoKeys), input.Of(input.NoCerts))}
	case o.To == PFX && (o.NoKeys || o.NoCerts):
		return &UsageError{Msg: input.Textf("%s and %s do not apply to %s", input.Of(input.NoKeys), input.Of(input.NoCerts), input.Val(input.To, "pfx")),
			Hint: input.PlainText("a .pfx holds the key and its certificate")}
	case o.To != PFX && (o.Key != "" || o.Chain != "" || o.Legacy || o.FriendlyName != ""):
		return &UsageError{Msg: input.Textf("%s, %s, %s and %s only apply to %s", input.Of(input.KeyFile), input.Of(input.Chain), input.Of(input.Legacy),
			input.Of(input.FriendlyName), input.Val(input.To, "pfx"))}
	case (o.To == CER || o.To == CRT) && o.NoCerts:
		return &UsageError{Msg: input.Textf("%s with %s writes no certificate", input.Val(input.To, o.To), input.Of(input.NoCerts)),
			Hint: input.Textf("use %s for the private key alone", input.Val(input.To, "key"))}
	case o.To == Key && o.NoKeys:
		return &UsageError{Msg: input.Textf("%s with %s writes nothing", input.Val(input.To, "key"), input.Of(input.NoKeys))}
	case o.To == CER && o.NoKeys:
		return &UsageError{Msg: input.Textf("%s never writes keys: %s is not needed", input.Val(input.To, "cer"), input.Of(input.NoKeys))}
	}
	if o.Out != "" && strings.HasSuffix(o.Out, string(filepath.Separator)) {
		if st, err := os.Stat(o.Out); err == nil && !st.IsDir() {
			return &UsageError{Msg: input.Textf("%s is not a folder", input.Val(input.Out, o.Out)), Hint: input.PlainText("give a folder, or a file name without the trailing separator")}
		}
	}
	return nil
}

// File is one file convert wrote.
type File struct {
	Path string      `json:"path"`
	What string      `json:"what"` // "certificate", "certificates", "chain", "private key", "pkcs12", "csr", "crl"
	Mode fs.FileMode `json:"-"`
}

// Result says what was written.
type Result struct {
	Files []File
	// Notes are things the user should know (an unencrypted key, a modern
	// .pfx that macOS will not import).
	Notes []input.Text
}

// MismatchError says a private key does not belong to the certificate(s).
type MismatchError struct{ Key, Cert string }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("the private key in %s does not belong to any certificate in %s", e.Key, e.Cert)
}

// HintText implements the CLI's hint interface.
func (e *MismatchError) HintText() string {
	return "pick the key made with this certificate: `certmint inspect` shows a \"Public key SHA-256\" that must be the same for both"
}

// NothingError says the input holds nothing of what was asked. Msg and
// Hint name the options as input.Refs.
type NothingError struct{ Msg, Hint input.Text }

func (e *NothingError) Error() string { return e.Msg.String() }

// Message is the error's text with its inputs as Refs.
func (e *NothingError) Message() input.Text { return e.Msg }

// material is what the inputs hold.
type material struct {
	certs        []*x509.Certificate // leaf first when there is a key
	key          crypto.Signer
	keyPath      string // where the key came from
	leaf         int    // index in certs of the key's certificate, -1
	csrs, crls   [][]byte
	friendlyName string // the leaf's friendlyName in an input .pfx
	password     string // that opened an input .pfx
	fromPFX      bool
}

// Run converts. It validates the options, reads the inputs, builds every
// output file and then writes them all, or none.
func Run(o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	m, err := read(o)
	if err != nil {
		return nil, err
	}
	files, notes, err := build(o, m)
	if err != nil {
		return nil, err
	}
	staged := make([]fsutil.File, len(files))
	for i, f := range files {
		staged[i] = fsutil.File{Path: f.Path, Data: f.data, Mode: f.Mode}
	}
	st, err := fsutil.Stage(staged, o.Force)
	if err != nil {
		return nil, err
	}
	if err := st.Commit(); err != nil {
		return nil, err
	}
	res := &Result{Notes: notes}
	for _, f := range files {
		res.Files = append(res.Files, f.File)
	}
	return res, nil
}

// read loads the input, the --key and the --chain files.
func read(o Options) (*material, error) {
	password := pkifile.Once(o.Password)
	m := &material{leaf: -1}
	if err := m.load(o.In, password, o.MaxIterations, true); err != nil {
		return nil, err
	}
	if o.Key != "" {
		if m.key != nil {
			return nil, &UsageError{Msg: input.Textf("%s already holds a private key; %s is not needed", o.In, input.Of(input.KeyFile))}
		}
		km := &material{leaf: -1}
		if err := km.load(o.Key, password, o.MaxIterations, false); err != nil {
			return nil, err
		}
		if km.key == nil {
			return nil, &NothingError{Msg: input.Textf("%s holds no private key", input.Val(input.KeyFile, o.Key))}
		}
		m.key, m.keyPath = km.key, o.Key
	}
	if o.Chain != "" {
		cm := &material{leaf: -1}
		if err := cm.load(o.Chain, password, o.MaxIterations, false); err != nil {
			return nil, err
		}
		if len(cm.certs) == 0 {
			return nil, &NothingError{Msg: input.Textf("%s holds no certificate", input.Val(input.Chain, o.Chain))}
		}
		for _, c := range cm.certs {
			if !containsCert(m.certs, c) {
				m.certs = append(m.certs, c)
			}
		}
	}
	if m.key != nil && len(m.certs) > 0 {
		m.leaf = -1
		for i, c := range m.certs {
			if keys.Match(m.key, c.PublicKey) {
				m.leaf = i
				break
			}
		}
		if m.leaf >= 0 {
			m.certs = order(m.certs, m.leaf)
			m.leaf = 0
		}
	}
	return m, nil
}

// load reads one file into m.
func (m *material) load(path string, password pkifile.PasswordFunc, maxIter int, main bool) error {
	data, err := pkifile.ReadFile(path, pkifile.MaxSize)
	if err != nil {
		return err
	}
	f, err := pkifile.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, obj := range f.Objects {
		switch obj.Kind {
		case pkifile.KindCertificate:
			c, err := x509.ParseCertificate(obj.DER)
			if err != nil {
				return fmt.Errorf("%s: certificate %d: %w", path, len(m.certs)+1, err)
			}
			m.certs = append(m.certs, c)
		case pkifile.KindKey:
			k, err := pkifile.DecodeKey(obj, password, maxIter)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if m.key != nil {
				return fmt.Errorf("%s holds more than one private key", path)
			}
			m.key, m.keyPath = k.Signer, path
		case pkifile.KindCSR:
			if _, err := x509.ParseCertificateRequest(obj.DER); err != nil {
				return fmt.Errorf("%s: certificate request: %w", path, err)
			}
			m.csrs = append(m.csrs, obj.DER)
		case pkifile.KindCRL:
			if _, err := x509.ParseRevocationList(obj.DER); err != nil {
				return fmt.Errorf("%s: CRL: %w", path, err)
			}
			m.crls = append(m.crls, obj.DER)
		case pkifile.KindPKCS12:
			c, err := pkifile.DecodePFX(obj.DER, password, maxIter)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if len(c.Certs) == 0 {
				return &NothingError{
					Msg:  input.PlainText(fmt.Sprintf("%s: %s", path, c.Incomplete)),
					Hint: input.PlainText("go-pkcs12 reads only a .pfx that holds a private key; for a certificates-only file use: openssl pkcs12 -in FILE -nokeys -out FILE.pem"),
				}
			}
			m.certs, m.key, m.keyPath, m.password, m.fromPFX = c.Certs, c.Key, path, c.Password, true
			for _, b := range c.Bags {
				if b.CertIndex >= 0 && b.CertIndex == c.Leaf && b.FriendlyName != "" {
					m.friendlyName = b.FriendlyName
				}
			}
			if m.friendlyName == "" {
				for _, b := range c.Bags {
					if (b.Type == "pkcs8ShroudedKeyBag" || b.Type == "keyBag") && b.FriendlyName != "" {
						m.friendlyName = b.FriendlyName
					}
				}
			}
		}
	}
	return nil
}

func containsCert(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range list {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// order puts the leaf first, then its issuers as far as they are present
// (issuing CA, then root), then any other certificate in input order.
func order(certs []*x509.Certificate, leaf int) []*x509.Certificate {
	out := []*x509.Certificate{certs[leaf]}
	used := map[int]bool{leaf: true}
	for cur := certs[leaf]; ; {
		next := -1
		for j, c := range certs {
			if !used[j] && signedBy(cur, c) {
				next = j
				break
			}
		}
		if next < 0 || bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		used[next] = true
		out = append(out, certs[next])
		cur = certs[next]
	}
	for j, c := range certs {
		if !used[j] {
			out = append(out, c)
		}
	}
	return out
}

func signedBy(c, issuer *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, issuer.RawSubject) &&
		issuer.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// output is a file to write.
type output struct {
	File
	data []byte
}

// build makes the output files.
func build(o Options, m *material) ([]output, []input.Text, error) {
	if m.key != nil && len(m.certs) > 0 && m.leaf < 0 && (o.To == PFX || o.To == CRT) {
		return nil, nil, &MismatchError{Key: m.keyPath, Cert: certSource(o)}
	}
	switch o.To {
	case PEM:
		return buildPEM(o, m)
	case DER:
		return buildDER(o, m)
	case CRT:
		return buildCRT(o, m)
	case CER:
		return buildCER(o, m)
	case Key:
		if m.key == nil {
			return nil, nil, &NothingError{Msg: input.PlainText(fmt.Sprintf("%s holds no private key", o.In))}
		}
		path, err := target(o, ".key")
		if err != nil {
			return nil, nil, err
		}
		data, err := keyPEM(m.key)
		if err != nil {
			return nil, nil, err
		}
		return []output{{File{path, "private key", fsutil.ModePrivate}, data}}, []input.Text{unencryptedNote(path)}, nil
	case PFX:
		return buildPFX(o, m)
	}
	return nil, nil, &UsageError{Msg: input.Textf("%s: unknown form", input.Quoted(input.To, string(o.To)))}
}

func certSource(o Options) string {
	if o.Chain != "" {
		return o.In + " and " + o.Chain
	}
	return o.In
}

func unencryptedNote(path string) input.Text {
	return input.PlainText(fmt.Sprintf("%s holds the private key unencrypted (mode 0600): keep it off shared folders", path))
}

func certPEM(certs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func keyPEM(k crypto.Signer) ([]byte, error) {
	return keys.MarshalPKCS8PEM(k, "", 0)
}

func buildPEM(o Options, m *material) ([]output, []input.Text, error) {
	var data []byte
	what := []string{}
	mode := fsutil.ModePublic
	var notes []input.Text
	if !o.NoCerts && len(m.certs) > 0 {
		data = append(data, certPEM(m.certs)...)
		what = append(what, plural(len(m.certs), "certificate"))
	}
	if !o.NoKeys && m.key != nil {
		k, err := keyPEM(m.key)
		if err != nil {
			return nil, nil, err
		}
		data = append(data, k...)
		what = append(what, "private key")
		mode = fsutil.ModePrivate
	}
	if !o.NoCerts {
		for _, d := range m.csrs {
			data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: d})...)
			what = append(what, "certificate request")
		}
		for _, d := range m.crls {
			data = append(data, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: d})...)
			what = append(what, "CRL")
		}
	}
	if len(data) == 0 {
		return nil, nil, nothingLeft(o)
	}
	path, err := target(o, ".pem")
	if err != nil {
		return nil, nil, err
	}
	if mode == fsutil.ModePrivate {
		notes = append(notes, unencryptedNote(path))
	}
	return []output{{File{path, strings.Join(what, ", "), mode}, data}}, notes, nil
}

func nothingLeft(o Options) error {
	switch {
	case o.NoCerts:
		return &NothingError{Msg: input.Textf("%s holds no private key, and %s leaves out everything else", o.In, input.Of(input.NoCerts))}
	case o.NoKeys:
		return &NothingError{Msg: input.Textf("%s holds only a private key, and %s leaves it out", o.In, input.Of(input.NoKeys))}
	}
	return &NothingError{Msg: input.PlainText(fmt.Sprintf("%s holds nothing to convert", o.In))}
}

func plural(n int, what string) string {
	if n == 1 {
		return what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func buildDER(o Options, m *material) ([]output, []input.Text, error) {
	var (
		data []byte
		what string
		ext  = ".der"
		mode = fsutil.ModePublic
	)
	var notes []input.Text
	switch {
	case o.NoCerts || (len(m.certs) == 0 && len(m.csrs) == 0 && len(m.crls) == 0):
		if m.key == nil || o.NoKeys {
			return nil, nil, nothingLeft(o)
		}
		der, err := x509.MarshalPKCS8PrivateKey(m.key)
		if err != nil {
			return nil, nil, err
		}
		data, what, mode = der, "private key", fsutil.ModePrivate
	case len(m.certs) > 0:
		if len(m.certs) > 1 && m.leaf < 0 {
			return nil, nil, &NothingError{
				Msg: input.PlainText(fmt.Sprintf("a DER file holds one certificate, and %s holds %d", o.In, len(m.certs))),
				Hint: input.Textf("use %s or %s for all of them, or %s for one file per certificate",
					input.Val(input.To, "pem"), input.Val(input.To, "crt"), input.Val(input.To, "cer")),
			}
		}
		// From a .pfx or a file with a key: the key's certificate.
		data, what = m.certs[0].Raw, "certificate"
		if len(m.certs) > 1 {
			notes = append(notes, input.PlainText(fmt.Sprintf("only the certificate of the private key was written; the other %d are left out", len(m.certs)-1)))
		}
		if m.key != nil && !o.NoKeys {
			notes = append(notes, input.Textf("the private key was left out: a DER file holds one object (use %s or %s for it)", input.Val(input.To, "key"), input.Val(input.To, "crt")))
		}
	case len(m.csrs)+len(m.crls) > 1:
		return nil, nil, &NothingError{Msg: input.PlainText(fmt.Sprintf("a DER file holds one object, and %s holds %d", o.In, len(m.csrs)+len(m.crls))),
			Hint: input.Textf("use %s", input.Val(input.To, "pem"))}
	case len(m.csrs) == 1:
		data, what = m.csrs[0], "certificate request"
	default:
		data, what, ext = m.crls[0], "CRL", ".crl" // CDPs name DER .crl files
	}
	path, err := target(o, ext)
	if err != nil {
		return nil, nil, err
	}
	return []output{{File{path, what, mode}, data}}, notes, nil
}

func buildCRT(o Options, m *material) ([]output, []input.Text, error) {
	if len(m.certs) == 0 {
		return nil, nil, &NothingError{Msg: input.PlainText(fmt.Sprintf("%s holds no certificate", o.In))}
	}
	if m.key == nil {
		path, err := target(o, ".crt")
		if err != nil {
			return nil, nil, err
		}
		return []output{{File{path, plural(len(m.certs), "certificate"), fsutil.ModePublic}, certPEM(m.certs)}}, nil, nil
	}
	// A key with its certificate (a .pfx, a combined PEM): the files
	// Defender for IoT uploads, 004: "each CA-signed certificate contains a
	// .key file and a .crt file", plus "a .pem file containing the
	// certificates of all the certificate authorities in the chain".
	crtPath, err := target(o, ".crt")
	if err != nil {
		return nil, nil, err
	}
	if filepath.Ext(crtPath) == "" {
		crtPath += ".crt"
	}
	base := strings.TrimSuffix(crtPath, filepath.Ext(crtPath))
	out := []output{{File{crtPath, "certificate", fsutil.ModePublic}, certPEM(m.certs[:1])}}
	var notes []input.Text
	if !o.NoKeys {
		k, err := keyPEM(m.key)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, output{File{base + ".key", "private key", fsutil.ModePrivate}, k})
		notes = append(notes, unencryptedNote(base+".key"))
	}
	if len(m.certs) > 1 {
		out = append(out, output{File{base + "-chain.pem", "chain: " + plural(len(m.certs)-1, "certificate"), fsutil.ModePublic}, certPEM(m.certs[1:])})
	}
	return out, notes, nil
}

func buildCER(o Options, m *material) ([]output, []input.Text, error) {
	if len(m.certs) == 0 {
		return nil, nil, &NothingError{Msg: input.PlainText(fmt.Sprintf("%s holds no certificate", o.In))}
	}
	if len(m.certs) == 1 {
		path, err := target(o, ".cer")
		if err != nil {
			return nil, nil, err
		}
		return []output{{File{path, "certificate", fsutil.ModePublic}, certPEM(m.certs)}}, nil, nil
	}
	// 002: CA certificates "must be exported individually because when
	// presented with a bundle of certificates the Keychain Access UI only
	// imports the last one it encounters". One file per certificate, named
	// after its CN.
	dir, err := outDir(o, input.Textf("%s writes one file per certificate", input.Val(input.To, "cer")))
	if err != nil {
		return nil, nil, err
	}
	var out []output
	used := map[string]bool{}
	for _, c := range m.certs {
		name := fsutil.SafeName(c.Subject.CommonName)
		if c.Subject.CommonName == "" {
			name = "certificate"
		}
		unique := name
		for n := 2; used[strings.ToLower(unique)]; n++ {
			unique = fmt.Sprintf("%s-%d", name, n)
		}
		used[strings.ToLower(unique)] = true
		out = append(out, output{File{filepath.Join(dir, unique+".cer"), "certificate: " + c.Subject.CommonName, fsutil.ModePublic}, certPEM([]*x509.Certificate{c})})
	}
	return out, nil, nil
}

func buildPFX(o Options, m *material) ([]output, []input.Text, error) {
	if m.key == nil {
		return nil, nil, &NothingError{
			Msg:  input.PlainText(fmt.Sprintf("%s holds no private key, and a .pfx needs one", o.In)),
			Hint: input.Textf("give the key with %s", input.Val(input.KeyFile, "FILE")),
		}
	}
	if len(m.certs) == 0 {
		return nil, nil, &NothingError{Msg: input.PlainText(fmt.Sprintf("%s holds no certificate", o.In)),
			Hint: input.Textf("give the certificate with %s and the key with %s", input.Val(input.In, "FILE"), input.Val(input.KeyFile, "FILE"))}
	}
	path, err := target(o, ".pfx")
	if err != nil {
		return nil, nil, err
	}
	// Check the target before asking for a new password.
	if err := fsutil.CheckTargets([]fsutil.File{{Path: path}}, o.Force); err != nil {
		return nil, nil, err
	}
	password := m.password
	if o.NewPassword != nil {
		if password, err = o.NewPassword(); err != nil {
			return nil, nil, err
		}
	}
	if password == "" {
		return nil, nil, errors.New("no password for the .pfx")
	}
	name := o.FriendlyName
	if name == "" {
		name = m.friendlyName
	}
	if name == "" {
		name = m.certs[0].Subject.CommonName
	}
	var chain []bundle.CA
	for _, c := range m.certs[1:] {
		chain = append(chain, bundle.CA{Cert: c})
	}
	enc := templates.PFXModern
	var notes []input.Text
	if o.Legacy {
		enc = templates.PFXLegacy
	} else {
		notes = append(notes, input.Textf("modern encryption (AES-256, SHA-256 MAC): macOS Keychain and Windows before 1709 cannot import it; add %s for them", input.Of(input.Legacy)))
	}
	data, err := bundle.PFX(m.key, m.certs[0], chain, password, enc, name)
	if err != nil {
		return nil, nil, err
	}
	return []output{{File{path, fmt.Sprintf("pkcs12: key, certificate and %s", plural(len(chain), "CA certificate")), fsutil.ModePrivate}, data}}, notes, nil
}

// stem is the input's name without its extensions: "sensor.crt" and
// "sensor.crl.pem" give "sensor".
func stem(in string) string {
	base := filepath.Base(in)
	for i := 0; i < 2; i++ {
		ext := filepath.Ext(base)
		switch strings.ToLower(ext) {
		case ".pem", ".crt", ".cer", ".der", ".pfx", ".p12", ".key", ".csr", ".crl", ".txt":
			base = strings.TrimSuffix(base, ext)
		default:
			return orDefault(base)
		}
	}
	return orDefault(base)
}

func orDefault(s string) string {
	if s == "" || s == "." {
		return "converted"
	}
	return s
}

// target is the path of the one output file with extension ext: --out
// itself, or the input's stem in --out (a folder) or beside the input.
func target(o Options, ext string) (string, error) {
	if o.Out != "" {
		if strings.HasSuffix(o.Out, string(filepath.Separator)) {
			if err := makeOut(o); err != nil {
				return "", err
			}
			return filepath.Join(o.Out, stem(o.In)+ext), nil
		}
		if st, err := os.Stat(o.Out); err == nil && st.IsDir() {
			return filepath.Join(o.Out, stem(o.In)+ext), nil
		}
		// A file in a folder that does not exist yet: the folder is made,
		// as issue's --out is.
		return o.Out, makeDir(o, filepath.Dir(o.Out))
	}
	return filepath.Join(filepath.Dir(o.In), stem(o.In)+ext), nil
}

// outDir is the folder of a conversion that writes several files named
// after their content.
func outDir(o Options, why input.Text) (string, error) {
	if o.Out == "" {
		return filepath.Dir(o.In), nil
	}
	if st, err := os.Stat(o.Out); err == nil && st.IsDir() {
		return o.Out, nil
	}
	// A missing --out is a file unless it ends in a separator: "x.cer"
	// must not become a folder.
	if strings.HasSuffix(o.Out, string(filepath.Separator)) {
		return o.Out, makeOut(o)
	}
	return "", &UsageError{Msg: input.Textf("%s: %s must be an existing folder, or end with %c to be made", why, input.Of(input.Out), filepath.Separator),
		Hint: input.Textf("give %s", input.Val(input.Out, "DIR"+string(filepath.Separator)))}
}

// makeOut makes the folder Out when it does not exist.
func makeOut(o Options) error { return makeDir(o, o.Out) }

// makeDir makes the folder dir when it does not exist.
func makeDir(o Options, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if o.MakeDir != nil {
		return o.MakeDir(dir)
	}
	return os.MkdirAll(dir, 0o700)
}
