#!/usr/bin/env bash
# Long fuzzing runs of the libFuzzer targets in tests/fuzz (built by
# scripts/build.sh fuzz). Each target fuzzes a scratch copy of its committed
# corpus, in parallel, niced, for the given minutes; crashes land in
# build/fuzz/artifacts/. With --merge, inputs that add coverage are merged
# back into tests/fuzz/corpus/<target>/ (libFuzzer -merge=1, so only the
# new-coverage ones) for you to review and commit.
#   scripts/fuzz.sh [--minutes=M] [--merge] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10 merge=0 targets=()
for arg in "$@"; do
  case "$arg" in
    --minutes=*) minutes=${arg#--minutes=} ;;
    --merge) merge=1 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
scripts/build.sh fuzz
bin=build/fuzz/tests/fuzz
if ((${#targets[@]} == 0)); then
  for cc in tests/fuzz/*_fuzzer.cc; do targets+=("$(basename "$cc" .cc)"); done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p build/fuzz/artifacts build/fuzz/logs
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
  local t=$1
  mkdir -p "$work/$t"
  cp -r "tests/fuzz/corpus/$t/." "$work/$t/" 2>/dev/null || true
  local args=(-max_total_time=$((minutes * 60)) -rss_limit_mb=2048 -timeout=10
              -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$t-")
  [[ -f "tests/fuzz/$t.dict" ]] && args+=(-dict="tests/fuzz/$t.dict")
  nice -n 10 "$bin/$t" "${args[@]}" "$work/$t" >"build/fuzz/logs/$t.log" 2>&1
}

pids=() names=() failed=0
for t in "${targets[@]}"; do
  [[ -x "$bin/$t" ]] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
  echo "fuzz.sh: $t for ${minutes}m (log build/fuzz/logs/$t.log)" >&2
  run_one "$t" & pids+=($!) names+=("$t")
done
for i in "${!pids[@]}"; do
  t=${names[$i]}
  if wait "${pids[$i]}"; then status=ok; else status=FAILED; failed=1; fi
  summary=$(grep -E '^#[0-9]+.*DONE|^stat::number_of_executed_units|^stat::average_exec_per_sec' \
            "build/fuzz/logs/$t.log" | tr '\n' ' ')
  echo "fuzz.sh: $t $status $summary" >&2
  if ((merge)) && [[ $status == ok ]]; then
    mkdir -p "tests/fuzz/corpus/$t"
    "$bin/$t" -merge=1 "tests/fuzz/corpus/$t" "$work/$t" >"build/fuzz/logs/$t.merge.log" 2>&1
    echo "fuzz.sh: merged new inputs into tests/fuzz/corpus/$t" >&2
  fi
done
exit "$failed"
