/*
 * test_queue — the contract of sim_queue.h: timers fire in (when, seq)
 * order, same-instant timers in the order they were last armed, re-arming
 * moves a timer, cancelling removes it, and the heap agrees with a simple
 * model under long random sequences of operations, and with a plain
 * (when, seq) reference when callbacks arm at the instant popping. The
 * queue's invariants (sim_queue_check) are checked after every operation
 * on a small queue, now and then on a large one, and at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim_queue.h"
#include "sim_rng.h"

static void noop(sim_timer *t, void *arg)
{
    (void)t;
    (void)arg;
}

static void check(const sim_queue *q)
{
    char why[160] = "";
    if (sim_queue_check(q, why, sizeof why) != 0)
        fail_msg("queue invariant broken: %s", why);
}

/* Every operation the tests make goes through these, which check the
 * queue's invariants (sim_queue_check) after it: after every operation
 * while the queue is small, then after one in every len / 256, so that a
 * check (O(len)) costs O(1) per operation amortised. A long random run
 * still checks thousands of times, and every test ends on an empty or
 * checked queue. */
static void check_now_and_then(const sim_queue *q)
{
    static uint32_t calls;
    if (++calls % (1 + sim_queue_len(q) / 256) == 0)
        check(q);
}

static int arm(sim_queue *q, sim_timer *t, sim_time_t when)
{
    int rc = sim_queue_arm(q, t, when);
    check_now_and_then(q);
    return rc;
}

static sim_timer *pop(sim_queue *q)
{
    sim_timer *t = sim_queue_pop(q);
    check_now_and_then(q);
    return t;
}

static void cancel(sim_queue *q, sim_timer *t)
{
    sim_queue_cancel(q, t);
    check_now_and_then(q);
}

static int setup(void **state)
{
    sim_queue *q = sim_queue_new();
    assert_non_null(q);
    *state = q;
    return 0;
}

static int teardown(void **state)
{
    sim_queue *q = *state;
    sim_queue_free(q);
    return 0;
}

static void test_empty_queue(void **state)
{
    sim_queue *q = *state;
    assert_null(sim_queue_peek(q));
    assert_null(pop(q));
    assert_int_equal(sim_queue_len(q), 0);
}

static void test_pops_in_time_order(void **state)
{
    sim_queue *q = *state;
    sim_timer t[5];
    const sim_time_t when[5] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++) {
        sim_timer_init(&t[i], noop, NULL);
        assert_false(sim_timer_armed(&t[i]));
        assert_int_equal(arm(q, &t[i], when[i]), 0);
        assert_true(sim_timer_armed(&t[i]));
    }
    assert_int_equal(sim_queue_len(q), 5);
    assert_ptr_equal(sim_queue_peek(q), &t[1]);
    const int order[5] = {1, 3, 4, 2, 0};
    for (int i = 0; i < 5; i++) {
        sim_timer *got = pop(q);
        assert_ptr_equal(got, &t[order[i]]);
        assert_false(sim_timer_armed(got));
    }
    assert_null(pop(q));
}

static void test_same_instant_fires_in_arm_order(void **state)
{
    sim_queue *q = *state;
    enum { N = 100 };
    sim_timer t[N];
    /* Arm in a scrambled order, all at the same instant. */
    int armed[N];
    for (int i = 0; i < N; i++)
        armed[i] = (i * 37) % N;
    for (int i = 0; i < N; i++) {
        sim_timer_init(&t[armed[i]], noop, NULL);
        arm(q, &t[armed[i]], 1000);
    }
    for (int i = 0; i < N; i++)
        assert_ptr_equal(pop(q), &t[armed[i]]);
}

static void test_rearm_same_instant_goes_last(void **state)
{
    sim_queue *q = *state;
    sim_timer a, b, c;
    sim_timer_init(&a, noop, NULL);
    sim_timer_init(&b, noop, NULL);
    sim_timer_init(&c, noop, NULL);
    arm(q, &a, 5);
    arm(q, &b, 5);
    arm(q, &c, 5);
    arm(q, &a, 5); /* re-armed: now the last of the three */
    assert_int_equal(sim_queue_len(q), 3);
    assert_ptr_equal(pop(q), &b);
    assert_ptr_equal(pop(q), &c);
    assert_ptr_equal(pop(q), &a);
}

static void test_rearm_moves_both_ways(void **state)
{
    sim_queue *q = *state;
    sim_timer t[3];
    for (int i = 0; i < 3; i++) {
        sim_timer_init(&t[i], noop, NULL);
        arm(q, &t[i], 100 * (sim_time_t)(i + 1));
    }
    arm(q, &t[2], 50);  /* earlier: becomes first */
    arm(q, &t[0], 250); /* later: becomes last */
    assert_int_equal(sim_queue_len(q), 3);
    assert_ptr_equal(pop(q), &t[2]);
    assert_ptr_equal(pop(q), &t[1]);
    assert_int_equal(sim_queue_next_when(q), 250);
    assert_ptr_equal(pop(q), &t[0]);
    assert_int_equal(sim_queue_next_when(q), SIM_TIME_NEVER);
}

static void test_cancel(void **state)
{
    sim_queue *q = *state;
    sim_timer t[4];
    for (int i = 0; i < 4; i++) {
        sim_timer_init(&t[i], noop, NULL);
        arm(q, &t[i], (sim_time_t)(i + 1));
    }
    cancel(q, &t[0]); /* the root */
    cancel(q, &t[3]); /* the last entry */
    assert_false(sim_timer_armed(&t[0]));
    assert_false(sim_timer_armed(&t[3]));
    cancel(q, &t[3]); /* idle: a no-op */
    assert_int_equal(sim_queue_len(q), 2);
    assert_ptr_equal(pop(q), &t[1]);
    assert_ptr_equal(pop(q), &t[2]);
    assert_null(pop(q));
    /* A cancelled timer can be armed again. */
    arm(q, &t[0], 9);
    assert_ptr_equal(pop(q), &t[0]);
}

static void count_call(sim_timer *t, void *arg)
{
    (void)t;
    (*(int *)arg)++;
}

/* sim_queue_free frees the queue with timers still armed and calls none of
 * them; the timers still look armed (docs/core.md rule 3). */
static void test_free_forgets_armed_timers(void **state)
{
    sim_queue *q = *state;
    enum { N = 1000 }; /* enough to grow the heap array several times */
    static sim_timer t[N];
    int calls = 0;
    for (int i = 0; i < N; i++) {
        sim_timer_init(&t[i], count_call, &calls);
        arm(q, &t[i], (sim_time_t)(N - i));
    }
    assert_int_equal(sim_queue_len(q), N);
    sim_queue_free(q);
    *state = sim_queue_new(); /* for teardown */
    assert_int_equal(calls, 0);
    assert_true(sim_timer_armed(&t[0]));
}

/* The model: each timer's expected (when, seq), seq counted here too. */
typedef struct model {
    bool armed;
    sim_time_t when;
    uint64_t seq;
} model;

static int model_earliest(const model *m, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (m[i].armed && (best < 0 || m[i].when < m[best].when ||
                           (m[i].when == m[best].when && m[i].seq < m[best].seq)))
            best = i;
    return best;
}

/* Random arms, re-arms, cancels and pops checked against the model. Keys
 * are now + grain * [0, spread) with now the last popped time, and one arm
 * in `past_every` goes before now (the queue itself allows it). */
static void match_model(sim_queue *q, int n, int ops, sim_time_t spread, sim_time_t grain,
                        int past_every, uint64_t seed)
{
    sim_timer *t = calloc((size_t)n, sizeof *t);
    model *m = calloc((size_t)n, sizeof *m);
    for (int i = 0; i < n; i++)
        sim_timer_init(&t[i], noop, NULL);
    sim_rng r;
    sim_rng_seed(&r, seed, "queue-model");
    uint64_t seq = 0, armed = 0;
    sim_time_t now = 1000000;
    for (int op = 0; op < ops; op++) {
        int i = (int)sim_rng_below(&r, (uint64_t)n);
        uint64_t kind = sim_rng_below(&r, 10);
        if (kind < 5) {
            sim_time_t when = now + grain * sim_rng_below(&r, spread);
            if (past_every && sim_rng_below(&r, (uint64_t)past_every) == 0)
                when = now - sim_rng_below(&r, spread);
            assert_int_equal(arm(q, &t[i], when), 0);
            armed += !m[i].armed;
            m[i] = (model){true, when, ++seq};
        } else if (kind < 7) {
            cancel(q, &t[i]);
            armed -= m[i].armed;
            m[i].armed = false;
        } else {
            int want = model_earliest(m, n);
            sim_time_t due = sim_queue_next_when(q);
            if (want >= 0)
                assert_int_equal(sim_queue_when(q, &t[want]), m[want].when);
            sim_timer *got = pop(q);
            if (want < 0) {
                assert_null(got);
                continue;
            }
            assert_ptr_equal(got, &t[want]);
            assert_int_equal(due, m[want].when);
            m[want].armed = false;
            now = due;
            armed--;
        }
        assert_int_equal(sim_queue_len(q), armed);
        for (int k = op % 37; k < n; k += 37)
            assert_int_equal(sim_timer_armed(&t[k]), m[k].armed);
    }
    check(q);
    free(t);
    free(m);
}

static void test_random_operations_with_many_ties(void **state)
{
    match_model(*state, 1000, 200000, 64, 1, 0, 5);
}

static void test_random_operations_over_a_wide_range(void **state)
{
    match_model(*state, 3000, 150000, 50 * SIM_MS, 1, 0, 6);
}

static void test_random_operations_arming_in_the_past(void **state)
{
    match_model(*state, 500, 100000, 1000, 1, 10, 7);
}

/* Ties at more instants than the queue remembers at once (it keeps the
 * latest group of at most 256): 600 instants 1 ms apart, a few timers at
 * each, armed, re-armed and cancelled at random. Losing track of an
 * instant must cost a group, never order. */
static void test_random_operations_with_ties_at_many_instants(void **state)
{
    match_model(*state, 3000, 150000, 600, SIM_MS, 0, 8);
}

/* The race's shape: two instants, each shared by many timers armed in
 * turn (every pair's delivery, then every pair's retransmission timer),
 * pop in the order they were armed, each instant's after the other's. */
static void test_ties_pop_in_arm_order_at_each_instant(void **state)
{
    sim_queue *q = *state;
    enum { N = 5000 };
    static sim_timer t[2 * N];
    for (int i = 0; i < N; i++) {
        sim_timer_init(&t[2 * i], noop, NULL);
        sim_timer_init(&t[2 * i + 1], noop, NULL);
        arm(q, &t[2 * i], 5 * SIM_MS); /* the delivery */
        arm(q, &t[2 * i + 1], SIM_S);  /* the RTO, later */
    }
    assert_int_equal(sim_queue_when(q, &t[N]), 5 * SIM_MS);
    assert_int_equal(sim_queue_when(q, &t[N + 1]), SIM_S);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(pop(q), &t[2 * i]);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(pop(q), &t[2 * i + 1]);
    assert_null(pop(q));
}

/* A bucket's end cells name it (no cell keeps its bucket): two instants'
 * cells interleaved in the cell array, one bucket shrunk from either end
 * and the middle to one cell (whose both links name it) and emptied, its
 * bucket and cells then taken by a third
 * instant. Every timer's instant, read by walking to its bucket's end,
 * stays right after each step, and the pops keep arm order. */
static void test_end_cells_name_their_bucket(void **state)
{
    sim_queue *q = *state;
    sim_timer a[6], b[6], c[3];
    for (int i = 0; i < 6; i++) {
        sim_timer_init(&a[i], noop, NULL);
        sim_timer_init(&b[i], noop, NULL);
    }
    for (int i = 0; i < 3; i++)
        sim_timer_init(&c[i], noop, NULL);
    for (int i = 0; i < 6; i++) {
        arm(q, &a[i], 500);
        arm(q, &b[i], 600);
    }
    const int gone[] = {0, 5, 2, 4, 1}; /* first, last, middle, last, first: a[3] alone */
    for (size_t g = 0; g < sizeof gone / sizeof gone[0]; g++) {
        cancel(q, &a[gone[g]]);
        for (int i = 0; i < 6; i++) {
            assert_int_equal(sim_queue_when(q, &b[i]), 600);
            if (sim_timer_armed(&a[i]))
                assert_int_equal(sim_queue_when(q, &a[i]), 500);
        }
    }
    cancel(q, &a[3]); /* the last cell: the bucket goes */
    for (int i = 0; i < 3; i++)
        arm(q, &c[i], 400);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sim_queue_when(q, &c[i]), 400);
    assert_int_equal(sim_queue_len(q), 9);
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(pop(q), &c[i]);
    for (int i = 0; i < 6; i++)
        assert_ptr_equal(pop(q), &b[i]);
    assert_null(pop(q));
}

/* Ten timers at one instant; the first, a middle one and the last are
 * cancelled, another middle one re-armed to the same instant (it goes
 * last), another moved away and back (last again), a new one armed. The
 * others keep their order around the holes. */
static void test_cancel_and_rearm_in_the_middle_of_a_bucket(void **state)
{
    sim_queue *q = *state;
    sim_timer t[11];
    for (int i = 0; i < 11; i++)
        sim_timer_init(&t[i], noop, NULL);
    for (int i = 0; i < 10; i++)
        arm(q, &t[i], 700);
    cancel(q, &t[0]);
    cancel(q, &t[5]);
    cancel(q, &t[9]);
    arm(q, &t[3], 700);
    arm(q, &t[6], 9000);
    assert_int_equal(sim_queue_when(q, &t[6]), 9000);
    arm(q, &t[6], 700);
    arm(q, &t[10], 700);
    assert_int_equal(sim_queue_len(q), 8);
    const int order[] = {1, 2, 4, 7, 8, 3, 6, 10};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        assert_int_equal(sim_queue_when(q, &t[order[i]]), 700);
        assert_ptr_equal(pop(q), &t[order[i]]);
    }
    assert_null(pop(q));
    /* Emptied from the middle out, the instant takes timers again. */
    for (int i = 0; i < 3; i++)
        arm(q, &t[i], 700);
    cancel(q, &t[1]);
    cancel(q, &t[0]);
    cancel(q, &t[2]);
    assert_int_equal(sim_queue_len(q), 0);
    arm(q, &t[4], 700);
    arm(q, &t[5], 700);
    assert_ptr_equal(pop(q), &t[4]);
    assert_ptr_equal(pop(q), &t[5]);
}

/* A callback popped at an instant arms timers at that same instant, as a
 * world's event does at `now`: they run after every timer already due
 * then, in the order they were armed, whether the popped timer's group
 * still holds others or has just run empty. */
typedef struct chain {
    sim_queue *q;
    sim_time_t now;
    sim_timer *extra;
    int next, last;
} chain;

static void arm_now(sim_timer *t, void *arg)
{
    (void)t;
    chain *c = arg;
    if (c->next < c->last)
        arm(c->q, &c->extra[c->next++], c->now);
}

static void pop_and_call(sim_queue *q, sim_timer *want)
{
    sim_timer *got = pop(q);
    assert_ptr_equal(got, want);
    got->fn(got, got->arg);
}

static void test_arm_during_a_pop_at_the_same_instant(void **state)
{
    sim_queue *q = *state;
    sim_timer t[3], e[6], lone;
    chain c = {q, 300, e, 0, 5};
    for (int i = 0; i < 3; i++) {
        sim_timer_init(&t[i], arm_now, &c);
        arm(q, &t[i], 300);
    }
    for (int i = 0; i < 6; i++)
        sim_timer_init(&e[i], arm_now, &c);
    pop_and_call(q, &t[0]); /* arms e0 */
    arm(q, &t[0], 300);     /* and t0 itself again: after e0 */
    pop_and_call(q, &t[1]); /* e1 */
    pop_and_call(q, &t[2]); /* e2 */
    pop_and_call(q, &e[0]); /* e3 */
    pop_and_call(q, &t[0]); /* e4 */
    for (int i = 1; i <= 4; i++)
        pop_and_call(q, &e[i]);
    assert_null(pop(q));
    /* A lone timer's group runs empty as it pops; its call arms e5 at the
     * same instant, into a group of its own, next to run. */
    sim_timer_init(&lone, arm_now, &c);
    arm(q, &lone, 400);
    arm(q, &t[1], 500);
    c.now = 400;
    c.last = 6;
    pop_and_call(q, &lone);
    assert_int_equal(sim_queue_next_when(q), 400);
    pop_and_call(q, &e[5]);
    assert_ptr_equal(pop(q), &t[1]);
    assert_null(pop(q));
}

/* Hostile sizes: one instant holding 100,000 timers (every other one
 * cancelled, every tenth re-armed to it again), then the instants 0 and
 * SIM_TIME_NEVER - 1 and the largest one, and a run of instants that all
 * fall to the same few places of the queue's memory of instants (any 300
 * distinct instants must share some). Everything pops in (when, seq). */
static void test_hostile_sizes_and_instants(void **state)
{
    sim_queue *q = *state;
    enum { N = 100000 };
    sim_timer *t = calloc(N, sizeof *t);
    assert_non_null(t);
    for (int i = 0; i < N; i++) {
        sim_timer_init(&t[i], noop, NULL);
        assert_int_equal(sim_queue_arm(q, &t[i], 42 * SIM_S), 0);
    }
    for (int i = 1; i < N; i += 2)
        sim_queue_cancel(q, &t[i]);
    for (int i = 0; i < N; i += 10)
        assert_int_equal(sim_queue_arm(q, &t[i], 42 * SIM_S), 0);
    check(q);
    assert_int_equal(sim_queue_len(q), N / 2);
    arm(q, &t[1], 0);
    arm(q, &t[3], SIM_TIME_NEVER - 1);
    arm(q, &t[5], SIM_TIME_NEVER);
    arm(q, &t[7], 0);
    assert_ptr_equal(pop(q), &t[1]);
    assert_ptr_equal(pop(q), &t[7]);
    for (int i = 0; i < N; i += 2)
        if (i % 10 != 0)
            assert_ptr_equal(sim_queue_pop(q), &t[i]);
    for (int i = 0; i < N; i += 10)
        assert_ptr_equal(sim_queue_pop(q), &t[i]);
    check(q);
    assert_ptr_equal(pop(q), &t[3]);
    assert_ptr_equal(pop(q), &t[5]);
    assert_null(pop(q));
    /* 300 instants, two timers each, armed round-robin: the queue cannot
     * remember every instant, and an instant it forgot starts a new group
     * behind the older one. */
    enum { M = 300 };
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < M; k++)
            arm(q, &t[round * M + k], 1000 + (sim_time_t)k * 7919);
    for (int k = 0; k < M; k++) {
        assert_ptr_equal(pop(q), &t[k]);
        assert_ptr_equal(pop(q), &t[M + k]);
    }
    assert_null(pop(q));
    free(t);
}

/* Differential test against the plain order: a reference that keeps each
 * timer's (when, seq) and pops the least, driven by seeded random arms,
 * re-arms, cancels and pops. Each pop plays a callback the way a world's
 * event does at `now`: it arms timers at the instant being popped (into
 * the group still popping, or after it ran empty), re-arms the popped
 * timer at that instant, cancels the timer due next. Instants come from a
 * pool of `instants` values `grain` apart: more than the queue remembers
 * (256) live at once forces one instant into several groups, few make long
 * buckets. Every pop must be the reference's; the invariants are checked
 * every 61 operations and at the end (each check walks the whole queue). */
typedef struct diff {
    sim_queue *q;
    sim_timer *t;
    model *m;
    int n;
    uint64_t seq;
    sim_rng r;
} diff;

static void diff_arm(diff *d, int i, sim_time_t when)
{
    assert_int_equal(sim_queue_arm(d->q, &d->t[i], when), 0);
    d->m[i] = (model){true, when, ++d->seq};
}

static void diff_cancel(diff *d, int i)
{
    sim_queue_cancel(d->q, &d->t[i]);
    d->m[i].armed = false;
}

/* What the popped timer's callback does at `now`. */
static void diff_callback(diff *d, int popped, sim_time_t now)
{
    uint64_t what = sim_rng_below(&d->r, 8);
    if (what < 3) { /* arm a few at the current instant */
        for (uint64_t k = 1 + sim_rng_below(&d->r, 3); k-- > 0;)
            diff_arm(d, (int)sim_rng_below(&d->r, (uint64_t)d->n), now);
    } else if (what == 3) { /* re-arm itself, now */
        diff_arm(d, popped, now);
    } else if (what == 4) { /* cancel the next due */
        int next = model_earliest(d->m, d->n);
        if (next >= 0)
            diff_cancel(d, next);
    } else if (what == 5) { /* the next due, re-armed now: it goes last */
        int next = model_earliest(d->m, d->n);
        if (next >= 0)
            diff_arm(d, next, now);
    }
}

static void match_reference(int n, int ops, int instants, sim_time_t grain, uint64_t seed)
{
    diff d = {.q = sim_queue_new(),
              .t = calloc((size_t)n, sizeof *d.t),
              .m = calloc((size_t)n, sizeof *d.m),
              .n = n};
    assert_true(d.q && d.t && d.m);
    for (int i = 0; i < n; i++)
        sim_timer_init(&d.t[i], noop, NULL);
    sim_rng_seed(&d.r, seed, "queue-reference");
    sim_time_t now = SIM_S;
    for (int op = 0; op < ops; op++) {
        int i = (int)sim_rng_below(&d.r, (uint64_t)n);
        uint64_t kind = sim_rng_below(&d.r, 100);
        if (kind < 45) {
            sim_time_t when = now + grain * sim_rng_below(&d.r, (uint64_t)instants);
            if (kind == 0)
                when = SIM_TIME_NEVER - sim_rng_below(&d.r, 2);
            diff_arm(&d, i, when);
        } else if (kind < 60) {
            diff_cancel(&d, i);
        } else {
            int want = model_earliest(d.m, n);
            sim_timer *got = sim_queue_pop(d.q);
            if (want < 0) {
                assert_null(got);
                continue;
            }
            assert_ptr_equal(got, &d.t[want]);
            d.m[want].armed = false;
            /* Everything at NEVER drains, and time starts over. */
            now = d.m[want].when >= SIM_TIME_NEVER - 1 ? SIM_S : d.m[want].when;
            diff_callback(&d, want, now);
        }
        if (op % 61 == 0)
            check(d.q);
    }
    check(d.q);
    for (int want; (want = model_earliest(d.m, n)) >= 0; d.m[want].armed = false)
        assert_ptr_equal(sim_queue_pop(d.q), &d.t[want]);
    assert_null(sim_queue_pop(d.q));
    check(d.q);
    sim_queue_free(d.q);
    free(d.t);
    free(d.m);
}

/* Many instants live at once (about 500 of them): some forgotten. */
static void test_reference_order_across_forgotten_groups(void **state)
{
    (void)state;
    match_reference(800, 60000, 1000, SIM_MS, 21);
}

/* Few instants: long buckets, callbacks arming into the group popping. */
static void test_reference_order_in_long_buckets(void **state)
{
    (void)state;
    match_reference(800, 60000, 4, 1, 22);
}

/* Neighbouring instants, some hashed to the same place of the memory. */
static void test_reference_order_at_neighbouring_instants(void **state)
{
    (void)state;
    match_reference(400, 60000, 300, 1, 23);
}

/* Far-future timers laid out so that an evenly spaced sample of them sees
 * only the earliest few: the queue must still pop everything in order. */
static void test_skewed_far_layout_pops_in_order(void **state)
{
    sim_queue *q = *state;
    enum { N = 6400 };
    static sim_timer t[N + 1];
    sim_timer_init(&t[N], noop, NULL);
    arm(q, &t[N], 0);
    for (int i = 0; i < N; i++) {
        sim_timer_init(&t[i], noop, NULL);
        sim_time_t when = i % 100 == 0 ? 1000 + (sim_time_t)i : SIM_S + (sim_time_t)(N - i);
        arm(q, &t[i], when);
    }
    assert_ptr_equal(pop(q), &t[N]);
    for (int i = 0; i < N; i += 100)
        assert_ptr_equal(pop(q), &t[i]);
    for (int i = N - 1; i >= 0; i--) {
        if (i % 100 == 0)
            continue;
        sim_timer *got = pop(q);
        assert_ptr_equal(got, &t[i]);
    }
    assert_null(pop(q));
}

/* Re-arming far-future timers to other far instants (an RTO restarted on
 * every ACK) must keep the order exact too. */
static void test_rearming_far_timers_keeps_order(void **state)
{
    sim_queue *q = *state;
    enum { N = 2000 };
    static sim_timer t[N];
    for (int i = 0; i < N; i++) {
        sim_timer_init(&t[i], noop, NULL);
        arm(q, &t[i], SIM_S + (sim_time_t)i * SIM_MS);
    }
    /* Reverse the order: timer i now fires at 3s - i ms, all re-armed. */
    for (int i = 0; i < N; i++)
        arm(q, &t[i], 3 * SIM_S - (sim_time_t)i * SIM_MS);
    for (int i = N - 1; i >= 0; i--)
        assert_ptr_equal(pop(q), &t[i]);
}

/* A queue that grows after its first refill: the first timer, alone, makes
 * the split its own (late) instant, and every timer armed after it due
 * earlier lands in the heap, which then holds most of the queue until the
 * queue lowers the split (moving the heap's later groups to the far tier)
 * once the heap holds 1,024 groups and a quarter of them. Instants tie in places, some
 * groups are buckets, some timers are re-armed or cancelled in between,
 * and the array is full at times; pops are interleaved. Every timer must
 * still pop in (when, seq) order. */
static void test_growing_after_a_late_first_timer_keeps_order(void **state)
{
    (void)state;
    enum { N = 12000 };
    sim_queue *q = sim_queue_new();
    sim_timer *t = calloc(N, sizeof *t);
    model *m = calloc(N, sizeof *m);
    assert_true(q && t && m);
    sim_rng g;
    sim_rng_seed(&g, 5, "queue-grow");
    uint64_t seq = 0;
    sim_time_t now = 0;
    for (int i = 0; i < N; i++)
        sim_timer_init(&t[i], noop, NULL);
    assert_int_equal(arm(q, &t[0], 2 * SIM_MS), 0);
    m[0] = (model){true, 2 * SIM_MS, ++seq};
    for (int i = 1; i < N; i++) {
        /* a grain of 100 ns over 2 ms: ties at about one instant in three */
        sim_time_t when = now + sim_rng_below(&g, 20000) * 100;
        assert_int_equal(arm(q, &t[i], when), 0);
        m[i] = (model){true, when, ++seq};
        int j = (int)sim_rng_below(&g, (uint64_t)i);
        uint64_t pick = sim_rng_below(&g, 16);
        if (pick == 0) { /* re-armed, near or far */
            when = now + sim_rng_below(&g, 40000) * 100;
            assert_int_equal(arm(q, &t[j], when), 0);
            m[j] = (model){true, when, ++seq};
        } else if (pick == 1 && m[j].armed) {
            cancel(q, &t[j]);
            m[j].armed = false;
        } else if (pick == 2) { /* one pop now and then: the clock moves */
            int want = model_earliest(m, i + 1);
            sim_timer *got = pop(q);
            assert_ptr_equal(got, &t[want]);
            now = m[want].when;
            m[want].armed = false;
        }
    }
    check(q);
    for (;;) {
        int want = model_earliest(m, N);
        sim_timer *got = pop(q);
        if (want < 0) {
            assert_null(got);
            break;
        }
        assert_ptr_equal(got, &t[want]);
        m[want].armed = false;
    }
    sim_queue_free(q);
    free(t);
    free(m);
}

/* The heap and the far tier share one array, growing towards each other.
 * For every count n up to a few doublings (so also every n that fills the
 * array exactly), n - 1 far timers and one near one; re-arming the near
 * one far empties the heap, and the refill then moves far entries into the
 * heap while the array is full: the heap's next entry is the far tier's
 * last one. Every timer must still pop in (when, seq) order. */
static void test_shared_array_full_at_refill(void **state)
{
    (void)state;
    enum { N = 300 };
    static sim_timer t[N];
    for (int n = 2; n <= N; n++) {
        sim_queue *q = sim_queue_new();
        assert_non_null(q);
        for (int i = 0; i < n; i++)
            sim_timer_init(&t[i], noop, NULL);
        arm(q, &t[0], 10);          /* alone: the refill makes it near */
        for (int i = 1; i < n; i++) /* after the split: far, in reverse */
            arm(q, &t[i], 1000 + (sim_time_t)(n - i));
        arm(q, &t[0], 5000); /* near to far: the heap runs empty */
        for (int i = n - 1; i >= 1; i--)
            assert_ptr_equal(pop(q), &t[i]);
        assert_ptr_equal(pop(q), &t[0]);
        assert_null(pop(q));
        sim_queue_free(q);
    }
}

/* A storm of re-arms and cancels with the shared array exactly full: the
 * heap and the far tier meet, and every operation moves timers across the
 * meeting point (near to far, far to near, a cancel re-armed at once), with
 * instants spread so that refills take both the sampled split and the
 * exact selection. For each room the array grows to (61, 125, 253), the
 * queue must agree with the model after every step and pop in order. */
static void test_full_array_rearm_cancel_storm(void **state)
{
    (void)state;
    static const int rooms[] = {61, 125, 253};
    for (size_t r = 0; r < sizeof rooms / sizeof rooms[0]; r++) {
        int n = rooms[r];
        sim_queue *q = sim_queue_new();
        sim_timer *t = calloc((size_t)n, sizeof *t);
        model *m = calloc((size_t)n, sizeof *m);
        assert_true(q && t && m);
        sim_rng g;
        sim_rng_seed(&g, 11 + (uint64_t)r, "queue-storm");
        uint64_t seq = 0;
        for (int i = 0; i < n; i++) {
            sim_timer_init(&t[i], noop, NULL);
            sim_time_t when = 1000 + sim_rng_below(&g, 1000000);
            assert_int_equal(arm(q, &t[i], when), 0);
            m[i] = (model){true, when, ++seq};
        }
        for (int op = 0; op < 20000; op++) {
            int i = (int)sim_rng_below(&g, (uint64_t)n);
            /* mostly near the front (into the heap), sometimes far, and now
             * and then every timer bunched at one far instant */
            uint64_t pick = sim_rng_below(&g, 8);
            sim_time_t when = pick < 4   ? 1000 + sim_rng_below(&g, 64)
                              : pick < 7 ? 1000 + sim_rng_below(&g, 1000000)
                                         : 5000000;
            if (sim_rng_below(&g, 3) == 0)
                cancel(q, &t[i]);
            assert_int_equal(arm(q, &t[i], when), 0);
            m[i] = (model){true, when, ++seq};
            assert_int_equal(sim_queue_len(q), (uint32_t)n); /* still full */
        }
        for (int k = 0; k < n; k++) {
            int want = model_earliest(m, n);
            sim_timer *got = pop(q);
            assert_ptr_equal(got, &t[want]);
            m[want].armed = false;
        }
        assert_null(pop(q));
        sim_queue_free(q);
        free(t);
        free(m);
    }
}

/* The check is not vacuous: a timer whose slot no longer names its entry
 * is reported. */
static void test_check_reports_a_broken_queue(void **state)
{
    sim_queue *q = *state;
    sim_timer t[3];
    for (int i = 0; i < 3; i++) {
        sim_timer_init(&t[i], noop, NULL);
        arm(q, &t[i], (sim_time_t)(10 + i));
    }
    char why[160];
    uint32_t slot = t[1].slot;
    t[1].slot = t[2].slot;
    assert_int_equal(sim_queue_check(q, why, sizeof why), -1);
    assert_non_null(strstr(why, "slot"));
    t[1].slot = slot;
    check(q);
    /* The same for two timers in one instant's list. */
    sim_timer u[2];
    for (int i = 0; i < 2; i++) {
        sim_timer_init(&u[i], noop, NULL);
        arm(q, &u[i], 50);
    }
    slot = u[0].slot;
    u[0].slot = u[1].slot;
    assert_int_equal(sim_queue_check(q, why, sizeof why), -1);
    assert_non_null(strstr(why, "slot"));
    u[0].slot = slot;
    check(q);
}

/* A timer keeps no instant of its own: the queue's entry is the only
 * copy, read back through sim_queue_when in either tier and after each
 * kind of re-arm. The timer is embedded in every packet and host, so its
 * size is held here. */
static void test_when_lives_in_the_entry(void **state)
{
    sim_queue *q = *state;
    assert_true(sizeof(sim_timer) <= 24);
    enum { N = 200 };
    sim_timer t[N];
    for (int i = 0; i < N; i++) {
        sim_timer_init(&t[i], noop, NULL);
        arm(q, &t[i], 1000 + (sim_time_t)i * 10);
    }
    pop(q); /* a refill: the later timers are now far */
    for (int i = 1; i < N; i++)
        assert_int_equal(sim_queue_when(q, &t[i]), 1000 + (sim_time_t)i * 10);
    arm(q, &t[N - 1], 5000); /* far to far */
    arm(q, &t[1], 7);        /* near within the heap */
    arm(q, &t[2], 99999);    /* near to far */
    arm(q, &t[N - 2], 8);    /* far to near */
    assert_int_equal(sim_queue_when(q, &t[N - 1]), 5000);
    assert_int_equal(sim_queue_when(q, &t[1]), 7);
    assert_int_equal(sim_queue_when(q, &t[2]), 99999);
    assert_int_equal(sim_queue_when(q, &t[N - 2]), 8);
    assert_int_equal(sim_queue_next_when(q), 7);
    assert_ptr_equal(pop(q), &t[1]);
    assert_int_equal(sim_queue_next_when(q), 8);
    assert_ptr_equal(pop(q), &t[N - 2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pops_in_time_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_instant_fires_in_arm_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rearm_same_instant_goes_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rearm_moves_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_when_lives_in_the_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_forgets_armed_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_operations_with_many_ties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_operations_over_a_wide_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_operations_arming_in_the_past, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_operations_with_ties_at_many_instants, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ties_pop_in_arm_order_at_each_instant, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_rearm_in_the_middle_of_a_bucket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_arm_during_a_pop_at_the_same_instant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_sizes_and_instants, setup, teardown),
        cmocka_unit_test(test_reference_order_across_forgotten_groups),
        cmocka_unit_test(test_reference_order_in_long_buckets),
        cmocka_unit_test(test_reference_order_at_neighbouring_instants),
        cmocka_unit_test_setup_teardown(test_skewed_far_layout_pops_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rearming_far_timers_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_reports_a_broken_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_cells_name_their_bucket, setup, teardown),
        cmocka_unit_test(test_growing_after_a_late_first_timer_keeps_order),
        cmocka_unit_test(test_shared_array_full_at_refill),
        cmocka_unit_test(test_full_array_rearm_cancel_storm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
