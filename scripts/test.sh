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
cargo test --workspace --locked

step "GeoJSON bodies against independent RFC 7946 validators"
(cd tests/geojson && npm ci --no-audit --no-fund --loglevel=error)
node tests/geojson/validate.mjs "$artifacts/geojson"

if [ -x scripts/browser-tests.sh ]; then
  step "browser tests (headless Chromium, axe-core)"
  scripts/browser-tests.sh
fi

step "all tests passed"
