#!/usr/bin/env bash
# Static checks on bridge/: cppcheck, then clang-tidy with the committed
# .clang-tidy. Both must be clean. clang-tidy reads the compile commands of a
# configured and built tree (generated protobuf headers included):
#   scripts/lint.sh [build-dir]      (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
if [[ ! -f "$build/compile_commands.json" ]]; then
  echo "lint: $build/compile_commands.json is missing; run scripts/build.sh first" >&2
  exit 2
fi
mapfile -t sources < <(find bridge -name '*.cc' | sort)

echo "lint: cppcheck on ${#sources[@]} files" >&2
# useStlAlgorithm only asks for loops to become <algorithm> calls: taste.
cppcheck --quiet --std=c++17 --language=c++ --error-exitcode=1 --inline-suppr \
  --enable=warning,style,performance,portability \
  --suppress=useStlAlgorithm --suppress=missingIncludeSystem \
  -I . "${sources[@]}"

echo "lint: clang-tidy on ${#sources[@]} files" >&2
printf '%s\n' "${sources[@]}" |
  xargs -P"$(nproc)" -n4 clang-tidy -p "$build" --quiet 2>/dev/null
echo "lint: clean" >&2
