/*
 * tcp_timer — RFC 9293 §3.10.8 timeouts and the timers around them: RTO
 * (RFC 6298), zero-window persist, delayed ACK, keepalive (RFC 1122
 * §4.2.3.6), TIME_WAIT (2*MSL) and the FIN_WAIT_2 orphan timeout.
 *
 * A timer is a deadline on the connection (a slot it may share with a kind
 * never armed with it, tcp_timer_slot): arming is a store, and
 * tcp_stack_settle moves the connection in the stack's deadline heap
 * afterwards. tcp_timer_run runs the due timers of one connection in the
 * order of tcp_timer_kind; each handler either disarms its timer or re-arms
 * it strictly later than now.
 */
#include <assert.h>

#include "tcp_conn.h"
#include "tcp_wheel.h"

#define RTO_FALLBACK_NS 3000000000ull /* RFC 6298 §5.7 */

void tcp_timer_set(tcp_conn *c, tcp_timer_kind k, uint64_t at)
{
    tcp_timer_store(c, k, at);
    if (k == TCP_TIMER_RTX)
        c->tlp_armed = false;
    if (k == TCP_TIMER_DELACK)
        c->comp_timer = false; /* sack_compress marks its own deadline after */
}

/* Every timer deadline of a connection is computed here. Linux's TCP
 * timers are timer_list timers armed at "jiffies + timeout"
 * (sk_reset_timer, inet_csk_reset_xmit_timer, inet_csk_reset_keepalive_timer,
 * reqsk_queue_hash_req, inet_twsk_schedule): with the profile's timer_hz
 * the deadline is where the timer wheel fires them (tcp_wheel.h), rounded
 * up to the jiffy and to the bucket of its level; 0: exact. */
uint64_t tcp_after(const tcp_conn *c, uint64_t d)
{
    return tcp_wheel_expiry_ns(c->stack->profile->timer_hz, c->stack->now, d);
}

/* An hrtimer's deadline (Linux's compressed-ACK timer): exact, whatever
 * timer_hz says. */
uint64_t tcp_after_exact(const tcp_conn *c, uint64_t d)
{
    return tcp_wheel_expiry_ns(0, c->stack->now, d);
}

void tcp_timer_stop(tcp_conn *c, tcp_timer_kind k)
{
    tcp_timer_set(c, k, TCP_NEVER);
}

void tcp_timer_stop_all(tcp_conn *c)
{
    for (int k = 0; k < TCP_TIMER_COUNT; k++)
        tcp_timer_set(c, (tcp_timer_kind)k, TCP_NEVER);
}

/* The retransmission interval: the RTO, plus the profile's slop once the
 * handshake is done (FreeBSD's TCPT_RANGESET adds tcp_rexmit_slop to every
 * data RTO), at most rto_max. */
static uint64_t rtx_interval(const tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    if (c->snd_una == c->iss || !p->rto_slop_ns)
        return c->rto_ns;
    uint64_t t = c->rto_ns + p->rto_slop_ns;
    return t > p->rto_max_ns ? p->rto_max_ns : t;
}

void tcp_timer_arm_rtx(tcp_conn *c)
{
    if (tcp_timer_at(c, TCP_TIMER_RTX) == TCP_NEVER)
        tcp_timer_set(c, TCP_TIMER_RTX, tcp_after(c, rtx_interval(c)));
}

void tcp_timer_restart_rtx(tcp_conn *c)
{
    tcp_timer_set(c, TCP_TIMER_RTX, tcp_after(c, rtx_interval(c)));
}

/* Linux TCP_TIMEOUT_MIN_US (tcp_schedule_loss_probe adds it in µs, then
 * usecs_to_jiffies: on the wheel, tcp_after rounds the sum up to jiffies). */
#define TLP_TIMEOUT_MIN_NS 2000000ull

/* Linux tcp_schedule_loss_probe: a probe only on a SACK connection
 * (tcp_is_sack) with data out and no loss being repaired (TCP_CA_Open:
 * not in fast recovery, nor after an RTO until SND.UNA passes `recover`). */
static bool tlp_allowed(const tcp_conn *c)
{
    return c->stack->profile->tlp && c->sack_ok && tcp_flight(c) > 0 && !c->probing &&
           c->snd_una != c->iss && tcp_state_synchronized(c->state) && !c->in_recovery &&
           tcp_seq_ge(c->snd_una, c->recover);
}

/* RFC 8985 §7.2 as Linux computes it: PTO = 2·SRTT, plus TCP_RTO_MIN when
 * one segment is in flight (the peer may delay its ACK) or TCP_TIMEOUT_MIN
 * otherwise; TCP_TIMEOUT_INIT without an RTT sample; never later than the
 * RTO would fire (restarted now after an ACK, else the one running). */
static uint64_t pto_interval(const tcp_conn *c, bool restart)
{
    const tcp_profile *p = c->stack->profile;
    uint64_t t = p->rto_initial_ns;
    if (c->has_srtt)
        t = 2 * c->srtt_ns + (tcp_flight(c) <= c->snd_mss ? p->rto_min_ns : TLP_TIMEOUT_MIN_NS);
    uint64_t at = tcp_timer_at(c, TCP_TIMER_RTX), now = c->stack->now;
    uint64_t rto = rtx_interval(c);
    if (!restart && !c->tlp_armed && at != TCP_NEVER && at > now)
        rto = at - now;
    t = t < rto ? t : rto;
    return t ? t : 1;
}

void tcp_timer_rtx_or_pto(tcp_conn *c, bool restart)
{
    if (!tlp_allowed(c)) {
        if (restart)
            tcp_timer_restart_rtx(c);
        else
            tcp_timer_arm_rtx(c);
        return;
    }
    uint64_t at = tcp_timer_at(c, TCP_TIMER_RTX);
    uint64_t pto = tcp_after(c, pto_interval(c, restart));
    /* pto_interval is at most the time left to the running RTO; on the
     * wheel both are rounded, and the probe keeps the RTO's deadline
     * rather than round past it. */
    if (!restart && !c->tlp_armed && at != TCP_NEVER && at > c->stack->now && at < pto)
        pto = at;
    tcp_timer_set(c, TCP_TIMER_RTX, pto);
    c->tlp_armed = true;
}

/* The n-th persist interval (n = persist_backoff): RTO * 2^n (RFC 9293
 * §3.8.6.1 SHLD-30 "exponential backoff"; Linux tcp_probe0_when), clamped
 * to the profile's [persist_min, persist_max] (FreeBSD tcp_setpersist:
 * TCPTV_PERSMIN 5 s, TCPTV_PERSMAX 60 s), or to rto_max when none. */
uint64_t tcp_persist_interval(const tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    unsigned shift = c->persist_backoff;
    uint64_t t = c->rto_ns > (UINT64_MAX >> shift) ? UINT64_MAX : c->rto_ns << shift;
    uint64_t hi = p->persist_max_ns ? p->persist_max_ns : p->rto_max_ns;
    if (t > hi)
        t = hi;
    if (t < p->persist_min_ns)
        t = p->persist_min_ns;
    return t ? t : 1;
}

static uint64_t clamp_rto(const tcp_conn *c, uint64_t rto)
{
    const tcp_profile *p = c->stack->profile;
    if (rto < p->rto_min_ns)
        rto = p->rto_min_ns;
    if (rto > p->rto_max_ns)
        rto = p->rto_max_ns;
    return rto ? rto : 1;
}

/* A microsecond figure of the estimator, stored in Linux's 32 bits: the
 * arithmetic is 64-bit and saturates rather than wraps (a deviation past
 * 71.6 min). */
static uint32_t us32(int64_t us)
{
    return us <= 0 ? 0 : us >= (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Linux's estimator (profile rto_min_var), in its own units and integer
 * steps: srtt_us is 8·SRTT (here srtt_ns = srtt_us · 125, exactly), mdev_us
 * 4·the mean deviation, which a falling RTT raises eight times more slowly
 * (tcp_rtt_estimator). The RTO's variance term rttvar_us is the largest
 * mdev_us of the current window of data, and never below rto_min: set so
 * at the first sample ("make sure rto = 3*rtt" and at least rto_min), it
 * follows mdev_max_us up at once and down by a quarter of the way at each
 * window's end (SEG.ACK past the SND.NXT the window began at). RTO =
 * SRTT + rttvar_us (__tcp_set_rto), so with a short RTT it is SRTT +
 * 200 ms where RFC 6298 §2.4 gives 200 ms. mdev_max_us holds the window's
 * largest mdev_us only; Linux's mdev_max_us, which starts each window at
 * rto_min, is max(it, the floor), taken here in 64 bits, so a floor past
 * 32 bits of microseconds (an unchecked profile: tcp_profile_check bounds
 * rto_min) cannot wrap. */
static void rtt_sample_var_floor(tcp_conn *c, uint64_t r, uint32_t ack)
{
    tcp_rcv_tune *t = tcp_tune(c);
    uint64_t floor_us = c->stack->profile->rto_min_ns / 1000u;
    int64_t m = (int64_t)(r / 1000u);
    if (!c->has_srtt) {
        c->srtt_ns = (uint64_t)(m > 0 ? m * 1000 : 125); /* srtt_us = max(1U, srtt) */
        t->mdev_us = us32(2 * m);
        t->mdev_max_us = t->mdev_us;
        c->rttvar_ns = (t->mdev_us > floor_us ? t->mdev_us : floor_us) * 1000u;
        t->var_seq = c->snd_nxt;
        c->has_srtt = true;
    } else {
        int64_t srtt8 = (int64_t)(c->srtt_ns / 125u);
        m -= srtt8 >> 3; /* the error of this sample */
        srtt8 += m;      /* SRTT += error / 8 */
        if (m < 0) {
            m = -m - (int64_t)(t->mdev_us >> 2);
            if (m > 0)
                m >>= 3;
        } else {
            m -= (int64_t)(t->mdev_us >> 2);
        }
        t->mdev_us = us32((int64_t)t->mdev_us + m);
        c->srtt_ns = (uint64_t)(srtt8 > 1 ? srtt8 : 1) * 125u;
        uint64_t var_us = c->rttvar_ns / 1000u;
        uint64_t max_us = t->mdev_max_us > floor_us ? t->mdev_max_us : floor_us;
        if (t->mdev_us > max_us) {
            max_us = t->mdev_max_us = t->mdev_us;
            if (max_us > var_us)
                var_us = max_us;
        }
        if (tcp_seq_gt(ack, t->var_seq)) {
            if (max_us < var_us)
                var_us -= (var_us - max_us) >> 2;
            t->var_seq = c->snd_nxt;
            t->mdev_max_us = 0; /* the floor, rto_min */
        }
        c->rttvar_ns = var_us * 1000u;
    }
    /* __tcp_set_rto: (srtt_us >> 3) + rttvar_us */
    c->rto_ns = clamp_rto(c, (c->srtt_ns / 125u >> 3) * 1000u + c->rttvar_ns);
}

/* RFC 6298 §2.2 - §2.3 with K = 4, alpha = 1/8, beta = 1/4; the clock is
 * in nanoseconds, so G is negligible and rto_min is the floor (§2.4). */
void tcp_rtt_sample(tcp_conn *c, uint64_t r, uint32_t ack)
{
    if (c->stack->profile->rto_min_var) {
        rtt_sample_var_floor(c, r, ack);
        return;
    }
    if (!c->has_srtt) {
        c->srtt_ns = r;
        c->rttvar_ns = r / 2;
        c->has_srtt = true;
    } else {
        uint64_t diff = c->srtt_ns > r ? c->srtt_ns - r : r - c->srtt_ns;
        c->rttvar_ns = (3 * c->rttvar_ns + diff) / 4;
        c->srtt_ns = (7 * c->srtt_ns + r) / 8;
    }
    c->rto_ns = clamp_rto(c, c->srtt_ns + 4 * c->rttvar_ns);
}

uint64_t tcp_time_wait_ns(const tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    if (!c->msl_set && p->time_wait_ns)
        return p->time_wait_ns;
    uint64_t msl = tcp_opt_msl_ns(c);
    return msl > UINT64_MAX / 2 ? UINT64_MAX : 2 * msl;
}

/* Keepalive probes an idle connection: ESTABLISHED, CLOSE_WAIT and
 * FIN_WAIT_2. In FIN_WAIT_1, CLOSING and LAST_ACK a FIN is outstanding and
 * the RTO watches the peer (Linux's tcp_keepalive_timer only reschedules
 * while packets are out); SYN_SENT, LISTEN and TIME_WAIT have none. */
static bool keepalive_state(tcp_state st)
{
    return st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT || st == TCP_FIN_WAIT_2;
}

/* An active open not yet established: SYN_SENT, or SYN_RECEIVED after a
 * simultaneous open. FreeBSD's TCPTV_KEEP_INIT covers both (tcp_timer_keep:
 * "if (tp->t_state < TCPS_ESTABLISHED) goto dropit"). */
static bool establishing(const tcp_conn *c)
{
    return c->state == TCP_SYN_SENT || (c->state == TCP_SYN_RECEIVED && !c->passive);
}

void tcp_timer_arm_keepalive(tcp_conn *c)
{
    bool on = c->keepalive && keepalive_state(c->state);
    if (establishing(c) && c->stack->profile->syn_timeout_ns)
        return; /* the slot holds the connection-establishment limit */
    if (!on)
        tcp_timer_stop(c, TCP_TIMER_KEEPALIVE);
    else if (tcp_timer_at(c, TCP_TIMER_KEEPALIVE) == TCP_NEVER)
        tcp_timer_set(c, TCP_TIMER_KEEPALIVE, tcp_after(c, tcp_opt_ka_idle_ns(c)));
}

void tcp_timer_enter_state(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    uint64_t now = c->stack->now;
    switch (c->state) {
    case TCP_CLOSED:
    case TCP_LISTEN:
        tcp_timer_stop_all(c);
        break;
    case TCP_SYN_SENT:
        /* The user timeout of an active open counts from the first SYN
         * (Linux tcp_connect sets retrans_stamp as the SYN is queued). */
        c->rtx_stamp_ns = now;
        /* FreeBSD's TCPTV_KEEP_INIT: the connection-establishment limit
         * runs in the keepalive slot, as in FreeBSD (TT_KEEP). */
        if (p->syn_timeout_ns)
            tcp_timer_set(c, TCP_TIMER_KEEPALIVE, tcp_after(c, p->syn_timeout_ns));
        break;
    case TCP_ESTABLISHED:
        c->last_rcv_ns = now;
        c->retries = 0;
        if (c->syn_rexmit && !c->has_srtt) /* RFC 6298 §5.7: no RTT sample */
            c->rto_ns = clamp_rto(c, RTO_FALLBACK_NS);
        if (c->syn_rexmit && c->syn_timeouts >= p->syn_loss_cwnd_after)
            c->cwnd = c->snd_mss; /* RFC 5681 §3.1: one segment after a lost SYN */
        tcp_timer_stop(c, TCP_TIMER_KEEPALIVE);
        tcp_timer_arm_keepalive(c);
        break;
    case TCP_FIN_WAIT_2:
        tcp_timer_stop(c, TCP_TIMER_RTX);
        tcp_timer_stop(c, TCP_TIMER_PERSIST);
        if (c->released && p->fin_wait_2_timeout_ns)
            tcp_timer_set(c, TCP_TIMER_FIN_WAIT_2, tcp_after(c, p->fin_wait_2_timeout_ns));
        tcp_timer_arm_keepalive(c);
        break;
    case TCP_TIME_WAIT:
        /* RFC 9293 §3.10.7.4: "start the time-wait timer, turn off the
         * other timers". */
        tcp_timer_stop_all(c);
        tcp_timer_set(c, TCP_TIMER_TIME_WAIT, tcp_after(c, tcp_time_wait_ns(c)));
        break;
    default: /* SYN_RECEIVED, FIN_WAIT_1, CLOSE_WAIT, CLOSING, LAST_ACK */
        tcp_timer_arm_keepalive(c);
        break;
    }
}

static bool handshake_pending(const tcp_conn *c)
{
    return c->snd_una == c->iss;
}

/* RFC 6298 §5.4 - §5.6 and RFC 9293 §3.8.3 (R2): back off, retransmit the
 * earliest unacknowledged segment, give up after the profile's count. */
/* The retransmission limit: SYN (Linux adds its linear timeouts,
 * tcp_write_timeout), SYN,ACK, an orphan's data/FIN (Linux
 * tcp_orphan_retries), or data/FIN. */
static uint64_t rtx_limit(const tcp_conn *c, bool syn)
{
    const tcp_profile *p = c->stack->profile;
    if (syn && c->passive)
        return p->synack_retries;
    if (syn)
        return (uint64_t)p->syn_retries + p->syn_linear_timeouts;
    if (c->released && p->orphan_retries)
        return p->orphan_retries;
    return p->data_retries;
}

/* Linux TCP_USER_TIMEOUT (tcp_write_timeout, retransmits_timed_out): in a
 * synchronized state the option replaces the retransmission count; the
 * connection times out once `user_timeout` has passed since the first
 * retransmission by RTO (tcp_retransmit_skb: "Save stamp of the first
 * (attempted) retransmit", retrans_stamp), checked at each RTO after it.
 * A tail loss probe does not set the stamp (__tcp_retransmit_skb).
 * An active open's SYN is timed too, from the first SYN, checked after the
 * SYN count (tcp_write_timeout since Linux 5.4, "tcp: better handle
 * TCP_USER_TIMEOUT in SYN_SENT state"), not at the first RTO (no
 * retransmission yet). RFC 9293 §3.10.8 USER TIMEOUT applies "for any
 * state", so every profile does it. A child's SYN,ACK is not timed: Linux
 * retransmits it from the request socket (reqsk_timer_handler), which
 * counts synack_retries only. */
static bool user_timed_out(const tcp_conn *c)
{
    return tcp_opt_user_timeout_ns(c) && c->retries > 0 &&
           c->stack->now - c->rtx_stamp_ns >= tcp_opt_user_timeout_ns(c);
}

/* Linux tcp_clamp_rto_to_user_timeout: the next RTO fires no later than
 * the user timeout (at once, 1 jiffy, once it has passed; 1 ms here, which
 * the wheel rounds up to one jiffy when timer_hz is set). */
static void clamp_to_user_timeout(tcp_conn *c)
{
    if (!tcp_opt_user_timeout_ns(c))
        return;
    uint64_t end = c->rtx_stamp_ns + tcp_opt_user_timeout_ns(c), now = c->stack->now;
    uint64_t at = tcp_after(c, end > now ? end - now : 1000000u);
    if (at < tcp_timer_at(c, TCP_TIMER_RTX))
        tcp_timer_set(c, TCP_TIMER_RTX, at);
}

static void on_rtx(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    bool syn = handshake_pending(c);
    if (c->tlp_armed) { /* the loss-probe timeout, not the RTO */
        c->tlp_armed = false;
        tcp_out_loss_probe(c);
        return;
    }
    if (!syn && user_timed_out(c)) {
        tcp_conn_drop(c, TCP_ETIMEDOUT, TCP_CAUSE_TIMER, NULL, "user timeout");
        return;
    }
    if (!(tcp_opt_user_timeout_ns(c) && !syn) && c->retries >= rtx_limit(c, syn)) {
        const char *why = !syn         ? "retransmissions exhausted"
                          : c->passive ? "SYN,ACK retries exhausted"
                                       : "SYN retries exhausted";
        tcp_conn_drop(c, TCP_ETIMEDOUT, TCP_CAUSE_TIMER, NULL, why);
        return;
    }
    if (syn && !c->passive && user_timed_out(c)) {
        tcp_conn_drop(c, TCP_ETIMEDOUT, TCP_CAUSE_TIMER, NULL, "user timeout");
        return;
    }
    if (c->retries == 0 && !syn)
        c->rtx_stamp_ns = c->stack->now;
    if (c->retries < UINT32_MAX)
        c->retries++;
    /* RFC 6298 §5.5 doubles; Linux keeps the first syn_linear_timeouts SYN
     * timeouts at the initial RTO (tcp_retransmit_timer: total_rto >
     * tcp_syn_linear_timeouts), as FreeBSD's tcp_syn_backoff[] does. */
    bool linear = syn && !c->passive && c->retries <= p->syn_linear_timeouts;
    if (!linear)
        c->rto_ns = clamp_rto(c, c->rto_ns > UINT64_MAX / 2 ? UINT64_MAX : c->rto_ns * 2);
    if (syn) {
        c->syn_rexmit = true;
        if (c->syn_timeouts < UINT8_MAX)
            c->syn_timeouts++;
        tcp_out_syn(c, true);
        if (!c->passive)
            clamp_to_user_timeout(c);
        return;
    }
    /* Data is outstanding while SND.UNA < SND.MAX, even with SND.NXT fallen
     * back to SND.UNA (an earlier RTO, then an ACK of just the head): it
     * is sent again, a zero window or not (Linux tcp_retransmit_timer:
     * "our retransmits become zero probes"), the RTO watching it. */
    if (c->snd_una == c->snd_max)
        return;
    /* RFC 5681 §3.1 (4): after a timeout, ssthresh is half the flight and
     * the window is one segment (the loss window). */
    uint32_t half = tcp_flight(c) / 2;
    c->ssthresh = half > 2u * c->snd_mss ? half : 2u * c->snd_mss;
    c->cwnd = c->snd_mss;
    c->recover = c->snd_max; /* RFC 6582 §3.2 step 4 */
    c->in_recovery = false;
    c->dupacks = 0;
    c->snd_nxt = c->snd_una;
    tcp_out_retransmit_first(c);
    tcp_timer_restart_rtx(c);
    clamp_to_user_timeout(c);
    tcp_output(c);
}

/* TCP_USER_TIMEOUT on a zero window (Linux tcp_probe_timer): the first
 * expiry of the episode records the time (icsk_probes_tstamp); a later
 * expiry at least `user_timeout` after it ends the connection, answered
 * probes or not (RFC 9293 §3.8.6.1 lets the user's timeout end a
 * connection RFC 1122 §4.2.2.17 would otherwise keep probing). */
static bool probe_timed_out(tcp_conn *c)
{
    uint64_t now = c->stack->now;
    if (!c->zwp_stamped) {
        c->zwp_stamped = true;
        c->probe_stamp_ns = now;
        return false;
    }
    return tcp_opt_user_timeout_ns(c) && now - c->probe_stamp_ns >= tcp_opt_user_timeout_ns(c);
}

/* Linux TCP_TIMEOUT_MIN: 2 jiffies; 2 ms without a timer wheel. */
static uint64_t timeout_min_ns(const tcp_profile *p)
{
    return p->timer_hz ? 2 * (1000000000ull / p->timer_hz) : 2000000ull;
}

/* Linux tcp_clamp_probe0_to_user_timeout: the next probe no later than the
 * user timeout, but at least TCP_TIMEOUT_MIN away. */
static uint64_t clamp_probe_to_user_timeout(const tcp_conn *c, uint64_t when)
{
    if (!tcp_opt_user_timeout_ns(c) || !c->zwp_stamped)
        return when;
    uint64_t elapsed = c->stack->now - c->probe_stamp_ns;
    if (elapsed >= tcp_opt_user_timeout_ns(c))
        return when;
    uint64_t left = tcp_opt_user_timeout_ns(c) - elapsed;
    uint64_t floor = timeout_min_ns(c->stack->profile);
    if (left < floor)
        left = floor;
    return left < when ? left : when;
}

/* RFC 9293 §3.8.6.1 and RFC 1122 §4.2.2.17: probe a zero window; never give
 * up while probes are answered (the ACK step clears persist_unanswered),
 * unless the user timeout says so. With the window open the timer is the
 * corked data's: it goes now (RFC 9293 §3.9.1.2 MUST-60). */
static void on_persist(tcp_conn *c)
{
    if (c->snd_wnd > 0) {
        bool corked = c->cork_wait;
        c->probing = false;
        c->persist_backoff = 0;
        if (corked)
            tcp_out_wakeup(c);
        tcp_output(c);
        return;
    }
    if (probe_timed_out(c)) {
        tcp_conn_drop(c, TCP_ETIMEDOUT, TCP_CAUSE_TIMER, NULL, "user timeout");
        return;
    }
    if (c->persist_unanswered >= rtx_limit(c, false)) {
        tcp_conn_drop(c, TCP_ETIMEDOUT, TCP_CAUSE_TIMER, NULL, "persist probes unanswered");
        return;
    }
    tcp_out_probe(c);
    if (c->persist_unanswered < UINT32_MAX)
        c->persist_unanswered++;
    /* Linux tcp_send_probe0: the backoff grows before the next interval is
     * computed, so probes go RTO, 2·RTO, 4·RTO ... apart. */
    if (c->persist_backoff < 30)
        c->persist_backoff++;
    tcp_timer_persist_rearm(c);
}

void tcp_timer_persist_rearm(tcp_conn *c)
{
    uint64_t next = clamp_probe_to_user_timeout(c, tcp_persist_interval(c));
    tcp_timer_set(c, TCP_TIMER_PERSIST, tcp_after(c, next));
}

static void on_keepalive(tcp_conn *c)
{
    uint64_t now = c->stack->now;
    if (establishing(c)) {
        tcp_conn_drop(c, TCP_ETIMEDOUT, TCP_CAUSE_TIMER, NULL, "connection-establishment timeout");
        return;
    }
    if (!c->keepalive || !keepalive_state(c->state))
        return;
    uint32_t end = tcp_snd_data_end(c);
    if (tcp_flight(c) || tcp_seq_lt(c->snd_nxt, end)) {
        /* Not idle: data is moving; the RTO or persist timer watches it. */
        tcp_timer_set(c, TCP_TIMER_KEEPALIVE, tcp_after(c, tcp_opt_ka_idle_ns(c)));
        return;
    }
    uint64_t idle = now - c->last_rcv_ns;
    if (idle < tcp_opt_ka_idle_ns(c)) {
        tcp_timer_set(c, TCP_TIMER_KEEPALIVE, tcp_after(c, tcp_opt_ka_idle_ns(c) - idle));
        return;
    }
    /* Linux tcp_keepalive_timer: with TCP_USER_TIMEOUT set, the user
     * timeout replaces the probe count: give up once the connection has
     * been idle that long and at least one probe went unanswered. */
    bool give_up = tcp_opt_user_timeout_ns(c)
                       ? idle >= tcp_opt_user_timeout_ns(c) && c->ka_probes > 0
                       : c->ka_probes >= tcp_opt_ka_cnt(c);
    if (give_up) {
        /* Linux: tcp_send_active_reset, then tcp_write_err (RST first). */
        if (c->stack->profile->rst_on_keepalive_timeout)
            tcp_out_rst(c);
        tcp_conn_drop(c, TCP_ETIMEDOUT, TCP_CAUSE_TIMER, NULL, "keepalive timeout");
        return;
    }
    tcp_out_keepalive(c);
    if (c->ka_probes < UINT8_MAX)
        c->ka_probes++;
    tcp_timer_set(c, TCP_TIMER_KEEPALIVE, tcp_after(c, tcp_opt_ka_intvl_ns(c)));
}

/* An orphan's FIN_WAIT_2 limit. With fin_wait_2_idle (FreeBSD
 * tcp_timer_2msl) it counts idle time: "if (ticks - tp->t_rcvtime <=
 * TP_MAXIDLE(tp)) re-arm for TP_KEEPINTVL(tp); else close". */
static void on_fin_wait_2(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    uint64_t idle = c->stack->now - c->last_rcv_ns;
    if (p->fin_wait_2_idle && idle <= p->fin_wait_2_timeout_ns) {
        tcp_timer_set(c, TCP_TIMER_FIN_WAIT_2, tcp_after(c, tcp_opt_ka_intvl_ns(c)));
        return;
    }
    tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_TIMER, NULL, "FIN_WAIT_2 timeout");
}

/* RFC 9293 §3.8.6.3: the delayed ACK is due (Linux tcp_delack_timer_handler,
 * which changes the ATO: tcp_ato_delack_fired), or the ACK SACK compression
 * held (tcp_compressed_ack_kick, tcp_input.c sack_compress: the DELACK
 * deadline holds both). Either is sent while an ACK is scheduled: data
 * scheduled it (tcp_event_data_recv, and tcp_data_queue_ofo for the held
 * one), so tcp_send_ack -> tcp_event_ack_sent -> tcp_dec_quickack_mode
 * spends a quick ACK on it (since Linux 6.6 only when
 * inet_csk_ack_scheduled) and clears the delayed-ACK timer. The delayed
 * ACK's data moved RCV.NXT past the last ACK sent, which send_seg counts;
 * the held ACK repeats RCV.NXT, so it is marked as owed at once. */
static void on_delack(tcp_conn *c)
{
    bool held = tcp_comp_ack_fired(c);
    if (!held)
        tcp_ato_delack_fired(c);
    if (!tcp_state_synchronized(c->state))
        return;
    if (held)
        c->ack_now = true;
    tcp_out_ack(c);
}

static const char *const TIMER_NOTES[TCP_TIMER_COUNT] = {
    "RTO", "persist", "delayed ACK", "keepalive", "2MSL", "FIN_WAIT_2 timeout",
};

static void fire(tcp_conn *c, tcp_timer_kind k)
{
    bool tlp = k == TCP_TIMER_RTX && c->tlp_armed;
    const char *note = tlp ? "loss probe" : TIMER_NOTES[k];
    if (k == TCP_TIMER_DELACK && c->comp_timer)
        note = "compressed ACK";
    tcp_ev(c, TCP_EV_TIMER, (int)k, NULL, note);
    switch (k) {
    case TCP_TIMER_RTX:
        on_rtx(c);
        break;
    case TCP_TIMER_PERSIST:
        on_persist(c);
        break;
    case TCP_TIMER_DELACK:
        on_delack(c);
        break;
    case TCP_TIMER_KEEPALIVE:
        on_keepalive(c);
        break;
    case TCP_TIMER_TIME_WAIT:
        /* RFC 9293 §3.10.8 Time-Wait Timeout: "delete the TCB" (profile
         * closed_deletes_tcb) */
        tcp_conn_delete(c, TCP_CAUSE_TIMER, NULL, "2MSL timeout");
        break;
    case TCP_TIMER_FIN_WAIT_2:
        on_fin_wait_2(c);
        break;
    }
}

void tcp_timer_run(tcp_conn *c)
{
    uint64_t now = c->stack->now;
    for (int k = 0; k < TCP_TIMER_COUNT; k++) {
        if (tcp_timer_at(c, (tcp_timer_kind)k) > now)
            continue;
        tcp_timer_store(c, (tcp_timer_kind)k, TCP_NEVER);
        fire(c, (tcp_timer_kind)k);
        if (c->state == TCP_CLOSED || (c->passive && c->state == TCP_LISTEN))
            return;
    }
}
