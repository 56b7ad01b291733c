// Package keys generates private keys and reads and writes them as PKCS#8,
// encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) through
// github.com/youmark/pkcs8, which OpenSSL reads and writes too.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/youmark/pkcs8"
)

// Spec names a key: "rsa:2048", "rsa:4096", "ecdsa:P-256", "ecdsa:P-384".
type Spec struct {
	Type  string // "rsa" or "ecdsa"
	Bits  int    // RSA
	Curve string // ECDSA: "P-256" or "P-384"
}

func (s Spec) String() string {
	switch s.Type {
	case "ecdsa":
		return "ecdsa:" + s.Curve
	case "rsa":
		return fmt.Sprintf("rsa:%d", s.Bits)
	}
	return s.Type // "ed25519" from Describe
}

// ParseSpec reads "rsa:4096", "rsa" (2048), "ecdsa:P-256", "ecdsa" (P-256),
// "p256", "p384".
func ParseSpec(s string) (Spec, error) {
	t, arg, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	switch t {
	case "rsa":
		if arg == "" {
			return Spec{Type: "rsa", Bits: 2048}, nil
		}
		bits, err := strconv.Atoi(arg)
		if err != nil || (bits != 2048 && bits != 3072 && bits != 4096) {
			return Spec{}, fmt.Errorf("key %q: RSA size must be 2048, 3072 or 4096", s)
		}
		return Spec{Type: "rsa", Bits: bits}, nil
	case "ecdsa", "ec":
		switch arg {
		case "", "p-256", "p256", "prime256v1":
			return Spec{Type: "ecdsa", Curve: "P-256"}, nil
		case "p-384", "p384", "secp384r1":
			return Spec{Type: "ecdsa", Curve: "P-384"}, nil
		}
		return Spec{}, fmt.Errorf("key %q: ECDSA curve must be P-256 or P-384", s)
	case "p256", "p-256":
		return Spec{Type: "ecdsa", Curve: "P-256"}, nil
	case "p384", "p-384":
		return Spec{Type: "ecdsa", Curve: "P-384"}, nil
	}
	return Spec{}, fmt.Errorf("key %q: use rsa:2048, rsa:3072, rsa:4096, ecdsa:P-256 or ecdsa:P-384", s)
}

// Generate makes a new key.
func Generate(s Spec) (crypto.Signer, error) {
	switch s.Type {
	case "rsa":
		if s.Bits < 2048 {
			return nil, fmt.Errorf("RSA keys shorter than 2048 bits are refused")
		}
		return rsa.GenerateKey(rand.Reader, s.Bits)
	case "ecdsa":
		switch s.Curve {
		case "P-256":
			return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case "P-384":
			return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		}
		return nil, fmt.Errorf("unsupported curve %q", s.Curve)
	}
	return nil, fmt.Errorf("unsupported key type %q", s.Type)
}

// Describe returns the spec of an existing public or private key.
func Describe(k any) (Spec, error) {
	if s, ok := k.(crypto.Signer); ok {
		k = s.Public()
	}
	switch pub := k.(type) {
	case *rsa.PublicKey:
		return Spec{Type: "rsa", Bits: pub.N.BitLen()}, nil
	case *ecdsa.PublicKey:
		return Spec{Type: "ecdsa", Curve: pub.Curve.Params().Name}, nil
	case ed25519.PublicKey:
		return Spec{Type: "ed25519"}, nil
	}
	return Spec{}, fmt.Errorf("unsupported key type %T", k)
}

// KDF strengths. A CA key is unlocked once per command, so it gets a slow
// KDF (OWASP 2023: 600,000 PBKDF2-HMAC-SHA256 iterations). A bundle key is
// typed into devices and batch writes thousands of them, so it gets fewer;
// its password is random or chosen by the administrator.
const (
	CAIterations     = 600_000
	BundleIterations = 100_000
)

// MarshalPKCS8PEM encodes key as PEM PKCS#8, encrypted when password is not
// empty ("ENCRYPTED PRIVATE KEY") and plain otherwise ("PRIVATE KEY").
func MarshalPKCS8PEM(key crypto.Signer, password string, iterations int) ([]byte, error) {
	if password == "" {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := pkcs8.MarshalPrivateKey(key, []byte(password), &pkcs8.Opts{
		Cipher: pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{
			SaltSize: 16, IterationCount: iterations, HMACHash: crypto.SHA256,
		},
	})
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

// ErrWrongPassword means the key is encrypted and the password does not
// decrypt it.
var ErrWrongPassword = errors.New("the password does not decrypt the private key")

// ErrNeedPassword means the key is encrypted and no password was given.
var ErrNeedPassword = errors.New("the private key is encrypted and needs a password")

// ParsePEM reads a private key in PEM: PKCS#8 (plain or encrypted), PKCS#1
// RSA or SEC 1 EC.
func ParsePEM(data []byte, password string) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			if password == "" {
				return nil, ErrNeedPassword
			}
			k, err := parseEncrypted(block.Bytes, password)
			if err != nil {
				if strings.Contains(err.Error(), "incorrect password") {
					return nil, ErrWrongPassword
				}
				return nil, fmt.Errorf("reading encrypted key: %w", err)
			}
			return asSigner(k)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("reading PKCS#8 key: %w", err)
			}
			return asSigner(k)
		case "RSA PRIVATE KEY":
			if _, enc := block.Headers["DEK-Info"]; enc {
				return nil, errors.New("legacy PEM encryption (Proc-Type/DEK-Info) is not supported: convert with `openssl pkcs8 -topk8`")
			}
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("reading PKCS#1 RSA key: %w", err)
			}
			return k, nil
		case "EC PRIVATE KEY":
			if _, enc := block.Headers["DEK-Info"]; enc {
				return nil, errors.New("legacy PEM encryption (Proc-Type/DEK-Info) is not supported: convert with `openssl pkcs8 -topk8`")
			}
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("reading SEC 1 EC key: %w", err)
			}
			return k, nil
		}
		// Skip other blocks (EC PARAMETERS, certificates) and keep looking.
	}
}

// parseEncrypted decrypts PKCS#8. github.com/youmark/pkcs8 panics on some
// malformed input (a ciphertext that is not whole blocks, an IV of the wrong
// length: crypto/cipher panics), and a damaged key file must be an error.
func parseEncrypted(der []byte, password string) (k any, err error) {
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, fmt.Errorf("malformed encrypted key: %v", r)
		}
	}()
	k, _, err = pkcs8.ParsePrivateKey(der, []byte(password))
	return k, err
}

func asSigner(k any) (crypto.Signer, error) {
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", k)
	}
	return s, nil
}

// Match reports whether a private key belongs to a public key.
func Match(priv crypto.Signer, pub crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := priv.Public().(equaler)
	return ok && e.Equal(pub)
}
