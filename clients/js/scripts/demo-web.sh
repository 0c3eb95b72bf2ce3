#!/usr/bin/env bash
# Builds the SDK and assembles the demo page into $1 (the bridge's
# --static_dir): demo/* plus the compiled SDK under sdk/. With $2, writes
# config.json naming the demo publisher's ticket port, which the page reads.
set -euo pipefail
out="${1:?usage: demo-web.sh OUT_DIR [TICKET_PORT]}"
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh >&2
npm run --silent build >&2
rm -rf "$out"
mkdir -p "$out/sdk"
cp demo/* "$out/"
cp dist/*.js "$out/sdk/"
if [[ -n "${2:-}" ]]; then
  printf '{ "ticketPort": %d }\n' "$2" >"$out/config.json"
fi
