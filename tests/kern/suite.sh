#!/usr/bin/env bash
# The library against this machine's Linux: `tcpsim test --kernel` over the
# scenarios of tests/kern/ci-scenarios.txt (or, with --all, every scenario
# of the library), each verdict held against docs/kernel-agreement.md:
#  - states and segments decide (timing is printed but the machine's load
#    decides it; docs/kernel-agreement.md records it);
#  - a check (states, segments) the document says agrees must agree, and a
#    scenario it says REFUSED must be refused (and only those): anything
#    else fails;
#  - a check it says differs may differ or agree (an agreement is reported:
#    the stack was fixed, regenerate the document); an ERROR always fails;
#  - no run leaves a namespace behind.
# The verdicts are judged only on the kernel release the document was made
# on (same major.minor); on another they are printed, and only errors and
# namespaces left behind fail. Without root, TUN or namespaces: skipped
# (exit 77) with the reason, never passed.
#   tests/kern/suite.sh TCPSIM SOURCE_DIR WORK_DIR [--all] [--jobs N]
set -u
tcpsim=$1 src=$2 work=$3; shift 3
all=0 jobs=2
while [ $# -gt 0 ]; do
  case $1 in --all) all=1 ;; --jobs) jobs=$2; shift ;; *) echo "suite.sh: unknown $1"; exit 2 ;; esac
  shift
done
mkdir -p "$work"
doc=$src/docs/kernel-agreement.md
if [ $all -eq 1 ]; then
  list=$(cd "$src" && find scenarios -name '*.lua' -not -path '*/lib/*' | LC_ALL=C sort)
else
  list=$(grep -vE '^[[:space:]]*(#|$)' "$src/tests/kern/ci-scenarios.txt" | sed 's|^|scenarios/|')
fi
ls /run/netns 2>/dev/null | grep '^tcpsim-k' >"$work/netns.before"
# shellcheck disable=SC2086
(cd "$src" && exec "$tcpsim" test --kernel --checks states,segments --jobs "$jobs" $list) \
  >"$work/suite.out" 2>"$work/suite.err"
rc=$?
cat "$work/suite.out"
if [ $rc -eq 77 ]; then
  echo "SKIPPED suite: $(grep -m1 '^SKIPPED' "$work/suite.out" | sed 's/^SKIPPED *[^:]*: //')"
  exit 77
fi
[ $rc -le 1 ] || { echo "FAIL: tcpsim test --kernel exited $rc"; cat "$work/suite.err"; exit 1; }

fail=0
bad() { echo "FAIL: $*"; fail=1; }
release=$(uname -r); mm() { sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$1"; }
documented=$(sed -n 's/^Kernel: \*\*Linux \([^*]*\)\*\*.*/\1/p' "$doc")
judge=1
if [ "$(mm "$release")" != "$(mm "$documented")" ]; then
  judge=0
  echo "note: Linux $release here, docs/kernel-agreement.md was made on $documented: verdicts printed, not judged"
fi
# A check the document says agrees must agree; one it says differs may
# agree (reported: regenerate the document).
judge_check() { # name check want got
  case "$3:$4" in
    agree:agree|differs:DIFFER) ;;
    differs:agree) echo "note: $1: $2 now agree (documented as differing): regenerate docs/kernel-agreement.md" ;;
    *) bad "$1: $2 $4, documented $3" ;;
  esac
}
for f in $list; do
  name=${f#scenarios/}
  line=$(grep -E "^[A-Z]+ +$name( |:)" "$work/suite.out")
  got=$(awk '{print $1}' <<<"$line")
  row=$(grep -F "| $name |" "$doc")
  want=$(awk -F'|' '{gsub(/ /, "", $7); print $7}' <<<"$row")
  [ -n "$got" ] || { bad "$name: no verdict"; continue; }
  [ "$got" = ERROR ] && { bad "$line"; continue; }
  [ $judge -eq 1 ] || continue
  [ -n "$row" ] || { bad "$name: not in docs/kernel-agreement.md (regenerate it)"; continue; }
  if [ "$want" = REFUSED ] || [ "$got" = REFUSED ]; then
    [ "$want" = "$got" ] || bad "$name: $got, documented $want"
    continue
  fi
  for c in 4:states 5:segments; do
    col=${c%%:*} check=${c#*:}
    w=$(awk -F'|' -v c="$col" '{v=$c; gsub(/[ *]/, "", v); print v}' <<<"$row")
    g=$(sed -nE "s/.*[(:,] $check (agree|DIFFER).*/\1/p" <<<"$line")
    judge_check "$name" "$check" "$w" "$g"
  done
done
# Names that appeared during the run and whose process is gone were left
# behind by it (a live process's name may be another test's, running now).
for nsname in $(ls /run/netns 2>/dev/null | grep '^tcpsim-k'); do
  grep -qx "$nsname" "$work/netns.before" && continue
  pid=${nsname#tcpsim-k}; pid=${pid%%-*}
  kill -0 "$pid" 2>/dev/null || bad "namespace $nsname left behind"
done
exit $fail
