#!/usr/bin/env bash
# Static checks on bridge/: clang-format on the folders already in the
# committed style, cppcheck, then clang-tidy with the committed .clang-tidy.
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

# The folders in .clang-format's style. A folder joins once it has been
# reformatted whole, in a commit of its own (so blame stays readable);
# new folders start in it.
formatted=(bridge/event bridge/admission bridge/core bridge/ops bridge/sse bridge/http bridge/publish)
mapfile -t styled < <(find "${formatted[@]}" \( -name '*.cc' -o -name '*.h' \) | sort)
echo "lint: clang-format on ${#styled[@]} files (${formatted[*]})" >&2
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
