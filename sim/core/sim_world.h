/*
 * sim_world — one simulation: the clock, the event queue, the packet pool,
 * hosts, links and the trace sink.
 *
 * Lifetime rules:
 *  1. The world owns everything it makes (hosts, links, packets in flight,
 *     held packets); sim_world_free frees all of it.
 *  2. Timers are owned by their callers; the world only orders them. A
 *     timer's memory must stay valid while it is armed.
 *  3. Operating errors (bad parameters, limits) return a negative value and
 *     leave a one-line message in sim_world_error(); programmer errors are
 *     assertions.
 *  4. Nothing here reads the wall clock or an unseeded source: the same seed
 *     and the same calls give the same trace, byte for byte.
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_packet.h"
#include "sim_queue.h"
#include "sim_rng.h"
#include "sim_time.h"
#include "sim_trace.h"

typedef struct sim_world sim_world;

/* Default limits: a run stops with SIM_RUN_LIMIT_* past these. */
#define SIM_DEFAULT_MAX_EVENTS 100000000ull
#define SIM_DEFAULT_MAX_TIME   (24 * SIM_H)

sim_world *sim_world_new(uint64_t seed);
void sim_world_free(sim_world *w);

uint64_t sim_world_seed(const sim_world *w);
sim_time_t sim_world_now(const sim_world *w);
/* Events executed so far. */
uint64_t sim_world_events(const sim_world *w);
/* The last operating error's message ("" when none). */
const char *sim_world_error(const sim_world *w);
/* Sets the error message (printf-style); returns -1 for convenience. */
int sim_world_fail(sim_world *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Seeds `rng` with the world's seed and a stable stream name. */
void sim_world_rng(const sim_world *w, sim_rng *rng, const char *stream_name);

/* As sim_world_rng with the stream named `prefix` followed by `name`,
 * without building the name: the same stream (the name is hashed in
 * parts). */
void sim_world_rng_parts(const sim_world *w, sim_rng *rng, const char *prefix, const char *name);

/* Timers: arm at an absolute instant (not in the past: clamped to now) or
 * after a delay. Re-arming an armed timer moves it. */
void sim_world_arm_at(sim_world *w, sim_timer *t, sim_time_t when);
void sim_world_arm_in(sim_world *w, sim_timer *t, sim_time_t delay);
void sim_world_cancel(sim_world *w, sim_timer *t);
/* The instant an armed timer is due: the one it was last armed at, or the
 * clock then if that was in the past. O(the timers armed for that instant
 * after it): the queue keeps the instant once per instant (sim_queue_when). */
sim_time_t sim_world_timer_when(const sim_world *w, const sim_timer *t);
/* The next event's time, or SIM_TIME_NEVER. */
sim_time_t sim_world_next_time(const sim_world *w);

/* The trace sink (NULL to disable). */
void sim_world_set_trace(sim_world *w, sim_trace_fn fn, void *ctx);
/* Emits a record through the sink (time is set by the world). */
void sim_world_trace(sim_world *w, sim_trace_rec *rec);
/* The same for a record about packet p: packet_id, origin_id, bytes and
 * len are p's, its whole datagram contiguous (a split packet's is copied
 * into a buffer the world keeps for this, and reuses). */
void sim_world_trace_packet(sim_world *w, sim_trace_rec *rec, const sim_packet *p);

/* ---- Run controls --------------------------------------------------- */

typedef enum sim_run_result {
    SIM_RUN_IDLE,         /* no events remain */
    SIM_RUN_TIME,         /* the requested time was reached */
    SIM_RUN_PREDICATE,    /* the predicate held */
    SIM_RUN_STEPPED,      /* sim_world_step ran one event */
    SIM_RUN_STOPPED,      /* sim_world_stop was called from a callback */
    SIM_RUN_LIMIT_EVENTS, /* error: the event limit was hit */
    SIM_RUN_LIMIT_TIME    /* error: the virtual-time limit was hit */
} sim_run_result;

/* Limits on the whole run (events executed, virtual time). 0 = default. */
void sim_world_set_limits(sim_world *w, uint64_t max_events, sim_time_t max_time);

/* Runs until no events remain. */
sim_run_result sim_world_run(sim_world *w);
/* Runs every event due at or before `until`, then sets the clock to `until`. */
sim_run_result sim_world_run_until_time(sim_world *w, sim_time_t until);
/* Runs until pred(arg) holds (checked before the first event and after each),
 * or until `deadline` (then returns SIM_RUN_TIME), or no events remain. */
sim_run_result sim_world_run_until(sim_world *w, bool (*pred)(void *arg), void *arg,
                                   sim_time_t deadline);
/* Runs exactly one event (SIM_RUN_STEPPED) or returns SIM_RUN_IDLE. */
sim_run_result sim_world_step(sim_world *w);
/* From inside a callback: the current run returns SIM_RUN_STOPPED after the
 * callback returns. */
void sim_world_stop(sim_world *w);
const char *sim_run_result_name(sim_run_result r);

#endif
