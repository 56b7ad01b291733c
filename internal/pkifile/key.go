package pkifile

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certmint/certmint/internal/keys"
)

// Key formats.
const (
	FormatPKCS8          = "PKCS#8"
	FormatEncryptedPKCS8 = "PKCS#8, encrypted"
	FormatPKCS1          = "PKCS#1"
	FormatSEC1           = "SEC 1"
)

// Key is a private key read from a file.
type Key struct {
	Signer     crypto.Signer
	Format     string     // one of the Format constants
	Encrypted  bool       // encrypted PKCS#8
	Encryption *Algorithm // how it is encrypted
}

// KeyFormat tells the format of a key object from its PEM label or, for
// DER, its ASN.1 shape.
func KeyFormat(o Object) string {
	switch o.PEMType {
	case "ENCRYPTED PRIVATE KEY":
		return FormatEncryptedPKCS8
	case "PRIVATE KEY":
		return FormatPKCS8
	case "RSA PRIVATE KEY":
		return FormatPKCS1
	case "EC PRIVATE KEY":
		return FormatSEC1
	}
	s := cryptobyte.String(o.DER)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return FormatPKCS8
	}
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		return FormatEncryptedPKCS8
	}
	seq.SkipASN1(cbasn1.INTEGER)
	switch {
	case seq.PeekASN1Tag(cbasn1.INTEGER):
		return FormatPKCS1
	case seq.PeekASN1Tag(cbasn1.OCTET_STRING):
		return FormatSEC1
	}
	return FormatPKCS8
}

// KeyError is a key that cannot be read.
type KeyError struct {
	Detail string
	Hint   string
}

func (e *KeyError) Error() string    { return "private key: " + e.Detail }
func (e *KeyError) HintText() string { return e.Hint }

// DecodeKey reads a key object, asking for the password only when the key
// is encrypted. maxIterations bounds the KDF work (0: MaxIterations).
func DecodeKey(o Object, password PasswordFunc, maxIterations int) (*Key, error) {
	k := &Key{Format: KeyFormat(o)}
	var err error
	switch k.Format {
	case FormatEncryptedPKCS8:
		k.Encrypted = true
		var info encryptedPrivateKeyInfo
		if err := unmarshalAll(o.DER, &info); err != nil {
			return nil, &KeyError{Detail: "malformed encrypted PKCS#8: " + err.Error()}
		}
		a, err := describeEncryption(info.Algorithm)
		if err != nil {
			return nil, &KeyError{Detail: err.Error()}
		}
		k.Encryption = &a
		if err := a.CheckCost(maxIterations); err != nil {
			return nil, &KeyError{Detail: err.Error()}
		}
		if password == nil {
			return nil, &NoPasswordError{What: "the private key"}
		}
		pw, err := password()
		if err != nil {
			return nil, err
		}
		k.Signer, err = keys.ParsePEM(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: o.DER}), pw)
		switch {
		case errors.Is(err, keys.ErrWrongPassword), errors.Is(err, keys.ErrNeedPassword):
			return nil, &WrongPasswordError{What: "the private key"}
		case err != nil:
			return nil, &KeyError{Detail: err.Error()}
		}
		return k, nil
	case FormatPKCS1:
		if _, enc := o.Headers["DEK-Info"]; enc {
			return nil, legacyPEMError(o)
		}
		k.Signer, err = x509.ParsePKCS1PrivateKey(o.DER)
	case FormatSEC1:
		if _, enc := o.Headers["DEK-Info"]; enc {
			return nil, legacyPEMError(o)
		}
		k.Signer, err = x509.ParseECPrivateKey(o.DER)
	default:
		var key any
		if key, err = x509.ParsePKCS8PrivateKey(o.DER); err == nil {
			s, ok := key.(crypto.Signer)
			if !ok {
				return nil, &KeyError{Detail: fmt.Sprintf("unsupported key type %T", key)}
			}
			k.Signer = s
		}
	}
	if err != nil {
		return nil, &KeyError{Detail: fmt.Sprintf("%s: %v", k.Format, err)}
	}
	return k, nil
}

func legacyPEMError(o Object) error {
	return &KeyError{
		Detail: fmt.Sprintf("encrypted with the legacy PEM encryption (DEK-Info: %s), which is not supported", o.Headers["DEK-Info"]),
		Hint:   "convert it to encrypted PKCS#8: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.key -out NEW.key",
	}
}
