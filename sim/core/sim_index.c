/*
 * sim_index — an open-addressing set of object ids with caller-supplied
 * hashing and matching, each slot tagged with hash bits (see
 * sim_internal.h). Linear probing, kept at most half full, never shrinks;
 * no id more than SIM_INDEX_MAX_WALK slots from its home; ids are never
 * removed (hosts and links live as long as the world) but for the last,
 * when its object could not be made after all.
 */
#include <assert.h>
#include <stdlib.h>

#include "sim_internal.h"

#define FIRST_SLOTS 16u

uint32_t sim_index_find(const sim_index *ix, uint64_t hash, sim_index_match_fn match,
                        const sim_world *w, const void *key)
{
    uint32_t mask = ix->mask;
    if (mask == 0)
        return SIM_NO_ID;
    /* The tag is compared first: a slot of another tag is another key, and
     * reading its object (a cache miss at a million hosts) is saved. No id
     * sits more than SIM_INDEX_MAX_WALK slots past its home, so the walk
     * stops there even inside a longer cluster. */
    uint32_t tag = sim_index_slot(mask, hash, 0) & ~mask;
    uint32_t i = (uint32_t)hash & mask;
    for (uint32_t walked = 0; walked <= SIM_INDEX_MAX_WALK; walked++, i = (i + 1) & mask) {
        uint32_t v = ix->slots[i];
        if (v == 0)
            return SIM_NO_ID;
        if ((v & ~mask) == tag && match(w, sim_index_slot_id(mask, v), key))
            return sim_index_slot_id(mask, v);
    }
    return SIM_NO_ID;
}

/* The slots passed over from `hash`'s home to the first empty slot, or
 * SIM_INDEX_MAX_WALK + 1 when the slots that far are all taken. */
static uint32_t walk_to_empty(const uint32_t *slots, uint32_t mask, uint64_t hash)
{
    uint32_t i = (uint32_t)hash & mask, steps = 0;
    while (slots[i] != 0 && steps <= SIM_INDEX_MAX_WALK) {
        i = (i + 1) & mask;
        steps++;
    }
    return steps;
}

/* Places `id` at the first empty slot from its hash's, which growth
 * guarantees is within SIM_INDEX_MAX_WALK (sim_internal.h); returns the
 * slots passed over. */
static uint32_t put(uint32_t *slots, uint32_t mask, uint64_t hash, uint32_t id)
{
    uint32_t steps = walk_to_empty(slots, mask, hash);
    assert(steps <= SIM_INDEX_MAX_WALK);
    slots[((uint32_t)hash + steps) & mask] = sim_index_slot(mask, hash, id);
    return steps;
}

/* Ids 0 to used - 1 are all present (sim_internal.h), so they are walked
 * in order: the objects hashed are read in the order they were made, not
 * scattered as the old slots hold them, and no old slot is read. */
static int rehash_into(sim_index *ix, uint32_t nslots, sim_index_hash_fn rehash, const sim_world *w)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    uint32_t mask = nslots - 1;
    for (uint32_t id = 0; id < ix->used; id++)
        ix->steps += put(slots, mask, rehash(w, id), id);
    free(ix->slots);
    ix->slots = slots;
    ix->mask = mask;
    return 0;
}

int sim_index_reserve(sim_index *ix, uint32_t count, sim_index_hash_fn rehash, const sim_world *w)
{
    uint64_t nslots = ix->mask == 0 ? FIRST_SLOTS : (uint64_t)ix->mask + 1;
    while ((uint64_t)count * 2 > nslots)
        nslots *= 2;
    if (ix->mask != 0 && nslots == (uint64_t)ix->mask + 1)
        return 0;
    if (nslots > SIM_INDEX_MAX_SLOTS)
        return -1;
    return rehash_into(ix, (uint32_t)nslots, rehash, w);
}

int sim_index_add(sim_index *ix, uint64_t hash, uint32_t id)
{
    assert(id == ix->used);
    assert(ix->mask != 0 && (uint64_t)(ix->used + 1) * 2 <= (uint64_t)ix->mask + 1);
    uint32_t steps = walk_to_empty(ix->slots, ix->mask, hash);
    ix->steps += steps;
    if (steps > SIM_INDEX_MAX_WALK)
        return -1;
    ix->slots[((uint32_t)hash + steps) & ix->mask] = sim_index_slot(ix->mask, hash, id);
    ix->used++;
    return 0;
}

/* No placement since the last id's could have passed over its slot, so
 * emptying that slot leaves the slots as they were before its add. The
 * add put the id at most SIM_INDEX_MAX_WALK slots past `hash`'s home with
 * no empty slot between: a walk that meets an empty slot or goes farther
 * was given another hash (a caller's error, which would otherwise read
 * the table to wherever the id sits). */
void sim_index_drop_last(sim_index *ix, uint64_t hash)
{
    assert(ix->used > 0);
    uint32_t mask = ix->mask, last = ix->used - 1;
    uint32_t i = (uint32_t)hash & mask;
    for (uint32_t walked = 0; sim_index_slot_id(mask, ix->slots[i]) != last; walked++) {
        assert(ix->slots[i] != 0 && walked < SIM_INDEX_MAX_WALK);
        i = (i + 1) & mask;
    }
    ix->slots[i] = 0;
    ix->used--;
}

void sim_index_free(sim_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
    ix->used = 0;
}
