#!/usr/bin/env bash
# Configures and builds one flavour of the tree into build/<flavour>:
#   release (default), asan (ASan + UBSan), tsan (ThreadSanitizer),
#   fuzz (clang: the bridge libraries and the libFuzzer targets only).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DSSEBRIDGE_SANITIZE=address) ;;
  tsan)    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSEBRIDGE_SANITIZE=thread) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=Fuzz -DSSEBRIDGE_FUZZ=ON
                 -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: scripts/build.sh [release|asan|tsan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" "${args[@]}" >/dev/null
cmake --build "build/$flavour" -j"$(nproc)"
