#!/usr/bin/env bash
# A 1E lab PKI end to end: a CA, then one certificate for each kind of 1E
# device (domain-joined Windows, workgroup Windows, Linux, macOS), the Switch
# and web server, and a code-signing certificate for custom instructions.
# Every file is checked with openssl and certmint check; the rules are those
# of 1E's "1E 23.11: Certificate requirements" and "1E Client for macOS"
# (see README.md).
#
# Usage: run.sh [CERTMINT] [WORKDIR]
#   CERTMINT  the certmint binary (default: certmint on PATH)
#   WORKDIR   an empty or new folder for the CA and the files (default: a new temporary folder)
set -euo pipefail

# example_setup: $certmint, the work folder, the demo secrets; step, ok,
# fail and shows (../lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
example_setup 1e-lab "$@"

root=pki/acme-lab-root-ca/ca.crt
issuing=pki/acme-lab-issuing-ca/ca.crt
cdp=http://pki.acme.local/acme-lab-issuing-ca.crl

# verify CRT PURPOSE: the chain to the root, for the purpose (sslclient, sslserver, any).
verify() {
  openssl verify -CAfile "$root" -untrusted "$issuing" -purpose "$2" "$1" >/dev/null ||
    fail "openssl verify -purpose $2 $1"
  ok "openssl verify -purpose $2 $1"
}

# pfx_holds PFX CERTS: the .pfx opens with the bundle password and holds the
# private key and CERTS certificates (leaf, issuing CA, root).
pfx_holds() {
  local info certs key
  info=$(openssl pkcs12 -info -noout -in "$1" -passin env:CERTMINT_PASSWORD 2>&1) || fail "openssl pkcs12 -info $1"
  certs=$(openssl pkcs12 -in "$1" -nokeys -passin env:CERTMINT_PASSWORD 2>/dev/null) || fail "openssl pkcs12 -nokeys $1"
  key=$(openssl pkcs12 -in "$1" -nocerts -nodes -passin env:CERTMINT_PASSWORD 2>/dev/null) || fail "openssl pkcs12 -nocerts $1"
  [[ $(grep -c 'BEGIN CERTIFICATE' <<<"$certs") == "$2" ]] || fail "$1 does not hold $2 certificates"
  grep -q 'BEGIN PRIVATE KEY' <<<"$key" || fail "$1 holds no private key; the device (or TIMS) needs it in the .pfx"
  ok "openssl pkcs12 $1: the private key and $2 certificates ($(grep -m1 'PKCS7 Encrypted data' <<<"$info"))"
}

step "certmint init: a root CA and an issuing CA, CRLs published over http"
# rsa:2048 keeps the demo quick; the default, rsa:4096, is what a real CA wants.
"$certmint" init --root-cn "ACME Lab Root CA" --issuing-cn "ACME Lab Issuing CA" \
  --base-url http://pki.acme.local --org "ACME Lab" --country US --key rsa:2048
[[ -f $root && -f $issuing ]] || fail "certmint init did not write $root and $issuing"

step "1E Switch and web server (1e-switch): serverAuth, every name in the SAN, issued by the CA"
mkdir -p switch
"$certmint" issue --template 1e-switch --cn tachyon.acme.local --san tachyon.acme.com --out switch
verify switch/tachyon.acme.local.crt sslserver
shows switch/tachyon.acme.local.crt "TLS Web Server Authentication" "DNS:tachyon.acme.local, DNS:tachyon.acme.com" \
  "URI:$cdp" "Issuer: C = US, O = ACME Lab, CN = ACME Lab Issuing CA"
pfx_holds switch/tachyon.acme.local.pfx 3

step "domain-joined Windows PC (1e-client): CN and SAN = the FQDN"
mkdir -p windows-domain
"$certmint" issue --template 1e-client --cn W701.ACME.LOCAL --out windows-domain
verify windows-domain/W701.ACME.LOCAL.crt sslclient
shows windows-domain/W701.ACME.LOCAL.crt "Subject: CN = W701.ACME.LOCAL" "DNS:W701.ACME.LOCAL" \
  "TLS Web Client Authentication" "Digital Signature, Key Encipherment" "URI:$cdp" "sha256WithRSAEncryption"
pfx_holds windows-domain/W701.ACME.LOCAL.pfx 3

step "workgroup Windows PC (1e-client-workgroup): CN = the host name as hostname prints it"
mkdir -p windows-workgroup
# install-windows, offered by the template: W702-install.ps1 imports the .pfx and both CAs on the PC.
"$certmint" issue --template 1e-client-workgroup --cn W702 --format pfx,crt,chain,cer,install-windows --out windows-workgroup
verify windows-workgroup/W702.crt sslclient
shows windows-workgroup/W702.crt "Subject: CN = W702" "DNS:W702" "TLS Web Client Authentication" \
  "Digital Signature, Key Encipherment" "URI:$cdp"
pfx_holds windows-workgroup/W702.pfx 3
ps1=windows-workgroup/W702-install.ps1
for want in "#Requires -RunAsAdministrator" "Import-PfxCertificate" "Store = 'Root'" "Store = 'CA'" \
  "Thumbprint = '$(openssl x509 -in windows-workgroup/W702.crt -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')'"; do
  grep -qF -- "$want" "$ps1" || fail "$ps1 lacks: $want"
done
ok "$ps1: the .pfx into LocalMachine\\My, the root into Root, the issuing CA into CA, by thumbprint; on W702, as Administrator:"
echo "   powershell.exe -ExecutionPolicy Bypass -File .\\W702-install.ps1"

step "Linux device (1e-client-workgroup): the .pfx goes into the 1E Client's folders"
mkdir -p linux
# install-linux, offered by the template: a script that copies the .pfx into the client's folder.
"$certmint" issue --template 1e-client-workgroup --cn ubuntu-01 --format pfx,crt,chain,cer,install-linux --out linux
verify linux/ubuntu-01.crt sslclient
shows linux/ubuntu-01.crt "Subject: CN = ubuntu-01" "DNS:ubuntu-01" "TLS Web Client Authentication" "URI:$cdp"
pfx_holds linux/ubuntu-01.pfx 3
# Run it here against a stand-in for the 1E Client's folder, twice: the second run finds the file.
mkdir -p linux/device/1E-client
out=$(sh linux/ubuntu-01-install-linux.sh linux/device/1E-client) || fail "ubuntu-01-install-linux.sh: $out"
grep -q "^Installed: " <<<"$out" || fail "ubuntu-01-install-linux.sh did not install: $out"
out=$(sh linux/ubuntu-01-install-linux.sh linux/device/1E-client) || fail "ubuntu-01-install-linux.sh (again): $out"
grep -q "^Already present: " <<<"$out" || fail "ubuntu-01-install-linux.sh, run again, did not find the .pfx: $out"
cmp -s linux/ubuntu-01.pfx linux/device/1E-client/ubuntu-01.pfx || fail "the installed .pfx differs from the bundle's"
ok "sh linux/ubuntu-01-install-linux.sh FOLDER: installed, 0600; run again: $(head -1 <<<"$out")"

step "Mac (1e-client-macos): CN exactly as typed, a .pfx that security import reads, one .cer per CA"
mkdir -p macos
# install-macos and mobileconfig, offered by the template, beside its default files.
"$certmint" issue --template 1e-client-macos --cn MAC01.local --format pfx,crt,cer,note,install-macos,mobileconfig --out macos
verify macos/MAC01.local.crt sslclient
shows macos/MAC01.local.crt "Subject: CN = MAC01.local" "DNS:MAC01.local" "TLS Web Client Authentication" "URI:$cdp"
pfx_holds macos/MAC01.local.pfx 3
info=$(openssl pkcs12 -info -noout -in macos/MAC01.local.pfx -passin env:CERTMINT_PASSWORD 2>&1)
for want in "MAC: sha1" "pbeWithSHA1And3-KeyTripleDES-CBC"; do
  grep -qF "$want" <<<"$info" || fail "macos/MAC01.local.pfx: openssl pkcs12 -info lacks $want (macOS security import needs 3DES and a SHA-1 MAC)"
done
ok "macos/MAC01.local.pfx: 3DES and a SHA-1 MAC, as macOS security import reads"
for cer in macos/acme-lab-root-ca.cer macos/acme-lab-issuing-ca.cer; do
  [[ $(grep -c 'BEGIN CERTIFICATE' "$cer") == 1 ]] || fail "$cer must hold exactly one certificate (Keychain imports only the last of a bundle)"
  openssl x509 -in "$cer" -noout || fail "$cer is not a base-64 certificate"
done
openssl verify -CAfile macos/acme-lab-root-ca.cer -untrusted macos/acme-lab-issuing-ca.cer macos/MAC01.local.crt >/dev/null ||
  fail "the .cer files do not verify the Mac's certificate"
ok "macos/*.cer: one base-64 certificate each, and they verify MAC01.local.crt"
note=macos/MAC01.local-install.txt
grep -qF "security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain 'acme-lab-root-ca.cer'" "$note" ||
  fail "$note lacks the add-trusted-cert command for the root"
grep -qF "security import 'MAC01.local.pfx' -k /Library/Keychains/System.keychain -t agg -f pkcs12" "$note" ||
  fail "$note lacks the security import command"
grep -qF -- "-T '/Library/Application Support/1E/Client/1E.Client'" "$note" || fail "$note does not give the 1E Client access to the key"
echo "   the install note to follow on the Mac ($note):"
sed 's/^/   | /' "$note"
script=macos/MAC01.local-install-macos.sh
bash -n "$script" || fail "$script does not parse"
for want in "security add-trusted-cert -d -r trustRoot -k \"\$KEYCHAIN\" \"\$file\"" \
  "security import \"\$here/\$PFX_FILE\" -k \"\$KEYCHAIN\" -t agg -f pkcs12 -P \"\$password\" -T \"\$CLIENT\"" \
  "CN='MAC01.local'"; do
  grep -qF -- "$want" "$script" || fail "$script lacks: $want"
done
ok "$script: the same commands, after checking the Mac's host name is MAC01.local; on the Mac: sudo bash ./MAC01.local-install-macos.sh"
profile=macos/MAC01.local.mobileconfig
for want in "<string>com.apple.security.root</string>" "<string>com.apple.security.pkcs1</string>" \
  "<string>com.apple.security.pkcs12</string>" "<string>System</string>" "<string>local.acme.pki.certmint.MAC01.local</string>"; do
  grep -qF -- "$want" "$profile" || fail "$profile lacks: $want"
done
ok "$profile: root, issuing CA and identity payloads, System scope, for an MDM (the device asks for the .pfx password)"

step "code signing for custom instructions (1e-code-signing): SHA256RSA, one .pfx for TIMS"
mkdir -p code-signing
"$certmint" issue --template 1e-code-signing --cn "ACME Instruction Signing" --subject "O=ACME Corp" --out code-signing
verify "code-signing/ACME Instruction Signing.crt" any
shows "code-signing/ACME Instruction Signing.crt" "Signature Algorithm: sha256WithRSAEncryption" "Code Signing" \
  "Subject: O = ACME Corp, CN = ACME Instruction Signing" "URI:$cdp"
pfx_holds "code-signing/ACME Instruction Signing.pfx" 3

step "certmint check: each .pfx against its template, its chain and the published CRLs"
out=$("$certmint" check --template 1e-client --pfx windows-domain/W701.ACME.LOCAL.pfx \
  --crl pki/public/acme-lab-issuing-ca.crl --crl pki/public/acme-lab-root-ca.crl) ||
  fail "certmint check --template 1e-client --pfx windows-domain/W701.ACME.LOCAL.pfx: $out"
sed 's/^/   | /' <<<"$out"
# The three parts the README describes, each line naming the document's section.
for want in "Requirements, from 1E 23.11: Certificate requirements:" "[Client authentication certificates]" \
  "Validation:" "Advice (" "All requirements met."; do
  grep -qF -- "$want" <<<"$out" || fail "certmint check --template 1e-client does not print: $want"
done
while IFS='|' read -r template pfx; do
  out=$("$certmint" check --template "$template" --pfx "$pfx" \
    --crl pki/public/acme-lab-issuing-ca.crl --crl pki/public/acme-lab-root-ca.crl) ||
    fail "certmint check --template $template --pfx $pfx: $out"
  ok "certmint check --template $template --pfx '$pfx': $(tail -1 <<<"$out")"
done <<'EOF_LIST'
1e-switch|switch/tachyon.acme.local.pfx
1e-client|windows-domain/W701.ACME.LOCAL.pfx
1e-client-workgroup|windows-workgroup/W702.pfx
1e-client-workgroup|linux/ubuntu-01.pfx
1e-client-macos|macos/MAC01.local.pfx
1e-code-signing|code-signing/ACME Instruction Signing.pfx
EOF_LIST

step "published for the CDP: serve this folder at http://pki.acme.local"
for f in acme-lab-issuing-ca.crl acme-lab-root-ca.crl acme-lab-issuing-ca.crt acme-lab-root-ca.crt; do
  [[ -f pki/public/$f ]] || fail "pki/public/$f is missing"
done
openssl crl -in pki/public/acme-lab-issuing-ca.crl -inform DER -noout -CAfile "$issuing" 2>&1 | grep -q "verify OK" ||
  fail "pki/public/acme-lab-issuing-ca.crl does not verify"
ok "pki/public: the CRLs (verified) and CA certificates the CDP and AIA URLs name"

cat <<EOF

== where the files are ($work) and where each goes
  switch/tachyon.acme.local.pfx        1E server: Local Computer > Personal (the Switch and the IIS web site)
  windows-domain/W701.ACME.LOCAL.pfx   W701: Local Computer > Personal (Import-PfxCertificate -CertStoreLocation Cert:\\LocalMachine\\My)
  windows-domain/*.cer                 every Windows device: the root in Trusted Root CAs, the issuing CA in Intermediate CAs (or by Group Policy)
  windows-workgroup/W702.pfx           W702: Local Computer > Personal, and the two .cer files as above
  windows-workgroup/W702-install.ps1   or run it on W702 as Administrator: it imports the .pfx and the .cer files next to it
  linux/ubuntu-01.pfx                  ubuntu-01: the 1E Client's installation folders ("the client requires the certificate exists as a .pfx file"):
                                       sudo sh ./ubuntu-01-install-linux.sh FOLDER copies it there
  macos/MAC01.local.pfx, macos/*.cer   MAC01.local: follow macos/MAC01.local-install.txt (security add-trusted-cert, security import),
                                       or sudo bash ./MAC01.local-install-macos.sh, or give macos/MAC01.local.mobileconfig to the MDM
  code-signing/ACME Instruction Signing.pfx
                                       the TIMS user's Personal store; register the certificate in your 1E license
  pki/public/                          serve at http://pki.acme.local (see examples/publish); every certificate names $cdp
The .pfx password of this demo is \$CERTMINT_PASSWORD ($CERTMINT_PASSWORD).
All 1E lab certificates verified with openssl.
EOF
