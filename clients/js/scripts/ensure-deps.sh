#!/usr/bin/env bash
# Installs clients/js's dev dependencies from package-lock.json (npm ci)
# when node_modules is missing or older than the lock file. CTest's fixture
# and scripts/demo.sh call it; it does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
