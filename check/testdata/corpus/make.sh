#!/usr/bin/env bash
# Makes the check corpus with OpenSSL only (not certmint), so check is judged against
# certificates nobody here made. For every built-in template:
#   - a conforming certificate, and one per variation the vendor document allows (no AIA,
#     the name only in the SAN, an https:// CDP, no EKU, 4096-bit keys, another subject
#     order, SHA-384/512, self-signed where allowed, no CDP with --no-cdp ...): they PASS;
#   - one certificate per requirement, broken once: it FAILS naming exactly that rule (plus a
#     validation.* step only where the breakage necessarily breaks validation too);
#   - one certificate per piece of advice, broken once: it PASSES and WARNS on exactly that rule.
# plus the validation cases (expired, not yet valid, wrong key, wrong passphrase, wrong root,
# revoked, unreachable CRL) and .pfx files. Dates are fixed, so the corpus never rots: the test
# checks at 2026-12-01T00:00:00Z.
#
# cases.txt, one case a line:
#   FILE TEMPLATE FAILS WARNS [key=F] [chain=F] [keyfile=F] [pfx=F] [pass=P] [crl=F] [fetch=M] [nocdp=1]
#   FAILS  the rules check must fail, comma-separated, "-" for none ("passphrase": the .pfx
#          does not open, with Defender's message)
#   WARNS  the rules check must warn on (advice not followed), comma-separated, "-" for none
#   key=   the certificate's key (--key); keyfile= gives another one instead
#   chain= the CA certificates (--chain); a self-signed certificate trusted as its own root
#          names itself
#   pfx=   check the .pfx (--pfx) instead of the certificate; pass= its passphrase (or the
#          encrypted key's)
#   crl=   a CRL file (--crl); fetch=serve|unreachable: fetch the CDP (--crl-check) from a
#          server that has the corpus CRLs, or from one that cannot be reached
#   nocdp=1  check --no-cdp (Input.NoCDP): the site does not validate certificates
#
# Expectations come from the vendor documents, not from check: each template section below
# lists its requirements (REQS, with the sentence each rests on in the template's comments);
# every other rule is advice. brk derives FAILS/WARNS from REQS.
#
# Cases that once showed check wrong (kept, as regressions): the self-signed certificate
# generateCertificate.ps1 makes passes safeq-signing without a warning; a .pfx without its CA
# certificates warns output.pfx_chain even when --chain supplies them; a DNS CN missing from the
# SAN warns san.cn_in_san; an https:// CDP is fetched with --crl-check where 000 allows it; a
# SAN holding only an email address is no "proper SAN" for safeq-ssl; an RSASSA-PSS signature
# with OpenSSL's default salt fails signature.algorithms alone (check reads the PSS parameters
# and verifies it with crypto/rsa).
#
# Run from this folder: ./make.sh   (OpenSSL 3.x)
set -euo pipefail
cd "$(dirname "$0")"
rm -rf out && mkdir -p out/db
export OPENSSL_CONF=/dev/null

START=20261101000000Z     # notBefore of normal certificates
END=20271001000000Z       # notAfter: valid at NOW (2026-12-01) and < 825 days
NOW=20261201000000Z       # when the test checks: a notBefore of exactly NOW is not "past"
BASE=http://crl.corpus.test

# --- CA material and keys ----------------------------------------------------------------
rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$2 -out out/$1.key 2>/dev/null; }
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$2 -out out/$1.key 2>/dev/null; }
rsa root 2048; rsa issuing 2048; ec ec-issuing P-256; rsa other-root 2048
rsa rsa2048 2048; rsa rsa2048b 2048; rsa rsa1024 1024; rsa rsa3072 3072; rsa rsa4096 4096
ec ec256 P-256; ec ec384 P-384; ec ec521 P-521
openssl genpkey -algorithm ED25519 -out out/ed25519.key
# the rsa2048 key, passphrase-protected
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:corpus-pass -in out/rsa2048.key -out out/rsa2048-enc.key
KEYS="rsa2048 rsa2048b rsa2048-enc rsa1024 rsa3072 rsa4096 ec256 ec384 ec521 ed25519"

cat > out/ca.cnf <<CNF
[ca]
default_ca = corpus
[corpus]
dir = out/db
database = out/db/index.txt
new_certs_dir = out/db
serial = out/db/serial
crlnumber = out/db/crlnumber
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
default_crl_days = 3650
[anything]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
[v3_root]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_issuing]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:$BASE/root.crl
CNF
: > out/db/index.txt
echo 1000 > out/db/serial
echo 01 > out/db/crlnumber

ca() { openssl ca -config out/ca.cnf -batch -notext -preserveDN "$@" 2>out/ca.log || { cat out/ca.log >&2; return 1; }; }

openssl req -new -key out/root.key -subj "/C=US/O=Corpus/CN=Corpus Root CA" -out out/root.csr
ca -selfsign -keyfile out/root.key -in out/root.csr -extensions v3_root -startdate 20260101000000Z -enddate 20460101000000Z -out out/root.crt
openssl req -new -key out/other-root.key -subj "/CN=Other Root CA" -out out/other-root.csr
ca -selfsign -keyfile out/other-root.key -in out/other-root.csr -extensions v3_root -startdate 20260101000000Z -enddate 20460101000000Z -out out/other-root.crt
openssl req -new -key out/issuing.key -subj "/C=US/O=Corpus/CN=Corpus Issuing CA" -out out/issuing.csr
ca -cert out/root.crt -keyfile out/root.key -in out/issuing.csr -extensions v3_issuing -startdate 20260101000000Z -enddate 20360101000000Z -out out/issuing.crt
openssl req -new -key out/ec-issuing.key -subj "/CN=Corpus ECDSA Issuing CA" -out out/ec-issuing.csr
ca -cert out/root.crt -keyfile out/root.key -in out/ec-issuing.csr -extensions v3_issuing -startdate 20260101000000Z -enddate 20360101000000Z -out out/ec-issuing.crt
cat out/issuing.crt out/root.crt > chain.pem
cat out/ec-issuing.crt out/root.crt > ec-chain.pem
cat out/issuing.crt out/other-root.crt > other-chain.pem

rm -f ./*.crt ./*.pfx
: > cases.txt

# mk NAME TEMPLATE FAILS WARNS [var=value ...]: one certificate and its line in cases.txt.
#   variables: key cn subj ku eku san cdp aia bc start end md sigopt signer(issuing|ec-issuing|self)
#   trust=self (the certificate is its own trusted root: chain= itself) extra (more fields)
#   A later var=value replaces an earlier one, so NAME's changes follow the good parameters.
mk() {
  local name=$1 template=$2 fails=$3 warns=$4; shift 4
  local key=rsa2048 cn="" subj="" ku="digitalSignature,keyEncipherment" eku="" san="" cdp="URI:$BASE/issuing.crl" aia="$BASE/issuing.crt"
  local bc="critical,CA:FALSE" start=$START end=$END md=sha256 sigopt="" signer=issuing trust="" extra=""
  local v
  for v in "$@"; do local "$v"; done
  local f=out/$name
  local ext=$f.ext
  {
    echo "[x]"
    echo "basicConstraints = $bc"
    [ -n "$ku" ] && echo "keyUsage = critical,$ku"
    [ -n "$eku" ] && echo "extendedKeyUsage = $eku"
    [ -n "$san" ] && echo "subjectAltName = $san"
    [ -n "$cdp" ] && echo "crlDistributionPoints = $cdp"
    [ -n "$aia" ] && echo "authorityInfoAccess = caIssuers;URI:$aia"
    echo "subjectKeyIdentifier = hash"
    [ "$signer" != self ] && echo "authorityKeyIdentifier = keyid"
    true
  } > "$ext"
  openssl req -new -key out/$key.key -subj "${subj:-/CN=$cn}" -out "$f.csr"
  local sig=()
  for v in $sigopt; do sig+=(-sigopt "$v"); done
  if [ "$signer" = self ]; then
    ca -selfsign -keyfile out/$key.key -in "$f.csr" -extfile "$ext" -extensions x -startdate $start -enddate $end -md $md "${sig[@]}" -out "$f.crt"
  else
    ca -cert out/$signer.crt -keyfile out/$signer.key -in "$f.csr" -extfile "$ext" -extensions x -startdate $start -enddate $end -md $md "${sig[@]}" -out "$f.crt"
  fi
  [ -s "$f.crt" ] || { echo "make.sh: $name: openssl ca failed" >&2; exit 1; }
  local chain=chain.pem
  [ "$signer" = ec-issuing ] && chain=ec-chain.pem
  [ "$trust" = self ] && chain=$name.crt
  echo "$name.crt $template $fails $warns key=keys/$key.key chain=$chain $extra" | sed 's/ *$//' >> cases.txt
  mv "$f.crt" "$name.crt"
  rm -f "$f.csr" "$ext"
}

# Per template: T (its name), REQS (its requirements: the rules its vendor document demands),
# GOOD (the parameters of its conforming certificate) and SAN0 (GOOD's SAN).
# split F|W RULES: the rules of RULES (comma-separated) that fail (requirements and validation
# steps) or that warn (advice) under $REQS; "-" for none.
split() {
  local want=$1 out="" r
  for r in ${2//,/ }; do
    local req=W
    case " $REQS " in *" $r "*) req=F ;; esac
    case $r in validation.*) req=F ;; esac
    [ $req = "$want" ] && out="$out,$r"
  done
  echo "${out#,}" | sed 's/^$/-/'
}
ok() { local s=$1; shift; mk $T-$s $T - - "${GOOD[@]}" "$@"; }              # passes, no warning
brk() { local s=$1 r=$2; shift 2; mk $T-$s $T "$(split F $r)" "$(split W $r)" "${GOOD[@]}" "$@"; }

# common: what every template is checked for. Self-signed, hash and CDP variations differ by
# template and are made in its section.
common() {
  ok good
  ok rsa4096 key=rsa4096
  brk no-aia revocation.aia aia=
  brk ca end_entity bc=critical,CA:TRUE
  brk rsa1024 key.allowed_bits key=rsa1024
  # notBefore in the future: the validator refuses it too.
  brk not-yet-valid validity.backdate,validation.expiry start=20270101000000Z end=20271201000000Z
  # notBefore exactly at NOW: valid now (RFC 5280 counts notBefore in), but not a past date.
  brk notbefore-now validity.backdate start=$NOW
  # Validators refuse SHA-1 signatures outright, so the chain fails too.
  brk sha1 signature.allowed,${SHA1_ALSO:-}validation.chain md=sha1
  brk no-cdp revocation.crl_distribution_point cdp=
  brk ldap-cdp revocation.crl_distribution_point cdp=URI:ldap:///CN=Corpus%20Issuing%20CA?certificateRevocationList
}
# kinds KIND...: one certificate per SAN kind the template does not allow (san.allow_KIND).
kinds() {
  local k
  for k in "$@"; do
    local entry
    case $k in
      dns) entry=DNS:extra.corpus.test ;;
      wildcard) entry=DNS:*.corpus.test ;;
      ip) entry=IP:10.1.1.1 ;;
      email) entry=email:it@corpus.test ;;
      uri) entry=URI:https://corpus.test/ ;;
    esac
    brk san-$k san.allow_$k "san=${SAN0:+$SAN0,}$entry"
  done
}
# selfsigned: untrusted (the chain fails) and trusted as its own root (only the rule itself).
selfsigned() {
  brk self allow_self_signed,validation.chain signer=self
  brk self-trusted allow_self_signed signer=self trust=self
}
# ecdsa: a P-256 key with GOOD's key usage, so only the key type is at stake.
ecdsa() { brk ecdsa key.allowed_types key=ec256; }

# --- 1e-client: domain-joined Windows (000, Client authentication certificates) ------------
T=1e-client
REQS="subject.cn key.allowed_types usage.key_usage usage.ext_key_usage revocation.crl_distribution_point allow_self_signed"
SAN0=DNS:W701.ACME.LOCAL
GOOD=(cn=W701.ACME.LOCAL eku=clientAuth san=$SAN0)
common; selfsigned; ecdsa; kinds wildcard ip email uri
# 000: "Common Name (CN=<computername>) or Subject Alternative Name (DNS Name=<computername>)"
# The CN copied into the SAN is advice (a regression case, see the top).
brk cn-only san.cn_in_san san=
ok san-only-label cn="Workstation 701"
ok san-only-no-cn subj=/O=ACME
brk bad-name subject.cn cn=W701 san=DNS:W701
ok cn-first subj="/CN=W701.ACME.LOCAL/OU=Workstations/O=ACME"
ok cn-last subj="/O=ACME/OU=Workstations/CN=W701.ACME.LOCAL"
# 000, Public Key Infrastructure: the CDP "uses HTTP/S"; no file name is asked for.
ok https-cdp cdp=URI:https://crl.corpus.test/issuing.crl
ok cdp-not-crl cdp=URI:$BASE/issuing
ok ldap-and-http-cdp cdp=URI:ldap:///CN=Corpus%20Issuing%20CA?certificateRevocationList,URI:$BASE/issuing.crl
ok ldap-and-http-cdp-fetched cdp=URI:ldap:///CN=Corpus%20Issuing%20CA?certificateRevocationList,URI:$BASE/issuing.crl extra=fetch=serve
# --crl-check fetches an https:// CDP where 000 allows one (a regression case, see the top).
ok https-cdp-fetched cdp=URI:https://crl.corpus.test/issuing.crl extra=fetch=serve
ok sha384 md=sha384
ok sha512 md=sha512
ok client-and-server eku=clientAuth,serverAuth   # "at least" Client Authentication
brk no-eku usage.ext_key_usage eku=
brk serverauth usage.ext_key_usage eku=serverAuth
brk no-ds usage.key_usage ku=keyEncipherment
brk no-ke usage.key_usage ku=digitalSignature
# ECDSA cannot encrypt: 000 wants "both the Signature and Encryption request handling options".
brk ecdsa-ds-only key.allowed_types,usage.key_usage key=ec256 ku=digitalSignature
# validation, with no appliance message (only Defender's document lists them)
brk v-expired validation.expiry start=20251001000000Z end=20261115000000Z
brk v-wrong-key validation.key extra=keyfile=keys/rsa2048b.key
brk v-wrong-root validation.chain extra=chain=other-chain.pem
brk v-unreachable-crl validation.revocation extra=fetch=unreachable
brk v-revoked validation.revocation extra=crl=issuing.crl.pem   # revoked below

# --- 1e-client-workgroup: workgroup Windows and Linux (000) --------------------------------
T=1e-client-workgroup
REQS="subject.cn key.allowed_types usage.key_usage usage.ext_key_usage revocation.crl_distribution_point allow_self_signed"
SAN0=DNS:W701
GOOD=(cn=W701 eku=clientAuth san=$SAN0)
common; selfsigned; ecdsa; kinds wildcard ip email uri
# The CN copied into the SAN is advice (a regression case, see the top).
brk cn-only san.cn_in_san san=
ok san-only-label cn="Workgroup PC 701"
ok san-only-no-cn subj=/O=ACME
ok fqdn cn=W701.ACME.LOCAL san=DNS:W701.ACME.LOCAL    # "MAC01.local" is a host name too
brk bad-name subject.cn cn="W701 PC" san=
ok cn-first subj="/CN=W701/OU=Workstations/O=ACME"
ok cn-last subj="/O=ACME/OU=Workstations/CN=W701"
ok https-cdp cdp=URI:https://crl.corpus.test/issuing.crl
ok cdp-not-crl cdp=URI:$BASE/issuing
ok sha384 md=sha384
ok sha512 md=sha512
brk no-eku usage.ext_key_usage eku=
brk serverauth usage.ext_key_usage eku=serverAuth
brk no-ke usage.key_usage ku=digitalSignature
brk ecdsa-ds-only key.allowed_types,usage.key_usage key=ec256 ku=digitalSignature

# --- 1e-client-macos (002, and 000's client rules) -----------------------------------------
T=1e-client-macos
REQS="subject.cn key.allowed_types usage.key_usage usage.ext_key_usage usage.ext_key_usage_only revocation.crl_distribution_point allow_self_signed output.pfx_encryption"
SAN0=DNS:MAC01.local
GOOD=(cn=MAC01.local eku=clientAuth san=$SAN0)

common; selfsigned; ecdsa; kinds wildcard ip email uri
brk cn-only san.cn_in_san san=DNS:mac01-alias.local
# 002: "The Subject Name of the certificate must be the host name of the mac device": the CN.
brk apostrophe subject.cn "cn=John's MacBook" san=
brk san-only subject.cn subj=/O=ACME
ok cn-first subj="/CN=MAC01.local/OU=Macs/O=ACME"
ok cn-last subj="/O=ACME/OU=Macs/CN=MAC01.local"
ok https-cdp cdp=URI:https://crl.corpus.test/issuing.crl
ok cdp-not-crl cdp=URI:$BASE/issuing
ok sha384 md=sha384
ok sha512 md=sha512
# 002: "Application Policies should contain only Client Authentication"
brk client-and-server usage.ext_key_usage_only eku=clientAuth,serverAuth
brk serverauth usage.ext_key_usage,usage.ext_key_usage_only eku=serverAuth
brk no-eku usage.ext_key_usage eku=
brk no-ke usage.key_usage ku=digitalSignature
brk ecdsa-ds-only key.allowed_types,usage.key_usage key=ec256 ku=digitalSignature

# --- 1e-switch: Switch and web server (000) ------------------------------------------------
T=1e-switch
REQS="revocation.crl_distribution_point allow_self_signed"
SAN0=DNS:tachyon.acme.local,DNS:tachyon.acme.com
GOOD=(cn=tachyon.acme.local eku=serverAuth san=$SAN0)
common; selfsigned; ecdsa; kinds email uri
ok cn-first subj="/CN=tachyon.acme.local/OU=Servers/O=ACME"
ok cn-last subj="/O=ACME/OU=Servers/CN=tachyon.acme.local"
ok https-cdp cdp=URI:https://crl.corpus.test/issuing.crl
ok cdp-not-crl cdp=URI:$BASE/issuing
ok sha384 md=sha384
ok sha512 md=sha512
ok wildcard san=DNS:tachyon.acme.local,DNS:*.acme.local
brk bare-host subject.cn cn=tachyon san=$SAN0,DNS:tachyon
brk no-san san.require_dns,san.cn_in_san san=
brk cn-only san.cn_in_san san=DNS:tachyon.acme.com
brk clientauth usage.ext_key_usage eku=clientAuth
brk no-ke usage.key_usage ku=digitalSignature
brk 900-days validity.max_days end=20290501000000Z

# --- 1e-code-signing (000, Code signing certificates) --------------------------------------
T=1e-code-signing
REQS="usage.ext_key_usage"
SAN0=
GOOD=(subj="/O=ACME Corp/CN=ACME Instruction Signing" eku=codeSigning ku=digitalSignature)
common; selfsigned; ecdsa; kinds dns ip email uri
ok cn-first subj="/CN=ACME Instruction Signing/O=ACME Corp"
ok ecdsa-ca signer=ec-issuing    # any CA key may issue it ("SHA256RSA" is 1E's own)
ok cdp-not-crl cdp=URI:$BASE/issuing
ok sha384 md=sha384
ok sha512 md=sha512
brk https-cdp revocation.crl_distribution_point cdp=URI:https://crl.corpus.test/issuing.crl
brk no-o subject.require subj="/CN=ACME Instruction Signing"
brk no-cn subject.cn subj="/O=ACME Corp"
brk no-eku usage.ext_key_usage eku=
brk clientauth usage.ext_key_usage eku=clientAuth
brk no-ds usage.key_usage ku=keyEncipherment

# --- safeq-ssl (003, SSL certificate) ------------------------------------------------------
T=safeq-ssl
REQS="san.require"
SAN0="DNS:*.company.com,IP:1.2.3.4"
GOOD=(cn="YSoft SafeQ" eku=serverAuth "san=$SAN0")
common; selfsigned; ecdsa; kinds email uri
brk cn-only san.cn_in_san cn=safeq.company.com "san=$SAN0"
ok fqdn-cn cn=safeq.company.com san=DNS:safeq.company.com
ok ip-only san=IP:1.2.3.4
ok cn-first subj="/CN=YSoft SafeQ/OU=Printing/O=Company"
ok cn-last subj="/O=Company/OU=Printing/CN=YSoft SafeQ"
ok cdp-not-crl cdp=URI:$BASE/issuing
ok sha384 md=sha384
# 003: "The minimal requirement for SSL certificates is to have proper SAN"
brk no-san san.require san=
# An email address is no address to connect to (a regression case, see the top).
brk email-only-san san.require,san.allow_email san=email:safeq@company.com
brk no-cn subject.cn subj=/O=Company
brk https-cdp revocation.crl_distribution_point cdp=URI:https://crl.corpus.test/issuing.crl
brk no-ke usage.key_usage ku=digitalSignature
brk clientauth usage.ext_key_usage eku=clientAuth
brk no-eku usage.ext_key_usage eku=

# --- safeq-signing (003, Signing certificate) ----------------------------------------------
T=safeq-signing
REQS=""
SAN0="DNS:*.company.com,IP:1.2.3.4"
GOOD=(cn="YSoft SafeQ" "san=$SAN0" ku=digitalSignature)
common; ecdsa; kinds email uri
brk cn-only san.cn_in_san cn=safeq.company.com "san=$SAN0"
# What generateCertificate.ps1 makes: self-signed, no CDP, no AIA; trusted as it is.
# As generateCertificate.ps1 makes it: no CDP, no AIA, no warning (a regression case, see the top).
ok script signer=self cdp= aia=
ok script-trusted signer=self cdp= aia= trust=self
ok no-san san=
ok cn-first subj="/CN=YSoft SafeQ/OU=Printing/O=Company"
ok cn-last subj="/O=Company/OU=Printing/CN=YSoft SafeQ"
ok cdp-not-crl cdp=URI:$BASE/issuing
ok sha384 md=sha384
ok ds-and-ke ku=digitalSignature,keyEncipherment
brk no-cn subject.cn subj=/O=Company
brk https-cdp revocation.crl_distribution_point cdp=URI:https://crl.corpus.test/issuing.crl
brk no-ds usage.key_usage ku=keyEncipherment
# "The signing certificate is NOT the certificate that is used for HTTPS." is about deployment,
# not a field: the template sets no EKU, so check asks none.
ok serverauth eku=serverAuth

# --- defender-sensor (004, CRT file requirements) ------------------------------------------
T=defender-sensor
REQS="subject.require subject.cn key.allowed_types key.allowed_bits signature.allowed signature.algorithms validity.backdate revocation.crl_distribution_point"
DSUBJ="/C=US/O=Contoso Inc./OU=Contoso Labs"
SAN0=DNS:Sensor.contoso.com
GOOD=(subj="$DSUBJ/CN=Sensor.contoso.com" eku=serverAuth san=$SAN0)
# "Signature Algorithm = SHA256RSA" and "Signature Hash Algorithm = SHA256": another hash
# breaks both sentences.
SHA1_ALSO=signature.algorithms,
common; selfsigned; ecdsa; kinds ip email uri
SHA1_ALSO=
# "Subject CN (Common Name) = domain name of the appliance; for example, Sensor.contoso.com, or *.contoso.com."
ok wildcard subj="$DSUBJ/CN=*.contoso.com" san=DNS:*.contoso.com
# The CN in the SAN is advice (a regression case, see the top).
brk cn-only san.cn_in_san san=
ok cn-first subj="/CN=Sensor.contoso.com/C=US/O=Contoso Inc./OU=Contoso Labs"
ok ou-o-c subj="/OU=Contoso Labs/O=Contoso Inc./C=US/CN=Sensor.contoso.com"
ok cdp-port cdp=URI:http://crl.corpus.test:8080/issuing.crl
# "If you are not carrying out certificate validation, remove the CRL URL reference in the certificate."
ok no-cdp-nocdp cdp= extra=nocdp=1
# 004 names no EKU: a certificate without one passes (the advice is serverAuth).
brk no-eku usage.ext_key_usage eku=
brk https-cdp revocation.crl_distribution_point cdp=URI:https://crl.corpus.test/issuing.crl
brk cdp-not-crl revocation.crl_distribution_point cdp=URI:$BASE/issuing
brk no-ou subject.require subj="/C=US/O=Contoso Inc./CN=Sensor.contoso.com"
brk no-c subject.require subj="/O=Contoso Inc./OU=Contoso Labs/CN=Sensor.contoso.com"
brk no-o subject.require subj="/C=US/OU=Contoso Labs/CN=Sensor.contoso.com"
brk cn-label subject.cn subj="$DSUBJ/CN=Sensor 1"
brk single-label subject.cn subj="$DSUBJ/CN=sensor2" san=DNS:sensor2
brk rsa3072 key.allowed_bits key=rsa3072
brk sha384 signature.allowed,signature.algorithms md=sha384
brk sha512 signature.allowed,signature.algorithms md=sha512
# RSASSA-PSS with SHA-256 (salt = hash length, the parameters Go reads): another algorithm.
brk pss signature.algorithms sigopt="rsa_padding_mode:pss rsa_pss_saltlen:digest"
# OpenSSL's default PSS salt length (a regression case, see the top).
brk pss-max-salt signature.algorithms sigopt="rsa_padding_mode:pss"
brk ecdsa-ca signature.algorithms signer=ec-issuing
brk no-ke usage.key_usage ku=digitalSignature
brk clientauth usage.ext_key_usage eku=clientAuth

# --- generic templates: advice only; validation fails ------------------------------------
T=server
REQS=""
SAN0=DNS:www.contoso.com,IP:10.0.0.10
GOOD=(cn=www.contoso.com san=$SAN0 eku=serverAuth)
common; selfsigned; kinds email uri
brk cn-only san.cn_in_san san=DNS:api.contoso.com,IP:10.0.0.10
ok ecdsa key=ec256 ku=digitalSignature
ok ecdsa-p384 key=ec384 ku=digitalSignature
ok cn-first subj="/CN=www.contoso.com/OU=Web/O=Contoso"
ok cn-last subj="/O=Contoso/OU=Web/CN=www.contoso.com"
ok sha384 md=sha384
brk ecdsa-p521 key.allowed_curves key=ec521 ku=digitalSignature
brk ed25519 key.allowed_types key=ed25519   # the good key usage, so only the key type is at stake
brk https-cdp revocation.crl_distribution_point cdp=URI:https://crl.corpus.test/issuing.crl
brk no-cn subject.cn subj=/O=Contoso
brk no-san san.require cn="Web Server" san=
brk no-ke usage.key_usage ku=digitalSignature
brk clientauth usage.ext_key_usage eku=clientAuth
brk 900-days validity.max_days end=20290501000000Z

T=client
REQS=""
SAN0=DNS:W701.ACME.LOCAL
GOOD=(cn=W701.ACME.LOCAL eku=clientAuth ku=digitalSignature san=$SAN0)
common; selfsigned; kinds wildcard
brk cn-only san.cn_in_san san=DNS:w702.acme.local
ok ecdsa key=ec256
ok cn-first subj="/CN=W701.ACME.LOCAL/OU=Devices/O=ACME"
ok sans san=DNS:w701.acme.local,IP:10.1.1.1,email:it@acme.local,URI:https://acme.local/
brk ecdsa-p521 key.allowed_curves key=ec521
brk ed25519 key.allowed_types key=ed25519
brk https-cdp revocation.crl_distribution_point cdp=URI:https://crl.corpus.test/issuing.crl
brk no-cn subject.cn subj=/O=ACME
brk no-ds usage.key_usage ku=keyAgreement
brk serverauth usage.ext_key_usage eku=serverAuth

T=code-signing
REQS=""
SAN0=
GOOD=(cn="Contoso Code Signing" eku=codeSigning ku=digitalSignature)
common; selfsigned; ecdsa; kinds dns ip email uri
ok cn-first subj="/CN=Contoso Code Signing/O=Contoso"
ok sha384 md=sha384
brk https-cdp revocation.crl_distribution_point cdp=URI:https://crl.corpus.test/issuing.crl
brk no-cn subject.cn subj=/O=Contoso
brk no-eku usage.ext_key_usage eku=
brk no-ds usage.key_usage ku=keyEncipherment

# --- validation: what the appliance does (004 troubleshooting table) --------------------
T=defender-sensor
REQS=""
GOOD=(subj="$DSUBJ/CN=Sensor.contoso.com" eku=serverAuth san=DNS:Sensor.contoso.com)
mk v-expired $T validation.expiry - "${GOOD[@]}" start=20251001000000Z end=20261115000000Z
mk v-not-yet-valid $T validity.backdate,validation.expiry - "${GOOD[@]}" start=20270101000000Z end=20271201000000Z
mk v-good $T - - "${GOOD[@]}" extra=crl=issuing.crl.pem
mk v-revoked $T validation.revocation - "${GOOD[@]}" extra=crl=issuing.crl.pem
mk v-unreachable-crl $T validation.revocation - "${GOOD[@]}" extra=fetch=unreachable
mk v-fetched-crl $T - - "${GOOD[@]}" extra=fetch=serve
mk v-wrong-key $T validation.key - "${GOOD[@]}" extra=keyfile=keys/rsa2048b.key
mk v-wrong-passphrase $T validation.key - "${GOOD[@]}" extra="keyfile=keys/rsa2048-enc.key pass=wrong-pass"
mk v-right-passphrase $T - - "${GOOD[@]}" extra="keyfile=keys/rsa2048-enc.key pass=corpus-pass"
mk v-wrong-root $T validation.chain - "${GOOD[@]}" extra=chain=other-chain.pem

# revoke v-revoked and 1e-client-v-revoked (keyCompromise) and publish the issuing CA's CRL
for c in v-revoked 1e-client-v-revoked; do
  openssl ca -config out/ca.cnf -cert out/issuing.crt -keyfile out/issuing.key -revoke $c.crt -crl_reason keyCompromise 2>/dev/null
done
openssl ca -config out/ca.cnf -cert out/issuing.crt -keyfile out/issuing.key -gencrl -crldays 3650 -out issuing.crl.pem 2>/dev/null
openssl crl -in issuing.crl.pem -outform DER -out issuing.crl
# root CRL (empty) so the whole chain can be checked
cat > out/root-ca.cnf <<CNF
[ca]
default_ca = r
[r]
database = out/root-index.txt
crlnumber = out/root-crlnumber
default_md = sha256
default_crl_days = 3650
CNF
: > out/root-index.txt; echo 01 > out/root-crlnumber
openssl ca -config out/root-ca.cnf -cert out/root.crt -keyfile out/root.key -gencrl -out root.crl.pem 2>/dev/null

# --- .pfx files ----------------------------------------------------------------------------
# pfx NAME TEMPLATE FAILS WARNS CERT [openssl pkcs12 options]: a .pfx of CERT and the rsa2048
# key, passphrase corpus-pass, checked with --pfx (and no --chain unless options say chain=).
pfx() {
  local name=$1 template=$2 fails=$3 warns=$4 cert=$5 chain=""; shift 5
  local opts=()
  for v in "$@"; do case $v in chain=*) chain=" $v" ;; *) opts+=("$v") ;; esac; done
  openssl pkcs12 -export -in "$cert" -inkey out/rsa2048.key -name "${cert%.crt}" -passout pass:corpus-pass "${opts[@]}" -out "$name.pfx"
  echo "$name.pfx $template $fails $warns pfx=$name.pfx pass=corpus-pass$chain" >> cases.txt
}
# Defender: an openssl .pfx (AES, the OpenSSL 3 default), and the wrong passphrase for it.
pfx v-good defender-sensor - - v-good.crt -certfile chain.pem
echo "v-good.pfx defender-sensor passphrase - pfx=v-good.pfx pass=wrong-pass" >> cases.txt
# A .pfx without the CA certificates: the chain inside is advice (certmint's, for Defender).
# Only the .pfx's own certificates count for output.pfx_chain (a regression case, see the top).
pfx defender-sensor-nochain defender-sensor - output.pfx_chain defender-sensor-good.crt chain=chain.pem
# 002: `security import ... -f pkcs12` reads 3DES/RC2 with a SHA-1 MAC (openssl -legacy), not
# the AES/PBES2 files OpenSSL 3 makes by default.
pfx 1e-client-macos-legacy 1e-client-macos - - 1e-client-macos-good.crt -legacy -certfile chain.pem
pfx 1e-client-macos-modern 1e-client-macos output.pfx_encryption - 1e-client-macos-good.crt -certfile chain.pem
# 002: "include all certificates in the certification path if possible" (advice).
# Only the .pfx's own certificates count for output.pfx_chain (a regression case, see the top).
pfx 1e-client-macos-nochain 1e-client-macos - output.pfx_chain 1e-client-macos-good.crt -legacy chain=chain.pem

# keys the cases refer to, kept; everything else of out/ goes
rm -rf keys && mkdir -p keys
for k in $KEYS; do cp out/$k.key keys/; done
cp out/root.crt root.crt; cp out/other-root.crt other-root.crt
rm -rf out
echo "make.sh: $(wc -l < cases.txt) cases"
