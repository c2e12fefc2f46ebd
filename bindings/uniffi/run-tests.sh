#!/usr/bin/env bash
# The UniFFI binding's CI: the Rust unit tests; tandem.jar (generated Kotlin, the Flow
# extension, the native library) and the Swift sources built by package.sh; a check that the
# Swift API has the same names as the Kotlin one (extensions included); the Kotlin tests
# (handles, the shared scenario) against tandem.jar alone; and examples/kotlin compiled and
# run in a fresh directory against a fresh classpath (tandem.jar, JNA, kotlinx-coroutines;
# no library path), answering one HTTP request. Fetches kotlinc from npm and JNA from Debian
# when missing, so a fresh machine needs nothing installed by hand beyond Java 17.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
WORK="$(mktemp -d)"
PKG="$WORK/pkg"
EXAMPLE_PID=
cleanup() {
  if [ -n "$EXAMPLE_PID" ]; then kill "$EXAMPLE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== Rust unit tests"
cargo test -q -p tandem-uniffi

echo "== Kotlin compiler, JNA, kotlinx-coroutines"
# shellcheck source=tools.sh
. bindings/uniffi/tools.sh

echo "== package: tandem.jar and the Swift sources"
bash bindings/uniffi/package.sh "$PKG"
JAR_FILES="$(jar tf "$PKG/tandem.jar")"
grep -qx 'linux-x86-64/libtandem_uniffi.so' <<< "$JAR_FILES" \
  || { echo "tandem.jar lacks linux-x86-64/libtandem_uniffi.so" >&2; exit 1; }
KT="$(find "$PKG/kotlin" -name 'tandem_uniffi.kt')"
SWIFT="$PKG/swift/tandem_uniffi.swift"
[ -n "$KT" ] && [ -f "$SWIFT" ] && [ -f "$PKG/swift/Events.swift" ] \
  || { echo "generation produced no sources" >&2; exit 1; }

echo "== Swift API names match Kotlin"
# One line per public member: Type.member(param,...), " async" after a suspend (Kotlin) or
# async (Swift) one, error variants as Error.Variant, and the shipped extensions. Names
# are lower-cased with underscores dropped, so only a real difference in the API shows.
norm() { tr 'A-Z' 'a-z' | tr -d '_' | sort -u; }
awk '
  /^public interface [A-Za-z0-9_]+/ { t = $3; sub(/Interface$/, "", t); inif = 1; next }
  /^open class [A-Za-z0-9_]+/ { c = $3; sub(/:.*/, "", c); next }
  inif && /^}/ { inif = 0 }
  inif && match($0, /^[ \t]*(suspend )?fun `[A-Za-z0-9_]+`\(/) { member(t, $0, "(suspend )?fun") }
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
    print type "." name "(" ps ")" (line ~ /suspend fun/ ? " async" : "")
  }
'  "$KT" > "$WORK/kotlin.raw"
awk 'match($0, /^fun [A-Za-z0-9_]+\.[A-Za-z0-9_]+\(/) {
  s = substr($0, 5); sub(/\(.*/, "", s); print s "()"
}' bindings/uniffi/kotlin/package/*.kt >> "$WORK/kotlin.raw"
norm < "$WORK/kotlin.raw" > "$WORK/kotlin.api"
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
    print type "." name "(" ps ")" (line ~ /\) async/ ? " async" : "")
  }
'  "$SWIFT" > "$WORK/swift.raw"
awk '/^extension [A-Za-z0-9_]+/ { t = $2; ine = 1; next }
  ine && /^}/ { ine = 0 }
  ine && match($0, /^[ \t]*public func [A-Za-z0-9_]+\(\)/) {
    n = $0; sub(/^[ \t]*public func /, "", n); sub(/\(.*/, "", n); print t "." n "()"
  }' "$PKG/swift/Events.swift" >> "$WORK/swift.raw"
norm < "$WORK/swift.raw" > "$WORK/swift.api"
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

echo "== Kotlin tests against tandem.jar"
CP="$PKG/tandem.jar:$JNA_JAR:$COROUTINES_JAR"
"$KOTLINC" -nowarn bindings/uniffi/kotlin/TandemTest.kt bindings/uniffi/kotlin/Scenario.kt \
  -include-runtime -d "$WORK/test.jar" -cp "$CP"
env -u LD_LIBRARY_PATH java -cp "$WORK/test.jar:$CP" TandemTestKt

echo "== examples/kotlin in a fresh directory, against a live engine"
command -v curl >/dev/null || apt-get install -y curl || { apt-get update && apt-get install -y curl; }
APP="$WORK/app"
mkdir -p "$APP/libs"
cp "$PKG/tandem.jar" "$APP/libs/"
cp examples/kotlin/Main.kt "$APP/"
(cd "$APP" && "$KOTLINC" -nowarn Main.kt -include-runtime -d example.jar -cp "libs/tandem.jar:$COROUTINES_JAR")
(cd "$APP" && exec env -u LD_LIBRARY_PATH TANDEM_ADDRESS=127.0.0.1:0 TANDEM_DATA_DIR="$APP/data" \
  java -cp "example.jar:libs/tandem.jar:$JNA_JAR:$COROUTINES_JAR" MainKt > "$APP/out.log" 2>&1) &
EXAMPLE_PID=$!
wait_for() { # pattern: waits up to 30 s for a line of the example's output
  for _ in $(seq 300); do
    grep -q "$1" "$APP/out.log" && return 0
    kill -0 "$EXAMPLE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the example did not print /$1/:" >&2; cat "$APP/out.log" >&2; exit 1
}
wait_for 'connect to ws://'
ADDR="$(sed -n 's|.*connect to ws://\([^/]*\)/.*|\1|p' "$APP/out.log" | head -1)"
HEALTH="$(curl -fsS --max-time 10 "http://$ADDR/health")"
echo "GET http://$ADDR/health -> $HEALTH"
[ "$HEALTH" = '{"status":"ok"}' ] || { echo "unexpected health answer" >&2; exit 1; }
wait_for 'event: welcome is at version 2 (by tandem-host)'
kill -TERM "$EXAMPLE_PID"
wait "$EXAMPLE_PID" || true
EXAMPLE_PID=
cat "$APP/out.log"
[ -d "$APP/data" ] || { echo "the example wrote no data directory" >&2; exit 1; }
echo "example: 1 passed, 0 failed"
