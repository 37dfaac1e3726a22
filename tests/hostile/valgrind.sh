#!/usr/bin/env bash
# Runs the hostile corpus and the scenario library under Valgrind's memcheck
# (--leak-check=full; a memory error or a definite leak makes Valgrind exit
# 99, which fails the case). Hostile cases go through check.sh with its time
# limits stretched (HOSTILE_SLOW=10: 200 s of wall clock for tcpsim, a 600 s
# cap); a case whose header says "-- valgrind: skip REASON" cannot run under
# Valgrind by design and is reported as skipped with its reason, never as
# passed. Each scenario runs once per profile it covers, as ctest runs it
# (--check), and must exit 0 (1 under a profile it names as a known failure).
#   tests/hostile/valgrind.sh TCPSIM [--jobs N] [hostile|scenarios|FILE.lua ...]
# Prints one line per case (PASS, FAIL with the output, SKIP with the reason)
# and the totals; exits 1 if any case failed, 77 without valgrind.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tcpsim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
jobs=1
if [ "${1:-}" = --jobs ]; then jobs=$2; shift 2; fi
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wrap=$work/tcpsim
cat >"$wrap" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite "$tcpsim" "\$@"
WRAP
chmod +x "$wrap"
[ $# -gt 0 ] || set -- hostile scenarios
# One line per unit: "hostile FILE" or "scenario FILE PROFILE EXPECTED_EXIT".
for what in "$@"; do
  case "$what" in
    hostile) for f in "$here"/*.lua; do echo "hostile $f"; done ;;
    scenarios)
      find "$root/scenarios" -name '*.lua' -not -path '*/lib/*' | sort | while read -r f; do
        covers=$(sed -n 's/^-- profiles: *//p' "$f" | head -1)
        known=$(sed -n 's/^-- known-failure \([a-z0-9 ]*\):.*/\1/p' "$f" | tr '\n' ' ')
        for p in ${covers:-rfc9293 linux bsd}; do
          case " $known " in *" $p "*) echo "scenario $f $p 1" ;; *) echo "scenario $f $p 0" ;; esac
        done
      done ;;
    *) echo "hostile $(cd "$(dirname "$what")" && pwd)/$(basename "$what")" ;;
  esac
done >"$work/units"
export wrap here root
run_unit() {
  set -- $1
  if [ "$1" = hostile ]; then
    name=hostile/$(basename "$2" .lua)
    skip=$(sed -n 's/^-- valgrind: skip *//p' "$2" | head -1)
    if [ -n "$skip" ]; then echo "SKIP $name: $skip"; return; fi
    # memcheck bypasses the counting allocator: the heap is sampled, so the
    # figures of a memory-limit error may pass the budget (not checked)
    held=$(grep -q '^-- expect-held-at-most:' "$2" && echo " (figures within the budget not checked: the heap is sampled)")
    if out=$(HOSTILE_SLOW=10 HOSTILE_SAMPLED=1 bash "$here/check.sh" "$wrap" "$2" 2>&1); then
      echo "PASS $name$held"
    else
      echo "FAIL $name"; head -c 3000 <<<"$out" | sed 's/^/    /'
    fi
  else
    name=scenario/${2#"$root/scenarios/"}@$3
    out=$(cd "$root" && timeout 900 "$wrap" run "$2" --quiet --check --profile "$3" 2>&1)
    rc=$?
    if [ "$rc" = "$4" ]; then echo "PASS $name"; else
      echo "FAIL $name (exit $rc, expected $4)"; head -c 3000 <<<"$out" | sed 's/^/    /'
    fi
  fi
}
export -f run_unit
tr '\n' '\0' <"$work/units" | xargs -0 -P "$jobs" -I{} bash -c 'run_unit "$1"' _ {} | tee "$work/log"
pass=$(grep -c '^PASS' "$work/log") fail=$(grep -c '^FAIL' "$work/log") skip=$(grep -c '^SKIP' "$work/log")
echo "valgrind: $pass passed, $fail failed, $skip skipped (of $(wc -l <"$work/units"))"
[ "$fail" = 0 ]
