/*
 * tcp_stack — the stack object: the connection pool, the id / 4-tuple /
 * listener tables, the deadline heap, event reporting, and the two entry
 * points driven by the host (tcp_stack_input, tcp_stack_on_time).
 *
 * Timers: each connection keeps a deadline per timer kind (two kinds never
 * armed together share a slot, tcp_timer_slot); the heap is
 * keyed by a connection's earliest deadline and the sequence number of the
 * moment that key was set, so equal deadlines fire in the order they were
 * armed. tcp_stack_next_deadline is the heap's top: O(1); on_time pops only
 * connections that are due. There are no periodic ticks.
 *
 * Lifetime: a connection is reclaimed only in tcp_stack_settle, which the
 * entry points call after they are done with it, never while a function is
 * still working on it.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

/* Pool chunks hold 1, 1, 2, 4 ... connections, up to POOL_CHUNK_MAX: a host
 * with n <= 2^i connections pays for the next power of two (one for one, two
 * for two) and allocates O(log n) times. */
#define POOL_CHUNK_MAX 256u
/* A table and the heap start in the TCP_TABLE_FIRST slots the stack holds:
 * a host uses few connections (one or two in the race) and then allocates
 * none; they move to the allocator's memory when they outgrow them. */

/* ---- Tables ---------------------------------------------------------------- */

static size_t hash_u32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static size_t tuple_hash(uint16_t lport, uint32_t raddr, uint16_t rport)
{
    return hash_u32(raddr ^ hash_u32(((uint32_t)lport << 16) | rport));
}

typedef enum { LINK_ID, LINK_TUPLE } link_kind;

static tcp_sk **link_of(tcp_sk *e, link_kind k)
{
    return k == LINK_ID ? &e->id_next : &e->tuple_next;
}

static const tcp_conn *conn_of(const tcp_sk *e)
{
    return (const tcp_conn *)e; /* sk is tcp_conn's first member */
}

static const tcp_tw *tw_of(const tcp_sk *e)
{
    return (const tcp_tw *)e; /* sk is tcp_tw's first member */
}

static const tcp_ls *ls_of(const tcp_sk *e)
{
    return (const tcp_ls *)e; /* sk is tcp_ls's first member */
}

static tcp_sock_id id_of(const tcp_sk *e)
{
    if (e->ls)
        return ls_of(e)->id;
    return e->tw ? tw_of(e)->id : conn_of(e)->id;
}

static bool tuple_is(const tcp_sk *e, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    if (e->ls) /* in the table as (lport, 0, 0) */
        return ls_of(e)->lport == lport && raddr == 0 && rport == 0;
    if (e->tw)
        return tw_of(e)->lport == lport && tw_of(e)->raddr == raddr && tw_of(e)->rport == rport;
    const tcp_conn *c = conn_of(e);
    return c->lport == lport && c->raddr == raddr && c->rport == rport;
}

static size_t key_of(const tcp_sk *e, link_kind k)
{
    if (k == LINK_ID)
        return hash_u32(id_of(e));
    if (e->ls)
        return tuple_hash(ls_of(e)->lport, 0, 0);
    if (e->tw)
        return tuple_hash(tw_of(e)->lport, tw_of(e)->raddr, tw_of(e)->rport);
    const tcp_conn *c = conn_of(e);
    return tuple_hash(c->lport, c->raddr, c->rport);
}

static void table_init(tcp_table *t)
{
    t->mask = TCP_TABLE_FIRST - 1; /* the first slots: zero, as the stack */
}

static void table_free(tcp_table *t)
{
    if (t->mask >= TCP_TABLE_FIRST)
        free(t->at.more);
}

static int table_grow(tcp_table *t, link_kind k)
{
    size_t n = (t->mask + 1) * 2;
    tcp_sk **slots = calloc(n, sizeof *slots);
    if (!slots)
        return TCP_ENOMEM;
    tcp_sk **old = tcp_table_slots(t);
    for (size_t i = 0; i <= t->mask; i++) {
        tcp_sk *c = old[i];
        while (c) {
            tcp_sk *next = *link_of(c, k);
            size_t b = key_of(c, k) & (n - 1);
            *link_of(c, k) = slots[b];
            slots[b] = c;
            c = next;
        }
    }
    table_free(t);
    t->at.more = slots;
    t->mask = (uint32_t)(n - 1);
    return 0;
}

/* Never fails: a full table that cannot grow still works (longer chains). */
static int table_add(tcp_table *t, tcp_sk *c, link_kind k)
{
    if (t->count >= t->mask + 1)
        (void)table_grow(t, k);
    size_t b = key_of(c, k) & t->mask;
    tcp_sk **slots = tcp_table_slots(t);
    *link_of(c, k) = slots[b];
    slots[b] = c;
    t->count++;
    return 0;
}

/* Returns true if c was in the table. */
static bool table_remove(tcp_table *t, tcp_sk *c, link_kind k)
{
    tcp_sk **pp = &tcp_table_slots(t)[key_of(c, k) & t->mask];
    while (*pp && *pp != c)
        pp = link_of(*pp, k);
    if (!*pp)
        return false;
    *pp = *link_of(c, k);
    *link_of(c, k) = NULL;
    t->count--;
    return true;
}

/* Replaces `from` by `to` in its chain of t (same key, same place), if
 * it is there (a listener record is in the 4-tuple table in LISTEN only). */
static void table_replace(tcp_table *t, tcp_sk *from, tcp_sk *to, link_kind k)
{
    tcp_sk **pp = &tcp_table_slots(t)[key_of(from, k) & t->mask];
    while (*pp && *pp != from)
        pp = link_of(*pp, k);
    if (!*pp)
        return;
    *pp = to;
    *link_of(to, k) = *link_of(from, k);
    *link_of(from, k) = NULL;
}

/* Every call looks its socket up here: inline (its few callers are thin
 * wrappers), as the compiler did before the first slots shared their
 * room with the pointer (docs/performance.md, "Eleventh round"). */
static inline tcp_sk *find_sk(const tcp_stack *s, tcp_sock_id id)
{
    if (!s || id == 0)
        return NULL;
    tcp_sk *e = tcp_table_slots(&s->by_id)[hash_u32(id) & s->by_id.mask];
    while (e && id_of(e) != id)
        e = e->id_next;
    return e;
}

tcp_conn *tcp_stack_find(const tcp_stack *s, tcp_sock_id id)
{
    tcp_sk *e = find_sk(s, id);
    return e && !e->tw && !e->ls ? (tcp_conn *)e : NULL;
}

const tcp_tw *tcp_stack_find_tw(const tcp_stack *s, tcp_sock_id id)
{
    const tcp_sk *e = find_sk(s, id);
    return e && e->tw ? tw_of(e) : NULL;
}

tcp_sk *tcp_stack_lookup(const tcp_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    tcp_sk *e = tcp_table_slots(&s->by_tuple)[tuple_hash(lport, raddr, rport) & s->by_tuple.mask];
    while (e && !tuple_is(e, lport, raddr, rport))
        e = e->tuple_next;
    return e;
}

tcp_sk *tcp_stack_sk(const tcp_stack *s, tcp_sock_id id)
{
    tcp_sk *e = find_sk(s, id);
    return e && !e->tw ? e : NULL;
}

/* A listener is in the 4-tuple table as (lport, 0, 0): no other entry has
 * remote port 0 (segments with port 0 are dropped, connect refuses it). */
tcp_sk *tcp_stack_listener(const tcp_stack *s, uint16_t lport)
{
    return tcp_stack_lookup(s, lport, 0, 0);
}

const tcp_ls *tcp_stack_find_ls(const tcp_stack *s, tcp_sock_id id)
{
    const tcp_sk *e = find_sk(s, id);
    return e && e->ls ? ls_of(e) : NULL;
}

bool tcp_stack_listening(const tcp_stack *s, uint16_t lport)
{
    return tcp_stack_lookup(s, lport, 0, 0) != NULL;
}

tcp_lq *tcp_stack_parent_lq(const tcp_stack *s, tcp_sock_id parent)
{
    const tcp_sk *e = find_sk(s, parent);
    if (!e || e->tw)
        return NULL;
    return e->ls ? ls_of(e)->lq : tcp_conn_lq(conn_of(e));
}

int tcp_stack_hash(tcp_conn *c)
{
    return table_add(&c->stack->by_tuple, &c->sk, LINK_TUPLE);
}

void tcp_stack_unhash(tcp_conn *c)
{
    table_remove(&c->stack->by_tuple, &c->sk, LINK_TUPLE);
}

int tcp_stack_listen_add(tcp_conn *c)
{
    assert(c->raddr == 0 && c->rport == 0);
    return tcp_stack_hash(c);
}

void tcp_stack_listen_remove(tcp_conn *c)
{
    tcp_stack_unhash(c);
}

/* ---- Local ports ----------------------------------------------------------------
 *
 * The port table holds each local port with at least one user (listeners,
 * their children, bound and connected sockets, orphans): an open-addressing
 * table with linear probing, kept at most half full, in the stack's own two
 * slots (one port, which is what most hosts use) until a second
 * port moves it to the allocator's memory (4 slots, 24 bytes), doubled as
 * needed; a host using the whole range pays for 128 Ki. An entry is removed
 * (backward shift, no tombstones) when its last user goes. `idle` marks a
 * port held by a bound socket not yet used by listen or connect (at most one
 * per port, since such a port refuses a second bind). eph_used counts the
 * ports of the profile's ephemeral range with a user, so exhaustion is known
 * without a scan. Every operation is O(1) expected. */

static bool in_eph_range(const tcp_stack *s, uint16_t port)
{
    return port >= s->profile->port_lo && port <= s->profile->port_hi;
}

/* Fibonacci hashing: the top bits of the product, which every bit of the
 * port reaches (consecutive ports land far apart). */
static uint32_t ports_mask(const tcp_stack *s)
{
    return (1u << s->ports_bits) - 1;
}

static uint32_t port_slot(const tcp_stack *s, uint16_t port)
{
    return (uint32_t)(((uint64_t)port * 0x9e3779b97f4a7c15ull) >> 40) & ports_mask(s);
}

/* The entry of `port`, or NULL if it has no user. */
static tcp_port_ent *port_find(const tcp_stack *s, uint16_t port)
{
    tcp_port_ent *ports = tcp_stack_ports(s);
    for (uint32_t i = port_slot(s, port);; i = (i + 1) & ports_mask(s)) {
        if (ports[i].port == port)
            return &ports[i];
        if (ports[i].port == 0)
            return NULL;
    }
}

static tcp_port_ent *port_place(tcp_stack *s, uint16_t port)
{
    tcp_port_ent *ports = tcp_stack_ports(s);
    uint32_t i = port_slot(s, port);
    while (ports[i].port != 0)
        i = (i + 1) & ports_mask(s);
    ports[i] = (tcp_port_ent){.port = port};
    return &ports[i];
}

static void ports_init(tcp_stack *s)
{
    s->ports_bits = 1; /* TCP_PORTS_FIRST slots, zero as the stack */
}

static void ports_free(tcp_stack *s)
{
    if (!tcp_stack_ports_inline(s))
        free(s->ports.more);
}

static int ports_grow(tcp_stack *s)
{
    uint32_t old_n = ports_mask(s) + 1;
    tcp_port_ent *slots = calloc((size_t)old_n * 2, sizeof *slots);
    if (!slots)
        return TCP_ENOMEM;
    /* The first slots' room takes the pointer: their entries move out
     * through a copy. */
    tcp_port_ent first[TCP_PORTS_FIRST];
    tcp_port_ent *old = tcp_stack_ports(s);
    bool was_inline = tcp_stack_ports_inline(s);
    if (was_inline)
        old = memcpy(first, s->ports.first, sizeof first);
    s->ports.more = slots;
    s->ports_bits++;
    for (uint32_t i = 0; i < old_n; i++)
        if (old[i].port)
            *port_place(s, old[i].port) = old[i];
    if (!was_inline)
        free(old);
    return 0;
}

/* Removes the entry at slot i, moving back the entries after it that
 * would no longer be found (Knuth's algorithm R for linear probing). */
static void port_remove_at(tcp_stack *s, uint32_t i)
{
    tcp_port_ent *ports = tcp_stack_ports(s);
    uint32_t j = i;
    for (;;) {
        ports[i].port = 0;
        for (;;) {
            j = (j + 1) & ports_mask(s);
            if (ports[j].port == 0)
                return;
            uint32_t home = port_slot(s, ports[j].port);
            /* j's entry may move to i unless its home lies in (i, j]. */
            bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        ports[i] = ports[j];
        i = j;
    }
}

bool tcp_stack_port_used(const tcp_stack *s, uint16_t port)
{
    return port_find(s, port) != NULL;
}

bool tcp_stack_port_idle(const tcp_stack *s, uint16_t port)
{
    const tcp_port_ent *e = port_find(s, port);
    return e && e->idle;
}

void tcp_stack_port_set_idle(tcp_conn *c, bool idle)
{
    if (!c->port_bound || c->idle_bound == idle)
        return;
    c->idle_bound = idle;
    tcp_port_ent *e = port_find(c->stack, c->lport);
    assert(e);
    e->idle = idle;
}

int tcp_stack_port_take(tcp_conn *c, uint16_t port)
{
    tcp_stack *s = c->stack;
    assert(!c->port_bound && port != 0);
    tcp_port_ent *e = port_find(s, port);
    if (e && e->users == UINT16_MAX)
        return TCP_EADDRINUSE; /* 65535 connections on one port: the table's limit */
    if (!e) {
        if (((uint32_t)s->ports_n + 1) * 2 > ports_mask(s) + 1 && ports_grow(s))
            return TCP_ENOMEM;
        e = port_place(s, port);
        s->ports_n++;
        if (in_eph_range(s, port))
            s->eph_used++;
    }
    e->users++;
    c->lport = port;
    c->port_bound = true;
    return TCP_OK;
}

static void port_drop(tcp_stack *s, uint16_t port)
{
    tcp_port_ent *e = port_find(s, port);
    assert(e && e->users > 0);
    if (--e->users > 0)
        return;
    port_remove_at(s, (uint32_t)(e - tcp_stack_ports(s)));
    s->ports_n--;
    if (in_eph_range(s, port))
        s->eph_used--;
}

static void port_release(tcp_conn *c)
{
    if (!c->port_bound)
        return;
    tcp_stack_port_set_idle(c, false);
    c->port_bound = false;
    port_drop(c->stack, c->lport);
}

/* RFC 6056 §3.3.1 (Algorithm 1, simple random selection): a random start
 * in the range, then the next unused port. Expected probes: range / free
 * ports; an exhausted range is refused at once. */
int tcp_stack_port_pick(tcp_stack *s, uint16_t *out)
{
    uint32_t lo = s->profile->port_lo, hi = s->profile->port_hi;
    if (lo == 0 || hi < lo)
        return TCP_EADDRNOTAVAIL;
    uint32_t n = hi - lo + 1;
    if (s->eph_used >= n)
        return TCP_EADDRNOTAVAIL;
    uint32_t start = (uint32_t)(s->env->random(s->ctx) % n);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (start + i) % n);
        if (!tcp_stack_port_used(s, port)) {
            *out = port;
            return TCP_OK;
        }
    }
    return TCP_EADDRNOTAVAIL; /* not reached: eph_used < n */
}

/* ---- ISN (RFC 6528) ----------------------------------------------------------------
 * F = SipHash-2-4 (Aumasson, Bernstein) of the 4-tuple under the stack's
 * 128-bit secret, written from the published algorithm. */

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13) ^ v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17) ^ v[2];
    v[2] = rotl(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

/* SipHash-2-4 of a 16-byte message given as two little-endian words. */
static uint64_t siphash16(const uint64_t key[2], uint64_t m0, uint64_t m1)
{
    uint64_t v[4] = {key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
                     key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull};
    sip_block(v, m0);
    sip_block(v, m1);
    sip_block(v, (uint64_t)16 << 56); /* no tail bytes; length 16 */
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint32_t tcp_stack_isn_hash(const tcp_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    uint64_t m0 = ((uint64_t)s->addr << 32) | raddr;
    uint64_t m1 = ((uint64_t)lport << 16) | rport;
    return (uint32_t)siphash16(s->isn_key, m0, m1);
}

/* ---- Memory ------------------------------------------------------------------- */

/* ---- Deadline heap ------------------------------------------------------------ */

static bool heap_less(const tcp_sk *a, const tcp_sk *b)
{
    return a->heap_at < b->heap_at || (a->heap_at == b->heap_at && a->heap_seq < b->heap_seq);
}

static void heap_place(tcp_sk **h, size_t i, tcp_sk *c)
{
    h[i] = c;
    c->heap_idx = (uint32_t)i;
}

static void heap_up(tcp_stack *s, size_t i)
{
    tcp_sk **h = tcp_stack_heap(s);
    tcp_sk *c = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(c, h[p]))
            break;
        heap_place(h, i, h[p]);
        i = p;
    }
    heap_place(h, i, c);
}

static void heap_down(tcp_stack *s, size_t i)
{
    tcp_sk **h = tcp_stack_heap(s);
    tcp_sk *c = h[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const tcp_sk *best = c;
        if (l < s->heap_len && heap_less(h[l], best))
            m = l, best = h[l];
        if (l + 1 < s->heap_len && heap_less(h[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        heap_place(h, i, h[m]);
        i = m;
    }
    heap_place(h, i, c);
}

static void heap_remove(tcp_stack *s, tcp_sk *c)
{
    if (c->heap_idx == TCP_HEAP_NONE)
        return;
    size_t i = c->heap_idx;
    c->heap_idx = TCP_HEAP_NONE;
    tcp_sk *last = tcp_stack_heap(s)[--s->heap_len];
    if (i == s->heap_len)
        return;
    heap_place(tcp_stack_heap(s), i, last);
    heap_up(s, i);
    heap_down(s, last->heap_idx);
}

/* The arming sequence ran out of its bits: the entries get 0, 1, ... in
 * the order they have, which is all the sequence is read for (keys are
 * distinct, so the order is total). Sorted, the array is a heap as it
 * is. The sort is the heap's own, in place: each least entry in turn
 * goes to the end of the shrinking heap, leaving the array in descending
 * order, which is then reversed. No allocation (the C library's qsort
 * may allocate a buffer) and no comparison other than heap_less. Once
 * per 2^30 keys set. */
static void heap_renumber(tcp_stack *s)
{
    tcp_sk **h = tcp_stack_heap(s);
    uint32_t n = s->heap_len;
    while (s->heap_len > 1) {
        tcp_sk *least = h[0];
        h[0] = h[--s->heap_len];
        heap_down(s, 0);
        h[s->heap_len] = least;
    }
    s->heap_len = n;
    for (uint32_t i = 0; i < n / 2; i++) {
        tcp_sk *t = h[i];
        h[i] = h[n - 1 - i];
        h[n - 1 - i] = t;
    }
    for (uint32_t i = 0; i < n; i++) {
        h[i]->heap_idx = i;
        h[i]->heap_seq = i;
    }
    s->heap_seq = n;
}

static uint64_t earliest(const tcp_conn *c)
{
    uint64_t t = TCP_NEVER;
    for (unsigned k = 0; k < TCP_TIMER_SLOTS; k++)
        t = c->timer_slot[k] < t ? c->timer_slot[k] : t;
    return t;
}

static void heap_update(tcp_stack *s, tcp_conn *c)
{
    uint64_t at = earliest(c);
    tcp_sk *e = &c->sk;
    if (e->heap_idx != TCP_HEAP_NONE && e->heap_at == at)
        return;
    heap_remove(s, e);
    if (at == TCP_NEVER)
        return;
    assert(s->heap_len < (1u << s->heap_bits)); /* reserved by tcp_conn_new */
    e->heap_at = at;
    if (s->heap_seq >= (1u << TCP_HEAP_SEQ_BITS))
        heap_renumber(s);
    e->heap_seq = s->heap_seq++;
    heap_place(tcp_stack_heap(s), s->heap_len++, e);
    heap_up(s, e->heap_idx);
}

/* ---- Pool ------------------------------------------------------------------------ */

static size_t pool_chunk_len(size_t i)
{
    if (i == 0)
        return 1;
    return i <= 8 ? (size_t)1 << (i - 1) : POOL_CHUNK_MAX;
}

size_t tcp_conn_slot_size(const tcp_stack *s)
{
    return sizeof(tcp_conn) + (tcp_profile_tunes(s->profile) ? sizeof(tcp_rcv_tune) : 0);
}

static void *chunk_slots(tcp_chunk *k)
{
    return k + 1;
}

/* Slot j of a chunk of the connection pool. */
static tcp_conn *conn_slot(const tcp_stack *s, const tcp_chunk *k, size_t j)
{
    return (tcp_conn *)(void *)((unsigned char *)chunk_slots((tcp_chunk *)k) +
                                j * tcp_conn_slot_size(s));
}

/* Appends the next chunk (pool_chunk_len(p->nchunks) zeroed slots of
 * `elem` bytes) to a pool and chains its slots onto the free list through
 * their first member; TCP_ENOMEM on out-of-memory. */
static int pool_grow(tcp_pool *p, size_t elem)
{
    size_t n = pool_chunk_len(p->nchunks);
    tcp_chunk *k = calloc(1, sizeof *k + n * elem);
    if (!k)
        return TCP_ENOMEM;
    k->u.older = p->chunks;
    p->chunks = k;
    p->nchunks++;
    unsigned char *block = chunk_slots(k);
    for (size_t i = n; i-- > 0;) {
        tcp_sk *e = (tcp_sk *)(block + i * elem);
        e->id_next = p->free;
        p->free = e;
    }
    return 0;
}

/* A free slot of the pool, unlinked (contents as pool_put left them);
 * NULL on out-of-memory. */
static void *pool_get(tcp_pool *p, size_t elem)
{
    if (!p->free && pool_grow(p, elem))
        return NULL;
    tcp_sk *e = p->free;
    p->free = e->id_next;
    p->used++;
    return e;
}

static void pool_put_slot(tcp_pool *p, void *slot)
{
    tcp_sk *e = slot;
    e->id_next = p->free;
    p->free = e;
}

/* Frees a pool's chunks (none of its slots in use), except its first
 * (oldest, one slot) when `park` is given and empty: that goes to *park. */
static void pool_free_chunks(tcp_pool *p, tcp_chunk **park)
{
    for (tcp_chunk *k = p->chunks, *older; k; k = older) {
        older = k->u.older;
        if (!older && park && !*park)
            *park = k;
        else
            free(k);
    }
    p->chunks = NULL;
    p->nchunks = 0;
    p->free = NULL;
}

/* Gives a stack's connection chunks back once none of its slots is in
 * use: a stack that had connections and has none left (its last one
 * closed, or every one a minisock now). The first chunk (one connection)
 * is parked in the scratch space if its spare is empty: a segment or
 * timer for a minisock rebuilds the connection (conn_at) in the parked
 * chunk and gives it back (tw_shrink) without allocating. */
static void pool_release_if_unused(tcp_stack *s)
{
    if (s->pool.used != 0 || !s->pool.nchunks)
        return;
    tcp_scratch *sc = tcp_stack_scratch(s);
    bool park = !sc->spare_chunk;
    pool_free_chunks(&s->pool, &sc->spare_chunk);
    if (park && sc->spare_chunk)
        sc->spare_conn_size = tcp_conn_slot_size(s);
}

/* The connection pool's first chunk: the parked one if there is one of
 * this stack's slot size. */
static int conn_pool_grow(tcp_stack *s)
{
    tcp_pool *p = &s->pool;
    tcp_scratch *sc = tcp_stack_scratch(s);
    tcp_chunk *spare = sc->spare_chunk;
    if (p->nchunks || !spare || sc->spare_conn_size != tcp_conn_slot_size(s))
        return pool_grow(p, tcp_conn_slot_size(s));
    sc->spare_chunk = NULL;
    spare->u.older = NULL;
    p->chunks = spare;
    p->nchunks = 1;
    pool_put_slot(p, chunk_slots(spare));
    return 0;
}

/* Room in the heap for every connection that exists, reserved when a
 * connection is made, so arming a timer never allocates or fails. The
 * heap outgrows the stack's slots into doubling arrays. */
static int heap_reserve(tcp_stack *s, size_t n)
{
    size_t cap = (size_t)1 << s->heap_bits;
    if (n <= cap)
        return 0;
    unsigned bits = s->heap_bits;
    while (cap < n)
        cap *= 2, bits++;
    bool first = tcp_stack_heap_inline(s);
    tcp_sk **h =
        cap <= SIZE_MAX / sizeof *h ? realloc(first ? NULL : s->heap.more, cap * sizeof *h) : NULL;
    if (!h)
        return TCP_ENOMEM;
    if (first)
        memcpy(h, s->heap.first, s->heap_len * sizeof *h);
    s->heap.more = h;
    s->heap_bits = (uint8_t)bits;
    return 0;
}

void tcp_conn_blank(tcp_stack *s, tcp_conn *c)
{
    memset(c, 0, tcp_conn_slot_size(s));
    c->stack = s;
    c->state = TCP_CLOSED;
    c->sk.heap_idx = TCP_HEAP_NONE;
    for (unsigned k = 0; k < TCP_TIMER_SLOTS; k++)
        c->timer_slot[k] = TCP_NEVER;
    tcp_conn_init_opts(c, s->profile);
}

/* A blank connection (conn_blank) from the pool. */
static tcp_conn *pool_take(tcp_stack *s)
{
    if (!s->pool.free && conn_pool_grow(s))
        return NULL;
    tcp_conn *c = pool_get(&s->pool, tcp_conn_slot_size(s));
    tcp_conn_blank(s, c);
    return c;
}

static void pool_put(tcp_conn *c)
{
    tcp_stack *s = c->stack;
    free(c->ooo);
    c->ooo = NULL;
    free(c->opts);
    c->opts = NULL;
    free(tcp_conn_lq(c));
    c->lq = NULL; /* and q_next */
    c->state = TCP_CLOSED;
    c->id = 0;
    pool_put_slot(&s->pool, c);
    s->pool.used--;
}

tcp_conn *tcp_conn_new(tcp_stack *s)
{
    /* Ids are never reused (tcp.h rule 2): after the last, UINT32_MAX,
     * next_id is 0 and no socket is made again. */
    if (s->next_id == 0 || heap_reserve(s, (size_t)s->by_id.count + 1))
        return NULL;
    tcp_conn *c = pool_take(s);
    if (!c)
        return NULL;
    c->id = s->next_id;
    if (table_add(&s->by_id, &c->sk, LINK_ID)) {
        pool_put(c);
        return NULL;
    }
    s->next_id++;
    return c;
}

/* ---- TIME_WAIT minisocks (tcp_tw.c) ------------------------------------------------
 *
 * A minisock takes its connection's place in the id and tuple tables and
 * in the deadline heap, with the same heap key, and keeps its count in the
 * port table; the connection goes back to the pool. Its pool grows in
 * chunks as the connections' does. A segment for it or its timer is
 * processed on a connection rebuilt in the same places (conn_at), which
 * settles back into a minisock unless it left TIME_WAIT. */

/* A minisock back to its pool. Its chunks are given back once none is in
 * use (tw_release_if_unused), not here: a minisock rebuilt for a segment
 * (conn_at) usually becomes one again as the call leaves it. */
static void tw_put(tcp_stack *s, tcp_tw *tw)
{
    pool_put_slot(s->tw_pool, tw);
    s->tw_pool->used--;
}

/* The minisock pool and its first chunk (one slot) are one block, the
 * record first: a host's first minisock costs one allocation, as when the
 * record was part of the stack. Later chunks are the pool's own. */
static tcp_pool *tw_pool_new(void)
{
    unsigned char *m = calloc(1, sizeof(tcp_pool) + sizeof(tcp_chunk) + sizeof(tcp_tw));
    if (!m)
        return NULL;
    tcp_pool *p = (tcp_pool *)(void *)m;
    p->chunks = (tcp_chunk *)(void *)(m + sizeof *p);
    p->nchunks = 1;
    p->free = chunk_slots(p->chunks);
    return p;
}

/* Frees the pool: its later chunks, then the block of the record and the
 * first (the oldest, last in the list). */
static void tw_pool_free(tcp_stack *s)
{
    for (tcp_chunk *k = s->tw_pool->chunks, *older; k->u.older; k = older) {
        older = k->u.older;
        free(k);
    }
    free(s->tw_pool);
    s->tw_pool = NULL;
}

/* The pool goes with its last minisock. */
static void tw_release_if_unused(tcp_stack *s)
{
    if (s->tw_pool && s->tw_pool->used == 0)
        tw_pool_free(s);
}

static uint64_t tw_deadline(const tcp_sk *e)
{
    return e->heap_idx != TCP_HEAP_NONE ? e->heap_at : TCP_NEVER;
}

/* Puts `to` where `from` is in the id and tuple tables and the heap. */
static void sk_replace(tcp_stack *s, tcp_sk *from, tcp_sk *to)
{
    table_replace(&s->by_id, from, to, LINK_ID);
    table_replace(&s->by_tuple, from, to, LINK_TUPLE);
    to->heap_at = from->heap_at;
    to->heap_seq = from->heap_seq;
    to->heap_idx = from->heap_idx;
    from->heap_idx = TCP_HEAP_NONE;
    if (to->heap_idx != TCP_HEAP_NONE)
        tcp_stack_heap(s)[to->heap_idx] = to;
}

/* c (tcp_tw_fits, settled in the heap) becomes a minisock; it stays as it
 * is if none can be allocated, which changes nothing but its size. */
static void tw_shrink(tcp_conn *c)
{
    tcp_stack *s = c->stack;
    assert(tcp_timer_at(c, TCP_TIMER_TIME_WAIT) == tw_deadline(&c->sk));
    if (!s->tw_pool && !(s->tw_pool = tw_pool_new()))
        return;
    tcp_tw *tw = pool_get(s->tw_pool, sizeof *tw);
    if (!tw) {
        tw_release_if_unused(s);
        return;
    }
    memset(tw, 0, sizeof *tw);
    tw->sk.tw = true;
    tcp_tw_save(tw, c);
    sk_replace(s, &c->sk, &tw->sk);
    c->port_bound = false; /* the minisock holds the port's count */
    c->opts = NULL;        /* and the options record */
    tcp_sndq_free(c);
    tcp_ring_free(&c->rcvq);
    pool_put(c);
    pool_release_if_unused(s);
}

/* A minisock whose connection cannot be rebuilt (out of memory) ends
 * without events: tables, heap and port as conn_free leaves them. */
static void tw_drop(tcp_stack *s, tcp_tw *tw)
{
    heap_remove(s, &tw->sk);
    table_remove(&s->by_tuple, &tw->sk, LINK_TUPLE);
    table_remove(&s->by_id, &tw->sk, LINK_ID);
    port_drop(s, tw->lport);
    free(tw->opts);
    tw_put(s, tw);
    tw_release_if_unused(s);
}

/* The connection of a table or heap entry, rebuilt if it is a minisock;
 * NULL if that needed memory there was none of (the minisock is then
 * left in place when `keep`, else dropped). */
static tcp_conn *conn_at(tcp_stack *s, tcp_sk *e, bool keep)
{
    if (!e->tw)
        return (tcp_conn *)e;
    tcp_tw *tw = (tcp_tw *)e;
    tcp_conn *c = pool_take(s);
    if (!c) {
        if (!keep)
            tw_drop(s, tw);
        return NULL;
    }
    tcp_tw_restore(c, tw, tw_deadline(e));
    sk_replace(s, &tw->sk, &c->sk);
    c->port_bound = true;
    tw_put(s, tw);
    return c;
}

/* ---- Listener records (tcp_ls.c) -----------------------------------------------------
 *
 * A record takes its listener's place in the id table and, in LISTEN, in
 * the 4-tuple table, and keeps its count in the port table; the
 * connection's slot goes back to the pool. A segment, accept, listen
 * again, send and recv work on the record (tcp_stack_ls_take, below).
 * The rarer calls rebuild the listener in a frame on their caller's C
 * stack (ls_open), which takes the record's places until tcp_frame_close
 * puts the record back: no allocation, and a pool slot only for a
 * listener that connects. */

static tcp_frame *frame_of(tcp_conn *c)
{
    assert(c->framed);
    return (tcp_frame *)(void *)c; /* c is tcp_frame's first member */
}

static tcp_conn *ls_open(tcp_stack *s, tcp_sk *e, tcp_frame *f)
{
    tcp_ls *ls = (tcp_ls *)e;
    tcp_conn *c = &f->c;
    tcp_conn_blank(s, c);
    tcp_ls_restore(c, ls);
    c->framed = true;
    sk_replace(s, &ls->sk, &c->sk);
    f->ls = ls;
    return c;
}

tcp_conn *tcp_stack_open(tcp_stack *s, tcp_sock_id id, tcp_frame *f)
{
    f->ls = NULL;
    tcp_sk *e = find_sk(s, id);
    if (!e || e->tw)
        return NULL;
    return e->ls ? ls_open(s, e, f) : (tcp_conn *)e;
}

const tcp_conn *tcp_stack_view(const tcp_stack *s, tcp_sock_id id, tcp_frame *f)
{
    f->ls = NULL;
    const tcp_sk *e = find_sk(s, id);
    if (!e || e->tw)
        return NULL;
    if (!e->ls)
        return conn_of(e);
    tcp_conn_blank((tcp_stack *)s, &f->c);
    tcp_ls_restore(&f->c, ls_of(e));
    return &f->c;
}

/* The record of a listener rebuilt in a frame is gone: the listener was
 * reclaimed (conn_free: its queues and options with it) or moved to the
 * pool (they went with it). */
static void ls_forget(tcp_conn *c)
{
    tcp_frame *f = frame_of(c);
    free(f->ls);
    f->ls = NULL;
}

tcp_conn *tcp_stack_unframe(tcp_conn *c)
{
    if (!c->framed)
        return c;
    tcp_stack *s = c->stack;
    if (!s->pool.free && conn_pool_grow(s))
        return NULL;
    tcp_conn *n = pool_get(&s->pool, tcp_conn_slot_size(s));
    memcpy(n, c, tcp_conn_slot_size(s));
    n->framed = false;
    sk_replace(s, &c->sk, &n->sk);
    ls_forget(c);
    c->framed = false;
    return n;
}

void tcp_frame_close(tcp_frame *f)
{
    tcp_ls *ls = f->ls;
    if (!ls)
        return;
    tcp_conn *c = &f->c;
    /* The record keeps every field a call can change on a listener
     * (test_listener.c compares the two forms on each call), so a
     * listener rebuilt from it fits it again as long as it keeps the
     * shape. No call leaves it another shape but connect, which moves it
     * to the pool itself; should one, or should a field drift from its
     * blank value, it goes there, whether the invariant checker runs or
     * not: only the rare calls (tcp_user.c) rebuild a listener, so the
     * byte-for-byte check is paid on those alone. Out of memory, it goes
     * into the record as far as that holds. */
    if (!tcp_ls_fits(c) && tcp_stack_unframe(c))
        return;
    tcp_ls_save(ls, c);
    sk_replace(c->stack, &c->sk, &ls->sk);
    c->framed = false;
    f->ls = NULL;
}

void tcp_stack_ls_shrink(tcp_conn *c)
{
    if (c->framed || !tcp_ls_fits(c))
        return;
    tcp_stack *s = c->stack;
    tcp_ls *ls = calloc(1, sizeof *ls);
    if (!ls)
        return;
    ls->sk.ls = true;
    ls->sk.heap_idx = TCP_HEAP_NONE;
    tcp_ls_save(ls, c);
    sk_replace(s, &c->sk, &ls->sk);
    /* The record owns the queues, the options and the port's count now. */
    c->lq = NULL;
    c->opts = NULL;
    c->port_bound = false;
    pool_put(c);
    pool_release_if_unused(s);
}

/* The LISTEN rules (tcp_input.c), accept and listen again (tcp_user.c)
 * work on the record itself. A listener its record could not be
 * allocated for is a full connection: they work on a copy of what a
 * record of it would hold, which goes back into the connection after
 * them. */
tcp_ls *tcp_stack_ls_take(tcp_sk *e, tcp_ls *tmp)
{
    if (e->ls)
        return (tcp_ls *)e;
    memset(tmp, 0, sizeof *tmp);
    tcp_ls_save(tmp, (const tcp_conn *)e);
    return tmp;
}

void tcp_stack_ls_put(tcp_sk *e, const tcp_ls *ls)
{
    if (!e->ls)
        tcp_ls_restore((tcp_conn *)e, ls);
}

static void report_tcb_ls(tcp_stack *s, const tcp_ls *ls);

void tcp_stack_ls_settle(tcp_stack *s, tcp_sk *e, const tcp_ls *ls)
{
    if (!e->ls) {
        tcp_stack_ls_put(e, ls);
        tcp_stack_settle((tcp_conn *)e);
        return;
    }
    /* What tcp_stack_settle does for a listener: it holds no ring, runs
     * no timer and is never reclaimed in LISTEN; the checker (a debugging
     * mode) reads it rebuilt. */
    if (s->check_on) {
        tcp_frame f;
        tcp_check_after((tcp_conn *)tcp_stack_view(s, ls->id, &f));
    }
    report_tcb_ls(s, ls);
}

/* Frees the listener records a stack holds and what they and its
 * minisocks own (tcp_stack_free). */
static void records_free_all(tcp_stack *s)
{
    for (size_t i = 0; i <= s->by_id.mask; i++) {
        for (tcp_sk *e = tcp_table_slots(&s->by_id)[i], *next; e; e = next) {
            next = e->id_next;
            if (e->tw) {
                free(((tcp_tw *)e)->opts);
            } else if (e->ls) {
                tcp_ls *ls = (tcp_ls *)e;
                free(ls->lq);
                free(ls->opts);
                free(ls);
            }
        }
    }
}

static void listener_unlink(tcp_conn *child)
{
    tcp_lq *q = tcp_stack_parent_lq(child->stack, child->parent);
    if (!q || (!child->in_syn_q && !child->in_accept_q))
        return;
    tcp_conn **pp = child->in_syn_q ? &q->syn_q : &q->acc_head;
    tcp_conn *prev = NULL;
    while (*pp && *pp != child) {
        prev = *pp;
        pp = &(*pp)->q_next;
    }
    assert(*pp == child);
    *pp = child->q_next;
    if (child->in_syn_q) {
        q->syn_n--;
    } else {
        q->acc_n--;
        if (q->acc_tail == child)
            q->acc_tail = prev;
    }
    child->in_syn_q = child->in_accept_q = false;
    child->q_next = NULL;
}

static void conn_free(tcp_conn *c)
{
    if (c->framed && !frame_of(c)->ls)
        return; /* a rebuilt listener reclaimed already (a nested call closed it) */
    tcp_stack *s = c->stack;
    listener_unlink(c);
    heap_remove(s, &c->sk);
    tcp_stack_unhash(c);
    tcp_stack_listen_remove(c);
    table_remove(&s->by_id, &c->sk, LINK_ID);
    port_release(c);
    tcp_sndq_free(c);
    tcp_ring_free(&c->rcvq);
    if (c->framed) {
        free(c->opts);
        free(c->lq);
        c->opts = NULL;
        c->lq = NULL;
        c->state = TCP_CLOSED;
        c->id = 0;
        ls_forget(c); /* framed stays: a second conn_free finds it reclaimed */
    } else {
        pool_put(c);
    }
    pool_release_if_unused(s);
}

/* A ring is let go once empty (tcp_buf.c parks it for the next ring):
 * the send ring once every byte is acknowledged, the receive ring once
 * the user has read every byte and none is held out of order. An idle
 * connection holds no buffer, whatever its state. */
static void release_idle_rings(tcp_conn *c)
{
    if (!c->snd_pat && c->sndq.data && c->sndq.len == 0) {
        tcp_ring_release(&c->sndq, tcp_stack_scratch(c->stack));
        c->sndq_freed = true;
    }
    if (c->rcvq.data && c->rcvq.len == 0 && c->ooo_n == 0)
        tcp_ring_release(&c->rcvq, tcp_stack_scratch(c->stack));
}

static void emit(tcp_stack *s, const tcp_event *ev);

/* RFC 9293 §3.3.1: the variables a reader of the TCB wants, as the stack
 * holds them. IRS and RCV.* mean nothing before a SYN arrives, nor does
 * any of them in LISTEN: they read 0 there. */
static void tcb_fill(const tcp_conn *c, tcp_tcb *t)
{
    *t = (tcp_tcb){.state = c->state};
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        t->timer_at[k] = tcp_timer_at(c, (tcp_timer_kind)k);
    if (c->state == TCP_LISTEN)
        return;
    t->iss = c->iss;
    t->snd_una = c->snd_una;
    t->snd_nxt = c->snd_nxt;
    t->snd_max = c->snd_max;
    t->snd_wnd = c->snd_wnd;
    if (c->state != TCP_SYN_SENT) {
        t->irs = c->irs;
        t->rcv_nxt = c->rcv_nxt;
        t->rcv_wnd = tcp_rcv_wnd(c);
    }
}

/* A listener record's: LISTEN or CLOSED, no timer, the rest 0 (the
 * record has no sequence space: tcb_fill of the connection it stands
 * for reads the same). */
static void tcb_fill_ls(const tcp_ls *ls, tcp_tcb *t)
{
    *t = (tcp_tcb){.state = (tcp_state)ls->state};
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        t->timer_at[k] = TCP_NEVER;
}

int tcp_sock_tcb(const tcp_stack *s, tcp_sock_id id, tcp_tcb *out)
{
    const tcp_sk *e = find_sk(s, id);
    if (!e)
        return -1;
    if (e->ls) {
        tcb_fill_ls(ls_of(e), out);
        return 0;
    }
    if (!e->tw) {
        tcb_fill(conn_of(e), out);
        return 0;
    }
    /* A minisock reads as the connection it was: rebuilt on the side, as
     * for a segment, and read the one way. */
    struct {
        tcp_conn c;
        tcp_rcv_tune tune; /* the rest of a slot (tcp_tune) */
    } slot;
    tcp_conn_blank((tcp_stack *)s, &slot.c);
    tcp_tw_restore(&slot.c, tw_of(e), tw_deadline(e));
    tcb_fill(&slot.c, out);
    return 0;
}

static void report_tcb_of(tcp_stack *s, tcp_sock_id id, tcp_sock_id parent, const tcp_tcb *t)
{
    tcp_event ev = {
        .kind = TCP_EV_TCB,
        .time_ns = s->now,
        .sock = id,
        .parent = parent,
        .from = t->state,
        .to = t->state,
        .cause = TCP_CAUSE_SEGMENT,
        .tcb = t,
    };
    emit(s, &ev);
}

/* Reports the variables a call leaves c with (TCP_EV_TCB). */
static void report_tcb(tcp_conn *c)
{
    if (!c->stack->env->event || c->stack->no_tcb)
        return;
    tcp_tcb t;
    tcb_fill(c, &t);
    report_tcb_of(c->stack, c->id, c->parent, &t);
}

/* The same for a listener record (never a passive child: no parent). */
static void report_tcb_ls(tcp_stack *s, const tcp_ls *ls)
{
    if (!s->env->event || s->no_tcb)
        return;
    tcp_tcb t;
    tcb_fill_ls(ls, &t);
    report_tcb_of(s, ls->id, 0, &t);
}

void tcp_stack_settle(tcp_conn *c)
{
    release_idle_rings(c);
    if (c->stack->check_on)
        tcp_check_after(c);
    report_tcb(c);
    tcp_stack *s = c->stack;
    bool dead = c->state == TCP_CLOSED || (c->passive && c->state == TCP_LISTEN);
    if (dead && !c->user_held) {
        conn_free(c);
    } else {
        heap_update(s, c);
        if (tcp_tw_fits(c))
            tw_shrink(c);
    }
    tw_release_if_unused(s);
}

/* ---- Events -------------------------------------------------------------------------- */

static void emit(tcp_stack *s, const tcp_event *ev)
{
    if (s->env->event)
        s->env->event(s->ctx, ev);
}

/* An event of socket id (parent, state) that changes no state. */
static void ev_of(tcp_stack *s, tcp_sock_id id, tcp_sock_id parent, tcp_state st,
                  tcp_event_kind kind, int detail, const tcp_seg *seg, const char *note)
{
    tcp_event ev = {
        .kind = kind,
        .time_ns = s->now,
        .sock = id,
        .parent = parent,
        .from = st,
        .to = st,
        .cause = TCP_CAUSE_SEGMENT,
        .detail = detail,
        .seg = seg,
        .note = note,
    };
    if (s->check_on)
        tcp_check_note(s, id, kind, detail, seg);
    emit(s, &ev);
}

void tcp_ev(tcp_conn *c, tcp_event_kind kind, int detail, const tcp_seg *seg, const char *note)
{
    ev_of(c->stack, c->id, c->parent, c->state, kind, detail, seg, note);
}

void tcp_ev_ls(tcp_stack *s, const tcp_ls *ls, tcp_event_kind kind, int detail, const tcp_seg *seg,
               const char *note)
{
    ev_of(s, ls->id, 0, (tcp_state)ls->state, kind, detail, seg, note);
}

void tcp_ev_state(tcp_conn *c, tcp_state from, tcp_cause cause, const tcp_seg *seg,
                  const char *note)
{
    tcp_event ev = {
        .kind = TCP_EV_STATE,
        .time_ns = c->stack->now,
        .sock = c->id,
        .parent = c->parent,
        .from = from,
        .to = c->state,
        .cause = cause,
        .seg = seg,
        .note = note,
    };
    tcp_check_transition(c, from, cause, seg);
    emit(c->stack, &ev);
}

void tcp_ev_nosock(tcp_stack *s, tcp_event_kind kind, const tcp_seg *seg, const char *note)
{
    tcp_event ev = {
        .kind = kind,
        .time_ns = s->now,
        .from = TCP_CLOSED,
        .to = TCP_CLOSED,
        .cause = TCP_CAUSE_SEGMENT,
        .seg = seg,
        .note = note,
    };
    emit(s, &ev);
}

/* ---- Scratch ------------------------------------------------------------------------------ */

tcp_scratch *tcp_scratch_new(void)
{
    return calloc(1, sizeof(tcp_scratch));
}

static void scratch_free_bufs(tcp_scratch *sc)
{
    while (sc->bufs) {
        tcp_scratch_buf *b = sc->bufs;
        assert(!b->busy);
        sc->bufs = b->next;
        free(b);
    }
}

void tcp_scratch_free(tcp_scratch *sc)
{
    if (!sc)
        return;
    scratch_free_bufs(sc);
    tcp_ring_spares_free(sc);
    free(sc->spare_chunk);
    free(sc);
}

/* Levels are taken in list order and a new one is appended only when all
 * are busy, so the depth of nesting bounds the memory, and which level a
 * segment is built in never shows in what is sent. */
tcp_scratch_buf *tcp_scratch_claim(tcp_stack *s)
{
    tcp_scratch_buf **pp = &tcp_stack_scratch(s)->bufs;
    while (*pp && (*pp)->busy)
        pp = &(*pp)->next;
    if (!*pp) {
        *pp = malloc(sizeof **pp);
        if (!*pp)
            return NULL;
        (*pp)->next = NULL;
    }
    (*pp)->busy = true;
    return *pp;
}

void tcp_scratch_release(tcp_scratch_buf *b)
{
    assert(b->busy);
    b->busy = false;
}

/* ---- The stack ---------------------------------------------------------------------------- */

tcp_stack *tcp_stack_new(const tcp_env *env, void *ctx, uint32_t addr, const tcp_profile *profile)
{
    assert(profile);
    tcp_profile *own = malloc(sizeof *own);
    if (!own)
        return NULL;
    *own = *profile;
    own->name[sizeof own->name - 1] = '\0';
    tcp_stack *s = tcp_stack_new_shared(env, ctx, addr, own);
    if (!s) {
        free(own);
        return NULL;
    }
    s->own_profile = true;
    return s;
}

/* A copy of env with a scratch space of its own; NULL on out-of-memory. */
static tcp_env *own_env_new(const tcp_env *env)
{
    tcp_env *own = malloc(sizeof *own);
    if (!own)
        return NULL;
    *own = *env;
    if (!(own->scratch = tcp_scratch_new())) {
        free(own);
        return NULL;
    }
    return own;
}

tcp_stack *tcp_stack_new_shared(const tcp_env *env, void *ctx, uint32_t addr,
                                const tcp_profile *profile)
{
    assert(env && env->now_ns && env->random && env->output && profile);
    tcp_stack *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = env;
    s->ctx = ctx;
    s->addr = addr;
    s->profile = profile;
    s->next_id = 1;
    table_init(&s->by_id);
    table_init(&s->by_tuple);
    s->heap_bits = 1; /* TCP_TABLE_FIRST slots */
    ports_init(s);
    /* RFC 6528 §3: the secret is drawn once per stack (so per seed). */
    s->isn_key[0] = env->random(ctx);
    s->isn_key[1] = env->random(ctx);
    /* Without a shared scratch space the stack keeps its own, in its own
     * copy of env: one pointer serves both cases. One level exists from
     * the start, so a segment without nesting is always built (the shared
     * scratch gets it from its first stack). */
    if (!env->scratch && !(s->env = own_env_new(env))) {
        tcp_stack_free(s);
        return NULL;
    }
    s->own_env = !env->scratch;
    if (tcp_check_default() && tcp_check_enable(s, true, NULL, NULL)) {
        tcp_stack_free(s);
        return NULL;
    }
    tcp_scratch_buf *b = tcp_scratch_claim(s);
    if (!b) {
        tcp_stack_free(s);
        return NULL;
    }
    tcp_scratch_release(b);
    return s;
}

void tcp_stack_free(tcp_stack *s)
{
    if (!s)
        return;
    records_free_all(s);        /* first: the id table's chains run through the pools */
    size_t i = s->pool.nchunks; /* the newest chunk's index + 1 */
    for (tcp_chunk *k = s->pool.chunks; k; k = k->u.older) {
        size_t n = pool_chunk_len(--i);
        for (size_t j = 0; j < n; j++) {
            tcp_conn *c = conn_slot(s, k, j);
            tcp_sndq_free(c);
            tcp_ring_free(&c->rcvq);
            free(c->ooo);
            free(c->opts);
            free(tcp_conn_lq(c));
        }
    }
    pool_free_chunks(&s->pool, NULL);
    if (s->tw_pool)
        tw_pool_free(s);
    table_free(&s->by_id);
    table_free(&s->by_tuple);
    if (!tcp_stack_heap_inline(s))
        free(s->heap.more);
    ports_free(s);
    if (s->own_env) {
        tcp_scratch_free(s->env->scratch);
        free((tcp_env *)s->env);
    }
    if (s->own_profile)
        free((tcp_profile *)s->profile);
    free(s->check);
    free(s);
}

void tcp_stack_set_tcb_events(tcp_stack *s, bool on)
{
    s->no_tcb = !on;
}

const tcp_profile *tcp_stack_profile(const tcp_stack *s)
{
    return s->profile;
}

size_t tcp_stack_conns(const tcp_stack *s)
{
    return s->by_id.count;
}

uint64_t tcp_stack_malformed(const tcp_stack *s)
{
    return s->malformed;
}

size_t tcp_conn_size(void)
{
    return sizeof(tcp_conn);
}

/* What a table holds beyond the stack's own first slots. */
static size_t table_bytes(const tcp_table *t)
{
    return t->mask >= TCP_TABLE_FIRST ? (t->mask + 1) * sizeof(tcp_sk *) : 0;
}

/* Slots of a pool's chunks, their headers in bytes to *head_bytes. */
static size_t pool_slots(const tcp_pool *p, size_t *head_bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nchunks; i++)
        n += pool_chunk_len(i);
    *head_bytes += p->nchunks * sizeof(tcp_chunk);
    return n;
}

/* The listener records, with their queues and option records. */
/* Listener records with what they own; the options records minisocks
 * own go to *tw_opts. */
static size_t ls_bytes(const tcp_stack *s, size_t *count, size_t *tw_opts)
{
    size_t n = 0;
    *count = 0;
    for (size_t i = 0; i <= s->by_id.mask; i++) {
        for (const tcp_sk *e = tcp_table_slots(&s->by_id)[i]; e; e = e->id_next) {
            if (e->tw && tw_of(e)->opts)
                *tw_opts += sizeof(tcp_conn_opts);
            if (!e->ls)
                continue;
            ++*count;
            n += sizeof(tcp_ls) + (ls_of(e)->lq ? sizeof(tcp_lq) : 0) +
                 (ls_of(e)->opts ? sizeof(tcp_conn_opts) : 0);
        }
    }
    return n;
}

void tcp_stack_mem(const tcp_stack *s, tcp_mem *m)
{
    uint32_t tws = s->tw_pool ? s->tw_pool->used : 0;
    *m = (tcp_mem){.tws = tws, .tw_bytes = tws * sizeof(tcp_tw)};
    size_t lq = 0, heads = 0, i = s->pool.nchunks; /* the newest chunk's index + 1 */
    for (const tcp_chunk *k = s->pool.chunks; k; k = k->u.older) {
        size_t n = pool_chunk_len(--i);
        for (size_t j = 0; j < n; j++) {
            const tcp_conn *c = conn_slot(s, k, j);
            m->ring_bytes += tcp_sndq_bytes(c) + tcp_ring_bytes(&c->rcvq);
            lq += tcp_conn_lq(c) ? sizeof(tcp_lq) : 0;
            lq += c->opts ? sizeof(tcp_conn_opts) : 0;
        }
    }
    size_t pool = pool_slots(&s->pool, &heads);
    size_t tw_pool = s->tw_pool ? pool_slots(s->tw_pool, &heads) : 0;
    heads += s->tw_pool ? sizeof *s->tw_pool : 0;
    size_t tw_opts = 0;
    m->listener_bytes = ls_bytes(s, &m->listeners, &tw_opts);
    m->tw_bytes += tw_opts;
    m->conns = s->pool.used;
    m->conn_bytes = m->conns * tcp_conn_slot_size(s);
    m->index_bytes =
        table_bytes(&s->by_id) + table_bytes(&s->by_tuple) +
        (tcp_stack_heap_inline(s) ? 0 : ((size_t)1 << s->heap_bits) * sizeof(tcp_sk *)) +
        (tcp_stack_ports_inline(s) ? 0 : (ports_mask(s) + 1) * sizeof(tcp_port_ent));
    m->total_bytes = sizeof *s + (s->own_profile ? sizeof *s->profile : 0) +
                     (s->check ? sizeof *s->check : 0) + pool * tcp_conn_slot_size(s) +
                     tw_pool * sizeof(tcp_tw) + tw_opts + heads + m->ring_bytes + m->index_bytes +
                     lq + m->listener_bytes;
    if (s->own_env) {
        const tcp_scratch *sc = tcp_stack_scratch(s);
        m->total_bytes += sizeof *s->env + sizeof *sc + tcp_ring_spares_bytes(sc) +
                          (sc->spare_chunk ? sizeof(tcp_chunk) + sc->spare_conn_size : 0);
        for (const tcp_scratch_buf *b = sc->bufs; b; b = b->next)
            m->total_bytes += sizeof *b;
    }
}

uint64_t tcp_stack_next_deadline(const tcp_stack *s)
{
    return s->heap_len ? tcp_stack_heap(s)[0]->heap_at : UINT64_MAX;
}

void tcp_stack_on_time(tcp_stack *s)
{
    s->now = s->env->now_ns(s->ctx);
    while (s->heap_len && tcp_stack_heap(s)[0]->heap_at <= s->now) {
        tcp_conn *c = conn_at(s, tcp_stack_heap(s)[0], false);
        if (!c)
            continue; /* out of memory: the minisock ended without its events (conn_at, tw_drop) */
        tcp_timer_run(c);
        /* Every timer that ran was disarmed or moved past now. */
        assert(c->state == TCP_CLOSED || earliest(c) > s->now);
        tcp_stack_settle(c);
    }
}

/* A segment to connection c (NULL: none; or none rebuilt, out of
 * memory, if `found`). */
static void input_to(tcp_stack *s, tcp_conn *c, bool found, const tcp_seg *seg)
{
    if (found && !c) {
        tcp_ev_nosock(s, TCP_EV_DROP, seg, "out of memory");
        return;
    }
    if (!c) {
        tcp_ev_nosock(s, TCP_EV_SEG_IN, seg, NULL);
        tcp_input_no_conn(s, seg);
        return;
    }
    c->stats.segs_in++;
    c->stats.bytes_in += seg->len;
    tcp_ev(c, TCP_EV_SEG_IN, 0, seg, NULL);
    tcp_input(c, seg);
    tcp_stack_settle(c);
}

static void malformed_count(tcp_stack *s)
{
    if (s->malformed < UINT32_MAX)
        s->malformed++;
}

void tcp_stack_input(tcp_stack *s, const uint8_t *datagram, size_t len)
{
    s->now = s->env->now_ns(s->ctx);
    tcp_seg seg;
    tcp_wire_err err = datagram ? tcp_wire_parse(datagram, len, &seg) : TCP_WIRE_TRUNCATED;
    if (err != TCP_WIRE_OK) {
        malformed_count(s);
        tcp_ev_nosock(s, TCP_EV_DROP, NULL, tcp_wire_err_name(err));
        return;
    }
    if (seg.dst_addr != s->addr) {
        tcp_ev_nosock(s, TCP_EV_DROP, &seg, "not our address");
        return;
    }
    if (seg.src_port == 0 || seg.dst_port == 0) {
        malformed_count(s);
        tcp_ev_nosock(s, TCP_EV_DROP, &seg, "port 0");
        return;
    }
    /* RFC 9293 §3.10.7: the connection of the 4-tuple (a SYN that ends
     * its TIME-WAIT finds the listener itself: tcp_input.c, RFC 1122
     * §4.2.2.13); else the listener of the port (§3.10.7.2, on its
     * record); else none (§3.10.7.1). */
    tcp_sk *e = tcp_stack_lookup(s, seg.dst_port, seg.src_addr, seg.src_port);
    if (e) {
        input_to(s, conn_at(s, e, true), true, &seg);
        return;
    }
    tcp_sk *l = tcp_stack_listener(s, seg.dst_port);
    if (l)
        tcp_input_listen(s, l, &seg);
    else
        input_to(s, NULL, false, &seg);
}
