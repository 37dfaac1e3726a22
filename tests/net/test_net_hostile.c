/*
 * test_net_hostile — sim/net and the link pipeline under callbacks written
 * to break them: rule callbacks that add rules while a segment's walk is
 * under way (the rule array moves), a hook that adds itself for every
 * segment, the rule limit, rule indices never handed out, and hooks that
 * send on, reconfigure or release their own link. Each test runs under the
 * ASan build too, where a walk through a moved array is an invalid read.
 * Two hosts A (10.0.0.1) and B (10.0.0.2), one 10 ms link.
 */
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

typedef struct fx {
    net *n;
    uint32_t a, b, link;
    uint32_t calls; /* callback calls */
    uint32_t adds;  /* rules a callback added */
    int add_rc;     /* the last net_rule_add a callback made */
    int inject_rc;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->n = net_new(1);
    const tcp_profile *p = tcp_profile_find("rfc9293");
    assert_int_equal(net_host_add(f->n, "A", A_ADDR, p, &f->a), 0);
    assert_int_equal(net_host_add(f->n, "B", B_ADDR, p, &f->b), 0);
    sim_link_params lp;
    sim_link_params_default(&lp);
    lp.delay_ns = 10 * MS;
    assert_int_equal(net_link_add(f->n, f->a, f->b, &lp, &lp, &f->link), 0);
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

static uint32_t handshake(fx *f, uint64_t ns)
{
    net_listen_opts lo = {.port = PORT, .backlog = 8, .autoread = true};
    uint32_t l, c;
    assert_int_equal(net_listen(f->n, f->b, &lo, &l), 0);
    net_connect_opts co = {.raddr = B_ADDR, .rport = PORT};
    assert_int_equal(net_connect(f->n, f->a, &co, &c), 0);
    sim_world *w = net_world(f->n);
    assert_int_not_equal(sim_world_run_until_time(w, sim_world_now(w) + ns), SIM_RUN_LIMIT_EVENTS);
    return c;
}

static const sim_fault_verdict PASS = {SIM_FAULT_PASS, 0, 0};

/* ---- a hook that adds itself ---- */

static sim_fault_verdict self_adding_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    fx *f = ctx;
    (void)v;
    f->calls++;
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = -1, .len = -1},
                       .count = UINT32_MAX,
                       .hook = self_adding_hook,
                       .ctx = f};
    f->add_rc = net_rule_add(f->n, f->link, &o, NULL);
    if (f->add_rc == 0)
        f->adds++;
    return PASS;
}

/* A hook adding a hook for every segment it sees: the rules added during a
 * walk wait for the next segment, so each walk ends; the first segment
 * (the SYN) meets one hook, the second two, the third four. */
static void hook_adding_itself_ends_every_walk(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = -1, .len = -1},
                       .count = UINT32_MAX,
                       .hook = self_adding_hook,
                       .ctx = f};
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), 0);
    uint32_t c = handshake(f, 15 * MS); /* the SYN and the SYN,ACK entered */
    assert_int_equal(f->calls, 1 + 2);
    assert_int_equal(f->adds, 3);
    assert_int_equal(net_sock_at(f->n, c)->state, TCP_SYN_SENT);
}

/* With every segment doubling the hooks, the net's rule limit is reached
 * after 16 segments: net_rule_add says NET_ELIMIT, the run goes on. */
static void self_adding_hooks_stop_at_the_rule_limit(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = -1, .len = -1},
                       .count = UINT32_MAX,
                       .hook = self_adding_hook,
                       .ctx = f};
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), 0);
    uint32_t c = handshake(f, 100 * MS);
    sim_world *w = net_world(f->n);
    for (int i = 0; i < 20 && f->add_rc == 0; i++) {
        assert_int_equal(net_send(f->n, c, "x", 1), 0);
        sim_world_run_until_time(w, sim_world_now(w) + 100 * MS);
    }
    assert_int_equal(f->add_rc, NET_ELIMIT);
    assert_int_equal(f->adds + 1, NET_RULES_MAX);
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), NET_ELIMIT);
}

/* ---- predicates that move the rule array ---- */

static bool when_adds_a_hundred(void *ctx, uint32_t rule)
{
    (void)rule;
    fx *f = ctx;
    f->calls++;
    net_rule_opts o = {.action = NET_RULE_DROP, .filter = {.dir = -1, .len = -1}, .count = 1};
    for (int i = 0; i < 100; i++)
        if (net_rule_add(f->n, f->link, &o, NULL) == 0)
            f->adds++;
    return true;
}

static bool match_adds_a_hundred(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)v;
    return when_adds_a_hundred(ctx, rule);
}

/* when() and match() each add a hundred rules (the array moves several
 * times) and let the rule fire: it drops the SYN; the rules they added
 * drop the next 200 segments, none of them this one. */
static void predicates_adding_rules_never_see_the_array_move(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_DROP,
                       .filter = {.dir = 0, .flags = TCP_SYN, .len = -1},
                       .count = 1,
                       .when = when_adds_a_hundred,
                       .match = match_adds_a_hundred,
                       .ctx = f};
    uint32_t r;
    assert_int_equal(net_rule_add(f->n, f->link, &o, &r), 0);
    handshake(f, 5 * MS);
    assert_int_equal(f->calls, 2);
    assert_int_equal(f->adds, 200);
    assert_int_equal(net_rule_fired(f->n, r), 1);
    const sim_link_stats st = sim_link_stats_get(sim_link_by_id(net_world(f->n), f->link), 0);
    assert_int_equal(st.dropped_fault, 1);
    for (uint32_t i = r + 1; i <= r + 200; i++)
        assert_int_equal(net_rule_fired(f->n, i), 0);
}

/* Rule indices never handed out read as rules that never fired. */
static void unknown_rule_indices_are_harmless(void **state)
{
    fx *f = *state;
    assert_int_equal(net_rule_fired(f->n, 0), 0);
    assert_int_equal(net_rule_held(f->n, 7), 0);
    assert_int_equal(net_rule_release(f->n, UINT32_MAX), 0);
}

/* ---- hooks that act on their own link ---- */

static sim_fault_verdict injecting_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    fx *f = ctx;
    f->calls++;
    if (f->calls == 1) {
        tcp_seg seg = *v->seg;
        seg.flags = TCP_ACK;
        seg.len = 0;
        seg.payload = NULL;
        f->inject_rc = net_inject(f->n, f->link, v->dir, &seg);
    }
    return PASS;
}

/* A hook sends a crafted segment on the direction it is deciding for: the
 * segment enters as the next event (the hook sees it second), nothing
 * aborts, and both are counted as sent on the link. */
static void hook_injecting_on_its_own_link_sends_after_the_walk(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = 0, .len = -1},
                       .count = UINT32_MAX,
                       .hook = injecting_hook,
                       .ctx = f};
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), 0);
    handshake(f, 5 * MS);
    assert_int_equal(f->inject_rc, 0);
    assert_int_equal(f->calls, 2);
    const sim_link_stats st = sim_link_stats_get(sim_link_by_id(net_world(f->n), f->link), 0);
    assert_int_equal(st.sent, 2);
}

static sim_fault_verdict reconfiguring_hook(void *ctx, uint32_t rule, const net_seg_view *v)
{
    (void)rule;
    fx *f = ctx;
    f->calls++;
    sim_link *l = sim_link_by_id(net_world(f->n), v->link);
    sim_link_params p = *sim_link_params_get(l, v->dir);
    p.delay_ns = 1 * MS;
    p.up = false;
    assert_int_equal(sim_link_params_set(l, v->dir, &p), 0);
    sim_link_set_up(l, v->dir, true);
    net_link_release(f->n, v->link);
    return (sim_fault_verdict){SIM_FAULT_HOLD, 0, 0};
}

/* A hook that takes its direction down and up, changes its delay, releases
 * what is held and then holds the segment: the verdict applies to the
 * segment under the new parameters. */
static void hook_reconfiguring_its_own_link_holds_the_segment(void **state)
{
    fx *f = *state;
    net_rule_opts o = {.action = NET_RULE_HOOK,
                       .filter = {.dir = 0, .len = -1},
                       .count = UINT32_MAX,
                       .hook = reconfiguring_hook,
                       .ctx = f};
    assert_int_equal(net_rule_add(f->n, f->link, &o, NULL), 0);
    handshake(f, 500 * MS);
    sim_link *l = sim_link_by_id(net_world(f->n), f->link);
    assert_int_equal(f->calls, 1);
    assert_int_equal(sim_link_held_count(l, 0), 1);
    assert_int_equal(sim_link_stats_get(l, 0).delivered, 0);
    /* The SYN's retransmission at 1 s (RFC 6298 initial RTO) releases the
     * first, which arrives 1 ms later (the new delay), and is held. */
    sim_world_run_until_time(net_world(f->n), 1005 * MS);
    assert_int_equal(f->calls, 2);
    assert_int_equal(sim_link_held_count(l, 0), 1);
    assert_int_equal(sim_link_stats_get(l, 0).delivered, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hook_adding_itself_ends_every_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(self_adding_hooks_stop_at_the_rule_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(predicates_adding_rules_never_see_the_array_move, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_rule_indices_are_harmless, setup, teardown),
        cmocka_unit_test_setup_teardown(hook_injecting_on_its_own_link_sends_after_the_walk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hook_reconfiguring_its_own_link_holds_the_segment, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
