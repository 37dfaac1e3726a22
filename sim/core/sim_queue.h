/*
 * sim_queue — the event queue: intrusive timers ordered by (when, seq).
 *
 * The caller owns each sim_timer (usually embedded in a larger object), so
 * arming a timer allocates nothing. Arming or re-arming stamps the timer with
 * a fresh insertion sequence number: timers due at the same instant fire in
 * the order they were (last) armed. Re-arming an armed timer is one sift, not
 * a cancel plus an insert.
 *
 * The queue itself is opaque: callers hold a sim_queue * and never depend on
 * its layout. Only sim_timer is public, so that it can be embedded.
 */
#ifndef SIM_QUEUE_H
#define SIM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_time.h"

typedef struct sim_timer sim_timer;
typedef void (*sim_timer_fn)(sim_timer *timer, void *arg);

/* Treat the fields as private; they are public only so timers can be
 * embedded. `slot` is the timer's entry in the queue, SIM_TIMER_IDLE when
 * not armed. The instant and sequence number live in that entry alone
 * (sim_queue_when reads them): a timer is embedded in every packet and
 * host, so each of its bytes is paid per packet in flight. */
struct sim_timer {
    uint32_t slot;
    sim_timer_fn fn;
    void *arg;
};
#define SIM_TIMER_IDLE UINT32_MAX

typedef struct sim_queue sim_queue;

void sim_timer_init(sim_timer *timer, sim_timer_fn fn, void *arg);
static inline bool sim_timer_armed(const sim_timer *timer)
{
    return timer->slot != SIM_TIMER_IDLE;
}

/* An empty queue, or NULL when out of memory. */
sim_queue *sim_queue_new(void);
/* Frees the queue (NULL is fine); armed timers are simply forgotten (not
 * called). */
void sim_queue_free(sim_queue *q);

/* Arms or re-arms `timer` to fire at `when`. Returns 0, or -1 only when the
 * heap array cannot grow (out of memory). */
int sim_queue_arm(sim_queue *q, sim_timer *timer, sim_time_t when);
/* Disarms; a no-op for an idle timer. */
void sim_queue_cancel(sim_queue *q, sim_timer *timer);
/* The earliest timer, or NULL when empty. */
sim_timer *sim_queue_peek(const sim_queue *q);
/* The instant the earliest timer is due; SIM_TIME_NEVER when empty. */
sim_time_t sim_queue_next_when(const sim_queue *q);
/* The instant an armed timer is due (as last armed). */
sim_time_t sim_queue_when(const sim_queue *q, const sim_timer *timer);
/* Removes and returns the earliest timer (now idle), or NULL when empty. */
sim_timer *sim_queue_pop(sim_queue *q);
/* Checks the invariants sim_queue.c states (1-5: tiers split by time, the
 * counts, every timer's slot naming its entry, heap order, seq values
 * handed out) by walking both tiers: O(n), for tests and debugging.
 * Returns 0, or -1 with the first broken one described in why. */
int sim_queue_check(const sim_queue *q, char *why, size_t len);
/* Timers armed. */
uint32_t sim_queue_len(const sim_queue *q);

#endif
