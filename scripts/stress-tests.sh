#!/usr/bin/env bash
# Runs the test suite many times to find tests that fail only sometimes, and
# reports which failed how often.
#
#   scripts/stress-tests.sh                      # 5 runs of the Rust and browser tests
#   scripts/stress-tests.sh --runs 20 --load 2   # 20 runs with 2 busy CPU hogs beside them
#   scripts/stress-tests.sh --only proptest --runs 20 --cases 20000
#   scripts/stress-tests.sh --only browser --build-beside
#
# --only rust|browser|proptest   one part of the suite (default: rust and browser)
# --load N                       N processes that keep a core busy while the tests run
# --build-beside                 a cold `cargo build` of the workspace in a scratch
#                                target folder, restarted whenever it ends, as the load
# --cases N                      PROPTEST_CASES for the property tests
#
# Every run gets a fresh proptest seed (printed in a failing test's output), so
# twenty runs are twenty different draws. The summary is also written to
# test-artifacts/stress/summary.txt; each run's log sits beside it. Exit status:
# 0 when every run passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

runs=5
only=all
load=0
build_beside=0
cases=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --build-beside) build_beside=1; shift ;;
    --cases) cases=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in all|rust|browser|proptest) ;; *) echo "--only: rust, browser or proptest" >&2; exit 2 ;; esac

out="$root/test-artifacts/stress"
rm -rf "$out"
mkdir -p "$out"

pids=()
pg_dir=""
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  if [ -n "$pg_dir" ]; then "$root/scripts/pg-throwaway.sh" stop "$pg_dir/pg" || true; rm -rf "$pg_dir"; fi
}
trap cleanup EXIT INT TERM

# Build first, so the load meets the tests and not the build.
case "$only" in
  all|rust) cargo test --workspace --locked --no-run >/dev/null 2>&1 || cargo test --workspace --locked --no-run ;;
  proptest) cargo test -p trygg-core --lib --locked --no-run ;;
esac

if [ "$only" = all ] || [ "$only" = rust ]; then
  if [ -z "${TRYGG_TEST_POSTGRES_URL:-}" ]; then
    pg_dir=$(mktemp -d)
    TRYGG_TEST_POSTGRES_URL=$("$root/scripts/pg-throwaway.sh" start "$pg_dir/pg")
    export TRYGG_TEST_POSTGRES_URL
  fi
  export TRYGG_REQUIRE_POSTGRES=1
fi

for _ in $(seq 1 "$load"); do
  setsid bash -c 'while :; do :; done' &
  pids+=($!)
done
if [ "$build_beside" = 1 ]; then
  scratch=$(mktemp -d)
  setsid bash -c "while :; do rm -rf '$scratch/target'; CARGO_TARGET_DIR='$scratch/target' cargo build --workspace --quiet >/dev/null 2>&1; done" &
  pids+=($!)
fi
[ "${#pids[@]}" -eq 0 ] || echo "load beside the tests: ${#pids[@]} process group(s)"

declare -A failures=()
failed_runs=0
for i in $(seq 1 "$runs"); do
  log="$out/run-$i.log"
  status=0
  start=$SECONDS
  case "$only" in
    proptest)
      PROPTEST_CASES=${cases:-256} cargo test -p trygg-core --lib --locked -- properties published_cells >"$log" 2>&1 || status=$?
      ;;
    rust)
      ${cases:+env PROPTEST_CASES=$cases} cargo test --workspace --locked >"$log" 2>&1 || status=$?
      ;;
    browser)
      scripts/browser-tests.sh >"$log" 2>&1 || status=$?
      ;;
    all)
      { ${cases:+env PROPTEST_CASES=$cases} cargo test --workspace --locked && TRYGG_BIN="$root/target/debug/trygg" scripts/browser-tests.sh; } >"$log" 2>&1 || status=$?
      ;;
  esac
  # Rust: "test name ... FAILED"; node's spec reporter: "✖ name (123ms)".
  mapfile -t failed < <(
    { grep -E '^test .* \.\.\. FAILED$' "$log" | sed -E 's/^test (.*) \.\.\. FAILED$/\1/';
      grep -E '^ *✖ ' "$log" | grep -v 'failing tests' | sed -E 's/^ *✖ (.*) \([0-9.]+m?s\)$/\1/'; } | sort -u
  )
  if [ "$status" -ne 0 ]; then
    failed_runs=$((failed_runs + 1))
    [ "${#failed[@]}" -gt 0 ] || failed=("(run failed outside a named test; see run-$i.log)")
  fi
  for name in "${failed[@]}"; do failures[$name]=$(( ${failures[$name]:-0} + 1 )); done
  printf 'run %d/%d: %s in %d s%s\n' "$i" "$runs" "$([ "$status" -eq 0 ] && echo passed || echo FAILED)" \
    $((SECONDS - start)) "$([ "${#failed[@]}" -gt 0 ] && printf ' (%s)' "${failed[*]}")"
done

{
  echo "stress: $runs run(s) of '$only', load ${load} hog(s)$([ "$build_beside" = 1 ] && echo ' and a build beside'), $(date -u +%FT%TZ) on $(hostname)"
  echo "runs that failed: $failed_runs of $runs"
  for name in "${!failures[@]}"; do printf '%4d × %s\n' "${failures[$name]}" "$name"; done | sort -rn
} | tee "$out/summary.txt"
[ "$failed_runs" -eq 0 ]
