#!/usr/bin/env bash
# Explore with K = 2 (drop, dup) on a few scenarios of the library: no
# invariant may fail. Kept small for CI time. Usage: library.sh TCPSIM
set -u
T=$1
rc=0
for s in handshake/normal_open handshake/lost_synack teardown/active_close \
         teardown/lost_final_ack teardown/simultaneous_close teardown/half_close \
         teardown/fin_overtakes_data robustness/blind_rst; do
  out=$("$T" explore scenarios/$s.lua --faults 2 --kinds drop,dup --jobs 2 2>/dev/null)
  code=$?
  echo "$s: $(echo "$out" | tail -1)"
  [ $code -eq 0 ] || { echo "$out" | grep -E "^invariant|first:|shrunk|^     "; rc=1; }
done
exit $rc
