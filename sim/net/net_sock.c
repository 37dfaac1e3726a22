/*
 * net_sock — socket records and socket calls: what the glue keeps of each
 * socket (its state trace, counters, error and the bytes read) for its
 * whole life and after, and the user calls, each one bracketed stack call
 * (net.h rules 1, 2 and 4).
 *
 * send never loses data: what the stack's send buffer cannot take now is
 * kept here and fed to the stack as acknowledgements free space; a close
 * or shutdown issued meanwhile waits until everything has been handed over,
 * as it would behind a blocking write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"
#include "net_kern.h"

/* Bytes read from the stack per call while draining. */
#define NET_DRAIN_CHUNK 4096u

uint32_t net_sock_record(net *n, uint32_t host, tcp_sock_id id, uint32_t parent, tcp_state st)
{
    if (n->nsocks % NET_SOCK_CHUNK == 0) {
        uint32_t chunk = n->nsocks / NET_SOCK_CHUNK;
        n->sockchunks = net_grow(n->sockchunks, &n->capchunks, chunk + 1, sizeof *n->sockchunks);
        n->sockchunks[chunk] = malloc(NET_SOCK_CHUNK * sizeof(net_sock));
        if (!n->sockchunks[chunk]) {
            fprintf(stderr, "tcpsim: out of memory\n");
            abort();
        }
    }
    uint32_t idx = n->nsocks++;
    net_sock *k = net_sock_mut(n, idx);
    memset(k, 0, sizeof *k);
    k->host = host;
    k->id = id;
    k->parent = parent;
    k->state = st;
    k->alive = true;
    net_host_map_sock(net_host_at(n, host), id, idx);
    return idx;
}

/* Steps are stored in a byte each: the enums must fit. */
_Static_assert(TCP_STATE_COUNT <= 256 && TCP_CAUSE_TIMER < 256,
               "a step's state and cause are bytes");

/* A listener keeps its two steps in the record; a connection's later
 * steps (about five more) go to step_more. A trace's room, the record's
 * steps and step_more's, doubles from the record's two: step_more holds 2,
 * 6, 14 ... steps, grown when the trace's count is a power of two, so the
 * room need not be stored. The first two (a connection at the close
 * exchange, the race's peak, has spilled two) come from the net's pool of
 * blocks of two: no allocator header, and no allocator call once the pool
 * holds blocks let go by traces grown past them; longer ones are malloc's. */
#define NET_STEP_CHUNK 256u /* blocks of two steps a pool chunk holds, at most */

/* Chunks hold 1, 2, 4 ... NET_STEP_CHUNK blocks: a net with a few
 * connections asks the heap for no more than they use (a memory limit's
 * last bytes included). */
typedef struct net_step_chunk {
    struct net_step_chunk *next;
    net_trace_step steps[];
} net_step_chunk;

/* A free block's first bytes link it to the next free block. */
_Static_assert(sizeof(net_trace_step) >= sizeof(net_trace_step *), "a step holds a link");

static net_trace_step *pair_take(net_step_pool *p)
{
    net_trace_step *b = p->free;
    if (b) {
        const void *link = b; /* the block's first bytes, not a step */
        memcpy(&p->free, link, sizeof p->free);
        return b;
    }
    if (p->left == 0) {
        uint32_t blocks = p->nchunks < 8 ? 1u << p->nchunks : NET_STEP_CHUNK;
        net_step_chunk *ch = malloc(sizeof *ch + 2 * blocks * sizeof ch->steps[0]);
        if (!ch)
            net_oom();
        ch->next = p->chunks;
        p->chunks = ch;
        p->nchunks++;
        p->next = ch->steps;
        p->left = blocks;
    }
    b = p->next;
    p->next += 2;
    p->left--;
    return b;
}

static void pair_put(net_step_pool *p, net_trace_step *b)
{
    void *link = b;
    memcpy(link, &p->free, sizeof p->free);
    p->free = b;
}

void net_trace_append(net *n, net_sock *k, uint64_t t, tcp_state st, tcp_cause cause,
                      const char *note)
{
    /* A step's note is most often the one its state and cause had last. */
    uint32_t note_id = net_keep_note_at(n, note, (uint32_t)st * 4 + (uint32_t)cause);
    net_trace_step step = {t, note_id, (uint8_t)st, (uint8_t)cause};
    uint32_t i = k->ntrace;
    if (i < NET_TRACE_INLINE) {
        k->step_in[k->ntrace++] = step;
        return;
    }
    _Static_assert(NET_TRACE_INLINE == 2, "the pool's blocks hold the first two spilled");
    if (i == NET_TRACE_INLINE) {
        k->step_more = pair_take(&n->steps);
    } else if ((i & (i - 1)) == 0) { /* 4, 8, 16 ...: full */
        if (i >= UINT32_MAX / 2)
            net_oom();
        size_t room = 2 * (size_t)i - NET_TRACE_INLINE;
        net_trace_step *steps;
        if (i == 2 * NET_TRACE_INLINE) {
            steps = malloc(room * sizeof *steps);
            if (steps) {
                memcpy(steps, k->step_more, NET_TRACE_INLINE * sizeof *steps);
                pair_put(&n->steps, k->step_more);
            }
        } else {
            steps = realloc(k->step_more, room * sizeof *steps);
        }
        if (!steps)
            net_oom();
        k->step_more = steps;
    }
    k->step_more[i - NET_TRACE_INLINE] = step;
    k->ntrace++;
}

static void queue_pending(net *n, uint32_t sock, tcp_state from, tcp_state to)
{
    if (n->npending == n->cappending)
        n->pending = net_grow(n->pending, &n->cappending, n->npending + 1, sizeof *n->pending);
    n->pending[n->npending++] = (net_pending){sock, from, to};
}

static uint32_t record_for_event(net *n, net_host *h, const tcp_event *ev)
{
    uint32_t known = net_host_sock(h, ev->sock);
    if (known != NET_NONE)
        return known;
    /* A connection not seen yet: a listener's child. It is born in the
     * state it enters (SYN_RECEIVED); a record made from another kind of
     * event starts with the current state. */
    uint32_t parent = ev->parent ? net_host_sock(h, ev->parent) : NET_NONE;
    /* Not autoread yet, whatever the listener's: no one can read a
     * connection before accept() hands it out (net_accept sets it then). */
    uint32_t idx = net_sock_record(n, h->index, ev->sock, parent, ev->from);
    if (ev->kind != TCP_EV_STATE)
        net_trace_append(n, net_sock_mut(n, idx), ev->time_ns, ev->to, ev->cause, "");
    return idx;
}

/* Copies the stack's counters into the record. A record reads them from
 * the stack while the connection lives, so only a connection about to go
 * needs its own copy: 72 bytes then instead of in every record. A copy
 * lives as long as the net, so copies are carved in turn from chunks the
 * net owns, with no allocator call or header each. Chunks hold 1, 2, 4,
 * then five each (368 bytes): copies are made as connections go, and a
 * chunk no larger than the connection slot just freed (tcp_conn, 384
 * bytes) takes its room in the heap; chunks of 32 came from fresh pages
 * (+0.8-1.2 MiB at the race's 10,000 pairs). */
#define NET_STATS_CHUNK 5u

typedef struct net_stats_chunk {
    struct net_stats_chunk *next;
    tcp_stats stats[];
} net_stats_chunk;

void net_sock_keep_stats(net *n, net_sock *k, const tcp_stats *st)
{
    if (!k->kept_stats) {
        if (n->stats_left == 0) {
            uint32_t cap = n->nstats_chunks < 3 ? 1u << n->nstats_chunks : NET_STATS_CHUNK;
            net_stats_chunk *ch = malloc(sizeof *ch + cap * sizeof ch->stats[0]);
            if (!ch)
                net_oom();
            ch->next = n->stats_chunks;
            n->stats_chunks = ch;
            n->nstats_chunks++;
            n->stats_next = ch->stats;
            n->stats_left = cap;
        }
        k->kept_stats = n->stats_next++;
        n->stats_left--;
    }
    *k->kept_stats = *st;
}

static void keep_stats_now(net *n, net_host *h, net_sock *k, const tcp_event *ev)
{
    const tcp_stats *st = h->stack ? tcp_sock_stats(h->stack, ev->sock) : NULL;
    if (st)
        net_sock_keep_stats(n, k, st);
}

/* The stack frees a connection at the end of the call that leaves it
 * CLOSED, or a passive child sent back to LISTEN (tcp_conn.h): the record
 * takes a copy at that state change (an event with `to` CLOSED is not
 * enough: a user call on a fresh socket reports CLOSED too) and refreshes
 * it on each later event, the last being the TCB report just before the
 * stack lets the connection go.
 * Inline: most events neither end a connection nor follow its end. */
static inline void keep_if_ending(net *n, net_host *h, net_sock *k, const tcp_event *ev)
{
    bool ends = ev->kind == TCP_EV_STATE &&
                (ev->to == TCP_CLOSED || (ev->to == TCP_LISTEN && ev->parent != 0));
    if (ends || k->kept_stats)
        keep_stats_now(n, h, k, ev);
}

void net_sock_on_event(net *n, net_host *h, const tcp_event *ev)
{
    if (ev->sock == 0)
        return;
    if (ev->kind == TCP_EV_TCB) { /* variables, not a socket's news */
        uint32_t known = net_host_sock(h, ev->sock);
        if (known != NET_NONE)
            keep_if_ending(n, h, net_sock_mut(n, known), ev);
        return;
    }
    uint32_t idx = record_for_event(n, h, ev);
    net_sock *k = net_sock_mut(n, idx);
    keep_if_ending(n, h, k, ev);
    if ((k->lport == 0 || k->raddr == 0) && h->stack)
        tcp_sock_endpoints(h->stack, ev->sock, &k->lport, &k->raddr, &k->rport);
    switch (ev->kind) {
    case TCP_EV_STATE:
        k->state = ev->to;
        net_trace_append(n, k, ev->time_ns, ev->to, ev->cause, ev->note);
        queue_pending(n, idx, ev->from, ev->to);
        break;
    case TCP_EV_ERROR:
        k->error = ev->detail;
        break;
    case TCP_EV_SEG_IN:
        /* a wake-up: read what arrived, feed what the window now takes */
        if (k->autoread || net_tx_waiting(k))
            queue_pending(n, idx, k->state, k->state);
        break;
    case TCP_EV_SEG_OUT:
    case TCP_EV_DROP:
    case TCP_EV_TIMER:
    case TCP_EV_USER:
    case TCP_EV_TIMER_RESTART:
    case TCP_EV_TCB:
        break;
    }
}

uint32_t net_sock_count(const net *n)
{
    return n->nsocks;
}

const net_sock *net_sock_at(const net *n, uint32_t sock)
{
    return net_sock_mut(n, sock);
}

void net_sock_free_all(net *n)
{
    for (uint32_t i = 0; i < n->nsocks; i++) {
        net_sock *k = net_sock_mut(n, i);
        if (k->ntrace > 2 * NET_TRACE_INLINE) /* past the pool's block */
            free(k->step_more);
        if (k->rx)
            free(k->rx - sizeof(size_t));
        net_tx_reset(k);
    }
    for (uint32_t c = 0; c * NET_SOCK_CHUNK < n->nsocks; c++)
        free(n->sockchunks[c]);
    free(n->sockchunks);
    n->sockchunks = NULL;
    while (n->stats_chunks) {
        net_stats_chunk *ch = n->stats_chunks;
        n->stats_chunks = ch->next;
        free(ch);
    }
    n->stats_left = 0;
    n->nstats_chunks = 0;
    n->stats_next = NULL;
    while (n->steps.chunks) {
        net_step_chunk *ch = n->steps.chunks;
        n->steps.chunks = ch->next;
        free(ch);
    }
    n->steps = (net_step_pool){0};
    n->nsocks = 0;
}

/* ---- data ---- */

/* Appends bytes read from the stack to what the socket has received.
 * rx's room is the size_t in front of its bytes: a net that keeps no
 * bytes (net_set_keep_rx) pays nothing for it, and it cannot be implied by
 * nrx, which counts on while the net keeps none. */
void net_rx_append(const net *n, net_sock *k, const char *data, size_t len)
{
    if (!n->keep_rx) {
        k->nrx += len;
        return;
    }
    size_t room = 0;
    char *block = NULL;
    if (k->rx) {
        block = k->rx - sizeof room;
        memcpy(&room, block, sizeof room);
    }
    if (k->nrx + len > room) {
        size_t c = room;
        block = net_grow_to(block, &c, sizeof room + k->nrx + len, 1);
        room = c - sizeof room;
        memcpy(block, &room, sizeof room);
        k->rx = block + sizeof room;
    }
    memcpy(k->rx + k->nrx, data, len);
    k->nrx += len;
}

/* Reads everything the stack holds for k into its rx. */
static void drain(net *n, net_sock *k)
{
    net_host *h = net_host_at(n, k->host);
    if (!h->stack || !k->alive)
        return;
    char buf[NET_DRAIN_CHUNK];
    for (;;) {
        net_stack_enter(n);
        long got = tcp_recv(h->stack, k->id, buf, sizeof buf);
        net_stack_leave(n, h);
        if (got <= 0)
            break;
        net_rx_append(n, k, buf, (size_t)got);
    }
}

void net_drain(net *n, uint32_t sock)
{
    if (n->kern && net_kern_host(n, net_sock_mut(n, sock)->host)) {
        net_kern_drain(n, sock);
        return;
    }
    drain(n, net_sock_mut(n, sock));
}

/* The send pattern, 'a'..'z' from offset 0, long enough that any run of
 * up to 65,536 bytes (more than one datagram's payload) reads contiguously
 * from any phase: read-only data shared by every net, alive as long as
 * the program, so datagrams may point into it (output_split); only the
 * pages read are ever resident. */
#define P26    "abcdefghijklmnopqrstuvwxyz"
#define P260   P26 P26 P26 P26 P26 P26 P26 P26 P26 P26
#define P2600  P260 P260 P260 P260 P260 P260 P260 P260 P260 P260
#define P26000 P2600 P2600 P2600 P2600 P2600 P2600 P2600 P2600 P2600 P2600
static const char pattern_text[] = P26000 P26000 P26000;
static const tcp_pattern pattern = {(const uint8_t *)pattern_text, 26, sizeof pattern_text - 1};
_Static_assert(sizeof pattern_text - 1 >= 26 + 65536, "the pattern holds any run of a datagram");

long net_tx_send(const net_sock *k, tcp_stack *st, const char *data, size_t len)
{
    if (data)
        return tcp_send(st, k->id, data, len);
    return tcp_send_pattern(st, k->id, &pattern, k->tx_phase, len);
}

long net_tx_offer(const net_sock *k, tcp_stack *st)
{
    const net_txq *q = k->txq;
    size_t len = q->ntx - q->offtx;
    if (q->tx)
        return tcp_send(st, k->id, q->tx + q->offtx, len);
    return tcp_send_pattern(st, k->id, &pattern, (uint32_t)(q->offtx % 26), len);
}

/* Hands queued bytes to the stack; then a deferred shutdown/close. The
 * queue is a writer blocked in write() that has copied bytes: once the
 * connection ended (CLOSED: a reset, a timeout) it returns its count and
 * leaves the error for the user's next call (Linux tcp_sendmsg_locked,
 * do_error: "if (copied + copied_syn) goto out"), so the stack is not
 * offered the rest, whose refusal would report the error here and, under
 * err_once, clear it. The bytes left can never go: they are dropped, a
 * shutdown waiting on them has nothing left to shut (the stack would
 * answer ENOTCONN) and a close waiting on them is made now. */
static void feed(net *n, net_sock *k)
{
    net_host *h = net_host_at(n, k->host);
    if (!h->stack)
        return;
    if (k->state == TCP_CLOSED && net_tx_waiting(k)) {
        net_tx_reset(k);
        k->shutdown_pending = false;
    }
    net_stack_enter(n);
    while (net_tx_waiting(k)) {
        long took = net_tx_offer(k, h->stack);
        if (took <= 0)
            break;
        k->txq->offtx += (size_t)took;
    }
    if (!net_tx_waiting(k)) {
        net_tx_reset(k);
        if (k->shutdown_pending) {
            k->shutdown_pending = false;
            tcp_shutdown(h->stack, k->id);
        }
        if (k->close_pending) {
            k->close_pending = false;
            tcp_close(h->stack, k->id);
        }
    }
    net_stack_leave(n, h);
}

void net_sock_service(net *n, net_sock *k)
{
    if (!k->alive) /* its stack is gone (a crash): nothing to read or feed */
        return;
    if (k->autoread)
        drain(n, k);
    if (net_tx_waiting(k) || k->close_pending || k->shutdown_pending)
        feed(n, k);
}
