#!/usr/bin/env bash
# Reliability run: builds the toolkit, its CLIs and the tests with
# AddressSanitizer + UndefinedBehaviorSanitizer (clang) into build-sanitize/,
# runs the fast test subset, then runs each libFuzzer target for a short time.
# Any sanitizer report (in the tests or in a CLI they launch), failing test or
# fuzzer crash fails the script.
#
# Usage: scripts/test_sanitized.sh [CATCH2_TEST_SPEC...]
#   default spec: every test but [distributed] and [signals] (multi-process
#   training under the sanitizers takes minutes; scripts/test.sh runs them)
# Environment:
#   FUZZ_SECONDS   seconds per fuzzer (default 30; 0 skips fuzzing)
#   SKIP_TESTS=1   build and fuzz only
# Longer fuzzing and keeping new inputs: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="$root/build-sanitize"
fuzz_seconds=${FUZZ_SECONDS:-30}

scripts/setup.sh --with-sanitizers
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DADAPTIVE_SANITIZE=ON -DADAPTIVE_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc)"

# A report exits with 86, which no tool of ours uses, so a test that expects a
# CLI to fail cannot mistake a sanitizer report for the failure it expects;
# reports also go to files (one per process) that are checked at the end.
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
reports="$build/sanitizer-reports"
asan_common="halt_on_error=1:exitcode=86:detect_leaks=1:check_initialization_order=1"
asan_common+=":strict_init_order=1:detect_stack_use_after_return=1:print_summary=1"
ubsan_common="halt_on_error=1:print_stacktrace=1:report_error_type=1:exitcode=86"
ubsan_common+=":suppressions=$root/tests/fuzz/ubsan.supp"
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0"

status=0
if [[ "${SKIP_TESTS:-0}" != 1 ]]; then
  rm -rf "$reports" && mkdir -p "$reports"
  spec=("$@")
  ((${#spec[@]})) || spec=("~[.] ~[distributed] ~[signals]")
  echo "sanitized tests: ${spec[*]}" >&2
  start=$SECONDS
  (
    cd "$build/tests"
    ASAN_OPTIONS="$asan_common:log_path=$reports/asan" \
      UBSAN_OPTIONS="$ubsan_common:log_path=$reports/ubsan" \
      ./adaptive_tests --durations yes "${spec[@]}"
  ) || status=$?
  echo "sanitized tests: exit $status in $((SECONDS - start)) s" >&2
  if compgen -G "$reports/*" >/dev/null; then
    for f in "$reports"/*; do echo "=== sanitizer report $f" >&2; cat "$f" >&2; done
    status=1
  fi
fi

# Fuzzers run on a copy of the repository's corpus, so CI never writes new
# files into tests/fuzz/corpus; crashes are saved in build-sanitize/fuzz/NAME/.
if ((fuzz_seconds > 0)); then
  for target in config manifest; do
    work="$build/fuzz/$target"
    rm -rf "$work" && mkdir -p "$work/corpus"
    cp "$root/tests/fuzz/corpus/$target/"* "$work/corpus/"
    # The shipped configs seed the config fuzzer as they are now (no copies to drift).
    if [[ $target == config ]]; then cp "$root"/configs/*.json "$work/corpus/"; fi
    echo "fuzzing $target for $fuzz_seconds s" >&2
    ASAN_OPTIONS="$asan_common" UBSAN_OPTIONS="$ubsan_common" \
      "$build/tests/fuzz/${target}_fuzzer" "$work/corpus" \
      -dict="$root/tests/fuzz/$target.dict" -max_total_time="$fuzz_seconds" \
      -timeout=10 -print_final_stats=1 -artifact_prefix="$work/" 2>"$work/log" ||
      { status=1; tail -n 60 "$work/log" >&2; echo "fuzz $target: FAILED (input saved in $work/)" >&2; }
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec)" \
      "$work/log" | sed "s/^/fuzz $target: /" >&2 || true
  done
fi

((status == 0)) && echo "sanitized tests and fuzzing: ok" >&2
exit "$status"
