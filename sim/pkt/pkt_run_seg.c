/*
 * pkt_run_seg — the script's segments on the wire. Inbound ones are built
 * with the script's option bytes (TS ecr and SACK blocks mapped to the
 * stack's numbers) and sent by the raw peer; outbound ones are the next
 * datagram the peer received, mapped into the script's sequence space and
 * compared as packetdrill does (pkt_seg_mismatch: flags with PSH, seq, ack,
 * length, window and options when written; a timestamp's values are
 * mapped, and its val compared only with --tcp_ts_tick_usecs), and the
 * time within the tolerance.
 */
#include <stdio.h>
#include <string.h>

#include "pkt_run_int.h"

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void wr32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* Script ack/SACK numbers -> the stack's (our ISN as the stack chose it). */
static uint32_t ack_offset(const run *r)
{
    return r->have_isn ? r->live_isn - r->script_isn : 0;
}

/* Rewrites TS ecr and SACK blocks of inbound option bytes. Returns 0, or
 * -1 with the run failed (no outbound TS val to map an ecr to). */
static int map_inbound_opts(run *r, const pkt_event *ev, uint8_t *o, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint8_t kind = o[i];
        if (kind == TCP_KIND_EOL)
            break;
        if (kind == TCP_KIND_NOP || i + 1 >= len || o[i + 1] < 2) {
            i++;
            continue;
        }
        uint8_t olen = o[i + 1];
        if (kind == TCP_KIND_TS && olen == 10 && (ev->u.seg.flags & TCP_ACK)) {
            uint32_t ecr = rd32(o + i + 6), live = 0;
            bool found = false;
            for (uint32_t k = 0; k < r->nts && !found; k++)
                if (r->ts_script[k] == ecr) {
                    live = r->ts_live[k];
                    found = true;
                }
            if (!found) {
                run_fail(r, PKT_RUN_NOT_RUN, ev,
                         "unable to infer live TS ecr for script TS ecr %u; no matching or "
                         "preceding outbound TS val",
                         ecr);
                return -1;
            }
            wr32(o + i + 6, live);
        } else if (kind == TCP_KIND_SACK) {
            for (size_t b = i + 2; b + 8 <= i + olen && b + 8 <= len; b += 4)
                wr32(o + b, rd32(o + b) + ack_offset(r));
        }
        i += olen;
    }
    return 0;
}

void run_inject(run *r, const pkt_event *ev)
{
    const pkt_seg *ps = &ev->u.seg;
    if ((ps->flags & TCP_SYN) && !(ps->flags & TCP_ACK) && r->await_child) {
        r->await_child = false; /* a new connection under test */
        r->have_isn = false;
        r->nts = 0;
        r->have_ts = false;
    }
    uint8_t opts[PKT_OPT_BYTES];
    size_t optlen = ps->has_opts ? ps->opts.len : 0;
    memcpy(opts, ps->opts.bytes, optlen);
    if (map_inbound_opts(r, ev, opts, optlen) != 0)
        return;
    tcp_seg seg = {.src_addr = r->remote_ip,
                   .dst_addr = r->local_ip,
                   .src_port = ps->src_port ? ps->src_port : r->rport,
                   .dst_port = ps->dst_port ? ps->dst_port : r->lport,
                   .seq = ps->seq,
                   .ack = (ps->flags & TCP_ACK) ? ps->ack + ack_offset(r) : 0,
                   .flags = ps->flags,
                   .wnd = ps->win,
                   .urg = ps->urg,
                   .len = ps->len};
    if (!seg.src_port)
        seg.src_port = RUN_PEER_PORT;
    if (!seg.dst_port)
        seg.dst_port = r->bind_port;
    size_t n = net_peer_encode(&seg, opts, optlen, r->scratch, RUN_SCRATCH);
    if (n == 0 || net_peer_send(r->peer, r->scratch, n) != 0)
        run_fail(r, PKT_RUN_NOT_RUN, ev, "segment does not fit one IPv4 datagram");
}

/* ---- Outbound ---- */

typedef struct live_seg {
    uint64_t time_ns;
    tcp_seg seg;
    pkt_seg ps; /* in the script's space */
} live_seg;

static bool seg_queued(void *arg)
{
    const run *r = arg;
    return net_peer_queued(r->peer) > 0;
}

static bool blocked_or_queued(void *arg)
{
    run *r = arg;
    if (r->blk.active && !r->blk.done && run_blocked_poll(r))
        return true;
    return seg_queued(arg);
}

/* Waits until the peer holds a datagram or `deadline`; a blocking call
 * that returns meanwhile is checked on the way. */
static bool wait_segment(run *r, uint64_t deadline)
{
    sim_world *w = net_world(r->n);
    for (;;) {
        if (seg_queued(r))
            return true;
        sim_run_result rr = sim_world_run_until(w, blocked_or_queued, r, deadline);
        if (r->blk.active && r->blk.done) {
            run_blocked_check(r);
            if (r->verdict != PKT_RUN_PASS)
                return false;
            continue;
        }
        if (rr == SIM_RUN_IDLE && sim_world_now(w) < deadline)
            sim_world_run_until_time(w, deadline); /* nothing left to happen */
        return seg_queued(r);
    }
}

/* Learns our ISN and the TS val mapping from a segment the stack sent. */
static void learn(run *r, const pkt_seg *want, const tcp_seg *seg)
{
    if ((seg->flags & TCP_SYN) && (want->flags & TCP_SYN) &&
        (!r->have_isn || !(seg->flags & TCP_ACK))) {
        r->have_isn = true;
        r->live_isn = seg->seq;
        r->script_isn = want->seq;
    }
    pkt_opt_table t;
    if (!seg->has_ts || !want->has_opts || want->opts.any ||
        pkt_opts_to_table(&want->opts, &t) != 0 || !t.has_ts)
        return;
    if (!r->have_ts) {
        r->have_ts = true;
        r->first_script_ts = t.ts_val;
        r->first_live_ts = seg->ts_val;
    }
    /* packetdrill's set_outbound_ts_val_mapping: a hash map set for each
     * segment, one entry per script val holding the latest live val
     * (hash_map_set). The table keeps the RUN_TS_MAP vals set last: an
     * entry set again moves to the end, and a full table lets its oldest
     * go (overwriting the last slot lost the val set just before). */
    uint32_t k = 0;
    while (k < r->nts && r->ts_script[k] != t.ts_val)
        k++;
    if (k == r->nts && r->nts == RUN_TS_MAP)
        k = 0;
    if (k < r->nts) {
        uint32_t after = r->nts - k - 1;
        memmove(r->ts_script + k, r->ts_script + k + 1, after * sizeof r->ts_script[0]);
        memmove(r->ts_live + k, r->ts_live + k + 1, after * sizeof r->ts_live[0]);
        r->nts--;
    }
    r->ts_script[r->nts] = t.ts_val;
    r->ts_live[r->nts] = seg->ts_val;
    r->nts++;
}

/* Where the TS option's val starts in option bytes; -1 without one (or
 * past a malformed option: pkt_opt_len). */
static int ts_val_at(const pkt_opts *o)
{
    for (size_t i = 0; i < o->len && o->bytes[i] != TCP_KIND_EOL;) {
        size_t n = pkt_opt_len(o->bytes + i, o->len - i);
        if (n == 0)
            break;
        if (o->bytes[i] == TCP_KIND_TS)
            return (int)i + 2;
        i += n;
    }
    return -1;
}

/* Shows an outbound TS val in the script's space, from the first one
 * (packetdrill's map_outbound_live_packet); compared only with
 * --tcp_ts_tick_usecs (check_ts_val). */
static void map_ts_val(const run *r, pkt_opts *o)
{
    int at = ts_val_at(o);
    if (at >= 0)
        wr32(o->bytes + at, rd32(o->bytes + at) - r->first_live_ts + r->first_script_ts);
}

/* The live datagram in the script's space, options from its own bytes. */
static int to_script(run *r, const net_peer_dgram *d, live_seg *ls)
{
    if (pkt_seg_from_dgram(d->data, d->len, &ls->seg, &ls->ps) != 0)
        return -1;
    if (r->have_isn)
        ls->ps.seq = ls->seg.seq - r->live_isn + r->script_isn;
    if (r->have_ts)
        map_ts_val(r, &ls->ps.opts);
    return 0;
}

static bool time_ok(const run *r, const pkt_event *ev, uint64_t t, uint64_t deadline,
                    uint64_t actual)
{
    if (ev->time.kind == PKT_TIME_ANY)
        return true;
    uint64_t lo = t > r->ev_tol ? t - r->ev_tol : 0;
    return actual >= lo && actual <= deadline;
}

static void report(run *r, const pkt_event *ev, const char *what, uint64_t t, const live_seg *ls)
{
    char want[256], got[256], t1[32], t2[32];
    pkt_seg_format(&ev->u.seg, want, sizeof want);
    if (!ls) {
        run_fail(r, PKT_RUN_MISMATCH, ev,
                 "expected segment not sent: expected %s > %s, actual: "
                 "none by %s",
                 run_time_str(t, t1, sizeof t1), want,
                 run_time_str(sim_world_now(net_world(r->n)), t2, sizeof t2));
        return;
    }
    pkt_seg_format(&ls->ps, got, sizeof got);
    run_fail(r, PKT_RUN_MISMATCH, ev, "%s mismatch: expected %s > %s, actual %s > %s", what,
             run_time_str(t, t1, sizeof t1), want, run_time_str(ls->time_ns, t2, sizeof t2), got);
}

/* The TS val of option bytes; false when there is none. */
static bool opts_ts_val(const pkt_opts *o, uint32_t *val)
{
    int at = ts_val_at(o);
    if (at >= 0)
        *val = rd32(o->bytes + at);
    return at >= 0;
}

/* packetdrill's TS val check (run_packet.c, verify_outbound_tcp_option),
 * with --tcp_ts_tick_usecs N: the TS val sent, mapped into the script's
 * space from the connection's first one (map_ts_val), may differ from the
 * script's by as many ticks as fit in --tolerance_usecs: |sent - script| * N
 * <= tolerance, the difference taken modulo 2^32 as a signed value.
 * The tolerance is the fixed one: packetdrill's percentage does not widen
 * it. The TS ecr sent is not compared (the check looks at the val only);
 * without N, or where the script wrote <...>, nothing is. Returns false
 * with the run failed. */
static bool check_ts_val(run *r, const pkt_event *ev, uint64_t t, const live_seg *ls)
{
    const pkt_seg *want = &ev->u.seg;
    uint32_t script_val, sent_val;
    if (!r->ts_tick_us || !want->has_opts || want->opts.any || !ls->ps.has_opts ||
        !opts_ts_val(&want->opts, &script_val) || !opts_ts_val(&ls->ps.opts, &sent_val))
        return true;
    int64_t ticks = (int32_t)(sent_val - script_val);
    uint64_t off = (uint64_t)(ticks < 0 ? -ticks : ticks);
    uint64_t tol_us = r->tol_ns / NS_PER_US;
    if (off * r->ts_tick_us <= tol_us)
        return true;
    char wants[256], got[256], t1[32], t2[32];
    pkt_seg_format(want, wants, sizeof wants);
    pkt_seg_format(&ls->ps, got, sizeof got);
    run_fail(r, PKT_RUN_MISMATCH, ev,
             "TS val mismatch: expected %s > %s, actual %s > %s (off by %llu ticks of %llu us, "
             "tolerance %llu us)",
             run_time_str(t, t1, sizeof t1), wants, run_time_str(ls->time_ns, t2, sizeof t2), got,
             (unsigned long long)off, (unsigned long long)r->ts_tick_us,
             (unsigned long long)tol_us);
    return false;
}

void run_expect(run *r, const pkt_event *ev, uint64_t t, uint64_t deadline, uint64_t *actual_ns)
{
    *actual_ns = t;
    if (!wait_segment(r, deadline)) {
        report(r, ev, NULL, t, NULL);
        return;
    }
    net_peer_dgram d;
    net_peer_take(r->peer, &d);
    live_seg ls = {.time_ns = d.time_ns};
    *actual_ns = d.time_ns;
    if (tcp_wire_parse(d.data, d.len, &ls.seg) != TCP_WIRE_OK) {
        run_fail(r, PKT_RUN_MISMATCH, ev, "the stack sent a malformed datagram");
        return;
    }
    learn(r, &ev->u.seg, &ls.seg);
    if (to_script(r, &d, &ls) != 0) {
        run_fail(r, PKT_RUN_MISMATCH, ev, "the stack sent malformed options");
        return;
    }
    const char *diff = pkt_seg_mismatch(&ev->u.seg, &ls.ps);
    if (diff)
        report(r, ev, diff, t, &ls);
    else if (!check_ts_val(r, ev, t, &ls))
        return;
    else if (!time_ok(r, ev, t, deadline, d.time_ns))
        report(r, ev, "time", t, &ls);
}
