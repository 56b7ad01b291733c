package pkifile

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certmint/certmint/internal/keys"
)

// PasswordFunc returns the password of an encrypted file. It is only called
// when a file needs one.
type PasswordFunc func() (string, error)

// Once makes f ask at most once and remember the answer (or the error).
func Once(f PasswordFunc) PasswordFunc {
	if f == nil {
		return nil
	}
	var (
		once sync.Once
		pw   string
		err  error
	)
	return func() (string, error) {
		once.Do(func() { pw, err = f() })
		return pw, err
	}
}

// WrongPasswordError says the password does not open a file.
type WrongPasswordError struct{ What string }

func (e *WrongPasswordError) Error() string {
	return fmt.Sprintf("the password does not open %s", e.What)
}

// NoPasswordError says a file is encrypted and no password source was given.
type NoPasswordError struct{ What string }

func (e *NoPasswordError) Error() string {
	return fmt.Sprintf("%s is encrypted and needs a password", e.What)
}

// PFXContents is a PKCS#12 file opened with its password.
type PFXContents struct {
	*PFX                         // the structure, readable without the password
	Certs    []*x509.Certificate // every certificate, in file order
	Key      crypto.Signer       // nil when the file holds none
	Leaf     int                 // index in Certs of the certificate of Key, -1 if none
	Bags     []Bag               // every bag in file order, with attributes where readable
	Password string              // the password that opened the file ("" for none)
	// Incomplete says what could not be read (go-pkcs12 v0.7.4 reads files
	// with exactly one key, and attributes only through ToPEM), "" when
	// nothing is missing.
	Incomplete string
}

// DecodePFX opens a DER PKCS#12 file. The empty password is tried first
// (files exported without one, and some tools' "no password"), then the
// password from password. maxIterations bounds the KDF work (0: MaxIterations).
//
// Attributes (friendlyName, localKeyId) of bags inside an encrypted safe
// need decryption; go-pkcs12's exported API returns them only through its
// deprecated ToPEM (as PEM headers), which decrypts PBES2 (AES), 3DES and
// RC2 in v0.7.4. When ToPEM cannot read a file (two keys, an Ed25519 key, a
// plain key bag, an attribute it does not know), DecodeChain still gives the
// certificates and the key, without those attributes.
func DecodePFX(der []byte, password PasswordFunc, maxIterations int) (*PFXContents, error) {
	st, err := ParsePFX(der)
	if err != nil {
		return nil, err
	}
	if err := st.CheckCost(maxIterations); err != nil {
		return nil, err
	}
	password = Once(password)
	c := &PFXContents{PFX: st, Leaf: -1}
	blocks, pw, err := open(password, "the PKCS#12 file", func(pw string) ([]*pem.Block, error) {
		var blocks []*pem.Block
		err := guard(func() (err error) { blocks, err = pkcs12.ToPEM(der, pw); return })
		return blocks, err
	})
	switch {
	case err == nil:
		c.Password = pw
		if err := c.fromPEM(blocks); err != nil {
			return nil, err
		}
	case !isFileError(err):
		return nil, err // a wrong password, or the password source failed
	default:
		toPEMErr := err
		type chain struct {
			key  any
			leaf *x509.Certificate
			cas  []*x509.Certificate
		}
		ch, pw, err := open(password, "the PKCS#12 file", func(pw string) (ch chain, err error) {
			err = guard(func() (err error) { ch.key, ch.leaf, ch.cas, err = pkcs12.DecodeChain(der, pw); return })
			return ch, err
		})
		if err != nil && !isFileError(err) {
			return nil, err
		}
		c.Password = pw
		if err != nil {
			c.Incomplete = "the certificates and the key cannot be decoded (" + err.Error() + ")"
			c.Bags = st.plainBags()
			return c, nil
		}
		key, ok := ch.key.(crypto.Signer)
		if !ok {
			return nil, &PFXError{fmt.Sprintf("unsupported private key type %T", ch.key)}
		}
		c.Key = key
		c.Certs = append([]*x509.Certificate{ch.leaf}, ch.cas...)
		c.fromChain()
		for _, s := range st.Safes {
			if s.Encrypted() {
				c.Incomplete = "attributes of encrypted bags are not shown (" + toPEMErr.Error() + ")"
			}
		}
	}
	if c.Key != nil {
		for i, cert := range c.Certs {
			if keys.Match(c.Key, cert.PublicKey) {
				c.Leaf = i
				break
			}
		}
	}
	return c, nil
}

// open runs try with the empty password and then, if that is not it, with
// the password from password.
func open[T any](password PasswordFunc, what string, try func(pw string) (T, error)) (T, string, error) {
	v, err := try("")
	if err == nil || !needsPassword(err) {
		return v, "", err
	}
	if password == nil {
		return v, "", &NoPasswordError{What: what}
	}
	pw, perr := password()
	if perr != nil {
		return v, "", perr
	}
	v, err = try(pw)
	if err != nil && needsPassword(err) {
		return v, pw, &WrongPasswordError{What: what}
	}
	return v, pw, err
}

func needsPassword(err error) bool {
	return errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption)
}

// isFileError tells go-pkcs12's complaints about the file, after which
// another way of reading it is worth trying, from a wrong password and from
// errors of the password source (no terminal, unreadable password file).
func isFileError(err error) bool {
	var ni pkcs12.NotImplementedError
	var ge goPKCS12Error
	return errors.As(err, &ni) || errors.As(err, &ge)
}

// goPKCS12Error marks any other error that came out of go-pkcs12.
type goPKCS12Error struct{ err error }

func (e goPKCS12Error) Error() string { return e.err.Error() }
func (e goPKCS12Error) Unwrap() error { return e.err }

// guard runs a go-pkcs12 call, turning a panic on malformed input into an
// error (crypto/cipher panics on some inputs) and marking its errors.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = goPKCS12Error{fmt.Errorf("pkcs12: malformed file: %v", r)}
		}
	}()
	if err = f(); err != nil && !needsPassword(err) {
		var ni pkcs12.NotImplementedError
		if !errors.As(err, &ni) {
			err = goPKCS12Error{err}
		}
	}
	return err
}

// fromPEM reads ToPEM's blocks: certificates, and keys as PKCS#1 or SEC 1.
func (c *PFXContents) fromPEM(blocks []*pem.Block) error {
	var bags []Bag
	for _, b := range blocks {
		bag := Bag{Safe: -1, CertIndex: -1, FriendlyName: b.Headers["friendlyName"]}
		if id := b.Headers["localKeyId"]; id != "" {
			bag.LocalKeyID, _ = hex.DecodeString(id)
		}
		if v := b.Headers["Microsoft CSP Name"]; v != "" {
			bag.Other = append(bag.Other, "Microsoft CSP Name: "+v)
		}
		switch b.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return &PFXError{fmt.Sprintf("certificate %d: %v", len(c.Certs)+1, err)}
			}
			bag.Type, bag.CertIndex = "certBag", len(c.Certs)
			c.Certs = append(c.Certs, cert)
		case "PRIVATE KEY":
			// Deprecated ToPEM labels PKCS#1 and SEC 1 keys "PRIVATE KEY".
			var key crypto.Signer
			if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
				key = k
			} else if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
				key = k
			} else {
				return &PFXError{"the private key cannot be read: " + err.Error()}
			}
			bag.Type = "pkcs8ShroudedKeyBag"
			if c.Key == nil {
				c.Key = key
			} else {
				c.Incomplete = "the file holds more than one private key; only the first is used"
			}
		}
		bags = append(bags, bag)
	}
	c.Bags = c.align(bags)
	return nil
}

// align gives each decrypted bag its safe, and the shrouding algorithm and
// extra attributes the structure shows, when the split is unambiguous: the
// plaintext safes' bags are known, and at most one safe is encrypted.
func (c *PFXContents) align(bags []Bag) []Bag {
	plain, encrypted := 0, 0
	for _, s := range c.Safes {
		if s.Encrypted() {
			encrypted++
		} else {
			plain += len(s.Bags)
		}
	}
	if encrypted > 1 || plain > len(bags) || (encrypted == 0 && plain != len(bags)) {
		return bags
	}
	out := make([]Bag, len(bags))
	copy(out, bags)
	next := 0
	for i, s := range c.Safes {
		if s.Encrypted() {
			for n := len(bags) - plain; n > 0; n-- {
				out[next].Safe = i
				next++
			}
			continue
		}
		for _, sb := range s.Bags {
			if simpleType(sb.Type) != simpleType(out[next].Type) {
				return bags // not the order we expected: leave unaligned
			}
			out[next].Safe, out[next].Encryption = i, sb.Encryption
			for _, o := range sb.Other {
				if !contains(out[next].Other, o) && !hasPrefix(out[next].Other, o) {
					out[next].Other = append(out[next].Other, o)
				}
			}
			next++
		}
	}
	return out
}

func simpleType(t string) string {
	if t == "pkcs8ShroudedKeyBag" || t == "keyBag" {
		return "key"
	}
	return t
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// hasPrefix reports a "name: value" entry for an attribute listed by name.
func hasPrefix(list []string, name string) bool {
	for _, v := range list {
		if len(v) > len(name) && v[:len(name)] == name && v[len(name)] == ':' {
			return true
		}
	}
	return false
}

// plainBags lists the bags of the plaintext safes.
func (p *PFX) plainBags() []Bag {
	var out []Bag
	for _, s := range p.Safes {
		out = append(out, s.Bags...)
	}
	return out
}

// fromChain lists the bags after DecodeChain, in file order: the plaintext
// ones as the structure shows them, and in place of the encrypted safe one
// bag per certificate found only by decryption.
func (c *PFXContents) fromChain() {
	found := make([]bool, len(c.Certs))
	encSafe := -1
	for i, s := range c.Safes {
		if s.Encrypted() {
			if encSafe >= 0 {
				encSafe = -2 // more than one: which holds what is unknown
				break
			}
			encSafe = i
		}
	}
	var plain []Bag
	for _, s := range c.Safes {
		for _, b := range s.Bags {
			if b.Type == "certBag" {
				for j, cert := range c.Certs {
					if !found[j] && bytes.Equal(b.certDER, cert.Raw) {
						b.CertIndex, found[j] = j, true
						break
					}
				}
			}
			plain = append(plain, b)
		}
	}
	var decrypted []Bag
	safe := max(encSafe, -1)
	for j := range c.Certs {
		if !found[j] {
			decrypted = append(decrypted, Bag{Type: "certBag", Safe: safe, CertIndex: j})
		}
	}
	hasKeyBag := false
	for _, b := range plain {
		if simpleType(b.Type) == "key" {
			hasKeyBag = true
		}
	}
	if !hasKeyBag && c.Key != nil {
		decrypted = append(decrypted, Bag{Type: "key", Safe: safe, CertIndex: -1})
	}
	var bags []Bag
	placed := false
	for i := range c.Safes {
		if i == encSafe {
			bags, placed = append(bags, decrypted...), true
		}
		for _, b := range plain {
			if b.Safe == i {
				bags = append(bags, b)
			}
		}
	}
	if !placed {
		bags = append(bags, decrypted...)
	}
	c.Bags = bags
}
