/*
 * tcp_state — state names (one X-macro list, three spellings) and
 * tcp_set_state, the only function that writes a connection's state.
 *
 * tcp_set_state checks the edge against RFC 9293's diagram (§3.3.2) plus the
 * edges §3.10 adds (RST, ABORT and timeouts to CLOSED), runs the entry
 * actions of the new state (timers, tables) and reports TCP_EV_STATE with
 * its cause. A segment that causes two transitions (FIN+ACK in FIN_WAIT_1)
 * produces two events with the same cause, segment and time.
 */
#include <assert.h>
#include <string.h>

#include "tcp_conn.h"

static const char *const STATE_NAMES[] = {
#define TCP_X_NAME(e, n, r, l) n,
    TCP_STATES(TCP_X_NAME)
#undef TCP_X_NAME
};
static const char *const STATE_RFC[] = {
#define TCP_X_RFC(e, n, r, l) r,
    TCP_STATES(TCP_X_RFC)
#undef TCP_X_RFC
};
static const char *const STATE_LINUX[] = {
#define TCP_X_LINUX(e, n, r, l) l,
    TCP_STATES(TCP_X_LINUX)
#undef TCP_X_LINUX
};

const char *tcp_state_name(tcp_state s)
{
    return (unsigned)s < TCP_STATE_COUNT ? STATE_NAMES[s] : "?";
}

const char *tcp_state_rfc_name(tcp_state s)
{
    return (unsigned)s < TCP_STATE_COUNT ? STATE_RFC[s] : "?";
}

const char *tcp_state_linux_name(tcp_state s)
{
    return (unsigned)s < TCP_STATE_COUNT ? STATE_LINUX[s] : "?";
}

int tcp_state_parse(const char *name, tcp_state *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < TCP_STATE_COUNT; i++) {
        if (!strcmp(name, STATE_NAMES[i]) || !strcmp(name, STATE_RFC[i]) ||
            !strcmp(name, STATE_LINUX[i])) {
            if (out)
                *out = (tcp_state)i;
            return 0;
        }
    }
    return -1;
}

const char *tcp_err_name(int err)
{
    switch (err) {
    case TCP_OK:
        return "OK";
    case TCP_EINVAL:
        return "EINVAL";
    case TCP_EBADF:
        return "EBADF";
    case TCP_EADDRINUSE:
        return "EADDRINUSE";
    case TCP_EAGAIN:
        return "EAGAIN";
    case TCP_ENOTCONN:
        return "ENOTCONN";
    case TCP_EPIPE:
        return "EPIPE";
    case TCP_ECONNREFUSED:
        return "ECONNREFUSED";
    case TCP_ECONNRESET:
        return "ECONNRESET";
    case TCP_ETIMEDOUT:
        return "ETIMEDOUT";
    case TCP_ENOMEM:
        return "ENOMEM";
    case TCP_EISCONN:
        return "EISCONN";
    case TCP_EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    case TCP_ECONNABORTED:
        return "ECONNABORTED";
    case TCP_EOPNOTSUPP:
        return "EOPNOTSUPP";
    case TCP_EMFILE:
        return "EMFILE";
    default:
        return "E?";
    }
}

const char *tcp_timer_name(tcp_timer_kind t)
{
    switch (t) {
    case TCP_TIMER_RTX:
        return "RTX";
    case TCP_TIMER_PERSIST:
        return "PERSIST";
    case TCP_TIMER_DELACK:
        return "DELACK";
    case TCP_TIMER_KEEPALIVE:
        return "KEEPALIVE";
    case TCP_TIMER_TIME_WAIT:
        return "TIME_WAIT";
    case TCP_TIMER_FIN_WAIT_2:
        return "FIN_WAIT_2";
    }
    return "?";
}

const char *tcp_user_call_name(tcp_user_call c)
{
    switch (c) {
    case TCP_CALL_LISTEN:
        return "listen";
    case TCP_CALL_CONNECT:
        return "connect";
    case TCP_CALL_ACCEPT:
        return "accept";
    case TCP_CALL_SEND:
        return "send";
    case TCP_CALL_RECV:
        return "recv";
    case TCP_CALL_SHUTDOWN:
        return "shutdown";
    case TCP_CALL_CLOSE:
        return "close";
    case TCP_CALL_ABORT:
        return "abort";
    }
    return "?";
}

const char *tcp_cause_name(tcp_cause c)
{
    switch (c) {
    case TCP_CAUSE_USER:
        return "user";
    case TCP_CAUSE_SEGMENT:
        return "segment";
    case TCP_CAUSE_TIMER:
        return "timer";
    }
    return "?";
}

const char *tcp_event_name(tcp_event_kind k)
{
    switch (k) {
    case TCP_EV_STATE:
        return "STATE";
    case TCP_EV_SEG_IN:
        return "SEG_IN";
    case TCP_EV_SEG_OUT:
        return "SEG_OUT";
    case TCP_EV_DROP:
        return "DROP";
    case TCP_EV_TIMER:
        return "TIMER";
    case TCP_EV_USER:
        return "USER";
    case TCP_EV_ERROR:
        return "ERROR";
    case TCP_EV_TIMER_RESTART:
        return "TIMER_RESTART";
    case TCP_EV_TCB:
        return "TCB";
    }
    return "?";
}

#define BIT(s) (1u << TCP_##s)

/* Legal successors of each state. The RFC 9293 §3.3.2 diagram, plus the
 * edges §3.10 adds: every state may reach CLOSED (RST, ABORT, user
 * timeout), and a SYN-RECEIVED that came from LISTEN goes back there on RST
 * or SYN (§3.10.7.4 second and fourth steps). */
static const unsigned EDGES[TCP_STATE_COUNT] = {
    [TCP_CLOSED] = BIT(LISTEN) | BIT(SYN_SENT),
    [TCP_LISTEN] = BIT(SYN_RECEIVED) | BIT(SYN_SENT) | BIT(CLOSED),
    [TCP_SYN_SENT] = BIT(SYN_RECEIVED) | BIT(ESTABLISHED) | BIT(CLOSED),
    [TCP_SYN_RECEIVED] =
        BIT(ESTABLISHED) | BIT(FIN_WAIT_1) | BIT(CLOSE_WAIT) | BIT(LISTEN) | BIT(CLOSED),
    [TCP_ESTABLISHED] = BIT(FIN_WAIT_1) | BIT(CLOSE_WAIT) | BIT(CLOSED),
    [TCP_FIN_WAIT_1] = BIT(FIN_WAIT_2) | BIT(CLOSING) | BIT(CLOSED),
    [TCP_FIN_WAIT_2] = BIT(TIME_WAIT) | BIT(CLOSED),
    [TCP_CLOSE_WAIT] = BIT(LAST_ACK) | BIT(CLOSED),
    [TCP_CLOSING] = BIT(TIME_WAIT) | BIT(CLOSED),
    [TCP_LAST_ACK] = BIT(CLOSED),
    [TCP_TIME_WAIT] = BIT(CLOSED),
};

bool tcp_state_edge_legal(tcp_state from, tcp_state to)
{
    if ((unsigned)from >= TCP_STATE_COUNT || (unsigned)to >= TCP_STATE_COUNT)
        return false;
    return (EDGES[from] & (1u << to)) != 0;
}

/* RFC 9293 §3.3.2: the states after the handshake's SYNs were exchanged. */
bool tcp_state_synchronized(tcp_state s)
{
    return s != TCP_CLOSED && s != TCP_LISTEN && s != TCP_SYN_SENT;
}

void tcp_state_init_child(tcp_conn *child)
{
    assert(child->state == TCP_CLOSED && child->passive);
    child->state = TCP_LISTEN;
}

void tcp_set_state(tcp_conn *c, tcp_state to, tcp_cause cause, const tcp_seg *seg, const char *note)
{
    tcp_state from = c->state;
    assert(tcp_state_edge_legal(from, to));
    c->state = to;
    if (to == TCP_CLOSED || (to == TCP_LISTEN && c->passive)) {
        /* The connection no longer owns its 4-tuple: later segments meet
         * the CLOSED rules of §3.10.7.1 (or the listener). A listener
         * closed leaves the table the same way; one that connects has
         * left it already (tcp_connect). */
        tcp_stack_unhash(c);
    }
    tcp_timer_enter_state(c);
    tcp_ev_state(c, from, cause, seg, note);
}

/* RFC 9293 deletes the TCB wherever a connection enters CLOSED: an RST
 * (§3.10.7.4), a user or retransmission timeout (§3.10.8), LAST-ACK's FIN
 * acknowledged (§3.10.7.4 LAST-ACK STATE: "delete the TCB, enter the
 * CLOSED state, and return"), TIME-WAIT's timer (§3.10.8 Time-Wait
 * Timeout: "delete the TCB"). Under profile closed_deletes_tcb the queues
 * go with it (§3.10.7.4 (RST): "All segment queues should be flushed";
 * §3.10.8 USER TIMEOUT: "flush all queues") and the calls that follow
 * meet CLOSED (tcp_user.c tcb_deleted). Linux tcp_done and FreeBSD
 * tcp_close → soisdisconnected keep the receive queue readable and the
 * socket shut both ways. */
void tcp_conn_delete(tcp_conn *c, tcp_cause cause, const tcp_seg *seg, const char *note)
{
    c->deleted = true;
    if (c->stack->profile->closed_deletes_tcb) {
        tcp_ring_consume(&c->rcvq, c->rcvq.len);
        c->ooo_n = 0;
        tcp_sack_prune(c); /* no range held: no block to report */
    }
    tcp_set_state(c, TCP_CLOSED, cause, seg, note);
}

void tcp_conn_drop(tcp_conn *c, int err, tcp_cause cause, const tcp_seg *seg, const char *note)
{
    if (c->state == TCP_CLOSED)
        return;
    assert(err >= INT8_MIN && err <= 0); /* a tcp_err: c->err is 8 bits */
    if (err)
        c->err = (int8_t)err;
    tcp_conn_delete(c, cause, seg, note);
    if (err)
        tcp_ev(c, TCP_EV_ERROR, err, NULL, tcp_err_name(err));
}
