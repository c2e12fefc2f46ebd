#!/usr/bin/env bash
# Builds tandem.jar: the generated Kotlin bindings, the Flow extension (kotlin/package) and
# the native library under linux-x86-64/ (where JNA finds it on the classpath), plus the
# Swift sources (generated bindings, FFI header and modulemap, the AsyncSequence extension)
# in swift/ beside it, and the jar's Kotlin sources in kotlin/ (for reading, not needed).
#
#   bindings/uniffi/package.sh OUT_DIR     (TANDEM_PROFILE=release for an optimised library)
#
# Needs kotlinc and the kotlinx-coroutines jar: KOTLINC and COROUTINES_JAR, else the ones
# bindings/uniffi/tools.sh installs.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$(mkdir -p "${1:?usage: package.sh OUT_DIR}" && cd "$1" && pwd)"
cd "$ROOT"
# shellcheck source=tools.sh
. bindings/uniffi/tools.sh
PROFILE="${TANDEM_PROFILE:-debug}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LIB="$TARGET/$PROFILE/libtandem_uniffi.so"
BINDGEN="$TARGET/$PROFILE/uniffi-bindgen"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ "$PROFILE" = release ]; then
  cargo build -q --release -p tandem-uniffi
else
  cargo build -q -p tandem-uniffi
fi

"$BINDGEN" generate --no-format --library "$LIB" --language kotlin --out-dir "$WORK/kotlin"
rm -rf "$OUT/swift"
"$BINDGEN" generate --no-format --library "$LIB" --language swift --out-dir "$OUT/swift"
cp bindings/uniffi/swift/Events.swift "$OUT/swift/"

mkdir -p "$WORK/classes/linux-x86-64"
"$KOTLINC" -nowarn -cp "$JNA_JAR:$COROUTINES_JAR" -d "$WORK/classes" \
  $(find "$WORK/kotlin" -name '*.kt') bindings/uniffi/kotlin/package/*.kt
cp "$LIB" "$WORK/classes/linux-x86-64/"
rm -rf "$OUT/kotlin" && mkdir -p "$OUT/kotlin"
cp $(find "$WORK/kotlin" -name '*.kt') bindings/uniffi/kotlin/package/*.kt "$OUT/kotlin/"
rm -f "$OUT/tandem.jar"
(cd "$WORK/classes" && jar --create --file "$OUT/tandem.jar" .)
echo "$OUT/tandem.jar"
