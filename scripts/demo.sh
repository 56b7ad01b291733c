#!/usr/bin/env bash
# make demo: create a CA in DIR/pki, issue one bundle per built-in template,
# verify every bundle with openssl, print where the files are.
# Usage: scripts/demo.sh path/to/certmint DIR
set -euo pipefail

certmint=$(realpath "$1")
dir=${2:-demo}
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"

# Demo secrets. In real use, give a password file or type them when asked.
export CERTMINT_HOME=$PWD/pki
export CERTMINT_CA_PASSWORD=demo-ca-password
export CERTMINT_PASSWORD=demo-bundle-password

echo "== certmint init"
"$certmint" init --root-cn "Demo Root CA" --issuing-cn "Demo Issuing CA" \
  --base-url http://pki.demo.test --org "Demo Org" --country US

root=pki/demo-root-ca/ca.crt
issuing=pki/demo-issuing-ca/ca.crt

fail=0
for t in $("$certmint" templates list | awk '{print $1}'); do
  out=bundles/$t
  mkdir -p "$out"
  echo
  # --example issues the request in the template's [example] table.
  echo "== certmint issue --template $t --example --out $out --name $t"
  "$certmint" issue --template "$t" --example --out "$out" --name "$t"
  crt=$out/$t.crt
  if openssl verify -CAfile "$root" -untrusted "$issuing" "$crt" >/dev/null; then
    echo "   openssl verify: OK"
  else
    echo "   openssl verify: FAILED"; fail=1
  fi
  if [ -f "$out/$t.pfx" ]; then
    if openssl pkcs12 -info -noout -in "$out/$t.pfx" -passin env:CERTMINT_PASSWORD 2>/dev/null; then
      echo "   openssl pkcs12 -info: OK"
    else
      echo "   openssl pkcs12 -info: FAILED"; fail=1
    fi
  fi
  # certmint check: the template's own rules and the appliance's validation.
  if "$certmint" check --template "$t" --cert "$crt" --crl pki/public/demo-issuing-ca.crl >/dev/null; then
    echo "   certmint check (template rules, chain, expiry, CRL): OK"
  else
    echo "   certmint check: FAILED"; fail=1
  fi
  if [ -f "$out/$t.key" ]; then
    if openssl pkey -check -noout -in "$out/$t.key" -passin env:CERTMINT_PASSWORD >/dev/null 2>&1 &&
       [ "$(openssl pkey -pubout -in "$out/$t.key" -passin env:CERTMINT_PASSWORD)" = "$(openssl x509 -pubkey -noout -in "$crt")" ]; then
      echo "   openssl pkey -check, public key matches: OK"
    else
      echo "   openssl pkey -check: FAILED"; fail=1
    fi
  fi
done

echo
echo "== results"
echo "CA home:  $PWD/pki   (publish $PWD/pki/public at http://pki.demo.test)"
echo "Bundles:  $PWD/bundles/<template>/"
ls -1 bundles/*/* | sed 's/^/  /'
if [ "$fail" -ne 0 ]; then
  echo "Some checks FAILED" >&2
  exit 1
fi
echo "All bundles verified with openssl."
