#!/usr/bin/env bash
# Runs every script of the corpus with `tcpsim pkt` and checks that the
# scripts that do not pass are exactly those docs/pkt.md lists under
# "Known mismatches", each with the verdict listed there (mismatch: exit 1,
# unsupported: exit 2). A fix (a listed script passes) or a regression (an
# unlisted one fails) both fail this test until the list says so.
#   corpus.sh TCPSIM DOC SCRIPT...
set -u
tcpsim=$1 doc=$2
shift 2
# "| `name.pkt` | mismatch |" rows between the heading and the next "## ".
listed=$(awk '/^## Known mismatches/{on=1; next} /^## /{on=0} on' "$doc" |
  sed -nE 's/^\| `([^`]+\.pkt)` \| (mismatch|unsupported) \|.*/\1 \2/p' | sort)
actual=""
for f in "$@"; do
  out=$("$tcpsim" pkt "$f" --quiet 2>&1)
  rc=$?
  name=$(basename "$f")
  case $rc in
    0) ;;
    1) actual+="$name mismatch"$'\n'; echo "$out" | head -1 ;;
    2) actual+="$name unsupported"$'\n'; echo "$out" | head -1 ;;
    *) echo "$name: exit $rc (crash?)"; echo "$out"; exit 1 ;;
  esac
done
actual=$(printf '%s' "$actual" | sed '/^$/d' | sort)
if [ "$listed" != "$actual" ]; then
  echo "corpus: the scripts that do not pass differ from docs/pkt.md 'Known mismatches':"
  diff <(echo "$listed") <(echo "$actual") | sed -n 's/^< /  listed, but not so now: /p; s/^> /  not listed: /p'
  exit 1
fi
echo "corpus: $# scripts, $(echo "$actual" | sed '/^$/d' | wc -l) known mismatches, as documented"
