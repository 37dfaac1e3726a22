/*
 * net_draw — keyed link draws (net.h, net_set_keyed_draws): the key the
 * event core asks for (sim_link.h, sim_draw_key_fn) for each datagram a
 * link admits, naming the TCP segment it carries, so the same segment
 * meets the same fate on a link whenever it is sent and whatever was sent
 * before it.
 *
 * A segment is named by its flow (addresses and ports, as sent), its
 * sequence number relative to its sender's ISN, its acknowledgment number
 * relative to the receiver's ISN (0 without ACK), its payload length, its
 * flags but PSH, ECE and CWR (which mark how a segment was sent, not which
 * it is) and its occurrence: the n-th time the same (flow, seq, ack, len,
 * flags) is admitted, so a retransmission draws afresh. (Hosts do not
 * forward: a flow's datagrams cross one link direction only, so the count
 * needs no link in it; the core adds the link to the key.) The ISNs are
 * learned from the SYNs seen on any link (RFC 9293 §3.4: a SYN's sequence
 * number is its sender's ISN); a sequence or acknowledgment number whose
 * ISN was never seen is taken as it is. Options (timestamps, SACK blocks)
 * and the window are left out: they change with timing.
 *
 * Invariants:
 *  1. Each table is open addressing, linear probing, at most half full, its
 *     capacity a power of two; it grows by doubling, so the cost per
 *     datagram is a parse, a few hashes and one or two probes, and the
 *     heap is touched only when a table doubles or is first made.
 *  2. Keys are 64-bit hashes (0 stands for 1: 0 marks an empty slot): of a
 *     segment's name for its occurrence count, of a half flow for its ISN.
 *     Two names sharing a hash would share an entry, which at 2^-64 a pair
 *     is left to chance.
 *  3. Memory is bounded whatever crosses the links (a flood of distinct
 *     segments, SYNs from ever new ports): each map is two tables, the
 *     current one and the one before it. When the current one holds `gen`
 *     keys and a new key comes, the one before is emptied and becomes the
 *     current one; a key found only in the one before is written again to
 *     the current one. So a map remembers at least the last `gen` keys
 *     written or read, never more than 2 * gen, in at most 4 * gen slots
 *     (NET_KEYED_DRAWS_MAX_BYTES). A segment name forgotten (gen newer
 *     names came between two sendings) counts from 0 again, so that one
 *     sending draws as the first did; a flow's ISN forgotten (gen newer
 *     flows, none of its segments between) leaves its numbers absolute
 *     until its next SYN. Which keys are forgotten depends only on the
 *     datagrams admitted, in their order: never on addresses or timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

/* One table of keys (invariant 2) to 32-bit values. */
typedef struct draw_slot {
    uint64_t key; /* 0: empty */
    uint32_t val;
} draw_slot;

typedef struct draw_tab {
    draw_slot *slots; /* NULL until needed (the one before, until the first turn) */
    uint32_t mask, n;
} draw_tab;

/* Invariant 3: the current table and the one before it. */
typedef struct draw_map {
    draw_tab cur, old;
    uint32_t gen;
} draw_map;

struct net_draws {
    draw_map isns; /* a half flow's hash -> its sender's ISN */
    draw_map occs; /* a segment name's hash -> how many times it was admitted */
};

/* Keys per generation: flows whose ISN is kept, segment names counted. */
#define DRAW_ISN_GEN   (1u << 12)
#define DRAW_OCC_GEN   (1u << 16)
#define DRAW_ISN_FIRST 8u
#define DRAW_OCC_FIRST 256u

_Static_assert(sizeof(struct net_draws) + 4u * (DRAW_ISN_GEN + DRAW_OCC_GEN) * sizeof(draw_slot) <=
                   NET_KEYED_DRAWS_MAX_BYTES,
               "net.h's bound covers invariant 3's four tables of at most 2 * gen slots");

/* The header fields that name a segment. */
typedef struct draw_seg {
    uint32_t src, dst, seq, ack, len;
    uint16_t sport, dport;
    uint8_t flags;
} draw_seg;

/* The flags that name a segment: all but PSH, ECE and CWR (tcp_wire.h). */
#define DRAW_NAMING_FLAGS (TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK | TCP_URG)

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint16_t be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* The IPv4 and TCP header fields (RFC 791 §3.1, RFC 9293 §3.1), without
 * the checksum: a datagram is named as it was sent, and corruption comes
 * after the draws. False for anything else, whose draws fall back to the
 * direction's stream. */
static bool parse(const uint8_t *b, uint32_t len, draw_seg *s)
{
    if (len < 20 || b[0] >> 4 != 4 || b[9] != 6)
        return false;
    uint32_t ihl = (b[0] & 0x0fu) * 4u, total = be16(b + 2);
    if (ihl < 20 || total > len || total < ihl + 20)
        return false;
    const uint8_t *t = b + ihl;
    uint32_t doff = (uint32_t)(t[12] >> 4) * 4u;
    if (doff < 20 || ihl + doff > total)
        return false;
    *s = (draw_seg){.src = be32(b + 12),
                    .dst = be32(b + 16),
                    .sport = be16(t),
                    .dport = be16(t + 2),
                    .seq = be32(t + 4),
                    .ack = be32(t + 8),
                    .flags = t[13],
                    .len = total - ihl - doff};
    return true;
}

/* As net_grow: out of memory mid-run has no way back. */
static _Noreturn void draw_oom(void)
{
    fprintf(stderr, "tcpsim: out of memory\n");
    abort();
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    return sim_hash_u64(h ^ sim_hash_u64(v));
}

/* The slot holding key, or the empty one where it would go. */
static draw_slot *tab_slot(const draw_tab *t, uint64_t key)
{
    uint32_t i = (uint32_t)sim_hash_u64(key) & t->mask;
    while (t->slots[i].key != 0 && t->slots[i].key != key)
        i = (i + 1) & t->mask;
    return &t->slots[i];
}

static int tab_make(draw_tab *t, uint32_t cap)
{
    if (!(t->slots = calloc(cap, sizeof *t->slots)))
        return -1;
    t->mask = cap - 1;
    t->n = 0;
    return 0;
}

/* Invariant 1: doubles before passing half full. */
static void tab_grow(draw_tab *t)
{
    draw_tab old = *t;
    if (tab_make(t, (old.mask + 1) * 2) != 0)
        draw_oom();
    t->n = old.n;
    for (uint32_t i = 0; i <= old.mask; i++)
        if (old.slots[i].key)
            *tab_slot(t, old.slots[i].key) = old.slots[i];
    free(old.slots);
}

/* Invariant 3: the one before is emptied and becomes the current one, at
 * the capacity the current one reached (made once, then reused). */
static void map_turn(draw_map *m)
{
    draw_tab t = m->old;
    m->old = m->cur;
    if (t.slots) {
        memset(t.slots, 0, (size_t)(t.mask + 1) * sizeof *t.slots);
        t.n = 0;
    } else if (tab_make(&t, m->old.mask + 1) != 0) {
        draw_oom();
    }
    m->cur = t;
}

static void map_put(draw_map *m, uint64_t key, uint32_t val)
{
    draw_slot *s = tab_slot(&m->cur, key);
    if (s->key == 0) {
        if (m->cur.n == m->gen)
            map_turn(m);
        if ((m->cur.n + 1) * 2 > m->cur.mask + 1)
            tab_grow(&m->cur);
        s = tab_slot(&m->cur, key);
        s->key = key;
        m->cur.n++;
    }
    s->val = val;
}

/* True and *val set when key is remembered; a key found in the one before
 * is written again to the current one (invariant 3). */
static bool map_get(draw_map *m, uint64_t key, uint32_t *val)
{
    const draw_slot *s = tab_slot(&m->cur, key);
    if (s->key == 0) {
        if (!m->old.slots || (s = tab_slot(&m->old, key))->key == 0)
            return false;
        map_put(m, key, s->val);
        s = tab_slot(&m->cur, key);
    }
    *val = s->val;
    return true;
}

static int map_init(draw_map *m, uint32_t gen, uint32_t first)
{
    *m = (draw_map){.gen = gen};
    return tab_make(&m->cur, first);
}

static void map_free(draw_map *m)
{
    free(m->cur.slots);
    free(m->old.slots);
}

static size_t map_bytes(const draw_map *m)
{
    size_t slots = (size_t)m->cur.mask + 1 + (m->old.slots ? (size_t)m->old.mask + 1 : 0);
    return slots * sizeof(draw_slot);
}

/* The key of the half flow (src, sport) -> (dst, dport). */
static uint64_t flow_key(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
    uint64_t h = mix((uint64_t)src << 32 | dst, (uint64_t)sport << 16 | dport);
    return h + (h == 0); /* invariant 2 */
}

/* The ISN of the sender of (src, sport) -> (dst, dport), or 0 when none
 * is remembered. */
static uint32_t isn_of(net_draws *d, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
    uint32_t isn = 0;
    map_get(&d->isns, flow_key(src, sport, dst, dport), &isn);
    return isn;
}

/* A SYN names its sender's ISN; a later one (a new incarnation of the
 * flow) replaces it. */
static void isn_learn(net_draws *d, const draw_seg *s)
{
    map_put(&d->isns, flow_key(s->src, s->sport, s->dst, s->dport), s->seq);
}

/* How many times before this one the segment named `name` was admitted
 * (as far as remembered: invariant 3); counts this one. */
static uint32_t occ_count(net_draws *d, uint64_t name)
{
    uint32_t count = 0;
    map_get(&d->occs, name, &count);
    map_put(&d->occs, name, count + 1);
    return count;
}

static bool draw_key(void *ctx, const sim_link *l, int dir, const sim_packet *p, uint64_t *key)
{
    (void)l;
    (void)dir;
    net_draws *d = ctx;
    draw_seg s;
    /* The headers only (parse reads no byte past the TCP header's 20, at
     * most 80 in): a split packet's payload is not copied. */
    uint8_t head[80];
    size_t n = p->len < sizeof head ? p->len : sizeof head;
    const uint8_t *b = p->data; /* in place when those bytes are contiguous: no copy */
    if (sim_packet_head_len(p) < n) {
        sim_packet_copy_out(p, 0, head, n);
        b = head;
    }
    if (!parse(b, p->len, &s))
        return false;
    if (s.flags & TCP_SYN)
        isn_learn(d, &s);
    uint32_t rseq = s.seq - isn_of(d, s.src, s.sport, s.dst, s.dport);
    uint32_t rack = s.flags & TCP_ACK ? s.ack - isn_of(d, s.dst, s.dport, s.src, s.sport) : 0;
    uint64_t name = mix((uint64_t)s.src << 32 | s.dst, (uint64_t)s.sport << 16 | s.dport);
    name = mix(name, (uint64_t)rseq << 32 | rack);
    name = mix(name, (uint64_t)s.len << 8 | (s.flags & DRAW_NAMING_FLAGS));
    name += name == 0; /* invariant 2 */
    *key = mix(name, occ_count(d, name));
    return true;
}

int net_set_keyed_draws(net *n, bool on)
{
    if (!on) {
        sim_world_set_draw_key(n->world, NULL, NULL);
        net_draws_free(n);
        return 0;
    }
    if (n->draws)
        return 0;
    net_draws *d = calloc(1, sizeof *d);
    if (!d || map_init(&d->isns, DRAW_ISN_GEN, DRAW_ISN_FIRST) != 0 ||
        map_init(&d->occs, DRAW_OCC_GEN, DRAW_OCC_FIRST) != 0) {
        if (d) {
            map_free(&d->isns);
            map_free(&d->occs);
        }
        free(d);
        return sim_world_fail(n->world, "out of memory turning keyed draws on");
    }
    n->draws = d;
    sim_world_set_draw_key(n->world, draw_key, d);
    return 0;
}

size_t net_keyed_draws_bytes(const net *n)
{
    const net_draws *d = n->draws;
    if (!d)
        return 0;
    return sizeof *d + map_bytes(&d->isns) + map_bytes(&d->occs);
}

bool net_keyed_draws(const net *n)
{
    return n->draws != NULL;
}

void net_draws_free(net *n)
{
    if (!n->draws)
        return;
    map_free(&n->draws->isns);
    map_free(&n->draws->occs);
    free(n->draws);
    n->draws = NULL;
}
