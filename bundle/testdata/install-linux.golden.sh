#!/bin/sh
# Puts the .pfx of a certificate bundle made by certmint where a non-Windows 1E
# Client reads it. 1E 23.11: Certificate requirements, Client authentication
# certificates:
#   "For non-Windows devices, except for the Mac, the Tachyon client does not use
#    proprietary certificate stores. Instead, the client requires the certificate
#    exists as a .pfx file in the client installation folder structure."
# The document names no folder, so it is the script's argument: the folder of
# the 1E Client's installation where the client is set up to read its .pfx.
# The file is copied there as ubuntu-01.pfx, mode 0600, through a temporary file
# and a rename, so the client never reads half a file. A file already there
# with the same bytes is left as it is (cmp), so the script can be run again;
# another one is replaced, and the script says so.
#
# Usage: sh ubuntu-01-install-linux.sh FOLDER
set -eu

# Written by certmint when the certificate was issued: serial 5D3F01, valid until 2031-01-02.
# shellcheck disable=SC2016,SC1112,SC1003 # names are single-quoted literals: nothing in them is expanded
{
  CN='ubuntu-01'
  PFX_FILE='ubuntu-01.pfx'
}

usage() {
  echo "usage: sh $0 FOLDER"
  echo "  FOLDER: the folder of the 1E Client's installation where it reads its .pfx"
}

case ${1-} in
-h | --help)
  usage
  exit 0
  ;;
esac
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "error: give the 1E Client's folder" >&2
  usage >&2
  exit 2
fi
folder=$1

here=$(cd "$(dirname "$0")" && pwd)
src=$here/$PFX_FILE
[ -f "$src" ] || { echo "error: $PFX_FILE is not next to this script in $here; copy the whole bundle folder to this device" >&2; exit 1; }
[ -d "$folder" ] || { echo "error: $folder is not a folder; give the folder of the 1E Client's installation (it must exist)" >&2; exit 1; }
dest=$folder/$PFX_FILE

if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$src" "$dest"; then
  chmod 600 "$dest"
  echo "Already present: certificate '$CN' in $dest (mode 0600)"
  echo "Done."
  exit 0
fi

verb=Installed
[ ! -e "$dest" ] && [ ! -L "$dest" ] || verb=Replaced
tmp=$(mktemp "$folder/.certmint-XXXXXX")
trap 'rm -f "$tmp"' EXIT
chmod 600 "$tmp"
cat "$src" >"$tmp"
mv -f "$tmp" "$dest"
trap - EXIT
echo "$verb: certificate '$CN' as $dest (mode 0600)"
echo "Done."
