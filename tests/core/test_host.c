/*
 * test_host — the contract of sim_host.h (and the bookkeeping half of
 * sim_link.h): adding and finding hosts and links, their errors, routing a
 * sent datagram by its IPv4 destination, NO_ROUTE and NO_RECEIVER drops, and
 * host reports in the trace.
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
#include "sim_internal.h" /* the route each host remembers */
#include "sim_link.h"
#include "sim_world.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

typedef struct fx {
    sim_world *w;
    char lines[64][160]; /* the trace, formatted */
    int nlines;
    int received;
    uint32_t last_host;
} fx;

static void sink(void *ctx, const sim_trace_rec *rec)
{
    fx *f = ctx;
    assert_true(f->nlines < 64);
    sim_trace_format(rec, f->lines[f->nlines++], sizeof f->lines[0]);
}

static void receive(void *ctx, sim_host *h, sim_packet *p)
{
    fx *f = ctx;
    f->received++;
    f->last_host = sim_host_id(h);
    sim_packet_free(sim_host_world(h), p);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->w = sim_world_new(1);
    sim_world_set_trace(f->w, sink, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    assert_int_equal(sim_packets_in_use(f->w), 0);
    sim_world_free(f->w);
    free(f);
    return 0;
}

static sim_packet *datagram(sim_world *w, uint32_t src, uint32_t dst, size_t len)
{
    sim_packet *p = sim_packet_new(w, len);
    memset(p->data, 0, len);
    core_test_ipv4(p->data, src, dst);
    return p;
}

static void test_add_and_find_hosts(void **state)
{
    fx *f = *state;
    sim_host *a = NULL, *b = NULL;
    assert_int_equal(sim_host_add(f->w, "A", IP(10, 0, 0, 1), &a), 0);
    assert_int_equal(sim_host_add(f->w, "server-1", IP(10, 0, 0, 2), &b), 0);
    assert_int_equal(sim_host_count(f->w), 2);
    assert_int_equal(sim_host_id(a), 0);
    assert_int_equal(sim_host_id(b), 1);
    assert_string_equal(sim_host_name(b), "server-1");
    assert_int_equal(sim_host_addr(b), IP(10, 0, 0, 2));
    assert_ptr_equal(sim_host_world(a), f->w);
    assert_ptr_equal(sim_host_by_name(f->w, "A"), a);
    assert_ptr_equal(sim_host_by_addr(f->w, IP(10, 0, 0, 2)), b);
    assert_ptr_equal(sim_host_by_id(f->w, 1), b);
    assert_null(sim_host_by_name(f->w, "B"));
    assert_null(sim_host_by_addr(f->w, IP(10, 0, 0, 3)));
    assert_null(sim_host_by_id(f->w, 2));
}

/* Hosts PREFIX<i> at 10.0.0.0 + i, for i from 0 below n by step: each
 * found by name, address and id as the same host. */
static void assert_numbered_hosts_found(const sim_world *w, const char *prefix, uint32_t n,
                                        uint32_t step)
{
    for (uint32_t i = 0; i < n; i += step) {
        char name[16];
        snprintf(name, sizeof name, "%s%u", prefix, i);
        sim_host *h = sim_host_by_name(w, name);
        assert_non_null(h);
        assert_int_equal(sim_host_id(h), i);
        assert_ptr_equal(sim_host_by_addr(w, IP(10, 0, 0, 0) + i), h);
        assert_ptr_equal(sim_host_by_id(w, i), h);
    }
}

/* Hosts with ids below n, by step: each found by its own name and
 * address. */
static void assert_hosts_found_as_themselves(const sim_world *w, uint32_t n, uint32_t step)
{
    for (uint32_t id = 0; id < n; id += step) {
        sim_host *h = sim_host_by_id(w, id);
        assert_ptr_equal(sim_host_by_name(w, sim_host_name(h)), h);
        assert_ptr_equal(sim_host_by_addr(w, sim_host_addr(h)), h);
    }
}

static void test_many_hosts_stay_addressable(void **state)
{
    fx *f = *state;
    enum { N = 5000 }; /* several chunks and index growths */
    for (uint32_t i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        assert_int_equal(sim_host_add(f->w, name, IP(10, 0, 0, 0) + i, NULL), 0);
    }
    assert_numbered_hosts_found(f->w, "h", N, 7);
}

/* Names are kept back to back in the world's chunks: names of every
 * length up to SIM_NAME_MAX, over several chunks, each read back whole and
 * found by name, and a name's pointer taken early is the same after
 * thousands more hosts (no name ever moves). */
static void test_names_are_kept_whole_and_never_move(void **state)
{
    fx *f = *state;
    enum { N = 3000 }; /* about 50 KB of names: a dozen chunks */
    char name[SIM_NAME_MAX + 1];
    const char *first = NULL;
    for (uint32_t i = 0; i < N; i++) {
        size_t len = 1 + i % SIM_NAME_MAX;
        int n = snprintf(name, sizeof name, "%u-", i);
        memset(name + n, 'a' + (char)(i % 26), sizeof name - (size_t)n);
        name[len > (size_t)n ? len : (size_t)n] = '\0';
        sim_host *h;
        assert_int_equal(sim_host_add(f->w, name, IP(10, 1, 0, 0) + i, &h), 0);
        assert_string_equal(sim_host_name(h), name);
        if (i == 0)
            first = sim_host_name(h);
    }
    assert_ptr_equal(sim_host_name(sim_host_by_id(f->w, 0)), first);
    for (uint32_t i = 0; i < N; i++) {
        const char *kept = sim_host_name(sim_host_by_id(f->w, i));
        assert_ptr_equal(sim_host_by_name(f->w, kept), sim_host_by_id(f->w, i));
        assert_true(strlen(kept) <= SIM_NAME_MAX);
        snprintf(name, sizeof name, "%u-", i);
        assert_memory_equal(kept, name, strlen(name));
    }
}

static void test_host_errors(void **state)
{
    fx *f = *state;
    assert_int_equal(sim_host_add(f->w, "A", 1, NULL), 0);
    assert_int_equal(sim_host_add(f->w, "", 2, NULL), -1);
    assert_string_equal(sim_world_error(f->w), "a host needs a name");
    assert_int_equal(sim_host_add(f->w, "A", 2, NULL), -1);
    assert_string_equal(sim_world_error(f->w), "a host named \"A\" already exists");
    assert_int_equal(sim_host_add(f->w, "B", 1, NULL), -1);
    assert_string_equal(sim_world_error(f->w), "host B: address 0.0.0.1 is already used by host A");
    char longname[SIM_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(sim_host_add(f->w, longname, 3, NULL), -1);
    assert_non_null(strstr(sim_world_error(f->w), "longer than 31"));
    longname[SIM_NAME_MAX] = '\0'; /* exactly 31: fine */
    assert_int_equal(sim_host_add(f->w, longname, 3, NULL), 0);
    assert_int_equal(sim_host_count(f->w), 2);
}

static void test_link_bookkeeping(void **state)
{
    fx *f = *state;
    sim_host *a, *b, *c;
    sim_host_add(f->w, "A", 1, &a);
    sim_host_add(f->w, "B", 2, &b);
    sim_host_add(f->w, "C", 3, &c);
    sim_link_params p;
    sim_link_params_default(&p);
    assert_int_equal(p.mtu, 1500);
    assert_true(p.up);
    assert_int_equal(p.delay_ns + p.bandwidth_bps + p.loss_ppb + p.queue_packets, 0);
    sim_link *ab, *cb;
    assert_int_equal(sim_link_add(f->w, a, b, &p, &p, &ab), 0);
    assert_int_equal(sim_link_add(f->w, c, b, &p, &p, &cb), 0);
    assert_int_equal(sim_link_count(f->w), 2);
    assert_int_equal(sim_link_id(cb), 1);
    assert_ptr_equal(sim_link_by_id(f->w, 1), cb);
    assert_null(sim_link_by_id(f->w, 2));
    assert_ptr_equal(sim_link_between(f->w, b, a), ab);
    assert_ptr_equal(sim_link_between(f->w, b, c), cb);
    assert_null(sim_link_between(f->w, a, c));
    assert_ptr_equal(sim_link_host(cb, 0), c);
    assert_ptr_equal(sim_link_host(cb, 1), b);
    assert_int_equal(sim_link_dir_from(cb, c), 0);
    assert_int_equal(sim_link_dir_from(cb, b), 1);
    assert_int_equal(sim_link_dir_from(cb, a), -1);
}

static void test_link_errors(void **state)
{
    fx *f = *state;
    sim_host *a, *b;
    sim_host_add(f->w, "A", 1, &a);
    sim_host_add(f->w, "B", 2, &b);
    sim_link_params p, bad;
    sim_link_params_default(&p);
    bad = p;
    bad.mtu = 20;
    assert_int_equal(sim_link_add(f->w, a, a, &p, &p, NULL), -1);
    assert_string_equal(sim_world_error(f->w), "a link joins two different hosts, got A twice");
    assert_int_equal(sim_link_add(f->w, a, b, &p, &bad, NULL), -1);
    assert_string_equal(sim_world_error(f->w), "link B>A: mtu must be in [68,65535], got 20");
    assert_int_equal(sim_link_count(f->w), 0);
    assert_int_equal(sim_link_add(f->w, a, b, &p, &p, NULL), 0);
    assert_int_equal(sim_link_add(f->w, b, a, &p, &p, NULL), -1);
    assert_string_equal(sim_world_error(f->w), "hosts B and A are already linked");
}

static void test_send_routes_by_destination(void **state)
{
    fx *f = *state;
    sim_host *a, *b, *c;
    sim_host_add(f->w, "A", IP(10, 0, 0, 1), &a);
    sim_host_add(f->w, "B", IP(10, 0, 0, 2), &b);
    sim_host_add(f->w, "C", IP(10, 0, 0, 3), &c);
    sim_link_params p;
    sim_link_params_default(&p);
    p.delay_ns = 50 * SIM_MS;
    sim_link_add(f->w, a, b, &p, &p, NULL);
    sim_link_add(f->w, a, c, &p, &p, NULL);
    sim_host_set_receiver(b, receive, f);
    sim_host_set_receiver(c, receive, f);
    sim_host_send(a, datagram(f->w, IP(10, 0, 0, 1), IP(10, 0, 0, 3), 40));
    assert_int_equal(sim_world_run(f->w), SIM_RUN_IDLE);
    assert_int_equal(f->received, 1);
    assert_int_equal(f->last_host, 2);
    assert_int_equal(f->nlines, 2);
    assert_string_equal(f->lines[0], "0.000000000 SEND host=0 link=1 dir=0 pkt=1 len=40");
    assert_string_equal(f->lines[1], "0.050000000 DELIVER host=2 link=1 dir=0 pkt=1 len=40");
}

/* Hosts A, B and C (10.0.0.1-3) with one default link, A-B. */
static void three_hosts_a_b_linked(fx *f, sim_host **a, sim_host **b, sim_host **c)
{
    sim_host_add(f->w, "A", IP(10, 0, 0, 1), a);
    sim_host_add(f->w, "B", IP(10, 0, 0, 2), b);
    sim_host_add(f->w, "C", IP(10, 0, 0, 3), c);
    sim_link_params p;
    sim_link_params_default(&p);
    sim_link_add(f->w, *a, *b, &p, &p, NULL);
}

static void test_send_without_route_is_dropped(void **state)
{
    fx *f = *state;
    sim_host *a, *b, *c;
    three_hosts_a_b_linked(f, &a, &b, &c);
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 3), 40)); /* no A-C link */
    sim_host_send(a, datagram(f->w, 0, IP(10, 9, 9, 9), 40)); /* nobody */
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 1), 40)); /* itself */
    sim_host_send(a, datagram(f->w, 0, 0, 12));               /* too short to route */
    assert_int_equal(sim_packets_in_use(f->w), 0);
    assert_int_equal(f->nlines, 4);
    assert_string_equal(f->lines[0], "0.000000000 DROP host=0 pkt=1 len=40 reason=no_route");
    assert_string_equal(f->lines[3], "0.000000000 DROP host=0 pkt=4 len=12 reason=no_route");
    assert_int_equal(sim_world_run(f->w), SIM_RUN_IDLE);
}

/* The route each host remembers (its last destination's link) must answer
 * as the lookup does: alternating destinations, a miss before the link
 * exists and a hit once it does. */
static void test_remembered_route_follows_the_destination(void **state)
{
    fx *f = *state;
    sim_host *a, *b, *c;
    three_hosts_a_b_linked(f, &a, &b, &c);
    sim_host_set_receiver(b, receive, f);
    sim_host_set_receiver(c, receive, f);
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 2), 40));
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 3), 40)); /* no A-C link yet */
    sim_link_params p;
    sim_link_params_default(&p);
    sim_link_add(f->w, a, c, &p, &p, NULL);
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 3), 40));
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 2), 40));
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 3), 40));
    assert_int_equal(sim_world_run(f->w), SIM_RUN_IDLE);
    assert_int_equal(f->received, 4);
    assert_int_equal(f->nlines, 9);
    assert_string_equal(f->lines[0], "0.000000000 SEND host=0 link=0 dir=0 pkt=1 len=40");
    assert_string_equal(f->lines[1], "0.000000000 DROP host=0 pkt=2 len=40 reason=no_route");
    assert_string_equal(f->lines[2], "0.000000000 SEND host=0 link=1 dir=0 pkt=3 len=40");
    assert_string_equal(f->lines[3], "0.000000000 SEND host=0 link=0 dir=0 pkt=4 len=40");
    assert_string_equal(f->lines[4], "0.000000000 SEND host=0 link=1 dir=0 pkt=5 len=40");
}

/* A link added gives each end without a route the other end as its
 * route; a host with one keeps it (A keeps B's when A-C comes). The
 * routes so given answer as the lookup would: every send goes on the link
 * between sender and destination, whichever route it starts from. */
static void test_new_link_gives_its_ends_a_route(void **state)
{
    fx *f = *state;
    sim_host *a, *b, *c;
    three_hosts_a_b_linked(f, &a, &b, &c);
    assert_int_equal(a->route_link, 0);
    assert_int_equal(a->route_addr, IP(10, 0, 0, 2));
    assert_int_equal(b->route_link, 0);
    assert_int_equal(b->route_addr, IP(10, 0, 0, 1));
    assert_int_equal(c->route_link, SIM_NO_ID);
    sim_link_params p;
    sim_link_params_default(&p);
    sim_link_add(f->w, c, a, &p, &p, NULL);
    assert_int_equal(a->route_link, 0); /* kept */
    assert_int_equal(a->route_addr, IP(10, 0, 0, 2));
    assert_int_equal(c->route_link, 1);
    assert_int_equal(c->route_addr, IP(10, 0, 0, 1));
    sim_host_set_receiver(a, receive, f);
    sim_host_set_receiver(b, receive, f);
    sim_host_set_receiver(c, receive, f);
    sim_host_send(c, datagram(f->w, 0, IP(10, 0, 0, 1), 40));
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 3), 40));
    sim_host_send(b, datagram(f->w, 0, IP(10, 0, 0, 1), 40));
    sim_host_send(b, datagram(f->w, 0, IP(10, 0, 0, 3), 40)); /* no B-C link */
    assert_int_equal(sim_world_run(f->w), SIM_RUN_IDLE);
    assert_int_equal(f->received, 3);
    assert_string_equal(f->lines[0], "0.000000000 SEND host=2 link=1 dir=0 pkt=1 len=40");
    assert_string_equal(f->lines[1], "0.000000000 SEND host=0 link=1 dir=1 pkt=2 len=40");
    assert_string_equal(f->lines[2], "0.000000000 SEND host=1 link=0 dir=1 pkt=3 len=40");
    assert_string_equal(f->lines[3], "0.000000000 DROP host=1 pkt=4 len=40 reason=no_route");
}

static void test_delivery_without_receiver_is_dropped(void **state)
{
    fx *f = *state;
    sim_host *a, *b;
    sim_host_add(f->w, "A", IP(10, 0, 0, 1), &a);
    sim_host_add(f->w, "B", IP(10, 0, 0, 2), &b);
    sim_link_params p;
    sim_link *l;
    sim_link_params_default(&p);
    sim_link_add(f->w, a, b, &p, &p, &l);
    sim_host_send(a, datagram(f->w, 0, IP(10, 0, 0, 2), 60));
    sim_world_run(f->w);
    assert_int_equal(f->nlines, 2);
    assert_string_equal(f->lines[1],
                        "0.000000000 DROP host=1 link=0 dir=0 pkt=1 len=60 reason=no_receiver");
    assert_int_equal(sim_link_stats_get(l, 0).sent, 1);
    assert_int_equal(sim_link_stats_get(l, 0).delivered, 0);
}

static void test_report_goes_to_trace(void **state)
{
    fx *f = *state;
    sim_host *a;
    sim_host_add(f->w, "A", 1, &a);
    sim_world_run_until_time(f->w, 2 * SIM_S);
    sim_host_report(a, 7, "ESTABLISHED", "abc", 3);
    sim_host_report(a, 8, NULL, NULL, 0);
    sim_host_report(a, 9, "two\nlines \"q\"", NULL, 0);
    assert_int_equal(f->nlines, 3);
    assert_string_equal(f->lines[0], "2.000000000 HOST host=0 code=7 len=3 text=\"ESTABLISHED\"");
    assert_string_equal(f->lines[1], "2.000000000 HOST host=0 code=8");
    assert_string_equal(f->lines[2],
                        "2.000000000 HOST host=0 code=9 text=\"two\\nlines \\\"q\\\"\"");
}

/* The lookups place names that differ in a trailing number, and addresses
 * that differ in their low bits, side by side (sim_index_run_hash): names
 * the number's parse could confuse are still told apart. A number's
 * leading zeros, a number longer than the nine digits read as one, a name
 * that is all digits, a digit run inside the name: each found as itself,
 * each refused a second time, and near misses not found. */
static void test_names_with_numbers_are_told_apart(void **state)
{
    fx *f = *state;
    static const char *names[] = {
        "c8",
        "c9",
        "c15",
        "c16",
        "c08",
        "c008",
        "c0008",
        "8",
        "08",
        "c",
        "c1x",
        "c1",
        "x-1",
        "x1",
        "1x1",
        "h1234567890123",
        "h2234567890123",
        "h0000000001",
        "h000000001",
        "h00000001",
        "1234567890123456789012345678901",
        "1234567890123456789012345678900",
        "c999999999",
        "c1000000000",
        "c1999999999",
    };
    enum { N = sizeof names / sizeof names[0] };
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(sim_host_add(f->w, names[i], IP(10, 0, 0, 1) + i, NULL), 0);
    for (uint32_t i = 0; i < N; i++) {
        sim_host *h = sim_host_by_name(f->w, names[i]);
        assert_non_null(h);
        assert_int_equal(sim_host_id(h), i);
        assert_int_equal(sim_host_add(f->w, names[i], IP(10, 1, 0, 1) + i, NULL), -1);
    }
    static const char *absent[] = {"c10", "c0",          "c00008", "c8x", "h3234567890123",
                                   "h1",  "c2999999999", "x2",     "9",   "0"};
    for (uint32_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        assert_null(sim_host_by_name(f->w, absent[i]));
    assert_int_equal(sim_host_count(f->w), N);
}

/* Hosts m<i> at 10.0.0.1 + i, for i below `hosts`, into h; a link (default
 * parameters) between every two of the first `meshed`. */
static void add_mesh(sim_world *w, sim_host **h, uint32_t hosts, uint32_t meshed)
{
    for (uint32_t i = 0; i < hosts; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%u", i);
        assert_int_equal(sim_host_add(w, name, IP(10, 0, 0, 1) + i, &h[i]), 0);
    }
    sim_link_params lp;
    sim_link_params_default(&lp);
    for (uint32_t i = 0; i < meshed; i++)
        for (uint32_t j = i + 1; j < meshed; j++)
            assert_int_equal(sim_link_add(w, h[i], h[j], &lp, &lp, NULL), 0);
}

/* Links between hosts made in runs share starts (at most eight pairs a
 * start): a full mesh of 24 hosts, 276 links, each found from either end,
 * every pair refused a second link, and a host never linked finds none. */
static void test_full_mesh_links_all_found(void **state)
{
    fx *f = *state;
    enum { N = 24 };
    sim_host *h[N + 1];
    add_mesh(f->w, h, N + 1, N);
    assert_int_equal(sim_link_count(f->w), N * (N - 1) / 2);
    for (uint32_t i = 0; i < N; i++)
        for (uint32_t j = 0; j < N; j++) {
            sim_link *l = sim_link_between(f->w, h[i], h[j]);
            if (i == j) {
                assert_null(l);
                continue;
            }
            assert_non_null(l);
            assert_ptr_equal(l, sim_link_between(f->w, h[j], h[i]));
        }
    sim_link_params lp;
    sim_link_params_default(&lp);
    assert_int_equal(sim_link_add(f->w, h[5], h[3], &lp, &lp, NULL), -1);
    for (uint32_t i = 0; i < N; i++)
        assert_null(sim_link_between(f->w, h[i], h[N]));
}

/* Slots passed over per key added, growth's rehashes included, above which
 * a test calls the keys clustered. The counts are exact, the same on every
 * build: the hostile names below walk 5.8 a key, their addresses 2.7, the
 * mesh's links 7.6; with links piled 64 to a start the mesh walked 108. */
#define STEPS_PER_KEY_MAX 16

/* A scenario names its hosts as it likes: names shaped against the
 * trailing-number runs (the same number with ever more leading zeros,
 * numbers past the nine digits read as one, numbers that differ only in
 * those leading digits, all-digit names, digits inside the name, bytes past
 * ASCII), 100,000 in all at addresses packed 256 to a /24 or spaced eight
 * apart, are added with the lookups' walks in proportion to their count,
 * and each is found as itself. */
static void test_hostile_names_stay_spread(void **state)
{
    fx *f = *state;
    /* A name is head, the number k with `zeros` digits at least (-1: 1 to
     * 24 as k goes), and tail. */
    static const struct {
        const char *head;
        int zeros;
        const char *tail;
    } shapes[] = {
        {"z", -1, ""}, {"n12345678901234", 9, ""}, {"n", 0, "000000000"}, {"", 0, ""},
        {"x", 0, "x"}, {"\xc3\xa9", 0, ""},        {"7-", 0, ""},         {"q", 0, "\xff"},
    };
    enum { N = 100000, SHAPES = sizeof shapes / sizeof shapes[0] };
    for (uint32_t i = 0; i < N; i++) {
        char name[48];
        uint32_t k = i / SHAPES;
        int zeros = shapes[i % SHAPES].zeros < 0 ? (int)(k % 24) + 1 : shapes[i % SHAPES].zeros;
        int len = snprintf(name, sizeof name, "%s%0*u%s", shapes[i % SHAPES].head, zeros, k,
                           shapes[i % SHAPES].tail);
        assert_true(len > 0 && len <= SIM_NAME_MAX);
        uint32_t addr = i % 2 ? IP(10, 0, 0, 0) + i : IP(11, 0, 0, 0) + (i << 3);
        assert_int_equal(sim_host_add(f->w, name, addr, NULL), 0);
    }
    assert_true(f->w->host_by_name.steps <= (uint64_t)STEPS_PER_KEY_MAX * N);
    assert_true(f->w->host_by_addr.steps <= (uint64_t)STEPS_PER_KEY_MAX * N);
    assert_hosts_found_as_themselves(f->w, N, 97);
}

/* A full mesh of 362 hosts (65,341 links) puts 64 links between every two
 * runs of eight hosts: the link lookup still walks in proportion to the
 * links, not to 64 a start. */
static void test_mesh_links_stay_spread(void **state)
{
    fx *f = *state;
    enum { N = 362 };
    sim_host **h = malloc(N * sizeof *h);
    assert_non_null(h);
    add_mesh(f->w, h, N, N);
    uint32_t links = sim_link_count(f->w);
    assert_int_equal(links, N * (N - 1) / 2);
    assert_true(f->w->link_by_pair.steps <= (uint64_t)STEPS_PER_KEY_MAX * links);
    for (uint32_t i = 0; i < N; i += 13)
        for (uint32_t j = 0; j < N; j += 7)
            assert_true((sim_link_between(f->w, h[i], h[j]) != NULL) == (i != j));
    free(h);
}

/* Keys chosen to collide: the lookups' hashes are unkeyed, so anyone can
 * search offline, as these tests do, for keys whose home slots at 8,192
 * slots all lie in one window of 64 (one key in 128 does), and CRAFTED of
 * them would pile into one cluster, each add walking all of it: 18 million
 * slots passed over for 6,000 keys, 5 billion for 100,000 at 262,144
 * slots (these tests' keys walked 19.7 million before the bound, 12.8
 * million with it, the rest refused). Instead no key sits more than
 * SIM_INDEX_MAX_WALK slots past its home: an add that would is refused with an error naming the
 * key, so each add or find walks at most that many slots, and the lookup keeps working (every key
 * added is found, a refused one is not, an ordinary key added after is). */
enum { CRAFTED = 6000, CRAFT_SLOTS = 8192, CRAFT_WINDOW = 64 };

static bool crafted(uint64_t hash)
{
    return ((uint32_t)hash & (CRAFT_SLOTS - 1)) < CRAFT_WINDOW;
}

/* Counts an add's outcome: added, or refused with an error containing
 * `says`. */
static void count_add(sim_world *w, int rc, const char *says, uint32_t *added, uint32_t *refused)
{
    if (rc == 0) {
        (*added)++;
        return;
    }
    assert_non_null(strstr(sim_world_error(w), says));
    (*refused)++;
}

/* Some keys were refused, at least SIM_INDEX_MAX_WALK + 1 went in (a
 * refused key's slots are full that far), and the walks are bounded: each
 * add walks at most SIM_INDEX_MAX_WALK + 1 slots, growth places each id
 * added at most twice over all its doublings, each at most that far. */
static void assert_bounded(const sim_index *ix, uint32_t added, uint32_t refused)
{
    assert_int_equal(added + refused, CRAFTED);
    assert_true(added > SIM_INDEX_MAX_WALK);
    assert_true(refused > 0);
    assert_true(ix->steps <= (uint64_t)(SIM_INDEX_MAX_WALK + 1) * (CRAFTED + 2 * added));
}

static void test_crafted_names_are_refused(void **state)
{
    fx *f = *state;
    uint32_t added = 0, refused = 0, k = 0;
    char name[16];
    char first_refused[16] = "";
    while (added + refused < CRAFTED) {
        snprintf(name, sizeof name, "a%09u", k++);
        if (!crafted(sim_host_name_hash(name)))
            continue;
        int rc = sim_host_add(f->w, name, IP(10, 0, 0, 0) + added + refused, NULL);
        if (rc != 0 && refused == 0)
            memcpy(first_refused, name, sizeof name);
        count_add(f->w, rc, "host names hash next to this one", &added, &refused);
    }
    assert_bounded(&f->w->host_by_name, added, refused);
    assert_int_equal(sim_host_count(f->w), added);
    assert_hosts_found_as_themselves(f->w, added, 1);
    assert_null(sim_host_by_name(f->w, first_refused));
    assert_int_equal(sim_host_add(f->w, "ordinary", IP(12, 0, 0, 1), NULL), 0);
    assert_non_null(sim_host_by_name(f->w, "ordinary"));
}

/* The same with addresses: the names are ordinary, so a refused address
 * takes its name back out of the name lookup, and the name can be used
 * again with another address. */
static void test_crafted_addresses_are_refused(void **state)
{
    fx *f = *state;
    uint32_t added = 0, refused = 0, addr = IP(10, 0, 0, 0);
    char name[16];
    char first_refused[16] = "";
    while (added + refused < CRAFTED) {
        for (; !crafted(sim_host_addr_hash(addr)); addr++)
            ;
        snprintf(name, sizeof name, "h%u", added + refused);
        int rc = sim_host_add(f->w, name, addr++, NULL);
        if (rc != 0 && refused == 0)
            memcpy(first_refused, name, sizeof name);
        count_add(f->w, rc, "host addresses hash next to", &added, &refused);
    }
    assert_bounded(&f->w->host_by_addr, added, refused);
    assert_int_equal(sim_host_count(f->w), added);
    assert_null(sim_host_by_name(f->w, first_refused));
    for (addr = IP(12, 0, 0, 0); crafted(sim_host_addr_hash(addr)); addr++)
        ;
    assert_int_equal(sim_host_add(f->w, first_refused, addr, NULL), 0);
    assert_hosts_found_as_themselves(f->w, added + 1, 1);
}

/* The same with links: pairs of 1,500 ordinary hosts chosen by their
 * pair's hash. */
static void test_crafted_links_are_refused(void **state)
{
    fx *f = *state;
    enum { N = 1500 };
    sim_host **h = malloc(N * sizeof *h);
    assert_non_null(h);
    for (uint32_t i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        assert_int_equal(sim_host_add(f->w, name, IP(10, 0, 0, 0) + i, &h[i]), 0);
    }
    sim_link_params lp;
    sim_link_params_default(&lp);
    uint32_t added = 0, refused = 0, refused_x = 0, refused_y = 0;
    for (uint32_t x = 0; x < N && added + refused < CRAFTED; x++)
        for (uint32_t y = x + 1; y < N && added + refused < CRAFTED; y++) {
            if (!crafted(sim_link_pair_hash(x, y)))
                continue;
            int rc = sim_link_add(f->w, h[x], h[y], &lp, &lp, NULL);
            if (rc != 0 && refused == 0) {
                refused_x = x;
                refused_y = y;
            }
            count_add(f->w, rc, "links hash next to this pair", &added, &refused);
        }
    assert_bounded(&f->w->link_by_pair, added, refused);
    assert_int_equal(sim_link_count(f->w), added);
    for (uint32_t id = 0; id < added; id++) {
        sim_link *l = sim_link_by_id(f->w, id);
        assert_ptr_equal(sim_link_between(f->w, sim_link_host(l, 0), sim_link_host(l, 1)), l);
    }
    assert_null(sim_link_between(f->w, h[refused_x], h[refused_y]));
    uint32_t y = 1; /* an ordinary pair: one never crafted, so never added */
    while (crafted(sim_link_pair_hash(0, y)))
        y++;
    assert_int_equal(sim_link_add(f->w, h[0], h[y], &lp, &lp, NULL), 0);
    free(h);
}

/* sim_host_reserve: the lookups made once at their final size, so adding
 * the hosts said never moves them; more hosts than said still work, a
 * smaller reserve later changes nothing, and one past the limit fails
 * with the lookups as they were. */
static void test_reserve_makes_the_lookups_once(void **state)
{
    fx *f = *state;
    enum { SAID = 3000, MORE = 5000 };
    assert_int_equal(sim_host_reserve(f->w, SAID), 0);
    const uint32_t *by_name = f->w->host_by_name.slots, *by_addr = f->w->host_by_addr.slots;
    for (uint32_t i = 0; i < MORE; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%u", i);
        assert_int_equal(sim_host_add(f->w, name, IP(10, 0, 0, 0) + i, NULL), 0);
        if (i + 1 == SAID) {
            assert_ptr_equal(f->w->host_by_name.slots, by_name);
            assert_ptr_equal(f->w->host_by_addr.slots, by_addr);
        }
    }
    by_name = f->w->host_by_name.slots;
    assert_int_equal(sim_host_reserve(f->w, 10), 0);
    assert_ptr_equal(f->w->host_by_name.slots, by_name);
    assert_int_equal(sim_host_reserve(f->w, (1u << 30) + 1), -1);
    assert_numbered_hosts_found(f->w, "r", MORE, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_add_and_find_hosts),
        T(test_many_hosts_stay_addressable),
        T(test_names_are_kept_whole_and_never_move),
        T(test_host_errors),
        T(test_link_bookkeeping),
        T(test_link_errors),
        T(test_send_routes_by_destination),
        T(test_send_without_route_is_dropped),
        T(test_remembered_route_follows_the_destination),
        T(test_new_link_gives_its_ends_a_route),
        T(test_delivery_without_receiver_is_dropped),
        T(test_report_goes_to_trace),
        T(test_names_with_numbers_are_told_apart),
        T(test_full_mesh_links_all_found),
        T(test_reserve_makes_the_lookups_once),
        T(test_hostile_names_stay_spread),
        T(test_mesh_links_stay_spread),
        T(test_crafted_names_are_refused),
        T(test_crafted_addresses_are_refused),
        T(test_crafted_links_are_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
