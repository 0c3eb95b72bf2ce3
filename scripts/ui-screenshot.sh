#!/usr/bin/env bash
# Retakes docs/ui.png, the README's picture of the status page (/ui): a
# release bridge on loopback, the demo publisher, ~20 events/s over HTTP, 40 SSE readers on three
# channels, and headless Chromium watching /ui for --seconds (default 45)
# so the rate chart has data. Needs build/release and clients/js's
# node_modules (scripts/build.sh release; clients/js/scripts/ensure-deps.sh).
#   scripts/ui-screenshot.sh [--seconds=45] [--out=docs/ui.png]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=45 out=docs/ui.png
for arg in "$@"; do
  case "$arg" in
    --seconds=*) seconds=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    *) sed -n '2,7p' "$0" >&2; exit 2 ;;
  esac
done
bin=build/release
log=$(mktemp)
pids=()
trap 'kill ${pids[*]} 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$log"' EXIT
"$bin/ssebridge" --http_address=127.0.0.1 --grpc_address=127.0.0.1 \
  --admin_address=127.0.0.1 --http_port=0 --grpc_port=0 --admin_port=0 2>"$log" &
pids+=($!)
http_port="" grpc_port="" admin_port=""
for _ in $(seq 1 100); do
  line=$(grep '"listening"' "$log" || true)
  if [[ -n "$line" ]]; then
    http_port=$(grep -o '"http_port": *[0-9]*' <<<"$line" | grep -o '[0-9]*$')
    grpc_port=$(grep -o '"grpc_port": *[0-9]*' <<<"$line" | grep -o '[0-9]*$')
    admin_port=$(grep -o '"admin_port": *[0-9]*' <<<"$line" | grep -o '[0-9]*$')
    break
  fi
  sleep 0.1
done
[[ -n "$http_port" ]] || { cat "$log" >&2; exit 1; }
for i in $(seq 1 40); do
  case $((i % 3)) in
    0) ch="channel=demo" ;;
    1) ch="channel=demo&channel=dashboard" ;;
    2) ch="channel=orders" ;;
  esac
  curl -sN "http://127.0.0.1:$http_port/v1/events?$ch" >/dev/null &
  pids+=($!)
done
"$bin/ssebridge_demo_publisher" --target="127.0.0.1:$grpc_port" --channel=demo \
  >/dev/null 2>&1 &
pids+=($!)
# About 20 events/s on "orders", bounded by --seconds.
for ((n = 0; n < seconds * 20 + 200; n++)); do
  curl -s -X POST "http://127.0.0.1:$http_port/v1/publish" \
    -d "{\"channel\":\"orders\",\"event\":\"order.done\",\"data\":\"{\\\"id\\\":$n}\"}" >/dev/null
  sleep 0.05
done &
pids+=($!)
(cd clients/js && node scripts/ui-screenshot.mjs "http://127.0.0.1:$admin_port/ui" \
  "$OLDPWD/$out" "$seconds")
