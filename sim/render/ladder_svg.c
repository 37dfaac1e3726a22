/*
 * ladder_svg — the ladder diagram as a standalone SVG document: every
 * segment one sloped line from its departure row to its arrival row, so
 * crossings cross. Output is a pure function of the log and the options.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "render.h"
#include "render_int.h"

/* ---- SVG ---------------------------------------------------------------------------- */

enum {
    SVG_ROW = 26,    /* px per item */
    SVG_TOP = 70,    /* first row */
    SVG_MARGIN = 90, /* time labels */
    SVG_LANE0 = 190, /* x of the first lane */
    SVG_LANE_GAP = 360,
    SVG_CHAR = 8 /* px per character of the 12px monospace font, rounded up */
};

static void svg_text(FILE *out, const char *s)
{
    render_xml_text(out, s, false);
}

static int svg_x(uint32_t lane)
{
    return SVG_LANE0 + (int)lane * SVG_LANE_GAP;
}

static int svg_y(size_t row)
{
    return SVG_TOP + (int)row * SVG_ROW;
}

static const char *svg_class(uint8_t flags)
{
    return flags & TCP_RST ? "rst" : flags & TCP_SYN ? "syn" : flags & TCP_FIN ? "fin" : "data";
}

static void svg_head(FILE *out, const ladder *l, int w, int h)
{
    static const char *const classes[] = {"syn", "fin", "rst", "data"};
    static const char *const colors[] = {"#1e8449", "#1f5fa8", "#c0392b", "#333333"};
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">\n",
            w, h, w, h);
    fputs("<style>.lane{stroke:#999;stroke-width:2}.t{fill:#666}.note{fill:#555;font-style:italic}"
          ".box{fill:#fff6d5;stroke:#b8860b}.lost{stroke:#c0392b;stroke-width:3;fill:none}"
          ".why{fill:#c0392b}.host{font-size:16px;font-weight:bold}"
          ".halo{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}",
          out);
    for (int i = 0; i < 4; i++)
        fprintf(out, "line.%s{stroke:%s}text.%s{fill:%s}", classes[i], colors[i], classes[i],
                colors[i]);
    fputs("line.seg{stroke-width:1.6}.flying{stroke-dasharray:6 4}</style>\n<defs>\n", out);
    for (int i = 0; i < 4; i++)
        fprintf(out,
                "<marker id=\"arrow-%s\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
                "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
                "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n",
                classes[i], colors[i]);
    fprintf(out, "</defs>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, h);
    if (l->relative)
        fputs("<text x=\"10\" y=\"12\" class=\"t\">" LADDER_RELATIVE_NOTE "</text>\n", out);
    fprintf(out, "<text x=\"%d\" y=\"30\" text-anchor=\"end\" class=\"t\">time (ms)</text>\n",
            SVG_MARGIN - 10);
    for (uint32_t i = 0; i < l->nlanes; i++) {
        fprintf(out, "<text x=\"%d\" y=\"30\" text-anchor=\"middle\" class=\"host\">", svg_x(i));
        svg_text(out, rlog_host_name(l->log, i));
        fprintf(out, "</text>\n<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" class=\"lane\"/>\n",
                svg_x(i), svg_x(i), h - 20);
    }
}

/* Where a segment's line ends: at the receiver, midway for a lost one, a
 * third of the way (dashed) for one still in flight when the log ends. */
static void svg_ends(const lad_pkt *p, int *x1, int *y1, int *x2, int *y2)
{
    *x1 = svg_x(p->src);
    *y1 = svg_y(p->depart);
    *x2 = svg_x(p->dst);
    *y2 = p->end != RLOG_NONE ? svg_y(p->end) : *y1 + SVG_ROW;
    if (p->lost)
        *x2 = (*x1 + *x2) / 2;
    else if (p->end == RLOG_NONE)
        *x2 = *x1 + (*x2 - *x1) / 3;
}

/* Lines go first so that every label is drawn over them. */
static void svg_seg_line(FILE *out, const lad_pkt *p)
{
    int x1, y1, x2, y2;
    svg_ends(p, &x1, &y1, &x2, &y2);
    const char *cls = svg_class(p->flags);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"seg %s%s\"", x1, y1, x2, y2,
            cls, p->end == RLOG_NONE ? " flying" : "");
    if (!p->lost && p->end != RLOG_NONE)
        fprintf(out, " marker-end=\"url(#arrow-%s)\"", cls);
    fputs("/>\n", out);
    if (p->lost)
        fprintf(out, "<path d=\"M%d,%d l12,12 m0,-12 l-12,12\" class=\"lost\"/>\n", x2 - 6, y2 - 6);
}

static void svg_seg_label(FILE *out, const lad_pkt *p)
{
    int x1, y1, x2, y2;
    svg_ends(p, &x1, &y1, &x2, &y2);
    bool right = svg_x(p->dst) > x1;
    char text[96];
    ladder_full_label(p, text, sizeof text);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" class=\"halo %s\">",
            x1 + (right ? 8 : -8), y1 - 5, right ? "start" : "end", svg_class(p->flags));
    svg_text(out, text);
    fputs("</text>\n", out);
    if (p->lost)
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" class=\"why halo\">%s</text>\n",
                x2 + (right ? 12 : -12), y2 + 4, right ? "start" : "end",
                sim_drop_reason_name(p->drop));
}

static void svg_side(FILE *out, const lad_item *it, size_t row)
{
    int x = svg_x(it->lane), y = svg_y(row), w = (int)strlen(it->text) * SVG_CHAR + 12;
    if (it->kind == IT_STATE) {
        fprintf(out,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" rx=\"4\" class=\"box\"/>"
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                x - w / 2, y - 9, w, x, y + 4);
    } else {
        bool right = it->lane == 0 || it->kind == IT_WNOTE;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" class=\"note halo\">",
                x + (right ? 10 : -10), y + 4, right ? "start" : "end");
    }
    svg_text(out, it->text);
    fputs("</text>\n", out);
}

int rlog_write_svg(const rlog *log, FILE *out)
{
    rlog_ladder_opts opts = {.width = 0, .relative_seq = false};
    return rlog_write_svg_opts(log, out, &opts);
}

int rlog_write_svg_opts(const rlog *log, FILE *out, const rlog_ladder_opts *opts)
{
    ladder l;
    ladder_build(&l, log, opts->relative_seq);
    uint32_t lanes = l.nlanes ? l.nlanes : 1;
    int w = svg_x(lanes - 1) + 190, h = svg_y(l.nitems) + 30;
    svg_head(out, &l, w, h);
    for (size_t i = 0; i < l.nitems; i++)
        if (l.items[i].kind == IT_DEPART)
            svg_seg_line(out, &l.pkts[l.items[i].pkt]);
    uint64_t last = UINT64_MAX;
    for (size_t i = 0; i < l.nitems; i++) {
        const lad_item *it = &l.items[i];
        if (it->t != last) {
            char ms[32];
            rlog_format_ms(it->t, ms, sizeof ms);
            fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"t\">%s</text>\n",
                    SVG_MARGIN - 10, svg_y(i) + 4, ms);
            last = it->t;
        }
        if (it->kind == IT_DEPART)
            svg_seg_label(out, &l.pkts[it->pkt]);
        else if (it->kind != IT_ARRIVE && it->kind != IT_LOST)
            svg_side(out, it, i);
    }
    fputs("</svg>\n", out);
    ladder_free(&l);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
