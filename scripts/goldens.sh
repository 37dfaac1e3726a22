#!/usr/bin/env bash
# Regression goldens: a hash of every output of every scenario (JSON trace,
# pcap, pcapng, SVG, DOT, text ladder, HTML page). They say "the outputs did
# not change", never "the outputs are right": correctness comes from the RFC,
# the kernels and packetdrill, checked by the scenarios' own expectations.
#
#   scripts/goldens.sh check TCPSIM   compare with tests/golden/outputs.sha256
#   scripts/goldens.sh update TCPSIM  rewrite it (after a deliberate change of
#                                     behaviour; say which in the commit)
#   scripts/goldens.sh dump TCPSIM DIR  write every output to DIR, to diff two
#                                     builds when check fails
set -u
cd "$(dirname "$0")/.."
mode=${1:-}; tcpsim=${2:-}
manifest=tests/golden/outputs.sha256
[ -n "$mode" ] && [ -x "$tcpsim" ] || { echo "usage: scripts/goldens.sh check|update|dump TCPSIM [DIR]" >&2; exit 2; }
if [ "$mode" = dump ]; then out=${3:?dump needs a folder}; mkdir -p "$out"; else
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
fail=0
for f in $(find scenarios -name '*.lua' -not -path '*/lib/*' | LC_ALL=C sort); do
  b=$(echo "${f#scenarios/}" | sed 's|/|_|g; s|\.lua$||')
  # Exit status 1 (a failed expectation) still writes outputs; only an error counts here.
  "$tcpsim" run "$f" --quiet --sim 1 --trace json --trace-out "$out/$b.jsonl" --pcap "$out/$b.pcap" \
    --pcapng "$out/$b.pcapng" --svg "$out/$b.svg" --state-diagram "$out/$b.dot" \
    --html "$out/$b.html" --ladder >"$out/$b.ladder" 2>/dev/null
  [ $? -le 1 ] || { echo "goldens: $f did not run"; fail=1; }
done
case $mode in
  dump) exit $fail ;;
  update) (cd "$out" && LC_ALL=C sha256sum -- *) >"$manifest"; echo "goldens: wrote $manifest ($(wc -l <"$manifest") outputs)"; exit $fail ;;
  check)
    (cd "$out" && LC_ALL=C sha256sum -- *) >"$out/.now"
    if ! diff -u "$manifest" "$out/.now" >"$out/.diff"; then
      echo "goldens: outputs differ from $manifest:"; grep '^[-+][0-9a-f]' "$out/.diff" | sed -E 's/^([-+])[0-9a-f]+  /  \1 /'
      echo "goldens: if the change of behaviour is deliberate, run scripts/goldens.sh update and say why in the commit"
      fail=1
    else echo "goldens: $(wc -l <"$manifest") outputs identical"; fi
    exit $fail ;;
  *) echo "usage: scripts/goldens.sh check|update|dump TCPSIM [DIR]" >&2; exit 2 ;;
esac
