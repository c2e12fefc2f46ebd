#!/usr/bin/env bash
# Installs the npm tooling, builds the native module with napi-rs and runs the node tests.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/@napi-rs/cli ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx napi build --platform --js index.js --dts index.d.ts >/dev/null
node --expose-gc --test __test__/
