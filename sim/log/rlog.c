/*
 * rlog — recording: the entries, the hosts, the packet and socket tables,
 * and the link from each state change to the packet behind it.
 *
 * Invariants:
 *  - entries [0, count) are in recording order; times never decrease; they
 *    live in chunks of ENTRY_CHUNK that never move (ent());
 *  - every byte an entry points to lives in the arena, whose chunks never
 *    move, so growing the entry array invalidates no entry's pointers (an
 *    empty note is the literal "", a missing segment the static no_seg);
 *  - each parsed segment is in the arena once per distinct datagram: the
 *    entries of one packet, and the state changes its delivery made, point
 *    at the same copy;
 *  - pkt_dense[id] (row + 1) or else pkt_map finds each packet's row;
 *  - cause[i] is the resolved packet entry of STATE entry i or RLOG_NONE;
 *    a STATE entry whose packet may still follow at the same instant is
 *    listed in `pending` until an entry with a later time arrives;
 *  - tcbs[] holds each socket's reported variables only where they changed,
 *    and tcb_map names each socket's latest record; both stay empty, and
 *    call_first unused, when the log keeps no TCBs (rlog_set_tcbs);
 *  - without connection entries (rlog_set_conns) no stack event reaches
 *    the log: no STATE entry waits in `pending`, socks and tcbs stay empty;
 *    and a packet row's fate is FATE_IN_SEND when its first delivery is
 *    held in its SEND entry (row.first, value_ns) instead of an entry.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rlog.h"

#define ARENA_CHUNK 65536u

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    uint8_t data[];
} arena_chunk;

/* Open addressing, linear probing, capacity a power of two (2^bits), at
 * most half full. vals[k] == RLOG_NONE marks an empty slot. */
typedef struct rlog_map {
    uint64_t *keys;
    size_t *vals;
    size_t cap, n;
    unsigned bits;
} rlog_map;

/* rlog_pkt.fate of a packet whose first fate is a delivery kept in its
 * SEND entry (a log without connection entries, rlog_set_conns). */
#define FATE_IN_SEND (RLOG_NONE - 1)

/* What the log knows of one packet id. */
typedef struct rlog_pkt {
    size_t first; /* entry where it first appeared */
    size_t fate;  /* its first DELIVER or DROP entry, FATE_IN_SEND, or RLOG_NONE */
    uint32_t src, dst;
} rlog_pkt;

typedef struct rlog_sock {
    uint16_t lport, rport;
} rlog_sock;

/* Entries per chunk: 512 of 96 bytes, 48 KiB, under glibc's mmap
 * threshold, so a chunk comes from the heap and can take the place of
 * memory freed earlier in the run (packets once delivered), where one
 * array doubling by realloc is mapped apart from the heap and never
 * reuses it. A chunk is only touched as its entries are written. */
#define ENTRY_SHIFT 9u
#define ENTRY_CHUNK ((size_t)1 << ENTRY_SHIFT)

struct rlog {
    rlog_entry **chunks; /* entry i is chunks[i >> ENTRY_SHIFT][i & (ENTRY_CHUNK - 1)] */
    size_t count, nchunks, capchunks;
    rlog_host *hosts;
    bool *host_known;
    size_t nhosts, caphosts;
    arena_chunk *arena;
    rlog_pkt *pkts;
    size_t npkts, cappkts;
    /* packet id -> pkts index: the core numbers packets 1, 2, 3 ... as they
     * are made, so an id near the ones seen has its slot in pkt_dense
     * (index + 1, 0: none); an id far past them (a hand-made log) goes
     * to pkt_map. 4 bytes a packet rather than a map's 32. */
    uint32_t *pkt_dense;
    size_t npkt_dense, cappkt_dense;
    rlog_map pkt_map;
    rlog_sock *socks;
    size_t nsocks, capsocks;
    rlog_map sock_map;    /* host << 32 | sock -> socks index */
    rlog_map addr_map;    /* address -> lowest host id registered with it */
    rlog_host_source src; /* rlog_set_host_source: hosts registered lazily */
    size_t *pending;
    size_t npending, cappending;
    bool no_payload;   /* rlog_set_payload(log, false) */
    bool no_tcbs;      /* rlog_set_tcbs(log, false) */
    bool no_conns;     /* rlog_set_conns(log, false): no stack event is recorded */
    rlog_map note_map; /* FNV-1a of a note -> its index in notes */
    const char **notes;
    size_t nnotes, capnotes;
    rlog_tcb *tcbs;
    size_t ntcbs, captcbs;
    rlog_map tcb_map;   /* host << 32 | sock -> its last record in tcbs */
    size_t *call_first; /* per host: the entry that began its current stack call */
    size_t ncalls;
};

const char *rlog_kind_name(rlog_kind kind)
{
    switch (kind) {
    case RLOG_SEND:
        return "send";
    case RLOG_DELIVER:
        return "deliver";
    case RLOG_DROP:
        return "drop";
    case RLOG_DUP:
        return "dup";
    case RLOG_HOLD:
        return "hold";
    case RLOG_RELEASE:
        return "release";
    case RLOG_CORRUPT:
        return "corrupt";
    case RLOG_LINK:
        return "link";
    case RLOG_STATE:
        return "state";
    case RLOG_TIMER:
        return "timer";
    case RLOG_USER:
        return "user";
    case RLOG_ERROR:
        return "error";
    case RLOG_NOTE:
        return "note";
    case RLOG_DELAY:
        return "delay";
    case RLOG_REJECT:
        return "reject";
    case RLOG_RESTART:
        return "restart";
    case RLOG_KIND_COUNT:
        break;
    }
    return "?";
}

/* ---- memory ------------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("tcpsim: out of memory in the run log\n", stderr);
        abort();
    }
    return q;
}

/* Grows *arr (elements of `size` bytes, capacity *cap) to hold `need`. */
static void grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    *arr = xrealloc(*arr, c * size);
    *cap = c;
}

static void *arena_alloc(rlog *log, size_t n)
{
    arena_chunk *c = log->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = xrealloc(NULL, sizeof *c + cap);
        c->next = log->arena;
        c->used = 0;
        c->cap = cap;
        log->arena = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

/* arena_alloc at an address aligned for a tcp_seg (a chunk's data starts
 * so aligned: it follows three words in a malloc'd block). */
static void *arena_alloc_aligned(rlog *log, size_t n)
{
    const size_t a = _Alignof(tcp_seg);
    arena_chunk *c = log->arena;
    if (c) {
        size_t up = (c->used + a - 1) & ~(a - 1);
        c->used = up < c->cap ? up : c->cap;
    }
    void *p = arena_alloc(log, n);
    assert(((uintptr_t)p & (a - 1)) == 0);
    return p;
}

/* The log's copy of a parsed segment. Its SACK blocks, when it has some,
 * must already lie in the log's memory (keep_bytes, state_seg). */
static const tcp_seg *seg_keep(rlog *log, const tcp_seg *seg)
{
    tcp_seg *copy = arena_alloc_aligned(log, sizeof *copy);
    *copy = *seg;
    return copy;
}

static char *arena_strdup(rlog *log, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(log, n);
    memcpy(p, s, n);
    return p;
}

/* Entry i (< count): its chunk never moves, so neither does the entry. */
static inline rlog_entry *ent(const rlog *log, size_t i)
{
    return &log->chunks[i >> ENTRY_SHIFT][i & (ENTRY_CHUNK - 1)];
}

/* ---- the map ------------------------------------------------------------ */

/* Fibonacci hashing: the top `bits` bits of the product, which every bit
 * of the key reaches (a host id in the high half of a socket key too). */
static size_t map_slot(const rlog_map *m, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - m->bits));
}

static size_t map_get(const rlog_map *m, uint64_t key)
{
    if (m->cap == 0)
        return RLOG_NONE;
    for (size_t k = map_slot(m, key);; k = (k + 1) & (m->cap - 1)) {
        if (m->vals[k] == RLOG_NONE)
            return RLOG_NONE;
        if (m->keys[k] == key)
            return m->vals[k];
    }
}

static void map_put(rlog_map *m, uint64_t key, size_t val);

static void map_rehash(rlog_map *m)
{
    rlog_map old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->bits = old.cap ? old.bits + 1 : 6;
    m->n = 0;
    m->keys = xrealloc(NULL, m->cap * sizeof *m->keys);
    m->vals = xrealloc(NULL, m->cap * sizeof *m->vals);
    for (size_t k = 0; k < m->cap; k++)
        m->vals[k] = RLOG_NONE;
    for (size_t k = 0; k < old.cap; k++)
        if (old.vals[k] != RLOG_NONE)
            map_put(m, old.keys[k], old.vals[k]);
    free(old.keys);
    free(old.vals);
}

/* Inserts or replaces. */
static void map_put(rlog_map *m, uint64_t key, size_t val)
{
    assert(val != RLOG_NONE);
    if (2 * (m->n + 1) > m->cap)
        map_rehash(m);
    size_t k = map_slot(m, key);
    while (m->vals[k] != RLOG_NONE && m->keys[k] != key)
        k = (k + 1) & (m->cap - 1);
    if (m->vals[k] == RLOG_NONE)
        m->n++;
    m->keys[k] = key;
    m->vals[k] = val;
}

static void map_free(rlog_map *m)
{
    free(m->keys);
    free(m->vals);
}

/* ---- lifetime and hosts ------------------------------------------------- */

rlog *rlog_new(void)
{
    rlog *log = xrealloc(NULL, sizeof *log);
    memset(log, 0, sizeof *log);
    return log;
}

/* ---- notes ---------------------------------------------------------------- */

#define NOTE_MAX 63u /* bytes kept of a stack event's note */

/* The log's copy of `src` cut at NOTE_MAX bytes: one per distinct note (the
 * stack's notes are a few fixed strings, and an entry is recorded per
 * event, so each entry holds a pointer, not 64 bytes). */
static const char *note_intern(rlog *log, const char *src)
{
    size_t n = 0;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    while (src && n < NOTE_MAX && src[n]) {
        h = (h ^ (uint8_t)src[n]) * 0x100000001b3ull;
        n++;
    }
    if (n == 0)
        return "";
    size_t k = map_get(&log->note_map, h);
    if (k != RLOG_NONE && strncmp(log->notes[k], src, n) == 0 && log->notes[k][n] == '\0')
        return log->notes[k];
    char *copy = arena_alloc(log, n + 1);
    memcpy(copy, src, n);
    copy[n] = '\0';
    if (k == RLOG_NONE) { /* a colliding note is copied, not shared */
        grow((void **)&log->notes, &log->capnotes, log->nnotes + 1, sizeof *log->notes);
        log->notes[log->nnotes] = copy;
        map_put(&log->note_map, h, log->nnotes++);
    }
    return copy;
}

void rlog_free(rlog *log)
{
    if (!log)
        return;
    while (log->arena) {
        arena_chunk *next = log->arena->next;
        free(log->arena);
        log->arena = next;
    }
    for (size_t c = 0; c < log->nchunks; c++)
        free(log->chunks[c]);
    free(log->chunks);
    free(log->hosts);
    free(log->host_known);
    free(log->pkts);
    free(log->socks);
    free(log->pending);
    map_free(&log->pkt_map);
    free(log->pkt_dense);
    map_free(&log->sock_map);
    map_free(&log->addr_map);
    map_free(&log->note_map);
    free(log->notes);
    map_free(&log->tcb_map);
    free(log->tcbs);
    free(log->call_first);
    free(log);
}

void rlog_add_host(rlog *log, uint32_t host_id, const char *name, uint32_t addr)
{
    assert(host_id != UINT32_MAX);
    if (host_id >= log->nhosts) {
        size_t cap = log->caphosts;
        grow((void **)&log->hosts, &log->caphosts, (size_t)host_id + 1, sizeof *log->hosts);
        grow((void **)&log->host_known, &cap, (size_t)host_id + 1, sizeof *log->host_known);
        for (size_t i = log->nhosts; i <= host_id; i++) {
            memset(&log->hosts[i], 0, sizeof log->hosts[i]);
            log->host_known[i] = false;
        }
        log->nhosts = (size_t)host_id + 1;
    }
    rlog_host *h = &log->hosts[host_id];
    snprintf(h->name, sizeof h->name, "%s", name ? name : "");
    h->addr = addr;
    log->host_known[host_id] = true;
    size_t k = map_get(&log->addr_map, addr);
    if (k == RLOG_NONE || k > host_id)
        map_put(&log->addr_map, addr, host_id);
}

size_t rlog_host_count(const rlog *log)
{
    return log->nhosts;
}

const rlog_host *rlog_host_at(const rlog *log, uint32_t host_id)
{
    if (host_id >= log->nhosts || !log->host_known[host_id])
        return NULL;
    return &log->hosts[host_id];
}

const char *rlog_host_name(const rlog *log, uint32_t host_id)
{
    const rlog_host *h = rlog_host_at(log, host_id);
    return h ? h->name : "?";
}

void rlog_set_host_source(rlog *log, const rlog_host_source *src)
{
    assert(log->count == 0 && src->by_id && src->by_addr);
    log->src = *src;
}

/* A lazily registering log's first sight of host_id: registers it. */
static void host_seen(rlog *log, uint32_t host_id)
{
    const char *name;
    uint32_t addr;
    if (!log->src.by_id || host_id == UINT32_MAX ||
        (host_id < log->nhosts && log->host_known[host_id]) ||
        !log->src.by_id(log->src.ctx, host_id, &name, &addr))
        return;
    rlog_add_host(log, host_id, name, addr);
}

/* The lowest host id registered with addr. The map answers; a host
 * registered again under another address leaves a stale entry, which the
 * check catches and the scan resolves. A lazily registering log asks its
 * source for an address it has not seen (its addresses are distinct, so
 * the one host with it is the lowest). */
static uint32_t host_by_addr(rlog *log, uint32_t addr)
{
    size_t k = map_get(&log->addr_map, addr);
    uint32_t id;
    if (k == RLOG_NONE && log->src.by_addr && log->src.by_addr(log->src.ctx, addr, &id)) {
        host_seen(log, id);
        k = map_get(&log->addr_map, addr);
    }
    if (k == RLOG_NONE)
        return UINT32_MAX;
    if (log->host_known[k] && log->hosts[k].addr == addr)
        return (uint32_t)k;
    for (size_t i = 0; i < log->nhosts; i++)
        if (log->host_known[i] && log->hosts[i].addr == addr)
            return (uint32_t)i;
    return UINT32_MAX;
}

int rlog_link_ends(const rlog *log, uint32_t link, uint8_t dir, uint32_t *from, uint32_t *to)
{
    for (size_t i = 0; i < log->count; i++) {
        const rlog_entry *e = ent(log, i);
        if (e->kind == RLOG_LINK || e->link != link || e->src_host == UINT32_MAX ||
            e->dst_host == UINT32_MAX)
            continue;
        *from = e->dir == dir ? e->src_host : e->dst_host;
        *to = e->dir == dir ? e->dst_host : e->src_host;
        return 0;
    }
    return -1;
}

size_t rlog_count(const rlog *log)
{
    return log->count;
}

static size_t map_bytes(const rlog_map *m)
{
    return m->cap * (sizeof *m->keys + sizeof *m->vals);
}

size_t rlog_bytes(const rlog *log)
{
    size_t n = sizeof *log + log->nchunks * ENTRY_CHUNK * sizeof(rlog_entry) +
               log->capchunks * sizeof *log->chunks +
               log->caphosts * (sizeof *log->hosts + sizeof *log->host_known) +
               log->cappkts * sizeof *log->pkts + log->capsocks * sizeof *log->socks +
               log->cappending * sizeof *log->pending + log->capnotes * sizeof *log->notes +
               log->captcbs * sizeof *log->tcbs + log->ncalls * sizeof *log->call_first +
               log->cappkt_dense * sizeof *log->pkt_dense;
    const rlog_map *maps[] = {&log->pkt_map, &log->sock_map, &log->addr_map, &log->note_map,
                              &log->tcb_map};
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++)
        n += map_bytes(maps[m]);
    for (const arena_chunk *c = log->arena; c; c = c->next)
        n += sizeof *c + c->used;
    return n;
}

const rlog_entry *rlog_at(const rlog *log, size_t i)
{
    assert(i < log->count);
    return ent(log, i);
}

/* ---- sockets ------------------------------------------------------------ */

static uint64_t sock_key(uint32_t host, uint32_t sock)
{
    return (uint64_t)host << 32 | sock;
}

static void learn_ports(rlog *log, uint32_t host, uint32_t sock, uint16_t lport, uint16_t rport)
{
    if (sock == 0 || map_get(&log->sock_map, sock_key(host, sock)) != RLOG_NONE)
        return;
    grow((void **)&log->socks, &log->capsocks, log->nsocks + 1, sizeof *log->socks);
    log->socks[log->nsocks] = (rlog_sock){lport, rport};
    map_put(&log->sock_map, sock_key(host, sock), log->nsocks++);
}

int rlog_sock_ports(const rlog *log, uint32_t host, uint32_t sock, uint16_t *lport, uint16_t *rport)
{
    size_t k = map_get(&log->sock_map, sock_key(host, sock));
    if (k == RLOG_NONE)
        return -1;
    if (lport)
        *lport = log->socks[k].lport;
    if (rport)
        *rport = log->socks[k].rport;
    return 0;
}

/* ---- appending ------------------------------------------------------------ */

/* The segment of every entry that has none. */
static const tcp_seg no_seg;

static void settle_pending(rlog *log, uint64_t now);

/* A zeroed entry at the end, with the index fields set to "none". */
static size_t append(rlog *log, uint64_t time_ns, rlog_kind kind)
{
    settle_pending(log, time_ns);
    if (log->count == log->nchunks * ENTRY_CHUNK) {
        grow((void **)&log->chunks, &log->capchunks, log->nchunks + 1, sizeof *log->chunks);
        log->chunks[log->nchunks++] = xrealloc(NULL, ENTRY_CHUNK * sizeof(rlog_entry));
    }
    size_t i = log->count++;
    rlog_entry *e = ent(log, i);
    memset(e, 0, sizeof *e);
    e->time_ns = time_ns;
    e->kind = kind;
    e->host = e->link = UINT32_MAX;
    e->src_host = e->dst_host = UINT32_MAX;
    e->send_index = RLOG_NONE; /* and cause_index */
    e->note = "";
    e->seg = &no_seg;
    return i;
}

void rlog_note(rlog *log, uint64_t time_ns, const char *text)
{
    size_t i = append(log, time_ns, RLOG_NOTE);
    ent(log, i)->text = arena_strdup(log, text ? text : "");
}

/* ---- state changes and their packets -------------------------------------- */

/* The flag a user/timer transition sends at the same instant, or 0. */
static uint8_t accompanying_flag(const rlog_entry *s)
{
    switch (s->to) {
    case TCP_SYN_SENT:
        return TCP_SYN;
    case TCP_FIN_WAIT_1:
    case TCP_LAST_ACK:
        return TCP_FIN;
    case TCP_CLOSED:
        /* ABORT (RFC 9293 §3.10.5) of a synchronized connection sends RST. */
        return s->from == TCP_LISTEN || s->from == TCP_SYN_SENT || s->from == TCP_CLOSED ||
                       s->from == TCP_TIME_WAIT
                   ? 0
                   : TCP_RST;
    default:
        return 0;
    }
}

static bool same_segment(const tcp_seg *a, const tcp_seg *b)
{
    return a->src_port == b->src_port && a->dst_port == b->dst_port && a->seq == b->seq &&
           a->ack == b->ack && a->flags == b->flags;
}

/* Whether packet entry p can be the cause of STATE entry s on what the two
 * entries hold: same instant, same host, the right kind and segment. */
static bool cause_joins(const rlog_entry *s, const rlog_entry *p)
{
    if (p->time_ns != s->time_ns || p->host != s->host || !p->seg_ok)
        return false;
    if (s->cause == TCP_CAUSE_SEGMENT)
        return p->kind == RLOG_DELIVER && (!s->seg_ok || same_segment(s->seg, p->seg));
    uint8_t flag = accompanying_flag(s);
    return p->kind == RLOG_SEND && flag != 0 && (p->seg->flags & flag);
}

/* cause_joins, and a SEND must leave from the socket's own port when the
 * log knows it. */
static bool cause_fits(const rlog *log, const rlog_entry *s, const rlog_entry *p)
{
    if (!cause_joins(s, p))
        return false;
    if (s->cause == TCP_CAUSE_SEGMENT)
        return true;
    uint16_t lport;
    return rlog_sock_ports(log, s->host, s->sock, &lport, NULL) != 0 || lport == p->seg->src_port;
}

/* The latest entry before `before` at the same instant that fits s. */
static size_t cause_before(const rlog *log, size_t si, size_t before)
{
    const rlog_entry *s = ent(log, si);
    for (size_t j = before; j-- > 0;) {
        const rlog_entry *p = ent(log, j);
        if (p->time_ns < s->time_ns)
            break;
        if (cause_fits(log, s, p))
            return j;
    }
    return RLOG_NONE;
}

static void pending_remove(rlog *log, size_t k)
{
    memmove(&log->pending[k], &log->pending[k + 1], (log->npending - k - 1) * sizeof *log->pending);
    log->npending--;
}

/* A segment's effect is recorded after its DELIVER, so that is looked for
 * first; a user call or timer usually changes the state and then sends, so
 * the packet after it is preferred and the one before is the fallback. */
static void link_state(rlog *log, size_t si)
{
    const rlog_entry *s = ent(log, si);
    if (s->cause == TCP_CAUSE_SEGMENT) {
        ent(log, si)->cause_index = cause_before(log, si, si);
        if (ent(log, si)->cause_index != RLOG_NONE)
            return;
    } else if (accompanying_flag(s) == 0) {
        return;
    }
    /* settle_pending relies on the list being in time order. */
    assert(log->npending == 0 ||
           ent(log, log->pending[log->npending - 1])->time_ns <= ent(log, si)->time_ns);
    grow((void **)&log->pending, &log->cappending, log->npending + 1, sizeof *log->pending);
    log->pending[log->npending++] = si;
}

/* Packet entry pi was just appended: it may be what pending states wait for.
 * A DELIVER may cause several changes (FIN_WAIT_1 -> FIN_WAIT_2 ->
 * TIME_WAIT); a SEND accompanies one. */
static void resolve_pending(rlog *log, size_t pi)
{
    const rlog_entry *p = ent(log, pi);
    for (size_t k = 0; k < log->npending;) {
        size_t si = log->pending[k];
        if (!cause_fits(log, ent(log, si), p)) {
            k++;
            continue;
        }
        ent(log, si)->cause_index = pi;
        pending_remove(log, k);
        if (p->kind == RLOG_SEND)
            return;
    }
}

/* Time moved on: what waited for a later packet takes an earlier one.
 * Entries are appended in time order, so the pending list is sorted by
 * time and what is due is a prefix: O(1) when nothing is due. */
static void settle_pending(rlog *log, uint64_t now)
{
    size_t k = 0;
    while (k < log->npending && ent(log, log->pending[k])->time_ns < now) {
        size_t si = log->pending[k++];
        if (ent(log, si)->cause != TCP_CAUSE_SEGMENT)
            ent(log, si)->cause_index = cause_before(log, si, si);
    }
    if (k == 0)
        return;
    memmove(log->pending, log->pending + k, (log->npending - k) * sizeof *log->pending);
    log->npending -= k;
}

size_t rlog_state_cause(const rlog *log, size_t i)
{
    assert(i < log->count);
    const rlog_entry *e = ent(log, i);
    if (e->kind == RLOG_RESTART || (e->kind == RLOG_STATE && e->cause_index != RLOG_NONE))
        return e->cause_index;
    if (e->kind != RLOG_STATE)
        return RLOG_NONE;
    for (size_t k = 0; k < log->npending; k++)
        if (log->pending[k] == i && e->cause != TCP_CAUSE_SEGMENT)
            return cause_before(log, i, i);
    return RLOG_NONE;
}

/* ---- stack events ---------------------------------------------------------- */

/* Whether two parsed segments hold the same values (field by field: a
 * struct's padding is not compared). */
static bool seg_equal(const tcp_seg *a, const tcp_seg *b)
{
    return same_segment(a, b) && a->src_addr == b->src_addr && a->dst_addr == b->dst_addr &&
           a->wnd == b->wnd && a->urg == b->urg && a->ttl == b->ttl && a->ip_id == b->ip_id &&
           a->has_mss == b->has_mss && a->has_wscale == b->has_wscale &&
           a->has_sack_perm == b->has_sack_perm && a->has_ts == b->has_ts && a->mss == b->mss &&
           a->wscale == b->wscale && a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr &&
           a->layout == b->layout && a->payload == b->payload && a->len == b->len &&
           a->nsack == b->nsack && (!a->nsack || memcmp(a->sack, b->sack, 8u * a->nsack) == 0);
}

/* STATE or RESTART entry i was caused by segment `seg` (the stack's parse):
 * it keeps the header (payload NULL), shared with the DELIVER that carried
 * it when that holds the same values (the usual case when the log keeps no
 * payload), else its own copy, SACK blocks included: they lie in the
 * stack's buffer, as the payload does. The join to the DELIVER reads
 * e->seg, so a copy on the stack stands in while it is made; one still
 * waiting for its packet keeps its own copy. */
static void state_seg(rlog *log, size_t i, const tcp_seg *seg)
{
    rlog_entry *e = ent(log, i);
    tcp_seg head = *seg;
    head.payload = NULL;
    e->seg_ok = true;
    e->seg = &head;
    link_state(log, i);
    size_t c = e->cause_index;
    if (c != RLOG_NONE && seg_equal(ent(log, c)->seg, &head)) {
        e->seg = ent(log, c)->seg;
        return;
    }
    if (head.nsack) {
        uint8_t *blocks = arena_alloc(log, 8u * head.nsack);
        memcpy(blocks, head.sack, 8u * head.nsack);
        head.sack = blocks;
    }
    e->seg = seg_keep(log, &head);
}

static rlog_kind event_kind(tcp_event_kind k)
{
    switch (k) {
    case TCP_EV_STATE:
        return RLOG_STATE;
    case TCP_EV_TIMER:
        return RLOG_TIMER;
    case TCP_EV_USER:
        return RLOG_USER;
    case TCP_EV_ERROR:
        return RLOG_ERROR;
    case TCP_EV_DROP:
        return RLOG_REJECT;
    case TCP_EV_TIMER_RESTART:
        return RLOG_RESTART;
    case TCP_EV_SEG_IN:
    case TCP_EV_SEG_OUT:
    case TCP_EV_TCB:
        break; /* not entries: rlog_tcp_event learns ports and TCBs from them */
    }
    assert(!"a stack event kind with no run-log entry");
    return RLOG_REJECT;
}

/* ---- the TCB after each call ------------------------------------------------- */

static void set_call_first(rlog *log, uint32_t host, size_t i)
{
    if (host >= log->ncalls) {
        size_t cap = log->ncalls;
        grow((void **)&log->call_first, &cap, (size_t)host + 1, sizeof *log->call_first);
        for (size_t k = log->ncalls; k < cap; k++)
            log->call_first[k] = RLOG_NONE;
        log->ncalls = cap;
    }
    log->call_first[host] = i;
}

/* A segment reached host's stack: the call began with its DELIVER, the
 * latest at this instant to this host (none: the call has no entry yet). */
static void call_from_delivery(rlog *log, uint32_t host, uint64_t t)
{
    for (size_t j = log->count; j-- > 0 && ent(log, j)->time_ns == t;)
        if (ent(log, j)->kind == RLOG_DELIVER && ent(log, j)->host == host) {
            set_call_first(log, host, j);
            return;
        }
    set_call_first(log, host, RLOG_NONE);
}

static bool tcb_equal(const tcp_tcb *a, const tcp_tcb *b)
{
    if (a->state != b->state || a->iss != b->iss || a->irs != b->irs || a->snd_una != b->snd_una ||
        a->snd_nxt != b->snd_nxt || a->snd_wnd != b->snd_wnd || a->rcv_nxt != b->rcv_nxt ||
        a->rcv_wnd != b->rcv_wnd)
        return false;
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        if (a->timer_at[k] != b->timer_at[k])
            return false;
    return true;
}

/* Where a record made now holds from: the entry that began host's call
 * if it is of this instant, else the last entry if it is, else the next. */
static size_t tcb_start(const rlog *log, uint32_t host, uint64_t t)
{
    size_t f = host < log->ncalls ? log->call_first[host] : RLOG_NONE;
    if (f != RLOG_NONE && ent(log, f)->time_ns == t)
        return f;
    if (log->count && ent(log, log->count - 1)->time_ns == t)
        return log->count - 1;
    return log->count;
}

static void record_tcb(rlog *log, uint32_t host, const tcp_event *ev)
{
    size_t prev = map_get(&log->tcb_map, sock_key(host, ev->sock));
    if (prev != RLOG_NONE && tcb_equal(&log->tcbs[prev].tcb, ev->tcb))
        return;
    grow((void **)&log->tcbs, &log->captcbs, log->ntcbs + 1, sizeof *log->tcbs);
    size_t at = tcb_start(log, host, ev->time_ns);
    if (prev != RLOG_NONE && log->tcbs[prev].at > at)
        at = log->tcbs[prev].at; /* never before the socket's previous record */
    log->tcbs[log->ntcbs] = (rlog_tcb){at, ev->time_ns, host, ev->sock, prev, *ev->tcb};
    map_put(&log->tcb_map, sock_key(host, ev->sock), log->ntcbs++);
}

void rlog_set_tcbs(rlog *log, bool keep)
{
    assert(log->count == 0);
    log->no_tcbs = !keep;
}

size_t rlog_tcb_count(const rlog *log)
{
    return log->ntcbs;
}

const rlog_tcb *rlog_tcb_at(const rlog *log, size_t i)
{
    assert(i < log->ntcbs);
    return &log->tcbs[i];
}

void rlog_set_conns(rlog *log, bool keep)
{
    assert(log->count == 0);
    log->no_conns = !keep;
}

void rlog_tcp_event(rlog *log, uint32_t host_id, const tcp_event *ev)
{
    if (log->no_conns)
        return;
    if (ev->kind == TCP_EV_TCB) {
        if (ev->tcb && ev->sock && !log->no_tcbs)
            record_tcb(log, host_id, ev);
        return;
    }
    if (ev->kind == TCP_EV_SEG_IN && !log->no_tcbs)
        call_from_delivery(log, host_id, ev->time_ns);
    if (ev->kind == TCP_EV_SEG_IN || ev->kind == TCP_EV_SEG_OUT) {
        if (ev->seg && ev->kind == TCP_EV_SEG_IN)
            learn_ports(log, host_id, ev->sock, ev->seg->dst_port, ev->seg->src_port);
        else if (ev->seg)
            learn_ports(log, host_id, ev->sock, ev->seg->src_port, ev->seg->dst_port);
        return;
    }
    size_t i = append(log, ev->time_ns, event_kind(ev->kind));
    rlog_entry *e = ent(log, i);
    e->host = host_id;
    e->sock = ev->sock;
    e->parent = ev->parent;
    e->from = ev->from;
    e->to = ev->to;
    e->cause = ev->cause;
    e->detail = ev->detail;
    e->note = note_intern(log, ev->note);
    if (e->kind == RLOG_REJECT)
        e->text = arena_strdup(log, ev->note ? ev->note : "");
    if ((e->kind == RLOG_STATE || e->kind == RLOG_RESTART) && ev->seg) {
        learn_ports(log, host_id, ev->sock, ev->seg->dst_port, ev->seg->src_port);
        state_seg(log, i, ev->seg);
    } else if (e->kind == RLOG_STATE || e->kind == RLOG_RESTART) {
        link_state(log, i);
    }
    if ((e->kind == RLOG_TIMER || e->kind == RLOG_USER) && !log->no_tcbs)
        set_call_first(log, host_id, i);
}

/* ---- core trace records ------------------------------------------------------ */

static rlog_kind trace_kind(sim_trace_kind k)
{
    switch (k) {
    case SIM_TR_SEND:
        return RLOG_SEND;
    case SIM_TR_DROP:
        return RLOG_DROP;
    case SIM_TR_DELIVER:
        return RLOG_DELIVER;
    case SIM_TR_DUPLICATE:
        return RLOG_DUP;
    case SIM_TR_CORRUPT:
        return RLOG_CORRUPT;
    case SIM_TR_DELAY:
        return RLOG_DELAY;
    case SIM_TR_HOLD:
        return RLOG_HOLD;
    case SIM_TR_RELEASE:
        return RLOG_RELEASE;
    case SIM_TR_LINK:
        return RLOG_LINK;
    case SIM_TR_HOST:
        break; /* ignored by rlog_sim_trace */
    }
    assert(!"a core trace kind with no run-log entry");
    return RLOG_LINK;
}

static uint32_t ipv4_dst(const uint8_t *b, uint32_t n)
{
    if (n < TCP_IPV4_HDR)
        return 0;
    return (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
}

/* The pkts index of packet `id`, or RLOG_NONE. */
static size_t pkt_find(const rlog *log, uint32_t id)
{
    if (id < log->npkt_dense && log->pkt_dense[id] != 0)
        return log->pkt_dense[id] - 1;
    return map_get(&log->pkt_map, id);
}

/* Packet `id` (not yet in the table) has row k. An id at most a few
 * thousand past the dense part, or twice its size, extends it. */
static void pkt_add(rlog *log, uint32_t id, size_t k)
{
    size_t n = log->npkt_dense;
    if (k >= UINT32_MAX || (id >= n && id - n > 4096 && id / 2 > n)) {
        map_put(&log->pkt_map, id, k);
        return;
    }
    if (id >= n) {
        grow((void **)&log->pkt_dense, &log->cappkt_dense, (size_t)id + 1, sizeof *log->pkt_dense);
        memset(log->pkt_dense + n, 0, ((size_t)id + 1 - n) * sizeof *log->pkt_dense);
        log->npkt_dense = (size_t)id + 1;
    }
    log->pkt_dense[id] = (uint32_t)k + 1;
}

/* The packet table row for entry i (a packet kind), created on first sight:
 * a duplicate inherits its original's ends. */
static rlog_pkt *packet_row(rlog *log, size_t i, const sim_trace_rec *rec)
{
    size_t k = pkt_find(log, rec->packet_id);
    if (k != RLOG_NONE)
        return &log->pkts[k];
    const rlog_entry *e = ent(log, i);
    bool first = e->kind == RLOG_SEND || e->kind == RLOG_DUP || e->kind == RLOG_DROP;
    rlog_pkt row = {first ? i : RLOG_NONE, RLOG_NONE, rec->host_id,
                    host_by_addr(log, ipv4_dst(e->bytes, e->nheld))};
    size_t o = rec->kind == SIM_TR_DUPLICATE ? pkt_find(log, rec->origin_id) : RLOG_NONE;
    if (o != RLOG_NONE) {
        row.src = log->pkts[o].src;
        row.dst = log->pkts[o].dst;
    } else if (rec->kind == SIM_TR_DELIVER) {
        /* Never seen sent: all we know is who received it. */
        row = (rlog_pkt){RLOG_NONE, RLOG_NONE, UINT32_MAX, rec->host_id};
    }
    grow((void **)&log->pkts, &log->cappkts, log->npkts + 1, sizeof *log->pkts);
    log->pkts[log->npkts] = row;
    pkt_add(log, rec->packet_id, log->npkts);
    return &log->pkts[log->npkts++];
}

void rlog_set_payload(rlog *log, bool keep)
{
    assert(log->count == 0);
    log->no_payload = !keep;
}

/* Parses the record's bytes and keeps them (the headers only when the log
 * keeps no payload), sharing an earlier copy of the same packet, and its
 * parse, when they are equal (a packet is usually traced several times
 * unchanged). */
static void keep_bytes(rlog *log, rlog_entry *e, const sim_trace_rec *rec)
{
    size_t k = pkt_find(log, rec->packet_id);
    if (k == RLOG_NONE && rec->kind == SIM_TR_DUPLICATE)
        k = pkt_find(log, rec->origin_id);
    const rlog_entry *prev = NULL;
    if (k != RLOG_NONE && log->pkts[k].first != RLOG_NONE)
        prev = ent(log, log->pkts[k].first);
    if (rec->len == 0 && prev) { /* the same bytes as before: the same parse */
        e->bytes = prev->bytes;
        e->nbytes = prev->nbytes;
        e->nheld = prev->nheld;
        e->wire_err = prev->wire_err;
        e->seg_ok = prev->seg_ok;
        e->seg = prev->seg;
        return;
    }
    assert(rec->len <= UINT32_MAX);
    tcp_seg seg;
    e->wire_err = rec->len ? tcp_wire_parse(rec->bytes, rec->len, &seg) : TCP_WIRE_TRUNCATED;
    e->seg_ok = e->wire_err == TCP_WIRE_OK;
    size_t body = e->seg_ok && seg.payload ? (size_t)(seg.payload - rec->bytes) : rec->len;
    size_t held = log->no_payload ? body : rec->len;
    e->nbytes = (uint32_t)rec->len;
    e->nheld = (uint32_t)held;
    /* Equal held bytes of an equal length parse alike, unless the bytes not
     * held (the payload) fail the checksum in one: hence the error compared. */
    if (prev && prev->nbytes == rec->len && prev->nheld == held &&
        memcmp(prev->bytes, rec->bytes, held) == 0) {
        e->bytes = prev->bytes;
        if (prev->wire_err == e->wire_err) {
            e->seg = prev->seg;
            return;
        }
    } else if (rec->len > 0) {
        e->bytes = arena_alloc(log, held);
        memcpy(e->bytes, rec->bytes, held);
    }
    if (!e->seg_ok)
        return; /* e->seg stays the empty segment */
    /* NULL when there is none or it is not kept: a segment without payload
     * then parses alike in every entry that holds it, STATE ones too. */
    seg.payload = seg.payload && seg.len && held == rec->len ? e->bytes + body : NULL;
    /* The SACK blocks lie in the header, which is always held: the parse
     * points into rec->bytes, whose packet is freed and its memory reused. */
    if (seg.nsack)
        seg.sack = e->bytes + (seg.sack - rec->bytes);
    e->seg = seg_keep(log, &seg);
}

/* Without connection entries nothing reads a DELIVER entry but a link
 * query asking what became of a SEND: the first delivery of a packet whose
 * SEND is recorded is kept in that entry instead (value_ns is free in a
 * SEND). Any other delivery (a second one, of a packet never seen sent)
 * is an entry as usual. */
static bool deliver_in_send(rlog *log, const sim_trace_rec *rec)
{
    if (!log->no_conns || rec->kind != SIM_TR_DELIVER)
        return false;
    size_t k = pkt_find(log, rec->packet_id);
    if (k == RLOG_NONE || log->pkts[k].fate != RLOG_NONE || log->pkts[k].first == RLOG_NONE)
        return false;
    rlog_entry *send = ent(log, log->pkts[k].first);
    if (send->kind != RLOG_SEND)
        return false;
    send->value_ns = rec->time;
    log->pkts[k].fate = FATE_IN_SEND;
    return true;
}

void rlog_sim_trace(void *ctx, const sim_trace_rec *rec)
{
    rlog *log = ctx;
    if (rec->kind == SIM_TR_HOST || deliver_in_send(log, rec))
        return;
    host_seen(log, rec->host_id);
    size_t i = append(log, rec->time, trace_kind(rec->kind));
    rlog_entry *e = ent(log, i);
    e->host = rec->host_id;
    e->link = rec->link_id;
    e->dir = rec->dir;
    e->packet_id = rec->packet_id;
    e->origin_id = rec->origin_id;
    e->drop = rec->reason;
    e->value_ns = rec->value_ns;
    if (e->kind == RLOG_LINK)
        return;
    keep_bytes(log, e, rec);
    rlog_pkt *row = packet_row(log, i, rec);
    if (row->fate == RLOG_NONE && (e->kind == RLOG_DELIVER || e->kind == RLOG_DROP))
        row->fate = i;
    e->send_index = row->first;
    e->src_host = row->src;
    e->dst_host = row->dst;
    if (e->host == UINT32_MAX)
        e->host = row->src;
    if (e->kind == RLOG_SEND || e->kind == RLOG_DELIVER)
        resolve_pending(log, i);
}

size_t rlog_packet_fate(const rlog *log, uint32_t packet_id, size_t after)
{
    size_t k = pkt_find(log, packet_id);
    if (k == RLOG_NONE || log->pkts[k].fate == RLOG_NONE)
        return RLOG_NONE;
    if (log->pkts[k].fate != FATE_IN_SEND && log->pkts[k].fate > after)
        return log->pkts[k].fate;
    for (size_t i = after + 1; i < log->count; i++) {
        const rlog_entry *e = ent(log, i);
        if (e->packet_id == packet_id && (e->kind == RLOG_DELIVER || e->kind == RLOG_DROP))
            return i;
    }
    return RLOG_NONE;
}

bool rlog_has_packet(const rlog *log, uint32_t packet_id)
{
    return pkt_find(log, packet_id) != RLOG_NONE;
}

bool rlog_send_fate(const rlog *log, size_t i, rlog_fate *out)
{
    const rlog_entry *e = rlog_at(log, i);
    size_t k = pkt_find(log, e->packet_id);
    if (e->kind == RLOG_SEND && k != RLOG_NONE && log->pkts[k].fate == FATE_IN_SEND &&
        log->pkts[k].first == i) {
        *out = (rlog_fate){RLOG_DELIVER, e->value_ns, SIM_DROP_NONE};
        return true;
    }
    size_t f = rlog_packet_fate(log, e->packet_id, i);
    if (f == RLOG_NONE)
        return false;
    const rlog_entry *fe = ent(log, f);
    *out = (rlog_fate){fe->kind, fe->time_ns, fe->drop};
    return true;
}

/* ---- invariants ---------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
broken(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

bool rlog_is_packet_kind(rlog_kind k)
{
    switch (k) {
    case RLOG_SEND:
    case RLOG_DELIVER:
    case RLOG_DROP:
    case RLOG_DUP:
    case RLOG_HOLD:
    case RLOG_RELEASE:
    case RLOG_CORRUPT:
    case RLOG_DELAY:
        return true;
    case RLOG_LINK:
    case RLOG_STATE:
    case RLOG_TIMER:
    case RLOG_USER:
    case RLOG_ERROR:
    case RLOG_NOTE:
    case RLOG_REJECT:
    case RLOG_RESTART:
    case RLOG_KIND_COUNT:
        break;
    }
    return false;
}

/* The used bytes [lo, hi) of one arena chunk. Addresses are compared only
 * to answer "is this pointer in the arena": nothing written depends on them. */
typedef struct arena_span {
    uintptr_t lo, hi;
} arena_span;

static int span_cmp(const void *a, const void *b)
{
    uintptr_t x = ((const arena_span *)a)->lo, y = ((const arena_span *)b)->lo;
    return (x > y) - (x < y);
}

/* The arena's chunks sorted by address (*n of them); the caller frees. */
static arena_span *arena_spans(const rlog *log, size_t *n)
{
    size_t k = 0;
    for (const arena_chunk *c = log->arena; c; c = c->next)
        k++;
    arena_span *s = xrealloc(NULL, k * sizeof *s);
    k = 0;
    for (const arena_chunk *c = log->arena; c; c = c->next, k++)
        s[k] = (arena_span){(uintptr_t)c->data, (uintptr_t)c->data + c->used};
    qsort(s, k, sizeof *s, span_cmp);
    *n = k;
    return s;
}

/* Whether the n bytes at p lie in the used part of one chunk. */
static bool in_arena(const arena_span *s, size_t ns, const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    size_t lo = 0, hi = ns;
    while (lo < hi) { /* lo: the first span that starts after a */
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && a <= s[lo - 1].hi && n <= s[lo - 1].hi - a;
}

/* Rule 1's order: a known kind, no earlier than the entry before it. */
static int check_order(const rlog *log, size_t i, char *why, size_t len)
{
    const rlog_entry *e = ent(log, i);
    if ((unsigned)e->kind >= RLOG_KIND_COUNT)
        return broken(why, len, "entry %zu: kind %d is not a kind", i, (int)e->kind);
    const rlog_entry *p = i ? ent(log, i - 1) : NULL;
    if (p && e->time_ns < p->time_ns)
        return broken(why, len,
                      "time order: entry %zu (%s at %" PRIu64 " ns) comes after entry %zu (%s at "
                      "%" PRIu64 " ns)",
                      i, rlog_kind_name(e->kind), e->time_ns, i - 1, rlog_kind_name(p->kind),
                      p->time_ns);
    return 0;
}

/* Every byte an entry points to lives in the arena (an empty note may be
 * the literal ""); a segment's payload lies inside the bytes kept. */
static int check_memory(const rlog *log, const arena_span *sp, size_t ns, size_t i, char *why,
                        size_t len)
{
    const rlog_entry *e = ent(log, i);
    const char *k = rlog_kind_name(e->kind);
    size_t nn = e->note ? strlen(e->note) : 0;
    if (!e->note || nn > NOTE_MAX || (nn && !in_arena(sp, ns, e->note, nn + 1)))
        return broken(why, len, "arena: entry %zu (%s): its note is not the log's copy", i, k);
    /* text and bytes share a word: each is checked in the kinds that hold it. */
    bool texted = e->kind == RLOG_NOTE || e->kind == RLOG_REJECT;
    if (texted && (!e->text || !in_arena(sp, ns, e->text, strlen(e->text) + 1)))
        return broken(why, len, "arena: entry %zu (%s): its text is not the log's copy", i, k);
    if (texted && (e->nheld || e->nbytes))
        return broken(why, len, "arena: entry %zu (%s): a text entry holds packet bytes", i, k);
    if (e->nheld > e->nbytes || (e->nheld && !in_arena(sp, ns, e->bytes, e->nheld)))
        return broken(why, len, "arena: entry %zu (%s): its %" PRIu32 " bytes are not the log's", i,
                      k, e->nheld);
    if (e->seg != &no_seg && (!e->seg_ok || !in_arena(sp, ns, e->seg, sizeof *e->seg)))
        return broken(why, len, "arena: entry %zu (%s): its segment is not the log's copy", i, k);
    uintptr_t pl = (uintptr_t)e->seg->payload, b = (uintptr_t)e->bytes;
    if (pl &&
        (!e->seg_ok || !rlog_is_packet_kind(e->kind) || pl < b || pl - b + e->seg->len > e->nheld))
        return broken(why, len, "arena: entry %zu (%s): its payload lies outside its bytes", i, k);
    uintptr_t sk = (uintptr_t)e->seg->sack;
    size_t skn = 8u * e->seg->nsack;
    bool sk_bytes = e->nheld && sk >= b && sk - b + skn <= e->nheld;
    if (skn && !sk_bytes && !in_arena(sp, ns, e->seg->sack, skn))
        return broken(why, len, "arena: entry %zu (%s): its SACK blocks are not the log's", i, k);
    return 0;
}

/* A packet entry and the packet table agree: where the packet first
 * appeared, and its fate (the first DELIVER or DROP) not after this one. */
static int check_packet(const rlog *log, size_t i, char *why, size_t len)
{
    const rlog_entry *e = ent(log, i);
    const char *k = rlog_kind_name(e->kind);
    if (!rlog_is_packet_kind(e->kind))
        return 0; /* the field is cause_index: check_cause reads it */
    size_t r = pkt_find(log, e->packet_id);
    if (r == RLOG_NONE)
        return broken(why, len, "join: entry %zu (%s): packet %" PRIu32 " is not in the table", i,
                      k, e->packet_id);
    const rlog_pkt *row = &log->pkts[r];
    size_t f = e->send_index;
    if (f != row->first || (f != RLOG_NONE && (f > i || ent(log, f)->packet_id != e->packet_id)))
        return broken(why, len, "join: entry %zu (%s): packet %" PRIu32 " first appeared elsewhere",
                      i, k, e->packet_id);
    if (e->seg_ok && e->wire_err != TCP_WIRE_OK)
        return broken(why, len, "join: entry %zu (%s): parsed and malformed at once", i, k);
    bool fate = e->kind == RLOG_DELIVER || e->kind == RLOG_DROP;
    bool in_send = row->fate == FATE_IN_SEND && log->no_conns && row->first != RLOG_NONE &&
                   ent(log, row->first)->kind == RLOG_SEND;
    if (fate && !in_send &&
        (row->fate == RLOG_NONE || row->fate > i || ent(log, row->fate)->packet_id != e->packet_id))
        return broken(why, len, "join: entry %zu (%s): packet %" PRIu32 " has no earlier fate", i,
                      k, e->packet_id);
    return 0;
}

/* A resolved cause is a packet entry of the same instant and host that the
 * state change (or restart) can come from. */
static int check_cause(const rlog *log, size_t i, char *why, size_t len)
{
    const rlog_entry *e = ent(log, i);
    if (rlog_is_packet_kind(e->kind))
        return 0; /* the field is the packet's send_index (check_join) */
    size_t c = e->cause_index;
    if (c != RLOG_NONE && e->kind != RLOG_STATE && e->kind != RLOG_RESTART)
        return broken(why, len, "join: entry %zu (%s) has a cause", i, rlog_kind_name(e->kind));
    if (c == RLOG_NONE)
        return 0;
    if (c >= log->count || !cause_joins(e, ent(log, c)))
        return broken(why, len,
                      "join: entry %zu (%s %s -> %s) is joined to entry %zu, which "
                      "cannot have caused it",
                      i, rlog_kind_name(e->kind), tcp_state_name(e->from), tcp_state_name(e->to),
                      c);
    return 0;
}

/* What waits for a packet: state changes still unjoined, all of the last
 * entry's instant (an entry with a later time settles them). */
static int check_pending(const rlog *log, char *why, size_t len)
{
    for (size_t k = 0; k < log->npending; k++) {
        size_t si = log->pending[k];
        if (si >= log->count || ent(log, si)->cause_index != RLOG_NONE ||
            (ent(log, si)->kind != RLOG_STATE && ent(log, si)->kind != RLOG_RESTART) ||
            ent(log, si)->time_ns != ent(log, log->count - 1)->time_ns)
            return broken(why, len, "pending: entry %zu waits for a packet it cannot get", si);
    }
    const rlog_map *maps[] = {&log->pkt_map, &log->sock_map, &log->addr_map, &log->note_map};
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++)
        if (2 * maps[m]->n > maps[m]->cap)
            return broken(why, len, "map %zu is more than half full", m);
    return 0;
}

int rlog_check(const rlog *log, char *why, size_t len)
{
    size_t ns;
    arena_span *sp = arena_spans(log, &ns);
    int rc = 0;
    for (size_t i = 0; i < log->count && rc == 0; i++)
        rc = check_order(log, i, why, len) || check_memory(log, sp, ns, i, why, len) ||
                     check_packet(log, i, why, len) || check_cause(log, i, why, len)
                 ? -1
                 : 0;
    free(sp);
    if (rc == 0)
        rc = check_pending(log, why, len);
    if (rc == 0 && len)
        why[0] = '\0';
    return rc;
}
