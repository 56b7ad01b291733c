// Package interop holds certmint's interoperability tests: they build the
// real certmint binary, run it as a user would (certmint init, certmint issue
// --template NAME --example for every built-in template), and hand the files
// it writes to tools nobody here wrote: OpenSSL 3 (verify, x509, pkcs12,
// pkey, rsa, crl, s_client, s_server), Java's keytool, and Go's crypto/tls.
// TestValidators also has every chain validated by GnuTLS certtool, NSS
// certutil and pyca/cryptography's verifier (testdata/pyca_verify.py); each
// skips when missing unless CERTMINT_REQUIRE_GNUTLS, _NSS or _PYCA is 1.
//
// The package has only tests. openssl and keytool are looked up in PATH; a
// missing tool skips the tests that need it, unless CERTMINT_REQUIRE_INTEROP=1
// (set in CI), which turns the skip into a failure. With -short the whole
// package is skipped unless CERTMINT_REQUIRE_INTEROP=1.
//
//	go test ./interop -v -count=1
package interop
