#!/usr/bin/env bash
# Trygg against PostGIS on the peers' benchmark, in one command, from a
# fresh clone (see README "Benchmarks" and shared/bench/README.md):
#
#   bench/run.sh                                   # 1M incidents, the reference
#   bench/run.sh 100000                            # a quick run
#   bench/run.sh --sizes 100000,1000000,10000000   # and the scaling curve
#
# Installs what is missing (wrk, PostGIS for PostgreSQL 15; as root, with
# apt-get), builds the release binary, then runs bench/bench.py: generates
# the seeded data, loads and asks PostGIS in a throwaway cluster on
# loopback, imports and serves the same data with Trygg on loopback, and
# prints one table (also written to bench/results/). Every step runs under
# a time limit; the cluster and the server are stopped on exit.
# Exit status: 0 ran (targets may be missed: the table says), 1 a step
# failed or timed out, 2 a cross-check failed or a load run saw errors.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every step is bounded; a step that overruns says so and stops the run.
step() {
  local name=$1 limit=$2
  shift 2
  local rc=0
  timeout -k 30 "$limit" "$@" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "bench: TIMEOUT: step '$name' did not finish within $limit s" >&2
    exit 1
  elif [ "$rc" != 0 ]; then
    echo "bench: step '$name' failed (exit $rc)" >&2
    exit 1
  fi
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "bench: missing $*; run as root (apt-get) or install them first" >&2
    exit 1
  fi
  echo "bench: installing $* with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends "$@" >&2 \
    || { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q >&2 \
         && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends "$@" >&2; } \
    || { echo "bench: apt-get could not install $* (or timed out)" >&2; exit 1; }
}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
command -v pgbench >/dev/null || missing+=(postgresql-client-15)
command -v python3 >/dev/null || missing+=(python3)
command -v awk >/dev/null || missing+=(gawk)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# The build may first wait for cargo's lock while others build.
echo "bench: cargo build --release -p trygg-cli" >&2
step "cargo build --release" 3600 cargo build --release -p trygg-cli

# The work folder (CSV, databases, the cluster) and a last-resort cleanup:
# bench.py stops what it started itself; this trap catches what a killed
# bench.py could leave (the cluster, a server), by their pid files.
work=$(mktemp -d /tmp/trygg-bench.XXXXXX)
keep=no
case " $* " in *" --keep "*) keep=yes ;; esac
cleanup() {
  local pidfile pid
  for pidfile in "$work"/*.serve.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && grep -q trygg "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    else
      /usr/lib/postgresql/15/bin/pg_ctl -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  fi
  if [ "$keep" = no ]; then rm -rf "$work"; else echo "bench: kept $work" >&2; fi
}
trap cleanup EXIT

# The benchmark itself: bounded as a whole too (each of its steps has its
# own limit). It runs in the background so that a Ctrl-C or a SIGTERM to
# this script reaches it at once (through timeout): it then stops
# PostgreSQL and the server itself before the trap above runs.
limit=3600
case " $* " in *10000000*) limit=14400 ;; esac
rc=0
timeout -k 60 "$limit" python3 bench/bench.py --workdir "$work" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
wait "$child" || rc=$?
if kill -0 "$child" 2>/dev/null; then
  rc=0
  wait "$child" || rc=$?
fi
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "bench: TIMEOUT: the benchmark did not finish within $limit s" >&2
  exit 1
fi
exit "$rc"
