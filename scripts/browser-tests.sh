#!/usr/bin/env bash
# End-to-end browser tests of the web front end: Debian's headless Chromium
# driven by playwright-core against a `trygg serve --demo` on a free loopback
# port with a throw-away SQLite file. Exits non-zero when a test fails.
#
#   scripts/browser-tests.sh            # everything
#   scripts/browser-tests.sh field      # only tests/browser/field.test.mjs
#
# Screenshots land in test-artifacts/screenshots/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian's chromium: playwright cannot download its own browser here.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (apt-get)…"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm (apt-get)…"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
fi

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# scripts/test.sh passes the binary `cargo test --workspace` just built;
# `cargo build -p trygg-cli` alone resolves other features and compiles much
# of the workspace again (ten minutes on a busy 2-core machine).
if [ -n "${TRYGG_BIN:-}" ]; then
  bin="$TRYGG_BIN"
else
  cargo build -p trygg-cli
  bin="$root/target/debug/trygg"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Port 0: the kernel picks a free port and the server logs which one, so
# two runs on one machine never collide.
"$bin" serve --listen 127.0.0.1:0 --database-url "sqlite:$work/browser.db" --demo \
  >"$work/server.log" 2>&1 &
server_pid=$!

url=""
deadline=$((SECONDS + 300))
until [ -n "$url" ]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server stopped before it listened:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "the server did not start listening within 300 s" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/server.log" | head -n1 || true)"
  [ -n "$url" ] || sleep 0.5
done

# Ready means the database answers, not merely that the port is open.
until node -e "fetch('$url/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; do
  if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server never became ready" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "trygg is ready at $url"

# Four accounts with throw-away passwords: a planner (who also sees every
# partner's presence, for checking uploads), a field user, a planner who
# may publish follow-ups, and an admin for the administration page.
password() { node -e "console.log(require('crypto').randomBytes(18).toString('base64url'))"; }
planner_password="$(password)"
field_password="$(password)"
publisher_password="$(password)"
admin_password="$(password)"
TRYGG_PASSWORD="$planner_password" "$bin" user add --database-url "sqlite:$work/browser.db" \
  --username planerare --role planner --organisation "Linköpings kommun" --display-name "Test Planerare" >/dev/null
TRYGG_PASSWORD="$field_password" "$bin" user add --database-url "sqlite:$work/browser.db" \
  --username faltare --role field --organisation "Polisen Linköping" --display-name "Test Fältare" >/dev/null
TRYGG_PASSWORD="$publisher_password" "$bin" user add --database-url "sqlite:$work/browser.db" \
  --username utgivare --role planner --organisation "Linköpings kommun" --display-name "Test Utgivare" --publish >/dev/null
TRYGG_PASSWORD="$admin_password" "$bin" user add --database-url "sqlite:$work/browser.db" \
  --username admin --role admin --organisation "Linköpings kommun" --display-name "Test Admin" >/dev/null
# Admins and publishers must log in with a second factor (the default):
# these two get one now, and the tests compute its codes. The secret is
# the first line's `secret=` parameter of the otpauth:// URI.
factor() {
  "$bin" user second-factor enrol --database-url "sqlite:$work/browser.db" --username "$1" \
    | sed -n -e '1s/.*[?&]secret=\([A-Z2-7]*\).*/\1/p'
}
admin_factor="$(factor admin)"
publisher_factor="$(factor utgivare)"
# Two admins without one, who set it up in second-factor.test.mjs (one
# at phone size, one at desktop size).
factorless_password="$(password)"
for who in ny.admin.telefon ny.admin.dator; do
  TRYGG_PASSWORD="$factorless_password" "$bin" user add --database-url "sqlite:$work/browser.db" \
    --username "$who" --role admin --organisation "Linköpings kommun" --display-name "Ny Admin" >/dev/null
done

files=()
if [ "$#" -gt 0 ]; then
  for name in "$@"; do files+=("${name%.test.mjs}.test.mjs"); done
fi

status=0
(
  cd tests/browser
  TRYGG_URL="$url" CHROMIUM="$(command -v chromium)" \
    TRYGG_PLANNER="planerare:$planner_password" TRYGG_FIELD="faltare:$field_password" \
    TRYGG_PUBLISHER="utgivare:$publisher_password" TRYGG_ADMIN="admin:$admin_password" \
    TRYGG_ADMIN_FACTOR="$admin_factor" TRYGG_PUBLISHER_FACTOR="$publisher_factor" \
    TRYGG_FACTORLESS_PASSWORD="$factorless_password" TRYGG_FACTOR_STATE="$work/factor-steps.json" \
    node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
) || status=$?

if [ "$status" -ne 0 ]; then
  echo "browser tests failed; the server's log follows" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
