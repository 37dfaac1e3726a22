/*
 * sim_index — an open-addressing set of object ids with caller-supplied
 * hashing and matching, each slot tagged with hash bits (see
 * sim_internal.h). Linear probing, kept at most half full, never shrinks;
 * ids are never removed (hosts and links live as long as the world).
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
     * reading its object (a cache miss at a million hosts) is saved. */
    uint32_t tag = sim_index_slot(mask, hash, 0) & ~mask;
    for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
        uint32_t v = ix->slots[i];
        if (v == 0)
            return SIM_NO_ID;
        if ((v & ~mask) == tag && match(w, sim_index_slot_id(mask, v), key))
            return sim_index_slot_id(mask, v);
    }
}

/* Places `id` at the first empty slot from its hash's; returns the slots
 * passed over. */
static uint32_t put(uint32_t *slots, uint32_t mask, uint64_t hash, uint32_t id)
{
    uint32_t i = (uint32_t)hash & mask, steps = 0;
    while (slots[i] != 0) {
        i = (i + 1) & mask;
        steps++;
    }
    slots[i] = sim_index_slot(mask, hash, id);
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

void sim_index_add(sim_index *ix, uint64_t hash, uint32_t id)
{
    assert(id == ix->used);
    assert(ix->mask != 0 && (uint64_t)(ix->used + 1) * 2 <= (uint64_t)ix->mask + 1);
    ix->steps += put(ix->slots, ix->mask, hash, id);
    ix->used++;
}

void sim_index_free(sim_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
    ix->used = 0;
}
