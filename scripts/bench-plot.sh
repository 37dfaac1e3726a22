#!/usr/bin/env bash
# Writes an SVG (standard output) of CPU time and memory per connection
# against K, one line per simulator, from the rows scripts/bench-race.sh
# collects: "K side cpu_s rss_kib events", side c, lua or ns3. Both axes
# are logarithmic: ns-3 and tcpsim lie two orders of magnitude apart, and
# a flat line (linear in K) reads as flat at either height.
set -euo pipefail
awk '
function lg(v) { return log(v) / log(10) }
function x(k) { return 60 + (lg(k) - 3) * 300 / 3 }
function y(col, v) { return 300 - 250 * (lg(v) - lo[col]) / (hi[col] - lo[col]) }
function panel(ox, title, unit, col,    s, i, px, py, path, t) {
  printf "<g transform=\"translate(%d,0)\">\n", ox
  printf "<text x=\"210\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n", title
  printf "<line x1=\"60\" y1=\"300\" x2=\"370\" y2=\"300\" stroke=\"black\"/>\n"
  printf "<line x1=\"60\" y1=\"40\" x2=\"60\" y2=\"300\" stroke=\"black\"/>\n"
  for (i = 3; i <= 6; i++)
    printf "<text x=\"%.0f\" y=\"318\" text-anchor=\"middle\">1e%d</text>\n", x(10 ^ i), i
  printf "<text x=\"215\" y=\"338\" text-anchor=\"middle\">K (pairs)</text>\n"
  for (i = lo[col]; i <= hi[col]; i++) {
    t = 10 ^ i
    printf "<text x=\"55\" y=\"%.0f\" text-anchor=\"end\">%g</text>\n", y(col, t) + 4, t
    printf "<line x1=\"60\" y1=\"%.0f\" x2=\"370\" y2=\"%.0f\" stroke=\"#ddd\"/>\n", y(col, t), y(col, t)
  }
  printf "<text x=\"14\" y=\"170\" transform=\"rotate(-90 14 170)\" text-anchor=\"middle\">%s</text>\n", unit
  for (s in color) {
    path = ""
    for (i = 1; i <= n; i++) if (side[i] == s) {
      px = x(kk[i]); py = y(col, val[col, i])
      path = path (path == "" ? "M" : " L") sprintf("%.1f %.1f", px, py)
      printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px, py, color[s]
    }
    if (path != "") printf "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", path, color[s]
  }
  printf "</g>\n"
}
{ n++; kk[n] = $1; side[n] = $2; val[1, n] = $3 * 1e6 / $1; val[2, n] = $4 / $1
  for (c = 1; c <= 2; c++) {
    if (val[c, n] <= 0) val[c, n] = 0.01 # under the timer step: a point on the log axis
    if (!(c in ymax) || val[c, n] > ymax[c]) ymax[c] = val[c, n]
    if (!(c in ymin) || val[c, n] < ymin[c]) ymin[c] = val[c, n]
  } }
END {
  color["c"] = "#1f77b4"; color["lua"] = "#2ca02c"; color["ns3"] = "#d62728"
  name["c"] = "tcpsim, C over sim/net"; name["lua"] = "tcpsim, Lua scenario"; name["ns3"] = "ns-3 3.37"
  for (c = 1; c <= 2; c++) { # whole decades around the figures
    if (!(c in ymax)) { ymin[c] = 1; ymax[c] = 10 }
    lo[c] = int(lg(ymin[c])); if (10 ^ lo[c] > ymin[c]) lo[c]--
    hi[c] = int(lg(ymax[c])); if (10 ^ hi[c] < ymax[c]) hi[c]++
    if (hi[c] == lo[c]) hi[c]++
  }
  print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"400\" font-family=\"sans-serif\" font-size=\"12\">"
  print "<rect width=\"800\" height=\"400\" fill=\"white\"/>"
  panel(0, "CPU time per connection", "microseconds (log)", 1)
  panel(400, "Peak memory per connection", "KiB (log)", 2)
  i = 0
  for (s in color) { i++
    printf "<rect x=\"%d\" y=\"370\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"381\">%s</text>\n", 60 + (i - 1) * 240, color[s], 76 + (i - 1) * 240, name[s] }
  print "</svg>"
}' "$1"
