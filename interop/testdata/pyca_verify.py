#!/usr/bin/env python3
"""Verify one certificate chain with pyca/cryptography's RFC 5280 verifier.

usage: pyca_verify.py ROOTS INTERMEDIATES LEAF server NAME
       pyca_verify.py ROOTS INTERMEDIATES LEAF client
       pyca_verify.py ROOTS INTERMEDIATES LEAF signing OID|none

ROOTS, INTERMEDIATES and LEAF are PEM files; INTERMEDIATES may be "-" for
none. NAME is a DNS name or an IP address. Prints one JSON line:
{"verified": true, "chain": [{"subject": ..., "sha256": ...}, ...]} (leaf
first, then the intermediates used, then the root) and exits 0, or
{"verified": false, "error": ...} and exits 1. Exits 2, with a message on
stderr, when it cannot run: bad arguments or files, or a cryptography older
than 44.0, which brought ExtensionPolicy.

Written by hand for certmint's interop tests (interop/validators_test.go).
"""

import hashlib
import ipaddress
import json
import sys

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.verification import (
        Criticality,
        ExtensionPolicy,
        PolicyBuilder,
        Store,
        VerificationError,
    )
except ImportError as e:
    print(f"pyca_verify.py: {e} (cryptography 44.0 or later is needed)", file=sys.stderr)
    sys.exit(2)


def load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificates(f.read())


def signing_policy(oid):
    """The EE policy for signing certificates, which pyca's two profiles
    (TLS server, TLS client) do not cover: its CA/B Forum defaults, except
    that the subjectAltName may be absent (a code signer names a publisher,
    not a host) and the extended key usage must name oid, or, for "none",
    must be absent (RFC 5280 4.2.1.12: no EKU, any purpose).
    """
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    if oid == "none":
        return ee.require_not_present(x509.ExtendedKeyUsage)
    want = x509.ObjectIdentifier(oid)

    def has_purpose(policy, cert, eku):
        if want not in eku:
            raise ValueError(f"extended key usage {[u.dotted_string for u in eku]} lacks {oid}")

    return ee.require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, has_purpose)


def verifier(mode, args, builder):
    """verifier returns a function of (leaf, intermediates) that returns the
    verified chain or raises VerificationError."""
    if mode == "server":
        try:
            subject = x509.IPAddress(ipaddress.ip_address(args[0]))
        except ValueError:
            subject = x509.DNSName(args[0])
        return builder.build_server_verifier(subject).verify
    if mode == "signing":
        builder = builder.extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=signing_policy(args[0])
        )
    client = builder.build_client_verifier()
    return lambda leaf, intermediates: client.verify(leaf, intermediates).chain


def main(argv):
    if len(argv) < 5 or (argv[4], len(argv)) not in {("server", 6), ("client", 5), ("signing", 6)}:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        roots, leaf = load(argv[1]), load(argv[3])
        intermediates = [] if argv[2] == "-" else load(argv[2])
        if len(leaf) != 1:
            raise ValueError(f"{argv[3]}: {len(leaf)} certificates, want 1")
        verify = verifier(argv[4], argv[5:], PolicyBuilder().store(Store(roots)))
    except (OSError, ValueError) as e:
        print(f"pyca_verify.py: {e}", file=sys.stderr)
        return 2
    try:
        chain = verify(leaf[0], intermediates)
    except VerificationError as e:
        print(json.dumps({"verified": False, "error": str(e)}))
        return 1
    print(json.dumps({"verified": True, "chain": [
        {"subject": c.subject.rfc4514_string(), "sha256": hashlib.sha256(c.public_bytes(Encoding.DER)).hexdigest()}
        for c in chain
    ]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
