#!/usr/bin/env bash
# A/B performance comparison: another revision against the working tree, measured in the same
# session, interleaved, several rounds each (this VM's speed drifts by 20% or more, so only
# figures taken side by side are evidence).
#
#   bench/ab.sh REV            # e.g. bench/ab.sh main, bench/ab.sh 7b03d31
#
# It checks REV out in a worktree of its own ($AB_DIR/rev, default /tmp/tandem-ab) with a
# target directory of its own, builds both release builds (the trace-replay benchmark, the
# server and the load generator), then runs ROUNDS rounds; in each round both builds run the
# trace replay and the load scenarios, the order alternating from round to round. It prints
# every figure of both builds and the ratio B/A of the medians (A = REV, B = working tree).
# Benchmarks never fail: a run that prints no figure is shown as "-".
#
# Environment:
#   ROUNDS      rounds (default 3)
#   DURATION    seconds per load scenario (default 10)
#   SCENARIOS   load scenarios to run: any of sat8, offered20k, conn1000 (default "sat8 offered20k")
#   BIG_REPEAT  trace repetitions of the large-history replay (TANDEM_BIG_REPEAT, default 4)
#   AB_DIR      where the other revision is built (default /tmp/tandem-ab)
set -u
cd "$(dirname "$0")/.."
root=$PWD
rev=${1:?usage: bench/ab.sh REV}
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
scenarios=${SCENARIOS:-sat8 offered20k}
big=${BIG_REPEAT:-4}
ab=${AB_DIR:-/tmp/tandem-ab}
mkdir -p "$ab"

# --- build both --------------------------------------------------------------------------
if [ -d "$ab/rev" ]; then
  git -C "$ab/rev" checkout -q --detach "$rev" || exit 1
else
  git worktree add -q --detach "$ab/rev" "$rev" || exit 1
fi
a_sha=$(git -C "$ab/rev" rev-parse --short HEAD)
b_sha="$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo +changes)"
build() { # dir target
  (cd "$1" && CARGO_TARGET_DIR="$2" cargo build -q --release -p tandem-server --bins &&
    CARGO_TARGET_DIR="$2" cargo bench -q -p tandem --bench trace_replay --no-run) >/dev/null 2>&1
}
echo "# building A = $rev ($a_sha) and B = working tree ($b_sha)"
build "$ab/rev" "$ab/target" || { echo "build of $rev failed" >&2; exit 1; }
build "$root" "$root/target" || { echo "build of the working tree failed" >&2; exit 1; }

cfg=$(mktemp)
out=$(mktemp -d)
trap 'rm -rf "$cfg" "$out"' EXIT
cat >"$cfg" <<'EOF'
[net]
rate_limit_per_sec = 10000000
rate_burst = 10000000
EOF
ulimit -n 65536 2>/dev/null || true

# --- one measurement of one build: appends "name value" lines to $out/<side> ---------------
measure() { # side dir target
  local side=$1 dir=$2 target=$3 log
  log=$(cd "$dir" && CARGO_TARGET_DIR="$target" TANDEM_BIG_REPEAT=$big \
    TANDEM_TRACES_DIR="${TANDEM_TRACES_DIR:-$root/../shared/traces}" \
    cargo bench -q -p tandem --bench trace_replay 2>/dev/null)
  {
    echo "$log" | sed -n 's/^replay: .* = \([0-9.]*\) ops\/s.*/replay_ops_s \1/p'
    echo "$log" | sed -n 's/^large history: .* = \([0-9.]*\) ops\/s.*/large_history_ops_s \1/p'
    echo "$log" | sed -n 's/^large document .* = \([0-9.]*\) ops\/s; log \([0-9.]*\) bytes\/op, snapshots \([0-9.]*\) bytes\/op, files \([0-9.]*\) bytes\/op.*/large_doc_ops_s \1\nlarge_doc_files_bytes_per_op \4/p'
    echo "$log" | sed -n "s/^cold open of '\([^']*\)' (\([0-9]*\) ops in history): \([0-9.]*\) ms; resident model \([0-9.]*\) KiB.*/cold_open_ms_\1 \3\nresident_kib_\1 \4/p"
  } >>"$out/$side"
  local bin=$target/release
  for s in $scenarios; do
    local args=()
    case $s in
      sat8) args=(--clients 8 --models one --in-flight 16 --duration-secs "$duration") ;;
      offered20k) args=(--clients 8 --models one --in-flight 16 --rate-per-client 2500 --duration-secs "$duration") ;;
      conn1000) args=(--clients 1000 --models per-client --in-flight 1 --rate-per-client 5 --duration-secs "$duration") ;;
      *) echo "unknown scenario $s" >&2; continue ;;
    esac
    local line
    line=$("$bin/tandem-loadgen" --spawn-server "$bin/tandem" --server-config "$cfg" --label "$s" "${args[@]}" 2>/dev/null | tail -1)
    echo "$line" | sed -n "s/.* ops\/s=\([0-9.]*\) .*/${s}_ops_s \1/p" >>"$out/$side"
    echo "$line" | sed -n "s/.* p99=\([0-9.]*\)ms.*/${s}_p99_ms \1/p" >>"$out/$side"
    echo "$line" | sed -n "s/.* rss=\([0-9.]*\)MB.*/${s}_rss_mb \1/p" >>"$out/$side"
  done
}

for r in $(seq 1 "$rounds"); do
  echo "# round $r of $rounds ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ $((r % 2)) = 1 ]; then
    measure A "$ab/rev" "$ab/target"; measure B "$root" "$root/target"
  else
    measure B "$root" "$root/target"; measure A "$ab/rev" "$ab/target"
  fi
done

# --- table -----------------------------------------------------------------------------------
echo
echo "A = $rev ($a_sha), B = working tree ($b_sha); $rounds rounds, interleaved; $(nproc) cores"
echo
echo "| figure | A runs | B runs | B/A (medians) |"
echo "|---|---|---|---:|"
names=$(cut -d' ' -f1 "$out/A" "$out/B" 2>/dev/null | awk '!seen[$0]++')
for n in $names; do
  a=$(awk -v n="$n" '$1==n {print $2}' "$out/A" | sort -g | tr '\n' ' ')
  b=$(awk -v n="$n" '$1==n {print $2}' "$out/B" | sort -g | tr '\n' ' ')
  ratio=$(awk -v a="$a" -v b="$b" 'function med(s,  v,n){n=split(s,v," "); if(n==0) return ""; return (n%2)? v[(n+1)/2] : (v[n/2]+v[n/2+1])/2}
    BEGIN {ma=med(a); mb=med(b); if (ma=="" || mb=="" || ma==0) print "-"; else printf "%.2f", mb/ma}')
  echo "| $n | ${a:--} | ${b:--} | $ratio |"
done
