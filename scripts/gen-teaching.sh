#!/bin/sh
# Regenerate the ladder diagrams embedded in docs/teaching.md.
# Usage: scripts/gen-teaching.sh [BUILD_DIR [OUT_DIR]]   (defaults: build, docs/teaching)
# The test suite runs it into a scratch folder and checks docs/ is current.
# Each scenario runs with its own fixed seed, so the output is the same on
# every run; the script fails if a scenario fails.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-build}" in /*) bin="${1}/tcpsim" ;; *) bin="$root/${1:-build}/tcpsim" ;; esac
out="${2:-$root/docs/teaching}"
[ -x "$bin" ] || { echo "gen-teaching: $bin not found; build first" >&2; exit 1; }
mkdir -p "$out"

# name  scenario
list='
normal_open        handshake/normal_open.lua
lost_synack        handshake/lost_synack.lua
old_duplicate_syn  handshake/old_duplicate_syn.lua
simultaneous_open  handshake/simultaneous_open.lua
active_close       teardown/active_close.lua
fin_ack_together   teardown/fin_ack_together.lua
simultaneous_close teardown/simultaneous_close.lua
lost_final_ack     teardown/lost_final_ack.lua
fin_overtakes_data teardown/fin_overtakes_data.lua
'

echo "$list" | while read -r name file; do
  [ -n "$name" ] || continue
  (cd "$root" && "$bin" run "scenarios/$file" --ladder --quiet) > "$out/$name.txt.tmp"
  mv "$out/$name.txt.tmp" "$out/$name.txt"
  echo "$out/$name.txt"
done
