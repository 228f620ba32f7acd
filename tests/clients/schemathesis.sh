#!/usr/bin/env bash
# schemathesis against the real binary on a loopback port with the demo
# data: every operation of /openapi.json, all checks, once anonymously and
# once with a read token. Fails on any failure, not only 5xx. Installs
# schemathesis into a private venv when missing.
#
#   tests/clients/schemathesis.sh [path/to/trygg]   (default target/debug/trygg)
#
# ST_MAX_EXAMPLES bounds the cases per operation (default 10); the run
# stays within a few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=${1:-$root/target/debug/trygg}
[ -x "$bin" ] || cargo build -q -p trygg-cli
version=4.32.5
venv=${ST_VENV:-$root/target/schemathesis-$version}
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

db="sqlite:$work/trygg.db"
TRYGG_DATABASE_URL=$db "$bin" serve --demo --listen 127.0.0.1:0 --log-format json >"$work/server.log" 2>&1 &
pid=$!
url=
for _ in $(seq 1 600); do
  url=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | sed 's/listening on //') || true
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; echo "the server stopped before listening"; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { cat "$work/server.log"; echo "the server never logged its address"; exit 1; }
echo "server at $url"
printf 'schemathesis-password-1234\n' | TRYGG_DATABASE_URL=$db "$bin" user add --username fuzz --role admin --organisation "Linköpings kommun" >/dev/null
token=$(TRYGG_DATABASE_URL=$db "$bin" token create --username fuzz --name schemathesis --scopes read | grep -o 'trygg_[0-9a-f]*' | head -1)
[ -n "$token" ] || { echo "no token was created"; exit 1; }

out="$root/test-artifacts/schemathesis"
rm -rf "$out" && mkdir -p "$out"
curl -fsS "$url/openapi.json" >"$out/openapi.json"
examples=${ST_MAX_EXAMPLES:-10}
status=0
run() {
  local name=$1; shift
  echo "== schemathesis, $name"
  local start; start=$(date +%s)
  "$venv/bin/st" --config-file tests/clients/schemathesis.toml run "$out/openapi.json" --url "$url" --checks all \
    --max-examples "$examples" --seed 16 --no-color --workers 1 \
    --report junit --report-dir "$out/$name" "$@" 2>&1 | tee "$out/$name.log" || status=1
  echo "$name: $(( $(date +%s) - start )) s"
}
run anonymous
run token --header "Authorization: Bearer $token"
grep -q '"level":"ERROR"' "$work/server.log" && { grep '"level":"ERROR"' "$work/server.log" | head -20; }
exit $status
