#!/usr/bin/env bash
# Builds the C ABI and this example with cc, then runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build -q --release -p tandem-ffi)
cc -std=c11 -D_DEFAULT_SOURCE -Wall -I"$root/include" "$here/main.c" -L"$target/release" -ltandem \
  -Wl,-rpath,"$target/release" -o "$here/tandem-c-example"
cd "$here" && exec ./tandem-c-example
