#!/usr/bin/env bash
# Installs this package's dependencies from the committed package-lock.json
# (`npm ci`), unless node_modules already holds exactly that lock file's
# versions. Used by scripts/setup-deps.sh and the CTest fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.ssebridge-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
