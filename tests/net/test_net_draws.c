/*
 * test_net_draws — keyed link draws (net.h, net_set_keyed_draws): a
 * connection over a lossy, jittery, reordering link meets the same fate
 * segment by segment whether or not another connection used the link
 * before it and whenever it starts; a retransmission draws afresh; the
 * default (the link's stream) is unchanged by the mode existing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define MS     1000000ull
#define PORT   80u
#define LPORT  5000u
#define MAXP   8192u
#define BYTES  60000u

/* One datagram of the watched connection (A:LPORT <-> B:PORT) as sent,
 * seq and ack relative to each side's ISN, and what the link did. */
typedef struct seg {
    bool from_a;
    uint32_t rseq, rack, len;
    uint8_t flags;
    bool dropped;
    uint64_t delay; /* send to first delivery; 0 when dropped */
} seg;

typedef struct fx {
    net *n;
    uint32_t a, b;
    uint32_t isn[2];
    bool have_isn[2];
    /* by packet id: the index in segs + 1, 0 for not watched */
    uint32_t seg_of[MAXP];
    uint64_t sent_at[MAXP];
    seg segs[MAXP];
    uint32_t nsegs;
} fx;

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint16_t be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* A SEND of the watched connection: its header as a seg. */
static void on_send(fx *f, const sim_trace_rec *r)
{
    const uint8_t *b = r->bytes, *t = b + (b[0] & 0x0f) * 4;
    uint16_t sport = be16(t), dport = be16(t + 2);
    bool from_a = sport == LPORT && dport == PORT, from_b = sport == PORT && dport == LPORT;
    if (!from_a && !from_b)
        return;
    uint8_t flags = t[13];
    uint32_t seq = be32(t + 4), ack = be32(t + 8), side = from_a ? 0 : 1;
    if (flags & 0x02) {
        f->isn[side] = seq;
        f->have_isn[side] = true;
    }
    assert_true(r->packet_id < MAXP && f->nsegs < MAXP);
    seg *s = &f->segs[f->nsegs];
    *s = (seg){.from_a = from_a,
               .rseq = seq - f->isn[side],
               .rack = flags & 0x10 ? ack - f->isn[1 - side] : 0,
               .len = be16(b + 2) - (uint32_t)(t - b) - (uint32_t)(t[12] >> 4) * 4,
               .flags = flags};
    f->seg_of[r->packet_id] = ++f->nsegs;
    f->sent_at[r->packet_id] = r->time;
}

static void sink(void *ctx, const sim_trace_rec *r)
{
    fx *f = ctx;
    if (r->kind == SIM_TR_SEND) {
        on_send(f, r);
        return;
    }
    uint32_t id = r->kind == SIM_TR_DELIVER ? r->origin_id : r->packet_id;
    if (id >= MAXP || f->seg_of[id] == 0)
        return;
    seg *s = &f->segs[f->seg_of[id] - 1];
    if (r->kind == SIM_TR_DROP)
        s->dropped = true;
    else if (r->kind == SIM_TR_DELIVER && s->delay == 0)
        s->delay = r->time - f->sent_at[id];
}

static void run_for(fx *f, uint64_t ns)
{
    sim_world *w = net_world(f->n);
    sim_world_run_until_time(w, sim_world_now(w) + ns);
}

/* A sends `bytes` to B's listener from local port lport, then closes. */
static void transfer(fx *f, uint16_t lport, size_t bytes)
{
    net_connect_opts co = {.raddr = B_ADDR, .rport = PORT, .lport = lport};
    uint32_t c;
    assert_int_equal(net_connect(f->n, f->a, &co, &c), 0);
    assert_int_equal(net_send(f->n, c, NULL, bytes), 0);
    assert_int_equal(net_close(f->n, c), 0);
}

/* Two hosts under the linux profile over a link that loses 10 %, reorders
 * 5 % by 5 ms and jitters 2 ms. With `before`, another connection moves
 * 20 kB over the link first, and the watched one starts 3 s later. */
static fx *play(bool keyed, bool before)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->n = net_new(42);
    const tcp_profile *p = tcp_profile_find("linux");
    assert_int_equal(net_host_add(f->n, "A", A_ADDR, p, &f->a), 0);
    assert_int_equal(net_host_add(f->n, "B", B_ADDR, p, &f->b), 0);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    lp.jitter_ns = 2 * MS;
    lp.loss_ppb = 100000000;
    lp.reorder_ppb = 50000000;
    lp.reorder_delay_ns = 5 * MS;
    uint32_t link;
    assert_int_equal(net_link_add(f->n, f->a, f->b, &lp, &lp, &link), 0);
    assert_int_equal(net_set_keyed_draws(f->n, keyed), 0);
    assert_int_equal(net_keyed_draws(f->n), keyed);
    sim_world_set_trace(net_world(f->n), sink, f);
    net_listen_opts lo = {.port = PORT, .backlog = 8, .autoread = true};
    uint32_t l;
    assert_int_equal(net_listen(f->n, f->b, &lo, &l), 0);
    if (before) {
        transfer(f, LPORT + 1, 20000);
        run_for(f, 3000 * MS);
    }
    transfer(f, LPORT, BYTES);
    run_for(f, 120000 * MS);
    return f;
}

static void done(fx *f)
{
    net_free(f->n);
    free(f);
}

static bool same_segs(const fx *x, const fx *y)
{
    if (x->nsegs != y->nsegs)
        return false;
    for (uint32_t i = 0; i < x->nsegs; i++) {
        const seg *s = &x->segs[i], *t = &y->segs[i];
        if (s->from_a != t->from_a || s->rseq != t->rseq || s->rack != t->rack ||
            s->len != t->len || s->flags != t->flags || s->dropped != t->dropped ||
            s->delay != t->delay)
            return false;
    }
    return true;
}

/* Keyed, the watched connection is the same segment for segment, with the
 * same losses and delays, after another connection and 3 s later; with
 * the link's stream it is not (the other connection took draws). */
static void same_segments_same_fates_whatever_came_before(void **state)
{
    (void)state;
    fx *x = play(true, false), *y = play(true, true);
    uint32_t dropped = 0;
    for (uint32_t i = 0; i < x->nsegs; i++)
        dropped += x->segs[i].dropped;
    assert_true(dropped >= 5);
    assert_true(same_segs(x, y));
    done(x);
    done(y);
    x = play(false, false);
    y = play(false, true);
    assert_false(same_segs(x, y));
    done(x);
    done(y);
}

/* The n-th sending of a segment is a key of its own: a lost segment's
 * retransmission is not lost with it for ever, and of the segments sent
 * more than once, some met another fate the next time. */
static void a_retransmission_draws_afresh(void **state)
{
    (void)state;
    fx *x = play(true, false);
    uint32_t again = 0, other_fate = 0;
    for (uint32_t i = 0; i < x->nsegs; i++) {
        const seg *s = &x->segs[i];
        if (!s->from_a || s->len == 0)
            continue;
        for (uint32_t j = i + 1; j < x->nsegs; j++) {
            const seg *t = &x->segs[j];
            if (!t->from_a || t->rseq != s->rseq || t->len != s->len || t->flags != s->flags)
                continue;
            again++;
            other_fate += t->dropped != s->dropped || t->delay != s->delay;
            break;
        }
    }
    assert_true(again >= 5);
    assert_true(other_fate >= 5);
    /* Every byte and the FIN were acknowledged (A reached FIN_WAIT_2): no
     * segment was lost for ever. */
    bool fin_acked = false;
    for (uint32_t i = 0; i < net_sock_count(x->n); i++) {
        const net_sock *k = net_sock_at(x->n, i);
        for (uint32_t j = 0; k->host == x->a && k->lport == LPORT && j < k->ntrace; j++)
            fin_acked |= net_sock_step(k, j)->state == TCP_FIN_WAIT_2;
    }
    assert_true(fin_acked);
    done(x);
}

/* A peer floods B (no listener: each segment earns a RST) with segments
 * no two alike, half of them SYNs from a new port with a new ISN, over a
 * keyed link; returns the losses of both directions. */
static uint64_t flood(void)
{
    net *n = net_new(7);
    uint32_t b;
    assert_int_equal(net_host_add(n, "B", B_ADDR, tcp_profile_find("linux"), &b), 0);
    net_peer *p = net_peer_new(n, "P", A_ADDR);
    assert_non_null(p);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = MS;
    lp.loss_ppb = 100000000;
    uint32_t link;
    assert_int_equal(net_peer_link(n, p, b, &lp, &lp, &link), 0);
    assert_int_equal(net_set_keyed_draws(n, true), 0);
    sim_world *w = net_world(n);
    uint8_t buf[128];
    uint32_t sent = 0;
    for (uint32_t round = 0; round < 300; round++) {
        for (uint32_t i = 0; i < 1000; i++, sent++) {
            bool syn = sent % 2 == 0;
            tcp_seg s = {.src_addr = A_ADDR,
                         .dst_addr = B_ADDR,
                         .src_port = (uint16_t)(1024 + (sent / 2) % 60000),
                         .dst_port = PORT,
                         .seq = sent * 2654435761u,
                         .ack = syn ? 0 : sent,
                         .flags = syn ? TCP_SYN : TCP_ACK,
                         .wnd = 1000};
            size_t len = net_peer_encode(&s, NULL, 0, buf, sizeof buf);
            assert_true(len > 0);
            assert_int_equal(net_peer_send(p, buf, len), 0);
        }
        sim_world_run_until_time(w, sim_world_now(w) + 10 * MS);
        net_peer_dgram d;
        while (net_peer_take(p, &d))
            ;
        assert_true(net_keyed_draws_bytes(n) <= NET_KEYED_DRAWS_MAX_BYTES);
    }
    assert_true(sim_world_error(w) == NULL || sim_world_error(w)[0] == '\0');
    const sim_link *l = sim_link_by_id(w, link);
    uint64_t lost =
        sim_link_stats_get(l, 0).dropped_loss << 32 | sim_link_stats_get(l, 1).dropped_loss;
    net_free(n);
    net_peer_free(p);
    return lost;
}

/* The flood's tables stay within their bound (net.h,
 * NET_KEYED_DRAWS_MAX_BYTES) instead of keeping every name ever admitted,
 * the run goes on, and which names the tables forget depends on nothing but
 * the datagrams: the same flood loses the same datagrams twice. */
static void a_flood_of_distinct_segments_keeps_the_tables_bounded(void **state)
{
    (void)state;
    uint64_t lost = flood();
    assert_true(lost >> 32 > 0 && (lost & 0xffffffffu) > 0);
    assert_true(flood() == lost);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_segments_same_fates_whatever_came_before),
        cmocka_unit_test(a_retransmission_draws_afresh),
        cmocka_unit_test(a_flood_of_distinct_segments_keeps_the_tables_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
