#!/usr/bin/env bash
# Compiles the C example of docs/net.md (its first ```c block) against the
# sim/net, core and stack libraries, runs it, and checks what it prints:
# the 5 bytes, and the client's active close as RFC 9293 §3.6 draws it.
#   doc_example.sh SOURCE_DIR WORK_DIR CC "CFLAGS" LIB...
set -euo pipefail
src=$1 work=$2 cc=$3 flags=$4
shift 4
mkdir -p "$work"
sed -n '/^```c$/,/^```$/p' "$src/docs/net.md" | sed '1d;$d' > "$work/net_example.c"
[ -s "$work/net_example.c" ] || { echo "no C example in docs/net.md"; exit 1; }
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror $flags -I"$src/sim/net" -I"$src/sim/core" -I"$src/stack" \
  "$work/net_example.c" "$@" -o "$work/net_example"
out=$("$work/net_example")
echo "$out"
grep -qx "server got 5 bytes: hello" <<<"$out" || { echo "missing the 5 bytes"; exit 1; }
grep -qx "CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED " <<<"$out" \
  || { echo "client did not make RFC 9293's active close"; exit 1; }
n=$(grep -c '' "$work/net_example.c")
[ "$n" -le 45 ] || { echo "the example has $n lines; keep it short"; exit 1; }
