#!/usr/bin/env bash
# make bench's OCSP section: certmint serve's responder side by side with cfssl's ocspserve (answering
# from responses pre-signed by `cfssl ocspsign`) and `openssl ocsp -index ... -multi 2`, each loaded in
# turn by the same Go load generator (scripts/ocspload: kept-alive clients, every response checked) on
# this machine. All three sign with the same delegated responder certificate and ECDSA P-256 key (the
# one certmint serve issued), for the same leaves.
#   BENCH_OCSP_CLIENTS (200)  concurrent clients
#   BENCH_OCSP_SECONDS (10)   seconds per responder
#   BENCH_OCSP_LEAVES (100)   certificates asked about
#   BENCH_TOOLS (1)           also cfssl, when `go install` can fetch it
# Usage: scripts/bench-ocsp.sh [CERTMINT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${BENCH_OCSP_CLIENTS:-200}
SECONDS_EACH=${BENCH_OCSP_SECONDS:-10}
LEAVES=${BENCH_OCSP_LEAVES:-100}
work=$(mktemp -d)
pids=()
# stop ends a server started here. `openssl ocsp -multi` puts itself and its children in a process
# group of their own (setpgid) and outlives a SIGTERM: the group is killed.
stop() {
  kill -TERM "$1" 2>/dev/null || true
  if kill -0 -- "-$1" 2>/dev/null; then sleep 0.2; kill -KILL -- "-$1" 2>/dev/null || true; fi
  wait "$1" 2>/dev/null || true
}
cleanup() {
  for p in "${pids[@]}"; do stop "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false CERTMINT_CA_PASSWORD=bench-ocsp-ca-password
bin=${1:-}
if [ -z "$bin" ]; then
  bin=$work/certmint
  go build -o "$bin" ./cmd/certmint
fi
go build -o "$work/ocspload" ./scripts/ocspload

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
freeport() { # a port nothing listens on, from a random start
  local p=$((20000 + RANDOM % 20000))
  while listening "$p"; do p=$((p + 1)); done
  echo "$p"
}
waitport() {
  for _ in $(seq 1 200); do listening "$1" && return 0; sleep 0.05; done
  echo "bench-ocsp: nothing listens on port $1" >&2
  return 1
}

echo "== OCSP: setup ($LEAVES leaves, RSA-2048 CA, ECDSA P-256 responder)"
P1=$(freeport)
home=$work/pki
"$bin" init --home "$home" --root-cn "Bench OCSP Root CA" --issuing-cn "Bench OCSP Issuing CA" \
  --base-url "http://127.0.0.1:$P1" --key rsa:2048 >/dev/null
issuing=$home/bench-ocsp-issuing-ca
# Leaves with ECDSA P-256 keys (cheap to make; what is measured is answering for them), whose
# template names the responder in the AIA.
cat > "$work/ecdsa.toml" <<'TOML'
name = "bench-ocsp"
description = "client certificates with ECDSA P-256 keys and the OCSP URL, for make bench"

[key]
type = "ecdsa"
curve = "P-256"

[validity]
days = 30
backdate = "1h"

[usage]
key_usage = ["digitalSignature"]
ext_key_usage = ["clientAuth"]

[san]
allow_dns = true
cn_in_san = true

[revocation]
crl_distribution_point = true
aia = true
ocsp = true

[output]
formats = ["crt"]
TOML
{ echo cn; for i in $(seq 1 "$LEAVES"); do echo "leaf$i.ocsp.bench.test"; done; } > "$work/leaves.csv"
mkdir -p "$work/leaves"
"$bin" batch --home "$home" -t "$work/ecdsa.toml" -i "$work/leaves.csv" --out "$work/leaves" >/dev/null
leaves=("$work"/leaves/*/*.crt)

declare -A RES
load() { # NAME URL
  local out
  out=$("$work/ocspload" -name "$1" -url "$2" -issuer "$issuing/ca.crt" -c "$CLIENTS" -d "${SECONDS_EACH}s" -json "${leaves[@]}") || true
  RES[$1]=$out
}
field() { # NAME KEY
  echo "${RES[$1]:-}" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"
}

"$bin" serve --home "$home" --addr "127.0.0.1:$P1" --quiet 2>"$work/serve.log" &
pids+=($!)
waitport "$P1"
for _ in $(seq 1 200); do grep -q "serving " "$work/serve.log" && break; sleep 0.05; done
grep -q "OCSP responder at" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 1; }
# The responder key certmint serve issued, decrypted for cfssl and openssl into the temporary folder only.
openssl pkey -in "$issuing/ocsp-responder.key" -passin env:CERTMINT_CA_PASSWORD -out "$work/responder.key"
cp "$issuing/ocsp-responder.crt" "$work/responder.crt"

echo "== OCSP: certmint serve ($CLIENTS clients, ${SECONDS_EACH} s)"
load certmint "http://127.0.0.1:$P1/ocsp"
stop "${pids[0]}"

if [ "${BENCH_TOOLS:-1}" = 1 ] && GOBIN=$work/tools go install github.com/cloudflare/cfssl/cmd/cfssl@v1.6.5 2>/dev/null; then
  echo "== OCSP: cfssl ocspserve, responses pre-signed by cfssl ocspsign"
  for c in "${leaves[@]}"; do
    "$work/tools/cfssl" ocspsign -ca "$issuing/ca.crt" -responder "$work/responder.crt" -responder-key "$work/responder.key" \
      -cert "$c" -status good -interval 1h 2>/dev/null | sed -n 's/.*"ocspResponse":"\([^"]*\)".*/\1/p'
  done > "$work/responses.txt"
  P2=$(freeport)
  "$work/tools/cfssl" ocspserve -address 127.0.0.1 -port "$P2" -responses "$work/responses.txt" 2>"$work/cfssl.log" &
  pids+=($!)
  waitport "$P2"
  load cfssl "http://127.0.0.1:$P2/"
  stop "${pids[-1]}"
fi

echo "== OCSP: openssl ocsp -index ... -multi 2"
: > "$work/index.txt"
for c in "${leaves[@]}"; do
  end=$(date -u -d "$(openssl x509 -in "$c" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
  serial=$(openssl x509 -in "$c" -noout -serial | cut -d= -f2)
  printf 'V\t%s\t\t%s\tunknown\t/CN=%s\n' "$end" "$serial" "$(basename "$c" .crt)" >> "$work/index.txt"
done
P3=$(freeport)
openssl ocsp -index "$work/index.txt" -port "$P3" -rsigner "$work/responder.crt" -rkey "$work/responder.key" \
  -CA "$issuing/ca.crt" -nmin 60 -multi 2 -ignore_err >"$work/openssl.log" 2>&1 &
pids+=($!)
waitport "$P3"
load openssl "http://127.0.0.1:$P3/"
stop "${pids[-1]}"

echo
echo "== OCSP results ($(nproc) cores, $CLIENTS clients, ${SECONDS_EACH} s each, $LEAVES certificates; correct responses only)"
printf '%-34s %12s %9s %9s %7s %10s\n' responder "responses/s" "p50 ms" "p99 ms" failed malformed
for n in certmint cfssl openssl; do
  [ -n "${RES[$n]:-}" ] || continue
  printf '%-34s %12.0f %9.1f %9.1f %7s %10s\n' "$n" "$(field "$n" per_second)" "$(field "$n" p50_ms)" "$(field "$n" p99_ms)" \
    "$(field "$n" failed)" "$(field "$n" malformed)"
done
if [ -n "${RES[cfssl]:-}" ]; then
  echo "  certmint vs cfssl ocspserve:        $(awk -v a="$(field certmint per_second)" -v b="$(field cfssl per_second)" 'BEGIN{printf "%.2f", a/b}')x the responses/s   (target >= 1)"
fi
echo "  certmint vs openssl ocsp -multi 2:  $(awk -v a="$(field certmint per_second)" -v b="$(field openssl per_second)" 'BEGIN{printf "%.2f", a/b}')x the responses/s"
echo "  certmint p99:                       $(awk -v p="$(field certmint p99_ms)" 'BEGIN{printf "%.1f", p}') ms   (target < 40)"
