/*
 * tcp_user — the socket calls: RFC 9293 §3.10.1 OPEN (listen, connect),
 * §3.10.2 SEND, §3.10.3 RECEIVE, §3.10.4 CLOSE (shutdown, close), §3.10.5
 * ABORT, §3.10.6 STATUS (state, stats, error, endpoints), and options.
 *
 * Every call on a socket reports TCP_EV_USER, except send/recv/accept that
 * return TCP_EAGAIN (polling is not an event). A call that changes the state
 * reports the transition with cause USER after its TCP_EV_USER.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_conn.h"

#define EPHEMERAL_LO 49152u
#define EPHEMERAL_N  16384u

void tcp_conn_init_opts(tcp_conn *c, const tcp_profile *p)
{
    /* Zero durations would arm a timer at "now" forever: at least 1 ns. */
    c->sndbuf = p->sndbuf ? p->sndbuf : 1;
    c->rcvbuf = p->rcvbuf ? p->rcvbuf : 1;
    c->mss = p->mss ? p->mss : TCP_MSS_DEFAULT;
    c->snd_mss = c->rcv_mss = TCP_MSS_DEFAULT;
    c->rto_ns = p->rto_initial_ns ? p->rto_initial_ns : 1;
}

/* The profile's values of tcp_conn_opts (a duration at least 1 ns, as
 * tcp_conn_init_opts). */
static tcp_conn_opts profile_opts(const tcp_profile *p)
{
    return (tcp_conn_opts){
        .ka_idle_ns = p->keepalive_idle_ns ? p->keepalive_idle_ns : 1,
        .ka_intvl_ns = p->keepalive_intvl_ns ? p->keepalive_intvl_ns : 1,
        .ka_cnt = (uint8_t)(p->keepalive_probes > UINT8_MAX ? UINT8_MAX : p->keepalive_probes),
        .msl_ns = p->msl_ns,
    };
}

uint64_t tcp_opt_ka_idle_ns(const tcp_conn *c)
{
    return c->opts ? c->opts->ka_idle_ns : profile_opts(c->stack->profile).ka_idle_ns;
}

uint64_t tcp_opt_ka_intvl_ns(const tcp_conn *c)
{
    return c->opts ? c->opts->ka_intvl_ns : profile_opts(c->stack->profile).ka_intvl_ns;
}

uint32_t tcp_opt_ka_cnt(const tcp_conn *c)
{
    return c->opts ? c->opts->ka_cnt : profile_opts(c->stack->profile).ka_cnt;
}

uint64_t tcp_opt_user_timeout_ns(const tcp_conn *c)
{
    return c->opts ? c->opts->user_timeout_ns : 0;
}

uint64_t tcp_opt_msl_ns(const tcp_conn *c)
{
    return c->msl_set ? c->opts->msl_ns : c->stack->profile->msl_ns;
}

/* c's option record, allocated at the profile's values on first use;
 * NULL when memory runs out. */
static tcp_conn_opts *opts_for_write(tcp_conn *c)
{
    if (!c->opts && (c->opts = malloc(sizeof *c->opts)))
        *c->opts = profile_opts(c->stack->profile);
    return c->opts;
}

int tcp_conn_inherit_opts(tcp_conn *child, const tcp_conn_opts *lo)
{
    if (!lo)
        return 0;
    tcp_conn_opts *o = opts_for_write(child);
    if (!o)
        return TCP_ENOMEM;
    /* Linux's child is a copy of its listener: inet_csk_clone_lock keeps
     * icsk_user_timeout and the keepalive times, tcp_create_openreq_child
     * resets neither. FreeBSD's syncache_socket copies t_keepidle,
     * t_keepintvl and t_keepcnt (it has no user timeout). TCP_OPT_ISN is
     * the listener's next SYN,ACK's, not its children's. */
    o->ka_idle_ns = lo->ka_idle_ns;
    o->ka_intvl_ns = lo->ka_intvl_ns;
    o->ka_cnt = lo->ka_cnt;
    o->user_timeout_ns = lo->user_timeout_ns;
    o->msl_ns = lo->msl_ns;
    return 0;
}

/* RFC 9293 §3.4.1 MUST-8 with RFC 6528 §3: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), M a timer ticking every 4 µs, F a keyed
 * hash (tcp_stack_isn_hash). A reconnect on the same 4-tuple therefore gets
 * a larger ISN than the one before, whatever the seed. */
uint32_t tcp_conn_isn_hash(const tcp_conn *c)
{
    tcp_stack *s = c->stack;
    uint32_t m = (uint32_t)(s->now / 4000u);
    return m + tcp_stack_isn_hash(s, c->lport, c->raddr, c->rport);
}

void tcp_conn_init_seq(tcp_conn *c, uint32_t iss)
{
    c->iss = iss;
    c->snd_una = c->snd_nxt = c->snd_max = iss;
    c->recover = iss; /* RFC 6582 §3.2 step 1 */
    c->snd_buf_seq = iss + 1;
}

/* The socket the user holds with this id, a listener record rebuilt in f
 * (tcp_frame_close puts it back); NULL (f closed) if there is none. */
static tcp_conn *held(tcp_stack *s, tcp_sock_id id, tcp_frame *f)
{
    tcp_conn *c = tcp_stack_open(s, id, f);
    if (!c || !c->user_held) {
        tcp_frame_close(f);
        return NULL;
    }
    s->now = s->env->now_ns(s->ctx);
    return c;
}

/* The entry (connection or listener record) of the socket the user holds
 * with this id; NULL if there is none. */
static tcp_sk *held_sk(tcp_stack *s, tcp_sock_id id)
{
    tcp_sk *e = tcp_stack_sk(s, id);
    if (!e || !(e->ls ? ((const tcp_ls *)e)->user_held : ((const tcp_conn *)e)->user_held))
        return NULL;
    s->now = s->env->now_ns(s->ctx);
    return e;
}

/* Whether entry e is a listener in LISTEN (a record, or a full connection
 * its record could not be allocated for). */
static bool sk_listening(const tcp_sk *e)
{
    return (e->ls ? ((const tcp_ls *)e)->state : ((const tcp_conn *)e)->state) == TCP_LISTEN;
}

/* Runs fn on the socket the user holds with this id; TCP_EBADF if none. */
static int call_held(tcp_stack *s, tcp_sock_id id, int (*fn)(tcp_stack *, tcp_conn *))
{
    tcp_frame f;
    tcp_conn *c = held(s, id, &f);
    int rc = c ? fn(s, c) : TCP_EBADF;
    tcp_frame_close(&f);
    return rc;
}

static void user_ev(tcp_conn *c, tcp_user_call call, const char *note)
{
    tcp_ev(c, TCP_EV_USER, (int)call, NULL, note);
}

/* An ephemeral port of the profile's range that no connection uses,
 * taken for c (RFC 6056 §3.3.1). */
static int take_ephemeral(tcp_conn *c)
{
    uint16_t port;
    int rc = tcp_stack_port_pick(c->stack, &port);
    return rc ? rc : tcp_stack_port_take(c, port);
}

int tcp_socket(tcp_stack *s, tcp_sock_id *out)
{
    if (!s || !out)
        return TCP_EINVAL;
    s->now = s->env->now_ns(s->ctx);
    if (s->next_id == 0)
        return TCP_EMFILE; /* every id given out (tcp.h rule 2; tcp_conn_new) */
    tcp_conn *c = tcp_conn_new(s);
    if (!c)
        return TCP_ENOMEM;
    c->user_held = true;
    *out = c->id;
    return TCP_OK;
}

static int bind_held(tcp_stack *s, tcp_conn *c, uint16_t port)
{
    if (c->state != TCP_CLOSED || c->ever_used || c->lport)
        return TCP_EINVAL;
    /* An explicit port conflicts with a listener or another bound, unused
     * socket only; connected sockets own just their 4-tuple. */
    if (port && (tcp_stack_listening(s, port) || tcp_stack_port_idle(s, port)))
        return TCP_EADDRINUSE;
    int rc = port ? tcp_stack_port_take(c, port) : take_ephemeral(c);
    if (rc == TCP_OK)
        tcp_stack_port_set_idle(c, true);
    return rc;
}

int tcp_bind(tcp_stack *s, tcp_sock_id id, uint16_t port)
{
    tcp_frame f;
    tcp_conn *c = held(s, id, &f);
    int rc = c ? bind_held(s, c, port) : TCP_EBADF;
    tcp_frame_close(&f);
    return rc;
}

static int listen_held(tcp_stack *s, tcp_conn *c, uint32_t backlog)
{
    user_ev(c, TCP_CALL_LISTEN, "listen()");
    if (c->state != TCP_CLOSED || c->ever_used)
        return TCP_EINVAL;
    int rc = c->lport ? TCP_OK : take_ephemeral(c);
    if (rc)
        return rc;
    if (tcp_stack_listening(s, c->lport))
        return TCP_EADDRINUSE;
    assert(!c->passive); /* its word is q_next (tcp_conn_lq) */
    if (!c->lq && !(c->lq = calloc(1, sizeof *c->lq)))
        return TCP_ENOMEM;
    if (tcp_stack_listen_add(c))
        return TCP_ENOMEM;
    c->lq->backlog = backlog;
    c->ever_used = true;
    tcp_stack_port_set_idle(c, false);
    tcp_set_state(c, TCP_LISTEN, TCP_CAUSE_USER, NULL, "listen()");
    return TCP_OK;
}

/* RFC 9293 §3.10.1 OPEN in LISTEN, passive again: Linux inet_listen and
 * FreeBSD solisten take the new backlog, on the listener's record. */
static void relisten(tcp_stack *s, tcp_sk *e, uint32_t backlog)
{
    tcp_ls tmp;
    tcp_ls *l = tcp_stack_ls_take(e, &tmp);
    tcp_ev_ls(s, l, TCP_EV_USER, TCP_CALL_LISTEN, NULL, "listen()");
    l->lq->backlog = backlog;
    tcp_stack_ls_put(e, l);
}

int tcp_listen(tcp_stack *s, tcp_sock_id id, uint32_t backlog)
{
    tcp_sk *e = held_sk(s, id);
    if (e && sk_listening(e)) {
        relisten(s, e, backlog);
        return TCP_OK;
    }
    tcp_frame f;
    tcp_conn *c = held(s, id, &f);
    int rc = c ? listen_held(s, c, backlog) : TCP_EBADF;
    if (rc == TCP_OK)
        tcp_stack_ls_shrink(c); /* a new listener: a record from now on */
    tcp_frame_close(&f);
    return rc;
}

static int connect_held(tcp_stack *s, tcp_conn *c, uint32_t raddr, uint16_t rport)
{
    if (raddr == 0 || rport == 0)
        return TCP_EINVAL;
    /* §3.10.1: OPEN in LISTEN "change the connection from passive to
     * active" — only while no connection is pending on it. Linux and
     * FreeBSD refuse (profile listen_connect). */
    if (c->state == TCP_LISTEN && s->profile->listen_connect == TCP_LISTEN_CONNECT_EISCONN)
        return TCP_EISCONN;
    if (c->state == TCP_LISTEN && s->profile->listen_connect == TCP_LISTEN_CONNECT_EOPNOTSUPP)
        return TCP_EOPNOTSUPP;
    bool from_listen = c->state == TCP_LISTEN && !c->lq->syn_q && !c->lq->acc_head;
    if (!from_listen && c->state != TCP_CLOSED)
        return TCP_EISCONN;
    if (!from_listen && c->ever_used)
        return TCP_EINVAL;
    user_ev(c, TCP_CALL_CONNECT, "connect()");
    int rc = c->lport ? TCP_OK : take_ephemeral(c);
    if (rc)
        return rc;
    if (tcp_stack_lookup(s, c->lport, raddr, rport))
        return TCP_EADDRINUSE;
    /* A listener record becomes a connection again, in a pool slot. */
    if (from_listen && !(c = tcp_stack_unframe(c)))
        return TCP_ENOMEM;
    if (from_listen)
        tcp_stack_listen_remove(c); /* before its key changes: (lport, 0, 0) */
    c->raddr = raddr;
    c->rport = rport;
    if (tcp_stack_hash(c)) {
        c->raddr = 0;
        c->rport = 0;
        if (from_listen)
            (void)tcp_stack_listen_add(c);
        return TCP_ENOMEM;
    }
    c->ever_used = true;
    tcp_stack_port_set_idle(c, false);
    /* TCP_OPT_ISN once, else RFC 6528. */
    uint32_t iss = c->isn_set ? c->opts->isn : tcp_conn_isn_hash(c);
    c->isn_set = false;
    tcp_conn_init_seq(c, iss);
    tcp_set_state(c, TCP_SYN_SENT, TCP_CAUSE_USER, NULL, "connect()");
    tcp_out_syn(c, false);
    tcp_stack_settle(c);
    return TCP_OK;
}

int tcp_connect(tcp_stack *s, tcp_sock_id id, uint32_t raddr, uint16_t rport)
{
    tcp_frame f;
    tcp_conn *c = held(s, id, &f);
    int rc = c ? connect_held(s, c, raddr, rport) : TCP_EBADF;
    tcp_frame_close(&f);
    return rc;
}

/* Hands over the first connection of l's accept queue (FIFO). */
static int accept_ls(tcp_ls *l, tcp_sock_id *out)
{
    if (l->state != TCP_LISTEN || !out)
        return TCP_EINVAL;
    if (l->acc_abort) { /* FreeBSD solisten_dequeue: so_error, once */
        l->acc_abort = false;
        return TCP_ECONNABORTED;
    }
    tcp_lq *q = l->lq;
    tcp_conn *ch = q->acc_head;
    if (!ch)
        return TCP_EAGAIN;
    q->acc_head = ch->q_next;
    if (!q->acc_head)
        q->acc_tail = NULL;
    q->acc_n--;
    ch->q_next = NULL;
    ch->in_accept_q = false;
    ch->user_held = true;
    *out = ch->id;
    user_ev(ch, TCP_CALL_ACCEPT, "accept()");
    return TCP_OK;
}

/* On the listener's record: a child is handed over without rebuilding
 * the listener (tcp_stack_ls_take). */
int tcp_accept(tcp_stack *s, tcp_sock_id listener, tcp_sock_id *out)
{
    tcp_sk *e = held_sk(s, listener);
    if (!e)
        return TCP_EBADF;
    if (!e->ls && ((const tcp_conn *)e)->state != TCP_LISTEN)
        return TCP_EINVAL; /* a connection, or a listener shut down */
    tcp_ls tmp;
    tcp_ls *l = tcp_stack_ls_take(e, &tmp);
    int rc = accept_ls(l, out);
    tcp_stack_ls_put(e, l);
    return rc;
}

/* What SEND answers on a socket not connected, in CLOSED without an
 * error to report or in LISTEN: RFC 9293 §3.10.2 CLOSED "error:
 * connection does not exist", LISTEN without a foreign socket "error:
 * foreign socket unspecified" (ENOTCONN); FreeBSD sosend_generic: not
 * SS_ISCONNECTED and PR_CONNREQUIRED, ENOTCONN. With profile
 * send_unconnected_epipe EPIPE: Linux tcp_sendmsg_locked calls
 * sk_stream_wait_connect in any state but ESTABLISHED and CLOSE_WAIT,
 * which returns -EPIPE in any state but SYN_SENT and SYN_RECV once
 * sock_error() found none, and sk_stream_error keeps it. */
static int send_unconnected(const tcp_stack *s)
{
    return s->profile->send_unconnected_epipe ? TCP_EPIPE : TCP_ENOTCONN;
}

/* SEND on a listener, on its record, after a pending error: ENOTCONN or
 * EPIPE (send_unconnected), also for a listener a shutdown stopped
 * (CLOSED). */
static long send_ls(tcp_stack *s, tcp_ls *l)
{
    int rc = l->err ? l->err : send_unconnected(s);
    tcp_ev_ls(s, l, TCP_EV_USER, TCP_CALL_SEND, NULL, tcp_err_name(rc));
    return rc;
}

/* The error a send or receive reports now: the one that ended the
 * connection, unless a call reported it already and profile err_once
 * cleared it then (Linux sock_error: xchg(&sk->sk_err, 0); FreeBSD
 * soreceive_generic, sosend_generic: so_error = 0). tcp_sock_error (STATUS)
 * keeps naming it. */
static int take_err(tcp_conn *c)
{
    if (!c->err || (c->err_told && c->stack->profile->err_once))
        return 0;
    c->err_told = true;
    return c->err;
}

/* Whether the TCB was deleted (profile closed_deletes_tcb): an RST or a
 * timeout ended the connection, or it ended normally (LAST-ACK, TIME-WAIT:
 * tcp_conn_delete). Once its error is reported, SEND, RECEIVE and CLOSE
 * meet RFC 9293 §3.10.2, §3.10.3 and §3.10.4 in CLOSED, "error:
 * connection does not exist" (TCP_ENOTCONN). */
static bool tcb_deleted(const tcp_conn *c)
{
    return c->deleted && c->stack->profile->closed_deletes_tcb;
}

/* The send side is shut: by the user (shutdown, close), or because the
 * connection ended with an error (Linux tcp_done sets SEND_SHUTDOWN,
 * FreeBSD tcp_close → soisdisconnected SBS_CANTSENDMORE). */
static bool send_shut(const tcp_conn *c)
{
    return c->fin_queued || c->wr_shut || (c->state == TCP_CLOSED && c->err);
}

/* Why SEND is refused, TCP_OK if it is not. RFC 9293 §3.10.2: the
 * connection's error first ("reset" responses), then "connection closing"
 * (EPIPE), "connection does not exist" (ENOTCONN; a socket never
 * connected, or a listener: send_unconnected); with err_once the error
 * once only (Linux sk_stream_error: sock_error, else EPIPE). With profile
 * send_epipe_first a shut send side answers EPIPE before the error, which
 * stays for a receive (FreeBSD sosend_generic tests SBS_CANTSENDMORE
 * before so_error). */
static int send_refused(tcp_conn *c)
{
    if (c->stack->profile->send_epipe_first && send_shut(c))
        return TCP_EPIPE;
    int err = take_err(c);
    if (err)
        return err;
    if (tcb_deleted(c))
        return TCP_ENOTCONN;
    if (send_shut(c))
        return TCP_EPIPE;
    if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
        return send_unconnected(c->stack);
    return TCP_OK;
}

/* buf, or (buf NULL) pattern p from phase: tcp_sndq_push. */
static long send_held(tcp_conn *c, const void *buf, const tcp_pattern *p, uint32_t phase,
                      size_t len)
{
    long rc = send_refused(c);
    if (rc == TCP_OK)
        rc = !buf && !p && len ? TCP_EINVAL : tcp_sndq_push(c, buf, p, phase, len);
    if (rc < 0) {
        user_ev(c, TCP_CALL_SEND, tcp_err_name((int)rc));
        return rc;
    }
    uint32_t want = len > TCP_BUF_MAX ? TCP_BUF_MAX : (uint32_t)len;
    uint32_t n = (uint32_t)rc;
    c->snd_nospace = n < want; /* the writer waits for room (tcp_sndbuf_grow) */
    if (want && n == 0)
        return TCP_EAGAIN;
    user_ev(c, TCP_CALL_SEND, "send()");
    tcp_output(c);
    tcp_stack_settle(c);
    return (long)n;
}

long tcp_send(tcp_stack *s, tcp_sock_id id, const void *buf, size_t len)
{
    tcp_sk *e = held_sk(s, id);
    if (!e)
        return TCP_EBADF;
    return e->ls ? send_ls(s, (tcp_ls *)e) : send_held((tcp_conn *)e, buf, NULL, 0, len);
}

long tcp_send_pattern(tcp_stack *s, tcp_sock_id id, const tcp_pattern *p, uint32_t phase,
                      size_t len)
{
    if (!p || !p->bytes || p->period == 0 || p->len < p->period)
        return TCP_EINVAL;
    tcp_sk *e = held_sk(s, id);
    if (!e)
        return TCP_EBADF;
    return e->ls ? send_ls(s, (tcp_ls *)e) : send_held((tcp_conn *)e, NULL, p, phase, len);
}

/* After the user read: tell the peer about a window that opened enough
 * (RFC 9293 §3.8.6.2.2; Linux's rule: the window at least doubled). The
 * update is a bare ACK (Linux tcp_cleanup_rbuf -> tcp_send_ack): a read
 * makes no new data sendable, so tcp_output would send nothing else. It
 * is not an ACK a segment scheduled, so unless one is owed besides it
 * spends no quick ACK (send_seg, tcp_dec_quickack_mode). None after the
 * peer's FIN: no more data can come. Nor, with profile shut_rd_no_update,
 * after shutdown(SHUT_RD): Linux tests RCV_SHUTDOWN, which both set ("do
 * not send window open ACK in states, where we will not receive more"),
 * and does not reach __tcp_select_window, so quickack mode is not squeezed
 * either. RFC 9293 has no SHUT_RD: the connection still receives. */
static void window_update(tcp_conn *c)
{
    if (!tcp_state_synchronized(c->state) || c->fin_rcvd)
        return;
    if (c->rd_shut && c->stack->profile->shut_rd_no_update)
        return;
    uint32_t cur = tcp_rcv_wnd(c);
    uint32_t space = tcp_rcv_space(c);
    uint32_t next = tcp_rcv_free(c, space);
    /* Linux tcp_cleanup_rbuf compares the window __tcp_select_window would
     * offer, at most rcv_ssthresh (profile grow_window). */
    if (c->stack->profile->grow_window && c->rcv_ssthresh && next > c->rcv_ssthresh)
        next = c->rcv_ssthresh;
    uint32_t threshold = space / 2 < c->rcv_mss ? space / 2 : c->rcv_mss;
    if (cur > space / 2)
        return;
    /* tcp_cleanup_rbuf asks __tcp_select_window for the new window only
     * while "2*rcv_window_now <= tp->window_clamp", and that ends quickack
     * mode while the free space is still under half (tcp_quickack_squeeze),
     * whether the update goes or not. */
    if (2u * cur <= tcp_rcv_clamp(c))
        tcp_quickack_squeeze(c);
    if (next >= 2 * cur && next - cur >= threshold)
        tcp_out_ack(c);
}

/* After the user read, Linux tcp_cleanup_rbuf (profile read_ack): an ACK
 * still owed goes now when more than one full segment is unacknowledged,
 * or when the read emptied the receive queue and the data was pushed
 * (tcp_input.c, read_ack_note; a first mark counts outside interactive
 * mode only): the sender may be waiting for it. */
static bool read_ack(tcp_conn *c)
{
    if (!c->stack->profile->read_ack || !tcp_state_synchronized(c->state) ||
        c->rcv_nxt == c->last_ack_sent)
        return false;
    bool pushed = c->pushed2 || (c->pushed && !c->pingpong);
    bool emptied = c->rcvq.len == 0 && c->ooo_n == 0;
    if (c->rcv_nxt - c->last_ack_sent <= c->rcv_mss && !(pushed && emptied))
        return false;
    c->ack_now = true;
    tcp_output(c);
    return true;
}

/* What a receive that finds no byte answers. A listener first: ENOTCONN
 * whatever the length (Linux tcp_recvmsg_locked tests sk_state ==
 * TCP_LISTEN before all else). Then err, the error the caller chose to
 * report now (recv_err), end of stream, a receive side shut by the user
 * (0, where it would wait), not connected. A zero length passes these
 * too: Linux reads "at least one byte" (sock_rcvlowat), FreeBSD soreceive
 * tests uio_resid == 0 after its error, end-of-stream and not-connected
 * tests, and RFC 9293 §3.10.3 answers RECEIVE in CLOSED "connection does
 * not exist", as it does (`gone`) once a reset deleted the TCB
 * (tcb_deleted), whatever the FIN received. Last, a connection with nothing to report: RFC 9293
 * §3.10.3 queues a RECEIVE only for "insufficient incoming segments", which 0 octets never are, and
 * FreeBSD returns 0 (uio_resid == 0): TCP_OK; with profile recv_zero_waits a zero length waits as
 * any other (Linux sk_wait_data; EAGAIN without a timeout): TCP_EAGAIN. */
static int recv_none(bool eof, size_t len, int err, bool gone, bool rd_shut, tcp_state st,
                     bool zero_waits)
{
    if (st == TCP_LISTEN)
        return TCP_ENOTCONN;
    if (err)
        return err;
    if (gone)
        return TCP_ENOTCONN;
    if (eof)
        return TCP_OK;
    if (rd_shut)
        return TCP_OK;
    if (st == TCP_CLOSED)
        return TCP_ENOTCONN;
    return len == 0 && !zero_waits ? TCP_OK : TCP_EAGAIN;
}

/* The event note of a receive that took no byte; `zero`: a zero-length
 * call that met no end of stream (bytes queued, or nothing to report). */
static const char *recv_note(int rc, bool zero)
{
    return rc ? tcp_err_name(rc) : zero ? "recv() of 0 bytes" : "recv() end of stream";
}

/* End of stream: the peer's FIN, or a connection that ended with an error
 * (Linux tcp_done sets RCV_SHUTDOWN, FreeBSD soisdisconnected
 * SBS_CANTRCVMORE), once that error is reported. */
static bool recv_eof(const tcp_conn *c)
{
    return c->fin_rcvd || (c->state == TCP_CLOSED && c->err);
}

/* The error a receive that finds no byte reports: RFC 9293 §3.10.3 and
 * Linux after end of stream (tcp_recvmsg_locked tests SOCK_DONE before
 * sk_err, so a FIN received keeps the error for a send); with profile
 * recv_err_first before it (FreeBSD soreceive_generic tests so_error
 * before SBS_CANTRCVMORE). A reset that deleted the TCB (tcb_deleted)
 * leaves no "connection closing" to answer first: RFC 9293 §3.10.7.4
 * CLOSE-WAIT, "any outstanding RECEIVEs and SEND should receive 'reset'
 * responses". */
static int recv_err(tcp_conn *c)
{
    bool fin_first = c->fin_rcvd && !c->stack->profile->recv_err_first && !tcb_deleted(c);
    return fin_first ? 0 : take_err(c);
}

static long recv_held(tcp_conn *c, void *buf, size_t len)
{
    if (!buf && len)
        return TCP_EINVAL;
    if (c->rcvq.len && len) {
        uint32_t n = c->rcvq.len < len ? c->rcvq.len : (uint32_t)len;
        tcp_ring_copy_out(&c->rcvq, 0, buf, n);
        tcp_ring_consume(&c->rcvq, n);
        user_ev(c, TCP_CALL_RECV, "recv()");
        tcp_rcv_space_adjust(c); /* tcp_recvmsg: before tcp_cleanup_rbuf */
        if (!read_ack(c))
            window_update(c);
        tcp_stack_settle(c);
        return (long)n;
    }
    /* A zero length with bytes queued takes none of them and returns 0,
     * before any error, as a read of N bytes takes them first (Linux
     * tcp_recvmsg_locked: found_ok_skb copies min(len, left) = 0; FreeBSD
     * soreceive_generic: dontblock). */
    int rc = len == 0 && c->rcvq.len
                 ? TCP_OK
                 : recv_none(recv_eof(c), len, recv_err(c), tcb_deleted(c), c->rd_shut, c->state,
                             c->stack->profile->recv_zero_waits);
    bool eof = c->rcvq.len == 0 && (recv_eof(c) || c->rd_shut);
    if (rc != TCP_EAGAIN)
        user_ev(c, TCP_CALL_RECV, recv_note(rc, len == 0 && !eof));
    return rc;
}

/* RECEIVE on a listener, on its record. RFC 9293 §3.10.3 in LISTEN
 * queues the call until ESTABLISHED, which a listener whose connections
 * are its children never reaches; Linux and FreeBSD answer ENOTCONN, for
 * a zero-length call too (recv_none). A listener that shutdown() closed
 * answers ENOTCONN as well: it holds no shut receive side
 * (shutdown_read_held). */
static long recv_ls(tcp_stack *s, tcp_ls *l, const void *buf, size_t len)
{
    if (!buf && len)
        return TCP_EINVAL;
    int rc = recv_none(false, len, l->err, false, l->rd_shut, (tcp_state)l->state, false);
    tcp_ev_ls(s, l, TCP_EV_USER, TCP_CALL_RECV, NULL, recv_note(rc, false));
    return rc;
}

long tcp_recv(tcp_stack *s, tcp_sock_id id, void *buf, size_t len)
{
    tcp_sk *e = held_sk(s, id);
    if (!e)
        return TCP_EBADF;
    return e->ls ? recv_ls(s, (tcp_ls *)e, buf, len) : recv_held((tcp_conn *)e, buf, len);
}

size_t tcp_readable(const tcp_stack *s, tcp_sock_id id)
{
    const tcp_conn *c = tcp_stack_find(s, id); /* a listener record holds no byte */
    return c && c->user_held ? c->rcvq.len : 0;
}

static void close_listener(tcp_conn *l, const char *note);

static bool rst_when_closing(const tcp_conn *c)
{
    switch (c->stack->profile->abort_rst_closing) {
    case TCP_ABORT_RST_ALWAYS:
        return true;
    case TCP_ABORT_RST_UNSENT:
        return tcp_seq_lt(c->snd_max, tcp_snd_data_end(c) + 1u);
    default:
        return false;
    }
}

/* §3.10.5 ABORT, also close() with linger 0. */
static void abort_conn(tcp_conn *c, const char *note)
{
    switch (c->state) {
    case TCP_LISTEN:
        close_listener(c, note);
        break;
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSE_WAIT:
        /* "Send a reset segment: <SEQ=SND.NXT><CTL=RST>" — before the
         * state changes, as Linux (tcp_send_active_reset, then
         * tcp_set_state) and FreeBSD (tcp_drop) do. */
        tcp_out_rst(c);
        tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_USER, NULL, note);
        break;
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        /* RFC 9293: "delete the TCB ... and return", no reset. Linux
         * tcp_disconnect resets when data is still unsent, FreeBSD
         * tcp_drop always does (profile abort_rst_closing). */
        if (rst_when_closing(c))
            tcp_out_rst(c);
        tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_USER, NULL, note);
        break;
    case TCP_CLOSED:
        break;
    default: /* SYN-SENT, TIME-WAIT */
        tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_USER, NULL, note);
        break;
    }
}

/* A closing listener takes its children with it: embryonic ones silently
 * (as Linux drops its request sockets), established ones with an RST. */
static void close_listener(tcp_conn *l, const char *note)
{
    while (l->lq->syn_q) {
        tcp_conn *ch = l->lq->syn_q;
        tcp_set_state(ch, TCP_CLOSED, TCP_CAUSE_USER, NULL, "listener closed");
        tcp_stack_settle(ch);
    }
    while (l->lq->acc_head) {
        tcp_conn *ch = l->lq->acc_head;
        abort_conn(ch, "listener closed");
        tcp_stack_settle(ch);
    }
    tcp_set_state(l, TCP_CLOSED, TCP_CAUSE_USER, NULL, note);
}

/* The FIN side of close and shutdown (§3.10.4). */
static void close_send_side(tcp_conn *c, const char *note)
{
    switch (c->state) {
    case TCP_LISTEN:
        close_listener(c, note);
        break;
    case TCP_SYN_SENT:
        /* RFC 9293 §3.10.4 SYN-SENT STATE: "Delete the TCB": a socket
         * shutdown() leaves with the user meets CLOSED as after any other
         * ending (profile closed_deletes_tcb: a later CLOSE answers
         * "connection does not exist"). The send side is shut all the
         * same: FreeBSD tcp_usr_shutdown calls socantsendmore before
         * tcp_usrclosed, so a later send answers EPIPE (send_epipe_first);
         * Linux inet_shutdown's tcp_disconnect leaves a CLOSE socket, whose
         * send sk_stream_wait_connect answers EPIPE too; under
         * closed_deletes_tcb the deleted TCB answers first (ENOTCONN). */
        c->wr_shut = true;
        tcp_conn_delete(c, TCP_CAUSE_USER, NULL, note);
        break;
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        c->fin_queued = true;
        tcp_set_state(c, TCP_FIN_WAIT_1, TCP_CAUSE_USER, NULL, note);
        tcp_output(c);
        break;
    case TCP_CLOSE_WAIT:
        c->fin_queued = true;
        tcp_set_state(c, TCP_LAST_ACK, TCP_CAUSE_USER, NULL, note);
        tcp_output(c);
        break;
    default: /* already closing */
        break;
    }
}

/* shutdown in CLOSED, a connection an error ended included: Linux
 * inet_shutdown "case TCP_CLOSE: err = -ENOTCONN", sk_err untouched;
 * FreeBSD soshutdown: ENOTCONN without SS_ISCONNECTED, SS_ISCONNECTING
 * or SS_ISDISCONNECTING (soisdisconnected clears them), so_error
 * untouched; RFC 9293 §3.10.4 CLOSE in CLOSED: "error: connection does
 * not exist" (the "reset" responses of §3.10.7.4 go to SEND and RECEIVE).
 * The error stays for the next send or receive. */
static int shutdown_held(tcp_stack *s, tcp_conn *c)
{
    user_ev(c, TCP_CALL_SHUTDOWN, "shutdown()");
    if (c->state == TCP_CLOSED)
        return TCP_ENOTCONN;
    /* A listener: RFC 9293 §3.10.4 CLOSE in LISTEN deletes the TCB; Linux
     * inet_shutdown ignores SHUT_WR there; FreeBSD soshutdown answers
     * ENOTCONN and keeps listening. */
    if (c->state == TCP_LISTEN && s->profile->listen_shut != TCP_LISTEN_SHUT_CLOSE)
        return s->profile->listen_shut == TCP_LISTEN_SHUT_BSD ? TCP_ENOTCONN : TCP_OK;
    close_send_side(c, "shutdown()");
    tcp_stack_settle(c);
    return TCP_OK;
}

int tcp_shutdown(tcp_stack *s, tcp_sock_id id)
{
    return call_held(s, id, shutdown_held);
}

static int shutdown_read_held(tcp_stack *s, tcp_conn *c)
{
    user_ev(c, TCP_CALL_SHUTDOWN, "shutdown(SHUT_RD)");
    /* Linux inet_shutdown: ENOTCONN unless connected or connecting;
     * a listener stops listening (tcp_disconnect). FreeBSD soshutdown
     * keeps it listening, sets so_error = ECONNABORTED for the next
     * accept and answers ENOTCONN (profile listen_shut). */
    if (c->state == TCP_CLOSED)
        return TCP_ENOTCONN; /* as shutdown_held */
    if (c->state == TCP_LISTEN && s->profile->listen_shut == TCP_LISTEN_SHUT_BSD) {
        c->acc_abort = true;
        return TCP_ENOTCONN;
    }
    /* A listener is closed, not shut: Linux tcp_disconnect clears
     * sk_shutdown, so a later recv finds a socket never connected
     * (ENOTCONN); RFC 9293 §3.10.4 CLOSE in LISTEN deletes the TCB. */
    if (c->state == TCP_LISTEN) {
        close_listener(c, "shutdown(SHUT_RD)");
    } else {
        c->rd_shut = true;
        if (s->profile->shut_rd_discard)
            tcp_ring_consume(&c->rcvq, c->rcvq.len); /* FreeBSD sorflush */
    }
    tcp_stack_settle(c);
    return TCP_OK;
}

int tcp_shutdown_read(tcp_stack *s, tcp_sock_id id)
{
    return call_held(s, id, shutdown_read_held);
}

/* CLOSE releases the id in every case (tcp.h rule 3). On a connection
 * whose TCB was deleted (tcb_deleted) RFC 9293 §3.10.4 CLOSED STATE
 * answers "error: connection does not exist": TCP_ENOTCONN, the id
 * released all the same. Linux inet_release → tcp_close on a TCP_CLOSE
 * socket and FreeBSD soclose (no sodisconnect once disconnected) answer
 * 0. */
static int close_held(tcp_stack *s, tcp_conn *c)
{
    int rc = tcb_deleted(c) ? TCP_ENOTCONN : TCP_OK;
    user_ev(c, TCP_CALL_CLOSE, rc ? tcp_err_name(rc) : "close()");
    c->user_held = false;
    c->released = true;
    bool sync = tcp_state_synchronized(c->state) && c->state != TCP_TIME_WAIT;
    bool unread = c->rcvq.len > 0;
    /* Linux tcp_close purges the receive queue (data_was_unread) before
     * it decides between the reset and the FIN: a reset with unread data
     * or linger 0 offers the window of an empty queue (profile
     * rst_window). ABORT keeps it until after the reset (tcp_disconnect,
     * tcp_abort), as does a timeout's give-up. */
    tcp_ring_consume(&c->rcvq, c->rcvq.len);
    if (c->linger_zero) {
        abort_conn(c, "close() with linger 0");
    } else if (sync && unread && s->profile->rst_on_close_with_unread) {
        /* RFC 9293 §3.6 (RFC 1122 §4.2.2.13): a full close with received
         * data pending SHOULD send RST "to show that data was lost". */
        tcp_out_rst(c);
        tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_USER, NULL, "close() with unread data");
    } else if (c->state == TCP_SYN_RECEIVED && !c->passive && s->profile->close_embryonic_silent) {
        /* FreeBSD tcp_disconnect: "if (tp->t_state < TCPS_ESTABLISHED)
         * tcp_close(tp)": a simultaneous open closed before ESTABLISHED
         * ends without a FIN. */
        tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_USER, NULL, "close()");
    } else {
        close_send_side(c, "close()");
        if (c->state == TCP_FIN_WAIT_2 && s->profile->fin_wait_2_timeout_ns &&
            tcp_timer_at(c, TCP_TIMER_FIN_WAIT_2) == TCP_NEVER)
            tcp_timer_set(c, TCP_TIMER_FIN_WAIT_2, tcp_after(c, s->profile->fin_wait_2_timeout_ns));
    }
    tcp_stack_settle(c);
    return rc;
}

int tcp_close(tcp_stack *s, tcp_sock_id id)
{
    return call_held(s, id, close_held);
}

static int abort_held(tcp_stack *s, tcp_conn *c)
{
    (void)s;
    user_ev(c, TCP_CALL_ABORT, "abort()");
    c->user_held = false;
    c->released = true;
    abort_conn(c, "abort()");
    tcp_stack_settle(c);
    return TCP_OK;
}

int tcp_abort(tcp_stack *s, tcp_sock_id id)
{
    return call_held(s, id, abort_held);
}

/* ---- Options and status (§3.10.6) ---------------------------------------- */

static bool before_open(const tcp_conn *c)
{
    return (c->state == TCP_CLOSED && !c->ever_used) || c->state == TCP_LISTEN;
}

static int set_buf(tcp_conn *c, tcp_opt opt, uint64_t v)
{
    if (v == 0 || v > TCP_BUF_MAX)
        return TCP_EINVAL;
    if (opt == TCP_OPT_SNDBUF) {
        if (c->sndq.data || c->sndq_freed)
            return TCP_EINVAL; /* the buffer exists: its size is fixed */
        c->sndbuf = (uint32_t)v;
        c->sndbuf_set = true;
    } else {
        if (!before_open(c))
            return TCP_EINVAL; /* the window was advertised from it */
        c->rcvbuf = (uint32_t)v;
        c->rcvbuf_set = true;
    }
    return TCP_OK;
}

/* A keepalive option changed: the timer starts over with the new values.
 * Not before ESTABLISHED, where keepalive never runs (RFC 1122 §4.2.3.6
 * probes an idle connection; tcp_timer_enter_state starts it at
 * ESTABLISHED) and the slot may hold the connection-establishment limit
 * (profile syn_timeout, FreeBSD's TT_KEEP). There FreeBSD's
 * tcp_default_ctloutput restarts TT_KEEP at the new idle time for
 * TCP_KEEPIDLE alone ("t_state > TCPS_LISTEN && t_state <= TCPS_CLOSING"),
 * and tcp_timer_keep drops the connection when it fires ("if (tp->t_state
 * < TCPS_ESTABLISHED) goto dropit"); SO_KEEPALIVE, TCP_KEEPINTVL and
 * TCP_KEEPCNT leave it running. A user-held SYN_RECEIVED is an active
 * open's (a passive child is accepted established). */
static void keepalive_restart(tcp_conn *c, tcp_opt opt)
{
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
        if (opt == TCP_OPT_KEEPIDLE_NS && c->stack->profile->syn_timeout_ns)
            tcp_timer_set(c, TCP_TIMER_KEEPALIVE, tcp_after(c, tcp_opt_ka_idle_ns(c)));
        return;
    }
    tcp_timer_stop(c, TCP_TIMER_KEEPALIVE);
    tcp_timer_arm_keepalive(c);
}

static int setopt_held(tcp_conn *c, tcp_opt opt, uint64_t v)
{
    switch (opt) {
    case TCP_OPT_LINGER_ZERO:
        c->linger_zero = v != 0;
        return TCP_OK;
    case TCP_OPT_KEEPALIVE:
        if (v > 1)
            return TCP_EINVAL;
        c->keepalive = v != 0;
        keepalive_restart(c, opt);
        break;
    case TCP_OPT_KEEPIDLE_NS:
    case TCP_OPT_KEEPINTVL_NS:
        if (v == 0 || v > UINT64_MAX / 4)
            return TCP_EINVAL;
        if (!opts_for_write(c))
            return TCP_ENOMEM;
        *(opt == TCP_OPT_KEEPIDLE_NS ? &c->opts->ka_idle_ns : &c->opts->ka_intvl_ns) = v;
        keepalive_restart(c, opt);
        break;
    case TCP_OPT_KEEPCNT:
        if (v == 0 || v > UINT8_MAX)
            return TCP_EINVAL;
        if (!opts_for_write(c))
            return TCP_ENOMEM;
        c->opts->ka_cnt = (uint8_t)v;
        return TCP_OK;
    case TCP_OPT_SNDBUF:
    case TCP_OPT_RCVBUF:
        return set_buf(c, opt, v);
    case TCP_OPT_MSS:
        if (v < 64 || v > 65495 || !before_open(c))
            return TCP_EINVAL;
        c->mss = (uint16_t)v;
        return TCP_OK;
    case TCP_OPT_MSL_NS:
        /* In TIME-WAIT the 2MSL timer runs at the length it started with
         * (FreeBSD tcp_twstart reads net.inet.tcp.msl once; a change
         * applies to later TIME-WAITs); a new MSL would leave it longer
         * than 2·MSL, which a restart (RFC 9293 §3.10.7.4) does not do. */
        if (v > UINT64_MAX / 4 || c->state == TCP_TIME_WAIT)
            return TCP_EINVAL;
        if (!opts_for_write(c))
            return TCP_ENOMEM;
        c->opts->msl_ns = v;
        c->msl_set = true;
        return TCP_OK;
    case TCP_OPT_ISN:
        if (v > UINT32_MAX)
            return TCP_EINVAL;
        if (!opts_for_write(c))
            return TCP_ENOMEM;
        c->opts->isn = (uint32_t)v;
        c->isn_set = true;
        return TCP_OK;
    case TCP_OPT_NODELAY:
        c->nodelay = v != 0;
        if (tcp_state_synchronized(c->state))
            tcp_output(c);
        break;
    case TCP_OPT_USER_TIMEOUT_NS:
        if (v > UINT64_MAX / 4)
            return TCP_EINVAL;
        if (!opts_for_write(c))
            return TCP_ENOMEM;
        c->opts->user_timeout_ns = v; /* read at the next RTO, persist or keepalive expiry */
        return TCP_OK;
    case TCP_OPT_CORK:
        /* Linux tcp_sock_set_cork: uncorking pushes what is held, as
         * Nagle (TCP_NODELAY) allows. */
        c->cork = v != 0;
        if (tcp_state_synchronized(c->state))
            tcp_output(c);
        break;
    default:
        return TCP_EINVAL;
    }
    tcp_stack_settle(c);
    return TCP_OK;
}

int tcp_setopt(tcp_stack *s, tcp_sock_id id, tcp_opt opt, uint64_t v)
{
    tcp_frame f;
    tcp_conn *c = held(s, id, &f);
    int rc = c ? setopt_held(c, opt, v) : TCP_EBADF;
    tcp_frame_close(&f);
    return rc;
}

int tcp_getopt(const tcp_stack *s, tcp_sock_id id, tcp_opt opt, uint64_t *v)
{
    tcp_frame f;
    const tcp_conn *c = tcp_stack_view(s, id, &f);
    if (!c || !c->user_held)
        return TCP_EBADF;
    if (!v)
        return TCP_EINVAL;
    switch (opt) {
    case TCP_OPT_LINGER_ZERO:
        *v = c->linger_zero;
        break;
    case TCP_OPT_KEEPALIVE:
        *v = c->keepalive;
        break;
    case TCP_OPT_KEEPIDLE_NS:
        *v = tcp_opt_ka_idle_ns(c);
        break;
    case TCP_OPT_KEEPINTVL_NS:
        *v = tcp_opt_ka_intvl_ns(c);
        break;
    case TCP_OPT_KEEPCNT:
        *v = tcp_opt_ka_cnt(c);
        break;
    case TCP_OPT_SNDBUF:
        *v = c->sndbuf;
        break;
    case TCP_OPT_RCVBUF:
        *v = c->rcvbuf;
        break;
    case TCP_OPT_MSS:
        *v = c->mss;
        break;
    case TCP_OPT_MSL_NS:
        *v = tcp_opt_msl_ns(c);
        break;
    case TCP_OPT_ISN:
        *v = c->isn_set ? c->opts->isn : c->iss;
        break;
    case TCP_OPT_NODELAY:
        *v = c->nodelay;
        break;
    case TCP_OPT_USER_TIMEOUT_NS:
        *v = tcp_opt_user_timeout_ns(c);
        break;
    case TCP_OPT_CORK:
        *v = c->cork;
        break;
    default:
        return TCP_EINVAL;
    }
    return TCP_OK;
}

#define TCP_CA_OPEN     0u
#define TCP_CA_DISORDER 1u
#define TCP_CA_RECOVERY 3u
#define TCP_CA_LOSS     4u

/* Linux's congestion-avoidance state (tcp_set_ca_state): Recovery during
 * RFC 6582 fast recovery, Loss after an RTO until SND.UNA passes the
 * recovery point (tcp_enter_loss, high_seq), Disorder on duplicate ACKs. */
static uint8_t ca_state(const tcp_conn *c)
{
    if (c->in_recovery)
        return TCP_CA_RECOVERY;
    if (tcp_seq_lt(c->snd_una, c->recover))
        return TCP_CA_LOSS;
    return c->dupacks ? TCP_CA_DISORDER : TCP_CA_OPEN;
}

static uint32_t segs(uint32_t bytes, uint32_t mss)
{
    return mss ? (uint32_t)(((uint64_t)bytes + mss - 1) / mss) : 0;
}

static uint8_t sat8(uint32_t v)
{
    return v > UINT8_MAX ? UINT8_MAX : (uint8_t)v;
}

/* Nanoseconds as tcp_info's 32-bit microseconds, saturated: a profile
 * tcp_profile_check accepts keeps the RTO within them, one built in C
 * need not. */
static uint32_t us_sat32(uint64_t ns)
{
    return ns / 1000u > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000u);
}

/* The segment counts Linux keeps per skb, derived from bytes: unacked is
 * packets_out, lost is lost_out (everything out after an RTO,
 * tcp_enter_loss; the head in fast recovery), retrans is retrans_out (what
 * went again since the RTO, or the fast retransmission). */
static void info_segments(const tcp_conn *c, tcp_sockinfo *o)
{
    uint32_t mss = c->snd_mss;
    o->unacked = segs(tcp_flight(c), mss);
    if (o->ca_state == TCP_CA_LOSS) {
        o->lost = o->unacked;
        uint32_t redone =
            tcp_seq_lt(c->snd_nxt, c->snd_max) ? c->snd_nxt - c->snd_una : c->snd_max - c->snd_una;
        o->retrans = segs(redone, mss);
    } else if (o->ca_state == TCP_CA_RECOVERY) {
        o->lost = o->retrans = o->unacked ? 1 : 0;
    }
}

/* Linux keeps one probe count and one backoff for the RTO, zero-window and
 * keepalive probes (icsk_probes_out, icsk_backoff; tcp_get_info). While
 * the persist timer probes a zero window they are the probe's:
 * tcp_send_probe0 counts each probe in both, tcp_ack zeroes
 * icsk_probes_out at every acceptable ACK, an opening window zeroes the
 * backoff (tcp_ack_probe). A data-carrying probe is in flight (`probing`);
 * Linux's own (zwp_no_data) is not, and the armed timer says it. */
static bool zero_window_probing(const tcp_conn *c)
{
    return c->probing || (c->snd_wnd == 0 && tcp_timer_at(c, TCP_TIMER_PERSIST) != TCP_NEVER);
}

int tcp_sock_info(const tcp_stack *s, tcp_sock_id id, tcp_sockinfo *o)
{
    tcp_frame f;
    const tcp_conn *c = tcp_stack_view(s, id, &f);
    if (!c || !c->user_held || !o)
        return TCP_EBADF;
    memset(o, 0, sizeof *o);
    o->state = c->state;
    bool sync = tcp_state_synchronized(c->state);
    o->ca_state = sync ? ca_state(c) : TCP_CA_OPEN;
    o->retransmits = sat8(c->retries);
    bool zwp = zero_window_probing(c);
    o->probes = zwp ? sat8(c->persist_unanswered) : c->ka_probes;
    o->backoff = zwp ? c->persist_backoff : sat8(c->retries);
    o->rto_us = us_sat32(c->rto_ns);
    /* Without the delayed-ACK engine the ATO stays 0 (no data yet). */
    o->ato_us = s->profile->delack_max_ns ? us_sat32(tcp_tune(c)->ato_ns) : 0;
    o->snd_mss = c->snd_mss;
    o->rcv_mss = c->rcv_mss;
    if (sync)
        info_segments(c, o);
    /* tcp_get_info: srtt_us >> 3 and mdev_us >> 2; before a sample Linux's
     * mdev_us holds TCP_TIMEOUT_INIT (1 s), so rttvar reads 250000. */
    o->rtt_us = c->has_srtt ? us_sat32(c->srtt_ns) : 0;
    o->rttvar_us = !c->has_srtt              ? 250000u
                   : s->profile->rto_min_var ? tcp_tune(c)->mdev_us >> 2
                                             : us_sat32(c->rttvar_ns);
    o->snd_ssthresh =
        c->ssthresh >= 0x7fffffffu || !c->snd_mss ? 0x7fffffffu : c->ssthresh / c->snd_mss;
    o->snd_cwnd = c->snd_mss ? c->cwnd / c->snd_mss : 0;
    o->total_retrans = (uint32_t)c->stats.retransmits;
    /* tcp_ioctl: both are 0 in SYN-SENT and SYN-RECEIVED (tcp_inq). */
    if (sync) {
        o->inq = c->rcvq.len;
        o->outq = c->sndq.len + (c->fin_queued && !tcp_fin_acked(c));
    }
    return TCP_OK;
}

/* The readers below see a TIME_WAIT minisock (tcp_tw.c) and a listener
 * record (tcp_ls.c) as the connection each was made from. */
tcp_state tcp_sock_state(const tcp_stack *s, tcp_sock_id id)
{
    const tcp_conn *c = tcp_stack_find(s, id);
    if (c)
        return c->state;
    const tcp_ls *ls = tcp_stack_find_ls(s, id);
    if (ls)
        return (tcp_state)ls->state;
    return tcp_stack_find_tw(s, id) ? TCP_TIME_WAIT : TCP_CLOSED;
}

const tcp_stats *tcp_sock_stats(const tcp_stack *s, tcp_sock_id id)
{
    const tcp_conn *c = tcp_stack_find(s, id);
    if (c)
        return &c->stats;
    const tcp_ls *ls = tcp_stack_find_ls(s, id);
    if (ls)
        return &ls->stats;
    const tcp_tw *tw = tcp_stack_find_tw(s, id);
    return tw ? &tw->stats : NULL;
}

int tcp_sock_error(const tcp_stack *s, tcp_sock_id id)
{
    const tcp_conn *c = tcp_stack_find(s, id);
    if (c)
        return c->err;
    const tcp_ls *ls = tcp_stack_find_ls(s, id);
    if (ls)
        return ls->err;
    const tcp_tw *tw = tcp_stack_find_tw(s, id);
    return tw ? tw->err : 0;
}

/* On a listener (a record, or a full connection its record could not be
 * allocated for): FreeBSD's pending so_error, the ECONNABORTED a shutdown
 * left for the next accept (listen_shut bsd), read and cleared by sogetopt
 * SO_ERROR as by solisten_dequeue; else its error. */
int tcp_sock_take_error(tcp_stack *s, tcp_sock_id id)
{
    tcp_sk *e = held_sk(s, id);
    if (!e)
        return TCP_EBADF;
    if (!e->ls && !sk_listening(e))
        return take_err((tcp_conn *)e);
    tcp_ls tmp;
    tcp_ls *l = tcp_stack_ls_take(e, &tmp);
    int rc = l->acc_abort ? TCP_ECONNABORTED : l->err;
    l->acc_abort = false;
    tcp_stack_ls_put(e, l);
    return rc;
}

int tcp_sock_endpoints(const tcp_stack *s, tcp_sock_id id, uint16_t *lport, uint32_t *raddr,
                       uint16_t *rport)
{
    const tcp_sk *e = tcp_stack_sk(s, id);
    if (e && e->ls) { /* a listener has no remote end */
        if (lport)
            *lport = ((const tcp_ls *)e)->lport;
        if (raddr)
            *raddr = 0;
        if (rport)
            *rport = 0;
        return 0;
    }
    const tcp_conn *c = (const tcp_conn *)e;
    const tcp_tw *tw = c ? NULL : tcp_stack_find_tw(s, id);
    if (!c && !tw)
        return -1;
    if (lport)
        *lport = c ? c->lport : tw->lport;
    if (raddr)
        *raddr = c ? c->raddr : tw->raddr;
    if (rport)
        *rport = c ? c->rport : tw->rport;
    return 0;
}
