#!/usr/bin/env bash
# Builds the UniFFI binding, generates its Kotlin code, compiles this example with kotlinc
# (from npm, cached) against JNA and runs it. bindings/uniffi/run-tests.sh installs the same
# tools on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
cache=${TANDEM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}/kotlin-2.4.20
(cd "$root" && cargo build -q -p tandem-uniffi)
[ -x "$cache/node_modules/kotlin-compiler/bin/kotlinc" ] || npm install --prefix "$cache" --no-audit --no-fund kotlin-compiler@2.4.20
[ -f /usr/share/java/jna.jar ] || apt-get install -y libjna-java
work=$(mktemp -d)
"$target/debug/uniffi-bindgen" generate --no-format --library "$target/debug/libtandem_uniffi.so" \
  --language kotlin --out-dir "$work"
"$cache/node_modules/kotlin-compiler/bin/kotlinc" $(find "$work" -name '*.kt') "$here/Main.kt" \
  -include-runtime -d "$work/example.jar" -cp /usr/share/java/jna.jar
cd "$here"
exec java -Djna.library.path="$target/debug" -cp "$work/example.jar:/usr/share/java/jna.jar" MainKt
