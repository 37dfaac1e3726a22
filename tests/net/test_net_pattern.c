/*
 * test_net_pattern — net_send's pattern (data NULL) goes out as split
 * packets (sim_packet.h, "Split bytes"): headers of their own, the payload
 * read in the net's pattern. Checked: a run sending the pattern traces,
 * byte for byte, what a run sending a copy of the same bytes traces, on a
 * link that loses, duplicates, reorders and corrupts; the data packets in
 * flight hold only their headers; the rules see the whole datagram;
 * corruption never reaches the pattern (every later byte arrives right).
 * A is 10.0.0.1, B 10.0.0.2, one link of 10 ms each way.
 */
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"
#include "sim_packet.h"
#include "tcp_wire.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define MS     1000000ull
#define TOTAL  60000u

/* What a run's trace and rules saw. */
typedef struct seen {
    uint64_t hash;    /* FNV-1a over every record's text line and bytes */
    uint32_t records; /* trace records */
    uint32_t kinds[SIM_TR_HOST + 1];
    uint32_t data;  /* data segments the rule saw */
    uint32_t split; /* ... of which in a split packet */
    uint32_t wrong; /* ... whose payload was not the pattern at its offset */
    uint32_t isn;   /* A's ISN (from its SYN) */
} seen;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void trace(void *ctx, const sim_trace_rec *rec)
{
    seen *s = ctx;
    char line[256];
    size_t n = sim_trace_format(rec, line, sizeof line);
    s->hash = fnv(s->hash, line, n < sizeof line ? n : sizeof line - 1);
    if (rec->bytes && rec->kind != SIM_TR_HOST)
        s->hash = fnv(s->hash, rec->bytes, rec->len);
    s->records++;
    s->kinds[rec->kind]++;
}

static sim_fault_verdict look(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    seen *s = ctx;
    if (v->seg->flags & TCP_SYN && v->dir == 0)
        s->isn = v->seg->seq;
    if (v->dir == 0 && v->seg->len > 0) {
        s->data++;
        s->split += sim_packet_head_len(v->packet) < v->packet->len;
        tcp_seg g; /* the bytes given are the whole datagram, checksums right */
        if (tcp_wire_parse(v->bytes, v->packet->len, &g) != TCP_WIRE_OK)
            s->wrong++;
        for (uint32_t i = 0; i < v->seg->len; i++)
            if (v->seg->payload[i] != 'a' + (v->seg->seq - s->isn - 1 + i) % 26)
                s->wrong++;
    }
    return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
}

/* One run: A sends TOTAL bytes (the pattern, or `copy`) to B on a link
 * with every fault the core draws; B reads as they arrive. Returns B's
 * record. */
static uint32_t run(net **out, seen *s, const char *copy, const sim_link_params *lp)
{
    net *n = net_new(42);
    uint32_t a, b, link, l, c, srv;
    const tcp_profile *p = tcp_profile_find("linux");
    assert_int_equal(net_host_add(n, "A", A_ADDR, p, &a), 0);
    assert_int_equal(net_host_add(n, "B", B_ADDR, p, &b), 0);
    assert_int_equal(net_link_add(n, a, b, lp, lp, &link), 0);
    sim_world_set_trace(net_world(n), trace, s);
    net_rule_opts look_all = {.action = NET_RULE_HOOK,
                              .filter = {.dir = -1, .len = -1},
                              .count = UINT32_MAX,
                              .hook = look,
                              .ctx = s};
    uint32_t r;
    assert_int_equal(net_rule_add(n, link, &look_all, &r), 0);
    net_listen_opts lo = {.port = 80, .backlog = 4, .autoread = true};
    assert_int_equal(net_listen(n, b, &lo, &l), 0);
    net_connect_opts co = {.raddr = B_ADDR, .rport = 80};
    assert_int_equal(net_connect(n, a, &co, &c), 0);
    sim_world *w = net_world(n);
    for (uint64_t t = 100; net_accept(n, l, &srv) != 0; t += 100) { /* SYNs may be lost */
        assert_true(t < 60000);
        sim_world_run_until_time(w, t * MS);
    }
    net_set_autoread(n, srv, true);
    assert_int_equal(net_send(n, c, copy, TOTAL), 0);
    sim_world_run_until_time(w, 600000 * MS);
    *out = n;
    return srv;
}

static void a_pattern_run_traces_what_a_copy_run_traces(void **state)
{
    (void)state;
    static char copy[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        copy[i] = (char)('a' + i % 26);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    lp.loss_ppb = 100000000;      /* 10% */
    lp.duplicate_ppb = 100000000; /* clones of split packets are split */
    lp.reorder_ppb = 100000000;
    lp.reorder_delay_ns = 5 * MS;
    lp.corrupt_ppb = 100000000; /* a corrupted packet takes bytes of its own */
    seen ps = {.hash = 14695981039346656037ull}, cs = ps;
    net *pn, *cn;
    uint32_t psrv = run(&pn, &ps, NULL, &lp);
    uint32_t csrv = run(&cn, &cs, copy, &lp);
    assert_true(ps.kinds[SIM_TR_CORRUPT] > 0 && ps.kinds[SIM_TR_DUPLICATE] > 0);
    assert_true(ps.kinds[SIM_TR_DROP] > 0 && ps.kinds[SIM_TR_DELAY] > 0);
    assert_int_equal(ps.records, cs.records);
    assert_true(ps.hash == cs.hash);
    assert_int_equal(ps.data, cs.data);
    assert_true(ps.data > TOTAL / 1448);
    assert_int_equal(ps.split, ps.data); /* every data segment in flight held its headers only */
    assert_int_equal(cs.split, 0);
    assert_int_equal(ps.wrong, 0);
    assert_int_equal(cs.wrong, 0);
    const net_sock *k = net_sock_at(pn, psrv);
    assert_int_equal(k->nrx, TOTAL);
    assert_memory_equal(k->rx, copy, TOTAL); /* corruption never reached the pattern */
    assert_int_equal(net_sock_at(cn, csrv)->nrx, TOTAL);
    net_free(pn);
    net_free(cn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pattern_run_traces_what_a_copy_run_traces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
