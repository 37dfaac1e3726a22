/*
 * test_link — the packet pipeline of sim_link.h, one impairment at a time:
 * exact delay and serialisation timing, tail drop, MTU, the statistics of
 * loss, duplication, reordering, jitter and corruption for a fixed seed,
 * partitions now and at scheduled times, parameter validation and counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_test_ip.h"
#include "sim_host.h"
#include "sim_internal.h" /* the world's count of kept parameter values */
#include "sim_link.h"
#include "sim_world.h"

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u

typedef struct rec {
    sim_time_t time;
    sim_trace_kind kind;
    sim_drop_reason reason;
    uint32_t host, pkt, origin, code;
    uint8_t dir;
    uint64_t value;
} rec;

typedef struct arrival {
    sim_time_t time;
    uint32_t id, origin, len;
    int corrupt_bits; /* bits differing from what was sent */
    uint32_t bit;     /* the first differing bit, MSB of byte 0 first */
} arrival;

typedef struct fx {
    sim_world *w;
    sim_host *a, *b;
    sim_link *l;
    rec *recs;
    size_t nrecs, caprecs;
    arrival *arr;
    size_t narr, caparr;
} fx;

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = *cap ? *cap * 2 : 256;
    p = realloc(p, *cap * size);
    assert_non_null(p);
    return p;
}

static void sink(void *ctx, const sim_trace_rec *r)
{
    fx *f = ctx;
    f->recs = grow(f->recs, &f->caprecs, f->nrecs + 1, sizeof *f->recs);
    f->recs[f->nrecs++] = (rec){r->time,      r->kind, r->reason, r->host_id, r->packet_id,
                                r->origin_id, r->code, r->dir,    r->value_ns};
}

/* Every byte after the IPv4 header is a function of the packet's id. */
static uint8_t fill_byte(uint32_t id, uint32_t i)
{
    return (uint8_t)(id * 131u + i * 7u + 3u);
}

static void receive(void *ctx, sim_host *h, sim_packet *p)
{
    fx *f = ctx;
    f->arr = grow(f->arr, &f->caparr, f->narr + 1, sizeof *f->arr);
    arrival *a = &f->arr[f->narr++];
    *a = (arrival){sim_world_now(f->w), p->id, p->origin_id, p->len, 0, 0};
    for (uint32_t i = 20; i < p->len; i++) {
        uint8_t diff = p->data[i] ^ fill_byte(p->origin_id, i);
        for (int b = 7; b >= 0; b--)
            if (diff & (1u << b)) {
                if (a->corrupt_bits++ == 0)
                    a->bit = i * 8 + (uint32_t)(7 - b);
            }
    }
    sim_packet_free(sim_host_world(h), p);
}

/* A to B (or B to A) datagram of len bytes (>= 20); returns its id. */
static uint32_t send(fx *f, sim_host *from, size_t len)
{
    sim_packet *p = sim_packet_new(f->w, len);
    assert_non_null(p);
    uint32_t src = sim_host_addr(from), dst = from == f->a ? ADDR_B : ADDR_A;
    core_test_ipv4(p->data, src, dst);
    for (uint32_t i = 20; i < len; i++)
        p->data[i] = fill_byte(p->id, i);
    uint32_t id = p->id;
    sim_host_send(from, p);
    return id;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->w = sim_world_new(20240601);
    sim_world_set_trace(f->w, sink, f);
    assert_int_equal(sim_host_add(f->w, "A", ADDR_A, &f->a), 0);
    assert_int_equal(sim_host_add(f->w, "B", ADDR_B, &f->b), 0);
    sim_host_set_receiver(f->a, receive, f);
    sim_host_set_receiver(f->b, receive, f);
    sim_link_params p;
    sim_link_params_default(&p);
    assert_int_equal(sim_link_add(f->w, f->a, f->b, &p, &p, &f->l), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    assert_int_equal(sim_world_run(f->w), SIM_RUN_IDLE);
    assert_int_equal(sim_packets_in_use(f->w), 0);
    sim_world_free(f->w);
    free(f->recs);
    free(f->arr);
    free(f);
    return 0;
}

/* Sets direction A>B's parameters from the defaults plus the changes. */
static sim_link_params *ab(fx *f)
{
    static sim_link_params p;
    p = *sim_link_params_get(f->l, 0);
    return &p;
}

static void set_ab(fx *f, const sim_link_params *p)
{
    assert_int_equal(sim_link_params_set(f->l, 0, p), 0);
}

static size_t count_recs(const fx *f, sim_trace_kind kind, sim_drop_reason reason)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nrecs; i++)
        n += f->recs[i].kind == kind && (kind != SIM_TR_DROP || f->recs[i].reason == reason);
    return n;
}

static void test_propagation_delay_is_exact(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->delay_ns = 50 * SIM_MS;
    set_ab(f, p);
    send(f, f->a, 40);
    sim_world_run_until_time(f->w, 10 * SIM_MS);
    send(f, f->a, 40);
    send(f, f->b, 40); /* B>A still has no delay */
    sim_world_run(f->w);
    assert_int_equal(f->narr, 3);
    assert_int_equal(f->arr[0].time, 10 * SIM_MS);
    assert_int_equal(f->arr[0].id, 3);
    assert_int_equal(f->arr[1].time, 50 * SIM_MS);
    assert_int_equal(f->arr[2].time, 60 * SIM_MS);
}

static void test_serialisation_is_fifo_at_bandwidth(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->bandwidth_bps = 8000; /* one byte per millisecond */
    p->delay_ns = 10 * SIM_MS;
    set_ab(f, p);
    for (int i = 0; i < 3; i++)
        send(f, f->a, 100);
    sim_world_run_until_time(f->w, SIM_S);
    send(f, f->a, 50); /* the wire is idle again: starts now */
    sim_world_run(f->w);
    assert_int_equal(f->narr, 4);
    assert_int_equal(f->arr[0].time, 110 * SIM_MS);
    assert_int_equal(f->arr[1].time, 210 * SIM_MS);
    assert_int_equal(f->arr[2].time, 310 * SIM_MS);
    assert_int_equal(f->arr[3].time, 1060 * SIM_MS);
}

static void test_serialisation_rounds_up_to_whole_ns(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->bandwidth_bps = 3;
    set_ab(f, p);
    send(f, f->a, 20); /* 160 bits at 3 bit/s: 53.33...s, rounded up */
    send(f, f->a, 20);
    sim_world_run(f->w);
    assert_int_equal(f->arr[0].time, 53333333334u);
    assert_int_equal(f->arr[1].time, 2 * 53333333334u);
}

static void test_queue_tail_drop_is_exact(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->bandwidth_bps = 8000;
    p->queue_packets = 3;
    set_ab(f, p);
    for (int i = 0; i < 5; i++) /* 1 on the wire, 2 waiting, 2 dropped */
        send(f, f->a, 100);
    /* At 150ms the first has left: two remain, room for one more. */
    sim_world_run_until_time(f->w, 150 * SIM_MS);
    send(f, f->a, 100);
    send(f, f->a, 100);
    /* At exactly 300ms the third has left too (its last bit at 300ms). */
    sim_world_run_until_time(f->w, 300 * SIM_MS);
    send(f, f->a, 100);
    sim_world_run(f->w);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_int_equal(st.sent, 8);
    assert_int_equal(st.dropped_queue, 3);
    assert_int_equal(st.delivered, 5);
    assert_int_equal(f->narr, 5);
    const uint32_t ids[5] = {1, 2, 3, 6, 8};
    const sim_time_t at[5] = {100, 200, 300, 400, 500};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->arr[i].id, ids[i]);
        assert_int_equal(f->arr[i].time, at[i] * SIM_MS);
    }
    assert_int_equal(count_recs(f, SIM_TR_DROP, SIM_DROP_QUEUE), 3);
}

/* The backlog ring (4 instants, doubling, its room kept as an exponent):
 * three packets queue and two leave, so the ring's head has moved; then a
 * burst makes it grow four times over that head, and tail drops at the
 * 40-packet limit read its length and, once some have left, its order.
 * Every packet leaves one serialisation after the one before it. */
static void test_backlog_ring_grows_over_a_moved_head(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->bandwidth_bps = 8000; /* 100 bytes: 100 ms */
    p->queue_packets = 40;
    set_ab(f, p);
    for (int i = 0; i < 3; i++)
        send(f, f->a, 100);
    sim_world_run_until_time(f->w, 250 * SIM_MS); /* two have left */
    for (int i = 0; i < 41; i++)                  /* 39 fit behind the third, 2 dropped */
        send(f, f->a, 100);
    /* By 450 ms two more have left, the two the grown ring must read
     * first: two of three fit. */
    sim_world_run_until_time(f->w, 450 * SIM_MS);
    for (int i = 0; i < 3; i++)
        send(f, f->a, 100);
    sim_world_run(f->w);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_int_equal(st.dropped_queue, 3);
    assert_int_equal(f->narr, 44);
    for (uint32_t i = 0; i < 44; i++)
        assert_int_equal(f->arr[i].time, (sim_time_t)(i + 1) * 100 * SIM_MS);
}

static void test_mtu(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->mtu = 100;
    set_ab(f, p);
    send(f, f->a, 100);
    send(f, f->a, 101);
    send(f, f->b, 1500); /* the other direction keeps mtu 1500 */
    sim_world_run(f->w);
    assert_int_equal(f->narr, 2);
    assert_int_equal(sim_link_stats_get(f->l, 0).dropped_mtu, 1);
    assert_int_equal(count_recs(f, SIM_TR_DROP, SIM_DROP_MTU), 1);
    assert_int_equal(f->recs[2].kind, SIM_TR_DROP);
    assert_int_equal(f->recs[2].pkt, 2);
}

static void test_loss_rate(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->loss_ppb = 100000000; /* 0.1 */
    set_ab(f, p);
    enum { N = 20000 };
    for (int i = 0; i < N; i++)
        send(f, f->a, 40);
    sim_world_run(f->w);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    /* Expect 2000 lost, standard deviation about 42. */
    assert_in_range(st.dropped_loss, 1800, 2200);
    assert_int_equal(st.delivered + st.dropped_loss, N);
    assert_int_equal(f->narr, st.delivered);
    assert_int_equal(count_recs(f, SIM_TR_DROP, SIM_DROP_LOSS), st.dropped_loss);
}

static void test_loss_extremes(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->loss_ppb = SIM_PPB_ONE;
    set_ab(f, p);
    for (int i = 0; i < 500; i++)
        send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 0);
    p->loss_ppb = 0;
    set_ab(f, p);
    for (int i = 0; i < 500; i++)
        send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 500);
}

static void test_duplication(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->duplicate_ppb = 200000000; /* 0.2 */
    p->delay_ns = SIM_MS;
    set_ab(f, p);
    enum { N = 10000 };
    for (int i = 0; i < N; i++)
        send(f, f->a, 60);
    sim_world_run(f->w);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    /* Expect 2000 clones, standard deviation 40. */
    assert_in_range(st.duplicated, 1800, 2200);
    assert_int_equal(f->narr, N + st.duplicated);
    assert_int_equal(count_recs(f, SIM_TR_DUPLICATE, 0), st.duplicated);
    /* A clone arrives right after its original, at the same instant, with
     * identical bytes and its own id. */
    size_t clones = 0;
    for (size_t i = 0; i < f->narr; i++) {
        if (f->arr[i].id == f->arr[i].origin)
            continue;
        clones++;
        assert_true(i > 0);
        assert_int_equal(f->arr[i - 1].id, f->arr[i].origin);
        assert_int_equal(f->arr[i - 1].time, f->arr[i].time);
        assert_int_equal(f->arr[i].corrupt_bits, 0);
        assert_int_equal(f->arr[i].id, f->arr[i].origin + 1); /* made during the send */
    }
    assert_int_equal(clones, st.duplicated);
}

static void test_reordering_reorders(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->delay_ns = 10 * SIM_MS;
    p->reorder_ppb = 100000000; /* 0.1 */
    p->reorder_delay_ns = 5 * SIM_MS;
    set_ab(f, p);
    enum { N = 5000 };
    for (int i = 0; i < N; i++) {
        sim_world_run_until_time(f->w, (sim_time_t)i * SIM_MS);
        send(f, f->a, 40);
    }
    sim_world_run(f->w);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_in_range(st.reordered, 400, 600);
    assert_int_equal(f->narr, N);
    size_t out_of_order = 0, late = 0;
    for (size_t i = 0; i < f->narr; i++) {
        sim_time_t sent = (f->arr[i].id - 1) * SIM_MS;
        sim_time_t took = f->arr[i].time - sent;
        assert_true(took == 10 * SIM_MS || took == 15 * SIM_MS);
        late += took == 15 * SIM_MS;
        out_of_order += i > 0 && f->arr[i].id < f->arr[i - 1].id;
    }
    assert_int_equal(late, st.reordered);
    /* A held-back packet is overtaken by the next ones sent within 5ms. */
    assert_true(out_of_order >= st.reordered * 9 / 10);
    assert_int_equal(count_recs(f, SIM_TR_DELAY, 0), st.reordered);
}

static void test_jitter_stays_in_bounds(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->delay_ns = 20 * SIM_MS;
    p->jitter_ns = SIM_MS;
    set_ab(f, p);
    enum { N = 4000 };
    for (int i = 0; i < N; i++)
        send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(f->narr, N);
    sim_time_t lo = SIM_TIME_NEVER, hi = 0, sum = 0;
    for (size_t i = 0; i < f->narr; i++) {
        sim_time_t t = f->arr[i].time;
        assert_in_range(t, 20 * SIM_MS, 21 * SIM_MS);
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
        sum += t - 20 * SIM_MS;
    }
    /* Uniform over [0, 1ms]: spread over nearly all of it, mean near 0.5ms. */
    assert_true(hi - lo > 990 * SIM_US);
    assert_in_range(sum / N, 480 * SIM_US, 520 * SIM_US);
}

static void test_corruption_flips_exactly_one_bit(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->corrupt_ppb = 50000000; /* 0.05 */
    set_ab(f, p);
    enum { N = 10000 };
    for (int i = 0; i < N; i++)
        send(f, f->a, 200);
    sim_world_run(f->w);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_in_range(st.corrupted, 400, 600);
    size_t corrupted = 0, header_hits = 0;
    for (size_t i = 0; i < f->narr; i++) {
        assert_true(f->arr[i].corrupt_bits <= 1);
        corrupted += f->arr[i].corrupt_bits;
    }
    /* Flips in the 20-byte header are not visible to receive(): match the
     * CORRUPT records against what arrived. */
    size_t k = 0;
    for (size_t i = 0; i < f->nrecs; i++) {
        if (f->recs[i].kind != SIM_TR_CORRUPT)
            continue;
        uint32_t bit = f->recs[i].code;
        assert_true(bit < 200 * 8);
        if (bit < 160) {
            header_hits++;
            continue;
        }
        while (f->arr[k].id != f->recs[i].pkt)
            k++;
        assert_int_equal(f->arr[k].corrupt_bits, 1);
        assert_int_equal(f->arr[k].bit, bit);
    }
    assert_int_equal(corrupted + header_hits, st.corrupted);
}

typedef struct lent_buf {
    uint8_t bytes[300];
    int released;
} lent_buf;

static void lent_release(void *owner)
{
    ((lent_buf *)owner)->released++;
}

/* Packets whose bytes are lent (a sender's buffer) and every one both
 * duplicated and corrupted: each copy that arrives has at most one bit
 * flipped, and the lender's bytes never change; each lender is given its
 * bytes back once. */
static void test_corrupting_a_lent_packet_leaves_the_lender_alone(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->corrupt_ppb = 1000000000;
    p->duplicate_ppb = 1000000000;
    set_ab(f, p);
    enum { N = 50 };
    static lent_buf bufs[N];
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < N; i++) {
        lent_buf *b = &bufs[i];
        sim_packet *pk = sim_packet_new_lent(f->w, b->bytes, sizeof b->bytes, lent_release, b);
        assert_non_null(pk);
        /* The lender fills its bytes before anyone reads them (the content
         * is a function of the id, which receive() checks). */
        b->bytes[0] = 0x45;
        b->bytes[12] = (uint8_t)(ADDR_A >> 24), b->bytes[15] = (uint8_t)ADDR_A;
        b->bytes[16] = (uint8_t)(ADDR_B >> 24), b->bytes[19] = (uint8_t)ADDR_B;
        for (uint32_t k = 20; k < sizeof b->bytes; k++)
            b->bytes[k] = fill_byte(pk->id, k);
        sim_host_send(f->a, pk);
    }
    uint8_t want[N][300];
    for (int i = 0; i < N; i++)
        memcpy(want[i], bufs[i].bytes, sizeof want[i]);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 2 * N);
    assert_int_equal(sim_link_stats_get(f->l, 0).corrupted, 2 * N);
    for (size_t i = 0; i < f->narr; i++)
        assert_true(f->arr[i].corrupt_bits <= 1);
    for (int i = 0; i < N; i++) {
        assert_memory_equal(bufs[i].bytes, want[i], sizeof want[i]);
        assert_int_equal(bufs[i].released, 1);
    }
}

static void test_partition_and_heal_now(void **state)
{
    fx *f = *state;
    sim_link_set_up(f->l, 0, false);
    sim_link_set_up(f->l, 0, false); /* no change: no record */
    assert_false(sim_link_params_get(f->l, 0)->up);
    send(f, f->a, 40);
    send(f, f->b, 40); /* B>A is still up */
    sim_world_run_until_time(f->w, SIM_S);
    sim_link_set_up(f->l, 0, true);
    send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 2);
    assert_int_equal(f->arr[0].id, 2);
    assert_int_equal(f->arr[1].id, 3);
    assert_int_equal(sim_link_stats_get(f->l, 0).dropped_down, 1);
    assert_int_equal(f->recs[0].kind, SIM_TR_LINK);
    assert_int_equal(f->recs[0].value, 0);
    assert_int_equal(f->recs[2].kind, SIM_TR_DROP);
    assert_int_equal(f->recs[2].reason, SIM_DROP_LINK_DOWN);
    assert_int_equal(count_recs(f, SIM_TR_LINK, 0), 2);
}

static void test_partition_and_heal_at_times(void **state)
{
    fx *f = *state;
    assert_int_equal(sim_link_set_up_at(f->l, 0, 1 * SIM_S, false), 0);
    assert_int_equal(sim_link_set_up_at(f->l, 0, 3 * SIM_S, true), 0);
    for (int i = 0; i < 8; i++) { /* sends at 0.25s, 0.75s, ... 3.75s */
        sim_world_run_until_time(f->w, 250 * SIM_MS + (sim_time_t)i * 500 * SIM_MS);
        send(f, f->a, 40);
    }
    sim_world_run(f->w);
    assert_int_equal(f->narr, 4);
    const uint32_t ids[4] = {1, 2, 7, 8};
    for (int i = 0; i < 4; i++)
        assert_int_equal(f->arr[i].id, ids[i]);
    size_t links = 0;
    for (size_t i = 0; i < f->nrecs; i++)
        if (f->recs[i].kind == SIM_TR_LINK) {
            assert_int_equal(f->recs[i].time, links == 0 ? SIM_S : 3 * SIM_S);
            assert_int_equal(f->recs[i].value, links == 0 ? 0 : 1);
            links++;
        }
    assert_int_equal(links, 2);
    assert_int_equal(sim_link_set_up_at(f->l, 0, SIM_S, false), -1);
    assert_string_equal(sim_world_error(f->w),
                        "link A>B: cannot go down at t=1.000, already past (now t=3.750)");
}

static void test_pending_changes_are_freed_with_the_world(void **state)
{
    (void)state;
    sim_world *w = sim_world_new(1);
    sim_host *a, *b;
    sim_link *l;
    sim_link_params p;
    sim_link_params_default(&p);
    sim_host_add(w, "A", 1, &a);
    sim_host_add(w, "B", 2, &b);
    sim_link_add(w, a, b, &p, &p, &l);
    sim_link_set_up_at(l, 1, 5 * SIM_S, false);
    sim_link_set_up_at(l, 1, 6 * SIM_S, true);
    sim_world_run_until_time(w, 5 * SIM_S);
    assert_false(sim_link_params_get(l, 1)->up);
    sim_world_free(w); /* one change still pending: ASan checks it is freed */
}

static const char *check(const sim_link_params *p)
{
    static char err[200];
    err[0] = '\0';
    if (sim_link_params_check(p, err, sizeof err) == 0)
        return NULL;
    return err;
}

static void test_params_validation(void **state)
{
    (void)state;
    sim_link_params p;
    sim_link_params_default(&p);
    assert_null(check(&p));
    p.mtu = 67;
    assert_string_equal(check(&p), "mtu must be in [68,65535], got 67");
    p.mtu = 65536;
    assert_string_equal(check(&p), "mtu must be in [68,65535], got 65536");
    p.mtu = 68;
    assert_null(check(&p));
    p.loss_ppb = 1500000000u;
    assert_string_equal(check(&p), "loss must be in [0,1], got 1.5");
    p.loss_ppb = SIM_PPB_ONE;
    assert_null(check(&p));
    p.duplicate_ppb = SIM_PPB_ONE + 1;
    assert_string_equal(check(&p), "duplicate must be in [0,1], got 1.000000001");
    p.duplicate_ppb = 0;
    p.corrupt_ppb = 2 * SIM_PPB_ONE;
    assert_string_equal(check(&p), "corrupt must be in [0,1], got 2");
    p.corrupt_ppb = 0;
    p.reorder_ppb = 10000000;
    assert_non_null(strstr(check(&p), "reorder_delay must be above 0 when reorder is above 0"));
    p.reorder_delay_ns = SIM_MS;
    assert_null(check(&p));
    p.delay_ns = 25 * SIM_H;
    assert_string_equal(check(&p), "delay must be at most 24h, got 25h");
    p.delay_ns = 0;
    p.jitter_ns = 24 * SIM_H + 1;
    assert_non_null(strstr(check(&p), "jitter must be at most 24h"));
}

static void test_params_set_rejects_and_keeps_old(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->reorder_ppb = 5;
    assert_int_equal(sim_link_params_set(f->l, 0, p), -1);
    assert_non_null(strstr(sim_world_error(f->w), "link A>B: reorder_delay"));
    assert_int_equal(sim_link_params_get(f->l, 0)->reorder_ppb, 0);
    /* `up` in the parameters partitions like sim_link_set_up, with a record. */
    p = ab(f);
    p->up = false;
    p->delay_ns = SIM_MS;
    assert_int_equal(sim_link_params_set(f->l, 1, p), 0);
    assert_false(sim_link_params_get(f->l, 1)->up);
    assert_int_equal(sim_link_params_get(f->l, 1)->delay_ns, SIM_MS);
    assert_int_equal(f->nrecs, 1);
    assert_int_equal(f->recs[0].kind, SIM_TR_LINK);
    assert_int_equal(f->recs[0].dir, 1);
    assert_int_equal(f->recs[0].host, 1);
}

static void test_new_parameters_apply_to_new_packets(void **state)
{
    fx *f = *state;
    sim_link_params *p = ab(f);
    p->delay_ns = 100 * SIM_MS;
    set_ab(f, p);
    send(f, f->a, 40);
    p->delay_ns = 10 * SIM_MS;
    set_ab(f, p);
    send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(f->arr[0].id, 2);
    assert_int_equal(f->arr[0].time, 10 * SIM_MS);
    assert_int_equal(f->arr[1].id, 1);
    assert_int_equal(f->arr[1].time, 100 * SIM_MS);
}

static void test_counters(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 10; i++)
        send(f, f->a, 100 + (size_t)i);
    send(f, f->b, 64);
    sim_world_run(f->w);
    const sim_link_stats ab_st = sim_link_stats_get(f->l, 0);
    const sim_link_stats ba_st = sim_link_stats_get(f->l, 1);
    assert_int_equal(ab_st.sent, 10);
    assert_int_equal(ab_st.delivered, 10);
    assert_int_equal(ab_st.bytes_delivered, 1045);
    assert_int_equal(ba_st.sent, 1);
    assert_int_equal(ba_st.bytes_delivered, 64);
}

static void drop_it(void *ctx, sim_host *h, sim_packet *p)
{
    (void)ctx;
    sim_packet_free(sim_host_world(h), p);
}

/* A direction's counters are 32 bits until one would pass 2^32: 2,097,200
 * datagrams of 2,048 bytes (the largest pooled size: no allocation each)
 * deliver 4,294,963,200 + 98,304 bytes, past 2^32, and every counter
 * still reads exactly. */
static void test_counters_stay_exact_past_32_bits(void **state)
{
    fx *f = *state;
    sim_world_set_trace(f->w, NULL, NULL);
    sim_host_set_receiver(f->b, drop_it, NULL);
    enum { N = 2097200, BATCH = 400, LEN = 2048 };
    sim_link_params *p = ab(f);
    p->mtu = LEN;
    set_ab(f, p);
    assert_null(f->l->dir[0].rare); /* the high words are made on the first carry */
    for (int i = 0; i < N / BATCH; i++) {
        for (int j = 0; j < BATCH; j++) {
            sim_packet *pk = sim_packet_new(f->w, LEN);
            assert_non_null(pk);
            memset(pk->data, 0, 20);
            pk->data[0] = 0x45;
            for (int b = 0; b < 4; b++)
                pk->data[16 + b] = (uint8_t)(ADDR_B >> (24 - 8 * b));
            sim_host_send(f->a, pk);
        }
        sim_world_run(f->w);
    }
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_true(st.bytes_delivered > UINT32_MAX);
    assert_int_equal(st.bytes_delivered, (uint64_t)N * LEN);
    assert_int_equal(st.sent, N);
    assert_int_equal(st.delivered, N);
    assert_int_equal(st.dropped_loss + st.dropped_queue + st.dropped_mtu, 0);
    assert_non_null(f->l->dir[0].rare);
    assert_null(f->l->dir[1].rare);
}

static sim_fault_verdict hold_all(void *ctx, sim_link *l, int dir, const sim_packet *p)
{
    (void)ctx;
    (void)l;
    (void)dir;
    (void)p;
    return (sim_fault_verdict){.action = SIM_FAULT_HOLD};
}

static sim_fault_verdict count_pass(void *ctx, sim_link *l, int dir, const sim_packet *p)
{
    (void)l;
    (void)dir;
    (void)p;
    ++*(int *)ctx;
    return (sim_fault_verdict){.action = SIM_FAULT_PASS};
}

/* The first fault hook set in a world is kept once, in the world, and
 * every direction given that same hook and context only says so; another
 * context goes to the direction's rare part. Each packet reaches the hook
 * its direction was last given, with that context, or none once cleared. */
static void test_fault_hooks_are_kept_once_per_world(void **state)
{
    fx *f = *state;
    int c0 = 0, c1 = 0;
    sim_link_set_fault_hook(f->l, 0, count_pass, &c0);
    sim_link_set_fault_hook(f->l, 1, count_pass, &c1); /* another context */
    assert_null(f->l->dir[0].rare);
    assert_non_null(f->l->dir[1].rare);
    send(f, f->a, 40);
    send(f, f->a, 40);
    send(f, f->b, 40);
    sim_world_run(f->w);
    assert_int_equal(c0, 2);
    assert_int_equal(c1, 1);
    sim_link_set_fault_hook(f->l, 1, count_pass, &c0); /* the shared one again */
    send(f, f->b, 40);
    sim_link_set_fault_hook(f->l, 0, NULL, NULL);
    send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(c0, 3);
    assert_int_equal(c1, 1);
    sim_link_set_fault_hook(f->l, 0, count_pass, &c1); /* in its own part */
    send(f, f->a, 40);
    sim_link_set_fault_hook(f->l, 1, NULL, NULL); /* the shared one cleared */
    send(f, f->b, 40);
    sim_world_run(f->w);
    assert_int_equal(c1, 2);
    sim_link_set_fault_hook(f->l, 0, NULL, NULL); /* its own one cleared */
    send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(c0, 3);
    assert_int_equal(c1, 2);
    sim_link_set_fault_hook(f->l, 0, count_pass, &c0);
    send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(c0, 4);
    assert_int_equal(c1, 2);
    assert_int_equal(f->narr, 9);
}

/* A direction's held packets and counters' high words live apart, made
 * on first need: a direction that never held a packet has none and
 * releases nothing; setting the world's first hook makes none (it is kept
 * in the world); the first packet held makes
 * it for its own direction only. */
static void test_rare_part_made_on_first_need(void **state)
{
    fx *f = *state;
    send(f, f->a, 40);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 1);
    assert_int_equal(sim_link_held_count(f->l, 0), 0);
    assert_int_equal(sim_link_release(f->l, 0, 0), 0);
    sim_link_set_fault_hook(f->l, 0, hold_all, NULL);
    assert_null(f->l->dir[0].rare);
    send(f, f->a, 40);
    send(f, f->a, 41);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 1);
    assert_int_equal(sim_link_held_count(f->l, 0), 2);
    assert_non_null(f->l->dir[0].rare);
    assert_null(f->l->dir[1].rare);
    sim_link_set_fault_hook(f->l, 0, NULL, NULL);
    assert_int_equal(sim_link_release(f->l, 0, 0), 2);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 3);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.held, 2);
    assert_int_equal(st.delivered, 3);
    assert_int_equal(st.bytes_delivered, 40 + 40 + 41);
}

/* Sends n packets A to B at loss_ppb on A>B and runs them; checks each
 * one's fate against *ref, the stream "link:A>B" drawn as promise 1 says
 * (loss; then, for a packet not lost, jitter, reorder, duplicate and
 * corrupt: one draw each, none of them hitting at zero). */
static void fates_follow_the_stream(fx *f, uint32_t loss_ppb, int n, sim_rng *ref)
{
    sim_link_params *p = ab(f);
    p->loss_ppb = loss_ppb;
    set_ab(f, p);
    uint32_t ids[64];
    size_t before = f->narr;
    assert_true(n <= 64);
    for (int i = 0; i < n; i++)
        ids[i] = send(f, f->a, 60);
    sim_world_run(f->w);
    size_t next = before;
    for (int i = 0; i < n; i++) {
        bool lost = sim_rng_chance(ref, loss_ppb);
        if (!lost)
            for (int k = 0; k < 4; k++)
                sim_rng_next(ref);
        bool arrived = next < f->narr && f->arr[next].id == ids[i];
        assert_int_equal(arrived, !lost);
        next += arrived;
    }
    assert_int_equal(next, f->narr);
}

/* A direction whose parameters cannot change a packet's fate draws
 * nothing and makes no stream (no rare part), but owes the draws: once
 * loss is set, every fate is the one the stream made with the link gives
 * after five draws a quiet packet, however the quiet and lossy stretches
 * alternate. */
static void test_quiet_packets_owe_their_draws(void **state)
{
    fx *f = *state;
    sim_rng ref;
    sim_rng_seed(&ref, 20240601, "link:A>B");
    fates_follow_the_stream(f, 0, 7, &ref);
    assert_null(f->l->dir[0].rare);
    fates_follow_the_stream(f, SIM_PPB_ONE / 2, 40, &ref);
    assert_non_null(f->l->dir[0].rare);
    fates_follow_the_stream(f, 0, 6, &ref);
    fates_follow_the_stream(f, SIM_PPB_ONE / 2, 40, &ref);
    sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_true(st.dropped_loss > 10 && st.dropped_loss < 70);
}

/* A quiet packet the queue drops drew only the loss draw before it
 * (promise 1: the queue is tried after loss, before jitter), so it owes
 * one draw, not five: after quiet packets dropped at a full queue, the
 * fates once loss is set still follow the stream made with the link. */
static void test_quiet_queue_drops_owe_one_draw(void **state)
{
    fx *f = *state;
    sim_rng ref;
    sim_rng_seed(&ref, 20240601, "link:A>B");
    sim_link_params *p = ab(f);
    p->bandwidth_bps = 1000000;
    p->queue_packets = 1;
    set_ab(f, p);
    uint32_t ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = send(f, f->a, 60);
    sim_world_run(f->w);
    /* The first fills the queue of one; the three after it are dropped. */
    assert_int_equal(f->narr, 1);
    assert_int_equal(f->arr[0].id, ids[0]);
    assert_int_equal(count_recs(f, SIM_TR_DROP, SIM_DROP_QUEUE), 3);
    for (int k = 0; k < 5 + 3; k++)
        sim_rng_next(&ref);
    p = ab(f);
    p->bandwidth_bps = 0;
    p->queue_packets = 0;
    set_ab(f, p);
    fates_follow_the_stream(f, SIM_PPB_ONE / 2, 40, &ref);
}

/* sim_link_reserve: the link lookup made once for the links said, so
 * adding them never moves it; more links than said still work and are
 * found, and one past the limit fails with the lookup as it was. */
static void test_reserve_makes_the_link_lookup_once(void **state)
{
    fx *f = *state;
    enum { SAID = 1500, MORE = 2500 };
    sim_host *h[2 * MORE];
    for (uint32_t i = 0; i < 2 * MORE; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%u", i);
        assert_int_equal(sim_host_add(f->w, name, 0x0b000000u + i, &h[i]), 0);
    }
    assert_int_equal(sim_link_reserve(f->w, SAID + 1), 0); /* and A-B's */
    const uint32_t *slots = f->w->link_by_pair.slots;
    sim_link_params p;
    sim_link_params_default(&p);
    for (uint32_t i = 0; i < MORE; i++) {
        assert_int_equal(sim_link_add(f->w, h[2 * i], h[2 * i + 1], &p, &p, NULL), 0);
        if (i + 1 == SAID)
            assert_ptr_equal(f->w->link_by_pair.slots, slots);
    }
    slots = f->w->link_by_pair.slots;
    assert_int_equal(sim_link_reserve(f->w, (1u << 30) + 1), -1);
    assert_ptr_equal(f->w->link_by_pair.slots, slots);
    for (uint32_t i = 0; i < MORE; i++)
        assert_int_equal(sim_link_id(sim_link_between(f->w, h[2 * i + 1], h[2 * i])), i + 1);
}

/* The counters a loss-free link moves live in the direction; the first
 * MTU drop, a rarer counter, makes the rare part of its own direction,
 * and each counter reads exactly either way. The link stays within its
 * size bound (one link per host pair). */
static void test_rare_counters_live_apart(void **state)
{
    fx *f = *state;
    if (sizeof(void *) == 8)
        assert_true(sizeof(sim_link) <= 176);
    sim_link_params *p = ab(f);
    p->mtu = 100;
    set_ab(f, p);
    for (int i = 0; i < 5; i++)
        send(f, f->a, 60);
    send(f, f->b, 60);
    sim_world_run(f->w);
    assert_null(f->l->dir[0].rare);
    assert_null(f->l->dir[1].rare);
    send(f, f->a, 101);
    send(f, f->a, 200);
    send(f, f->a, 60);
    sim_world_run(f->w);
    assert_non_null(f->l->dir[0].rare);
    assert_null(f->l->dir[1].rare);
    const sim_link_stats st = sim_link_stats_get(f->l, 0);
    assert_int_equal(st.sent, 8);
    assert_int_equal(st.delivered, 6);
    assert_int_equal(st.bytes_delivered, 6 * 60);
    assert_int_equal(st.dropped_mtu, 2);
    assert_int_equal(st.dropped_loss + st.dropped_queue + st.dropped_down + st.dropped_fault, 0);
    assert_int_equal(st.duplicated + st.reordered + st.corrupted + st.held, 0);
    const sim_link_stats back = sim_link_stats_get(f->l, 1);
    assert_int_equal(back.sent, 1);
    assert_int_equal(back.delivered, 1);
    assert_int_equal(back.dropped_mtu, 0);
}

/* Links of equal parameters share the world's one copy; a change to one
 * direction (a partition here) gives that direction another value and
 * leaves the rest alone, and healing it finds the first copy again. */
static void test_equal_parameters_are_kept_once(void **state)
{
    fx *f = *state;
    sim_host *c;
    sim_link *l2;
    assert_int_equal(sim_host_add(f->w, "C", 0x0a000003u, &c), 0);
    sim_link_params p;
    sim_link_params_default(&p);
    assert_int_equal(sim_link_add(f->w, f->a, c, &p, &p, &l2), 0);
    const sim_link_params *shared = sim_link_params_get(f->l, 0);
    assert_ptr_equal(sim_link_params_get(l2, 0), shared);
    assert_ptr_equal(sim_link_params_get(l2, 1), shared);
    sim_link_set_up(l2, 0, false);
    assert_false(sim_link_params_get(l2, 0)->up);
    assert_true(sim_link_params_get(l2, 1)->up);
    assert_true(sim_link_params_get(f->l, 0)->up);
    assert_ptr_equal(sim_link_params_get(f->l, 0), shared);
    sim_link_set_up(l2, 0, true);
    assert_ptr_equal(sim_link_params_get(l2, 0), shared);
    p.delay_ns = SIM_MS;
    assert_int_equal(sim_link_params_set(l2, 1, &p), 0);
    assert_int_equal(sim_link_params_get(l2, 1)->delay_ns, SIM_MS);
    assert_int_equal(sim_link_params_get(f->l, 1)->delay_ns, 0);
}

/* A value no direction uses any more is freed: a script setting a new
 * delay each time keeps only the values in use (here the partition's down
 * value, the current value and the other direction's), never one per set,
 * and a probe run broken by a freed value still finds the ones after it. */
static void test_unused_parameters_are_freed(void **state)
{
    fx *f = *state;
    sim_link_params p;
    sim_link_params_default(&p);
    uint32_t before = f->w->nparams;
    for (uint32_t i = 1; i <= 5000; i++) {
        p.delay_ns = (uint64_t)i * SIM_US;
        assert_int_equal(sim_link_params_set(f->l, 0, &p), 0);
        sim_link_set_up(f->l, 0, i % 2 == 0);
        assert_int_equal(sim_link_params_get(f->l, 0)->delay_ns, (uint64_t)i * SIM_US);
        assert_true(f->w->nparams <= before + 1);
    }
    sim_link_set_up(f->l, 0, true);
    sim_link_params_default(&p);
    assert_int_equal(sim_link_params_set(f->l, 0, &p), 0);
    assert_ptr_equal(sim_link_params_get(f->l, 0), sim_link_params_get(f->l, 1));
    assert_int_equal(f->w->nparams, before);
}

/* Values chosen to collide in the table of kept values: its hash is
 * unkeyed, so delays can be searched for offline, as here, whose slots at
 * 8,192 slots lie in one window of 64 (one in 128), and each link added
 * with one would walk past all the others. Past SIM_INDEX_MAX_WALK slots a
 * value is kept apart instead, unshared: the walks stay bounded, each
 * direction keeps the value it was given, and a value kept apart is freed
 * with the last direction using it (here half are set back to the
 * default, the rest go with the world). */
static void test_crafted_parameters_are_kept_apart(void **state)
{
    fx *f = *state;
    enum { N = 3000 };
    sim_link_params p;
    sim_link_params_default(&p);
    uint32_t before = f->w->nparams;
    sim_link **l = malloc(N * sizeof *l);
    uint64_t *delay = malloc(N * sizeof *delay);
    assert_true(l && delay);
    uint64_t d = 0;
    for (uint32_t i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        sim_host *h;
        assert_int_equal(sim_host_add(f->w, name, 0x0b000000u + i, &h), 0);
        sim_link_params q = p;
        do
            q.delay_ns = ++d;
        while (((uint32_t)sim_link_params_hash(&q) & 8191u) >= 64u);
        delay[i] = d;
        assert_int_equal(sim_link_add(f->w, f->a, h, &q, &p, &l[i]), 0);
    }
    assert_true(f->w->nparams > SIM_INDEX_MAX_WALK);
    assert_true(f->w->nparams < before + N);
    assert_true(f->w->params_steps <= (uint64_t)(SIM_INDEX_MAX_WALK + 1) * 3 * N);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(sim_link_params_get(l[i], 0)->delay_ns, delay[i]);
        assert_ptr_equal(sim_link_params_get(l[i], 1), sim_link_params_get(f->l, 0));
    }
    for (uint32_t i = 0; i < N; i += 2)
        assert_int_equal(sim_link_params_set(l[i], 0, &p), 0);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(sim_link_params_get(l[i], 0)->delay_ns, i % 2 ? delay[i] : 0);
    free(l);
    free(delay);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_propagation_delay_is_exact),
        T(test_unused_parameters_are_freed),
        T(test_serialisation_is_fifo_at_bandwidth),
        T(test_serialisation_rounds_up_to_whole_ns),
        T(test_queue_tail_drop_is_exact),
        T(test_backlog_ring_grows_over_a_moved_head),
        T(test_fault_hooks_are_kept_once_per_world),
        T(test_mtu),
        T(test_loss_rate),
        T(test_loss_extremes),
        T(test_duplication),
        T(test_reordering_reorders),
        T(test_jitter_stays_in_bounds),
        T(test_corruption_flips_exactly_one_bit),
        T(test_partition_and_heal_now),
        T(test_partition_and_heal_at_times),
        cmocka_unit_test(test_pending_changes_are_freed_with_the_world),
        cmocka_unit_test(test_params_validation),
        T(test_rare_part_made_on_first_need),
        T(test_rare_counters_live_apart),
        T(test_quiet_packets_owe_their_draws),
        T(test_quiet_queue_drops_owe_one_draw),
        T(test_reserve_makes_the_link_lookup_once),
        T(test_params_set_rejects_and_keeps_old),
        T(test_new_parameters_apply_to_new_packets),
        T(test_counters),
        T(test_corrupting_a_lent_packet_leaves_the_lender_alone),
        T(test_counters_stay_exact_past_32_bits),
        T(test_equal_parameters_are_kept_once),
        T(test_crafted_parameters_are_kept_apart),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
