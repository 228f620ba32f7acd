#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the test suite.
#   scripts/pg-throwaway.sh start DIR   → prints the admin URL on stdout
#   scripts/pg-throwaway.sh stop DIR
# initdb refuses to run as root, so as root the cluster runs as `postgres`
# in a folder that user owns. --auth=trust is for this test cluster only:
# it listens on 127.0.0.1 and is deleted when the tests end.
set -euo pipefail

cmd=${1:?start|stop}
dir=${2:?data folder}

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ]; then
    echo "PostgreSQL is not installed; installing it" >&2
    if [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
    else
      echo "run as root or install PostgreSQL first" >&2
      exit 1
    fi
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    bin=$(pg_bin)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      # The postgres user must be able to reach the folder (mktemp makes 0700 parents).
      chmod 755 "$(dirname "$dir")" "$dir"
      chown postgres "$dir"
      runuser -u postgres -- test -w "$dir" || { echo "postgres cannot write to $dir" >&2; exit 1; }
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    as_owner "$bin/initdb" -D "$dir/data" --auth=trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/data -c fsync=off -c max_connections=200" start >&2 \
      || { cat "$dir/data/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(pg_bin)
    if [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
