#!/usr/bin/env bash
# Sets up this machine, builds, and runs the live demo: the bridge serving
# the dashboard page (--static_dir), and the demo publisher simulating
# background tasks and dashboard figures over PublishStream, which also
# hands out demo tickets on :8081 (DEMO ONLY: it trusts ?user=); the page
# learns that port from config.json. The publisher reconnects by itself
# when the bridge restarts.
# Then open http://localhost:8080/ (two tabs, switch users), or:
#   curl -N 'http://localhost:8080/v1/events?channel=demo'
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh release
bin=build/release
HTTP_PORT="${SSEBRIDGE_HTTP_PORT:-8080}"
GRPC_PORT="${SSEBRIDGE_GRPC_PORT:-50051}"
TICKET_PORT="${DEMO_TICKET_PORT:-8081}"
ADMIN_PORT="${SSEBRIDGE_ADMIN_PORT:-9090}"
web="$PWD/build/demo-web"
clients/js/scripts/demo-web.sh "$web" "$TICKET_PORT"

"$bin/ssebridge" --http_port="$HTTP_PORT" --grpc_port="$GRPC_PORT" --admin_port="$ADMIN_PORT" \
  --static_dir="$web" &
bridge=$!
publisher=""
trap 'kill -TERM $bridge $publisher 2>/dev/null; wait $bridge 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null && break
  sleep 0.1
done
cat <<MSG

ssebridge is up: HTTP (SSE) on :$HTTP_PORT, gRPC on :$GRPC_PORT.
Live dashboard:      http://localhost:$HTTP_PORT/   (open two tabs; switch alice/bob)
Status page:         http://localhost:$ADMIN_PORT/ui   (internal port; /metrics there too)
Watch raw events:    curl -N 'http://localhost:$HTTP_PORT/v1/events?channel=demo&channel=dashboard'
Publish over HTTP:   curl -X POST localhost:$HTTP_PORT/v1/publish -d '{"channel":"demo","data":"{\"hello\":1}"}'
Stop with Ctrl-C.

MSG
"$bin/ssebridge_demo_publisher" --target="127.0.0.1:$GRPC_PORT" --channel=demo \
  --ticket_port="$TICKET_PORT" >/dev/null &
publisher=$!
wait "$bridge"
