#!/usr/bin/env bash
# The editor annotations (share/types/tcpsim.lua) declare exactly what the
# runtime registers: tests/cli/fixtures/introspect.lua walks the metatables,
# the returned tables and each call's accepted options, and compares them
# with the names read from the annotation file. Mutated copies of the file
# must fail the same comparison, so it cannot pass by accident.
set -u
tcpsim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
types=share/types/tcpsim.lua
compare() { # annotation file -> output of the introspection scenario; status
  mkdir -p "$tmp/lib" && lua5.4 tests/cli/annotations_read.lua "$1" >"$tmp/lib/annotated.lua" || return 2
  "$tcpsim" run tests/cli/fixtures/introspect.lua -I "$tmp/lib" --quiet 2>&1
}
out=$(compare "$types"); rc=$?
echo "$out" | grep -v '^FAIL' | head -20
check "annotations match the runtime" '[ $rc -eq 0 ] && grep -q "; 0 mismatches" <<<"$out"'
check "LuaLS meta file header" 'head -1 "$types" | grep -qx -- "---@meta tcpsim"'

mutate() { sed "$1" "$types" >"$tmp/m.lua"; compare "$tmp/m.lua"; }
out=$(mutate '/^function Link:hold_next/d'); rc=$?
check "a registered method left out is caught" '[ $rc -ne 0 ] && grep -q "tcpsim.Link:hold_next is registered, not annotated" <<<"$out"'
out=$(mutate 's/^function Socket:abort() end$/&\nfunction Socket:reset() end/'); rc=$?
check "an annotated method that does not exist is caught" '[ $rc -ne 0 ] && grep -q "tcpsim.Socket:reset is annotated, not registered" <<<"$out"'
out=$(mutate 's/^---@field readable integer.*/&\n---@field unread integer/'); rc=$?
check "an annotated field the socket does not answer is caught" '[ $rc -ne 0 ] && grep -q "tcpsim.Socket.unread is annotated, not answered" <<<"$out"'
out=$(mutate '/^---@field reorder_delay?/d'); rc=$?
check "an accepted option left out is caught" '[ $rc -ne 0 ] && grep -q "reorder_delay is accepted, not annotated" <<<"$out"'
out=$(mutate '/^---@field dport integer$/d'); rc=$?
check "a segment key left out is caught" '[ $rc -ne 0 ] && grep -q "tcpsim.Segment.dport is returned, not annotated" <<<"$out"'
out=$(mutate 's/^---@field isn? integer initial sequence number$/&\n---@field backlog? integer/'); rc=$?
check "an option a call refuses is caught" '[ $rc -ne 0 ] && grep -q "tcpsim.ConnectOptions.backlog is annotated, not accepted" <<<"$out"'
exit $fail
