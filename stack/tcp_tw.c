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
    /* Our FIN is acknowledged in TIME_WAIT, so SND.UNA = SND.NXT =
     * SND.MAX: the minisock keeps the one. */
    if (c->snd_una != c->snd_max || c->snd_nxt != c->snd_max)
        return false;
    for (int k = 0; k < TCP_TIMER_COUNT; k++) {
        if (k != TCP_TIMER_TIME_WAIT && tcp_timer_at(c, (tcp_timer_kind)k) != TCP_NEVER)
            return false;
    }
    return true;
}

/* The values a minisock keeps, each under its tcp_conn name: the one list
 * that saving and restoring both copy. */
#define TW_FIELDS(X)                                                                               \
    X(stats)                                                                                       \
    X(err)                                                                                         \
    X(opts)                                                                                        \
    X(oow_start_ns)                                                                                \
    X(id)                                                                                          \
    X(parent)                                                                                      \
    X(raddr)                                                                                       \
    X(lport)                                                                                       \
    X(rport)                                                                                       \
    X(iss)                                                                                         \
    X(irs)                                                                                         \
    X(snd_max)                                                                                     \
    X(snd_wnd)                                                                                     \
    X(rcv_nxt)                                                                                     \
    X(rcv_adv)                                                                                     \
    X(last_ack_sent)                                                                               \
    X(ts_recent)                                                                                   \
    X(rcvbuf)                                                                                      \
    X(rcv_ssthresh)                                                                                \
    X(rcv_mss)                                                                                     \
    X(oow_n)                                                                                       \
    X(rcv_wscale)                                                                                  \
    X(ts_ok)                                                                                       \
    X(msl_set)                                                                                     \
    X(passive)                                                                                     \
    X(rcvbuf_set)                                                                                  \
    X(ratio_known)

void tcp_tw_save(tcp_tw *tw, const tcp_conn *c)
{
#define TW_SAVE(f) tw->f = c->f;
    TW_FIELDS(TW_SAVE)
#undef TW_SAVE
}

/* The fields a minisock does not keep are either fixed by TIME_WAIT itself
 * (both FINs exchanged and ours acknowledged, the rings empty, the user
 * gone) or read by nothing that runs in TIME_WAIT (congestion control, RTT,
 * keepalive and the other options, the delayed-ACK engine). The MSS we
 * announced (mss, restored at the profile's) is one: the window of an ACK
 * reads it only through the window clamp (tcp_rcv_clamp) below half the
 * free space, and the receive ring of a minisock is empty; Linux's
 * tcp_timewait_sock keeps no MSS either, its ACK offers tw_rcv_wnd. */
void tcp_tw_restore(tcp_conn *c, const tcp_tw *tw, uint64_t tw_at)
{
#define TW_RESTORE(f) c->f = tw->f;
    TW_FIELDS(TW_RESTORE)
#undef TW_RESTORE
    /* Invariant 1's other end: a connection rebuilt in the state it had. */
    c->state = TCP_TIME_WAIT;
    c->released = c->ever_used = true;
    c->fin_queued = c->fin_pending = c->fin_rcvd = true;
    c->peer_fin_seq = tw->rcv_nxt - 1u;
    c->snd_una = c->snd_nxt = tw->snd_max; /* tcp_tw_fits */
    c->snd_buf_seq = tw->snd_max - 1u;     /* our FIN, acknowledged */
    tcp_timer_store(c, TCP_TIMER_TIME_WAIT, tw_at);
    c->check_tw_at = tw_at; /* as tcp_check_after left it */
}
