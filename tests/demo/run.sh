#!/usr/bin/env bash
# Drives the browser demo in headless Chromium (installs Debian's chromium when missing and
# the script runs as root, and the demo page's npm dependency).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
demo=../../examples/browser-demo
[ -f "$demo/node_modules/@convergence/convergence/convergence.global.min.js" ] || \
  npm ci --prefix "$demo" --no-audit --no-fund --loglevel=error
node --test demo.test.mjs surrogates.test.mjs
