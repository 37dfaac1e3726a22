#!/usr/bin/env bash
# Every replay line `tcpsim test` prints (text, TAP, JUnit) reproduces the
# failure it names: same exit status, same FAIL and error lines. The fixture
# fails differently under each option given here, and the last check drops
# each option in turn from a replay line to show the comparison notices.
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
fx=tests/cli/fixtures/replay_flags.lua
opts=(-I tests/cli/fixtures/replay_lib --profile linux --max-events 5 --unsafe)

# What a run says about its failure: exit status, FAIL lines, error lines.
signature() { # replay-line -> "exit N" + lines
  local line=$1 out rc
  out=$(eval "\"$tcpsim\"${line#tcpsim}" 2>&1); rc=$?
  echo "exit $rc"; grep -E '^(FAIL |tcpsim: error)' <<<"$out"
}
# The same, from the output `tcpsim test` captured for the failing run.
captured() { # block of "   | " lines after the replay line, and the exit status
  awk -v want="$1" -v pfx="$2" '
    index($0, pfx "replay: ") == 1 { cur = substr($0, length(pfx "replay: ") + 1); next }
    cur == want && index($0, pfx "| ") == 1 { print substr($0, length(pfx "| ") + 1); next }
    cur == want && index($0, pfx "| ") != 1 { cur = "" }' "$3" | grep -E '^(FAIL |tcpsim: error)'
}

"$tcpsim" test "$fx" "${opts[@]}" --seeds 2..3 >"$tmp/text.out"; rc=$?
check "the failing sweep exits 1" '[ $rc -eq 1 ]'
mapfile -t lines < <(sed -n 's/^   replay: //p' "$tmp/text.out")
check "text names a replay line per failure (${#lines[@]})" '[ ${#lines[@]} -eq 2 ]'
for line in "${lines[@]}"; do
  status=$(grep -B1 -F "   replay: $line" "$tmp/text.out" | sed -n 's/.*(exit \([0-9]*\))$/\1/p')
  want=$(echo "exit $status"; captured "$line" "   " "$tmp/text.out")
  got=$(signature "$line")
  check "replay reproduces: $line" '[ "$got" = "$want" ] && [ "$(wc -l <<<"$want")" -gt 1 ]'
done

"$tcpsim" test "$fx" "${opts[@]}" --seeds 2..3 --tap >"$tmp/tap.out"
mapfile -t tap < <(sed -n 's/^#   replay: //p' "$tmp/tap.out")
check "TAP carries the same replay lines" '[ "${tap[*]}" = "${lines[*]}" ]'
for line in "${tap[@]}"; do
  want=$(captured "$line" "#   " "$tmp/tap.out")
  got=$(signature "$line" | tail -n +2)
  check "TAP replay reproduces: $line" '[ "$got" = "$want" ] && [ -n "$want" ]'
done

"$tcpsim" test "$fx" "${opts[@]}" --seeds 2..3 --junit "$tmp/j.xml" >/dev/null
mapfile -t ju < <(sed -n 's/^replay: //p' "$tmp/j.xml" | sed 's/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g')
check "JUnit carries the same replay lines" '[ "${ju[*]}" = "${lines[*]}" ]'
for line in "${ju[@]}"; do
  got=$(signature "$line")
  check "JUnit replay reproduces: $line" '[ "$got" = "$(signature "${lines[0]}")" ] || [ "$got" = "$(signature "${lines[1]}")" ]'
done

# Each option matters: without it the replay gives another signature.
line=${lines[0]}
full=$(signature "$line")
for drop in "-I tests/cli/fixtures/replay_lib" "--profile linux" "--max-events 5" "--unsafe" "--seed 2"; do
  cut=${line/ $drop/}
  check "dropping '$drop' changes the outcome" '[ "$cut" != "$line" ] && [ "$(signature "$cut")" != "$full" ]'
done

# An argument with a space or a quote is quoted so the line still works.
mkdir -p "$tmp/it's here"; cp tests/bad/failing_expectation.lua "$tmp/it's here/f.lua"
"$tcpsim" test "$tmp/it's here/f.lua" >"$tmp/q.out"
q=$(sed -n 's/^   replay: //p' "$tmp/q.out")
check "a path with a quote and a space replays" '[ "$(signature "$q" | head -1)" = "exit 1" ]'
exit $fail
