#!/usr/bin/env bash
# CI for the Node binding: builds the native addon with napi-rs, type-checks the TypeScript
# usage, runs the tests (shared scenario included), runs the node-express example against a
# live engine, then packs the package with `npm pack`, installs the tarball into a fresh npm
# project and runs the example from there (a file missing from the package fails here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
example="$here/../../examples/node-express"
cd "$here"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "node and npm are needed (Node 18 or later)" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund --loglevel=error
npx napi build --platform --js native.js --dts native.d.ts ${TANDEM_NODE_RELEASE:+--release} >/dev/null
npx tsc -p __test__/types/tsconfig.json
node --expose-gc --test __test__/

(cd "$example" && npm ci --no-audit --no-fund --loglevel=error && node smoke.js)

fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
tarball="$(npm pack --silent --pack-destination "$fresh" | tail -n 1)"
tar -tzf "$fresh/$tarball" | grep 'package/tandem-node\..*\.node$' >/dev/null || { echo "no native addon in $tarball" >&2; exit 1; }
mkdir "$fresh/app"
cp "$example/server.js" "$example/smoke.js" "$fresh/app/"
(
  cd "$fresh/app"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --loglevel=error "$fresh/$tarball" express@4.21.2
  node smoke.js
)
echo "node binding: all checks passed"
