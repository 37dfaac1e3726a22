/*
 * ladder — the model behind the ladder diagram (time runs down, one lane per
 * host, one arrow per segment), drawn as plain text by ladder_text.c and as
 * SVG by ladder_svg.c.
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
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "render_int.h"

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
        render_grow((void **)&l->socks, &cap, n + 1, sizeof *l->socks);
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
    l->multi = render_alloc(NULL, (l->nlanes + 1) * sizeof *l->multi);
    uint32_t *conns = render_alloc(NULL, (l->nlanes + 1) * sizeof *conns);
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
    render_grow((void **)&l->items, &l->capitems, l->nitems + 1, sizeof *l->items);
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
        render_grow((void **)&l->flows, &l->capflows, l->nflows + 1, sizeof *l->flows);
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
    render_grow((void **)&l->pkts, &l->cappkts, l->npkts + 1, sizeof *l->pkts);
    lad_pkt *p = &l->pkts[l->npkts];
    memset(p, 0, sizeof *p);
    p->src = e->src_host;
    p->dst = e->dst_host;
    p->t_send = e->time_ns;
    p->end = RLOG_NONE;
    p->dup = e->kind == RLOG_DUP;
    if (e->seg_ok) {
        p->flags = e->seg->flags;
        tcp_seg seg = l->relative ? relative_seg(l, e->seg) : *e->seg;
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
    char text[LADDER_LABEL_MAX];
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
        char text[LADDER_LABEL_MAX];
        const char *name = tcp_user_call_name((tcp_user_call)e->detail);
        size_t n = strlen(name);
        snprintf(text, sizeof text, "%s%s", name, n > 0 && name[n - 1] == ')' ? "" : "()");
        add_side(l, IT_LNOTE, e->time_ns, e->host, text);
        break;
    }
    case TCP_CALL_ACCEPT:
    case TCP_CALL_SEND:
    case TCP_CALL_RECV:
        break;
    }
}

/* What happened to a segment the stack did not take in (a reject entry):
 * answered, when the next entry of the log is that host sending on the same
 * connection at the same instant (RFC 9293 answers many such segments: an
 * ACK for one out of window, a reset for a bad ACK in SYN-SENT, the SYN,ACK
 * again for a repeated SYN), or else dropped. "retransmitted SYN: answered
 * with SYN,ACK", "dropped: bad TCP checksum". */
static void reject_label(const rlog *log, size_t i, char *buf, size_t len)
{
    const rlog_entry *e = rlog_at(log, i);
    const rlog_entry *r = i + 1 < rlog_count(log) ? rlog_at(log, i + 1) : NULL;
    bool answered = r && r->kind == RLOG_SEND && r->time_ns == e->time_ns &&
                    r->src_host == e->host && r->seg_ok &&
                    (!e->seg_ok || (r->seg->src_port == e->seg->dst_port &&
                                    r->seg->dst_port == e->seg->src_port));
    if (answered) {
        char flags[40];
        tcp_flags_str(r->seg->flags & ~TCP_PSH, flags, sizeof flags);
        snprintf(buf, len, "%s: answered with %s", e->text, flags);
    } else {
        snprintf(buf, len, "dropped: %s", e->text);
    }
}

static void add_entry(ladder *l, size_t i)
{
    const rlog_entry *e = rlog_at(l->log, i);
    char text[LADDER_LABEL_MAX];
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
        snprintf(text, sizeof text, "timer %s", tcp_timer_name((tcp_timer_kind)e->detail));
        add_side(l, IT_LNOTE, e->time_ns, e->host, text);
        break;
    case RLOG_RESTART: /* RFC 9293 §3.10.7.4: a repeated FIN restarts 2*MSL */
        snprintf(text, sizeof text, "%s restarted: 2*MSL from now",
                 tcp_timer_name((tcp_timer_kind)e->detail));
        add_side(l, IT_LNOTE, e->time_ns, e->host, text);
        break;
    case RLOG_ERROR:
        snprintf(text, sizeof text, "error %s", tcp_err_name(e->detail));
        add_side(l, IT_LNOTE, e->time_ns, e->host, text);
        break;
    case RLOG_REJECT:
        reject_label(l->log, i, text, sizeof text);
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
    case RLOG_RELEASE: /* the arrival shows it */
        break;
    case RLOG_KIND_COUNT:
        assert(!"RLOG_KIND_COUNT is not a kind");
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
            if (hs[k] != UINT32_MAX && hs[k] >= n && hs[k] < LADDER_LANES_MAX)
                n = hs[k] + 1u;
    }
    return (uint32_t)n;
}

/* Whether entry e is left out of a part: outside the window, or a segment
 * leaving without SYN, FIN or RST (what it leads to then has no start). */
static bool left_out(const rlog_entry *e, size_t i, uint64_t from_ns, uint64_t to_ns,
                     bool control_only)
{
    if (e->time_ns < from_ns || (to_ns && e->time_ns > to_ns))
        return true;
    bool leaves =
        e->kind == RLOG_SEND || e->kind == RLOG_DUP || (e->kind == RLOG_DROP && e->send_index == i);
    return control_only && leaves &&
           !(e->seg_ok && (e->seg->flags & (TCP_SYN | TCP_FIN | TCP_RST)));
}

void ladder_build(ladder *l, const rlog *log, bool relative)
{
    ladder_build_part(l, log, relative, 0, 0, false);
}

void ladder_build_part(ladder *l, const rlog *log, bool relative, uint64_t from_ns, uint64_t to_ns,
                       bool control_only)
{
    memset(l, 0, sizeof *l);
    l->log = log;
    l->relative = relative;
    l->nlanes = lane_count(log);
    size_t n = rlog_count(log);
    l->pkt_of = render_alloc(NULL, (n + 1) * sizeof *l->pkt_of);
    for (size_t i = 0; i < n; i++)
        l->pkt_of[i] = RLOG_NONE;
    find_sockets(l);
    for (size_t i = 0; i < n; i++)
        if (!left_out(rlog_at(log, i), i, from_ns, to_ns, control_only))
            add_entry(l, i);
}

void ladder_free(ladder *l)
{
    free(l->flows);
    free(l->items);
    free(l->pkts);
    free(l->pkt_of);
    free(l->socks);
    free(l->multi);
}

/* A segment drawn as one arrow: nothing else happened while it flew. */
bool ladder_is_whole(const ladder *l, const lad_pkt *p)
{
    (void)l;
    return p->end != RLOG_NONE && p->end == p->depart + 1;
}

/* The label with its marks: "SYN seq=100 (dup) (delayed)"; cut to fit buf. */
void ladder_full_label(const lad_pkt *p, char *buf, size_t n)
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
