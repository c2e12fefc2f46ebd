#!/usr/bin/env bash
# Builds this example against an installed libtandem, found with pkg-config only, and runs it
# in the build directory. Arguments go to the example: [DATA_DIR [ADDRESS [PUBLIC_DIR]]].
#   TANDEM_PREFIX  where libtandem is installed (default: install it now, with ffi/install.sh,
#                  into examples/c/build/prefix)
#   TANDEM_EXAMPLE_BUILD  where the program is built and run (default: examples/c/build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${TANDEM_EXAMPLE_BUILD:-$here/build}
mkdir -p "$build"
if [ -z "${TANDEM_PREFIX:-}" ]; then
  TANDEM_PREFIX=$build/prefix
  "$here/../../ffi/install.sh" "$TANDEM_PREFIX"
fi
# Only the given prefix: a file missing from the installation fails the build.
export PKG_CONFIG_LIBDIR=$TANDEM_PREFIX/lib/pkgconfig PKG_CONFIG_PATH=
libdir=$(pkg-config --variable=libdir tandem)
# shellcheck disable=SC2046 # pkg-config prints several flags
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror "$here/main.c" $(pkg-config --cflags --libs tandem) \
  -lpthread -Wl,-rpath,"$libdir" -o "$build/tandem-c-example"
cd "$build" && exec ./tandem-c-example "$@"
