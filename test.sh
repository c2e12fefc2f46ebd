#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, the Rust unit/integration/property tests
# (OT conformance vectors and trace replays read ../shared when present).
set -euo pipefail
cd "$(dirname "$0")"
# Each step's heading shows the time since the start (the suite must stay under 30 minutes).
section() { printf '== %s   [%dm%02ds]\n' "$1" $((SECONDS / 60)) $((SECONDS % 60)); }
# A clean build (as in CI) gains nothing from incremental caches, and full debug info for the
# workspace's own crates makes every test binary slower to build and link; line tables keep
# file and line in backtraces. Minutes of the budget; override either to taste.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

section "cargo test"
cargo test --workspace

section "facade: rustdoc shows api and ot only; bindings and the C ABI use tandem::api only"
RUSTDOCFLAGS="-D warnings" cargo doc -q -p tandem --no-deps
doc_modules=$(grep -o 'href="[a-z_]*/index.html"' "${CARGO_TARGET_DIR:-target}/doc/tandem/index.html" | sort -u | tr -d '\n')
if [ "$doc_modules" != 'href="api/index.html"href="ot/index.html"' ]; then
  echo "the facade's rustdoc shows more than api and ot: $doc_modules" >&2
  exit 1
fi
if grep -rn 'tandem::' bindings/*/src ffi/src | grep -v 'tandem::api'; then
  echo "the lines above reach past tandem::api" >&2
  exit 1
fi

section "example: an app server on tandem::api (serves, writes, follows events, checks /health)"
cargo run -q -p rust-host >/dev/null

section "C ABI: header up to date (cargo test above), C test program under valgrind"
tests/c/run.sh

section "Node binding (napi-rs + node --test, incl. the real client in-process)"
bindings/node/run-tests.sh

section "Python binding (maturin + pytest)"
bindings/python/run-tests.sh

section "UniFFI binding: Kotlin test program, Swift generated and checked against Kotlin"
bindings/uniffi/run-tests.sh

section "build the server-host"
cargo build -p tandem-server

section "store on a full disk (tmpfs; needs root, skips loudly otherwise)"
cargo test -p tandem --test disk_full -- --nocapture

section "crash trials: SIGKILL under load, 10 times; no acknowledged operation may be lost"
tests/crash-trials/run.sh 10

section "fuzzing: every cargo-fuzz target for 5 s (unoptimised nightly build included)"
FUZZ_PROFILE=dev fuzz/run.sh 5

section "example: two simulated sites"
demo_dir=$(mktemp -d)
cargo run -q -p two-sites -- "$demo_dir/data" >/dev/null
rm -rf "$demo_dir"

section "end-to-end suite (real client against real tandem processes)"
if [ -x tests/e2e/run.sh ]; then
  TANDEM_BIN="$PWD/target/debug/tandem" tests/e2e/run.sh
else
  echo "tests/e2e/run.sh missing" >&2
  exit 1
fi

section "REST API: schemathesis against the served OpenAPI document"
TANDEM_BIN="$PWD/target/debug/tandem" tests/rest/run.sh

section "admin console in headless Chromium"
TANDEM_BIN="$PWD/target/debug/tandem" tests/console/run.sh

section "browser demo in two headless Chromium tabs; lone surrogates from browser clients"
TANDEM_RUN_PROFILE=dev tests/demo/run.sh

printf 'all tests passed in %dm%02ds\n' $((SECONDS / 60)) $((SECONDS % 60))
