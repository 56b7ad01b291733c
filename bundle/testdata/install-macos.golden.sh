#!/bin/bash
# Installs a certificate bundle made by certmint on this Mac, in the System
# keychain, as 1E Client for macOS (Client certificates, Key Store method) says:
#   "The 1E Client for macOS needs to have the client authentication certificate
#    and the public certificates for the chain of trust for the Tachyon Switch in
#    the System key chain."
# The root CA, trusted, with the document's command:
#   sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain <certificate.cer>
# the issuing CA beside it (security add-certificates), each CA from its own
# .cer file ("They must be exported individually because when presented with a
# bundle of certificates the Keychain Access UI only imports the last one it
# encounters."), then the certificate and its private key, which the 1E Client
# may use, with the document's command:
#   sudo security import <download location>/<macOSpfx>.pfx -k /Library/Keychains/System.keychain -t agg -f pkcs12 -P <password> -T '/Library/Application Support/1E/Client/1E.Client'
# The certificate's subject must be this Mac's host name: "The Subject Name of
# the certificate must be the host name of the mac device." "It must be typed
# exactly as displayed in the certificate request (case-sensitive and including
# any special characters)." The script compares it, case included, with what
# `hostname` prints and with the name Sharing shows ("Computers on your local
# network can access your computer at:", `scutil --get LocalHostName` plus
# .local), and stops when neither is the certificate's unless given
# --ignore-host-name.
# Each step looks for the certificate's SHA-1 hash first (security
# find-certificate -Z, security find-identity): what is already in the keychain
# is left as it is, so the script can be run again. A .cer file whose hash is
# not the one written below is refused before it is trusted.
#
# Usage: sudo bash MAC01.local-install-macos.sh [--password-file FILE] [--ignore-host-name]
# The .pfx password is asked for (not shown) or read from the first line of
# FILE; it is never an argument of this script. It reaches `security import`
# as -P, as the document's command shows, so it is in the process list while
# the import runs.
set -e

# Written by certmint when the certificate was issued: serial 5D3F01, valid until 2031-01-02.
# shellcheck disable=SC2016,SC1112,SC1003 # names are single-quoted literals: nothing in them is expanded
{
  CN='MAC01.local'
  PFX_FILE='MAC01.local.pfx'
  PFX_SHA1='<LEAF-THUMBPRINT>'
  CA_ROLES=('root CA' 'issuing CA')
  CA_ROOT=('1' '0')
  CA_NAMES=('Contoso Root CA' 'Contoso Issuing CA')
  CA_FILES=('contoso-root-ca.cer' 'contoso-issuing-ca.cer')
  CA_SHA1=('<ROOT-CA-THUMBPRINT>' '<ISSUING-CA-THUMBPRINT>')
}

KEYCHAIN=/Library/Keychains/System.keychain
CLIENT='/Library/Application Support/1E/Client/1E.Client'

usage() {
  echo "usage: sudo bash $0 [--password-file FILE] [--ignore-host-name]"
}

die() {
  echo "error: $*" >&2
  exit 1
}

password_file=
ignore_host=0
while [ $# -gt 0 ]; do
  case $1 in
  --password-file)
    [ $# -ge 2 ] || { echo "error: --password-file needs a FILE" >&2; usage >&2; exit 2; }
    password_file=$2
    shift 2
    ;;
  --password-file=*)
    password_file=${1#*=}
    shift
    ;;
  --ignore-host-name)
    ignore_host=1
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "error: unknown argument: $1" >&2
    usage >&2
    exit 2
    ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)

[ "$(id -u)" -eq 0 ] || die "the System keychain can only be changed as root: run sudo bash $0"

# The host name, as 1E compares it: case-sensitive.
host=$(hostname 2>/dev/null || true)
bonjour=$(scutil --get LocalHostName 2>/dev/null || true)
[ -z "$bonjour" ] || bonjour=$bonjour.local
if [ "$CN" != "$host" ] && [ "$CN" != "$bonjour" ]; then
  if [ "$ignore_host" -eq 1 ]; then
    echo "warning: this certificate is for '$CN', not for this Mac ('$host', '$bonjour'); installing it anyway (--ignore-host-name)" >&2
  else
    die "this certificate is for '$CN', but this Mac is '$host' (hostname) and '$bonjour' (System Settings > Sharing); 1E Client for macOS: the subject \"must be typed exactly as displayed in the certificate request (case-sensitive and including any special characters)\". Issue a certificate for this Mac's name, or run again with --ignore-host-name to install it anyway"
  fi
fi

# Every file of the bundle first: nothing is imported from an incomplete copy.
missing=
i=0
while [ "$i" -lt "${#CA_FILES[@]}" ]; do
  [ -f "$here/${CA_FILES[$i]}" ] || missing="$missing ${CA_FILES[$i]}"
  i=$((i + 1))
done
[ -f "$here/$PFX_FILE" ] || missing="$missing $PFX_FILE"
[ -z "$missing" ] || die "these files of the bundle are not next to this script in $here:$missing; copy the whole bundle folder to this Mac"

# has_certificate SHA1: the keychain holds a certificate with that hash.
has_certificate() {
  security find-certificate -a -Z "$KEYCHAIN" 2>/dev/null | grep -qF "SHA-1 hash: $1"
}

# has_identity SHA1: the keychain holds that certificate with its private key.
has_identity() {
  security find-identity "$KEYCHAIN" 2>/dev/null | grep -qF "$1"
}

# sha1_of FILE: the SHA-1 hash of a PEM certificate, as security prints it.
sha1_of() {
  openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'a-f' 'A-F'
}

i=0
while [ "$i" -lt "${#CA_FILES[@]}" ]; do
  file=$here/${CA_FILES[$i]}
  what="${CA_ROLES[$i]} '${CA_NAMES[$i]}' (SHA-1 ${CA_SHA1[$i]})"
  if has_certificate "${CA_SHA1[$i]}"; then
    echo "Already present: $what in $KEYCHAIN"
  else
    got=$(sha1_of "$file") || die "$file is not a certificate"
    [ "$got" = "${CA_SHA1[$i]}" ] || die "$file is not the ${CA_ROLES[$i]} this script was written for: its SHA-1 hash is $got, not ${CA_SHA1[$i]}; nothing was imported from it"
    if [ "${CA_ROOT[$i]}" -eq 1 ]; then
      security add-trusted-cert -d -r trustRoot -k "$KEYCHAIN" "$file"
      has_certificate "${CA_SHA1[$i]}" || die "security add-trusted-cert did not put the $what into $KEYCHAIN"
      echo "Imported: $what into $KEYCHAIN, trusted as a root"
    else
      security add-certificates -k "$KEYCHAIN" "$file"
      has_certificate "${CA_SHA1[$i]}" || die "security add-certificates did not put the $what into $KEYCHAIN"
      echo "Imported: $what into $KEYCHAIN"
    fi
  fi
  i=$((i + 1))
done

what="certificate '$CN' with its private key (SHA-1 $PFX_SHA1)"
if has_identity "$PFX_SHA1"; then
  echo "Already present: $what in $KEYCHAIN"
else
  password=
  if [ -n "$password_file" ]; then
    [ -f "$password_file" ] || die "the password file $password_file does not exist"
    IFS= read -r password <"$password_file" || true
  else
    printf 'Password of %s: ' "$PFX_FILE" >&2
    IFS= read -r -s password || true
    echo >&2
  fi
  password=${password%$'\r'}
  [ -n "$password" ] || die "no password for $PFX_FILE: type it when asked, or give --password-file FILE"
  security import "$here/$PFX_FILE" -k "$KEYCHAIN" -t agg -f pkcs12 -P "$password" -T "$CLIENT"
  has_identity "$PFX_SHA1" || die "security import did not put the $what into $KEYCHAIN; is $PFX_FILE the file certmint wrote?"
  echo "Imported: $what into $KEYCHAIN, usable by $CLIENT"
fi
echo "Done."
