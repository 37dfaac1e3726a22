/*
 * sim_queue — the event queue, ordered by (when, seq), kept in two tiers.
 *
 * Near tier: an implicit 4-ary min-heap of the timers due at or before
 * `split`. Entries are 24 bytes, `when` and `seq` stored next to the
 * timer pointer (and nowhere else), so comparisons read the heap array alone, ties on `when`
 * included: workloads that run many hosts in step (the race: every pair's
 * timers due at the same instants) break a tie at nearly every level, and
 * reading the two timers for their seq was a cache miss each once the
 * timers outgrew the cache. The array is 64-byte aligned and offset by
 * three entries so the four children of a node span exactly two cache
 * lines, and the earliest child is picked without data-dependent branches.
 *
 * Far tier: an unordered array of the timers due after `split`. Arming a
 * timer there is an append, cancelling it a swap with the last entry, and
 * re-arming it to another far instant a store. It shares the heap's
 * allocation, growing down from its end while the heap grows up from its
 * start: near_len + far_len never exceeds the room, so the two meet at most
 * and one array of q->cap entries holds every armed timer (two arrays of
 * q->cap each would leave half of the room unused at any time).
 *
 * When the near heap runs empty, a refill chooses a new split from a sample
 * of the far whens, about the 1/FAR_FRACTION quantile, and moves every far
 * timer due at or before it into the heap (built bottom-up in O(k)). A refill
 * reads the far array once and moves about 1/FAR_FRACTION of it, so a timer
 * costs O(1) amortised until it comes near; only the near heap, a small
 * fraction of the pending timers, pays O(log n) sifts. Should the sample be
 * unrepresentative and the refill move too little, an exact selection on a
 * selection among the far entries themselves (reordering them: the far
 * tier has no order to keep) makes up the batch, which keeps the amortised
 * bound.
 *
 * Invariants:
 *  1. Every near entry has when <= split < every far entry's when, so ties
 *     on `when` never straddle the tiers and the (when, seq) order is exact.
 *  2. q->len == near_len + far_len, and near_len > 0 whenever q->len > 0:
 *     the earliest timer is always the heap root.
 *  3. An armed timer's slot is its heap index, or FAR | its far index, and
 *     that entry holds the timer, its `when` and its `seq` (the only copy
 *     of either: sim_queue_when reads it); an idle timer's slot is
 *     SIM_TIMER_IDLE.
 *  4. The one array has room for q->cap timers, near and far together, so
 *     moving timers between tiers never allocates; only arming a new timer
 *     when q->len == q->cap grows it (doubling).
 *  5. seq values are unique: each arm or re-arm takes the next one.
 *
 * The queue is opaque to its callers (sim_queue.h): they hold a pointer
 * from sim_queue_new, and only the sim_timer they embed is theirs to see.
 * The queue is one allocation holding both tiers; arming, cancelling and
 * popping allocate nothing unless the array must grow (invariant 4).
 */
#include "sim_queue.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    sim_time_t when;
    uint64_t seq; /* the timer's, copied: ties are broken without reading it */
    sim_timer *timer;
} entry;

#define ARITY        4
#define PAD          3 /* heap entry k lives at near[k + PAD] */
#define LINE         64
#define FAR          0x80000000u /* slot flag: the timer is in the far tier */
#define FAR_FRACTION 16          /* a refill moves about 1/16 of the far tier */
#define SAMPLES      64          /* far whens sampled to choose the split */
#define FIRST_CAP    (64 - PAD)

#if defined(__GNUC__)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define UNLIKELY(x) (x)
#endif

typedef struct tiers {
    entry *near; /* the heap; logical entry k at near[k + PAD] */
    entry *far;  /* one past the array's end: far entry k at far[-1 - k] */
    uint32_t near_len, far_len;
    sim_time_t split;
} tiers;

struct sim_queue {
    tiers t;
    uint32_t len, cap; /* timers armed; room in each array */
    uint64_t next_seq;
};

static inline tiers *tiers_of(const sim_queue *q)
{
    return (tiers *)&q->t;
}

static inline entry *heap_of(const tiers *t)
{
    return t->near + PAD;
}

static inline entry *far_at(const tiers *t, uint32_t k)
{
    return t->far - 1 - k;
}

static inline bool before(entry a, entry b)
{
    return (a.when < b.when) | ((a.when == b.when) & (a.seq < b.seq));
}

static inline void place(entry *e, uint32_t k, entry x)
{
    e[k] = x;
    x.timer->slot = k;
}

void sim_timer_init(sim_timer *timer, sim_timer_fn fn, void *arg)
{
    timer->slot = SIM_TIMER_IDLE;
    timer->fn = fn;
    timer->arg = arg;
}

sim_queue *sim_queue_new(void)
{
    sim_queue *q = calloc(1, sizeof *q);
    if (q)
        q->next_seq = 1;
    return q;
}

void sim_queue_free(sim_queue *q)
{
    if (!q)
        return;
    free(q->t.near);
    free(q);
}

uint32_t sim_queue_len(const sim_queue *q)
{
    return q->len;
}

/* ---- The near heap -------------------------------------------------- */

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

/* The earliest of the children first .. first+count-1, by (when, seq). */
static uint32_t min_child_exact(const entry *e, uint32_t first, uint32_t count)
{
    uint32_t m = first;
    for (uint32_t c = first + 1; c < first + count; c++)
        if (before(e[c], e[m]))
            m = c;
    return m;
}

/* The same, fast: a tournament by (when, seq), written so that it compiles
 * to conditional moves. Which child is earliest is a coin toss the branch
 * predictor cannot learn, and this is the heap's innermost step. */
static inline uint32_t min_child(const entry *e, uint32_t first, uint32_t count)
{
    if (UNLIKELY(count < ARITY))
        return min_child_exact(e, first, count);
    uint32_t a = first + before(e[first + 1], e[first]);
    uint32_t b = first + 2 + before(e[first + 3], e[first + 2]);
    return before(e[b], e[a]) ? b : a;
}

/* Moves x down from the hole at k, in a heap of n entries. With `record`
 * false the moved timers' slots are left for the caller to write. */
static inline void sift_down(entry *e, uint32_t n, uint32_t k, entry x, bool record)
{
    for (;;) {
        uint32_t first = k * ARITY + 1;
        if (first >= n)
            break;
        uint32_t m = min_child(e, first, n - first < ARITY ? n - first : ARITY);
        if (!before(e[m], x))
            break;
        e[k] = e[m];
        if (record)
            e[k].timer->slot = k;
        k = m;
    }
    e[k] = x;
    if (record)
        x.timer->slot = k;
}

/* Fills the hole at heap index k with x, moving it up or down. */
static void settle(entry *e, uint32_t n, uint32_t k, entry x)
{
    if (k > 0 && before(x, e[(k - 1) / ARITY]))
        sift_up(e, k, x);
    else
        sift_down(e, n, k, x, true);
}

static void near_remove(tiers *t, uint32_t k)
{
    entry *e = heap_of(t);
    entry last = e[--t->near_len];
    if (k < t->near_len)
        settle(e, t->near_len, k, last);
}

/* ---- The far tier --------------------------------------------------- */

static void far_append(tiers *t, entry x)
{
    uint32_t k = t->far_len++;
    *far_at(t, k) = x;
    x.timer->slot = FAR | k;
}

static void far_remove(tiers *t, uint32_t k)
{
    entry last = *far_at(t, --t->far_len);
    if (k < t->far_len) {
        *far_at(t, k) = last;
        last.timer->slot = FAR | k;
    }
}

static void swap_entry(entry *a, entry *b)
{
    entry x = *a;
    *a = *b;
    *b = x;
}

/* The k-th smallest `when` (from 0) of v[0..n), reordering v: quickselect
 * with a median-of-three pivot, deterministic for given contents. */
static sim_time_t select_kth(entry *v, uint32_t n, uint32_t k)
{
    int64_t lo = 0, hi = (int64_t)n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid].when < v[lo].when)
            swap_entry(&v[mid], &v[lo]);
        if (v[hi].when < v[lo].when)
            swap_entry(&v[hi], &v[lo]);
        if (v[hi].when < v[mid].when)
            swap_entry(&v[hi], &v[mid]);
        sim_time_t pivot = v[mid].when;
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i].when < pivot)
                i++;
            while (v[j].when > pivot)
                j--;
            if (i <= j)
                swap_entry(&v[i++], &v[j--]);
        }
        /* Now v[lo..j] <= pivot <= v[i..hi] and everything between is the
         * pivot. */
        if ((int64_t)k <= j)
            hi = j;
        else if ((int64_t)k >= i)
            lo = i;
        else
            return pivot;
    }
    return v[k].when;
}

/* A split near the 1/FAR_FRACTION quantile of the far whens, from SAMPLES
 * evenly spaced entries (sorted by insertion: at most 64 of them). */
static sim_time_t sampled_split(const tiers *t)
{
    sim_time_t s[SAMPLES];
    uint32_t m = t->far_len, n = m < SAMPLES ? m : SAMPLES;
    for (uint32_t i = 0; i < n; i++) {
        sim_time_t v = far_at(t, (uint32_t)((uint64_t)i * m / n))->when;
        uint32_t j = i;
        for (; j > 0 && s[j - 1] > v; j--)
            s[j] = s[j - 1];
        s[j] = v;
    }
    return s[n / FAR_FRACTION];
}

/* Moves every far timer due at or before t->split to the end of the heap
 * array (not yet in heap order). */
static void move_due(tiers *t)
{
    entry *e = heap_of(t);
    for (uint32_t i = t->far_len; i-- > 0;)
        if (far_at(t, i)->when <= t->split) {
            /* out of the far tier first: with the array full, the heap's
             * next entry is the far tier's last */
            entry x = *far_at(t, i);
            far_remove(t, i);
            e[t->near_len++] = x;
        }
}

/* Restores invariant 2 once the near heap has run empty. */
static void refill(tiers *t)
{
    assert(t->near_len == 0 && t->far_len > 0);
    uint32_t m = t->far_len;
    t->split = sampled_split(t);
    move_due(t);
    if ((uint64_t)t->near_len * FAR_FRACTION * 4 < m && t->far_len > 0) {
        /* The sample misled us: select exactly among the rest, in place
         * (the far block is contiguous, its indices running down). */
        uint32_t r = t->far_len;
        t->split = select_kth(far_at(t, r - 1), r, r / FAR_FRACTION);
        for (uint32_t i = 0; i < r; i++)
            far_at(t, i)->timer->slot = FAR | i;
        move_due(t);
    }
    entry *e = heap_of(t);
    uint32_t n = t->near_len;
    for (uint32_t k = n / ARITY + 1; k-- > 0;)
        if (k < n)
            sift_down(e, n, k, e[k], false);
    for (uint32_t k = 0; k < n; k++)
        e[k].timer->slot = k;
}

/* ---- The contract --------------------------------------------------- */

/* Doubles the room for timers (invariant 4): the heap keeps its place at
 * the start, the far block moves to the new end with its indices. */
static int grow(sim_queue *q)
{
    tiers *t = tiers_of(q);
    uint64_t cap = q->cap == 0 ? FIRST_CAP : ((uint64_t)q->cap + PAD) * 2 - PAD;
    if (cap >= FAR - 1)
        return -1;
    /* (cap + PAD) entries of 24 bytes: cap + PAD is a power of two of at
     * least 64, so the size is a multiple of LINE, as aligned_alloc
     * requires. */
    entry *near = aligned_alloc(LINE, (size_t)(cap + PAD) * sizeof(entry));
    if (!near)
        return -1;
    entry *far = near + PAD + cap;
    if (t->near) {
        memcpy(near + PAD, heap_of(t), (size_t)t->near_len * sizeof(entry));
        memcpy(far - t->far_len, t->far - t->far_len, (size_t)t->far_len * sizeof(entry));
    }
    free(t->near);
    t->near = near;
    t->far = far;
    q->cap = (uint32_t)cap;
    return 0;
}

/* Takes an armed timer out of its tier (it stays counted in q->len). */
static void unlink_timer(tiers *t, sim_timer *timer)
{
    if (timer->slot & FAR)
        far_remove(t, timer->slot & ~FAR);
    else
        near_remove(t, timer->slot);
}

/* Puts a timer no tier holds into the tier its instant belongs to. */
static inline void place_new(tiers *t, sim_timer *timer, sim_time_t when, uint64_t seq)
{
    if (when <= t->split)
        sift_up(heap_of(t), t->near_len++, (entry){when, seq, timer});
    else
        far_append(t, (entry){when, seq, timer});
    if (t->near_len == 0)
        refill(t);
}

int sim_queue_arm(sim_queue *q, sim_timer *timer, sim_time_t when)
{
    assert(timer != NULL);
    tiers *t = tiers_of(q);
    if (sim_timer_armed(timer)) {
        uint32_t slot = timer->slot;
        bool far = (slot & FAR) != 0, to_far = when > t->split;
        uint64_t seq = q->next_seq++;
        if (far && to_far) { /* far to far: two stores */
            far_at(t, slot & ~FAR)->when = when;
            far_at(t, slot & ~FAR)->seq = seq;
            return 0;
        }
        if (!far && !to_far) { /* within the heap: one sift */
            entry *e = heap_of(t);
            settle(e, t->near_len, slot, (entry){when, seq, timer});
            return 0;
        }
        unlink_timer(t, timer);
        place_new(t, timer, when, seq);
        return 0;
    }
    if (q->len == q->cap && grow(q) != 0)
        return -1;
    q->len++;
    place_new(t, timer, when, q->next_seq++);
    return 0;
}

void sim_queue_cancel(sim_queue *q, sim_timer *timer)
{
    if (!sim_timer_armed(timer))
        return;
    tiers *t = tiers_of(q);
    unlink_timer(t, timer);
    timer->slot = SIM_TIMER_IDLE;
    q->len--;
    if (t->near_len == 0 && t->far_len > 0)
        refill(t);
}

sim_timer *sim_queue_peek(const sim_queue *q)
{
    return q->len > 0 ? heap_of(tiers_of(q))[0].timer : NULL;
}

sim_time_t sim_queue_next_when(const sim_queue *q)
{
    return q->len > 0 ? heap_of(tiers_of(q))[0].when : SIM_TIME_NEVER;
}

sim_time_t sim_queue_when(const sim_queue *q, const sim_timer *timer)
{
    assert(sim_timer_armed(timer));
    const tiers *t = tiers_of(q);
    return timer->slot & FAR ? far_at(t, timer->slot & ~FAR)->when : heap_of(t)[timer->slot].when;
}

sim_timer *sim_queue_pop(sim_queue *q)
{
    if (q->len == 0)
        return NULL;
    tiers *t = tiers_of(q);
    sim_timer *top = heap_of(t)[0].timer;
    near_remove(t, 0);
    top->slot = SIM_TIMER_IDLE;
    q->len--;
    if (t->near_len == 0 && t->far_len > 0)
        refill(t);
    return top;
}

/* ---- Invariants as code ----------------------------------------------- */

static int check_fail(char *why, size_t len, const char *msg, uint32_t at)
{
    if (why && len)
        snprintf(why, len, "%s (entry %u)", msg, (unsigned)at);
    return -1;
}

/* Invariant 3 for one entry in slot `slot`, with the heap order (k > 0). */
static int check_entry(const sim_queue *q, const entry *e, uint32_t slot, char *why, size_t len)
{
    uint32_t at = slot & ~FAR;
    if (!e->timer)
        return check_fail(why, len, "an entry holds no timer", at);
    if (e->timer->slot != slot)
        return check_fail(why, len, "a timer's slot does not name its entry", at);
    if (e->seq == 0 || e->seq >= q->next_seq)
        return check_fail(why, len, "an entry's seq was never handed out", at);
    return 0;
}

int sim_queue_check(const sim_queue *q, char *why, size_t len)
{
    const tiers *t = tiers_of(q);
    if (!t->near)
        return q->len == 0 ? 0 : check_fail(why, len, "timers counted but no heap", 0);
    if (q->len != t->near_len + t->far_len)
        return check_fail(why, len, "len differs from near + far (invariant 2)", q->len);
    if (q->len > 0 && t->near_len == 0)
        return check_fail(why, len, "timers pending but the heap is empty (invariant 2)", 0);
    if (q->len > q->cap)
        return check_fail(why, len, "more timers than room (invariant 4)", q->len);
    const entry *e = heap_of(t);
    for (uint32_t k = 0; k < t->near_len; k++) {
        if (check_entry(q, &e[k], k, why, len) != 0)
            return -1;
        if (e[k].when > t->split)
            return check_fail(why, len, "a near timer is due after split (invariant 1)", k);
        /* seq is unique (invariant 5), so a child is strictly after its parent */
        if (k > 0 && !before(e[(k - 1) / ARITY], e[k]))
            return check_fail(why, len, "a heap child is not after its parent", k);
    }
    for (uint32_t i = 0; i < t->far_len; i++) {
        if (check_entry(q, far_at(t, i), FAR | i, why, len) != 0)
            return -1;
        if (far_at(t, i)->when <= t->split)
            return check_fail(why, len, "a far timer is due at or before split (invariant 1)", i);
    }
    return 0;
}
