/*
 * sim_queue — the event queue as an implicit 4-ary min-heap keyed by
 * (when, seq).
 *
 * Layout: each heap entry is 16 bytes, the timer's `when` stored inline next
 * to the timer pointer, so a comparison reads the heap array only; the timer
 * itself is read just to break a tie on `when` (by seq). The array is 64-byte
 * aligned and shifted by three entries, so the four children of any node
 * share one cache line. `q->heap` points at that array (it is declared as
 * sim_timer ** in the public header; its contents are private).
 *
 * Invariants:
 *  1. For every armed timer t, entries[t->slot].timer == t and
 *     entries[t->slot].when == t->when; every idle timer has slot
 *     SIM_TIMER_IDLE.
 *  2. No entry is smaller than its parent in (when, seq).
 *  3. seq values are unique: each arm takes the next one.
 *
 * Costs: arm O(log4 n) sift-up (a new far-future timer usually stops at
 * once), re-arm one sift in the direction the key moved, pop one sift-down
 * with three comparisons per level inside one cache line.
 */
#include "sim_queue.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    sim_time_t when;
    sim_timer *timer;
} entry;

#define ARITY     4
#define PAD       3 /* logical entry k lives at array index k + PAD */
#define LINE      64
#define FIRST_CAP (256 - PAD)

static inline entry *entries(const sim_queue *q)
{
    return (entry *)(void *)q->heap + PAD;
}

static inline bool before(entry a, entry b)
{
    return a.when < b.when || (a.when == b.when && a.timer->seq < b.timer->seq);
}

static inline void place(entry *e, uint32_t k, entry x)
{
    e[k] = x;
    x.timer->slot = k;
}

void sim_timer_init(sim_timer *timer, sim_timer_fn fn, void *arg)
{
    timer->when = 0;
    timer->seq = 0;
    timer->slot = SIM_TIMER_IDLE;
    timer->fn = fn;
    timer->arg = arg;
}

void sim_queue_init(sim_queue *q)
{
    q->heap = NULL;
    q->len = 0;
    q->cap = 0;
    q->next_seq = 1;
}

void sim_queue_free(sim_queue *q)
{
    free(q->heap);
    sim_queue_init(q);
}

/* Moves x up from the hole at k to its place. */
static void sift_up(entry *e, uint32_t k, entry x)
{
    while (k > 0) {
        uint32_t parent = (k - 1) / ARITY;
        if (!before(x, e[parent]))
            break;
        place(e, k, e[parent]);
        k = parent;
    }
    place(e, k, x);
}

/* The smallest of the children first .. first+count-1. */
static inline uint32_t min_child(const entry *e, uint32_t first, uint32_t count)
{
    if (count == ARITY) {
        uint32_t a = before(e[first + 1], e[first]) ? first + 1 : first;
        uint32_t b = before(e[first + 3], e[first + 2]) ? first + 3 : first + 2;
        return before(e[b], e[a]) ? b : a;
    }
    uint32_t m = first;
    for (uint32_t c = first + 1; c < first + count; c++)
        if (before(e[c], e[m]))
            m = c;
    return m;
}

/* Moves x down from the hole at k to its place, in a heap of n entries. */
static void sift_down(entry *e, uint32_t n, uint32_t k, entry x)
{
    for (;;) {
        uint32_t first = k * ARITY + 1;
        if (first >= n)
            break;
        uint32_t count = n - first < ARITY ? n - first : ARITY;
        uint32_t m = min_child(e, first, count);
        if (!before(e[m], x))
            break;
        place(e, k, e[m]);
        k = m;
    }
    place(e, k, x);
}

/* Doubles the array (aligned_alloc cannot realloc, so copy). */
static int grow(sim_queue *q)
{
    uint64_t cap = q->cap == 0 ? FIRST_CAP : ((uint64_t)q->cap + PAD) * 2 - PAD;
    if (cap >= SIM_TIMER_IDLE)
        return -1;
    size_t bytes = (size_t)(cap + PAD) * sizeof(entry); /* a multiple of LINE */
    entry *fresh = aligned_alloc(LINE, bytes);
    if (!fresh)
        return -1;
    if (q->len > 0)
        memcpy(fresh + PAD, entries(q), (size_t)q->len * sizeof(entry));
    free(q->heap);
    q->heap = (sim_timer **)(void *)fresh;
    q->cap = (uint32_t)cap;
    return 0;
}

int sim_queue_arm(sim_queue *q, sim_timer *timer, sim_time_t when)
{
    assert(timer != NULL);
    if (!sim_timer_armed(timer)) {
        if (q->len == q->cap && grow(q) != 0)
            return -1;
        timer->when = when;
        timer->seq = q->next_seq++;
        sift_up(entries(q), q->len++, (entry){when, timer});
        return 0;
    }
    /* Re-arm in place: the new key is larger than the old one unless `when`
     * moved earlier (the fresh seq breaks a tie upwards), so one sift in
     * that direction restores invariant 2. */
    entry *e = entries(q);
    uint32_t k = timer->slot;
    assert(k < q->len && e[k].timer == timer);
    bool earlier = when < timer->when;
    timer->when = when;
    timer->seq = q->next_seq++;
    if (earlier)
        sift_up(e, k, (entry){when, timer});
    else
        sift_down(e, q->len, k, (entry){when, timer});
    return 0;
}

void sim_queue_cancel(sim_queue *q, sim_timer *timer)
{
    if (!sim_timer_armed(timer))
        return;
    entry *e = entries(q);
    uint32_t k = timer->slot;
    assert(k < q->len && e[k].timer == timer);
    timer->slot = SIM_TIMER_IDLE;
    entry last = e[--q->len];
    if (k == q->len)
        return;
    if (k > 0 && before(last, e[(k - 1) / ARITY]))
        sift_up(e, k, last);
    else
        sift_down(e, q->len, k, last);
}

sim_timer *sim_queue_peek(const sim_queue *q)
{
    return q->len > 0 ? entries(q)[0].timer : NULL;
}

sim_timer *sim_queue_pop(sim_queue *q)
{
    if (q->len == 0)
        return NULL;
    entry *e = entries(q);
    sim_timer *top = e[0].timer;
    top->slot = SIM_TIMER_IDLE;
    entry last = e[--q->len];
    if (q->len > 0)
        sift_down(e, q->len, 0, last);
    return top;
}
