#!/usr/bin/env bash
# Runs one hostile case and checks that tcpsim ended it the way its header
# says, and never by crashing, hanging or tripping a sanitizer:
#   -- expect: exit 2                 the exit status (0, 1 or 2)
#   -- expect-error: TEXT             text the output must contain (optional)
#   -- expect-not: TEXT               text the output must not contain
#   -- command: test {file} --seeds 1..x   the command line (default:
#                                     run {file} --quiet); {file} is the case,
#                                     {tmp} a scratch folder
#   -- expect-held-at-most: 33        a memory-limit error whose two figures
#                                     ("Lua held X MiB, the simulation Y
#                                     MiB") add up to at most 33 (MiB)
#                                     (not checked with HOSTILE_SAMPLED=1:
#                                     under Valgrind the heap is sampled, so
#                                     the budget holds only a little late)
#   -- check-xml: {tmp}/x.svg         a file the run wrote that must be
#                                     well-formed XML
#   -- stale: {tmp}/x.pcap            files made before the run (as an
#                                     earlier run would have) that must be
#                                     gone after it (space-separated)
#   -- kept: {tmp}/y.pcap             files made before the run that must
#                                     still be there after it
# Every run gets --max-wall 20s (unless the command sets it) and at most 60 s.
#   -- valgrind: skip REASON          the case cannot run under Valgrind by
#                                     design (tests/hostile/valgrind.sh
#                                     reports it as skipped, with REASON)
#   tests/hostile/check.sh TCPSIM FILE
set -u
tcpsim=$1 file=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
want_exit=$(sed -n 's/^-- expect: exit *//p' "$file" | head -1)
want_err=$(sed -n 's/^-- expect-error: *//p' "$file" | head -1)
not_err=$(sed -n 's/^-- expect-not: *//p' "$file" | head -1)
command=$(sed -n 's/^-- command: *//p' "$file" | head -1)
xml=$(sed -n 's/^-- check-xml: *//p' "$file" | head -1)
stale=$(sed -n 's/^-- stale: *//p' "$file" | head -1)
kept=$(sed -n 's/^-- kept: *//p' "$file" | head -1)
held_max=$(sed -n 's/^-- expect-held-at-most: *//p' "$file" | head -1)
[ "${HOSTILE_SAMPLED:-0}" = 1 ] && held_max=
[ -n "$want_exit" ] || { echo "$file: header lacks '-- expect: exit N'"; exit 1; }
[ -n "$command" ] || command="run {file} --quiet"
# HOSTILE_SLOW=N stretches both by N for a slow runner (Valgrind).
slow=${HOSTILE_SLOW:-1}
case "$command" in *--max-wall*) ;; run*) command="$command --max-wall $((20 * slow))s" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command=${command//\{file\}/$file}
command=${command//\{tmp\}/$tmp}
xml=${xml//\{tmp\}/$tmp}
stale=${stale//\{tmp\}/$tmp}
kept=${kept//\{tmp\}/$tmp}
for f in $stale $kept; do echo "an output of an earlier run" >"$f"; done
# shellcheck disable=SC2086  # the header's words are the arguments
out=$(cd "$tmp" && timeout $((60 * slow)) "$tcpsim" $command 2>&1)
rc=$?
fail=0
if [ "$rc" = 124 ]; then echo "hung: still running after $((60 * slow)) s"; fail=1; fi
if [ "$rc" -ge 128 ]; then echo "killed by signal $((rc - 128))"; fail=1; fi
if [ "$rc" != "$want_exit" ]; then echo "exit status $rc, expected $want_exit"; fail=1; fi
if [ -n "$want_err" ] && ! grep -qF -- "$want_err" <<<"$out"; then
  echo "output lacks: $want_err"; fail=1
fi
if [ -n "$not_err" ] && grep -qF -- "$not_err" <<<"$out"; then
  echo "output holds: $not_err"; fail=1
fi
if [ -n "$held_max" ]; then
  held=$(sed -n 's/.*Lua held \([0-9]*\) MiB, the simulation \([0-9]*\) MiB.*/\1 + \2/p' <<<"$out" | head -1)
  if [ -z "$held" ]; then echo "output lacks the memory figures"; fail=1
  elif [ $((held)) -gt "$held_max" ]; then echo "held $((held)) MiB, more than $held_max MiB"; fail=1; fi
fi
if grep -qE 'Sanitizer|runtime error:|Assertion .* failed|Segmentation' <<<"$out"; then
  echo "a sanitizer or an assertion fired"; fail=1
fi
if [ -n "$xml" ] && ! python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$xml"; then
  echo "$xml is not well-formed XML"; fail=1
fi
for f in $stale; do
  if [ -e "$f" ]; then echo "$f, left by an earlier run, is still there"; fail=1; fi
done
for f in $kept; do
  if [ ! -e "$f" ]; then echo "$f, not an output of this command line, was removed"; fail=1; fi
done
if [ -n "$(find "$tmp" -name '*.tmp-*')" ]; then echo "a temporary output file was left behind"; fail=1; fi
echo "--- $tcpsim $command (exit $rc):"
head -c 4000 <<<"$out"
exit $fail
