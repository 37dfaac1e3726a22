/*
 * sim_internal — the core's private structures and the functions its modules
 * share. Nothing outside sim/core/ includes this header.
 *
 * Invariants stated once here:
 *  1. Every packet is in exactly one of these places: a pool free list, a
 *     caller's hands, a link direction's held list, or the event queue (its
 *     embedded timer armed for delivery). Large packets (beyond the pooled
 *     size classes) are also on the world's `large` list while they exist.
 *  2. Hosts and links live in chunks that never move, so pointers to them stay
 *     valid until sim_world_free; ids are their creation indices.
 *  3. Only sim_world.c changes the clock, and only to the time of the event it
 *     is about to run (or, at the end of a timed run, to the instant asked for).
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_host.h"
#include "sim_link.h"
#include "sim_world.h"

#define SIM_NO_ID UINT32_MAX

/* The object that contains `ptr`, a pointer to its `member`. */
#define SIM_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- Hashing and the id index (sim_index.c) ------------------------- */

uint64_t sim_hash_name(const char *name); /* FNV-1a, 64 bits */
/* FNV-1a going on from h over name's bytes: the hash of a text made of
 * parts, sim_hash_name's of their concatenation, without building it. */
uint64_t sim_hash_name_on(uint64_t h, const char *name);
/* FNV-1a's 64-bit offset basis and prime: sim_hash_name, and the host
 * lookup's name hash, which must give the same whole-name hash. */
#define SIM_FNV1A_BASIS UINT64_C(0xcbf29ce484222325)
#define SIM_FNV1A_PRIME UINT64_C(0x100000001b3)
/* sim_hash_u64, the splitmix64 finaliser: sim_rng.h */

/*
 * An open-addressing set of ids (linear probing, at most half full). It keeps
 * only ids: the caller says how to hash an id and whether an id matches a
 * key, so one structure serves hosts by name, hosts by address and links by
 * host pair. Lookups never depend on where objects sit in memory.
 *
 * Ids are added in order, 0, 1, 2, ... (every host is in both host indexes,
 * every link in the link index, each added as it is made), so an index of n
 * ids holds exactly 0 to n - 1. Two things follow. Growth rehashes the ids
 * in that order, reading the objects in the order they were made, not in
 * the order of their slots. And with 2^k slots an id is below 2^(k - 1), so
 * id + 1 fits the slot's low k bits and the 32 - k bits above (at least
 * one: there are at most 2^31 slots) are free; they hold the same bits of
 * the high word of the id's hash, a tag recomputed on growth. A find calls
 * `match` only on ids whose tag agrees with the key's: a duplicate check
 * (a find that fails) seldom reads an object, a find that succeeds mostly
 * reads only the one it returns. The tag takes no memory.
 */
typedef struct sim_index {
    uint32_t *slots; /* sim_index_slot(mask, hash, id); 0 marks an empty slot */
    uint32_t mask;   /* slot count - 1 (a power of two), or 0 before the first add */
    uint32_t used;   /* ids 0 to used - 1 are in the index */
    uint64_t steps;  /* slots passed over by every placement so far, growth's
                      * included: how clustered the keys are, which tests
                      * bound (a count, unlike a time, the same everywhere) */
} sim_index;

#define SIM_INDEX_MAX_SLOTS ((uint32_t)1 << 31)
#define SIM_INDEX_MAX_IDS   (SIM_INDEX_MAX_SLOTS / 2)

/* A slot's content for `id` (below (mask + 1) / 2) whose hash is `hash`:
 * id + 1 in the bits of `mask`, the tag (the high word's bits above them)
 * in the rest; never 0. */
static inline uint32_t sim_index_slot(uint32_t mask, uint64_t hash, uint32_t id)
{
    return ((uint32_t)(hash >> 32) & ~mask) | (id + 1);
}

/* The id a non-empty slot holds. */
static inline uint32_t sim_index_slot_id(uint32_t mask, uint32_t slot)
{
    return (slot & mask) - 1;
}

/*
 * Keys often come in runs: hosts "c1", "c2", ... at 10.0.0.1, 10.0.0.2,
 * ..., linked id 2i to 2i + 1, added one after the other. A hash that
 * scatters a run's keys makes every find and every add of a large index a
 * cache miss of its own (at a million hosts the slots are megabytes); one
 * that puts a run's keys in neighbouring slots lets the next add find its
 * slots' line already read. sim_index_run_hash builds such a hash: `start`
 * hashes what the keys of a run share, `offset` (below SIM_INDEX_RUN) is a
 * key's place in its run, and `whole`, a hash of the whole key, gives the
 * high word, whence the tags. The slot a key goes to is then its run's
 * start plus its offset. The callers make sure that whatever the keys are,
 * at most SIM_INDEX_RUN keys share a start, each at its own offset, so a
 * run by itself fills at most its own eight slots. Starts of different runs
 * are hashed and meet as any hashes do: at the index's half load, runs that
 * land near each other join, and a find walks a few slots more than with
 * scattered keys (docs/core.md has the figures).
 *
 * The hashes are unkeyed (a key from the seed would not help: the seed is
 * in the scenario), so keys can be searched for offline whose homes all
 * meet, and each add would walk the whole pile: 100,000 such names pass
 * over 5 billion slots. So no id sits more than SIM_INDEX_MAX_WALK slots
 * past its home: an add that would is refused (sim_index_add returns -1,
 * its caller fails with an error naming the key), and a find stops after
 * that many, so no add or find walks more. Honest keys never come near
 * it: at half load the farthest of 2^24 ids in runs of eight sits some
 * 340 slots past its home, and the distance grows with the log of the
 * count. Growth keeps the bound: ids are placed again in the order they
 * were added, and with the same order no id lands farther from its home
 * in 2^(k+1) slots than in 2^k (every slot taken in the larger, folded
 * onto the smaller, is taken there too, so a walk in the smaller passes at
 * least as many).
 */
#define SIM_INDEX_MAX_WALK 2048u
#define SIM_INDEX_RUN_BITS 3u
#define SIM_INDEX_RUN      (1u << SIM_INDEX_RUN_BITS)

static inline uint64_t sim_index_run_hash(uint64_t whole, uint64_t start, uint32_t offset)
{
    return (whole & ~(uint64_t)UINT32_MAX) |
           (uint32_t)(start << SIM_INDEX_RUN_BITS | (offset & (SIM_INDEX_RUN - 1)));
}

/* The hashes the lookups file their keys under: hosts by name and by
 * address (sim_host.c), links by their ends' ids (sim_link.c). Declared
 * here so tests can choose keys that collide, as anyone can offline. */
uint64_t sim_host_name_hash(const char *name);
uint64_t sim_host_addr_hash(uint32_t addr);
uint64_t sim_link_pair_hash(uint32_t x, uint32_t y);
uint64_t sim_link_params_hash(const sim_link_params *p); /* the kept values' table */

typedef uint64_t (*sim_index_hash_fn)(const sim_world *w, uint32_t id);
typedef bool (*sim_index_match_fn)(const sim_world *w, uint32_t id, const void *key);

/* The id matching `key` (whose hash is `hash`), or SIM_NO_ID. `match` is
 * called only on ids whose hash agrees with `hash` in the tag bits. */
uint32_t sim_index_find(const sim_index *ix, uint64_t hash, sim_index_match_fn match,
                        const sim_world *w, const void *key);
/* Makes room for `count` ids in all, so the adds up to that count cannot
 * fail; growing calls `rehash` once on each id present, in id order.
 * Returns 0, or -1 when out of memory or `count` is past SIM_INDEX_MAX_IDS
 * (the index is unchanged). */
int sim_index_reserve(sim_index *ix, uint32_t count, sim_index_hash_fn rehash, const sim_world *w);
/* Adds `id`, which must be ix->used (ids come in order); room must have
 * been reserved. Returns 0, or -1 when the SIM_INDEX_MAX_WALK + 1 slots
 * from the hash's home are all taken (keys made to collide): the index is
 * unchanged but for `steps`, which counts the walk. */
int sim_index_add(sim_index *ix, uint64_t hash, uint32_t id);
/* Removes the id added last, whose hash is `hash`: the index is as it was
 * before that add. For a caller whose object fails after its add. */
void sim_index_drop_last(sim_index *ix, uint64_t hash);
void sim_index_free(sim_index *ix);

/* ---- Packets (sim_packet.c) ----------------------------------------- */

/* Size classes served from free lists, one per SIM_PACKET_STEP bytes of
 * data up to SIM_PACKET_POOLED (a 1,052-byte datagram takes a 1,088-byte
 * slot); larger packets are malloc'd. */
#define SIM_PACKET_STEP    64u
#define SIM_PACKET_POOLED  2048u
#define SIM_PACKET_CLASSES (SIM_PACKET_POOLED / SIM_PACKET_STEP)

typedef struct sim_pool {
    sim_packet *free;   /* free list through sim_packet.next */
    char *fresh;        /* the newest chunk's slots never handed out, or NULL */
    uint32_t nfresh;    /* how many of them */
    uint32_t data_cap;  /* bytes of data per packet in this class */
    uint32_t per_chunk; /* packets per chunk */
    void **chunks;      /* every chunk allocated, freed with the world */
    uint32_t nchunks, chunks_cap;
} sim_pool;

/* A packet larger than the pooled classes, with links for the world's list so
 * sim_world_free can find it wherever it is. Its data follows the struct. */
typedef struct sim_large {
    struct sim_large *prev, *next;
    sim_packet pkt;
} sim_large;

void sim_packets_init(sim_world *w);
void sim_packets_free_all(sim_world *w);

/* ---- Hosts and links (sim_host.c, sim_link.c) ----------------------- */

struct sim_host {
    sim_world *world;
    uint32_t id;
    uint32_t addr;
    sim_recv_fn recv;
    void *recv_ctx;
    const char *name; /* in the world's name chunks (sim_host.c): a name
                         takes its length, not SIM_NAME_MAX + 1 */
    /* The last route found by sim_host_send, or the first link added to
     * the host (sim_host_route_seed): packets to route_addr leave on link
     * route_link (SIM_NO_ID: none yet). Addresses, hosts and links never
     * change or go away, so a route once found stays right; a miss (no
     * route) is not kept, as a link may be added later. */
    uint32_t route_addr, route_link;
};

/* Called by sim_link_add on each end of a new link `link_id` to `to`: a
 * host without a route takes that one, the route sim_host_send would find
 * for to's address (one host an address, one link a pair), so a host's
 * first send to its first neighbour costs no lookup. A host with a route
 * keeps it. */
void sim_host_route_seed(sim_host *h, const sim_host *to, uint32_t link_id);

/* A direction's counters: the first SIM_DC_INLINE, which a loss-free
 * link moves, live in the direction (32 bits each, carried into 64 on
 * passing 2^32); the others, which only a fault, a duplicate, a reorder, a
 * corruption or a hold moves, in its rare part. */
typedef enum sim_dir_counter {
    SIM_DC_SENT,
    SIM_DC_DELIVERED,
    SIM_DC_BYTES_DELIVERED,
    SIM_DC_DROPPED_LOSS,
    SIM_DC_DROPPED_QUEUE,
    SIM_DC_INLINE, /* the count of the above */
    SIM_DC_DROPPED_MTU = SIM_DC_INLINE,
    SIM_DC_DROPPED_DOWN,
    SIM_DC_DROPPED_FAULT,
    SIM_DC_DUPLICATED,
    SIM_DC_REORDERED,
    SIM_DC_CORRUPTED,
    SIM_DC_HELD,
    SIM_DC_COUNT
} sim_dir_counter;

/* What few directions need: the random stream of a direction whose
 * parameters draw (sim_dir.draws), the packets a fault hook holds, the
 * rare counters (64 bits: they never carry), the inline counters' high
 * words and a fault hook other than the world's shared one (sim_dir.hook).
 * Made on first need (sim_dir_rare_of), freed with the world; a direction
 * without one holds nothing, has every rare counter at zero and every
 * inline one below 2^32. */
typedef struct sim_dir_rare {
    sim_rng rng; /* the stream "link:A>B", once made (sim_dir.rng_made) */
    uint64_t more[SIM_DC_COUNT - SIM_DC_INLINE]; /* counter c at more[c - SIM_DC_INLINE] */
    uint64_t carry[SIM_DC_INLINE];               /* multiples of 2^32 */
    sim_packet *held_head, *held_tail;           /* oldest first, through sim_packet.next */
    uint32_t held_count;
    sim_fault_fn fault; /* while hook is SIM_HOOK_OWN */
    void *fault_ctx;
} sim_dir_rare;

/* Where a direction's fault hook is. sim/net sets the same hook and
 * context on every direction of its world, so a hook is kept once in the
 * world (the first one set, sim_world.fault) and a direction says it uses
 * that one; a different one lives in the direction's rare part. */
enum { SIM_HOOK_NONE, SIM_HOOK_SHARED, SIM_HOOK_OWN };

/* One direction of a link. There is one link per host pair, so every byte
 * here is paid per pair: the parameters are the world's one copy of each
 * distinct value, the counters a loss-free link moves 32 bits each,
 * carried into 64 on the rare direction that passes 2^32 (sim_dir_count),
 * so they stay exact, and what only a fault or a carry needs is apart
 * (sim_dir_rare). */
typedef struct sim_dir {
    const sim_link_params *params; /* kept once per world (sim_link.c) */
    uint32_t count[SIM_DC_INLINE];
    bool in_hook; /* the fault hook is running: a packet sent here waits (promise 4) */
    uint8_t hook; /* SIM_HOOK_*: none, the world's, or the rare part's */
    /* The backlog ring's room, 2^backlog_bits instants (0: no ring yet).
     * These bytes fill in_hook's padding: a link is paid per pair. */
    uint8_t backlog_bits;
    bool rng_made; /* the stream is in the rare part */
    /* Draws the stream owes: a packet admitted while every probability
     * and the jitter are zero draws nothing (its five draws, one if the
     * queue drops it, could not change its fate) and counts them here;
     * the stream is made, and these draws made, when a packet's draws
     * can matter (sim_link.c, dir_stream), so every packet draws what it
     * drew from a stream made at the start. */
    uint32_t draws;
    sim_dir_rare *rare; /* NULL until needed (sim_dir_rare) */
    /* Serialisation: the instant the last accepted packet's last bit leaves,
     * and a ring of those instants for every packet still waiting or being
     * serialised (its length is the queue occupancy). */
    sim_time_t busy_until;
    sim_time_t *backlog;
    uint32_t backlog_head, backlog_len;
} sim_dir;

struct sim_link {
    sim_world *world;
    uint32_t id;
    sim_host *end[2];
    sim_dir dir[2];
};

/* A direction's rare part, made (zeroed) if it has none. */
sim_dir_rare *sim_dir_rare_of(sim_dir *d);
/* Adds `by` to counter c of a direction: the slow path of sim_dir_count
 * (a rare counter, or an inline one passing 2^32). */
void sim_dir_carry(sim_dir *d, sim_dir_counter c, uint32_t by);
static inline void sim_dir_count(sim_dir *d, sim_dir_counter c, uint32_t by)
{
    if (c < SIM_DC_INLINE && d->count[c] <= UINT32_MAX - by)
        d->count[c] += by;
    else
        sim_dir_carry(d, c, by);
}

/* A partition or heal scheduled with sim_link_set_up_at. */
typedef struct sim_link_change {
    sim_timer timer;
    sim_link *link;
    int dir;
    bool up;
    struct sim_link_change *prev, *next;
} sim_link_change;

/* The `code` of a SIM_TR_DELAY record: who added the delay. */
#define SIM_DELAY_FAULT   0u /* the fault hook (SIM_FAULT_DELAY) */
#define SIM_DELAY_REORDER 1u /* random reordering (reorder_ppb) */

#define SIM_HOST_CHUNK_SHIFT 10u /* 1024 hosts per chunk */
#define SIM_LINK_CHUNK_SHIFT 8u  /* 256 links per chunk */

/* Takes a packet a host sends on direction `dir` of `l` (after the SEND
 * record) through the pipeline documented in sim_link.h. */
void sim_link_enter(sim_link *l, int dir, sim_packet *p);
void sim_hosts_free_all(sim_world *w);
void sim_links_free_all(sim_world *w);

/* ---- The world ------------------------------------------------------ */

struct sim_world {
    uint64_t seed;
    sim_time_t now;
    uint64_t events;
    sim_queue *queue; /* opaque: sim_queue.c owns its layout */
    uint64_t max_events;
    sim_time_t max_time;
    bool running;
    bool stop_requested;

    sim_trace_fn trace_fn;
    void *trace_ctx;
    sim_flat trace_flat;      /* split packets' bytes shown to the sink */
    sim_draw_key_fn draw_key; /* NULL: every draw from its direction's stream */
    void *draw_key_ctx;
    sim_fault_fn fault; /* the fault hook directions share (SIM_HOOK_SHARED), once set */
    void *fault_ctx;

    /* Packets. */
    sim_pool pools[SIM_PACKET_CLASSES]; /* class c holds (c + 1) * SIM_PACKET_STEP bytes */
    sim_large *large;                   /* every live large packet */
    size_t packets_in_use;
    uint32_t last_packet_id;

    /* Hosts and links, in chunks that never move (invariant 2). */
    sim_host **host_chunks;
    uint32_t nhosts, host_nchunks, host_chunks_cap;
    char **name_chunks; /* the hosts' names, back to back, never moved */
    uint32_t name_nchunks, name_chunks_cap, name_used; /* used: of the newest */
    sim_index host_by_name, host_by_addr;
    sim_link **link_chunks;
    uint32_t nlinks, link_nchunks, link_chunks_cap;
    sim_index link_by_pair;
    sim_link_params **params_slots; /* each distinct parameter value once (NULL: empty) */
    uint32_t params_mask, nparams;  /* nparams: the values in the slots */
    uint64_t params_steps;          /* slots passed over finding or placing values */
    sim_link_change *changes;       /* scheduled partitions and heals not yet applied */

    char error[256];
};

/* True when a trace sink is set (building a record is skipped otherwise). */
static inline bool sim_tracing(const sim_world *w)
{
    return w->trace_fn != NULL;
}

/* a + b, or SIM_TIME_NEVER when that overflows. */
static inline sim_time_t sim_time_add(sim_time_t a, sim_time_t b)
{
    return a > SIM_TIME_NEVER - b ? SIM_TIME_NEVER : a + b;
}

/* Returns `arr` (elements of `size` bytes, capacity *cap) grown to hold at
 * least `need` (> 0) elements, updating *cap; or NULL when out of memory, the
 * array and *cap unchanged. */
void *sim_grow(void *arr, uint32_t *cap, uint32_t need, size_t size);

/* Writes a one-line message to err (when err_len > 0); returns -1. */
int sim_errf(char *err, size_t err_len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Out of memory where the contract leaves no way to report it: aborts. */
_Noreturn void sim_fatal_oom(const char *where);

#endif
