#!/usr/bin/env bash
# Every "-- known-failure P...: why" line in a scenario names profiles under
# which the scenario fails because of a known stack bug; ctest registers those
# runs DISABLED. This check runs each of them and fails when one passes: the
# bug is fixed, and the line must go so the run is registered again.
#   tests/cli/known_failures.sh TCPSIM
set -u
tcpsim=${1:?usage: known_failures.sh TCPSIM}
cd "$(dirname "$0")/../.."
stale=0 n=0
for f in $(grep -rl '^-- known-failure ' scenarios --include='*.lua' | LC_ALL=C sort); do
  for p in $(sed -n 's/^-- known-failure \([a-z0-9 ]*\):.*/\1/p' "$f" | tr ' ' '\n' | LC_ALL=C sort -u); do
    n=$((n + 1))
    "$tcpsim" run "$f" --quiet --check --profile "$p" >/dev/null 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
      echo "known-failures: $f now passes under $p: remove its known-failure line for $p"
      stale=1
    else
      echo "known-failures: $f@$p fails as recorded (exit $rc)"
    fi
  done
done
echo "known-failures: $n runs checked"
exit $stale
