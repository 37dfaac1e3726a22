/*
 * test_fault — the fault hook of sim_link.h: every action (pass, drop,
 * delay, duplicate, hold), release by id and of all, released packets
 * continuing from the loss step, and the trace records each produces.
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

#define ADDR_A 0x0a000001u
#define ADDR_B 0x0a000002u

typedef struct fx {
    sim_world *w;
    sim_host *a, *b;
    sim_link *l;
    /* The hook's script: this verdict for every packet, except `only` (if
     * non-zero) picks out one packet id and the rest pass. */
    sim_fault_verdict verdict;
    uint32_t only;
    int hook_calls;
    uint32_t hook_seen[64];
    /* What arrived at B, and the trace as text. */
    uint32_t arr_id[64], arr_origin[64];
    sim_time_t arr_time[64];
    int narr;
    char lines[128][128];
    int nlines;
} fx;

static sim_fault_verdict hook(void *ctx, sim_link *l, int dir, const sim_packet *p)
{
    fx *f = ctx;
    assert_ptr_equal(l, f->l);
    assert_int_equal(dir, 0);
    assert_true(f->hook_calls < 64);
    f->hook_seen[f->hook_calls++] = p->id;
    if (f->only && p->id != f->only)
        return (sim_fault_verdict){SIM_FAULT_PASS, 0, 0};
    return f->verdict;
}

static void receive(void *ctx, sim_host *h, sim_packet *p)
{
    fx *f = ctx;
    assert_true(f->narr < 64);
    f->arr_id[f->narr] = p->id;
    f->arr_origin[f->narr] = p->origin_id;
    f->arr_time[f->narr++] = sim_world_now(f->w);
    sim_packet_free(sim_host_world(h), p);
}

static void sink(void *ctx, const sim_trace_rec *rec)
{
    fx *f = ctx;
    assert_true(f->nlines < 128);
    sim_trace_format(rec, f->lines[f->nlines++], sizeof f->lines[0]);
}

static void send_ab(fx *f)
{
    sim_packet *p = sim_packet_new(f->w, 40);
    memset(p->data, 0, 40);
    p->data[0] = 0x45;
    p->data[16] = 10;
    p->data[19] = 2; /* to 10.0.0.2 */
    sim_host_send(f->a, p);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->w = sim_world_new(99);
    sim_host_add(f->w, "A", ADDR_A, &f->a);
    sim_host_add(f->w, "B", ADDR_B, &f->b);
    sim_host_set_receiver(f->b, receive, f);
    sim_link_params p;
    sim_link_params_default(&p);
    p.delay_ns = 10 * SIM_MS;
    assert_int_equal(sim_link_add(f->w, f->a, f->b, &p, &p, &f->l), 0);
    sim_link_set_fault_hook(f->l, 0, hook, f);
    sim_world_set_trace(f->w, sink, f);
    f->verdict.action = SIM_FAULT_PASS;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    assert_int_equal(sim_link_held_count(f->l, 0), 0);
    assert_int_equal(sim_world_run(f->w), SIM_RUN_IDLE);
    assert_int_equal(sim_packets_in_use(f->w), 0);
    sim_world_free(f->w);
    free(f);
    return 0;
}

static void test_pass_sees_every_packet_once(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 5; i++)
        send_ab(f);
    sim_world_run(f->w);
    assert_int_equal(f->hook_calls, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(f->hook_seen[i], (uint32_t)i + 1);
    assert_int_equal(f->narr, 5);
}

static void test_hook_runs_after_down_and_mtu(void **state)
{
    fx *f = *state;
    sim_link_params p = *sim_link_params_get(f->l, 0);
    p.mtu = 68;
    sim_link_params_set(f->l, 0, &p);
    sim_packet *big = sim_packet_new(f->w, 69);
    memset(big->data, 0, 69);
    big->data[16] = 10;
    big->data[19] = 2;
    sim_host_send(f->a, big);
    sim_link_set_up(f->l, 0, false);
    send_ab(f);
    assert_int_equal(f->hook_calls, 0);
    sim_link_set_up(f->l, 0, true);
}

static void test_drop(void **state)
{
    fx *f = *state;
    f->verdict.action = SIM_FAULT_DROP;
    f->only = 2;
    for (int i = 0; i < 3; i++)
        send_ab(f);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 2);
    assert_int_equal(f->arr_id[0], 1);
    assert_int_equal(f->arr_id[1], 3);
    assert_int_equal(sim_link_stats_get(f->l, 0).dropped_fault, 1);
    assert_string_equal(f->lines[2],
                        "0.000000000 DROP host=0 link=0 dir=0 pkt=2 len=40 reason=fault");
}

static void test_delay(void **state)
{
    fx *f = *state;
    f->verdict = (sim_fault_verdict){SIM_FAULT_DELAY, 30 * SIM_MS, 0};
    f->only = 1;
    send_ab(f);
    send_ab(f);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 2);
    assert_int_equal(f->arr_id[0], 2);
    assert_int_equal(f->arr_time[0], 10 * SIM_MS);
    assert_int_equal(f->arr_id[1], 1);
    assert_int_equal(f->arr_time[1], 40 * SIM_MS);
    assert_string_equal(
        f->lines[1], "0.000000000 DELAY host=0 link=0 dir=0 pkt=1 len=40 delay=30ms cause=fault");
}

static void test_duplicate(void **state)
{
    fx *f = *state;
    f->verdict = (sim_fault_verdict){SIM_FAULT_DUPLICATE, 0, 3};
    send_ab(f);
    sim_world_run(f->w);
    assert_int_equal(f->hook_calls, 1); /* clones do not pass the hook again */
    assert_int_equal(f->narr, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(f->arr_id[i], (uint32_t)i + 1);
        assert_int_equal(f->arr_origin[i], 1);
        assert_int_equal(f->arr_time[i], 10 * SIM_MS);
    }
    assert_int_equal(sim_link_stats_get(f->l, 0).duplicated, 3);
    assert_string_equal(f->lines[1],
                        "0.000000000 DUPLICATE host=0 link=0 dir=0 pkt=2 origin=1 len=40");
    assert_string_equal(f->lines[7],
                        "0.010000000 DELIVER host=1 link=0 dir=0 pkt=4 origin=1 len=40");
}

static void test_hold_and_release_by_id(void **state)
{
    fx *f = *state;
    f->verdict.action = SIM_FAULT_HOLD;
    for (int i = 0; i < 3; i++)
        send_ab(f);
    assert_int_equal(sim_link_held_count(f->l, 0), 3);
    assert_int_equal(sim_link_stats_get(f->l, 0).held, 3);
    sim_world_run_until_time(f->w, SIM_S);
    assert_int_equal(f->narr, 0);
    assert_int_equal(sim_link_release(f->l, 0, 2), 1);
    assert_int_equal(sim_link_release(f->l, 0, 2), 0); /* no longer held */
    assert_int_equal(sim_link_release(f->l, 0, 77), 0);
    assert_int_equal(sim_link_held_count(f->l, 0), 2);
    sim_world_run_until_time(f->w, 2 * SIM_S);
    assert_int_equal(f->narr, 1);
    assert_int_equal(f->arr_id[0], 2);
    assert_int_equal(f->arr_time[0], SIM_S + 10 * SIM_MS);
    /* Release all: the rest, oldest first. */
    assert_int_equal(sim_link_release(f->l, 0, 0), 2);
    assert_int_equal(sim_link_held_count(f->l, 0), 0);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 3);
    assert_int_equal(f->arr_id[1], 1);
    assert_int_equal(f->arr_id[2], 3);
    assert_int_equal(f->arr_time[2], 2 * SIM_S + 10 * SIM_MS);
    assert_int_equal(f->hook_calls, 3);
    assert_string_equal(f->lines[1], "0.000000000 HOLD host=0 link=0 dir=0 pkt=1 len=40");
    assert_string_equal(f->lines[6], "1.000000000 RELEASE host=0 link=0 dir=0 pkt=2 len=40");
}

static void test_release_continues_from_loss_step(void **state)
{
    fx *f = *state;
    f->verdict.action = SIM_FAULT_HOLD;
    for (int i = 0; i < 10; i++)
        send_ab(f);
    sim_link_params p = *sim_link_params_get(f->l, 0);
    p.loss_ppb = SIM_PPB_ONE;
    p.delay_ns = 0;
    sim_link_params_set(f->l, 0, &p);
    assert_int_equal(sim_link_release(f->l, 0, 0), 10);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 0);
    assert_int_equal(sim_link_stats_get(f->l, 0).dropped_loss, 10);
    assert_int_equal(f->hook_calls, 10);
}

static void test_release_takes_current_delay_even_when_down(void **state)
{
    fx *f = *state;
    f->verdict.action = SIM_FAULT_HOLD;
    send_ab(f);
    sim_link_params p = *sim_link_params_get(f->l, 0);
    p.delay_ns = 70 * SIM_MS;
    p.up = false; /* steps 1-3 are behind a held packet */
    sim_link_params_set(f->l, 0, &p);
    sim_world_run_until_time(f->w, 500 * SIM_MS);
    sim_link_release(f->l, 0, 1);
    sim_world_run(f->w);
    assert_int_equal(f->narr, 1);
    assert_int_equal(f->arr_time[0], 570 * SIM_MS);
    sim_link_set_up(f->l, 0, true);
}

static void test_held_packets_are_freed_with_the_world(void **state)
{
    (void)state;
    fx f = {0};
    f.w = sim_world_new(1);
    sim_host_add(f.w, "A", ADDR_A, &f.a);
    sim_host_add(f.w, "B", ADDR_B, &f.b);
    sim_link_params p;
    sim_link_params_default(&p);
    p.delay_ns = SIM_S;
    sim_link_add(f.w, f.a, f.b, &p, &p, &f.l);
    f.verdict.action = SIM_FAULT_HOLD;
    f.only = 2;
    sim_link_set_fault_hook(f.l, 0, hook, &f);
    for (int i = 0; i < 3; i++)
        send_ab(&f);
    assert_int_equal(sim_link_held_count(f.l, 0), 1);
    assert_int_equal(sim_packets_in_use(f.w), 3); /* two in flight, one held */
    sim_world_free(f.w);                          /* ASan reports a leak if any is lost */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_pass_sees_every_packet_once),
        T(test_hook_runs_after_down_and_mtu),
        T(test_drop),
        T(test_delay),
        T(test_duplicate),
        T(test_hold_and_release_by_id),
        T(test_release_continues_from_loss_step),
        T(test_release_takes_current_delay_even_when_down),
        cmocka_unit_test(test_held_packets_are_freed_with_the_world),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
