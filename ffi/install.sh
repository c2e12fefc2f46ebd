#!/usr/bin/env bash
# Builds libtandem and installs it for C hosts under PREFIX:
#   PREFIX/lib/libtandem.so, PREFIX/lib/libtandem.a, PREFIX/include/tandem.h and
#   PREFIX/lib/pkgconfig/tandem.pc (written here for this prefix).
# Usage: ffi/install.sh [--profile release|debug] PREFIX   (default profile: release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
profile=release
if [ "${1:-}" = "--profile" ]; then
  profile=${2:?--profile needs release or debug}
  shift 2
fi
prefix=${1:?usage: ffi/install.sh [--profile release|debug] PREFIX}
case "$profile" in
  release) cargo_flags=(--release) ;;
  debug) cargo_flags=() ;;
  *) echo "unknown profile $profile" >&2; exit 2 ;;
esac
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build -q "${cargo_flags[@]}" -p tandem-ffi)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
abi=$(sed -n 's/^#define TANDEM_ABI_VERSION \([0-9]*\)$/\1/p' "$root/include/tandem.h")

install -D -m 0755 "$target/$profile/libtandem.so" "$prefix/lib/libtandem.so"
install -D -m 0644 "$target/$profile/libtandem.a" "$prefix/lib/libtandem.a"
install -D -m 0644 "$root/include/tandem.h" "$prefix/include/tandem.h"
mkdir -p "$prefix/lib/pkgconfig"
cat > "$prefix/lib/pkgconfig/tandem.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: tandem
Description: Tandem real-time collaboration engine, C ABI version $abi
Version: $version
Libs: -L\${libdir} -ltandem
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
Cflags: -I\${includedir}
PC
echo "installed libtandem $version (C ABI $abi, $profile) into $prefix"
