/*
 * sim_index — an open-addressing set of object ids with caller-supplied
 * hashing and matching (see sim_internal.h). Linear probing, kept at most
 * half full, never shrinks; ids are never removed (hosts and links live as
 * long as the world).
 */
#include <assert.h>
#include <stdlib.h>

#include "sim_internal.h"

#define FIRST_SLOTS 16u

uint32_t sim_index_find(const sim_index *ix, uint64_t hash, sim_index_match_fn match,
                        const sim_world *w, const void *key)
{
    if (ix->mask == 0)
        return SIM_NO_ID;
    for (uint32_t i = (uint32_t)hash & ix->mask;; i = (i + 1) & ix->mask) {
        uint32_t v = ix->slots[i];
        if (v == 0)
            return SIM_NO_ID;
        if (match(w, v - 1, key))
            return v - 1;
    }
}

static void put(uint32_t *slots, uint32_t mask, uint64_t hash, uint32_t id)
{
    uint32_t i = (uint32_t)hash & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = id + 1;
}

static int rehash_into(sim_index *ix, uint32_t nslots, sim_index_hash_fn rehash, const sim_world *w)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    uint32_t mask = nslots - 1;
    if (ix->mask != 0)
        for (uint32_t i = 0; i <= ix->mask; i++)
            if (ix->slots[i] != 0)
                put(slots, mask, rehash(w, ix->slots[i] - 1), ix->slots[i] - 1);
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
    if (nslots > (1ull << 31))
        return -1;
    return rehash_into(ix, (uint32_t)nslots, rehash, w);
}

void sim_index_add(sim_index *ix, uint64_t hash, uint32_t id)
{
    assert(id < SIM_NO_ID - 1);
    assert(ix->mask != 0 && (uint64_t)(ix->used + 1) * 2 <= (uint64_t)ix->mask + 1);
    put(ix->slots, ix->mask, hash, id);
    ix->used++;
}

void sim_index_free(sim_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
    ix->used = 0;
}
