/*
 * tcp_check — the invariants of tcp_check.h, checked after every event.
 *
 * The stack calls in at three places, all in tcp_stack.c: tcp_ev notes the
 * event being processed (segment in, timer, user call), tcp_ev_state checks
 * each transition, and tcp_stack_settle checks each connection an entry
 * point touched before the entry point returns. None of it allocates; with
 * checking off each hook is one test of a flag.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

#ifdef TCP_CHECK_DEFAULT_ON
#define CHECK_DEFAULT true
#else
#define CHECK_DEFAULT false
#endif

#define U   (1u << TCP_CAUSE_USER)
#define S   (1u << TCP_CAUSE_SEGMENT)
#define T   (1u << TCP_CAUSE_TIMER)
#define ANY (U | S | T)

/* Causes each edge of RFC 9293's diagram allows (0: not an edge). §3.3.2
 * draws the user calls (OPEN, SEND, CLOSE) and the segments; §3.10 adds
 * ABORT (user), RST (segment) and the user timeout / TIME_WAIT / keepalive
 * expiry (timer) towards CLOSED. Rows are `from`, columns `to`. */
static const uint8_t EDGE_CAUSES[TCP_STATE_COUNT][TCP_STATE_COUNT] = {
    [TCP_CLOSED] = {[TCP_LISTEN] = U, [TCP_SYN_SENT] = U},
    [TCP_LISTEN] = {[TCP_SYN_RECEIVED] = S, [TCP_SYN_SENT] = U, [TCP_CLOSED] = U},
    [TCP_SYN_SENT] = {[TCP_SYN_RECEIVED] = S, [TCP_ESTABLISHED] = S, [TCP_CLOSED] = ANY},
    [TCP_SYN_RECEIVED] = {[TCP_ESTABLISHED] = S,
                          [TCP_FIN_WAIT_1] = U,
                          [TCP_CLOSE_WAIT] = S,
                          [TCP_LISTEN] = S,
                          [TCP_CLOSED] = ANY},
    [TCP_ESTABLISHED] = {[TCP_FIN_WAIT_1] = U, [TCP_CLOSE_WAIT] = S, [TCP_CLOSED] = ANY},
    [TCP_FIN_WAIT_1] = {[TCP_FIN_WAIT_2] = S, [TCP_CLOSING] = S, [TCP_CLOSED] = ANY},
    [TCP_FIN_WAIT_2] = {[TCP_TIME_WAIT] = S, [TCP_CLOSED] = ANY},
    [TCP_CLOSE_WAIT] = {[TCP_LAST_ACK] = U, [TCP_CLOSED] = ANY},
    [TCP_CLOSING] = {[TCP_TIME_WAIT] = S, [TCP_CLOSED] = ANY},
    [TCP_LAST_ACK] = {[TCP_CLOSED] = ANY},
    [TCP_TIME_WAIT] = {[TCP_CLOSED] = ANY},
};

static const char *const INV_NAMES[TCP_CHECK_INV_COUNT] = {
    "SEQ_ORDER", "PENDING_TIMER", "STUCK", "TIME_WAIT", "EDGE", "SACK",
};

const char *tcp_check_name(tcp_check_inv inv)
{
    return (unsigned)inv < TCP_CHECK_INV_COUNT ? INV_NAMES[inv] : "?";
}

bool tcp_check_default(void)
{
    return CHECK_DEFAULT;
}

int tcp_check_enable(tcp_stack *s, bool on, tcp_check_fn fn, void *ctx)
{
    if (on && !s->check && !(s->check = calloc(1, sizeof *s->check)))
        return TCP_ENOMEM;
    s->check_on = on;
    if (s->check) {
        s->check->fn = fn;
        s->check->ctx = ctx;
        s->check->reported = false;
    }
    return 0;
}

bool tcp_check_enabled(const tcp_stack *s)
{
    return s->check_on;
}

static void addr_str(uint32_t a, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", (unsigned)(a >> 24), (unsigned)(a >> 16) & 255u,
             (unsigned)(a >> 8) & 255u, (unsigned)a & 255u);
}

int tcp_check_format(const tcp_check_report *r, char *buf, size_t len)
{
    char la[16], ra[16], states[48];
    addr_str(r->laddr, la, sizeof la);
    addr_str(r->raddr, ra, sizeof ra);
    if (r->inv == TCP_CHECK_EDGE)
        snprintf(states, sizeof states, "%s -> %s", tcp_state_name(r->from),
                 tcp_state_name(r->state));
    else
        snprintf(states, sizeof states, "in %s", tcp_state_name(r->state));
    return snprintf(buf, len,
                    "invariant %s violated: sock %" PRIu32 " %s:%u>%s:%u %s at t=%" PRIu64
                    "ns, after %s: %s",
                    tcp_check_name(r->inv), r->sock, la, (unsigned)r->lport, ra, (unsigned)r->rport,
                    states, r->time_ns, r->event, r->detail);
}

/* ---- The event being processed ---------------------------------------------- */

void tcp_check_event(tcp_conn *c, tcp_event_kind kind, int detail, const tcp_seg *seg)
{
    tcp_check_note(c->stack, c->id, kind, detail, seg);
}

void tcp_check_note(tcp_stack *s, tcp_sock_id id, tcp_event_kind kind, int detail,
                    const tcp_seg *seg)
{
    tcp_check_hook *k = s->check;
    if (!k || (kind != TCP_EV_SEG_IN && kind != TCP_EV_TIMER && kind != TCP_EV_USER))
        return;
    k->ev_set = true;
    k->ev_kind = kind;
    k->ev_detail = detail;
    k->ev_sock = id;
    k->ev_flags = seg ? seg->flags : 0;
    k->ev_seq = seg ? seg->seq : 0;
    k->ev_ack = seg ? seg->ack : 0;
    k->ev_len = seg ? seg->len : 0;
}

static void event_str(const tcp_check_hook *k, char *buf, size_t len)
{
    char flags[40];
    if (!k || !k->ev_set) {
        snprintf(buf, len, "no event (checked directly)");
    } else if (k->ev_kind == TCP_EV_SEG_IN) {
        tcp_flags_str(k->ev_flags, flags, sizeof flags);
        snprintf(buf, len,
                 "segment %s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32 " to sock %" PRIu32,
                 flags, k->ev_seq, k->ev_ack, k->ev_len, k->ev_sock);
    } else if (k->ev_kind == TCP_EV_TIMER) {
        snprintf(buf, len, "timer %s of sock %" PRIu32,
                 tcp_timer_name((tcp_timer_kind)k->ev_detail), k->ev_sock);
    } else {
        snprintf(buf, len, "user call %s on sock %" PRIu32,
                 tcp_user_call_name((tcp_user_call)k->ev_detail), k->ev_sock);
    }
}

static void report_init(const tcp_conn *c, tcp_check_inv inv, tcp_check_report *r)
{
    memset(r, 0, sizeof *r);
    r->inv = inv;
    r->time_ns = c->stack->now;
    r->sock = c->id;
    r->laddr = c->stack->addr;
    r->raddr = c->raddr;
    r->lport = c->lport;
    r->rport = c->rport;
    r->state = r->from = c->state;
    event_str(c->stack->check, r->event, sizeof r->event);
}

static void report(tcp_conn *c, const tcp_check_report *r)
{
    tcp_check_hook *k = c->stack->check;
    if (k && k->reported)
        return;
    if (k)
        k->reported = true;
    if (k && k->fn) {
        k->fn(k->ctx, r);
        return;
    }
    char line[512];
    tcp_check_format(r, line, sizeof line);
    fprintf(stderr, "tcp_check: %s\n", line);
    abort();
}

/* ---- Invariants 1 - 4 and 6: the connection as an entry point leaves it ------- */

static bool timer_armed(const tcp_conn *c, tcp_timer_kind k)
{
    return tcp_timer_at(c, k) != TCP_NEVER;
}

static bool any_timer(const tcp_conn *c)
{
    for (int k = 0; k < TCP_TIMER_COUNT; k++) {
        if (timer_armed(c, (tcp_timer_kind)k))
            return true;
    }
    return false;
}

static bool check_seq_order(const tcp_conn *c, tcp_check_report *r)
{
    if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
        return false;
    if (tcp_seq_le(c->snd_una, c->snd_nxt) && tcp_seq_le(c->snd_nxt, c->snd_max))
        return false;
    report_init(c, TCP_CHECK_SEQ_ORDER, r);
    snprintf(r->detail, sizeof r->detail,
             "SND.UNA <= SND.NXT <= SND.MAX does not hold: SND.UNA=%" PRIu32 " SND.NXT=%" PRIu32
             " SND.MAX=%" PRIu32,
             c->snd_una, c->snd_nxt, c->snd_max);
    return true;
}

/* What is still owed to the peer: bytes or a SYN/FIN sent and not yet
 * acknowledged, bytes not yet sent, or a FIN not yet sent or acknowledged. */
static const char *pending(const tcp_conn *c)
{
    if (c->snd_una != c->snd_max)
        return "unacknowledged sequence space";
    if (tcp_seq_lt(c->snd_max, tcp_snd_data_end(c)))
        return "unsent data";
    if (c->fin_queued && !tcp_fin_acked(c))
        return "a FIN to send or to be acknowledged";
    return NULL;
}

static bool check_pending_timer(const tcp_conn *c, tcp_check_report *r)
{
    if (c->state == TCP_CLOSED || c->state == TCP_LISTEN || c->state == TCP_TIME_WAIT)
        return false;
    const char *what = pending(c);
    if (!what || timer_armed(c, TCP_TIMER_RTX) || timer_armed(c, TCP_TIMER_PERSIST))
        return false;
    report_init(c, TCP_CHECK_PENDING_TIMER, r);
    snprintf(r->detail, sizeof r->detail,
             "%s and neither the retransmission nor the persist timer is armed (SND.UNA=%" PRIu32
             " SND.NXT=%" PRIu32 " SND.MAX=%" PRIu32 ", %" PRIu32 " bytes queued)",
             what, c->snd_una, c->snd_nxt, c->snd_max, c->sndq.len);
    return true;
}

/* States the connection's owner can still move on with a call. */
static bool user_can_move(const tcp_conn *c)
{
    bool owner = c->user_held || c->in_accept_q;
    switch (c->state) {
    case TCP_LISTEN:
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT_2: /* after shutdown(): close() starts the orphan timeout */
        return owner;
    default:
        return false;
    }
}

static bool check_stuck(const tcp_conn *c, tcp_check_report *r)
{
    if (c->state == TCP_CLOSED || any_timer(c) || user_can_move(c))
        return false;
    /* RFC 9293 §3.10.7.4 gives FIN-WAIT-2 no timer: an orphan waits for the
     * peer's FIN, unless the profile has an orphan timeout. */
    if (c->state == TCP_FIN_WAIT_2 && c->stack->profile->fin_wait_2_timeout_ns == 0)
        return false;
    report_init(c, TCP_CHECK_STUCK, r);
    snprintf(r->detail, sizeof r->detail, "no timer is armed and no user call can move it (%s)",
             c->user_held ? "the user holds it" : "orphan");
    return true;
}

static bool other_timer(const tcp_conn *c)
{
    for (int k = 0; k < TCP_TIMER_COUNT; k++) {
        if (k != TCP_TIMER_TIME_WAIT && timer_armed(c, (tcp_timer_kind)k))
            return true;
    }
    return false;
}

static bool tw_restart_allowed(const tcp_conn *c)
{
    const tcp_check_hook *k = c->stack->check;
    if (!k || !k->ev_set || k->ev_kind != TCP_EV_SEG_IN || k->ev_sock != c->id)
        return false;
    if (k->ev_flags & TCP_FIN) /* RFC 9293 §3.10.7.4: a retransmitted FIN */
        return true;
    const tcp_profile *p = c->stack->profile;
    /* Linux: a SYN refused by PAWS (tcp_timewait_state_process) */
    if ((k->ev_flags & TCP_SYN) && p->tw_syn == TCP_TW_SYN_ACCEPT_NEWER_TS)
        return p->tw_restart_on_ack;
    return (k->ev_flags & TCP_ACK) && p->tw_restart_on_ack;
}

static bool check_time_wait(const tcp_conn *c, tcp_check_report *r)
{
    if (c->state != TCP_TIME_WAIT)
        return false;
    uint64_t at = tcp_timer_at(c, TCP_TIMER_TIME_WAIT), now = c->stack->now;
    /* The length as the deadline tcp_after gives it: on the profile's
     * timer wheel, rounded up (tcp_wheel.h). */
    uint64_t len = tcp_after(c, tcp_time_wait_ns(c)) - now;
    const char *why = NULL;
    if (other_timer(c))
        why = "a timer other than TIME_WAIT is armed";
    else if (at == TCP_NEVER) {
        why = "the TIME_WAIT timer is not armed";
    } else if (at - now > len) {
        why = "the TIME_WAIT timer is due later than the profile's TIME_WAIT length";
    } else if (at != c->check_tw_at && !tw_restart_allowed(c)) {
        why = "the TIME_WAIT timer was restarted by an event the profile does not restart on";
    } else if (at != c->check_tw_at && at - now != len) {
        why = "the TIME_WAIT timer was restarted to other than the profile's length";
    }
    if (!why)
        return false;
    report_init(c, TCP_CHECK_TIME_WAIT, r);
    snprintf(r->detail, sizeof r->detail, "%s (due in %" PRIu64 "ns, length %" PRIu64 "ns)", why,
             at == TCP_NEVER ? 0 : at - now, len);
    return true;
}

/* Whether every octet of [s, e) is held out of order: in a range held or,
 * where the profile's blocks count it (sack_fin), the octet of a FIN held
 * out of order (Linux's out-of-order queue holds the FIN's skb, its end_seq
 * counting the FIN), which may join two ranges: data past it extends its
 * block (tcp_sack_extend). */
static bool held(const tcp_conn *c, uint32_t s, uint32_t e)
{
    bool fin = tcp_sack_fin_held(c);
    for (uint32_t at = s; tcp_seq_lt(at, e);) {
        uint32_t next = at;
        for (unsigned j = 0; j < c->ooo_n; j++) {
            if (tcp_seq_le(c->ooo->start[j], at) && tcp_seq_lt(at, c->ooo->end[j]))
                next = c->ooo->end[j];
        }
        if (next == at && fin && at == c->peer_fin_seq)
            next = at + 1u;
        if (next == at)
            return false;
        at = next;
    }
    return true;
}

/* Invariant 6: what is wrong with the SACK blocks, or NULL. */
static const char *sack_wrong(const tcp_conn *c, unsigned *bad)
{
    const tcp_ooo *o = c->ooo;
    *bad = 0;
    if (o && o->dsack) {
        /* RFC 2883 §4: octets received twice, below RCV.NXT or held */
        if (!tcp_sack_agreed(c) || c->stack->profile->dsack == TCP_DSACK_NONE)
            return "a D-SACK block where the connection sends none";
        if (!tcp_seq_lt(o->dsack_start, o->dsack_end))
            return "an empty D-SACK block";
        if (tcp_seq_gt(o->dsack_end, c->rcv_nxt) && !held(c, o->dsack_start, o->dsack_end))
            return "a D-SACK block over octets neither below RCV.NXT nor held (RFC 2883 §4)";
    }
    if (!o || o->nsack == 0)
        return NULL;
    if (o->nsack > TCP_SACK_BLOCKS)
        return "more blocks kept than TCP_SACK_BLOCKS";
    if (!tcp_sack_agreed(c))
        return "blocks kept on a connection that did not agree SACK (RFC 2018 §2)";
    if (tcp_sack_count(c) > (c->ts_ok ? 3u : 4u))
        return "more blocks carried than the option has room for (RFC 2018 §3)";
    for (unsigned i = 0; i < o->nsack; i++) {
        uint32_t s = o->sack_start[i], e = o->sack_end[i];
        *bad = i;
        if (!tcp_seq_lt(s, e))
            return "an empty block";
        if (!tcp_seq_gt(s, c->rcv_nxt))
            return "a block not above RCV.NXT";
        if (tcp_seq_gt(e, c->rcv_adv))
            return "a block past the right edge of the window offered";
        if (!held(c, s, e))
            return "a block over octets not held out of order";
        for (unsigned j = 0; j < i; j++) {
            if (tcp_seq_lt(s, o->sack_end[j]) && tcp_seq_lt(o->sack_start[j], e))
                return "two blocks overlap";
        }
    }
    *bad = 0;
    if (tcp_seq_gt(o->last_start, c->rcv_nxt) &&
        !(tcp_seq_le(o->sack_start[0], o->last_start) && tcp_seq_le(o->last_end, o->sack_end[0])))
        return "the first block does not hold the segment last held out of order (RFC 2018 §4)";
    return NULL;
}

static bool check_sack(const tcp_conn *c, tcp_check_report *r)
{
    unsigned i;
    const char *why = sack_wrong(c, &i);
    if (!why)
        return false;
    const tcp_ooo *o = c->ooo;
    report_init(c, TCP_CHECK_SACK, r);
    snprintf(r->detail, sizeof r->detail,
             "%s (block %u of %u: %" PRIu32 "-%" PRIu32 ", RCV.NXT=%" PRIu32 " right edge=%" PRIu32
             ", last held %" PRIu32 "-%" PRIu32 ")",
             why, i, (unsigned)o->nsack, o->sack_start[i], o->sack_end[i], c->rcv_nxt, c->rcv_adv,
             o->last_start, o->last_end);
    return true;
}

bool tcp_check_conn(const tcp_conn *c, tcp_check_report *r)
{
    if (c->passive && c->state == TCP_LISTEN)
        return false; /* a child sent back to LISTEN: reclaimed on settle */
    return check_seq_order(c, r) || check_pending_timer(c, r) || check_time_wait(c, r) ||
           check_stuck(c, r) || check_sack(c, r);
}

void tcp_check_after(tcp_conn *c)
{
    tcp_check_report r;
    if (tcp_check_conn(c, &r))
        report(c, &r);
    if (c->state == TCP_TIME_WAIT)
        c->check_tw_at = tcp_timer_at(c, TCP_TIMER_TIME_WAIT);
}

/* ---- Invariant 5: each transition ---------------------------------------------- */

/* The profile's part of the diagram: edges that exist in some profiles only. */
static const char *profile_refuses(const tcp_conn *c, tcp_state from, tcp_state to, tcp_cause cause,
                                   const tcp_seg *seg)
{
    const tcp_profile *p = c->stack->profile;
    if (from == TCP_FIN_WAIT_2 && to == TCP_CLOSED && cause == TCP_CAUSE_TIMER &&
        p->fin_wait_2_timeout_ns == 0 && !c->keepalive)
        return "the profile has no FIN_WAIT_2 timeout and keepalive is off";
    if (from != TCP_TIME_WAIT || to != TCP_CLOSED || cause != TCP_CAUSE_SEGMENT || !seg)
        return NULL;
    if ((seg->flags & TCP_RST) && p->tw_rst != TCP_TW_RST_CLOSE)
        return "the profile ignores RSTs in TIME_WAIT (RFC 1337)";
    if (!(seg->flags & TCP_RST) && (seg->flags & TCP_SYN) && p->tw_syn == TCP_TW_SYN_CHALLENGE)
        return "the profile answers a SYN in TIME_WAIT with a challenge ACK";
    if (!(seg->flags & (TCP_RST | TCP_SYN)))
        return "only an RST or a SYN can end TIME_WAIT";
    return NULL;
}

bool tcp_check_edge(const tcp_conn *c, tcp_state from, tcp_state to, tcp_cause cause,
                    const tcp_seg *seg, tcp_check_report *r)
{
    const char *why = NULL;
    if ((unsigned)from >= TCP_STATE_COUNT || (unsigned)to >= TCP_STATE_COUNT ||
        !EDGE_CAUSES[from][to])
        why = "not an edge of RFC 9293's diagram";
    else if (!(EDGE_CAUSES[from][to] & (1u << cause)))
        why = "RFC 9293's diagram does not take this edge on this cause";
    else
        why = profile_refuses(c, from, to, cause, seg);
    if (!why)
        return false;
    report_init(c, TCP_CHECK_EDGE, r);
    r->from = from;
    r->state = to;
    snprintf(r->detail, sizeof r->detail, "%s -> %s caused by a %s: %s", tcp_state_name(from),
             tcp_state_name(to), tcp_cause_name(cause), why);
    return true;
}

void tcp_check_transition(tcp_conn *c, tcp_state from, tcp_cause cause, const tcp_seg *seg)
{
    if (c->state == TCP_TIME_WAIT)
        c->check_tw_at = tcp_timer_at(c, TCP_TIMER_TIME_WAIT);
    if (!c->stack->check_on)
        return;
    tcp_check_report r;
    if (tcp_check_edge(c, from, c->state, cause, seg, &r))
        report(c, &r);
}
