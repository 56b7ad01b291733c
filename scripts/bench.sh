#!/usr/bin/env bash
# make bench: certmint's issuance and CRL figures side by side with OpenSSL and with the
# in-process floor, all in one run on this machine. Prints a table with the ratios.
#   BENCH_N (200)       bundles per issuance comparison (RSA-2048 client bundles: key + cert + .pfx)
#   BENCH_BIG (1000)    bundles for the batch-versus-key-generation comparison
#   BENCH_RSS_N (10000) rows of the batch whose peak memory is measured (ECDSA P-256 leaves)
#   BENCH_CRL ("10000 100000") revoked entries of the CRL runs
#   BENCH_TOOLS (1)     also time cfssl and mkcert loops when `go install` can fetch them
#   BENCH_SCALE_N (100000) certificates in the home that list, status, doctor and crl are timed on
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-200}
BIG=${BENCH_BIG:-1000}
RSS_N=${BENCH_RSS_N:-10000}
CRL_SIZES=${BENCH_CRL:-"10000 100000"}
SCALE_N=${BENCH_SCALE_N:-100000}
JOBS=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false CERTMINT_CA_PASSWORD=bench-ca-password CERTMINT_PASSWORD=bench-pfx
bin=$work/certmint
go build -o "$bin" ./cmd/certmint

declare -A T   # seconds per run name
row() { printf '%-52s %9.2f s  %8.1f /s\n' "$1" "$2" "$(awk -v n="$3" -v t="$2" 'BEGIN{print n/t}')"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
floor() { # PATTERN N -> seconds for N bundles (ns/op x N), signed by the bench home's issuing CA
  CERTMINT_BENCH_FLOOR_HOME=$work/pki go test ./ca -run '^$' -bench "^BenchmarkFloor/$1\$" -benchtime "${2}x" -count 1 2>/dev/null |
    awk -v n="$2" '/ns\/op/ {printf "%.3f", $3*n/1e9}'
}
csv() { echo "cn"; for i in $(seq 1 "$1"); do echo "pc$i.bench.test"; done; }

echo "== setup: CA home with RSA-4096 root and issuing CA ($JOBS cores)"
"$bin" init --home "$work/pki" --root-cn "Bench Root CA" --issuing-cn "Bench Issuing CA" --base-url http://pki.bench.test >/dev/null
export CERTMINT_HOME=$work/pki
csv "$N" > "$work/n.csv"; csv "$BIG" > "$work/big.csv"; csv "$RSS_N" > "$work/rss.csv"
# OpenSSL needs the issuing CA key unencrypted: decrypted into the temporary folder only.
openssl pkey -in "$work/pki/bench-issuing-ca/ca.key" -passin env:CERTMINT_CA_PASSWORD -out "$work/ca.key"
cp "$work/pki/bench-issuing-ca/ca.crt" "$work/ca.crt"
cat > "$work/ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
crlDistributionPoints=URI:http://pki.bench.test/bench-issuing-ca.crl
EXT
openssl_one() { # i dir
  d=$2/$1; mkdir -p "$d"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/k.key" 2>/dev/null
  openssl req -new -key "$d/k.key" -subj "/CN=pc$1.bench.test" -out "$d/r.csr"
  openssl x509 -req -in "$d/r.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -set_serial "0x$(openssl rand -hex 16)" -days 365 \
    -extfile "$work/ext" -sha256 -out "$d/c.crt" 2>/dev/null
  openssl pkcs12 -export -in "$d/c.crt" -inkey "$d/k.key" -certfile "$work/ca.crt" -passout pass:x -out "$d/c.pfx"
}
export -f openssl_one; export work

echo "== issuance: $N RSA-2048 client bundles (key + certificate + .pfx)"
t0=$(now); for i in $(seq 1 "$N"); do openssl_one "$i" "$work/ossl1"; done; T[ossl]=$(since "$t0")
t0=$(now); seq 1 "$N" | xargs -P "$JOBS" -I{} bash -c 'openssl_one {} "$work/osslp"'; T[osslp]=$(since "$t0")
mkdir -p "$work/b1" "$work/bn"
t0=$(now); "$bin" batch -t client -i "$work/n.csv" --out "$work/b1" --jobs 1 --format crt,key,pfx >/dev/null; T[b1]=$(since "$t0")
t0=$(now); "$bin" batch -t client -i "$work/n.csv" --out "$work/bn" --jobs "$JOBS" --format crt,key,pfx >/dev/null; T[bn]=$(since "$t0")
T[floor1]=$(floor "rsa:2048/workers=1/key\\+sign\\+pfx" "$N")
T[floorn]=$(floor "rsa:2048/workers=$JOBS/key\\+sign\\+pfx" "$N")
T[keysn]=$(floor "rsa:2048/workers=$JOBS/keys" "$N")

if [ "${BENCH_TOOLS:-1}" = 1 ] && GOBIN=$work/tools go install github.com/cloudflare/cfssl/cmd/cfssl@v1.6.5 2>/dev/null; then
  echo '{"signing":{"default":{"expiry":"8760h","usages":["digital signature","key encipherment","client auth"]}}}' > "$work/cfssl.json"
  t0=$(now)
  for i in $(seq 1 "$N"); do
    echo "{\"CN\":\"pc$i.bench.test\",\"key\":{\"algo\":\"rsa\",\"size\":2048}}" |
      "$work/tools/cfssl" gencert -ca "$work/ca.crt" -ca-key "$work/ca.key" -config "$work/cfssl.json" - 2>/dev/null > "$work/cf.json"
  done
  T[cfssl]=$(since "$t0")
fi
if [ "${BENCH_TOOLS:-1}" = 1 ] && GOBIN=$work/tools go install filippo.io/mkcert@v1.4.4 2>/dev/null; then
  mkdir -p "$work/mk"; export CAROOT=$work/mkroot; "$work/tools/mkcert" -install >/dev/null 2>&1 || true
  t0=$(now); for i in $(seq 1 "$N"); do (cd "$work/mk" && "$work/tools/mkcert" -client -pkcs12 "pc$i.bench.test" >/dev/null 2>&1); done; T[mkcert]=$(since "$t0")
fi

echo "== $BIG bundles with all cores, against generating the same $BIG keys on the same workers"
mkdir -p "$work/big"
t0=$(now); "$bin" batch -t client -i "$work/big.csv" --out "$work/big" --format crt,key,pfx >/dev/null; T[big]=$(since "$t0")
T[bigkeys]=$(floor "rsa:2048/workers=$JOBS/keys" "$BIG")

echo "== ECDSA P-256 leaves (the issuing CA's RSA-4096 signature is the floor)"
# The generic client template accepts ECDSA keys (--key): digitalSignature, clientAuth.
ec=(-t client --key ecdsa:P-256)
mkdir -p "$work/ec"
t0=$(now); "$bin" batch "${ec[@]}" -i "$work/n.csv" --out "$work/ec" --format crt,key,pfx >/dev/null; T[ec]=$(since "$t0")
T[ecfloor]=$(floor "ecdsa:P-256/workers=$JOBS/key\\+sign\\+pfx" "$N")
mkdir -p "$work/one"
t0=$(now); for i in $(seq 1 10); do "$bin" issue "${ec[@]}" --cn "one$i.bench.test" --out "$work/one" --format crt,key,pfx >/dev/null; done; T[one]=$(awk -v t="$(since "$t0")" 'BEGIN{printf "%.3f", t/10}')
T[unlock]=$(go test ./ca -run '^$' -bench '^BenchmarkUnlockCAKey$' -benchtime 5x 2>/dev/null | awk '/ns\/op/ {printf "%.3f", $3/1e9}')
# What the process adds: its start (exec, Go runtime, the libraries' init),
# and the issuance itself in process with the CA key already unlocked.
t0=$(now); for i in $(seq 1 10); do "$bin" --version >/dev/null; done; T[start]=$(awk -v t="$(since "$t0")" 'BEGIN{printf "%.3f", t/10}')
T[inproc]=$(CERTMINT_BENCH_FLOOR_HOME=$work/pki go test ./ca -run '^$' -bench '^BenchmarkIssueECDSA$' -benchtime 50x -count 1 2>/dev/null | awk '/ns\/op/ {printf "%.4f", $3/1e9}')
mkdir -p "$work/rss"
/usr/bin/time -f "%e %M" --out "$work/rss.time" "$bin" batch "${ec[@]}" -i "$work/rss.csv" --out "$work/rss" --format crt,key,pfx >/dev/null
read -r T[rss_t] RSS < "$work/rss.time"

echo "== CRL publication"
declare -A CRL_T CRL_M CRL_S CRL_B CRL_P
for n in $CRL_SIZES; do
  h=$work/crl-$n
  CERTMINT_BENCH_HOME=$h CERTMINT_BENCH_REVOKED=$n go test ./ca -run '^TestMakeBenchHome$' -count=1 >/dev/null
  CERTMINT_CA_PASSWORD=test-ca-password /usr/bin/time -f "%e %M" --out "$work/crl.time" "$bin" crl --home "$h" >/dev/null
  read -r CRL_T[$n] CRL_M[$n] < "$work/crl.time"
  CRL_S[$n]=$(stat -c %s "$h"/public/test-issuing-ca.crl)
  CRL_B[$n]=$(go test ./ca -run '^$' -bench "^BenchmarkCreateRevocationListBare/entries=$n\$" -benchtime 3x 2>/dev/null | awk '/ns\/op/ {printf "%.3f", $3/1e9}')
  CRL_P[$n]=$(go test ./ca -run '^$' -bench "^BenchmarkPublishCRL/entries=$n\$" -benchtime 3x 2>/dev/null | awk '/ns\/op/ {printf "%.3f", $3/1e9}')
done

echo "== reading a home of $SCALE_N certificates (rows inserted directly, as a CA with a long history holds them)"
scale=$work/scale
CERTMINT_BENCH_SCALE_HOME=$scale CERTMINT_BENCH_SCALE_N=$SCALE_N go test ./ca -run '^TestMakeScaleHome$' -count=1 >/dev/null
SC_T=(); SC_M=(); SC_RC=()
scale_cmds=("list --expiring 30d" "status" "doctor" "crl")
for i in "${!scale_cmds[@]}"; do
  # status exits 1 when certificates expire within its window: that is its answer, not a failure.
  rc=0; CERTMINT_CA_PASSWORD=test-ca-password /usr/bin/time -f "%e %M" --out "$work/scale.time" "$bin" ${scale_cmds[$i]} --home "$scale" >/dev/null 2>"$work/scale.err" || rc=$?
  [ "$rc" -le 1 ] || { cat "$work/scale.err"; exit 1; }
  # time(1) puts "Command exited with non-zero status N" before its figures.
  read -r "SC_T[$i]" "SC_M[$i]" < <(tail -n 1 "$work/scale.time"); SC_RC[$i]=$rc
done

echo
echo "== results ($(nproc) cores, $(go version | awk '{print $3}'), $(openssl version | awk '{print $1, $2}'))"
row "openssl shell loop ($N bundles)" "${T[ossl]}" "$N"
row "openssl with xargs -P$JOBS" "${T[osslp]}" "$N"
[ -n "${T[cfssl]:-}" ] && row "cfssl gencert loop (key + cert, no .pfx)" "${T[cfssl]}" "$N"
[ -n "${T[mkcert]:-}" ] && row "mkcert -client -pkcs12 loop" "${T[mkcert]}" "$N"
row "certmint batch --jobs 1" "${T[b1]}" "$N"
row "certmint batch --jobs $JOBS" "${T[bn]}" "$N"
row "floor: Go key+sign+pfx, 1 worker" "${T[floor1]}" "$N"
row "floor: Go key+sign+pfx, $JOBS workers" "${T[floorn]}" "$N"
row "floor: Go keys only, $JOBS workers" "${T[keysn]}" "$N"
echo "  batch $JOBS workers vs 1:             $(ratio "${T[b1]}" "${T[bn]}")x faster   (target >= 1.7)"
echo "  batch vs openssl loop:                $(ratio "${T[ossl]}" "${T[bn]}")x faster   (target >= 6)"
echo "  batch vs openssl -P$JOBS:                $(ratio "${T[osslp]}" "${T[bn]}")x faster   (target >= 2.5)"
[ -n "${T[cfssl]:-}" ] && echo "  batch vs cfssl loop:                  $(ratio "${T[cfssl]}" "${T[bn]}")x faster   (target >= 2)"
[ -n "${T[mkcert]:-}" ] && echo "  batch vs mkcert loop:                 $(ratio "${T[mkcert]}" "${T[bn]}")x faster   (target >= 2)"
echo "  batch at % of its floor (1 worker):   $(awk -v f="${T[floor1]}" -v b="${T[b1]}" 'BEGIN{printf "%.0f%%", 100*f/b}')   (target >= 80%)"
echo "  batch at % of its floor ($JOBS workers):  $(awk -v f="${T[floorn]}" -v b="${T[bn]}" 'BEGIN{printf "%.0f%%", 100*f/b}')   (target >= 80%)"
row "certmint batch, $BIG bundles, $JOBS workers" "${T[big]}" "$BIG"
row "floor: generating $BIG keys, $JOBS workers" "${T[bigkeys]}" "$BIG"
echo "  batch time / key-generation time:     $(ratio "${T[big]}" "${T[bigkeys]}")x   (target <= 1.25)"
row "certmint batch, ECDSA P-256 leaves, $JOBS workers" "${T[ec]}" "$N"
row "floor: ECDSA key+sign(RSA-4096 CA)+pfx, $JOBS workers" "${T[ecfloor]}" "$N"
echo "  ECDSA batch at % of its floor:        $(awk -v f="${T[ecfloor]}" -v b="${T[ec]}" 'BEGIN{printf "%.0f%%", 100*f/b}')   (target >= 80%)"
echo "  one certmint issue process (ECDSA):   ${T[one]} s, of which CA key unlock ${T[unlock]} s (target: <= 0.020 s + unlock)"
echo "      process start (certmint --version) ${T[start]} s; the issuance in process, CA key unlocked (BenchmarkIssueECDSA): ${T[inproc]} s"
echo "  $RSS_N-row batch (ECDSA leaves):       ${T[rss_t]} s, peak RSS $((RSS / 1024)) MiB   (target < 100 MiB)"
for n in $CRL_SIZES; do
  echo "  certmint crl, $n revoked:       ${CRL_T[$n]} s (whole process, both CAs, key unlock included), peak RSS $((CRL_M[$n] / 1024)) MiB, CRL $((CRL_S[$n] / 1024)) KiB"
  echo "      publication in-process (database read, sign, write) ${CRL_P[$n]} s; bare CreateRevocationList ${CRL_B[$n]} s -> $(ratio "${CRL_P[$n]}" "${CRL_B[$n]}")x in-process, $(ratio "${CRL_T[$n]}" "${CRL_B[$n]}")x whole process"
done
echo "  (targets for 100000: < 0.85 s, < 130 MiB, <= 1.5x bare)"
echo "  home of $SCALE_N certificates (targets: each < 2 s and < 200 MiB peak RSS):"
for i in "${!scale_cmds[@]}"; do
  printf '    certmint %-22s %6.2f s  %5d MiB  exit %d\n' "${scale_cmds[$i]}" "${SC_T[$i]}" "$((SC_M[$i] / 1024))" "${SC_RC[$i]}"
done

echo
./scripts/bench-ocsp.sh "$bin"
