/*
 * test_mem — the stack's memory layout keeps its contracts: rings that
 * grow keep every byte at its offset and stop at the buffer size; the
 * port table picks the ports RFC 6056 Algorithm 1 picks (a model with a
 * plain array, fed the same random draws), refuses an exhausted range and
 * empties when the sockets go; the pool grows in doubling chunks; a
 * scratch space shared by two stacks survives a callback that makes one
 * stack send while the other is sending; a connection holds no buffer once
 * its rings are empty, and an empty ring is parked for the next; a ring's
 * lent bytes (zero-copy output) stay unchanged until released, over a fake
 * environment and over sim/net; what an idle ESTABLISHED connection, a
 * listener and a TIME_WAIT minisock cost (tcp_stack_mem), and the
 * structures' sizes; a minisock's segment rebuilds its connection in a
 * parked chunk; and TIME_WAIT's rules as a minisock meets them (RFC 9293
 * §3.10.7.4, the profiles' RST and SYN rules).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcp_conn.h"
#include "tcp_wire.h"

/* ---- A stack with a fake world that records its random draws ------------- */

#define DRAWS_MAX 70000u

typedef struct fixture {
    uint64_t rng;
    uint64_t draws[DRAWS_MAX];
    size_t ndraws;
    tcp_stack *s;
    uint8_t sent[2][8]; /* first payload bytes output, per stack */
    size_t nsent[2];    /* datagrams output, per stack */
    bool nested;        /* the callback has sent once */
} fixture;

static uint64_t fx_now(void *ctx)
{
    (void)ctx;
    return 1000000000u;
}

static uint64_t fx_random(void *ctx)
{
    fixture *fx = ctx;
    fx->rng ^= fx->rng << 13; /* xorshift64 */
    fx->rng ^= fx->rng >> 7;
    fx->rng ^= fx->rng << 17;
    assert_true(fx->ndraws < DRAWS_MAX);
    fx->draws[fx->ndraws++] = fx->rng;
    return fx->rng;
}

static void fx_output(void *ctx, const uint8_t *d, size_t len)
{
    (void)ctx, (void)d, (void)len;
}

static fixture *fx_new(void)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->rng = 0x2545f4914f6cdd1dull;
    static const tcp_env env = {.now_ns = fx_now, .random = fx_random, .output = fx_output};
    fx->s = tcp_stack_new(&env, fx, 0x0a000002u, h_linux_exact());
    assert_non_null(fx->s);
    return fx;
}

static void fx_free(fixture *fx)
{
    tcp_stack_free(fx->s);
    free(fx);
}

/* ---- Rings ---------------------------------------------------------------- */

static uint8_t byte_at(uint32_t off)
{
    return (uint8_t)(off * 7u + 3u);
}

static void ring_grows_keeping_every_offset(void **state)
{
    (void)state;
    tcp_ring r = {0};
    assert_int_equal(tcp_ring_reserve(&r, 10, 5000, NULL), 0);
    assert_int_equal(tcp_ring_cap(&r), 256); /* the smallest ring */
    uint8_t buf[5000];
    for (uint32_t i = 0; i < sizeof buf; i++)
        buf[i] = byte_at(i);
    /* Move head off zero so the copy has to unwrap. */
    assert_int_equal(tcp_ring_push(&r, buf, 200), 200);
    tcp_ring_consume(&r, 200);
    assert_int_equal(tcp_ring_push(&r, buf, 100), 100); /* wraps */
    tcp_ring_write_at(&r, 150, buf + 150, 50);          /* an out-of-order range past len */
    assert_int_equal(tcp_ring_reserve(&r, 700, 5000, NULL), 0);
    assert_int_equal(tcp_ring_cap(&r), 1024);
    uint8_t out[5000];
    tcp_ring_copy_out(&r, 0, out, 100);
    assert_memory_equal(out, buf, 100);
    tcp_ring_copy_out(&r, 150, out, 50);
    assert_memory_equal(out, buf + 150, 50);
    /* Doubling stops at the buffer size, which need not be a power of two. */
    assert_int_equal(tcp_ring_reserve(&r, 4097, 5000, NULL), 0);
    assert_int_equal(tcp_ring_cap(&r), 5000);
    tcp_ring_copy_out(&r, 150, out, 50);
    assert_memory_equal(out, buf + 150, 50);
    assert_int_equal(tcp_ring_push(&r, buf + 100, 4900), 4900);
    assert_int_equal(r.len, 5000);
    tcp_ring_copy_out(&r, 0, out, 5000);
    assert_memory_equal(out, buf, 5000);
    tcp_ring_free(&r);
    assert_null(r.data);
    assert_int_equal(tcp_ring_cap(&r), 0);
}

/* An empty ring's memory is parked in the scratch space (the largest
 * TCP_SPARES) and the next ring that fits takes it, with no allocation;
 * one larger than its buffer limit is not taken. */
static void empty_rings_are_parked_and_taken_again(void **state)
{
    (void)state;
    tcp_scratch *sc = tcp_scratch_new();
    assert_non_null(sc);
    tcp_ring r = {0}, q = {0};
    uint8_t buf[3000] = {0};
    assert_int_equal(tcp_ring_reserve(&r, 3000, 8192, sc), 0);
    assert_int_equal(tcp_ring_cap(&r), 4096);
    assert_int_equal(tcp_ring_push(&r, buf, 3000), 3000);
    tcp_ring_consume(&r, 3000);
    const uint8_t *parked = r.data;
    tcp_ring_release(&r, sc);
    assert_null(r.data);
    assert_int_equal(tcp_ring_cap(&r), 0);
    assert_int_equal(tcp_ring_spares_bytes(sc), 4096);
    assert_int_equal(tcp_ring_reserve(&q, 100, 2048, sc), 0); /* 4096 > its limit */
    assert_int_equal(tcp_ring_cap(&q), 256);
    assert_int_equal(tcp_ring_reserve(&r, 100, 8192, sc), 0);
    assert_ptr_equal(r.data, parked);
    assert_int_equal(tcp_ring_cap(&r), 4096);
    assert_int_equal(r.len, 0);
    assert_int_equal(tcp_ring_spares_bytes(sc), 0);
    /* TCP_SPARES are kept, the largest; a smaller one is freed. */
    tcp_ring more[TCP_SPARES] = {0};
    for (uint32_t i = 0; i < TCP_SPARES; i++) {
        assert_int_equal(tcp_ring_reserve(&more[i], 1000, 8192, NULL), 0);
        tcp_ring_release(&more[i], sc);
    }
    assert_int_equal(tcp_ring_spares_bytes(sc), TCP_SPARES * 1024);
    tcp_ring_release(&q, sc); /* 256 < every parked one: freed */
    assert_int_equal(tcp_ring_spares_bytes(sc), TCP_SPARES * 1024);
    tcp_ring_release(&r, sc); /* 4096 takes the place of a 1024 */
    assert_int_equal(tcp_ring_spares_bytes(sc), (TCP_SPARES - 1) * 1024 + 4096);
    tcp_scratch_free(sc);
}

/* ---- Ports ---------------------------------------------------------------- */

/* RFC 6056 §3.3.1 Algorithm 1 over a plain array: next_ephemeral =
 * min_ephemeral + (random() % num_ephemeral), then the next free port. */
static uint16_t model_pick(const bool *used, uint32_t lo, uint32_t hi, uint64_t draw)
{
    uint32_t n = hi - lo + 1;
    uint32_t start = (uint32_t)(draw % n);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t p = (uint16_t)(lo + (start + i) % n);
        if (!used[p])
            return p;
    }
    return 0;
}

static uint16_t local_port(const fixture *fx, tcp_sock_id id)
{
    uint16_t lport = 0, rport = 0;
    uint32_t raddr = 0;
    assert_int_equal(tcp_sock_endpoints(fx->s, id, &lport, &raddr, &rport), TCP_OK);
    return lport;
}

static uint16_t bind_any(fixture *fx, tcp_sock_id id)
{
    assert_int_equal(tcp_bind(fx->s, id, 0), TCP_OK);
    return local_port(fx, id);
}

static void ports_follow_rfc6056_until_exhausted_and_empty_after(void **state)
{
    (void)state;
    fixture *fx = fx_new();
    const tcp_profile *p = tcp_stack_profile(fx->s);
    uint32_t lo = p->port_lo, hi = p->port_hi, n = hi - lo + 1;
    static bool used[65536];
    memset(used, 0, sizeof used);
    tcp_sock_id *ids = calloc(n + 1, sizeof *ids);
    assert_non_null(ids);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(tcp_socket(fx->s, &ids[i]), TCP_OK);
        size_t d = fx->ndraws;
        uint16_t got = bind_any(fx, ids[i]);
        assert_int_equal(fx->ndraws, d + 1);
        assert_int_equal(got, model_pick(used, lo, hi, fx->draws[d]));
        used[got] = true;
    }
    assert_int_equal(fx->s->eph_used, n);
    assert_int_equal(tcp_socket(fx->s, &ids[n]), TCP_OK);
    assert_int_equal(tcp_bind(fx->s, ids[n], 0), TCP_EADDRNOTAVAIL);
    /* Free every third port; the picks fill the holes in the model's order. */
    for (uint32_t i = 0; i < n; i += 3) {
        used[local_port(fx, ids[i])] = false;
        assert_int_equal(tcp_close(fx->s, ids[i]), TCP_OK);
        ids[i] = 0;
    }
    for (uint32_t i = 0; i < n; i += 3) {
        assert_int_equal(tcp_socket(fx->s, &ids[i]), TCP_OK);
        size_t d = fx->ndraws;
        uint16_t got = bind_any(fx, ids[i]);
        assert_int_equal(got, model_pick(used, lo, hi, fx->draws[d]));
        used[got] = true;
    }
    for (uint32_t i = 0; i <= n; i++)
        assert_int_equal(tcp_close(fx->s, ids[i]), TCP_OK);
    assert_int_equal(tcp_stack_conns(fx->s), 0);
    assert_int_equal(fx->s->ports_n, 0);
    assert_int_equal(fx->s->eph_used, 0);
    for (uint32_t port = 1; port < 65536; port++)
        assert_false(tcp_stack_port_used(fx->s, (uint16_t)port));
    free(ids);
    fx_free(fx);
}

/* ---- Pool ----------------------------------------------------------------- */

static void pool_grows_in_doubling_chunks(void **state)
{
    (void)state;
    fixture *fx = fx_new();
    tcp_sock_id ids[300];
    assert_int_equal(tcp_socket(fx->s, &ids[0]), TCP_OK);
    assert_int_equal(fx->s->pool.nchunks, 1); /* one socket costs one connection */
    assert_int_equal(tcp_socket(fx->s, &ids[1]), TCP_OK);
    assert_int_equal(fx->s->pool.nchunks, 2); /* two cost two: chunks of 1 and 1 */
    assert_int_equal(tcp_socket(fx->s, &ids[2]), TCP_OK);
    assert_int_equal(fx->s->pool.nchunks, 3); /* 1 + 1 + 2 */
    for (int i = 3; i < 300; i++)
        assert_int_equal(tcp_socket(fx->s, &ids[i]), TCP_OK);
    assert_int_equal(fx->s->pool.nchunks, 10); /* 1 + 1 + 2 + ... + 128 = 256; + 256 >= 300 */
    for (int i = 0; i < 299; i++)
        assert_int_equal(tcp_close(fx->s, ids[i]), TCP_OK);
    assert_int_equal(fx->s->pool.nchunks, 10); /* one slot in use keeps them all */
    assert_int_equal(tcp_close(fx->s, ids[299]), TCP_OK);
    assert_int_equal(tcp_stack_conns(fx->s), 0);
    assert_int_equal(fx->s->pool.nchunks, 0); /* none in use: the chunks are freed */
    assert_int_equal(tcp_socket(fx->s, &ids[0]), TCP_OK);
    assert_int_equal(fx->s->pool.nchunks, 1); /* and grow again from one */
    assert_int_equal(tcp_close(fx->s, ids[0]), TCP_OK);
    fx_free(fx);
}

/* ---- The deadline heap's arming sequence ----------------------------------- */

/* A stack on a clock the test moves, recording each datagram's source
 * port in order. */
typedef struct seq_world {
    uint64_t now, rng;
    uint16_t ports[4096];
    size_t n;
} seq_world;

static uint64_t sw_now(void *ctx)
{
    return ((seq_world *)ctx)->now;
}

static uint64_t sw_random(void *ctx)
{
    seq_world *w = ctx;
    w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
    return w->rng >> 11;
}

static void sw_output(void *ctx, const uint8_t *d, size_t len)
{
    seq_world *w = ctx;
    assert_true(len >= TCP_IPV4_HDR + 2 && w->n < sizeof w->ports / sizeof w->ports[0]);
    w->ports[w->n++] = (uint16_t)(d[TCP_IPV4_HDR] << 8 | d[TCP_IPV4_HDR + 1]);
}

/* `rounds` rounds a millisecond apart, `per` connects each, so each
 * round's SYNs share a deadline; then every retransmission until they
 * time out. start: the stack's arming sequence before the first connect;
 * order: the connects' source ports, rounds * per of them. */
static void connects_and_syn_timeouts(seq_world *w, uint32_t start, int rounds, int per,
                                      uint16_t *order, uint32_t *seq_after)
{
    static const tcp_env env = {.now_ns = sw_now, .random = sw_random, .output = sw_output};
    *w = (seq_world){.now = 1000000000u, .rng = 7};
    tcp_stack *s = tcp_stack_new(&env, w, 0x0a000002u, tcp_profile_find("rfc9293"));
    assert_non_null(s);
    s->heap_seq = start;
    for (int r = 0; r < rounds; r++, w->now += 1000000u) {
        for (int i = 0; i < per; i++) {
            tcp_sock_id id;
            assert_int_equal(tcp_socket(s, &id), TCP_OK);
            assert_int_equal(tcp_connect(s, id, 0x0a000009u, 80), TCP_OK);
            order[r * per + i] = w->ports[w->n - 1];
        }
    }
    while (tcp_stack_next_deadline(s) != UINT64_MAX) {
        w->now = tcp_stack_next_deadline(s);
        tcp_stack_on_time(s);
    }
    *seq_after = s->heap_seq;
    tcp_stack_free(s);
}

/* The sequence that orders equal deadlines has 30 bits in each entry;
 * where it runs out, the entries are numbered again in their order. A
 * run that crosses that point sends what a run far from it sends: each
 * round of retransmitted SYNs in the order of their connects. */
static void equal_deadlines_fire_in_arming_order_across_the_renumbering(void **state)
{
    (void)state;
    static seq_world far, near;
    uint16_t order[12], order2[12];
    uint32_t seq_far, seq_near;
    connects_and_syn_timeouts(&far, 0, 4, 3, order, &seq_far);
    connects_and_syn_timeouts(&near, (1u << TCP_HEAP_SEQ_BITS) - 5, 4, 3, order2, &seq_near);
    assert_memory_equal(order, order2, sizeof order);
    assert_int_equal(far.n, near.n);
    assert_memory_equal(far.ports, near.ports, far.n * sizeof far.ports[0]);
    assert_true(seq_near < (1u << TCP_HEAP_SEQ_BITS) - 5); /* it was renumbered */
    assert_true(seq_far > 12);
    /* Every retransmission round follows the connects' order. */
    assert_true(far.n > 12 && far.n % 12 == 0);
    for (size_t i = 12; i < far.n; i++)
        assert_int_equal(far.ports[i], order[i % 12]);
}

/* The same across a renumbering of 149 entries (the first 149 connects
 * are in the heap when the 150th runs the sequence out): more than a
 * handful, the entries of one deadline on both sides of the point where
 * it runs out, and each round of 100 retransmitted SYNs still in the
 * order of its connects. */
static void a_full_heap_keeps_its_order_across_the_renumbering(void **state)
{
    (void)state;
    static seq_world far, near;
    static uint16_t order[300], order2[300];
    uint32_t seq_far, seq_near;
    connects_and_syn_timeouts(&far, 0, 3, 100, order, &seq_far);
    connects_and_syn_timeouts(&near, (1u << TCP_HEAP_SEQ_BITS) - 149, 3, 100, order2, &seq_near);
    assert_memory_equal(order, order2, sizeof order);
    assert_int_equal(far.n, near.n);
    assert_memory_equal(far.ports, near.ports, far.n * sizeof far.ports[0]);
    assert_true(seq_near < (1u << TCP_HEAP_SEQ_BITS) - 149);
    assert_true(far.n > 300 && far.n % 300 == 0);
    for (size_t i = 300; i < far.n; i++)
        assert_int_equal(far.ports[i], order[i % 300]);
}

/* ---- What a connection, a listener and a stack cost ------------------------- */

/* The structures' sizes on this ABI: a connection (in every pool slot),
 * the stack (one per host; the race's hosts have one or two connections,
 * so it weighs as much as one). */
static void connection_and_stack_sizes_hold_their_bounds(void **state)
{
    (void)state;
    print_message("tcp_conn %zu, tcp_stack %zu, tcp_tw %zu, tcp_lq %zu bytes\n", sizeof(tcp_conn),
                  sizeof(tcp_stack), sizeof(tcp_tw), sizeof(tcp_lq));
    /* 528 until the options that keep the profile's value moved to a
     * record (tcp_conn_opts), the counters of segments went to 32 bits,
     * the ring capacity to the ring's block, the 2MSL and FIN_WAIT_2
     * timers to the RTO's slot and Linux's receive engines to the end of
     * the slot of the profiles that use them (tcp_rcv_tune):
     * docs/performance.md, "Eighth round". 384 since the MSL went to
     * that record and the heap's arming sequence to 30 bits beside the
     * table entry's kind bits (tcp_sk 40 -> 32): with the pool chunk's
     * 8-byte header a 400-byte block, not 416 ("Eleventh round"). */
    assert_true(sizeof(tcp_conn) <= 384);
    /* The same two give a listener record 120 bytes (a 128-byte block,
     * not 144); a minisock, which keeps SND.MAX alone (SND.UNA and SND.NXT
     * equal it in TIME_WAIT: tcp_tw_fits), 160 (with its chunk's header a
     * 176-byte block, not 192). */
    assert_true(sizeof(tcp_ls) <= 120);
    assert_true(sizeof(tcp_tw) <= 160);
    /* 272 until the environment was a pointer (232), the first slots of
     * the tables and the heap the stack's own (296, and four blocks fewer)
     * and the listeners kept in the 4-tuple table (264), and until the
     * count of sockets was the id table's, the pools counted their slots
     * in use, and the malformed count and the port counts went to 32 and
     * 16 bits (248: a 256-byte block from the allocator, not 272).
     * Still 248 with the port table's first two slots in it (its first
     * block, 32 bytes with the allocator's header, gone): the scratch
     * space is env's (a copy of env when the stack keeps its own) and the
     * port table's and the heap's sizes are powers of two kept as
     * exponents. 216 (a 224-byte block) since the tables', the heap's and
     * the port table's first slots share their room with the pointer
     * to the slots that replace them. 200 (a 208-byte block) since the
     * minisock pool is allocated with the first minisock. */
    assert_true(sizeof(tcp_stack) <= 200);
    /* A stack never checked holds no checker state. */
    fixture *fx = fx_new();
    assert_int_equal(tcp_check_enabled(fx->s), tcp_check_default());
    assert_true(tcp_check_default() || fx->s->check == NULL);
    fx_free(fx);
}

/* A host with one or two connections allocates no table, heap or chunk
 * array: the tables' and the heap's first slots are the stack's (a
 * listener is in the 4-tuple table), and the pool's chunks are listed
 * through their headers. Its first port is in the stack too; a second
 * port (here the listener's) moves the port table out, 4 slots. A third
 * connection moves the id table and the heap out. */
static void a_small_stack_allocates_no_index(void **state)
{
    (void)state;
    fixture *fx = fx_new();
    tcp_stack *s = fx->s;
    tcp_sock_id a, b, c, l;
    tcp_mem m;
    assert_int_equal(tcp_socket(s, &a), TCP_OK);
    assert_int_equal(tcp_connect(s, a, 0x0a000001u, 80), TCP_OK);
    tcp_stack_mem(s, &m);
    assert_int_equal(m.index_bytes, 0); /* one port: none allocated */
    assert_true(tcp_stack_ports_inline(s));
    assert_int_equal(tcp_socket(s, &l), TCP_OK);
    assert_int_equal(tcp_bind(s, l, 80), TCP_OK);
    assert_int_equal(tcp_listen(s, l, 8), TCP_OK);
    tcp_stack_mem(s, &m);
    size_t ports = 4 * sizeof(tcp_port_ent);
    assert_false(tcp_stack_ports_inline(s));
    assert_int_equal(m.index_bytes, ports); /* only the port table */
    assert_true(s->by_id.mask < TCP_TABLE_FIRST && s->by_tuple.mask < TCP_TABLE_FIRST);
    assert_true(tcp_stack_heap_inline(s));
    assert_int_equal(s->pool.nchunks, 2);
    assert_int_equal(tcp_socket(s, &b), TCP_OK);
    assert_int_equal(tcp_socket(s, &c), TCP_OK);
    tcp_stack_mem(s, &m);
    assert_true(s->by_id.mask >= TCP_TABLE_FIRST && !tcp_stack_heap_inline(s));
    assert_int_equal(m.index_bytes, ports + 4 * sizeof(tcp_sk *) + 4 * sizeof(tcp_sk *));
    assert_true(s->by_tuple.mask < TCP_TABLE_FIRST);
    fx_free(fx);
}

/* The port table in the stack's own slots holds one port; the second
 * moves it out, and every port keeps its users and its idle mark across
 * the move, and across the backward shifts of removals after it. */
static void the_first_port_lives_in_the_stack(void **state)
{
    (void)state;
    fixture *fx = fx_new();
    tcp_stack *s = fx->s;
    tcp_sock_id idle, l, c, again;
    assert_int_equal(tcp_socket(s, &idle), TCP_OK);
    assert_int_equal(tcp_bind(s, idle, 7000), TCP_OK);
    assert_true(tcp_stack_ports_inline(s));
    assert_true(tcp_stack_port_idle(s, 7000));
    assert_int_equal(tcp_socket(s, &again), TCP_OK);
    assert_int_equal(tcp_bind(s, again, 7000), TCP_EADDRINUSE);
    tcp_mem m;
    tcp_stack_mem(s, &m);
    assert_int_equal(m.index_bytes, 0);
    /* A second port: the table moves out with the first one's entry. */
    assert_int_equal(tcp_socket(s, &l), TCP_OK);
    assert_int_equal(tcp_bind(s, l, 80), TCP_OK);
    assert_int_equal(tcp_listen(s, l, 8), TCP_OK);
    assert_false(tcp_stack_ports_inline(s));
    assert_true(tcp_stack_port_idle(s, 7000));
    assert_true(tcp_stack_port_used(s, 80) && !tcp_stack_port_idle(s, 80));
    assert_int_equal(tcp_bind(s, again, 7000), TCP_EADDRINUSE);
    assert_int_equal(tcp_bind(s, again, 80), TCP_EADDRINUSE);
    /* A third and a fourth (8 slots), then the first ones go. */
    assert_int_equal(tcp_socket(s, &c), TCP_OK);
    assert_int_equal(tcp_connect(s, c, 0x0a000001u, 80), TCP_OK);
    assert_int_equal(tcp_bind(s, again, 7001), TCP_OK);
    assert_int_equal(s->ports_n, 4);
    assert_int_equal(s->ports_bits, 3); /* 8 slots: at most half full */
    assert_int_equal(tcp_close(s, idle), TCP_OK);
    assert_int_equal(tcp_close(s, l), TCP_OK);
    assert_false(tcp_stack_port_used(s, 7000));
    assert_false(tcp_stack_port_used(s, 80));
    assert_true(tcp_stack_port_idle(s, 7001));
    assert_int_equal(s->ports_n, 2);
    assert_int_equal(tcp_close(s, again), TCP_OK);
    assert_int_equal(tcp_abort(s, c), TCP_OK);
    assert_int_equal(s->ports_n, 0);
    assert_int_equal(s->eph_used, 0);
    fx_free(fx);
}

/* The SYN and accept queues and the backlog are a listener's alone: a
 * connection that never listens has none, listen() adds exactly them (the
 * listener goes in the 4-tuple table), and they go with the listener. */
static void a_listener_pays_for_its_queues_alone(void **state)
{
    (void)state;
    fixture *fx = fx_new();
    tcp_sock_id l, c;
    assert_int_equal(tcp_socket(fx->s, &l), TCP_OK);
    assert_int_equal(tcp_socket(fx->s, &c), TCP_OK);
    assert_int_equal(tcp_bind(fx->s, l, 80), TCP_OK);
    tcp_mem before, after;
    tcp_stack_mem(fx->s, &before);
    assert_int_equal(tcp_listen(fx->s, l, 8), TCP_OK);
    tcp_stack_mem(fx->s, &after);
    /* The listener is a record now (tcp_ls): its queues are its own, and
     * its connection slot went back to the pool (which keeps its chunks
     * while c uses one). */
    assert_null(tcp_stack_find(fx->s, l));
    assert_non_null(tcp_stack_find_ls(fx->s, l)->lq);
    assert_null(tcp_stack_find(fx->s, c)->lq);
    assert_int_equal(after.index_bytes, before.index_bytes);
    assert_int_equal(after.conns, 1);
    assert_int_equal(after.listeners, 1);
    assert_int_equal(after.listener_bytes, sizeof(tcp_ls) + sizeof(tcp_lq));
    assert_int_equal(after.total_bytes - before.total_bytes, sizeof(tcp_ls) + sizeof(tcp_lq));
    /* listen() again only changes the backlog. */
    assert_int_equal(tcp_listen(fx->s, l, 16), TCP_OK);
    tcp_mem again;
    tcp_stack_mem(fx->s, &again);
    assert_int_equal(again.total_bytes, after.total_bytes);
    assert_int_equal(tcp_close(fx->s, l), TCP_OK);
    tcp_stack_mem(fx->s, &again);
    assert_int_equal(again.conns, 1);
    assert_int_equal(again.listeners, 0);
    assert_true(again.total_bytes + sizeof(tcp_ls) + sizeof(tcp_lq) <= after.total_bytes);
    assert_int_equal(tcp_close(fx->s, c), TCP_OK);
    fx_free(fx);
}

/* ---- The options record and the engines' slot tail ------------------------- */

static uint64_t opt_of(tcp_stack *s, tcp_sock_id id, tcp_opt opt)
{
    uint64_t v = UINT64_MAX;
    assert_int_equal(tcp_getopt(s, id, opt, &v), TCP_OK);
    return v;
}

static size_t total_bytes(const tcp_stack *s)
{
    tcp_mem m;
    tcp_stack_mem(s, &m);
    return m.total_bytes;
}

/* The options that keep the profile's value in nearly every connection
 * (tcp_conn_opts, the MSL among them) cost a connection nothing until it
 * sets one: they read as the profile's; an option kept in the connection
 * itself or a refused value allocates nothing; the first one set
 * allocates the record, once, and the others set later use it. */
static void options_record_is_paid_for_by_a_connection_that_sets_one(void **state)
{
    (void)state;
    fixture *fx = fx_new(); /* linux */
    const tcp_profile *p = tcp_profile_find("linux");
    tcp_sock_id c;
    assert_int_equal(tcp_socket(fx->s, &c), TCP_OK);
    const tcp_conn *conn = tcp_stack_find(fx->s, c);
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_KEEPIDLE_NS), p->keepalive_idle_ns);
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_KEEPINTVL_NS), p->keepalive_intvl_ns);
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_KEEPCNT), p->keepalive_probes);
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_USER_TIMEOUT_NS), 0);
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_MSL_NS), p->msl_ns);
    size_t before = total_bytes(fx->s);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_NODELAY, 1), TCP_OK);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_MSL_NS, UINT64_MAX / 2), TCP_EINVAL);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_KEEPIDLE_NS, 0), TCP_EINVAL);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_KEEPCNT, 256), TCP_EINVAL);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_ISN, UINT64_MAX), TCP_EINVAL);
    assert_null(conn->opts);
    assert_int_equal(total_bytes(fx->s), before);

    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_KEEPCNT, 3), TCP_OK);
    const tcp_conn_opts *rec = conn->opts;
    assert_non_null(rec);
    assert_int_equal(total_bytes(fx->s), before + sizeof(tcp_conn_opts));
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_KEEPCNT), 3);
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_KEEPIDLE_NS), p->keepalive_idle_ns);
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_USER_TIMEOUT_NS), 0);

    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_KEEPIDLE_NS, H_S(5)), TCP_OK);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_KEEPINTVL_NS, H_S(2)), TCP_OK);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_USER_TIMEOUT_NS, H_S(9)), TCP_OK);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_ISN, 1234), TCP_OK);
    assert_int_equal(tcp_setopt(fx->s, c, TCP_OPT_MSL_NS, H_S(1)), TCP_OK);
    assert_ptr_equal(conn->opts, rec);
    assert_int_equal(total_bytes(fx->s), before + sizeof(tcp_conn_opts));
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_MSL_NS), H_S(1));
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_KEEPIDLE_NS), H_S(5));
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_KEEPINTVL_NS), H_S(2));
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_USER_TIMEOUT_NS), H_S(9));
    assert_int_equal(opt_of(fx->s, c, TCP_OPT_ISN), 1234);
    assert_int_equal(tcp_close(fx->s, c), TCP_OK); /* the record goes with it (LeakSanitizer) */
    fx_free(fx);
}

/* A child takes the keepalive options and the user timeout of its
 * listener's record in a record of its own (Linux's inet_csk_clone_lock
 * keeps icsk_user_timeout); a listener without the record gives its
 * children none. */
static void a_child_inherits_its_listeners_options_record(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("rfc9293"));
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id plain = h_listen(h, H_B, 80, 8);
    tcp_sock_id tuned = h_listen(h, H_B, 81, 8);
    assert_int_equal(tcp_setopt(b, tuned, TCP_OPT_KEEPIDLE_NS, H_S(7)), TCP_OK);
    assert_int_equal(tcp_setopt(b, tuned, TCP_OPT_KEEPCNT, 4), TCP_OK);
    assert_int_equal(tcp_setopt(b, tuned, TCP_OPT_USER_TIMEOUT_NS, H_S(3)), TCP_OK);
    h_connect(h, H_A, H_B, 80, H_ANY);
    h_connect(h, H_A, H_B, 81, H_ANY);
    h_settle(h);
    tcp_sock_id c1 = h_accept(h, H_B, plain), c2 = h_accept(h, H_B, tuned);
    assert_null(tcp_stack_find(b, c1)->opts);
    assert_non_null(tcp_stack_find(b, c2)->opts);
    assert_ptr_not_equal(tcp_stack_find(b, c2)->opts, tcp_stack_find_ls(b, tuned)->opts);
    assert_int_equal(opt_of(b, c2, TCP_OPT_KEEPIDLE_NS), H_S(7));
    assert_int_equal(opt_of(b, c2, TCP_OPT_KEEPCNT), 4);
    assert_int_equal(opt_of(b, c2, TCP_OPT_KEEPINTVL_NS),
                     tcp_profile_find("rfc9293")->keepalive_intvl_ns);
    assert_int_equal(opt_of(b, c2, TCP_OPT_USER_TIMEOUT_NS), H_S(3));
    h_free(h);
}

/* Linux's receive engines (tcp_rcv_tune) make a connection's pool slot
 * larger only in a profile that turns one on: a connection costs
 * sizeof(tcp_conn) in rfc9293 and bsd, that plus the engines' state in
 * linux. */
static void engine_state_is_paid_for_by_the_profiles_that_use_it(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    const size_t slot[] = {sizeof(tcp_conn), sizeof(tcp_conn) + sizeof(tcp_rcv_tune),
                           sizeof(tcp_conn)};
    for (size_t i = 0; i < 3; i++) {
        const tcp_profile *p = tcp_profile_find(names[i]);
        assert_int_equal(tcp_profile_tunes(p), slot[i] != sizeof(tcp_conn));
        harness *h = h_new(2, p);
        h_pair pr = h_establish(h, H_A, H_B, 80);
        h_send(h, H_A, pr.client, "hello");
        h_settle(h);
        h_expect_recv(h, H_B, pr.server, "hello");
        tcp_mem m;
        tcp_stack_mem(h_stack(h, H_B), &m);
        assert_int_equal(m.conns, 1); /* the child; the listener is a record */
        assert_int_equal(m.listeners, 1);
        assert_int_equal(m.conn_bytes, slot[i]);
        h_free(h);
    }
}

/* The parked first chunk (one slot) goes only to a stack whose slots
 * have its size: a linux stack does not take an rfc9293 one (too small
 * for its engines' state), and takes one of its own profile. */
static void a_parked_chunk_goes_to_a_stack_of_its_slot_size(void **state)
{
    (void)state;
    fixture *fx = fx_new(); /* linux */
    tcp_env env = {.now_ns = fx_now,
                   .random = fx_random,
                   .output = fx_output,
                   .scratch = tcp_stack_scratch(fx->s)};
    tcp_stack *plain = tcp_stack_new(&env, fx, 0x0a000003u, tcp_profile_find("rfc9293"));
    tcp_stack *tuned = tcp_stack_new(&env, fx, 0x0a000004u, tcp_profile_find("linux"));
    assert_non_null(plain);
    assert_non_null(tuned);
    tcp_sock_id id;
    assert_int_equal(tcp_socket(plain, &id), TCP_OK);
    assert_int_equal(tcp_close(plain, id), TCP_OK);
    void *parked = tcp_stack_scratch(fx->s)->spare_chunk;
    assert_non_null(parked);
    assert_int_equal(tcp_stack_scratch(fx->s)->spare_conn_size, sizeof(tcp_conn));
    assert_int_equal(tcp_socket(tuned, &id), TCP_OK);
    assert_ptr_equal(tcp_stack_scratch(fx->s)->spare_chunk, parked); /* not taken */
    assert_int_equal(tcp_close(tuned, id), TCP_OK);
    assert_int_equal(tcp_socket(plain, &id), TCP_OK);
    assert_null(tcp_stack_scratch(fx->s)->spare_chunk); /* taken by its size */
    assert_int_equal(tcp_close(plain, id), TCP_OK);
    tcp_stack_free(tuned);
    tcp_stack_free(plain);
    fx_free(fx);
}

/* ---- A shared scratch under re-entry -------------------------------------- */

typedef struct two {
    fixture *fx[2];
    tcp_stack *st[2];
    tcp_sock_id id[2];
} two;

static two *g_two; /* the callback's view (one test at a time) */

static void two_output(void *ctx, const uint8_t *d, size_t len)
{
    fixture *fx = ctx;
    int i = fx == g_two->fx[0] ? 0 : 1;
    tcp_seg seg;
    assert_int_equal(tcp_wire_parse(d, len, &seg), TCP_WIRE_OK);
    if (seg.len && fx->nsent[i] == 0)
        memcpy(fx->sent[i], seg.payload, seg.len < 8 ? seg.len : 8);
    fx->nsent[i] += seg.len > 0;
}

/* While stack 0 reports its segment (the datagram built, not yet output),
 * the callback makes stack 1 send. */
static void two_event(void *ctx, const tcp_event *ev)
{
    fixture *fx = ctx;
    if (fx != g_two->fx[0] || ev->kind != TCP_EV_SEG_OUT || !ev->seg || !ev->seg->len || fx->nested)
        return;
    fx->nested = true;
    assert_int_equal(tcp_send(g_two->st[1], g_two->id[1], "WORLD", 5), 5);
}

static tcp_conn *established(tcp_stack *s, tcp_sock_id *id)
{
    tcp_conn *c = tcp_conn_new(s);
    assert_non_null(c);
    c->state = TCP_ESTABLISHED;
    c->raddr = 0x0a000009u;
    c->lport = 80;
    c->rport = 5000;
    c->user_held = true;
    c->ever_used = true;
    tcp_conn_init_seq(c, 1000);
    c->snd_una = c->snd_nxt = c->snd_max = 1001;
    c->snd_buf_seq = 1001;
    c->irs = 7000;
    c->rcv_nxt = c->rcv_adv = 7001;
    c->snd_wnd = c->max_snd_wnd = 65535;
    c->snd_mss = c->rcv_mss = 1000;
    c->cwnd = 10000;
    c->nodelay = true;
    *id = c->id;
    return c;
}

static void shared_scratch_survives_a_send_from_inside_another_send(void **state)
{
    (void)state;
    two t = {0};
    g_two = &t;
    tcp_scratch *sc = tcp_scratch_new();
    assert_non_null(sc);
    const tcp_env env = {fx_now, fx_random, two_output, two_event, sc, NULL, NULL}; /* shared */
    for (int i = 0; i < 2; i++) {
        t.fx[i] = calloc(1, sizeof *t.fx[i]);
        assert_non_null(t.fx[i]);
        t.fx[i]->rng = 1;
        t.st[i] =
            tcp_stack_new(&env, t.fx[i], 0x0a000002u + (uint32_t)i, tcp_profile_find("rfc9293"));
        assert_non_null(t.st[i]);
        t.st[i]->now = fx_now(NULL);
        established(t.st[i], &t.id[i]);
    }
    assert_int_equal(tcp_send(t.st[0], t.id[0], "hello", 5), 5);
    assert_true(t.fx[0]->nested);
    assert_int_equal(t.fx[0]->nsent[0], 1);
    assert_int_equal(t.fx[1]->nsent[1], 1);
    assert_memory_equal(t.fx[0]->sent[0], "hello", 5); /* not overwritten by WORLD */
    assert_memory_equal(t.fx[1]->sent[1], "WORLD", 5);
    /* Two levels: the second was needed once and is kept, both free. */
    assert_non_null(sc->bufs);
    assert_non_null(sc->bufs->next);
    assert_null(sc->bufs->next->next);
    assert_false(sc->bufs->busy || sc->bufs->next->busy);
    for (int i = 0; i < 2; i++) {
        tcp_stack_free(t.st[i]);
        free(t.fx[i]);
    }
    tcp_scratch_free(sc);
    g_two = NULL;
}

/* ---- Buffers released when empty ----------------------------------------------- */

static void rings_are_released_once_empty(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *a = h_stack(h, H_A), *b = h_stack(h, H_B);
    char data[3000], buf[4000];
    memset(data, 'd', sizeof data);
    assert_int_equal(tcp_send(a, p.client, data, sizeof data), 3000);
    const tcp_conn *ca = tcp_stack_find(a, p.client);
    assert_int_equal(tcp_ring_cap(&ca->sndq), 4096); /* 256 doubled to hold 3000, not 16 KiB */
    h_settle(h);
    assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), 3000);
    const tcp_conn *cb = tcp_stack_find(b, p.server);
    assert_null(cb->rcvq.data); /* read: let go, though the peer may send more */
    assert_null(ca->sndq.data); /* every byte acknowledged */
    assert_int_equal(tcp_close(a, p.client), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_B, p.server, TCP_CLOSE_WAIT);
    assert_null(cb->rcvq.data);
    assert_null(cb->sndq.data);
    assert_int_equal(tcp_close(b, p.server), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_A, p.client, TCP_TIME_WAIT);
    /* Released and in TIME_WAIT: a minisock stands in for the connection,
     * whose rings went with it. */
    assert_null(tcp_stack_find(a, p.client));
    assert_non_null(tcp_stack_find_tw(a, p.client));
    h_free(h);
}

/* ---- Lent datagrams (zero-copy output) ---------------------------------------- */

static void ring_fill(tcp_ring *r, uint32_t n, uint8_t seed)
{
    uint8_t buf[1024];
    assert_true(n <= sizeof buf);
    for (uint32_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(seed + i * 7u);
    assert_int_equal(tcp_ring_push(r, buf, n), n);
}

/* A ring lends only bytes that start its memory, once at a time; a write
 * that would land in lent bytes, a growth or a release moves the ring off
 * them, and the lent bytes stay as they were until their release (ASan
 * reports a read after free or a leak otherwise). */
static void lent_ring_bytes_stay_until_released(void **state)
{
    (void)state;
    tcp_scratch *sc = tcp_scratch_new();
    assert_non_null(sc);
    tcp_ring r = {0};
    void *owner = NULL, *other = NULL;
    assert_int_equal(tcp_ring_reserve(&r, 1000, 4096, sc), 0);
    assert_int_equal(tcp_ring_cap(&r), 1024);
    ring_fill(&r, 1000, 1);
    uint8_t want[1000];
    tcp_ring_copy_out(&r, 0, want, 1000);
    assert_null(tcp_ring_lend(&r, 10, 100, &owner)); /* not at the block's start */
    assert_null(tcp_ring_lend(&r, 0, 1001, &owner)); /* past len */
    uint8_t *d = tcp_ring_lend(&r, 0, 1000, &owner);
    assert_ptr_equal(d, r.data);
    memset(d - TCP_RING_ROOM, 0xcc, TCP_RING_ROOM);  /* the room is the borrower's */
    assert_null(tcp_ring_lend(&r, 0, 1000, &other)); /* lent already */
    /* Acknowledged, then written again: 24 bytes at the end, 76 wrapping
     * over the lent start. The ring moves to a copy first. */
    tcp_ring_consume(&r, 1000);
    assert_int_equal(tcp_ring_reserve(&r, 100, 4096, sc), 0);
    assert_ptr_not_equal(r.data, d);
    ring_fill(&r, 100, 9);
    assert_memory_equal(d, want, 1000);
    assert_null(tcp_ring_lend(&r, 0, 100, &other)); /* its bytes start at 1000 now */
    tcp_ring_lent_release(owner);
    tcp_ring_free(&r);

    /* Growth while lent leaves the old block to the borrower. */
    assert_int_equal(tcp_ring_reserve(&r, 200, 4096, sc), 0);
    ring_fill(&r, 200, 3);
    tcp_ring_copy_out(&r, 0, want, 200);
    d = tcp_ring_lend(&r, 0, 200, &owner);
    assert_non_null(d);
    assert_int_equal(tcp_ring_reserve(&r, 900, 4096, sc), 0);
    assert_ptr_not_equal(r.data, d);
    ring_fill(&r, 700, 5);
    assert_memory_equal(d, want, 200);
    /* Released while lent: not parked (the next ring would write it). */
    tcp_ring_consume(&r, 900);
    tcp_ring_release(&r, sc);
    d = tcp_ring_lend(&r, 0, 1, &other);
    assert_null(d);
    tcp_ring_lent_release(owner);

    assert_int_equal(tcp_ring_reserve(&r, 300, 4096, sc), 0);
    ring_fill(&r, 300, 7);
    tcp_ring_copy_out(&r, 0, want, 300);
    d = tcp_ring_lend(&r, 0, 300, &owner);
    assert_non_null(d);
    tcp_ring_consume(&r, 300);
    size_t parked = tcp_ring_spares_bytes(sc);
    tcp_ring_release(&r, sc);
    assert_int_equal(tcp_ring_spares_bytes(sc), parked);
    assert_memory_equal(d, want, 300);
    tcp_ring_lent_release(owner);
    tcp_scratch_free(sc);
}

/* A stack over an environment that holds lent datagrams as a link would. */
typedef struct held {
    const uint8_t *d;
    size_t len;
    void (*release)(void *owner);
    void *owner;
    uint8_t copy[1100]; /* the bytes when they were output */
} held;

typedef struct lend_fx {
    uint64_t now, rng;
    held held[4];
    size_t nheld;
    uint8_t copied[1100]; /* the last datagram output by copy */
    size_t ncopied, copied_len;
} lend_fx;

static uint64_t lend_now(void *ctx)
{
    return ((lend_fx *)ctx)->now;
}

static uint64_t lend_random(void *ctx)
{
    return ++((lend_fx *)ctx)->rng;
}

static void lend_output(void *ctx, const uint8_t *d, size_t len)
{
    lend_fx *fx = ctx;
    assert_true(len <= sizeof fx->copied);
    memcpy(fx->copied, d, len);
    fx->copied_len = len;
    fx->ncopied++;
}

static void lend_output_lent(void *ctx, const uint8_t *d, size_t len, void (*release)(void *),
                             void *owner)
{
    lend_fx *fx = ctx;
    assert_true(fx->nheld < 4 && len <= sizeof fx->held[0].copy);
    held *k = &fx->held[fx->nheld++];
    *k = (held){.d = d, .len = len, .release = release, .owner = owner};
    memcpy(k->copy, d, len);
}

static tcp_stack *lend_stack(lend_fx *fx, bool lend, tcp_sock_id *id)
{
    fx->now = 1000000000u;
    static const tcp_env copying = {
        .now_ns = lend_now, .random = lend_random, .output = lend_output};
    static const tcp_env lending = {.now_ns = lend_now,
                                    .random = lend_random,
                                    .output = lend_output,
                                    .output_lent = lend_output_lent};
    tcp_stack *s =
        tcp_stack_new(lend ? &lending : &copying, fx, 0x0a000002u, tcp_profile_find("rfc9293"));
    assert_non_null(s);
    s->now = fx->now;
    established(s, id);
    return s;
}

static void expect_data(const uint8_t *d, size_t len, const uint8_t *payload)
{
    tcp_seg g;
    assert_int_equal(tcp_wire_parse(d, len, &g), TCP_WIRE_OK); /* checksums too */
    assert_int_equal(g.seq, 1001);
    assert_int_equal(g.len, 1000);
    assert_memory_equal(g.payload, payload, 1000);
}

/* The first segment of a send ring goes out lent, byte for byte the
 * datagram a copying environment gets; its retransmission while the first
 * is still held is copied (the room's headers are the held datagram's),
 * and lent again once that was released; a held datagram outlives its
 * stack. */
static void a_segment_starting_the_ring_is_lent_and_outlives_its_stack(void **state)
{
    (void)state;
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 11u + 5u);
    lend_fx cp = {0}, fx = {0};
    tcp_sock_id id;
    tcp_stack *s = lend_stack(&cp, false, &id);
    assert_int_equal(tcp_send(s, id, data, sizeof data), 1000);
    assert_int_equal(cp.ncopied, 1);
    tcp_stack_free(s);

    s = lend_stack(&fx, true, &id);
    assert_int_equal(tcp_send(s, id, data, sizeof data), 1000);
    assert_int_equal(fx.ncopied, 0);
    assert_int_equal(fx.nheld, 1);
    assert_int_equal(fx.held[0].len, cp.copied_len);
    assert_memory_equal(fx.held[0].d, cp.copied, cp.copied_len);
    expect_data(fx.held[0].d, fx.held[0].len, data);

    fx.now += H_S(5); /* the RTO: a retransmission while the first is held */
    tcp_stack_on_time(s);
    assert_int_equal(fx.nheld, 1);
    assert_int_equal(fx.ncopied, 1);
    expect_data(fx.copied, fx.copied_len, data);
    assert_memory_equal(fx.held[0].d, fx.held[0].copy, fx.held[0].len);
    fx.held[0].release(fx.held[0].owner);

    fx.now += H_S(10); /* the next one finds the ring unshared */
    tcp_stack_on_time(s);
    assert_int_equal(fx.nheld, 2);
    assert_int_equal(fx.ncopied, 1);
    expect_data(fx.held[1].d, fx.held[1].len, data);

    tcp_stack_free(s); /* a host crash: the datagram is still in flight */
    assert_memory_equal(fx.held[1].d, fx.held[1].copy, fx.held[1].len);
    fx.held[1].release(fx.held[1].owner);
}

/* Over sim/net (the packets lend the sender's ring): a lent segment that
 * is duplicated, retransmitted while both copies wait on the wire, and
 * whose sender crashes before they arrive still delivers its bytes once
 * (ASan: nothing read after its free, nothing leaked). */
static void lent_segments_survive_dup_retransmission_and_crash(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_stack *b = h_stack(h, H_B);
    uint8_t data[1000], buf[2000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 3u + 1u);
    assert_int_equal(tcp_send(h_stack(h, H_A), p.client, data, sizeof data), 1000);
    assert_int_equal(h_pending(h), 1);
    h_dup(h);
    for (int ms = 0; ms < 3000 && h_pending(h) == 2; ms++)
        h_advance(h, H_MS(1)); /* a retransmission (TLP or RTO): a third copy, copied */
    assert_int_equal(h_pending(h), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(h_peek(h, i)->seg.len, 1000);
        assert_memory_equal(h_peek(h, i)->seg.payload, data, 1000);
    }
    h_reboot(h, H_A);
    h_deliver(h);
    h_deliver(h);
    h_deliver(h);
    assert_int_equal(tcp_recv(b, p.server, buf, sizeof buf), 1000);
    assert_memory_equal(buf, data, 1000);
    h_free(h);
}

/* ---- What a connection costs: idle ESTABLISHED, TIME_WAIT --------------------- */

#define MEM_PAIRS 64u /* a power of two: the pool and tables hold exactly this */

/* Bytes per entry the id and tuple tables and the deadline heap give a
 * connection or minisock when they are full: one pointer each. */
#define INDEX_MIN_BYTES (3u * sizeof(tcp_sk *))

static void connect_pairs(harness *h, tcp_sock_id l, tcp_sock_id *cli, tcp_sock_id *srv)
{
    for (size_t i = 0; i < MEM_PAIRS; i++)
        cli[i] = h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    for (size_t i = 0; i < MEM_PAIRS; i++) {
        h_expect_state(h, H_A, cli[i], TCP_ESTABLISHED);
        srv[i] = h_accept(h, H_B, l);
    }
}

/* The goal: an idle ESTABLISHED connection costs at most 1 KiB of
 * the stack's memory with its share of the tables (64 clients on A; the
 * 64 accepted children and the listener on B). */
static void idle_established_costs_under_1_kib(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_sock_id l = h_listen(h, H_B, 80, MEM_PAIRS);
    tcp_sock_id cli[MEM_PAIRS], srv[MEM_PAIRS];
    connect_pairs(h, l, cli, srv);
    for (size_t k = 0; k < 2; k++) {
        tcp_mem m;
        tcp_stack_mem(h_stack(h, k), &m);
        assert_int_equal(m.conns, MEM_PAIRS); /* and B's listener, a record */
        assert_int_equal(m.listeners, k == H_A ? 0 : 1);
        assert_int_equal(m.tws, 0);
        assert_int_equal(m.ring_bytes, 0); /* no byte sent: no ring */
        size_t per_conn = (m.conn_bytes + m.index_bytes) / m.conns;
        print_message("idle ESTABLISHED, stack %zu: %zu bytes per connection (%zu of its slot)\n",
                      k, per_conn, m.conn_bytes / m.conns);
        assert_true(per_conn <= 1024);
    }
    /* After a request and its answer, read: still no ring. */
    for (size_t i = 0; i < MEM_PAIRS; i++)
        h_send(h, H_A, cli[i], "request");
    h_settle(h);
    for (size_t i = 0; i < MEM_PAIRS; i++) {
        h_expect_recv(h, H_B, srv[i], "request");
        h_send(h, H_B, srv[i], "answer");
    }
    h_settle(h);
    for (size_t i = 0; i < MEM_PAIRS; i++)
        h_expect_recv(h, H_A, cli[i], "answer");
    h_run(h, h_now(h) + H_S(1)); /* delayed ACKs */
    for (size_t k = 0; k < 2; k++) {
        tcp_mem m;
        tcp_stack_mem(h_stack(h, k), &m);
        assert_int_equal(m.ring_bytes, 0);
        assert_true((m.conn_bytes + m.index_bytes) / m.conns <= 1024);
    }
    h_finish(h);
    h_free(h);
}

/* The goal: a TIME_WAIT connection costs at most 256 bytes with
 * its share of the tables and heap; its tcp_conn and rings are gone (the
 * pool frees its chunks once no slot is in use). */
static void time_wait_minisock_costs_under_256_bytes(void **state)
{
    (void)state;
    assert_true(sizeof(tcp_tw) + INDEX_MIN_BYTES <= 256);
    harness *h = h_new(2, h_linux_exact());
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id l = h_listen(h, H_B, 80, MEM_PAIRS);
    tcp_sock_id cli[MEM_PAIRS], srv[MEM_PAIRS];
    connect_pairs(h, l, cli, srv);
    for (size_t i = 0; i < MEM_PAIRS; i++) {
        h_send(h, H_A, cli[i], "request");
        assert_int_equal(tcp_close(a, cli[i]), TCP_OK);
    }
    h_settle(h);
    for (size_t i = 0; i < MEM_PAIRS; i++) {
        h_expect_recv(h, H_B, srv[i], "request");
        assert_int_equal(tcp_close(h_stack(h, H_B), srv[i]), TCP_OK);
    }
    h_settle(h);
    tcp_mem before;
    tcp_stack_mem(a, &before);
    assert_int_equal(before.tws, MEM_PAIRS);
    assert_int_equal(before.conns, 0);
    assert_int_equal(before.ring_bytes, 0);
    size_t per_tw = (before.tw_bytes + before.index_bytes) / before.tws;
    print_message("TIME_WAIT: %zu bytes per minisock (%zu of tcp_tw)\n", per_tw, sizeof(tcp_tw));
    assert_true(per_tw <= 256);
    /* Each reads as the connection it was (tcp.h rule 3). */
    for (size_t i = 0; i < MEM_PAIRS; i++) {
        assert_int_equal(tcp_sock_state(a, cli[i]), TCP_TIME_WAIT);
        assert_int_equal(tcp_sock_stats(a, cli[i])->bytes_out, strlen("request"));
        assert_int_equal(tcp_sock_endpoints(a, cli[i], NULL, NULL, NULL), 0);
    }
    /* No full connection is left on A: the pool gave its chunks back; what
     * remains beside the minisocks and the tables is the stack itself and
     * the minisock pool's chunk array, less than one tcp_conn. */
    assert_true(before.total_bytes - before.tw_bytes - before.index_bytes - sizeof(tcp_stack) <
                sizeof(tcp_conn));
    /* New connections take a new pool beside the minisocks. */
    for (size_t i = 0; i < MEM_PAIRS; i++)
        (void)h_connect(h, H_A, H_B, 80, H_ANY);
    h_settle(h);
    tcp_mem after;
    tcp_stack_mem(a, &after);
    assert_int_equal(after.conns, MEM_PAIRS);
    assert_int_equal(after.tws, MEM_PAIRS);
    h_finish(h);
    h_free(h);
}

/* A connection that set its MSL keeps its options record as a minisock,
 * which counts it and whose TIME_WAIT lasts the connection's 2 MSL; a
 * child takes its listener's MSL. The record goes with the minisock
 * (LeakSanitizer, under ASan). */
static void a_minisock_keeps_its_connections_msl(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("rfc9293"));
    tcp_stack *a = h_stack(h, H_A), *b = h_stack(h, H_B);
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    assert_int_equal(tcp_setopt(b, l, TCP_OPT_MSL_NS, H_S(3)), TCP_OK);
    tcp_sock_id c;
    assert_int_equal(tcp_socket(a, &c), TCP_OK);
    assert_int_equal(tcp_setopt(a, c, TCP_OPT_MSL_NS, H_S(2)), TCP_OK);
    assert_int_equal(tcp_connect(a, c, h_addr(h, H_B), 80), TCP_OK);
    h_settle(h);
    tcp_sock_id srv = h_accept(h, H_B, l);
    assert_int_equal(opt_of(b, srv, TCP_OPT_MSL_NS), H_S(3));
    assert_int_equal(tcp_close(a, c), TCP_OK);
    h_settle(h);
    assert_int_equal(tcp_close(b, srv), TCP_OK);
    h_settle(h);
    const tcp_tw *tw = tcp_stack_find_tw(a, c);
    assert_non_null(tw);
    assert_non_null(tw->opts);
    tcp_mem m;
    tcp_stack_mem(a, &m);
    assert_int_equal(m.tw_bytes, sizeof(tcp_tw) + sizeof(tcp_conn_opts));
    uint64_t start = h_now(h);
    tcp_tcb t;
    assert_int_equal(tcp_sock_tcb(a, c, &t), 0);
    assert_int_equal(t.timer_at[TCP_TIMER_TIME_WAIT] - start, 2 * H_S(2));
    h_advance(h, 2 * H_S(2) - 1);
    assert_non_null(tcp_stack_find_tw(a, c));
    h_advance(h, 1);
    assert_null(tcp_stack_find_tw(a, c));
    assert_int_equal(tcp_stack_conns(a), 0);
    h_finish(h);
    h_free(h);
}

/* ---- TIME_WAIT as a minisock meets it ------------------------------------------ */

/* The side that closes first ends in TIME_WAIT, released: a minisock. */
static h_pair to_minisock(harness *h, size_t first, size_t second, tcp_sock_id *tw_id)
{
    h_pair p = h_establish(h, H_A, H_B, 80);
    tcp_sock_id ids[2] = {p.client, p.server};
    tcp_close(h_stack(h, first), ids[first]);
    h_settle(h);
    tcp_close(h_stack(h, second), ids[second]);
    h_settle(h);
    *tw_id = ids[first];
    h_expect_state(h, first, *tw_id, TCP_TIME_WAIT);
    assert_null(tcp_stack_find(h_stack(h, first), *tw_id));
    assert_non_null(tcp_stack_find_tw(h_stack(h, first), *tw_id));
    h_sent_skip(h, H_A);
    h_sent_skip(h, H_B);
    return p;
}

/* A stack pays for its minisock pool only while it holds minisocks: none
 * before the first (nor ever on the side that closed second), the pool
 * record with the first, counted by tcp_stack_mem, and gone with the
 * last, when its TIME_WAIT ends (RFC 9293 §3.10.8: 2 MSL). */
static void the_minisock_pool_lives_with_its_minisocks(void **state)
{
    (void)state;
    harness *h = h_new(2, h_profile_exact("rfc9293"));
    tcp_stack *a = h_stack(h, H_A), *b = h_stack(h, H_B);
    assert_null(a->tw_pool);
    tcp_sock_id c;
    to_minisock(h, H_A, H_B, &c);
    assert_non_null(a->tw_pool);
    assert_int_equal(a->tw_pool->used, 1);
    assert_null(b->tw_pool);
    tcp_mem m;
    tcp_stack_mem(a, &m);
    assert_int_equal(m.tws, 1);
    assert_true(m.total_bytes >= sizeof *a + sizeof(tcp_pool) + sizeof(tcp_tw));
    h_advance(h, 2 * h_profile_exact("rfc9293")->msl_ns + 1000000000ull);
    h_expect_state(h, H_A, c, TCP_CLOSED);
    assert_null(a->tw_pool);
    tcp_stack_mem(a, &m);
    assert_int_equal(m.tws, 0);
    h_finish(h);
    h_free(h);
}

/* A simultaneous close (RFC 9293 §3.6, Figure 13): each end's FIN meets
 * the other's in FIN-WAIT-1, so each goes through CLOSING and reaches
 * TIME-WAIT only when its own FIN is acknowledged; there SND.UNA = SND.NXT
 * = SND.MAX = ISS + 2 (the SYN and the FIN, no data). Both ends become
 * minisocks, and the connection each gives back has those values. */
static void a_simultaneous_close_ends_in_two_minisocks_with_our_fin_acked(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        harness *h = h_new(2, h_profile_exact(names[i]));
        h_pair p = h_establish(h, H_A, H_B, 80);
        tcp_sock_id ids[2] = {p.client, p.server};
        for (size_t k = 0; k < 2; k++)
            assert_int_equal(tcp_close(h_stack(h, k), ids[k]), TCP_OK);
        h_settle(h);
        for (size_t k = 0; k < 2; k++) {
            tcp_stack *st = h_stack(h, k);
            h_expect_state(h, k, ids[k], TCP_TIME_WAIT);
            const h_event *e = h_last_transition(h, k, ids[k]);
            assert_int_equal(e->from, TCP_CLOSING); /* the close was simultaneous */
            assert_non_null(tcp_stack_find_tw(st, ids[k]));
            tcp_tcb t;
            assert_int_equal(tcp_sock_tcb(st, ids[k], &t), 0);
            assert_int_equal(t.snd_una, t.iss + 2u);
            assert_int_equal(t.snd_nxt, t.iss + 2u);
            assert_int_equal(t.snd_max, t.iss + 2u);
            assert_int_equal(t.rcv_nxt, t.irs + 2u);
        }
        h_free(h);
    }
}

/* RFC 9293 §3.10.7.4, TIME-WAIT: "The only thing that can arrive in this
 * state is a retransmission of the remote FIN. Acknowledge it, and restart
 * the 2 MSL timeout." <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the minisock
 * stays one, its counters and TCB moved on. */
static void minisock_acks_a_retransmitted_fin_and_restarts_2msl(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    const uint64_t tw_ns[] = {H_S(240), H_S(60), H_S(60)};
    for (size_t i = 0; i < 3; i++) {
        harness *h = h_new(2, h_profile_exact(names[i]));
        tcp_sock_id c;
        to_minisock(h, H_A, H_B, &c);
        tcp_stack *a = h_stack(h, H_A);
        tcp_seg fin = h_template(h, H_A, c); /* seq = RCV.NXT, ack = SND.NXT */
        uint32_t rcv_nxt = fin.seq, snd_nxt = fin.ack;
        fin.flags = TCP_FIN | TCP_ACK;
        fin.seq = rcv_nxt - 1u; /* the peer's FIN again */
        h_run(h, h_now(h) + H_S(5));
        uint64_t segs_in = tcp_sock_stats(a, c)->segs_in;
        uint64_t segs_out = tcp_sock_stats(a, c)->segs_out;
        h_inject(h, H_A, &fin);
        h_expect_sent(h, H_A, TCP_ACK, snd_nxt, rcv_nxt, 0);
        h_drop(h); /* B, CLOSED, would answer it with an RST */
        assert_int_equal(h_count(h, H_A, c, TCP_EV_TIMER_RESTART), 1);
        tcp_tcb t;
        assert_int_equal(tcp_sock_tcb(a, c, &t), 0);
        assert_int_equal(t.state, TCP_TIME_WAIT);
        assert_int_equal(t.timer_at[TCP_TIMER_TIME_WAIT], h_now(h) + tw_ns[i]);
        assert_int_equal(t.snd_nxt, snd_nxt);
        assert_int_equal(t.rcv_nxt, rcv_nxt);
        assert_int_equal(tcp_sock_stats(a, c)->segs_in, segs_in + 1);
        assert_int_equal(tcp_sock_stats(a, c)->segs_out, segs_out + 1);
        assert_non_null(tcp_stack_find_tw(a, c));
        uint64_t end = h_now(h) + tw_ns[i];
        h_run(h, end - 1);
        h_expect_state(h, H_A, c, TCP_TIME_WAIT);
        h_run(h, end);
        h_expect_conns(h, H_A, 0);
        assert_string_equal(h_last_transition(h, H_A, c)->note, "2MSL timeout");
        h_finish(h);
        h_free(h);
    }
}

/* A minisock keeps no MSS, and its ACK needs none: Linux's
 * tcp_timewait_sock keeps the window it offered on entering TIME_WAIT
 * (tcp_time_wait: tw_rcv_wnd = tcp_receive_window(tp)) and
 * tcp_v4_timewait_ack sends it again; FreeBSD's tcp_twstart keeps
 * tw->rcv_wnd and tcp_twrespond sends it. A client that announced an MSS
 * of 536 (TCP_OPT_MSS), not the profile's, answers the retransmitted FIN
 * from its minisock with the window of its last ACK before it. */
static void minisock_ack_offers_the_last_window_whatever_the_mss(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        harness *h = h_new(2, h_profile_exact(names[i]));
        tcp_stack *a = h_stack(h, H_A);
        tcp_sock_id l = h_listen(h, H_B, 80, 8), c = 0;
        assert_int_equal(tcp_socket(a, &c), TCP_OK);
        assert_int_equal(tcp_setopt(a, c, TCP_OPT_MSS, 536), TCP_OK);
        assert_int_equal(tcp_bind(a, c, 0), TCP_OK);
        assert_int_equal(tcp_connect(a, c, h_addr(h, H_B), 80), TCP_OK);
        h_settle(h);
        tcp_sock_id srv = h_accept(h, H_B, l);
        tcp_close(a, c);
        h_settle(h);
        tcp_close(h_stack(h, H_B), srv);
        h_settle(h);
        assert_non_null(tcp_stack_find_tw(a, c));
        uint16_t last_wnd = h_last_sent(h, H_A)->wnd; /* the ACK of B's FIN */
        h_sent_skip(h, H_A);
        tcp_seg fin = h_template(h, H_A, c);
        uint32_t rcv_nxt = fin.seq, snd_nxt = fin.ack;
        fin.flags = TCP_FIN | TCP_ACK;
        fin.seq = rcv_nxt - 1u;
        h_inject(h, H_A, &fin);
        h_expect_sent(h, H_A, TCP_ACK, snd_nxt, rcv_nxt, 0);
        assert_int_equal(h_last_sent(h, H_A)->wnd, last_wnd);
        h_drop(h);
        h_free(h);
    }
}

/* What the minisock's stack holds while its ACK leaves (the connection
 * rebuilt for the segment). */
typedef struct rebuilt_view {
    const tcp_stack *s;
    bool seen;
    uint32_t nchunks, tw_nchunks;
    const void *chunk0, *spare;
} rebuilt_view;

static h_verdict view_rebuilt(harness *h, const h_dgram *d, uint64_t *deliver_ns, void *arg)
{
    (void)h, (void)deliver_ns;
    rebuilt_view *v = arg;
    if (d->from == H_A && !v->seen) {
        v->seen = true;
        v->nchunks = v->s->pool.nchunks;
        v->chunk0 = v->s->pool.chunks;
        v->spare = tcp_stack_scratch(v->s)->spare_chunk;
        v->tw_nchunks = v->s->tw_pool ? v->s->tw_pool->nchunks : 0;
    }
    return H_PASS;
}

/* A stack whose only connection is a minisock parks its connection chunk
 * in the scratch space and keeps the minisock's chunk: a segment for the minisock is processed on a
 * connection rebuilt in the parked chunk, with the minisock's chunk kept for its return, and the
 * chunk is parked again as the call leaves. */
static void minisock_segment_reuses_the_parked_connection(void **state)
{
    (void)state;
    harness *h = h_new(2, h_linux_exact());
    tcp_sock_id c;
    to_minisock(h, H_A, H_B, &c);
    tcp_stack *a = h_stack(h, H_A);
    assert_int_equal(tcp_stack_conns(a), 1);
    assert_int_equal(a->pool.nchunks, 0);
    assert_null(a->pool.chunks);
    const void *parked = tcp_stack_scratch(a)->spare_chunk;
    assert_non_null(parked);
    assert_non_null(a->tw_pool);
    const void *tw_chunk = a->tw_pool->chunks;
    assert_non_null(tw_chunk);
    tcp_seg fin = h_template(h, H_A, c);
    fin.flags = TCP_FIN | TCP_ACK;
    fin.seq -= 1u; /* the peer's FIN again */
    rebuilt_view v = {.s = a};
    h_set_filter(h, &v, view_rebuilt);
    h_inject(h, H_A, &fin);
    h_set_filter(h, NULL, NULL);
    assert_true(v.seen); /* the ACK of RFC 9293 §3.10.7.4 */
    assert_int_equal(v.nchunks, 1);
    assert_ptr_equal(v.chunk0, parked); /* rebuilt in the parked chunk */
    assert_null(v.spare);
    assert_int_equal(v.tw_nchunks, 1); /* the minisock's chunk waits for its return */
    assert_non_null(tcp_stack_find_tw(a, c));
    assert_int_equal(a->pool.nchunks, 0);
    assert_ptr_equal(tcp_stack_scratch(a)->spare_chunk, parked); /* and parked again */
    assert_ptr_equal(a->tw_pool->chunks, tw_chunk);
    h_drop(h); /* B, CLOSED, would answer the ACK with an RST */
    h_finish(h);
    h_free(h);
}

/* An RST at RCV.NXT: RFC 9293 §3.10.7.4 (with RFC 5961 §3.2) ends
 * TIME-WAIT (rfc9293; linux: tcp_timewait_state_process kills the
 * minisock on an RST unless net.ipv4.tcp_rfc1337 is set, which it is not
 * by default); FreeBSD tcp_twcheck drops every RST (bsd, RFC 1337's
 * TIME-WAIT assassination remedy). */
static void minisock_meets_an_rst_per_profile(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    const bool ends[] = {true, true, false};
    for (size_t i = 0; i < 3; i++) {
        harness *h = h_new(2, h_profile_exact(names[i]));
        tcp_sock_id c;
        to_minisock(h, H_A, H_B, &c);
        tcp_seg rst = h_template(h, H_A, c);
        rst.flags = TCP_RST;
        rst.ack = 0;
        h_inject(h, H_A, &rst);
        h_expect_none_sent(h, H_A);
        if (ends[i]) {
            h_expect_conns(h, H_A, 0);
            assert_null(tcp_stack_find_tw(h_stack(h, H_A), c));
            assert_string_equal(h_last_transition(h, H_A, c)->note, "rcv RST");
        } else {
            h_expect_state(h, H_A, c, TCP_TIME_WAIT);
            assert_non_null(tcp_stack_find_tw(h_stack(h, H_A), c));
        }
        h_finish(h);
        h_free(h);
    }
}

/* A SYN above RCV.NXT for a server's minisock while it listens: rfc9293
 * answers with a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> and stays (RFC
 * 5961 §4.2); linux and bsd end TIME-WAIT and the listener answers the SYN
 * (FreeBSD tcp_twcheck closes the minisock and looks the SYN up again),
 * linux with ISN = SND.NXT + 65535 + 2 (tcp_timewait_state_process:
 * "isn = tcptw->tw_snd_nxt + 65535 + 2"). */
static void minisock_meets_a_syn_per_profile(void **state)
{
    (void)state;
    const char *names[] = {"rfc9293", "linux", "bsd"};
    for (size_t i = 0; i < 3; i++) {
        harness *h = h_new(2, h_profile_exact(names[i]));
        tcp_sock_id s;
        to_minisock(h, H_B, H_A, &s);
        tcp_seg syn = h_template(h, H_B, s);
        uint32_t rcv_nxt = syn.seq, snd_nxt = syn.ack;
        syn.flags = TCP_SYN;
        syn.seq = rcv_nxt + 100000u;
        syn.ack = 0;
        h_inject(h, H_B, &syn);
        if (i == 0) {
            h_expect_sent(h, H_B, TCP_ACK, snd_nxt, rcv_nxt, 0);
            h_expect_state(h, H_B, s, TCP_TIME_WAIT);
            assert_non_null(tcp_stack_find_tw(h_stack(h, H_B), s));
            assert_int_equal(tcp_sock_stats(h_stack(h, H_B), s)->challenge_acks, 1);
        } else {
            int64_t isn = i == 1 ? (int64_t)(uint32_t)(snd_nxt + 65535u + 2u) : H_ANY;
            h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, isn, rcv_nxt + 100001u, 0);
            h_expect_state(h, H_B, s, TCP_CLOSED);
            assert_null(tcp_stack_find_tw(h_stack(h, H_B), s));
            assert_string_equal(h_last_transition(h, H_B, s)->note, "rcv SYN (new connection)");
        }
        h_finish(h);
        h_free(h);
    }
}

/* ---- Listeners in the 4-tuple table ---------------------------------------- */

/* A SYN from `src`:`sport` to stack `to`'s port `dport`. */
static tcp_seg syn_from(const harness *h, size_t to, uint32_t src, uint16_t sport, uint16_t dport)
{
    tcp_seg s = {0};
    s.src_addr = src;
    s.dst_addr = h_addr(h, to);
    s.src_port = sport;
    s.dst_port = dport;
    s.flags = TCP_SYN;
    s.seq = 5000;
    s.wnd = 65535;
    return s;
}

/* A listener stands in the 4-tuple table as (lport, 0.0.0.0, 0). A hostile
 * segment from 0.0.0.0 port 0 carries that very tuple: it is dropped (RFC
 * 9293 §3.1 gives port 0 no use; RFC 1122 §3.2.1.3 allows 0.0.0.0 as a
 * source only while booting) and changes nothing. A peer at 0.0.0.0 with a
 * real port is an ordinary peer: its child sits beside the listener, and
 * outlives it, its own entry still found once the listener is gone and the
 * port answers SYNs with an RST (RFC 9293 §3.10.7.1). */
static void a_peer_at_address_0_is_not_the_listeners_entry(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("linux"));
    tcp_stack *b = h_stack(h, H_B);
    tcp_sock_id l = h_listen(h, H_B, 80, 8);
    tcp_seg syn = syn_from(h, H_B, 0, 0, 80);
    uint64_t malformed = tcp_stack_malformed(b);
    h_inject(h, H_B, &syn);
    h_expect_none_sent(h, H_B);
    h_expect_conns(h, H_B, 1);
    assert_int_equal(tcp_stack_malformed(b), malformed + 1);
    assert_ptr_equal(tcp_stack_lookup(b, 80, 0, 0), &tcp_stack_find_ls(b, l)->sk);

    syn.src_port = 4000;
    h_inject(h, H_B, &syn);
    const tcp_seg *sa = h_expect_sent(h, H_B, TCP_SYN | TCP_ACK, H_ANY, 5001, 0);
    tcp_seg ack = h_reply(sa);
    h_expect_conns(h, H_B, 2);
    assert_ptr_equal(tcp_stack_lookup(b, 80, 0, 0), &tcp_stack_find_ls(b, l)->sk);
    h_drop(h); /* the SYN,ACK has nowhere to go */
    h_inject(h, H_B, &ack);
    tcp_sock_id ch = h_accept(h, H_B, l);
    h_expect_state(h, H_B, ch, TCP_ESTABLISHED);

    assert_int_equal(tcp_close(b, l), TCP_OK);
    h_expect_state(h, H_B, l, TCP_CLOSED);
    assert_false(tcp_stack_listening(b, 80));
    syn.src_port = 4001;
    h_inject(h, H_B, &syn);
    h_expect_sent(h, H_B, TCP_RST | TCP_ACK, 0, 5001, 0); /* no listener */
    h_drop(h);
    ack.len = 1;
    ack.payload = (const uint8_t *)"x";
    h_inject(h, H_B, &ack);
    h_expect_recv(h, H_B, ch, "x");
    h_expect_state(h, H_B, ch, TCP_ESTABLISHED);
    assert_int_equal(tcp_abort(b, ch), TCP_OK);
    h_drop(h);
    h_expect_conns(h, H_B, 0);
    h_finish(h);
    h_free(h);
}

/* RFC 9293 §3.10.1: OPEN in LISTEN makes the listener active. Its
 * (lport, 0, 0) entry goes with it: a SYN for the port then meets no
 * listener (an RST), and another socket may listen there. */
static void a_listener_that_connects_leaves_its_entry(void **state)
{
    (void)state;
    harness *h = h_new(2, tcp_profile_find("rfc9293"));
    tcp_stack *a = h_stack(h, H_A);
    tcp_sock_id srv = h_listen(h, H_B, 80, 8);
    tcp_sock_id l = h_listen(h, H_A, 90, 8);
    assert_int_equal(tcp_connect(a, l, h_addr(h, H_B), 80), TCP_OK);
    h_settle(h);
    h_expect_state(h, H_A, l, TCP_ESTABLISHED);
    assert_false(tcp_stack_listening(a, 90));
    assert_non_null(tcp_stack_find(a, l)); /* a connection in a pool slot again */
    assert_null(tcp_stack_find_ls(a, l));
    h_sent_skip(h, H_A);
    tcp_seg syn = syn_from(h, H_A, h_addr(h, H_B), 4000, 90);
    h_inject(h, H_A, &syn);
    h_expect_sent(h, H_A, TCP_RST | TCP_ACK, 0, 5001, 0);
    h_drop(h);
    tcp_sock_id l2 = h_listen(h, H_A, 90, 8);
    assert_ptr_equal(tcp_stack_lookup(a, 90, 0, 0), &tcp_stack_find_ls(a, l2)->sk);
    assert_int_equal(tcp_close(a, l2), TCP_OK);
    assert_false(tcp_stack_listening(a, 90));
    h_expect_state(h, H_A, l, TCP_ESTABLISHED);
    (void)srv;
    h_finish(h);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring_grows_keeping_every_offset),
        cmocka_unit_test(empty_rings_are_parked_and_taken_again),
        cmocka_unit_test(ports_follow_rfc6056_until_exhausted_and_empty_after),
        cmocka_unit_test(pool_grows_in_doubling_chunks),
        cmocka_unit_test(connection_and_stack_sizes_hold_their_bounds),
        cmocka_unit_test(equal_deadlines_fire_in_arming_order_across_the_renumbering),
        cmocka_unit_test(a_full_heap_keeps_its_order_across_the_renumbering),
        cmocka_unit_test(a_small_stack_allocates_no_index),
        cmocka_unit_test(the_first_port_lives_in_the_stack),
        cmocka_unit_test(a_listener_pays_for_its_queues_alone),
        cmocka_unit_test(shared_scratch_survives_a_send_from_inside_another_send),
        cmocka_unit_test(rings_are_released_once_empty),
        cmocka_unit_test(lent_ring_bytes_stay_until_released),
        cmocka_unit_test(a_segment_starting_the_ring_is_lent_and_outlives_its_stack),
        cmocka_unit_test(lent_segments_survive_dup_retransmission_and_crash),
        cmocka_unit_test(idle_established_costs_under_1_kib),
        cmocka_unit_test(time_wait_minisock_costs_under_256_bytes),
        cmocka_unit_test(a_simultaneous_close_ends_in_two_minisocks_with_our_fin_acked),
        cmocka_unit_test(minisock_acks_a_retransmitted_fin_and_restarts_2msl),
        cmocka_unit_test(minisock_ack_offers_the_last_window_whatever_the_mss),
        cmocka_unit_test(minisock_segment_reuses_the_parked_connection),
        cmocka_unit_test(the_minisock_pool_lives_with_its_minisocks),
        cmocka_unit_test(options_record_is_paid_for_by_a_connection_that_sets_one),
        cmocka_unit_test(a_child_inherits_its_listeners_options_record),
        cmocka_unit_test(a_minisock_keeps_its_connections_msl),
        cmocka_unit_test(engine_state_is_paid_for_by_the_profiles_that_use_it),
        cmocka_unit_test(a_parked_chunk_goes_to_a_stack_of_its_slot_size),
        cmocka_unit_test(minisock_meets_an_rst_per_profile),
        cmocka_unit_test(minisock_meets_a_syn_per_profile),
        cmocka_unit_test(a_peer_at_address_0_is_not_the_listeners_entry),
        cmocka_unit_test(a_listener_that_connects_leaves_its_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
