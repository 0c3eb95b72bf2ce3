#!/usr/bin/env bash
# Builds the SDK and assembles the demo page into $1 (the bridge's
# --static_dir): demo/* plus the compiled SDK under sdk/.
set -euo pipefail
out="${1:?usage: demo-web.sh OUT_DIR}"
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh >&2
npm run --silent build >&2
rm -rf "$out"
mkdir -p "$out/sdk"
cp demo/* "$out/"
cp dist/*.js "$out/sdk/"
