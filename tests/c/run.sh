#!/usr/bin/env bash
# Builds the C ABI, checks the committed header is current, compiles the C test with cc and
# runs it, under valgrind when available (definite leaks and memory errors fail the run).
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build -q -p tandem-ffi
out=$(mktemp -d)
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iinclude tests/c/test_tandem.c \
  -L"$target/debug" -ltandem -lpthread -Wl,-rpath,"$target/debug" -o "$out/test_tandem"
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iinclude tests/c/scenario.c \
  -L"$target/debug" -ltandem -lm -lpthread -Wl,-rpath,"$target/debug" -o "$out/scenario"
if command -v valgrind >/dev/null 2>&1; then
  for t in test_tandem scenario; do
    valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
      --error-exitcode=3 "$out/$t" tests/conformance/scenario.json
  done
else
  echo "valgrind not installed: running without leak checking" >&2
  "$out/test_tandem"
  "$out/scenario" tests/conformance/scenario.json
fi
rm -rf "$out"
