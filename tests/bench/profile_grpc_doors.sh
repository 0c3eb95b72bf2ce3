#!/usr/bin/env bash
# What gRPC 1.51 itself costs per publish for each way of serving a method
# (tests/bench/grpc_doors/grpc_door_probe.cc: a Publisher whose handler does
# nothing). For each MODE and door it starts the probe, publishes EVENTS at
# RATE one call (unary) or one message (stream) at a time with the bench's
# load generator, and prints the probe's CPU per call and context switches
# per call (voluntary: the thread slept and was woken; from
# /proc/PID/task/*/schedstat and status), and its thread count.
#
#   tests/bench/profile_grpc_doors.sh [RATE] [EVENTS] [REPS] [MODE[:EXTRA]...]
#
# Default modes: the ones tests/bench/README.md ("Trickle") compares.
# Loopback only (127.0.0.1:28190); the probe is stopped on exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rate="${1:-1000}"
events="${2:-3000}"
reps="${3:-2}"
shift $(( $# < 3 ? $# : 3 ))
modes=("$@")
[[ ${#modes[@]} -gt 0 ]] || modes=(sync callback async async+sync async+cb async:health async:reflection sync:extras)
probe="$root/build/release/tests/bench/ssebridge_bench_grpc_doors"
loadgen="$root/build/release/tests/bench/ssebridge_bench_loadgen"
address=127.0.0.1:28190
pid=""
cleanup() { [[ -z "$pid" ]] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; }
trap cleanup EXIT

# Sums over the probe's threads: CPU ns, voluntary and all context switches.
snapshot() {
  local cpu=0 vol=0 all=0 ns v n
  for t in /proc/"$pid"/task/*; do
    read -r ns _ <"$t/schedstat" || continue
    v=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")
    n=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t/status")
    cpu=$((cpu + ns)); vol=$((vol + v)); all=$((all + v + n))
  done
  echo "$cpu $vol $all"
}

printf "%-22s %-6s %8s %12s %10s %10s %8s\n" mode door rate "µs/call" "vol cs" "all cs" threads
for rep in $(seq "$reps"); do
  for spec in "${modes[@]}"; do
    mode=${spec%%:*}
    extra=""
    [[ $spec == *:* ]] && extra=${spec#*:}
    for door in unary stream; do
      "$probe" "$mode" "$address" $extra 2>/dev/null &
      pid=$!
      for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/28190) 2>/dev/null && break
        sleep 0.1
      done
      pub=(--mode=grpc-"$door" --target="$address" --window=1000 --channel=p1 --size=100)
      "$loadgen" pub "${pub[@]}" --events=200 --rate=1000 >/dev/null 2>&1
      read -r c0 v0 a0 < <(snapshot)
      out=$("$loadgen" pub "${pub[@]}" --events="$events" --rate="$rate" 2>&1 || true)
      read -r c1 v1 a1 < <(snapshot)
      accepted=$(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' <<<"$out")
      if [[ "$accepted" != "$events" ]]; then
        echo "$spec $door: the probe accepted ${accepted:-none} of $events: $out" >&2
        exit 1
      fi
      threads=$(ls /proc/"$pid"/task | wc -l)
      kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
      awk -v m="$spec" -v d="$door" -v r="$rate" -v c=$((c1 - c0)) -v v=$((v1 - v0)) \
        -v a=$((a1 - a0)) -v e="$events" -v t="$threads" \
        'BEGIN { printf "%-22s %-6s %6d/s %12.1f %10.2f %10.2f %8d\n", m, d, r, c / e / 1000, v / e, a / e, t }'
    done
  done
done
