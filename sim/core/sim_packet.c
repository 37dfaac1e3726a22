/*
 * sim_packet — the world's packet pool.
 *
 * Packets of up to 2,048 bytes (anything that fits an Ethernet-sized MTU)
 * come from one size class per 64 bytes, so a slot wastes under 64 bytes
 * of its data (a 1,052-byte datagram takes 1,088, a 52-byte ACK 64). Each
 * class hands out freed packets first, then the untouched slots of its
 * newest chunk in address order; chunks (about 32 KiB) live until the
 * world is freed, so steady-state traffic allocates nothing and a slot's
 * memory is first touched when it is first used. Larger packets are
 * malloc'd one by one and kept on a list so the world can free them
 * wherever they are. Chunk memory is zeroed when allocated: a packet's
 * unwritten bytes are whatever an earlier packet of the same run left
 * there, never stray heap contents.
 */
#include "sim_packet.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Bytes from one packet header to the next in a chunk (data follows the
 * header; keep headers 16-byte aligned). */
static size_t stride(const sim_pool *pool)
{
    return (sizeof(sim_packet) + pool->data_cap + 15) & ~(size_t)15;
}

#define CHUNK_BYTES 32768u

/* The class holding `len` (at most SIM_PACKET_POOLED) bytes: the smallest
 * multiple of SIM_PACKET_STEP not below it. */
static uint32_t class_of(size_t len)
{
    return len == 0 ? 0 : (uint32_t)((len - 1) / SIM_PACKET_STEP);
}

void sim_packets_init(sim_world *w)
{
    for (uint32_t c = 0; c < SIM_PACKET_CLASSES; c++) {
        sim_pool *pool = &w->pools[c];
        *pool = (sim_pool){.data_cap = (c + 1) * SIM_PACKET_STEP};
        size_t per = CHUNK_BYTES / stride(pool);
        pool->per_chunk = per < 8 ? 8 : (uint32_t)per;
    }
}

void sim_packets_free_all(sim_world *w)
{
    for (uint32_t c = 0; c < SIM_PACKET_CLASSES; c++) {
        sim_pool *pool = &w->pools[c];
        for (uint32_t i = 0; i < pool->nchunks; i++)
            free(pool->chunks[i]);
        free(pool->chunks);
        pool->chunks = NULL;
        pool->nchunks = pool->chunks_cap = 0;
        pool->free = NULL;
        pool->fresh = NULL;
        pool->nfresh = 0;
    }
    while (w->large) {
        sim_large *next = w->large->next;
        free(w->large);
        w->large = next;
    }
    w->packets_in_use = 0;
}

/* A packet of this class: a freed one, else the newest chunk's next
 * untouched slot (a new chunk when none is left); NULL when out of memory. */
static sim_packet *pool_take(sim_pool *pool)
{
    sim_packet *p = pool->free;
    if (p) {
        pool->free = p->next;
        return p;
    }
    if (pool->nfresh == 0) {
        void **chunks =
            sim_grow(pool->chunks, &pool->chunks_cap, pool->nchunks + 1, sizeof *pool->chunks);
        if (!chunks)
            return NULL;
        pool->chunks = chunks;
        /* A slot is zeroed when first handed out, as a zeroed chunk would
         * be (a world that sends a few packets clears a few slots). */
        char *chunk = malloc(pool->per_chunk * stride(pool));
        if (!chunk)
            return NULL;
        pool->chunks[pool->nchunks++] = chunk;
        pool->fresh = chunk;
        pool->nfresh = pool->per_chunk;
    }
    p = (sim_packet *)(void *)pool->fresh;
    memset(p, 0, stride(pool));
    pool->fresh += stride(pool);
    pool->nfresh--;
    p->data = (uint8_t *)(p + 1);
    p->cap = pool->data_cap;
    return p;
}

static sim_packet *large_new(sim_world *w, size_t len)
{
    sim_large *l = calloc(1, sizeof *l + len);
    if (!l)
        return NULL;
    l->next = w->large;
    if (w->large)
        w->large->prev = l;
    w->large = l;
    l->pkt.data = (uint8_t *)(l + 1);
    l->pkt.cap = (uint32_t)len;
    return &l->pkt;
}

static void large_free(sim_world *w, sim_packet *p)
{
    sim_large *l = SIM_CONTAINER_OF(p, sim_large, pkt);
    if (l->prev)
        l->prev->next = l->next;
    else
        w->large = l->next;
    if (l->next)
        l->next->prev = l->prev;
    free(l);
}

sim_packet *sim_packet_new(sim_world *w, size_t len)
{
    if (len > SIM_PACKET_MAX) {
        sim_world_fail(w, "packet of %zu bytes exceeds the largest datagram (%u bytes)", len,
                       SIM_PACKET_MAX);
        return NULL;
    }
    if (w->last_packet_id == UINT32_MAX) {
        sim_world_fail(w, "packet ids exhausted (%u packets made)", UINT32_MAX);
        return NULL;
    }
    sim_packet *p =
        len > SIM_PACKET_POOLED ? large_new(w, len) : pool_take(&w->pools[class_of(len)]);
    if (!p) {
        sim_world_fail(w, "out of memory for a packet of %zu bytes", len);
        return NULL;
    }
    sim_timer_init(&p->timer, NULL, NULL);
    p->next = NULL;
    p->id = ++w->last_packet_id;
    p->origin_id = p->id;
    p->len = (uint32_t)len;
    p->link_id = SIM_NO_ID;
    p->dir = 0;
    w->packets_in_use++;
    return p;
}

sim_packet *sim_packet_clone(sim_world *w, const sim_packet *p)
{
    sim_packet *c = sim_packet_new(w, p->len);
    if (!c)
        return NULL;
    memcpy(c->data, p->data, p->len);
    c->origin_id = p->origin_id;
    return c;
}

void sim_packet_free(sim_world *w, sim_packet *p)
{
    assert(p != NULL);
    assert(p->id != 0 && "packet freed twice");
    assert(!sim_timer_armed(&p->timer) && "freeing a packet that is in flight");
    assert(w->packets_in_use > 0);
    w->packets_in_use--;
    p->id = 0;
    if (p->cap > SIM_PACKET_POOLED) {
        large_free(w, p);
        return;
    }
    sim_pool *pool = &w->pools[class_of(p->cap)];
    assert(p->cap == pool->data_cap);
    p->next = pool->free;
    pool->free = p;
}

size_t sim_packets_in_use(const sim_world *w)
{
    return w->packets_in_use;
}

static uint32_t read_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

uint32_t sim_packet_src(const sim_packet *p)
{
    return p->len < 20 ? 0 : read_be32(p->data + 12);
}

uint32_t sim_packet_dst(const sim_packet *p)
{
    return p->len < 20 ? 0 : read_be32(p->data + 16);
}
