/*
 * rlog_ladder — the ladder diagram (time runs down, one lane per host, one
 * arrow per segment), as plain text and as SVG.
 *
 * Both are drawn from one model: a list of items in log order (state
 * changes, notes, a segment leaving, arriving or being lost) and a list of
 * segments, each knowing the items where it left and where it ended.
 *
 * The text form follows the convention of RFC 9293's own figures: a segment
 * that arrives before anything else happens is one arrow, its label on the
 * line above stamped with the send time and the arrow line stamped with the
 * arrival time. A segment still in the network while other things happen
 * ("..." in RFC 9293 §3.5) is drawn in two halves: "---->  ..." when it
 * leaves and "...  ---->" when it arrives, each under its label. Two
 * segments that cross (simultaneous open or close) therefore show as two
 * departures before two arrivals. The SVG form draws every segment as one
 * sloped line from its departure row to its arrival row, so crossings cross.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rlog.h"

typedef enum lad_kind {
    IT_STATE,  /* a state name written beside the lane */
    IT_LNOTE,  /* a short note inside the lane's gap: user call, timer, error */
    IT_WNOTE,  /* a note across the diagram: scenario notes, links */
    IT_DEPART, /* a segment leaves its sender */
    IT_ARRIVE, /* ... reaches the receiver */
    IT_LOST    /* ... is dropped by the network */
} lad_kind;

typedef struct lad_item {
    lad_kind kind;
    uint64_t t;
    uint32_t lane;
    size_t pkt;
    char text[72];
} lad_item;

typedef struct lad_pkt {
    uint32_t src, dst; /* lanes */
    uint64_t t_send, t_end;
    size_t depart, end; /* items; end is RLOG_NONE while in flight */
    bool lost, dup, held, delayed, corrupt;
    sim_drop_reason drop;
    uint8_t flags;
    char label[64];
} lad_pkt;

/* What the state texts need to know of one socket. */
typedef struct lad_sock {
    uint32_t host, sock;
    bool listener; /* never left CLOSED/LISTEN */
} lad_sock;

/* One direction of a connection and the sequence number its numbers are
 * shown relative to (relative mode). */
typedef struct lad_flow {
    uint32_t src_addr, dst_addr;
    uint16_t src_port, dst_port;
    uint32_t isn;
} lad_flow;

typedef struct ladder {
    const rlog *log;
    bool relative;
    lad_flow *flows;
    size_t nflows, capflows;
    lad_item *items;
    size_t nitems, capitems;
    lad_pkt *pkts;
    size_t npkts, cappkts;
    size_t *pkt_of; /* entry index -> pkts index, for the entries packets start at */
    lad_sock *socks;
    size_t nsocks;
    bool *multi; /* per lane: more than one connection socket, so name them */
    uint32_t nlanes;
} ladder;

static void *lad_alloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("tcpsim: out of memory drawing a ladder\n", stderr);
        abort();
    }
    return q;
}

static void lad_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 32;
    while (c < need)
        c *= 2;
    *arr = lad_alloc(*arr, c * size);
    *cap = c;
}

/* ---- sockets ------------------------------------------------------------------ */

static int sock_cmp(const void *a, const void *b)
{
    const lad_sock *x = a, *y = b;
    if (x->host != y->host)
        return x->host < y->host ? -1 : 1;
    return x->sock < y->sock ? -1 : x->sock > y->sock;
}

static const lad_sock *sock_find(const ladder *l, uint32_t host, uint32_t sock)
{
    lad_sock key = {host, sock, false};
    return bsearch(&key, l->socks, l->nsocks, sizeof key, sock_cmp);
}

static bool listener_state(tcp_state s)
{
    return s == TCP_CLOSED || s == TCP_LISTEN;
}

/* One row per socket with state changes; listeners marked; hosts with more
 * than one connection socket marked so their states carry the socket id. */
static void find_sockets(ladder *l)
{
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < rlog_count(l->log); i++) {
        const rlog_entry *e = rlog_at(l->log, i);
        if (e->kind != RLOG_STATE)
            continue;
        lad_grow((void **)&l->socks, &cap, n + 1, sizeof *l->socks);
        l->socks[n++] =
            (lad_sock){e->host, e->sock, listener_state(e->from) && listener_state(e->to)};
    }
    if (n > 1)
        qsort(l->socks, n, sizeof *l->socks, sock_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && sock_cmp(&l->socks[m - 1], &l->socks[i]) == 0)
            l->socks[m - 1].listener &= l->socks[i].listener;
        else
            l->socks[m++] = l->socks[i];
    }
    l->nsocks = m;
    l->multi = lad_alloc(NULL, (l->nlanes + 1) * sizeof *l->multi);
    uint32_t *conns = lad_alloc(NULL, (l->nlanes + 1) * sizeof *conns);
    memset(conns, 0, (l->nlanes + 1) * sizeof *conns);
    for (size_t i = 0; i < m; i++)
        if (!l->socks[i].listener && l->socks[i].host < l->nlanes)
            conns[l->socks[i].host]++;
    for (uint32_t h = 0; h <= l->nlanes; h++)
        l->multi[h] = conns[h] > 1;
    free(conns);
}

/* ---- the model ----------------------------------------------------------------- */

static lad_item *add_item(ladder *l, lad_kind kind, uint64_t t, uint32_t lane)
{
    lad_grow((void **)&l->items, &l->capitems, l->nitems + 1, sizeof *l->items);
    lad_item *it = &l->items[l->nitems++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->t = t;
    it->lane = lane;
    it->pkt = RLOG_NONE;
    return it;
}

/* A host's own state change or note belongs before the segments it sent at
 * the same instant, whichever order the stack reported them in: the
 * segment is then drawn as leaving from the new state. */
static void hoist_last(ladder *l)
{
    for (size_t i = l->nitems - 1; i > 0; i--) {
        lad_item *it = &l->items[i], *prev = &l->items[i - 1];
        if (prev->kind != IT_DEPART || prev->t != it->t || l->pkts[prev->pkt].src != it->lane)
            return;
        lad_item tmp = *prev;
        *prev = *it;
        *it = tmp;
        l->pkts[it->pkt].depart = i;
    }
}

static void add_side(ladder *l, lad_kind kind, uint64_t t, uint32_t lane, const char *text)
{
    if (lane >= l->nlanes)
        return;
    lad_item *it = add_item(l, kind, t, lane);
    snprintf(it->text, sizeof it->text, "%s", text);
    hoist_last(l);
}

static lad_flow *flow_find(ladder *l, uint32_t saddr, uint16_t sport, uint32_t daddr,
                           uint16_t dport)
{
    for (size_t i = 0; i < l->nflows; i++) {
        lad_flow *f = &l->flows[i];
        if (f->src_addr == saddr && f->src_port == sport && f->dst_addr == daddr &&
            f->dst_port == dport)
            return f;
    }
    return NULL;
}

/* The segment as the relative mode shows it: seq less the sender's ISN, ack
 * less the receiver's. A flow's ISN is the sequence number of its SYN (a
 * new one starts a new incarnation), or its first sequence number when the
 * log never saw its SYN. */
static tcp_seg relative_seg(ladder *l, const tcp_seg *seg)
{
    tcp_seg r = *seg;
    lad_flow *f = flow_find(l, seg->src_addr, seg->src_port, seg->dst_addr, seg->dst_port);
    if (!f) {
        lad_grow((void **)&l->flows, &l->capflows, l->nflows + 1, sizeof *l->flows);
        f = &l->flows[l->nflows++];
        *f = (lad_flow){seg->src_addr, seg->dst_addr, seg->src_port, seg->dst_port, seg->seq};
    } else if ((seg->flags & (TCP_SYN | TCP_RST)) == TCP_SYN) {
        f->isn = seg->seq;
    }
    r.seq = seg->seq - f->isn;
    const lad_flow *back = flow_find(l, seg->dst_addr, seg->dst_port, seg->src_addr, seg->src_port);
    if (back)
        r.ack = seg->ack - back->isn;
    return r;
}

static bool valid_lanes(const ladder *l, const rlog_entry *e)
{
    return e->src_host < l->nlanes && e->dst_host < l->nlanes && e->src_host != e->dst_host;
}

static void depart(ladder *l, size_t i)
{
    const rlog_entry *e = rlog_at(l->log, i);
    if (!valid_lanes(l, e))
        return;
    lad_grow((void **)&l->pkts, &l->cappkts, l->npkts + 1, sizeof *l->pkts);
    lad_pkt *p = &l->pkts[l->npkts];
    memset(p, 0, sizeof *p);
    p->src = e->src_host;
    p->dst = e->dst_host;
    p->t_send = e->time_ns;
    p->end = RLOG_NONE;
    p->dup = e->kind == RLOG_DUP;
    if (e->seg_ok) {
        p->flags = e->seg.flags;
        tcp_seg seg = l->relative ? relative_seg(l, &e->seg) : e->seg;
        rlog_format_label(&seg, p->label, sizeof p->label);
    } else {
        snprintf(p->label, sizeof p->label, "(malformed)");
    }
    p->depart = l->nitems;
    l->pkt_of[i] = l->npkts;
    add_item(l, IT_DEPART, e->time_ns, p->src)->pkt = l->npkts++;
}

static void finish_pkt(ladder *l, size_t i, lad_kind kind)
{
    const rlog_entry *e = rlog_at(l->log, i);
    size_t k = e->send_index == RLOG_NONE ? RLOG_NONE : l->pkt_of[e->send_index];
    if (k == RLOG_NONE || l->pkts[k].end != RLOG_NONE)
        return;
    lad_pkt *p = &l->pkts[k];
    p->t_end = e->time_ns;
    p->lost = kind == IT_LOST;
    p->drop = e->drop;
    p->corrupt |= kind == IT_ARRIVE && !e->seg_ok;
    p->end = l->nitems;
    add_item(l, kind, e->time_ns, p->dst)->pkt = k;
}

static void mark_pkt(ladder *l, const rlog_entry *e)
{
    size_t k = e->send_index == RLOG_NONE ? RLOG_NONE : l->pkt_of[e->send_index];
    if (k == RLOG_NONE)
        return;
    l->pkts[k].held |= e->kind == RLOG_HOLD;
    l->pkts[k].delayed |= e->kind == RLOG_DELAY;
    l->pkts[k].corrupt |= e->kind == RLOG_CORRUPT;
}

static void add_state(ladder *l, const rlog_entry *e)
{
    const lad_sock *s = sock_find(l, e->host, e->sock);
    char text[72];
    if (s && s->listener && e->to != TCP_LISTEN) {
        add_side(l, IT_LNOTE, e->time_ns, e->host, "listener closed");
        return;
    }
    if (e->host < l->nlanes && l->multi[e->host] && !(s && s->listener))
        snprintf(text, sizeof text, "#%" PRIu32 " %s", e->sock, tcp_state_name(e->to));
    else
        snprintf(text, sizeof text, "%s", tcp_state_name(e->to));
    add_side(l, IT_STATE, e->time_ns, e->host, text);
}

/* User calls that shape the connection; send/recv/accept are left out (the
 * segments show them). */
static void add_user(ladder *l, const rlog_entry *e)
{
    switch ((tcp_user_call)e->detail) {
    case TCP_CALL_LISTEN:
    case TCP_CALL_CONNECT:
    case TCP_CALL_SHUTDOWN:
    case TCP_CALL_CLOSE:
    case TCP_CALL_ABORT: {
        char text[72];
        const char *name = tcp_user_call_name((tcp_user_call)e->detail);
        size_t n = strlen(name);
        snprintf(text, sizeof text, "%s%s", name, n > 0 && name[n - 1] == ')' ? "" : "()");
        add_side(l, IT_LNOTE, e->time_ns, e->host, text);
        break;
    }
    default:
        break;
    }
}

static void add_entry(ladder *l, size_t i)
{
    const rlog_entry *e = rlog_at(l->log, i);
    char text[72];
    switch (e->kind) {
    case RLOG_SEND:
    case RLOG_DUP:
        depart(l, i);
        break;
    case RLOG_DELIVER:
        finish_pkt(l, i, IT_ARRIVE);
        break;
    case RLOG_DROP:
        if (e->send_index == i)
            depart(l, i);
        finish_pkt(l, i, IT_LOST);
        break;
    case RLOG_HOLD:
    case RLOG_DELAY:
    case RLOG_CORRUPT:
        mark_pkt(l, e);
        break;
    case RLOG_STATE:
        add_state(l, e);
        break;
    case RLOG_USER:
        add_user(l, e);
        break;
    case RLOG_TIMER:
    case RLOG_ERROR:
    case RLOG_REJECT:
        snprintf(text, sizeof text, "%s %s",
                 e->kind == RLOG_TIMER   ? "timer"
                 : e->kind == RLOG_ERROR ? "error"
                                         : "dropped:",
                 e->kind == RLOG_TIMER   ? tcp_timer_name((tcp_timer_kind)e->detail)
                 : e->kind == RLOG_ERROR ? tcp_err_name(e->detail)
                                         : e->text);
        add_side(l, IT_LNOTE, e->time_ns, e->host, text);
        break;
    case RLOG_LINK: {
        uint32_t from = e->host, to = UINT32_MAX;
        rlog_link_ends(l->log, e->link, e->dir, &from, &to);
        snprintf(text, sizeof text, "link %s>%s %s", rlog_host_name(l->log, from),
                 rlog_host_name(l->log, to), e->value_ns ? "up" : "down");
        snprintf(add_item(l, IT_WNOTE, e->time_ns, 0)->text, sizeof text, "%s", text);
        break;
    }
    case RLOG_NOTE:
        snprintf(add_item(l, IT_WNOTE, e->time_ns, 0)->text, sizeof text, "%s", e->text);
        break;
    default:
        break;
    }
}

static uint32_t lane_count(const rlog *log)
{
    size_t n = rlog_host_count(log);
    for (size_t i = 0; i < rlog_count(log); i++) {
        const rlog_entry *e = rlog_at(log, i);
        uint32_t hs[3] = {e->host, e->src_host, e->dst_host};
        for (int k = 0; k < 3; k++)
            if (hs[k] != UINT32_MAX && hs[k] >= n && hs[k] < 1024)
                n = hs[k] + 1u;
    }
    return (uint32_t)n;
}

static void ladder_build(ladder *l, const rlog *log, bool relative)
{
    memset(l, 0, sizeof *l);
    l->log = log;
    l->relative = relative;
    l->nlanes = lane_count(log);
    size_t n = rlog_count(log);
    l->pkt_of = lad_alloc(NULL, (n + 1) * sizeof *l->pkt_of);
    for (size_t i = 0; i < n; i++)
        l->pkt_of[i] = RLOG_NONE;
    find_sockets(l);
    for (size_t i = 0; i < n; i++)
        add_entry(l, i);
}

static void ladder_free(ladder *l)
{
    free(l->flows);
    free(l->items);
    free(l->pkts);
    free(l->pkt_of);
    free(l->socks);
    free(l->multi);
}

/* A segment drawn as one arrow: nothing else happened while it flew. */
static bool is_whole(const ladder *l, const lad_pkt *p)
{
    (void)l;
    return p->end != RLOG_NONE && p->end == p->depart + 1;
}

/* The label with its marks: "SYN seq=100 (dup) (delayed)"; cut to fit buf. */
static void full_label(const lad_pkt *p, char *buf, size_t n)
{
    const char *parts[5] = {p->label, p->dup ? " (dup)" : "", p->delayed ? " (delayed)" : "",
                            p->held ? " (held)" : "", p->corrupt ? " (corrupt)" : ""};
    size_t used = 0;
    for (size_t i = 0; i < 5; i++)
        for (const char *c = parts[i]; *c && used + 1 < n; c++)
            buf[used++] = *c;
    if (n)
        buf[used] = 0;
}

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
    full_label(p, text, sizeof text);
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
    if (is_whole(l, p)) {
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
    if (is_whole(l, p))
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
    d->x = lad_alloc(NULL, (d->n + 1) * sizeof *d->x);
    int x0 = tw + 1 + (lw > 0 ? lw + 1 : 1);
    int gap = width - 2 - SIDE_RESERVE - x0 - 1;
    gap = gap < GAP_MIN ? GAP_MIN : gap;
    for (uint32_t i = 0; i < d->n; i++)
        d->x[i] = x0 + (int)i * (gap + 1);
    d->cw = (d->n ? d->x[d->n - 1] : x0) + 2 + 96;
    d->cur = lad_alloc(NULL, (size_t)d->cw);
}

#define RELATIVE_NOTE "seq and ack are relative to each side's ISN (its SYN's seq)"

static void t_header(tdraw *d, const ladder *l)
{
    if (l->relative)
        fputs(RELATIVE_NOTE "\n", d->out);
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
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, out);
        }
    }
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
        fputs("<text x=\"10\" y=\"12\" class=\"t\">" RELATIVE_NOTE "</text>\n", out);
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
    full_label(p, text, sizeof text);
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
