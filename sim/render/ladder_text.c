/*
 * ladder_text — the ladder diagram as plain text, in the convention of RFC
 * 9293's own figures (see ladder.c for how segments in flight are drawn).
 * Output is a pure function of the log and the options.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "render.h"
#include "render_int.h"

/* ---- text ------------------------------------------------------------------------ */

#define MERGE_ANY    (-2)
#define MERGE_NONE   (-1)
#define SIDE_RESERVE 12 /* columns kept right of the last lane for its states */
#define GAP_MIN      24

typedef struct tdraw {
    FILE *out;
    char *cur; /* the line being drawn; flushed when the next one starts */
    int cw;
    uint64_t t;
    bool show_t, used;
    /* Which lane's state or note may join the current line: MERGE_ANY on a
     * line of states and notes, the receiver's lane on an arrival, else
     * MERGE_NONE (a label, or a segment still in flight: text beside it
     * would read as its effect). */
    int merge_lane;
    int tw; /* time margin width */
    int *x; /* lane columns */
    uint32_t n;
} tdraw;

static void t_flush(tdraw *d)
{
    if (!d->used)
        return;
    if (d->show_t) {
        char ms[32];
        int len = (int)rlog_format_ms(d->t, ms, sizeof ms);
        int at = d->tw - len > 0 ? d->tw - len : 0;
        memcpy(d->cur + at, ms, (size_t)len);
    }
    int end = d->cw;
    while (end > 0 && d->cur[end - 1] == ' ')
        end--;
    fwrite(d->cur, 1, (size_t)end, d->out);
    fputc('\n', d->out);
    d->used = false;
}

static void t_put(tdraw *d, int x, const char *s)
{
    for (; *s; s++, x++)
        if (x >= 0 && x < d->cw)
            d->cur[x] = *s;
}

static void t_new(tdraw *d, uint64_t t, bool show_t)
{
    t_flush(d);
    memset(d->cur, ' ', (size_t)d->cw);
    for (uint32_t i = 0; i < d->n; i++)
        d->cur[d->x[i]] = '|';
    d->t = t;
    d->show_t = show_t;
    d->used = true;
    d->merge_lane = MERGE_NONE;
}

/* Whether columns [x-1, x+len] of the current line are blank. */
static bool t_free(const tdraw *d, int x, int len)
{
    if (x < 1 || x + len >= d->cw)
        return false;
    for (int i = x - 1; i <= x + len; i++)
        if (d->cur[i] != ' ')
            return false;
    return true;
}

/* Writes c at distance k from lane `from` towards lane `to`; an arrow
 * passing over another host's lane covers it, so it cannot be read as
 * touching that host. */
static void t_cell(tdraw *d, uint32_t from, uint32_t to, int k, char c)
{
    int x = d->x[from] + (d->x[to] > d->x[from] ? k : -k);
    if (x > 0 && x < d->cw)
        d->cur[x] = c;
}

static void t_line(tdraw *d, const lad_pkt *p, int k0, int k1)
{
    for (int k = k0; k <= k1; k++)
        t_cell(d, p->src, p->dst, k, '-');
}

static int t_span(const tdraw *d, const lad_pkt *p)
{
    int gap = d->x[p->dst] - d->x[p->src];
    return (gap > 0 ? gap : -gap) - 1;
}

static void t_dots(tdraw *d, const lad_pkt *p, int k)
{
    for (int i = 0; i < 3; i++)
        t_cell(d, p->src, p->dst, k + i, '.');
}

static void t_label(tdraw *d, const lad_pkt *p)
{
    char text[96];
    ladder_full_label(p, text, sizeof text);
    int len = (int)strlen(text), xs = d->x[p->src], xd = d->x[p->dst];
    int at = xs + 2;
    if (xd < xs) {
        at = xs - 1 - len;
        if (at < xd + 2)
            at = xd + 2;
    }
    t_put(d, at, text);
}

/* The "X reason" of a lost segment at distance m from its sender. */
static void t_lost(tdraw *d, const lad_pkt *p, int m)
{
    t_cell(d, p->src, p->dst, m, 'X');
    const char *why = sim_drop_reason_name(p->drop);
    int x = d->x[p->src] + (d->x[p->dst] > d->x[p->src] ? m : -m);
    t_put(d, d->x[p->dst] > d->x[p->src] ? x + 2 : x - 1 - (int)strlen(why), why);
}

static void t_head(tdraw *d, const lad_pkt *p, int k)
{
    t_cell(d, p->src, p->dst, k, d->x[p->dst] > d->x[p->src] ? '>' : '<');
}

static void t_depart(tdraw *d, const ladder *l, const lad_pkt *p)
{
    int span = t_span(d, p);
    t_new(d, p->t_send, true);
    t_label(d, p);
    if (ladder_is_whole(l, p)) {
        t_new(d, p->t_end, true);
        if (p->lost) {
            t_line(d, p, 1, span / 2 - 1);
            t_lost(d, p, span / 2);
        } else {
            t_line(d, p, 1, span - 1);
            t_head(d, p, span);
            d->merge_lane = (int)p->dst;
        }
        return;
    }
    int a = span * 2 / 3;
    t_new(d, p->t_send, false);
    t_line(d, p, 1, a - 1);
    t_head(d, p, a);
    t_dots(d, p, a + 3);
}

static void t_end(tdraw *d, const ladder *l, const lad_pkt *p)
{
    if (ladder_is_whole(l, p))
        return;
    int span = t_span(d, p);
    t_new(d, p->t_end, true);
    t_label(d, p);
    t_new(d, p->t_end, false);
    if (p->lost) {
        t_dots(d, p, 2);
        t_line(d, p, 7, span / 2 - 1);
        t_lost(d, p, span / 2);
        return;
    }
    int b = span / 3;
    t_dots(d, p, b);
    t_line(d, p, b + 5, span - 1);
    t_head(d, p, span);
    d->merge_lane = (int)p->dst;
}

/* A state beside its lane (outside for the first lane, right for the
 * others) or a lane note inside the gap; joins the current line when that
 * line is at the same instant and the place is blank. */
static void t_side(tdraw *d, const lad_item *it)
{
    int len = (int)strlen(it->text), x = d->x[it->lane];
    bool outside_left = it->lane == 0;
    int at = (it->kind == IT_STATE) == outside_left ? x - 1 - len : x + 2;
    bool join = d->merge_lane == MERGE_ANY || d->merge_lane == (int)it->lane;
    if (!(join && d->used && d->t == it->t && t_free(d, at, len))) {
        t_new(d, it->t, true);
        d->merge_lane = MERGE_ANY;
    }
    t_put(d, at, it->text);
}

static void t_layout(tdraw *d, const ladder *l, int width)
{
    int tw = 8, lw = 0;
    for (size_t i = 0; i < l->nitems; i++) {
        char ms[32];
        int n = (int)rlog_format_ms(l->items[i].t, ms, sizeof ms);
        tw = n > tw ? n : tw;
        n = (int)strlen(l->items[i].text);
        if (l->items[i].kind == IT_STATE && l->items[i].lane == 0 && n > lw)
            lw = n;
    }
    d->tw = tw;
    d->n = l->nlanes;
    d->x = render_alloc(NULL, (d->n + 1) * sizeof *d->x);
    int x0 = tw + 1 + (lw > 0 ? lw + 1 : 1);
    int gap = width - 2 - SIDE_RESERVE - x0 - 1;
    gap = gap < GAP_MIN ? GAP_MIN : gap;
    for (uint32_t i = 0; i < d->n; i++)
        d->x[i] = x0 + (int)i * (gap + 1);
    d->cw = (d->n ? d->x[d->n - 1] : x0) + 2 + 96;
    d->cur = render_alloc(NULL, (size_t)d->cw);
}

static void t_header(tdraw *d, const ladder *l)
{
    if (l->relative)
        fputs(LADDER_RELATIVE_NOTE "\n", d->out);
    memset(d->cur, ' ', (size_t)d->cw);
    t_put(d, d->tw - 8, "time(ms)");
    for (uint32_t i = 0; i < d->n; i++) {
        const char *name = rlog_host_name(l->log, i);
        t_put(d, d->x[i] - (int)strlen(name) / 2, name);
    }
    d->used = true;
    d->show_t = false;
    t_flush(d);
    t_new(d, 0, false);
    t_flush(d);
}

int rlog_write_ladder(const rlog *log, FILE *out, int width)
{
    rlog_ladder_opts opts = {.width = width, .relative_seq = false};
    return rlog_write_ladder_opts(log, out, &opts);
}

int rlog_write_ladder_opts(const rlog *log, FILE *out, const rlog_ladder_opts *opts)
{
    ladder l;
    ladder_build(&l, log, opts->relative_seq);
    tdraw d = {.out = out};
    t_layout(&d, &l, opts->width > 0 ? opts->width : 80);
    t_header(&d, &l);
    for (size_t i = 0; i < l.nitems; i++) {
        const lad_item *it = &l.items[i];
        if (it->kind == IT_STATE || it->kind == IT_LNOTE) {
            t_side(&d, it);
        } else if (it->kind == IT_WNOTE) {
            t_new(&d, it->t, true);
            t_put(&d, d.x[0] + 2, "-- ");
            t_put(&d, d.x[0] + 5, it->text);
        } else if (it->kind == IT_DEPART) {
            t_depart(&d, &l, &l.pkts[it->pkt]);
        } else {
            t_end(&d, &l, &l.pkts[it->pkt]);
        }
    }
    t_new(&d, 0, false);
    t_flush(&d);
    free(d.cur);
    free(d.x);
    ladder_free(&l);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
