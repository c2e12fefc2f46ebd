#!/usr/bin/env bash
# Starts the Tandem server-host with its embedded defaults (LMDB store in ./tandem-data,
# loopback only) and serves the browser demo: open the printed URL in two tabs.
set -euo pipefail
cd "$(dirname "$0")"
demo=examples/browser-demo
if [ ! -f "$demo/node_modules/@convergence/convergence/convergence.global.min.js" ]; then
  echo "installing the demo page's client library (npm)..."
  npm ci --prefix "$demo" --no-audit --no-fund --loglevel=error
fi
# `tandem-server` has two binaries (the server and the load generator): name the server.
# A release build by default; TANDEM_RUN_PROFILE=dev reuses a debug build (the test suite does,
# since it has built one already and the release compile would add minutes).
exec cargo run --profile "${TANDEM_RUN_PROFILE:-release}" -q -p tandem-server --bin tandem -- serve --static-dir "$demo" "$@"
