#!/usr/bin/env bash
# The whole test suite, against SQLite and PostgreSQL.
#
#   scripts/test.sh
#
# Uses the PostgreSQL server that TRYGG_TEST_POSTGRES_URL names (a role that
# may CREATE DATABASE; each test makes its own database), or starts a
# throwaway one on loopback and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s\n' "$*"; }

artifacts="$root/test-artifacts"
rm -rf "$artifacts/geojson"
mkdir -p "$artifacts/geojson"

# GDAL's OAPIF driver reads the OGC API in the end-to-end tests.
if ! command -v ogrinfo >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  step "installing gdal-bin"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q gdal-bin >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gdal-bin >/dev/null; }
fi
if command -v ogrinfo >/dev/null 2>&1; then export TRYGG_REQUIRE_GDAL=1; fi

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

if [ -z "${TRYGG_TEST_POSTGRES_URL:-}" ]; then
  step "starting a throwaway PostgreSQL on loopback"
  pg_dir=$(mktemp -d)
  cleanup() { "$root/scripts/pg-throwaway.sh" stop "$pg_dir/pg" || true; rm -rf "$pg_dir"; }
  trap cleanup EXIT
  TRYGG_TEST_POSTGRES_URL=$("$root/scripts/pg-throwaway.sh" start "$pg_dir/pg")
  export TRYGG_TEST_POSTGRES_URL
fi
# A missing PostgreSQL must fail the run, never skip its cases silently.
export TRYGG_REQUIRE_POSTGRES=1
export TRYGG_GEOJSON_SAMPLES="$artifacts/geojson"

step "Rust tests (SQLite and PostgreSQL)"
cargo test --workspace --locked 2>&1 | tee "$artifacts/cargo-test.log"
rust_passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$artifacts/cargo-test.log" | awk '{s += $4} END {print s + 0}')

step "GeoJSON bodies against independent RFC 7946 validators"
(cd tests/geojson && npm ci --no-audit --no-fund --loglevel=error)
node tests/geojson/validate.mjs "$artifacts/geojson"

step "OpenAPI document against an independent validator"
if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore openapi-spec-validator
fi
python3 -m openapi_spec_validator "$artifacts/openapi.json"

step "OGC API clients: OWSLib, GDAL ogr2ogr, QGIS's OAPIF provider (headless)"
tests/clients/run.sh target/debug/trygg 2>&1 | tee "$artifacts/clients.log"
clients_passed=$(grep -Eo '^[0-9]+ passed, 0 failed' "$artifacts/clients.log" | awk '{s += $1} END {print s + 0}')

step "schemathesis over /openapi.json: all checks, anonymously and with a read token"
tests/clients/schemathesis.sh target/debug/trygg 2>&1 | tee "$artifacts/schemathesis.log"

browser_passed=0
if [ -x scripts/browser-tests.sh ]; then
  step "browser tests (headless Chromium, axe-core)"
  TRYGG_BIN="$root/target/debug/trygg" scripts/browser-tests.sh 2>&1 | tee "$artifacts/browser-tests.log"
  browser_passed=$(grep -Eo '^ℹ pass [0-9]+' "$artifacts/browser-tests.log" | awk '{s += $3} END {print s + 0}')
fi

step "all tests passed"
echo "total: $((rust_passed + clients_passed + browser_passed)) passed, 0 failed"
