/*
 * sim_world — the clock, the event loop, limits, errors and the trace sink.
 *
 * Promises: events run in (when, seq) order; the clock only moves forward
 * and only here; a run never executes an event past the virtual-time limit or
 * more events than the event limit; freeing the world frees everything it
 * made, wherever it is (queued, held, in a pool).
 */
#include "sim_world.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

_Noreturn void sim_fatal_oom(const char *where)
{
    fprintf(stderr, "tcpsim: out of memory in %s\n", where);
    abort();
}

int sim_errf(char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void *sim_grow(void *arr, uint32_t *cap, uint32_t need, size_t size)
{
    assert(need > 0);
    if (need <= *cap)
        return arr;
    uint64_t n = *cap == 0 ? 8 : (uint64_t)*cap * 2;
    while (n < need)
        n *= 2;
    if (n > UINT32_MAX || n > SIZE_MAX / size)
        return NULL;
    void *fresh = realloc(arr, (size_t)n * size);
    if (!fresh)
        return NULL;
    *cap = (uint32_t)n;
    return fresh;
}

sim_world *sim_world_new(uint64_t seed)
{
    sim_world *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->seed = seed;
    w->queue = sim_queue_new();
    if (!w->queue) {
        free(w);
        return NULL;
    }
    w->max_events = SIM_DEFAULT_MAX_EVENTS;
    w->max_time = SIM_DEFAULT_MAX_TIME;
    sim_packets_init(w);
    return w;
}

void sim_world_free(sim_world *w)
{
    if (!w)
        return;
    assert(!w->running && "sim_world_free called from inside a run");
    /* Timers in the queue belong to their callers or to objects freed
     * below; the queue only forgets them. */
    sim_queue_free(w->queue);
    sim_links_free_all(w);
    sim_hosts_free_all(w);
    sim_packets_free_all(w);
    sim_flat_free(&w->trace_flat);
    free(w);
}

uint64_t sim_world_seed(const sim_world *w)
{
    return w->seed;
}

sim_time_t sim_world_now(const sim_world *w)
{
    return w->now;
}

uint64_t sim_world_events(const sim_world *w)
{
    return w->events;
}

const char *sim_world_error(const sim_world *w)
{
    return w->error;
}

int sim_world_fail(sim_world *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    return -1;
}

void sim_world_rng(const sim_world *w, sim_rng *rng, const char *stream_name)
{
    sim_rng_seed(rng, w->seed, stream_name);
}

void sim_world_rng_parts(const sim_world *w, sim_rng *rng, const char *prefix, const char *name)
{
    sim_rng_seed_key(rng, w->seed, sim_hash_name_on(sim_hash_name(prefix), name));
}

void sim_world_arm_at(sim_world *w, sim_timer *t, sim_time_t when)
{
    if (when < w->now)
        when = w->now;
    if (sim_queue_arm(w->queue, t, when) != 0)
        sim_fatal_oom("sim_world_arm_at");
}

void sim_world_arm_in(sim_world *w, sim_timer *t, sim_time_t delay)
{
    sim_world_arm_at(w, t, sim_time_add(w->now, delay));
}

sim_time_t sim_world_timer_when(const sim_world *w, const sim_timer *t)
{
    return sim_queue_when(w->queue, t);
}

void sim_world_cancel(sim_world *w, sim_timer *t)
{
    sim_queue_cancel(w->queue, t);
}

sim_time_t sim_world_next_time(const sim_world *w)
{
    return sim_queue_next_when(w->queue);
}

void sim_world_set_trace(sim_world *w, sim_trace_fn fn, void *ctx)
{
    w->trace_fn = fn;
    w->trace_ctx = ctx;
}

void sim_world_set_draw_key(sim_world *w, sim_draw_key_fn fn, void *ctx)
{
    w->draw_key = fn;
    w->draw_key_ctx = ctx;
}

void sim_world_trace(sim_world *w, sim_trace_rec *rec)
{
    rec->time = w->now;
    if (w->trace_fn)
        w->trace_fn(w->trace_ctx, rec);
}

void sim_world_trace_packet(sim_world *w, sim_trace_rec *rec, const sim_packet *p)
{
    if (!w->trace_fn)
        return;
    rec->packet_id = p->id;
    rec->origin_id = p->origin_id;
    rec->bytes = sim_flat_bytes(&w->trace_flat, p);
    rec->len = p->len;
    if (!rec->bytes) {
        sim_world_fail(w, "out of memory tracing a packet of %u bytes", p->len);
        return;
    }
    sim_world_trace(w, rec);
}

/* ---- Run controls --------------------------------------------------- */

void sim_world_set_limits(sim_world *w, uint64_t max_events, sim_time_t max_time)
{
    w->max_events = max_events ? max_events : SIM_DEFAULT_MAX_EVENTS;
    w->max_time = max_time ? max_time : SIM_DEFAULT_MAX_TIME;
}

static sim_run_result limit_events(sim_world *w)
{
    char now[32];
    sim_time_format(w->now, now, sizeof now);
    sim_world_fail(w, "event limit of %" PRIu64 " reached at t=%s", w->max_events, now);
    return SIM_RUN_LIMIT_EVENTS;
}

static sim_run_result limit_time(sim_world *w)
{
    char now[32], limit[32];
    sim_time_format(w->now, now, sizeof now);
    sim_duration_format(w->max_time, limit, sizeof limit);
    sim_world_fail(w, "virtual time limit of %s reached at t=%s", limit, now);
    return SIM_RUN_LIMIT_TIME;
}

/* Runs the earliest event; the caller checked it is due and within limits. */
static void run_one(sim_world *w)
{
    sim_time_t when = sim_queue_next_when(w->queue);
    sim_timer *t = sim_queue_pop(w->queue);
    assert(t != NULL && when >= w->now);
    w->now = when;
    w->events++;
    t->fn(t, t->arg);
}

/*
 * The event loop shared by every run control: runs events due at or before
 * `until` while pred (if any) does not hold. Returns SIM_RUN_TIME when the
 * next event lies beyond `until`; never moves the clock past the last event.
 */
static sim_run_result run_loop(sim_world *w, sim_time_t until, bool (*pred)(void *), void *arg)
{
    assert(!w->running && "a run control was called from inside a run");
    w->running = true;
    w->stop_requested = false;
    sim_run_result r;
    for (;;) {
        if (pred && pred(arg)) {
            r = SIM_RUN_PREDICATE;
            break;
        }
        if (sim_queue_len(w->queue) == 0) {
            r = SIM_RUN_IDLE;
            break;
        }
        sim_time_t when = sim_queue_next_when(w->queue);
        if (when > until) {
            r = SIM_RUN_TIME;
            break;
        }
        if (when > w->max_time) {
            r = limit_time(w);
            break;
        }
        if (w->events >= w->max_events) {
            r = limit_events(w);
            break;
        }
        run_one(w);
        if (w->stop_requested) {
            r = SIM_RUN_STOPPED;
            break;
        }
    }
    w->running = false;
    return r;
}

/* Moves the clock to `t` at the end of a timed run, within the time limit. */
static sim_run_result advance_to(sim_world *w, sim_time_t t)
{
    if (t > w->max_time) {
        if (w->now < w->max_time)
            w->now = w->max_time;
        return limit_time(w);
    }
    if (t > w->now)
        w->now = t;
    return SIM_RUN_TIME;
}

sim_run_result sim_world_run(sim_world *w)
{
    return run_loop(w, SIM_TIME_NEVER, NULL, NULL);
}

sim_run_result sim_world_run_until_time(sim_world *w, sim_time_t until)
{
    sim_run_result r = run_loop(w, until, NULL, NULL);
    if (r == SIM_RUN_IDLE || r == SIM_RUN_TIME)
        return advance_to(w, until);
    return r;
}

sim_run_result sim_world_run_until(sim_world *w, bool (*pred)(void *arg), void *arg,
                                   sim_time_t deadline)
{
    assert(pred != NULL);
    sim_run_result r = run_loop(w, deadline, pred, arg);
    if (r == SIM_RUN_TIME)
        return advance_to(w, deadline);
    return r;
}

sim_run_result sim_world_step(sim_world *w)
{
    assert(!w->running && "sim_world_step called from inside a run");
    if (sim_queue_len(w->queue) == 0)
        return SIM_RUN_IDLE;
    if (sim_queue_next_when(w->queue) > w->max_time)
        return limit_time(w);
    if (w->events >= w->max_events)
        return limit_events(w);
    w->running = true;
    w->stop_requested = false;
    run_one(w);
    w->running = false;
    w->stop_requested = false;
    return SIM_RUN_STEPPED;
}

void sim_world_stop(sim_world *w)
{
    w->stop_requested = true;
}

const char *sim_run_result_name(sim_run_result r)
{
    switch (r) {
    case SIM_RUN_IDLE:
        return "idle";
    case SIM_RUN_TIME:
        return "time";
    case SIM_RUN_PREDICATE:
        return "predicate";
    case SIM_RUN_STEPPED:
        return "stepped";
    case SIM_RUN_STOPPED:
        return "stopped";
    case SIM_RUN_LIMIT_EVENTS:
        return "event limit";
    case SIM_RUN_LIMIT_TIME:
        return "time limit";
    }
    return "?";
}
