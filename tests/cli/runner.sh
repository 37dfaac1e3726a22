#!/usr/bin/env bash
# tcpsim test: closing line, exit codes, seeds, shards, JUnit and TAP.
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }

out=$("$tcpsim" test scenarios/handshake --jobs 2); rc=$?
n=$(find scenarios/handshake -name '*.lua' | wc -l)
check "passing folder exits 0" '[ $rc -eq 0 ]'
check "closing line counts every scenario" 'tail -1 <<<"$out" | grep -qx "$n passed, 0 failed"'

out=$("$tcpsim" test tests/bad/failing_expectation.lua tests/bad/syntax_error.lua); rc=$?
check "failures exit 1" '[ $rc -eq 1 ]'
check "closing line counts failures" 'tail -1 <<<"$out" | grep -qx "0 passed, 2 failed"'
check "a failure says how to replay it" 'grep -q "replay: tcpsim run tests/bad/failing_expectation.lua" <<<"$out"'

out=$("$tcpsim" test scenarios/handshake/normal_open.lua --seeds 1..3); rc=$?
check "seed sweep runs once per seed" 'tail -1 <<<"$out" | grep -qx "3 passed, 0 failed"'
check "seed sweep names each seed" 'grep -q "normal_open.lua --seed 3" <<<"$out"'

a=$("$tcpsim" test scenarios --shard 1/2 | tail -1 | cut -d' ' -f1)
b=$("$tcpsim" test scenarios --shard 2/2 | tail -1 | cut -d' ' -f1)
all=$("$tcpsim" test scenarios | tail -1 | cut -d' ' -f1)
check "two shards cover the whole set ($a + $b = $all)" '[ $((a + b)) -eq "$all" ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ]'

"$tcpsim" test scenarios/handshake --junit "$tmp/j.xml" >/dev/null
check "JUnit report written" 'grep -q "<testsuite name=\"tcpsim\" tests=\"$n\" failures=\"0\">" "$tmp/j.xml"'
out=$("$tcpsim" test scenarios/handshake --tap)
check "TAP plan" 'grep -qx "1..$n" <<<"$out"'

"$tcpsim" test --jobs 0 >/dev/null 2>&1; rc=$?
check "bad option exits 2" '[ $rc -eq 2 ]'
"$tcpsim" test no/such/dir >/dev/null 2>&1; rc=$?
check "missing path exits 2" '[ $rc -eq 2 ]'
exit $fail
