/*
 * test_determinism — rule 4 of sim_world.h: the same seed and the same
 * calls give the same trace, byte for byte; another seed gives another
 * trace; and a link direction's random fate depends on its own stream only,
 * not on what else the world contains or the order things were created in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim_host.h"
#include "sim_link.h"
#include "sim_world.h"

/* The trace as text, each line followed by a hash of the record's bytes so
 * that corrupted or differently filled packets also show. */
typedef struct text {
    char *buf;
    size_t len, cap;
} text;

static void append(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void sink(void *ctx, const sim_trace_rec *rec)
{
    char line[256];
    size_t n = sim_trace_format(rec, line, sizeof line);
    assert_true(n < sizeof line - 24);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < rec->len; i++)
        h = (h ^ rec->bytes[i]) * 16777619u;
    static const char hex[] = "0123456789abcdef";
    line[n++] = ' ';
    for (int i = 7; i >= 0; i--)
        line[n++] = hex[(h >> (4 * i)) & 15];
    line[n++] = '\n';
    append(ctx, line, n);
}

/* A host that sends `left` datagrams to `peer` at random intervals and sizes
 * (its own stream), and answers some of what it receives. */
typedef struct node {
    sim_world *w;
    sim_host *h;
    sim_rng rng;
    sim_timer timer;
    uint32_t peer;
    int left;
} node;

static void send_to(node *n, uint32_t dst, size_t len)
{
    sim_packet *p = sim_packet_new(n->w, len);
    uint32_t src = sim_host_addr(n->h);
    for (size_t i = 0; i < len; i++)
        p->data[i] = (uint8_t)sim_rng_next(&n->rng);
    for (int i = 0; i < 4; i++) {
        p->data[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        p->data[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    sim_host_send(n->h, p);
}

static void node_tick(sim_timer *t, void *arg)
{
    (void)t;
    node *n = arg;
    send_to(n, n->peer, 20 + (size_t)sim_rng_below(&n->rng, 1480));
    if (--n->left > 0)
        sim_world_arm_in(n->w, &n->timer, 1 + sim_rng_below(&n->rng, 2 * SIM_MS));
}

static void node_receive(void *ctx, sim_host *h, sim_packet *p)
{
    node *n = ctx;
    uint32_t from = sim_packet_src(p);
    sim_packet_free(sim_host_world(h), p);
    if (sim_rng_chance(&n->rng, 300000000))
        send_to(n, from, 40);
}

static void node_init(node *n, sim_world *w, const char *name, uint32_t addr, uint32_t peer,
                      int count)
{
    memset(n, 0, sizeof *n);
    n->w = w;
    assert_int_equal(sim_host_add(w, name, addr, &n->h), 0);
    char stream[40] = "host:";
    strcat(stream, name);
    sim_world_rng(w, &n->rng, stream);
    n->peer = peer;
    n->left = count;
    sim_host_set_receiver(n->h, node_receive, n);
    sim_timer_init(&n->timer, node_tick, n);
    sim_world_arm_in(w, &n->timer, sim_rng_below(&n->rng, SIM_MS));
}

/* A fault hook that holds every 17th packet and releases all held ones
 * every 30 ms. */
typedef struct holder {
    sim_world *w;
    sim_link *l;
    sim_timer timer;
    int seen;
} holder;

static sim_fault_verdict hold_some(void *ctx, sim_link *l, int dir, const sim_packet *p)
{
    (void)l;
    (void)dir;
    (void)p;
    holder *k = ctx;
    bool hold = ++k->seen % 17 == 0;
    return (sim_fault_verdict){hold ? SIM_FAULT_HOLD : SIM_FAULT_PASS, 0, 0};
}

static void release_all(sim_timer *t, void *arg)
{
    holder *k = arg;
    sim_link_release(k->l, 0, 0);
    if (sim_world_now(k->w) < 2 * SIM_S)
        sim_world_arm_in(k->w, t, 30 * SIM_MS);
}

static void impaired(sim_link_params *p)
{
    sim_link_params_default(p);
    p->delay_ns = 5 * SIM_MS;
    p->jitter_ns = 2 * SIM_MS;
    p->bandwidth_bps = 5000000;
    p->queue_packets = 8;
    p->loss_ppb = 20000000;
    p->duplicate_ppb = 10000000;
    p->reorder_ppb = 50000000;
    p->reorder_delay_ns = 3 * SIM_MS;
    p->corrupt_ppb = 10000000;
}

/* Three hosts in a line A - B - C with traffic A<->B and C<->B, a hook on
 * A>B and a partition of C>B from 0.5s to 0.8s. Returns the trace. */
static text scenario(uint64_t seed)
{
    text t = {0};
    sim_world *w = sim_world_new(seed);
    sim_world_set_trace(w, sink, &t);
    node a, b, c;
    node_init(&a, w, "A", 0x0a000001, 0x0a000002, 600);
    node_init(&b, w, "B", 0x0a000002, 0x0a000001, 600);
    node_init(&c, w, "C", 0x0a000003, 0x0a000002, 600);
    sim_link_params p;
    impaired(&p);
    sim_link *ab, *cb;
    assert_int_equal(sim_link_add(w, a.h, b.h, &p, &p, &ab), 0);
    assert_int_equal(sim_link_add(w, c.h, b.h, &p, &p, &cb), 0);
    holder k = {.w = w, .l = ab};
    sim_link_set_fault_hook(ab, 0, hold_some, &k);
    sim_timer_init(&k.timer, release_all, &k);
    sim_world_arm_in(w, &k.timer, 30 * SIM_MS);
    sim_link_set_up_at(cb, 0, 500 * SIM_MS, false);
    sim_link_set_up_at(cb, 0, 800 * SIM_MS, true);
    assert_int_equal(sim_world_run(w), SIM_RUN_IDLE);
    sim_link_release(ab, 0, 0);
    assert_int_equal(sim_world_run(w), SIM_RUN_IDLE);
    assert_int_equal(sim_packets_in_use(w), 0);
    sim_world_free(w);
    return t;
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    text x = scenario(7), y = scenario(7);
    assert_true(x.len > 100000); /* a real workload, not an empty trace */
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.buf, y.buf, x.len);
    /* Every kind of impairment happened. */
    const char *must[] = {
        "reason=loss",   "reason=queue", "reason=link_down", "DUPLICATE", "CORRUPT",
        "cause=reorder", "HOLD",         "RELEASE",          " down ",    " up "};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(x.buf, must[i]))
            fail_msg("no \"%s\" in the trace", must[i]);
    free(x.buf);
    free(y.buf);
}

static void test_different_seed_different_bytes(void **state)
{
    (void)state;
    text x = scenario(7), y = scenario(8);
    assert_true(x.len != y.len || memcmp(x.buf, y.buf, x.len) != 0);
    free(x.buf);
    free(y.buf);
}

/* Sends 100-byte datagrams every 0.7ms and records each one's fate: its
 * delivery time, or its drop reason (a small number). */
typedef struct sent {
    sim_world *w;
    sim_host *from;
    sim_timer timer;
    uint32_t dst;
    int left;
    uint32_t ids[512];
    sim_time_t fate[512];
    int n;
} sent;

static void sent_tick(sim_timer *t, void *arg)
{
    sent *s = arg;
    sim_packet *p = sim_packet_new(s->w, 100);
    memset(p->data, 0, 100);
    for (int i = 0; i < 4; i++)
        p->data[16 + i] = (uint8_t)(s->dst >> (24 - 8 * i));
    s->ids[s->n++] = p->id;
    sim_host_send(s->from, p);
    if (--s->left > 0)
        sim_world_arm_in(s->w, t, 700 * SIM_US);
}

static void discard(void *ctx, sim_host *h, sim_packet *p)
{
    (void)ctx;
    sim_packet_free(sim_host_world(h), p);
}

typedef struct watch {
    sent *s;
    uint32_t link_id;
} watch;

static void watch_sink(void *ctx, const sim_trace_rec *rec)
{
    watch *wt = ctx;
    if (rec->link_id != wt->link_id || rec->dir != 0)
        return;
    if (rec->kind != SIM_TR_DELIVER && rec->kind != SIM_TR_DROP)
        return;
    for (int i = 0; i < wt->s->n; i++)
        if (wt->s->ids[i] == rec->packet_id)
            wt->s->fate[i] = rec->kind == SIM_TR_DROP ? rec->reason : rec->time;
}

/* Runs 400 packets over A>B, optionally with a busy link A-C created first
 * and hosts created in another order; returns each packet's fate. */
static void fates(bool crowded, sim_time_t *out)
{
    sim_world *w = sim_world_new(1234);
    sim_host *a, *b, *c = NULL;
    if (crowded) {
        sim_host_add(w, "C", 3, &c);
        sim_host_add(w, "B", 2, &b);
        sim_host_add(w, "A", 1, &a);
    } else {
        sim_host_add(w, "A", 1, &a);
        sim_host_add(w, "B", 2, &b);
    }
    sim_link_params p;
    impaired(&p);
    sim_link *ab;
    static sent s_ab, s_ac;
    memset(&s_ab, 0, sizeof s_ab);
    memset(&s_ac, 0, sizeof s_ac);
    if (crowded) {
        sim_link_add(w, a, c, &p, &p, NULL);
        sim_host_set_receiver(c, discard, NULL);
        s_ac = (sent){.w = w, .from = a, .dst = 3, .left = 400};
        sim_timer_init(&s_ac.timer, sent_tick, &s_ac);
        sim_world_arm_at(w, &s_ac.timer, 0);
    }
    sim_link_add(w, a, b, &p, &p, &ab);
    sim_host_set_receiver(b, discard, NULL);
    s_ab = (sent){.w = w, .from = a, .dst = 2, .left = 400};
    sim_timer_init(&s_ab.timer, sent_tick, &s_ab);
    sim_world_arm_at(w, &s_ab.timer, 0);
    watch wt = {&s_ab, sim_link_id(ab)};
    sim_world_set_trace(w, watch_sink, &wt);
    assert_int_equal(sim_world_run(w), SIM_RUN_IDLE);
    assert_int_equal(s_ab.n, 400);
    memcpy(out, s_ab.fate, 400 * sizeof *out);
    assert_int_equal(sim_packets_in_use(w), 0);
    sim_world_free(w);
}

static void test_link_fate_independent_of_other_links(void **state)
{
    (void)state;
    static sim_time_t alone[400], crowded[400];
    fates(false, alone);
    fates(true, crowded);
    int dropped = 0;
    for (int i = 0; i < 400; i++)
        dropped += alone[i] < 16;
    assert_true(dropped > 0);                          /* losses and tail drops happened... */
    assert_memory_equal(alone, crowded, sizeof alone); /* ...identically */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_different_seed_different_bytes),
        cmocka_unit_test(test_link_fate_independent_of_other_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
