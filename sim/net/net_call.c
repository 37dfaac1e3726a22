/*
 * net_call — the user calls on socket records (RFC 9293 §3.10.1–§3.10.6 as
 * a program makes them): each checks the host and record, then makes its
 * stack calls inside one bracket and returns a code; none can leave the
 * bracket open (net.h rule 4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"
#include "net_kern.h"

/* The running stack of `host`, or the reason there is none. */
static int host_ready(const net *n, uint32_t host, tcp_stack **out)
{
    if (n->in_stack > 0)
        return NET_EBUSY;
    tcp_stack *st = net_host_at(n, host)->stack;
    if (!st)
        return NET_EDOWN;
    *out = st;
    return 0;
}

/* The stack behind a record a user call may still use. A record whose
 * stack crashed is dead (alive clear) after the restart too: the new stack
 * gives its ids out again from 1, so the record's id may name another
 * socket there; the call answers as the stack does for an id it does not
 * have, TCP_EBADF. */
static int sock_ready(const net *n, const net_sock *k, tcp_stack **out)
{
    int rc = host_ready(n, k->host, out);
    if (rc == 0 && k->released)
        rc = NET_ECLOSED;
    else if (rc == 0 && !k->alive)
        rc = TCP_EBADF;
    return rc;
}

/* close or abort on a record sock_ready found dead: the user lets it go
 * all the same (nothing of it is left to send), TCP_EBADF. */
static int release_dead(net_sock *k)
{
    k->released = true;
    k->close_pending = k->shutdown_pending = false;
    net_tx_reset(k);
    return TCP_EBADF;
}

/* Applies options in order; stops at the first the stack refuses. */
static int apply_opts(tcp_stack *st, tcp_sock_id id, const net_opt *opts, uint32_t nopts,
                      uint32_t *failed_opt)
{
    for (uint32_t i = 0; i < nopts; i++) {
        int rc = tcp_setopt(st, id, opts[i].opt, opts[i].value);
        if (rc < 0) {
            *failed_opt = i;
            return rc;
        }
    }
    return 0;
}

/* A new socket on h with its interface MSS (net_host_iface_mss) and its
 * record, traced as "socket()". */
static int new_socket(net *n, net_host *h, uint32_t *out)
{
    tcp_sock_id id;
    net_stack_enter(n);
    int rc = tcp_socket(h->stack, &id);
    uint16_t mss = net_host_iface_mss(n, h->index);
    if (rc == 0 && mss)
        rc = tcp_setopt(h->stack, id, TCP_OPT_MSS, mss); /* socket options may override */
    net_stack_leave(n, h);
    if (rc < 0)
        return rc;
    *out = net_sock_record(n, h->index, id, NET_NONE, TCP_CLOSED);
    net_trace_append(n, net_sock_mut(n, *out), sim_world_now(n->world), TCP_CLOSED, TCP_CAUSE_USER,
                     "socket()");
    return 0;
}

int net_listen(net *n, uint32_t host, net_listen_opts *o, uint32_t *out)
{
    if (n->kern && net_kern_host(n, host))
        return net_kern_listen(n, o, out);
    tcp_stack *st;
    o->failed_opt = NET_NONE;
    int rc = host_ready(n, host, &st);
    uint32_t idx = NET_NONE;
    if (rc == 0)
        rc = new_socket(n, net_host_at(n, host), &idx);
    if (rc < 0)
        return rc;
    net_sock *k = net_sock_mut(n, idx);
    k->autoread = o->autoread;
    net_stack_enter(n);
    rc = tcp_bind(st, k->id, o->port);
    if (rc == 0)
        rc = apply_opts(st, k->id, o->opts, o->nopts, &o->failed_opt);
    if (rc == 0)
        rc = tcp_listen(st, k->id, o->backlog);
    net_stack_leave(n, net_host_at(n, host));
    if (rc == 0)
        *out = idx;
    return rc;
}

int net_connect(net *n, uint32_t host, net_connect_opts *o, uint32_t *out)
{
    if (n->kern && net_kern_host(n, host))
        return net_kern_connect(n, o, out);
    tcp_stack *st;
    o->failed_opt = NET_NONE;
    int rc = host_ready(n, host, &st);
    uint32_t idx = NET_NONE;
    if (rc == 0)
        rc = new_socket(n, net_host_at(n, host), &idx);
    if (rc < 0)
        return rc;
    net_sock *k = net_sock_mut(n, idx);
    k->autoread = o->autoread;
    net_stack_enter(n);
    rc = tcp_bind(st, k->id, o->lport);
    if (rc == 0)
        rc = apply_opts(st, k->id, o->opts, o->nopts, &o->failed_opt);
    if (rc == 0)
        rc = tcp_connect(st, k->id, o->raddr, o->rport);
    net_stack_leave(n, net_host_at(n, host));
    if (rc == 0)
        *out = idx;
    return rc;
}

int net_connect_sock(net *n, uint32_t sock, uint32_t raddr, uint16_t rport)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return TCP_EINVAL; /* the kernel's own sockets are made by net_kern_connect */
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    net_stack_enter(n);
    rc = tcp_connect(st, k->id, raddr, rport);
    net_stack_leave(n, net_host_at(n, k->host));
    return rc;
}

/* tx's room: allocated as the smallest power of two (at least 8) holding
 * ntx bytes, it is at least that for the current ntx, which only falls
 * (a refused send, the queue emptied and tx freed) until tx next grows. */
static size_t tx_room(size_t ntx)
{
    size_t c = 8;
    while (c < ntx && c <= SIZE_MAX / 2)
        c *= 2;
    return c;
}

/* tx (NULL or holding ntx bytes) grown to hold `need`; its room is
 * implied by ntx, so the queue keeps no count of it. */
static char *tx_grow(char *tx, size_t ntx, size_t need)
{
    size_t room = tx ? tx_room(ntx) : 0;
    return net_grow_to(tx, &room, need, 1);
}

/* A queue where the one parked last left off: a position in the pattern
 * (positions only matter modulo 26 there), and bytes when it held bytes
 * (which is how the pattern queued behind bytes is kept). */
static net_txq *tx_unpark(net_sock *k)
{
    net_txq *q = malloc(sizeof *q);
    if (!q)
        net_oom();
    q->ntx = q->offtx = k->tx_phase;
    /* room for one byte at least: at position 0 too, tx is bytes */
    q->tx = k->tx_bytes ? tx_grow(NULL, 0, q->ntx + 1) : NULL;
    return q;
}

/* Queues len bytes. Only the pattern (data NULL) onto a queue holding only
 * the pattern is kept as a count, offered to the stack as one
 * (net_tx_offer). */
void net_tx_queue(net_sock *k, const char *data, size_t len)
{
    net_txq *q = k->txq ? k->txq : (k->txq = tx_unpark(k));
    if (!data && !q->tx) {
        q->ntx += len;
        return;
    }
    bool was_pattern = !q->tx;
    q->tx = tx_grow(q->tx, q->ntx, q->ntx + len);
    if (was_pattern) /* the queued pattern becomes bytes first */
        for (size_t i = q->offtx; i < q->ntx; i++)
            q->tx[i] = net_pattern_byte(i);
    for (size_t i = 0; i < len; i++)
        q->tx[q->ntx + i] = data ? data[i] : net_pattern_byte(q->ntx + i);
    q->ntx += len;
}

/* k's queue and its bytes, if any, gone. */
static void tx_free(net_sock *k)
{
    if (k->txq) {
        free(k->txq->tx);
        free(k->txq);
        k->txq = NULL;
    }
}

void net_tx_park(net_sock *k)
{
    net_txq *q = k->txq;
    if (!q || q->offtx < q->ntx)
        return;
    k->tx_phase = (uint8_t)(q->ntx % 26);
    k->tx_bytes = q->tx != NULL;
    k->tx_moved |= q->ntx > 0;
    tx_free(k);
}

void net_tx_reset(net_sock *k)
{
    tx_free(k);
    k->tx_phase = 0;
    k->tx_bytes = k->tx_moved = false;
}

/* Whether queuing len bytes of data (NULL: the pattern) would turn k's
 * queue into bytes while it has none: net_tx_queue grows tx to the
 * queue's position plus len, which allocates nothing at position 0. */
static bool tx_becomes_bytes(const net_sock *k, const char *data, size_t len)
{
    return data && (len > 0 || k->tx_moved);
}

/* len bytes of data (NULL: the pattern) the stack took whole from the
 * caller: the queue's position moves on as if they had passed through it,
 * and none is made for them. */
static void tx_taken_whole(net_sock *k, const char *data, size_t len)
{
    if (k->txq) { /* an empty queue still there: through it */
        net_tx_queue(k, data, len);
        k->txq->offtx += len;
        net_tx_park(k);
        return;
    }
    k->tx_bytes |= tx_becomes_bytes(k, data, len);
    k->tx_phase = (uint8_t)((k->tx_phase + len) % 26);
    k->tx_moved |= len > 0;
}

/* net_send with nothing queued: the bytes go to the stack from the
 * caller's buffer (the pattern from the queue's phase), and a queue is made
 * only for what the stack does not take, so a send taken whole allocates
 * nothing. The stack sees the same calls with the same bytes, and the
 * record ends where the queue would have left it. */
static int send_direct(net *n, net_sock *k, net_host *h, tcp_stack *st, const char *data,
                       size_t len)
{
    net_stack_enter(n);
    long took = net_tx_send(k, st, data, len);
    net_stack_leave(n, h);
    if (took < 0 && took != TCP_EAGAIN) {
        k->tx_bytes |= tx_becomes_bytes(k, data, len); /* as a queue would have kept */
        return (int)took;
    }
    size_t taken = took > 0 ? (size_t)took : 0;
    if (taken < len) {
        net_tx_queue(k, data, len);
        k->txq->offtx += taken;
    } else {
        tx_taken_whole(k, data, len);
    }
    net_sock_service(n, k);
    net_tx_park(k);
    return 0;
}

int net_send(net *n, uint32_t sock, const char *data, size_t len)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return net_kern_send(n, sock, data, len);
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    /* Errors (not connected, EPIPE) surface now, not later. */
    net_host *h = net_host_at(n, k->host);
    if (!k->txq && (data || !k->tx_bytes))
        return send_direct(n, k, h, st, data, len);
    net_tx_queue(k, data, len);
    net_stack_enter(n);
    long took = net_tx_offer(k, st);
    net_stack_leave(n, h);
    if (took < 0 && took != TCP_EAGAIN) {
        k->txq->ntx -= len;
        net_tx_park(k);
        return (int)took;
    }
    if (took > 0)
        k->txq->offtx += (size_t)took;
    net_sock_service(n, k);
    net_tx_park(k);
    return 0;
}

long net_send_now(net *n, uint32_t sock, const char *data, size_t len)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return TCP_EINVAL;
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    if (net_tx_waiting(k))
        return TCP_EAGAIN;
    net_stack_enter(n);
    long took = tcp_send(st, k->id, data, len);
    net_stack_leave(n, net_host_at(n, k->host));
    if (took > 0)
        tx_taken_whole(k, data, (size_t)took);
    return took == 0 && len ? TCP_EAGAIN : took;
}

int net_shutdown_read(net *n, uint32_t sock)
{
    net_sock *k = net_sock_mut(n, sock);
    int rc;
    if (n->kern && net_kern_host(n, k->host)) {
        rc = net_kern_shutdown_read(n, sock);
    } else {
        tcp_stack *st;
        rc = sock_ready(n, k, &st);
        if (rc < 0)
            return rc;
        net_stack_enter(n);
        rc = tcp_shutdown_read(st, k->id);
        net_stack_leave(n, net_host_at(n, k->host));
    }
    if (rc >= 0)
        net_sock_mut(n, sock)->rd_shut = true;
    return rc;
}

int net_sock_info(net *n, uint32_t sock, tcp_sockinfo *out)
{
    const net_sock *k = net_sock_at(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return k->released ? TCP_EBADF : net_kern_sock_info(n, sock, out);
    tcp_stack *st = net_host_at(n, k->host)->stack;
    if (!st || !k->alive || k->released)
        return TCP_EBADF;
    return tcp_sock_info(st, k->id, out);
}

int net_sock_tcb(const net *n, uint32_t sock, tcp_tcb *out)
{
    const net_sock *k = net_sock_at(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return TCP_EINVAL;
    const tcp_stack *st = net_host_at(n, k->host)->stack;
    if (!st || !k->alive || k->released)
        return TCP_EBADF;
    return tcp_sock_tcb(st, k->id, out) == 0 ? 0 : TCP_EBADF;
}

long net_recv(net *n, uint32_t sock, char *buf, size_t max)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return net_kern_recv(n, sock, buf, max);
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    net_stack_enter(n);
    long got = tcp_recv(st, k->id, buf, max);
    net_stack_leave(n, net_host_at(n, k->host));
    if (got > 0)
        net_rx_append(n, k, buf, (size_t)got);
    return got;
}

int net_shutdown(net *n, uint32_t sock)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return net_kern_shutdown(n, sock);
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    if (net_tx_waiting(k)) {
        k->shutdown_pending = true;
        return 0;
    }
    net_stack_enter(n);
    rc = tcp_shutdown(st, k->id);
    net_stack_leave(n, net_host_at(n, k->host));
    return rc;
}

int net_close(net *n, uint32_t sock)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return net_kern_close(n, sock, false);
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc == TCP_EBADF)
        return release_dead(k);
    if (rc < 0)
        return rc;
    k->released = true;
    if (net_tx_waiting(k)) {
        k->close_pending = true;
        return 0;
    }
    net_stack_enter(n);
    rc = tcp_close(st, k->id);
    net_stack_leave(n, net_host_at(n, k->host));
    return rc;
}

int net_abort(net *n, uint32_t sock)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return net_kern_close(n, sock, true);
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc == TCP_EBADF)
        return release_dead(k);
    if (rc < 0)
        return rc;
    k->released = true;
    k->close_pending = k->shutdown_pending = false;
    net_tx_reset(k);
    net_stack_enter(n);
    rc = tcp_abort(st, k->id);
    net_stack_leave(n, net_host_at(n, k->host));
    return rc;
}

int net_accept(net *n, uint32_t listener, uint32_t *out)
{
    net_sock *k = net_sock_mut(n, listener);
    if (n->kern && net_kern_host(n, k->host))
        return net_kern_accept(n, listener, out);
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    net_host *h = net_host_at(n, k->host);
    tcp_sock_id child;
    net_stack_enter(n);
    rc = tcp_accept(st, k->id, &child);
    net_stack_leave(n, h);
    if (rc < 0)
        return rc;
    uint32_t idx = net_host_sock(h, child);
    if (idx == NET_NONE) {
        idx =
            net_sock_record(n, h->index, child, net_host_sock(h, k->id), tcp_sock_state(st, child));
        net_sock *c = net_sock_mut(n, idx);
        net_trace_append(n, c, sim_world_now(n->world), c->state, TCP_CAUSE_USER, "accept()");
    }
    net_sock *c = net_sock_mut(n, idx);
    c->accepted = true;
    c->autoread = k->autoread; /* the listener's, from its first reader on */
    net_sock_service(n, c);    /* data that arrived before accept() */
    *out = idx;
    return 0;
}

int net_setopt(net *n, uint32_t sock, const net_opt *opts, uint32_t nopts, uint32_t *failed_opt)
{
    net_sock *k = net_sock_mut(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return net_kern_setopt(n, sock, opts, nopts, failed_opt);
    tcp_stack *st;
    *failed_opt = NET_NONE;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    net_stack_enter(n);
    rc = apply_opts(st, k->id, opts, nopts, failed_opt);
    net_stack_leave(n, net_host_at(n, k->host));
    return rc;
}

int net_sock_take_error(net *n, uint32_t sock, int *err)
{
    net_sock *k = net_sock_mut(n, sock);
    *err = 0;
    if (n->kern && net_kern_host(n, k->host))
        return TCP_EINVAL;
    tcp_stack *st;
    int rc = sock_ready(n, k, &st);
    if (rc < 0)
        return rc;
    net_stack_enter(n);
    rc = tcp_sock_take_error(st, k->id);
    net_stack_leave(n, net_host_at(n, k->host));
    if (rc == TCP_EBADF)
        return rc;
    *err = rc;
    return 0;
}

int net_getopt(net *n, uint32_t sock, tcp_opt opt, uint64_t *out)
{
    const net_sock *k = net_sock_at(n, sock);
    if (n->kern && net_kern_host(n, k->host))
        return TCP_EINVAL; /* the kernel's options are not read back */
    tcp_stack *st = net_host_at(n, k->host)->stack;
    if (!st || !k->alive || k->released)
        return TCP_EBADF;
    return tcp_getopt(st, k->id, opt, out);
}

void net_set_autoread(net *n, uint32_t sock, bool on)
{
    net_sock_mut(n, sock)->autoread = on;
}

size_t net_readable(const net *n, uint32_t sock)
{
    const net_sock *k = net_sock_mut(n, sock);
    const net_host *h = net_host_at(n, k->host);
    return h->stack && k->alive ? tcp_readable(h->stack, k->id) : 0;
}

const tcp_stats *net_sock_stats(const net *n, uint32_t sock)
{
    static const tcp_stats none;
    const net_sock *k = net_sock_mut(n, sock);
    const net_host *h = net_host_at(n, k->host);
    const tcp_stats *live = h->stack && k->alive ? tcp_sock_stats(h->stack, k->id) : NULL;
    if (live)
        return live;
    return k->kept_stats ? k->kept_stats : &none;
}

void net_sock_ports(net *n, uint32_t sock)
{
    net_sock *k = net_sock_mut(n, sock);
    const net_host *h = net_host_at(n, k->host);
    if (k->lport == 0 && h->stack && k->alive)
        tcp_sock_endpoints(h->stack, k->id, &k->lport, &k->raddr, &k->rport);
}
