#!/usr/bin/env bash
# End-to-end suite: the unmodified Convergence client (npm @convergence/convergence 1.0.0-rc.12)
# against the real `tandem` binary. Installs the pinned npm packages when node_modules is
# missing, then runs every *.test.js with node's built-in runner.
#
#   TANDEM_BIN    the binary (default: ../../target/debug/tandem; build it first)
#   E2E_CLIENTS   clients in the concurrency and crash tests (2..5, default 3)
#   E2E_OPS       random edits per client in the concurrency test (default 1000)
#   E2E_SEED      seed of the random edits (default: time based; printed in the test names)
#   E2E_TIMEOUT   overall limit in seconds (default 720)
#   KEEP_TANDEM_DATA=1 keeps each server's temporary directory (data + server.log)
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi

bin="${TANDEM_BIN:-../../target/debug/tandem}"
if [ ! -x "$bin" ]; then
  echo "run.sh: no tandem binary at $bin (cargo build -p tandem-server, or set TANDEM_BIN)" >&2
  exit 1
fi

# One file at a time: the machine has 2 cores and each test drives a server plus clients.
exec timeout --kill-after=10 "${E2E_TIMEOUT:-720}" \
  node --test --test-concurrency=1 --test-timeout=240000 ./*.test.js
