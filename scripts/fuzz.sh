#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for the given number of seconds,
# one after another, on one core: scripts/fuzz.sh [seconds-per-target] [target…]
#
# New interesting inputs land in fuzz/corpus/<target>/; minimise before
# committing them with `cargo +nightly fuzz cmin --fuzz-dir fuzz <target>`.
# A crash stops the run and leaves its input in fuzz/artifacts/<target>/:
# fix it, then copy the input to fuzz/regressions/<target>/ so that
# `cargo test -p trygg-core --test fuzz_corpus` replays it on stable for good.
set -euo pipefail

seconds="${1:-60}"
shift || true
cd "$(dirname "$0")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(geojson_feature import_formats query_params)
fi

for target in "${targets[@]}"; do
  case "$target" in
    query_params) max_len=1024 ;;
    *) max_len=8192 ;;
  esac
  dirs=("fuzz/corpus/$target")
  if [ -d "fuzz/regressions/$target" ]; then
    dirs+=("fuzz/regressions/$target")
  fi
  echo "== $target: ${seconds}s"
  # -timeout: an input that takes seconds is a denial of service in the API.
  cargo +nightly fuzz run --fuzz-dir fuzz "$target" "${dirs[@]}" -- \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -print_final_stats=1
done
