#!/usr/bin/env bash
# Runs the benchmark suite: ssebridge side by side with Nchan, Pushpin,
# better-sse and a bare send() baseline (tests/bench/README.md).
#   scripts/bench.sh            full run (~15-20 min; installs the peers as root)
#   scripts/bench.sh --quick    smoke run (seconds; what CTest's `bench` label runs)
# Results: tests/bench/results/{results.json,results.md,plot.svg}
set -euo pipefail
cd "$(dirname "$0")/.."
# One process may hold at most 20,000 files here: the runner and what it
# starts need the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 tests/bench/run "$@"
