#!/usr/bin/env bash
# The skip path of the kernel tests: on a machine without what they need,
# each test program must exit 77 (ctest: skipped) with a line naming what is
# missing, and leave nothing behind. Played here by taking it away: root
# (run as uid 65534) and the TUN device (hidden by an empty /dev/net in a
# private mount namespace). Needs root and unshare(1) itself, else skips.
#   tests/kern/skip.sh TEST_PROGRAM...
set -u
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
    echo "SKIPPED: needs root, setpriv and unshare to take them away"; exit 77
fi
fail=0
expect_skip() { # reason-regex, command...
    local want=$1; shift
    local out rc
    out=$(sh -c 'echo "PID=$$"; exec "$@"' sh "$@" 2>&1); rc=$?
    local pid; pid=$(sed -n 's/^PID=//p' <<<"$out" | head -1)
    if ls /run/netns 2>/dev/null | grep -q "^tcpsim-k$pid-"; then
        echo "FAIL: $* left a name in /run/netns"; fail=1
    fi
    if [ $rc -ne 77 ] || ! grep -qE "^SKIPPED .*: $want" <<<"$out"; then
        echo "FAIL: $* exited $rc, expected 77 and 'SKIPPED ...: $want'"; echo "$out" | head -5; fail=1
    else
        echo "ok: $(grep -m1 '^SKIPPED' <<<"$out")"
    fi
}
for prog in "$@"; do
    expect_skip 'not root' setpriv --reuid=65534 --regid=65534 --clear-groups "$prog"
    expect_skip 'no TUN device' unshare -m sh -c 'mount -t tmpfs none /dev/net && exec "$0"' "$prog"
done
exit $fail
