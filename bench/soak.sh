#!/usr/bin/env bash
# The reliability soak: public reads, planner queries and presence writes at
# once against the release binary on loopback with the demo data.
#
#   bench/soak.sh          # 600 s
#   bench/soak.sh 60       # a quick one
#
# Installs wrk if missing (as root, apt-get), builds the release binary,
# runs bench/soak.py, prints per-workload req/s, p50/p99, errors, the
# server's RSS over time, and checks the store holds exactly one presence
# log per acknowledged write (also written to bench/results/). Exit status
# 0 only when there was no error of any kind.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;; esac
shift || true

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "soak: wrk is missing; install it (apt-get install wrk)" >&2; exit 1; fi
  echo "soak: installing wrk with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends wrk >&2 \
    || { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q >&2 \
         && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends wrk >&2; } \
    || { echo "soak: apt-get could not install wrk (or timed out)" >&2; exit 1; }
fi

echo "soak: cargo build --release -p trygg-cli" >&2
rc=0
timeout -k 30 3600 cargo build --release -p trygg-cli || rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "soak: TIMEOUT: cargo build did not finish within 3600 s" >&2; exit 1; fi
if [ "$rc" != 0 ]; then echo "soak: cargo build failed" >&2; exit 1; fi

work=$(mktemp -d /tmp/trygg-soak.XXXXXX)
cleanup() {
  local pidfile pid
  for pidfile in "$work"/*.serve.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && grep -q trygg "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

limit=$((seconds + 900))
rc=0
timeout -k 60 "$limit" python3 bench/soak.py "$seconds" --workdir "$work" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
wait "$child" || rc=$?
if kill -0 "$child" 2>/dev/null; then
  rc=0
  wait "$child" || rc=$?
fi
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "soak: TIMEOUT: the soak did not finish within $limit s" >&2
  exit 1
fi
exit "$rc"
