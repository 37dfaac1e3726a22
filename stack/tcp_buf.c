/*
 * tcp_buf — byte rings for the send and receive buffers, and the list of
 * out-of-order ranges held in the receive ring.
 *
 * A ring's memory is allocated on its first use (buffers are lazy), at the
 * size that use needs (at least TCP_RING_MIN), and doubles when a write
 * needs more, up to the connection's buffer size: a connection that moves
 * 1 kB holds 1 KiB rings, not 64 KiB ones. Growth copies the ring once per
 * doubling (amortized O(1) per byte, at most log2(size / TCP_RING_MIN)
 * times per connection). A ring left empty is let go (tcp_ring_release):
 * its memory is parked in the scratch space that the world's stacks
 * share, a few rings at most, and the next ring to be allocated takes it,
 * so an idle connection holds no ring and a connection whose reader keeps
 * up does not allocate per segment. The receive ring holds the in-order unread
 * bytes [head, head+len) followed, at their offsets from RCV.NXT, by
 * out-of-order bytes, the ring growing to cover the offset of each write.
 * The window offered may pass the buffer by less than one unit of the
 * window scale (it is rounded up so as not to be scaled away); a write
 * past the ring's maximum is refused (tcp_ring_reserve) and the receiver
 * drops that segment.
 *
 * Lending (zero-copy output, tcp_ring_lend): a ring's memory is a block
 * with a reference count and TCP_RING_ROOM bytes of room before its first
 * byte. A segment whose payload starts the block and does not wrap can go
 * out as one contiguous datagram built in place (headers in the room), the
 * datagram holding a reference until the environment lets it go
 * (tcp_ring_lent_release). While a block is lent its first `lent` bytes
 * and the room are immutable: the ring's only writes go through
 * tcp_ring_reserve, which moves the ring to a copy of the block before a
 * write would land in them (copy-on-write); growth moves it anyway; a
 * freed or released ring drops its reference (a lent block is never
 * parked), and the last reference frees the block, wherever it is (a
 * datagram may outlive its connection and its stack).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

#define TCP_RING_MIN 256u

/* A ring's memory: this header, then cap bytes of data (the data 8-byte
 * aligned, as malloc's would be). The capacity is the block's, not the
 * ring header's: a connection without a ring does not pay for it. */
typedef struct ring_block {
    uint32_t refs; /* the ring (while it points here) and each datagram lent from it */
    uint32_t lent; /* while refs > 1: the first `lent` bytes are read by a datagram */
    uint32_t cap;
    _Alignas(8) uint8_t room[TCP_RING_ROOM];
} ring_block;

static ring_block *block_of(const uint8_t *data)
{
    return (ring_block *)(void *)(data - sizeof(ring_block));
}

static uint8_t *block_new(uint32_t cap)
{
    ring_block *b = malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    b->refs = 1;
    b->lent = 0;
    b->cap = cap;
    return (uint8_t *)(b + 1);
}

uint32_t tcp_ring_cap(const tcp_ring *r)
{
    return r->data ? block_of(r->data)->cap : 0;
}

/* Drops one reference to the block holding data (NULL: none). */
static void block_unref(uint8_t *data)
{
    if (!data)
        return;
    ring_block *b = block_of(data);
    assert(b->refs > 0);
    if (--b->refs == 0)
        free(b);
}

static bool ring_lent(const tcp_ring *r)
{
    return r->data && block_of(r->data)->refs > 1;
}

/* Where ring offset off lies in the ring's memory; *first: how many of
 * the n bytes from there come before the wrap. */
static uint32_t ring_span(const tcp_ring *r, uint32_t off, uint32_t n, uint32_t *first)
{
    uint32_t cap = tcp_ring_cap(r);
    uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % cap);
    *first = cap - pos < n ? cap - pos : n;
    return pos;
}

/* Whether writing n bytes at ring offset off would change bytes a
 * datagram reads. */
static bool write_hits_lent(const tcp_ring *r, uint32_t off, uint32_t n)
{
    if (!n || !ring_lent(r))
        return false;
    uint32_t first;
    uint32_t pos = ring_span(r, off, n, &first);
    return pos < block_of(r->data)->lent || n > first; /* lent bytes start the block */
}

/* Copy-on-write: the ring moves to a copy of its block, leaving the lent
 * block to its datagrams. */
static int ring_unshare(tcp_ring *r)
{
    uint32_t cap = tcp_ring_cap(r);
    uint8_t *data = block_new(cap);
    if (!data)
        return TCP_ENOMEM;
    memcpy(data, r->data, cap);
    block_unref(r->data);
    r->data = data;
    return 0;
}

static uint32_t ring_size_for(uint32_t cap, uint32_t need, uint32_t max)
{
    uint64_t c = cap ? cap : TCP_RING_MIN;
    while (c < need)
        c *= 2;
    return c > max ? max : (uint32_t)c;
}

/* The smallest parked ring that a new ring needing `need` of at most
 * `max` bytes can take, or NULL. Slots are scanned in order, so the choice
 * depends on sizes only (never on addresses). */
static tcp_spare *spare_for(tcp_scratch *sc, uint32_t need, uint32_t max)
{
    tcp_spare *best = NULL;
    for (uint32_t i = 0; sc && i < TCP_SPARES; i++) {
        tcp_spare *p = &sc->spare[i];
        if (p->cap >= need && p->cap <= max && (!best || p->cap < best->cap))
            best = p;
    }
    return best;
}

int tcp_ring_reserve(tcp_ring *r, uint32_t need, uint32_t max, tcp_scratch *sc)
{
    if (r->data && need <= tcp_ring_cap(r))
        return need > r->len && write_hits_lent(r, r->len, need - r->len) ? ring_unshare(r) : 0;
    if (need > max || max == 0)
        return TCP_EINVAL; /* past the buffer: the caller drops the write */
    tcp_spare *p = r->data ? NULL : spare_for(sc, ring_size_for(0, need, max), max);
    if (p) {
        r->data = p->data;
        r->head = r->len = 0;
        *p = (tcp_spare){0};
        return 0;
    }
    uint32_t cap = ring_size_for(tcp_ring_cap(r), need, max);
    uint8_t *data = block_new(cap);
    if (!data)
        return TCP_ENOMEM;
    if (r->data) {
        /* Every offset below the old capacity keeps its byte (the receive
         * ring's out-of-order bytes lie past len). */
        tcp_ring_copy_out(r, 0, data, tcp_ring_cap(r));
        block_unref(r->data);
    }
    r->data = data;
    r->head = 0;
    return 0;
}

void tcp_ring_free(tcp_ring *r)
{
    block_unref(r->data);
    r->data = NULL;
    r->head = r->len = 0;
}

void tcp_ring_release(tcp_ring *r, tcp_scratch *sc)
{
    assert(r->len == 0);
    tcp_spare *small = NULL;
    for (uint32_t i = 0; sc && r->data && i < TCP_SPARES; i++) {
        tcp_spare *p = &sc->spare[i];
        if (!small || p->cap < small->cap)
            small = p;
    }
    if (small && small->cap < tcp_ring_cap(r) && !ring_lent(r)) {
        block_unref(small->data);
        *small = (tcp_spare){.data = r->data, .cap = tcp_ring_cap(r)};
        r->data = NULL;
    }
    tcp_ring_free(r);
}

void tcp_ring_spares_free(tcp_scratch *sc)
{
    for (uint32_t i = 0; i < TCP_SPARES; i++) {
        block_unref(sc->spare[i].data);
        sc->spare[i] = (tcp_spare){0};
    }
}

size_t tcp_ring_spares_bytes(const tcp_scratch *sc)
{
    size_t n = 0;
    for (uint32_t i = 0; i < TCP_SPARES; i++)
        n += sc->spare[i].cap;
    return n;
}

size_t tcp_ring_bytes(const tcp_ring *r)
{
    return r->data ? sizeof(ring_block) + tcp_ring_cap(r) : 0;
}

/* Copies n bytes to ring offset off (from head), wrapping. */
void tcp_ring_write_at(tcp_ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
    assert(r->data && (uint64_t)off + n <= tcp_ring_cap(r));
    assert(!write_hits_lent(r, off, n) && "tcp_ring_reserve first");
    uint32_t first;
    uint32_t pos = ring_span(r, off, n, &first);
    memcpy(r->data + pos, src, first);
    memcpy(r->data, src + first, n - first);
}

/* Appends up to n bytes; returns how many fit. */
uint32_t tcp_ring_push(tcp_ring *r, const uint8_t *src, uint32_t n)
{
    uint32_t room = tcp_ring_cap(r) - r->len;
    if (n > room)
        n = room;
    if (n) {
        tcp_ring_write_at(r, r->len, src, n);
        r->len += n;
    }
    return n;
}

void tcp_ring_copy_out(const tcp_ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
    assert(r->data && (uint64_t)off + n <= tcp_ring_cap(r));
    uint32_t first;
    uint32_t pos = ring_span(r, off, n, &first);
    memcpy(dst, r->data + pos, first);
    memcpy(dst + first, r->data, n - first);
}

uint8_t *tcp_ring_lend(tcp_ring *r, uint32_t off, uint32_t n, void **owner)
{
    if (!r->data || !n || (uint64_t)off + n > r->len || ring_lent(r) ||
        ((uint64_t)r->head + off) % tcp_ring_cap(r) != 0)
        return NULL;
    ring_block *b = block_of(r->data);
    b->refs++;
    b->lent = n;
    *owner = b;
    return r->data;
}

void tcp_ring_lent_release(void *owner)
{
    ring_block *b = owner;
    block_unref((uint8_t *)(b + 1));
}

void tcp_ring_consume(tcp_ring *r, uint32_t n)
{
    assert(n <= r->len);
    if (!n)
        return;
    r->head = (uint32_t)(((uint64_t)r->head + n) % tcp_ring_cap(r));
    r->len -= n;
}

/* ---- The send queue: a ring, or a count of pattern bytes -----------
 *
 * While every byte queued to send is from one pattern (tcp_send_pattern),
 * the queue is a count: sndq.pat names the pattern, sndq.head is the
 * phase of the first queued byte (at SND.UNA's side, snd_buf_seq) and
 * sndq.len the count, with no memory at all (snd_pat set). Segments read
 * their payload from the pattern, which the caller keeps for the stack's
 * life. An acknowledgement moves the phase; the last byte acknowledged
 * leaves an empty queue with no ring. Anything else queued behind the
 * count (bytes, another pattern, a phase that does not continue the
 * count) makes the count a ring first, holding the same bytes, and the
 * queue stays a ring until it empties: the mixed case is the ring's. */

/* Where offset off of a run starting at phase lies in p's first period. */
static uint32_t pattern_at(const tcp_pattern *p, uint32_t phase, uint32_t off)
{
    return (uint32_t)(((uint64_t)phase + off) % p->period);
}

/* How many bytes read contiguously from at (< period): to the end of the
 * stored bytes, at least len - period + 1 (tcp.h); a pattern of one period
 * (len == period) still gives runs to its end rather than byte by byte. */
static uint32_t pattern_run(const tcp_pattern *p, uint32_t at)
{
    return p->len - at;
}

/* The next contiguous run of at most n bytes of p from *phase: returns its
 * length and stores where it starts in *run; *phase moves past it. */
static uint32_t pattern_next(const tcp_pattern *p, uint32_t *phase, uint32_t n, const uint8_t **run)
{
    uint32_t at = *phase % p->period;
    uint32_t k = n < pattern_run(p, at) ? n : pattern_run(p, at);
    *run = p->bytes + at;
    *phase = at + k;
    return k;
}

/* Copies n bytes of p from phase on. */
static void pattern_copy(const tcp_pattern *p, uint32_t phase, uint8_t *dst, uint32_t n)
{
    const uint8_t *run;
    for (uint32_t k; n; dst += k, n -= k) {
        k = pattern_next(p, &phase, n, &run);
        memcpy(dst, run, k);
    }
}

/* Appends n bytes of p from phase on to a ring with room for them. */
static void pattern_push(tcp_ring *r, const tcp_pattern *p, uint32_t phase, uint32_t n)
{
    const uint8_t *run;
    for (uint32_t k; n; n -= k) {
        k = pattern_next(p, &phase, n, &run);
        uint32_t took = tcp_ring_push(r, run, k);
        assert(took == k);
        (void)took;
    }
}

void tcp_sndq_consume(tcp_conn *c, uint32_t n)
{
    if (!c->snd_pat) {
        tcp_ring_consume(&c->sndq, n);
        return;
    }
    assert(n <= c->sndq.len);
    c->sndq.len -= n;
    c->sndq.head = pattern_at(c->sndq.pat, c->sndq.head, n);
    if (c->sndq.len == 0) { /* empty: no ring, nothing held */
        c->sndq = (tcp_ring){0};
        c->snd_pat = false;
    }
}

const uint8_t *tcp_sndq_pattern_run(const tcp_conn *c, uint32_t off, uint32_t n)
{
    if (!c->snd_pat || (uint64_t)off + n > c->sndq.len)
        return NULL;
    uint32_t at = pattern_at(c->sndq.pat, c->sndq.head, off);
    return n <= pattern_run(c->sndq.pat, at) ? c->sndq.pat->bytes + at : NULL;
}

void tcp_sndq_copy_out(const tcp_conn *c, uint32_t off, uint8_t *dst, uint32_t n)
{
    if (!c->snd_pat) {
        tcp_ring_copy_out(&c->sndq, off, dst, n);
        return;
    }
    assert((uint64_t)off + n <= c->sndq.len);
    pattern_copy(c->sndq.pat, pattern_at(c->sndq.pat, c->sndq.head, off), dst, n);
}

uint8_t *tcp_sndq_lend(tcp_conn *c, uint32_t off, uint32_t n, void **owner)
{
    return c->snd_pat ? NULL : tcp_ring_lend(&c->sndq, off, n, owner);
}

void tcp_sndq_free(tcp_conn *c)
{
    if (c->snd_pat)
        c->sndq = (tcp_ring){0};
    c->snd_pat = false;
    tcp_ring_free(&c->sndq);
}

size_t tcp_sndq_bytes(const tcp_conn *c)
{
    return c->snd_pat ? 0 : tcp_ring_bytes(&c->sndq);
}

/* Queues n pattern bytes as a count: the queue is empty (its ring, if
 * any, is let go as an empty ring is) or already p's count ending just
 * before phase. */
static bool count_pattern(tcp_conn *c, const tcp_pattern *p, uint32_t phase, uint32_t n)
{
    if (c->snd_pat) {
        if (c->sndq.pat != p || phase % p->period != pattern_at(p, c->sndq.head, c->sndq.len))
            return false;
        c->sndq.len += n;
        return true;
    }
    if (c->sndq.len)
        return false;
    if (!n)
        return true;
    if (c->sndq.data)
        tcp_ring_release(&c->sndq, tcp_stack_scratch(c->stack));
    c->sndq = (tcp_ring){.pat = p, .head = phase % p->period, .len = n};
    c->snd_pat = true;
    c->sndq_freed = true; /* the buffer's size is now fixed, as a ring's would be */
    return true;
}

/* The queued pattern count made a ring of `need` bytes at least, holding
 * the same bytes; TCP_ENOMEM leaves the count as it was. */
static int ring_from_count(tcp_conn *c, uint32_t need)
{
    tcp_ring r = {0};
    if (tcp_ring_reserve(&r, need, c->sndbuf, tcp_stack_scratch(c->stack)))
        return TCP_ENOMEM;
    pattern_push(&r, c->sndq.pat, c->sndq.head, c->sndq.len);
    c->sndq = r;
    c->snd_pat = false;
    return 0;
}

long tcp_sndq_push(tcp_conn *c, const uint8_t *buf, const tcp_pattern *p, uint32_t phase,
                   size_t len)
{
    uint32_t queued = c->sndq.len;
    uint32_t room = c->sndbuf > queued ? c->sndbuf - queued : 0;
    uint32_t n = len < room ? (uint32_t)len : room;
    if (!buf && count_pattern(c, p, phase, n))
        return n;
    if (c->snd_pat && n == 0)
        return 0;     /* full: the count stays a count until something joins it */
    if (c->snd_pat) { /* other bytes follow: the queued pattern becomes a ring */
        if (ring_from_count(c, queued + n))
            return TCP_ENOMEM;
    } else if (len &&
               tcp_ring_reserve(&c->sndq, queued + n, c->sndbuf, tcp_stack_scratch(c->stack))) {
        return TCP_ENOMEM;
    }
    if (!len)
        return 0;
    uint32_t fit = tcp_ring_cap(&c->sndq) - c->sndq.len; /* the ring's room, as sized above */
    uint32_t want = len < fit ? (uint32_t)len : fit;
    if (buf)
        return tcp_ring_push(&c->sndq, buf, want);
    pattern_push(&c->sndq, p, phase, want);
    return want;
}

/* Ranges are kept sorted and disjoint (touching ranges are merged). The
 * list is allocated at the first range: most connections never hold one. */
bool tcp_ooo_add(tcp_conn *c, uint32_t start, uint32_t end)
{
    if (!c->ooo && !(c->ooo = calloc(1, sizeof *c->ooo)))
        return false;
    uint32_t *ooo_start = c->ooo->start, *ooo_end = c->ooo->end;
    uint32_t n = c->ooo_n;
    uint32_t i = 0;
    while (i < n && tcp_seq_lt(ooo_end[i], start))
        i++;
    /* Merge with every range that overlaps or touches [start, end). */
    uint32_t j = i;
    while (j < n && tcp_seq_le(ooo_start[j], end)) {
        if (tcp_seq_lt(ooo_start[j], start))
            start = ooo_start[j];
        end = tcp_seq_max(end, ooo_end[j]);
        j++;
    }
    uint32_t merged = j - i;
    if (merged == 0 && n == TCP_OOO_MAX)
        return false;
    /* Replace ranges [i, j) by one range at i. */
    uint32_t tail = n - j;
    uint32_t dst = i + 1;
    if (merged != 1) {
        memmove(&ooo_start[dst], &ooo_start[j], tail * sizeof(uint32_t));
        memmove(&ooo_end[dst], &ooo_end[j], tail * sizeof(uint32_t));
    }
    ooo_start[i] = start;
    ooo_end[i] = end;
    c->ooo_n = (uint8_t)(n - merged + 1);
    return true;
}

uint32_t tcp_ooo_advance(tcp_conn *c)
{
    uint32_t gained = 0;
    if (!c->ooo_n)
        return 0;
    uint32_t *ooo_start = c->ooo->start, *ooo_end = c->ooo->end;
    while (c->ooo_n && tcp_seq_le(ooo_start[0], c->rcv_nxt)) {
        if (tcp_seq_gt(ooo_end[0], c->rcv_nxt)) {
            uint32_t d = ooo_end[0] - c->rcv_nxt;
            c->rcv_nxt += d;
            gained += d;
        }
        c->ooo_n--;
        memmove(&ooo_start[0], &ooo_start[1], c->ooo_n * sizeof(uint32_t));
        memmove(&ooo_end[0], &ooo_end[1], c->ooo_n * sizeof(uint32_t));
    }
    return gained;
}
