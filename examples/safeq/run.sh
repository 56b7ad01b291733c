#!/usr/bin/env bash
# YSoft SafeQ certificates end to end: a CA, the access-token signing
# certificate made with the generateCertificate.ps1 example exactly as the
# vendor prints it, and the SSL server certificate with every address in its
# SAN, and the self-signed signing certificate the script itself makes.
# Every file is checked with openssl and certmint check; the rules are those
# of Y Soft's "YSoft SafeQ: Generating certificate for signing access
# tokens/secured SSL connection" (see README.md).
#
# Usage: run.sh [CERTMINT] [WORKDIR]
#   CERTMINT  the certmint binary (default: certmint on PATH)
#   WORKDIR   an empty or new folder for the CA and the files (default: a new temporary folder)
set -euo pipefail

# example_setup: $certmint, the work folder, the demo secrets; step, ok,
# fail and shows (../lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
example_setup safeq "$@"

root=pki/company-root-ca/ca.crt
issuing=pki/company-issuing-ca/ca.crt

# text CRT: openssl x509 -text of a certificate.
text() { openssl x509 -in "$1" -noout -text; }

# friendly PFX PASSWORD NAME: the .pfx opens with PASSWORD, holds the key,
# the leaf and both CAs, and carries friendlyName NAME.
friendly() {
  local info key
  info=$(openssl pkcs12 -info -in "$1" -nokeys -passin "pass:$2" 2>&1) || fail "openssl pkcs12 -info $1"
  key=$(openssl pkcs12 -in "$1" -nocerts -nodes -passin "pass:$2" 2>/dev/null) || fail "openssl pkcs12 -nocerts $1"
  grep -qF "friendlyName: $3" <<<"$info" || fail "$1: openssl pkcs12 -info does not show friendlyName: $3"
  [[ $(grep -c 'BEGIN CERTIFICATE' <<<"$info") == 3 ]] || fail "$1 does not hold the certificate and both CAs"
  grep -q 'BEGIN PRIVATE KEY' <<<"$key" || fail "$1 holds no private key"
  ok "openssl pkcs12 -info $1: friendlyName: $3, the private key, the certificate and both CAs"
}

step "certmint init: a root CA and an issuing CA"
# rsa:2048 keeps the demo quick; the default, rsa:4096, is what a real CA wants.
"$certmint" init --root-cn "Company Root CA" --issuing-cn "Company Issuing CA" \
  --base-url http://pki.company.com --org "Company" --country CZ --key rsa:2048
[[ -f $root && -f $issuing ]] || fail "certmint init did not write $root and $issuing"

step "the signing certificate: the generateCertificate.ps1 example of the SafeQ documentation, as printed"
# The documentation warns: "Do not use this example for production. The
# password in the example is not secure." certmint warns about a password on
# the command line too; the SSL certificate below takes it from
# CERTMINT_PASSWORD instead.
mkdir -p signing
(
  cd signing
  "$certmint" safeq -Subject "YSoft SafeQ" -FriendlyName "YSoft SafeQ Signing Certificate" -Password "123456" -SubjectAlternativeNames "*.company.com", "1.2.3.4"
)
signing="signing/YSoft SafeQ Signing Certificate"
[[ -f "$signing.pfx" ]] || fail "no file named after the FriendlyName: $signing.pfx"
ok "$signing.pfx (\"The certificate will be stored in a file named after FriendlyName\")"
friendly "$signing.pfx" 123456 "YSoft SafeQ Signing Certificate"
openssl verify -CAfile "$root" -untrusted "$issuing" "$signing.crt" >/dev/null || fail "openssl verify $signing.crt"
ok "openssl verify $signing.crt: issued by the CA, not self-signed"
shows "$signing.crt" "Subject: CN = YSoft SafeQ" "DNS:*.company.com, IP Address:1.2.3.4" "Digital Signature"
if text "$signing.crt" | grep -qF "TLS Web Server Authentication"; then
  fail "$signing.crt allows server authentication (\"The signing certificate is NOT the certificate that is used for HTTPS.\")"
fi
ok "$signing.crt is not a server certificate"

step "the SSL certificate (safeq-ssl): serverAuth, every address clients use in the SAN"
mkdir -p ssl
"$certmint" safeq --ssl --subject safeq.company.com --friendly-name "YSoft SafeQ SSL Certificate" \
  --san myserver1.company.com --san "*.company.com" --san 1.2.3.4 --out ssl
ssl="ssl/YSoft SafeQ SSL Certificate"
friendly "$ssl.pfx" "$CERTMINT_PASSWORD" "YSoft SafeQ SSL Certificate"
shows "$ssl.crt" "Subject: CN = safeq.company.com" "TLS Web Server Authentication" "Digital Signature, Key Encipherment" \
  "DNS:safeq.company.com, DNS:myserver1.company.com, DNS:*.company.com, IP Address:1.2.3.4"
for name in safeq.company.com myserver1.company.com printer7.company.com; do
  openssl verify -CAfile "$root" -untrusted "$issuing" -purpose sslserver -verify_hostname "$name" "$ssl.crt" >/dev/null ||
    fail "openssl verify -verify_hostname $name $ssl.crt"
done
openssl verify -CAfile "$root" -untrusted "$issuing" -purpose sslserver -verify_ip 1.2.3.4 "$ssl.crt" >/dev/null ||
  fail "openssl verify -verify_ip 1.2.3.4 $ssl.crt"
ok "openssl verify -purpose sslserver: safeq.company.com, myserver1.company.com, printer7.company.com (wildcard), 1.2.3.4"
if openssl verify -CAfile "$root" -untrusted "$issuing" -verify_hostname printer.other.org "$ssl.crt" >/dev/null 2>&1; then
  fail "$ssl.crt verifies for a name outside its SAN"
fi
ok "a name outside the SAN is refused, as SafeQ clients refuse it"

step "certmint check: each .pfx against its template and its chain"
out=$(CERTMINT_PASSWORD=123456 "$certmint" check --template safeq-signing --pfx "$signing.pfx") ||
  fail "certmint check --template safeq-signing: $out"
ok "certmint check --template safeq-signing --pfx '$signing.pfx': $(tail -1 <<<"$out")"
out=$("$certmint" check --template safeq-ssl --pfx "$ssl.pfx") || fail "certmint check --template safeq-ssl: $out"
ok "certmint check --template safeq-ssl --pfx '$ssl.pfx': $(tail -1 <<<"$out")"

step "the signing certificate self-signed, as generateCertificate.ps1 makes it: the document allows it"
# Only the signing certificate: the SSL one should come from a CA (advice),
# "since server identity is not guaranteed" with a self-signed one.
mkdir -p signing-self-signed
"$certmint" safeq --self-signed -Subject "YSoft SafeQ" -FriendlyName "YSoft SafeQ Signing Certificate" \
  -SubjectAlternativeNames "*.company.com", "1.2.3.4" --out signing-self-signed
selfsigned="signing-self-signed/YSoft SafeQ Signing Certificate"
[[ $(openssl x509 -in "$selfsigned.crt" -noout -subject | sed 's/^subject=//') == "$(openssl x509 -in "$selfsigned.crt" -noout -issuer | sed 's/^issuer=//')" ]] ||
  fail "$selfsigned.crt is not self-signed"
openssl pkcs12 -info -in "$selfsigned.pfx" -nokeys -passin env:CERTMINT_PASSWORD 2>&1 |
  grep -qF "friendlyName: YSoft SafeQ Signing Certificate" || fail "$selfsigned.pfx: openssl pkcs12 -info does not show its friendlyName"
ok "$selfsigned.pfx: self-signed (issuer = subject), friendlyName: YSoft SafeQ Signing Certificate"
out=$("$certmint" check --template safeq-signing --pfx "$selfsigned.pfx") || fail "certmint check --template safeq-signing (self-signed): $out"
grep -qF "self-signed, which the template allows" <<<"$out" || fail "certmint check does not say the template allows a self-signed certificate: $out"
grep -F "validation.chain" <<<"$out" | sed 's/^/   | /'
ok "certmint check --template safeq-signing --pfx '$selfsigned.pfx': $(tail -1 <<<"$out")"

step "the CA certificates, one base-64 .cer per CA, beside each .pfx"
for cer in ssl/company-root-ca.cer ssl/company-issuing-ca.cer signing/company-root-ca.cer; do
  [[ $(grep -c 'BEGIN CERTIFICATE' "$cer") == 1 ]] || fail "$cer must hold one certificate"
done
ok "ssl/*.cer, signing/*.cer"

cat <<EOF

== where the files are ($work) and where each goes
  signing/YSoft SafeQ Signing Certificate.pfx
      the access-token signing certificate: give this same file (and its password) to the installer of
      every Job Service in the roaming group ("The same signing certificate must be used during the
      installation of every job service in the near roaming group")
  signing-self-signed/YSoft SafeQ Signing Certificate.pfx
      the same, self-signed as generateCertificate.ps1 makes it: use one of the two, not both
  ssl/YSoft SafeQ SSL Certificate.pfx
      the SSL certificate of the Job Service / Client V3 in server mode; on Windows:
      Import-PfxCertificate -FilePath "ssl\\YSoft SafeQ SSL Certificate.pfx" -CertStoreLocation Cert:\\LocalMachine\\My -Password (Read-Host -AsSecureString)
  ssl/company-root-ca.cer, ssl/company-issuing-ca.cer
      every server and client that connects: Trusted Root CAs and Intermediate CAs, e.g.
      Import-Certificate -FilePath ssl\\company-root-ca.cer -CertStoreLocation Cert:\\LocalMachine\\Root
  pki/public/   serve at http://pki.company.com (see examples/publish)
The signing .pfx password is the example's 123456; the self-signed and SSL .pfx password is \$CERTMINT_PASSWORD ($CERTMINT_PASSWORD).
All SafeQ certificates verified with openssl.
EOF
