#!/usr/bin/env bash
# /healthz latency while four heavy analyses run (the issue's stall: two
# analyses made /healthz take 19 s when they ran on the async workers).
#
#   bench/healthz.sh        # 60 s under load
#   bench/healthz.sh 20     # a quick one
#
# Installs wrk if missing (as root, apt-get), builds the release binary and
# runs bench/healthz.py; the table is also written to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;; esac

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "healthz: wrk is missing; install it (apt-get install wrk)" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends wrk >&2 \
    || { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q >&2 \
         && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends wrk >&2; } \
    || { echo "healthz: apt-get could not install wrk (or timed out)" >&2; exit 1; }
fi

rc=0
timeout -k 30 3600 cargo build --release -p trygg-cli || rc=$?
if [ "$rc" != 0 ]; then echo "healthz: cargo build failed or timed out" >&2; exit 1; fi

timeout -k 60 $((seconds + 1200)) python3 bench/healthz.py "$seconds"
