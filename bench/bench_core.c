/*
 * bench_core — figures for the event core: the event queue against a bare
 * binary heap, packets per second through a lossy link, and the memory a
 * host and a link cost. Clocks are read here only, never in the library.
 * Runs in under 30 s; build with `cmake --build B --target bench`.
 *
 * Queue workload (the "hold" model): N armed timers, each due within the
 * next 2 ms; every step pops the earliest and re-arms it 0..2 ms after it
 * (the population keeps its shape: a steady state, reached before timing).
 * The TCP-like mix adds, per step, with probability 1/2 the re-arm of a
 * random armed timer 200 ms..1 s ahead (an RTO restarted by an ACK), and
 * with probability 1/8 a cancel and re-arm of a random timer. The bare heap
 * (24-byte {when, seq, payload} entries, no handles, so it could not cancel
 * or re-arm) does the same pop + push steps. Rates are per CPU second.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_host.h"
#include "sim_link.h"
#include "sim_queue.h"
#include "sim_world.h"

/* CPU time of this process: the machine may be shared, and time spent
 * descheduled says nothing about the code. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*: the same cheap increments for both heaps. */
static inline uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1du;
}

/* A hold increment: uniform in [0, 2ms), so the mean is 1ms. */
static inline sim_time_t increment(uint64_t *x)
{
    return (rnd(x) >> 32) % (2 * SIM_MS);
}

/* ---- The bare binary heap ------------------------------------------- */

typedef struct bare_entry {
    uint64_t when, seq, payload;
} bare_entry;

typedef struct bare_heap {
    bare_entry *a;
    size_t n;
    uint64_t seq;
} bare_heap;

static inline int bare_less(const bare_entry *x, const bare_entry *y)
{
    return x->when < y->when || (x->when == y->when && x->seq < y->seq);
}

static void bare_push(bare_heap *h, uint64_t when, uint64_t payload)
{
    bare_entry e = {when, h->seq++, payload};
    size_t k = h->n++;
    while (k > 0) {
        size_t parent = (k - 1) / 2;
        if (!bare_less(&e, &h->a[parent]))
            break;
        h->a[k] = h->a[parent];
        k = parent;
    }
    h->a[k] = e;
}

static bare_entry bare_pop(bare_heap *h)
{
    bare_entry top = h->a[0];
    bare_entry last = h->a[--h->n];
    size_t k = 0, n = h->n;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n && bare_less(&h->a[c + 1], &h->a[c]))
            c++;
        if (!bare_less(&h->a[c], &last))
            break;
        h->a[k] = h->a[c];
        k = c;
    }
    h->a[k] = last;
    return top;
}

static double bench_bare(size_t n, uint64_t steps)
{
    bare_heap h = {malloc(n * sizeof(bare_entry)), 0, 0};
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < n; i++)
        bare_push(&h, increment(&x), i);
    for (uint64_t i = 0; i < n; i++) { /* reach the steady state first */
        bare_entry e = bare_pop(&h);
        bare_push(&h, e.when + increment(&x), e.payload);
    }
    uint64_t sink = 0;
    double t0 = cpu_s();
    for (uint64_t i = 0; i < steps; i++) {
        bare_entry e = bare_pop(&h);
        sink += e.payload;
        bare_push(&h, e.when + increment(&x), e.payload);
    }
    double dt = cpu_s() - t0;
    if (sink == 42)
        printf(" ");
    free(h.a);
    return (double)steps / dt;
}

/* ---- sim_queue ------------------------------------------------------ */

static void never_called(sim_timer *t, void *arg)
{
    (void)t;
    (void)arg;
    abort();
}

typedef struct core_result {
    double steps_per_s, ops_per_s;
} core_result;

static core_result bench_core_queue(size_t n, uint64_t steps, int mix)
{
    sim_queue *q = sim_queue_new();
    sim_timer *t = malloc(n * sizeof *t);
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < n; i++) {
        sim_timer_init(&t[i], never_called, NULL);
        sim_queue_arm(q, &t[i], increment(&x));
    }
    for (uint64_t i = 0; i < n; i++) {
        sim_time_t now = sim_queue_next_when(q);
        sim_timer *e = sim_queue_pop(q);
        sim_queue_arm(q, e, now + increment(&x));
    }
    uint64_t ops = 0;
    double t0 = cpu_s();
    for (uint64_t i = 0; i < steps; i++) {
        sim_time_t now = sim_queue_next_when(q);
        sim_timer *e = sim_queue_pop(q);
        sim_queue_arm(q, e, now + increment(&x));
        ops += 2;
        if (!mix)
            continue;
        uint64_t r = rnd(&x);
        if (r & 1) { /* an ACK restarts a retransmission timer */
            sim_timer *k = &t[(r >> 8) % n];
            sim_queue_arm(q, k, now + 200 * SIM_MS + (r >> 40) % (800 * SIM_MS));
            ops++;
        }
        if ((r & 14) == 0) { /* a timer is stopped, later started again */
            sim_timer *k = &t[(r >> 20) % n];
            sim_queue_cancel(q, k);
            sim_queue_arm(q, k, now + increment(&x));
            ops += 2;
        }
    }
    double dt = cpu_s() - t0;
    sim_queue_free(q);
    free(t);
    return (core_result){(double)steps / dt, (double)ops / dt};
}

static void bench_queues(void)
{
    const size_t sizes[2] = {100000, 1000000};
    const uint64_t steps[2] = {3000000, 2000000};
    printf("event queue: hold steps (pop the earliest, re-arm it 0..2ms later), best of 3,\n"
           "CPU time\n");
    for (int s = 0; s < 2; s++) {
        double core = 0, bare = 0;
        core_result mix = {0, 0};
        for (int rep = 0; rep < 3; rep++) {
            core_result c = bench_core_queue(sizes[s], steps[s], 0);
            double b = bench_bare(sizes[s], steps[s]);
            core_result m = bench_core_queue(sizes[s], steps[s], 1);
            core = c.steps_per_s > core ? c.steps_per_s : core;
            bare = b > bare ? b : bare;
            if (m.steps_per_s > mix.steps_per_s)
                mix = m;
        }
        printf("  %7zu pending: sim_queue %6.2f M steps/s, bare binary heap %6.2f M steps/s, "
               "ratio core/bare %.2f\n",
               sizes[s], core / 1e6, bare / 1e6, core / bare);
        printf("  %7zu pending: sim_queue TCP-like mix %6.2f M events/s (%6.2f M queue ops/s)\n",
               sizes[s], mix.steps_per_s / 1e6, mix.ops_per_s / 1e6);
    }
}

/* ---- Packets through a lossy link ----------------------------------- */

typedef struct flood {
    sim_world *w;
    sim_host *from;
    sim_timer timer;
    uint64_t left;
    uint64_t received;
} flood;

static void flood_tick(sim_timer *t, void *arg)
{
    flood *f = arg;
    for (int i = 0; i < 10 && f->left > 0; i++, f->left--) {
        sim_packet *p = sim_packet_new(f->w, 100);
        memset(p->data, 0, 20);
        p->data[0] = 0x45;
        p->data[16] = 10;
        p->data[19] = 2;
        sim_host_send(f->from, p);
    }
    if (f->left > 0)
        sim_world_arm_in(f->w, t, 10 * SIM_US);
}

static void flood_receive(void *ctx, sim_host *h, sim_packet *p)
{
    ((flood *)ctx)->received++;
    sim_packet_free(sim_host_world(h), p);
}

static void count_records(void *ctx, const sim_trace_rec *rec)
{
    (void)rec;
    (*(uint64_t *)ctx)++;
}

static void bench_link(int traced)
{
    const uint64_t packets = 3000000;
    sim_world *w = sim_world_new(1);
    sim_host *a, *b;
    sim_host_add(w, "A", 0x0a000001, &a);
    sim_host_add(w, "B", 0x0a000002, &b);
    sim_link_params p;
    sim_link_params_default(&p);
    p.loss_ppb = 10000000; /* 1% */
    p.delay_ns = 10 * SIM_MS;
    p.jitter_ns = 100 * SIM_US;
    sim_link_add(w, a, b, &p, &p, NULL);
    uint64_t records = 0;
    if (traced)
        sim_world_set_trace(w, count_records, &records);
    flood f = {.w = w, .from = a, .left = packets};
    sim_host_set_receiver(b, flood_receive, &f);
    sim_timer_init(&f.timer, flood_tick, &f);
    sim_world_arm_at(w, &f.timer, 0);
    double t0 = cpu_s();
    sim_world_run(w);
    double dt = cpu_s() - t0;
    printf("  %s: %6.2f M packets/s sent (%" PRIu64 " delivered, %" PRIu64 " events, "
           "%" PRIu64 " trace records, ~10k in flight)\n",
           traced ? "counting trace sink" : "no trace sink      ", (double)packets / dt / 1e6,
           f.received, sim_world_events(w), records);
    sim_world_free(w);
}

/* ---- Memory per host and per link ----------------------------------- */

static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

static void bench_memory(void)
{
    enum { N = 100000 };
    size_t base = heap_in_use();
    sim_world *w = sim_world_new(1);
    size_t world = heap_in_use() - base;
    double t0 = cpu_s();
    for (uint32_t i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%" PRIu32, i);
        if (sim_host_add(w, name, 0x0a000000u + i, NULL) != 0)
            abort();
    }
    double t_hosts = cpu_s() - t0;
    size_t hosts = heap_in_use() - base - world;
    sim_link_params p;
    sim_link_params_default(&p);
    t0 = cpu_s();
    for (uint32_t i = 0; i + 1 < N; i++)
        if (sim_link_add(w, sim_host_by_id(w, i), sim_host_by_id(w, i + 1), &p, &p, NULL) != 0)
            abort();
    double t_links = cpu_s() - t0;
    size_t links = heap_in_use() - base - world - hosts;
    printf("memory (malloc accounting, 100k hosts in a chain):\n");
    printf("  world %zu bytes; per host %.1f bytes (added in %.0f ms); per link %.1f bytes "
           "(added in %.0f ms)\n",
           world, (double)hosts / N, t_hosts * 1e3, (double)links / (N - 1), t_links * 1e3);
    printf("  sizeof(sim_timer) %zu, sizeof(sim_packet) %zu (+128 or +2048 bytes of data from "
           "the pools)\n",
           sizeof(sim_timer), sizeof(sim_packet));
    sim_world_free(w);
}

int main(void)
{
    double t0 = wall_s();
    bench_queues();
    printf("lossy link (loss 1%%, delay 10ms, jitter 100us, 100-byte packets):\n");
    bench_link(0);
    bench_link(1);
    bench_memory();
    printf("total %.1f s\n", wall_s() - t0);
    return 0;
}
