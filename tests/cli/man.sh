#!/usr/bin/env bash
# The manual page: generated from the same text as --help (every line of
# every command's help appears in the rendered page), valid roff (groff
# gives no warning), and the build's tcpsim.1 is what `tcpsim man` prints.
set -u
tcpsim=$1 build=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
"$tcpsim" man >"$tmp/tcpsim.1"; rc=$?
check "tcpsim man exits 0" '[ $rc -eq 0 ] && [ -s "$tmp/tcpsim.1" ]'
check "the build's tcpsim.1 is tcpsim man's output" 'cmp -s "$build/tcpsim.1" "$tmp/tcpsim.1"'
warn=$(groff -man -Tascii -ww -z "$tmp/tcpsim.1" 2>&1)
check "groff renders it without a warning" '[ -z "$warn" ]' || true
[ -z "$warn" ] || echo "$warn" | head
# Rendered text with all white space squeezed to single spaces.
squeeze() { tr -s ' \t\n' '   '; }
render() { groff -man -Tascii -P-cbou "$1" 2>/dev/null | squeeze; }
# Prints each help line (squeezed) the rendered page $1 lacks.
lacking() {
  local page=$1 cmd help line one
  for cmd in tcpsim run test profiles new help man version; do
    if [ $cmd = tcpsim ]; then help=$("$tcpsim" --help); else help=$("$tcpsim" $cmd --help); fi
    while IFS= read -r line; do
      [ -z "${line// }" ] && continue
      one=$(squeeze <<<"$line" | sed 's/^ //; s/ $//')
      grep -qF -- "$one" "$page" || echo "$cmd: $one"
    done <<<"$help"
  done
}
render "$tmp/tcpsim.1" >"$tmp/man.txt"
check "it has the sections of a man page" \
  'for s in NAME SYNOPSIS DESCRIPTION "TCPSIM RUN" "TCPSIM TEST"; do grep -q "$s" "$tmp/man.txt" || exit 1; done'
missing=$(lacking "$tmp/man.txt")
check "every line of every command's --help is in the man page" '[ -z "$missing" ]'
[ -z "$missing" ] || echo "$missing" | head
# The comparison notices an entry the page lacks.
sed '/^\.B \\-\\-watch$/,+1d' "$tmp/tcpsim.1" >"$tmp/cut.1"
render "$tmp/cut.1" >"$tmp/cut.txt"
check "a page without the --watch entry is caught" 'lacking "$tmp/cut.txt" | grep -q "run: --watch run again"'
exit $fail
