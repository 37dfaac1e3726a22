/*
 * tcp_input — RFC 9293 §3.10.7 SEGMENT ARRIVES.
 *
 * One function per state group of the RFC (CLOSED §3.10.7.1, LISTEN
 * §3.10.7.2, SYN-SENT §3.10.7.3, the synchronized states §3.10.7.4), and for
 * the synchronized states one function per ordered step: check sequence
 * number, RST, (security), SYN, ACK, (URG), text, FIN. TIME-WAIT gets its own
 * function because its rules are profile data (RFC 1337, RFC 5961, RFC 1122
 * §4.2.2.13, and what Linux and BSD do). Later RFCs are cited where they
 * override RFC 9293.
 *
 * Segments reach these functions only after tcp_wire_parse accepted them.
 */
#include <assert.h>

#include "tcp_conn.h"

/* A segment's text and FIN after trimming to the receive window. */
typedef struct tcp_rx {
    const tcp_seg *seg; /* as received: flags, ACK, window; events point here */
    uint32_t seq;       /* first data octet kept */
    uint32_t len;
    const uint8_t *data;
    bool syn, fin;
    bool old; /* a retransmission whose ACK is processed (allowance) */
} tcp_rx;

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static void drop(tcp_conn *c, const tcp_seg *seg, const char *why)
{
    tcp_ev(c, TCP_EV_DROP, 0, seg, why);
}

/* RFC 9293 §3.7.1 MUST-16: "Eff.snd.MSS = min(SendMSS+20, MMS_S) -
 * TCPhdrsize - IPoptionsize", where TCPhdrsize "may be larger if TCP options
 * are to be sent": every data segment carries the 12-byte timestamp option
 * once timestamps are agreed (RFC 7323 §3.2), so 1460 becomes 1448 (Linux
 * tcp_current_mss, FreeBSD tcp_output subtract TCPOLEN_TSTAMP_APPA too).
 * MMS_S is our own MSS (interface MTU - 40). The result is never below the
 * profile's mss_floor (Linux tcp_min_snd_mss 48). The same size is our
 * estimate of the peer's full-sized segment (RFC 1122 §4.2.3.2). */
uint16_t tcp_eff_mss(const tcp_conn *c, uint32_t peer_mss)
{
    uint32_t mss = min32(peer_mss, c->mss);
    if (c->ts_ok)
        mss = mss > TCP_TS_OPT_LEN ? mss - TCP_TS_OPT_LEN : 1;
    uint32_t floor = c->stack->profile->mss_floor;
    return (uint16_t)(mss < floor ? floor : mss);
}

/* RFC 9293 §3.7.1 (MSS), RFC 7323 (window scale, timestamps), RFC 2018
 * (SACK-permitted): what the peer's SYN tells us. */
static void learn_syn(tcp_conn *c, const tcp_seg *seg)
{
    const tcp_profile *p = c->stack->profile;
    c->peer_wscale = seg->has_wscale;
    if (seg->has_wscale && p->send_wscale) {
        c->snd_wscale = seg->wscale > 14 ? 14 : seg->wscale; /* RFC 7323 §2.3 */
        c->rcv_wscale = tcp_rcv_wscale(c);
    }
    c->sack_ok = seg->has_sack_perm && p->send_sack_perm;
    c->ts_ok = seg->has_ts && p->send_timestamps;
    if (c->ts_ok)
        c->ts_recent = seg->ts_val;
    c->snd_mss = c->rcv_mss = tcp_eff_mss(c, seg->has_mss && seg->mss ? seg->mss : TCP_MSS_DEFAULT);
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->last_ack_sent = c->rcv_nxt;
    c->rcv_adv = c->rcv_nxt + tcp_syn_wnd(c); /* our SYN's window */
    c->snd_wnd = seg->wnd;                    /* never scaled in a SYN (RFC 7323 §2.2) */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    c->last_rcv_ns = c->stack->now;
    /* RFC 5681 §3.1 initial window, or the profile's (RFC 6928). */
    uint32_t smss = c->snd_mss;
    uint32_t segs = smss > 2190 ? 2 : smss > 1095 ? 3 : 4;
    c->cwnd = (p->init_cwnd_segs ? p->init_cwnd_segs : segs) * smss;
    c->ssthresh = UINT32_MAX;
}

/* An acknowledgment that covers the segment being timed (RFC 6298 §3). */
static void ack_rtt(tcp_conn *c, uint32_t ack)
{
    if (c->rtt_timing && tcp_seq_gt(ack, c->rtt_seq)) {
        c->rtt_timing = false;
        tcp_rtt_sample(c, c->stack->now - c->rtt_start_ns, ack);
    }
}

/* ---- CLOSED (§3.10.7.1) ------------------------------------------------ */

void tcp_input_no_conn(tcp_stack *s, const tcp_seg *seg)
{
    /* "An incoming segment containing a RST is discarded. An incoming
     * segment not containing a RST causes a RST to be sent in response." */
    if (seg->flags & TCP_RST) {
        tcp_ev_nosock(s, TCP_EV_DROP, seg, "RST for no connection");
        return;
    }
    tcp_ev_nosock(s, TCP_EV_DROP, seg, (seg->flags & TCP_SYN) ? "no listener" : "no connection");
    tcp_out_rst_reply(s, NULL, seg);
}

/* ---- LISTEN (§3.10.7.2) ------------------------------------------------- */

/* These rules work on the listener's record (tcp_ls): a listener holds
 * no sequence space, window or timer, so nothing else is read or written
 * here (tcp_stack_ls_take for a listener kept as a full connection). */

static void drop_ls(tcp_stack *s, tcp_ls *l, const tcp_seg *seg, const char *why)
{
    tcp_ev_ls(s, l, TCP_EV_DROP, 0, seg, why);
}

/* Whether a listener refuses a new SYN (profile backlog_model):
 * RFC: SYN_RECEIVED + unaccepted children >= max(backlog, 1).
 * Linux tcp_conn_request: the accept queue is full (sk_acceptq_is_full:
 * unaccepted > backlog, so backlog + 1 fit); the SYN queue itself never
 * refuses (syncookies take over, tcp_syncookies = 1).
 * FreeBSD: more than 3 * backlog / 2 unaccepted connections (sonewconn). */
static bool backlog_full(const tcp_stack *s, const tcp_lq *q)
{
    switch (s->profile->backlog_model) {
    case TCP_BACKLOG_LINUX:
        return q->acc_n > q->backlog;
    case TCP_BACKLOG_BSD:
        return q->syn_n + q->acc_n > 3 * (uint64_t)q->backlog / 2;
    default:
        return q->syn_n + q->acc_n >= (q->backlog ? q->backlog : 1);
    }
}

/* Linux tcp_v4_syn_recv_sock: the third ACK finds the accept queue full
 * (tcp_abort_on_overflow = 0): the ACK is dropped and the child stays in
 * SYN_RECEIVED, its SYN,ACK timer running. */
static bool accept_queue_full(const tcp_conn *c)
{
    if (c->stack->profile->backlog_model != TCP_BACKLOG_LINUX || !c->passive)
        return false;
    const tcp_lq *q = tcp_stack_parent_lq(c->stack, c->parent);
    return q && q->acc_n > q->backlog;
}

/* RFC 9293 §3.10.7.2 "third check for a SYN": a new connection for the
 * remote endpoint of seg, in LISTEN until its first transition, on l's
 * SYN queue; NULL (nothing left behind) when memory or ids run out. */
static tcp_conn *spawn_child(tcp_stack *s, tcp_ls *l, const tcp_seg *seg)
{
    tcp_conn *ch = tcp_conn_new(s);
    if (!ch)
        return NULL;
    /* Options are inherited from the listener (and the record of the
     * keepalive ones and the user timeout, tcp_conn_inherit_opts, below):
     * Linux clones the listener (sk_clone_lock: buffers and their locks,
     * SOCK_KEEPOPEN, linger, tp->nonagle with its cork bit, user_mss);
     * FreeBSD's sonewconn copies so_options and the buffer sizes, and
     * syncache_socket TF_NODELAY and TF_NOPUSH (its cork). */
    ch->sndbuf = l->sndbuf;
    ch->sndbuf_set = l->sndbuf_set;
    ch->rcvbuf = l->rcvbuf;
    ch->rcvbuf_set = l->rcvbuf_set;
    ch->mss = l->mss;
    ch->linger_zero = l->linger_zero;
    ch->keepalive = l->keepalive;
    ch->nodelay = l->nodelay;
    ch->cork = l->cork;
    ch->parent = l->id;
    ch->passive = true;
    ch->ever_used = true;
    ch->raddr = seg->src_addr;
    ch->rport = seg->src_port;
    tcp_state_init_child(ch);
    if (tcp_conn_inherit_opts(ch, l->opts) || tcp_stack_port_take(ch, l->lport) ||
        tcp_stack_hash(ch)) {
        tcp_stack_settle(ch); /* a passive child in LISTEN is reclaimed */
        return NULL;
    }
    ch->msl_set = l->msl_set; /* its value now in ch->opts, inherited above */
    ch->q_next = l->lq->syn_q;
    l->lq->syn_q = ch;
    l->lq->syn_n++;
    ch->in_syn_q = true;
    return ch;
}

/* A SYN for listener l (RFC 9293 §3.10.7.2, third check); isn is the ISN
 * to use when has_isn (a SYN that reopened a TIME-WAIT connection, RFC
 * 1122 §4.2.2.13). */
static void in_listen_syn(tcp_stack *s, tcp_ls *l, const tcp_seg *seg, bool has_isn, uint32_t isn)
{
    if (backlog_full(s, l->lq)) {
        drop_ls(s, l, seg, "backlog full");
        if (s->profile->backlog_full == TCP_BACKLOG_RST)
            tcp_out_rst_reply_ls(s, l, seg);
        return;
    }
    tcp_conn *ch = spawn_child(s, l, seg);
    if (!ch) { /* the trace names which: ids are never reused (tcp.h rule 2) */
        drop_ls(s, l, seg, s->next_id ? "out of memory" : "out of socket ids");
        return;
    }
    /* "Set IRS to SEG.SEQ ..., ISS should be selected": the listener's
     * TCP_OPT_ISN once (it is the next SYN,ACK's), else RFC 6528. */
    if (!has_isn && l->isn_set) {
        l->isn_set = false;
        isn = l->opts->isn;
    } else if (!has_isn) {
        isn = tcp_conn_isn_hash(ch);
    }
    tcp_conn_init_seq(ch, isn);
    learn_syn(ch, seg);
    /* Text on the SYN is not kept: it is not acknowledged and the peer
     * sends it again (RFC 9293 allows queuing it; Linux drops it too). */
    tcp_set_state(ch, TCP_SYN_RECEIVED, TCP_CAUSE_SEGMENT, seg, "rcv SYN");
    tcp_out_syn(ch, false);
    tcp_stack_settle(ch);
}

static void in_listen(tcp_stack *s, tcp_ls *l, const tcp_seg *seg)
{
    /* RFC 9293 §3.10.7.2 "first check for an RST: An incoming RST segment
     * could not be valid ... it should be ignored." */
    if (seg->flags & TCP_RST) {
        drop_ls(s, l, seg, "RST in LISTEN");
        return;
    }
    /* §3.10.7.2 "second check for an ACK: ... an acceptable reset segment
     * should be formed for any arriving ACK-bearing segment:
     * <SEQ=SEG.ACK><CTL=RST>" */
    if (seg->flags & TCP_ACK) {
        drop_ls(s, l, seg, "ACK in LISTEN");
        tcp_out_rst_reply_ls(s, l, seg);
        return;
    }
    /* §3.10.7.2 "fourth other text or control: ... drop the segment and
     * return." */
    if (!(seg->flags & TCP_SYN)) {
        drop_ls(s, l, seg, "no SYN");
        return;
    }
    /* §3.10.7.2 third check: a FIN with the SYN is "queued for processing
     * later after the ESTABLISHED state has been reached" (FreeBSD answers
     * the SYN alike, drop_synfin = 0); Linux tcp_rcv_state_process drops
     * the segment (profile listen_drop_syn_fin). */
    if ((seg->flags & TCP_FIN) && s->profile->listen_drop_syn_fin) {
        drop_ls(s, l, seg, "SYN with FIN");
        return;
    }
    in_listen_syn(s, l, seg, false, 0);
}

void tcp_input_listen(tcp_stack *s, tcp_sk *e, const tcp_seg *seg)
{
    tcp_ls tmp;
    tcp_ls *l = tcp_stack_ls_take(e, &tmp);
    l->stats.segs_in++;
    l->stats.bytes_in += seg->len;
    tcp_ev_ls(s, l, TCP_EV_SEG_IN, 0, seg, NULL);
    in_listen(s, l, seg);
    tcp_stack_ls_settle(s, e, l);
}

/* A SYN that ended TIME-WAIT goes to listener e with the ISN the old
 * connection leaves (RFC 1122 §4.2.2.13). */
static void listen_reopen(tcp_stack *s, tcp_sk *e, const tcp_seg *seg, uint32_t isn)
{
    tcp_ls tmp;
    tcp_ls *l = tcp_stack_ls_take(e, &tmp);
    l->stats.segs_in++;
    tcp_ev_ls(s, l, TCP_EV_SEG_IN, 0, seg, NULL);
    in_listen_syn(s, l, seg, true, isn);
    tcp_stack_ls_put(e, l);
}

/* ---- SYN-SENT (§3.10.7.3) --------------------------------------------- */

static void on_text(tcp_conn *c, const tcp_rx *r);
static void on_fin(tcp_conn *c, const tcp_rx *r);
static void ato_ack_decide(tcp_conn *c);
static void ato_established(tcp_conn *c, uint64_t last);
static void ato_enter_quickack(tcp_conn *c);

static void syn_sent_established(tcp_conn *c, const tcp_seg *seg)
{
    ack_rtt(c, seg->ack);
    c->snd_una = seg->ack;
    c->snd_wl2 = seg->ack;
    tcp_timer_stop(c, TCP_TIMER_RTX);
    tcp_set_state(c, TCP_ESTABLISHED, TCP_CAUSE_SEGMENT, seg, "rcv SYN,ACK");
    tcp_sndbuf_expand(c);
    tcp_rcv_init_space(c);
    ato_established(c, c->stack->now); /* tcp_finish_connect */
    c->ack_now = true;
    /* "If there are other controls or text in the segment, then continue
     * processing at the sixth step" — text and FIN, within our window. */
    tcp_rx r = {
        .seg = seg,
        .seq = seg->seq + 1, /* the SYN is taken; the text starts after it */
        .len = seg->len,
        .data = seg->payload,
        .syn = false,
        .fin = (seg->flags & TCP_FIN) != 0,
        .old = false,
    };
    uint32_t wnd = tcp_rcv_wnd(c);
    if (r.len > wnd) {
        r.len = wnd;
        r.fin = false;
    }
    on_text(c, &r);
    if (c->state == TCP_ESTABLISHED)
        on_fin(c, &r);
    ato_ack_decide(c);
    tcp_output(c);
}

/* Linux tcp_rcv_synsent_state_process: an unacceptable ACK in SYN-SENT
 * ("Previous FIN/ACK or RST/ACK might be ignored") re-arms the
 * retransmission timer at TCP_TIMEOUT_MIN when no SYN has been
 * retransmitted yet, so the SYN goes again at once; its expiry counts as
 * an RTO (backoff, retry limit). Profile syn_bad_ack_rexmit_ns; 0: the RTO
 * runs on (RFC 9293 §3.10.7.3 only drops the segment). */
static void syn_sent_bad_ack_rexmit(tcp_conn *c)
{
    uint64_t d = c->stack->profile->syn_bad_ack_rexmit_ns;
    if (d && c->retries == 0)
        tcp_timer_set(c, TCP_TIMER_RTX, tcp_after(c, d));
}

static void in_syn_sent(tcp_conn *c, const tcp_seg *seg)
{
    bool ack = seg->flags & TCP_ACK;
    /* "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST
     * bit is set, if so drop the segment and return)" */
    if (ack && (tcp_seq_le(seg->ack, c->iss) || tcp_seq_gt(seg->ack, c->snd_max))) {
        drop(c, seg, "bad ack");
        if (!(seg->flags & TCP_RST))
            tcp_out_rst_reply(c->stack, c, seg);
        syn_sent_bad_ack_rexmit(c);
        return;
    }
    if (seg->flags & TCP_RST) {
        /* RFC 5961 §3.2: in SYN-SENT an RST is acceptable if it
         * acknowledges the SYN. */
        if (ack)
            tcp_conn_drop(c, TCP_ECONNREFUSED, TCP_CAUSE_SEGMENT, seg, "rcv RST");
        else
            drop(c, seg, "RST without ACK");
        return;
    }
    if (!(seg->flags & TCP_SYN)) {
        drop(c, seg, "no SYN");
        return;
    }
    learn_syn(c, seg);
    if (ack) {
        syn_sent_established(c, seg);
        return;
    }
    /* Simultaneous open (§3.5 Figure 8): "enter SYN-RECEIVED, form a SYN,ACK
     * segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it". */
    tcp_set_state(c, TCP_SYN_RECEIVED, TCP_CAUSE_SEGMENT, seg, "rcv SYN");
    tcp_out_syn(c, false);
}

/* ---- Synchronized states (§3.10.7.4) ------------------------------------- */

/* RFC 2883 §4 (profile dsack): octets of a segment at seq received before,
 * below RCV.NXT: len data octets, seglen counting its FIN. Linux
 * tcp_dsack_set(seq, end_seq), end_seq counting the FIN, cut at rcv_nxt
 * (tcp_send_dupack, tcp_data_queue: old or "Partial packet"). FreeBSD
 * tcp_do_segment's todrop counts data octets only and sets TF_ACKNOW ("ACK
 * now, as the next in-sequence segment will clear the DSACK block"). */
static void dsack_old(tcp_conn *c, uint32_t seq, uint32_t len, uint32_t seglen)
{
    tcp_dsack_rule rule = c->stack->profile->dsack;
    uint32_t end = seq + (rule == TCP_DSACK_LINUX ? seglen : len);
    if (rule == TCP_DSACK_NONE || !tcp_sack_agreed(c) || end == seq)
        return;
    if (tcp_seq_gt(end, c->rcv_nxt))
        end = c->rcv_nxt;
    tcp_dsack_set(c, seq, end);
    if (rule == TCP_DSACK_BSD)
        c->ack_now = true;
}

static bool seg_acceptable(const tcp_conn *c, uint32_t seq, uint32_t seglen)
{
    uint32_t wnd = tcp_rcv_wnd(c);
    uint32_t lo = c->rcv_nxt, hi = c->rcv_nxt + wnd;
    if (seglen == 0)
        return wnd == 0 ? seq == lo : tcp_seq_in(seq, lo, hi);
    if (wnd == 0)
        return false;
    return tcp_seq_in(seq, lo, hi) || tcp_seq_in(seq + seglen - 1, lo, hi);
}

/* Segments the acceptability test refuses but whose control part is still
 * processed; the text is dropped and an ACK goes back. */
static bool allowance(tcp_conn *c, tcp_rx *r, uint32_t seglen)
{
    const tcp_profile *p = c->stack->profile;
    if (tcp_rcv_wnd(c) == 0 && r->seq == c->rcv_nxt) {
        /* "If the RCV.WND is zero, no segments will be acceptable, but
         * special allowance should be made to accept valid ACKs, URGs, and
         * RSTs": keep the control part, answer with our window. Linux
         * tcp_data_queue also takes a bare FIN at a zero window ("Some
         * stacks are known to send bare FIN packets in a loop"), and drops
         * data there (SKB_DROP_REASON_TCP_ZEROWINDOW) into out_of_window,
         * which enters quickack mode and schedules the ACK. FreeBSD
         * tcp_do_segment takes that bare FIN too (its tail trim, todrop =
         * th_seq + tlen - (rcv_nxt + rcv_wnd), is 0 with no data); data
         * there is all beyond the window, dropped with the FIN, and
         * answered at once (tcps_rcvwinprobe, TF_ACKNOW). With
         * beyond_window_drop such data or FIN gets here only with nothing
         * left unread (beyond_window, above). */
        if (r->len)
            ato_enter_quickack(c);
        r->fin = r->fin && r->len == 0 && p->zero_window_fin;
        r->len = 0;
        c->ack_now = true;
        return true;
    }
    if (p->old_segment_ack && !r->syn && tcp_seq_le(r->seq + seglen, c->rcv_nxt) &&
        tcp_seq_ge(r->seq + seglen, c->last_ack_sent)) {
        /* A retransmission ending at RCV.NXT (a FIN whose ACK was lost):
         * its ACK field is processed and an ACK sent (Linux tcp_sequence
         * accepts end_seq >= rcv_wup; FreeBSD "keep on processing for RST
         * or ACK"); RFC 9293 Appendix A.2 notes the strict rule's cost.
         * Old data or FIN: quickack mode (tcp_data_queue, "A retransmit,
         * 2nd most common case. Force an immediate ack."). */
        if (seglen)
            ato_enter_quickack(c);
        /* Linux tcp_data_queue: tcp_dsack_set(seq, end_seq); FreeBSD todrop */
        dsack_old(c, r->seq, r->len, seglen);
        r->seq = c->rcv_nxt;
        r->len = 0;
        r->fin = false;
        r->old = true;
        c->ack_now = true;
        return true;
    }
    return false;
}

/* A segment's text, SYN and FIN as received, before any trimming. */
static tcp_rx rx_from_seg(const tcp_seg *seg)
{
    return (tcp_rx){
        .seg = seg,
        .seq = seg->seq,
        .len = seg->len,
        .data = seg->payload,
        .syn = (seg->flags & TCP_SYN) != 0,
        .fin = (seg->flags & TCP_FIN) != 0,
        .old = false,
    };
}

/* RFC 9293 §3.10.7.4, first step, in SYN-RECEIVED: a segment carrying the
 * SYN already received (SEG.SEQ = IRS). Returns false if it was answered
 * and dropped; otherwise its SYN is taken off r. */
static bool syn_received_old_syn(tcp_conn *c, tcp_rx *r)
{
    if (!(r->seg->flags & TCP_ACK) && c->passive) {
        /* The peer's SYN again: our SYN,ACK was lost (Linux and BSD
         * answer it at once instead of waiting for our RTO). */
        drop(c, r->seg, "retransmitted SYN");
        tcp_out_syn(c, true);
        return false;
    }
    /* Simultaneous open: the SYN,ACK acknowledges our SYN; its SYN is
     * the one already received (Linux's tcp_validate_incoming). That
     * SYN is old, so an ACK goes back: Table 6 finds the segment not
     * acceptable ("an acknowledgment should be sent in reply"), Linux
     * tcp_data_queue sends an immediate ACK for a segment ending at
     * RCV.NXT, FreeBSD tcp_do_segment sets TF_ACKNOW when it trims
     * the SYN. */
    r->syn = false;
    r->seq++;
    c->ack_now = true;
    if (!c->passive)
        ato_enter_quickack(c);
    return true;
}

/* RFC 9293 §3.10.7.4, first step, after Table 6 accepted the segment: "If a
 * segment's contents straddle the boundary between old and new, only the
 * new parts are processed", and what lies beyond the window (the FIN
 * included: SEG.LEN counts it) is trimmed off, so r begins at RCV.NXT and
 * ends in the window. With edge_fin the FIN takes no room there: FreeBSD
 * tcp_do_segment trims the tail by "todrop = (th_seq + tlen) - (rcv_nxt +
 * rcv_wnd)", tlen counting data octets only, and clears TH_FIN only when
 * todrop > 0, so a FIN right after data ending at the right edge stays. */
static void trim_to_window(const tcp_conn *c, tcp_rx *r)
{
    if (tcp_seq_lt(r->seq, c->rcv_nxt)) { /* already received: trim the front */
        uint32_t d = c->rcv_nxt - r->seq;
        assert(d <= r->len);
        r->data += d;
        r->len -= d;
        r->seq = c->rcv_nxt;
    }
    uint32_t right = c->rcv_nxt + tcp_rcv_wnd(c);
    if (tcp_seq_gt(r->seq + r->len, right)) { /* beyond the window: trim the tail */
        r->len = right - r->seq;
        r->fin = false;
    } else if (r->fin && !tcp_seq_lt(r->seq + r->len, right) && !c->stack->profile->edge_fin) {
        r->fin = false;
    }
}

/* Linux 6.17 tcp_sequence ("tcp: do not accept packets beyond window"):
 * a segment that starts in the window (or before it) but ends beyond it
 * is refused whole, its ACK field and FIN included, while the receive
 * queue holds bytes (SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE; with the
 * queue empty it passes, "to not freeze flows from buggy peers"). One
 * that starts beyond the window is out of it whatever the queue
 * (SKB_DROP_REASON_TCP_INVALID_SEQUENCE): Table 6 refuses it anyway. RFC
 * 9293 §3.10.7.4 instead processes the part in the window and trims the
 * rest; a zero window's allowance keeps the control part. Data into a
 * zero window and a bare FIN there end beyond it too. An RST is refused as
 * any other (tcp_validate_incoming drops it silently), a SYN with it too;
 * a SYN without RST goes on to the fourth step, whose challenge ACK is the
 * one Linux sends for a refused SYN (syn_challenge). */
static bool beyond_window(const tcp_conn *c, const tcp_rx *r, uint32_t seglen)
{
    uint32_t right = c->rcv_nxt + tcp_rcv_wnd(c);
    bool syn_alone = r->syn && !(r->seg->flags & TCP_RST);
    return c->stack->profile->beyond_window_drop && c->rcvq.len > 0 && !syn_alone &&
           tcp_seq_gt(r->seq + seglen, right) && !tcp_seq_gt(r->seq, right);
}

/* An RST at RCV.NXT - 1, the octet the peer's FIN took, after that FIN
 * (CLOSE-WAIT, CLOSING, LAST-ACK). RFC 9293 §3.10.7.4 finds it outside
 * the window and drops it (RFC 5961 §3.2: "silently discard"). Linux
 * tcp_validate_incoming resets instead (tcp_reset_check), whether
 * tcp_sequence refused the RST (its end is before rcv_wup once the FIN's
 * ACK went out: the out-of-window branch resets) or passed it (the second
 * step: seq == rcv_nxt || tcp_reset_check): profile rst_at_fin. */
static bool rst_at_fin(const tcp_conn *c, const tcp_seg *seg)
{
    bool after_fin =
        c->state == TCP_CLOSE_WAIT || c->state == TCP_CLOSING || c->state == TCP_LAST_ACK;
    return c->stack->profile->rst_at_fin && (seg->flags & TCP_RST) && after_fin &&
           seg->seq == c->rcv_nxt - 1;
}

/* Linux's third reset case (tcp_validate_incoming: "RFC 5961 3.2 (extend
 * to match against (RCV.NXT - 1) after a FIN and SACK too if available)"):
 * with SACK blocks to send (tcp_is_sack, num_sacks > 0), an RST at the
 * highest right edge among them resets; RFC 5961 §3.2 and FreeBSD answer
 * it with a challenge ACK, as any in-window RST not at RCV.NXT. Profile
 * rst_sack_edge. That edge is the window's right edge when all of a window
 * but its head is held (the peer's SND.NXT, so where its RST lies):
 * tcp_sequence takes a segment of no length there (!after(end_seq,
 * rcv_nxt + tcp_receive_window)) where Table 6 refuses it, so check_seq
 * lets such an RST through as it does rst_at_fin's. */
static bool rst_at_sack_edge(const tcp_conn *c, const tcp_seg *seg)
{
    uint32_t edge;
    return c->stack->profile->rst_sack_edge && (seg->flags & TCP_RST) &&
           tcp_sack_highest_edge(c, &edge) && seg->seq == edge;
}

/* RFC 9293 §3.10.7.4, first step, "check sequence number": "Segments are
 * processed in sequence." Table 6 (seg_acceptable) decides acceptability,
 * with the allowances above; "If an incoming segment is not acceptable, an
 * acknowledgment should be sent in reply (unless the RST bit is set ...)".
 * Returns false if the segment was answered and dropped; otherwise r is
 * the part of it to process. */
static bool check_seq(tcp_conn *c, const tcp_seg *seg, tcp_rx *r)
{
    *r = rx_from_seg(seg);
    if (c->state == TCP_SYN_RECEIVED && r->syn && seg->seq == c->irs && !syn_received_old_syn(c, r))
        return false;
    if (rst_at_fin(c, seg))
        return true; /* the second step resets */
    if (rst_at_sack_edge(c, seg) && tcp_seq_le(seg->seq, c->rcv_nxt + tcp_rcv_wnd(c)))
        return true; /* the second step resets, at the window's right edge too */
    uint32_t seglen = r->len + r->syn + r->fin;
    bool beyond = beyond_window(c, r, seglen);
    if (!beyond && seg_acceptable(c, r->seq, seglen)) {
        if (!r->syn && tcp_seq_lt(r->seq, c->rcv_nxt)) /* Linux "Partial packet"; todrop */
            dsack_old(c, r->seq, c->rcv_nxt - r->seq, c->rcv_nxt - r->seq);
        if (!r->syn) /* a SYN goes to the fourth step whole */
            trim_to_window(c, r);
        return true;
    }
    if (!beyond && allowance(c, r, seglen))
        return true;
    drop(c, seg, beyond ? "beyond window, bytes unread" : "out of window");
    if (seg->flags & TCP_RST)
        return false;
    /* Linux tcp_send_dupack: a segment that starts before RCV.NXT and
     * holds data or a FIN was sent again because our ACK was lost or
     * late: quickack mode (LINUX_MIB_DELAYEDACKLOST). A SYN goes to the
     * challenge ACK instead (tcp_validate_incoming: syn_challenge). */
    if (seglen && !r->syn && tcp_seq_lt(r->seq, c->rcv_nxt)) {
        ato_enter_quickack(c);
        dsack_old(c, r->seq, r->len, seglen); /* tcp_send_dupack; FreeBSD todrop */
    }
    tcp_out_unacceptable_ack(c, seg);
    return false;
}

/* RFC 9293 §3.10.7.4, second step, "check the RST bit", with RFC 5961 §3.2: "If the
 * RST bit is set and the sequence number exactly matches the next expected
 * sequence value, the TCP endpoint MUST reset the connection"; otherwise
 * (in the window) a challenge ACK. */
/* The end of a passive SYN_RECEIVED that an RST or SYN ends. RFC 9293
 * §3.10.7.4 "return this connection to LISTEN state": its one TCB came from
 * the passive OPEN. Linux and FreeBSD keep the embryonic connection apart
 * from the listener, which never left LISTEN, and drop it (tcp_check_req
 * → inet_csk_reqsk_queue_drop; syncache_chkrst → syncache_drop): profile
 * embryo_reset_closed shows that child CLOSED. The listener is the same
 * either way, and so are the segments. */
static void embryo_end(tcp_conn *c, const tcp_seg *seg, const char *note)
{
    tcp_state to = c->stack->profile->embryo_reset_closed ? TCP_CLOSED : TCP_LISTEN;
    tcp_set_state(c, to, TCP_CAUSE_SEGMENT, seg, note);
}

static void on_rst(tcp_conn *c, const tcp_seg *seg)
{
    bool embryo = c->state == TCP_SYN_RECEIVED && c->passive;
    if (embryo && c->stack->profile->syn_recv_rules == TCP_SYN_RECV_LINUX) {
        /* Linux tcp_check_req: any in-window RST goes to embryonic_reset,
         * which drops the request without a challenge ACK. */
        embryo_end(c, seg, "rcv RST");
        return;
    }
    if (seg->seq != c->rcv_nxt && !rst_at_fin(c, seg) && !rst_at_sack_edge(c, seg)) {
        /* In the window but not exactly RCV.NXT: challenge ACK. */
        drop(c, seg, "RST not at RCV.NXT");
        tcp_out_challenge_ack(c);
        return;
    }
    switch (c->state) {
    case TCP_SYN_RECEIVED:
        if (c->passive) /* "return this connection to LISTEN state" */
            embryo_end(c, seg, "rcv RST");
        else
            tcp_conn_drop(c, TCP_ECONNREFUSED, TCP_CAUSE_SEGMENT, seg, "rcv RST");
        break;
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
        tcp_conn_drop(c, TCP_ECONNRESET, TCP_CAUSE_SEGMENT, seg, "rcv RST");
        break;
    case TCP_CLOSE_WAIT:
        /* "any outstanding RECEIVEs and SEND should receive 'reset'
         * responses"; Linux tcp_reset gives EPIPE here (profile
         * rst_close_wait_epipe). */
        tcp_conn_drop(c, c->stack->profile->rst_close_wait_epipe ? TCP_EPIPE : TCP_ECONNRESET,
                      TCP_CAUSE_SEGMENT, seg, "rcv RST");
        break;
    default:
        /* CLOSING, LAST-ACK: "enter the CLOSED state, delete the TCB, and
         * return", no signal (RFC 9293 §3.10.7.4). A user who shut only the
         * send side still holds the socket: Linux tcp_reset leaves
         * ECONNRESET for any state but SYN_SENT, CLOSE_WAIT and CLOSE,
         * FreeBSD tcp_do_segment so_error = ECONNRESET through LAST_ACK
         * (profile rst_closing_reset). */
        tcp_conn_drop(c, c->stack->profile->rst_closing_reset ? TCP_ECONNRESET : 0,
                      TCP_CAUSE_SEGMENT, seg, "rcv RST");
        break;
    }
}

/* RFC 9293 §3.10.7.4, fourth step, "check the SYN bit": in SYN-RECEIVED of a passive
 * OPEN "return this connection to the LISTEN state and return"; in the
 * synchronized states (RFC 5961 §4.2) "the TCP endpoint MUST send a
 * 'challenge ACK' to the remote peer". */
static void on_syn(tcp_conn *c, const tcp_seg *seg)
{
    if (c->state == TCP_SYN_RECEIVED && c->passive) {
        switch (c->stack->profile->syn_recv_rules) {
        case TCP_SYN_RECV_LINUX:
            /* tcp_check_req: "if (flg & TCP_FLAG_SYN) goto embryonic_reset",
             * which answers with a reset and drops the request. */
            tcp_out_rst_reply(c->stack, c, seg);
            break;
        case TCP_SYN_RECV_BSD:
            /* The syncache entry stays; the SYN,ACK is sent again. */
            drop(c, seg, "SYN in SYN_RECEIVED");
            tcp_out_syn(c, true);
            return;
        default: /* "return this connection to the LISTEN state and return" */
            break;
        }
        embryo_end(c, seg, "rcv SYN");
        return;
    }
    drop(c, seg, "SYN in synchronized state");
    tcp_out_challenge_ack(c);
}

static void to_accept_queue(tcp_conn *c)
{
    tcp_lq *q = tcp_stack_parent_lq(c->stack, c->parent);
    if (!q || !c->in_syn_q)
        return;
    tcp_conn **pp = &q->syn_q;
    while (*pp != c)
        pp = &(*pp)->q_next;
    *pp = c->q_next;
    q->syn_n--;
    c->in_syn_q = false;
    c->q_next = NULL;
    if (q->acc_tail)
        q->acc_tail->q_next = c;
    else
        q->acc_head = c;
    q->acc_tail = c;
    q->acc_n++;
    c->in_accept_q = true;
}

/* RFC 5681 §2: a duplicate ACK, and §3.2 fast retransmit / RFC 6582. */
static void on_dup_ack(tcp_conn *c, const tcp_seg *seg)
{
    uint32_t wnd = (uint32_t)seg->wnd << c->snd_wscale;
    bool dup = c->snd_max != c->snd_una && seg->len == 0 && !(seg->flags & (TCP_SYN | TCP_FIN)) &&
               wnd == c->snd_wnd && c->snd_wnd > 0;
    if (!dup)
        return;
    c->stats.dup_acks_in++;
    if (c->dupacks < UINT8_MAX)
        c->dupacks++;
    if (c->in_recovery) {
        c->cwnd += c->snd_mss; /* inflate: a segment left the network */
        return;
    }
    if (c->dupacks != 3)
        return;
    /* RFC 6582 §3.2 step 2: enter fast retransmit only if the cumulative
     * acknowledgment "covers more than recover" (FreeBSD: SEQ_GT(th_ack,
     * snd_recover)); duplicates left over from the last recovery do not
     * start another one. */
    if (!tcp_seq_gt(c->snd_una, c->recover))
        return;
    uint32_t half = (c->snd_max - c->snd_una) / 2;
    c->ssthresh = half > 2u * c->snd_mss ? half : 2u * c->snd_mss;
    c->recover = c->snd_max;
    c->in_recovery = true;
    tcp_out_retransmit_first(c);
    c->cwnd = c->ssthresh + 3u * c->snd_mss;
}

static void on_new_ack(tcp_conn *c, uint32_t ack)
{
    /* The SYN's sequence number is not data: it grows no window (Linux
     * FLAG_SYN_ACKED is not counted as delivered). */
    uint32_t acked = ack - c->snd_una - (c->snd_una == c->iss ? 1u : 0u);
    ack_rtt(c, ack);
    uint32_t end = tcp_snd_data_end(c);
    uint32_t upto = tcp_seq_lt(ack, end) ? ack : end;
    if (tcp_seq_gt(upto, c->snd_buf_seq)) {
        tcp_sndq_consume(c, upto - c->snd_buf_seq);
        c->snd_buf_seq = upto;
    }
    c->snd_una = ack;
    if (tcp_seq_lt(c->snd_nxt, ack))
        c->snd_nxt = ack;
    c->retries = 0;
    c->dupacks = 0;
    if (c->in_recovery && tcp_seq_lt(ack, c->recover)) {
        /* RFC 6582 §3.2 (5): partial ACK, retransmit the next hole. */
        tcp_out_retransmit_first(c);
        c->cwnd = (c->cwnd > acked ? c->cwnd - acked : 0) + c->snd_mss;
    } else if (c->in_recovery) {
        c->in_recovery = false;
        c->cwnd = c->ssthresh;
    } else if (c->cwnd < c->ssthresh) {
        /* Slow start. RFC 5681 §3.1: cwnd += min(N, SMSS) per ACK. Linux
         * tcp_slow_start: "cwnd = min(cwnd + acked, ssthresh)", acked in
         * whole segments, so a stretch ACK counts every segment it covers.
         * Not modelled (docs/stack.md): what passes ssthresh, which
         * tcp_reno_cong_avoid hands on to tcp_cong_avoid_ai, stops here;
         * and growth is not held to tcp_is_cwnd_limited. */
        if (c->stack->profile->ss_full_ack) {
            c->cwnd += acked;
            if (c->cwnd > c->ssthresh)
                c->cwnd = c->ssthresh;
        } else {
            c->cwnd += min32(acked, c->snd_mss);
        }
    } else {
        uint32_t inc = (uint32_t)((uint64_t)c->snd_mss * c->snd_mss / c->cwnd);
        c->cwnd += inc ? inc : 1; /* congestion avoidance */
    }
    if (c->cwnd > TCP_BUF_MAX)
        c->cwnd = TCP_BUF_MAX;
    /* Linux tcp_process_tlp_ack: the probe's episode ends once SND.NXT at
     * the probe is acknowledged. */
    if (c->tlp_out && tcp_seq_ge(ack, c->tlp_high_seq))
        c->tlp_out = false;
    /* RFC 6298 §5.2 - §5.3; with tlp the loss probe (Linux tcp_set_xmit_timer). */
    if (c->snd_una == c->snd_max)
        tcp_timer_stop(c, TCP_TIMER_RTX);
    else if (!c->probing)
        tcp_timer_rtx_or_pto(c, true);
}

/* The window opened: probing ends, the backoff that timed the probes goes
 * (RFC 9293 §3.8.6.1; Linux tcp_ack_probe clears icsk_backoff). */
static void zwp_window_open(tcp_conn *c)
{
    c->probing = false;
    c->persist_backoff = 0;
    tcp_timer_stop(c, TCP_TIMER_PERSIST);
    if (c->snd_una != c->snd_max)
        tcp_timer_restart_rtx(c);
}

/* Does the window admit the head of the unsent queue, one segment of at
 * most SND.MSS with the FIN if it ends the data (Linux tcp_ack_probe:
 * !after(TCP_SKB_CB(head)->end_seq, tcp_wnd_end(tp)))? */
static bool zwp_head_fits(const tcp_conn *c)
{
    uint32_t unsent = tcp_snd_data_end(c) - c->snd_nxt;
    uint32_t n = min32(unsent, c->snd_mss);
    uint32_t end = c->snd_nxt + n + (c->fin_queued && n == unsent ? 1u : 0u);
    return !tcp_seq_gt(end, c->snd_una + c->snd_wnd);
}

/* Profile zwp_ack_rearm (Linux tcp_ack -> tcp_ack_probe, for every
 * acceptable ACK with nothing in flight): the window counts as open only
 * once the head segment fits; until then the probe timer restarts from
 * this ACK with the backed-off interval (tcp_probe0_when), so a late
 * answer delays the next probe. The other profiles leave the timer where
 * the probe set it (FreeBSD tcp_output arms tcp_setpersist only while
 * TT_PERSIST is not active). */
static void zwp_ack_probe(tcp_conn *c)
{
    if (!c->stack->profile->zwp_ack_rearm || c->cork_wait || tcp_flight(c) ||
        tcp_timer_at(c, TCP_TIMER_PERSIST) == TCP_NEVER)
        return;
    if (zwp_head_fits(c))
        zwp_window_open(c);
    else
        tcp_timer_persist_rearm(c);
}

static void update_window(tcp_conn *c, const tcp_seg *seg)
{
    /* "If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)),
     * set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <-
     * SEG.ACK." */
    if (!(tcp_seq_lt(c->snd_wl1, seg->seq) ||
          (c->snd_wl1 == seg->seq && tcp_seq_le(c->snd_wl2, seg->ack))))
        return;
    c->snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    if (c->snd_wnd > c->max_snd_wnd)
        c->max_snd_wnd = c->snd_wnd;
    if (c->stack->profile->zwp_ack_rearm)
        return; /* zwp_ack_probe judges the window */
    if (c->snd_wnd > 0 && (c->probing || tcp_timer_at(c, TCP_TIMER_PERSIST) != TCP_NEVER))
        zwp_window_open(c);
}

/* RFC 9293 §3.10.7.4, fifth step, in SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT,
 * then enter ESTABLISHED state and continue processing". Returns false to
 * stop. */
static bool ack_syn_received(tcp_conn *c, const tcp_seg *seg)
{
    /* "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state ...
     * If the segment acknowledgment is not acceptable, form a reset segment
     * <SEQ=SEG.ACK><CTL=RST> and send it." */
    if (!(tcp_seq_lt(c->snd_una, seg->ack) && tcp_seq_le(seg->ack, c->snd_max))) {
        drop(c, seg, "bad ack");
        tcp_out_rst_reply(c->stack, c, seg);
        return false;
    }
    if (accept_queue_full(c)) {
        drop(c, seg, "accept queue full");
        return false;
    }
    c->snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
    if (c->snd_wnd > c->max_snd_wnd)
        c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    to_accept_queue(c);
    tcp_set_state(c, TCP_ESTABLISHED, TCP_CAUSE_SEGMENT, seg, "rcv ACK of SYN");
    tcp_sndbuf_expand(c);
    tcp_rcv_init_space(c);
    /* tcp_create_openreq_child; nothing after a simultaneous open */
    ato_established(c, c->passive ? c->stack->now : TCP_NEVER);
    return true;
}

/* RFC 9293 §3.10.7.4, fifth step, "check the ACK field": "If SND.UNA < SEG.ACK =<
 * SND.NXT, then set SND.UNA <- SEG.ACK ... If the ACK is a duplicate
 * (SEG.ACK =< SND.UNA), it can be ignored. If the ACK acks something not
 * yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and
 * return." Then the state's own rule (FIN-WAIT-1, CLOSING, LAST-ACK).
 * Returns false if the segment was dropped. */
static bool on_ack(tcp_conn *c, const tcp_seg *seg)
{
    if (c->state == TCP_SYN_RECEIVED && !ack_syn_received(c, seg))
        return false;
    uint32_t ack = seg->ack;
    /* RFC 5961 §5.2: acceptable if SND.UNA - MAX.SND.WND =< SEG.ACK =<
     * SND.NXT; otherwise send an ACK and drop. */
    if (tcp_seq_gt(ack, c->snd_max)) {
        drop(c, seg, "ACK of unsent data");
        tcp_out_oow_ack(c);
        return false;
    }
    if (tcp_seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
        drop(c, seg, "ACK too old");
        tcp_out_oow_ack(c);
        return false;
    }
    c->persist_unanswered = 0;
    if (tcp_seq_gt(ack, c->snd_una))
        on_new_ack(c, ack);
    else if (ack == c->snd_una)
        on_dup_ack(c, seg);
    if (tcp_seq_ge(ack, c->snd_una)) {
        update_window(c, seg);
        zwp_ack_probe(c);
    }
    /* The state-specific part of the fifth step. Processing goes on in
     * every case: the text and FIN steps ignore the states they do not
     * apply to, and the common exit sends what the ACK made sendable. */
    if (!tcp_fin_acked(c))
        return true;
    switch (c->state) {
    case TCP_FIN_WAIT_1:
        /* "if the FIN segment is now acknowledged, then enter FIN-WAIT-2" */
        tcp_set_state(c, TCP_FIN_WAIT_2, TCP_CAUSE_SEGMENT, seg, "rcv ACK of FIN");
        break;
    case TCP_CLOSING:
        /* "if the ACK acknowledges our FIN, then enter the TIME-WAIT state" */
        tcp_set_state(c, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, seg, "rcv ACK of FIN");
        break;
    case TCP_LAST_ACK:
        /* "If our FIN is now acknowledged, delete the TCB, enter the CLOSED
         * state, and return." (profile closed_deletes_tcb) */
        tcp_conn_delete(c, TCP_CAUSE_SEGMENT, seg, "rcv ACK of FIN");
        break;
    default:
        break;
    }
    return true;
}

/* Linux tcp_incr_quickack: rcv_wnd / (2 * rcv_mss) immediate ACKs (2 when
 * that is 0), at most the profile's quickack (TCP_MAX_QUICKACKS); never
 * fewer than are left. send_seg counts them down (tcp_dec_quickack_mode). */
static void incr_quickack(tcp_conn *c)
{
    uint32_t n = tcp_rcv_wnd(c) / (2u * c->rcv_mss);
    if (n == 0)
        n = 2;
    n = min32(min32(n, c->stack->profile->quickack), UINT8_MAX);
    if (n > c->quick_left)
        c->quick_left = (uint8_t)n;
}

/* The first data segment starts quickack mode (tcp_event_data_recv). */
static void quickack_start(tcp_conn *c)
{
    if (c->quick_init)
        return;
    c->quick_init = true;
    incr_quickack(c);
}

/* Linux takes the time of establishment for the last data received
 * (icsk_ack.lrcvtime: tcp_finish_connect, tcp_create_openreq_child), so
 * the first gap tcp_event_data_recv measures once the ATO is set (the
 * first data out of order: tcp_ato_ack_sent) runs from there, not from
 * the clock's origin, which would make it depend on when the connection
 * began; after a simultaneous open it sets none (`last` TCP_NEVER:
 * ato_gap). */
static void ato_established(tcp_conn *c, uint64_t last)
{
    if (c->stack->profile->delack_max_ns)
        tcp_tune(c)->lrcv_ns = last;
}

/* The gap since the last data received; TCP_NEVER after a simultaneous
 * open, where Linux sets no icsk_ack.lrcvtime (tcp_rcv_synsent_state_process
 * takes the SYN alone to SYN_RECV, and tcp_rcv_state_process's SYN_RECV case
 * calls neither tcp_finish_connect nor tcp_create_openreq_child): the 0 of
 * a new socket, jiffies 0, lies further back than any RTO on a host up for
 * more than five minutes (INITIAL_JIFFIES), so the gap counts as endless. */
static uint64_t ato_gap(const tcp_conn *c)
{
    uint64_t last = tcp_tune(c)->lrcv_ns;
    return last == TCP_NEVER ? UINT64_MAX : c->stack->now - last;
}

/* Linux tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS), with the profile's
 * ATO engine: quick ACKs (tcp_incr_quickack), interactive mode left
 * (inet_csk_exit_pingpong_mode), ATO = TCP_ATO_MIN. tcp_data_queue does it
 * for a segment that ends at or before RCV.NXT (out_of_window), which is
 * where the simultaneous open's SYN,ACK lands once SYN_RECV has passed it. */
static void ato_enter_quickack(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    if (!p->delack_max_ns)
        return;
    incr_quickack(c);
    c->pingpong = false;
    tcp_tune(c)->ato_ns = p->delack_ns;
}

/* Linux tcp_event_data_recv, with the profile's ATO (delack_max_ns > 0):
 * the first data segment sets ATO = TCP_ATO_MIN (delack) and starts
 * quickack mode; later ones move ATO towards the gap between segments:
 * a gap up to ATO_MIN/2 gives ATO/2 + ATO_MIN/2, a gap below ATO gives
 * ATO/2 + gap (at most the RTO), and a gap over the RTO starts quickack
 * mode again (the sender was idle). */
static void ato_data_in(tcp_conn *c)
{
    uint64_t now = c->stack->now, min = c->stack->profile->delack_ns;
    tcp_rcv_tune *t = tcp_tune(c);
    if (t->ato_ns == 0) {
        c->quick_init = true;
        incr_quickack(c);
        t->ato_ns = min ? min : 1;
    } else {
        uint64_t m = ato_gap(c);
        if (m <= min / 2)
            t->ato_ns = t->ato_ns / 2 + min / 2;
        else if (m < t->ato_ns)
            t->ato_ns = t->ato_ns / 2 + m < c->rto_ns ? t->ato_ns / 2 + m : c->rto_ns;
        else if (m > c->rto_ns)
            incr_quickack(c);
    }
    t->lrcv_ns = now;
}

/* Linux tcp_send_delayed_ack: the delay is the ATO; above TCP_DELACK_MIN
 * it is capped at TCP_DELACK_MAX (delack_max) and at the smoothed RTT
 * (never below delack). An ATO of 0 (no data received yet: the ACK of a
 * bare FIN) sets the timer to "jiffies + 0", which fires on the next timer
 * tick: on the profile's timer wheel (timer_hz) a wait of 0 is that tick;
 * on exact timers, the profile's delack_tick (at once when 0). A timer already
 * running keeps its earlier deadline, and one about to fire (within
 * ATO/4) sends the ACK now. */
static void ato_schedule(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    uint64_t ato = tcp_tune(c)->ato_ns;
    if (ato > p->delack_ns) {
        uint64_t max = p->delack_max_ns;
        if (c->has_srtt) {
            uint64_t rtt = c->srtt_ns > p->delack_ns ? c->srtt_ns : p->delack_ns;
            max = rtt < max ? rtt : max;
        }
        ato = ato < max ? ato : max;
    }
    uint64_t at = tcp_timer_at(c, TCP_TIMER_DELACK);
    uint64_t wait = ato ? ato : p->timer_hz ? 0 : p->delack_tick_ns;
    bool at_once = wait == 0 && !p->timer_hz;
    if (at_once || (at != TCP_NEVER && at <= c->stack->now + ato / 4)) {
        c->ack_now = true;
        return;
    }
    uint64_t next = tcp_after(c, wait);
    if (next < at) /* an earlier deadline (a compressed ACK's) stays as it is */
        tcp_timer_set(c, TCP_TIMER_DELACK, next);
}

/* SACK compression applies: the profile has it and the peer sent
 * SACK-permitted (tcp_is_sack). */
static bool sack_compressing(const tcp_conn *c)
{
    return c->stack->profile->comp_sack_delay_ns && c->sack_ok;
}

/* Linux __tcp_ack_snd_check, out-of-order queue not empty, not quickack,
 * at most one full segment unacknowledged, on a SACK connection (without
 * SACK the duplicate ACK goes at once, as ack_policy's immediate): the
 * first TCP_FASTRETRANS_THRESH (3) duplicate ACKs for one RCV.NXT go at
 * once (dup_ack_counter, reset when RCV.NXT moves: store_text); later ones
 * are counted (compressed_ack), and one ACK goes when the compressed-ACK
 * timer fires, or at once when comp_sack_nr are held. The timer starts
 * with the first one held and is not pushed back by later ones
 * (hrtimer_is_queued). Its delay is min(RTT/20, tcp_comp_sack_delay_ns):
 * Linux takes the smaller of its receive-side RTT estimate (rcv_rtt_est,
 * 0 before a sample) and SRTT; the stack keeps no receive-side estimate
 * and takes SRTT once Linux would have one (rcv_rtt_seen), else 0. The
 * timer has tcp_comp_sack_slack_ns of range (hrtimer_start_range_ns): an
 * hrtimer is programmed for the end of its range, so alone it fires there.
 * The DELACK deadline holds it: an earlier delayed ACK fires first and its
 * ACK cancels the compressed one (tcp_event_ack_sent), as in Linux. The
 * end of the range saturates (hrtimer_set_expires_range_ns adds the slack
 * with ktime_add_safe): tcp_comp_sack_slack_ns is an unbounded unsigned
 * long, and a slack near its top holds the ACK for good, never briefly. */
static void sack_compress(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    tcp_rcv_tune *t = tcp_tune(c);
    if (t->comp_acks >= p->comp_sack_nr) {
        c->ack_now = true;
        return;
    }
    if (t->dup_acks_sent < 3) { /* TCP_FASTRETRANS_THRESH */
        t->dup_acks_sent++;
        c->ack_now = true;
        return;
    }
    if (t->comp_acks < UINT8_MAX)
        t->comp_acks++;
    if (c->comp_timer)
        return;
    uint64_t rtt = c->has_srtt && c->rcv_rtt_seen ? c->srtt_ns : 0;
    uint64_t delay = rtt / 20 < p->comp_sack_delay_ns ? rtt / 20 : p->comp_sack_delay_ns;
    uint64_t at = tcp_timer_at(c, TCP_TIMER_DELACK);
    uint64_t range =
        p->comp_sack_slack_ns > UINT64_MAX - delay ? UINT64_MAX : delay + p->comp_sack_slack_ns;
    uint64_t next = tcp_after_exact(c, range); /* an hrtimer */
    if (next < at) {
        tcp_timer_set(c, TCP_TIMER_DELACK, next);
        c->comp_timer = true;
    }
}

/* Linux __tcp_ack_snd_check's first reason to ACK at once: "More than one
 * full frame received... and right edge of window advances far enough
 * (tcp_recvmsg() will send ACK otherwise)": the window __tcp_select_window
 * would offer now is at least the one offered last (tp->rcv_wnd, the
 * window of the segment that carried RCV.NXT = rcv_wup), or fewer bytes
 * wait unread than SO_RCVLOWAT (1: none). A reader that does not keep up
 * so has its ACK delayed, and its read sends it (tcp_cleanup_rbuf).
 * Computing that window ends quickack mode while the free space is under
 * half (its squeeze), before the quickack test. RFC 9293 §3.8.6.3 asks
 * for an ACK of at least every second full-sized segment; without profile
 * ack_wnd_check the ACK goes whatever the window. */
static bool full_segments_ack_now(tcp_conn *c)
{
    if (c->rcv_nxt - c->last_ack_sent <= c->rcv_mss)
        return false;
    if (!c->stack->profile->ack_wnd_check || c->rcvq.len == 0)
        return true;
    tcp_quickack_squeeze(c);
    uint32_t offered = tcp_wnd_offered(c);
    return tcp_wnd_select(c, offered) >= offered;
}

/* Linux __tcp_ack_snd_check: at once for more than one full segment not
 * yet acknowledged (full_segments_ack_now), in quickack mode (not while
 * interactive), or when the segment asks for it; else the delayed ACK. */
static void ato_ack_check(tcp_conn *c, bool immediate)
{
    bool full = full_segments_ack_now(c); /* first: it may end quickack mode */
    bool quick = c->quick_left > 0 && !c->pingpong;
    if (immediate || full || quick)
        c->ack_now = true;
    else if (c->ooo_n > 0 && sack_compressing(c))
        sack_compress(c);
    else
        ato_schedule(c);
}

/* The DELACK deadline fired as the compressed ACK's (tcp_compressed_ack_kick):
 * the held ACK goes, with no change to the ATO. */
bool tcp_comp_ack_fired(tcp_conn *c)
{
    if (!c->comp_timer)
        return false;
    c->comp_timer = false;
    return true;
}

/* The delayed ACK fired (tcp_delack_timer_handler): outside interactive
 * mode the ATO doubles (at most the RTO), "Delayed ACK missed: inflate
 * ATO"; in it, interactive mode ends and the ATO drops to TCP_ATO_MIN. */
void tcp_ato_delack_fired(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    if (!p->delack_max_ns)
        return;
    tcp_rcv_tune *t = tcp_tune(c);
    if (!c->pingpong) {
        t->ato_ns = t->ato_ns * 2 < c->rto_ns ? t->ato_ns * 2 : c->rto_ns;
    } else {
        c->pingpong = false;
        t->ato_ns = p->delack_ns;
    }
}

/* Data leaves within ATO of the last data received: a reply, so the
 * connection is interactive (tcp_event_data_sent, tcp_pingpong_thresh 1). */
void tcp_ato_data_sent(tcp_conn *c)
{
    /* The ATO is 0 (no data yet) without the engine (delack_max_ns). */
    const tcp_profile *p = c->stack->profile;
    if (!p->pingpong || !p->delack_max_ns)
        return;
    const tcp_rcv_tune *t = tcp_tune(c);
    if (t->ato_ns && ato_gap(c) < t->ato_ns)
        c->pingpong = true;
}

/* An ACK that acknowledges something went out (tcp_event_ack_sent,
 * tcp_dec_quickack_mode): one quick ACK used; the last one resets the ATO
 * to TCP_ATO_MIN. This holds before the first data in order too: when the
 * first data is out of order, the quick ACK tcp_grow_window gave it
 * (tcp_data_queue_ofo) is spent by its duplicate ACK, which leaves the ATO
 * at TCP_ATO_MIN; tcp_event_data_recv then finds the ATO set and gives the
 * first data in order no quickack budget (only the engine's "!ato" case
 * does). The kernel runs of robustness/lossy_transfer.lua show it: there
 * the ACKs after the first hole is filled are immediate only while
 * tcp_grow_window still grows the window. */
void tcp_ato_ack_sent(tcp_conn *c)
{
    if (c->quick_left == 0)
        return;
    c->quick_left--;
    if (c->quick_left == 0 && c->stack->profile->delack_max_ns)
        tcp_tune(c)->ato_ns = c->stack->profile->delack_ns;
}

/* With the ATO engine, a segment's ACK is decided once, after its text
 * and its FIN: Linux tcp_data_queue() queues the data and calls tcp_fin(),
 * which enters interactive mode, and only then does tcp_ack_snd_check()
 * run (tcp_rcv_established, tcp_rcv_state_process). So the ACK of a
 * segment carrying data and a FIN is delayed like a reply's, even in
 * quickack mode. The text step notes the ACK owed; this decides it. */
static void ato_ack_decide(tcp_conn *c)
{
    if (!c->ack_due)
        return;
    bool immediate = c->ack_due_now;
    c->ack_due = c->ack_due_now = false;
    ato_ack_check(c, immediate);
}

static void ack_policy(tcp_conn *c, bool immediate)
{
    uint64_t delack = c->stack->profile->delack_ns;
    if (c->stack->profile->delack_max_ns) {
        /* inet_csk_schedule_ack; ICSK_ACK_NOW for an immediate one. With
         * SACK compression, data that leaves the out-of-order queue
         * non-empty is not ICSK_ACK_NOW (tcp_data_queue sets it only when
         * the queue empties; tcp_data_queue_ofo never): ato_ack_check
         * decides its ACK. */
        c->ack_due = true;
        if (immediate && !(c->ooo_n > 0 && sack_compressing(c)))
            c->ack_due_now = true;
        return;
    }
    quickack_start(c);
    if (c->quick_left > 0)
        immediate = true;
    /* RFC 9293 §3.8.6.3 / RFC 5681 §4.2: delay an ACK at most delack_ns,
     * but ACK at least every second full-sized segment, and at once for
     * out-of-order data or data that fills a hole. */
    if (immediate || delack == 0 || c->rcv_nxt - c->last_ack_sent >= 2u * c->rcv_mss)
        c->ack_now = true;
    else if (tcp_timer_at(c, TCP_TIMER_DELACK) == TCP_NEVER)
        tcp_timer_set(c, TCP_TIMER_DELACK, tcp_after(c, delack));
}

/* Linux tcp_measure_rcv_mss (profile read_ack): a segment of at least
 * RCV.MSS with PSH ("likely the end of an application write"), or any
 * shorter one, marks the ACK it owes as pushed (ICSK_ACK_PUSHED; a short
 * one after that ICSK_ACK_PUSHED2), for the next read to send
 * (tcp_user.c, read_ack). Not modelled: Linux lowers its RCV.MSS estimate
 * to a short size seen twice in a row instead. */
static void read_ack_note(tcp_conn *c, const tcp_rx *r)
{
    if (!c->stack->profile->read_ack)
        return;
    if (r->len >= c->rcv_mss) {
        if (r->seg->flags & TCP_PSH)
            c->pushed = true;
        return;
    }
    if (c->pushed)
        c->pushed2 = true;
    c->pushed = true;
}

/* Linux tcp_measure_rcv_mss (profile scaling_ratio): a segment of at
 * least RCV.MSS not equal to it measures len * 256 / skb->truesize, the
 * receiving driver's ratio, which the profile holds. Linux's estimate
 * starts at TCP_MSS_DEFAULT (tcp_initialize_rcv_mss), so the first segment
 * of min(536, RCV.MSS) octets or more does it here. tcp_set_window_clamp
 * then sets the clamp to the whole space (tcp_rcv_clamp) and, when that
 * grew it, lifts rcv_ssthresh to the last window sent (tp->rcv_wnd, from
 * the ACK number last sent); a smaller clamp lowers it. */
static void rcv_ratio_measure(tcp_conn *c, uint32_t len)
{
    const tcp_profile *p = c->stack->profile;
    if (c->ratio_known || !p->grow_window || !p->scaling_ratio || !c->rcv_ssthresh ||
        len < min32(TCP_MSS_DEFAULT, c->rcv_mss))
        return;
    uint32_t old = tcp_rcv_clamp(c);
    c->ratio_known = true;
    uint32_t clamp = tcp_rcv_clamp(c);
    if (clamp < old) {
        c->rcv_ssthresh = min32(c->rcv_ssthresh, clamp);
    } else {
        uint32_t wnd = tcp_wnd_offered(c);
        uint32_t lift = min32(wnd, clamp);
        if (lift > c->rcv_ssthresh)
            c->rcv_ssthresh = lift;
    }
}

/* Linux tcp_grow_window (profile grow_window) for a data segment held in
 * order (tcp_event_data_recv, at least 128 octets) or out of order on a
 * SACK connection (tcp_data_queue_ofo; without SACK the window stays put so
 * that the duplicate ACKs stay duplicates): rcv_ssthresh grows by
 * max(2 x the MSS we announced, 2 x the segment), at most to the clamp and
 * to the free space (tcp_space: the octets held, in order and not, count
 * against the buffer), and the segment's ACK goes at once
 * (icsk_ack.quick |= 1). The driver's truesize is taken as len * 256 /
 * scaling_ratio, so check #2 (tcp_win_from_space(truesize) <= len) holds
 * and the increment is always the full one; the smaller steps of
 * __tcp_grow_window for a worse ratio are not modelled. */
static void grow_window(tcp_conn *c, uint32_t len)
{
    if (!c->stack->profile->grow_window || !c->rcv_ssthresh)
        return;
    uint32_t held = c->rcvq.len;
    for (uint32_t i = 0; i < c->ooo_n; i++)
        held += c->ooo->end[i] - c->ooo->start[i];
    uint32_t space = tcp_rcv_space(c);
    uint32_t top = min32(tcp_rcv_clamp(c), space > held ? space - held : 0);
    if (top <= c->rcv_ssthresh)
        return;
    uint32_t incr = 2u * (len > c->mss ? len : c->mss);
    c->rcv_ssthresh += min32(top - c->rcv_ssthresh, incr);
    c->quick_left |= 1u;
}

/* Linux tcp_rcv_rtt_measure_ts: with timestamps, a segment of at least
 * RCV.MSS gives the receive-side RTT its first sample (the time since the
 * segment its TSecr echoes, about an RTT). Not modelled: without
 * timestamps the sample comes a window of in-order data later
 * (tcp_rcv_rtt_measure); such a connection keeps an RTT of 0 here. */
static void rcv_rtt_note(tcp_conn *c, const tcp_rx *r)
{
    if (c->ts_ok && r->seg->has_ts && r->len >= c->rcv_mss)
        c->rcv_rtt_seen = true;
}

/* Linux tcp_rcv_rtt_update with timestamps (win_dep 0): a lower sample is
 * taken at once; a higher one is averaged in (7/8 old, 1/8 new) only while
 * the receive queue is empty, else it measures the reader, not the path. */
static void rcv_rtt_update(tcp_conn *c, uint32_t sample_us)
{
    uint64_t m = (uint64_t)sample_us << 3;
    tcp_rcv_tune *t = tcp_tune(c);
    uint32_t old = t->rcv_rtt_us8;
    if (old == 0 || m < old)
        t->rcv_rtt_us8 = m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
    else if (c->rcvq.len == 0)
        t->rcv_rtt_us8 = old - (old >> 3) + sample_us;
}

/* Linux tcp_rcv_rtt_measure_ts (profile rcv_autotune): once per TSecr, a
 * segment of at least RCV.MSS samples the receive-side RTT as the age of
 * the timestamp it echoes, on our 1 ms clock (tcp_rtt_tsopt_us; an age of
 * 0 ms is no sample, a negative one none either). Not modelled: without
 * timestamps Linux samples once per window of data (tcp_rcv_rtt_measure),
 * so such a connection here is never autotuned. */
static void rcv_rtt_measure_ts(tcp_conn *c, const tcp_rx *r)
{
    if (!c->stack->profile->rcv_autotune || !c->ts_ok || !r->seg->has_ts ||
        r->seg->ts_ecr == tcp_tune(c)->rcv_rtt_tsecr)
        return;
    tcp_tune(c)->rcv_rtt_tsecr = r->seg->ts_ecr;
    if (r->len < c->rcv_mss)
        return;
    uint32_t delta = (uint32_t)(c->stack->now / 1000000u) - r->seg->ts_ecr;
    if (delta > 0 && delta < INT32_MAX / 1000)
        rcv_rtt_update(c, delta * 1000u);
}

/* Whether this segment's FIN is the one the connection holds. The first
 * FIN a peer sends fixes where its data ends (on_text); a later FIN at
 * another place (a peer contradicting itself: hostile input) is not
 * counted in a SACK block, whose octets must all be held. Linux would
 * count it (each out-of-order skb keeps its own end_seq); the model keeps
 * one FIN a connection. */
static bool own_fin(const tcp_conn *c, const tcp_rx *r)
{
    return c->fin_pending && c->peer_fin_seq == r->seq + r->len;
}

static void store_text(tcp_conn *c, const tcp_rx *r)
{
    rcv_rtt_note(c, r);
    rcv_rtt_measure_ts(c, r);
    uint32_t off = c->rcvq.len + (r->seq - c->rcv_nxt);
    /* The window may reach past the space by less than one unit of the
     * window scale (grow_window rounds it up, as Linux does). */
    uint32_t max = tcp_rcv_space(c) + (1u << c->rcv_wscale);
    int err = tcp_ring_reserve(&c->rcvq, off + r->len, max, tcp_stack_scratch(c->stack));
    if (err) {
        /* Past the buffer: dropped, as Linux drops a segment that
         * tcp_try_rmem_schedule cannot make room for. */
        drop(c, r->seg, err == TCP_EINVAL ? "beyond the receive buffer" : "out of memory");
        return;
    }
    tcp_ring_write_at(&c->rcvq, off, r->data, r->len);
    if (r->seq != c->rcv_nxt) {
        /* RFC 2883 §4: octets held already are reported as D-SACK (Linux
         * tcp_data_queue_ofo, FreeBSD tcp_update_dsack_list) */
        tcp_dsack_held(c, r->seq, r->seq + r->len, true);
        if (!tcp_ooo_add(c, r->seq, r->seq + r->len)) {
            drop(c, r->seg, "out-of-order queue full");
        } else if (tcp_sack_agreed(c)) {
            /* RFC 2018 §4: its block goes first (tcp_data_queue_ofo's
             * add_sack: tcp_sack_new_ofo_skb), a FIN in it counted where
             * end_seq counts it (profile sack_fin) */
            bool fin = r->fin && c->stack->profile->sack_fin && own_fin(c, r);
            tcp_sack_note(c, r->seq, r->seq + r->len + fin);
            rcv_ratio_measure(c, r->len);
            grow_window(c, r->len);
            /* tcp_data_queue_ofo: room for the span held out of order,
             * not for a socket not yet accepted or orphaned (sk_socket) */
            if (c->user_held && !c->released && c->stack->profile->rcv_autotune)
                tcp_rcvbuf_grow(c, tcp_tune(c)->rcvq_space);
        }
        ack_policy(c, true); /* a duplicate ACK tells the sender */
        return;
    }
    /* A FIN that came in an earlier segment waits beyond RCV.NXT, out of
     * order like data (Linux keeps it in the out-of-order queue). */
    bool fin_early = c->fin_pending && !c->fin_rcvd && !r->fin;
    read_ack_note(c, r);
    c->rcv_nxt += r->len;
    if (c->stack->profile->comp_sack_delay_ns)
        tcp_tune(c)->dup_acks_sent = 0; /* RCV.NXT moved (compressed_ack_rcv_nxt) */
    c->rcvq.len += r->len;
    if (c->stack->profile->delack_max_ns)
        ato_data_in(c);
    else
        quickack_start(c);
    rcv_ratio_measure(c, r->len);
    if (r->len >= 128u) /* tcp_event_data_recv */
        grow_window(c, r->len);
    /* RFC 2883 §4: held octets this segment brought again (Linux
     * tcp_ofo_queue: tcp_dsack_extend for the skbs below the new
     * rcv_nxt; FreeBSD tcp_update_dsack_list) */
    tcp_dsack_held(c, r->seq, c->rcv_nxt, false);
    bool had_ooo = c->ooo_n > 0;
    c->rcvq.len += tcp_ooo_advance(c);
    tcp_sack_prune(c); /* tcp_data_queue: tcp_sack_remove */
    /* RFC 5681 §4.2: at once when the segment fills a hole (Linux
     * tcp_data_queue: ICSK_ACK_NOW when the out-of-order queue empties,
     * whether or not the held data moved RCV.NXT on: a segment may bring
     * it all again; FreeBSD: tcp_reass, TF_ACKNOW) or leaves one. */
    ack_policy(c, had_ooo || fin_early);
    if (c->released || (c->rd_shut && c->stack->profile->shut_rd_discard))
        tcp_ring_consume(&c->rcvq, c->rcvq.len); /* nobody will read it */
}

/* RFC 9293 §3.10.7.4, seventh step: "ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2 STATE:
 * Once in the ESTABLISHED state, it is possible to deliver segment data to
 * user RECEIVE buffers." Other states ignore the text. */
static void on_text(tcp_conn *c, const tcp_rx *r)
{
    if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
        return;
    if (r->fin && !c->fin_pending) {
        c->fin_pending = true;
        c->peer_fin_seq = r->seq + r->len;
    }
    if (r->len == 0) {
        /* A FIN beyond RCV.NXT is an out-of-order segment: RFC 5681 §4.2
         * "A TCP receiver SHOULD send an immediate duplicate ACK when an
         * out-of-order segment arrives." */
        if (r->fin && r->seq != c->rcv_nxt) {
            /* Linux queues the bare FIN out of order: a block of its
             * own octet (tcp_data_queue_ofo; profile sack_fin) */
            if (own_fin(c, r))
                tcp_sack_note_fin(c, r->seq);
            ack_policy(c, true);
        }
        return;
    }
    /* Linux tcp_rcv_state_process: in FIN-WAIT-1/2 with the receive side
     * shut (close, or shutdown SHUT_RDWR), new data draws the RST too. */
    bool rd_gone = c->rd_shut && c->state != TCP_ESTABLISHED && !c->stack->profile->shut_rd_discard;
    if ((c->released || rd_gone) && c->stack->profile->rst_on_data_after_close) {
        /* RFC 9293 §3.6: after a full close, "if new data is received after
         * CLOSE is called, its TCP implementation SHOULD send a RST". */
        /* The reset answers this segment: <SEQ=SEG.ACK><CTL=RST> (Linux
         * tcp_reset + tcp_v4_send_reset, FreeBSD dropwithreset), sent
         * before the connection is closed. */
        tcp_out_rst_reply(c->stack, c, r->seg);
        tcp_conn_drop(c, TCP_ECONNRESET, TCP_CAUSE_SEGMENT, r->seg, "data after close()");
        return;
    }
    store_text(c, r);
}

/* RFC 9293 §3.10.7.4, eighth step, "check the FIN bit": "If the FIN bit is set,
 * signal the user 'connection closing' ..., advance RCV.NXT over the FIN,
 * and send an acknowledgment for the FIN" — once every octet before it has
 * arrived (the FIN is processed in sequence). */
static void on_fin(tcp_conn *c, const tcp_rx *r)
{
    if (c->state == TCP_CLOSED || !c->fin_pending || c->fin_rcvd || c->peer_fin_seq != c->rcv_nxt)
        return;
    c->rcv_nxt++;
    c->fin_rcvd = true;
    /* Linux tcp_fin: "if (tcp_is_sack(tp)) tcp_sack_reset(&tp->rx_opt)",
     * so a D-SACK block the FIN's segment set (old data before it:
     * tcp_data_queue's partial packet) is never sent; the selftest
     * tcp_close_no_rst.pkt sees the FIN's ACK without it (profile
     * sack_fin_reset). */
    if (c->stack->profile->sack_fin_reset)
        tcp_sack_reset(c);
    switch (c->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        /* Linux tcp_fin enters interactive mode here, so the FIN's ACK
         * (and that of data in the same segment, ato_ack_decide) waits for
         * a reply or the delayed ACK (ATO; the next tick while no data
         * came); elsewhere it goes at once. */
        if (c->stack->profile->pingpong && c->stack->profile->delack_max_ns) {
            c->pingpong = true;
            c->ack_due = true;
        } else {
            c->ack_now = true;
        }
        tcp_set_state(c, TCP_CLOSE_WAIT, TCP_CAUSE_SEGMENT, r->seg, "rcv FIN");
        break;
    case TCP_FIN_WAIT_1:
        /* "If our FIN has been ACKed (perhaps in this segment), then enter
         * TIME-WAIT ...; otherwise, enter the CLOSING state." The ACK step
         * already moved an acknowledged FIN_WAIT_1 to FIN_WAIT_2, so here
         * our FIN is not acknowledged. */
        assert(!tcp_fin_acked(c));
        c->ack_now = true;
        tcp_set_state(c, TCP_CLOSING, TCP_CAUSE_SEGMENT, r->seg, "rcv FIN");
        break;
    case TCP_FIN_WAIT_2:
        c->ack_now = true;
        tcp_set_state(c, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, r->seg, "rcv FIN");
        break;
    default:
        c->ack_now = true;
        break;
    }
}

/* §3.10.7.4 "Otherwise" (SYN-RECEIVED through TIME-WAIT but TIME-WAIT, which
 * in_time_wait handles): the eight steps in the RFC's order. */
static void in_synchronized(tcp_conn *c, const tcp_seg *seg)
{
    tcp_rx r;
    if (!check_seq(c, seg, &r))
        return;
    /* An acceptable segment shows the peer alive: the idle time of
     * keepalive (RFC 9293 §3.8.4) and of FIN-WAIT-2 starts over. */
    c->last_rcv_ns = c->stack->now;
    c->ka_probes = 0;
    if (seg->flags & TCP_RST) {
        on_rst(c, seg);
        return;
    }
    /* Third step (security) does not apply: no IP security compartments. */
    if (r.syn) {
        on_syn(c, seg);
        return;
    }
    if (!(seg->flags & TCP_ACK)) {
        drop(c, seg, "no ACK"); /* "if the ACK bit is off, drop the segment" */
        return;
    }
    if (c->ts_ok && seg->has_ts && tcp_seq_le(seg->seq, c->last_ack_sent) &&
        tcp_seq_ge(seg->ts_val, c->ts_recent))
        c->ts_recent = seg->ts_val; /* RFC 7323 §4.3 */
    if (!on_ack(c, seg))
        return;
    if (r.old && c->state == TCP_TIME_WAIT)
        c->ack_now = false; /* CLOSING -> TIME_WAIT consumes it (Linux, FreeBSD) */
    /* Sixth step (URG): the urgent pointer is not implemented (RFC 6093
     * advises against its use); urgent data is delivered in line. */
    on_text(c, &r);
    on_fin(c, &r);
    /* The one exit of a processed segment: whatever the ACK made sendable
     * (data queued behind our FIN in CLOSING or LAST-ACK too) and any ACK
     * owed go out now. Only a connection the segment closed sends nothing. */
    if (c->state != TCP_CLOSED) {
        ato_ack_decide(c);
        tcp_output(c);
        tcp_sndbuf_grow(c);
    }
}

/* ---- TIME-WAIT ---------------------------------------------------------------- */

/* RFC 9293 §3.10.7.4: "restart the 2 MSL timeout"; reported, so that the
 * run's outputs can show the restart (no state changes). */
static void tw_restart(tcp_conn *c, const tcp_seg *seg, const char *why)
{
    tcp_timer_set(c, TCP_TIMER_TIME_WAIT, tcp_after(c, tcp_time_wait_ns(c)));
    tcp_ev(c, TCP_EV_TIMER_RESTART, TCP_TIMER_TIME_WAIT, seg, why);
}

static const char *tw_restart_why(const tcp_seg *seg)
{
    return (seg->flags & TCP_FIN)   ? "rcv FIN again"
           : (seg->flags & TCP_SYN) ? "rcv SYN (PAWS)"
                                    : "rcv ACK";
}

/* With timestamps agreed, TIME-WAIT judges a SYN by its TS.Val too (RFC
 * 6191 §2, Linux tcp_timewait_state_process): returns >0 for a newer one
 * (it may reopen below RCV.NXT), <0 for an older one (PAWS, RFC 7323 §5:
 * refused, and the 2MSL timer restarts), 0 without a verdict. Only for
 * the profile that says so (ACCEPT_NEWER_TS); FreeBSD's tcp_twcheck reads
 * the sequence number alone. */
static int tw_syn_ts(const tcp_conn *c, const tcp_seg *seg)
{
    if (c->stack->profile->tw_syn != TCP_TW_SYN_ACCEPT_NEWER_TS || !c->ts_ok || !seg->has_ts)
        return 0;
    int32_t d = (int32_t)(c->ts_recent - seg->ts_val);
    return d < 0 ? 1 : d > 0 && c->ts_recent ? -1 : 0;
}

/* Profile tw_paws_restart (Linux tcp_timewait_state_process): a segment
 * other than a SYN or RST whose TS.Val is older than TS.Recent is refused
 * by PAWS (RFC 7323 §5) whatever its sequence number; Linux takes it down
 * the out-of-window path, an ACK (rate-limited) and a restart of the 2MSL
 * timer ("if (paws_reject || th->ack) inet_twsk_reschedule"). SYNs have
 * their own rule (tw_syn); RSTs never restart the timer. Returns true if
 * the segment was consumed. */
static bool tw_paws(tcp_conn *c, const tcp_seg *seg)
{
    if (!c->stack->profile->tw_paws_restart || (seg->flags & (TCP_SYN | TCP_RST)) || !c->ts_ok ||
        !seg->has_ts)
        return false;
    int32_t d = (int32_t)(c->ts_recent - seg->ts_val);
    if (d <= 0 || !c->ts_recent) /* TS.Recent 0 is none (tcp_paws_check) */
        return false;
    drop(c, seg, "PAWS");
    tcp_out_unacceptable_ack(c, seg);
    tw_restart(c, seg, "rcv segment (PAWS)");
    return true;
}

/* A SYN in TIME-WAIT; returns true if it was consumed. */
static bool tw_syn(tcp_conn *c, const tcp_seg *seg)
{
    const tcp_profile *p = c->stack->profile;
    if (p->tw_syn == TCP_TW_SYN_CHALLENGE) {
        drop(c, seg, "SYN in TIME_WAIT");
        tcp_out_challenge_ack(c);
        return true;
    }
    /* RFC 1122 §4.2.2.13: a SYN above RCV.NXT may reopen the connection,
     * with an ISN above any sequence number the old one used (Linux:
     * SND.NXT + 65535 + 2). */
    tcp_sk *l = tcp_stack_listener(c->stack, c->lport);
    int ts = tw_syn_ts(c, seg);
    bool newer = ts > 0 || (ts == 0 && tcp_seq_gt(seg->seq, c->rcv_nxt));
    if ((seg->flags & TCP_ACK) || !newer || !l)
        return false;
    uint32_t isn = c->snd_max + 65535u + 2u;
    if (isn == 0) /* Linux tcp_timewait_state_process: "if (isn == 0) isn++" */
        isn = 1;
    tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_SEGMENT, seg, "rcv SYN (new connection)");
    listen_reopen(c->stack, l, seg, isn);
    return true;
}

/* RFC 9293 §3.10.7.4 for TIME-WAIT: "The only thing that can arrive in this
 * state is a retransmission of the remote FIN. Acknowledge it, and restart
 * the 2 MSL timeout." RCV.WND is taken as 0 here (no more data can come), so
 * only an RST at exactly RCV.NXT is acceptable (as in Linux). */
static void in_time_wait(tcp_conn *c, const tcp_seg *seg)
{
    const tcp_profile *p = c->stack->profile;
    if (seg->flags & TCP_RST) {
        if (p->tw_rst == TCP_TW_RST_IGNORE)
            drop(c, seg, "RST in TIME_WAIT (RFC 1337)");
        else if (seg->seq == c->rcv_nxt)
            /* §3.10.7.4 CLOSING, LAST-ACK, TIME-WAIT: "enter the CLOSED
             * state, delete the TCB", no signal: dropped as in CLOSING
             * (profile closed_deletes_tcb) */
            tcp_conn_drop(c, 0, TCP_CAUSE_SEGMENT, seg, "rcv RST");
        else
            drop(c, seg, "out of window");
        return;
    }
    if ((seg->flags & TCP_SYN) && tw_syn(c, seg))
        return;
    if (tw_paws(c, seg))
        return;
    bool has_ack = seg->flags & TCP_ACK;
    if ((seg->flags & TCP_FIN) && seg->seq + seg->len + 1 == c->rcv_nxt) {
        tcp_out_ack(c); /* the peer lost our last ACK */
        tw_restart(c, seg, tw_restart_why(seg));
        return;
    }
    if (seg->seq == c->rcv_nxt && seg->len == 0 && !(seg->flags & (TCP_SYN | TCP_FIN))) {
        if (has_ack && p->tw_restart_on_ack)
            tw_restart(c, seg, tw_restart_why(seg));
        return;
    }
    drop(c, seg, "out of window");
    tcp_out_unacceptable_ack(c, seg);
    /* Linux restarts the timer for a PAWS-refused SYN, not for an ACK-less
     * one that may be a new SYN below RCV.NXT (tcp_timewait_state_process). */
    bool paws = (seg->flags & TCP_SYN) && tw_syn_ts(c, seg) < 0;
    if ((has_ack || paws) && p->tw_restart_on_ack)
        tw_restart(c, seg, tw_restart_why(seg));
}

/* TIME-WAIT as FreeBSD's tcp_twcheck (profile tw_bsd_rules), in its order:
 * RSTs dropped (RFC 1337); a SYN without ACK above RCV.NXT closes TIME-WAIT
 * and is looked up again (a listener takes it; with none the CLOSED rules
 * answer RST); a segment without ACK is dropped silently; a duplicate FIN
 * restarts 2MSL; the segment is acknowledged "if it has data or is not a
 * duplicate ACK" (thflags != TH_ACK || tlen != 0 || th_seq != rcv_nxt ||
 * th_ack != snd_nxt). */
static void in_time_wait_bsd(tcp_conn *c, const tcp_seg *seg)
{
    uint8_t fl = seg->flags;
    if (fl & TCP_RST) {
        drop(c, seg, "RST in TIME_WAIT (RFC 1337)");
        return;
    }
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN && tcp_seq_gt(seg->seq, c->rcv_nxt)) {
        tcp_sk *l = tcp_stack_listener(c->stack, c->lport);
        uint32_t isn = c->snd_max + 65535u + 2u;
        tcp_set_state(c, TCP_CLOSED, TCP_CAUSE_SEGMENT, seg, "rcv SYN (new connection)");
        if (!l) {
            tcp_input_no_conn(c->stack, seg);
            return;
        }
        listen_reopen(c->stack, l, seg, isn ? isn : 1u);
        return;
    }
    if (!(fl & TCP_ACK)) {
        drop(c, seg, "no ACK");
        return;
    }
    if ((fl & TCP_FIN) && seg->seq + seg->len + 1u == c->rcv_nxt)
        tw_restart(c, seg, tw_restart_why(seg));
    bool dup_ack = (fl & ~TCP_PSH) == TCP_ACK && seg->len == 0 && seg->seq == c->rcv_nxt &&
                   seg->ack == c->snd_max;
    if (!dup_ack)
        tcp_out_unacceptable_ack(c, seg);
}

void tcp_input(tcp_conn *c, const tcp_seg *seg)
{
    switch (c->state) {
    case TCP_CLOSED:
        tcp_input_no_conn(c->stack, seg);
        break;
    case TCP_LISTEN: /* a listener's segments go to tcp_input_listen */
        assert(!"a connection in LISTEN in the 4-tuple table");
        break;
    case TCP_SYN_SENT:
        in_syn_sent(c, seg);
        break;
    case TCP_TIME_WAIT:
        if (c->stack->profile->tw_bsd_rules)
            in_time_wait_bsd(c, seg);
        else
            in_time_wait(c, seg);
        break;
    default:
        in_synchronized(c, seg);
        break;
    }
}
