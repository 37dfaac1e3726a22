#!/usr/bin/env bash
# docs/teaching/, docs/cases/ and the copies embedded in docs/teaching.md and
# docs/zh/teaching.md are what scripts/gen-teaching.sh produces now
# (regenerate them when this fails).
set -u
build=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sh scripts/gen-teaching.sh "$build" "$tmp" >/dev/null || { echo "gen-teaching failed"; exit 1; }
fail=0
if ! diff -r "$tmp/cases" docs/cases >/dev/null; then
  echo "docs/cases/ is out of date (run scripts/gen-teaching.sh)"; diff -r "$tmp/cases" docs/cases | head -20; fail=1
fi
for f in "$tmp"/teaching/*.txt; do
  name=$(basename "$f")
  if ! cmp -s "$f" "docs/teaching/$name"; then
    echo "docs/teaching/$name is out of date (run scripts/gen-teaching.sh)"; diff "docs/teaching/$name" "$f" | head -20; fail=1
  fi
  body=$(cat "$f")
  for guide in docs/teaching.md docs/zh/teaching.md; do
    md=$(cat "$guide")
    [[ "$md" == *"$body"* ]] || { echo "$guide does not embed the current $name"; fail=1; }
  done
done
[ $fail -eq 0 ] && echo "teaching diagrams and case pages are current ($(ls "$tmp"/teaching "$tmp"/cases | wc -l) files)"
exit $fail
