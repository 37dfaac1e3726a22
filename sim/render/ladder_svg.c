/*
 * ladder_svg — the ladder diagram as a standalone SVG document: every
 * segment one sloped line from its departure row to its arrival row, so
 * crossings cross. Output is a pure function of the log and the options.
 *
 * Two styles share the drawing and differ only in their geometry: the plain
 * one (12 px text, as wide and tall as the run needs) and the one for
 * slides (a title line, 20 px text, wider rows and lanes, and a 16:9
 * picture: the view box is padded to that aspect with the drawing centred,
 * so it fills a slide without being stretched).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "render.h"
#include "render_int.h"

/* ---- SVG ---------------------------------------------------------------------------- */

typedef struct svg_geo {
    int row;      /* px per item */
    int top;      /* first row */
    int margin;   /* time labels end here */
    int lane0;    /* x of the first lane */
    int gap;      /* between lanes */
    int chr;      /* px per character of the monospace font, rounded up */
    int font;     /* px */
    int hostfont; /* px */
    int head;     /* y of the host names */
} svg_geo;

static const svg_geo GEO_PLAIN = {26, 70, 90, 190, 360, 8, 12, 16, 30};
static const svg_geo GEO_SLIDES = {40, 130, 130, 300, 600, 13, 20, 28, 95};

/* One drawing: where it goes and its geometry. */
typedef struct svg_ctx {
    FILE *out;
    const svg_geo *g;
} svg_ctx;

static void svg_text(FILE *out, const char *s)
{
    render_xml_text(out, s, false);
}

static int svg_x(const svg_geo *g, uint32_t lane)
{
    return g->lane0 + (int)lane * g->gap;
}

static int svg_y(const svg_geo *g, size_t row)
{
    return g->top + (int)row * g->row;
}

static const char *svg_class(uint8_t flags)
{
    return flags & TCP_RST ? "rst" : flags & TCP_SYN ? "syn" : flags & TCP_FIN ? "fin" : "data";
}

/* The root element: a plain drawing is w x h; a slide is 16:9, its view
 * box padded around the drawing. */
/* The view box: a plain drawing is w x h; a slide is padded to 16:9 around
 * the drawing, centred. */
static void svg_view(const svg_ctx *c, int w, int h, int v[4])
{
    v[0] = v[1] = 0;
    v[2] = w;
    v[3] = h;
    if (c->g != &GEO_SLIDES)
        return;
    if (w * 9 > h * 16)
        v[3] = (w * 9 + 15) / 16;
    else
        v[2] = (h * 16 + 8) / 9;
    v[0] = -(v[2] - w) / 2;
    v[1] = -(v[3] - h) / 2;
}

static void svg_head(const svg_ctx *c, const ladder *l, const char *title, int w, int h)
{
    static const char *const classes[] = {"syn", "fin", "rst", "data"};
    static const char *const colors[] = {"#1e8449", "#1f5fa8", "#c0392b", "#333333"};
    FILE *out = c->out;
    const svg_geo *g = c->g;
    int v[4];
    svg_view(c, w, h, v);
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"%d %d %d %d\" font-family=\"monospace\" font-size=\"%d\">\n",
            g == &GEO_SLIDES ? 1920 : v[2], g == &GEO_SLIDES ? 1080 : v[3], v[0], v[1], v[2], v[3],
            g->font);
    fprintf(out,
            "<style>.lane{stroke:#999;stroke-width:2}.t{fill:#666}.note{fill:#555;"
            "font-style:italic}.box{fill:#fff6d5;stroke:#b8860b}.lost{stroke:#c0392b;"
            "stroke-width:3;fill:none}.why{fill:#c0392b}.host{font-size:%dpx;font-weight:bold}"
            "%s.halo{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}",
            g->hostfont, title ? ".title{font-weight:bold;font-family:sans-serif}" : "");
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
    fputs("</defs>\n", out);
    if (v[0] || v[1])
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", v[0],
                v[1], v[2], v[3]);
    else
        fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", v[2], v[3]);
    if (title) {
        fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"title host\">", g->margin - 110,
                g->hostfont + 10);
        svg_text(out, title);
        fputs("</text>\n", out);
    }
    if (l->relative)
        fprintf(out, "<text x=\"10\" y=\"%d\" class=\"t\">" LADDER_RELATIVE_NOTE "</text>\n",
                title ? g->head - g->hostfont - 8 : g->font);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"t\">time (ms)</text>\n",
            g->margin - 10, g->head);
    for (uint32_t i = 0; i < l->nlanes; i++) {
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"host\">", svg_x(g, i),
                g->head);
        svg_text(out, rlog_host_name(l->log, i));
        fprintf(out, "</text>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"lane\"/>\n",
                svg_x(g, i), g->head + 15, svg_x(g, i), h - 20);
    }
}

/* Where a segment's line ends: at the receiver, midway for a lost one, a
 * third of the way (dashed) for one still in flight when the log ends. */
static void svg_ends(const svg_geo *g, const lad_pkt *p, int *x1, int *y1, int *x2, int *y2)
{
    *x1 = svg_x(g, p->src);
    *y1 = svg_y(g, p->depart);
    *x2 = svg_x(g, p->dst);
    *y2 = p->end != RLOG_NONE ? svg_y(g, p->end) : *y1 + g->row;
    if (p->lost)
        *x2 = (*x1 + *x2) / 2;
    else if (p->end == RLOG_NONE)
        *x2 = *x1 + (*x2 - *x1) / 3;
}

/* Lines go first so that every label is drawn over them. */
static void svg_seg_line(const svg_ctx *c, const lad_pkt *p)
{
    FILE *out = c->out;
    int x1, y1, x2, y2;
    svg_ends(c->g, p, &x1, &y1, &x2, &y2);
    const char *cls = svg_class(p->flags);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"seg %s%s\"", x1, y1, x2, y2,
            cls, p->end == RLOG_NONE ? " flying" : "");
    if (!p->lost && p->end != RLOG_NONE)
        fprintf(out, " marker-end=\"url(#arrow-%s)\"", cls);
    fputs("/>\n", out);
    if (p->lost)
        fprintf(out, "<path d=\"M%d,%d l12,12 m0,-12 l-12,12\" class=\"lost\"/>\n", x2 - 6, y2 - 6);
}

static void svg_seg_label(const svg_ctx *c, const lad_pkt *p)
{
    FILE *out = c->out;
    int x1, y1, x2, y2;
    svg_ends(c->g, p, &x1, &y1, &x2, &y2);
    bool right = svg_x(c->g, p->dst) > x1;
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

static void svg_side(const svg_ctx *c, const lad_item *it, size_t row)
{
    FILE *out = c->out;
    const svg_geo *g = c->g;
    int x = svg_x(g, it->lane), y = svg_y(g, row), w = (int)strlen(it->text) * g->chr + 12;
    if (it->kind == IT_STATE) {
        fprintf(out,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\" class=\"box\"/>"
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                x - w / 2, y - (g->font * 3 / 4), w, g->font * 3 / 2, x, y + g->font / 3);
    } else {
        bool right = it->lane == 0 || it->kind == IT_WNOTE;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" class=\"note halo\">",
                x + (right ? 10 : -10), y + g->font / 3, right ? "start" : "end");
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
    ladder_build_part(&l, log, opts->relative_seq, opts->from_ns, opts->to_ns, opts->control_only);
    svg_ctx c = {out, opts->slides ? &GEO_SLIDES : &GEO_PLAIN};
    const svg_geo *g = c.g;
    uint32_t lanes = l.nlanes ? l.nlanes : 1;
    int w = svg_x(g, lanes - 1) + g->lane0, h = svg_y(g, l.nitems) + 30;
    svg_head(&c, &l, opts->slides ? opts->title : NULL, w, h);
    for (size_t i = 0; i < l.nitems; i++)
        if (l.items[i].kind == IT_DEPART)
            svg_seg_line(&c, &l.pkts[l.items[i].pkt]);
    uint64_t last = UINT64_MAX;
    for (size_t i = 0; i < l.nitems; i++) {
        const lad_item *it = &l.items[i];
        if (it->t != last) {
            char ms[32];
            rlog_format_ms(it->t, ms, sizeof ms);
            fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"t\">%s</text>\n",
                    g->margin - 10, svg_y(g, i) + g->font / 3, ms);
            last = it->t;
        }
        if (it->kind == IT_DEPART)
            svg_seg_label(&c, &l.pkts[it->pkt]);
        else if (it->kind != IT_ARRIVE && it->kind != IT_LOST)
            svg_side(&c, it, i);
    }
    fputs("</svg>\n", out);
    ladder_free(&l);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
