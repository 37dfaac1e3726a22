/*
 * tcp_stack — the stack object: the connection pool, the id / 4-tuple /
 * listener tables, the deadline heap, event reporting, and the two entry
 * points driven by the host (tcp_stack_input, tcp_stack_on_time).
 *
 * Timers: each connection keeps one deadline per timer kind; the heap is
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
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

#define POOL_CHUNK 32u

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

static tcp_conn **link_of(tcp_conn *c, link_kind k)
{
    return k == LINK_ID ? &c->id_next : &c->tuple_next;
}

static size_t key_of(const tcp_conn *c, link_kind k)
{
    if (k == LINK_ID)
        return hash_u32(c->id);
    return tuple_hash(c->lport, c->raddr, c->rport);
}

static int table_grow(tcp_table *t, link_kind k)
{
    size_t n = t->slots ? (t->mask + 1) * 2 : 16;
    tcp_conn **slots = calloc(n, sizeof *slots);
    if (!slots)
        return TCP_ENOMEM;
    for (size_t i = 0; t->slots && i <= t->mask; i++) {
        tcp_conn *c = t->slots[i];
        while (c) {
            tcp_conn *next = *link_of(c, k);
            size_t b = key_of(c, k) & (n - 1);
            *link_of(c, k) = slots[b];
            slots[b] = c;
            c = next;
        }
    }
    free(t->slots);
    t->slots = slots;
    t->mask = n - 1;
    return 0;
}

static int table_add(tcp_table *t, tcp_conn *c, link_kind k)
{
    if (!t->slots || t->count >= t->mask + 1) {
        int rc = table_grow(t, k);
        if (rc && !t->slots)
            return rc; /* a full table still works, only a missing one fails */
    }
    size_t b = key_of(c, k) & t->mask;
    *link_of(c, k) = t->slots[b];
    t->slots[b] = c;
    t->count++;
    return 0;
}

/* Returns true if c was in the table. */
static bool table_remove(tcp_table *t, tcp_conn *c, link_kind k)
{
    if (!t->slots)
        return false;
    tcp_conn **pp = &t->slots[key_of(c, k) & t->mask];
    while (*pp && *pp != c)
        pp = link_of(*pp, k);
    if (!*pp)
        return false;
    *pp = *link_of(c, k);
    *link_of(c, k) = NULL;
    t->count--;
    return true;
}

tcp_conn *tcp_stack_find(const tcp_stack *s, tcp_sock_id id)
{
    if (!s || !s->by_id.slots || id == 0)
        return NULL;
    tcp_conn *c = s->by_id.slots[hash_u32(id) & s->by_id.mask];
    while (c && c->id != id)
        c = c->id_next;
    return c;
}

tcp_conn *tcp_stack_lookup(const tcp_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    if (!s->by_tuple.slots)
        return NULL;
    tcp_conn *c = s->by_tuple.slots[tuple_hash(lport, raddr, rport) & s->by_tuple.mask];
    while (c && !(c->lport == lport && c->raddr == raddr && c->rport == rport))
        c = c->tuple_next;
    return c;
}

tcp_conn *tcp_stack_listener(const tcp_stack *s, uint16_t lport)
{
    if (!s->listeners.slots)
        return NULL;
    tcp_conn *c = s->listeners.slots[tuple_hash(lport, 0, 0) & s->listeners.mask];
    while (c && c->lport != lport)
        c = c->tuple_next;
    return c;
}

int tcp_stack_hash(tcp_conn *c)
{
    return table_add(&c->stack->by_tuple, c, LINK_TUPLE);
}

void tcp_stack_unhash(tcp_conn *c)
{
    table_remove(&c->stack->by_tuple, c, LINK_TUPLE);
}

/* Listeners share the tuple link: a listener is never in the tuple table. */
int tcp_stack_listen_add(tcp_conn *c)
{
    assert(c->raddr == 0 && c->rport == 0);
    return table_add(&c->stack->listeners, c, LINK_TUPLE);
}

void tcp_stack_listen_remove(tcp_conn *c)
{
    table_remove(&c->stack->listeners, c, LINK_TUPLE);
}

/* A port is busy for bind if a listener or a bound, unconnected socket has
 * it (connected sockets only own their 4-tuple); with any_use, if any
 * connection uses it (ephemeral ports avoid every collision). O(n): binding
 * is rare next to segments. */
bool tcp_stack_port_busy(const tcp_stack *s, uint16_t port, const tcp_conn *self, bool any_use)
{
    if (tcp_stack_listener(s, port))
        return true;
    for (size_t i = 0; s->by_id.slots && i <= s->by_id.mask; i++) {
        for (tcp_conn *c = s->by_id.slots[i]; c; c = c->id_next) {
            if (c == self || c->lport != port)
                continue;
            if (any_use || (c->state == TCP_CLOSED && c->user_held && !c->ever_used))
                return true;
        }
    }
    return false;
}

/* ---- Deadline heap ------------------------------------------------------------ */

static bool heap_less(const tcp_conn *a, const tcp_conn *b)
{
    return a->heap_at < b->heap_at || (a->heap_at == b->heap_at && a->heap_seq < b->heap_seq);
}

static void heap_place(tcp_stack *s, size_t i, tcp_conn *c)
{
    s->heap[i] = c;
    c->heap_idx = (uint32_t)i;
}

static void heap_up(tcp_stack *s, size_t i)
{
    tcp_conn *c = s->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(c, s->heap[p]))
            break;
        heap_place(s, i, s->heap[p]);
        i = p;
    }
    heap_place(s, i, c);
}

static void heap_down(tcp_stack *s, size_t i)
{
    tcp_conn *c = s->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const tcp_conn *best = c;
        if (l < s->heap_len && heap_less(s->heap[l], best))
            m = l, best = s->heap[l];
        if (l + 1 < s->heap_len && heap_less(s->heap[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        heap_place(s, i, s->heap[m]);
        i = m;
    }
    heap_place(s, i, c);
}

static void heap_remove(tcp_stack *s, tcp_conn *c)
{
    if (c->heap_idx == TCP_HEAP_NONE)
        return;
    size_t i = c->heap_idx;
    c->heap_idx = TCP_HEAP_NONE;
    tcp_conn *last = s->heap[--s->heap_len];
    if (i == s->heap_len)
        return;
    heap_place(s, i, last);
    heap_up(s, i);
    heap_down(s, last->heap_idx);
}

static uint64_t earliest(const tcp_conn *c)
{
    uint64_t t = TCP_NEVER;
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        t = c->timer_at[k] < t ? c->timer_at[k] : t;
    return t;
}

static void heap_update(tcp_stack *s, tcp_conn *c)
{
    uint64_t at = earliest(c);
    if (c->heap_idx != TCP_HEAP_NONE && c->heap_at == at)
        return;
    heap_remove(s, c);
    if (at == TCP_NEVER)
        return;
    if (s->heap_len == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 16;
        tcp_conn **h = realloc(s->heap, cap * sizeof *h);
        assert(h); /* grows with the connection count, never per segment */
        s->heap = h;
        s->heap_cap = cap;
    }
    c->heap_at = at;
    c->heap_seq = s->heap_seq++;
    heap_place(s, s->heap_len++, c);
    heap_up(s, c->heap_idx);
}

/* ---- Pool ------------------------------------------------------------------------ */

static int pool_grow(tcp_stack *s)
{
    void **chunks = realloc(s->chunks, (s->nchunks + 1) * sizeof *chunks);
    if (!chunks)
        return TCP_ENOMEM;
    s->chunks = chunks;
    tcp_conn *block = calloc(POOL_CHUNK, sizeof *block);
    if (!block)
        return TCP_ENOMEM;
    s->chunks[s->nchunks++] = block;
    for (size_t i = POOL_CHUNK; i-- > 0;) {
        block[i].q_next = s->free_list;
        s->free_list = &block[i];
    }
    return 0;
}

tcp_conn *tcp_conn_new(tcp_stack *s)
{
    if (!s->free_list && pool_grow(s))
        return NULL;
    tcp_conn *c = s->free_list;
    s->free_list = c->q_next;
    memset(c, 0, sizeof *c);
    c->stack = s;
    c->id = s->next_id;
    c->state = TCP_CLOSED;
    c->heap_idx = TCP_HEAP_NONE;
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        c->timer_at[k] = TCP_NEVER;
    tcp_conn_init_opts(c, &s->profile);
    if (table_add(&s->by_id, c, LINK_ID)) {
        c->q_next = s->free_list;
        s->free_list = c;
        return NULL;
    }
    s->next_id++;
    s->nconns++;
    return c;
}

static void listener_unlink(tcp_conn *child)
{
    tcp_conn *l = tcp_stack_find(child->stack, child->parent);
    if (!l || (!child->in_syn_q && !child->in_accept_q))
        return;
    tcp_conn **pp = child->in_syn_q ? &l->syn_q : &l->acc_head;
    tcp_conn *prev = NULL;
    while (*pp && *pp != child) {
        prev = *pp;
        pp = &(*pp)->q_next;
    }
    assert(*pp == child);
    *pp = child->q_next;
    if (child->in_syn_q) {
        l->syn_n--;
    } else {
        l->acc_n--;
        if (l->acc_tail == child)
            l->acc_tail = prev;
    }
    child->in_syn_q = child->in_accept_q = false;
    child->q_next = NULL;
}

static void conn_free(tcp_conn *c)
{
    tcp_stack *s = c->stack;
    listener_unlink(c);
    heap_remove(s, c);
    tcp_stack_unhash(c);
    tcp_stack_listen_remove(c);
    table_remove(&s->by_id, c, LINK_ID);
    tcp_ring_free(&c->sndq);
    tcp_ring_free(&c->rcvq);
    c->state = TCP_CLOSED;
    c->id = 0;
    c->q_next = s->free_list;
    s->free_list = c;
    s->nconns--;
}

void tcp_stack_settle(tcp_conn *c)
{
    if (c->stack->check.on)
        tcp_check_after(c);
    bool dead = c->state == TCP_CLOSED || (c->passive && c->state == TCP_LISTEN);
    if (dead && !c->user_held) {
        conn_free(c);
        return;
    }
    heap_update(c->stack, c);
}

/* ---- Events -------------------------------------------------------------------------- */

static void emit(tcp_stack *s, const tcp_event *ev)
{
    if (s->env.event)
        s->env.event(s->env.ctx, ev);
}

void tcp_ev(tcp_conn *c, tcp_event_kind kind, int detail, const tcp_seg *seg, const char *note)
{
    tcp_event ev = {
        .kind = kind,
        .time_ns = c->stack->now,
        .sock = c->id,
        .parent = c->parent,
        .from = c->state,
        .to = c->state,
        .cause = TCP_CAUSE_SEGMENT,
        .detail = detail,
        .seg = seg,
        .note = note,
    };
    if (c->stack->check.on)
        tcp_check_event(c, kind, detail, seg);
    emit(c->stack, &ev);
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

/* ---- The stack ---------------------------------------------------------------------------- */

#define OUT_MAX 65535u /* the largest IPv4 datagram */

tcp_stack *tcp_stack_new(const tcp_env *env, uint32_t addr, const tcp_profile *profile)
{
    assert(env && env->now_ns && env->random && env->output && profile);
    tcp_stack *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = *env;
    s->addr = addr;
    s->profile = *profile;
    s->profile.name[sizeof s->profile.name - 1] = '\0';
    s->next_id = 1;
    s->check.on = tcp_check_default();
    s->out = malloc(OUT_MAX);
    s->payload = malloc(OUT_MAX);
    if (!s->out || !s->payload) {
        tcp_stack_free(s);
        return NULL;
    }
    return s;
}

void tcp_stack_free(tcp_stack *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nchunks; i++) {
        tcp_conn *block = s->chunks[i];
        for (size_t j = 0; j < POOL_CHUNK; j++) {
            free(block[j].sndq.data);
            free(block[j].rcvq.data);
        }
        free(block);
    }
    free(s->chunks);
    free(s->by_id.slots);
    free(s->by_tuple.slots);
    free(s->listeners.slots);
    free(s->heap);
    free(s->out);
    free(s->payload);
    free(s);
}

const tcp_profile *tcp_stack_profile(const tcp_stack *s)
{
    return &s->profile;
}

size_t tcp_stack_conns(const tcp_stack *s)
{
    return s->nconns;
}

uint64_t tcp_stack_malformed(const tcp_stack *s)
{
    return s->malformed;
}

size_t tcp_conn_size(void)
{
    return sizeof(tcp_conn);
}

uint64_t tcp_stack_next_deadline(const tcp_stack *s)
{
    return s->heap_len ? s->heap[0]->heap_at : UINT64_MAX;
}

void tcp_stack_on_time(tcp_stack *s)
{
    s->now = s->env.now_ns(s->env.ctx);
    while (s->heap_len && s->heap[0]->heap_at <= s->now) {
        tcp_conn *c = s->heap[0];
        tcp_timer_run(c);
        /* Every timer that ran was disarmed or moved past now. */
        assert(c->state == TCP_CLOSED || earliest(c) > s->now);
        tcp_stack_settle(c);
    }
}

static tcp_conn *demux(tcp_stack *s, const tcp_seg *seg)
{
    tcp_conn *c = tcp_stack_lookup(s, seg->dst_port, seg->src_addr, seg->src_port);
    return c ? c : tcp_stack_listener(s, seg->dst_port);
}

void tcp_stack_input(tcp_stack *s, const uint8_t *datagram, size_t len)
{
    s->now = s->env.now_ns(s->env.ctx);
    tcp_seg seg;
    tcp_wire_err err = datagram ? tcp_wire_parse(datagram, len, &seg) : TCP_WIRE_TRUNCATED;
    if (err != TCP_WIRE_OK) {
        s->malformed++;
        tcp_ev_nosock(s, TCP_EV_DROP, NULL, tcp_wire_err_name(err));
        return;
    }
    if (seg.dst_addr != s->addr) {
        tcp_ev_nosock(s, TCP_EV_DROP, &seg, "not our address");
        return;
    }
    if (seg.src_port == 0 || seg.dst_port == 0) {
        s->malformed++;
        tcp_ev_nosock(s, TCP_EV_DROP, &seg, "port 0");
        return;
    }
    tcp_conn *c = demux(s, &seg);
    if (!c) {
        tcp_ev_nosock(s, TCP_EV_SEG_IN, &seg, NULL);
        tcp_input_no_conn(s, &seg);
        return;
    }
    c->stats.segs_in++;
    c->stats.bytes_in += seg.len;
    tcp_ev(c, TCP_EV_SEG_IN, 0, &seg, NULL);
    tcp_input(c, &seg);
    tcp_stack_settle(c);
}
