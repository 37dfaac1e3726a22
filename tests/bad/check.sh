#!/usr/bin/env bash
# Runs a deliberately broken scenario and checks the exit status and the
# message it must produce, both stated in the file's header:
#   -- expect-exit: 2
#   -- expect-error: unknown option 'dleay'
set -u
tcpsim=$1 file=$2
want_exit=$(sed -n 's/^-- expect-exit: *//p' "$file" | head -1)
want_err=$(sed -n 's/^-- expect-error: *//p' "$file" | head -1)
[ -n "$want_exit" ] && [ -n "$want_err" ] || { echo "$file: header lacks expect-exit/expect-error"; exit 1; }
out=$("$tcpsim" run "$file" --quiet 2>&1)
rc=$?
fail=0
if [ "$rc" != "$want_exit" ]; then echo "exit status $rc, expected $want_exit"; fail=1; fi
if ! grep -qF -- "$want_err" <<<"$out"; then echo "output lacks: $want_err"; fail=1; fi
base=$(basename "$file")
if [ "$want_exit" = 2 ] && ! grep -qF -- "$base:" <<<"$out"; then
  echo "the message does not name the scenario file ($base:LINE)"; fail=1
fi
if grep -qE '^PASS' <<<"$out"; then echo "a broken scenario printed PASS"; fail=1; fi
echo "--- output (exit $rc):"; echo "$out"
exit $fail
