#!/usr/bin/env bash
# Builds tandem.jar (bindings/uniffi/package.sh), compiles this example against it with
# kotlinc (from npm, cached) and runs it with only tandem.jar, JNA and kotlinx-coroutines on
# the classpath. bindings/uniffi/run-tests.sh runs it the same way against a live engine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
. bindings/uniffi/tools.sh
bash bindings/uniffi/package.sh "$work" >/dev/null
"$KOTLINC" -nowarn "$here/Main.kt" -include-runtime -d "$work/example.jar" \
  -cp "$work/tandem.jar:$COROUTINES_JAR"
cd "$here"
java -cp "$work/example.jar:$work/tandem.jar:$JNA_JAR:$COROUTINES_JAR" MainKt
