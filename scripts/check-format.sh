#!/usr/bin/env bash
# Fails if any C file differs from what the repo's .clang-format produces.
# Checks tracked files and new ones not yet added (not those .gitignore
# ignores); a tracked file deleted in the worktree is not there to check.
# Exit status: 0 only when clang-format ran over every file and found none
# to change; any other failure prints clang-format's own words.
set -u
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed (scripts/setup.sh installs it)"; exit 1; }
if git rev-parse --git-dir >/dev/null 2>&1; then
  list=$(git ls-files --cached --others --exclude-standard '*.c' '*.h')
else
  list=$(find sim stack tests bench -name '*.[ch]')
fi
files=()
while IFS= read -r f; do
  [ -n "$f" ] && [ -f "$f" ] && files+=("$f")
done <<<"$list"
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C files found"; exit 1; }
# One clang-format process for all files; it names each one that differs.
if ! out=$(clang-format --dry-run --Werror "${files[@]}" 2>&1); then
  named=$(echo "$out" | grep -oE '^[^:]+\.[ch]:[0-9]+:[0-9]+: (error|warning): code should be clang-formatted' |
    cut -d: -f1 | sort -u)
  if [ -n "$named" ]; then
    echo "$named" | while read -r f; do echo "check-format: $f is not formatted (run: clang-format -i $f)"; done
  else
    echo "check-format: clang-format failed:"
    echo "$out" | head -20
  fi
  exit 1
fi
echo "check-format: ok"
