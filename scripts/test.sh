#!/usr/bin/env bash
# Every test, as CI runs them (.ci/run), one line per stage with its duration:
#   1. set-up        scripts/setup.sh (Debian packages)
#   2. build         build/ with warnings as errors (extra arguments go to cmake's configure step)
#   3. tests         the whole suite through CTest: unit, end-to-end, browser
#   4. sanitizers    build-sanitize/ (ASan+UBSan, gcc, Debug): the unit tests (ctest -L unit) again
#   5. fuzzing       scripts/fuzz: every libFuzzer target for $FUZZ_SECONDS (default 20) s (clang)
# A stage's output goes to <build>/test-logs/<stage>.log; a failing stage prints its tail.
# BUILD_DIR, SANITIZE_BUILD_DIR and FUZZ_BUILD_DIR choose the build folders.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
sanitize_build=${SANITIZE_BUILD_DIR:-$root/build-sanitize}
fuzz_seconds=${FUZZ_SECONDS:-20}
logs=$build/test-logs
mkdir -p "$logs"
cores=$(nproc)
all_started=$SECONDS

# stage NAME SHOW COMMAND...: runs COMMAND into NAME's log; on success prints the log's lines
# matching the extended regex SHOW (none if empty), on failure its tail, and stops.
stage() {
  local name=$1 show=$2
  shift 2
  local log=$logs/$name.log started=$SECONDS
  printf 'test: %-11s ' "$name"
  if "$@" >"$log" 2>&1; then
    printf 'ok      %4d s\n' $((SECONDS - started))
    if [ -n "$show" ]; then grep -E "$show" "$log" | sed 's/^/      /' || true; fi
  else
    printf 'FAILED  %4d s\n' $((SECONDS - started))
    tail -n 80 "$log" | sed 's/^/      /'
    echo "test: $name failed; its whole log: $log"
    exit 1
  fi
}

suite() (
  cd "$build" && ctest --output-on-failure -j"$cores" --timeout 600
)

sanitized_unit_tests() (
  # Debug (-O0, asserts on): a third of the compile time of -O2, and the unit tests stay fast.
  cmake -S "$root" -B "$sanitize_build" -DCMAKE_BUILD_TYPE=Debug -DTREND_SANITIZE=ON -DTREND_WERROR=ON &&
    cmake --build "$sanitize_build" --target unit_tests -j"$cores" &&
    cd "$sanitize_build" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j"$cores" -L unit
)

stage set-up '' "$root/scripts/setup.sh"
stage build '' env BUILD_DIR="$build" "$root/scripts/build.sh" -DTREND_WERROR=ON "$@"
stage tests 'tests passed|tests failed' suite
stage sanitizers 'tests passed|tests failed' sanitized_unit_tests
stage fuzzing '^fuzz: |^      ' env FUZZ_BUILD_DIR="${FUZZ_BUILD_DIR:-$root/build-fuzz}" "$root/scripts/fuzz" "$fuzz_seconds"
echo "test: every stage passed in $((SECONDS - all_started)) s"
