#!/usr/bin/env bash
# Sets up this machine, builds, and runs the bridge with a demo publisher.
# Then, in another terminal:
#   curl -N 'http://localhost:8080/v1/events?channel=demo'
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh release
bin=build/release
HTTP_PORT="${SSEBRIDGE_HTTP_PORT:-8080}"
GRPC_PORT="${SSEBRIDGE_GRPC_PORT:-50051}"

"$bin/ssebridge" --http_port="$HTTP_PORT" --grpc_port="$GRPC_PORT" &
bridge=$!
trap 'kill -TERM $bridge $publisher 2>/dev/null; wait $bridge 2>/dev/null' EXIT INT TERM
publisher=""
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null && break
  sleep 0.1
done
cat <<MSG

ssebridge is up: HTTP (SSE) on :$HTTP_PORT, gRPC on :$GRPC_PORT.
Watch live events:   curl -N 'http://localhost:$HTTP_PORT/v1/events?channel=demo'
Publish over HTTP:   curl -X POST localhost:$HTTP_PORT/v1/publish -d '{"channel":"demo","data":"{\"hello\":1}"}'
Stop with Ctrl-C.

MSG
"$bin/ssebridge_demo_publisher" --target="127.0.0.1:$GRPC_PORT" --channel=demo &
publisher=$!
wait "$bridge"
