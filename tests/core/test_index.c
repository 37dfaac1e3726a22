/*
 * test_index — the contract of sim_index (sim_internal.h): an id added is
 * found by its key and no other, at every size the index grows through;
 * growth rehashes the ids in id order; the tag (hash bits kept in each
 * slot's spare bits) spares calls to `match` and never hides an id, however
 * hashes collide, including after growth has taken tag bits back; the slot
 * layout leaves room for the largest id at every size up to the limit,
 * which reserve refuses to pass; no id sits more than SIM_INDEX_MAX_WALK
 * slots past its home, an add that would is refused, a find stops there,
 * and growth never moves an id past it.
 *
 * The objects here are the test's own: id i has key keys[i] and hash
 * hashes[i], set by each test to force the collisions it wants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_internal.h"
#include "sim_rng.h"

#define MAX_IDS 5000u

static uint32_t keys[MAX_IDS];
static uint64_t hashes[MAX_IDS];
static unsigned match_calls;
static uint32_t rehash_next; /* the id the next rehash call must be for */

static uint64_t rehash(const sim_world *w, uint32_t id)
{
    (void)w;
    assert_int_equal(id, rehash_next); /* in id order */
    rehash_next++;
    return hashes[id];
}

static bool match(const sim_world *w, uint32_t id, const void *key)
{
    (void)w;
    match_calls++;
    return keys[id] == *(const uint32_t *)key;
}

/* Adds ids 0 to n - 1 as the core's callers do: room for one more, then
 * the add. */
static void add_all(sim_index *ix, uint32_t n)
{
    for (uint32_t id = 0; id < n; id++) {
        rehash_next = 0;
        assert_int_equal(sim_index_reserve(ix, id + 1, rehash, NULL), 0);
        assert_true(rehash_next == 0 || rehash_next == id); /* none, or every id present */
        assert_int_equal(sim_index_add(ix, hashes[id], id), 0);
    }
    assert_int_equal(ix->used, n);
}

static uint32_t find(const sim_index *ix, uint64_t hash, uint32_t key)
{
    return sim_index_find(ix, hash, match, NULL, &key);
}

/* The tag bits a slot keeps at the index's current size. */
static uint32_t tag_of(const sim_index *ix, uint64_t hash)
{
    return (uint32_t)(hash >> 32) & ~ix->mask;
}

static void test_empty_index_finds_nothing(void **state)
{
    (void)state;
    sim_index ix = {0};
    match_calls = 0;
    assert_int_equal(find(&ix, 0, 0), SIM_NO_ID);
    assert_int_equal(find(&ix, UINT64_MAX, 7), SIM_NO_ID);
    assert_int_equal(match_calls, 0);
    sim_index_free(&ix);
    sim_index_free(&ix); /* freeing twice is harmless */
}

/* Well-spread hashes: every id found by its key at every size on the way
 * to 5,000 ids (16 to 16,384 slots), keys never added not found, the index
 * never more than half full. */
static void test_every_id_found_as_it_grows(void **state)
{
    (void)state;
    sim_index ix = {0};
    for (uint32_t id = 0; id < MAX_IDS; id++) {
        keys[id] = id * 7u + 3u;
        hashes[id] = sim_hash_u64(keys[id]);
    }
    for (uint32_t n = 1; n <= MAX_IDS; n *= 2) {
        sim_index_free(&ix);
        add_all(&ix, n);
        assert_true((uint64_t)n * 2 <= (uint64_t)ix.mask + 1);
        for (uint32_t id = 0; id < n; id++)
            assert_int_equal(find(&ix, hashes[id], keys[id]), id);
        for (uint32_t k = 0; k < 100; k++) /* keys 7i + 4: never added */
            assert_int_equal(find(&ix, sim_hash_u64(k * 7u + 4u), k * 7u + 4u), SIM_NO_ID);
    }
    sim_index_free(&ix);
    add_all(&ix, MAX_IDS);
    assert_int_equal(ix.mask + 1, 16384); /* the least power of two holding 10,000 */
    for (uint32_t id = 0; id < MAX_IDS; id++)
        assert_int_equal(find(&ix, hashes[id], keys[id]), id);
    sim_index_free(&ix);
}

/* Eight ids with one home slot (one cluster of eight) whose tags differ:
 * finding each calls `match` once, on itself, whatever its place in the
 * cluster; a key whose tag none has calls it never, walking the whole
 * cluster. */
static void test_tag_spares_matches_in_a_cluster(void **state)
{
    (void)state;
    sim_index ix = {0};
    for (uint32_t id = 0; id < 8; id++) {
        keys[id] = 100 + id;
        hashes[id] = (uint64_t)id << 60 | 5u; /* high word id << 28: a tag bit at 16 slots */
    }
    add_all(&ix, 8);
    assert_int_equal(ix.mask + 1, 16);
    for (uint32_t id = 0; id < 8; id++) {
        match_calls = 0;
        assert_int_equal(find(&ix, hashes[id], keys[id]), id);
        assert_int_equal(match_calls, 1);
    }
    match_calls = 0;
    assert_int_equal(find(&ix, (uint64_t)9 << 60 | 5u, 999), SIM_NO_ID);
    assert_int_equal(match_calls, 0);
    /* The same tag as id 3 but another key: only id 3 is asked. */
    match_calls = 0;
    assert_int_equal(find(&ix, hashes[3], 999), SIM_NO_ID);
    assert_int_equal(match_calls, 1);
    sim_index_free(&ix);
}

/* Every id with the same 64-bit hash, all of whose bits are set (so the
 * tag is all ones and the home slot the last, the cluster wrapping to the
 * first): the tag hides none of them, `match` tells them apart, and the
 * id bits are read back intact under a full tag. */
static void test_equal_hashes_all_found(void **state)
{
    (void)state;
    sim_index ix = {0};
    enum { N = 300 };
    for (uint32_t id = 0; id < N; id++) {
        keys[id] = 5000 + id;
        hashes[id] = UINT64_MAX;
    }
    add_all(&ix, N);
    for (uint32_t id = 0; id < N; id++) {
        match_calls = 0;
        assert_int_equal(find(&ix, UINT64_MAX, keys[id]), id);
        assert_true(match_calls >= 1 && match_calls <= N);
    }
    match_calls = 0;
    assert_int_equal(find(&ix, UINT64_MAX, 1), SIM_NO_ID);
    assert_int_equal(match_calls, N);
    sim_index_free(&ix);
}

/* Tags are the hash bits above the mask, so each doubling takes one back:
 * ids whose high words differ only in bits 4 to 9 have distinct tags at
 * 16 slots and share them in eights at 128. Found right at every size,
 * with `match` asked exactly about the ids sharing the key's tag at that
 * size that the probe passes. */
static void test_tags_recomputed_on_growth(void **state)
{
    (void)state;
    sim_index ix = {0};
    enum { N = 64 };
    for (uint32_t id = 0; id < N; id++) {
        keys[id] = 77 + id;
        hashes[id] = (uint64_t)((uint32_t)id << 4 | 0xFFFFFC00u) << 32 | 3u; /* one home slot */
    }
    for (uint32_t n = 1; n <= N; n++) {
        sim_index_free(&ix);
        add_all(&ix, n);
        for (uint32_t id = 0; id < n; id++) {
            unsigned same_tag =
                0; /* ids before it in the cluster (added earlier) sharing its tag */
            for (uint32_t j = 0; j < id; j++)
                same_tag += tag_of(&ix, hashes[j]) == tag_of(&ix, hashes[id]);
            match_calls = 0;
            assert_int_equal(find(&ix, hashes[id], keys[id]), id);
            assert_int_equal(match_calls, same_tag + 1);
        }
    }
    assert_int_equal(ix.mask + 1, 128);
    sim_index_free(&ix);
}

/* At every size up to the limit, the largest id an index of that size
 * holds (half the slots, less one) reads back from a slot whose tag is all
 * ones, the tag keeps 32 - k bits (one at 2^31 slots) and no slot is 0. */
static void test_slot_layout_at_every_size(void **state)
{
    (void)state;
    for (unsigned k = 4; k <= 31; k++) {
        uint32_t mask = (uint32_t)((1ull << k) - 1);
        uint32_t top = (uint32_t)(1ull << (k - 1)) - 1; /* the largest id */
        uint32_t s = sim_index_slot(mask, UINT64_MAX, top);
        assert_int_equal(sim_index_slot_id(mask, s), top);
        assert_int_equal(s & ~mask, ~mask);
        assert_int_equal(__builtin_popcount(~mask), 32 - k);
        assert_int_equal(sim_index_slot(mask, 0, 0), 1);
        assert_int_equal(sim_index_slot_id(mask, sim_index_slot(mask, UINT64_MAX, 0)), 0);
        /* Two hashes differing only in the tag's lowest bit differ in the slot. */
        uint64_t h = (uint64_t)(mask + 1u) << 32;
        assert_true(sim_index_slot(mask, h, top) != sim_index_slot(mask, 0, top));
    }
    assert_int_equal(SIM_INDEX_MAX_SLOTS, 1u << 31);
    assert_int_equal(SIM_INDEX_MAX_IDS, 1u << 30);
}

/* Room past SIM_INDEX_MAX_IDS would need 2^32 slots: refused before any
 * allocation, the index unchanged and still working. */
static void test_reserve_refuses_past_the_limit(void **state)
{
    (void)state;
    sim_index ix = {0};
    assert_int_equal(sim_index_reserve(&ix, SIM_INDEX_MAX_IDS + 1, rehash, NULL), -1);
    assert_int_equal(sim_index_reserve(&ix, UINT32_MAX, rehash, NULL), -1);
    assert_null(ix.slots);
    assert_int_equal(ix.mask, 0);
    keys[0] = 1;
    hashes[0] = sim_hash_u64(1);
    add_all(&ix, 1);
    uint32_t mask = ix.mask;
    assert_int_equal(sim_index_reserve(&ix, SIM_INDEX_MAX_IDS + 1, rehash, NULL), -1);
    assert_int_equal(ix.mask, mask);
    assert_int_equal(find(&ix, hashes[0], 1), 0);
    sim_index_free(&ix);
}

/* sim_index_run_hash: the keys of a run (one start, offsets 0 to 7) go to
 * neighbouring slots from the start's, so adding or finding them one after
 * the other reads one line of slots; the tags are the whole hash's high
 * word. The hostile side: SHARED keys sharing one start (eight at each
 * offset, more than any caller lets share one) are all found, and a key that is absent walks one
 * cluster no longer than they fill, calling `match` only where the tag agrees. */
static void test_runs_fill_neighbouring_slots(void **state)
{
    (void)state;
    enum { SHARED = SIM_INDEX_RUN * SIM_INDEX_RUN };
    sim_index ix = {0};
    const uint64_t start = 0x123456789abcdefu;
    for (uint32_t id = 0; id < SIM_INDEX_RUN; id++) {
        keys[id] = 1000 + id;
        hashes[id] = sim_index_run_hash(sim_hash_u64(keys[id]), start, id);
        assert_int_equal(hashes[id] >> 32, sim_hash_u64(keys[id]) >> 32);
    }
    add_all(&ix, SIM_INDEX_RUN);
    uint32_t home = (uint32_t)(start << SIM_INDEX_RUN_BITS) & ix.mask;
    for (uint32_t id = 0; id < SIM_INDEX_RUN; id++) {
        assert_int_equal(sim_index_slot_id(ix.mask, ix.slots[(home + id) & ix.mask]), id);
        assert_int_equal(find(&ix, hashes[id], keys[id]), id);
    }
    sim_index_free(&ix);

    for (uint32_t id = 0; id < SHARED; id++) {
        keys[id] = 5000 + id;
        hashes[id] = sim_index_run_hash(sim_hash_u64(keys[id]), start, id % SIM_INDEX_RUN);
    }
    add_all(&ix, SHARED);
    for (uint32_t id = 0; id < SHARED; id++) {
        match_calls = 0;
        assert_int_equal(find(&ix, hashes[id], keys[id]), id);
        assert_true(match_calls <= 2); /* itself, and seldom one sharing its tag */
    }
    uint32_t absent = 9999;
    uint64_t h = sim_index_run_hash(sim_hash_u64(absent), start, 0);
    match_calls = 0;
    assert_int_equal(find(&ix, h, absent), SIM_NO_ID);
    assert_true(match_calls <= 2);
    uint32_t run = 0; /* the cluster the absent key walked: every key of the start */
    for (uint32_t i = (uint32_t)h & ix.mask; ix.slots[i] != 0; i = (i + 1) & ix.mask)
        run++;
    assert_int_equal(run, SHARED);
    sim_index_free(&ix);
}

/* Keys made to collide: with SIM_INDEX_MAX_WALK + 1 ids on one home at
 * 8,192 slots, the next add with that home is refused, leaving the index
 * unchanged but for the walk it counts, and an absent key's find calls
 * `match` on none of another tag (the slot after the cluster is empty
 * here: test_find_stops_at_the_walk shows the find's bound). An add
 * whose home is past the cluster's start by one still fits (its walk is
 * one shorter), and sim_index_drop_last takes it back out exactly. */
static void test_add_refused_past_the_walk(void **state)
{
    (void)state;
    enum { N = SIM_INDEX_MAX_WALK + 1 };
    sim_index ix = {0};
    assert_int_equal(sim_index_reserve(&ix, 4096, rehash, NULL), 0);
    assert_int_equal(ix.mask + 1, 8192);
    for (uint32_t id = 0; id < N; id++) {
        keys[id] = id;
        hashes[id] = (uint64_t)1 << 62 | 100u; /* one home, one tag */
    }
    add_all(&ix, N);
    uint64_t steps = ix.steps;
    uint32_t slots[8192];
    memcpy(slots, ix.slots, sizeof slots);
    assert_int_equal(sim_index_add(&ix, (uint64_t)2 << 62 | 100u, N), -1);
    assert_int_equal(ix.used, N);
    assert_int_equal(ix.steps, steps + SIM_INDEX_MAX_WALK + 1);
    assert_memory_equal(ix.slots, slots, sizeof slots);
    match_calls = 0;
    assert_int_equal(find(&ix, (uint64_t)2 << 62 | 100u, 12345), SIM_NO_ID);
    assert_int_equal(match_calls, 0);
    for (uint32_t id = 0; id < N; id += 97)
        assert_int_equal(find(&ix, hashes[id], keys[id]), id);
    assert_int_equal(find(&ix, hashes[N - 1], keys[N - 1]), N - 1);

    keys[N] = 777;
    hashes[N] = (uint64_t)2 << 62 | 101u;
    assert_int_equal(sim_index_add(&ix, hashes[N], N), 0);
    assert_int_equal(find(&ix, hashes[N], keys[N]), N);
    sim_index_drop_last(&ix, hashes[N]);
    assert_int_equal(ix.used, N);
    assert_memory_equal(ix.slots, slots, sizeof slots);
    assert_int_equal(find(&ix, hashes[N], keys[N]), SIM_NO_ID);
    sim_index_free(&ix);
}

/* sim_index_drop_last's precondition is that `hash` is the last id's: the
 * id then sits at most SIM_INDEX_MAX_WALK slots past that hash's home with
 * no empty slot between. Called with another hash, it must stop the
 * process (an assertion: a caller's error), not walk the whole table to
 * wherever the id sits (it did: the drop went through, after reading
 * every slot up to it, and would never end on an index whose last id is
 * missing). Run in a child, which must end by SIGABRT. */
static void test_drop_last_with_another_hash_aborts(void **state)
{
    (void)state;
    sim_index ix = {0};
    for (uint32_t id = 0; id < 4; id++) {
        keys[id] = id;
        hashes[id] = 1000u + id;
    }
    add_all(&ix, 4);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        sim_index_drop_last(&ix, 1000u + 8u); /* home 0, empty: the ids sit in 8 to 11 */
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    sim_index_drop_last(&ix, hashes[3]); /* its own hash takes it out */
    assert_int_equal(ix.used, 3);
    assert_int_equal(find(&ix, hashes[3], keys[3]), SIM_NO_ID);
    assert_int_equal(find(&ix, hashes[2], keys[2]), 2);
    sim_index_free(&ix);
}

/* The find's bound: a cluster of SIM_INDEX_MAX_WALK + 1 ids of one tag
 * on one home, and right after it ids of another tag on the next home. A
 * find of an absent key of that other tag from the first home reads the
 * SIM_INDEX_MAX_WALK + 1 slots of the cluster and stops: no id there can
 * sit farther from that home, so `match` is never called on the slots
 * past it, though they hold its tag. */
static void test_find_stops_at_the_walk(void **state)
{
    (void)state;
    enum { N = SIM_INDEX_MAX_WALK + 1, AFTER = 64 };
    sim_index ix = {0};
    for (uint32_t id = 0; id < N + AFTER; id++) {
        keys[id] = id;
        hashes[id] = id < N ? (uint64_t)1 << 62 | 100u : (uint64_t)2 << 62 | (100u + N);
    }
    add_all(&ix, N + AFTER);
    assert_int_equal(ix.mask + 1, 8192);
    match_calls = 0;
    assert_int_equal(find(&ix, (uint64_t)2 << 62 | 100u, 12345), SIM_NO_ID);
    assert_int_equal(match_calls, 0);
    assert_int_equal(find(&ix, hashes[N + AFTER - 1], keys[N + AFTER - 1]), N + AFTER - 1);
    sim_index_free(&ix);
}

/* The farthest any id sits past its home (hashes[id]'s slot). */
static uint32_t farthest_from_home(const sim_index *ix)
{
    uint32_t far = 0;
    for (uint32_t i = 0; i <= ix->mask; i++) {
        if (ix->slots[i] == 0)
            continue;
        uint32_t id = sim_index_slot_id(ix->mask, ix->slots[i]);
        uint32_t d = (i - (uint32_t)hashes[id]) & ix->mask;
        far = d > far ? d : far;
    }
    return far;
}

/* Growth keeps the bound, so an add is never accepted that a later
 * rehash could not place: with the same order, no id lands farther from
 * its home in twice the slots than it sat before. Keys made to collide at
 * every size up to 16,384 slots (three in four have their low 14 bits in
 * a window of 48), mixed with scattered ones, added from the first size
 * on: many are refused, and after each growth every id added sits within
 * SIM_INDEX_MAX_WALK of its home and is found. */
static void test_growth_keeps_every_id_within_the_walk(void **state)
{
    (void)state;
    sim_rng rng;
    sim_rng_seed(&rng, 7, "index:growth");
    sim_index ix = {0};
    uint32_t refused = 0, grown = 0, far = 0;
    for (uint32_t tries = 0; tries < 12000 && ix.used < MAX_IDS; tries++) {
        uint32_t id = ix.used, mask = ix.mask;
        uint64_t h = sim_rng_next(&rng);
        hashes[id] = sim_rng_below(&rng, 4) ? (h & ~(uint64_t)16383) | sim_rng_below(&rng, 48) : h;
        keys[id] = id;
        rehash_next = 0;
        assert_int_equal(sim_index_reserve(&ix, id + 1, rehash, NULL), 0);
        if (ix.mask != mask && mask != 0) {
            grown++;
            uint32_t f = farthest_from_home(&ix);
            assert_true(f <= SIM_INDEX_MAX_WALK);
            far = f > far ? f : far;
            for (uint32_t k = 0; k < id; k++)
                assert_int_equal(find(&ix, hashes[k], keys[k]), k);
        }
        refused += sim_index_add(&ix, hashes[id], id) != 0;
    }
    assert_true(refused > 1000);
    assert_true(grown >= 4);
    assert_true(far > SIM_INDEX_MAX_WALK / 2); /* the bound was approached */
    assert_true(farthest_from_home(&ix) <= SIM_INDEX_MAX_WALK);
    sim_index_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_index_finds_nothing),
        cmocka_unit_test(test_every_id_found_as_it_grows),
        cmocka_unit_test(test_tag_spares_matches_in_a_cluster),
        cmocka_unit_test(test_equal_hashes_all_found),
        cmocka_unit_test(test_tags_recomputed_on_growth),
        cmocka_unit_test(test_slot_layout_at_every_size),
        cmocka_unit_test(test_reserve_refuses_past_the_limit),
        cmocka_unit_test(test_runs_fill_neighbouring_slots),
        cmocka_unit_test(test_add_refused_past_the_walk),
        cmocka_unit_test(test_drop_last_with_another_hash_aborts),
        cmocka_unit_test(test_find_stops_at_the_walk),
        cmocka_unit_test(test_growth_keeps_every_id_within_the_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
