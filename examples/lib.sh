# What every examples/*/run.sh does first, sourced by each:
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#   example_setup NAME "$@"
# example_setup takes the script's arguments [CERTMINT] [WORKDIR]: it
# resolves the certmint binary (default: certmint on PATH) to an absolute
# path in $certmint, checks that openssl is there, makes WORKDIR (default: a
# new folder certmint-NAME.XXXXXX in $TMPDIR), enters it, sets $work, and
# exports the demo secrets. step, ok, fail and shows print and check.

# example_setup NAME [CERTMINT] [WORKDIR]
example_setup() {
  local name=$1
  certmint=${2:-certmint}
  local dir
  if [[ $certmint == */* ]] && dir=$(cd "$(dirname "$certmint")" 2>/dev/null && pwd); then
    certmint=$dir/$(basename "$certmint")
  fi
  command -v "$certmint" >/dev/null || { echo "run.sh: cannot run $certmint; give the certmint binary as the first argument" >&2; exit 1; }
  command -v openssl >/dev/null || { echo "run.sh: openssl is needed to check the files" >&2; exit 1; }
  work=${3:-$(mktemp -d "${TMPDIR:-/tmp}/certmint-$name.XXXXXX")}
  mkdir -p "$work"
  cd "$work"
  work=$PWD

  # Demo secrets. For a real CA use --ca-password-file / --password-file, or
  # type them when certmint asks.
  export CERTMINT_HOME=$work/pki
  export CERTMINT_CA_PASSWORD=demo-ca-password
  export CERTMINT_PASSWORD=demo-bundle-password
}

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
fail() { printf 'run.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# shows CRT TEXT...: openssl x509 -text of CRT contains every TEXT.
shows() {
  local crt=$1 t want
  shift
  t=$(openssl x509 -in "$crt" -noout -text)
  for want in "$@"; do
    grep -qF -- "$want" <<<"$t" || fail "openssl x509 -text $crt does not show: $want"
  done
  ok "openssl x509 -text $crt shows: $(printf '%s; ' "$@")"
}
