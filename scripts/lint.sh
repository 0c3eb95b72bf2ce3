#!/usr/bin/env bash
# Static checks: clang-format on every C++ file (bridge/, clients/cpp and
# tests/), then cppcheck and clang-tidy (the committed .clang-tidy) on bridge/.
# All must be clean. clang-tidy reads the compile commands of a
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

# Every C++ file we write is in .clang-format's style (generated protobuf
# code lives in the build tree, not here).
mapfile -t styled < <(find bridge clients/cpp tests -name node_modules -prune -o \
  \( -name '*.cc' -o -name '*.h' \) -print | sort)
echo "lint: clang-format on ${#styled[@]} files (bridge, clients/cpp, tests)" >&2
clang-format --dry-run -Werror "${styled[@]}"

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
