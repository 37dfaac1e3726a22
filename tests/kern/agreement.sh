#!/usr/bin/env bash
# docs/kernel-agreement.md is current with respect to the library (it cannot
# rerun the kernel here, so it checks the structure the generator and the
# hand-written diagnoses must keep):
#  - the kernel version is stated;
#  - every scenario of the library has exactly one row, and every row names
#    a scenario that exists;
#  - every row that is not AGREE gives a reason (first divergence, refusal);
#  - every DIFFER or ERROR row has its diagnosis ("### NAME" below the table);
#  - every REFUSED scenario is listed in docs/kernel.md with its reason.
#   tests/kern/agreement.sh SOURCE_DIR
set -u
src=${1:-.}
doc=$src/docs/kernel-agreement.md
fail=0
bad() { echo "FAIL: $*"; fail=1; }
[ -f "$doc" ] || { echo "FAIL: no $doc"; exit 1; }

grep -qE '^Kernel: \*\*Linux [0-9]+\.[0-9]+[^*]*\*\*' "$doc" || bad "the kernel version is not stated"
table=$(sed -n '/^<!-- BEGIN kernel-agreement/,/^<!-- END kernel-agreement/p' "$doc" | grep -E '^\| [a-z]')
[ -n "$table" ] || bad "no table between the BEGIN/END kernel-agreement markers"
after=$(sed -n '/^<!-- END kernel-agreement/,$p' "$doc")

rows=0
while IFS= read -r f; do
  name=${f#"$src"/scenarios/}
  n=$(grep -cF "| $name |" <<<"$table")
  [ "$n" -eq 1 ] || bad "$name: $n rows (expected 1): regenerate with scripts/gen-kernel-agreement.sh"
  rows=$((rows + 1))
done < <(find "$src/scenarios" -name '*.lua' -not -path '*/lib/*' | LC_ALL=C sort)

while IFS='|' read -r _ name host st sg tm verdict reason _; do
  name=$(xargs <<<"$name"); verdict=$(xargs <<<"$verdict"); reason=$(xargs -0 <<<"$reason" | tr -d '\n')
  [ -f "$src/scenarios/$name" ] || bad "row for $name: no such scenario (regenerate)"
  case $verdict in
    AGREE) ;;
    DIFFER|ERROR|REFUSED)
      [ -n "${reason// /}" ] || bad "$name: $verdict without a reason" ;;&
    DIFFER|ERROR)
      grep -qF "### $name" <<<"$after" || bad "$name: $verdict without a diagnosis (### $name)" ;;
    REFUSED)
      grep -qF "$name" "$src/docs/kernel.md" || bad "$name: refused but not listed in docs/kernel.md" ;;
    *) bad "$name: unknown verdict '$verdict'" ;;
  esac
done <<<"$table"

[ $fail -eq 0 ] && echo "docs/kernel-agreement.md: $rows scenarios, one row each, every difference explained"
exit $fail
