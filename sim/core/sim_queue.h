/*
 * sim_queue — the event queue: intrusive timers ordered by (when, seq).
 *
 * The caller owns each sim_timer (usually embedded in a larger object).
 * Arming or re-arming stamps the timer with a fresh insertion sequence
 * number: timers due at the same instant fire in the order they were (last)
 * armed. The queue orders instants, not timers: a timer armed at an instant
 * other pending timers are due at joins them at the back of their list, so
 * arming, popping, cancelling and re-arming such a timer are O(1) however
 * many tie, and only distinct instants pay O(log n). (It remembers the
 * latest list of at most 256 instants at a time; an instant it has lost
 * track of starts a new list, which costs a heap entry, never order.) The
 * queue's arrays grow (doubling) only when an arm finds them full; nothing
 * else allocates.
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
 * embedded. `slot` says where the queue keeps the timer (an entry of its
 * own, or a cell in the list of its instant), SIM_TIMER_IDLE when not
 * armed. The instant lives in the queue alone (sim_queue_when reads it): a
 * timer is embedded in every packet and host, so each of its bytes is paid
 * per packet in flight. */
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

/* Arms or re-arms `timer` to fire at `when`, after every timer already
 * armed for `when`. Returns 0, or -1 only when an array cannot grow (out of
 * memory): the queue and the timer are then as they were. */
int sim_queue_arm(sim_queue *q, sim_timer *timer, sim_time_t when);
/* Disarms; a no-op for an idle timer. */
void sim_queue_cancel(sim_queue *q, sim_timer *timer);
/* The earliest timer, or NULL when empty. */
sim_timer *sim_queue_peek(const sim_queue *q);
/* The instant the earliest timer is due; SIM_TIME_NEVER when empty. */
sim_time_t sim_queue_next_when(const sim_queue *q);
/* The instant an armed timer is due (as last armed). For a timer sharing
 * its instant with others, found by walking to the end of their list:
 * O(the timers armed for that instant after it). */
sim_time_t sim_queue_when(const sim_queue *q, const sim_timer *timer);
/* Removes and returns the earliest timer (now idle), or NULL when empty. */
sim_timer *sim_queue_pop(sim_queue *q);
/* Checks the invariants sim_queue.c states (1-8: tiers split by time, one
 * entry per group, every timer's slot naming its entry or cell, the
 * buckets' lists, heap order, `newest`, room, seq values handed out) by
 * walking the tiers and the buckets: O(n), for tests and debugging.
 * Returns 0, or -1 with the first broken one described in why. */
int sim_queue_check(const sim_queue *q, char *why, size_t len);
/* Timers armed. */
uint32_t sim_queue_len(const sim_queue *q);

#endif
