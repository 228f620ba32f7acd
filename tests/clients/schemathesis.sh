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

. tests/clients/demo-server.sh
start_demo_server "$bin" fuzz schemathesis

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
