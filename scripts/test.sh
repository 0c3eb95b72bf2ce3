#!/usr/bin/env bash
# Sets up this machine, then builds and runs every test: the release build,
# the static checks (clang-format, cppcheck, clang-tidy), the ASan/UBSan
# build, the ThreadSanitizer build, and a short run of every libFuzzer target
# (the fuzz build; long runs: scripts/fuzz.sh).
#
# The suites spend much of their time waiting on the processes they start
# (sockets, timers, Redis failovers), while builds and clang-tidy only
# compute. So each suite runs while the next build (or the static checks)
# runs beside it at the lowest CPU priority: the suite gets the CPU whenever
# it wants it (it must pass on a busy machine anyway), and the build takes
# what is left. A background step's output goes to build/logs/ and is shown
# when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh

# One process may hold at most 20,000 files here; the 1,000-stream test and
# the bridge it starts need a few thousand.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Each stage's start (and each background step's end) goes to the log with
# the seconds since the start, so a CI run that nears its time budget shows
# which stage to trim.
stage() {
  echo "=== $1 (total: ${SECONDS} s)" >&2
}

mkdir -p build/logs
background_pid=""
background_name=""
kill_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
stop_background() {
  if [[ -n "$background_pid" ]]; then
    kill_tree "$background_pid"
    wait "$background_pid" 2>/dev/null || true
  fi
}
trap stop_background EXIT

# background NAME COMMAND...: runs COMMAND at nice 19, output to
# build/logs/NAME.log.
background() {
  background_name=$1
  shift
  stage "$background_name: started beside the next suite"
  nice -n 19 "$@" </dev/null >"build/logs/$background_name.log" 2>&1 &
  background_pid=$!
}

# renice_tree NICENESS PID: PID and every process under it. Children made
# later inherit the niceness of their parent, so a build's next compiler
# runs at the new value too.
renice_tree() {
  local child
  for child in $(pgrep -P "$2" 2>/dev/null); do renice_tree "$1" "$child"; done
  renice -n "$1" -p "$2" >/dev/null 2>&1 || true
}

# Waits for the background step; on failure shows its log and stops. Once
# the suite is done nothing else of ours wants the CPU, so the step goes
# back to normal priority: at nice 19 it would get almost none on a machine
# that other work keeps busy (a stress-ng --cpu 2 beside it held a build at
# about 1 % of a core for an hour). Raising priority needs root, which the
# setup step needs anyway; without it the step keeps nice 19.
join_background() {
  local rc=0
  renice_tree 0 "$background_pid"
  wait "$background_pid" || rc=$?
  background_pid=""
  if [[ $rc -ne 0 ]]; then
    tail -n 200 "build/logs/$background_name.log" >&2
    echo "=== $background_name FAILED (exit $rc; log: build/logs/$background_name.log)" >&2
    exit "$rc"
  fi
  stage "$background_name: done"
}

# run_suite FLAVOUR [VAR=value...] -- [ctest args...]
run_suite() {
  local flavour=$1
  shift
  local env_args=()
  while [[ $1 != -- ]]; do env_args+=("$1"); shift; done
  shift
  stage "$flavour: test"
  env "${env_args[@]}" ctest --test-dir "build/$flavour" --output-on-failure --timeout 600 "$@"
}

# The sanitizers' settings, for the build (which lists each executable's
# tests by running it) and the suite of their flavour.
asan_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
tsan_env=(TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizer/tsan.supp)

stage "release: build"
scripts/build.sh release

background asan-build env "${asan_env[@]}" scripts/build.sh asan
run_suite release -- -j2
join_background

background tsan-build env "${tsan_env[@]}" scripts/build.sh tsan
run_suite asan "${asan_env[@]}" -- -j2
join_background

background static-checks-and-fuzz-build \
  bash -c 'scripts/lint.sh build/release && scripts/build.sh fuzz'
run_suite tsan "${tsan_env[@]}" -- -j2
join_background

run_suite fuzz -- -j2 -L fuzz
stage "all test suites passed"
