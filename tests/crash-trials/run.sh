#!/usr/bin/env bash
# Crash trials: kills `tandem serve` with SIGKILL at random moments under load from the load
# generator, N times (default 100), on one data directory. After each restart it checks that
# every operation acknowledged before the kill is in its model exactly once
# (`tandem-loadgen --check-acks`), and reports lost acknowledgements (must be 0) and the
# restart and recovery times: from starting the process until it accepts connections
# (/health answers), and until the first model is open.
#
# Usage: tests/crash-trials/run.sh [N]   (TANDEM_BIN, LOADGEN_BIN select the binaries; the
# default is the debug build in target/, or $CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
trials=${1:-100}
target=${CARGO_TARGET_DIR:-target}
bin=${TANDEM_BIN:-$target/debug/tandem}
loadgen=${LOADGEN_BIN:-$target/debug/tandem-loadgen}
for b in "$bin" "$loadgen"; do
  [ -x "$b" ] || { echo "crash-trials: $b missing (cargo build -p tandem-server)" >&2; exit 2; }
done
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="ws://127.0.0.1:$port/realtime/demo/default"
now_ms() { date +%s%3N; }

# Starts the server; sets server_pid and ready_ms (start until /health answers).
start_server() {
  local t0
  t0=$(now_ms)
  "$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$port" >>"$work/server.log" 2>&1 &
  server_pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "crash-trials: the server did not start; its log:" >&2
      tail -30 "$work/server.log" >&2
      exit 1
    fi
    sleep 0.005
  done
  ready_ms=$(( $(now_ms) - t0 ))
}

# Checks the ack log $1; appends the first-open time to opens, counts into acked/lost.
check() {
  local out
  if ! out=$("$loadgen" --url "$url" --check-acks "$1" --setup-timeout-secs 30 2>"$work/check.err"); then
    echo "crash-trials: check of $1 failed: $out" >&2
    cat "$work/check.err" >&2
  fi
  echo "$out" >"$work/last-check"
  local a l d o
  a=$(sed -n 's/.* acked=\([0-9]*\).*/\1/p' <<<"$out")
  l=$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$out")
  d=$(sed -n 's/.* duplicated=\([0-9]*\).*/\1/p' <<<"$out")
  o=$(sed -n 's/.*first_open_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  [ -n "$a" ] || { a=0; l=999999; d=0; }
  acked=$((acked + a)); lost=$((lost + l + d))
  if [ -n "$o" ] && [ "$a" -gt 0 ] && [ -z "${final:-}" ]; then opens+=("$o"); fi
}

acked=0 lost=0 readies=() opens=()
start_server
for i in $(seq 1 "$trials"); do
  log="$work/acks-$i.log"
  "$loadgen" --url "$url" --clients 4 --models per-client --in-flight 8 --initial-doc-bytes 20 \
    --duration-secs 60 --verify --ack-log "$log" --label "trial$i" --seed "$i" \
    >"$work/loadgen.out" 2>&1 &
  loadgen_pid=$!
  # A random moment, 0 to 1 s after the first acknowledgement (setup takes a varying time).
  for _ in $(seq 1 1000); do [ -s "$log" ] && break; sleep 0.01; done
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", r / 32767 }')"
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  # Each ack is in the log file before the load generator reads on: stop it at once rather
  # than let its clients time out.
  kill -9 "$loadgen_pid" 2>/dev/null || true
  wait "$loadgen_pid" 2>/dev/null || true
  start_server
  readies+=("$ready_ms")
  check "$log"
  echo "trial $i: $(cat "$work/last-check") restart_ms=$ready_ms"
done
# Finally, every trial's acknowledged operations once more, after one more restart.
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
start_server
cat "$work"/acks-*.log >"$work/all.log"
final_acked=$acked final_lost=$lost
acked=0 lost=0 final=1
check "$work/all.log"
echo "final check of all trials: $(cat "$work/last-check")"
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
server_pid=

stats() { sort -n | awk '{ v[NR] = $1 } END { printf "min %s median %s max %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
echo "crash trials: $trials kills, $final_acked acknowledged operations checked, $((final_lost + lost)) lost"
echo "  restart until accepting connections (ms): $(printf '%s\n' "${readies[@]}" | stats)"
echo "  first model open after that (ms): $(printf '%s\n' "${opens[@]}" | stats)"
if [ "$((final_lost + lost))" -ne 0 ] || [ "$final_acked" -eq 0 ]; then
  echo "crash trials FAILED" >&2
  exit 1
fi
