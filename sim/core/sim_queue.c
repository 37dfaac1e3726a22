/*
 * sim_queue — the event queue, ordered by (when, seq): one entry per group
 * of timers due at the same instant, the entries kept in two tiers.
 *
 * Groups. A timer armed at an instant no pending group holds gets an entry
 * of its own, pointing at the timer, as a plain heap would. A timer armed
 * at an instant that has a group joins it: the group becomes a bucket (a
 * list of cells, in arm order) on its second timer, and the entry then
 * points at the bucket. Every arm takes the next seq, so a bucket's order
 * is seq order, and it pops its timers as a heap keyed on (when, seq) would,
 * with no comparison and no sift until it runs empty. Workloads that run
 * many hosts in step (the race: every pair's timers due at the same few
 * instants) tie on `when` for nearly every timer; sifting each one through
 * a heap of millions missed the cache at every level. Workloads without
 * ties pay for none of this: their timers never leave the entries.
 *
 * Which group an arm joins: the newest group made for that instant, which
 * `newest` (256 slots indexed by a hash of the instant) remembers by the
 * place of its entry and its seq, until another instant takes the slot or
 * the entry moves. Joining only the newest keeps the order exact when one
 * instant has several groups: every timer of an older group was armed
 * before the newer one was made, and the newer one's seq (its first
 * timer's) is larger. A forgotten group costs an entry, never order. A slot
 * is believed only if the entry in its place still has its seq (seq values
 * are unique), so a group that has gone or moved needs no forgetting, and
 * the slot never leads to a timer, which its owner may have freed.
 *
 * A timer's slot says where it is: its entry's heap index (near), FAR |
 * its far index, or CELL | its cell. A cell names the timer and its
 * neighbours; the first cell's `prev` and the last one's `next` name the
 * bucket (END | b), so a cell is 16 bytes (a race pair has five bucketed
 * at once) and taking a timer out of a bucket (a cancel, a re-arm) is
 * still O(1) and keeps the others' order: only a cell at an end changes
 * its bucket. Reading a bucketed timer's instant (sim_queue_when) walks
 * to its bucket's end; only the stepped wire asks, for one timer. The
 * timer stays 24 bytes.
 *
 * Tiers. Near: an implicit 4-ary min-heap of the groups due at or before
 * `split`. Entries are 24 bytes, `when` and `seq` next to the reference, so
 * comparisons read the heap array alone. The array is 64-byte aligned and
 * offset by three entries so the four children of a node span exactly two
 * cache lines, and the earliest child is picked without data-dependent
 * branches. Far: an unordered array of the groups due after `split`:
 * adding one is an append, removing one a swap with the last entry,
 * re-keying a lone timer to another far instant two stores. It shares the
 * heap's allocation, growing down from its end while the heap grows up
 * from its start: near_len + far_len never exceeds the room.
 *
 * When the near heap runs empty, a refill chooses a new split from a sample
 * of the far whens, about the 1/FAR_FRACTION quantile, and moves every far
 * entry due at or before it into the heap (built bottom-up in O(k)). A
 * refill reads the far array once and moves about 1/FAR_FRACTION of it, so
 * an entry costs O(1) amortised until it comes near; only the near heap
 * pays O(log n) sifts. Should the sample be unrepresentative and the refill
 * move too little, an exact selection among the far entries themselves
 * (reordering them: the far tier has no order to keep) makes up the batch.
 * The split only moves at a refill, so a queue that grows after one (its
 * first timer alone makes the split, late; every earlier arm then goes
 * near) would sift through a heap of most of its groups until the clock
 * passed it: when the heap grows past 1/TRIM_FRACTION of the groups (and
 * twice its size at the last refill or trim), a trim lowers the split to
 * about the 1/FAR_FRACTION quantile and moves the later near groups far.
 *
 * Invariants:
 *  1. Every near entry has when <= split < every far entry's when.
 *  2. near_len + far_len entries, one per group; near_len > 0 whenever
 *     q->len > 0: the earliest group is the heap root.
 *  3. An entry holds its group's `when` (the only copy) and the seq of the
 *     group's first arm, and names a lone timer whose slot is the entry's
 *     place, or a live bucket whose `at` is; a live bucket holds at least
 *     one cell (it goes with its last). A free bucket's head is NIL.
 *  4. A bucketed timer's slot is CELL | its cell, which names the timer,
 *     linked between its neighbours; the bucket's first cell has prev
 *     END | the bucket, its last next END | the bucket. An idle timer's slot
 *     is SIM_TIMER_IDLE. Lone timers and cells number q->len.
 *  5. A bucket's cells are in arm order, and every timer of a group was
 *     armed after every timer of an older group of the same instant (an
 *     arm joins only the newest): pop order is (when, seq).
 *  6. A `newest` slot whose place holds an entry with its seq names a
 *     pending group due at its `when`, the one with the largest seq of
 *     those due then. Other slots are stale and never believed.
 *  7. The entry array has room for q->cap groups, the bucket and cell
 *     arrays for their caps; arming is the only operation that grows them,
 *     and it makes room before it changes anything.
 *  8. seq values are unique: each arm or re-arm takes the next one.
 *
 * The queue is opaque to its callers (sim_queue.h): they hold a pointer
 * from sim_queue_new, and only the sim_timer they embed is theirs to see.
 * Arming, cancelling and popping allocate nothing unless an array must
 * grow (invariant 7).
 */
#include "sim_queue.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* What an entry names: a lone timer (its address, which
 * is even) or a bucket (its index b as 2b + 1); 0 is nothing. */
typedef uintptr_t ref;

typedef struct entry {
    sim_time_t when;
    uint64_t seq; /* the group's first arm's: ties on `when` broken without reading it */
    ref group;
} entry;

/* An instant's timers after its first, in arm order. */
typedef struct bucket {
    uint32_t head, tail; /* first and last cell; head NIL when free, tail then the next free */
    uint32_t at;         /* its entry: heap index, or FAR | far index */
} bucket;

/* A bucketed timer's place; a free cell's `next` is the next free one. */
typedef struct cell {
    sim_timer *timer;
    uint32_t prev, next; /* neighbours in the bucket; at its ends END | the bucket */
} cell;

typedef struct newest_slot {
    sim_time_t when;
    uint64_t seq; /* the group's; 0 for a slot never set */
    uint32_t at;  /* where its entry was */
} newest_slot;

#define NIL           SIM_TIMER_IDLE
#define ARITY         4
#define PAD           3 /* heap entry k lives at near[k + PAD] */
#define LINE          64
#define FAR           0x80000000u /* slot and `at` flag: the entry is in the far tier */
#define CELL          0x40000000u /* slot flag: the timer is in a bucket */
#define INDEX         (CELL - 1)  /* entries, buckets and cells number fewer */
#define END           0x80000000u /* a cell's prev or next: none, it ends bucket (link & INDEX) */
#define FAR_FRACTION  16          /* a refill moves about 1/16 of the far tier */
#define SAMPLES       64          /* far whens sampled to choose the split */
#define TRIM_FRACTION 4           /* the near heap holds at most about 1/4 of the groups */
#define TRIM_MIN      1024        /* or so many: below it a heap is cheap anyway */
#define FIRST_CAP     (64 - PAD)
#define NEWEST_BITS   8

#if defined(__GNUC__)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define UNLIKELY(x) (x)
#endif

typedef struct tiers {
    entry *near; /* the heap; logical entry k at near[k + PAD] */
    entry *far;  /* one past the array's end: far entry k at far[-1 - k] */
    bucket *bk;  /* the buckets, whose `at` the tiers keep */
    uint32_t near_len, far_len;
    uint32_t near_floor; /* near_len after the last refill or trim */
    sim_time_t split;
} tiers;

struct sim_queue {
    tiers t;
    uint32_t len, cap;                 /* timers armed; room for entries */
    uint32_t bk_cap, bk_live, bk_used; /* buckets: room, live, ever handed out */
    uint32_t bk_free;                  /* first free bucket, or NIL */
    cell *cells;
    uint32_t cells_cap, cells_live, cells_used, cells_free;
    uint64_t next_seq;
    newest_slot newest[1u << NEWEST_BITS];
};

static inline bool is_bucket(ref g)
{
    return (g & 1) != 0;
}

static inline uint32_t bucket_of(ref g)
{
    return (uint32_t)(g >> 1);
}

static inline ref bucket_ref(uint32_t b)
{
    return ((ref)b << 1) | 1;
}

static inline sim_timer *timer_of(ref g)
{
    return (sim_timer *)g;
}

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

/* The entry in place `at` (a heap index or FAR | a far index). */
static inline entry *entry_at(const tiers *t, uint32_t at)
{
    return at & FAR ? far_at(t, at & ~FAR) : heap_of(t) + at;
}

static inline bool before(entry a, entry b)
{
    return (a.when < b.when) | ((a.when == b.when) & (a.seq < b.seq));
}

/* Tells group g it is now in place `at`. */
static inline void set_at(const tiers *t, ref g, uint32_t at)
{
    if (is_bucket(g))
        t->bk[bucket_of(g)].at = at;
    else
        timer_of(g)->slot = at;
}

static inline void place(const tiers *t, entry *e, uint32_t k, entry x)
{
    e[k] = x;
    set_at(t, x.group, k);
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
    if (!q)
        return NULL;
    q->next_seq = 1;
    q->bk_free = q->cells_free = NIL;
    return q;
}

void sim_queue_free(sim_queue *q)
{
    if (!q)
        return;
    free(q->t.near);
    free(q->t.bk);
    free(q->cells);
    free(q);
}

uint32_t sim_queue_len(const sim_queue *q)
{
    return q->len;
}

/* ---- The near heap -------------------------------------------------- */

static uint32_t sift_up(const tiers *t, entry *e, uint32_t k, entry x)
{
    while (k > 0) {
        uint32_t parent = (k - 1) / ARITY;
        if (!before(x, e[parent]))
            break;
        place(t, e, k, e[parent]);
        k = parent;
    }
    place(t, e, k, x);
    return k;
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
 * false the moved groups are not told their place; the caller does it. */
static inline void sift_down(const tiers *t, entry *e, uint32_t n, uint32_t k, entry x, bool record)
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
            set_at(t, e[k].group, k);
        k = m;
    }
    e[k] = x;
    if (record)
        set_at(t, x.group, k);
}

/* Fills the hole at heap index k with x, moving it up or down. */
static void settle(const tiers *t, entry *e, uint32_t n, uint32_t k, entry x)
{
    if (k > 0 && before(x, e[(k - 1) / ARITY]))
        sift_up(t, e, k, x);
    else
        sift_down(t, e, n, k, x, true);
}

static void near_remove(tiers *t, uint32_t k)
{
    entry *e = heap_of(t);
    entry last = e[--t->near_len];
    if (k < t->near_len)
        settle(t, e, t->near_len, k, last);
}

/* ---- The far tier --------------------------------------------------- */

static uint32_t far_append(tiers *t, entry x)
{
    uint32_t k = t->far_len++;
    *far_at(t, k) = x;
    set_at(t, x.group, FAR | k);
    return FAR | k;
}

static void far_remove(tiers *t, uint32_t k)
{
    entry last = *far_at(t, --t->far_len);
    if (k < t->far_len) {
        *far_at(t, k) = last;
        set_at(t, last.group, FAR | k);
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

/* Moves every far entry due at or before t->split to the end of the heap
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

/* Builds the near heap from its n entries in any order (O(n)), then tells
 * every group its place. */
static void heapify(tiers *t)
{
    entry *e = heap_of(t);
    uint32_t n = t->near_len;
    for (uint32_t k = n / ARITY + 1; k-- > 0;)
        if (k < n)
            sift_down(t, e, n, k, e[k], false);
    for (uint32_t k = 0; k < n; k++)
        set_at(t, e[k].group, k);
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
            set_at(t, far_at(t, i)->group, FAR | i);
        move_due(t);
    }
    heapify(t);
    t->near_floor = t->near_len;
}

static void refill_if_empty(tiers *t)
{
    if (t->near_len == 0 && t->far_len > 0)
        refill(t);
}

/* Lowers the split when the near heap holds more than 1/TRIM_FRACTION of
 * the groups: a split chosen when the queue was small (the first arm's
 * instant, say) would otherwise keep every later arm due before it in the
 * heap, which then sifts through most of the queue, telling a timer its
 * place at every level, until the clock passes that split. The new split
 * is the 1/FAR_FRACTION quantile of all the groups' whens (the near ones
 * are the earliest, so it is among them, found by exact selection); the
 * near groups due after it go to the far tier, and the rest are heaped
 * again. A group never straddles the tiers, so the order is as exact as
 * ever. Groups tied with the new split all stay near, so a trim may leave
 * the heap as large as it found it; the next waits until the heap has
 * doubled since the last trim or refill (near_floor), so the O(near_len)
 * pass is paid for by as many arms into the heap: O(1) amortised. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static void
trim(tiers *t)
{
    uint32_t n = t->near_len, groups = n + t->far_len;
    entry *e = heap_of(t);
    t->split = select_kth(e, n, groups / FAR_FRACTION);
    /* entries due by the split to the front, the others behind them */
    uint32_t keep = 0;
    for (uint32_t i = 0; i < n; i++)
        if (e[i].when <= t->split)
            swap_entry(&e[keep++], &e[i]);
    /* from the top down: with the array full, the far tier's next place is
     * the heap's last */
    while (t->near_len > keep) {
        entry x = e[--t->near_len];
        far_append(t, x);
    }
    heapify(t);
    t->near_floor = t->near_len;
}

/* Puts a new lone timer's entry in the tier its instant belongs to;
 * returns its place. */
static uint32_t tier_add(tiers *t, entry x)
{
    if (x.when > t->split)
        return far_append(t, x);
    uint32_t at = sift_up(t, heap_of(t), t->near_len++, x);
    if (UNLIKELY(t->near_len >= TRIM_MIN && t->near_len / 2 > t->near_floor &&
                 (uint64_t)t->near_len * TRIM_FRACTION > (uint64_t)t->near_len + t->far_len)) {
        trim(t);
        at = timer_of(x.group)->slot;
    }
    return at;
}

static void tier_remove(tiers *t, uint32_t at)
{
    if (at & FAR)
        far_remove(t, at & ~FAR);
    else
        near_remove(t, at);
}

/* ---- Room ----------------------------------------------------------- */

/* Doubles the room for entries: the heap keeps its place at the start of
 * the array, the far block moves to the new end with its indices. */
static int grow_entries(sim_queue *q)
{
    tiers *t = tiers_of(q);
    uint64_t cap = q->cap == 0 ? FIRST_CAP : ((uint64_t)q->cap + PAD) * 2 - PAD;
    if (cap >= INDEX)
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

/* sim_grow, with indices kept below INDEX (the slot's flags above it). */
static void *grow_below_index(void *arr, uint32_t *cap, uint32_t need, size_t size)
{
    return need >= INDEX ? NULL : sim_grow(arr, cap, need, size);
}

/* Makes room for all an arm can need: an entry, a bucket and two cells
 * (a lone timer and the one joining it). */
static int make_room(sim_queue *q)
{
    tiers *t = tiers_of(q);
    if (t->near_len + t->far_len == q->cap && grow_entries(q) != 0)
        return -1;
    if (q->bk_live == q->bk_cap) {
        bucket *bk = grow_below_index(t->bk, &q->bk_cap, q->bk_live + 1, sizeof *bk);
        if (!bk)
            return -1;
        t->bk = bk;
    }
    if (q->cells_cap - q->cells_live < 2) {
        cell *c = grow_below_index(q->cells, &q->cells_cap, q->cells_live + 2, sizeof *c);
        if (!c)
            return -1;
        q->cells = c;
    }
    return 0;
}

/* ---- Groups --------------------------------------------------------- */

static inline newest_slot *newest_at(const sim_queue *q, sim_time_t when)
{
    return (newest_slot *)&q->newest[(when * 0x9e3779b97f4a7c15u) >> (64 - NEWEST_BITS)];
}

/* The entry of the newest group due at `when`, or NULL when `newest` does
 * not know it (invariant 6). */
static inline entry *newest_of(const sim_queue *q, sim_time_t when)
{
    const tiers *t = tiers_of(q);
    const newest_slot *s = newest_at(q, when);
    if (s->when != when || s->seq == 0)
        return NULL;
    uint32_t k = s->at & ~FAR;
    if (k >= (s->at & FAR ? t->far_len : t->near_len))
        return NULL;
    entry *e = entry_at(t, s->at);
    return e->seq == s->seq ? e : NULL;
}

static inline void newest_set(sim_queue *q, sim_time_t when, uint64_t seq, uint32_t at)
{
    *newest_at(q, when) = (newest_slot){when, seq, at};
}

static uint32_t cell_new(sim_queue *q, sim_timer *timer, uint32_t b)
{
    uint32_t c = q->cells_free;
    if (c != NIL)
        q->cells_free = q->cells[c].next;
    else
        c = q->cells_used++;
    q->cells_live++;
    bucket *k = &q->t.bk[b];
    q->cells[c] = (cell){timer, k->tail != NIL ? k->tail : END | b, END | b};
    if (k->tail != NIL)
        q->cells[k->tail].next = c;
    else
        k->head = c;
    k->tail = c;
    timer->slot = CELL | c;
    return c;
}

/* Lone timer `first` gains a second, `timer`: its entry now names a bucket
 * holding both, in that order. */
static void bucket_new(sim_queue *q, sim_timer *first, sim_timer *timer)
{
    tiers *t = tiers_of(q);
    uint32_t b = q->bk_free;
    if (b != NIL)
        q->bk_free = t->bk[b].tail;
    else
        b = q->bk_used++;
    q->bk_live++;
    uint32_t at = first->slot;
    t->bk[b] = (bucket){NIL, NIL, at};
    entry_at(t, at)->group = bucket_ref(b);
    cell_new(q, first, b);
    cell_new(q, timer, b);
}

/* Arms an idle timer (slot not yet written) with this arm's seq. */
static void join(sim_queue *q, sim_timer *timer, sim_time_t when, uint64_t seq)
{
    const entry *e = newest_of(q, when);
    if (!e)
        newest_set(q, when, seq, tier_add(tiers_of(q), (entry){when, seq, (ref)timer}));
    else if (!is_bucket(e->group))
        bucket_new(q, timer_of(e->group), timer);
    else
        cell_new(q, timer, bucket_of(e->group));
}

/* Takes a bucketed timer's cell out of its bucket, the bucket out of the
 * tiers if that was its last. */
static void cell_remove(sim_queue *q, uint32_t c)
{
    tiers *t = tiers_of(q);
    uint32_t prev = q->cells[c].prev, next = q->cells[c].next;
    if (!(prev & END))
        q->cells[prev].next = next;
    if (!(next & END))
        q->cells[next].prev = prev;
    q->cells[c].next = q->cells_free;
    q->cells_free = c;
    q->cells_live--;
    if (!((prev | next) & END))
        return; /* from the middle: the bucket's ends stay */
    uint32_t b = ((prev & END) ? prev : next) & INDEX;
    bucket *k = &t->bk[b];
    if (prev & END)
        k->head = (next & END) ? NIL : next;
    if (next & END)
        k->tail = (prev & END) ? NIL : prev;
    if (k->head == NIL) {
        tier_remove(t, k->at);
        k->tail = q->bk_free;
        q->bk_free = b;
        q->bk_live--;
    }
}

/* Takes an armed timer out of the queue, leaving its slot for the caller. */
static void unlink_timer(sim_queue *q, sim_timer *timer)
{
    uint32_t slot = timer->slot;
    if (slot & CELL) {
        cell_remove(q, slot & ~CELL);
        return;
    }
    tier_remove(tiers_of(q), slot);
}

/* Re-keys a lone timer's entry in place when it stays in its tier and no
 * group at `when` is there to join: the far tier's two stores, or one
 * sift. Returns false when it cannot. */
static bool rekey(sim_queue *q, sim_timer *timer, sim_time_t when, uint64_t seq)
{
    tiers *t = tiers_of(q);
    uint32_t slot = timer->slot;
    if ((slot & CELL) || newest_of(q, when) != NULL)
        return false;
    bool far = (slot & FAR) != 0, to_far = when > t->split;
    if (far != to_far)
        return false;
    if (far) {
        entry *x = entry_at(t, slot);
        x->when = when;
        x->seq = seq;
    } else {
        settle(t, heap_of(t), t->near_len, slot, (entry){when, seq, (ref)timer});
    }
    newest_set(q, when, seq, timer->slot);
    return true;
}

/* ---- The contract --------------------------------------------------- */

int sim_queue_arm(sim_queue *q, sim_timer *timer, sim_time_t when)
{
    assert(timer != NULL && ((uintptr_t)timer & 1) == 0);
    if (make_room(q) != 0)
        return -1;
    uint64_t seq = q->next_seq++;
    if (sim_timer_armed(timer)) {
        if (rekey(q, timer, when, seq))
            return 0;
        unlink_timer(q, timer);
    } else {
        q->len++;
    }
    join(q, timer, when, seq);
    refill_if_empty(tiers_of(q));
    return 0;
}

void sim_queue_cancel(sim_queue *q, sim_timer *timer)
{
    if (!sim_timer_armed(timer))
        return;
    unlink_timer(q, timer);
    timer->slot = SIM_TIMER_IDLE;
    q->len--;
    refill_if_empty(tiers_of(q));
}

sim_timer *sim_queue_peek(const sim_queue *q)
{
    if (q->len == 0)
        return NULL;
    ref g = heap_of(tiers_of(q))[0].group;
    return is_bucket(g) ? q->cells[q->t.bk[bucket_of(g)].head].timer : timer_of(g);
}

sim_time_t sim_queue_next_when(const sim_queue *q)
{
    return q->len > 0 ? heap_of(tiers_of(q))[0].when : SIM_TIME_NEVER;
}

sim_time_t sim_queue_when(const sim_queue *q, const sim_timer *timer)
{
    assert(sim_timer_armed(timer));
    const tiers *t = tiers_of(q);
    uint32_t at = timer->slot;
    if (at & CELL) {
        uint32_t c = at & ~CELL;
        while (!(q->cells[c].next & END))
            c = q->cells[c].next;
        at = t->bk[q->cells[c].next & INDEX].at;
    }
    return entry_at(t, at)->when;
}

sim_timer *sim_queue_pop(sim_queue *q)
{
    sim_timer *top = sim_queue_peek(q);
    if (top)
        sim_queue_cancel(q, top);
    return top;
}

/* ---- Invariants as code ----------------------------------------------- */

static int check_fail(char *why, size_t len, const char *msg, uint32_t at)
{
    if (why && len)
        snprintf(why, len, "%s (entry %u)", msg, (unsigned)at);
    return -1;
}

/* Invariant 4 for the cells of live bucket b; counts them into *timers,
 * stopping past q->len (a list running in a loop). */
static int check_bucket(const sim_queue *q, uint32_t b, uint32_t *timers, char *why, size_t len)
{
    uint32_t prev = END | b, last = NIL;
    for (uint32_t c = q->t.bk[b].head; c != (END | b); prev = c, c = q->cells[c].next) {
        if ((c & END) || c >= q->cells_used || ++*timers > q->len)
            return check_fail(why, len, "a bucket's list runs out of the timers armed", b);
        const cell *x = &q->cells[c];
        if (x->prev != prev)
            return check_fail(why, len, "a cell's links disagree with its bucket's list", c);
        if (!x->timer || x->timer->slot != (CELL | c))
            return check_fail(why, len, "a timer's slot does not name its cell", c);
        last = c;
    }
    if (q->t.bk[b].tail != last)
        return check_fail(why, len, "a bucket's tail is not its last cell", b);
    return 0;
}

/* Invariant 3 for the entry in place `at`, and 4 for its timers. */
static int check_entry(const sim_queue *q, uint32_t at, uint32_t *timers, char *why, size_t len)
{
    const entry *e = entry_at(tiers_of(q), at);
    uint32_t k = at & ~FAR;
    if (e->seq == 0 || e->seq >= q->next_seq)
        return check_fail(why, len, "an entry's seq was never handed out", k);
    if (!is_bucket(e->group)) {
        if (!e->group || timer_of(e->group)->slot != at)
            return check_fail(why, len, "a timer's slot does not name its entry", k);
        if (++*timers > q->len)
            return check_fail(why, len, "more timers than armed", k);
        return 0;
    }
    uint32_t b = bucket_of(e->group);
    if (b >= q->bk_used || q->t.bk[b].head == NIL || q->t.bk[b].at != at)
        return check_fail(why, len, "an entry names no live bucket in its place", k);
    return check_bucket(q, b, timers, why, len);
}

/* Invariant 6: a slot believed names a group due at its instant, and no
 * group due then has a larger seq. One pass over the entries. */
static int check_newest(const sim_queue *q, char *why, size_t len)
{
    enum { SLOTS = 1u << NEWEST_BITS };
    const entry *believed[SLOTS];
    for (uint32_t i = 0; i < SLOTS; i++) {
        believed[i] = q->newest[i].seq ? newest_of(q, q->newest[i].when) : NULL;
        if (believed[i] && newest_at(q, q->newest[i].when) != &q->newest[i])
            return check_fail(why, len, "a `newest` slot is not its instant's", i);
    }
    const tiers *t = tiers_of(q);
    for (uint32_t k = 0; k < t->near_len + t->far_len; k++) {
        const entry *e = k < t->near_len ? &heap_of(t)[k] : far_at(t, k - t->near_len);
        const newest_slot *s = newest_at(q, e->when);
        const entry *b = believed[s - q->newest];
        if (b && b->when != s->when)
            return check_fail(why, len, "`newest` names a group of another instant", k);
        if (b && e->when == b->when && e->seq > b->seq)
            return check_fail(why, len, "`newest` names an older group than there is", k);
    }
    return 0;
}

int sim_queue_check(const sim_queue *q, char *why, size_t len)
{
    const tiers *t = tiers_of(q);
    if (!t->near)
        return q->len == 0 ? 0 : check_fail(why, len, "timers counted but no entries", 0);
    if (q->len > 0 && t->near_len == 0)
        return check_fail(why, len, "timers pending but the heap is empty (invariant 2)", 0);
    if (t->near_len + t->far_len > q->cap || q->bk_live > q->bk_cap || q->cells_live > q->cells_cap)
        return check_fail(why, len, "more than there is room for (invariant 7)", q->len);
    uint32_t timers = 0;
    for (uint32_t k = 0; k < t->near_len; k++) {
        if (check_entry(q, k, &timers, why, len) != 0)
            return -1;
        if (heap_of(t)[k].when > t->split)
            return check_fail(why, len, "a near entry is due after split (invariant 1)", k);
        /* seq is unique (invariant 8), so a child is strictly after its parent */
        if (k > 0 && !before(heap_of(t)[(k - 1) / ARITY], heap_of(t)[k]))
            return check_fail(why, len, "a heap child is not after its parent", k);
    }
    for (uint32_t i = 0; i < t->far_len; i++) {
        if (check_entry(q, FAR | i, &timers, why, len) != 0)
            return -1;
        if (far_at(t, i)->when <= t->split)
            return check_fail(why, len, "a far entry is due at or before split (invariant 1)", i);
    }
    if (timers != q->len)
        return check_fail(why, len, "the groups hold fewer timers than armed", timers);
    uint32_t live = 0;
    for (uint32_t b = 0; b < q->bk_used; b++)
        live += q->t.bk[b].head != NIL;
    if (live != q->bk_live)
        return check_fail(why, len, "live buckets miscounted, or one has no entry", live);
    return check_newest(q, why, len);
}
