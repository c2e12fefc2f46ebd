#!/usr/bin/env bash
# Builds the UniFFI binding, generates Kotlin and Swift with the crate's own uniffi-bindgen
# (library mode), runs the Kotlin test program against the debug cdylib, and checks that the
# Swift API has the same names as the Kotlin one. Fetches kotlinc from npm and JNA from Debian
# when missing, so a fresh machine needs nothing installed by hand beyond Java 17.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LIB="$TARGET/debug/libtandem_uniffi.so"
BINDGEN="$TARGET/debug/uniffi-bindgen"
KOTLIN_VERSION=2.4.20
CACHE="${TANDEM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}/kotlin-$KOTLIN_VERSION"
JNA=/usr/share/java/jna.jar
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== build (debug cdylib + uniffi-bindgen)"
cargo build -p tandem-uniffi

echo "== generate Kotlin and Swift"
"$BINDGEN" generate --no-format --library "$LIB" --language kotlin --out-dir "$WORK/kotlin"
"$BINDGEN" generate --no-format --library "$LIB" --language swift --out-dir "$WORK/swift"
KT="$(find "$WORK/kotlin" -name '*.kt')"
SWIFT="$(find "$WORK/swift" -name '*.swift')"
[ -n "$KT" ] && [ -n "$SWIFT" ] || { echo "generation produced no sources" >&2; exit 1; }

echo "== Swift API names match Kotlin"
# One line per public member: Type.member(param,...), error variants as Error.Variant. Names
# are lower-cased with underscores dropped, so only a real difference in the API shows.
norm() { tr 'A-Z' 'a-z' | tr -d '_' | sort -u; }
awk '
  /^public interface [A-Za-z0-9_]+/ { t = $3; sub(/Interface$/, "", t); inif = 1; next }
  /^open class [A-Za-z0-9_]+/ { c = $3; sub(/:.*/, "", c); next }
  inif && /^}/ { inif = 0 }
  inif && match($0, /^[ \t]*fun `[A-Za-z0-9_]+`\(/) { member(t, $0, "fun") }
  /^[ \t]*constructor\(`/ { member(c, $0, "constructor") }
  match($0, /^[ \t]+class [A-Za-z0-9_]+\(.*\) : [A-Za-z0-9_]+Exception\(/) {
    v = $0; sub(/^[ \t]+class /, "", v); sub(/\(.*/, "", v); print "Error." v
  }
  function member(type, line, kw,    name, rest, ps, p) {
    name = line; sub("^[ \t]*" kw " ?`?", "", name); sub(/[`(].*/, "", name)
    if (kw == "constructor") name = "init"
    rest = line; sub(/^[^(]*\(/, "", rest); ps = ""
    while (match(rest, /`[A-Za-z0-9_]+`:/)) {
      p = substr(rest, RSTART + 1, RLENGTH - 3); ps = ps (ps == "" ? "" : ",") p
      rest = substr(rest, RSTART + RLENGTH)
    }
    print type "." name "(" ps ")"
  }
' "$KT" | norm > "$WORK/kotlin.api"
awk '
  /^public protocol [A-Za-z0-9_]+/ { t = $3; sub(/:.*/, "", t); sub(/Protocol$/, "", t); inp = 1; next }
  /^open class [A-Za-z0-9_]+/ { c = $3; sub(/:.*/, "", c); next }
  /^public enum [A-Za-z0-9_]+: Swift.Error/ { ine = 1; next }
  (inp || ine) && /^}/ { inp = 0; ine = 0 }
  inp && /^[ \t]*func [A-Za-z0-9_]+\(/ { member(t, $0) }
  /^public convenience init\(/ { member(c, $0) }
  ine && /^[ \t]*case [A-Za-z0-9_]+/ { v = $0; sub(/^[ \t]*case /, "", v); sub(/[(: ].*/, "", v); print "Error." v }
  function member(type, line,    name, rest, ps, p) {
    name = line; sub(/^[ \t]*(public convenience )?(func )?/, "", name); sub(/\(.*/, "", name)
    rest = line; sub(/^[^(]*\(/, "", rest); sub(/\).*/, "", rest); ps = ""
    while (match(rest, /[A-Za-z0-9_]+:/)) {
      p = substr(rest, RSTART, RLENGTH - 1); ps = ps (ps == "" ? "" : ",") p
      rest = substr(rest, RSTART + RLENGTH)
    }
    print type "." name "(" ps ")"
  }
' "$SWIFT" | norm > "$WORK/swift.api"
if [ "$(wc -l < "$WORK/kotlin.api")" -lt 20 ]; then
  echo "too few Kotlin API members found; the extraction is broken:" >&2
  cat "$WORK/kotlin.api" >&2
  exit 1
fi
if ! diff -u "$WORK/kotlin.api" "$WORK/swift.api"; then
  echo "the Swift API differs from the Kotlin API (diff above: - Kotlin, + Swift)" >&2
  exit 1
fi
echo "$(wc -l < "$WORK/kotlin.api") API members agree:"
sed 's/^/  /' "$WORK/kotlin.api"

echo "== Kotlin compiler and JNA"
KOTLINC="$CACHE/node_modules/kotlin-compiler/bin/kotlinc"
if [ ! -x "$KOTLINC" ]; then
  mkdir -p "$CACHE"
  npm install --no-audit --no-fund --prefix "$CACHE" "kotlin-compiler@$KOTLIN_VERSION"
fi
if [ ! -f "$JNA" ]; then
  apt-get install -y libjna-java || { apt-get update && apt-get install -y libjna-java; }
fi

echo "== compile and run the Kotlin test"
"$KOTLINC" -nowarn "$KT" bindings/uniffi/kotlin/TandemTest.kt bindings/uniffi/kotlin/Scenario.kt -include-runtime -d "$WORK/test.jar" -cp "$JNA"
java -Djna.library.path="$TARGET/debug" -cp "$WORK/test.jar:$JNA" TandemTestKt
