# Sourced by the outside-client tests (run.sh, schemathesis.sh): starts the
# real binary with the demo data on a loopback port and makes an admin with
# a read token for it. Sets `work`, `db`, `url` and `token`; the server
# stops and its folder goes when the calling script exits.
#
#   start_demo_server BIN USERNAME TOKEN_NAME

start_demo_server() {
  local bin=$1 username=$2 token_name=$3
  work=$(mktemp -d)
  server_pid=
  trap 'stop_demo_server' EXIT
  db="sqlite:$work/trygg.db"
  TRYGG_DATABASE_URL=$db "$bin" serve --demo --listen 127.0.0.1:0 --log-format json >"$work/server.log" 2>&1 &
  server_pid=$!
  url=
  # The address is known once the server logs it (a port of its choosing).
  for _ in $(seq 1 600); do
    url=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | sed 's/listening on //') || true
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server stopped before listening"; exit 1; }
    sleep 0.2
  done
  [ -n "$url" ] || { cat "$work/server.log"; echo "the server never logged its address"; exit 1; }
  echo "server at $url"
  printf '%s-password-1234\n' "$username" | TRYGG_DATABASE_URL=$db "$bin" user add --username "$username" --role admin --organisation "Linköpings kommun" >/dev/null
  token=$(TRYGG_DATABASE_URL=$db "$bin" token create --username "$username" --name "$token_name" --scopes read | grep -o 'trygg_[0-9a-f]*' | head -1)
  [ -n "$token" ] || { echo "no token was created"; exit 1; }
}

stop_demo_server() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
