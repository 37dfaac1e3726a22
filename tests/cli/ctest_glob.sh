#!/usr/bin/env bash
# A new scenario file becomes a ctest test without re-running cmake: the
# list is made by tests/scenarios.cmake each time ctest starts. Checked on a
# scratch folder driven through the same file, and on the real build tree.
set -u
tcpsim=$1 build=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
mkdir -p "$tmp/t" "$tmp/sc/a" "$tmp/sc/lib"
cat >"$tmp/t/CTestTestfile.cmake" <<EOT
set(TCPSIM_EXE "$tcpsim")
set(TCPSIM_SCENARIO_DIR "$tmp/sc")
set(TCPSIM_SOURCE_DIR "$PWD")
include("$PWD/tests/scenarios.cmake")
EOT
cp scenarios/handshake/normal_open.lua "$tmp/sc/a/one.lua"
cp scenarios/lib/pair.lua "$tmp/sc/lib/pair.lua"
n=$(ctest --test-dir "$tmp/t" -N | sed -n 's/^Total Tests: //p')
check "one scenario, lib/ skipped: 1 test per profile ($n)" '[ "$n" = 3 ]'
ctest --test-dir "$tmp/t" >/dev/null; rc=$?
check "it passes" '[ $rc -eq 0 ]'
cp tests/bad/failing_expectation.lua "$tmp/sc/a/two.lua"
n=$(ctest --test-dir "$tmp/t" -N | sed -n 's/^Total Tests: //p')
check "a file added afterwards is listed at once ($n)" '[ "$n" = 6 ]'
out=$(ctest --test-dir "$tmp/t" 2>&1); rc=$?
check "and run: its failure fails ctest" '[ $rc -ne 0 ] && grep -q "scenario/a/two@" <<<"$out"'

# The build tree registers the scenarios this way, not as a list frozen at configure time.
check "the build tree includes the glob at test time" \
  'grep -rq "TEST_INCLUDE_FILES\|include(.*scenario_tests.cmake" "$build"/tests/CTestTestfile.cmake'
# Three profiles each, unless a "-- profiles:" line names fewer.
want=0
for f in $(find scenarios -name '*.lua' -not -path '*/lib/*'); do
  line=$(grep -m1 '^-- profiles:' "$f" | sed 's/^-- profiles://')
  if [ -n "$line" ]; then want=$((want + $(wc -w <<<"$line"))); else want=$((want + 3)); fi
done
got=$(ctest --test-dir "$build" -N -L '^scenario$' | sed -n 's/^Total Tests: //p')
check "every scenario file is a ctest test per profile ($got of $want)" '[ "$got" = "$want" ]'
exit $fail
