#!/usr/bin/env bash
# Builds the release binaries and runs the load scenarios of docs/PERFORMANCE-loadgen.md.
# Each scenario starts its own `tandem serve` (fresh temporary data directory, free port),
# measures it and stops it, and prints one line of figures. Benchmarks never fail a build:
# a scenario that reports errors is shown as such and the script goes on.
#
# Environment:
#   DURATION   seconds per scenario (default 10; the 1,000-connection one uses DURATION_MANY)
#   DURATION_MANY  seconds for the 1,000-connection scenario (default 20)
#   SERVER     the server binary to measure (default: the freshly built `tandem`)
#   VERIFY=1   also check every client's replica against the server's model at the end
#   ONLY       a regular expression: run only the scenarios whose label matches
set -u
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -p tandem-server --bins || exit 1
BIN="$CARGO_TARGET_DIR/release"
SERVER="${SERVER:-$BIN/tandem}"
DURATION="${DURATION:-10}"
DURATION_MANY="${DURATION_MANY:-20}"
ONLY="${ONLY:-.}"
EXTRA=()
[ "${VERIFY:-0}" = 1 ] && EXTRA+=(--verify)

# 1,000 connections: each is a socket in the load generator and one in the server (the
# server is our child and inherits the limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# The default per-connection limit (5,000 messages/s average) would close a single client
# that submits faster than that; the benchmark measures the engine, not the limiter.
CONFIG="$(mktemp)"
trap 'rm -f "$CONFIG"' EXIT
cat >"$CONFIG" <<'EOF'
[net]
rate_limit_per_sec = 10000000
rate_burst = 10000000
EOF

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "# server: $SERVER; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

run() {
    local label="$1"
    shift
    [[ "$label" =~ $ONLY ]] || return 0
    "$BIN/tandem-loadgen" --spawn-server "$SERVER" --server-config "$CONFIG" \
        --label "$label" "${EXTRA[@]}" "$@" || true
}

# Clients editing one model, 16 operations in flight each.
for n in 1 2 4 8; do
    run "one-model-${n}c" --clients "$n" --models one --in-flight 16 --duration-secs "$DURATION"
done
# Latency at a fixed offered load (open loop): 8 clients on one model at 2,500 ops/s each
# (20,000 ops/s in all), still at most 16 in flight each; an operation that has to wait for
# room in the window has that wait counted in its latency.
run "one-model-8c-20k-offered" --clients 8 --models one --in-flight 16 --rate-per-client 2500 \
    --duration-secs "$DURATION"
# Document size: 8 clients on a 1 KB and on a 100 KB string.
run "doc-1KB-8c" --clients 8 --models one --in-flight 16 --initial-doc-bytes 1000 \
    --duration-secs "$DURATION"
run "doc-100KB-8c" --clients 8 --models one --in-flight 16 --initial-doc-bytes 100000 \
    --duration-secs "$DURATION"
# Many connections, each editing its own model at a low rate (1 in flight, 5 ops/s).
run "conns-1000" --clients 1000 --models per-client --in-flight 1 --rate-per-client 5 \
    --duration-secs "$DURATION_MANY"
