/*
 * test_net_rules — each link walks its own rules (net.h rule 6): rules of
 * two links added in turn keep their order on each link, a rule a hook
 * adds during a walk (on its own link or on a link whose id grows the
 * net's table) acts from the next segment on, a link without rules in a
 * net without a probe lets its segments pass unparsed, and a rule used up
 * leaves its link's walk while its index keeps its counters and the
 * packets it holds. The ASan build runs them too: a walk through a moved
 * list or table is an invalid read there.
 * Two pairs: A (10.0.0.1) to B (10.0.0.2) on link 0, C (10.0.0.3) to D
 * (10.0.0.4) on link 1, each link 10 ms each way.
 */
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"
#include "net_int.h" /* rule_parses: the segments parsed for a walk */

#define A_ADDR  0x0a000001u
#define B_ADDR  0x0a000002u
#define C_ADDR  0x0a000003u
#define D_ADDR  0x0a000004u
#define MS      1000000ull
#define PORT    80u
#define LOG_MAX 256u

typedef struct fx {
    net *n;
    uint32_t a, b, c, d;
    uint32_t link[2];
    /* what the recording hooks saw, one entry a call */
    uint32_t log_link[LOG_MAX], log_rule[LOG_MAX];
    uint32_t nlog;
    /* what adding_hook did */
    uint32_t calls;
    int add_rc[2];
    uint32_t added[2]; /* the indices it was handed: on link 0, on link 1 */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->n = net_new(1);
    const tcp_profile *p = tcp_profile_find("rfc9293");
    assert_int_equal(net_host_add(f->n, "A", A_ADDR, p, &f->a), 0);
    assert_int_equal(net_host_add(f->n, "B", B_ADDR, p, &f->b), 0);
    assert_int_equal(net_host_add(f->n, "C", C_ADDR, p, &f->c), 0);
    assert_int_equal(net_host_add(f->n, "D", D_ADDR, p, &f->d), 0);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    assert_int_equal(net_link_add(f->n, f->a, f->b, &lp, &lp, &f->link[0]), 0);
    assert_int_equal(net_link_add(f->n, f->c, f->d, &lp, &lp, &f->link[1]), 0);
    assert_int_equal(f->link[0], 0);
    assert_int_equal(f->link[1], 1);
    f->add_rc[0] = f->add_rc[1] = 1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    net_free(f->n);
    free(f);
    return 0;
}

static void run_for(fx *f, uint64_t ns)
{
    sim_world *w = net_world(f->n);
    sim_world_run_until_time(w, sim_world_now(w) + ns);
}

/* A listener on `server` and a connection to it from `client`. */
static uint32_t connect_pair(fx *f, uint32_t client, uint32_t server, uint32_t raddr)
{
    net_listen_opts lo = {.port = PORT, .backlog = 8, .autoread = true};
    uint32_t l, c;
    assert_int_equal(net_listen(f->n, server, &lo, &l), 0);
    net_connect_opts co = {.raddr = raddr, .rport = PORT};
    assert_int_equal(net_connect(f->n, client, &co, &c), 0);
    return c;
}

static const sim_fault_verdict PASS = {SIM_FAULT_PASS, 0, 0};

static sim_fault_verdict recording_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    fx *f = ctx;
    assert_true(f->nlog < LOG_MAX);
    f->log_link[f->nlog] = v->link;
    f->log_rule[f->nlog] = rule;
    f->nlog++;
    return PASS;
}

static uint32_t add_recording_hook(fx *f, uint32_t link, bool last)
{
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = -1, .len = -1},
                       .count = UINT32_MAX,
                       .hook = recording_hook,
                       .ctx = f,
                       .last = last};
    uint32_t r;
    assert_int_equal(net_rule_add(f->n, link, &o, &r), 0);
    return r;
}

/* Rules of two links added in turn, `last` ones among them: the indices
 * are handed out in the order of the adds, across links, and each segment
 * walks its own link's rules only, in the order they were added, the
 * `last` ones after the others. */
static void rules_of_two_links_added_in_turn_walk_in_order_per_link(void **state)
{
    fx *f = *state;
    uint32_t r[6];
    r[0] = add_recording_hook(f, f->link[0], true);
    r[1] = add_recording_hook(f, f->link[1], false);
    r[2] = add_recording_hook(f, f->link[0], false);
    r[3] = add_recording_hook(f, f->link[1], true);
    r[4] = add_recording_hook(f, f->link[0], false);
    r[5] = add_recording_hook(f, f->link[1], false);
    for (uint32_t i = 0; i < 6; i++)
        assert_int_equal(r[i], i);
    const uint32_t walk[2][3] = {{r[2], r[4], r[0]}, {r[1], r[5], r[3]}};
    connect_pair(f, f->a, f->b, B_ADDR);
    connect_pair(f, f->c, f->d, D_ADDR);
    run_for(f, 100 * MS);
    /* SYN, SYN,ACK and ACK on each link at least: each walk three calls */
    assert_true(f->nlog >= 2 * 3 * 3);
    assert_int_equal(f->nlog % 3, 0);
    uint32_t walks[2] = {0, 0};
    for (uint32_t i = 0; i < f->nlog; i += 3) {
        uint32_t l = f->log_link[i];
        assert_true(l < 2);
        walks[l]++;
        for (uint32_t k = 0; k < 3; k++) {
            assert_int_equal(f->log_link[i + k], l);
            assert_int_equal(f->log_rule[i + k], walk[l][k]);
        }
    }
    assert_true(walks[0] >= 3);
    assert_true(walks[1] >= 3);
}

/* Interleaved drop rules act per link as the nth-match rules do on one:
 * on link 0 the first SYN meets r0's skip and r2's drop, the second r0's
 * drop; link 1's rule between them drops link 1's first SYN only. */
static void interleaved_drop_rules_act_in_order_per_link(void **state)
{
    fx *f = *state;
    net_rule_opts skip1 = {.action = NET_RULE_DROP,
                           .filter = {.dir = 0, .flags = TCP_SYN, .exact = true, .len = -1},
                           .skip = 1,
                           .count = 1};
    net_rule_opts first = skip1;
    first.skip = 0;
    uint32_t r0, r1, r2;
    assert_int_equal(net_rule_add(f->n, f->link[0], &skip1, &r0), 0);
    assert_int_equal(net_rule_add(f->n, f->link[1], &first, &r1), 0);
    assert_int_equal(net_rule_add(f->n, f->link[0], &first, &r2), 0);
    uint32_t ab = connect_pair(f, f->a, f->b, B_ADDR);
    uint32_t cd = connect_pair(f, f->c, f->d, D_ADDR);
    sim_world_run_until_time(net_world(f->n), 10000 * MS);
    assert_int_equal(net_rule_fired(f->n, r0), 1);
    assert_int_equal(net_rule_fired(f->n, r1), 1);
    assert_int_equal(net_rule_fired(f->n, r2), 1);
    assert_int_equal(net_sock_stats(f->n, ab)->retransmits, 2);
    assert_int_equal(net_sock_stats(f->n, cd)->retransmits, 1);
    assert_int_equal(net_sock_at(f->n, ab)->state, TCP_ESTABLISHED);
    assert_int_equal(net_sock_at(f->n, cd)->state, TCP_ESTABLISHED);
}

/* On its first call, adds a drop rule on link 1 (the net's table of links
 * grows: it held link 0 only) and one on its own link 0; passes. */
static sim_fault_verdict adding_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    fx *f = ctx;
    if (f->calls++ == 0) {
        net_rule_opts o = {.action = NET_RULE_DROP, .filter = {.dir = -1, .len = -1}, .count = 1};
        f->add_rc[1] = net_rule_add(f->n, f->link[1], &o, &f->added[1]);
        f->add_rc[0] = net_rule_add(f->n, v->link, &o, &f->added[0]);
    }
    return PASS;
}

/* A rule a hook adds during a walk acts from the next segment on: A's SYN
 * passes the rule added while it was walked; B's SYN,ACK, the next
 * segment on link 0, is dropped by it. The indices handed out inside the
 * walk follow the hook's own. */
static void rule_added_from_a_hook_acts_from_the_next_segment(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = -1, .len = -1},
                       .count = UINT32_MAX,
                       .hook = adding_hook,
                       .ctx = f};
    uint32_t hook;
    assert_int_equal(net_rule_add(f->n, f->link[0], &o, &hook), 0);
    connect_pair(f, f->a, f->b, B_ADDR);
    run_for(f, 15 * MS); /* the SYN reached B, the SYN,ACK entered link 0 */
    assert_int_equal(f->add_rc[1], 0);
    assert_int_equal(f->add_rc[0], 0);
    assert_int_equal(f->added[1], hook + 1);
    assert_int_equal(f->added[0], hook + 2);
    const sim_link *l = sim_link_by_id(net_world(f->n), f->link[0]);
    assert_int_equal(sim_link_stats_get(l, 0).dropped_fault, 0);
    assert_int_equal(sim_link_stats_get(l, 0).delivered, 1);
    assert_int_equal(sim_link_stats_get(l, 1).dropped_fault, 1);
    assert_int_equal(net_rule_fired(f->n, f->added[0]), 1);
    assert_int_equal(f->calls, 2); /* the hook saw the SYN,ACK first */
    /* Link 1's rule waits for a segment on link 1. */
    assert_int_equal(net_rule_fired(f->n, f->added[1]), 0);
    uint32_t cd = connect_pair(f, f->c, f->d, D_ADDR);
    run_for(f, 5 * MS);
    assert_int_equal(net_rule_fired(f->n, f->added[1]), 1);
    assert_int_equal(net_sock_at(f->n, cd)->state, TCP_SYN_SENT);
}

static bool never(void *ctx, uint32_t rule)
{
    (void)ctx;
    (void)rule;
    return false;
}

/* With rules on link 1 only and no probe, link 0's segments pass without
 * being parsed; link 1's are parsed for the walk, one parse a segment. */
static void a_link_without_rules_is_never_parsed(void **state)
{
    fx *f = *state;
    net_rule_opts o = {
        .action = NET_RULE_DROP, .filter = {.dir = -1, .len = -1}, .count = 1, .when = never};
    uint32_t r;
    assert_int_equal(net_rule_add(f->n, f->link[1], &o, &r), 0);
    uint32_t ab = connect_pair(f, f->a, f->b, B_ADDR);
    run_for(f, 100 * MS);
    assert_int_equal(net_sock_at(f->n, ab)->state, TCP_ESTABLISHED);
    assert_int_equal(net_send(f->n, ab, "hello", 5), 0);
    run_for(f, 100 * MS);
    const sim_link *l0 = sim_link_by_id(net_world(f->n), f->link[0]);
    assert_true(sim_link_stats_get(l0, 0).sent >= 3);
    assert_int_equal(f->n->rule_parses, 0);
    uint32_t cd = connect_pair(f, f->c, f->d, D_ADDR);
    run_for(f, 100 * MS);
    assert_int_equal(net_sock_at(f->n, cd)->state, TCP_ESTABLISHED);
    const sim_link *l1 = sim_link_by_id(net_world(f->n), f->link[1]);
    assert_int_equal(f->n->rule_parses,
                     sim_link_stats_get(l1, 0).sent + sim_link_stats_get(l1, 1).sent);
    assert_int_equal(net_rule_fired(f->n, r), 0);
}

/* A rule used up leaves its link's walk: the first SYN is parsed and held,
 * then nothing on link 0 is parsed again. Its index still reads what it
 * fired and holds, and still releases the SYN it holds. */
static void a_used_up_rule_leaves_the_walk_and_keeps_its_index(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_HOLD,
                       .filter = {.dir = 0, .flags = TCP_SYN, .exact = true, .len = -1},
                       .count = 1};
    uint32_t r;
    assert_int_equal(net_rule_add(f->n, f->link[0], &o, &r), 0);
    uint32_t ab = connect_pair(f, f->a, f->b, B_ADDR);
    run_for(f, 500 * MS);
    assert_int_equal(f->n->rule_parses, 1);
    assert_int_equal(net_rule_fired(f->n, r), 1);
    assert_int_equal(net_rule_held(f->n, r), 1);
    sim_world_run_until_time(net_world(f->n), 3000 * MS); /* the SYN retransmitted */
    assert_int_equal(net_sock_at(f->n, ab)->state, TCP_ESTABLISHED);
    assert_int_equal(f->n->rule_parses, 1);
    assert_int_equal(net_rule_release(f->n, r), 1);
    assert_int_equal(net_rule_held(f->n, r), 0);
    assert_int_equal(net_rule_fired(f->n, r), 1);
}

/* A rule added with no count never acts: its link walks nothing. */
static void a_rule_with_no_count_is_never_walked(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_DROP, .filter = {.dir = -1, .len = -1}, .count = 0};
    uint32_t r;
    assert_int_equal(net_rule_add(f->n, f->link[0], &o, &r), 0);
    uint32_t ab = connect_pair(f, f->a, f->b, B_ADDR);
    run_for(f, 100 * MS);
    assert_int_equal(net_sock_at(f->n, ab)->state, TCP_ESTABLISHED);
    assert_int_equal(f->n->rule_parses, 0);
    assert_int_equal(net_rule_fired(f->n, r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rules_of_two_links_added_in_turn_walk_in_order_per_link,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(interleaved_drop_rules_act_in_order_per_link, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rule_added_from_a_hook_acts_from_the_next_segment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_link_without_rules_is_never_parsed, setup, teardown),
        cmocka_unit_test_setup_teardown(a_used_up_rule_leaves_the_walk_and_keeps_its_index, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_rule_with_no_count_is_never_walked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
