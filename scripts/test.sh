#!/usr/bin/env bash
# Sets up this machine, then builds and runs every test: the release build,
# the static checks (cppcheck, clang-tidy), the ASan/UBSan build, the
# ThreadSanitizer build, and a short run of every libFuzzer target (the fuzz
# build; long runs: scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh

# One process may hold at most 20,000 files here; the 1,000-stream test and
# the bridge it starts need a few thousand.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Each stage's wall time goes to the log, so a CI run that nears its time
# budget shows which stage to trim.
stage_start=$SECONDS
stage() {
  echo "=== $1 (previous stage: $((SECONDS - stage_start)) s; total: ${SECONDS} s)" >&2
  stage_start=$SECONDS
}

run_suite() {
  local flavour=$1
  shift
  stage "$flavour: build"
  scripts/build.sh "$flavour"
  stage "$flavour: test"
  ctest --test-dir "build/$flavour" --output-on-failure --timeout 600 "$@"
}

run_suite release -j2
stage "static checks"
scripts/lint.sh build/release
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite asan -j2
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizer/tsan.supp \
  run_suite tsan -j2
run_suite fuzz -j2 -L fuzz
stage "all test suites passed"
