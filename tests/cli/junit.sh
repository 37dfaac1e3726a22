#!/usr/bin/env bash
# `tcpsim test --junit`: valid against the JUnit schema Jenkins and GitLab read
# (tests/cli/junit.xsd), with time on each case and the suite, classname from
# the folder, the first FAIL line as the message, script errors as <error>,
# printed output in <system-out> and the replay line in the body.
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
xsd=tests/cli/junit.xsd
"$tcpsim" test scenarios/teardown/active_close.lua tests/bad/failing_expectation.lua \
  tests/bad/syntax_error.lua tests/cli/fixtures/checks_nothing.lua tests/cli/fixtures/prints.lua \
  --junit "$tmp/j.xml" >/dev/null; rc=$?
j=$tmp/j.xml
check "a run with failures exits 1" '[ $rc -eq 1 ]'
check "the report validates against the JUnit schema" 'xmllint --noout --schema "$xsd" "$j" 2>/dev/null'
count() { xmllint --xpath "$1" "$j" 2>/dev/null; }
check "suite counts: 5 tests, 2 failures, 1 error" \
  '[ "$(count "string(//testsuite/@tests)") $(count "string(//testsuite/@failures)") $(count "string(//testsuite/@errors)")" = "5 2 1" ]'
check "every case and the suite have a time" \
  '[ "$(count "count(//testcase[@time])")" = 5 ] && [ -n "$(count "string(//testsuite/@time)")" ]'
check "classname is the folder" \
  '[ "$(count "string(//testcase[@name=\"active_close\"]/@classname)")" = teardown ] && [ "$(count "string(//testcase[@name=\"syntax_error\"]/@classname)")" = tests.bad ]'
check "message is the first FAIL line" \
  '[ "$(count "string(//testcase[@name=\"failing_expectation\"]/failure/@message)")" = "FAIL tests/bad/failing_expectation.lua:11: expect(socket):trace" ]'
check "a script error is an <error>, not a <failure>" \
  '[ "$(count "count(//testcase[@name=\"syntax_error\"]/error)")" = 1 ] && [ "$(count "count(//testcase[@name=\"syntax_error\"]/failure)")" = 0 ]'
check "the error message names the file and line" \
  'count "string(//testcase[@name=\"syntax_error\"]/error/@message)" | grep -q "syntax_error.lua:4:"'
check "checking nothing is a failure" \
  'count "string(//testcase[@name=\"checks_nothing\"]/failure/@message)" | grep -q "no expectations were checked"'
check "printed output is in <system-out>" \
  'count "string(//testcase[@name=\"prints\"]/system-out)" | grep -qF "hello from the scenario <&>"'
check "the replay line is in the body" \
  'count "string(//testcase[@name=\"failing_expectation\"]/failure)" | grep -qx "replay: tcpsim run tests/bad/failing_expectation.lua"'
check "a passing case has no failure" '[ "$(count "count(//testcase[@name=\"active_close\"]/*[self::failure or self::error])")" = 0 ]'

# The schema is not vacuous: it rejects what CI servers would misread.
bad() { sed "$1" "$j" >"$tmp/bad.xml"; ! xmllint --noout --schema "$xsd" "$tmp/bad.xml" 2>/dev/null; }
check "schema rejects a case without a name" 'bad "s/<testcase classname=\"teardown\" name=\"active_close\"/<testcase classname=\"teardown\"/"'
check "schema rejects a time that is not a number" 'bad "0,/time=\"[0-9.]*\"/s//time=\"fast\"/"'
check "schema rejects a failure after system-out" \
  'bad "s|<system-out></system-out>|<system-out></system-out><failure/>|"'
check "schema rejects an unknown element" 'bad "s|<system-err></system-err>|<system-err></system-err><note/>|"'
exit $fail
