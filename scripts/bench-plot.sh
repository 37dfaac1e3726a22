#!/usr/bin/env bash
# Writes an SVG (standard output) of CPU time and memory per connection
# against K, one line per simulator, from the rows scripts/bench-race.sh
# collects: "K side cpu_s rss_kib events", side c, lua or ns3.
set -euo pipefail
awk '
function x(k) { return 60 + (log(k) / log(10) - 3) * 300 / 3 }
function panel(ox, title, unit, col,    s, i, px, py, path, t) {
  printf "<g transform=\"translate(%d,0)\">\n", ox
  printf "<text x=\"210\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n", title
  printf "<line x1=\"60\" y1=\"300\" x2=\"370\" y2=\"300\" stroke=\"black\"/>\n"
  printf "<line x1=\"60\" y1=\"40\" x2=\"60\" y2=\"300\" stroke=\"black\"/>\n"
  for (i = 3; i <= 6; i++)
    printf "<text x=\"%.0f\" y=\"318\" text-anchor=\"middle\">1e%d</text>\n", x(10 ^ i), i
  printf "<text x=\"215\" y=\"338\" text-anchor=\"middle\">K (pairs)</text>\n"
  for (i = 0; i <= 4; i++) {
    t = ymax[col] * i / 4
    printf "<text x=\"55\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>\n", 300 - 250 * i / 4 + 4, t
    printf "<line x1=\"60\" y1=\"%.0f\" x2=\"370\" y2=\"%.0f\" stroke=\"#ddd\"/>\n", 300 - 250 * i / 4, 300 - 250 * i / 4
  }
  printf "<text x=\"14\" y=\"170\" transform=\"rotate(-90 14 170)\" text-anchor=\"middle\">%s</text>\n", unit
  for (s in color) {
    path = ""
    for (i = 1; i <= n; i++) if (side[i] == s) {
      px = x(kk[i]); py = 300 - 250 * val[col, i] / ymax[col]
      path = path (path == "" ? "M" : " L") sprintf("%.1f %.1f", px, py)
      printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px, py, color[s]
    }
    if (path != "") printf "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", path, color[s]
  }
  printf "</g>\n"
}
{ n++; kk[n] = $1; side[n] = $2; val[1, n] = $3 * 1e6 / $1; val[2, n] = $4 / $1
  for (c = 1; c <= 2; c++) if (val[c, n] > ymax[c]) ymax[c] = val[c, n] }
END {
  color["c"] = "#1f77b4"; color["lua"] = "#2ca02c"; color["ns3"] = "#d62728"
  name["c"] = "tcpsim, C over sim/net"; name["lua"] = "tcpsim, Lua scenario"; name["ns3"] = "ns-3 3.37"
  for (c = 1; c <= 2; c++) ymax[c] = ymax[c] > 0 ? ymax[c] * 1.1 : 1
  print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"400\" font-family=\"sans-serif\" font-size=\"12\">"
  print "<rect width=\"800\" height=\"400\" fill=\"white\"/>"
  panel(0, "CPU time per connection", "microseconds", 1)
  panel(400, "Peak memory per connection", "KiB", 2)
  i = 0
  for (s in color) { i++
    printf "<rect x=\"%d\" y=\"370\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"381\">%s</text>\n", 60 + (i - 1) * 240, color[s], 76 + (i - 1) * 240, name[s] }
  print "</svg>"
}' "$1"
