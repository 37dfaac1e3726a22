/*
 * sim_host — endpoints: names, addresses, routing of sent datagrams to the
 * direct link, and protocol reports into the trace.
 *
 * Promises: lookups by name and address are hash lookups, independent of
 * where hosts sit in memory; a sent packet is always either handed to a link
 * direction (after a SEND record) or dropped with a NO_ROUTE record.
 */
#include "sim_host.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define HOSTS_PER_CHUNK (1u << SIM_HOST_CHUNK_SHIFT)

sim_host *sim_host_by_id(const sim_world *w, uint32_t id)
{
    if (id >= w->nhosts)
        return NULL;
    return &w->host_chunks[id >> SIM_HOST_CHUNK_SHIFT][id & (HOSTS_PER_CHUNK - 1)];
}

/* Addresses run in eights (sim_index_run_hash): 10.0.0.1 to 10.0.0.7
 * share a start, the low three bits their offset. At most eight addresses
 * share a start. */
uint64_t sim_host_addr_hash(uint32_t addr)
{
    return sim_index_run_hash(sim_hash_u64(addr),
                              sim_hash_u64((uint64_t)addr >> SIM_INDEX_RUN_BITS), addr);
}

#define NAME_NUMBER_DIGITS 9 /* a trailing number's digits read as one */

/* Names run in eights by a trailing number: "c8" to "c15" share a start,
 * the number's low three bits their offset. The start hashes the text
 * before the number, the number's digit count and the number without
 * those bits; so a start is shared only by names that differ in them,
 * eight at most ("c8" and "c08" differ in digits; a longer number leaves
 * its first digits in the text). The whole name's hash (FNV-1a, as the
 * index always took) makes the tags. */
uint64_t sim_host_name_hash(const char *name)
{
    /* One pass: `whole` is FNV-1a over the name so far (sim_hash_name),
     * `text` the same over all but its last `digits` digits, `number`
     * their value. A tenth digit in a row moves the run's first into the
     * text. */
    const uint64_t prime = SIM_FNV1A_PRIME, scale = 100000000u; /* 10^(DIGITS - 1) */
    uint64_t whole = SIM_FNV1A_BASIS, text = whole, number = 0, digits = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        whole = (whole ^ *c) * prime;
        if (*c < '0' || *c > '9') {
            text = whole;
            number = digits = 0;
            continue;
        }
        if (digits == NAME_NUMBER_DIGITS) {
            text = (text ^ c[-NAME_NUMBER_DIGITS]) * prime;
            number -= (uint64_t)(c[-NAME_NUMBER_DIGITS] - '0') * scale;
        } else {
            digits++;
        }
        number = number * 10 + (uint64_t)(*c - '0');
    }
    uint64_t start = sim_hash_u64(text ^ sim_hash_u64(digits << 32 | number >> SIM_INDEX_RUN_BITS));
    return sim_index_run_hash(whole, start, (uint32_t)number);
}

static uint64_t rehash_name(const sim_world *w, uint32_t id)
{
    return sim_host_name_hash(sim_host_by_id(w, id)->name);
}

static uint64_t rehash_addr(const sim_world *w, uint32_t id)
{
    return sim_host_addr_hash(sim_host_by_id(w, id)->addr);
}

static bool match_name(const sim_world *w, uint32_t id, const void *key)
{
    return strcmp(sim_host_by_id(w, id)->name, key) == 0;
}

static bool match_addr(const sim_world *w, uint32_t id, const void *key)
{
    return sim_host_by_id(w, id)->addr == *(const uint32_t *)key;
}

sim_host *sim_host_by_name(const sim_world *w, const char *name)
{
    uint32_t id = sim_index_find(&w->host_by_name, sim_host_name_hash(name), match_name, w,
                                 (const void *)name);
    return id == SIM_NO_ID ? NULL : sim_host_by_id(w, id);
}

sim_host *sim_host_by_addr(const sim_world *w, uint32_t ipv4)
{
    uint32_t id = sim_index_find(&w->host_by_addr, sim_host_addr_hash(ipv4), match_addr, w, &ipv4);
    return id == SIM_NO_ID ? NULL : sim_host_by_id(w, id);
}

uint32_t sim_host_count(const sim_world *w)
{
    return w->nhosts;
}

/* The slot for host `id`, allocating a chunk every HOSTS_PER_CHUNK hosts. */
static sim_host *host_slot(sim_world *w, uint32_t id)
{
    uint32_t chunk = id >> SIM_HOST_CHUNK_SHIFT;
    if (chunk >= w->host_nchunks) {
        sim_host **chunks =
            sim_grow(w->host_chunks, &w->host_chunks_cap, chunk + 1, sizeof *chunks);
        if (!chunks)
            return NULL;
        w->host_chunks = chunks;
        /* Each slot is zeroed when handed out, not the whole chunk. */
        chunks[chunk] = malloc(HOSTS_PER_CHUNK * sizeof(sim_host));
        if (!chunks[chunk])
            return NULL;
        w->host_nchunks++;
    }
    sim_host *h = &w->host_chunks[chunk][id & (HOSTS_PER_CHUNK - 1)];
    memset(h, 0, sizeof *h);
    return h;
}

static int check_new_host(sim_world *w, const char *name, uint32_t ipv4)
{
    size_t len = strlen(name);
    if (len == 0)
        return sim_world_fail(w, "a host needs a name");
    if (len > SIM_NAME_MAX)
        return sim_world_fail(w, "host name \"%.40s...\" is longer than %d characters", name,
                              SIM_NAME_MAX);
    if (sim_host_by_name(w, name))
        return sim_world_fail(w, "a host named \"%s\" already exists", name);
    const sim_host *other = sim_host_by_addr(w, ipv4);
    if (other)
        return sim_world_fail(w, "host %s: address %u.%u.%u.%u is already used by host %s", name,
                              ipv4 >> 24, (ipv4 >> 16) & 255, (ipv4 >> 8) & 255, ipv4 & 255,
                              other->name);
    if (w->nhosts == SIM_NO_ID - 1)
        return sim_world_fail(w, "too many hosts");
    return 0;
}

/* Names are kept back to back in chunks of NAME_CHUNK bytes: a name of
 * at most SIM_NAME_MAX bytes always fits a fresh one, and a name never
 * moves (the name index and every caller hold it). */
#define NAME_CHUNK 4096u

static const char *name_keep(sim_world *w, const char *name)
{
    size_t size = strlen(name) + 1;
    if (w->name_nchunks == 0 || w->name_used + size > NAME_CHUNK) {
        char **chunks =
            sim_grow(w->name_chunks, &w->name_chunks_cap, w->name_nchunks + 1, sizeof *chunks);
        if (!chunks)
            return NULL;
        w->name_chunks = chunks;
        if (!(chunks[w->name_nchunks] = malloc(NAME_CHUNK)))
            return NULL;
        w->name_nchunks++;
        w->name_used = 0;
    }
    char *kept = w->name_chunks[w->name_nchunks - 1] + w->name_used;
    memcpy(kept, name, size);
    w->name_used += (uint32_t)size;
    return kept;
}

int sim_host_reserve(sim_world *w, uint32_t hosts)
{
    assert(w != NULL);
    if (sim_index_reserve(&w->host_by_name, hosts, rehash_name, w) != 0 ||
        sim_index_reserve(&w->host_by_addr, hosts, rehash_addr, w) != 0)
        return -1;
    return 0;
}

/* Files host `id` in both lookups; on failure neither holds it. */
static int index_new_host(sim_world *w, const char *name, uint32_t ipv4, uint32_t id)
{
    uint64_t by_name = sim_host_name_hash(name);
    if (sim_index_add(&w->host_by_name, by_name, id) != 0)
        return sim_world_fail(w,
                              "host %s: too many host names hash next to this one (over %u in a "
                              "row in the name lookup: names chosen to collide are refused)",
                              name, SIM_INDEX_MAX_WALK);
    if (sim_index_add(&w->host_by_addr, sim_host_addr_hash(ipv4), id) != 0) {
        sim_index_drop_last(&w->host_by_name, by_name);
        return sim_world_fail(w,
                              "host %s: too many host addresses hash next to %u.%u.%u.%u (over %u "
                              "in a row in the address lookup: addresses chosen to collide are "
                              "refused)",
                              name, ipv4 >> 24, (ipv4 >> 16) & 255, (ipv4 >> 8) & 255, ipv4 & 255,
                              SIM_INDEX_MAX_WALK);
    }
    return 0;
}

int sim_host_add(sim_world *w, const char *name, uint32_t ipv4, sim_host **out)
{
    assert(w != NULL && name != NULL);
    if (check_new_host(w, name, ipv4) != 0)
        return -1;
    uint32_t id = w->nhosts;
    sim_host *h = NULL;
    const char *kept = NULL;
    if (sim_index_reserve(&w->host_by_name, id + 1, rehash_name, w) != 0 ||
        sim_index_reserve(&w->host_by_addr, id + 1, rehash_addr, w) != 0 || !(h = host_slot(w, id)))
        return sim_world_fail(w, "out of memory adding host %s", name);
    if (index_new_host(w, name, ipv4, id) != 0)
        return -1;
    if (!(kept = name_keep(w, name))) {
        sim_index_drop_last(&w->host_by_name, sim_host_name_hash(name));
        sim_index_drop_last(&w->host_by_addr, sim_host_addr_hash(ipv4));
        return sim_world_fail(w, "out of memory adding host %s", name);
    }
    *h = (sim_host){.world = w, .id = id, .addr = ipv4, .name = kept, .route_link = SIM_NO_ID};
    w->nhosts++;
    if (out)
        *out = h;
    return 0;
}

void sim_hosts_free_all(sim_world *w)
{
    for (uint32_t i = 0; i < w->host_nchunks; i++)
        free(w->host_chunks[i]);
    free(w->host_chunks);
    for (uint32_t i = 0; i < w->name_nchunks; i++)
        free(w->name_chunks[i]);
    free(w->name_chunks);
    w->name_chunks = NULL;
    w->name_nchunks = w->name_chunks_cap = w->name_used = 0;
    sim_index_free(&w->host_by_name);
    sim_index_free(&w->host_by_addr);
    w->host_chunks = NULL;
    w->nhosts = w->host_nchunks = w->host_chunks_cap = 0;
}

uint32_t sim_host_id(const sim_host *h)
{
    return h->id;
}

const char *sim_host_name(const sim_host *h)
{
    return h->name;
}

uint32_t sim_host_addr(const sim_host *h)
{
    return h->addr;
}

sim_world *sim_host_world(const sim_host *h)
{
    return h->world;
}

void sim_host_set_receiver(sim_host *h, sim_recv_fn fn, void *ctx)
{
    h->recv = fn;
    h->recv_ctx = ctx;
}

static void trace_send(sim_host *h, sim_trace_kind kind, sim_drop_reason reason, uint32_t link_id,
                       int dir, const sim_packet *p)
{
    sim_trace_rec rec = {
        .kind = kind,
        .reason = reason,
        .host_id = h->id,
        .link_id = link_id,
        .dir = (uint8_t)dir,
    };
    sim_world_trace_packet(h->world, &rec, p);
}

void sim_host_route_seed(sim_host *h, const sim_host *to, uint32_t link_id)
{
    if (h->route_link != SIM_NO_ID)
        return;
    h->route_addr = to->addr;
    h->route_link = link_id;
}

void sim_host_send(sim_host *h, sim_packet *p)
{
    sim_world *w = h->world;
    assert(p != NULL && p->id != 0 && !sim_timer_armed(&p->timer));
    uint32_t dst = sim_packet_dst(p);
    sim_link *l;
    if (h->route_link != SIM_NO_ID && h->route_addr == dst) {
        l = sim_link_by_id(w, h->route_link); /* two hash lookups saved */
    } else {
        const sim_host *to = sim_host_by_addr(w, dst);
        l = to ? sim_link_between(w, h, to) : NULL;
        if (l) {
            h->route_addr = dst;
            h->route_link = l->id;
        }
    }
    if (!l) {
        if (sim_tracing(w))
            trace_send(h, SIM_TR_DROP, SIM_DROP_NO_ROUTE, SIM_NO_ID, 0, p);
        sim_packet_free(w, p);
        return;
    }
    int dir = sim_link_dir_from(l, h);
    sim_dir_count(&l->dir[dir], SIM_DC_SENT, 1);
    if (sim_tracing(w))
        trace_send(h, SIM_TR_SEND, SIM_DROP_NONE, l->id, dir, p);
    sim_link_enter(l, dir, p);
}

void sim_host_report(sim_host *h, uint32_t code, const char *text, const void *data, size_t len)
{
    if (!sim_tracing(h->world))
        return;
    sim_trace_rec rec = {
        .kind = SIM_TR_HOST,
        .host_id = h->id,
        .link_id = SIM_NO_ID,
        .packet_id = 0,
        .bytes = data,
        .len = data ? len : 0,
        .code = code,
        .text = text,
    };
    sim_world_trace(h->world, &rec);
}
