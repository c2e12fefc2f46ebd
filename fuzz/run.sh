#!/usr/bin/env bash
# Runs every fuzz target for SECONDS_PER_TARGET (default 10) of CPU time with `cargo fuzz`
# (nightly; cargo-fuzz is installed when missing). The committed seed corpus in
# fuzz/corpus/<target> and the crash inputs in fuzz/regressions/<target> are read, never written: new inputs and crash artifacts go to a
# temporary directory (kept and printed when a target fails), so `git status` stays clean.
# Builds in $FUZZ_TARGET_DIR (default target/fuzz-nightly, ignored by git).
# FUZZ_PROFILE=dev builds without optimisation (a third of the build time, a tenth of the
# executions): the test suite's short smoke run uses it; long runs keep the default.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-10}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/../target/fuzz-nightly}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
# By default optimised with debug assertions and overflow checks; no sanitizer (the engine has no unsafe
# code on these paths, and ASan would halve the executions).
profile=()
[ "${FUZZ_PROFILE:-release}" = dev ] && profile=(--dev)
flags=(+nightly fuzz run -s none "${profile[@]}")
cargo +nightly fuzz build -s none "${profile[@]}"
work=$(mktemp -d)
failed=()
for target in $(cargo +nightly fuzz list); do
  mkdir -p "$work/$target/corpus" "$work/$target/artifacts"
  seeds=()
  [ -d "corpus/$target" ] && seeds+=("corpus/$target")
  # Every crash found so far stays a seed (and a regression test in the stable suite).
  [ -d "regressions/$target" ] && seeds+=("regressions/$target")
  echo "== fuzz $target for ${seconds}s"
  if ! cargo "${flags[@]}" "$target" "$work/$target/corpus" "${seeds[@]}" -- \
      -max_total_time="$seconds" -artifact_prefix="$work/$target/artifacts/" \
      -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$work/$target/log" 2>&1; then
    failed+=("$target")
    tail -40 "$work/$target/log"
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$work/$target/log" | tail -2 || true
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs and logs kept in $work)" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzzing: every target ran ${seconds}s without a crash"
