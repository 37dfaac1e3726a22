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
 *
 * A packet whose bytes are lent (sim_packet_new_lent) takes a slot of the
 * smallest class for its header only, and keeps the lender's release
 * callback in that slot's unused data area (so sim_packet grows by
 * nothing); its data points at the lender's bytes until the packet is
 * freed or made writable, and a freed world hands every such packet still
 * alive back to its lender.
 *
 * A split packet (sim_packet_new_split) takes a slot for its head and,
 * after the head (8-byte aligned), a split_ref naming its tail: a 52-byte
 * head and a 1,000-byte tail take a 128-byte slot, not a 1,088-byte one.
 * Its tail needs no release; nothing is kept past the packet's free.
 */
#include "sim_packet.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Where a lent packet keeps its lender's callback: its slot's own data
 * area, which it does not use (class 0 holds SIM_PACKET_STEP bytes). */
typedef struct lent_ref {
    void (*release)(void *owner);
    void *owner;
} lent_ref;

static lent_ref *lent_of(sim_packet *p)
{
    return (lent_ref *)(void *)(p + 1);
}

/* Gives a lent packet's bytes back to their lender. */
static void lent_release(sim_packet *p)
{
    lent_ref *r = lent_of(p);
    r->release(r->owner);
}

/* Where a split packet names its tail: the start of its slot's data
 * area, the head following (data points past it). */
typedef struct split_ref {
    const uint8_t *tail;
    uint32_t hlen;
} split_ref;

#define SPLIT_REF_BYTES ((sizeof(split_ref) + 15) & ~(size_t)15)

static split_ref *split_of(const sim_packet *p)
{
    assert(p->split);
    return (split_ref *)(void *)(p + 1);
}

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

/* Every lent packet still alive gives its bytes back. Lent packets live
 * in class 0; a slot handed out and not freed has a nonzero id (the
 * newest chunk's untouched slots are not read). */
static void release_lent(sim_pool *pool)
{
    for (uint32_t i = 0; i < pool->nchunks; i++) {
        uint32_t used = i + 1 == pool->nchunks ? pool->per_chunk - pool->nfresh : pool->per_chunk;
        for (uint32_t k = 0; k < used; k++) {
            sim_packet *p = (sim_packet *)(void *)((char *)pool->chunks[i] + k * stride(pool));
            if (p->id != 0 && p->lent)
                lent_release(p);
        }
    }
}

void sim_packets_free_all(sim_world *w)
{
    release_lent(&w->pools[0]);
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

/* Storage for `len` bytes of data (`len` 0 for a lent packet's header),
 * fields reset, no id yet; NULL when out of memory. */
static sim_packet *slot_new(sim_world *w, size_t len)
{
    sim_packet *p =
        len > SIM_PACKET_POOLED ? large_new(w, len) : pool_take(&w->pools[class_of(len)]);
    if (!p)
        return NULL;
    sim_timer_init(&p->timer, NULL, NULL);
    p->next = NULL;
    p->len = (uint32_t)len;
    p->link_id = SIM_NO_ID;
    p->dir = 0;
    p->lent = 0;
    p->split = 0;
    return p;
}

/* Gives a slot back to its class (or frees a large packet). */
static void slot_free(sim_world *w, sim_packet *p)
{
    p->id = 0;
    if (p->cap > SIM_PACKET_POOLED) {
        large_free(w, p);
        return;
    }
    sim_pool *pool = &w->pools[class_of(p->cap)];
    assert(p->cap == pool->data_cap);
    if (p->lent) /* its release (a function and the owner) must not reach the next packet */
        memset(lent_of(p), 0, sizeof(lent_ref));
    p->data = (uint8_t *)(p + 1); /* a lent or split packet's slot keeps its own data area */
    p->next = pool->free;
    pool->free = p;
}

static bool packet_check(sim_world *w, size_t len)
{
    if (len > SIM_PACKET_MAX) {
        sim_world_fail(w, "packet of %zu bytes exceeds the largest datagram (%u bytes)", len,
                       SIM_PACKET_MAX);
        return false;
    }
    if (w->last_packet_id == UINT32_MAX) {
        sim_world_fail(w, "packet ids exhausted (%u packets made)", UINT32_MAX);
        return false;
    }
    return true;
}

static sim_packet *packet_make(sim_world *w, size_t len, size_t own)
{
    if (!packet_check(w, len))
        return NULL;
    sim_packet *p = slot_new(w, own);
    if (!p) {
        sim_world_fail(w, "out of memory for a packet of %zu bytes", len);
        return NULL;
    }
    p->id = ++w->last_packet_id;
    p->origin_id = p->id;
    p->len = (uint32_t)len;
    w->packets_in_use++;
    return p;
}

sim_packet *sim_packet_new(sim_world *w, size_t len)
{
    return packet_make(w, len, len);
}

sim_packet *sim_packet_new_lent(sim_world *w, const uint8_t *data, size_t len,
                                void (*release)(void *owner), void *owner)
{
    assert(release != NULL);
    sim_packet *p = packet_make(w, len, 0);
    if (!p) {
        release(owner);
        return NULL;
    }
    _Static_assert(sizeof(lent_ref) <= SIM_PACKET_STEP, "a lent packet's slot holds its release");
    *lent_of(p) = (lent_ref){release, owner};
    p->data = (uint8_t *)(uintptr_t)data; /* read-only: writers go through sim_packet_writable */
    p->lent = 1;
    return p;
}

sim_packet *sim_packet_new_split(sim_world *w, const uint8_t *head, size_t hlen,
                                 const uint8_t *tail, size_t tlen)
{
    if (tlen == 0) {
        sim_packet *p = sim_packet_new(w, hlen);
        if (p && hlen)
            memcpy(p->data, head, hlen);
        return p;
    }
    if (hlen > SIM_PACKET_MAX || tlen > SIM_PACKET_MAX - hlen) {
        /* Not packet_check(hlen + tlen): the sum may wrap to a small length. */
        sim_world_fail(w, "packet of %zu + %zu bytes exceeds the largest datagram (%u bytes)", hlen,
                       tlen, SIM_PACKET_MAX);
        return NULL;
    }
    sim_packet *p = packet_make(w, hlen + tlen, SPLIT_REF_BYTES + hlen);
    if (!p)
        return NULL;
    p->split = 1;
    *split_of(p) = (split_ref){tail, (uint32_t)hlen};
    p->data = (uint8_t *)(p + 1) + SPLIT_REF_BYTES;
    if (hlen) /* head may be NULL then: memcpy's arguments must not be */
        memcpy(p->data, head, hlen);
    return p;
}

size_t sim_packet_head_len(const sim_packet *p)
{
    return p->split ? split_of(p)->hlen : p->len;
}

void sim_packet_copy_out(const sim_packet *p, size_t off, uint8_t *dst, size_t n)
{
    assert(off + n <= p->len);
    size_t hlen = sim_packet_head_len(p);
    size_t from_head = off < hlen ? (hlen - off < n ? hlen - off : n) : 0;
    if (from_head)
        memcpy(dst, p->data + off, from_head);
    if (n > from_head)
        memcpy(dst + from_head, split_of(p)->tail + (off + from_head - hlen), n - from_head);
}

const uint8_t *sim_flat_bytes(sim_flat *f, const sim_packet *p)
{
    if (!p->split)
        return p->data;
    uint8_t *buf = sim_grow(f->buf, &f->cap, p->len, 1);
    if (!buf)
        return NULL;
    f->buf = buf;
    sim_packet_copy_out(p, 0, f->buf, p->len);
    return f->buf;
}

void sim_flat_free(sim_flat *f)
{
    free(f->buf);
    *f = (sim_flat){0};
}

sim_packet *sim_packet_writable(sim_world *w, sim_packet *p)
{
    assert(!sim_timer_armed(&p->timer) && "copying a packet that is in flight");
    if (!p->lent && !p->split)
        return p;
    sim_packet *c = slot_new(w, p->len);
    if (!c) {
        sim_world_fail(w, "out of memory for a packet of %u bytes", p->len);
        return NULL;
    }
    sim_packet_copy_out(p, 0, c->data, p->len);
    c->id = p->id;
    c->origin_id = p->origin_id;
    c->link_id = p->link_id;
    c->dir = p->dir;
    if (p->lent)
        lent_release(p);
    slot_free(w, p);
    return c;
}

sim_packet *sim_packet_clone(sim_world *w, const sim_packet *p)
{
    sim_packet *c;
    if (p->split) {
        size_t hlen = sim_packet_head_len(p);
        c = sim_packet_new_split(w, p->data, hlen, split_of(p)->tail, p->len - hlen);
    } else {
        c = sim_packet_new(w, p->len);
        if (c)
            memcpy(c->data, p->data, p->len);
    }
    if (c)
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
    if (p->lent)
        lent_release(p);
    slot_free(w, p);
}

size_t sim_packets_in_use(const sim_world *w)
{
    return w->packets_in_use;
}

static uint32_t read_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* The 32-bit field at off (off + 4 <= len), wherever its bytes lie. */
static uint32_t field_be32(const sim_packet *p, size_t off)
{
    if (off + 4 <= sim_packet_head_len(p))
        return read_be32(p->data + off);
    uint8_t b[4];
    sim_packet_copy_out(p, off, b, sizeof b);
    return read_be32(b);
}

uint32_t sim_packet_src(const sim_packet *p)
{
    return p->len < 20 ? 0 : field_be32(p, 12);
}

uint32_t sim_packet_dst(const sim_packet *p)
{
    return p->len < 20 ? 0 : field_be32(p, 16);
}
