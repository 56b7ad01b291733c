#!/usr/bin/env bash
# Microsoft Defender for IoT certificates end to end: a CA, one certificate
# per appliance (two sensors and the on-premises management console, one of
# them through a CSR), the document's own openssl test commands on every
# file, a revocation that openssl's CRL check then reports, as the
# appliance's validation would, and a certificate without a CDP for a site
# that does not validate. The rules are those of Microsoft's "Microsoft
# Defender for IoT: Certificate requirements" (see README.md).
#
# Usage: run.sh [CERTMINT] [WORKDIR]
#   CERTMINT  the certmint binary (default: certmint on PATH)
#   WORKDIR   an empty or new folder for the CA and the files (default: a new temporary folder)
set -euo pipefail

# example_setup: $certmint, the work folder, the demo secrets; step, ok,
# fail and shows (../lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
example_setup defender "$@"

root=pki/contoso-root-ca/ca.crt
issuing=pki/contoso-issuing-ca/ca.crt
# No port in the base URL: the CDP is on HTTP port 80, where the appliance
# looks by default (Port access requirements for certificate validation:
# "the certificate will reference the CRL URL on HTTP port 80").
cdp=http://pki.contoso.com/contoso-issuing-ca.crl

# check_crt DIR NAME: the document's "Check a certificate" and "Check a
# private key" commands, and every row of its CRT file requirements.
check_crt() {
  local crt=$1/$2.crt key=$1/$2.key chain=$1/$2-chain.pem t
  t=$(openssl x509 -in "$crt" -text -noout) || fail "openssl x509 -in $crt -text -noout"
  for want in "Signature Algorithm: sha256WithRSAEncryption" "Public Key Algorithm: rsaEncryption" "Public-Key: (2048 bit)" \
    "URI:$cdp" "Subject: C = US, O = Contoso Inc., OU = Contoso Labs, CN = $2" "DNS:$2"; do
    grep -qF -- "$want" <<<"$t" || fail "$crt: openssl x509 -text does not show: $want"
  done
  # Valid to in the future: -checkend 0. Valid from in the past: openssl
  # verify below refuses a certificate that is "not yet valid".
  openssl x509 -in "$crt" -noout -checkend 0 >/dev/null || fail "$crt: Valid to is not in the future"
  ok "openssl x509 -in $crt -text -noout: SHA256RSA, valid from the past to the future, RSA 2048, CDP $cdp, C, O, OU and CN"
  [[ -f $key ]] || fail "no $key"
  openssl rsa -in "$key" -check -noout 2>&1 | grep -q "RSA key ok" || fail "openssl rsa -in $key -check"
  [[ $(openssl pkey -in "$key" -pubout) == "$(openssl x509 -in "$crt" -noout -pubkey)" ]] || fail "$key does not belong to $crt"
  ok "openssl rsa -in $key -check: RSA key ok, and it is the key of $crt"
  [[ $(grep -c 'BEGIN CERTIFICATE' "$chain") == 2 ]] || fail "$chain must hold the issuing CA and the root"
  openssl verify -CAfile "$root" -untrusted "$chain" -purpose sslserver "$crt" >/dev/null || fail "openssl verify $crt with $chain"
  ok "$chain: the CAs of the chain of trust, and it correlates to $crt"
}

# certmint_check DIR NAME: certmint check, the appliance's validation before
# the upload (every requirement of the template, the chain, the key, the
# expiry and the published CRLs).
certmint_check() {
  "$certmint" check --template defender-sensor --cert "$1/$2.crt" --key "$1/$2.key" --chain "$1/$2-chain.pem" \
    --crl pki/public/contoso-issuing-ca.crl --crl pki/public/contoso-root-ca.crl
}

# verify_crl CRT: openssl's validation against the published CRLs, the
# expiry date and the chain of trust, as the appliance validates.
verify_crl() {
  openssl verify -crl_check_all -CAfile "$root" -untrusted "$issuing" \
    -CRLfile pki/public/contoso-root-ca.crl.pem -CRLfile pki/public/contoso-issuing-ca.crl.pem "$1" 2>&1
}

step "certmint init: a root CA and an issuing CA, the CRLs at http://pki.contoso.com"
# rsa:2048 keeps the demo quick; the default, rsa:4096, is what a real CA wants.
# The issuing CA must be RSA: the CRT file requirements ask for "Signature
# Algorithm = SHA256RSA".
# --country, --org and --ou become the home's subject defaults ([subject] in
# pki/certmint.toml): every defender-sensor request gets the C, O and OU that
# the CRT file requirements ask for without typing --subject.
"$certmint" init --root-cn "Contoso Root CA" --issuing-cn "Contoso Issuing CA" \
  --base-url http://pki.contoso.com --org "Contoso Inc." --ou "Contoso Labs" --country US --key rsa:2048
[[ -f $root && -f $issuing ]] || fail "certmint init did not write $root and $issuing"

step "sensor 1 (defender-sensor): .crt, .key and the chain .pem"
mkdir -p sensor1
"$certmint" issue --template defender-sensor --cn sensor1.contoso.com --out sensor1
check_crt sensor1 sensor1.contoso.com
out=$(certmint_check sensor1 sensor1.contoso.com) || fail "certmint check sensor1: $out"
sed 's/^/   | /' <<<"$out"
# The three parts the README describes; advice never changes the result.
for want in "Requirements, from Microsoft Defender for IoT: Certificate requirements:" "[CRT file requirements]" \
  "Validation:" "[About certificate validation]" "Advice (" "All requirements met."; do
  grep -qF -- "$want" <<<"$out" || fail "certmint check sensor1 does not print: $want"
done
ok "certmint check: sensor1's files meet every requirement and will pass the appliance's validation"

step "the on-premises management console: its own certificate"
mkdir -p console
"$certmint" issue --template defender-sensor --cn console.contoso.com --out console
check_crt console console.contoso.com
certmint_check console console.contoso.com >/dev/null || fail "certmint check console: $(certmint_check console console.contoso.com)"
ok "certmint check console"

step "sensor 2 through a certificate request, as for an enterprise CA"
mkdir -p sensor2
"$certmint" csr --template defender-sensor --cn sensor2.contoso.com --out sensor2
out=$(openssl req -text -noout -verify -in sensor2/sensor2.contoso.com.csr 2>&1) || fail "openssl req -verify sensor2/sensor2.contoso.com.csr"
grep -q "verify OK" <<<"$out" || fail "the request's signature does not verify"
grep -qF "Subject: C = US, O = Contoso Inc., OU = Contoso Labs, CN = sensor2.contoso.com" <<<"$out" || fail "the request's subject lacks C, O, OU or CN"
ok "openssl req -text -noout -verify -in sensor2/sensor2.contoso.com.csr: verify OK, C, O, OU and CN"
"$certmint" sign --template defender-sensor --csr sensor2/sensor2.contoso.com.csr --out sensor2
check_crt sensor2 sensor2.contoso.com

step "one certificate per appliance: a second one for sensor 1 is refused"
if msg=$("$certmint" issue --template defender-sensor --cn sensor1.contoso.com --out console 2>&1); then
  fail "a second certificate for sensor1.contoso.com was issued"
fi
grep -q -- "--force" <<<"$msg" || fail "the refusal does not say what to do: $msg"
sed 's/^/   | /' <<<"$msg"
ok "refused, with a hint (renew it, or --force)"

step "the CDP names a file in pki/public/, which must be served on port 80"
[[ -f pki/public/$(basename "$cdp") ]] || fail "pki/public/$(basename "$cdp") is missing"
ok "pki/public/$(basename "$cdp") is what $cdp must return"

step "revocation: openssl's CRL check passes, then fails after certmint revoke"
for crt in sensor1/sensor1.contoso.com.crt sensor2/sensor2.contoso.com.crt; do
  verify_crl "$crt" >/dev/null || fail "openssl verify -crl_check_all $crt (before revocation): $(verify_crl "$crt")"
done
ok "openssl verify -crl_check_all: sensor1 and sensor2 are good"
"$certmint" revoke --cert sensor2/sensor2.contoso.com.crt --reason keyCompromise
"$certmint" crl
if out=$(verify_crl sensor2/sensor2.contoso.com.crt); then
  fail "sensor2's certificate still verifies after its revocation"
fi
grep -q "certificate revoked" <<<"$out" || fail "openssl did not report the revocation: $out"
ok "openssl verify -crl_check_all sensor2: certificate revoked (the appliance: \"This certificate has been revoked by the CRL\")"
verify_crl sensor1/sensor1.contoso.com.crt >/dev/null || fail "sensor1 no longer verifies"
ok "openssl verify -crl_check_all sensor1: still good"
if out=$(certmint_check sensor2 sensor2.contoso.com); then
  fail "certmint check passes sensor2 after its revocation"
fi
grep -qF "This certificate has been revoked by the CRL and cannot be trusted for a secure connection" <<<"$out" ||
  fail "certmint check does not give Defender's message for a revoked certificate: $out"
sed -n '/FAIL/,/Defender for IoT reports/p' <<<"$out" | sed 's/^/   | /'
ok "certmint check sensor2: refused, with the message Defender for IoT would show"

step "a site without certificate validation: --no-cdp at issue and at check"
# Create certificates: "If you are not carrying out certificate validation,
# remove the CRL URL reference in the certificate."
mkdir -p lab
"$certmint" issue --template defender-sensor --cn lab.contoso.com --no-cdp --out lab
if openssl x509 -in lab/lab.contoso.com.crt -noout -text | grep -qF "CRL Distribution Points"; then
  fail "lab/lab.contoso.com.crt has a CRL distribution point despite --no-cdp"
fi
ok "lab/lab.contoso.com.crt: no CRL distribution point"
nocdp_check() {
  "$certmint" check --template defender-sensor "$@" --cert lab/lab.contoso.com.crt --key lab/lab.contoso.com.key \
    --chain lab/lab.contoso.com-chain.pem
}
if out=$(nocdp_check); then
  fail "certmint check without --no-cdp passes a certificate with no CDP"
fi
grep -qF "FAIL  revocation.crl_distribution_point" <<<"$out" || fail "certmint check does not fail the missing CDP: $out"
ok "certmint check without --no-cdp: FAIL revocation.crl_distribution_point (the site validates, so the CDP is required)"
out=$(nocdp_check --no-cdp) || fail "certmint check --no-cdp lab.contoso.com: $out"
grep -F "revocation.crl_distribution_point" <<<"$out" | sed 's/^/   | /'
ok "certmint check --no-cdp: $(tail -1 <<<"$out")"

cat <<EOF

== where the files are ($work) and where each goes
  sensor1/sensor1.contoso.com.crt, .key, -chain.pem   upload on sensor1 (the SSL/TLS Certificates dialog)
  console/console.contoso.com.crt, .key, -chain.pem   upload on the on-premises management console
  sensor2/                                            revoked in this demo: issue a new one before uploading
  lab/lab.contoso.com.crt, .key, -chain.pem           an appliance at a site without certificate validation (no CDP)
  pki/public/   serve at http://pki.contoso.com on port 80 (certmint serve --addr :80, or see examples/publish);
                every appliance that validates certificates must reach $cdp, or validation fails
All Defender for IoT files verified with openssl.
EOF
