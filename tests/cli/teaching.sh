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
# The pictures: the same runs as SVG, current, and shown by both guides.
n=0
for f in "$tmp"/teaching/*.svg; do
  name=$(basename "$f"); n=$((n + 1))
  cmp -s "$f" "docs/teaching/$name" || { echo "docs/teaching/$name is out of date (run scripts/gen-teaching.sh)"; fail=1; }
  grep -q "](teaching/$name)" docs/teaching.md || { echo "docs/teaching.md does not show teaching/$name"; fail=1; }
  grep -q "](../teaching/$name)" docs/zh/teaching.md || { echo "docs/zh/teaching.md does not show teaching/$name"; fail=1; }
done
[ "$n" -eq "$(ls "$tmp"/teaching/*.txt | wc -l)" ] || { echo "one picture per ladder: $n pictures"; fail=1; }
for f in docs/teaching/*.svg; do
  [ -e "$tmp/teaching/$(basename "$f")" ] || { echo "$f is no longer generated (remove it)"; fail=1; }
done
# docs/zh/README.md: every command it shows runs (exit 0, or 1 for a
# scenario's failed expectation), writing into a scratch folder, and every
# link it makes leads to a file.
case $build in /*) bin=$build/tcpsim ;; *) bin=$PWD/$build/tcpsim ;; esac
mkdir -p "$tmp/run" && ln -s "$PWD/scenarios" "$tmp/run/scenarios"
ran=0
while IFS= read -r cmd; do
  args=$(sed -E 's/ +#.*$//; s#^build/tcpsim ##' <<<"$cmd")
  (cd "$tmp/run" && eval "set -- $args" && "$bin" "$@" >/dev/null 2>&1); rc=$?
  ran=$((ran + 1))
  [ $rc -le 1 ] || { echo "docs/zh/README.md: '$cmd' exited $rc"; fail=1; }
done < <(grep -E '^build/tcpsim ' docs/zh/README.md)
[ "$ran" -ge 6 ] || { echo "docs/zh/README.md: only $ran commands found"; fail=1; }
[ -s "$tmp/run/run.html" ] && [ -s "$tmp/run/pages/index.html" ] ||
  { echo "docs/zh/README.md: its --html commands wrote no page"; fail=1; }
for link in $(grep -oE '\]\([^)#]+' docs/zh/README.md | sed 's/^](//'); do
  [ -e "docs/zh/$link" ] || { echo "docs/zh/README.md links to a missing $link"; fail=1; }
done
[ $fail -eq 0 ] && echo "teaching diagrams and case pages are current ($(ls "$tmp"/teaching "$tmp"/cases | wc -l) files)"
exit $fail
