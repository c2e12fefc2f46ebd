#!/usr/bin/env bash
# The C ABI's tests, as CI runs them:
#  1. build libtandem, compile test_tandem.c and scenario.c (the shared scenario through the
#     engine, domain and model handles) and run them under valgrind (memory errors and definite
#     leaks fail the run); the Rust tests of ffi/ check the header is current and that the
#     TANDEM_ERR_* constants follow ErrorCode::ALL one-to-one;
#  2. install the package (ffi/install.sh: libtandem.so, libtandem.a, tandem.h, tandem.pc) into
#     a fresh temporary prefix, build examples/c against that prefix only with pkg-config, start
#     it against a live engine, make one HTTP request and check the answer;
#  3. link the example statically (pkg-config --static) from the same prefix.
# Set TANDEM_C_PROFILE=release to package the release build (default: the debug build of step 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
profile=${TANDEM_C_PROFILE:-debug}

need=()
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
fi

out=$(mktemp -d)
example_pid=
cleanup() {
  if [ -n "$example_pid" ]; then kill "$example_pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

echo "-- C tests under valgrind"
cargo test -q -p tandem-ffi
cargo build -q -p tandem-ffi
for t in test_tandem scenario; do
  cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iinclude "tests/c/$t.c" \
    -L"$target/debug" -ltandem -lm -lpthread -Wl,-rpath,"$target/debug" -o "$out/$t"
  valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --error-exitcode=3 "$out/$t" tests/conformance/scenario.json
done

echo "-- package installed into a fresh prefix; the example built from it and run live"
prefix=$out/prefix
ffi/install.sh --profile "$profile" "$prefix"
mkdir -p "$out/app"
: >"$out/app/log"
TANDEM_PREFIX=$prefix TANDEM_EXAMPLE_BUILD=$out/app \
  examples/c/run.sh "$out/app/data" 127.0.0.1:0 "$out/app/public" >"$out/app/log" 2>&1 &
example_pid=$!
addr=
for _ in $(seq 1 300); do
  addr=$(sed -n 's|^serving http://\([^/]*\)/.*|\1|p' "$out/app/log")
  [ -n "$addr" ] && break
  kill -0 "$example_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "the example did not start:" >&2
  cat "$out/app/log" >&2
  exit 1
fi
want='{"starts":1,"text":"Hello from C"}'
got=
for _ in $(seq 1 100); do
  got=$(curl -sf "http://$addr/shared-textarea.json" || true)
  [ "$got" = "$want" ] && break
  sleep 0.1
done
if [ "$got" != "$want" ]; then
  echo "GET /shared-textarea.json answered '$got', want '$want'; the example said:" >&2
  cat "$out/app/log" >&2
  exit 1
fi
kill -TERM "$example_pid"
wait "$example_pid"
example_pid=
grep -q '^stopping at version 2' "$out/app/log" || { cat "$out/app/log" >&2; exit 1; }
echo "example: GET http://$addr/shared-textarea.json -> $got; stopped cleanly"

echo "-- static link from the same prefix"
export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig PKG_CONFIG_PATH=
static_libs=$(pkg-config --static --libs-only-l tandem | sed 's/-ltandem//')
# shellcheck disable=SC2046,SC2086 # pkg-config prints several flags
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror examples/c/main.c $(pkg-config --cflags tandem) \
  "$(pkg-config --variable=libdir tandem)/libtandem.a" $static_libs -o "$out/app/tandem-c-example-static"
ldd "$out/app/tandem-c-example-static" | grep -q libtandem && { echo "static example links libtandem.so" >&2; exit 1; }
echo "C ABI: all C tests, the installed package and the example passed"
