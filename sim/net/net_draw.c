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
 *     capacity a power of two; it only grows (doubling), so the cost per
 *     datagram is a parse, a few hashes and one or two probes, and the
 *     heap is touched only when a table doubles.
 *  2. The occurrence table holds one count per distinct segment ever
 *     admitted, by the 64-bit hash of its name (0 stands for 1: 0 marks an
 *     empty slot); two names sharing a hash would share a count, which at
 *     2^-64 a pair is left to chance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

/* A sender's ISN, by its half of the flow. */
typedef struct draw_isn {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t isn;
    bool used;
} draw_isn;

typedef struct draw_occ {
    uint64_t name; /* 0: empty */
    uint32_t count;
} draw_occ;

struct net_draws {
    draw_isn *isns;
    uint32_t isn_mask, nisns;
    draw_occ *occs;
    uint32_t occ_mask, noccs;
};

/* The header fields that name a segment. */
typedef struct draw_seg {
    uint32_t src, dst, seq, ack, len;
    uint16_t sport, dport;
    uint8_t flags;
} draw_seg;

#define DRAW_FIN          0x01u
#define DRAW_SYN          0x02u
#define DRAW_RST          0x04u
#define DRAW_ACK          0x10u
#define DRAW_URG          0x20u
#define DRAW_NAMING_FLAGS (DRAW_FIN | DRAW_SYN | DRAW_RST | DRAW_ACK | DRAW_URG)

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

static uint32_t isn_slot(const net_draws *d, uint32_t src, uint16_t sport, uint32_t dst,
                         uint16_t dport)
{
    uint64_t h = sim_hash_u64((uint64_t)src << 32 | dst);
    h = sim_hash_u64(h ^ ((uint64_t)sport << 16 | dport));
    uint32_t i = (uint32_t)h & d->isn_mask;
    for (;; i = (i + 1) & d->isn_mask) {
        const draw_isn *e = &d->isns[i];
        if (!e->used || (e->src == src && e->dst == dst && e->sport == sport && e->dport == dport))
            return i;
    }
}

static uint32_t occ_slot(const net_draws *d, uint64_t name)
{
    uint32_t i = (uint32_t)sim_hash_u64(name) & d->occ_mask;
    while (d->occs[i].name != 0 && d->occs[i].name != name)
        i = (i + 1) & d->occ_mask;
    return i;
}

/* As net_grow: out of memory mid-run has no way back. */
static _Noreturn void draw_oom(void)
{
    fprintf(stderr, "tcpsim: out of memory\n");
    abort();
}

/* Invariant 1: both tables double before they pass half full. */
static void isn_grow(net_draws *d)
{
    uint32_t cap = (d->isn_mask + 1) * 2;
    draw_isn *old = d->isns;
    uint32_t oldcap = d->isn_mask + 1;
    if (!(d->isns = calloc(cap, sizeof *d->isns)))
        draw_oom();
    d->isn_mask = cap - 1;
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].used)
            d->isns[isn_slot(d, old[i].src, old[i].sport, old[i].dst, old[i].dport)] = old[i];
    free(old);
}

static void occ_grow(net_draws *d)
{
    uint32_t cap = (d->occ_mask + 1) * 2;
    draw_occ *old = d->occs;
    uint32_t oldcap = d->occ_mask + 1;
    if (!(d->occs = calloc(cap, sizeof *d->occs)))
        draw_oom();
    d->occ_mask = cap - 1;
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].name)
            d->occs[occ_slot(d, old[i].name)] = old[i];
    free(old);
}

/* The ISN of the sender of (src, sport) -> (dst, dport), or 0 when none
 * was seen. */
static uint32_t isn_of(const net_draws *d, uint32_t src, uint16_t sport, uint32_t dst,
                       uint16_t dport)
{
    const draw_isn *e = &d->isns[isn_slot(d, src, sport, dst, dport)];
    return e->used ? e->isn : 0;
}

/* A SYN names its sender's ISN; a later one (a new incarnation of the
 * flow) replaces it. */
static void isn_learn(net_draws *d, const draw_seg *s)
{
    if ((d->nisns + 1) * 2 > d->isn_mask + 1)
        isn_grow(d);
    draw_isn *e = &d->isns[isn_slot(d, s->src, s->sport, s->dst, s->dport)];
    if (!e->used)
        d->nisns++;
    *e = (draw_isn){s->src, s->dst, s->sport, s->dport, s->seq, true};
}

/* How many times before this one the segment named `name` was admitted;
 * counts this one. */
static uint32_t occ_count(net_draws *d, uint64_t name)
{
    if ((d->noccs + 1) * 2 > d->occ_mask + 1)
        occ_grow(d);
    draw_occ *e = &d->occs[occ_slot(d, name)];
    if (e->name == 0) {
        e->name = name;
        d->noccs++;
    }
    return e->count++;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    return sim_hash_u64(h ^ sim_hash_u64(v));
}

static bool draw_key(void *ctx, const sim_link *l, int dir, const sim_packet *p, uint64_t *key)
{
    (void)l;
    (void)dir;
    net_draws *d = ctx;
    draw_seg s;
    if (!parse(p->data, p->len, &s))
        return false;
    if (s.flags & DRAW_SYN)
        isn_learn(d, &s);
    uint32_t rseq = s.seq - isn_of(d, s.src, s.sport, s.dst, s.dport);
    uint32_t rack = s.flags & DRAW_ACK ? s.ack - isn_of(d, s.dst, s.dport, s.src, s.sport) : 0;
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
    if (d) {
        d->isns = calloc(8, sizeof *d->isns);
        d->occs = calloc(256, sizeof *d->occs);
    }
    if (!d || !d->isns || !d->occs) {
        if (d) {
            free(d->isns);
            free(d->occs);
        }
        free(d);
        return sim_world_fail(n->world, "out of memory turning keyed draws on");
    }
    d->isn_mask = 7;
    d->occ_mask = 255;
    n->draws = d;
    sim_world_set_draw_key(n->world, draw_key, d);
    return 0;
}

bool net_keyed_draws(const net *n)
{
    return n->draws != NULL;
}

void net_draws_free(net *n)
{
    if (!n->draws)
        return;
    free(n->draws->isns);
    free(n->draws->occs);
    free(n->draws);
    n->draws = NULL;
}
