#!/usr/bin/env bash
# scripts/bench-plot.sh draws what it is given: one line a simulator, both
# axes logarithmic (decade ticks), so equal figures a pair lie level and a
# figure ten times another lies one decade above it.
set -euo pipefail
rows=$(mktemp)
trap 'rm -f "$rows" "$rows.svg"' EXIT
cat >"$rows" <<'ROWS'
1000 c 0.01 4000 9000
1000000 c 10 4000000 9000000
1000 lua 0.02 6000 9000
1000000 lua 20 3000000 9000000
1000 ns3 1 88000 0
ROWS
bash scripts/bench-plot.sh "$rows" >"$rows.svg"
python3 - "$rows.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
panels = root.findall("s:g", ns)
assert len(panels) == 2, "two panels"
def points(panel, colour):
    return [(float(c.get("cx")), float(c.get("cy"))) for c in panel.findall("s:circle", ns)
            if c.get("fill") == colour]
time, mem = panels
c, lua, ns3 = points(time, "#1f77b4"), points(time, "#2ca02c"), points(time, "#d62728")
assert len(c) == 2 and len(lua) == 2 and len(ns3) == 1, (c, lua, ns3)
# 10 us a pair at K = 1,000 and at 1,000,000: level
assert abs(c[0][1] - c[1][1]) < 0.5, c
# lua 20 us against C's 10: log10(2) of a decade above
ticks = {t.text: float(t.get("y")) for t in time.findall("s:text", ns) if t.text in ("1", "10", "100", "1000", "10000")}
decade = ticks["10"] - ticks["100"]
assert decade > 0, ticks
assert abs((c[0][1] - lua[0][1]) / decade - 0.30103) < 0.01, (c, lua, decade)
# memory: 4 KiB a pair at both ends of C's line, level too
mc = points(mem, "#1f77b4")
assert len(mc) == 2 and abs(mc[0][1] - mc[1][1]) < 0.5, mc
assert len(root.findall(".//s:path", ns)) == 6, "a line a simulator, a panel"
print("bench-plot: log axes, lines level where the figures are")
PY
