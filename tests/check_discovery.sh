#!/usr/bin/env bash
# CTest guard: every Catch2 case that adaptive_tests lists runs under CTest as
# exactly one entry of the same name, and no entry runs something else.
#
# catch_discover_tests adds one CTest entry per line of
# `adaptive_tests --list-test-names-only` (the cases not hidden with [.]);
# CMake splits a name at ';' into two entries that match no case, and such an
# entry used to pass without running anything. The discovered entries carry
# the label fast or slow (tests/CMakeLists.txt); the ones added by hand (interop.*,
# this guard) do not.
#
# Usage (from tests/CMakeLists.txt, in the build folder of tests/):
#   check_discovery.sh ADAPTIVE_TESTS CTEST
# Exit: 0 when the two lists match, 1 naming each difference.
set -uo pipefail
exe=$1
ctest=$2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Catch2 v2 exits with the number of cases listed: not an error.
"$exe" --list-test-names-only >"$work/catch.raw" 2>"$work/catch.err"
if [[ ! -s "$work/catch.raw" ]]; then
  echo "FAIL: '$exe --list-test-names-only' listed nothing:"
  cat "$work/catch.err"
  exit 1
fi
tr -d '\r' <"$work/catch.raw" | LC_ALL=C sort >"$work/catch"

if ! "$ctest" -N -L '^(fast|slow)$' -FA '.*' >"$work/ctest.raw" 2>&1; then
  echo "FAIL: '$ctest -N' failed:"
  cat "$work/ctest.raw"
  exit 1
fi
sed -n 's/^ *Test *#[0-9]*: //p' "$work/ctest.raw" | LC_ALL=C sort >"$work/ctest"

status=0
if grep -q ';' "$work/catch"; then
  echo "FAIL: test case names with ';' (CTest splits them into entries that run nothing):"
  grep ';' "$work/catch" | sed 's/^/  /'
  status=1
fi
if grep -q '^-' "$work/catch"; then
  echo "FAIL: test case names starting with '-' (the runner reads them as an option and runs nothing):"
  grep '^-' "$work/catch" | sed 's/^/  /'
  status=1
fi
LC_ALL=C comm -23 "$work/catch" "$work/ctest" >"$work/only_catch"
LC_ALL=C comm -13 "$work/catch" "$work/ctest" >"$work/only_ctest"
if [[ -s "$work/only_catch" ]]; then
  echo "FAIL: Catch2 cases with no CTest entry of their name (never run by ctest):"
  sed 's/^/  /' "$work/only_catch"
  status=1
fi
if [[ -s "$work/only_ctest" ]]; then
  echo "FAIL: CTest entries that are no Catch2 case (they match nothing, or a split name):"
  sed 's/^/  /' "$work/only_ctest"
  status=1
fi
catch_count=$(wc -l <"$work/catch")
ctest_count=$(wc -l <"$work/ctest")
if ((catch_count != ctest_count)); then
  echo "FAIL: Catch2 lists $catch_count cases, CTest has $ctest_count discovered entries"
  status=1
fi
if ((status == 0)); then
  echo "ok: the $catch_count Catch2 cases are the $ctest_count discovered CTest entries, one each"
fi
exit "$status"
