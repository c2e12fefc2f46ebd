#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, the Rust unit/integration/property tests
# (OT conformance vectors and trace replays read ../shared when present).
set -euo pipefail
cd "$(dirname "$0")"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

echo "== C ABI: header up to date (cargo test above), C test program under valgrind"
tests/c/run.sh

echo "== Node binding (napi-rs + node --test, incl. the real client in-process)"
bindings/node/run-tests.sh

echo "== Python binding (maturin + pytest)"
bindings/python/run-tests.sh

echo "== UniFFI binding: Kotlin test program, Swift generated and checked against Kotlin"
bindings/uniffi/run-tests.sh

echo "== build the server-host"
cargo build -p tandem-server

echo "== example: two simulated sites"
demo_dir=$(mktemp -d)
cargo run -q -p two-sites -- "$demo_dir/data" >/dev/null
rm -rf "$demo_dir"

echo "== end-to-end suite (real client against real tandem processes)"
if [ -x tests/e2e/run.sh ]; then
  TANDEM_BIN="$PWD/target/debug/tandem" tests/e2e/run.sh
else
  echo "tests/e2e/run.sh missing" >&2
  exit 1
fi

echo "== browser demo in two headless Chromium tabs; lone surrogates from browser clients"
tests/demo/run.sh

echo "all tests passed"
