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

echo "== example: two simulated sites"
demo_dir=$(mktemp -d)
cargo run -q -p two-sites -- "$demo_dir/data" >/dev/null
rm -rf "$demo_dir"

echo "all tests passed"
