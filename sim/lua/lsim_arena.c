/*
 * lsim_arena — a heap for one Lua state that can be put back, byte for
 * byte, as it was at a moment (lsim_arena_seal): what lets a tool run one
 * scenario many times from the same state (lsim_keep_*, lsim_runtime.c)
 * without making a state each time.
 *
 * Two regions, and the invariant that makes the reset exact: after sealing,
 * every block the state holds lies in the image or in the run region.
 *  - The image: one block filled from its start while the state is made.
 *    A block of the image that is freed or moved is left where it is: its
 *    bytes are never handed out again, so after sealing the state's image
 *    blocks all lie in image[0, used), and the copy taken at sealing holds
 *    every one of them as it was.
 *  - The run region: every block asked for after sealing. Blocks of up to
 *    SMALL_MAX bytes come from 16-byte size classes carved out of CHUNK
 *    byte chunks (a freed block goes back to its class's list); larger ones
 *    from malloc, each on a list of its own.
 * A run writes into image blocks (Lua updates objects in place) and moves
 * or frees some of them (which leaves their bytes alone). lsim_arena_reset
 * releases the whole run region at once (no block by block free) and
 * copies the sealed image back over image[0, used): the state is then
 * exactly what it was at sealing, whatever ran since.
 *
 * Blocks are aligned as malloc's (max_align_t). The caller passes each
 * block's size back (osize), as Lua's allocator contract does.
 *
 * A pool (lsim_arena_pool) is an arena with an empty image, sealed at
 * once: only the run region, freed with the arena. A plain state's Lua
 * blocks come from one: Lua knows each block's size, so a size class needs
 * no header and no malloc_usable_size, a free is a push on its class's
 * list, and a script's objects of one size lie together; glibc's malloc
 * spent a quarter of a large build's time in its own bookkeeping
 * (docs/performance.md, "Lua's blocks from size classes").
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lsim.h"

#define ALIGN     ((size_t) _Alignof(max_align_t))
#define SMALL_MAX ((size_t)1024)
#define CLASSES   (SMALL_MAX / 16)
#define CHUNK     ((size_t)64 << 10)

/* A header that keeps the payload after it aligned as malloc's. */
typedef union arena_link {
    struct {
        union arena_link *prev, *next;
    } l;
    max_align_t align;
} arena_link;

typedef struct arena_free {
    struct arena_free *next;
} arena_free;

struct lsim_arena {
    char *image;        /* image[0, cap) */
    size_t used, cap;   /* bytes of the image handed out */
    char *saved;        /* image[0, used) as it was at sealing, or NULL before */
    arena_link *chunks; /* the run region's chunks (l.next only) */
    char *fresh;        /* the newest chunk's bytes not yet handed out */
    size_t nfresh;      /* how many */
    arena_free *free_of[CLASSES];
    arena_link big; /* the list of large run blocks (a ring through this head) */
    size_t heap;    /* bytes the run region holds from malloc, as the heap counts them */
};

lsim_arena *lsim_arena_new(size_t cap)
{
    lsim_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cap = cap - cap % ALIGN;
    a->image = malloc(a->cap);
    if (!a->image) {
        free(a);
        return NULL;
    }
    a->big.l.prev = a->big.l.next = &a->big;
    return a;
}

lsim_arena *lsim_arena_pool(void)
{
    lsim_arena *a = lsim_arena_new(0);
    if (a && lsim_arena_seal(a) != 0) {
        lsim_arena_free(a);
        return NULL;
    }
    return a;
}

static bool in_image(const lsim_arena *a, const void *p)
{
    uintptr_t u = (uintptr_t)p, lo = (uintptr_t)a->image;
    return u >= lo && u < lo + a->cap;
}

static size_t class_of(size_t n)
{
    return (n - 1) / 16; /* 1..16 -> 0, ..., 1009..1024 -> 63 */
}

static void *image_take(lsim_arena *a, size_t n)
{
    size_t step = (n + ALIGN - 1) / ALIGN * ALIGN;
    if (step < n || step > a->cap - a->used)
        return NULL;
    void *p = a->image + a->used;
    a->used += step;
    return p;
}

static void *small_take(lsim_arena *a, size_t n)
{
    size_t c = class_of(n), size = (c + 1) * 16;
    arena_free *f = a->free_of[c];
    if (f) {
        a->free_of[c] = f->next;
        return f;
    }
    if (a->nfresh < size) {
        arena_link *chunk = malloc(CHUNK);
        if (!chunk)
            return NULL;
        chunk->l.next = a->chunks;
        a->chunks = chunk;
        a->heap += lsim_heap_block(chunk);
        a->fresh = (char *)(chunk + 1);
        a->nfresh = CHUNK - sizeof *chunk;
    }
    void *p = a->fresh;
    a->fresh += size;
    a->nfresh -= size;
    return p;
}

static void small_give(lsim_arena *a, void *p, size_t n)
{
    arena_free *f = p;
    size_t c = class_of(n);
    f->next = a->free_of[c];
    a->free_of[c] = f;
}

static void big_link(lsim_arena *a, arena_link *b)
{
    b->l.prev = &a->big;
    b->l.next = a->big.l.next;
    b->l.next->l.prev = b;
    a->big.l.next = b;
    a->heap += lsim_heap_block(b);
}

static void big_unlink(lsim_arena *a, arena_link *b)
{
    b->l.prev->l.next = b->l.next;
    b->l.next->l.prev = b->l.prev;
    a->heap -= lsim_heap_block(b);
}

static void *big_take(lsim_arena *a, size_t n)
{
    if (n > SIZE_MAX - sizeof(arena_link))
        return NULL;
    arena_link *b = malloc(sizeof *b + n);
    if (!b)
        return NULL;
    big_link(a, b);
    return b + 1;
}

static void *take(lsim_arena *a, size_t n)
{
    if (!a->saved)
        return image_take(a, n);
    return n <= SMALL_MAX ? small_take(a, n) : big_take(a, n);
}

/* Frees a run block (an image block is left in place). */
static void give(lsim_arena *a, void *p, size_t n)
{
    if (!p || in_image(a, p))
        return;
    if (n <= SMALL_MAX) {
        small_give(a, p, n);
        return;
    }
    arena_link *b = (arena_link *)p - 1;
    big_unlink(a, b);
    free(b);
}

void *lsim_arena_realloc(lsim_arena *a, void *p, size_t osize, size_t nsize)
{
    if (nsize == 0) {
        give(a, p, osize);
        return NULL;
    }
    if (!p)
        return take(a, nsize);
    bool run = !in_image(a, p);
    if (run && osize <= SMALL_MAX && nsize <= SMALL_MAX && class_of(osize) == class_of(nsize))
        return p;
    if (run && osize > SMALL_MAX && nsize > SMALL_MAX) { /* moves with malloc's realloc */
        if (nsize > SIZE_MAX - sizeof(arena_link))
            return NULL;
        arena_link *b = (arena_link *)p - 1;
        big_unlink(a, b);
        arena_link *q = realloc(b, sizeof *q + nsize);
        big_link(a, q ? q : b); /* on failure the block stays as it was */
        return q ? q + 1 : NULL;
    }
    void *q = take(a, nsize);
    if (!q)
        return NULL; /* p is untouched, as Lua expects */
    memcpy(q, p, osize < nsize ? osize : nsize);
    give(a, p, osize);
    return q;
}

int lsim_arena_seal(lsim_arena *a)
{
    a->saved = malloc(a->used ? a->used : 1);
    if (!a->saved)
        return -1;
    memcpy(a->saved, a->image, a->used);
    return 0;
}

void lsim_arena_reset(lsim_arena *a)
{
    while (a->chunks) {
        arena_link *next = a->chunks->l.next;
        free(a->chunks);
        a->chunks = next;
    }
    a->fresh = NULL;
    a->nfresh = 0;
    memset(a->free_of, 0, sizeof a->free_of);
    while (a->big.l.next != &a->big) {
        arena_link *b = a->big.l.next;
        a->big.l.next = b->l.next;
        free(b);
    }
    a->big.l.prev = &a->big;
    a->heap = 0;
    if (a->saved)
        memcpy(a->image, a->saved, a->used);
}

size_t lsim_arena_heap(const lsim_arena *a)
{
    return a->heap;
}

void lsim_arena_free(lsim_arena *a)
{
    if (!a)
        return;
    lsim_arena_reset(a);
    free(a->saved);
    free(a->image);
    free(a);
}
