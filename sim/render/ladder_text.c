/*
 * ladder_text — the ladder diagram as plain text, in the convention of RFC
 * 9293's own figures (see ladder.c for how segments in flight are drawn).
 * Output is a pure function of the log and the options.
 *
 * No line is longer than the width asked for (80 by default): the lanes
 * share what the time margin and the states beside the first and last lane
 * leave, and a label or note longer than the room it has is wrapped onto
 * more lines at the same instant (at spaces; a word longer than the room is
 * split). Only when the lanes cannot fit even GAP_NARROW apart are lines
 * cut, and the first line of the diagram says so.
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
#define SIDE_RESERVE 12 /* columns kept right of the last lane for its states, at least */
#define GAP_NARROW   8  /* the closest lanes are drawn; narrower, lines are cut */

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
    int tw;    /* time margin width */
    int lw;    /* room for the first lane's states, left of it */
    int width; /* no line is longer */
    int *x;    /* lane columns */
    uint32_t n;
    bool cut; /* the lanes do not fit in width: lines are cut at it */
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
    int end = d->cw < d->width ? d->cw : d->width;
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

/* The first piece of s that fits in `room` columns: its length in *take,
 * and in *skip how far the next piece starts. Breaks at the last space that
 * fits, else splits the word (never inside a UTF-8 sequence). */
static void t_piece(const char *s, int room, int *take, int *skip)
{
    int len = (int)strlen(s);
    room = room < 1 ? 1 : room;
    if (len <= room) {
        *take = *skip = len;
        return;
    }
    int sp = room;
    while (sp > 0 && s[sp] != ' ')
        sp--;
    if (sp > 0) {
        *take = sp;
        *skip = sp + 1;
        return;
    }
    int k = room;
    while (k > 1 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    *take = *skip = k;
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

/* The label beside its sender, between the two lanes; wrapped onto more
 * lines (same instant, no time stamp) when longer than the room. */
static void t_label(tdraw *d, const lad_pkt *p)
{
    char text[96], piece[96];
    ladder_full_label(p, text, sizeof text);
    int xs = d->x[p->src], xd = d->x[p->dst];
    int room = (xd > xs ? xd - xs : xs - xd) - 3;
    for (const char *s = text; *s;) {
        int take, skip;
        t_piece(s, room, &take, &skip);
        memcpy(piece, s, (size_t)take);
        piece[take] = '\0';
        if (s != text)
            t_new(d, d->t, false);
        int at = xs + 2;
        if (xd < xs) {
            at = xs - 1 - take;
            if (at < xd + 2)
                at = xd + 2;
        }
        t_put(d, at, piece);
        s += skip;
    }
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
    a = a > span - 6 ? span - 6 : a; /* the dots stop short of the lane */
    a = a < 1 ? 1 : a;
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
static int t_side_room(const tdraw *d, const lad_item *it)
{
    uint32_t k = it->lane;
    bool outside = (it->kind == IT_STATE) && (k == 0 || k + 1 == d->n);
    if (outside) /* the layout keeps room for these */
        return k == 0 ? d->lw : d->width - d->x[k] - 2;
    if (d->n < 2)
        return d->width - d->x[k] - 3;
    /* inside a gap: right of the first lane, else left of its own */
    int gap = k == 0 ? d->x[1] - d->x[0] : d->x[k] - d->x[k - 1];
    return gap - 3;
}

static void t_side(tdraw *d, const lad_item *it)
{
    int x = d->x[it->lane], room = t_side_room(d, it);
    bool outside_left = it->lane == 0;
    char piece[LADDER_LABEL_MAX];
    for (const char *s = it->text; *s;) {
        int len, skip;
        t_piece(s, room, &len, &skip);
        memcpy(piece, s, (size_t)len);
        piece[len] = '\0';
        int at = (it->kind == IT_STATE) == outside_left ? x - 1 - len : x + 2;
        bool join = d->merge_lane == MERGE_ANY || d->merge_lane == (int)it->lane;
        if (s != it->text) {
            t_new(d, it->t, false);
        } else if (!(join && d->used && d->t == it->t && t_free(d, at, len))) {
            t_new(d, it->t, true);
            d->merge_lane = MERGE_ANY;
        }
        t_put(d, at, piece);
        s += skip;
    }
}

/* A note across the diagram ("-- text" from the first lane), wrapped. */
static void t_wide(tdraw *d, const lad_item *it)
{
    int at = d->x[0] + 5, room = d->width - at;
    char piece[LADDER_LABEL_MAX];
    for (const char *s = it->text; *s;) {
        int len, skip;
        t_piece(s, room, &len, &skip);
        memcpy(piece, s, (size_t)len);
        piece[len] = '\0';
        t_new(d, it->t, s == it->text);
        if (s == it->text)
            t_put(d, at - 3, "-- ");
        t_put(d, at, piece);
        s += skip;
    }
}

/* Lane columns: the time margin, the first lane's states left of it, the
 * last lane's states right of it (at least SIDE_RESERVE), and the lanes
 * evenly spread over what is left of `width`. */
static void t_layout(tdraw *d, const ladder *l, int width)
{
    int tw = 8, lw = 0, rw = SIDE_RESERVE;
    for (size_t i = 0; i < l->nitems; i++) {
        const lad_item *it = &l->items[i];
        char ms[32];
        int n = (int)rlog_format_ms(it->t, ms, sizeof ms);
        tw = n > tw ? n : tw;
        n = (int)strlen(it->text);
        if (it->kind == IT_STATE && it->lane == 0 && n > lw)
            lw = n;
        if (it->kind == IT_STATE && it->lane > 0 && it->lane + 1 == l->nlanes && n > rw)
            rw = n;
    }
    d->tw = tw;
    d->width = width;
    d->n = l->nlanes;
    d->x = render_alloc(NULL, (d->n + 1) * sizeof *d->x);
    /* Too narrow: the states beside the outer lanes give room first (they
     * then wrap), down to 4 columns each. */
    int short_by = (int)(d->n > 1 ? d->n - 1 : 0) * (GAP_NARROW + 1) -
                   (width - 2 - rw - (tw + 1 + (lw > 0 ? lw + 1 : 1)));
    for (int *w = &rw; short_by > 0 && w; w = w == &rw ? &lw : NULL) {
        int give = *w - 4 < short_by ? *w - 4 : short_by;
        if (give > 0) {
            *w -= give;
            short_by -= give;
        }
    }
    d->lw = lw;
    int x0 = tw + 1 + (lw > 0 ? lw + 1 : 1);
    int step = d->n > 1 ? (width - 2 - rw - x0) / (int)(d->n - 1) : 0;
    if (d->n > 1 && step < GAP_NARROW + 1) {
        step = GAP_NARROW + 1;
        d->cut = true;
    }
    for (uint32_t i = 0; i < d->n; i++)
        d->x[i] = x0 + (int)i * step;
    d->cw = (d->n ? d->x[d->n - 1] : x0) + 2 + 96;
    if (d->cw < width)
        d->cw = width;
    d->cur = render_alloc(NULL, (size_t)d->cw);
}

/* A line of text above the diagram, wrapped at the width. */
static void t_para(tdraw *d, const char *text)
{
    for (const char *s = text; *s;) {
        int take, skip;
        t_piece(s, d->width, &take, &skip);
        fprintf(d->out, "%.*s\n", take, s);
        s += skip;
    }
}

static void t_header(tdraw *d, const ladder *l)
{
    if (l->relative)
        t_para(d, LADDER_RELATIVE_NOTE);
    if (d->cut)
        t_para(d, "lines are cut: the hosts do not fit in this width (try --width)");
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
            t_wide(&d, it);
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
