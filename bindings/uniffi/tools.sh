# Sourced by the UniFFI scripts: finds or installs kotlinc (npm package kotlin-compiler, cached),
# JNA (Debian libjna-java) and kotlinx-coroutines, and sets KOTLINC, JNA_JAR, COROUTINES_JAR.
#
# kotlinx-coroutines comes with kotlinc (lib/kotlinx-coroutines-core-jvm.jar, 1.8): Debian's
# libkotlinx-coroutines-java is 1.0.1, older than kotlinx.coroutines.flow (1.3), so it cannot
# compile the Flow extension.
KOTLIN_VERSION=2.4.20
KOTLIN_CACHE="${TANDEM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}/kotlin-$KOTLIN_VERSION"
KOTLIN_HOME="$KOTLIN_CACHE/node_modules/kotlin-compiler"
if [ -z "${KOTLINC:-}" ]; then
  KOTLINC="$KOTLIN_HOME/bin/kotlinc"
  if [ ! -x "$KOTLINC" ]; then
    mkdir -p "$KOTLIN_CACHE"
    npm install --no-audit --no-fund --prefix "$KOTLIN_CACHE" "kotlin-compiler@$KOTLIN_VERSION" >&2
  fi
fi
COROUTINES_JAR="${COROUTINES_JAR:-$(cd "$(dirname "$KOTLINC")/.." && pwd)/lib/kotlinx-coroutines-core-jvm.jar}"
JNA_JAR="${JNA_JAR:-/usr/share/java/jna.jar}"
if [ ! -f "$JNA_JAR" ]; then
  apt-get install -y libjna-java >&2 || { apt-get update >&2 && apt-get install -y libjna-java >&2; }
fi
for f in "$KOTLINC" "$COROUTINES_JAR" "$JNA_JAR"; do
  [ -e "$f" ] || { echo "missing $f" >&2; exit 1; }
done
export KOTLINC COROUTINES_JAR JNA_JAR
