#!/usr/bin/env bash
# Drives the admin console (/admin) in headless Chromium against a real tandem process
# (installs Debian's chromium when missing and the script runs as root, the pinned
# playwright-core, and the e2e suite's packages the test reuses: the Convergence client, ws).
#
#   TANDEM_BIN      the binary (default: ../../target/debug/tandem)
#   CONSOLE_SHOTS   where the screenshots go (default: tests/console/screenshots/)
#   KEEP_TANDEM_DATA=1 keeps the server's temporary directory (data + server.log)
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
[ -d ../e2e/node_modules/@convergence/convergence ] || npm ci --prefix ../e2e --no-audit --no-fund --loglevel=error
bin="${TANDEM_BIN:-../../target/debug/tandem}"
if [ ! -x "$bin" ]; then
  echo "run.sh: no tandem binary at $bin (cargo build -p tandem-server, or set TANDEM_BIN)" >&2
  exit 1
fi
export TANDEM_BIN="$bin"
exec timeout --kill-after=10 "${CONSOLE_TIMEOUT:-300}" \
  node --test --test-concurrency=1 --test-timeout=120000 console.test.js
