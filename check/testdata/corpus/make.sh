#!/usr/bin/env bash
# Makes the check corpus with OpenSSL only (not certmint): for every built-in template a
# conforming certificate and one certificate per requirement that breaks exactly that
# requirement, plus the validation cases (expired, not yet valid, wrong key, wrong
# passphrase, wrong root, revoked, unreachable CRL). Dates are fixed, so the corpus never
# rots: the test checks at NOW below. Writes cases.txt: FILE TEMPLATE EXPECTED-RULES...
# (comma-separated, "-" for none) and extra fields key=... chain=... crl=... pfx=...
#
# Run from this folder: ./make.sh   (OpenSSL 3.x)
set -euo pipefail
cd "$(dirname "$0")"
rm -rf out && mkdir -p out/db
export OPENSSL_CONF=/dev/null

START=20261101000000Z     # notBefore of normal certificates
END=20271001000000Z       # notAfter: valid at NOW (2026-12-01) and < 825 days
BASE=http://crl.corpus.test

# --- CA material -------------------------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out out/root.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out out/issuing.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out out/ec-issuing.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out out/other-root.key 2>/dev/null
for k in rsa2048 rsa2048b; do openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out out/$k.key 2>/dev/null; done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out out/rsa1024.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out out/rsa3072.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out out/ec256.key 2>/dev/null
# the rsa2048 key, passphrase-protected
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:corpus-pass -in out/rsa2048.key -out out/rsa2048-enc.key

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

: > cases.txt
n=0
# mk NAME TEMPLATE EXPECTED [var=value ...]
#   variables: key cn subj ku eku san cdp aia bc days(start,end) md signer(issuing|ec-issuing|self) extra
mk() {
  local name=$1 template=$2 expected=$3; shift 3
  local key=rsa2048 cn="" subj="" ku="digitalSignature,keyEncipherment" eku="" san="" cdp="$BASE/issuing.crl" aia="$BASE/issuing.crt"
  local bc="critical,CA:FALSE" start=$START end=$END md=sha256 signer=issuing extra=""
  local v
  for v in "$@"; do [ "$v" = -- ] || local "$v"; done
  n=$((n+1))
  local f=out/$name
  local ext=$f.ext
  {
    echo "[x]"
    echo "basicConstraints = $bc"
    [ -n "$ku" ] && echo "keyUsage = critical,$ku"
    [ -n "$eku" ] && echo "extendedKeyUsage = $eku"
    [ -n "$san" ] && echo "subjectAltName = $san"
    [ -n "$cdp" ] && echo "crlDistributionPoints = URI:$cdp"
    [ -n "$aia" ] && echo "authorityInfoAccess = caIssuers;URI:$aia"
    echo "subjectKeyIdentifier = hash"
    [ "$signer" != self ] && echo "authorityKeyIdentifier = keyid"
    true
  } > "$ext"
  openssl req -new -key out/$key.key -subj "${subj:-/CN=$cn}" -out "$f.csr"
  if [ "$signer" = self ]; then
    ca -selfsign -keyfile out/$key.key -in "$f.csr" -extfile "$ext" -extensions x -startdate $start -enddate $end -md $md -out "$f.crt"
  else
    ca -cert out/$signer.crt -keyfile out/$signer.key -in "$f.csr" -extfile "$ext" -extensions x -startdate $start -enddate $end -md $md -out "$f.crt"
  fi
  [ -s "$f.crt" ] || { echo "make.sh: $name: openssl ca failed" >&2; exit 1; }
  local chain=chain.pem
  [ "$signer" = ec-issuing ] && chain=ec-chain.pem
  echo "$name.crt $template $expected key=$key.key chain=$chain $extra" >> cases.txt
  mv "$f.crt" "$name.crt"
  rm -f "$f.csr" "$ext"
}

# --- every template: one conforming certificate, then one per requirement ---------------
# template GOOD-PARAMS... : the conforming certificate; then the mutations below, each
# breaking one requirement, apply where the template has that requirement.
family() { # NAME TEMPLATE FLAGS -- GOOD-PARAMS...
  local name=$1 t=$2 flags=$3; shift 4
  local good=("$@")
  mk $name-good $t - "${good[@]}"
  case ",$flags," in *,ca-issued,*)
    mk $name-self $t allow_self_signed,validation.chain "${good[@]}" signer=self ;; esac
  mk $name-ca $t end_entity "${good[@]}" bc=critical,CA:TRUE
  mk $name-no-cdp $t revocation.crl_distribution_point "${good[@]}" cdp=
  mk $name-https-cdp $t revocation.crl_distribution_point "${good[@]}" cdp=https://crl.corpus.test/issuing.crl
  mk $name-no-aia $t revocation.aia "${good[@]}" aia=
  # Validators refuse SHA-1 signatures outright, so the chain fails too.
  mk $name-sha1 $t signature.allowed,validation.chain "${good[@]}" md=sha1
  mk $name-not-yet-valid $t validity.backdate,validation.expiry "${good[@]}" start=20270101000000Z end=20271201000000Z
  mk $name-rsa1024 $t key.allowed_bits "${good[@]}" key=rsa1024
  case ",$flags," in *,max825,*)
    mk $name-900-days $t validity.max_days "${good[@]}" end=20290501000000Z ;; esac
  case ",$flags," in *,rsa-issuer,*)
    mk $name-ecdsa-ca $t signature.issuer_key_types "${good[@]}" signer=ec-issuing ;; esac
}

# server: serverAuth, SAN required, <= 825 days, RSA or ECDSA, SHA-256/384/512
SRV=(cn=www.contoso.com san=DNS:www.contoso.com,IP:10.0.0.10 eku=serverAuth)
family server server ca-issued,max825 -- "${SRV[@]}"
mk server-no-cn server subject.cn "${SRV[@]}" subj=/O=Contoso
mk server-ecdsa-good server - cn=www.contoso.com san=DNS:www.contoso.com eku=serverAuth key=ec256 ku=digitalSignature
mk server-no-san server san.require cn="Web Server" eku=serverAuth
mk server-email-san server san.allow_email cn=www.contoso.com san=DNS:www.contoso.com,email:a@contoso.com eku=serverAuth
mk server-no-ke server usage.key_usage "${SRV[@]}" ku=digitalSignature
mk server-clientauth server usage.ext_key_usage "${SRV[@]}" eku=clientAuth

# client: clientAuth, KU ds+ke
CLI=(cn=W701.ACME.LOCAL eku=clientAuth)
family client client ca-issued -- "${CLI[@]}"
mk client-no-cn client subject.cn "${CLI[@]}" subj=/O=ACME san=DNS:W701.ACME.LOCAL
mk client-no-ke client usage.key_usage "${CLI[@]}" ku=digitalSignature
mk client-serverauth client usage.ext_key_usage "${CLI[@]}" eku=serverAuth
mk client-ecdsa client key.allowed_types "${CLI[@]}" key=ec256 ku=digitalSignature
mk client-wildcard client san.allow_wildcard "${CLI[@]}" san=DNS:*.acme.local

# code-signing
CS=(cn="Contoso Code Signing" eku=codeSigning ku=digitalSignature)
family code-signing code-signing ca-issued -- "${CS[@]}"
mk code-signing-no-cn code-signing subject.cn "${CS[@]}" subj=/O=Contoso
mk code-signing-no-eku code-signing usage.ext_key_usage "${CS[@]}" eku=
mk code-signing-no-ds code-signing usage.key_usage "${CS[@]}" ku=keyEncipherment
mk code-signing-dns code-signing san.allow_dns "${CS[@]}" san=DNS:sign.contoso.com

# 1e-client: CN = FQDN (or SAN DNS = FQDN)
E1=(cn=W701.ACME.LOCAL eku=clientAuth san=DNS:W701.ACME.LOCAL)
family 1e-client 1e-client ca-issued -- "${E1[@]}"
mk 1e-client-cn-only 1e-client - cn=W701.ACME.LOCAL eku=clientAuth
mk 1e-client-bare-host 1e-client subject.cn cn=W701 eku=clientAuth san=DNS:W701.ACME.LOCAL
mk 1e-client-no-ds 1e-client usage.key_usage "${E1[@]}" ku=keyEncipherment
mk 1e-client-no-eku 1e-client usage.ext_key_usage "${E1[@]}" eku=
mk 1e-client-ldap-cdp 1e-client revocation.crl_distribution_point "${E1[@]}" cdp=ldap://ldap.corpus.test/cn=corpus-issuing
mk 1e-client-ip 1e-client san.allow_ip "${E1[@]}" san=DNS:W701.ACME.LOCAL,IP:10.1.1.1
mk 1e-client-ecdsa 1e-client key.allowed_types "${E1[@]}" key=ec256 ku=digitalSignature

# 1e-client-workgroup: CN = host name
WG=(cn=W701 eku=clientAuth san=DNS:W701)
family 1e-client-workgroup 1e-client-workgroup ca-issued -- "${WG[@]}"
mk 1e-client-workgroup-space 1e-client-workgroup subject.cn,san.require_dns cn="W701 PC" eku=clientAuth
mk 1e-client-workgroup-no-ke 1e-client-workgroup usage.key_usage "${WG[@]}" ku=digitalSignature
mk 1e-client-workgroup-serverauth 1e-client-workgroup usage.ext_key_usage "${WG[@]}" eku=serverAuth
mk 1e-client-workgroup-ip 1e-client-workgroup san.allow_ip "${WG[@]}" san=DNS:W701,IP:10.1.1.1
mk 1e-client-workgroup-ecdsa 1e-client-workgroup key.allowed_types "${WG[@]}" key=ec256 ku=digitalSignature

# 1e-client-macos: CN = the Mac's host name exactly
MAC=(cn=MAC01.local eku=clientAuth san=DNS:MAC01.local)
family 1e-client-macos 1e-client-macos ca-issued -- "${MAC[@]}"
mk 1e-client-macos-apostrophe 1e-client-macos subject.cn,san.require_dns "cn=John's MacBook" eku=clientAuth
mk 1e-client-macos-serverauth 1e-client-macos usage.ext_key_usage "${MAC[@]}" eku=serverAuth
mk 1e-client-macos-no-ke 1e-client-macos usage.key_usage "${MAC[@]}" ku=digitalSignature
mk 1e-client-macos-email 1e-client-macos san.allow_email "${MAC[@]}" san=DNS:MAC01.local,email:it@acme.local
mk 1e-client-macos-ecdsa 1e-client-macos key.allowed_types "${MAC[@]}" key=ec256 ku=digitalSignature

# 1e-switch: serverAuth, FQDN CN, every name in the SAN, <= 825 days, never self-signed
SW=(cn=tachyon.acme.local eku=serverAuth san=DNS:tachyon.acme.local,DNS:tachyon.acme.com)
family 1e-switch 1e-switch ca-issued,max825 -- "${SW[@]}"
mk 1e-switch-clientauth 1e-switch usage.ext_key_usage "${SW[@]}" eku=clientAuth
mk 1e-switch-no-ke 1e-switch usage.key_usage "${SW[@]}" ku=digitalSignature
mk 1e-switch-bare-host 1e-switch subject.cn cn=tachyon eku=serverAuth san=DNS:tachyon.acme.local
mk 1e-switch-uri 1e-switch san.allow_uri "${SW[@]}" san=DNS:tachyon.acme.local,URI:https://tachyon.acme.local/
mk 1e-switch-ecdsa 1e-switch key.allowed_types "${SW[@]}" key=ec256 ku=digitalSignature

# 1e-code-signing: codeSigning, SHA256RSA (RSA issuing CA), O required
ECS=(subj="/O=ACME Corp/CN=ACME Instruction Signing" eku=codeSigning ku=digitalSignature)
family 1e-code-signing 1e-code-signing ca-issued,rsa-issuer -- "${ECS[@]}"
mk 1e-code-signing-no-cn 1e-code-signing subject.cn "${ECS[@]}" subj="/O=ACME Corp"
mk 1e-code-signing-no-o 1e-code-signing subject.require cn="ACME Instruction Signing" eku=codeSigning ku=digitalSignature
mk 1e-code-signing-clientauth 1e-code-signing usage.ext_key_usage "${ECS[@]}" eku=clientAuth
mk 1e-code-signing-no-ds 1e-code-signing usage.key_usage "${ECS[@]}" ku=keyEncipherment
mk 1e-code-signing-dns 1e-code-signing san.allow_dns "${ECS[@]}" san=DNS:sign.acme.local
mk 1e-code-signing-ecdsa 1e-code-signing key.allowed_types "${ECS[@]}" key=ec256

# safeq-ssl: serverAuth, ds+ke, a SAN with every address (wildcards, IPs), any CN
SQ=(cn="YSoft SafeQ" eku=serverAuth san="DNS:*.company.com,IP:1.2.3.4")
family safeq-ssl safeq-ssl ca-issued -- "${SQ[@]}"
mk safeq-ssl-no-cn safeq-ssl subject.cn "${SQ[@]}" subj=/O=YSoft
mk safeq-ssl-no-san safeq-ssl san.require cn="YSoft SafeQ" eku=serverAuth
mk safeq-ssl-no-ke safeq-ssl usage.key_usage "${SQ[@]}" ku=digitalSignature
mk safeq-ssl-clientauth safeq-ssl usage.ext_key_usage "${SQ[@]}" eku=clientAuth
mk safeq-ssl-uri safeq-ssl san.allow_uri "${SQ[@]}" san="DNS:safeq.company.com,URI:https://safeq.company.com/"
mk safeq-ssl-ecdsa safeq-ssl key.allowed_types "${SQ[@]}" key=ec256 ku=digitalSignature

# safeq-signing: digitalSignature; self-signed allowed (generateCertificate.ps1)
SG=(cn="YSoft SafeQ" san="DNS:*.company.com,IP:1.2.3.4" ku=digitalSignature)
family safeq-signing safeq-signing - -- "${SG[@]}"
mk safeq-signing-no-cn safeq-signing subject.cn "${SG[@]}" subj=/O=YSoft
mk safeq-signing-no-ds safeq-signing usage.key_usage "${SG[@]}" ku=keyEncipherment
mk safeq-signing-email safeq-signing san.allow_email "${SG[@]}" san=email:safeq@company.com
mk safeq-signing-ecdsa safeq-signing key.allowed_types "${SG[@]}" key=ec256

# defender-sensor: RSA 2048/4096, SHA256RSA, C+O+OU, CN = domain name, http CDP to a .crl
DSUBJ="/C=US/O=Contoso Inc./OU=Contoso Labs"
DEF=(subj="$DSUBJ/CN=Sensor.contoso.com" eku=serverAuth san=DNS:Sensor.contoso.com)
family defender-sensor defender-sensor ca-issued,rsa-issuer -- "${DEF[@]}"
mk defender-sensor-wildcard defender-sensor - subj="$DSUBJ/CN=*.contoso.com" eku=serverAuth san=DNS:*.contoso.com
mk defender-sensor-no-ou defender-sensor subject.require subj="/C=US/O=Contoso Inc./CN=Sensor.contoso.com" eku=serverAuth san=DNS:Sensor.contoso.com
mk defender-sensor-no-c defender-sensor subject.require subj="/O=Contoso Inc./OU=Contoso Labs/CN=Sensor.contoso.com" eku=serverAuth san=DNS:Sensor.contoso.com
mk defender-sensor-cn-label defender-sensor subject.cn subj="$DSUBJ/CN=Sensor 1" eku=serverAuth san=DNS:Sensor.contoso.com
mk defender-sensor-rsa3072 defender-sensor key.allowed_bits "${DEF[@]}" key=rsa3072
mk defender-sensor-ecdsa defender-sensor key.allowed_types "${DEF[@]}" key=ec256 ku=digitalSignature
mk defender-sensor-sha384 defender-sensor signature.allowed "${DEF[@]}" md=sha384
mk defender-sensor-cdp-not-crl defender-sensor revocation.crl_distribution_point "${DEF[@]}" cdp=http://crl.corpus.test/issuing
mk defender-sensor-ip-san defender-sensor san.allow_ip "${DEF[@]}" san=DNS:Sensor.contoso.com,IP:10.0.0.5
mk defender-sensor-no-ke defender-sensor usage.key_usage "${DEF[@]}" ku=digitalSignature
mk defender-sensor-clientauth defender-sensor usage.ext_key_usage "${DEF[@]}" eku=clientAuth

# --- validation: what the appliance does (004 troubleshooting table) --------------------
DGOOD=("${DEF[@]}")
mk v-expired defender-sensor validation.expiry "${DGOOD[@]}" start=20251001000000Z end=20261115000000Z
mk v-not-yet-valid defender-sensor validity.backdate,validation.expiry "${DGOOD[@]}" start=20270101000000Z end=20271201000000Z
mk v-good defender-sensor - "${DGOOD[@]}"
mk v-revoked defender-sensor validation.revocation "${DGOOD[@]}"
# revoke v-revoked (keyCompromise) and publish the issuing CA's CRL
openssl ca -config out/ca.cnf -cert out/issuing.crt -keyfile out/issuing.key -revoke v-revoked.crt -crl_reason keyCompromise 2>/dev/null
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

# The case file gets per-case extras: crl= (given CRL file), fetch= (serve the CRL at the CDP
# or not), keyfile=, pfx=, pass=, chain=.
sed -i 's#^v-revoked.crt .*#& crl=issuing.crl.pem#' cases.txt
sed -i 's#^v-good.crt .*#& crl=issuing.crl.pem#' cases.txt
mk v-unreachable-crl defender-sensor validation.revocation "${DGOOD[@]}" extra=fetch=unreachable
mk v-fetched-crl defender-sensor - "${DGOOD[@]}" extra=fetch=serve
mk v-wrong-key defender-sensor validation.key "${DGOOD[@]}" extra=keyfile=out/rsa2048b.key
mk v-wrong-passphrase defender-sensor validation.key "${DGOOD[@]}" extra="keyfile=out/rsa2048-enc.key pass=wrong-pass"
mk v-right-passphrase defender-sensor - "${DGOOD[@]}" extra="keyfile=out/rsa2048-enc.key pass=corpus-pass"
mk v-wrong-root defender-sensor validation.chain "${DGOOD[@]}" extra=chain=other-chain.pem
# a .pfx made by openssl (AES, the OpenSSL 3 default), and the wrong passphrase for it
openssl pkcs12 -export -in v-good.crt -inkey out/rsa2048.key -certfile chain.pem -name "Sensor.contoso.com" -passout pass:corpus-pass -out v-good.pfx
echo "v-good.pfx defender-sensor - pfx=v-good.pfx pass=corpus-pass" >> cases.txt
echo "v-good.pfx defender-sensor passphrase pfx=v-good.pfx pass=wrong-pass" >> cases.txt

# keys the cases refer to, kept; everything else of out/ goes
mkdir -p keys
for k in rsa2048 rsa2048b rsa2048-enc rsa1024 rsa3072 ec256; do cp out/$k.key keys/; done
sed -i 's#key=\([a-z0-9-]*\)\.key#key=keys/\1.key#; s#keyfile=out/#keyfile=keys/#' cases.txt
cp out/root.crt root.crt; cp out/other-root.crt other-root.crt
rm -rf out
echo "make.sh: $(wc -l < cases.txt) cases"
