/*
 * tcp_tw — the TIME_WAIT minisock: which connections become one, and the
 * copy of values between a connection and its minisock.
 *
 * RFC 9293 §3.10.7.4 leaves TIME-WAIT one job: acknowledge a retransmitted
 * FIN and restart the 2 MSL timeout, with RST and SYN handled per profile
 * (tcp_input.c). Linux (inet_timewait_sock) and FreeBSD (struct tcptw) keep
 * a small record for it instead of the whole TCB; so does this stack, once
 * the user has let the connection go (tcp_close, tcp_abort) and it holds no
 * byte. The record keeps exactly the fields that TIME_WAIT's rules, the
 * segments they send (an ACK: SND.MAX, RCV.NXT, the window, timestamps),
 * the rate limit of RFC 5961 §7, the TCB event and the readers of tcp.h
 * read. A segment or the timer for it is processed on a full connection
 * rebuilt from it (tcp_tw_restore), so the TIME_WAIT code is one, and the
 * connection shrinks again as the call leaves it (tcp_stack_settle).
 */
#include "tcp_conn.h"

bool tcp_tw_fits(const tcp_conn *c)
{
    if (c->state != TCP_TIME_WAIT || c->user_held || !c->released)
        return false;
    if (c->rcvq.len || c->ooo_n || c->sndq.len || c->in_syn_q || c->in_accept_q)
        return false;
    for (int k = 0; k < TCP_TIMER_COUNT; k++) {
        if (k != TCP_TIMER_TIME_WAIT && tcp_timer_at(c, (tcp_timer_kind)k) != TCP_NEVER)
            return false;
    }
    return c->err >= INT8_MIN && c->err <= 0;
}

void tcp_tw_save(tcp_tw *tw, const tcp_conn *c)
{
    tw->stats = c->stats;
    tw->msl_ns = c->msl_ns;
    tw->oow_start_ns = c->oow_start_ns;
    tw->id = c->id;
    tw->parent = c->parent;
    tw->raddr = c->raddr;
    tw->lport = c->lport;
    tw->rport = c->rport;
    tw->iss = c->iss;
    tw->irs = c->irs;
    tw->snd_una = c->snd_una;
    tw->snd_nxt = c->snd_nxt;
    tw->snd_max = c->snd_max;
    tw->snd_wnd = c->snd_wnd;
    tw->rcv_nxt = c->rcv_nxt;
    tw->rcv_adv = c->rcv_adv;
    tw->last_ack_sent = c->last_ack_sent;
    tw->ts_recent = c->ts_recent;
    tw->rcvbuf = c->rcvbuf;
    tw->rcv_mss = c->rcv_mss;
    tw->oow_n = c->oow_n;
    tw->rcv_wscale = c->rcv_wscale;
    tw->err = (int8_t)c->err;
    tw->ts_ok = c->ts_ok;
    tw->msl_set = c->msl_set;
    tw->passive = c->passive;
    tw->rcvbuf_set = c->rcvbuf_set;
}

/* The fields a minisock does not keep are either fixed by TIME_WAIT itself
 * (both FINs exchanged and ours acknowledged, the rings empty, the user
 * gone) or read by nothing that runs in TIME_WAIT (congestion control, RTT,
 * keepalive and the other options, the delayed-ACK engine). */
void tcp_tw_restore(tcp_conn *c, const tcp_tw *tw, uint64_t tw_at)
{
    c->stats = tw->stats;
    c->msl_ns = tw->msl_ns;
    c->oow_start_ns = tw->oow_start_ns;
    c->id = tw->id;
    c->parent = tw->parent;
    c->raddr = tw->raddr;
    c->lport = tw->lport;
    c->rport = tw->rport;
    c->iss = tw->iss;
    c->irs = tw->irs;
    c->snd_una = tw->snd_una;
    c->snd_nxt = tw->snd_nxt;
    c->snd_max = tw->snd_max;
    c->snd_wnd = tw->snd_wnd;
    c->rcv_nxt = tw->rcv_nxt;
    c->rcv_adv = tw->rcv_adv;
    c->last_ack_sent = tw->last_ack_sent;
    c->ts_recent = tw->ts_recent;
    c->rcvbuf = tw->rcvbuf;
    c->rcv_mss = tw->rcv_mss;
    c->oow_n = tw->oow_n;
    c->rcv_wscale = tw->rcv_wscale;
    c->err = tw->err;
    c->ts_ok = tw->ts_ok;
    c->msl_set = tw->msl_set;
    c->passive = tw->passive;
    c->rcvbuf_set = tw->rcvbuf_set;
    /* Invariant 1's other end: a connection rebuilt in the state it had. */
    c->state = TCP_TIME_WAIT;
    c->released = c->ever_used = true;
    c->fin_queued = c->fin_pending = c->fin_rcvd = true;
    c->peer_fin_seq = tw->rcv_nxt - 1u;
    c->snd_buf_seq = tw->snd_max - 1u; /* our FIN, acknowledged */
    tcp_timer_store(c, TCP_TIMER_TIME_WAIT, tw_at);
    c->check_tw_at = tw_at; /* as tcp_check_after left it */
}

/* As tcb_fill (tcp_stack.c) reads a connection in TIME_WAIT. */
void tcp_tw_tcb(const tcp_tw *tw, uint64_t tw_at, tcp_tcb *out)
{
    *out = (tcp_tcb){
        .state = TCP_TIME_WAIT,
        .iss = tw->iss,
        .irs = tw->irs,
        .snd_una = tw->snd_una,
        .snd_nxt = tw->snd_nxt,
        .snd_wnd = tw->snd_wnd,
        .rcv_nxt = tw->rcv_nxt,
        .rcv_wnd = tcp_seq_gt(tw->rcv_adv, tw->rcv_nxt) ? tw->rcv_adv - tw->rcv_nxt : 0,
        .snd_max = tw->snd_max,
    };
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        out->timer_at[k] = TCP_NEVER;
    out->timer_at[TCP_TIMER_TIME_WAIT] = tw_at;
}
