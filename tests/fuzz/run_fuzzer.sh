#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a scratch copy of its
# committed corpus (tests/fuzz/corpus/<name>), so the run never writes into
# the tree. Exit status is the fuzzer's: non-zero on a crash, a leak, a
# sanitizer report or a timeout; the input that did it is kept in
# <artifact_dir>/<name>-*.
#   run_fuzzer.sh <binary> <tests/fuzz dir> <seconds> <artifact_dir>
set -euo pipefail
binary=$1 src=$2 seconds=$3 artifacts=$4
name=$(basename "$binary")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
if [[ -d "$src/corpus/$name" ]]; then
  cp -r "$src/corpus/$name/." "$scratch/"
fi
args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10
      -print_final_stats=1 -artifact_prefix="$artifacts/$name-")
if [[ -f "$src/$name.dict" ]]; then
  args+=(-dict="$src/$name.dict")
fi
"$binary" "${args[@]}" "$scratch"
