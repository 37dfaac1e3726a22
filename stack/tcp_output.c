/*
 * tcp_output — everything that puts a segment on the wire.
 *
 * Each segment is encoded into the stack's scratch buffer (its payload first
 * copied out of the send ring into a second scratch buffer, since the ring
 * may wrap), reported as TCP_EV_SEG_OUT, then handed to env->output. Nothing
 * here allocates. When the environment takes lent datagrams and the payload
 * starts the send ring's memory unshared (tcp_ring_lend), the segment is
 * encoded in place in the ring's room instead and handed to env->output_lent:
 * the same bytes, held once. When the send queue holds only pattern bytes
 * (tcp_send_pattern) and the environment takes split datagrams, only the
 * headers are encoded and handed to env->output_split with a pointer at
 * the payload in the pattern: no copy of the payload is made at all.
 *
 * tcp_output() is the one place that decides what may be sent: new data
 * within min(SND.WND, cwnd) (RFC 9293 §3.8.6, RFC 5681), Nagle and sender
 * SWS avoidance (RFC 9293 §3.7.4, §3.8.6.2.1), the FIN after the last byte,
 * and a pending ACK if no other segment carried it.
 */
#include <assert.h>

#include "tcp_conn.h"

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

uint32_t tcp_snd_data_end(const tcp_conn *c)
{
    return c->snd_buf_seq + c->sndq.len;
}

uint32_t tcp_flight(const tcp_conn *c)
{
    return c->snd_nxt - c->snd_una;
}

/* Linux's socket-buffer cost of one segment of `mss` (tcp_sndbuf_expand's
 * per_mss, x86_64): the skb head, kmalloced in a power of two, holds
 * the MSS, MAX_TCP_HEADER (256) and skb_shared_info (320), and struct
 * sk_buff (256) comes on top. Measured: SO_SNDBUF after the handshake is
 * 46080 at MSS 1460 and 1240, 332800 at 8960 (reno, Linux 6.18). */
static uint32_t linux_seg_truesize(uint32_t mss)
{
    uint32_t head = 1;
    while (head < mss + 256u + 320u)
        head <<= 1;
    return head + 256u;
}

/* Linux tcp_sndbuf_expand (tcp_init_buffer_space at establishment,
 * tcp_new_space later): a send buffer the user did not size (no
 * SO_SNDBUF) holds sndbuf_expand (2 for reno and CUBIC: "Fast Recovery
 * (RFC 5681 3.2): Cubic needs 1.7 factor, rounded to 2") times max(10,
 * cwnd, reordering + 1) segments, each counted as linux_seg_truesize of
 * the larger of the peer's MSS and ours; at most sndbuf_max (tcp_wmem[2]);
 * never shrunk. The stack counts its buffer in octets of data where Linux
 * counts memory, so this is the size, not the data it holds. */
void tcp_sndbuf_expand(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    if (!p->sndbuf_expand || c->sndbuf_set || c->snd_mss == 0)
        return;
    uint32_t clamp = c->snd_mss + (c->ts_ok ? TCP_TS_OPT_LEN : 0u);
    uint32_t segs = c->cwnd / c->snd_mss;
    segs = segs > 10u ? segs : 10u; /* TCP_INIT_CWND; reordering + 1 = 4 is less */
    uint64_t want = (uint64_t)p->sndbuf_expand * segs * linux_seg_truesize(clamp);
    if (want > p->sndbuf_max)
        want = p->sndbuf_max;
    if (want > c->sndbuf)
        c->sndbuf = (uint32_t)want;
}

/* Linux tcp_check_space → tcp_new_space after an ACK was processed and
 * what it allows was sent: with a writer waiting for room
 * (SOCK_NOSPACE), the buffer grows unless the congestion window is full
 * (tcp_should_expand_sndbuf: packets in flight < cwnd). */
void tcp_sndbuf_grow(tcp_conn *c)
{
    if (!c->snd_nospace || c->snd_mss == 0)
        return;
    uint32_t flight_segs = (tcp_flight(c) + c->snd_mss - 1u) / c->snd_mss;
    if (flight_segs < c->cwnd / c->snd_mss)
        tcp_sndbuf_expand(c);
}

bool tcp_fin_acked(const tcp_conn *c)
{
    return c->fin_queued && tcp_seq_gt(c->snd_una, tcp_snd_data_end(c));
}

uint32_t tcp_rcv_wnd(const tcp_conn *c)
{
    return tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

/* RFC 7323 §2.3: the smallest shift that lets the buffer be advertised. */
uint8_t tcp_wscale_for(uint32_t buf)
{
    uint8_t shift = 0;
    while (shift < 14 && (buf >> shift) > 65535u)
        shift++;
    return shift;
}

/* The receive space: the share of the receive buffer offered as window
 * (profile rcv_win_ratio; Linux tcp_win_from_space() takes scaling_ratio /
 * 256 of sk_rcvbuf, TCP_DEFAULT_SCALING_RATIO = 128, the other half paying
 * for buffer overhead). The receive ring holds this much. At most
 * TCP_BUF_MAX (2^30) whatever the buffer the profile gives: no window can
 * offer more (RFC 7323 §2.3: shift 14), and RFC 9293 §3.4's sequence
 * arithmetic needs every window under 2^31. */
uint32_t tcp_rcv_space(const tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    uint32_t ratio = min32(c->ratio_known ? p->scaling_ratio : p->rcv_win_ratio, 256u);
    uint32_t v = (uint32_t)((uint64_t)c->rcvbuf * ratio >> 8);
    return v == 0 ? 1 : min32(v, TCP_BUF_MAX);
}

/* The octets of receive space `space` (tcp_rcv_space) the bytes held in
 * order leave free; 0 when they fill it (an autotuned buffer may shrink
 * under them). Linux's tcp_space also counts those held out of order. */
uint32_t tcp_rcv_free(const tcp_conn *c, uint32_t space)
{
    return space > c->rcvq.len ? space - c->rcvq.len : 0;
}

/* Linux tp->rcv_wnd: the window the last segment sent offered, from the
 * ACK number it carried (rcv_wup, RCV.NXT then) to RCV.ADV; more than
 * RCV.ADV - RCV.NXT once data arrived after it. */
uint32_t tcp_wnd_offered(const tcp_conn *c)
{
    return tcp_seq_gt(c->rcv_adv, c->last_ack_sent) ? c->rcv_adv - c->last_ack_sent : 0;
}

/* Linux tp->window_clamp (profile grow_window), the most rcv_ssthresh may
 * reach. tcp_init_buffer_space sets it at establishment to the full space
 * less one segment of the MSS we announced ("Force reservation of one
 * segment", tcp_app_win = 31); once tcp_measure_rcv_mss has measured the
 * driver's ratio (scaling_ratio) tcp_set_window_clamp makes it the whole
 * space, tcp_win_from_space(sk_rcvbuf). */
uint32_t tcp_rcv_clamp(const tcp_conn *c)
{
    uint32_t full = tcp_rcv_space(c);
    if (!c->ratio_known && full > 2u * c->mss)
        return full - c->mss;
    return full;
}

/* Linux tcp_init_buffer_space at establishment: rcv_ssthresh, which
 * starts at the window of our SYN or SYN,ACK, is kept within the clamp. */
void tcp_rcv_init_space(tcp_conn *c)
{
    if (c->stack->profile->grow_window && c->rcv_ssthresh)
        c->rcv_ssthresh = min32(c->rcv_ssthresh, tcp_rcv_clamp(c));
    /* The first measure of the reader (profile rcv_autotune): from here,
     * expecting at most min(rcv_ssthresh, RCV.WND, TCP_INIT_CWND x the MSS
     * we announced) per RTT. */
    if (!c->stack->profile->rcv_autotune)
        return;
    tcp_rcv_tune *t = tcp_tune(c);
    t->rcvq_seq = c->rcv_nxt - c->rcvq.len;
    t->rcvq_us = (uint32_t)(c->stack->now / 1000u);
    t->rcvq_space = min32(min32(c->rcv_ssthresh, tcp_rcv_wnd(c)), 10u * c->mss);
}

/* Linux tcp_rcvbuf_grow (profile rcv_autotune): newval octets were read in
 * one RTT. The buffer grows to hold twice that ("DRS is always one RTT
 * late"), plus twice as much again in proportion to the growth since the
 * last measure (the sender in slow start doubles per RTT), plus the span
 * held out of order, as octets of buffer (tcp_space_from_win: x 256 /
 * scaling_ratio), at most tcp_rmem[2] (the profile's rcvbuf_max). The
 * window clamp follows (tcp_rcv_clamp is the buffer's share). Never with
 * SO_RCVBUF given (SOCK_RCVBUF_LOCK). */
void tcp_rcvbuf_grow(tcp_conn *c, uint32_t newval)
{
    const tcp_profile *p = c->stack->profile;
    if (!p->rcv_autotune)
        return;
    tcp_rcv_tune *t = tcp_tune(c);
    uint32_t oldval = t->rcvq_space;
    t->rcvq_space = newval;
    if (c->rcvbuf_set || !oldval)
        return;
    uint64_t win = (uint64_t)newval << 1;
    if (newval > oldval)
        win += (win * (newval - oldval) / oldval) << 1;
    uint32_t top = c->rcv_nxt;
    for (uint32_t i = 0; i < c->ooo_n; i++)
        if (tcp_seq_gt(c->ooo->end[i], top))
            top = c->ooo->end[i];
    win += top - c->rcv_nxt;
    uint32_t ratio = min32(c->ratio_known ? p->scaling_ratio : p->rcv_win_ratio, 256u);
    uint64_t buf = ratio ? (win << 8) / ratio : win;
    uint64_t cap = p->rcvbuf_max ? p->rcvbuf_max : c->rcvbuf;
    if (buf > cap)
        buf = cap;
    if (buf > c->rcvbuf)
        c->rcvbuf = (uint32_t)buf;
}

/* Linux tcp_rcv_space_adjust, run after each read (tcp_recvmsg): once a
 * receive-side RTT has passed since the measure began, the octets read in
 * it, less those still queued, are compared with the last measure; more
 * grows the buffer. Linux takes the time as an int of microseconds
 * (tcp_stamp_us_delta), hence the 32-bit clock. */
void tcp_rcv_space_adjust(tcp_conn *c)
{
    if (!c->stack->profile->rcv_autotune || !tcp_tune(c)->rcv_rtt_us8)
        return;
    tcp_rcv_tune *t = tcp_tune(c);
    uint32_t now_us = (uint32_t)(c->stack->now / 1000u);
    int32_t time = (int32_t)(now_us - t->rcvq_us);
    if (time < (int32_t)(t->rcv_rtt_us8 >> 3))
        return;
    uint32_t copied_seq = c->rcv_nxt - c->rcvq.len;
    int64_t copied = (int64_t)(uint32_t)(copied_seq - t->rcvq_seq) - (int64_t)c->rcvq.len;
    if (copied > (int64_t)t->rcvq_space)
        tcp_rcvbuf_grow(c, (uint32_t)copied);
    t->rcvq_seq = copied_seq;
    t->rcvq_us = now_us;
}

/* RFC 7323 §2.3: the shift we offer. With the profile's rcvbuf_max it lets
 * the largest buffer the connection may grow to be advertised (Linux
 * tcp_select_initial_window: max(tcp_rmem[2], rmem_max); FreeBSD
 * syncache_add / tcp_connect: sb_max); a buffer the user set fixes it
 * (Linux: SOCK_RCVBUF_LOCK clamps the window to tcp_full_space()). */
uint8_t tcp_rcv_wscale(const tcp_conn *c)
{
    uint32_t max = c->stack->profile->rcvbuf_max;
    return tcp_wscale_for(max && !c->rcvbuf_set ? max : tcp_rcv_space(c));
}

/* The unscaled window of our SYN or SYN,ACK (RFC 7323 §2.2): the receive
 * space, at most 65535. With init_wnd_mss_multiple it is first rounded
 * down to whole segments of the MSS we will receive (Linux
 * tcp_select_initial_window: "Quantize space offering to a multiple of
 * mss"; the MSS less the timestamp option when a SYN,ACK agrees on it). */
uint32_t tcp_syn_wnd(const tcp_conn *c)
{
    uint32_t space = tcp_rcv_space(c);
    uint32_t mss = c->mss;
    if (c->state != TCP_SYN_SENT && c->ts_ok && mss > TCP_TS_OPT_LEN)
        mss -= TCP_TS_OPT_LEN;
    if (c->stack->profile->init_wnd_mss_multiple && mss && space > mss)
        space -= space % mss;
    return min32(space, 65535u);
}

/* The profile's grow_window: Linux offers at most rcv_ssthresh
 * (__tcp_select_window: "if (free_space > tp->rcv_ssthresh)"). */
static uint32_t wnd_ssthresh(const tcp_conn *c)
{
    if (!c->stack->profile->grow_window || c->rcv_ssthresh == 0)
        return UINT32_MAX;
    return c->rcv_ssthresh;
}

/* Linux __tcp_select_window with a window scale (profile grow_window):
 * min(free space, rcv_ssthresh) rounded up to the scale's unit ("Advertise
 * enough space so that it won't get scaled away"). Below half the space
 * the free space is first rounded down to the unit, and under 1/16 of the
 * space or one MSS no window is offered (its receiver SWS avoidance).
 * tcp_select_window never shrinks the window: a smaller one keeps the
 * current one, rounded up to the unit (ALIGN(cur_win)). Rounded up on each
 * ACK of a reader that does not read, the right edge would move by up to
 * unit - 1 bytes per ACK, without bound: here the rounding is taken only
 * while it stays within the free space rounded up to the unit; past that
 * the edge stays where it is (the window returned is the current one,
 * unrounded) and wnd_field rounds only the field up, so the peer's view
 * never passes RCV.ADV by a unit nor shrinks. Returns the window. */
static uint32_t wnd_scaled_select(const tcp_conn *c, uint32_t space, uint32_t free_bytes)
{
    uint32_t unit = 1u << c->rcv_wscale;
    uint32_t full = min32(tcp_rcv_clamp(c), space);
    uint32_t w = free_bytes;
    if (w < full / 2) {
        w -= w % unit;
        if (w < space / 16 || w < min32(c->rcv_mss, full))
            w = 0;
    }
    w = min32(w, wnd_ssthresh(c));
    return (w + unit - 1u) & ~(unit - 1u);
}

static uint32_t wnd_scaled_linux(const tcp_conn *c, uint32_t space, uint32_t free_bytes)
{
    uint32_t unit = 1u << c->rcv_wscale;
    uint32_t w = wnd_scaled_select(c, space, free_bytes);
    uint32_t cur = tcp_rcv_wnd(c);
    if (w < cur) {
        w = (cur + unit - 1u) & ~(unit - 1u);
        if (w > ((free_bytes + unit - 1u) & ~(unit - 1u)))
            w = cur;
    }
    return min32(w, 65535u << c->rcv_wscale);
}

/* Linux __tcp_select_window without window scaling: "the largest window
 * that is a nice multiple of mss" (rounddown of the free space to the MSS
 * we receive), the current offer kept while it is within one MSS of the
 * free space; none while the free space is under half the buffer and under
 * one MSS or 1/16 of the buffer (its receiver SWS avoidance). `cur` is
 * the current offer. */
static uint32_t wnd_whole_segments(const tcp_conn *c, uint32_t space, uint32_t free_bytes,
                                   uint32_t cur)
{
    uint32_t mss = min32(c->rcv_mss, space);
    if (mss == 0)
        return 0;
    if (free_bytes < space / 2 && (free_bytes < space / 16 || free_bytes < mss))
        return 0;
    free_bytes = min32(free_bytes, wnd_ssthresh(c));
    if (cur + mss <= free_bytes || cur > free_bytes)
        return free_bytes - free_bytes % mss;
    if (mss == space && free_bytes > cur + space / 2)
        return free_bytes;
    return cur;
}

/* Linux __tcp_select_window, which every window Linux offers runs
 * (tcp_select_window for each segment sent but a SYN, the check of
 * tcp_cleanup_rbuf after a read): while the free space is under half the
 * full space, min(window_clamp, tcp_full_space), it ends quickack mode
 * ("icsk_ack.quick = 0") whatever quick ACKs are left. The ATO stays: only
 * tcp_dec_quickack_mode's last quick ACK deflates it, and with none left
 * it does nothing. So a receiver whose unread data fills its buffer past
 * half delays the ACK of the next data (tcp_ack_snd_check) and lets a read
 * carry it (tcp_cleanup_rbuf; RFC 9293 §3.8.6.3 leaves when to delay an
 * ACK to the receiver). The free space is wnd_field's: octets held in
 * order, where Linux's tcp_space also counts those held out of order
 * (ACKed at once then, but for SACK compression). __tcp_ack_snd_check
 * runs it too, for more than one full segment unacknowledged and unread,
 * before its quickack test (ato_ack_check, profile ack_wnd_check). With
 * the ATO engine (profile delack_max_ns) only. */
void tcp_quickack_squeeze(tcp_conn *c)
{
    if (!c->stack->profile->delack_max_ns)
        return;
    uint32_t space = tcp_rcv_space(c);
    if (tcp_rcv_free(c, space) < min32(tcp_rcv_clamp(c), space) / 2)
        c->quick_left = 0;
}

/* The window Linux __tcp_select_window would offer now, before
 * tcp_select_window's never-shrink step, `offered` being the window the
 * last segment sent offered (tp->rcv_wnd, which the whole-segments rule
 * keeps when it is within one MSS of the free space): what
 * __tcp_ack_snd_check compares with `offered`. The free space is
 * wnd_field's; without a rule of Linux's for the window, the free space
 * itself (within rcv_ssthresh). */
uint32_t tcp_wnd_select(const tcp_conn *c, uint32_t offered)
{
    const tcp_profile *p = c->stack->profile;
    uint32_t space = tcp_rcv_space(c);
    uint32_t free_bytes = tcp_rcv_free(c, space);
    if (p->wnd_mss_round && c->rcv_wscale == 0)
        return wnd_whole_segments(c, space, free_bytes, offered);
    if (p->grow_window && c->rcv_wscale > 0)
        return wnd_scaled_select(c, space, free_bytes);
    return min32(free_bytes, wnd_ssthresh(c));
}

/* The window field of a segment. The right edge moves only by at least
 * min(RCV.BUFF/2, MSS) (RFC 9293 §3.8.6.2.2, receiver SWS avoidance), or
 * with the profile's wnd_mss_round at scale 0 in whole segments, and never
 * moves left. SYN segments carry an unscaled window (RFC 7323 §2.2). The
 * whole-segments rule starts from the window the last segment offered
 * (Linux __tcp_select_window: "window = tp->rcv_wnd"), which it keeps
 * within one MSS of the free space: the edge then moves with RCV.NXT. */
static uint16_t wnd_field(tcp_conn *c, bool syn)
{
    const tcp_profile *p = c->stack->profile;
    uint32_t space = tcp_rcv_space(c);
    uint32_t free_bytes = tcp_rcv_free(c, space);
    if (syn) {
        uint32_t w = tcp_syn_wnd(c);
        if (p->grow_window)
            c->rcv_ssthresh = w; /* tcp_connect_init, tcp_create_openreq_child */
        return (uint16_t)w;
    }
    tcp_quickack_squeeze(c);
    uint32_t edge = c->rcv_nxt + free_bytes;
    uint32_t threshold = min32(space / 2, c->rcv_mss);
    if (p->wnd_mss_round && c->rcv_wscale == 0) {
        edge = c->rcv_nxt + wnd_whole_segments(c, space, free_bytes, tcp_wnd_offered(c));
        threshold = 1;
    } else if (p->grow_window && c->rcv_wscale > 0) {
        c->rcv_adv = c->rcv_nxt + wnd_scaled_linux(c, space, free_bytes);
        uint32_t unit = 1u << c->rcv_wscale; /* up: a kept window is not shrunk */
        return (uint16_t)min32((tcp_rcv_wnd(c) + unit - 1u) >> c->rcv_wscale, 65535u);
    }
    if (tcp_seq_gt(edge, c->rcv_adv) && edge - c->rcv_adv >= threshold)
        c->rcv_adv = edge;
    return (uint16_t)min32(tcp_rcv_wnd(c) >> c->rcv_wscale, 65535u);
}

/* Where a segment's payload comes from, when the segment has a length and
 * no payload: lent from the send ring (output_lent: the datagram is built
 * in the ring's room, *owner set), read in place from the queued pattern
 * (output_split: *split set, the headers alone built in out), or copied
 * into the scratch. Returns where the datagram (or its headers) starts. */
static uint8_t *payload_source(tcp_stack *s, tcp_conn *c, tcp_seg *g, tcp_scratch_buf *b,
                               void **owner, bool *split)
{
    uint32_t off = g->seq - c->snd_buf_seq;
    const uint8_t *run = s->env->output_split ? tcp_sndq_pattern_run(c, off, g->len) : NULL;
    if (run) {
        g->payload = run;
        *split = true;
        return b->out;
    }
    uint8_t *lent = s->env->output_lent ? tcp_sndq_lend(c, off, g->len, owner) : NULL;
    if (lent) {
        g->payload = lent;
        return lent - (tcp_wire_size(g) - g->len); /* within TCP_RING_ROOM */
    }
    tcp_sndq_copy_out(c, off, b->payload, g->len);
    g->payload = b->payload;
    return b->out;
}

/* Reports segment g of socket c, else of listener record ls, else of
 * no socket. */
static void seg_ev(tcp_stack *s, tcp_conn *c, tcp_ls *ls, tcp_event_kind kind, const tcp_seg *g,
                   const char *note)
{
    if (c)
        tcp_ev(c, kind, 0, g, note);
    else if (ls)
        tcp_ev_ls(s, ls, kind, 0, g, note);
    else if (kind == TCP_EV_SEG_OUT)
        tcp_ev_nosock(s, kind, g, note);
}

/* Encodes, reports and sends one segment, counted for c, else for
 * listener record ls (both may be NULL: no socket). A segment with a
 * length and no payload takes its bytes from c's send queue at its
 * sequence number. */
static void transmit_as(tcp_stack *s, tcp_conn *c, tcp_ls *ls, tcp_seg *g)
{
    tcp_scratch_buf *b = tcp_scratch_claim(s);
    if (!b) { /* only when nested deeper than ever before */
        seg_ev(s, c, ls, TCP_EV_DROP, g, "out of memory");
        return;
    }
    uint8_t *out = b->out;
    void *owner = NULL;
    bool split = false;
    if (g->len && !g->payload) {
        assert(c);
        out = payload_source(s, c, g, b, &owner, &split);
    }
    size_t n = split ? tcp_wire_encode_head(g, out, TCP_DGRAM_MAX)
                     : tcp_wire_encode(g, out, TCP_DGRAM_MAX);
    assert(n > 0);
    tcp_stats *st = c ? &c->stats : ls ? &ls->stats : NULL;
    if (st) {
        st->segs_out++;
        st->bytes_out += g->len;
    }
    seg_ev(s, c, ls, TCP_EV_SEG_OUT, g, NULL);
    if (split)
        s->env->output_split(s->ctx, out, n, g->payload, g->len);
    else if (owner)
        s->env->output_lent(s->ctx, out, n, tcp_ring_lent_release, owner);
    else
        s->env->output(s->ctx, out, n);
    tcp_scratch_release(b);
}

static void transmit(tcp_stack *s, tcp_conn *c, tcp_seg *g)
{
    transmit_as(s, c, NULL, g);
}

static void syn_options(tcp_conn *c, tcp_seg *g)
{
    const tcp_profile *p = c->stack->profile;
    bool active = c->state == TCP_SYN_SENT;
    g->has_mss = true;
    g->mss = c->mss;
    if (p->send_wscale && (active || c->peer_wscale)) {
        g->has_wscale = true;
        g->wscale = tcp_rcv_wscale(c);
    }
    g->has_sack_perm = p->send_sack_perm && (active || c->sack_ok);
    g->has_ts = p->send_timestamps && (active || c->ts_ok);
}

static void send_seg(tcp_conn *c, uint8_t flags, uint32_t seq, const uint8_t *data, uint32_t len)
{
    tcp_stack *s = c->stack;
    tcp_seg g = {
        .src_addr = s->addr,
        .dst_addr = c->raddr,
        .src_port = c->lport,
        .dst_port = c->rport,
        .seq = seq,
        .flags = flags,
        .payload = data,
        .len = len,
    };
    g.layout = (uint8_t)s->profile->opt_layout;
    if (flags & TCP_ACK)
        g.ack = c->rcv_nxt;
    uint8_t sack[8u * TCP_SACK_MAX];
    tcp_rst_opts rst_opts = s->profile->rst_opts;
    if (flags & TCP_SYN) {
        syn_options(c, &g);
    } else if (!(flags & TCP_RST) || rst_opts != TCP_RST_OPTS_NONE) {
        /* An active RST (tcp_out_rst) carries them by profile rst_opts:
         * Linux tcp_send_active_reset goes through tcp_transmit_skb and
         * tcp_established_options; FreeBSD tcp_drop -> tcp_output adds
         * the timestamps only (RFC 7323 §3.2), its state CLOSED. */
        g.has_ts = c->ts_ok;
        /* RFC 2018 §4: while data is held out of order, every segment
         * carries the SACK blocks (Linux tcp_established_options for
         * every segment tcp_transmit_skb sends, FreeBSD tcp_output while
         * rcv_numsacks > 0 in an established state). */
        if (!(flags & TCP_RST) || rst_opts == TCP_RST_OPTS_TS_SACK) {
            g.nsack = (uint8_t)tcp_sack_write(c, sack);
            g.sack = sack;
            if (g.nsack)
                tcp_sack_sent(c); /* a D-SACK block goes once */
        }
    }
    /* An active RST's window: profile rst_window. Linux
     * tcp_send_active_reset -> __tcp_transmit_skb writes
     * tcp_select_window for every segment but a SYN, never shrinking the
     * window offered (wnd_field's rule); FreeBSD tcp_output: "If a RST
     * segment is sent, advertise a window of zero"; RFC 9293 §3.10.5 has
     * no rule: 0. A reply RST (rst_reply_as) carries 0 everywhere. */
    if (!(flags & TCP_RST) || s->profile->rst_window)
        g.wnd = wnd_field(c, flags & TCP_SYN);
    if (g.has_ts) {
        g.ts_val = (uint32_t)(s->now / 1000000u); /* a 1 ms clock (RFC 7323 §5.4) */
        g.ts_ecr = (flags & TCP_ACK) ? c->ts_recent : 0;
    }
    if (len)
        tcp_ato_data_sent(c);
    if (flags & TCP_ACK) {
        /* tcp_event_ack_sent -> tcp_dec_quickack_mode: since Linux 6.6
         * (commit 059217c18be6, "count actual ACKs of new data") an
         * ACK spends a quick ACK only while one is scheduled ("How many
         * ACKs S/ACKing new data have we sent?": inet_csk_ack_scheduled).
         * Here: data or a FIN not yet acknowledged, a delayed ACK pending,
         * or an ACK a segment asked for at once (ack_now: out-of-order,
         * old or zero-window data). A challenge ACK, the answer to an
         * out-of-window segment and a read's window update go through
         * tcp_out_ack with none of these and spend none. Without the ATO
         * engine every ACK counts. */
        if (c->rcv_nxt != c->last_ack_sent || c->ack_now ||
            tcp_timer_at(c, TCP_TIMER_DELACK) != TCP_NEVER || !c->stack->profile->delack_max_ns)
            tcp_ato_ack_sent(c);
        c->last_ack_sent = c->rcv_nxt;
        c->ack_now = c->ack_due = c->ack_due_now = false; /* tcp_event_ack_sent */
        c->pushed = c->pushed2 = false;                   /* icsk_ack.pending = 0 */
        if (c->stack->profile->comp_sack_delay_ns)
            tcp_tune(c)->comp_acks = 0; /* tcp_event_ack_sent: compressed_ack (its timer: below) */
        tcp_timer_stop(c, TCP_TIMER_DELACK);
    }
    transmit(s, c, &g);
}

/* The most payload a segment carries now: the effective send MSS (which
 * already leaves room for the timestamps) less the SACK blocks it would
 * carry. Linux tcp_current_mss subtracts what tcp_established_options
 * adds beyond tcp_header_len ("If this is an odd packet (because we have
 * SACK blocks etc) ... adjust mss_now"); FreeBSD tcp_output cuts len to
 * t_maxseg - optlen. */
static uint32_t send_mss(const tcp_conn *c)
{
    uint32_t opt = tcp_sack_opt_len(c);
    return c->snd_mss > opt ? c->snd_mss - opt : 1u;
}

/* Sends [seq, seq+len) from the send ring, plus FIN if asked. */
static void send_data(tcp_conn *c, uint32_t seq, uint32_t len, bool fin)
{
    uint8_t flags = TCP_ACK;
    const uint8_t *data = NULL;
    if (len) { /* data stays NULL: transmit copies it from the send ring */
        if (seq + len == tcp_snd_data_end(c))
            flags |= TCP_PSH;
    }
    if (fin)
        flags |= TCP_FIN;
    if (tcp_seq_lt(seq, c->snd_max)) {
        c->stats.retransmits++;
        c->rtt_timing = false; /* Karn: no sample from a retransmission */
    } else if (!c->rtt_timing) {
        c->rtt_timing = true;
        c->rtt_seq = seq;
        c->rtt_start_ns = c->stack->now;
    }
    send_seg(c, flags, seq, data, len);
    if (len && len < send_mss(c))
        c->snd_sml = seq + len; /* Linux tcp_minshall_update, against mss_now */
    uint32_t end = seq + len + (fin ? 1u : 0u);
    if (tcp_seq_gt(end, c->snd_max))
        c->snd_max = end;
}

void tcp_out_syn(tcp_conn *c, bool rexmit)
{
    uint8_t flags = TCP_SYN;
    if (c->state != TCP_SYN_SENT)
        flags |= TCP_ACK;
    if (rexmit) {
        c->stats.retransmits++;
        c->rtt_timing = false; /* Karn */
    } else {
        c->rtt_timing = true;
        c->rtt_seq = c->iss;
        c->rtt_start_ns = c->stack->now;
    }
    send_seg(c, flags, c->iss, NULL, 0);
    c->snd_nxt = tcp_seq_max(c->snd_nxt, c->iss + 1);
    c->snd_max = tcp_seq_max(c->snd_max, c->iss + 1);
    tcp_timer_arm_rtx(c);
}

/* A segment without data, SYN or FIN carries the highest sequence number
 * sent, SND.MAX: after an RTO SND.NXT is rewound to SND.UNA (go-back-N),
 * and a sequence number left of the peer's RCV.NXT would make an RST
 * unacceptable there. Linux never rewinds snd_nxt; FreeBSD tcp_output:
 * "if (len || (flags & (TH_SYN|TH_FIN)) || persist) th_seq = snd_nxt;
 * else th_seq = snd_max". */
void tcp_out_ack(tcp_conn *c)
{
    send_seg(c, TCP_ACK, c->snd_max, NULL, 0);
}

/* RFC 5961 §7: challenge ACKs and the ACKs answering out-of-window segments
 * are rate-limited per connection when the profile says so (Linux
 * tcp_oow_rate_limited: one per tcp_invalid_ratelimit = 500 ms; FreeBSD
 * tcp_send_challenge_ack: ack_war_cnt = 5 per ack_war_timewindow = 1 s).
 * Returns true if the ACK was sent. */
bool tcp_out_oow_ack(tcp_conn *c)
{
    const tcp_profile *p = c->stack->profile;
    uint64_t now = c->stack->now;
    if (p->oow_ack_limit) {
        if (c->oow_n == 0 || now - c->oow_start_ns >= p->oow_ack_window_ns) {
            c->oow_start_ns = now;
            c->oow_n = 0;
        }
        if (c->oow_n >= p->oow_ack_limit) {
            tcp_ev(c, TCP_EV_DROP, 0, NULL, "ACK rate-limited (RFC 5961 §7)");
            return false;
        }
        c->oow_n++;
    }
    tcp_out_ack(c);
    return true;
}

/* RFC 9293 §3.10.7.4, first step: "If an incoming segment is not
 * acceptable, an acknowledgment should be sent in reply". Under the RFC
 * 5961 §7 limit above, except with profile oow_ack_data_exempt (Linux
 * tcp_oow_rate_limited, called by tcp_validate_incoming for the
 * out-of-window and PAWS cases and by tcp_timewait_state_process): "Data
 * packets without SYNs are not likely part of an ACK loop", so a segment
 * holding data or a FIN and no SYN is answered at once and leaves the
 * window's count alone. Challenge ACKs (tcp_send_challenge_ack calls
 * __tcp_oow_rate_limited) have no such exemption. */
void tcp_out_unacceptable_ack(tcp_conn *c, const tcp_seg *seg)
{
    bool occupies = seg->len || (seg->flags & TCP_FIN);
    if (c->stack->profile->oow_ack_data_exempt && occupies && !(seg->flags & TCP_SYN))
        tcp_out_ack(c);
    else
        tcp_out_oow_ack(c);
}

/* RFC 5961 §3.2 and §4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
void tcp_out_challenge_ack(tcp_conn *c)
{
    if (tcp_out_oow_ack(c))
        c->stats.challenge_acks++;
}

/* An active reset (ABORT, linger 0, close with unread data, keepalive
 * give-up): RFC 9293 §3.10.5 <SEQ=SND.NXT><CTL=RST>; with rst_has_ack
 * <SEQ=SND.MAX><ACK=RCV.NXT><CTL=RST,ACK> (Linux tcp_send_active_reset,
 * FreeBSD tcp_drop -> tcp_output with tcp_outflags[TCPS_CLOSED]). */
void tcp_out_rst(tcp_conn *c)
{
    bool ack = c->stack->profile->rst_has_ack && tcp_state_synchronized(c->state);
    send_seg(c, ack ? TCP_RST | TCP_ACK : TCP_RST, c->snd_max, NULL, 0);
}

static void rst_reply_as(tcp_stack *s, tcp_conn *c, tcp_ls *ls, const tcp_seg *seg)
{
    tcp_seg g = {
        .src_addr = seg->dst_addr,
        .dst_addr = seg->src_addr,
        .src_port = seg->dst_port,
        .dst_port = seg->src_port,
    };
    if (seg->flags & TCP_ACK) {
        g.seq = seg->ack;
        g.flags = TCP_RST;
    } else {
        uint32_t seglen = seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
        g.ack = seg->seq + seglen;
        g.flags = TCP_RST | TCP_ACK;
    }
    transmit_as(s, c, ls, &g);
}

void tcp_out_rst_reply(tcp_stack *s, tcp_conn *c, const tcp_seg *seg)
{
    rst_reply_as(s, c, NULL, seg);
}

void tcp_out_rst_reply_ls(tcp_stack *s, tcp_ls *ls, const tcp_seg *seg)
{
    rst_reply_as(s, NULL, ls, seg);
}

/* RFC 1122 §4.2.3.6: <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data, elicits an ACK. */
void tcp_out_keepalive(tcp_conn *c)
{
    c->stats.keepalive_probes++;
    send_seg(c, TCP_ACK, c->snd_una - 1, NULL, 0);
}

/* RFC 9293 §3.8.6.1: a zero-window probe carries the next octet (or the FIN
 * when no data is left); an unanswered probe is sent again from SND.UNA.
 * With zwp_no_data the probe is Linux's (tcp_write_wakeup ->
 * tcp_xmit_probe_skb): <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data, which the
 * peer must answer with an ACK carrying its window. */
void tcp_out_probe(tcp_conn *c)
{
    uint32_t end = tcp_snd_data_end(c);
    uint32_t seq = tcp_flight(c) ? c->snd_una : c->snd_nxt;
    c->stats.persist_probes++;
    if (c->stack->profile->zwp_no_data) {
        send_seg(c, TCP_ACK, c->snd_una - 1, NULL, 0);
        return;
    }
    c->probing = true;
    if (tcp_seq_lt(seq, end))
        send_data(c, seq, 1, false);
    else if (c->fin_queued)
        send_data(c, seq, 0, true);
    else
        return;
    c->snd_nxt = tcp_seq_max(c->snd_nxt, seq + 1);
}

void tcp_out_retransmit_first(tcp_conn *c)
{
    if (c->snd_una == c->iss) { /* the SYN itself is unacknowledged */
        tcp_out_syn(c, true);
        return;
    }
    uint32_t end = tcp_snd_data_end(c);
    uint32_t n = tcp_seq_lt(c->snd_una, end) ? min32(end - c->snd_una, send_mss(c)) : 0;
    bool fin = c->fin_queued && c->snd_una + n == end && tcp_seq_gt(c->snd_max, end);
    if (n == 0 && !fin)
        return;
    send_data(c, c->snd_una, n, fin);
    c->snd_nxt = tcp_seq_max(c->snd_nxt, c->snd_una + n + (fin ? 1u : 0u));
}

static bool may_send_data(const tcp_conn *c);

/* RFC 8985 §7.3 as Linux tcp_send_loss_probe: one probe per tail (none
 * while one is outstanding, tlp_high_seq); one new segment if the send
 * window allows it (the congestion window is ignored), else the last
 * segment sent again (with the FIN if it carried one); then the RTO from
 * now. The congestion response when the probe repaired a loss
 * (tcp_process_tlp_ack) is not modelled. */
void tcp_out_loss_probe(tcp_conn *c)
{
    uint32_t end = tcp_snd_data_end(c);
    uint32_t unsent = tcp_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
    uint32_t n = min32(unsent, send_mss(c));
    if (c->tlp_out) {
        tcp_timer_restart_rtx(c);
        return;
    }
    if (n && may_send_data(c) && tcp_seq_le(c->snd_nxt + n, c->snd_una + c->snd_wnd)) {
        bool fin = c->fin_queued && n == unsent;
        send_data(c, c->snd_nxt, n, fin);
        c->snd_nxt += n + (fin ? 1u : 0u);
    } else {
        uint32_t sent_end = tcp_seq_lt(c->snd_max, end) ? c->snd_max : end;
        bool fin = c->fin_queued && tcp_seq_gt(c->snd_max, end);
        uint32_t out = tcp_seq_gt(sent_end, c->snd_una) ? sent_end - c->snd_una : 0;
        /* the last segment at the MSS of the moment (tcp_current_mss),
         * less the SACK blocks it carries */
        uint32_t mss = send_mss(c);
        uint32_t last = out % mss ? out % mss : min32(out, mss);
        if (last == 0 && !fin) {
            tcp_timer_restart_rtx(c);
            return;
        }
        send_data(c, sent_end - last, last, fin);
    }
    c->tlp_out = true;
    c->tlp_high_seq = c->snd_nxt;
    tcp_timer_restart_rtx(c);
}

static bool may_send_data(const tcp_conn *c)
{
    switch (c->state) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT_1:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        return true;
    default:
        return false;
    }
}

/* Nagle (RFC 9293 §3.7.4): may a runt go while data is in flight? The
 * classic rule says no. Minshall's variant (RFC 9293 Appendix A.3, Linux
 * tcp_nagle_check / tcp_minshall_check) holds it only while an earlier
 * runt is unacknowledged. */
static bool nagle_holds(const tcp_conn *c, uint32_t flight)
{
    if (c->nodelay || flight == 0)
        return false;
    if (!c->stack->profile->nagle_minshall)
        return true;
    return tcp_seq_gt(c->snd_sml, c->snd_una) && tcp_seq_le(c->snd_sml, c->snd_max);
}

/* How many bytes of new data to send now; 0 to wait. */
static uint32_t next_len(const tcp_conn *c, uint32_t unsent, uint32_t avail)
{
    uint32_t mss = send_mss(c);
    uint32_t n = min32(min32(unsent, avail), mss);
    if (n == 0 || n == mss)
        return n;
    uint32_t flight = tcp_flight(c);
    /* Sender SWS avoidance: a window-limited runt waits for more window
     * while data is in flight (its ACK will bring the update). */
    if (n < unsent && n < c->max_snd_wnd / 2 && flight > 0)
        return 0;
    /* §3.8 "The CLOSE user call implies a push function": the last runt
     * goes at once, with the FIN (Linux tcp_send_fin pushes with
     * TCP_NAGLE_OFF; FreeBSD sends when a FIN is due). */
    if (n == unsent && c->fin_queued)
        return n;
    /* TCP_CORK (Linux tcp_nagle_check: a partial last segment waits while
     * TCP_NAGLE_CORK is set, whatever is in flight). RFC 9293 §3.9.1.2:
     * data sent without PUSH "may be combined with data from subsequent
     * SENDs". */
    if (n == unsent && c->cork)
        return 0;
    if (n == unsent && nagle_holds(c, flight))
        return 0;
    return n;
}

/* Nothing in flight and no timer in the shared slot: the persist timer may
 * take it. After an RTO SND.NXT falls back below SND.MAX; an ACK of part of
 * the data re-arms the RTO, which, not a probe, watches the rest (Linux
 * tcp_check_probe_timer: !packets_out && !icsk_pending). */
static bool persist_may_arm(const tcp_conn *c)
{
    return tcp_flight(c) == 0 && tcp_timer_at(c, TCP_TIMER_RTX) == TCP_NEVER &&
           tcp_timer_at(c, TCP_TIMER_PERSIST) == TCP_NEVER;
}

/* RFC 9293 §3.8.6.1: data or a FIN waits behind a zero window with nothing
 * in flight to bring an update: the persist timer probes it. */
static void arm_persist(tcp_conn *c)
{
    uint32_t end = tcp_snd_data_end(c);
    bool unsent = tcp_seq_lt(c->snd_nxt, end) || (c->fin_queued && c->snd_nxt == end);
    if (unsent && c->snd_wnd == 0 && persist_may_arm(c)) {
        c->persist_backoff = 0;
        c->zwp_stamped = false; /* a new episode (Linux tcp_ack_probe clears the stamp) */
        tcp_timer_set(c, TCP_TIMER_PERSIST, tcp_after(c, tcp_persist_interval(c)));
    }
}

/* Corked data with nothing in flight to bring an ACK: the persist timer
 * sends it (Linux __tcp_push_pending_frames -> tcp_check_probe_timer arms
 * ICSK_TIME_PROBE0 at tcp_probe0_base = max(RTO, TCP_RTO_MIN) when nothing
 * is out; FreeBSD tcp_output's just_return arms the persist timer for any
 * held data). RFC 9293 §3.9.1.2 MUST-60: data is never held indefinitely.
 * Once data is in flight the RTO watches the connection instead (Linux
 * keeps one timer for both, ICSK_TIME_RETRANS replacing ICSK_TIME_PROBE0). */
static void arm_cork(tcp_conn *c)
{
    uint32_t end = tcp_snd_data_end(c);
    bool held = c->cork && tcp_seq_lt(c->snd_nxt, end) && c->snd_wnd > 0;
    if (c->cork_wait && (tcp_flight(c) || !held)) {
        c->cork_wait = false;
        tcp_timer_stop(c, TCP_TIMER_PERSIST);
    }
    if (held && persist_may_arm(c)) {
        c->persist_backoff = 0;
        c->cork_wait = true;
        tcp_timer_set(c, TCP_TIMER_PERSIST, tcp_after(c, tcp_persist_interval(c)));
    }
}

/* The persist timer found the window open with data still held (corked):
 * one segment of it goes, as Linux tcp_write_wakeup sends the head of the
 * queue up to min(window, MSS) with PSH; then the RTO watches it. */
void tcp_out_wakeup(tcp_conn *c)
{
    uint32_t end = tcp_snd_data_end(c);
    c->cork_wait = false;
    if (!may_send_data(c) || !tcp_seq_lt(c->snd_nxt, end) || tcp_flight(c) >= c->snd_wnd)
        return;
    uint32_t n = min32(min32(end - c->snd_nxt, send_mss(c)), c->snd_wnd - tcp_flight(c));
    bool fin = c->fin_queued && c->snd_nxt + n == end;
    send_data(c, c->snd_nxt, n, fin);
    c->snd_nxt += n + (fin ? 1u : 0u);
    tcp_timer_rtx_or_pto(c, false);
}

void tcp_output(tcp_conn *c)
{
    uint32_t max_before = c->snd_max;
    if (may_send_data(c)) {
        bool syn_acked = c->snd_una != c->iss;
        for (;;) {
            uint32_t end = tcp_snd_data_end(c);
            uint32_t wnd = min32(c->snd_wnd, c->cwnd);
            uint32_t flight = tcp_flight(c);
            uint32_t avail = wnd > flight ? wnd - flight : 0;
            if (syn_acked && tcp_seq_lt(c->snd_nxt, end)) {
                uint32_t unsent = end - c->snd_nxt;
                uint32_t n = next_len(c, unsent, avail);
                if (n == 0)
                    break;
                bool fin = c->fin_queued && n == unsent && avail > n;
                send_data(c, c->snd_nxt, n, fin);
                c->snd_nxt += n + (fin ? 1u : 0u);
                continue;
            }
            /* A bare FIN needs room in the send window only: Linux
             * tcp_cwnd_test "Don't be strict about the congestion window
             * for the final FIN". */
            uint32_t swnd_room = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
            if (c->fin_queued && c->snd_nxt == end && (swnd_room > 0 || !syn_acked)) {
                send_data(c, c->snd_nxt, 0, true);
                c->snd_nxt++;
            }
            break;
        }
        if (c->cork || c->cork_wait)
            arm_cork(c);
        arm_persist(c);
    }
    if (c->ack_now)
        tcp_out_ack(c);
    if (tcp_flight(c) && !c->probing) {
        /* Data in flight brings the window updates: the retransmission
         * timer takes over from a probe timer zwp_ack_rearm kept armed
         * (Linux keeps one timer: ICSK_TIME_RETRANS replaces PROBE0). */
        if (!c->cork_wait)
            tcp_timer_stop(c, TCP_TIMER_PERSIST);
        /* Linux tcp_write_xmit: new data schedules the loss probe. */
        if (tcp_seq_gt(c->snd_max, max_before))
            tcp_timer_rtx_or_pto(c, false);
        else
            tcp_timer_arm_rtx(c);
    }
}
