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
check "JUnit report written" 'grep -q "<testsuite name=\"tcpsim\" tests=\"$n\" failures=\"0\" errors=\"0\"" "$tmp/j.xml"'
out=$("$tcpsim" test scenarios/handshake --tap)
check "TAP plan" 'grep -qx "1..$n" <<<"$out"'

"$tcpsim" test --jobs 0 >/dev/null 2>&1; rc=$?
check "bad option exits 2" '[ $rc -eq 2 ]'
"$tcpsim" test no/such/dir >/dev/null 2>&1; rc=$?
check "missing path exits 2" '[ $rc -eq 2 ]'
# A scenario that checks nothing fails, in `run` and in `test`.
out=$("$tcpsim" run tests/cli/fixtures/checks_nothing.lua 2>&1); rc=$?
check "run: checking nothing exits 1" '[ $rc -eq 1 ]'
check "run: says no expectations were checked" 'grep -q "no expectations were checked" <<<"$out"'
check "run: never prints PASS for it" '! grep -q "^PASS" <<<"$out"'
out=$("$tcpsim" test tests/cli/fixtures/checks_nothing.lua); rc=$?
check "test: counts it failed" '[ $rc -eq 1 ] && tail -1 <<<"$out" | grep -qx "0 passed, 1 failed"'

# --jobs defaults to the processors this process may use (taskset: one).
check "--jobs default is the processor count ($(nproc))" \
  '"$tcpsim" test --help | grep -q "default: the number of processors"'
one=$(taskset -c 0 "$tcpsim" test scenarios/handshake --tap | sed -n 's/^# jobs: //p')
all=$("$tcpsim" test scenarios/handshake --tap | sed -n 's/^# jobs: //p')
check "on one processor it runs one job, on all it runs $(nproc) ($one, $all)" \
  '[ "$one" = 1 ] && [ "$all" = "$(nproc)" ]'

# With --trace on standard output, everything else goes to standard error.
"$tcpsim" run tests/bad/failing_expectation.lua --trace json >"$tmp/t.jsonl" 2>"$tmp/t.err"; rc=$?
check "failing run with --trace json exits 1" '[ $rc -eq 1 ]'
check "standard output is only JSON records" \
  '[ -s "$tmp/t.jsonl" ] && ! grep -qv "^{.*}$" "$tmp/t.jsonl"'
check "FAIL lines and the summary are on standard error" \
  'grep -q "^FAIL tests/bad/failing_expectation.lua:11:" "$tmp/t.err" && grep -q "^FAIL: 1 of 2" "$tmp/t.err"'
"$tcpsim" run tests/cli/fixtures/prints.lua --trace json >"$tmp/p.jsonl" 2>"$tmp/p.err"
check "print() of the scenario goes to standard error too" \
  'grep -q "hello from the scenario" "$tmp/p.err" && ! grep -q hello "$tmp/p.jsonl"'
exit $fail
