#!/usr/bin/env bash
# Where a trickle publish's fixed cost goes: one bridge, one subscriber, one
# publisher publishing one event per request at RATE, with
# `perf stat --per-thread` (task-clock, context switches, syscalls) over the
# bridge during the publishing, summed per thread name and divided by the
# events. Prints the per-thread table and the bridge's CPU per event from
# /proc/PID/stat.
#
#   tests/bench/profile_trickle.sh [BRIDGE] [stream|unary|http] [RATE] [EVENTS]
#
# Loopback only (127.0.0.1, ports 28180-28182); everything it starts is
# stopped by PID on exit. Needs perf (Debian: linux-perf).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bridge="${1:-$root/build/release/ssebridge}"
door="${2:-stream}"
rate="${3:-1000}"
events="${4:-5000}"
loadgen="$root/build/release/tests/bench/ssebridge_bench_loadgen"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap '' PIPE

"$bridge" --http_address=127.0.0.1 --http_port=28180 --grpc_address=127.0.0.1 \
  --grpc_port=28181 --admin_address=127.0.0.1 --admin_port=28182 --heartbeat=15s \
  --log_level=warning 2>"$tmp/bridge.log" &
bp=$!
pids+=("$bp")
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/28181) 2>/dev/null && break
  sleep 0.1
done
mkfifo "$tmp/subin"
"$loadgen" sub --host=127.0.0.1 --port=28180 '--path=/v1/events?channel=p1' --conns=1 \
  --events="$events" --per_event=0 --timeout_ms=120000 --source=127.0.0.2 \
  <"$tmp/subin" >"$tmp/sub.out" 2>"$tmp/sub.err" &
pids+=("$!")
exec 7>"$tmp/subin"
case "$door" in
  stream) pub=(--mode=grpc-stream --target=127.0.0.1:28181 --window=1000) ;;
  unary) pub=(--mode=grpc-unary --target=127.0.0.1:28181) ;;
  http) pub=(--mode=http --format=bridge --port=28180 --path=/v1/publish --conns=1) ;;
  *) echo "door: stream, unary or http" >&2; exit 2 ;;
esac
sleep 1  # the stream is open; the warm-up below proves it attached
"$loadgen" pub "${pub[@]}" --channel=p1 --events=1 --raw_data=warmup --duration_ms=3000 \
  --drain_ms=3000 >/dev/null
ticks0=$(awk '{print $14+$15}' "/proc/$bp/stat")
perf stat --per-thread -x, -e task-clock,context-switches,raw_syscalls:sys_enter -p "$bp" \
  -o "$tmp/perf.csv" &
pp=$!
sleep 0.3
"$loadgen" pub "${pub[@]}" --channel=p1 --events="$events" --rate="$rate" --size=100 \
  --duration_ms=120000 --drain_ms=5000 >"$tmp/pub.out"
kill -INT "$pp"
wait "$pp" || true
ticks1=$(awk '{print $14+$15}' "/proc/$bp/stat")
echo "bridge $door, $events events at $rate/s: $(( (ticks1 - ticks0) * 1000000 / $(getconf CLK_TCK) / events )) µs CPU per event (/proc/$bp/stat)"
# perf's CSV: "thread-tid,value,unit,event,...": summed per thread name.
printf "%-18s %14s %18s %16s\n" "thread" "µs/event" "ctx switches/event" "syscalls/event"
awk -F, -v n="$events" '
  $1 ~ /-[0-9]+$/ && $2 ~ /^[0-9.]+$/ {
    name = $1; sub(/-[0-9]+$/, "", name); sum[name, $4] += $2; names[name] = 1
  }
  END {
    for (t in names) {
      printf "%-18s %14.1f %18.2f %16.1f\n", t, sum[t, "task-clock"] * 1000 / n,
             sum[t, "context-switches"] / n, sum[t, "raw_syscalls:sys_enter"] / n
    }
  }' "$tmp/perf.csv" | sort -k2 -nr
