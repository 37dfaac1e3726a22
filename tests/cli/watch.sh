#!/usr/bin/env bash
# `tcpsim run FILE --watch` runs again when FILE is saved, in place or by an
# editor's write-and-rename, and redraws. Every wait is bounded: the watcher
# is killed after 30 s whatever happens.
set -u
tcpsim=$(realpath "$1")
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
scenario() { printf 'print("version %s")\nlocal sim = tcpsim.new {}\nexpect(sim.seed):equals(1)\n' "$1"; }
# Waits up to 10 s for a line matching $1 in the watcher's output.
wait_for() { for _ in $(seq 100); do grep -q "$1" "$tmp/out" && return 0; sleep 0.1; done; return 1; }

scenario 1 >"$tmp/s.lua"
timeout 30 "$tcpsim" run "$tmp/s.lua" --watch >"$tmp/out" 2>&1 &
pid=$!
check "first run" 'wait_for "version 1"'
check "it says it is watching" 'wait_for "run 1 of .*watching"'
scenario 2 >"$tmp/s.lua"                      # written in place
check "a save in place reruns with the new text" 'wait_for "version 2"'
scenario 3 >"$tmp/s.lua.new" && mv "$tmp/s.lua.new" "$tmp/s.lua"   # an editor's save
check "a save by rename reruns too" 'wait_for "version 3"'
touch "$tmp/other.lua"; sleep 0.5
check "another file in the folder does not rerun" '[ "$(grep -c "^tcpsim: run [0-9]* of" "$tmp/out")" = 3 ]'
check "the watcher is still running" 'kill -0 "$pid"'
kill "$pid"; wait "$pid" 2>/dev/null; pid=

out=$("$tcpsim" run - --watch </dev/null 2>&1); rc=$?
check "--watch on standard input is refused" '[ $rc -eq 2 ] && grep -q "needs a file" <<<"$out"'
exit $fail
