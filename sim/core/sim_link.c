/*
 * sim_link — point-to-point links and the per-direction packet pipeline
 * documented in sim_link.h (down, MTU, fault hook, loss, queue,
 * serialisation and delay, duplication, corruption, delivery).
 *
 * Promises:
 *  1. A packet's fate on a direction is decided when it is admitted (step 4
 *     on): its random draws come from one stream, in a fixed order (loss,
 *     jitter, reorder, duplicate, corrupt [bit], and for a clone corrupt
 *     [bit]), one draw each. By default that stream is the direction's own,
 *     so a packet's fate depends only on the seed, the link's host names and
 *     the packets admitted before it; with a draw key (sim_link.h, keyed
 *     draws) it is the key's own, so the fate depends only on the seed, the
 *     host names and the key. Draws that cannot change a fate (every
 *     probability and the jitter zero) are owed and made later, when the
 *     direction's stream is first needed (dir_stream): the same numbers.
 *  2. Serialisation is FIFO: a packet's last bit leaves at
 *     max(now, previous departure) + ceil(len * 8 * 1e9 / bandwidth) ns.
 *  3. Parameters apply to packets entering after the change; packets in
 *     flight or held keep the fate already decided (or, if held, the
 *     parameters in force when they are released).
 *  4. A fault hook may send on its own direction, change the link (up,
 *     down, parameters) or release held packets: a packet it sends enters
 *     the direction as a new event at the same instant, after the packet
 *     the hook is deciding for, so no walk ever runs inside another.
 */
#include "sim_link.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define LINKS_PER_CHUNK (1u << SIM_LINK_CHUNK_SHIFT)

/* The longest delay, jitter or reorder delay a direction accepts. */
#define LINK_DURATION_MAX (24 * SIM_H)

/* ---- Parameters ----------------------------------------------------- */

void sim_link_params_default(sim_link_params *p)
{
    *p = (sim_link_params){.mtu = 1500, .up = true};
}

/* A probability in ppb written back as the decimal a user would type. */
static void format_ppb(uint32_t ppb, char *buf, size_t len)
{
    uint32_t whole = ppb / SIM_PPB_ONE, frac = ppb % SIM_PPB_ONE;
    int digits = 9;
    if (frac == 0) {
        snprintf(buf, len, "%" PRIu32, whole);
        return;
    }
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(buf, len, "%" PRIu32 ".%0*" PRIu32, whole, digits, frac);
}

static int check_prob(const char *name, uint32_t ppb, char *err, size_t err_len)
{
    if (ppb <= SIM_PPB_ONE)
        return 0;
    char v[24];
    format_ppb(ppb, v, sizeof v);
    return sim_errf(err, err_len, "%s must be in [0,1], got %s", name, v);
}

static int check_duration(const char *name, sim_time_t ns, char *err, size_t err_len)
{
    if (ns <= LINK_DURATION_MAX)
        return 0;
    char v[32], max[32];
    sim_duration_format(ns, v, sizeof v);
    sim_duration_format(LINK_DURATION_MAX, max, sizeof max);
    return sim_errf(err, err_len, "%s must be at most %s, got %s", name, max, v);
}

int sim_link_params_check(const sim_link_params *p, char *err, size_t err_len)
{
    if (p->mtu < 68 || p->mtu > SIM_PACKET_MAX)
        return sim_errf(err, err_len, "mtu must be in [68,%u], got %" PRIu32, SIM_PACKET_MAX,
                        p->mtu);
    if (check_prob("loss", p->loss_ppb, err, err_len) != 0 ||
        check_prob("duplicate", p->duplicate_ppb, err, err_len) != 0 ||
        check_prob("reorder", p->reorder_ppb, err, err_len) != 0 ||
        check_prob("corrupt", p->corrupt_ppb, err, err_len) != 0 ||
        check_duration("delay", p->delay_ns, err, err_len) != 0 ||
        check_duration("jitter", p->jitter_ns, err, err_len) != 0 ||
        check_duration("reorder_delay", p->reorder_delay_ns, err, err_len) != 0)
        return -1;
    if (p->reorder_ppb > 0 && p->reorder_delay_ns == 0)
        return sim_errf(err, err_len,
                        "reorder_delay must be above 0 when reorder is above 0 (a reordered "
                        "packet is held back by reorder_delay)");
    return 0;
}

/* ---- Parameters kept once ------------------------------------------ */

/* Field by field: the struct has padding, whose bytes are not the value. */
uint64_t sim_link_params_hash(const sim_link_params *p)
{
    uint64_t h = sim_hash_u64(p->delay_ns);
    h = sim_hash_u64(h ^ p->jitter_ns);
    h = sim_hash_u64(h ^ p->bandwidth_bps);
    h = sim_hash_u64(h ^ ((uint64_t)p->queue_packets << 32 | p->mtu));
    h = sim_hash_u64(h ^ ((uint64_t)p->loss_ppb << 32 | p->duplicate_ppb));
    h = sim_hash_u64(h ^ ((uint64_t)p->reorder_ppb << 32 | p->corrupt_ppb));
    h = sim_hash_u64(h ^ p->reorder_delay_ns);
    return sim_hash_u64(h ^ p->up);
}

static bool params_equal(const sim_link_params *a, const sim_link_params *b)
{
    return a->delay_ns == b->delay_ns && a->jitter_ns == b->jitter_ns &&
           a->bandwidth_bps == b->bandwidth_bps && a->queue_packets == b->queue_packets &&
           a->mtu == b->mtu && a->loss_ppb == b->loss_ppb && a->duplicate_ppb == b->duplicate_ppb &&
           a->reorder_ppb == b->reorder_ppb && a->reorder_delay_ns == b->reorder_delay_ns &&
           a->corrupt_ppb == b->corrupt_ppb && a->up == b->up;
}

/* A kept value, how many directions point at it, and whether it is in
 * the table: the slots hold &v, the first member, so a slot's pointer is
 * also its entry's.
 *
 * The hash is unkeyed, so values can be searched for offline whose slots
 * all meet (delays differing in the nanoseconds), and each link made with
 * one would walk past all the others. So no value in the table sits more
 * than SIM_INDEX_MAX_WALK slots past its home (as in sim_index): a value
 * that would is kept apart, unshared and out of the table (listed false),
 * which changes nothing but the memory it takes; finds stop after that
 * many slots, deletion's shift too. Honest values never come near it. */
typedef struct params_entry {
    sim_link_params v;
    uint32_t refs;
    bool listed;
} params_entry;

static params_entry *entry_of(const sim_link_params *p)
{
    return (params_entry *)(uintptr_t)p;
}

/* Rehashes into twice the slots (at most half full), in slot order; a
 * value that would land past the walk's bound is kept apart instead. */
static int params_grow(sim_world *w)
{
    uint32_t cap = w->params_mask ? (w->params_mask + 1) * 2 : 16;
    sim_link_params **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; w->params_mask && i <= w->params_mask; i++) {
        sim_link_params *p = w->params_slots[i];
        if (!p)
            continue;
        uint32_t j = (uint32_t)sim_link_params_hash(p) & (cap - 1), walked = 0;
        for (; slots[j] && walked <= SIM_INDEX_MAX_WALK; walked++)
            j = (j + 1) & (cap - 1);
        w->params_steps += walked;
        if (walked <= SIM_INDEX_MAX_WALK) {
            slots[j] = p;
        } else {
            entry_of(p)->listed = false;
            w->nparams--;
        }
    }
    free(w->params_slots);
    w->params_slots = slots;
    w->params_mask = cap - 1;
    return 0;
}

/* The world's one copy of a value equal to *p, made on first use (kept
 * apart when its slots are crowded); NULL when out of memory. It lives
 * while a direction points at it (params_point): a script setting a
 * million distinct values keeps only those in use. */
static const sim_link_params *params_keep(sim_world *w, const sim_link_params *p)
{
    if ((w->nparams + 1) * 2 > w->params_mask + 1 && params_grow(w) != 0)
        return NULL;
    uint32_t j = (uint32_t)sim_link_params_hash(p) & w->params_mask, walked = 0;
    for (; w->params_slots[j] && walked <= SIM_INDEX_MAX_WALK; walked++) {
        if (params_equal(w->params_slots[j], p)) {
            w->params_steps += walked;
            return w->params_slots[j];
        }
        j = (j + 1) & w->params_mask;
    }
    w->params_steps += walked;
    params_entry *e = malloc(sizeof *e);
    if (!e)
        return NULL;
    e->v = *p;
    e->refs = 0;
    e->listed = walked <= SIM_INDEX_MAX_WALK;
    if (e->listed) {
        w->params_slots[j] = &e->v;
        w->nparams++;
    }
    return &e->v;
}

/* Takes kept out of the table and frees it. Backward-shift deletion: each
 * later entry of the probe run moves into the hole unless its home slot
 * lies cyclically in (hole, its slot], so every lookup still finds it. An
 * entry more than SIM_INDEX_MAX_WALK past the hole would have to sit
 * farther than that from its home to move, so the shift stops there. */
static void params_drop(sim_world *w, const sim_link_params *kept)
{
    if (!entry_of(kept)->listed) {
        free(entry_of(kept));
        return;
    }
    uint32_t m = w->params_mask, i = (uint32_t)sim_link_params_hash(kept) & m;
    while (w->params_slots[i] != kept)
        i = (i + 1) & m;
    for (uint32_t j = i;;) {
        j = (j + 1) & m;
        sim_link_params *q = w->params_slots[j];
        if (!q || ((j - i) & m) > SIM_INDEX_MAX_WALK)
            break;
        uint32_t home = (uint32_t)sim_link_params_hash(q) & m;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        w->params_slots[i] = q;
        i = j;
    }
    w->params_slots[i] = NULL;
    w->nparams--;
    free(entry_of(kept));
}

/* Points *at (a direction's parameters, or NULL) at kept, counting the
 * value it leaves and freeing it when no direction points at it. */
static void params_point(sim_world *w, const sim_link_params **at, const sim_link_params *kept)
{
    entry_of(kept)->refs++;
    const sim_link_params *old = *at;
    *at = kept;
    if (old && --entry_of(old)->refs == 0)
        params_drop(w, old);
}

static void params_free_all(sim_world *w)
{
    for (uint32_t i = 0; w->params_mask && i <= w->params_mask; i++)
        if (w->params_slots[i])
            free(entry_of(w->params_slots[i]));
    free(w->params_slots);
    w->params_slots = NULL;
    w->params_mask = w->nparams = 0;
}

/* ---- Counters ------------------------------------------------------- */

sim_dir_rare *sim_dir_rare_of(sim_dir *d)
{
    if (!d->rare && !(d->rare = calloc(1, sizeof *d->rare)))
        sim_fatal_oom("a link direction's held packets and counters");
    return d->rare;
}

void sim_dir_carry(sim_dir *d, sim_dir_counter c, uint32_t by)
{
    if (c >= SIM_DC_INLINE) {
        sim_dir_rare_of(d)->more[c - SIM_DC_INLINE] += by;
        return;
    }
    sim_dir_rare_of(d)->carry[c] += (uint64_t)1 << 32;
    d->count[c] += by; /* wraps: the 2^32 just carried */
}

sim_link_stats sim_link_stats_get(const sim_link *l, int dir)
{
    assert(dir == 0 || dir == 1);
    const sim_dir *d = &l->dir[dir];
    uint64_t v[SIM_DC_COUNT];
    for (int c = 0; c < SIM_DC_COUNT; c++)
        if (c < SIM_DC_INLINE)
            v[c] = d->count[c] + (d->rare ? d->rare->carry[c] : 0);
        else
            v[c] = d->rare ? d->rare->more[c - SIM_DC_INLINE] : 0;
    return (sim_link_stats){
        .sent = v[SIM_DC_SENT],
        .delivered = v[SIM_DC_DELIVERED],
        .dropped_loss = v[SIM_DC_DROPPED_LOSS],
        .dropped_queue = v[SIM_DC_DROPPED_QUEUE],
        .dropped_mtu = v[SIM_DC_DROPPED_MTU],
        .dropped_down = v[SIM_DC_DROPPED_DOWN],
        .dropped_fault = v[SIM_DC_DROPPED_FAULT],
        .duplicated = v[SIM_DC_DUPLICATED],
        .reordered = v[SIM_DC_REORDERED],
        .corrupted = v[SIM_DC_CORRUPTED],
        .held = v[SIM_DC_HELD],
        .bytes_delivered = v[SIM_DC_BYTES_DELIVERED],
    };
}

/* ---- Links ---------------------------------------------------------- */

sim_link *sim_link_by_id(const sim_world *w, uint32_t id)
{
    if (id >= w->nlinks)
        return NULL;
    return &w->link_chunks[id >> SIM_LINK_CHUNK_SHIFT][id & (LINKS_PER_CHUNK - 1)];
}

/* Pairs run by their ends' ids (sim_index_run_hash): links between hosts
 * made one after the other (2i to 2i + 1, i to i + 1) share a start while
 * both ids agree above their low three bits and the ids differ by the same
 * amount in those bits; the lower id's low bits are the offset. The
 * difference is part of the start so that, as for names and addresses, at
 * most eight pairs share a start, each at its own offset: with the ends'
 * high bits alone, the 64 links between two runs of eight hosts (a mesh)
 * would pile eight deep on each offset, and a mesh of a million links
 * would walk some 57 slots an add instead of 4. */
uint64_t sim_link_pair_hash(uint32_t x, uint32_t y)
{
    uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
    uint64_t apart = (hi - lo) & (SIM_INDEX_RUN - 1);
    uint64_t start = (lo >> SIM_INDEX_RUN_BITS) << (32 + SIM_INDEX_RUN_BITS) |
                     (hi >> SIM_INDEX_RUN_BITS) << SIM_INDEX_RUN_BITS | apart;
    return sim_index_run_hash(sim_hash_u64(lo << 32 | hi), sim_hash_u64(start), (uint32_t)lo);
}

static uint64_t rehash_link(const sim_world *w, uint32_t id)
{
    const sim_link *l = sim_link_by_id(w, id);
    return sim_link_pair_hash(l->end[0]->id, l->end[1]->id);
}

int sim_link_reserve(sim_world *w, uint32_t links)
{
    assert(w != NULL);
    return sim_index_reserve(&w->link_by_pair, links, rehash_link, w);
}

typedef struct host_pair {
    uint32_t x, y;
} host_pair;

static bool match_pair(const sim_world *w, uint32_t id, const void *key)
{
    const sim_link *l = sim_link_by_id(w, id);
    const host_pair *k = key;
    uint32_t a = l->end[0]->id, b = l->end[1]->id;
    return (a == k->x && b == k->y) || (a == k->y && b == k->x);
}

sim_link *sim_link_between(const sim_world *w, const sim_host *from, const sim_host *to)
{
    host_pair k = {from->id, to->id};
    uint32_t id = sim_index_find(&w->link_by_pair, sim_link_pair_hash(k.x, k.y), match_pair, w, &k);
    return id == SIM_NO_ID ? NULL : sim_link_by_id(w, id);
}

uint32_t sim_link_count(const sim_world *w)
{
    return w->nlinks;
}

uint32_t sim_link_id(const sim_link *l)
{
    return l->id;
}

sim_host *sim_link_host(const sim_link *l, int end)
{
    assert(end == 0 || end == 1);
    return l->end[end];
}

int sim_link_dir_from(const sim_link *l, const sim_host *from)
{
    if (from == l->end[0])
        return 0;
    if (from == l->end[1])
        return 1;
    return -1;
}

static sim_link *link_slot(sim_world *w, uint32_t id)
{
    uint32_t chunk = id >> SIM_LINK_CHUNK_SHIFT;
    if (chunk >= w->link_nchunks) {
        sim_link **chunks =
            sim_grow(w->link_chunks, &w->link_chunks_cap, chunk + 1, sizeof *chunks);
        if (!chunks)
            return NULL;
        w->link_chunks = chunks;
        /* Each slot is zeroed when handed out, not the whole chunk: a
         * world of two links would clear 140 KiB. */
        chunks[chunk] = malloc(LINKS_PER_CHUNK * sizeof(sim_link));
        if (!chunks[chunk])
            return NULL;
        w->link_nchunks++;
    }
    sim_link *l = &w->link_chunks[chunk][id & (LINKS_PER_CHUNK - 1)];
    memset(l, 0, sizeof *l);
    return l;
}

/* A direction starts with no stream: dir_stream makes it when a packet's
 * draws first can matter. */
static void dir_init(sim_world *w, sim_dir *dir, const sim_link_params *kept)
{
    memset(dir, 0, sizeof *dir);
    params_point(w, &dir->params, kept);
}

int sim_link_add(sim_world *w, sim_host *a, sim_host *b, const sim_link_params *ab,
                 const sim_link_params *ba, sim_link **out)
{
    assert(a != NULL && b != NULL && ab != NULL && ba != NULL);
    assert(a->world == w && b->world == w);
    char err[200];
    if (a == b)
        return sim_world_fail(w, "a link joins two different hosts, got %s twice", a->name);
    if (sim_link_between(w, a, b))
        return sim_world_fail(w, "hosts %s and %s are already linked", a->name, b->name);
    if (sim_link_params_check(ab, err, sizeof err) != 0)
        return sim_world_fail(w, "link %s>%s: %s", a->name, b->name, err);
    if (sim_link_params_check(ba, err, sizeof err) != 0)
        return sim_world_fail(w, "link %s>%s: %s", b->name, a->name, err);
    if (w->nlinks == SIM_NO_ID - 1)
        return sim_world_fail(w, "too many links");
    uint32_t id = w->nlinks;
    sim_link *l = NULL;
    if (sim_index_reserve(&w->link_by_pair, id + 1, rehash_link, w) != 0 || !(l = link_slot(w, id)))
        return sim_world_fail(w, "out of memory adding a link between %s and %s", a->name, b->name);
    /* Filed first: a refused pair leaves no kept parameters behind. */
    uint64_t hash = sim_link_pair_hash(a->id, b->id);
    if (sim_index_add(&w->link_by_pair, hash, id) != 0)
        return sim_world_fail(w,
                              "link %s-%s: too many links hash next to this pair (over %u in a row "
                              "in the link lookup: pairs chosen to collide are refused)",
                              a->name, b->name, SIM_INDEX_MAX_WALK);
    const sim_link_params *kab = params_keep(w, ab), *kba = kab ? params_keep(w, ba) : NULL;
    if (!kba) {
        if (kab && entry_of(kab)->refs == 0) /* made for this link alone */
            params_drop(w, kab);
        sim_index_drop_last(&w->link_by_pair, hash);
        return sim_world_fail(w, "out of memory adding a link between %s and %s", a->name, b->name);
    }
    l->world = w;
    l->id = id;
    l->end[0] = a;
    l->end[1] = b;
    dir_init(w, &l->dir[0], kab);
    dir_init(w, &l->dir[1], kba);
    w->nlinks++;
    sim_host_route_seed(a, b, id);
    sim_host_route_seed(b, a, id);
    if (out)
        *out = l;
    return 0;
}

void sim_links_free_all(sim_world *w)
{
    for (uint32_t i = 0; i < w->nlinks; i++) {
        sim_link *l = sim_link_by_id(w, i);
        for (int d = 0; d < 2; d++) {
            free(l->dir[d].backlog);
            free(l->dir[d].rare);
            params_entry *e = entry_of(l->dir[d].params);
            if (!e->listed && --e->refs == 0) /* the table's are freed below */
                free(e);
        }
    }
    params_free_all(w);
    while (w->changes) {
        sim_link_change *next = w->changes->next;
        free(w->changes);
        w->changes = next;
    }
    for (uint32_t i = 0; i < w->link_nchunks; i++)
        free(w->link_chunks[i]);
    free(w->link_chunks);
    sim_index_free(&w->link_by_pair);
    w->link_chunks = NULL;
    w->nlinks = w->link_nchunks = w->link_chunks_cap = 0;
}

const sim_link_params *sim_link_params_get(const sim_link *l, int dir)
{
    assert(dir == 0 || dir == 1);
    return l->dir[dir].params;
}

int sim_link_params_set(sim_link *l, int dir, const sim_link_params *p)
{
    assert(dir == 0 || dir == 1);
    char err[200];
    if (sim_link_params_check(p, err, sizeof err) != 0)
        return sim_world_fail(l->world, "link %s>%s: %s", l->end[dir]->name, l->end[1 - dir]->name,
                              err);
    sim_link_params v = *p;
    v.up = l->dir[dir].params->up;
    const sim_link_params *kept = params_keep(l->world, &v);
    if (!kept)
        return sim_world_fail(l->world, "out of memory setting link %s>%s", l->end[dir]->name,
                              l->end[1 - dir]->name);
    params_point(l->world, &l->dir[dir].params, kept);
    sim_link_set_up(l, dir, p->up); /* traces the change, if any */
    return 0;
}

/* ---- Trace records -------------------------------------------------- */

/* A record about packet p on direction d, naming the sending host. */
static sim_trace_rec packet_rec(const sim_link *l, int d, sim_trace_kind kind, const sim_packet *p)
{
    return (sim_trace_rec){
        .kind = kind,
        .host_id = l->end[d]->id,
        .link_id = l->id,
        .dir = (uint8_t)d,
        .packet_id = p->id,
        .origin_id = p->origin_id,
    }; /* bytes and len: sim_world_trace_packet */
}

static void trace_packet(sim_link *l, int d, sim_trace_kind kind, const sim_packet *p,
                         uint64_t value_ns, uint32_t code)
{
    if (!sim_tracing(l->world))
        return;
    sim_trace_rec rec = packet_rec(l, d, kind, p);
    rec.value_ns = value_ns;
    rec.code = code;
    sim_world_trace_packet(l->world, &rec, p);
}

/* Counts, traces and frees a packet dropped on direction d. */
static void drop(sim_link *l, int d, sim_packet *p, sim_drop_reason reason)
{
    sim_dir *dir = &l->dir[d];
    switch (reason) {
    case SIM_DROP_LOSS:
        sim_dir_count(dir, SIM_DC_DROPPED_LOSS, 1);
        break;
    case SIM_DROP_QUEUE:
        sim_dir_count(dir, SIM_DC_DROPPED_QUEUE, 1);
        break;
    case SIM_DROP_MTU:
        sim_dir_count(dir, SIM_DC_DROPPED_MTU, 1);
        break;
    case SIM_DROP_LINK_DOWN:
        sim_dir_count(dir, SIM_DC_DROPPED_DOWN, 1);
        break;
    case SIM_DROP_FAULT:
        sim_dir_count(dir, SIM_DC_DROPPED_FAULT, 1);
        break;
    default:
        assert(0 && "not a link drop reason");
    }
    if (sim_tracing(l->world)) {
        sim_trace_rec rec = packet_rec(l, d, SIM_TR_DROP, p);
        rec.reason = reason;
        sim_world_trace_packet(l->world, &rec, p);
    }
    sim_packet_free(l->world, p);
}

/* ---- Up and down ---------------------------------------------------- */

void sim_link_set_up(sim_link *l, int dir, bool up)
{
    assert(dir == 0 || dir == 1);
    if (l->dir[dir].params->up == up)
        return;
    sim_link_params v = *l->dir[dir].params;
    v.up = up;
    const sim_link_params *kept = params_keep(l->world, &v);
    if (!kept)
        sim_fatal_oom("a link's parameters");
    params_point(l->world, &l->dir[dir].params, kept);
    if (sim_tracing(l->world)) {
        sim_trace_rec rec = {
            .kind = SIM_TR_LINK,
            .host_id = l->end[dir]->id,
            .link_id = l->id,
            .dir = (uint8_t)dir,
            .value_ns = up,
        };
        sim_world_trace(l->world, &rec);
    }
}

static void apply_change(sim_timer *t, void *arg)
{
    (void)t;
    sim_link_change *c = arg;
    sim_world *w = c->link->world;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->changes = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sim_link *l = c->link;
    int dir = c->dir;
    bool up = c->up;
    free(c);
    sim_link_set_up(l, dir, up);
}

int sim_link_set_up_at(sim_link *l, int dir, sim_time_t when, bool up)
{
    assert(dir == 0 || dir == 1);
    sim_world *w = l->world;
    if (when < w->now) {
        char at[32], now[32];
        sim_time_format(when, at, sizeof at);
        sim_time_format(w->now, now, sizeof now);
        return sim_world_fail(w, "link %s>%s: cannot go %s at t=%s, already past (now t=%s)",
                              l->end[dir]->name, l->end[1 - dir]->name, up ? "up" : "down", at,
                              now);
    }
    sim_link_change *c = malloc(sizeof *c);
    if (!c)
        return sim_world_fail(w, "out of memory scheduling a link change");
    *c = (sim_link_change){.link = l, .dir = dir, .up = up, .next = w->changes};
    if (w->changes)
        w->changes->prev = c;
    w->changes = c;
    sim_timer_init(&c->timer, apply_change, c);
    sim_world_arm_at(w, &c->timer, when);
    return 0;
}

/* ---- The pipeline --------------------------------------------------- */

/* Nanoseconds to put len bytes on a wire of bps bits per second, rounded up. */
static sim_time_t serialisation_ns(uint32_t len, uint64_t bps)
{
    uint64_t bit_ns = (uint64_t)len * 8 * SIM_S; /* <= 5.3e14: no overflow */
    return bit_ns / bps + (bit_ns % bps != 0);
}

/* The backlog ring's room in instants (0 before its first push). */
static inline uint32_t backlog_cap(const sim_dir *dir)
{
    return dir->backlog ? (uint32_t)1 << dir->backlog_bits : 0;
}

/* Forgets the packets whose last bit has left by `now`. */
static void backlog_trim(sim_dir *dir, sim_time_t now)
{
    uint32_t mask = backlog_cap(dir) - 1;
    while (dir->backlog_len > 0 && dir->backlog[dir->backlog_head] <= now) {
        dir->backlog_head = (dir->backlog_head + 1) & mask;
        dir->backlog_len--;
    }
}

/* The ring starts at 4 instants and doubles: most directions never hold
 * more than a window's few packets at once, and one link per host pair
 * makes this a cost per pair. */
static void backlog_push(sim_dir *dir, sim_time_t end)
{
    uint32_t old = backlog_cap(dir);
    if (dir->backlog_len == old) {
        unsigned bits = old ? dir->backlog_bits + 1u : 2u;
        sim_time_t *ring = bits < 32 ? malloc(((size_t)1 << bits) * sizeof *ring) : NULL;
        if (!ring)
            sim_fatal_oom("the link queue");
        for (uint32_t i = 0; i < dir->backlog_len; i++)
            ring[i] = dir->backlog[(dir->backlog_head + i) & (old - 1)];
        free(dir->backlog);
        dir->backlog = ring;
        dir->backlog_bits = (uint8_t)bits;
        dir->backlog_head = 0;
    }
    dir->backlog[(dir->backlog_head + dir->backlog_len) & (backlog_cap(dir) - 1)] = end;
    dir->backlog_len++;
}

/* Step 5 and the first part of step 6: the queue and the serialiser. Sets
 * *depart to when the packet's last bit leaves; false for a tail drop. */
static bool serialise(sim_dir *dir, sim_time_t now, uint32_t len, sim_time_t *depart)
{
    uint64_t bps = dir->params->bandwidth_bps;
    if (bps == 0) {
        *depart = now;
        return true;
    }
    backlog_trim(dir, now);
    if (dir->params->queue_packets > 0 && dir->backlog_len >= dir->params->queue_packets)
        return false;
    sim_time_t start = dir->busy_until > now ? dir->busy_until : now;
    dir->busy_until = sim_time_add(start, serialisation_ns(len, bps));
    backlog_push(dir, dir->busy_until);
    *depart = dir->busy_until;
    return true;
}

/* Step 8: with the direction's corruption probability, flips one bit,
 * counted from the most significant bit of the first byte. Returns the
 * packet to go on with: a packet with lent bytes is first moved to bytes
 * of its own (sim_packet_writable), so the sender's buffer is never
 * changed; if that fails the world has failed and p goes on unchanged. */
static sim_packet *maybe_corrupt(sim_link *l, int d, sim_rng *rng, sim_packet *p)
{
    sim_dir *dir = &l->dir[d];
    if (!sim_rng_chance(rng, dir->params->corrupt_ppb) || p->len == 0)
        return p;
    sim_packet *own = sim_packet_writable(l->world, p);
    if (!own)
        return p;
    p = own;
    uint64_t bit = sim_rng_below(rng, (uint64_t)p->len * 8);
    p->data[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
    sim_dir_count(dir, SIM_DC_CORRUPTED, 1);
    trace_packet(l, d, SIM_TR_CORRUPT, p, 0, (uint32_t)bit);
    return p;
}

static void deliver(sim_timer *t, void *arg);

static void schedule(sim_link *l, int d, sim_packet *p, sim_time_t at)
{
    p->link_id = l->id;
    p->dir = (uint8_t)d;
    sim_timer_init(&p->timer, deliver, l);
    sim_world_arm_at(l->world, &p->timer, at);
}

/* The draws of a packet admitted with parameters that cannot change its
 * fate: loss, jitter, reorder, duplicate, corrupt (promise 1), each a
 * chance at 0 or a number below 1, one draw each; with no duplicate and
 * no corruption there is no clone and no bit to draw. A packet the queue
 * drops made only the first: the queue is tried after loss. */
#define QUIET_DRAWS 5u

/* Whether a packet's draws can change its fate under pa. */
static bool draws_matter(const sim_link_params *pa)
{
    return (pa->loss_ppb | pa->reorder_ppb | pa->duplicate_ppb | pa->corrupt_ppb) != 0 ||
           pa->jitter_ns != 0;
}

/* Direction d's stream "link:A>B" (promise 1), made on first need and
 * brought to the draws owed: the numbers it gives are those a stream made
 * with the link would give after the draws of every packet before. The
 * name is hashed in parts (sim_rng.h): the snprintf building it cost
 * about 940 instructions a direction. Owed draws are made once each,
 * so settling them costs what drawing them as they came would have. */
static sim_rng *dir_stream(sim_link *l, int d)
{
    sim_dir *dir = &l->dir[d];
    sim_rng *rng = &sim_dir_rare_of(dir)->rng;
    if (!dir->rng_made) {
        uint64_t h = sim_hash_name_on(sim_hash_name("link:"), l->end[d]->name);
        h = sim_hash_name_on(sim_hash_name_on(h, ">"), l->end[1 - d]->name);
        sim_rng_seed_key(rng, l->world->seed, h);
        dir->rng_made = true;
    }
    for (; dir->draws > 0; dir->draws--)
        sim_rng_next(rng);
    return rng;
}

/* Direction d owes n more draws; a count about to overflow is settled
 * first (a quiet direction that long is rare, and settling costs what
 * the draws would have). */
static void owe(sim_link *l, int d, uint32_t n)
{
    sim_dir *dir = &l->dir[d];
    if (dir->draws > UINT32_MAX - n)
        (void)dir_stream(l, d);
    dir->draws += n;
}

/* The stream a packet's draws come from (promise 1): the direction's own,
 * or, when the world's draw key hook gives the packet a key, *keyed seeded
 * from the seed, both hosts' names and the key. The names, not the ids:
 * the ids follow creation order, which is not part of a link's identity
 * (sim_rng.h). NULL when the draws cannot matter: none is made, and
 * *owing says whether the direction's stream owes them (admit counts
 * them, as many as the packet goes on to make). */
static sim_rng *draw_stream(sim_link *l, int d, const sim_packet *p, sim_rng *keyed, bool *owing)
{
    sim_world *w = l->world;
    bool matter = draws_matter(l->dir[d].params);
    uint64_t key;
    if (!w->draw_key || !w->draw_key(w->draw_key_ctx, l, d, p, &key)) {
        if (matter)
            return dir_stream(l, d);
        *owing = true;
        return NULL;
    }
    if (!matter)
        return NULL;
    uint64_t link = sim_hash_u64(sim_hash_name(l->end[d]->name) ^
                                 sim_hash_u64(sim_hash_name(l->end[1 - d]->name)));
    sim_rng_seed_key(keyed, w->seed, sim_hash_u64(link ^ sim_hash_u64(key)));
    return keyed;
}

/* Steps 4 to 8 for a packet admitted now, `extra_ns` later than its normal
 * delivery (a fault-hook delay). */
static void admit(sim_link *l, int d, sim_packet *p, sim_time_t extra_ns)
{
    sim_world *w = l->world;
    sim_dir *dir = &l->dir[d];
    const sim_link_params *pa = dir->params;
    bool owing = false;
    sim_rng keyed, *rng = draw_stream(l, d, p, &keyed, &owing);
    if (!rng) { /* no loss, jitter, reorder, duplicate nor corruption */
        sim_time_t at;
        bool queued = serialise(dir, w->now, p->len, &at);
        if (owing)
            owe(l, d, queued ? QUIET_DRAWS : 1);
        if (!queued) {
            drop(l, d, p, SIM_DROP_QUEUE);
            return;
        }
        schedule(l, d, p, sim_time_add(sim_time_add(at, pa->delay_ns), extra_ns));
        return;
    }
    if (sim_rng_chance(rng, pa->loss_ppb)) {
        drop(l, d, p, SIM_DROP_LOSS);
        return;
    }
    sim_time_t at;
    if (!serialise(dir, w->now, p->len, &at)) {
        drop(l, d, p, SIM_DROP_QUEUE);
        return;
    }
    at = sim_time_add(at, pa->delay_ns);
    at = sim_time_add(at, sim_rng_below(rng, pa->jitter_ns + 1));
    at = sim_time_add(at, extra_ns);
    if (sim_rng_chance(rng, pa->reorder_ppb)) {
        at = sim_time_add(at, pa->reorder_delay_ns);
        sim_dir_count(dir, SIM_DC_REORDERED, 1);
        trace_packet(l, d, SIM_TR_DELAY, p, pa->reorder_delay_ns, SIM_DELAY_REORDER);
    }
    sim_packet *clone = NULL;
    if (sim_rng_chance(rng, pa->duplicate_ppb) && (clone = sim_packet_clone(w, p))) {
        sim_dir_count(dir, SIM_DC_DUPLICATED, 1);
        trace_packet(l, d, SIM_TR_DUPLICATE, clone, 0, 0);
    }
    p = maybe_corrupt(l, d, rng, p);
    if (clone)
        clone = maybe_corrupt(l, d, rng, clone);
    schedule(l, d, p, at);
    if (clone)
        schedule(l, d, clone, at);
}

/* Step 9. */
static void deliver(sim_timer *t, void *arg)
{
    sim_link *l = arg;
    sim_packet *p = SIM_CONTAINER_OF(t, sim_packet, timer);
    int d = p->dir;
    sim_host *to = l->end[1 - d];
    sim_world *w = l->world;
    sim_trace_rec rec = packet_rec(l, d, SIM_TR_DELIVER, p);
    rec.host_id = to->id;
    if (!to->recv) {
        rec.kind = SIM_TR_DROP;
        rec.reason = SIM_DROP_NO_RECEIVER;
        sim_world_trace_packet(w, &rec, p);
        sim_packet_free(w, p);
        return;
    }
    sim_dir_count(&l->dir[d], SIM_DC_DELIVERED, 1);
    sim_dir_count(&l->dir[d], SIM_DC_BYTES_DELIVERED, p->len);
    sim_world_trace_packet(w, &rec, p);
    to->recv(to->recv_ctx, to, p);
}

/* ---- The fault hook ------------------------------------------------- */

static void hold(sim_link *l, int d, sim_packet *p)
{
    sim_dir_rare *dir = sim_dir_rare_of(&l->dir[d]);
    p->next = NULL;
    if (dir->held_tail)
        dir->held_tail->next = p;
    else
        dir->held_head = p;
    dir->held_tail = p;
    dir->held_count++;
    sim_dir_count(&l->dir[d], SIM_DC_HELD, 1);
    trace_packet(l, d, SIM_TR_HOLD, p, 0, 0);
}

/* SIM_FAULT_DUPLICATE: the clones are made first (from the bytes the hook
 * saw), then the original and each clone are admitted in that order. */
static void duplicate(sim_link *l, int d, sim_packet *p, uint32_t copies)
{
    assert(copies >= 1 && "SIM_FAULT_DUPLICATE needs copies >= 1");
    sim_packet *first = NULL, **tail = &first;
    for (uint32_t i = 0; i < copies; i++) {
        sim_packet *c = sim_packet_clone(l->world, p);
        if (!c)
            break;
        sim_dir_count(&l->dir[d], SIM_DC_DUPLICATED, 1);
        trace_packet(l, d, SIM_TR_DUPLICATE, c, 0, 0);
        *tail = c;
        tail = &c->next;
    }
    admit(l, d, p, 0);
    while (first) {
        sim_packet *next = first->next;
        first->next = NULL;
        admit(l, d, first, 0);
        first = next;
    }
}

static void apply_fault(sim_link *l, int d, sim_packet *p)
{
    sim_dir *dir = &l->dir[d];
    const sim_world *w = l->world;
    bool shared = dir->hook == SIM_HOOK_SHARED;
    sim_fault_fn fn = shared ? w->fault : dir->rare->fault;
    void *ctx = shared ? w->fault_ctx : dir->rare->fault_ctx;
    dir->in_hook = true;
    sim_fault_verdict v = fn(ctx, l, d, p);
    dir->in_hook = false;
    switch (v.action) {
    case SIM_FAULT_PASS:
        admit(l, d, p, 0);
        break;
    case SIM_FAULT_DROP:
        drop(l, d, p, SIM_DROP_FAULT);
        break;
    case SIM_FAULT_DELAY:
        trace_packet(l, d, SIM_TR_DELAY, p, v.delay_ns, SIM_DELAY_FAULT);
        admit(l, d, p, v.delay_ns);
        break;
    case SIM_FAULT_DUPLICATE:
        duplicate(l, d, p, v.copies);
        break;
    case SIM_FAULT_HOLD:
        hold(l, d, p);
        break;
    default:
        assert(0 && "unknown fault action");
    }
}

static void reenter(sim_timer *t, void *arg);

void sim_link_enter(sim_link *l, int d, sim_packet *p)
{
    sim_dir *dir = &l->dir[d];
    if (dir->in_hook) {
        /* Promise 4: sent from inside this direction's own hook (a crafted
         * segment): it enters as the next event at this instant. */
        p->link_id = l->id;
        p->dir = (uint8_t)d;
        sim_timer_init(&p->timer, reenter, l);
        sim_world_arm_at(l->world, &p->timer, l->world->now);
        return;
    }
    if (!dir->params->up)
        drop(l, d, p, SIM_DROP_LINK_DOWN);
    else if (p->len > dir->params->mtu)
        drop(l, d, p, SIM_DROP_MTU);
    else if (dir->hook != SIM_HOOK_NONE)
        apply_fault(l, d, p);
    else
        admit(l, d, p, 0);
}

/* A packet sent from inside its direction's hook, entering now. */
static void reenter(sim_timer *t, void *arg)
{
    sim_packet *p = SIM_CONTAINER_OF(t, sim_packet, timer);
    sim_link_enter(arg, p->dir, p);
}

void sim_link_set_fault_hook(sim_link *l, int dir, sim_fault_fn fn, void *ctx)
{
    assert(dir == 0 || dir == 1);
    sim_world *w = l->world;
    sim_dir *d = &l->dir[dir];
    if (fn && !w->fault) { /* the first hook set in the world is the one shared */
        w->fault = fn;
        w->fault_ctx = ctx;
    }
    if (d->rare)
        d->rare->fault = NULL;
    if (!fn) {
        d->hook = SIM_HOOK_NONE;
    } else if (fn == w->fault && ctx == w->fault_ctx) {
        d->hook = SIM_HOOK_SHARED;
    } else {
        sim_dir_rare *r = sim_dir_rare_of(d);
        r->fault = fn;
        r->fault_ctx = ctx;
        d->hook = SIM_HOOK_OWN;
    }
}

uint32_t sim_link_held_count(const sim_link *l, int dir)
{
    assert(dir == 0 || dir == 1);
    return l->dir[dir].rare ? l->dir[dir].rare->held_count : 0;
}

static void release_one(sim_link *l, int d, sim_packet *p)
{
    p->next = NULL;
    trace_packet(l, d, SIM_TR_RELEASE, p, 0, 0);
    admit(l, d, p, 0);
}

uint32_t sim_link_release(sim_link *l, int dir, uint32_t packet_id)
{
    assert(dir == 0 || dir == 1);
    sim_dir_rare *dd = l->dir[dir].rare;
    if (!dd)
        return 0; /* nothing ever held */
    if (packet_id == 0) {
        /* Detach the whole list first: admitting cannot add to it, but a
         * trace sink could call back in. */
        sim_packet *p = dd->held_head;
        uint32_t n = dd->held_count;
        dd->held_head = dd->held_tail = NULL;
        dd->held_count = 0;
        while (p) {
            sim_packet *next = p->next;
            release_one(l, dir, p);
            p = next;
        }
        return n;
    }
    sim_packet *prev = NULL;
    for (sim_packet *p = dd->held_head; p; prev = p, p = p->next) {
        if (p->id != packet_id)
            continue;
        if (prev)
            prev->next = p->next;
        else
            dd->held_head = p->next;
        if (dd->held_tail == p)
            dd->held_tail = prev;
        dd->held_count--;
        release_one(l, dir, p);
        return 1;
    }
    return 0;
}
