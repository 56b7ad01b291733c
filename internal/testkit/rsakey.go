package testkit

import (
	"crypto/rand"
	"crypto/rsa"
	"math/big"
)

// RSAKeyExponent3 makes a 2048-bit RSA key with public exponent 3, which
// crypto/rsa's GenerateKey never does (it always uses 65537): the key of
// the requests `certmint sign` must refuse.
func RSAKeyExponent3() (*rsa.PrivateKey, error) {
	e := big.NewInt(3)
	prime := func() (*big.Int, error) {
		for {
			p, err := rand.Prime(rand.Reader, 1024)
			if err != nil {
				return nil, err
			}
			// gcd(3, p-1) = 1: p is 2 modulo 3.
			if new(big.Int).Mod(p, e).Int64() == 2 {
				return p, nil
			}
		}
	}
	for {
		p, err := prime()
		if err != nil {
			return nil, err
		}
		q, err := prime()
		if err != nil {
			return nil, err
		}
		n := new(big.Int).Mul(p, q)
		if p.Cmp(q) == 0 || n.BitLen() != 2048 {
			continue
		}
		one := big.NewInt(1)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 3}, D: new(big.Int).ModInverse(e, phi), Primes: []*big.Int{p, q}}
		k.Precompute()
		return k, k.Validate()
	}
}
