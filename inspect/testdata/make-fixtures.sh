#!/bin/sh
# make-fixtures.sh: the certificates, keys, requests, CRL and PKCS#12 files that
# inspect's and convert's tests read. They are made with openssl, not with
# certmint, so the tests check certmint against an independent implementation.
#
# Run from anywhere: sh inspect/testdata/make-fixtures.sh
# Then regenerate the goldens: go test ./inspect -run Golden -update
#
# Dates are fixed (openssl ca -startdate/-enddate, -crl_lastupdate/-crl_nextupdate)
# so the goldens only change when keys do; the tests pass a fixed "now"
# (2027-01-01) to inspect. Tested with OpenSSL 3.0.
set -eu

cd "$(dirname "$0")"
OUT=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PW=fixture-pw

rm -f "$OUT"/*.crt "$OUT"/*.der "$OUT"/*.cer "$OUT"/*.pem "$OUT"/*.key "$OUT"/*.csr "$OUT"/*.crl "$OUT"/*.pfx "$OUT"/*.p12

mkdir "$WORK/newcerts"
: > "$WORK/index.txt"
echo 2A > "$WORK/crlnumber"
cat > "$WORK/ca.cnf" <<CNF
[ ca ]
default_ca = fixture

[ fixture ]
dir = $WORK
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none

[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
[ req_dn ]

[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_issuing ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://pki.fixture.test/fixture-root-ca.crl
authorityInfoAccess = caIssuers;URI:http://pki.fixture.test/fixture-root-ca.crt

[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:sensor.fixture.test, DNS:*.sensor.fixture.test, IP:10.0.0.5, IP:2001:db8::5, email:pki@fixture.test, URI:https://sensor.fixture.test/, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:sensor@fixture.test
crlDistributionPoints = URI:http://pki.fixture.test/fixture-issuing-ca.crl
authorityInfoAccess = caIssuers;URI:http://pki.fixture.test/fixture-issuing-ca.crt, OCSP;URI:http://ocsp.fixture.test
certificatePolicies = 1.3.6.1.4.1.55555.1.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ v3_client ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:mac-01
crlDistributionPoints = URI:http://pki.fixture.test/fixture-issuing-ca.crl
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF

ca() { openssl ca -batch -notext -config "$WORK/ca.cnf" -rand_serial "$@" 2>/dev/null; }

# Keys: EC P-384 root, RSA issuing and server, EC P-256 client, Ed25519.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$WORK/root.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/issuing.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/server.key" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -out "$OUT/client-sec1.key"
openssl genpkey -algorithm ed25519 -out "$OUT/ed25519.key" 2>/dev/null
openssl rsa -in "$OUT/server.key" -traditional -out "$OUT/server-pkcs1.key" 2>/dev/null
openssl pkcs8 -topk8 -in "$OUT/server.key" -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:$PW -out "$OUT/server-encrypted.key"
openssl pkey -in "$OUT/server.key" -outform DER -out "$OUT/server-key.der"

# Root and issuing CA.
openssl req -new -key "$WORK/root.key" -subj "/C=US/O=Fixture Inc./CN=Fixture Root CA" -config "$WORK/ca.cnf" -out "$WORK/root.csr"
ca -selfsign -keyfile "$WORK/root.key" -in "$WORK/root.csr" -extensions v3_root \
	-startdate 20250101000000Z -enddate 20450101000000Z -out "$WORK/root.crt"
openssl req -new -key "$WORK/issuing.key" -subj "/C=US/O=Fixture Inc./CN=Fixture Issuing CA" -config "$WORK/ca.cnf" -out "$WORK/issuing.csr"
ca -cert "$WORK/root.crt" -keyfile "$WORK/root.key" -in "$WORK/issuing.csr" -extensions v3_issuing \
	-startdate 20250101000000Z -enddate 20350101000000Z -out "$WORK/issuing.crt"

issue() { # name subject extensions start end key
	openssl req -new -key "$6" -subj "$2" -config "$WORK/ca.cnf" -out "$WORK/$1.csr"
	ca -cert "$WORK/issuing.crt" -keyfile "$WORK/issuing.key" -in "$WORK/$1.csr" -extensions "$3" \
		-startdate "$4" -enddate "$5" -out "$OUT/$1.crt"
}
issue server "/C=US/O=Fixture Inc./OU=Fixture Labs/CN=sensor.fixture.test" v3_server 20260101000000Z 20280101000000Z "$OUT/server.key"
issue client "/CN=mac-01" v3_client 20260101000000Z 20270601000000Z "$OUT/client-sec1.key"
issue expired "/CN=expired.fixture.test" v3_client 20200101000000Z 20210101000000Z "$OUT/client-sec1.key"
issue not-yet-valid "/CN=later.fixture.test" v3_client 20300101000000Z 20310101000000Z "$OUT/client-sec1.key"

cp "$WORK/root.crt" "$OUT/root.crt"
openssl x509 -in "$OUT/server.crt" -outform DER -out "$OUT/server.der"
# A base64 .cer, as Windows exports it (002: "base-64 encoded X.509").
cp "$OUT/server.crt" "$OUT/server.cer"
# A chain out of order (root, leaf, issuing): the tree must still come out right.
cat "$WORK/root.crt" "$OUT/server.crt" "$WORK/issuing.crt" > "$OUT/chain-unordered.pem"
cat "$WORK/issuing.crt" "$WORK/root.crt" > "$OUT/ca-chain.pem"
# What `openssl pkcs12 -nodes` writes: certificates and the key in one file.
cat "$OUT/server.crt" "$WORK/issuing.crt" "$OUT/server.key" > "$OUT/server-combined.pem"

# Requests: PEM and DER, and one whose signature was damaged.
openssl req -new -key "$OUT/server.key" -config "$WORK/ca.cnf" \
	-subj "/C=US/O=Fixture Inc./OU=Fixture Labs/CN=sensor.fixture.test" \
	-addext "subjectAltName=DNS:sensor.fixture.test,IP:10.0.0.5" \
	-addext "keyUsage=critical,digitalSignature,keyEncipherment" \
	-addext "extendedKeyUsage=serverAuth" -out "$OUT/server.csr"
openssl req -in "$OUT/server.csr" -outform DER -out "$OUT/server-csr.der"
# Flip the last byte (inside the signature).
size=$(wc -c < "$OUT/server-csr.der")
head -c $((size - 1)) "$OUT/server-csr.der" > "$OUT/bad-signature-csr.der"
last=$(tail -c 1 "$OUT/server-csr.der" | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" >> "$OUT/bad-signature-csr.der"

# CRL of the issuing CA: 25 revoked entries with fixed dates and reasons
# (written straight into openssl's database), CRL number 0x2A.
reasons="keyCompromise superseded cessationOfOperation affiliationChanged unspecified"
i=0
while [ $i -lt 25 ]; do
	r=$(echo $reasons | cut -d' ' -f$(( i % 5 + 1 )))
	serial=$(printf '5EED%04X' $((i + 1)))
	printf 'R\t300101000000Z\t2605%02d120000Z,%s\t%s\tunknown\t/CN=revoked-%02d.fixture.test\n' $((i % 28 + 1)) "$r" "$serial" $((i + 1)) >> "$WORK/index.txt"
	i=$((i + 1))
done
ca -gencrl -cert "$WORK/issuing.crt" -keyfile "$WORK/issuing.key" -crlexts crl_ext \
	-crl_lastupdate 20260601000000Z -crl_nextupdate 20260608000000Z -out "$OUT/issuing.crl.pem"
openssl crl -in "$OUT/issuing.crl.pem" -outform DER -out "$OUT/issuing.crl"

# PKCS#12: OpenSSL 3's default (PBES2 AES-256-CBC, SHA-256 MAC), -legacy
# (RC2-40 certificates, 3DES key, SHA-1 MAC), 3DES everywhere with a SHA-1 MAC
# (what macOS and Windows before 1709 import), certificates only, one
# with an empty password, and one with Windows' key attributes.
p12() { openssl pkcs12 -export -in "$OUT/server.crt" -inkey "$OUT/server.key" -certfile "$OUT/ca-chain.pem" "$@"; }
p12 -name "Fixture Sensor" -passout pass:$PW -out "$OUT/modern.pfx"
p12 -legacy -name "Fixture Sensor" -passout pass:$PW -out "$OUT/legacy-rc2.pfx"
p12 -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 -name "Fixture Sensor" -passout pass:$PW -out "$OUT/legacy-3des.p12"
p12 -passout pass: -out "$OUT/no-password.pfx"
# As Windows exports: Microsoft CSP Name and Local Key Set attributes on the key.
p12 -name "Fixture Sensor" -CSP "Microsoft Enhanced RSA and AES Cryptographic Provider" -LMK -passout pass:$PW -out "$OUT/windows-style.pfx"
openssl pkcs12 -export -nokeys -in "$OUT/ca-chain.pem" -passout pass:$PW -out "$OUT/certs-only.pfx"

echo "fixtures written to $OUT (password for encrypted files: $PW)"
