/*
 * exp_run — one run under a schedule: the probe that numbers decision
 * points and applies the faults (explore.h rule 1), the coverage and byte
 * streams it records from stack events, and the invariants checked when
 * the run is over.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_int.h"
#include "explore.h"

/* The bytes one socket sent, by stream offset (from its SEG_OUT events). */
struct exp_stream {
    uint32_t net, host;
    tcp_sock_id sock;
    uint32_t isn;
    uint8_t *buf;
    size_t len;
    uint32_t cap;
};

/* One decision point (describe only): for counting as a `last` rule. */
struct exp_out {
    uint32_t net, link;
    int dir;
    uint8_t flags;
    uint32_t len;
};

void exp_run_init(exp_run *r, const exp_schedule *s, uint64_t settle_ns)
{
    memset(r, 0, sizeof *r);
    if (s)
        r->sched = *s;
    r->settle_ns = settle_ns;
}

void exp_run_free(exp_run *r)
{
    for (uint32_t i = 0; i < r->nstreams; i++)
        free(r->streams[i].buf);
    free(r->streams);
    r->streams = NULL;
    r->nstreams = r->capstreams = 0;
    free(r->outs);
    r->outs = NULL;
    r->nouts = r->capouts = 0;
}

void exp_run_fail(exp_run *r, exp_inv inv, const char *fmt, ...)
{
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg, sizeof r->msg, fmt, ap);
        va_end(ap);
    }
    r->failed |= 1u << inv;
}

/* ---- The probe: decision points and faults ---- */

static void release_due(sim_timer *t, void *arg)
{
    (void)t;
    struct exp_netref *ref = arg;
    exp_run *r = ref->run;
    net *n = r->nets[ref->index];
    uint32_t keep = 0;
    for (uint32_t i = 0; i < r->nheld; i++) {
        struct exp_held *h = &r->held[i];
        if (h->net == n && h->due) {
            sim_link *l = sim_link_by_id(net_world(n), h->link);
            sim_link_release(l, 0, h->packet);
            sim_link_release(l, 1, h->packet);
        } else {
            r->held[keep++] = *h;
        }
    }
    r->nheld = keep;
}

/* A segment entering (link, dir) frees what waits for that direction: the
 * release runs after this segment has been queued, so it goes first. */
static void wake_held(exp_run *r, uint32_t index, const net_seg_view *v)
{
    net *n = r->nets[index];
    bool any = false;
    for (uint32_t i = 0; i < r->nheld; i++) {
        struct exp_held *h = &r->held[i];
        if (h->net == n && !h->due && h->link == v->link && h->dir == v->dir) {
            h->due = true;
            any = true;
        }
    }
    if (any)
        sim_world_arm_in(net_world(n), &r->release[index], 0);
}

/* Names the segment of fault number r->applied (describe) as a rule made
 * with the link with `last` counts it: the decision points its sender put
 * on the link with these flags and length (this one included), less those
 * an earlier fault's rule, also last, took. */
static void describe(exp_run *r, uint32_t index, const net_seg_view *v, exp_kind k)
{
    net *n = r->nets[index];
    sim_link *l = sim_link_by_id(net_world(n), v->link);
    const sim_host *from = sim_link_host(l, v->dir), *to = sim_link_host(l, 1 - v->dir);
    exp_fault_desc *d = &r->desc[r->applied];
    memset(d, 0, sizeof *d);
    d->net = index;
    d->link = v->link;
    snprintf(d->from, sizeof d->from, "%s", sim_host_name(from));
    snprintf(d->to, sizeof d->to, "%s", sim_host_name(to));
    d->flags = v->seg->flags & (uint8_t)~TCP_PSH;
    d->len = v->seg->len;
    d->kind = (uint8_t)k;
    for (uint32_t i = 0; i < r->nouts; i++)
        d->nth += r->outs[i].net == index && r->outs[i].link == v->link &&
                  r->outs[i].dir == v->dir && r->outs[i].flags == d->flags &&
                  r->outs[i].len == d->len;
    for (uint32_t i = 0; i < r->applied; i++) /* an earlier rule took these */
        d->nth -= r->desc[i].net == index && r->desc[i].link == d->link &&
                  strcmp(r->desc[i].from, d->from) == 0 && r->desc[i].flags == d->flags &&
                  r->desc[i].len == d->len;
}

static void note_point(exp_run *r, uint32_t index, const net_seg_view *v)
{
    r->outs = exp_grow(r->outs, &r->capouts, r->nouts + 1, sizeof *r->outs);
    r->outs[r->nouts++] =
        (exp_out){index, v->link, v->dir, v->seg->flags & (uint8_t)~TCP_PSH, v->seg->len};
}

static sim_fault_verdict apply(exp_run *r, uint32_t index, const net_seg_view *v, exp_kind k)
{
    if (r->describe)
        describe(r, index, v, k);
    r->applied++;
    switch (k) {
    case EXP_DROP:
        return (sim_fault_verdict){SIM_FAULT_DROP, 0, 0};
    case EXP_DUP:
        return (sim_fault_verdict){SIM_FAULT_DUPLICATE, 0, 1};
    case EXP_DELAY:
    case EXP_REORDER:
        if (r->nheld == EXP_HELD_MAX)
            break;
        r->held[r->nheld++] = (struct exp_held){r->nets[index], v->link, v->packet->id,
                                                k == EXP_DELAY ? v->dir : 1 - v->dir, false};
        return (sim_fault_verdict){SIM_FAULT_HOLD, 0, 0};
    case EXP_KIND_COUNT:
        break;
    }
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

/* A swarm run's draw at this point (exp_swarm.h rule 4): one draw per
 * point whatever it gives, so a rate moves no later point's draw. */
static int draw_fault(exp_run *r)
{
    uint64_t u = sim_rng_below(&r->rng, SIM_PPB_ONE), sum = 0;
    for (int k = 0; k < EXP_KIND_COUNT; k++) {
        sum += r->rate_ppb[k];
        if (u < sum)
            return k;
    }
    return -1;
}

/* Adds a drawn fault to the schedule at the place of the next one, so the
 * schedule stays in point order and is the run's own (else overflow). */
static void record_drawn(exp_run *r, int k)
{
    r->drawn++;
    if (r->sched.n == EXP_FAULTS_MAX) {
        r->overflow = true;
        return;
    }
    exp_fault *at = &r->sched.f[r->next];
    memmove(at + 1, at, (r->sched.n - r->next) * sizeof *at);
    *at = (exp_fault){r->npoints, (uint8_t)k};
    r->sched.n++;
    r->next++;
}

int exp_run_point(exp_run *r)
{
    r->npoints++;
    if (r->tree)
        exp_fork_point(r);
    int drawn = r->rates ? draw_fault(r) : -1;
    if (r->next < r->sched.n && r->sched.f[r->next].point == r->npoints)
        return r->sched.f[r->next++].kind;
    if (drawn >= 0)
        record_drawn(r, drawn);
    return drawn;
}

static sim_fault_verdict probe_decide(void *ctx, const net_seg_view *v)
{
    struct exp_netref *ref = ctx;
    exp_run *r = ref->run;
    wake_held(r, ref->index, v);
    if (r->describe)
        note_point(r, ref->index, v);
    int k = exp_run_point(r);
    if (k >= 0)
        return apply(r, ref->index, v, (exp_kind)k);
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

/* ---- Stack events: coverage and byte streams ---- */

static int seg_kind(const tcp_seg *s)
{
    if (s->flags & TCP_RST)
        return EXP_SEG_RST;
    if (s->flags & TCP_SYN)
        return s->flags & TCP_ACK ? EXP_SEG_SYNACK : EXP_SEG_SYN;
    if (s->flags & TCP_FIN)
        return EXP_SEG_FIN;
    if (s->len)
        return EXP_SEG_DATA;
    return s->flags & TCP_ACK ? EXP_SEG_ACK : EXP_SEG_OTHER;
}

static exp_stream *stream_of(exp_run *r, uint32_t index, uint32_t host, tcp_sock_id sock, bool make)
{
    for (uint32_t i = 0; i < r->nstreams; i++) {
        exp_stream *s = &r->streams[i];
        if (s->net == index && s->host == host && s->sock == sock)
            return s;
    }
    if (!make)
        return NULL;
    r->streams = exp_grow(r->streams, &r->capstreams, r->nstreams + 1, sizeof *r->streams);
    exp_stream *s = &r->streams[r->nstreams++];
    memset(s, 0, sizeof *s);
    s->net = index;
    s->host = host;
    s->sock = sock;
    return s;
}

/* Keeps the payload of an outgoing segment at its stream offset; a
 * retransmission must carry the same bytes as the first sending. */
static void stream_out(exp_run *r, uint32_t index, uint32_t host, const tcp_event *ev)
{
    const tcp_seg *g = ev->seg;
    exp_stream *s = stream_of(r, index, host, ev->sock, (g->flags & TCP_SYN) != 0);
    if (!s)
        return;
    if (g->flags & TCP_SYN) {
        s->isn = g->seq;
        s->len = 0;
    }
    if (!g->len)
        return;
    size_t off = (uint32_t)(g->seq + ((g->flags & TCP_SYN) ? 1u : 0u) - s->isn - 1u);
    if (off > (size_t)1 << 30)
        return;
    size_t end = off + g->len;
    s->buf = exp_grow(s->buf, &s->cap, (uint32_t)end, 1); /* end < 2^31: off is bounded */
    size_t same = s->len > off ? (s->len < end ? s->len : end) - off : 0;
    if (same && memcmp(s->buf + off, g->payload, same) != 0)
        exp_run_fail(r, EXP_INV_DATA, "host %u socket %u resent bytes at offset %zu that differ",
                     (unsigned)host, (unsigned)ev->sock, off);
    memcpy(s->buf + off, g->payload, g->len);
    if (end > s->len)
        s->len = end;
}

static void probe_event(void *ctx, uint32_t host, const tcp_event *ev)
{
    struct exp_netref *ref = ctx;
    exp_run *r = ref->run;
    if (ev->kind == TCP_EV_SEG_IN && ev->sock && ev->seg && ev->from < EXP_STATES)
        r->cov.seg[ev->from][seg_kind(ev->seg)] = 1;
    else if (ev->kind == TCP_EV_STATE && ev->from < EXP_STATES && ev->to < EXP_STATES &&
             ev->cause < EXP_CAUSES)
        r->cov.edge[ev->from][ev->to][ev->cause] = 1;
    else if (ev->kind == TCP_EV_SEG_OUT && ev->seg && ev->sock)
        stream_out(r, ref->index, host, ev);
}

void exp_run_attach(exp_run *r, net *n)
{
    if (r->nnets == EXP_NETS_MAX) {
        exp_run_fail(r, EXP_INV_LIMIT, "more than %d simulations in one run", EXP_NETS_MAX);
        return;
    }
    uint32_t i = r->nnets++;
    r->nets[i] = n;
    if (i == 0 && r->rates)
        sim_world_rng(net_world(n), &r->rng, "swarm:faults");
    r->refs[i] = (struct exp_netref){r, i};
    sim_timer_init(&r->release[i], release_due, &r->refs[i]);
    net_probe p = {&r->refs[i], probe_decide, probe_event};
    net_set_probe(n, &p);
    /* The stack's own invariants, after every event. */
    if (net_set_check(n, true) < 0)
        exp_run_fail(r, EXP_INV_LIMIT, "out of memory for the stacks' checkers");
}

/* ---- The end of the run: settle, then the invariants ---- */

/* The record at the other end of k's connection, or NET_NONE. */
static uint32_t peer_of(const net *n, const net_sock *k)
{
    if (!k->rport)
        return NET_NONE;
    for (uint32_t i = 0; i < net_sock_count(n); i++) {
        const net_sock *p = net_sock_at(n, i);
        if (p != k && p->lport == k->rport && p->rport == k->lport && p->host != k->host &&
            p->raddr == sim_host_addr(net_host_sim(n, k->host)))
            return i;
    }
    return NET_NONE;
}

/* Waiting for its user: nothing the stack can do alone (the user has not
 * closed it), so the state may last (RFC 9293 §3.6). */
static bool waits_for_user(const net_sock *k)
{
    return !k->released &&
           (k->state == TCP_LISTEN || k->state == TCP_ESTABLISHED || k->state == TCP_CLOSE_WAIT);
}

/* A state that may last once the run has settled: CLOSED; waiting for the
 * user; FIN_WAIT_1 behind a window the peer's user does not open by
 * reading (RFC 9293 §3.8.6.1: a zero window never times out); FIN_WAIT_2
 * while the peer's user has not closed, or for good under a profile with
 * no FIN_WAIT_2 timeout (RFC 9293 sets none). */
static bool settled(const net *n, const net_sock *k)
{
    if (k->state == TCP_CLOSED || waits_for_user(k))
        return true;
    uint32_t pi = peer_of(n, k);
    const net_sock *p = pi == NET_NONE ? NULL : net_sock_at(n, pi);
    bool peer_waits = p && waits_for_user(p);
    if (k->state == TCP_FIN_WAIT_1)
        return peer_waits && net_readable(n, pi) > 0;
    if (k->state == TCP_FIN_WAIT_2)
        return peer_waits || net_host_profile(n, k->host)->fin_wait_2_timeout_ns == 0;
    return false;
}

static bool saw_fin(const net_sock *k)
{
    for (uint32_t i = 0; i < k->ntrace; i++) {
        tcp_state st = net_sock_step(k, i)->state;
        if (st == TCP_CLOSE_WAIT || st == TCP_CLOSING || st == TCP_TIME_WAIT)
            return true;
    }
    return false;
}

/* Bytes read are a prefix of the bytes the peer sent (exactly once, in
 * order); after the peer's FIN, with autoread, all of them. The second
 * rule is a reader's: a listener's child gets autoread at accept(), so one
 * never accepted, which no one could read, is held only to the first; so
 * is one whose user shut its read side (shutdown(SHUT_RD) is not an RFC
 * 9293 call; what comes after it is each system's: bsd drops it). */
static void check_data(exp_run *r, uint32_t index, const net_sock *k)
{
    const net *n = r->nets[index];
    uint32_t pi = peer_of(n, k);
    if (pi == NET_NONE)
        return;
    const net_sock *p = net_sock_at(n, pi);
    exp_stream *s = stream_of(r, index, p->host, p->id, false);
    size_t sent = s ? s->len : 0;
    const char *who = sim_host_name(net_host_sim(n, k->host));
    /* A net that keeps no bytes read (tcpsim.new{keep_received = false})
     * has only their count to check. */
    bool kept = net_keeps_rx(n);
    size_t common = k->nrx < sent ? k->nrx : sent;
    if (kept && common && memcmp(k->rx, s->buf, common) != 0) {
        size_t at = 0; /* the first byte read that differs from the one sent */
        while (k->rx[at] == (char)s->buf[at])
            at++;
        exp_run_fail(r, EXP_INV_DATA, "%s:%u read %zu bytes; they differ from the %zu sent at %zu",
                     who, (unsigned)k->lport, k->nrx, sent, at);
    } else if (k->nrx > sent) {
        /* Every byte sent was read (or, not kept, only the count is known)
         * and more besides: nothing differs, the reader got extra bytes. */
        exp_run_fail(r, EXP_INV_DATA, "%s:%u read %zu bytes, %zu more than the %zu sent", who,
                     (unsigned)k->lport, k->nrx, k->nrx - sent, sent);
    } else if (k->autoread && !k->rd_shut && !k->error && saw_fin(k) && k->nrx != sent) {
        exp_run_fail(r, EXP_INV_DATA, "%s:%u got the FIN after %zu of %zu bytes", who,
                     (unsigned)k->lport, k->nrx, sent);
    }
}

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

static void check_net(exp_run *r, uint32_t index)
{
    net *n = r->nets[index];
    for (uint32_t i = 0; i < net_sock_count(n); i++) {
        const net_sock *k = net_sock_at(n, i);
        for (uint32_t t = 0; t < k->ntrace; t++)
            r->outcome = hash_mix(r->outcome, net_sock_step(k, t)->state);
        r->outcome = hash_mix(r->outcome, (uint64_t)(int64_t)k->error);
        if (!settled(n, k))
            exp_run_fail(r, EXP_INV_STUCK, "%s:%u still in %s after the run settled",
                         sim_host_name(net_host_sim(n, k->host)), (unsigned)k->lport,
                         tcp_state_name(k->state));
        check_data(r, index, k);
    }
}

void exp_run_finish(exp_run *r)
{
    r->outcome = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < r->nnets; i++) {
        net *n = r->nets[i];
        sim_world *w = net_world(n);
        for (uint32_t h = 0; h < r->nheld; h++)
            r->held[h].due = r->held[h].net == n;
        release_due(&r->release[i], &r->refs[i]);
        if (net_error(n))
            exp_run_fail(r, EXP_INV_STACK, "%s", net_error(n));
        if (net_halted(n))
            continue; /* the caller's run failed: nothing more runs */
        sim_world_cancel(w, &r->release[i]);
        sim_time_t now = sim_world_now(w);
        sim_run_result rr = sim_world_run_until_time(w, now + r->settle_ns);
        if (rr == SIM_RUN_LIMIT_EVENTS || rr == SIM_RUN_LIMIT_TIME)
            exp_run_fail(r, EXP_INV_LIMIT, "settling: %s", sim_world_error(w));
        if (net_error(n))
            exp_run_fail(r, EXP_INV_STACK, "%s", net_error(n));
        check_net(r, i);
        net_set_probe(n, NULL);
    }
}
