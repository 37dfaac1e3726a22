/*
 * test_run — the run controls of sim_world.h: the clock, timers through the
 * world, run / run_until_time / run_until / step / stop, the event and
 * virtual-time limits and their messages, and operating errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim_world.h"

/* A timer that records when it fired and, optionally, re-arms itself. */
typedef struct tick {
    sim_timer timer;
    sim_world *w;
    int fired;
    sim_time_t last;
    sim_time_t period; /* 0: one-shot */
    int stop_after;    /* call sim_world_stop on this firing (0: never) */
    int *log;          /* appends `id` to log[*log_n] when fired */
    int *log_n;
    int id;
} tick;

static void tick_fn(sim_timer *t, void *arg)
{
    tick *k = arg;
    assert_ptr_equal(t, &k->timer);
    k->fired++;
    k->last = sim_world_now(k->w);
    if (k->log)
        k->log[(*k->log_n)++] = k->id;
    if (k->stop_after && k->fired == k->stop_after)
        sim_world_stop(k->w);
    if (k->period)
        sim_world_arm_in(k->w, &k->timer, k->period);
}

static void tick_init(tick *k, sim_world *w)
{
    memset(k, 0, sizeof *k);
    k->w = w;
    sim_timer_init(&k->timer, tick_fn, k);
}

static int setup(void **state)
{
    sim_world *w = sim_world_new(1);
    assert_non_null(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    sim_world *w = *state;
    assert_int_equal(sim_packets_in_use(w), 0);
    sim_world_free(w);
    return 0;
}

static void test_new_world_is_idle_at_zero(void **state)
{
    sim_world *w = *state;
    assert_int_equal(sim_world_now(w), 0);
    assert_int_equal(sim_world_events(w), 0);
    assert_int_equal(sim_world_seed(w), 1);
    assert_string_equal(sim_world_error(w), "");
    assert_int_equal(sim_world_next_time(w), SIM_TIME_NEVER);
    assert_int_equal(sim_world_run(w), SIM_RUN_IDLE);
    assert_int_equal(sim_world_step(w), SIM_RUN_IDLE);
    assert_int_equal(sim_world_now(w), 0);
}

static void test_run_executes_in_order_and_advances_clock(void **state)
{
    sim_world *w = *state;
    tick k[3];
    int log[8], n = 0;
    const sim_time_t at[3] = {30 * SIM_MS, 10 * SIM_MS, 20 * SIM_MS};
    for (int i = 0; i < 3; i++) {
        tick_init(&k[i], w);
        k[i].log = log;
        k[i].log_n = &n;
        k[i].id = i;
        sim_world_arm_at(w, &k[i].timer, at[i]);
    }
    assert_int_equal(sim_world_next_time(w), 10 * SIM_MS);
    assert_int_equal(sim_world_run(w), SIM_RUN_IDLE);
    assert_int_equal(n, 3);
    assert_int_equal(log[0], 1);
    assert_int_equal(log[1], 2);
    assert_int_equal(log[2], 0);
    assert_int_equal(k[0].last, 30 * SIM_MS);
    assert_int_equal(sim_world_now(w), 30 * SIM_MS);
    assert_int_equal(sim_world_events(w), 3);
}

static void test_arm_in_the_past_is_clamped_to_now(void **state)
{
    sim_world *w = *state;
    tick a, b;
    tick_init(&a, w);
    tick_init(&b, w);
    sim_world_arm_at(w, &a.timer, 5 * SIM_S);
    sim_world_run(w);
    sim_world_arm_at(w, &b.timer, 1 * SIM_S);
    assert_int_equal(sim_world_next_time(w), 5 * SIM_S);
    sim_world_run(w);
    assert_int_equal(b.last, 5 * SIM_S);
    sim_world_arm_in(w, &b.timer, 250 * SIM_MS);
    sim_world_run(w);
    assert_int_equal(b.last, 5250 * SIM_MS);
}

static void test_cancel_through_world(void **state)
{
    sim_world *w = *state;
    tick a;
    tick_init(&a, w);
    sim_world_arm_in(w, &a.timer, SIM_S);
    sim_world_cancel(w, &a.timer);
    sim_world_cancel(w, &a.timer);
    assert_int_equal(sim_world_run(w), SIM_RUN_IDLE);
    assert_int_equal(a.fired, 0);
    assert_int_equal(sim_world_now(w), 0);
}

static void test_run_until_time_runs_due_events_and_sets_clock(void **state)
{
    sim_world *w = *state;
    tick a;
    tick_init(&a, w);
    a.period = 100 * SIM_MS;
    sim_world_arm_at(w, &a.timer, 100 * SIM_MS);
    /* Events at exactly `until` run. */
    assert_int_equal(sim_world_run_until_time(w, 300 * SIM_MS), SIM_RUN_TIME);
    assert_int_equal(a.fired, 3);
    assert_int_equal(sim_world_now(w), 300 * SIM_MS);
    assert_int_equal(sim_world_run_until_time(w, 350 * SIM_MS), SIM_RUN_TIME);
    assert_int_equal(a.fired, 3);
    assert_int_equal(sim_world_now(w), 350 * SIM_MS);
    sim_world_cancel(w, &a.timer);
}

static void test_run_until_time_moves_clock_when_idle(void **state)
{
    sim_world *w = *state;
    assert_int_equal(sim_world_run_until_time(w, 7 * SIM_S), SIM_RUN_TIME);
    assert_int_equal(sim_world_now(w), 7 * SIM_S);
    /* An instant in the past leaves the clock alone. */
    assert_int_equal(sim_world_run_until_time(w, 1 * SIM_S), SIM_RUN_TIME);
    assert_int_equal(sim_world_now(w), 7 * SIM_S);
}

static bool fired_twice(void *arg)
{
    return ((tick *)arg)->fired >= 2;
}

static void test_run_until_predicate(void **state)
{
    sim_world *w = *state;
    tick a;
    tick_init(&a, w);
    a.period = SIM_S;
    sim_world_arm_at(w, &a.timer, SIM_S);
    assert_int_equal(sim_world_run_until(w, fired_twice, &a, SIM_TIME_NEVER), SIM_RUN_PREDICATE);
    assert_int_equal(a.fired, 2);
    assert_int_equal(sim_world_now(w), 2 * SIM_S);
    /* Checked before the first event: already true, nothing runs. */
    uint64_t events = sim_world_events(w);
    assert_int_equal(sim_world_run_until(w, fired_twice, &a, SIM_TIME_NEVER), SIM_RUN_PREDICATE);
    assert_int_equal(sim_world_events(w), events);
    sim_world_cancel(w, &a.timer);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static void test_run_until_deadline_and_idle(void **state)
{
    sim_world *w = *state;
    tick a;
    tick_init(&a, w);
    a.period = SIM_S;
    sim_world_arm_at(w, &a.timer, SIM_S);
    assert_int_equal(sim_world_run_until(w, never, NULL, 3500 * SIM_MS), SIM_RUN_TIME);
    assert_int_equal(a.fired, 3);
    assert_int_equal(sim_world_now(w), 3500 * SIM_MS);
    sim_world_cancel(w, &a.timer);
    assert_int_equal(sim_world_run_until(w, never, NULL, 10 * SIM_S), SIM_RUN_IDLE);
    assert_int_equal(sim_world_now(w), 3500 * SIM_MS);
}

static void test_step_runs_one_event(void **state)
{
    sim_world *w = *state;
    tick a, b;
    tick_init(&a, w);
    tick_init(&b, w);
    sim_world_arm_at(w, &a.timer, 10);
    sim_world_arm_at(w, &b.timer, 10);
    assert_int_equal(sim_world_step(w), SIM_RUN_STEPPED);
    assert_int_equal(a.fired + b.fired, 1);
    assert_int_equal(a.fired, 1); /* armed first, fires first */
    assert_int_equal(sim_world_step(w), SIM_RUN_STEPPED);
    assert_int_equal(b.fired, 1);
    assert_int_equal(sim_world_step(w), SIM_RUN_IDLE);
    assert_int_equal(sim_world_events(w), 2);
}

static void test_stop_from_callback(void **state)
{
    sim_world *w = *state;
    tick a, b;
    tick_init(&a, w);
    tick_init(&b, w);
    a.period = SIM_MS;
    a.stop_after = 5;
    sim_world_arm_at(w, &a.timer, SIM_MS);
    sim_world_arm_at(w, &b.timer, SIM_S);
    assert_int_equal(sim_world_run(w), SIM_RUN_STOPPED);
    assert_int_equal(a.fired, 5);
    assert_int_equal(sim_world_now(w), 5 * SIM_MS);
    /* The stop request does not outlive the run it stopped. */
    a.period = 0;
    assert_int_equal(sim_world_run(w), SIM_RUN_IDLE);
    assert_int_equal(b.fired, 1);
}

static void test_event_limit(void **state)
{
    sim_world *w = *state;
    tick a;
    tick_init(&a, w);
    a.period = SIM_MS;
    sim_world_set_limits(w, 10, 0);
    sim_world_arm_at(w, &a.timer, SIM_MS);
    assert_int_equal(sim_world_run(w), SIM_RUN_LIMIT_EVENTS);
    assert_int_equal(a.fired, 10);
    assert_int_equal(sim_world_events(w), 10);
    assert_string_equal(sim_world_error(w), "event limit of 10 reached at t=0.010");
    assert_int_equal(sim_world_step(w), SIM_RUN_LIMIT_EVENTS);
    assert_int_equal(a.fired, 10);
    sim_world_cancel(w, &a.timer);
}

static void test_time_limit(void **state)
{
    sim_world *w = *state;
    tick a;
    tick_init(&a, w);
    a.period = SIM_S;
    sim_world_set_limits(w, 0, 5 * SIM_S);
    sim_world_arm_at(w, &a.timer, SIM_S);
    assert_int_equal(sim_world_run(w), SIM_RUN_LIMIT_TIME);
    assert_int_equal(a.fired, 5); /* the event at exactly 5s runs */
    assert_int_equal(sim_world_now(w), 5 * SIM_S);
    assert_string_equal(sim_world_error(w), "virtual time limit of 5s reached at t=5.000");
    sim_world_cancel(w, &a.timer);
}

static void test_run_until_time_past_limit_stops_at_limit(void **state)
{
    sim_world *w = *state;
    sim_world_set_limits(w, 0, 2 * SIM_MIN);
    assert_int_equal(sim_world_run_until_time(w, SIM_H), SIM_RUN_LIMIT_TIME);
    assert_int_equal(sim_world_now(w), 2 * SIM_MIN);
    assert_string_equal(sim_world_error(w), "virtual time limit of 2min reached at t=120.000");
}

static void test_default_limits(void **state)
{
    sim_world *w = *state;
    sim_world_set_limits(w, 3, SIM_S);
    sim_world_set_limits(w, 0, 0); /* back to the defaults */
    assert_int_equal(sim_world_run_until_time(w, SIM_DEFAULT_MAX_TIME), SIM_RUN_TIME);
    assert_int_equal(sim_world_run_until_time(w, SIM_DEFAULT_MAX_TIME + 1), SIM_RUN_LIMIT_TIME);
    assert_int_equal(sim_world_now(w), SIM_DEFAULT_MAX_TIME);
}

static void test_fail_sets_message(void **state)
{
    sim_world *w = *state;
    assert_int_equal(sim_world_fail(w, "bad %s: %d", "thing", 42), -1);
    assert_string_equal(sim_world_error(w), "bad thing: 42");
}

static void test_world_rng_streams(void **state)
{
    sim_world *w = *state;
    sim_rng a, b;
    sim_world_rng(w, &a, "host:A");
    sim_rng_seed(&b, 1, "host:A");
    assert_int_equal(sim_rng_next(&a), sim_rng_next(&b));
}

static void test_run_result_names(void **state)
{
    (void)state;
    assert_string_equal(sim_run_result_name(SIM_RUN_IDLE), "idle");
    assert_string_equal(sim_run_result_name(SIM_RUN_LIMIT_EVENTS), "event limit");
    assert_string_equal(sim_run_result_name(SIM_RUN_LIMIT_TIME), "time limit");
    assert_string_equal(sim_run_result_name(SIM_RUN_STOPPED), "stopped");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_world_is_idle_at_zero),
        T(test_run_executes_in_order_and_advances_clock),
        T(test_arm_in_the_past_is_clamped_to_now),
        T(test_cancel_through_world),
        T(test_run_until_time_runs_due_events_and_sets_clock),
        T(test_run_until_time_moves_clock_when_idle),
        T(test_run_until_predicate),
        T(test_run_until_deadline_and_idle),
        T(test_step_runs_one_event),
        T(test_stop_from_callback),
        T(test_event_limit),
        T(test_time_limit),
        T(test_run_until_time_past_limit_stops_at_limit),
        T(test_default_limits),
        T(test_fail_sets_message),
        T(test_world_rng_streams),
        T(test_run_result_names),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
