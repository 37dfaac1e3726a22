#!/usr/bin/env bash
# Regenerates the table of docs/kernel-agreement.md: every scenario of the
# library played by `tcpsim test --kernel` (one host by this machine's Linux,
# compared with the linux profile's simulation), one row each with the
# kernel host, the three checks, the verdict and, for a difference, its
# first divergence or, for a refusal, its reason. Only the part between the
# BEGIN/END markers is rewritten: the diagnoses below it are written by hand.
#
#   sudo scripts/gen-kernel-agreement.sh [BUILD_DIR [JOBS]]     run and write
#   scripts/gen-kernel-agreement.sh --from OUTPUT [BUILD_DIR]   write from a
#        saved `tcpsim test --kernel scenarios` output (no kernel needed)
#
# Needs root, /dev/net/tun and network namespaces (the runs skip otherwise,
# and the script then stops without writing). tests/kern/agreement.sh checks
# the document's structure against the library in every test run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
from=
if [ "${1:-}" = --from ]; then from=$2; shift 2; fi
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
jobs=${2:-8}
doc="$root/docs/kernel-agreement.md"
out=$(mktemp); trap 'rm -f "$out" "$out.table" "$out.doc"' EXIT

cd "$root"
if [ -n "$from" ]; then
  cp "$from" "$out"
else
  [ -x "$build/tcpsim" ] || { echo "gen-kernel-agreement: $build/tcpsim not found; build first" >&2; exit 1; }
  rc=0; "$build/tcpsim" test --kernel --jobs "$jobs" scenarios >"$out" || rc=$?
  [ $rc -le 1 ] || { echo "gen-kernel-agreement: the suite did not run (exit $rc):" >&2; head -3 "$out" >&2; exit 1; }
fi
kernel=$(sed -n 's/^kernel: Linux \([^;]*\);.*/\1/p' "$out" | head -1)
[ -n "$kernel" ] || { echo "gen-kernel-agreement: no 'kernel: Linux ...' line in the output" >&2; exit 1; }

awk -v kernel="$kernel" '
function cell(s) { gsub(/\|/, "/", s); sub(/^ +/, "", s); return s }
function flush() {
  if (name == "") return
  printf "| %s | %s | %s | %s | %s | %s | %s |\n", name, host, st, sg, tm, verdict, cell(reason)
  name = ""
}
/^(AGREE|DIFFER|ERROR|REFUSED|SKIPPED) / {
  flush()
  verdict = $1; line = $0; sub(/^[A-Z]+ +/, "", line)
  host = "-"; st = sg = tm = "-"; reason = ""
  if (verdict == "REFUSED" || verdict == "SKIPPED") {
    name = line; sub(/: .*/, "", name); reason = line; sub(/^[^:]*: /, "", reason)
    sub(/^scenarios\//, "", reason); next
  }
  name = line; sub(/ \(kernel .*/, "", name)
  host = line; sub(/.*\(kernel /, "", host); sub(/\).*/, "", host)
  if (verdict == "ERROR") { reason = line; sub(/^[^)]*\): /, "", reason); next }
  rest = substr(line, index(line, "): ") + 3)
  split(rest, p, /states |, segments |, timing | \(/)
  st = p[2]; sg = p[3]; tm = p[4]
  if (st != "agree") st = "**differs**"
  if (sg != "agree") sg = "**differs**"
  if (tm != "agree") tm = "differs"
  next
}
/^   \| replay: / { next }
/^   \| / { d = $0; sub(/^   \| /, "", d); sub(/DIFFER +/, "", d); reason = reason (reason == "" ? "" : "; ") d; next }
/^[0-9]+ passed, / { flush(); summary = $0 }
END {
  flush()
  print ""
  print "Linux " kernel ": " summary "."
}' "$out" >"$out.table"

{
  sed -n '1,/^<!-- BEGIN kernel-agreement/p' "$doc"
  echo
  echo "Kernel: **Linux $kernel** (\`uname -r\` of the machine that ran it)."
  echo
  echo "| Scenario | Kernel host | States | Segments | Timing | Verdict | First divergence or reason |"
  echo "|----------|-------------|--------|----------|--------|---------|----------------------------|"
  cat "$out.table"
  echo
  sed -n '/^<!-- END kernel-agreement/,$p' "$doc"
} >"$out.doc"
mv "$out.doc" "$doc"
echo "gen-kernel-agreement: wrote $doc (Linux $kernel, $(grep -c '^| [a-z]' "$out.table") scenarios)"
